"""Candidate learners that compile to the same lookup tables as the glass-box model, and the
candidates tried for a given amount of data.

Every candidate is additive over single features and the declared pairs, so training can pick
among them by cross-validated log loss and still score from lookup tables with an exact
decomposition (:mod:`scoring.compiled`):

- **boosting**: :class:`~scoring.glassbox.GlassBoxClassifier` (cells: its split thresholds);
- **spline**: :class:`SplineLogisticClassifier`, the transparent baseline (natural splines of
  numbers, one-hot categories, logistic) fitted on *cell representatives*: each number is first
  moved to a representative value of its cell (a fine quantile grid of the training values), so
  the model is constant on every cell and its tables are exact;
- **blend**: :class:`BlendedClassifier`, a calibrated weighted sum of a boosted model's and the
  spline's logits: still additive, its cells the union of theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from scoring.compiled import sigmoid
from scoring.glassbox import GlassBoxClassifier

__all__ = [
    "LEARNERS",
    "BlendedClassifier",
    "SplineLogisticClassifier",
    "Structure",
    "candidate_specs",
    "describe",
    "learner_of",
    "make_learner",
]

#: Learners training may try, in the order they are fitted (a blend needs the others first).
LEARNERS = ("boosting", "spline", "blend")
#: Weights of the boosted model tried in a blend (the spline gets the rest).
_BLEND_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


@dataclass(frozen=True)
class Structure:
    """What every candidate is told about the features (indices into the feature matrix)."""

    categorical: Mapping[int, int] = field(default_factory=dict)  # index -> number of categories
    pairs: Sequence[tuple[int, int]] = ()
    monotonic: Mapping[int, int] = field(default_factory=dict)


def candidate_specs(n_rows: int, learners: Sequence[str] = LEARNERS) -> list[dict[str, Any]]:
    """The candidates tried on ``n_rows`` training rows: settings chosen by data size.

    Small data gets small trees with few rows per leaf and a spline with few knots; large data
    deeper trees. Each boosted model early-stops on an inner split of its fold, so its
    out-of-fold log loss is honest and comparable with the spline's and the blend's.
    """
    unknown = [name for name in learners if name not in LEARNERS]
    if unknown:
        raise ValueError(f"unknown learner(s) {unknown}: use {', '.join(LEARNERS)}")
    specs: list[dict[str, Any]] = []
    if "boosting" in learners:
        leaf = int(np.clip(n_rows / 50, 10, 100))
        shapes = [(3, leaf), (4, 2 * leaf)] if n_rows < 30_000 else [(4, 200)]
        specs += [
            {"learner": "boosting", "max_leaf_nodes": leaves, "min_samples_leaf": rows,
             "validation_fraction": 0.15}
            for leaves, rows in shapes
        ]  # fmt: skip
    if "spline" in learners:
        specs.append({"learner": "spline", "n_knots": 5})
    if "blend" in learners and {"boosting", "spline"} <= set(learners):
        specs.append({"learner": "blend"})
    return specs


def learner_of(spec: Mapping[str, Any]) -> str:
    """The learner a candidate spec names (a spec without one is glass-box settings)."""
    return str(spec.get("learner", "boosting"))


def describe(spec: Mapping[str, Any]) -> str:
    """How the model-selection table names a candidate."""
    return {
        "boosting": "glass-box boosting",
        "spline": "spline logistic baseline",
        "blend": "blend: boosting + spline",
    }[learner_of(spec)]


def make_learner(
    spec: Mapping[str, Any], structure: Structure, *, seed: int, n_threads: int
) -> BaseEstimator:
    """An unfitted estimator for a boosting or spline candidate spec.

    Raises
    ------
    ValueError
        A blend (built from fitted members by :meth:`BlendedClassifier.combine`) or an unknown
        learner.
    """
    learner = learner_of(spec)
    settings = {k: v for k, v in spec.items() if k != "learner"}
    if learner == "boosting":
        return GlassBoxClassifier(
            categorical=sorted(structure.categorical),
            pairs=list(structure.pairs),
            monotonic=dict(structure.monotonic),
            n_threads=n_threads,
            random_state=seed,
            **settings,
        )
    if learner == "spline":
        return SplineLogisticClassifier(
            categorical=dict(structure.categorical), random_state=seed, n_threads=n_threads,
            **settings,
        )  # fmt: skip
    raise ValueError(f"learner '{learner}' is not built by make_learner")


class SplineLogisticClassifier(ClassifierMixin, BaseEstimator):
    """Natural splines of numbers and one-hot categories under a logistic, on fixed cells.

    Parameters
    ----------
    categorical : mapping of int to int
        Categorical feature index -> number of categories (codes 0..K-1).
    n_knots : int
        Knots of each numeric feature's cubic spline (at quantiles of the training values).
    Cs : int
        How many inverse regularisation strengths cross-validation tries.
    max_cells : int
        At most this many cells per numeric feature: one per distinct training value while
        there are few, else a quantile grid.
    n_folds : int
        Folds for choosing ``C`` and for the out-of-fold logits.
    random_state : int
    n_threads : int
        BLAS threads while fitting.

    Attributes
    ----------
    cell_edges_ : list of ndarray
        Per feature, the cell edges (a value ``x`` is in cell ``searchsorted(edges, x, "left")``);
        empty for a categorical feature.
    cell_points_ : list of ndarray
        Per numeric feature, the value each cell is moved to (the median training value in it).
    pipeline_ : Pipeline
        Splines and one-hot columns and the logistic, fitted on the moved values.
    C_ : float
    oof_decision_ : ndarray
        Out-of-fold logits of the training rows (with ``C_``).
    cv_log_loss_ : float
    """

    def __init__(
        self,
        categorical: Mapping[int, int] | None = None,
        n_knots: int = 5,
        Cs: int = 6,
        max_cells: int = 256,
        n_folds: int = 5,
        random_state: int = 0,
        n_threads: int = 1,
    ) -> None:
        self.categorical = categorical
        self.n_knots = n_knots
        self.Cs = Cs
        self.max_cells = max_cells
        self.n_folds = n_folds
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, X: np.ndarray, y: np.ndarray) -> SplineLogisticClassifier:
        """Fix the cells, choose ``C`` by cross-validated log loss, fit, and keep the OOF logits."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        self.classes_, y = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(f"y has {len(self.classes_)} classes; the model needs two")
        categorical = dict(self.categorical or {})
        self.cell_edges_, self.cell_points_ = [], []
        for j in range(X.shape[1]):
            edges, points = (
                (np.empty(0), np.empty(0)) if j in categorical else _cells(X[:, j], self.max_cells)
            )
            self.cell_edges_.append(edges)
            self.cell_points_.append(points)
        moved = self._move(X)
        folds = list(
            StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state).split(
                moved, y
            )
        )
        with threadpool_limits(self.n_threads):
            chooser = self._pipeline(X.shape[1], LogisticRegressionCV(
                Cs=self.Cs, cv=folds, scoring="neg_log_loss", max_iter=2000, **_legacy_off()
            )).fit(moved, y)  # fmt: skip
            self.C_ = float(np.ravel(chooser[-1].C_)[0])
            self.oof_decision_ = np.zeros(len(y))
            for train, held in folds:
                model = self._pipeline(X.shape[1], self._logistic()).fit(moved[train], y[train])
                self.oof_decision_[held] = model.decision_function(moved[held])
            self.pipeline_ = self._pipeline(X.shape[1], self._logistic()).fit(moved, y)
        self.cv_log_loss_ = float(log_loss(y, sigmoid(self.oof_decision_), labels=[0, 1]))
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The logit: constant on each cell of every feature, additive over features."""
        check_is_fitted(self, "pipeline_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        with threadpool_limits(self.n_threads):
            return self.pipeline_.decision_function(self._move(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        probability = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - probability, probability])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _logistic(self) -> LogisticRegression:
        return LogisticRegression(C=self.C_, max_iter=2000)

    def _move(self, X: np.ndarray) -> np.ndarray:
        """Each value moved to its cell's representative; a category code the tables read as
        missing (negative, fractional, unknown) becomes NaN, as the tables read it."""
        moved = np.array(X, dtype=np.float64)
        categorical = dict(self.categorical or {})
        for j, (edges, points) in enumerate(zip(self.cell_edges_, self.cell_points_, strict=True)):
            x = moved[:, j]
            if j in categorical:
                known = (x >= 0) & (x < categorical[j]) & (x == np.floor(x))
                moved[:, j] = np.where(known, x, np.nan)
            elif len(points):
                cell = np.searchsorted(edges, x, side="left")
                moved[:, j] = np.where(np.isnan(x), np.nan, points[np.minimum(cell, len(edges))])
            else:  # never seen in training: every value reads as missing
                moved[:, j] = np.nan
        return moved

    def _pipeline(self, n_features: int, logistic: BaseEstimator) -> Pipeline:
        categorical = dict(self.categorical or {})
        numeric = [j for j in range(n_features) if j not in categorical]
        spline = SplineTransformer(
            n_knots=self.n_knots, degree=3, knots="quantile", extrapolation="constant"
        )
        columns = ColumnTransformer(
            [
                ("numeric", make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    spline,
                ), numeric),
                ("categorical", make_pipeline(
                    SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                    OneHotEncoder(
                        categories=[list(range(categorical[j])) for j in sorted(categorical)],
                        handle_unknown="ignore",
                    ),
                ), sorted(categorical)),
            ]
        )  # fmt: skip
        return Pipeline([("columns", columns), ("logistic", logistic)])


def _cells(column: np.ndarray, max_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges and a representative (median training value) per cell of one column."""
    known = np.sort(column[np.isfinite(column)])
    distinct = np.unique(known)
    if len(distinct) <= 1:
        return np.empty(0), distinct.astype(np.float64)
    if len(distinct) <= max_cells:
        edges = (distinct[:-1] + distinct[1:]) / 2
        edges = np.unique(np.minimum(edges, distinct[1:]))  # midpoints may round onto a value
    else:
        levels = np.linspace(0, 1, max_cells + 1)[1:-1]
        edges = np.unique(np.quantile(known, levels, method="inverted_cdf"))
        edges = edges[edges < distinct[-1]]
    cell = np.searchsorted(edges, known, side="left")
    points = np.array([np.median(known[cell == c]) for c in range(len(edges) + 1)])
    return edges, points


