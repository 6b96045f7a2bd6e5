"""Population stability of each model feature against the training reference.

The reference keeps, per feature, the training deciles as bin edges (categories for categorical
features) and the share of training rows in each bin, missing values in a bin of their own; and,
per *segment* (a categorical feature such as ``sector`` or ``province``), the shares of every
other feature within each of the segment's categories. Scoring streams chunks into a
:class:`DriftMonitor`, which counts rows per bin; the population stability index (PSI) of each
feature is computed at the end: ``PSI = sum((actual - expected) * ln(actual / expected))``.

Lists are often cut by segment (one province's cooperatives, two sectors): such a list differs
from the training population by choice, not by drift. When a segment's mix is not stable, its
own column gets the verdict ``segment`` (no flag), and the other features are compared with the
training rows of the same segment mix (the per-category shares, weighted by the list's mix); a
reference without per-segment shares (models trained before they were kept) gives them the
verdict ``not_comparable``. Below :data:`MIN_ROWS` rows no verdict is given (``too_few_rows``):
the PSI of a small list is mostly sampling noise. The PSI figures are kept in every case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scoring.binning import edge_counts

__all__ = [
    "JUDGED",
    "MIN_ROWS",
    "SHIFTED",
    "STABLE",
    "DriftMonitor",
    "build_drift_reference",
    "psi",
    "verdict",
]

#: Verdict bands of the PSI: below the first stable, below the second investigate, else shifted.
STABLE, SHIFTED = 0.1, 0.25
#: Fewer scored rows than this get no verdict: with ten bins, the PSI of a sample of n rows
#: from the very population is about 9 / n from noise alone (0.02 at 500 rows).
MIN_ROWS = 500
#: The verdicts that judge a feature; the others (``segment``, ``not_comparable``,
#: ``too_few_rows``) say why a feature was not judged.
JUDGED = ("stable", "investigate", "shifted")
_FLOOR = 1e-4  # share given to an empty bin, so that the log stays finite
#: Training rows of the whole population mixed into each segment category's shares, so that
#: a small province's shares are not mostly noise.
_SMOOTHING = 50


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
    X: np.ndarray,
    features: list[str],
    categorical: Mapping[int, int],
    *,
    bins: int = 10,
    segments: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Bin edges and training shares of each feature (missing values in the last bin).

    Parameters
    ----------
    X
        The training feature matrix, columns in ``features`` order.
    features
        The feature names.
    categorical
        Column index to number of categories, for categorical features.
    bins
        Quantile bins of a numeric feature.
    segments
        Categorical features by which lists are cut (default: every categorical feature).
        Each other feature's entry gets ``by_segment[segment]``: its shares within each of the
        segment's categories (missing last), smoothed towards the overall shares.
    """
    reference: dict[str, Any] = {}
    bin_index = {}
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
        bin_index[name] = _bins(column, edges, categorical.get(j))
        counts = np.bincount(bin_index[name], minlength=_bin_count(edges, categorical.get(j)))
        reference[name] = {
            "edges": edges,
            "categories": categorical.get(j),
            "expected": (counts / max(counts.sum(), 1)).tolist(),
        }
    if segments is None:
        segments = [features[j] for j in sorted(categorical)]
    for segment in segments:
        if segment not in reference or reference[segment]["categories"] is None:
            continue
        codes = bin_index[segment]
        size = reference[segment]["categories"] + 1
        for name in features:
            if name != segment:
                spec = reference[name]
                spec.setdefault("by_segment", {})[segment] = _segment_shares(
                    codes, size, bin_index[name], np.asarray(spec["expected"], float)
                )
    return reference


def _segment_shares(
    codes: np.ndarray, size: int, index: np.ndarray, expected: np.ndarray
) -> list[list[float]]:
    """A feature's bin shares within each segment category, smoothed towards ``expected``."""
    joint = np.bincount(codes * len(expected) + index, minlength=size * len(expected))
    joint = joint.reshape(size, len(expected)).astype(float)
    shares = (joint + _SMOOTHING * expected) / (joint.sum(axis=1, keepdims=True) + _SMOOTHING)
    return np.round(shares, 6).tolist()


