"""The compiled scorer: a trained glass-box model as plain lookup tables.

A :class:`CompiledScorer` holds, for every feature, the model's contribution on each interval
between the split thresholds the trees use (and for a missing value), and for every declared
pair a two-way table of the pure interaction. The calibrated logit of a row is exactly::

    intercept + sum of feature contributions + sum of pair contributions

Scoring bins each feature once into small integer cell codes, then reads every table from them:
fast, and it loads nothing executable. The tables
are stored as JSON (floats round-trip exactly), so a scorer keeps working whatever scikit-learn
release is installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from scoring.binning import code_type, edge_counts
from scoring.errors import ModelError
from scoring.features import reference_point

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "KINDS",
    "CompiledScorer",
    "FeatureTable",
    "PairTable",
    "compile_model",
    "model_edges",
    "sigmoid",
]

FORMAT = "readiness.compiled-scorer"
FORMAT_VERSION = 1
KINDS = ("numeric", "categorical")


@dataclass
class FeatureTable:
    """One feature's contribution: by interval between ``edges`` (or by category code)."""

    name: str
    kind: str  # "numeric" or "categorical"
    edges: np.ndarray
    values: np.ndarray
    missing: float

    @property
    def slots(self) -> int:
        """Number of cells, the last being 'missing'."""
        return len(self.values) + 1

    def index(self, x: np.ndarray) -> np.ndarray:
        """The cell of each value: its interval or category, ``len(values)`` when missing."""
        return self.codes(x).astype(np.int64)

    def codes(self, x: np.ndarray) -> np.ndarray:
        """:meth:`index` as the smallest unsigned integers that hold :attr:`slots`."""
        # A column of a (row, feature) matrix is strided: copied once, read once per edge.
        x = np.ascontiguousarray(x, dtype=np.float64)
        missing_slot = len(self.values)
        dtype = code_type(self.slots)
        if self.kind == "categorical":
            # As scikit-learn's trees do: a negative, fractional or unknown code is missing.
            known = (x >= 0) & (x < missing_slot) & (x == np.floor(x))
            return np.where(known, x, missing_slot).astype(dtype)
        codes = edge_counts(x, self.edges, dtype=dtype)
        codes[np.isnan(x)] = missing_slot
        return codes

    def cells(self) -> np.ndarray:
        """Cell values, missing last (read-only; built once, again only if the values change)."""
        key = (id(self.values), self.missing)
        cached = self.__dict__.get("_cells")
        if cached is None or cached[0] != key:
            array = np.append(self.values, self.missing)
            array.setflags(write=False)  # every lookup of every call reads the same cells
            cached = self.__dict__["_cells"] = (key, array)
        return cached[1]

    def representatives(self, fallback: float) -> np.ndarray:
        """One value inside each cell (missing last): where to evaluate the model."""
        if self.kind == "categorical":
            points = np.arange(len(self.values), dtype=np.float64)
        elif len(self.edges):
            points = np.append(self.edges, np.nextafter(self.edges[-1], np.inf))
        else:
            points = np.array([fallback], dtype=np.float64)
        return np.append(points, np.nan)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "edges": self.edges.tolist(),
            "values": self.values.tolist(),
            "missing": float(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "table") -> FeatureTable:
        """Rebuild a table from :meth:`to_dict`, refusing a malformed one (:class:`ModelError`)."""
        data = _object(data, where)
        name = _text(data, "name", where)
        where = f"{where} ('{name}')"
        kind = _text(data, "kind", where)
        if kind not in KINDS:
            _refuse(where, f"'kind' must be {' or '.join(KINDS)}, not '{kind}'")
        edges = _numbers(_field(data, "edges", where), "'edges'", where)
        if np.any(np.diff(edges) <= 0):
            _refuse(where, "'edges' must be strictly increasing")
        values = _numbers(_field(data, "values", where), "'values'", where)
        if kind == "categorical" and len(edges):
            _refuse(where, f"'edges' must be empty in a categorical table, found {len(edges)}")
        if kind == "categorical" and not len(values):
            _refuse(where, "'values' must hold one number per category, found none")
        if kind == "numeric" and len(values) != len(edges) + 1:
            _refuse(where, f"'values' must hold {len(edges) + 1} numbers (one more than 'edges'), "
                    f"found {len(values)}")  # fmt: skip
        return cls(name, kind, edges, values, _number(data, "missing", where))


