"""Exact explanations from the compiled tables: reasons, dimension sub-scores, peer percentiles.

**Reasons.** Each non-categorical feature (with the contract's reason codes, or generated ones
when it has none: :func:`reasons_of`) is compared with a
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
peer group (the contract's ``[model] peer_group``, ``sector`` by default; the training reference,
so it does not move with the batch).

**Feature shapes.** Each table as a curve or bars to draw (:func:`feature_contributions`), each
declared pair as its joint table (:func:`pair_contributions`), and how much a feature's
contribution varies over the training cooperatives (:func:`contribution_spread`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.compiled import CompiledScorer, FeatureTable
from scoring.contract import Contract, Reason

__all__ = [
    "Explainer",
    "build_explainer",
    "cell_keys",
    "contribution_spread",
    "feature_contributions",
    "feature_kind",
    "numeric_view",
    "pair_contributions",
    "reasons_of",
]

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
    feature_reasons = reasons_of(contract, scorer.features)
    profile = {}
    for j, name in enumerate(scorer.features):
        if name not in feature_reasons:
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
        for name, sides in feature_reasons.items()
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


def reasons_of(contract: Contract, features: Sequence[str]) -> dict[str, dict[str, Reason]]:
    """The reasons of each non-categorical model feature: the contract's, else generated.

    A feature without ``[reason.FEATURE]`` (one an analyst added) gets the codes
    ``low_FEATURE``, ``high_FEATURE`` and ``missing_FEATURE``, worded from its label.
    """
    reasons = {}
    for name in features:
        if name in contract.reasons:
            reasons[name] = dict(contract.reasons[name])
        elif name not in contract.model.categorical:
            en, fa = contract.feature_label(name, "en"), contract.feature_label(name, "fa")
            reasons[name] = {
                "low": Reason(f"low_{name}", f"Low {en}", f"{fa} پایین است"),
                "high": Reason(f"high_{name}", f"High {en}", f"{fa} بالاست"),
                "missing": Reason(f"missing_{name}", f"{en} is not reported", f"{fa} گزارش نشده"),
            }
    return reasons


@dataclass(frozen=True)
class _ReasonLookup:
    """A reason feature's pull by cell (by cell pair when it is paired) and side by cell."""

    name: str
    column: int
    partner: int | None
    pulls: np.ndarray  # flat: cells of the feature by cells of its partner
    sides: np.ndarray

    def flat(self, index: np.ndarray) -> np.ndarray:
        """Where each row's pull is in :attr:`pulls`."""
        if self.partner is None:
            return index[:, self.column]
        width = len(self.pulls) // len(self.sides)
        return index[:, self.column] * width + index[:, self.partner]


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
        out = np.empty((len(index), len(self.reason_features)))
        for k, lookup in enumerate(self._lookups()):
            out[:, k] = lookup.pulls.take(lookup.flat(index))
        return out

    def reasons(
        self, X: np.ndarray, *, top: int = 3, lang: str = "en", codes: bool = True,
        index: np.ndarray | None = None,
    ) -> list[np.ndarray]:  # fmt: skip
        """The ``top`` reason codes (or texts) per row, most negative pull first; '' if fewer."""
        ids, texts = self.reason_ids(X, top=top, lang=lang, codes=codes, index=index)
        words = np.array(texts, dtype=object)
        return [words.take(ids[:, rank]) for rank in range(top)]

    def reason_ids(
        self, X: np.ndarray, *, top: int = 3, lang: str = "en", codes: bool = True,
        index: np.ndarray | None = None,
    ) -> tuple[np.ndarray, list[str]]:  # fmt: skip
        """:meth:`reasons` as an ``(n, top)`` matrix of positions in a list of texts.

        Returns the matrix and the texts (the first is ``''``, for no reason).
        """
        index = self.scorer.indices(X) if index is None else index
        lookups = self._lookups()
        texts = [""]
        words = []  # per reason feature, the text of each of its cells as a position in texts
        for lookup in lookups:
            sides = []
            for side in _SIDES:
                reason = self.data["reasons"][lookup.name].get(
                    side, {"code": f"{side}_{lookup.name}"}
                )
                sides.append(len(texts))
                texts.append(reason["code"] if codes else reason.get(lang, reason["code"]))
            words.append(np.asarray(sides, dtype=np.int32)[lookup.sides])
        ids = np.zeros((len(index), top), dtype=np.int32)
        if not lookups:
            return ids, texts
        pulls = self.pulls(X, index)
        cell_offsets = np.cumsum([0, *(len(w) for w in words[:-1])])
        words_flat = np.concatenate(words)
        columns = np.array([lookup.column for lookup in lookups])
        rows = np.arange(len(index))
        # The most negative pull first, ties to the earlier feature, as a stable sort would
        # order them: the row's smallest pull is taken out, then the next, `top` times.
        for rank in range(min(top, len(lookups))):
            k = pulls.argmin(axis=1)
            pull = pulls[rows, k]
            pulls[rows, k] = np.inf
            cell = index[rows, columns[k]]
            ids[:, rank] = np.where(pull < -_EPS, words_flat.take(cell_offsets[k] + cell), 0)
        return ids, texts

    def _lookups(self) -> list[_ReasonLookup]:
        """Each reason feature's pull and side on every cell (of its pair, if it has one);
        built on first use and kept, as they depend on the model only."""
        if getattr(self, "_built_lookups", None) is None:
            self._built_lookups = self._build_lookups()
        return self._built_lookups

    def _build_lookups(self) -> list[_ReasonLookup]:
        profile = self.data["reference_profile"]
        lookups = []
        for name in self.reason_features:
            j = self.scorer.features.index(name)
            table = self.scorer.tables[j]
            cells = table.cells()
            ref_cell = int(table.index(np.array([profile[name]]))[0])
            # Which side of the reference each cell lies on: below, above, missing. A value in
            # the reference's own cell pulls by exactly 0 and never becomes a reason.
            sides = np.where(np.arange(table.slots) < ref_cell, 0, 1)
            sides[-1] = 2
            pulls, partner = cells - cells[ref_cell], None
            for pair in self.scorer.pairs:
                if j in (pair.first, pair.second):
                    partner = pair.second if pair.first == j else pair.first
                    values = pair.values if pair.first == j else pair.values.T
                    # The same sums, in the same order, as the pull of one row would take.
                    pulls = (pulls[:, None] + values) - values[ref_cell][None, :]
            lookups.append(_ReasonLookup(name, j, partner, np.ravel(pulls), sides))
        return lookups

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


