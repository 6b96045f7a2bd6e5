"""Tests of the compiled scorer (scoring.compiled): the lookup tables are the trained model.

The reference everywhere is the trained scikit-learn pipeline itself (its ``decision_function``
and ``predict_proba``), never the tables' own output.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


def test_json_round_trip_is_exact(parts):
    scorer = parts["scorer"]
    text = json.dumps(scorer.to_dict())
    loaded = CompiledScorer.from_dict(json.loads(text))
    X = np.vstack([parts["X_holdout"], _random_inputs(scorer, 2000, seed=3)])
    np.testing.assert_array_equal(loaded.logit(X), scorer.logit(X))  # bit for bit
    assert loaded.to_dict() == scorer.to_dict()
    assert json.loads(text)["format"] == "readiness.compiled-scorer"


def test_loading_refuses_what_is_not_a_scorer_or_is_too_new(parts):
    document = parts["scorer"].to_dict()
    with pytest.raises(ModelError, match="not a compiled scorer"):
        CompiledScorer.from_dict({**document, "format": "something-else"})
    with pytest.raises(ModelError, match="newer than this release"):
        CompiledScorer.from_dict({**document, "format_version": 99})
    with pytest.raises(ModelError, match="takes 18 features"):
        parts["scorer"].logit(np.zeros((2, 5)))


# --- loading refuses a damaged or forged scorer, signed or not -----------------------------


def _at(document: dict, path: tuple) -> tuple[Any, Any]:
    """The container of the item at ``path`` (keys and indices), and the item's key."""
    *parents, last = path
    for key in parents:
        document = document[key]
    return document, last


def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    """A mutation: set the item at ``path`` of the document to ``value``."""

    def mutate(document: dict) -> None:
        container, key = _at(document, path)
        container[key] = value

    return mutate


def _delete(path: tuple) -> Callable[[dict], None]:
    def mutate(document: dict) -> None:
        container, key = _at(document, path)
        del container[key]

    return mutate


def _swap_edges(document: dict) -> None:
    edges = document["tables"][0]["edges"]
    edges[0], edges[1] = edges[1], edges[0]


def _repeat_edge(document: dict) -> None:
    edges = document["tables"][0]["edges"]
    edges[1] = edges[0]


def _drop_value(document: dict) -> None:
    document["tables"][0]["values"].pop()


def _drop_pair_row(document: dict) -> None:
    document["pairs"][0]["values"].pop()


def _ragged_pair_row(document: dict) -> None:
    document["pairs"][0]["values"][1].pop()


def _second_pair(document: dict) -> None:
    document["pairs"].append(copy.deepcopy(document["pairs"][0]))


