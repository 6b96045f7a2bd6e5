"""Exact explanations from the compiled tables: reasons, dimension sub-scores, peer percentiles.

**Reasons.** Each actionable feature (one with reason codes in the contract) is compared with a
reference profile: the median training cooperative *among those that exported* (the most common
value for yes/no features). The feature's pull on this cooperative is the exact change of the
logit if only that feature were moved to its reference value, holding everything else (including
the partner of a declared pair) fixed. The reasons are the (up to) three features whose pull is
most negative; the code says whether the value is lower, higher or missing. Moving the top
reason's feature to its reference value therefore raises the probability, by construction.

**Dimension sub-scores.** A dimension's contribution is the sum of its features' contributions
(a pair's interaction counts with its first feature). It maps linearly to 0-100 between the
lowest and the highest sum the tables allow: 0 means the worst value the model knows on every
feature of the dimension, 100 the best.

**Sector percentile.** Where the probability stands among the training cooperatives of the same
sector (the training reference, so it does not move with the batch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scoring.compiled import CompiledScorer
from scoring.contract import Contract

__all__ = ["Explainer", "build_explainer"]

_EPS = 1e-9
_SIDES = ("low", "high", "missing")


def build_explainer(
    scorer: CompiledScorer,
    X_train: np.ndarray,
    y_train: np.ndarray,
    probability_train: np.ndarray,
    contract: Contract,
    *,
    sector_feature: str = "sector",
) -> dict[str, Any]:
    """The data an :class:`Explainer` needs, computed once from the training rows."""
    y_train = np.asarray(y_train, int)
    exporters = X_train[y_train == 1] if y_train.sum() else X_train
    profile = {}
    for j, name in enumerate(scorer.features):
        if name not in contract.reasons:
            continue
        column = exporters[:, j][np.isfinite(exporters[:, j])]
        if not len(column):
            continue
        values, counts = np.unique(column, return_counts=True)
        if len(values) <= 2:
            profile[name] = float(values[np.argmax(counts)])
        else:
            profile[name] = float(np.median(column))
    dimensions = {
        dim: [f for f in features if f in scorer.features]
        for dim, features in contract.dimensions.items()
    }
    ranges = {}
    for dim, features in dimensions.items():
        low = high = 0.0
        for name in features:
            j = scorer.features.index(name)
            cells = scorer.tables[j].cells()
            low, high = low + float(cells.min()), high + float(cells.max())
            for pair in scorer.pairs:
                if pair.first == j:
                    low, high = low + float(pair.values.min()), high + float(pair.values.max())
        ranges[dim] = [low, high]
    percentiles = {}
    if sector_feature in scorer.features:
        s = scorer.features.index(sector_feature)
        levels = np.linspace(0, 1, 101)
        codes = X_train[:, s]
        for code in np.unique(codes[np.isfinite(codes)]):
            chosen = probability_train[codes == code]
            if len(chosen) >= 20:
                percentiles[str(int(code))] = np.quantile(chosen, levels).tolist()
        percentiles["all"] = np.quantile(probability_train, levels).tolist()
    reasons = {
        name: {side: vars(reason) for side, reason in sides.items()}
        for name, sides in contract.reasons.items()
        if name in profile
    }
    return {
        "reference_profile": profile,
        "dimensions": dimensions,
        "dimension_ranges": ranges,
        "sector_feature": sector_feature,
        "sector_percentiles": percentiles,
        "reasons": reasons,
    }


class Explainer:
    """Reasons, sub-scores and percentiles for rows scored by a :class:`CompiledScorer`."""

    def __init__(self, scorer: CompiledScorer, data: Mapping[str, Any]) -> None:
        self.scorer = scorer
        self.data = data
        self.reason_features = [
            f for f in scorer.features if f in data["reference_profile"] and f in data["reasons"]
        ]

    def pulls(self, X: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
        """Exact logit change from moving each reason feature to its reference value.

        Returns an ``(n, n_reason_features)`` matrix: negative where the feature pulls the
        probability down against the reference profile.
        """
        index = self.scorer.indices(X) if index is None else index
        out = np.empty((len(X), len(self.reason_features)))
        profile = self.data["reference_profile"]
        for k, name in enumerate(self.reason_features):
            j = self.scorer.features.index(name)
            table = self.scorer.tables[j]
            cells = table.cells()
            ref_cell = int(table.index(np.array([profile[name]]))[0])
            pull = cells[index[:, j]] - cells[ref_cell]
            for pair in self.scorer.pairs:
                if j in (pair.first, pair.second):
                    partner = pair.second if pair.first == j else pair.first
                    values = pair.values if pair.first == j else pair.values.T
                    pull = pull + values[index[:, j], index[:, partner]]
                    pull = pull - values[ref_cell, index[:, partner]]
            out[:, k] = pull
        return out

    def reasons(
        self, X: np.ndarray, *, top: int = 3, lang: str = "en", codes: bool = True,
        index: np.ndarray | None = None,
    ) -> list[np.ndarray]:  # fmt: skip
        """The ``top`` reason codes (or texts) per row, most negative pull first; '' if fewer."""
        pulls = self.pulls(X, index)
        if not self.reason_features:
            return [np.full(len(X), "", dtype=object) for _ in range(top)]
        order = np.argsort(pulls, axis=1, kind="stable")[:, :top]
        profile = self.data["reference_profile"]
        table = np.empty((len(self.reason_features), 3), dtype=object)
        for k, name in enumerate(self.reason_features):
            for s, side in enumerate(_SIDES):
                reason = self.data["reasons"][name].get(side, {"code": f"{side}_{name}"})
                table[k, s] = reason["code"] if codes else reason.get(lang, reason["code"])
        columns = np.array([self.scorer.features.index(n) for n in self.reason_features])
        ref = np.array([profile[n] for n in self.reason_features])
        rows = np.arange(len(X))
        out = []
        for rank in range(min(top, len(self.reason_features))):
            k = order[:, rank]
            x = X[rows, columns[k]]
            side = np.where(np.isnan(x), 2, np.where(x < ref[k], 0, 1))
            text = table[k, side]
            out.append(np.where(pulls[rows, k] < -_EPS, text, ""))
        while len(out) < top:
            out.append(np.full(len(X), "", dtype=object))
        return out

    def dimension_scores(self, features: np.ndarray, pairs: np.ndarray) -> dict[str, np.ndarray]:
        """0-100 sub-score per dimension from per-feature and per-pair contributions."""
        scores = {}
        for dim, names in self.data["dimensions"].items():
            total = np.zeros(len(features))
            for name in names:
                j = self.scorer.features.index(name)
                total += features[:, j]
                for k, pair in enumerate(self.scorer.pairs):
                    if pair.first == j:
                        total += pairs[:, k]
            low, high = self.data["dimension_ranges"][dim]
            span = high - low if high > low else 1.0
            scores[dim] = np.clip(100.0 * (total - low) / span, 0.0, 100.0)
        return scores

    def sector_percentile(self, X: np.ndarray, probability: np.ndarray) -> np.ndarray:
        """0-100: the share of the sector's training cooperatives scoring at or below."""
        percentiles = self.data["sector_percentiles"]
        out = np.full(len(X), np.nan)
        if not percentiles:
            return out
        levels = np.linspace(0, 100, 101)
        s = self.scorer.features.index(self.data["sector_feature"])
        codes = X[:, s]
        for code in [*np.unique(codes[np.isfinite(codes)]).tolist(), None]:
            mask = ~np.isfinite(codes) if code is None else codes == code
            if not mask.any():
                continue
            key = str(int(code)) if code is not None else "all"
            quantiles = np.asarray(percentiles.get(key, percentiles["all"]))
            out[mask] = np.interp(probability[mask], quantiles, levels)
        return out