@dataclass
class PairTable:
    """The pure interaction of two features: cells of the first by cells of the second."""

    first: int
    second: int
    values: np.ndarray  # (slots of first, slots of second), missing last on both axes

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "values": self.values.tolist()}

    @classmethod
    def from_dict(cls, data: Any, tables: list[FeatureTable], where: str = "pair") -> PairTable:
        """Rebuild a pair from :meth:`to_dict`, checked against the feature ``tables`` it joins."""
        data = _object(data, where)
        first, second = (_index(data, key, len(tables), where) for key in ("first", "second"))
        if first == second:
            _refuse(where, f"'first' and 'second' must be two features, both are {first}")
        shape = (tables[first].slots, tables[second].slots)
        rows = _field(data, "values", where)
        if not isinstance(rows, list) or len(rows) != shape[0]:
            _refuse(where, f"'values' must be a {shape[0]} x {shape[1]} matrix (cells of "
                    f"'{tables[first].name}' by cells of '{tables[second].name}')")  # fmt: skip
        matrix = np.empty(shape, dtype=np.float64)
        for i, row in enumerate(rows):
            matrix[i] = _numbers(row, f"'values' row {i}", where, length=shape[1])
        return cls(first, second, matrix)


@dataclass
class CompiledScorer:
    """Score from lookup tables. Build with :func:`compile_model`, or :meth:`from_dict`."""

    features: list[str]
    tables: list[FeatureTable]
    pairs: list[PairTable]
    intercept: float

    def indices(self, X: np.ndarray) -> np.ndarray:
        """The cell of every value: an ``(n, n_features)`` integer matrix.

        Each feature is binned once into small integer codes (as scikit-learn's bin mapper
        does); every table, reason and sub-score is then read from these codes.
        """
        X = self._check(X)
        # Binned feature by feature into contiguous rows of the smallest codes, then turned
        # once into the (row, feature) layout the lookups read, as intp (numpy's fast take):
        # transposing one-byte codes and widening them in the same pass is some 15 times
        # faster than transposing intp codes.
        small = code_type(max((t.slots for t in self.tables), default=1))
        codes = np.empty((X.shape[1], X.shape[0]), dtype=small)
        for j, table in enumerate(self.tables):
            codes[j] = table.codes(X[:, j])
        return codes.T.astype(np.intp, order="C")

    def indices_of(self, X: np.ndarray, features: Sequence[int]) -> np.ndarray:
        """The cells of the columns of ``X``, which hold the values of ``features`` (positions
        in :attr:`tables`): to re-bin only the features a change touches."""
        codes = np.empty(X.shape, dtype=np.intp)
        for j, f in enumerate(features):
            codes[:, j] = self.tables[f].codes(X[:, j])
        return codes

    def probability_at(self, index: np.ndarray) -> np.ndarray:
        """:meth:`probability` of rows given by their cells (the same sums, in the same order)."""
        features, pairs = self.contributions_at(index)
        return sigmoid(self.intercept + features.sum(axis=1) + pairs.sum(axis=1))

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature ``(n, n_features)`` and per-pair ``(n, n_pairs)`` logit contributions."""
        return self.contributions_at(self.indices(X))

    def contributions_at(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Contributions of rows given by their cells (from :meth:`indices`)."""
        # One gather per table from its own few cells, which stay in cache (no (n, features)
        # matrix of offset cells is made; on 1M rows about as fast as one gather of it).
        features = np.empty(index.shape, dtype=np.float64)
        for j, table in enumerate(self.tables):
            features[:, j] = table.cells().take(index[:, j])
        pairs = np.empty((len(index), len(self.pairs)), dtype=np.float64)
        for k, pair in enumerate(self.pairs):
            flat = index[:, pair.first] * pair.values.shape[1] + index[:, pair.second]
            pairs[:, k] = pair.values.ravel().take(flat)
        return features, pairs

    def logit(self, X: np.ndarray) -> np.ndarray:
        """The calibrated logit: intercept plus every contribution."""
        features, pairs = self.contributions(X)
        return self.intercept + features.sum(axis=1) + pairs.sum(axis=1)

    def probability(self, X: np.ndarray) -> np.ndarray:
        """The calibrated probability of exporting."""
        return sigmoid(self.logit(X))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "features": list(self.features),
            "intercept": float(self.intercept),
            "tables": [t.to_dict() for t in self.tables],
            "pairs": [p.to_dict() for p in self.pairs],
        }

    @classmethod
    def from_dict(cls, data: Any) -> CompiledScorer:
        """Rebuild a scorer from :meth:`to_dict` (parsed JSON), checking every table.

        A forged or damaged scorer is refused even when unsigned: each key present with its
        type, finite numbers, strictly increasing edges, table shapes that agree, pairs of two
        existing features (each in one pair at most).

        Raises
        ------
        ModelError
            One line naming the table or key that is wrong.
        """
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ModelError("not a compiled scorer (format field missing or wrong)")
        version = _index(data, "format_version", None, "")
        if version > FORMAT_VERSION:
            raise ModelError(
                f"compiled scorer format {version} is newer than this release reads "
                f"({FORMAT_VERSION}); upgrade export-readiness"
            )
        if version < 1:
            _refuse("", f"'format_version' {version} is no format of this release (1 to "
                    f"{FORMAT_VERSION})")  # fmt: skip
        features = _field(data, "features", "")
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            _refuse("", "'features' must be a list of names")
        if len(set(features)) != len(features):
            _refuse("", "'features' must not repeat a name")
        documents = _field(data, "tables", "")
        if not isinstance(documents, list) or len(documents) != len(features):
            _refuse("", f"'tables' must be a list of one table per feature "
                    f"({len(features)})")  # fmt: skip
        tables = [FeatureTable.from_dict(t, f"table {j}") for j, t in enumerate(documents)]
        for j, (table, name) in enumerate(zip(tables, features, strict=True)):
            if table.name != name:
                _refuse(f"table {j} ('{table.name}')", f"must be feature {j}, '{name}'")
        pairs = _field(data, "pairs", "")
        if not isinstance(pairs, list):
            _refuse("", "'pairs' must be a list")
        pair_tables, paired = [], {}
        for k, document in enumerate(pairs):
            pair = PairTable.from_dict(document, tables, f"pair {k}")
            for j in (pair.first, pair.second):
                if j in paired:
                    _refuse(f"pair {k}", f"feature {j} ('{tables[j].name}') is already in pair "
                            f"{paired[j]}; a feature belongs to one pair at most")  # fmt: skip
                paired[j] = k
            pair_tables.append(pair)
        intercept = _number(data, "intercept", "")
        return cls(list(features), tables, pair_tables, intercept)

    def _check(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.tables):
            raise ModelError(
                f"the scorer takes {len(self.tables)} features, got an array of shape {X.shape}"
            )
        return X