# (id, mutation, what the one-line message must name); table 0 is 'utilization' (numeric, with
# edges), table 16 is 'sector' (categorical), pair 0 is iso9001 (10) x sector (16).
MALFORMED = [
    ("format missing", _delete(("format",)), "format"),
    ("format_version missing", _delete(("format_version",)), "format_version"),
    ("format_version text", _set(("format_version",), "abc"), "format_version"),
    ("format_version true", _set(("format_version",), True), "format_version"),
    ("format_version float", _set(("format_version",), 1.0), "format_version"),
    ("format_version zero", _set(("format_version",), 0), "format_version"),
    ("features missing", _delete(("features",)), "features"),
    ("features text", _set(("features",), "utilization"), "features"),
    ("feature not text", _set(("features", 0), 7), "features"),
    ("feature repeated", _set(("features", 1), "utilization"), "features"),
    ("intercept missing", _delete(("intercept",)), "intercept"),
    ("intercept text", _set(("intercept",), "0.5"), "intercept"),
    ("intercept true", _set(("intercept",), True), "intercept"),
    ("intercept NaN", _set(("intercept",), float("nan")), "intercept"),
    ("intercept inf", _set(("intercept",), float("inf")), "intercept"),
    ("tables missing", _delete(("tables",)), "tables"),
    ("tables not a list", _set(("tables",), {}), "tables"),
    ("one table too few", lambda d: d["tables"].pop(), "tables"),
    ("table not an object", _set(("tables", 3), [1, 2]), "table 3"),
    ("table name differs", _set(("tables", 0, "name"), "capacity"), "table 0"),
    ("unknown kind", _set(("tables", 0, "kind"), "ordinal"), "kind"),
    ("edges missing", _delete(("tables", 0, "edges")), "edges"),
    ("edges text", _set(("tables", 0, "edges"), "0.1,0.2"), "edges"),
    ("edge NaN", _set(("tables", 0, "edges", 3), float("nan")), "edges"),
    ("edge inf", _set(("tables", 0, "edges", 3), float("inf")), "edges"),
    ("edge text", _set(("tables", 0, "edges", 3), "0.5"), "edges"),
    ("edge true", _set(("tables", 0, "edges", 3), True), "edges"),
    ("edges out of order", _swap_edges, "increasing"),
    ("edges repeated", _repeat_edge, "increasing"),
    ("values missing", _delete(("tables", 0, "values")), "values"),
    ("value NaN", _set(("tables", 0, "values", 2), float("nan")), "values"),
    ("value -inf", _set(("tables", 0, "values", 2), float("-inf")), "values"),
    ("value nested", _set(("tables", 0, "values", 2), [0.1]), "values"),
    ("value huge integer", _set(("tables", 0, "values", 2), 10**400), "values"),
    ("values one short", _drop_value, "values"),
    ("missing NaN", _set(("tables", 0, "missing"), float("nan")), "missing"),
    ("missing null", _set(("tables", 0, "missing"), None), "missing"),
    ("categorical with edges", _set(("tables", 16, "edges"), [0.5]), "edges"),
    ("categorical without values", _set(("tables", 16, "values"), []), "values"),
    ("pairs missing", _delete(("pairs",)), "pairs"),
    ("pair first 99", _set(("pairs", 0, "first"), 99), "pair 0"),
    ("pair second -1", _set(("pairs", 0, "second"), -1), "pair 0"),
    ("pair first text", _set(("pairs", 0, "first"), "10"), "pair 0"),
    ("pair first true", _set(("pairs", 0, "first"), True), "pair 0"),
    ("pair of one feature", _set(("pairs", 0, "second"), 10), "pair 0"),
    ("feature in two pairs", _second_pair, "pair 1"),
    ("pair values one row short", _drop_pair_row, "pair 0"),
    ("pair values ragged", _ragged_pair_row, "pair 0"),
    ("pair value NaN", _set(("pairs", 0, "values", 1, 2), float("nan")), "pair 0"),
    ("pair values text", _set(("pairs", 0, "values"), "[[0]]"), "pair 0"),
]


@pytest.mark.parametrize(
    ("mutate", "named"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_scorer_is_refused_with_one_line(parts, mutate, named):
    document = parts["scorer"].to_dict()
    assert document["tables"][0]["name"] == "utilization"
    assert len(document["tables"][0]["edges"]) > 3
    assert document["tables"][16]["kind"] == "categorical"
    assert (document["pairs"][0]["first"], document["pairs"][0]["second"]) == (10, 16)
    mutate(document)
    with pytest.raises(ModelError) as caught:
        CompiledScorer.from_dict(document)
    message = str(caught.value)
    assert "\n" not in message and named in message, message


def test_a_document_that_is_not_an_object_is_refused():
    for document in ([], "scorer", None, 3):
        with pytest.raises(ModelError, match="not a compiled scorer"):
            CompiledScorer.from_dict(document)


BAD_NUMBERS = st.sampled_from([float("nan"), float("inf"), float("-inf"), "1", None, True, [1.0]])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), bad=BAD_NUMBERS)
def test_any_bad_number_in_any_table_is_refused(parts, data, bad):
    document = parts["scorer"].to_dict()
    cells = [
        (f"{kind} {t}", key, i)
        for kind, items in (("table", document["tables"]), ("pair", document["pairs"]))
        for t, item in enumerate(items)
        for key in ("edges", "values")
        for i in range(len(item.get(key, [])))
    ]
    where, key, i = data.draw(st.sampled_from(cells))
    kind, t = where.split()
    numbers = (document["tables"] if kind == "table" else document["pairs"])[int(t)][key]
    if kind == "pair":  # a matrix: one of its rows
        numbers = numbers[i]
        i = data.draw(st.integers(0, len(numbers) - 1))
    numbers[i] = bad
    with pytest.raises(ModelError, match=where):
        CompiledScorer.from_dict(document)


def test_validation_leaves_the_document_alone_and_accepts_the_real_scorer(parts):
    document = parts["scorer"].to_dict()
    before = json.dumps(document)
    loaded = CompiledScorer.from_dict(document)
    assert json.dumps(document) == before
    assert loaded.to_dict() == parts["scorer"].to_dict()


# --- compile_model refuses a model that is not additive as declared -------------------------


def _compile(model, parts, pairs=None):
    result = parts["result"]
    features = result.feature_config.features
    position = {name: j for j, name in enumerate(features)}
    categorical = {position[n]: k for n, k in result.feature_config.categorical.items()}
    if pairs is None:
        pairs = [tuple(position[f] for f in p) for p in result.feature_config.pairs]
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
