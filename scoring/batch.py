"""Batch scoring: stream a file through validation, the compiled scorer and the explainer.

Each chunk is validated against the contract stored with the model, scored from the lookup
tables, explained (reasons, sub-scores, sector percentile) and written at once, so memory stays
flat however long the file. Outputs (scores, rejects) are written atomically: they appear only
when the whole file has been processed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.compiled import sigmoid
from scoring.drift import DriftMonitor
from scoring.errors import ContractError
from scoring.evaluation import evaluate_predictions
from scoring.explain import Explainer
from scoring.features import FeatureBuilder
from scoring.reading import open_table
from scoring.registry import LoadedModel
from scoring.validation import (
    REJECT_COLUMNS,
    ChunkResult,
    ValidationReport,
    iter_validated,
    reject_table,
)
from scoring.writing import TableWriter, write_json

__all__ = [
    "SCORE_COLUMNS",
    "ScoreSummary",
    "ScoringModel",
    "evaluate_file",
    "score_chunk",
    "score_file",
    "score_frame",
    "tiers_of",
    "write_scores",
]

SCORE_COLUMNS = [
    "coop_id",
    "export_probability",
    "readiness_score",
    "readiness_tier",
    "reason_1",
    "reason_2",
    "reason_3",
    "capacity_score",
    "quality_score",
    "output_score",
    "market_score",
    "sector_percentile",
]
Progress = Callable[[int], None]
Extra = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], pd.DataFrame]


class ScoringModel:
    """What scoring needs from a loaded model: features, tables, explainer, tiers, drift.

    Built from a verified :class:`~scoring.registry.LoadedModel`; holds no pickle.
    """

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.contract = loaded.contract
        config = loaded.manifest["features"]
        self.builder = FeatureBuilder(
            features=config["features"],
            categories=config["categories"],
            reference_year=config["reference_year"],
        )
        empty = pd.DataFrame({c.name: pd.Series(dtype=object) for c in self.contract.columns})
        self.builder.fit(empty)
        self.scorer = loaded.scorer
        self.explainer = Explainer(self.scorer, loaded.manifest["reference"]["explainer"])
        self.tiers = {k: float(v) for k, v in loaded.manifest["tiers"].items()}
        self.drift_reference = loaded.manifest["reference"]["drift"]

    def features(self, valid: pd.DataFrame) -> np.ndarray:
        return self.builder.transform(valid)


def tiers_of(probability: np.ndarray, cutoffs: dict[str, float]) -> np.ndarray:
    """Tier letter per probability: A at or above cut-off A, ..., D below C."""
    tiers = np.full(len(probability), "D", dtype=object)
    for tier in ("C", "B", "A"):
        tiers[probability >= cutoffs[tier]] = tier
    return tiers


def score_frame(
    valid: pd.DataFrame,
    model: ScoringModel,
    *,
    lang: str | None = None,
    X: np.ndarray | None = None,
) -> pd.DataFrame:
    """Score validated rows: one output row per input row, columns as in :data:`SCORE_COLUMNS`.

    ``lang`` None writes reason codes; ``"en"``/``"fa"`` writes reason texts and adds
    ``tier_name`` in that language.
    """
    X = model.features(valid) if X is None else X
    index = model.scorer.indices(X)
    features, pairs = model.scorer.contributions_at(index)
    logit = model.scorer.intercept + features.sum(axis=1) + pairs.sum(axis=1)
    probability = sigmoid(logit)
    tiers = tiers_of(probability, model.tiers)
    reasons = model.explainer.reasons(X, index=index, codes=lang is None, lang=lang or "en")
    dimensions = model.explainer.dimension_scores(features, pairs)
    out = {
        "coop_id": valid[model.contract.id_column.name].to_numpy(),
        "export_probability": probability,
        "readiness_score": np.round(100.0 * probability, 1),
        "readiness_tier": tiers,
        "reason_1": reasons[0],
        "reason_2": reasons[1],
        "reason_3": reasons[2],
        "capacity_score": np.round(dimensions.get("capacity", np.full(len(X), np.nan)), 1),
        "quality_score": np.round(dimensions.get("quality", np.full(len(X), np.nan)), 1),
        "output_score": np.round(dimensions.get("output", np.full(len(X), np.nan)), 1),
        "market_score": np.round(dimensions.get("market", np.full(len(X), np.nan)), 1),
        "sector_percentile": np.round(model.explainer.sector_percentile(X, probability), 1),
    }
    frame = pd.DataFrame(out)
    if lang is not None:
        names = {t: model.contract.tier_label(t, lang) for t in ("A", "B", "C", "D")}
        frame.insert(4, "tier_name", pd.Series(tiers).map(names).to_numpy())
    return frame


@dataclass
class ScoreSummary:
    """Counts, tiers, unknown categories and drift of one scoring run."""

    model: str
    source: str
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    tiers: Counter = field(default_factory=Counter)
    unknown_categories: dict[str, Counter] = field(default_factory=dict)
    problems: Counter = field(default_factory=Counter)
    drift: list[dict[str, Any]] = field(default_factory=list)
    mean_probability: float = float("nan")
    started: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_scored": self.rows_scored,
            "rows_rejected": self.rows_rejected,
            "tiers": {t: int(self.tiers.get(t, 0)) for t in ("A", "B", "C", "D")},
            "mean_probability": self.mean_probability,
            "unknown_categories": {k: dict(v) for k, v in self.unknown_categories.items()},
            "most_common_problems": dict(self.problems.most_common(10)),
            "drift": self.drift,
            "drift_shifted": [d["feature"] for d in self.drift if d["verdict"] == "shifted"],
            "started": self.started,
            "seconds": round(self.seconds, 3),
        }


def score_file(
    path: str | Path,
    model: ScoringModel,
    out: str | Path,
    *,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    chunk_size: int = 100_000,
    keep_columns: Sequence[str] = (),
    lang: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    progress: Progress | None = None,
    extra: Extra | None = None,
) -> ScoreSummary:
    """Score a whole file, chunk by chunk, into ``out`` (and ``rejects``, ``summary``).

    ``extra(valid, scored, X)`` may add columns to each scored chunk (e.g. the next step).
    Nothing is written unless the whole file is processed.
    """
    source = open_table(path, encoding=encoding, sheet=sheet)
    keep = list(keep_columns) or None
    chunks = iter_validated(source, model.contract, chunk_size=chunk_size, keep=keep)
    pieces = ((chunk, *score_chunk(chunk, model, lang, keep_columns)) for chunk in chunks)
    return write_scores(
        pieces,
        model,
        out,
        source=str(path),
        rejects=rejects,
        summary=summary,
        keep_columns=keep_columns,
        progress=progress,
        extra=extra,
    )


def write_scores(
    pieces: Iterable[tuple[ChunkResult, pd.DataFrame, np.ndarray]],
    model: ScoringModel,
    out: str | Path,
    *,
    source: str,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    keep_columns: Sequence[str] = (),
    progress: Progress | None = None,
    extra: Extra | None = None,
) -> ScoreSummary:
    """Write scored chunks ``(validated chunk, scored rows, feature matrix)`` in order.

    Shared by the local and the Dask engines: the outputs, the summary and the drift are built
    here, so both engines write the same files.
    """
    started = dt.datetime.now(dt.UTC)
    result = ScoreSummary(model=model.loaded.reference, source=source)
    result.started = started.isoformat(timespec="seconds")
    drift = DriftMonitor(model.drift_reference, list(model.scorer.features))
    probability_sum = 0.0
    checked = ValidationReport()  # problems and unknown categories, counted as `validate` does
    output_columns = [*SCORE_COLUMNS, *keep_columns]
    with _writer(out, output_columns) as writer, _writer(rejects, REJECT_COLUMNS) as reject_writer:
        for chunk, scored, X in pieces:
            if extra is not None and len(scored):
                scored = extra(chunk.valid, scored, X)
            writer.write(scored)
            if reject_writer is not None:
                reject_writer.write(reject_table(chunk.rejects))
            drift.update(X)
            result.rows_read += chunk.rows_read
            result.rows_scored += len(scored)
            result.rows_rejected += len(chunk.rejects)
            result.tiers.update(scored["readiness_tier"].tolist())
            probability_sum += float(scored["export_probability"].sum())
            checked.add(chunk)
            if progress is not None:
                progress(chunk.rows_read)
        result.problems = checked.problems
        result.unknown_categories = checked.unknown_categories
        result.drift = drift.report()
        result.mean_probability = (
            probability_sum / result.rows_scored if result.rows_scored else 0.0
        )
        result.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        if result.rows_read != result.rows_scored + result.rows_rejected:  # pragma: no cover
            raise RuntimeError("rows were lost: read != scored + rejected")
    if summary is not None:
        write_json(result.to_dict(), summary)
    return result


def evaluate_file(
    path: str | Path,
    loaded: LoadedModel,
    *,
    truth: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> dict[str, Any]:
    """Holdout-style metrics of a saved model on a labelled file, scored from its tables."""
    from scoring.training import align_truth, read_labelled, read_truth

    model = ScoringModel(loaded)
    frame, report = read_labelled(path, model.contract, encoding=encoding, sheet=sheet)
    y = frame[model.contract.model.label].to_numpy(dtype=int)
    if len(np.unique(y)) < 2:
        raise ContractError(f"{Path(path).name} has a single outcome; metrics need both")
    X = model.features(frame)
    probability = model.scorer.probability(X)
    groups = {n: frame[n].astype(str).to_numpy() for n in ("sector", "province") if n in frame}
    p_true = None
    if truth is not None:
        p_true = align_truth(read_truth(truth), frame[model.contract.id_column.name])
    metrics = evaluate_predictions(
        y, probability, cutoffs=model.tiers, groups=groups, p_true=p_true
    )
    metrics["rows_rejected"] = report.rows_rejected
    return metrics


def score_chunk(
    chunk: ChunkResult, model: ScoringModel, lang: str | None, keep: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Score a validated chunk: its output rows and its feature matrix."""
    X = model.features(chunk.valid)
    scored = score_frame(chunk.valid, model, lang=lang, X=X)
    for name in keep:
        if chunk.passthrough is not None and name in chunk.passthrough:
            scored[name] = chunk.passthrough[name].to_numpy()
        else:  # a chunk with no valid rows (e.g. only unsplittable ones)
            scored[name] = np.full(len(scored), None, dtype=object)
    return scored, X


class _NoWriter:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _writer(path: str | Path | None, columns: list[str]) -> Any:
    return TableWriter(path, columns=columns) if path is not None else _NoWriter()
