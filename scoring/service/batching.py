"""Coalescing concurrent scoring requests: the records of every waiting request are scored in
one call of the batch path, so its fixed cost is paid once per call instead of once per record.

Requests arriving while a call runs wait for the next one; a call takes at most ``max_records``
records (a larger request goes alone). Each request's results come back as if it had been scored
alone: repeated ids are looked for within a request only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scoring.service.hotswap import ModelHolder
from scoring.service.records import Prepared

__all__ = ["MicroBatcher"]


@dataclass
class _Job:
    prepared: Sequence[Prepared]
    lang: str
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Scores the records of waiting requests together, with the model being served.

    Parameters
    ----------
    holder
        The served model (read at each call, so a swap applies from the next call on).
    max_records
        Records per call at most.
    window
        Seconds a call waits for more requests before it starts (dynamic batching's queue
        delay).
    """

    def __init__(
        self,
        holder: ModelHolder,
        *,
        max_records: int = 512,
        window: float = 0.003,
    ) -> None:
        self.holder = holder
        self.max_records = max_records
        self.window = window
        self._pending: list[_Job] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the scoring task on the running event loop."""
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="readiness-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def score(
        self, prepared: Sequence[Prepared], lang: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """The model version and the results of one request's records."""
        return await self.submit(prepared, lang)

    def submit(self, prepared: Sequence[Prepared], lang: str) -> asyncio.Future:
        """:meth:`score` as a future (cancel it to drop the records): awaited by a request
        with its time limit, it costs no task of its own."""
        future = asyncio.get_running_loop().create_future()
        if self._task is None or self._wake is None:
            serving = self.holder.current  # no loop task (e.g. a test calling directly)
            future.set_result(
                (serving.reference, serving.scorer.score_groups([prepared], [lang])[0])
            )
            return future
        self._pending.append(_Job(prepared, lang, future))
        self._wake.set()
        return future

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._gather()
                jobs = self._take()
                # In the loop's own thread: a worker thread would only contend for the GIL.
                self._answer(jobs, *self._call(jobs))
                await asyncio.sleep(0)  # let the loop read the requests that came meanwhile

    async def _gather(self) -> None:
        """Give the requests already on their way ``window`` seconds to join this call (the
        queue delay of dynamic batching): a few milliseconds of latency buy calls several
        times larger, and the batch path's fixed cost is paid once for all of them."""
        if self.window > 0 and self._pending_records() < self.max_records:
            await asyncio.sleep(self.window)

    def _pending_records(self) -> int:
        return sum(len(job.prepared) for job in self._pending)

    def _take(self) -> list[_Job]:
        taken, size = [], 0
        while self._pending and (
            not taken or size + len(self._pending[0].prepared) <= self.max_records
        ):
            job = self._pending.pop(0)
            if job.future.done():  # its request timed out or went away
                continue
            taken.append(job)
            size += len(job.prepared)
        return taken

    def _call(self, jobs: list[_Job]) -> tuple[str, list[Any] | BaseException]:
        """One batch-path call for the jobs: the model version, and the results (or error)."""
        serving = self.holder.current
        if not jobs:
            return serving.reference, []
        self.holder.metrics.count_call(sum(len(job.prepared) for job in jobs))
        try:
            results = serving.scorer.score_groups(
                [job.prepared for job in jobs], [job.lang for job in jobs]
            )
        except Exception as exc:  # handed to each waiting request, which answers with a problem
            return serving.reference, exc
        return serving.reference, results

    @staticmethod
    def _answer(jobs: list[_Job], reference: str, results: list[Any] | BaseException) -> None:
        for k, job in enumerate(jobs):
            if job.future.done():  # timed out meanwhile
                continue
            if isinstance(results, BaseException):
                job.future.set_exception(results)
            else:
                job.future.set_result((reference, results[k]))
