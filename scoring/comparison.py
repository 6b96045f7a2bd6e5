"""Champion against challenger: two models' metrics on the same labelled rows, paired-bootstrap
intervals of their differences, and whether the challenger is significantly worse.

Both models meet the same rows in every bootstrap resample, so the interval of a difference is
narrow where the two agree on most rows. A challenger is *significantly worse* on a metric when
the whole 95% interval of (challenger - champion) lies on the worse side of 0: below 0 for AUC,
above 0 for log loss and ECE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scoring.errors import TrainingError
from scoring.evaluation import classification_metrics, paired_bootstrap

if TYPE_CHECKING:
    from scoring.registry import LoadedModel

__all__ = ["COMPARED", "compare_models", "compare_predictions", "model_probability", "worse_on"]

#: The metrics compared, and which way is better.
COMPARED = ("roc_auc", "log_loss", "ece")
_HIGHER_BETTER = frozenset({"roc_auc"})


def compare_predictions(
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    *,
    rounds: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Both models' metrics on the same rows and the paired-bootstrap interval of each difference.

    Returns
    -------
    dict
        ``rows``, ``rounds``, ``level`` and ``metrics``: per metric of :data:`COMPARED`, the
        ``challenger`` and ``champion`` values, their ``difference`` (challenger - champion),
        its ``interval`` and whether the challenger is ``significantly_worse``.
    """
    y = np.asarray(y, int)
    if len(np.unique(y)) != 2:
        raise TrainingError("comparing models needs labelled rows of both outcomes")
    intervals = paired_bootstrap(
        y, challenger, champion, metrics=COMPARED, rounds=rounds, level=level, seed=seed
    )
    ours, theirs = classification_metrics(y, challenger), classification_metrics(y, champion)
    metrics = {}
    for metric in COMPARED:
        low, high = intervals["difference"][metric]
        worse = high < 0 if metric in _HIGHER_BETTER else low > 0
        metrics[metric] = {
            "challenger": ours[metric],
            "champion": theirs[metric],
            "difference": ours[metric] - theirs[metric],
            "interval": [low, high],
            "significantly_worse": bool(worse),
        }
    return {"rows": len(y), "rounds": rounds, "level": level, "metrics": metrics}


def worse_on(comparison: Mapping[str, Any]) -> list[str]:
    """What makes the challenger significantly worse, one phrase per metric (empty if nothing).

    ``"log_loss 0.4521 against 0.4410 (difference +0.0111, 95% interval +0.0040 to +0.0180)"``
    """
    level = float(comparison.get("level", 0.95))
    phrases = []
    for metric, row in comparison.get("metrics", {}).items():
        if row.get("significantly_worse"):
            low, high = row["interval"]
            phrases.append(
                f"{metric} {row['challenger']:.4f} against {row['champion']:.4f} (difference "
                f"{row['difference']:+.4f}, {level:.0%} interval {low:+.4f} to {high:+.4f})"
            )
    return phrases


def model_probability(loaded: LoadedModel, frame: pd.DataFrame) -> np.ndarray:
    """A registered model's probabilities for validated rows, from its compiled tables.

    Raises
    ------
    TrainingError
        The rows lack a column the model's features read.
    """
    from scoring.model import ScoringModel

    try:
        X = ScoringModel(loaded).features(frame)
    except KeyError as exc:
        raise TrainingError(
            f"model {loaded.reference} reads column {exc.args[0]!r}, which these rows lack"
        ) from None
    return loaded.scorer.probability(X)


def compare_models(
    challenger: LoadedModel,
    champion: LoadedModel,
    frame: pd.DataFrame,
    *,
    rounds: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`compare_predictions` of two registered models on the same validated rows."""
    label = challenger.contract.model.label
    if label not in frame or frame[label].isna().any():
        raise TrainingError(f"comparing models needs the label '{label}' on every row")
    comparison = compare_predictions(
        frame[label].to_numpy(int),
        model_probability(challenger, frame),
        model_probability(champion, frame),
        rounds=rounds,
        seed=seed,
    )
    return {"challenger": challenger.reference, "champion": champion.reference, **comparison}
