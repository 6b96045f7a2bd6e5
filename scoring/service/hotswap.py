"""The model being served, and its hot swap: a promoted champion (or a changed file) is loaded,
verified, then served, without a restart; a model failing verification is refused.

:meth:`ModelHolder.check` runs every few seconds and on SIGHUP. It compares the version the
reference resolves to (``NAME`` follows its champion) and the files' stamps (size and time)
with what is served; on a change it loads the version through
:func:`scoring.registry.load_model`, which checks every hash (and the signature when a key is
set). A refused version keeps the old one serving, with one log line per refusal.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from scoring.errors import ReadinessError
from scoring.model import ScoringModel
from scoring.planning import Program, load_programs
from scoring.registry import load_model, resolve_reference
from scoring.service.logging import log_event
from scoring.service.metrics import Metrics
from scoring.service.records import RecordScorer
from scoring.service.settings import Settings

__all__ = ["ModelHolder", "Serving"]

Stamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Serving:
    """One loaded, verified model ready to score: what every request uses."""

    scorer: RecordScorer
    model: ScoringModel
    reference: str
    version: str
    stamp: Stamp
    loaded_at: str

    @property
    def programs(self) -> list[Program]:
        return self.scorer.programs


class ModelHolder:
    """Holds the served model and swaps it when a verified new one is found.

    Parameters
    ----------
    settings
        The registry, the reference to follow, the programmes file and the signing key.
    metrics
        Where swaps and refusals are counted.
    """

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.last_error = ""
        self._current: Serving | None = None
        self._refused: tuple[str, Stamp] | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Serving:
        if self._current is None:  # pragma: no cover - start() loads one or fails
            raise RuntimeError("no model loaded yet")
        return self._current

    @property
    def reference(self) -> str:
        return self._current.reference if self._current is not None else ""

    def start(self) -> Serving:
        """Load the first model; a refusal here stops the service from starting.

        Raises
        ------
        ReadinessError
            The reference is unknown, or the model fails verification.
        """
        name, version = resolve_reference(self.settings.registry, self.settings.model)
        self._current = self._load(name, version)
        log_event(logging.INFO, "model_served", model=self._current.reference, reason="start")
        return self._current

    def check(self, *, force: bool = False) -> str:
        """Look for a new champion (or changed files); ``force`` reloads even if unchanged.

        Returns ``"unchanged"``, ``"served"`` (a new model now serves) or ``"refused"`` (the
        old one keeps serving).
        """
        with self._lock:  # one check at a time: a SIGHUP during the timer's check waits
            try:
                name, version = resolve_reference(self.settings.registry, self.settings.model)
            except ReadinessError as exc:
                return self._refuse("?", (), str(exc))
            stamp = _stamp(self.settings.registry / name / version)
            current = self._current
            if (
                not force
                and current is not None
                and (version, stamp)
                == (
                    current.version,
                    current.stamp,
                )
            ):
                return "unchanged"
            if not force and self._refused == (version, stamp):
                return "refused"  # told once already
            try:
                serving = self._load(name, version)
            except ReadinessError as exc:
                self._refused = (version, stamp)
                return self._refuse(f"{name}@{version}", stamp, str(exc))
            old = current.reference if current is not None else ""
            self._current, self._refused, self.last_error = serving, None, ""
        self.metrics.count_swap("served")
        log_event(
            logging.WARNING,
            "model_served",
            model=serving.reference,
            previous=old,
            reason="forced reload" if force else "new champion or changed files",
        )
        return "served"

    def _refuse(self, reference: str, stamp: Stamp, error: str) -> str:
        self.last_error = error
        self.metrics.count_swap("refused")
        log_event(
            logging.ERROR, "model_refused", model=reference, serving=self.reference, error=error
        )
        return "refused"

    def _load(self, name: str, version: str) -> Serving:
        path = self.settings.registry / name / version
        stamp = _stamp(path)
        loaded = load_model(
            self.settings.registry, f"{name}@{version}", signing_key=self.settings.signing_key
        )
        for warning in loaded.warnings:
            log_event(logging.WARNING, "model_warning", model=loaded.reference, warning=warning)
        model = ScoringModel(loaded)
        programs = (
            load_programs(self.settings.programs, model.contract) if self.settings.programs else []
        )
        return Serving(
            scorer=RecordScorer(model, programs),
            model=model,
            reference=loaded.reference,
            version=version,
            stamp=stamp,
            loaded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )


def _stamp(folder: Path) -> Stamp:
    """Name, size and modification time (ns) of each file of a model folder."""
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file())
        return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in entries)
    except OSError:
        return ()
