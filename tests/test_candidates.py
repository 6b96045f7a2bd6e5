"""Tests of the candidate learners (scoring.candidates): each compiles to exact lookup tables, the
spline is constant on its cells, the blend is the weighted calibrated sum it claims, and the
candidates follow the data size."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from scoring.candidates import (
    BlendedClassifier,
    SplineLogisticClassifier,
    Structure,
    _cells,
    candidate_specs,
    make_learner,
)
from scoring.compiled import compile_model, model_edges, sigmoid
from scoring.errors import ModelError

#: Columns 0-1 numeric, 2 binary, 3 categorical (4 categories); the truth pairs 2 with 3.
CATEGORICAL = {3: 4}
PAIRS = [(2, 3)]


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.normal(size=n), rng.exponential(size=n), rng.integers(0, 2, n), rng.integers(0, 4, n)]
    ).astype(float)
    numbers = X[:, :3]
    numbers[rng.random((n, 3)) < 0.08] = np.nan
    logit = -0.5 + np.nan_to_num(X[:, 0]) - 0.8 * np.sqrt(np.nan_to_num(X[:, 1]))
    logit += np.nan_to_num(X[:, 2]) * np.array([0.2, 0.9, -0.4, 0.0])[X[:, 3].astype(int)]
    return X, (rng.random(n) < sigmoid(logit)).astype(int)


def _awkward(X: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Rows of out-of-range numbers, NaN, and category codes the tables read as missing."""
    rng = np.random.default_rng(seed)
    rows = X[rng.choice(len(X), n)].copy()
    rows[: n // 4, 0] = rng.uniform(-50, 50, n // 4)
    rows[n // 4 : n // 2, 1] = np.nan
    rows[n // 2 :, 3] = rng.choice([-1, 2.5, 4, 17, np.nan], n - n // 2)
    return rows


@pytest.fixture(scope="module")
def data():
    return _data(1500, seed=0)


@pytest.fixture(scope="module")
def spline(data):
    X, y = data
    return SplineLogisticClassifier(categorical=CATEGORICAL, n_threads=1).fit(X, y)


@pytest.fixture(scope="module")
def boosted(data):
    X, y = data
    spec = {
        "max_leaf_nodes": 3,
        "min_samples_leaf": 30,
        "max_iter": 150,
        "validation_fraction": 0.15,
    }
    structure = Structure(CATEGORICAL, PAIRS, {})
    return make_learner(spec, structure, seed=0, n_threads=1).fit(X, y)


def test_cells_are_one_per_distinct_value_while_few():
    edges, points = _cells(np.array([1.0, 1.0, 2.0, 5.0, np.nan]), max_cells=10)
    np.testing.assert_array_equal(edges, [1.5, 3.5])  # midpoints between the values
    np.testing.assert_array_equal(points, [1.0, 2.0, 5.0])


def test_many_distinct_values_get_at_most_max_cells_each_at_its_median():
    column = np.arange(1000, dtype=float)
    edges, points = _cells(column, max_cells=10)
    assert len(edges) == 9 and len(points) == 10
    cell = np.searchsorted(edges, column, side="left")
    for c in range(10):
        assert points[c] == np.median(column[cell == c])


def test_the_spline_is_constant_on_a_cell_and_moves_between_cells(spline, data):
    X, _ = data
    edges = spline.cell_edges_[0]
    row = np.nanmedian(X, axis=0)
    inside = np.repeat(row[None, :], 2, axis=0)
    inside[:, 0] = [edges[10] - 1e-9, np.nextafter(edges[9], np.inf)]  # both in cell 10
    first, second = spline.decision_function(inside)
    assert first == second
    across = inside.copy()
    across[:, 0] = [edges[0] - 1.0, edges[-1] + 1.0]
    low, high = spline.decision_function(across)
    assert high > low + 0.5  # the truth rises by about 1 per unit of feature 0


def test_the_spline_compiles_to_exact_tables_even_off_its_training_values(spline, data):
    X, _ = data
    scorer = compile_model(spline, X, ["a", "b", "c", "d"], categorical=CATEGORICAL, pairs=PAIRS)
    rows = np.vstack([X, _awkward(X, 800, seed=1)])
    np.testing.assert_allclose(scorer.logit(rows), spline.decision_function(rows), atol=1e-9)
    assert [len(t.edges) for t in scorer.tables[:3]] == [len(e) for e in spline.cell_edges_[:3]]


def test_the_splines_oof_log_loss_is_its_out_of_fold_logits(spline, data):
    _, y = data
    assert spline.cv_log_loss_ == pytest.approx(log_loss(y, sigmoid(spline.oof_decision_)))
    # Out of fold is worse than in sample, but not by much on 1,500 rows.
    in_sample = log_loss(y, spline.predict_proba(data[0])[:, 1])
    assert in_sample < spline.cv_log_loss_ < in_sample + 0.05


def test_the_blend_is_the_calibrated_weighted_sum_and_its_weight_is_the_best(spline, boosted, data):
    X, y = data
    blend = BlendedClassifier(estimators=[boosted, spline]).combine([boosted, spline], y)
    slope, intercept = blend.calibration_
    w = blend.weight_
    expected = slope * (w * boosted.decision_function(X) + (1 - w) * spline.decision_function(X))
    np.testing.assert_allclose(blend.decision_function(X), expected + intercept, atol=1e-12)
    # By hand: the out-of-fold log loss of every weight after its own logistic calibration.
    losses = {}
    for weight in np.round(np.linspace(0, 1, 11), 2):
        z = (weight * boosted.oof_decision_ + (1 - weight) * spline.oof_decision_)[:, None]
        calibrated = LogisticRegression(C=1e6, max_iter=1000).fit(z, y).predict_proba(z)[:, 1]
        losses[weight] = log_loss(y, calibrated)
    assert losses[w] == pytest.approx(min(losses.values()), abs=1e-9)
    assert blend.cv_log_loss_ == pytest.approx(losses[w], abs=1e-9)
    assert blend.cv_log_loss_ <= min(boosted.cv_log_loss_, spline.cv_log_loss_) + 1e-9


def test_the_blend_compiles_on_the_union_of_its_members_cells(spline, boosted, data):
    X, y = data
    blend = BlendedClassifier(estimators=[boosted, spline]).combine([boosted, spline], y)
    names = ["a", "b", "c", "d"]
    scorer = compile_model(blend, X, names, categorical=CATEGORICAL, pairs=PAIRS)
    rows = np.vstack([X, _awkward(X, 800, seed=2)])
    np.testing.assert_allclose(scorer.logit(rows), blend.decision_function(rows), atol=1e-9)
    members = [model_edges(m, 4, PAIRS) for m in (boosted, spline)]
    for j in range(3):
        assert set(scorer.tables[j].edges) == members[0][j] | members[1][j]
    assert np.ptp(scorer.pairs[0].values) > 0  # the boosted member's pair survives the blend


def test_a_blend_refit_with_its_weight_keeps_it(spline, boosted, data):
    X, y = data
    again = BlendedClassifier(estimators=[boosted, spline], weight=0.3).fit(X, y)
    assert again.weight_ == 0.3 and len(again.members_) == 2
    assert again.members_[0] is not boosted  # fitted clones, not the given models


class _Interacting(SplineLogisticClassifier):
    """Claims fixed cells, but its logit multiplies two features."""

    def decision_function(self, X):
        X = np.asarray(X, float)
        return super().decision_function(X) + 0.3 * np.nan_to_num(X[:, 0] * X[:, 1])


def test_a_model_on_cells_that_is_not_additive_is_refused(data):
    X, y = data
    model = _Interacting(categorical=CATEGORICAL, n_threads=1).fit(X, y)
    with pytest.raises(ModelError, match="not additive"):
        compile_model(model, X, ["a", "b", "c", "d"], categorical=CATEGORICAL, pairs=PAIRS)


def test_candidates_follow_the_data_size():
    small = candidate_specs(1000)
    assert [s["learner"] for s in small] == ["boosting", "boosting", "spline", "blend"]
    assert small[0]["min_samples_leaf"] == 20 and small[0]["max_leaf_nodes"] == 3  # 1000 / 50
    assert all(s.get("validation_fraction") == 0.15 for s in small if s["learner"] == "boosting")
    large = candidate_specs(100_000)
    assert [s["learner"] for s in large] == ["boosting", "spline", "blend"]
    assert large[0]["max_leaf_nodes"] == 4 and large[0]["min_samples_leaf"] == 200
    # A blend needs both of its members.
    assert [s["learner"] for s in candidate_specs(5000, ["spline", "blend"])] == ["spline"]
    with pytest.raises(ValueError, match=r"unknown learner\(s\) \['forest'\]"):
        candidate_specs(5000, ["forest"])
