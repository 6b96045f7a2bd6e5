"""Model quality: discrimination, calibration, tiers, groups, and the gap to the truth.

Every function takes plain arrays (labels, probabilities) and returns plain dicts, so the same
numbers serve ``readiness train``, ``readiness evaluate``, the model card and a notebook.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

__all__ = [
    "SMALL_GROUP",
    "bootstrap_intervals",
    "classification_metrics",
    "evaluate_predictions",
    "expected_calibration_error",
    "group_metrics",
    "ks_statistic",
    "paired_bootstrap",
    "reliability_bins",
    "tier_metrics",
    "truth_metrics",
]

#: Groups with fewer rows (or fewer than 10 of either outcome) are marked small.
SMALL_GROUP = 200


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over equal-width probability bins, by bin share."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(y[mask].mean() - p[mask].mean())
    return float(total)


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of the outcomes."""
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier, log loss, KS and ECE of probabilities ``p`` for labels ``y``."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    out: dict[str, float] = {
        "rows": len(y),
        "positives": int(y.sum()),
        "label_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_probability": float(p.mean()) if len(p) else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
    }
    if len(np.unique(y)) == 2:
        out.update(
            roc_auc=float(roc_auc_score(y, p)),
            pr_auc=float(average_precision_score(y, p)),
            log_loss=float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))),
            ks=ks_statistic(y, p),
            ece=expected_calibration_error(y, p),
        )
    return out


def tier_metrics(y: np.ndarray, p: np.ndarray, cutoffs: Mapping[str, float]) -> list[dict]:
    """Per tier: its share, its exporting rate, and precision/recall of 'this tier or better'."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    bounds = sorted(cutoffs.items(), key=lambda kv: -kv[1])
    rows = []
    upper = np.inf
    positives = max(int(y.sum()), 1)
    for tier, cutoff in [*bounds, ("D", -np.inf)]:
        in_tier = (p >= cutoff) & (p < upper)
        at_or_above = p >= cutoff
        rows.append(
            {
                "tier": tier,
                "cutoff": None if cutoff == -np.inf else float(cutoff),
                "share": float(in_tier.mean()) if len(p) else 0.0,
                "rows": int(in_tier.sum()),
                "exporting_rate": float(y[in_tier].mean()) if in_tier.any() else None,
                "precision_at_or_above": float(y[at_or_above].mean())
                if at_or_above.any()
                else None,
                "recall_at_or_above": float(y[at_or_above].sum() / positives),
            }
        )
        upper = cutoff
    return rows


def group_metrics(y: np.ndarray, p: np.ndarray, groups: np.ndarray) -> list[dict]:
    """Metrics per group (sector, province), with counts; small groups are marked."""
    y, p, groups = np.asarray(y, int), np.asarray(p, float), np.asarray(groups, dtype=object)
    rows = []
    for group in sorted({str(g) for g in groups}):
        mask = groups.astype(str) == group
        gy, gp = y[mask], p[mask]
        small = mask.sum() < SMALL_GROUP or min(gy.sum(), (1 - gy).sum()) < 10
        row = {
            "group": group,
            "rows": int(mask.sum()),
            "positives": int(gy.sum()),
            "label_rate": float(gy.mean()),
            "mean_probability": float(gp.mean()),
            "roc_auc": float(roc_auc_score(gy, gp)) if len(np.unique(gy)) == 2 else None,
            "brier": float(brier_score_loss(gy, gp)),
            "small": bool(small),
        }
        rows.append(row)
    return rows


def truth_metrics(y: np.ndarray, p: np.ndarray, p_true: np.ndarray) -> dict[str, float]:
    """Against the known truth (sample data): the Bayes AUC, the gap to it, mean |p - p_true|."""
    y, p, p_true = np.asarray(y, int), np.asarray(p, float), np.asarray(p_true, float)
    bayes = float(roc_auc_score(y, p_true))
    model = float(roc_auc_score(y, p))
    return {
        "bayes_auc": bayes,
        "auc_gap": bayes - model,
        "mean_abs_error": float(np.mean(np.abs(p - p_true))),
        "p90_abs_error": float(np.quantile(np.abs(p - p_true), 0.9)),
        "bayes_brier": float(brier_score_loss(y, p_true)),
    }


def bootstrap_intervals(
    y: np.ndarray,
    p: np.ndarray,
    *,
    metrics: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "ece"),
    rounds: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence intervals of holdout metrics."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    draws: dict[str, list[float]] = {m: [] for m in metrics}
    for (values,) in _resampled_metrics(y, [p], rounds=rounds, seed=seed):
        for metric in metrics:
            if metric in values:
                draws[metric].append(values[metric])
    return _percentile_intervals(draws, level)


def _resampled_metrics(
    y: np.ndarray, probabilities: Sequence[np.ndarray], *, rounds: int, seed: int
) -> Iterator[list[dict[str, float]]]:
    """Per bootstrap resample of the rows, the metrics of each of ``probabilities`` on it."""
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        sample = rng.integers(0, len(y), len(y))
        yield [classification_metrics(y[sample], q[sample]) for q in probabilities]


def paired_bootstrap(
    y: np.ndarray,
    p: np.ndarray,
    baseline: np.ndarray | None = None,
    *,
    metrics: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "ece"),
    rounds: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Percentile bootstrap intervals of a model's and a baseline's metrics, and of their
    difference, on the same resamples.

    Parameters
    ----------
    y, p
        Labels and the model's probabilities.
    baseline
        The baseline's probabilities for the same rows, or None (the model alone).
    metrics, rounds, level, seed
        As for :func:`bootstrap_intervals`, which gives the same model intervals.

    Returns
    -------
    dict
        ``{"model": {metric: (low, high)}}``, plus ``"baseline"`` and ``"difference"`` (model
        minus baseline) with a baseline. Paired, the difference's interval is usually narrower
        than the two intervals suggest: both models meet the same rows in each resample.
    """
    if baseline is None:
        return {
            "model": bootstrap_intervals(
                y, p, metrics=metrics, rounds=rounds, level=level, seed=seed
            )
        }
    y, p, baseline = np.asarray(y, int), np.asarray(p, float), np.asarray(baseline, float)
    draws: dict[str, dict[str, list[float]]] = {
        key: {m: [] for m in metrics} for key in ("model", "baseline", "difference")
    }
    for model, other in _resampled_metrics(y, [p, baseline], rounds=rounds, seed=seed):
        for metric in metrics:
            if metric in model and metric in other:
                draws["model"][metric].append(model[metric])
                draws["baseline"][metric].append(other[metric])
                draws["difference"][metric].append(model[metric] - other[metric])
    return {key: _percentile_intervals(values, level) for key, values in draws.items()}


