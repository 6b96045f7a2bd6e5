"""Tests of the domain features (scoring.features) and the glass-box classifier (scoring.glassbox).

Both claim to be scikit-learn estimators, so both run the shared estimator checks; the derived
features are checked against values worked out by hand.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from scoring.contract import load_contract
from scoring.feature_builder import FeatureBuilder
from scoring.features import DERIVED_FEATURES
from scoring.glassbox import GlassBoxClassifier
from scoring.training import feature_builder

# Small settings: the checks are about the estimator contract, not about model quality.
GLASS_BOX = GlassBoxClassifier(
    n_folds=2, max_iter=20, n_iter_no_change=5, min_samples_leaf=5, n_threads=1
)


def _expected_failed_checks(estimator) -> dict[str, str]:
    """Checks that cannot apply, with the reason. None today: both estimators pass them all.

    (FeatureBuilder validates arrays with check_array; GlassBoxClassifier declares itself
    binary-only through its tags, so the checks feed it two classes.)
    """
    return {}


@parametrize_with_checks(
    [FeatureBuilder(), GLASS_BOX], expected_failed_checks=_expected_failed_checks
)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


# --- derived features by hand ---------------------------------------------------------------


def _frame(**columns) -> pd.DataFrame:
    return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in columns.items()})


def _build(frame: pd.DataFrame, features: list[str], **kwargs) -> dict[str, np.ndarray]:
    builder = FeatureBuilder(features=features, **kwargs).fit(frame)
    matrix = builder.transform(frame)
    assert matrix.dtype == np.float64 and matrix.shape == (len(frame), len(features))
    return dict(zip(builder.get_feature_names_out(), matrix.T, strict=True))


def test_utilization_and_dormant_capacity_share():
    frame = _frame(actual_output=[50, 0, np.nan, 30], installed_capacity=[100, 10, 5, 20])
    out = _build(frame, ["utilization", "dormant_capacity_share"])
    np.testing.assert_array_equal(out["utilization"], [0.5, 0.0, np.nan, 1.5])
    # 1 - utilization, floored at 0 (output above capacity leaves nothing dormant).
    np.testing.assert_array_equal(out["dormant_capacity_share"], [0.5, 1.0, np.nan, 0.0])


def test_export_intensity_is_missing_when_revenue_is_zero_or_missing():
    frame = _frame(export_revenue=[10, 5, np.nan, 3, 0], revenue=[40, 0, 20, np.nan, 7])
    out = _build(frame, ["export_intensity"])
    np.testing.assert_array_equal(out["export_intensity"], [0.25, np.nan, np.nan, np.nan, 0.0])


def test_revenue_growth_and_revenue_per_employee():
    frame = _frame(
        revenue=[120, 80, 50, 10, np.nan],
        revenue_prev=[100, 100, 0, np.nan, 40],
        employees=[4, 0, 5, np.nan, 2],
    )
    out = _build(frame, ["revenue_growth", "revenue_per_employee"])
    np.testing.assert_allclose(
        out["revenue_growth"], [0.2, -0.2, np.nan, np.nan, np.nan], rtol=0, atol=1e-15
    )
    np.testing.assert_array_equal(out["revenue_per_employee"], [30, np.nan, 10, np.nan, np.nan])


def test_coop_age_counts_to_the_reference_year():
    frame = _frame(established_year=[2000, 2025, np.nan])
    out = _build(frame, ["coop_age"], reference_year=2025)
    np.testing.assert_array_equal(out["coop_age"], [25, 0, np.nan])
    this_year = dt.date.today().year
    default = _build(frame, ["coop_age"])  # None: the calendar year at fit time
    np.testing.assert_array_equal(default["coop_age"], [this_year - 2000, this_year - 2025, np.nan])


def test_certification_count_treats_missing_parts_as_none_but_all_missing_as_missing():
    frame = _frame(
        iso9001=[1, np.nan, 0, np.nan],
        intl_certifications=[2, 1, 0, np.nan],
        standard_mark=[0, np.nan, 1, np.nan],
    )
    out = _build(frame, ["certification_count"])
    np.testing.assert_array_equal(out["certification_count"], [3, 1, 1, np.nan])


def test_raw_columns_pass_through_and_missing_stays_missing():
    frame = _frame(members=[3, np.nan, 12], debt_ratio=[0.5, 0.25, np.nan])
    out = _build(frame, ["members", "debt_ratio"])
    np.testing.assert_array_equal(out["members"], [3, np.nan, 12])
    np.testing.assert_array_equal(out["debt_ratio"], [0.5, 0.25, np.nan])


def test_categories_become_their_position_and_anything_else_missing():
    categories = {"sector": ["industrial", "mining", "other"]}
    frame = pd.DataFrame({"sector": ["mining", "other", "fishing", None, "industrial"]})
    out = _build(frame, ["sector"], categories=categories)
    np.testing.assert_array_equal(out["sector"], [1, 2, np.nan, np.nan, 0])
    # A pandas categorical with the same categories gives the same codes (its fast path).
    known = frame["sector"].where(frame["sector"].isin(categories["sector"]))
    as_category = pd.DataFrame({"sector": pd.Categorical(known, categories["sector"])})
    np.testing.assert_array_equal(
        _build(as_category, ["sector"], categories=categories)["sector"], out["sector"]
    )
    # A categorical with other categories goes by value, not by its own codes.
    reordered = pd.DataFrame({"sector": pd.Categorical(known, ["other", "mining", "industrial"])})
    np.testing.assert_array_equal(
        _build(reordered, ["sector"], categories=categories)["sector"], out["sector"]
    )


def test_features_none_passes_columns_then_adds_the_derived_features_it_can():
    frame = _frame(actual_output=[5], installed_capacity=[10], revenue=[8], members=[2])
    builder = FeatureBuilder().fit(frame)
    names = list(builder.get_feature_names_out())
    # Only utilization and dormant_capacity_share have all their inputs here.
    assert names == [*frame.columns, "utilization", "dormant_capacity_share"]
    row = builder.transform(frame)[0]
    np.testing.assert_array_equal(row, [5, 10, 8, 2, 0.5, 0.5])
    assert set(DERIVED_FEATURES) >= {"utilization", "dormant_capacity_share"}


def test_a_feature_whose_input_column_is_absent_is_refused_by_name():
    frame = _frame(actual_output=[5])
    with pytest.raises(ValueError, match=r"'utilization' needs input column\(s\).*installed"):
        FeatureBuilder(features=["utilization"]).fit(frame)


def test_transform_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        FeatureBuilder().transform(_frame(members=[1]))


def test_contract_feature_builder_on_sample_rows(sample_frames):
    """The contract's builder on real rows: its columns equal an independent pandas computation."""
    frame, _ = sample_frames
    contract = load_contract()
    builder = feature_builder(contract, reference_year=2025).fit(frame)
    assert list(builder.get_feature_names_out()) == list(contract.model.features)
    X = pd.DataFrame(builder.transform(frame), columns=builder.get_feature_names_out())
    utilization = frame["actual_output"] / frame["installed_capacity"]
    np.testing.assert_allclose(X["utilization"], utilization, rtol=1e-15)
    intensity = (frame["export_revenue"] / frame["revenue"]).where(frame["revenue"] != 0)
    np.testing.assert_allclose(X["export_intensity"], intensity, rtol=1e-15)
    np.testing.assert_array_equal(X["coop_age"], 2025 - frame["established_year"])
    sectors = list(contract.vocabularies["sector"].categories)
    np.testing.assert_array_equal(X["sector"], frame["sector"].map(sectors.index))
    # Missing inputs stay missing: the sample leaves some cells empty on purpose.
    for name in ("employees", "defect_rate", "revenue"):
        np.testing.assert_array_equal(np.isnan(X[name]), frame[name].isna())