# --------------------------------------------------------------------------------------------
# Feature shapes: the tables as they are drawn


def feature_contributions(
    scorer: CompiledScorer,
    contract: Contract,
    *,
    categories: Mapping[str, Sequence[str]],
    drift_reference: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Each feature's contribution table, ready to draw, the most varying first.

    Parameters
    ----------
    scorer
        The compiled tables.
    contract
        The model's contract: which features are yes/no, and their monotone constraints.
    categories
        The category keys of each categorical feature, by code (a manifest's
        ``features.categories``).
    drift_reference
        The training deciles and shares of each feature (a manifest's ``reference.drift``).

    Returns
    -------
    list of dict
        Per feature: ``name``, ``kind`` (:func:`feature_kind`), ``monotonic`` (1, -1 or 0),
        ``partner`` (the other feature of its declared pair, or None), ``spread``
        (:func:`contribution_spread`), ``missing`` (the contribution of a missing value),
        ``used``; then ``keys`` and ``values`` per category, ``values`` (no, yes) for yes/no,
        or the :func:`numeric_view` of a number.
    """
    partners: dict[str, str] = {}
    for pair in scorer.pairs:
        first, second = scorer.tables[pair.first].name, scorer.tables[pair.second].name
        partners[first], partners[second] = second, first
    out = []
    for table in scorer.tables:
        reference = drift_reference.get(table.name)
        item: dict[str, Any] = {
            "name": table.name,
            "kind": feature_kind(table, contract),
            "monotonic": contract.model.monotonic.get(table.name, 0),
            "partner": partners.get(table.name),
            "spread": contribution_spread(table, reference),
            "missing": float(table.missing),
            "used": bool(len(table.edges)) or float(np.ptp(table.cells())) > 0,
        }
        if item["kind"] == "categorical":
            item["keys"] = _category_keys(table, categories)
            item["values"] = table.values.tolist()
        elif item["kind"] == "yesno":
            cells = table.cells()[table.index(np.array([0.0, 1.0, np.nan]))]
            item["values"] = cells[:2].tolist()
        else:
            item.update(numeric_view(table, reference))
        out.append(item)
    return sorted(out, key=lambda item: -item["spread"])


def feature_kind(table: FeatureTable, contract: Contract) -> str:
    """``"categorical"``, ``"yesno"`` (a yes/no column of the contract) or ``"numeric"``."""
    if table.kind == "categorical":
        return "categorical"
    if table.name in contract.names and contract.column(table.name).type == "yesno":
        return "yesno"
    return "numeric"


def contribution_spread(table: FeatureTable, reference: Mapping[str, Any] | None) -> float:
    """Standard deviation of the feature's contribution over the training population.

    Approximated from the drift reference (training deciles and their shares): exact for
    categories, one representative value per decile bin for numbers. Without a reference, the
    standard deviation over the table's cells.
    """
    if reference is None:
        return float(np.std(table.cells()))
    shares = np.asarray(reference["expected"], float)
    if table.kind == "categorical" or reference.get("categories") is not None:
        cells = table.cells()
        values = np.append(cells[:-1][: len(shares) - 1], cells[-1])
        if len(values) != len(shares):
            return float(np.std(cells))
    else:
        edges = np.asarray(reference["edges"], float)
        if not len(edges):
            points = np.array([np.nan])
            points = np.append(np.median(table.edges) if len(table.edges) else 0.0, points)
        else:
            middle = (edges[:-1] + edges[1:]) / 2
            points = np.concatenate([[np.nextafter(edges[0], -np.inf)], middle, [edges[-1]]])
            points = np.append(points, np.nan)
        values = table.cells()[table.index(points)]
        if len(values) != len(shares):
            return float(np.std(table.cells()))
    mean = float(shares @ values)
    return float(np.sqrt(max(shares @ (values - mean) ** 2, 0.0)))


def numeric_view(table: FeatureTable, reference: Mapping[str, Any] | None) -> dict[str, Any]:
    """Where to draw a numeric feature: around the middle 80% of training values.

    Returns the table's ``edges`` and ``values``, the axis ``low`` and ``high``, whether it is
    ``log``, the ``band`` of the middle 80% (or None) and the training ``deciles`` on the axis.
    """
    deciles = np.asarray(reference["edges"], float) if reference else np.empty(0)
    edges = table.edges
    known = np.concatenate([edges, deciles])
    if not len(known):
        return {
            "edges": [],
            "values": table.values.tolist(),
            "low": 0.0,
            "high": 1.0,
            "log": False,
            "band": None,
            "deciles": [],
        }
    p10 = float(deciles[0]) if len(deciles) else float(known.min())
    p90 = float(deciles[-1]) if len(deciles) else float(known.max())
    median = float(np.median(deciles)) if len(deciles) else (p10 + p90) / 2
    # A log axis for long right tails (sales, sales per employee), where a linear one would
    # squeeze most cooperatives into its first tenth.
    log = (
        float(known.min()) > 0
        and p10 > 0
        and p90 / p10 >= 10
        and (p90 - median) > 3 * (median - p10)
    )
    if log:
        reach = (p90 / p10) ** 0.6
        low, high = max(float(known.min()), p10 / reach), min(float(known.max()), p90 * reach)
        low, high = low / 1.15, high * 1.15
    else:
        reach = 0.6 * (p90 - p10) if p90 > p10 else max(abs(p10), 1.0)
        low, high = max(float(known.min()), p10 - reach), min(float(known.max()), p90 + reach)
        pad = 0.06 * (high - low) if high > low else max(abs(low), 1.0) * 0.5
        low, high = low - pad, high + pad
        if float(known.min()) >= 0 and low < 0 <= float(known.min()):
            low = min(0.0, float(known.min())) - pad * 0.3
    band = (p10, p90) if len(deciles) >= 2 and p90 > p10 else None
    return {
        "edges": edges.tolist(),
        "values": table.values.tolist(),
        "low": low,
        "high": high,
        "log": log,
        "band": band,
        "deciles": [d for d in deciles.tolist() if low <= d <= high],
    }


def pair_contributions(
    scorer: CompiledScorer, contract: Contract, *, categories: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Each declared pair's joint contribution (main effects + interaction) per cell pair.

    Returns, per pair: the ``first`` and ``second`` feature, the ``joint`` matrix (cells of
    the first by cells of the second, missing last) and what each row and column holds
    (``first_cells``, ``second_cells``: :func:`cell_keys`).
    """
    out = []
    for pair in scorer.pairs:
        first, second = scorer.tables[pair.first], scorer.tables[pair.second]
        joint = first.cells()[:, None] + second.cells()[None, :] + pair.values
        out.append(
            {
                "first": first.name,
                "second": second.name,
                "joint": joint,
                "first_cells": cell_keys(first, contract, categories),
                "second_cells": cell_keys(second, contract, categories),
            }
        )
    return out


def cell_keys(
    table: FeatureTable, contract: Contract, categories: Mapping[str, Sequence[str]]
) -> list[tuple[str, Any]]:
    """What each cell of a table holds, as ``(kind, value)``, missing last.

    Kinds: ``("category", key)``; ``("word", "no" | "yes" | "all_values" | "missing")``;
    ``("le", edge)``, ``("between", (low, high))`` and ``("gt", edge)`` for intervals.
    """
    if table.kind == "categorical":
        cells: list[tuple[str, Any]] = [("category", k) for k in _category_keys(table, categories)]
    elif (
        feature_kind(table, contract) == "yesno"
        and len(table.edges) == 1
        and 0 < table.edges[0] < 1
    ):
        cells = [("word", "no"), ("word", "yes")]
    elif not len(table.edges):
        cells = [("word", "all_values")]
    else:
        edges = table.edges.tolist()
        cells = [("le", edges[0])]
        cells += [("between", (a, b)) for a, b in itertools.pairwise(edges)]
        cells.append(("gt", edges[-1]))
    return [*cells, ("word", "missing")]


def _category_keys(table: FeatureTable, categories: Mapping[str, Sequence[str]]) -> list[str]:
    """The category key of each cell of a categorical table (its code when none is known)."""
    keys = list(categories.get(table.name, range(len(table.values))))
    return [str(k) for k in keys][: len(table.values)]
