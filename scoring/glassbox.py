"""The glass-box classifier: a cross-fitted, calibrated additive boosting model.

Each tree of scikit-learn's ``HistGradientBoostingClassifier`` may split on one feature only,
or on the two features of a declared pair (``interaction_cst``), so the model's logit is a sum
of one-feature shape functions and a few two-feature ones: it can be explained exactly and
compiled to lookup tables (:mod:`scoring.compiled`). Monotone constraints encode what the domain
is sure of. Five models fitted on the folds of a stratified split are averaged (bagging lowers
the variance of the learned shapes) and each is early-stopped on its held-out fold; a logistic
(Platt) calibrator fitted on the out-of-fold logits keeps the calibrated logit additive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

__all__ = ["GlassBoxClassifier"]


class GlassBoxClassifier(ClassifierMixin, BaseEstimator):
    """Additive boosted trees with declared pairs, bagged over folds, Platt-calibrated.

    Parameters
    ----------
    categorical : sequence of int
        Indices of categorical features (values are category codes 0..K-1, NaN missing).
    pairs : sequence of (int, int)
        Feature pairs whose interaction the model may learn; every other feature is additive.
    monotonic : mapping of int to {-1, 1} or None
        Features whose effect never decreases (1) or never increases (-1).
    learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization, max_iter :
        Passed to each ``HistGradientBoostingClassifier``.
    n_folds : int
        Folds of the stratified split: one bagged model per fold, early-stopped on its fold.
    n_iter_no_change : int
        Early-stopping patience (boosting rounds).
    n_threads : int
        OpenMP threads while fitting (2-core machines slow down badly when oversubscribed).
    random_state : int

    Attributes
    ----------
    estimators_ : list of HistGradientBoostingClassifier
    calibration_ : tuple of float
        ``(slope, intercept)`` mapping the averaged raw logit to the calibrated logit.
    oof_logit_ : ndarray
        Out-of-fold raw logits of the training rows.
    cv_log_loss_ : float
        Log loss of the calibrated out-of-fold probabilities (model selection).
    """

    def __init__(
        self,
        categorical: Sequence[int] = (),
        pairs: Sequence[tuple[int, int]] = (),
        monotonic: Mapping[int, int] | None = None,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 6,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        max_iter: int = 3000,
        n_folds: int = 5,
        n_iter_no_change: int = 40,
        n_threads: int = 2,
        random_state: int = 0,
    ) -> None:
        self.categorical = categorical
        self.pairs = pairs
        self.monotonic = monotonic
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_iter = max_iter
        self.n_folds = n_folds
        self.n_iter_no_change = n_iter_no_change
        self.n_threads = n_threads
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> GlassBoxClassifier:
        """Fit one model per fold, then the calibrator on the out-of-fold logits."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        if type_of_target(y) != "binary":
            raise ValueError(f"GlassBoxClassifier needs a binary target, got {type_of_target(y)}")
        self.classes_, y = np.unique(y, return_inverse=True)
        counts = np.bincount(y)
        if counts.min() < self.n_folds:
            raise ValueError(
                f"each class needs at least n_folds={self.n_folds} rows, "
                f"the smaller has {counts.min()}"
            )
        n_features = X.shape[1]
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state)
        self.estimators_ = []
        self.oof_logit_ = np.zeros(len(y))
        with threadpool_limits(self.n_threads):
            for k, (train, held) in enumerate(folds.split(X, y)):
                model = HistGradientBoostingClassifier(
                    learning_rate=self.learning_rate,
                    max_iter=self.max_iter,
                    max_leaf_nodes=self.max_leaf_nodes,
                    min_samples_leaf=self.min_samples_leaf,
                    l2_regularization=self.l2_regularization,
                    categorical_features=self._categorical_mask(n_features),
                    monotonic_cst=self._monotonic_array(n_features),
                    interaction_cst=self._interaction_groups(n_features),
                    early_stopping=True,
                    n_iter_no_change=self.n_iter_no_change,
                    scoring="loss",
                    random_state=self.random_state + k,
                )
                model.fit(X[train], y[train], X_val=X[held], y_val=y[held])
                self.estimators_.append(model)
                self.oof_logit_[held] = model.decision_function(X[held])
        calibrator = LogisticRegression(C=1e6, max_iter=1000)
        calibrator.fit(self.oof_logit_.reshape(-1, 1), y)
        self.calibration_ = (float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0]))
        oof_probability = _sigmoid(self._calibrate(self.oof_logit_))
        self.cv_log_loss_ = float(log_loss(y, oof_probability, labels=[0, 1]))
        return self

    def raw_logit(self, X: np.ndarray) -> np.ndarray:
        """The average of the bagged models' logits, before calibration."""
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        with threadpool_limits(self.n_threads):
            return np.mean([m.decision_function(X) for m in self.estimators_], axis=0)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The calibrated logit: additive in the features and declared pairs."""
        return self._calibrate(self.raw_logit(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        probability = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - probability, probability])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def interaction_groups(self, n_features: int) -> list[list[int]]:
        """The feature groups a tree may split on: each feature alone, and each declared pair."""
        return self._interaction_groups(n_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_
        return slope * raw + intercept

    def _categorical_mask(self, n_features: int) -> np.ndarray | None:
        if not len(self.categorical):
            return None
        mask = np.zeros(n_features, dtype=bool)
        mask[list(self.categorical)] = True
        return mask

    def _monotonic_array(self, n_features: int) -> np.ndarray | None:
        if not self.monotonic:
            return None
        constraints = np.zeros(n_features, dtype=int)
        for index, sign in self.monotonic.items():
            constraints[int(index)] = int(sign)
        return constraints

    def _interaction_groups(self, n_features: int) -> list[list[int]]:
        paired = [sorted(int(i) for i in pair) for pair in self.pairs]
        return [[j] for j in range(n_features)] + paired


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))