# --- the glass-box classifier beyond the shared checks --------------------------------------


def _toy(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[rng.random((n, 4)) < 0.1] = np.nan
    # The truth interacts features 0 and 1; feature 3 lowers the odds.
    logit = 1.2 * np.nan_to_num(X[:, 0]) * np.nan_to_num(X[:, 1]) - 0.8 * np.nan_to_num(X[:, 3])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_glass_box_is_additive_outside_its_declared_pairs():
    X, y = _toy()
    model = GlassBoxClassifier(
        pairs=[(0, 1)], n_folds=2, max_iter=60, min_samples_leaf=10, n_threads=1
    ).fit(X, y)
    rng = np.random.default_rng(1)
    a, b = X[rng.choice(len(X), 50)], X[rng.choice(len(X), 50)]

    def swap_effect(rows: np.ndarray, columns: list[int]) -> np.ndarray:
        moved = rows.copy()
        moved[:, columns] = b[:, columns]
        return model.decision_function(moved) - model.decision_function(rows)

    # Moving feature 2 (alone in its group) changes the logit by the same amount whatever the
    # other features are: compare the effect on rows a with the effect on rows a' that differ
    # from a in every other feature.
    others = a.copy()
    others[:, [0, 1, 3]] = X[rng.choice(len(X), 50)][:, [0, 1, 3]]
    np.testing.assert_allclose(swap_effect(a, [2]), swap_effect(others, [2]), atol=1e-12)
    # The pair's effect does depend on the partner, and the model did learn it.
    partner = a.copy()
    partner[:, 1] = -partner[:, 1]
    assert np.max(np.abs(swap_effect(a, [0]) - swap_effect(partner, [0]))) > 1e-3


def test_glass_box_respects_monotone_constraints():
    X, y = _toy(seed=2)
    # Feature 3 lowers the odds in truth; constrained to +1, its shape must be flat or rising.
    model = GlassBoxClassifier(
        monotonic={3: 1}, n_folds=2, max_iter=60, min_samples_leaf=10, n_threads=1
    ).fit(X, y)
    grid = np.repeat(np.nanmedian(X, axis=0)[None, :], 200, axis=0)
    grid[:, 3] = np.linspace(-3, 3, 200)
    assert np.all(np.diff(model.decision_function(grid)) >= -1e-12)
    free = GlassBoxClassifier(n_folds=2, max_iter=60, min_samples_leaf=10, n_threads=1).fit(X, y)
    assert np.any(np.diff(free.decision_function(grid)) < -1e-6)  # the constraint did bind


def test_glass_box_probabilities_are_the_sigmoid_of_the_calibrated_logit():
    X, y = _toy(seed=3)
    model = GlassBoxClassifier(n_folds=2, max_iter=30, n_threads=1).fit(X, y)
    slope, intercept = model.calibration_
    logit = model.decision_function(X)
    np.testing.assert_allclose(logit, slope * model.raw_logit(X) + intercept, atol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-logit)), atol=1e-12)
    assert len(model.estimators_) == 2 and model.n_iter_.shape == (2,)


