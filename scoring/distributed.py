"""The Dask engine: the same scoring, with chunks normalised, validated and scored on workers.

The driver streams raw chunks from the file (so row numbers and unsplittable rows are known in
file order) and submits each to a worker, at most a few at a time, so memory stays bounded. A
worker validates its chunk against the model's contract, scores it from the lookup tables and
returns the scored rows, the rejects and the feature matrix. Ids can repeat across chunks, which
no worker sees, so the driver checks them in file order exactly as the local engine does and
moves a repeated row to the rejects with the same message. The output is therefore identical to
the local engine's.

The model travels once: its manifest and tables (plain data) are scattered to every worker and
turned into a :class:`~scoring.batch.ScoringModel` there, cached per model version. Each worker
runs one thread with one OpenMP thread, so workers do not oversubscribe the cores.

On one 2-core machine this brings no speed-up over the local engine; it is for clusters
(``--scheduler tcp://HOST:PORT``).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.batch import ScoreSummary, score_chunk, score_file
from scoring.compiled import CompiledScorer
from scoring.contract import contract_from_dict
from scoring.errors import ReadinessError
from scoring.headers import HeaderMap
from scoring.manifest import Manifest
from scoring.model import ScoringModel
from scoring.pipeline import ChunkPipeline, RawChunk, validate_raw_chunk
from scoring.registry import LoadedModel
from scoring.validation import ChunkResult, Validator

__all__ = ["score_file_dask", "start_client"]

IN_FLIGHT_PER_WORKER = 2
#: How long a chunk may take on the cluster, and how long to wait for a first worker, before
#: the run stops with one line instead of hanging (seconds).
CHUNK_TIMEOUT = 600
WORKER_TIMEOUT = 30


def start_client(scheduler: str | None = None, *, n_workers: int = 2) -> Any:
    """A Dask client: on ``scheduler``, or on a new local cluster of ``n_workers`` processes.

    ``scheduler="synchronous"`` runs every task at once in this process (for tests and
    debugging): the same code path without a cluster.
    """
    if scheduler == "synchronous":
        return _InlineClient()
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ReadinessError(
            "the Dask engine needs the distributed extra: "
            "pip install 'export-readiness[distributed]'"
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ReadinessError(
                f"cannot reach the Dask scheduler at {scheduler}: {_first_line(exc)}; check the "
                "address, or score with the local engine"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            client.close()
            raise ReadinessError(
                f"the Dask scheduler at {scheduler} has no workers after {WORKER_TIMEOUT} s "
                f"({_first_line(exc)}); start some, or score with the local engine"
            ) from None
        return client
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # no fixed port to collide with another cluster
        env={"OMP_NUM_THREADS": "1"},  # one OpenMP thread per worker: no oversubscription
    )
    return Client(cluster)


def score_file_dask(
    path: str | Path,
    model: ScoringModel,
    out: str | Path,
    *,
    scheduler: str | None = None,
    client: Any = None,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    chunk_size: int = 100_000,
    keep_columns: Sequence[str] = (),
    lang: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    strict: bool = False,
    extra: Any = None,
    progress: Any = None,
) -> ScoreSummary:
    """Score a file on a Dask cluster; writes exactly what :func:`scoring.batch.score_file` does."""
    own_client = client is None
    client = start_client(scheduler) if own_client else client
    try:
        return score_file(
            path,
            model,
            out,
            rejects=rejects,
            summary=summary,
            chunk_size=chunk_size,
            keep_columns=keep_columns,
            lang=lang,
            encoding=encoding,
            sheet=sheet,
            header_row=header_row,
            strict=strict,
            progress=progress,
            extra=extra,
            engine=lambda pipeline, size, language: _pieces(
                client, pipeline, model, size, language
            ),
        )
    finally:
        if own_client:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()


def _pieces(
    client: Any,
    pipeline: ChunkPipeline,
    model: ScoringModel,
    chunk_size: int,
    lang: str | None,
) -> Iterator[tuple[ChunkResult, pd.DataFrame, np.ndarray]]:
    keep = pipeline.keep
    loaded = model.loaded
    payload = {"manifest": loaded.manifest.to_dict(), "scorer": loaded.scorer.to_dict(),
               "name": loaded.name, "version": loaded.version}  # fmt: skip
    [model_future] = client.scatter([payload], broadcast=True)
    duplicates = pipeline.validator()  # repeated ids, checked here in file order
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    pending: collections.deque = collections.deque()

    def finish(future: Any) -> tuple[ChunkResult, pd.DataFrame, np.ndarray]:
        try:
            chunk, scored, X = future.result(timeout=CHUNK_TIMEOUT)
        except ReadinessError:
            raise
        except Exception as exc:  # a lost worker, a timeout, a closed connection
            raise ReadinessError(
                f"the Dask cluster failed while scoring ({type(exc).__name__}: "
                f"{_first_line(exc)}); nothing was written - retry, or score with the local "
                "engine"
            ) from None
        chunk, scored, X = _reject_repeats(duplicates, chunk, scored, X)
        return pipeline.with_bad_rows(chunk), scored, X

    for raw in pipeline.raw_chunks(chunk_size):
        future = client.submit(
            _score_raw_chunk, raw, pipeline.headers, model_future, lang, keep, pure=False
        )
        pending.append(future)
        if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
            yield finish(pending.popleft())
    while pending:
        yield finish(pending.popleft())
    tail = pipeline.remaining_bad_rows(duplicates)
    if tail is not None:
        scored, X = score_chunk(tail, model, lang, keep)
        yield tail, scored, X


def _score_raw_chunk(
    raw: RawChunk,
    headers: HeaderMap,
    payload: dict[str, Any],
    lang: str | None,
    keep: dict[str, str],
) -> tuple[ChunkResult, pd.DataFrame, np.ndarray]:
    """On a worker: normalise, validate (all but repeated ids), score."""
    model = _worker_model(payload)
    validator = Validator(model.contract, check_duplicates=False)
    chunk = validate_raw_chunk(raw, headers, validator, keep)
    scored, X = score_chunk(chunk, model, lang, keep)
    return chunk, scored, X


_MODELS: dict[tuple[str, str], ScoringModel] = {}


def _worker_model(payload: dict[str, Any]) -> ScoringModel:
    """The worker's model, built once per model version from the scattered data."""
    name, version = payload["name"], payload["version"]
    if (name, version) not in _MODELS:
        _MODELS[(name, version)] = _build_model(name, version, payload["manifest"], payload)
    return _MODELS[(name, version)]