def _legacy_off() -> dict[str, Any]:
    """Options asking scikit-learn >= 1.8 for the attribute layout of 1.10 (and no notice)."""
    if "use_legacy_attributes" in LogisticRegressionCV().get_params():
        return {"l1_ratios": (0.0,), "use_legacy_attributes": False}
    return {}


class BlendedClassifier(ClassifierMixin, BaseEstimator):
    """A calibrated weighted sum of two additive models' logits (weight chosen out of fold).

    Parameters
    ----------
    estimators : sequence of estimators
        Two unfitted additive models exposing ``oof_decision_`` after fitting, on the same folds.
    weight : float or None
        The first model's weight (the second gets ``1 - weight``); None chooses it by
        out-of-fold log loss among 0, 0.1, ..., 1.

    Attributes
    ----------
    members_ : list
        The fitted models.
    weight_ : float
    calibration_ : tuple of float
        ``(slope, intercept)`` applied to the weighted logit (fitted out of fold).
    oof_decision_ : ndarray
    cv_log_loss_ : float
    """

    def __init__(self, estimators: Sequence[BaseEstimator] = (), weight: float | None = None):
        self.estimators = estimators
        self.weight = weight

    def fit(self, X: np.ndarray, y: np.ndarray) -> BlendedClassifier:
        """Fit each member, then :meth:`combine` them."""
        if len(self.estimators) != 2:
            raise ValueError(f"a blend takes two estimators, got {len(self.estimators)}")
        return self.combine([clone(e).fit(X, y) for e in self.estimators], y)

    def combine(self, members: Sequence[Any], y: np.ndarray) -> BlendedClassifier:
        """Blend already fitted members on their out-of-fold logits (no member is refitted)."""
        self.members_ = list(members)
        self.classes_ = self.members_[0].classes_
        self.n_features_in_ = self.members_[0].n_features_in_
        y = np.searchsorted(self.classes_, y)
        first, second = (m.oof_decision_ for m in self.members_)
        weights = _BLEND_WEIGHTS if self.weight is None else (float(self.weight),)
        best = None
        for weight in weights:
            blended = weight * first + (1 - weight) * second
            slope, intercept, loss = _platt(blended, y)
            if best is None or loss < best[3] - 1e-12:
                best = (weight, slope, intercept, loss)
        self.weight_, slope, intercept, self.cv_log_loss_ = best
        self.calibration_ = (slope, intercept)
        self.oof_decision_ = slope * (self.weight_ * first + (1 - self.weight_) * second)
        self.oof_decision_ += intercept
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "members_")
        first, second = (m.decision_function(X) for m in self.members_)
        slope, intercept = self.calibration_
        return slope * (self.weight_ * first + (1 - self.weight_) * second) + intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        probability = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - probability, probability])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


def _platt(logit: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(slope, intercept, log loss)`` of a logistic calibration of ``logit``."""
    calibrator = LogisticRegression(C=1e6, max_iter=1000).fit(logit.reshape(-1, 1), y)
    slope, intercept = float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0])
    loss = float(log_loss(y, sigmoid(slope * logit + intercept), labels=[0, 1]))
    return slope, intercept, loss
