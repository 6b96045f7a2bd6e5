"""The glass-box classifier: a cross-fitted, calibrated additive boosting model.

Each tree of scikit-learn's ``HistGradientBoostingClassifier`` may split on one feature only,
or on the two features of a declared pair (``interaction_cst``), so the model's logit is a sum
of one-feature shape functions and a few two-feature ones: it can be explained exactly and
compiled to lookup tables (:mod:`scoring.compiled`). Monotone constraints encode what the domain
is sure of. Five models fitted on the folds of a stratified split are averaged (bagging lowers
the variance of the learned shapes), each early-stopped on its held-out fold or, with
``validation_fraction``, on an inner split of its own rows (then the out-of-fold log loss is an
honest estimate that other learners can be compared with); a logistic (Platt) calibrator fitted
on the out-of-fold logits keeps the calibrated logit additive.
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

from scoring.compiled import sigmoid
from scoring.features import reference_point

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
    validation_fraction : float or None
        None: each bagged model early-stops on its held-out fold (every row trains three of
        the models). A share: on that share of its own training rows instead, so that its
        held-out fold stays unseen and the out-of-fold log loss is an honest estimate, fit to
        compare with other learners'.
    reweight : bool
        Refit one weight per feature group on the out-of-fold contributions (a logistic
        regression) and fold it into the trees' leaf values. Greedy boosting with early stopping
        under-fits weak real effects and over-fits noise features; the weights pull the first up
        and the second towards flat. The model stays additive over the same groups.
    n_threads : int
        OpenMP threads while fitting (2-core machines slow down badly when oversubscribed).
    random_state : int

    Attributes
    ----------
    estimators_ : list of HistGradientBoostingClassifier
        Fitted on the columns in ``feature_order_`` (categorical first).
    feature_order_ : ndarray of int
        The declared feature behind each column the trees see.
    calibration_ : tuple of float
        ``(slope, intercept)`` mapping the averaged raw logit to the calibrated logit.
    n_iter_ : ndarray of int
        Boosting rounds of each bagged model (after early stopping).
    oof_logit_ : ndarray
        Out-of-fold raw logits of the training rows.
    oof_decision_ : ndarray
        Out-of-fold calibrated logits of the training rows (what a blend combines).
    oof_probability_ : ndarray
        Out-of-fold calibrated probabilities of the training rows.
    group_weights_ : dict
        With ``reweight``: the weight of each feature group (declared indices).
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
        validation_fraction: float | None = None,
        reweight: bool = True,
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
        self.validation_fraction = validation_fraction
        self.reweight = reweight
        self.n_threads = n_threads
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> GlassBoxClassifier:
        """Fit one model per fold, then the calibrator on the out-of-fold logits."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {target}."
            )
        self.classes_, y = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has 1 class ({self.classes_[0]!r}); a model needs both outcomes")
        counts = np.bincount(y)
        if counts.min() < self.n_folds:
            raise ValueError(
                f"each class needs at least n_folds={self.n_folds} rows, "
                f"the smaller has {counts.min()}"
            )
        n_features = X.shape[1]
        # HistGradientBoosting moves categorical columns first internally and remaps
        # monotonic_cst but not interaction_cst (scikit-learn 1.9): feed it categorical-first
        # columns so that both constraints mean the features we declared.
        categorical = sorted(int(j) for j in self.categorical)
        self.feature_order_ = np.array(
            categorical + [j for j in range(n_features) if j not in categorical], dtype=int
        )
        X = X[:, self.feature_order_]
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
                    interaction_cst=self._internal_groups(n_features),
                    early_stopping=True,
                    n_iter_no_change=self.n_iter_no_change,
                    validation_fraction=self.validation_fraction or 0.1,
                    scoring="loss",
                    random_state=self.random_state + k,
                )
                if self.validation_fraction is None:
                    model.fit(X[train], y[train], X_val=X[held], y_val=y[held])
                else:
                    model.fit(X[train], y[train])
                self.estimators_.append(model)
                self.oof_logit_[held] = model.decision_function(X[held])
        self.n_iter_ = np.array([m.n_iter_ for m in self.estimators_])
        if self.reweight:
            self.group_weights_ = self._fit_group_weights(X, y, folds)
            for k, (_, held) in enumerate(folds.split(X, y)):
                self.oof_logit_[held] = self.estimators_[k].decision_function(X[held])
        calibrator = LogisticRegression(C=1e6, max_iter=1000)
        calibrator.fit(self.oof_logit_.reshape(-1, 1), y)
        self.calibration_ = (float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0]))
        self.oof_decision_ = self._calibrate(self.oof_logit_)
        self.oof_probability_ = sigmoid(self.oof_decision_)
        self.cv_log_loss_ = float(log_loss(y, self.oof_probability_, labels=[0, 1]))
        return self

    def raw_logit(self, X: np.ndarray) -> np.ndarray:
        """The average of the bagged models' logits, before calibration."""
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        X = X[:, self.feature_order_]
        with threadpool_limits(self.n_threads):
            return np.mean([m.decision_function(X) for m in self.estimators_], axis=0)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The calibrated logit: additive in the features and declared pairs."""
        return self._calibrate(self.raw_logit(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        probability = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - probability, probability])

    def predict(self, X: np.ndarray) -> np.ndarray:
        positive = self.decision_function(X) > 0  # checks fitted before classes_ is read
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False  # fit refuses more than two classes
        return tags

    def _fit_group_weights(self, X: np.ndarray, y: np.ndarray, folds: StratifiedKFold) -> dict:
        """Weights of each feature group from out-of-fold contributions; scale the trees."""
        internal_groups = self._internal_groups(X.shape[1])
        paired = {j for group in internal_groups if len(group) > 1 for j in group}
        groups = [g for g in internal_groups if len(g) > 1 or g[0] not in paired]
        reference = reference_point(X, [self._internal()[int(j)] for j in self.categorical])
        contributions = np.zeros((len(y), len(groups)))
        for k, (_, held) in enumerate(folds.split(X, y)):
            model, rows = self.estimators_[k], X[held]
            full = model.decision_function(rows)
            for g, group in enumerate(groups):
                replaced = rows.copy()
                replaced[:, group] = reference[group]
                contributions[held, g] = full - model.decision_function(replaced)
        weights = LogisticRegression(C=1.0, max_iter=2000).fit(contributions, y).coef_[0]
        owner = {}
        for g, group in enumerate(groups):
            for j in group:
                owner[j] = g
        for model in self.estimators_:
            for iteration in model._predictors:
                for predictor in iteration:
                    nodes = predictor.nodes
                    used = nodes["feature_idx"][nodes["is_leaf"] == 0]
                    if len(used):
                        nodes["value"] *= weights[owner[int(used[0])]]
        order = self.feature_order_
        return {
            tuple(int(order[j]) for j in group): float(w)
            for group, w in zip(groups, weights, strict=True)
        }

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_
        return slope * raw + intercept

    def _internal(self) -> dict[int, int]:
        """Declared feature index -> column index as fed to the trees."""
        return {int(j): i for i, j in enumerate(self.feature_order_)}

    def _categorical_mask(self, n_features: int) -> np.ndarray | None:
        if not len(self.categorical):
            return None
        mask = np.zeros(n_features, dtype=bool)
        mask[[self._internal()[int(j)] for j in self.categorical]] = True
        return mask

    def _monotonic_array(self, n_features: int) -> np.ndarray | None:
        if not self.monotonic:
            return None
        constraints = np.zeros(n_features, dtype=int)
        for index, sign in self.monotonic.items():
            constraints[self._internal()[int(index)]] = int(sign)
        return constraints

    def _internal_groups(self, n_features: int) -> list[list[int]]:
        internal = self._internal()
        return [[internal[j] for j in group] for group in self._interaction_groups(n_features)]

    def _interaction_groups(self, n_features: int) -> list[list[int]]:
        paired = [sorted(int(i) for i in pair) for pair in self.pairs]
        return [[j] for j in range(n_features)] + paired
