"""Tests of the glass-box classifier (scoring.glassbox) on synthetic data of known truth.

The truth is a logistic model of three features: a linear one, a rising (monotone) one and a
categorical one, so the learned shapes, the additivity of the logit and the held-out AUC can
all be checked against what generated the labels.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from scoring.compiled import compile_model
from scoring.glassbox import GlassBoxClassifier

#: True logit: INTERCEPT + SLOPE * x0 + RISE * tanh(x1) + CATEGORY_EFFECT[x2].
INTERCEPT, SLOPE, RISE = -0.4, 1.0, 1.5
CATEGORY_EFFECT = np.array([-0.6, 0.0, 0.8])
#: A typical row: both numeric features at 0, the middle category.
REFERENCE = np.array([0.0, 0.0, 1.0])
#: Small, quick settings (a fit takes well under a second).
QUICK = dict(n_folds=3, learning_rate=0.1, max_iter=200, n_iter_no_change=10, n_threads=1)


def _truth(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, p)``: features, labels drawn from the true model, true probabilities."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.uniform(-2, 2, n), rng.integers(0, 3, n)]).astype(
        np.float64
    )
    logit = (
        INTERCEPT + SLOPE * X[:, 0] + RISE * np.tanh(X[:, 1]) + CATEGORY_EFFECT[X[:, 2].astype(int)]
    )
    p = 1.0 / (1.0 + np.exp(-logit))
    return X, (rng.random(n) < p).astype(int), p


def _model(**overrides) -> GlassBoxClassifier:
    settings = dict(categorical=[2], monotonic={1: 1}, min_samples_leaf=20, **QUICK)
    return GlassBoxClassifier(**(settings | overrides))


@pytest.fixture(scope="module")
def train():
    return _truth(4000, seed=0)


@pytest.fixture(scope="module")
def held_out():
    return _truth(5000, seed=1)


@pytest.fixture(scope="module")
def fitted(train):
    X, y, _ = train
    return _model().fit(X, y)


def _with(row: np.ndarray, column: int, values: np.ndarray) -> np.ndarray:
    """Copies of ``row``, one per value, with ``column`` set to that value."""
    grid = np.repeat(row[None, :], len(values), axis=0)
    grid[:, column] = values
    return grid


def test_probabilities_lie_strictly_between_0_and_1(fitted, held_out):
    X, _, _ = held_out
    extreme = np.array([[1e6, 1e6, 2], [-1e6, -1e6, 0], [np.nan, np.nan, np.nan]])
    probability = fitted.predict_proba(np.vstack([X, extreme]))
    assert probability.shape == (len(X) + 3, 2)
    assert np.all((probability > 0) & (probability < 1))
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, atol=1e-12)
    # predict is the more likely class.
    np.testing.assert_array_equal(fitted.predict(X), (probability[: len(X), 1] > 0.5).astype(int))


def test_logit_is_the_sum_of_one_feature_contributions(fitted, train, held_out):
    X, _, _ = held_out
    rows = X[:300]
    base = fitted.decision_function(REFERENCE[None, :])[0]
    # Contribution of feature j: the change of the logit when only x_j moves from the
    # reference to the row's value. Additive means these add up to the whole change.
    by_hand = np.column_stack(
        [
            fitted.decision_function(_with(REFERENCE, j, rows[:, j])) - base
            for j in range(X.shape[1])
        ]
    )
    np.testing.assert_allclose(
        base + by_hand.sum(axis=1), fitted.decision_function(rows), atol=1e-9
    )
    # The same decomposition as the compiled tables expose it: intercept + contributions.
    scorer = compile_model(fitted, train[0], ["x0", "x1", "x2"], categorical={2: 3}, pairs=[])
    features, pairs = scorer.contributions(rows)
    assert pairs.shape == (len(rows), 0)
    np.testing.assert_allclose(
        scorer.intercept + features.sum(axis=1), fitted.decision_function(rows), atol=1e-9
    )
    at_reference, _ = scorer.contributions(REFERENCE[None, :])
    np.testing.assert_allclose(features - at_reference, by_hand, atol=1e-9)


def test_learned_shapes_follow_the_true_model(fitted):
    # Linear feature: from -1 to 1 the true logit rises by 2 * SLOPE.
    ends = fitted.decision_function(_with(REFERENCE, 0, np.array([-1.0, 1.0])))
    assert ends[1] - ends[0] == pytest.approx(2 * SLOPE, abs=0.4)
    # Categorical feature: the learned gaps between categories are the true ones.
    by_category = fitted.decision_function(_with(REFERENCE, 2, np.array([0.0, 1.0, 2.0])))
    np.testing.assert_allclose(np.diff(by_category), np.diff(CATEGORY_EFFECT), atol=0.3)


@pytest.mark.parametrize("sign", [1, -1])
def test_monotone_constraint_holds_for_every_other_feature_value(fitted, train, held_out, sign):
    """With +1 the logit never falls as x1 rises; with -1 (against the truth) it never rises."""
    X, y, _ = train
    model = fitted if sign == 1 else _model(monotonic={1: -1}).fit(X, y)
    grid = np.linspace(-3, 3, 121)
    for row in held_out[0][:20]:
        logit = model.decision_function(_with(row, 1, grid))
        assert np.all(sign * np.diff(logit) >= -1e-12), row
    span = np.ptp(model.decision_function(_with(REFERENCE, 1, grid)))
    if sign == 1:
        assert span > 1.5  # it learned the rise (true: 2 * RISE * tanh(2) = 2.9 on the data)
    else:
        assert span < 0.5  # the constraint fought the data: nearly flat


def test_same_seed_same_model_other_seed_other_model(fitted, train, held_out):
    X, y, _ = train
    Xt = held_out[0][:500]
    again = _model().fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(Xt), fitted.predict_proba(Xt))
    other = _model(random_state=1).fit(X, y)
    assert np.max(np.abs(other.decision_function(Xt) - fitted.decision_function(Xt))) > 1e-3


def test_held_out_auc_is_close_to_the_true_models(fitted, held_out):
    X, y, p_true = held_out
    learned = roc_auc_score(y, fitted.predict_proba(X)[:, 1])
    best = roc_auc_score(y, p_true)
    assert learned == pytest.approx(best, abs=0.03)
    # Calibrated: the mean predicted probability matches the observed rate.
    assert fitted.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=0.03)


@pytest.mark.parametrize("method", ["decision_function", "predict_proba", "predict", "raw_logit"])
def test_every_method_refuses_before_fit(method, held_out):
    with pytest.raises(NotFittedError):
        getattr(_model(), method)(held_out[0][:5])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.ones(200, dtype=int), "y has 1 class .*needs both outcomes"),
        (np.array(["exported"] * 200), "y has 1 class .*'exported'"),
        (np.arange(200) % 3, "Only binary classification"),
    ],
)
def test_fit_refuses_labels_that_are_not_two_classes(labels, message, train):
    with pytest.raises(ValueError, match=message):
        _model().fit(train[0][:200], labels)


def test_string_labels_come_back_as_given(train, held_out):
    X, y, _ = train
    names = np.array(["stays", "exports"])[y]
    model = _model(n_folds=2, max_iter=20).fit(X[:1000], names[:1000])
    assert sorted(model.classes_) == ["exports", "stays"]
    predicted = model.predict(held_out[0][:200])
    assert set(predicted) <= {"exports", "stays"}
    # predict_proba's second column is the probability of classes_[1].
    positive = model.predict_proba(held_out[0][:200])[:, 1] > 0.5
    np.testing.assert_array_equal(predicted == model.classes_[1], positive)


def test_with_a_validation_fraction_each_bagged_model_never_sees_its_held_out_fold(train):
    """Early stopping on an inner split: the out-of-fold logits are honest, so a bagged model is
    exactly a boosting model fitted on its training folds alone, blind to the held-out fold."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    X, y, _ = train
    X, y = X[:1500], y[:1500]
    model = _model(validation_fraction=0.2, reweight=False).fit(X, y)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X[:, model.feature_order_], y)
    for k, (rows, held) in enumerate(folds):
        alone = HistGradientBoostingClassifier(**model.estimators_[k].get_params())
        alone.fit(X[rows][:, model.feature_order_], y[rows])
        expected = alone.decision_function(X[held][:, model.feature_order_])
        np.testing.assert_allclose(model.oof_logit_[held], expected, atol=1e-12)
    # Early-stopped on the held-out fold instead (the default), the fold did steer each model.
    steered = _model(reweight=False).fit(X, y)
    assert not np.array_equal(steered.n_iter_, model.n_iter_)
    slope, intercept = model.calibration_
    np.testing.assert_allclose(model.oof_decision_, slope * model.oof_logit_ + intercept)