def _percentile_intervals(
    draws: Mapping[str, list[float]], level: float
) -> dict[str, tuple[float, float]]:
    """The central ``level`` interval of each metric's bootstrap draws (metrics never drawn
    are left out)."""
    alpha = (1 - level) / 2
    return {
        m: (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha)))
        for m, v in draws.items()
        if v
    }


def reliability_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, np.ndarray]:
    """Equal-count bins of ``p``: mean prediction, observed rate and its Wilson 95% interval.

    Parameters
    ----------
    y, p
        Labels and probabilities.
    bins
        How many bins (fewer when there are fewer rows); rows are sorted by ``p`` and split as
        evenly as :func:`numpy.array_split` does.

    Returns
    -------
    dict of numpy.ndarray
        Per bin: ``predicted`` (mean probability), ``observed`` (rate of ``y``), ``low`` and
        ``high`` (the Wilson score interval of the observed rate) and ``rows``.
    """
    y, p = np.asarray(y, float), np.asarray(p, float)
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(p))) if len(g)]
    predicted = np.array([p[g].mean() for g in groups])
    observed = np.array([y[g].mean() for g in groups])
    n = np.array([len(g) for g in groups], float)
    z = 1.959964
    centre = (observed + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(observed * (1 - observed) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return {
        "predicted": predicted,
        "observed": observed,
        "low": np.clip(centre - half, 0, 1),
        "high": np.clip(centre + half, 0, 1),
        "rows": n,
    }


def evaluate_predictions(
    y: np.ndarray,
    p: np.ndarray,
    *,
    cutoffs: Mapping[str, float],
    groups: Mapping[str, np.ndarray] | None = None,
    p_true: np.ndarray | None = None,
) -> dict:
    """All holdout figures in one dict: overall, tiers, per group, and (optionally) the truth."""
    result: dict = {
        "overall": classification_metrics(y, p),
        "tiers": tier_metrics(y, p, cutoffs),
        "groups": {name: group_metrics(y, p, g) for name, g in (groups or {}).items()},
    }
    if p_true is not None:
        result["truth"] = truth_metrics(y, p, p_true)
    return result
