"""A saved model's metrics on a labelled file, scored from its compiled tables.

What ``readiness evaluate`` runs: the file is validated against the model's contract, scored
exactly as ``readiness score`` scores it, and measured with :mod:`scoring.evaluation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scoring.errors import ContractError, TrainingError
from scoring.evaluation import evaluate_predictions
from scoring.model import ScoringModel
from scoring.pipeline import collect_file
from scoring.registry import LoadedModel
from scoring.truth import align_truth, read_truth

__all__ = ["evaluate_file"]


def evaluate_file(
    path: str | Path,
    loaded: LoadedModel,
    *,
    truth: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> dict[str, Any]:
    """Holdout-style metrics of a saved model on a labelled file, scored from its tables."""
    model = ScoringModel(loaded)
    collected = collect_file(path, model.contract, labelled=True, encoding=encoding, sheet=sheet)
    frame, report = collected.valid, collected.report
    if not len(frame):
        raise TrainingError(
            f"no valid labelled rows in {Path(path).name} ({report.rows_read} read)"
        )
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