def _refuse(where: str, problem: str) -> NoReturn:
    raise ModelError(
        f"compiled scorer{' ' + where if where else ''}: {problem}; the scorer is damaged or "
        "forged: restore the model's files or retrain it"
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _object(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        _refuse(where, f"must be an object, not {_shown(data)}")
    return data


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        _refuse(where, f"'{key}' is missing")
    return data[key]


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _field(data, key, where)
    if not isinstance(value, str) or not value:
        _refuse(where, f"'{key}' must be a name, not {_shown(value)}")
    return value


def _index(data: Mapping[str, Any], key: str, size: int | None, where: str) -> int:
    """A whole number (not a bool, not 1.0), below ``size`` when given."""
    value = _field(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(where, f"'{key}' must be a whole number, not {_shown(value)}")
    if size is not None and not 0 <= value < size:
        _refuse(where, f"'{key}' must be a feature index from 0 to {size - 1}, not {value}")
    return value


def _finite(value: Any) -> bool:
    """A JSON number (int or float, not a bool) that is a finite float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = _field(data, key, where)
    if not _finite(value):
        _refuse(where, f"'{key}' must be a finite number, not {_shown(value)}")
    return float(value)


def _numbers(value: Any, label: str, where: str, length: int | None = None) -> np.ndarray:
    """A list of finite numbers as a float array; ``label`` names it in a refusal."""
    if not isinstance(value, list) or (length is not None and len(value) != length):
        count = "" if length is None else f"{length} "
        _refuse(where, f"{label} must be a list of {count}numbers, not {_shown(value)}")
    for i, item in enumerate(value):
        if not _finite(item):
            _refuse(where, f"{label} must hold finite numbers only, found {_shown(item)} at {i}")
    return np.asarray(value, dtype=np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, stable for large |z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def compile_model(
    model: Any,
    X_train: np.ndarray,
    features: list[str],
    *,
    categorical: dict[int, int],
    pairs: list[tuple[int, int]],
    tolerance: float = 1e-9,
) -> CompiledScorer:
    """Compile a fitted additive model to lookup tables, and check it is exact.

    Parameters
    ----------
    model
        A fitted additive model: anything with ``decision_function`` that is additive over
        single features and ``pairs`` and constant between the cell edges
        :func:`model_edges` finds (a :class:`~scoring.glassbox.GlassBoxClassifier`, a learner
        of :mod:`scoring.candidates`).
    X_train
        The training matrix: gives the reference point, cell frequencies and centring.
    categorical
        ``{feature index: number of categories}``.
    pairs
        The declared pairs (feature indices); a feature may belong to one pair at most.

    Raises
    ------
    ModelError
        The model is not additive as declared (a tree used features outside one group) or the
        tables do not reproduce its logit within ``tolerance``.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    n_features = X_train.shape[1]
    pairs = [tuple(sorted(p)) for p in pairs]
    paired = [j for p in pairs for j in p]
    if len(set(paired)) != len(paired):
        raise ModelError("a feature may belong to one declared pair at most")
    thresholds = model_edges(model, n_features, pairs)
    reference = reference_point(X_train, categorical)
    tables = []
    for j in range(n_features):
        kind = "categorical" if j in categorical else "numeric"
        edges = np.array(sorted(thresholds[j]), dtype=np.float64)
        size = categorical[j] if kind == "categorical" else len(edges) + 1
        tables.append(FeatureTable(features[j], kind, edges, np.zeros(size), 0.0))
    base = float(model.decision_function(reference[None, :])[0])
    intercept = base
    for j, table in enumerate(tables):
        if j in paired:
            continue
        points = table.representatives(fallback=reference[j])
        grid = np.repeat(reference[None, :], len(points), axis=0)
        grid[:, j] = points
        values = model.decision_function(grid) - base
        table.values, table.missing = values[:-1], float(values[-1])
    pair_tables = []
    for first, second in pairs:
        p_points = tables[first].representatives(fallback=reference[first])
        q_points = tables[second].representatives(fallback=reference[second])
        grid = np.repeat(reference[None, :], len(p_points) * len(q_points), axis=0)
        grid[:, first] = np.repeat(p_points, len(q_points))
        grid[:, second] = np.tile(q_points, len(p_points))
        joint = (model.decision_function(grid) - base).reshape(len(p_points), len(q_points))
        w_p = _cell_weights(tables[first], X_train[:, first])
        w_q = _cell_weights(tables[second], X_train[:, second])
        mean = float(w_p @ joint @ w_q)
        main_p = joint @ w_q - mean
        main_q = w_p @ joint - mean
        interaction = joint - main_p[:, None] - main_q[None, :] - mean
        intercept += mean
        tables[first].values, tables[first].missing = main_p[:-1], float(main_p[-1])
        tables[second].values, tables[second].missing = main_q[:-1], float(main_q[-1])
        pair_tables.append(PairTable(first, second, interaction))
    for j, table in enumerate(tables):
        centre = float(table.cells()[table.index(X_train[:, j])].mean())
        table.values = table.values - centre
        table.missing -= centre
        intercept += centre
    scorer = CompiledScorer(list(features), tables, pair_tables, intercept)
    _check_exact(scorer, model, X_train, reference, tolerance)
    return scorer


def model_edges(model: Any, n_features: int, pairs: list[tuple[int, ...]]) -> list[set[float]]:
    """The cell edges of each feature of an additive model, whatever learnt it.

    A learner on fixed cells says so in ``cell_edges_`` (one array per feature); a blend has
    the union of its ``members_``' edges; a boosted model the split thresholds of its
    ``estimators_``, each tree checked to stay within one declared group.

    Raises
    ------
    ModelError
        A tree splits on features of two groups.
    """
    if hasattr(model, "members_"):
        edges: list[set[float]] = [set() for _ in range(n_features)]
        for member in model.members_:
            for j, member_edges in enumerate(model_edges(member, n_features, pairs)):
                edges[j] |= member_edges
        return edges
    if hasattr(model, "cell_edges_"):
        return [{float(e) for e in np.asarray(edges, float)} for edges in model.cell_edges_]
    return _split_thresholds(model, n_features, pairs)


def _split_thresholds(
    model: Any, n_features: int, pairs: list[tuple[int, ...]]
) -> list[set[float]]:
    """Every numeric split threshold per feature, checking each tree stays within one group."""
    groups = [{j} for j in range(n_features)] + [set(p) for p in pairs]
    thresholds: list[set[float]] = [set() for _ in range(n_features)]
    order = getattr(model, "feature_order_", np.arange(n_features))
    for estimator in model.estimators_:
        for iteration in estimator._predictors:
            for predictor in iteration:
                nodes = predictor.nodes
                inner = nodes[nodes["is_leaf"] == 0]
                used = {int(order[f]) for f in inner["feature_idx"]}
                if used and not any(used <= g for g in groups):
                    raise ModelError(
                        f"a tree splits on features {sorted(used)}, outside the declared groups"
                    )
                numeric = inner[inner["is_categorical"] == 0]
                for feature, threshold in zip(
                    numeric["feature_idx"], numeric["num_threshold"], strict=True
                ):
                    # A split at +inf only separates missing values from the rest.
                    if np.isfinite(threshold):
                        thresholds[int(order[feature])].add(float(threshold))
    return thresholds


def _cell_weights(table: FeatureTable, column: np.ndarray) -> np.ndarray:
    counts = np.bincount(table.index(column), minlength=table.slots).astype(np.float64)
    return counts / counts.sum()


def _check_exact(
    scorer: CompiledScorer, model: Any, X: np.ndarray, reference: np.ndarray, tolerance: float
) -> None:
    rng = np.random.default_rng(0)
    rows = X[rng.choice(len(X), size=min(len(X), 5000), replace=False)]
    expected = model.decision_function(rows)
    got = scorer.logit(rows)
    worst = float(np.max(np.abs(expected - got)))
    if worst > tolerance:
        raise ModelError(
            f"compiled tables differ from the model by {worst:.3g} in logit (tolerance "
            f"{tolerance:g}): the model is not additive over the declared groups"
        )