def test_glass_box_refuses_a_class_too_small_for_its_folds():
    X, y = _toy(n=100)
    y[:] = 0
    y[:2] = 1
    with pytest.raises(ValueError, match="at least n_folds=3"):
        GlassBoxClassifier(n_folds=3, n_threads=1).fit(X, y)
    with pytest.raises(ValueError, match="1 class"):
        GlassBoxClassifier(n_threads=1).fit(X, np.zeros(100))


# --- derived features as contract expressions -----------------------------------------------


def _hard_coded(frame: pd.DataFrame, name: str, reference_year: int) -> np.ndarray:
    """The derived features as the release before expressions computed them (the reference)."""

    def col(c: str) -> np.ndarray:
        return pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64)

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        out = np.full_like(numerator, np.nan, dtype=np.float64)
        ok = np.isfinite(denominator) & (denominator != 0)
        out[ok] = numerator[ok] / denominator[ok]
        return out

    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "utilization":
            return col("actual_output") / col("installed_capacity")
        if name == "dormant_capacity_share":
            return np.maximum(1.0 - col("actual_output") / col("installed_capacity"), 0.0)
        if name == "export_intensity":
            return ratio(col("export_revenue"), col("revenue"))
        if name == "revenue_growth":
            return ratio(col("revenue"), col("revenue_prev")) - 1.0
        if name == "revenue_per_employee":
            return ratio(col("revenue"), col("employees"))
        if name == "coop_age":
            return reference_year - col("established_year")
        parts = np.column_stack([col("iso9001"), col("intl_certifications"), col("standard_mark")])
        total = np.nansum(parts, axis=1)
        total[np.isnan(parts).all(axis=1)] = np.nan
        return total