class DriftMonitor:
    """Counts scored rows per reference bin, chunk by chunk; :meth:`report` gives the PSI.

    Parameters
    ----------
    reference
        The training reference (:func:`build_drift_reference`).
    features
        The feature names, in the order of the matrices given to :meth:`update`.
    segments
        Features by which lists are cut (``sector``, ``province``): when one's mix is not
        stable, its own column is not flagged and the others are compared with the training
        rows of the same mix.
    min_rows
        Fewer rows than this get the verdict ``too_few_rows``.
    """

    def __init__(
        self,
        reference: Mapping[str, Any],
        features: list[str],
        *,
        segments: Sequence[str] = (),
        min_rows: int = MIN_ROWS,
    ) -> None:
        self.reference = reference
        self.features = features
        self.segments = [s for s in segments if s in reference and s in features]
        self.min_rows = min_rows
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
                index = _bins(X[:, j], spec["edges"], spec["categories"])
                self.counts[name] += np.bincount(index, minlength=len(self.counts[name]))

    def report(self) -> list[dict[str, Any]]:
        """Per feature: PSI and verdict, judged features most shifted first.

        Each row has ``feature``, ``psi`` and ``verdict`` (one of :data:`JUDGED`, or
        ``too_few_rows``, ``segment``, ``not_comparable``). A ``segment`` row also has
        ``covered`` and ``categories`` (how many of the segment's training categories the list
        holds); a row compared with the training rows of the list's segment mix has
        ``compared_with`` (the segment), a ``not_comparable`` row ``segment``.
        """
        shares = {
            name: counts / counts.sum() for name, counts in self.counts.items() if counts.sum()
        }
        if not shares:
            return []
        rows_counted = max(int(counts.sum()) for counts in self.counts.values())
        plain = {name: psi(self.reference[name]["expected"], a) for name, a in shares.items()}
        restricted = sorted(
            (s for s in self.segments if s in shares and plain[s] >= STABLE),
            key=lambda s: -plain[s],
        )
        rows = []
        for name, actual in shares.items():
            row: dict[str, Any] = {}
            value = plain[name]
            if rows_counted < self.min_rows:
                row["verdict"] = "too_few_rows"
            elif name in restricted:
                row.update(verdict="segment", **self._coverage(name))
            elif restricted:
                segment = restricted[0]
                expected = self._segment_expected(name, segment)
                if expected is None:
                    row.update(verdict="not_comparable", segment=segment)
                else:
                    value = psi(expected, actual)
                    row.update(verdict=verdict(value), compared_with=segment)
            else:
                row["verdict"] = verdict(value)
            rows.append({"feature": name, "psi": round(value, 6), **row})
        return sorted(rows, key=lambda r: (r["verdict"] not in JUDGED, -r["psi"]))

    def _coverage(self, segment: str) -> dict[str, int]:
        """How many of the segment's training categories the list holds (missing not counted)."""
        counts = self.counts[segment][:-1]
        expected = np.asarray(self.reference[segment]["expected"], float)[:-1]
        return {"covered": int((counts > 0).sum()), "categories": int((expected > 0).sum())}

    def _segment_expected(self, name: str, segment: str) -> np.ndarray | None:
        """The training shares of ``name`` in the list's mix of ``segment``, or None if the
        reference has no per-segment shares."""
        by_segment = self.reference[name].get("by_segment", {}).get(segment)
        mix = self.counts[segment]
        if by_segment is None:
            return None
        table = np.asarray(by_segment, float)
        if table.shape != (len(mix), len(self.counts[name])):
            return None
        return (mix / mix.sum()) @ table


def _bin_count(edges: list[float], categories: int | None) -> int:
    return categories + 1 if categories is not None else len(edges) + 2


def _bins(column: np.ndarray, edges: list[float], categories: int | None) -> np.ndarray:
    """The reference bin of each value: a category code (unknown or missing: the last bin), or
    the decile interval (missing: the last bin)."""
    missing = ~np.isfinite(column)
    if categories is not None:
        codes = np.where(missing, categories, column).astype(np.int64)
        return np.where((codes >= 0) & (codes <= categories), codes, categories)
    index = edge_counts(column, np.asarray(edges, float), side="right")
    index[missing] = len(edges) + 1
    return index
