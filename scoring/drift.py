"""Population stability of each model feature against the training reference.

The reference keeps, per feature, the training deciles as bin edges (categories for categorical
features) and the share of training rows in each bin, missing values in a bin of their own.
Scoring streams chunks into a :class:`DriftMonitor`, which counts rows per bin; the population
stability index (PSI) of each feature is computed at the end:
``PSI = sum((actual - expected) * ln(actual / expected))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["DriftMonitor", "build_drift_reference", "psi", "verdict"]

#: Verdict bands of the PSI: below the first stable, below the second investigate, else shifted.
STABLE, SHIFTED = 0.1, 0.25
_FLOOR = 1e-4  # share given to an empty bin, so that the log stays finite


def verdict(value: float) -> str:
    """'stable' below 0.1, 'investigate' up to 0.25, 'shifted' above."""
    if value < STABLE:
        return "stable"
    if value <= SHIFTED:
        return "investigate"
    return "shifted"


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, float), _FLOOR)
    a = np.maximum(np.asarray(actual, float), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def build_drift_reference(
    X: np.ndarray, features: list[str], categorical: Mapping[int, int], *, bins: int = 10
) -> dict[str, Any]:
    """Bin edges and training shares of each feature (missing values in the last bin)."""
    reference: dict[str, Any] = {}
    for j, name in enumerate(features):
        column = X[:, j]
        if j in categorical:
            edges: list[float] = []
        else:
            finite = column[np.isfinite(column)]
            quantiles = (
                np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]) if len(finite) else []
            )
            edges = sorted({float(q) for q in quantiles})
        counts = _counts(column, edges, categorical.get(j))
        reference[name] = {
            "edges": edges,
            "categories": categorical.get(j),
            "expected": (counts / max(counts.sum(), 1)).tolist(),
        }
    return reference


class DriftMonitor:
    """Counts scored rows per reference bin, chunk by chunk; :meth:`report` gives the PSI."""

    def __init__(self, reference: Mapping[str, Any], features: list[str]) -> None:
        self.reference = reference
        self.features = features
        self.counts = {
            name: np.zeros(len(reference[name]["expected"]), dtype=np.int64)
            for name in features
            if name in reference
        }

    def update(self, X: np.ndarray) -> None:
        """Add a chunk of the feature matrix."""
        for j, name in enumerate(self.features):
            if name in self.counts:
                spec = self.reference[name]
                self.counts[name] += _counts(X[:, j], spec["edges"], spec["categories"])

    def report(self) -> list[dict[str, Any]]:
        """Per feature: PSI and verdict, most shifted first."""
        rows = []
        for name, counts in self.counts.items():
            total = counts.sum()
            if not total:
                continue
            value = psi(self.reference[name]["expected"], counts / total)
            rows.append({"feature": name, "psi": round(value, 6), "verdict": verdict(value)})
        return sorted(rows, key=lambda r: -r["psi"])


def _counts(column: np.ndarray, edges: list[float], categories: int | None) -> np.ndarray:
    missing = ~np.isfinite(column)
    if categories is not None:
        codes = np.where(missing, categories, column).astype(np.int64)
        codes = np.where((codes >= 0) & (codes <= categories), codes, categories)
        return np.bincount(codes, minlength=categories + 1)
    index = np.searchsorted(np.asarray(edges, float), column, side="right")
    index = np.where(missing, len(edges) + 1, index)
    return np.bincount(index, minlength=len(edges) + 2)