def _build_model(
    name: str, version: str, manifest: dict[str, Any], payload: dict[str, Any]
) -> ScoringModel:
    typed = Manifest.from_dict(manifest, where=f"model {name}@{version}")
    loaded = LoadedModel(
        name=name,
        version=version,
        path=Path("."),
        manifest=typed,
        contract=contract_from_dict(typed.contract, origin=f"{name}@{version}"),
        scorer=CompiledScorer.from_dict(payload["scorer"]),
        warnings=[],
    )
    return ScoringModel(loaded)


def _reject_repeats(
    validator: Validator, chunk: ChunkResult, scored: pd.DataFrame, X: np.ndarray
) -> tuple[ChunkResult, pd.DataFrame, np.ndarray]:
    """Apply the file-order id check the workers could not do; same messages as local."""
    rows = chunk.rows
    found = validator.repeated_ids(chunk.ids, rows)
    if found is None:
        return chunk, scored, X
    _, lines = found
    repeated_rows = {int(rows[i]): line for i, line in lines.items()}
    valid_rows = chunk.valid["row"].to_numpy(dtype=np.int64)
    now_rejected = np.isin(valid_rows, list(repeated_rows))
    rejects = chunk.rejects.copy()
    if len(rejects):
        already = rejects["row"].astype(np.int64).map(repeated_rows)
        has = already.notna().to_numpy()
        rejects.loc[has, "error"] = rejects.loc[has, "error"] + "; " + already[has]
    if now_rejected.any():
        moved = chunk.valid.loc[now_rejected]
        added = pd.DataFrame(
            {
                "row": moved["row"].to_numpy(dtype=np.int64),
                "coop_id": moved[validator.contract.id_column.name].astype(str).to_numpy(),
                "error": [repeated_rows[int(r)] for r in moved["row"]],
            }
        )
        rejects = pd.concat([rejects, added], ignore_index=True)
        rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
        keep = ~now_rejected
        chunk.valid = chunk.valid.loc[keep].reset_index(drop=True)
        if chunk.passthrough is not None:
            chunk.passthrough = chunk.passthrough.loc[keep].reset_index(drop=True)
        scored = scored.loc[keep].reset_index(drop=True)
        X = X[keep]
    chunk.rejects = rejects
    return chunk, scored, X


class _InlineClient:
    """The few client methods the driver uses, running each task at once in this process."""

    class _Done:
        def __init__(self, value: Any) -> None:
            self.value = value

        def result(self, timeout: float | None = None) -> Any:
            return self.value

    def scatter(self, data: list[Any], broadcast: bool = False) -> list[Any]:
        return list(data)

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {"inline": {}}}

    def submit(self, function: Any, *args: Any, pure: bool = True) -> _Done:
        return self._Done(function(*args))

    def close(self) -> None:
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
