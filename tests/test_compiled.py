"""Tests of the compiled scorer (scoring.compiled): the lookup tables are the trained model.

The reference everywhere is the trained scikit-learn pipeline itself (its ``decision_function``
and ``predict_proba``), never the tables' own output.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from scoring.compiled import CompiledScorer, compile_model
from scoring.errors import ModelError

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def parts(trained, sample_frames):
    """The trained pipeline's pieces, and the training and holdout rows as matrices."""
    _, _, result = trained
    frame, _ = sample_frames
    held = frame["coop_id"].isin(result.holdout["coop_id"])
    builder, model = result.pipeline[0], result.pipeline[-1]
    return {
        "result": result,
        "builder": builder,
        "model": model,
        "scorer": result.scorer,
        "holdout_frame": frame[held],
        "X_train": builder.transform(frame[~held]),
        "X_holdout": builder.transform(frame[held]),
    }


def _random_inputs(scorer: CompiledScorer, n: int, seed: int) -> np.ndarray:
    """Rows mixing split thresholds (and their neighbours), in-range and far out-of-range values,
    negative, fractional and unknown category codes, and NaN in every column."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(scorer.tables)))
    for j, table in enumerate(scorer.tables):
        if table.kind == "categorical":
            k = len(table.values)
            pool = np.r_[np.arange(k), k, k + 3, 300, 1e9, -1, -0.5, 2.5, k - 0.5, np.nan]
        else:
            edges = table.edges
            low, high = (edges.min(), edges.max()) if len(edges) else (0.0, 1.0)
            span = high - low + 1.0
            pool = np.r_[
                edges,
                np.nextafter(edges, np.inf),
                np.nextafter(edges, -np.inf),
                rng.uniform(low - 3 * span, high + 3 * span, 100),
                -1e12,
                1e12,
                [np.nan] * 10,
            ]
        X[:, j] = rng.choice(pool, n)
    X[0] = np.nan  # one row missing everything
    return X


def test_compiled_probabilities_equal_the_pipeline_on_the_holdout(parts):
    expected = parts["result"].pipeline.predict_proba(parts["holdout_frame"])[:, 1]
    got = parts["scorer"].probability(parts["X_holdout"])
    assert len(got) == 1000
    assert np.isnan(parts["X_holdout"]).any(axis=0).sum() >= 5  # missing values are exercised
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    # What training recorded as the holdout probability is the pipeline's too.
    np.testing.assert_allclose(parts["result"].holdout["probability"], expected, atol=1e-12)
    assert parts["result"].compiled_max_abs_diff <= TOLERANCE


def test_compiled_probabilities_equal_the_model_on_random_and_out_of_range_inputs(parts):
    X = _random_inputs(parts["scorer"], 5000, seed=1)
    assert np.isnan(X).any(axis=0).all()  # NaN in every column
    expected = parts["model"].predict_proba(X)[:, 1]
    np.testing.assert_allclose(parts["scorer"].probability(X), expected, rtol=0, atol=TOLERANCE)


def test_contributions_plus_intercept_equal_the_model_logit_for_every_row(parts):
    scorer, model = parts["scorer"], parts["model"]
    X = np.vstack([parts["X_holdout"], _random_inputs(scorer, 2000, seed=2)])
    features, pairs = scorer.contributions(X)
    assert features.shape == (len(X), len(scorer.features))
    assert pairs.shape == (len(X), 1)  # the contract declares one pair: iso9001 x sector
    total = scorer.intercept + features.sum(axis=1) + pairs.sum(axis=1)
    np.testing.assert_allclose(total, model.decision_function(X), rtol=0, atol=TOLERANCE)
    # The pair term is not identically zero: the pair carries an interaction.
    assert np.ptp(pairs[:, 0]) > 0


def test_contributions_are_centred_on_the_training_rows(parts):
    """Each feature's contribution averages 0 over the training rows (the intercept holds the
    mean logit), so a contribution reads as 'above or below the typical cooperative'."""
    scorer, X_train = parts["scorer"], parts["X_train"]
    features, _ = scorer.contributions(X_train)
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-9)
    logit = parts["model"].decision_function(X_train)
    _, pairs = scorer.contributions(X_train)
    np.testing.assert_allclose(scorer.intercept + pairs.mean(axis=0).sum(), logit.mean(), atol=1e-9)


def test_each_table_has_a_missing_slot_holding_the_models_value_for_missing(parts):
    scorer, model, X_train = parts["scorer"], parts["model"], parts["X_train"]
    paired = {j for pair in scorer.pairs for j in (pair.first, pair.second)}
    row = np.nanmedian(X_train, axis=0)
    for j, table in enumerate(scorer.tables):
        assert table.slots == len(table.values) + 1
        assert table.index(np.array([np.nan]))[0] == len(table.values)
        assert "missing" in table.to_dict()
        if j in paired:
            continue
        # Independent of the tables: what the model does when only this feature goes missing.
        present, absent = row.copy(), row.copy()
        absent[j] = np.nan
        change = model.decision_function(np.vstack([absent, present]))
        cells = table.cells()
        expected = cells[-1] - cells[table.index(present[j : j + 1])[0]]
        assert change[0] - change[1] == pytest.approx(expected, abs=TOLERANCE), table.name


def test_json_round_trip_is_exact(parts, tmp_path):
    scorer = parts["scorer"]
    path = tmp_path / "scorer.json"
    scorer.save(path)
    loaded = CompiledScorer.load(path)
    X = np.vstack([parts["X_holdout"], _random_inputs(scorer, 2000, seed=3)])
    np.testing.assert_array_equal(loaded.logit(X), scorer.logit(X))  # bit for bit
    assert loaded.to_dict() == scorer.to_dict()
    assert json.loads(path.read_text())["format"] == "readiness.compiled-scorer"


def test_loading_refuses_what_is_not_a_scorer_or_is_too_new(parts):
    document = parts["scorer"].to_dict()
    with pytest.raises(ModelError, match="not a compiled scorer"):
        CompiledScorer.from_dict({**document, "format": "something-else"})
    with pytest.raises(ModelError, match="newer than this release"):
        CompiledScorer.from_dict({**document, "format_version": 99})
    with pytest.raises(ModelError, match="takes 18 features"):
        parts["scorer"].logit(np.zeros((2, 5)))


# --- compile_model refuses a model that is not additive as declared -------------------------


def _compile(model, parts, pairs=None):
    result = parts["result"]
    features = result.feature_config["features"]
    position = {name: j for j, name in enumerate(features)}
    categorical = {position[n]: k for n, k in result.feature_config["categorical"].items()}
    if pairs is None:
        pairs = [tuple(position[f] for f in p) for p in result.feature_config["pairs"]]
    return compile_model(model, parts["X_train"], features, categorical=categorical, pairs=pairs)


def test_compile_model_reproduces_the_trained_scorer(parts):
    again = _compile(parts["model"], parts)
    X = parts["X_holdout"]
    np.testing.assert_allclose(again.logit(X), parts["scorer"].logit(X), atol=1e-12)


class _PlainBoosting:
    """A plain HistGradientBoostingClassifier dressed up as a glass-box model."""

    def __init__(self, X, y):
        self.model = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=8).fit(X, y)
        self.estimators_ = [self.model]

    def decision_function(self, X):
        return self.model.decision_function(X)


def test_a_plain_boosting_model_is_refused(parts, sample_frames):
    frame, _ = sample_frames
    held = frame["coop_id"].isin(parts["result"].holdout["coop_id"])
    y = frame.loc[~held, "exported_next_year"].to_numpy()
    with pytest.raises(ModelError, match="outside the declared groups"):
        _compile(_PlainBoosting(parts["X_train"], y), parts)


def test_a_pair_left_undeclared_is_refused(parts):
    # The model's iso9001 x sector trees split on two features: without the pair, not additive.
    with pytest.raises(ModelError, match="outside the declared groups"):
        _compile(parts["model"], parts, pairs=[])


class _HiddenInteraction:
    """Additive-looking trees, but a decision function with an interaction the trees lack."""

    def __init__(self, model):
        self.model = model
        self.estimators_ = model.estimators_
        self.feature_order_ = model.feature_order_

    def decision_function(self, X):
        X = np.asarray(X, dtype=float)
        return self.model.decision_function(X) + 0.05 * np.nan_to_num(X[:, 0] * X[:, 4])


def test_a_non_additive_decision_function_is_refused(parts):
    with pytest.raises(ModelError, match="not additive"):
        _compile(_HiddenInteraction(parts["model"]), parts)


def test_a_feature_in_two_pairs_is_refused(parts):
    with pytest.raises(ModelError, match="one declared pair at most"):
        _compile(parts["model"], parts, pairs=[(10, 16), (10, 17)])