def test_contract_expressions_give_the_hard_coded_features_bit_for_bit(sample_frames):
    frame, _ = sample_frames
    contract = load_contract()
    assert set(contract.model.derived) == set(DERIVED_FEATURES)
    names = [*contract.model.derived, *contract.model.features]
    names = list(dict.fromkeys(names))
    builder = feature_builder(contract, reference_year=2025)
    X = builder.set_params(features=names).fit(frame).transform(frame)
    for j, name in enumerate(names):
        if name in contract.model.derived:
            expected = _hard_coded(frame, name, 2025)
        elif name in contract.model.categorical:
            continue  # codes: checked in test_contract_feature_builder_on_sample_rows
        else:
            expected = frame[name].to_numpy(dtype=np.float64)
        assert np.isnan(expected).sum() == np.isnan(X[:, j]).sum(), name
        np.testing.assert_array_equal(X[:, j], expected, err_msg=name)  # NaN == NaN here


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b * 2", [8.0, np.nan, 1.0]),  # * before +
        ("(a + b) * 2", [10.0, np.nan, 2.0]),
        ("a - b - 1", [-2.0, np.nan, 0.0]),  # left to right
        ("-a / b", [-2.0 / 3.0, np.nan, np.nan]),  # / by 0 is missing
        ("max(a - 2, 0)", [0.0, 2.0, 0.0]),
        ("min(a, b, 1.5)", [1.5, np.nan, 0.0]),
        ("sum(a, b)", [5.0, 4.0, 1.0]),  # a missing part counts as 0
        ("log(b)", [np.log(3.0), np.nan, np.nan]),
        ("abs(b - 5)", [2.0, np.nan, 5.0]),
        ("reference_year - a", [2023.0, 2021.0, 2024.0]),
        ("2.5e1", [25.0, 25.0, 25.0]),
    ],
)
def test_expressions_evaluate_as_worked_out_by_hand(text, expected):
    from scoring.expressions import parse_expression

    columns = {"a": np.array([2.0, 4.0, 1.0]), "b": np.array([3.0, np.nan, 0.0])}
    got = parse_expression(text).evaluate(columns.__getitem__, 2025, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('x')", r"cannot read \"'os'\)"),
        ("a +", "expected a number, a column or '\\(' at the end"),
        ("a b", "unexpected 'b' at character 3"),
        ("pow(a, 2)", "unknown function 'pow'"),
        ("log(a, b)", r"log\(\) takes 1 argument"),
        ("(a + b", "expected '\\)' at the end"),
        ("a ** 2", "expected a number, a column or '\\(', found '\\*'"),
        ("", "needs an expression text"),
    ],
)
def test_expressions_that_break_the_grammar_are_refused_with_where(text, message):
    from scoring.expressions import ExpressionError, parse_expression

    with pytest.raises(ExpressionError, match=message):
        parse_expression(text)


@pytest.mark.parametrize(
    ("derived", "message"),
    [
        ({"ratio": "sector / members"}, "reads 'sector', which is not a numeric or yes/no"),
        ({"ratio": "exported_next_year + 1"}, "reads 'exported_next_year'"),
        ({"ratio": "water / members"}, "reads 'water'"),
        ({"ratio": "members /"}, "model.derived.ratio: expression"),
    ],
)
def test_a_contract_refuses_an_expression_it_cannot_compute(derived, message):
    import copy

    from scoring.contract import contract_from_dict
    from scoring.errors import ContractError

    document = copy.deepcopy(load_contract().to_dict())
    document["model"]["derived"] = derived
    with pytest.raises(ContractError, match=message):
        contract_from_dict(document)


def test_a_model_feature_neither_column_nor_derived_is_refused():
    import copy

    from scoring.contract import contract_from_dict
    from scoring.errors import ContractError

    document = copy.deepcopy(load_contract().to_dict())
    document["model"]["features"] = [*document["model"]["features"], "water_per_member"]
    with pytest.raises(ContractError, match=r"\['water_per_member'\] are neither a column nor"):
        contract_from_dict(document)
