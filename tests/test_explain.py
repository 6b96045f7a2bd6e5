"""Tests of exact explanations (scoring.explain) and drift (scoring.drift).

Reasons are checked against the trained scikit-learn model itself: moving a feature to the
reference profile and asking the model, not the tables, what happens.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from scoring.batch import score_frame
from scoring.contract import load_contract
from scoring.drift import DriftMonitor, psi, verdict
from scoring.sample import generate_sample

EXACT = 1e-9


@pytest.fixture(scope="module")
def setting(trained, scoring_model, sample_frames):
    _, _, result = trained
    frame, _ = sample_frames
    held = frame["coop_id"].isin(result.holdout["coop_id"])
    builder = result.pipeline[0]
    return {
        "model": result.pipeline[-1],
        "explainer": scoring_model.explainer,
        "scoring_model": scoring_model,
        "profile": scoring_model.explainer.data["reference_profile"],
        "features": list(scoring_model.scorer.features),
        "holdout": frame[held].reset_index(drop=True),
        "train": frame[~held].reset_index(drop=True),
        "X": builder.transform(frame[held]),
        "X_train": builder.transform(frame[~held]),
    }


def _code(contract, name: str, value: float, reference: float) -> str:
    side = "missing" if np.isnan(value) else ("low" if value < reference else "high")
    return contract.reasons[name][side].code


def _gains(setting, X: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Logit gain of moving each reason feature alone to the reference profile, per the model."""
    explainer, model = setting["explainer"], setting["model"]
    names = explainer.reason_features
    base = model.decision_function(X)
    gains = np.empty((len(X), len(names)))
    for k, name in enumerate(names):
        moved = X.copy()
        moved[:, setting["features"].index(name)] = setting["profile"][name]
        gains[:, k] = model.decision_function(moved) - base
    return names, gains


def test_every_actionable_feature_has_a_reference_value_and_reason_codes(setting):
    contract = load_contract()
    explainer = setting["explainer"]
    # The contract gives reasons for 16 features; each is in the model and has a reference.
    assert set(explainer.reason_features) == set(contract.reasons) & set(setting["features"])
    assert len(explainer.reason_features) >= 12
    exporters = setting["train"]["exported_next_year"] == 1
    # The reference for a yes/no feature is the most common value among exporters (recomputed).
    card = setting["train"].loc[exporters, "commercial_card"].dropna()
    assert setting["profile"]["commercial_card"] == float(card.mode().iloc[0])


def test_moving_the_top_reason_feature_to_the_reference_raises_the_probability(setting):
    explainer, model, X = setting["explainer"], setting["model"], setting["X"]
    pulls = explainer.pulls(X)
    reasons = explainer.reasons(X)
    top = np.argmin(pulls, axis=1)
    rows = np.flatnonzero(reasons[0] != "")
    assert len(rows) > 0.9 * len(X)  # nearly everyone has something to improve
    moved = X[rows].copy()
    for i, row in enumerate(rows):
        name = explainer.reason_features[top[row]]
        moved[i, setting["features"].index(name)] = setting["profile"][name]
    before = model.decision_function(X[rows])
    after = model.decision_function(moved)
    # The model's logit rises by exactly minus the pull ...
    np.testing.assert_allclose(after - before, -pulls[rows, top[rows]], rtol=0, atol=EXACT)
    # ... so the probability rises, for every row that has a reason.
    assert np.all(model.predict_proba(moved)[:, 1] > model.predict_proba(X[rows])[:, 1])


def test_reasons_are_the_features_whose_move_would_help_most(setting):
    """Recompute the top three from the model alone: the gain of each single move, ranked."""
    contract = load_contract()
    X = setting["X"][:150]
    names, gains = _gains(setting, X)
    reasons = setting["explainer"].reasons(X)
    checked = 0
    for i in range(len(X)):
        order = np.argsort(-gains[i], kind="stable")
        ranked = gains[i][order]
        if np.any(np.abs(np.diff(ranked[:4])) < 1e-9):
            continue  # a tie: either order is right
        expected = []
        for k in order[:3]:
            if gains[i, k] > EXACT:
                name = names[k]
                j = setting["features"].index(name)
                expected.append(_code(contract, name, X[i, j], setting["profile"][name]))
        expected += [""] * (3 - len(expected))
        assert [r[i] for r in reasons] == expected, i
        checked += 1
    assert checked > 100


def test_reasons_are_codes_from_the_contract(setting):
    contract = load_contract()
    codes = {reason.code for sides in contract.reasons.values() for reason in sides.values()}
    reasons = setting["explainer"].reasons(setting["X"])
    used = set(np.concatenate(reasons).tolist()) - {""}
    assert used <= codes
    assert len(used) >= 10  # a real variety, not one code everywhere
    # Once a row runs out of reasons, the later columns are empty too.
    for first, second in itertools.pairwise(reasons):
        assert not np.any((first == "") & (second != ""))


def test_no_reason_when_nothing_pulls_down(setting):
    explainer = setting["explainer"]
    X = setting["X"][:20].copy()
    for name in explainer.reason_features:
        X[:, setting["features"].index(name)] = setting["profile"][name]
    np.testing.assert_allclose(explainer.pulls(X), 0.0, atol=EXACT)
    assert all(np.all(column == "") for column in explainer.reasons(X))
    # One feature made worse than the reference gives that one reason and no other.
    j = setting["features"].index("utilization")
    worse = X.copy()
    worse[:, j] = 0.02
    model = setting["model"]
    assert np.all(model.decision_function(worse) < model.decision_function(X))  # the model agrees
    first, second, third = explainer.reasons(worse)
    assert set(first) == {"low_capacity_utilization"}
    assert set(second) == {""} and set(third) == {""}


def test_reason_texts_follow_the_codes_in_both_languages(setting):
    contract = load_contract()
    texts = {
        lang: {r.code: r.text(lang) for sides in contract.reasons.values() for r in sides.values()}
        for lang in ("en", "fa")
    }
    X = setting["X"][:200]
    codes = setting["explainer"].reasons(X)
    for lang in ("en", "fa"):
        written = setting["explainer"].reasons(X, codes=False, lang=lang)
        for code_column, text_column in zip(codes, written, strict=True):
            expected = [texts[lang][c] if c else "" for c in code_column]
            assert list(text_column) == expected


# --- dimension sub-scores -------------------------------------------------------------------


def _dimension_totals(setting, X: np.ndarray) -> dict[str, np.ndarray]:
    """Each dimension's contribution, summed here from the contract's [dimensions] table."""
    contract = load_contract()
    scorer = setting["scoring_model"].scorer
    features, pairs = scorer.contributions(X)
    totals = {}
    for dim, names in contract.dimensions.items():
        columns = [setting["features"].index(n) for n in names]
        total = features[:, columns].sum(axis=1)
        for k, pair in enumerate(scorer.pairs):
            if pair.first in columns:  # a pair counts with its first feature
                total = total + pairs[:, k]
        totals[dim] = total
    return totals


def test_dimension_scores_are_0_to_100_and_monotone_in_the_contribution(setting):
    scorer = setting["scoring_model"].scorer
    rng = np.random.default_rng(0)
    X = np.vstack([setting["X"], setting["X_train"]])
    X = np.vstack([X, np.where(rng.random(X.shape) < 0.3, np.nan, X)])  # many missing too
    features, pairs = scorer.contributions(X)
    scores = setting["explainer"].dimension_scores(features, pairs)
    totals = _dimension_totals(setting, X)
    assert set(scores) == {"capacity", "quality", "output", "market"}
    for dim, score in scores.items():
        assert np.all((score >= 0) & (score <= 100)), dim
        order = np.argsort(totals[dim], kind="stable")
        assert np.all(np.diff(score[order]) >= -1e-9), dim  # monotone
        assert np.ptp(score) > 20, dim  # and it does discriminate
        # The 0..100 range is a true bound of the contribution (no clipping is needed).
        low, high = setting["explainer"].data["dimension_ranges"][dim]
        assert np.all((totals[dim] >= low - 1e-9) & (totals[dim] <= high + 1e-9)), dim


def test_a_dimension_at_its_best_and_worst_cells_scores_100_and_0(setting):
    """capacity has no pair: its best row takes each feature's best cell, its worst the worst."""
    scorer = setting["scoring_model"].scorer
    contract = load_contract()
    rows = np.repeat(setting["X"][:1], 2, axis=0)
    for name in contract.dimensions["capacity"]:
        j = setting["features"].index(name)
        table = scorer.tables[j]
        points = table.representatives(fallback=0.0)
        rows[0, j] = points[int(np.argmax(table.cells()))]
        rows[1, j] = points[int(np.argmin(table.cells()))]
    features, pairs = scorer.contributions(rows)
    capacity = setting["explainer"].dimension_scores(features, pairs)["capacity"]
    np.testing.assert_allclose(capacity, [100.0, 0.0], atol=1e-9)


# --- sector percentile ----------------------------------------------------------------------


def test_sector_percentile_is_the_share_of_the_sectors_training_rows_at_or_below(setting):
    scorer, explainer = setting["scoring_model"].scorer, setting["explainer"]
    X, X_train = setting["X"], setting["X_train"]
    p, p_train = scorer.probability(X), scorer.probability(X_train)
    percentile = explainer.sector_percentile(X, p)
    assert np.all((percentile >= 0) & (percentile <= 100))
    s = setting["features"].index("sector")
    for i in range(0, len(X), 7):
        same = X_train[:, s] == X[i, s]
        peers = p_train[same] if same.sum() >= 20 else p_train
        share = 100 * np.mean(peers <= p[i])
        assert percentile[i] == pytest.approx(share, abs=2.0), i


def test_sector_percentile_does_not_move_with_the_batch(setting):
    model, holdout = setting["scoring_model"], setting["holdout"]
    batch = score_frame(holdout, model)
    low_batch = holdout[batch["export_probability"] < 0.1]  # a batch of only weak cooperatives
    again = score_frame(low_batch, model)
    expected = batch.set_index("coop_id").loc[again["coop_id"], "sector_percentile"]
    np.testing.assert_array_equal(again["sector_percentile"], expected.to_numpy())
    for i in range(0, len(holdout), 97):
        alone = score_frame(holdout.iloc[[i]], model)
        assert alone["sector_percentile"].iloc[0] == batch["sector_percentile"].iloc[i]
        assert alone["reason_1"].iloc[0] == batch["reason_1"].iloc[i]


# --- drift ----------------------------------------------------------------------------------


def test_psi_and_verdict_by_hand():
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5)
    expected = -0.25 * np.log(0.5) + 0.25 * np.log(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, rel=1e-12)
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    # An empty bin is floored, so the index stays finite.
    assert np.isfinite(psi([0.5, 0.5], [1.0, 0.0])) and psi([0.5, 0.5], [1.0, 0.0]) > 1
    assert verdict(0.0) == "stable" and verdict(0.0999) == "stable"
    assert verdict(0.1) == "investigate" and verdict(0.25) == "investigate"
    assert verdict(0.2501) == "shifted" and verdict(3.0) == "shifted"


def _drift(setting, frame: pd.DataFrame) -> dict[str, dict]:
    model = setting["scoring_model"]
    monitor = DriftMonitor(model.drift_reference, list(model.scorer.features))
    X = model.features(frame)
    half = len(X) // 2
    monitor.update(X[:half])  # in two chunks, as scoring streams
    monitor.update(X[half:])
    return {row["feature"]: row for row in monitor.report()}


def test_drift_is_near_zero_on_training_like_data(setting):
    fresh, _ = generate_sample(3000, seed=99)
    report = _drift(setting, fresh)
    assert set(report) == set(setting["features"])
    assert max(row["psi"] for row in report.values()) < 0.05
    assert {row["verdict"] for row in report.values()} == {"stable"}


def test_drift_flags_a_shifted_feature_and_only_it(setting):
    fresh, _ = generate_sample(3000, seed=99)
    shifted = fresh.copy()
    shifted["actual_output"] = shifted["actual_output"] * 0.4  # capacity use collapses
    shifted["defect_rate"] = np.nan  # and the defect rate is no longer reported
    report = _drift(setting, shifted)
    rows = list(report.values())
    assert rows == sorted(rows, key=lambda r: -r["psi"])  # most shifted first
    assert report["utilization"]["psi"] > 0.25 and report["utilization"]["verdict"] == "shifted"
    assert report["defect_rate"]["verdict"] == "shifted"
    untouched = [r for name, r in report.items() if name not in ("utilization", "defect_rate")]
    assert all(r["verdict"] == "stable" for r in untouched)


def test_drift_psi_matches_a_hand_count_against_the_reference(setting):
    reference = setting["scoring_model"].drift_reference["members"]
    fresh, _ = generate_sample(2000, seed=7)
    values = fresh["members"].to_numpy(dtype=float)
    edges = np.asarray(reference["edges"])
    # Bins: (-inf, e0), [e0, e1), ..., [e_last, inf), then missing.
    counts = [np.sum(values < edges[0])]
    counts += [np.sum((values >= a) & (values < b)) for a, b in itertools.pairwise(edges)]
    counts += [np.sum(values >= edges[-1]), np.sum(np.isnan(values))]
    actual = np.array(counts) / len(values)
    expected = psi(reference["expected"], actual)
    assert _drift(setting, fresh)["members"]["psi"] == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------------------------
# Feature shapes, on tables small enough to work by hand


@pytest.fixture
def small_scorer():
    from scoring.compiled import CompiledScorer, FeatureTable, PairTable

    tables = [
        FeatureTable(
            "utilization", "numeric", np.array([0.3, 0.7]), np.array([-0.5, 0, 0.4]), -0.2
        ),
        FeatureTable("sector", "categorical", np.empty(0), np.array([0.1, -0.1, 0.3]), 0.0),
        FeatureTable("iso9001", "numeric", np.array([0.5]), np.array([-0.3, 0.2]), -0.1),
        FeatureTable("members", "numeric", np.empty(0), np.array([0.0]), 0.0),  # unused
    ]
    interaction = np.arange(12, dtype=float).reshape(3, 4) / 100  # iso9001 cells x sector cells
    return CompiledScorer(
        [t.name for t in tables], tables, [PairTable(2, 1, interaction)], intercept=-1.0
    )


SECTORS = {"sector": ["industrial", "agriculture", "food_processing", "mining"]}


def test_feature_kinds_and_cells(small_scorer):
    from scoring.explain import cell_keys, feature_kind

    contract = load_contract()
    utilization, sector, iso, members = small_scorer.tables
    assert [feature_kind(t, contract) for t in small_scorer.tables] == [
        "numeric", "categorical", "yesno", "numeric",
    ]  # fmt: skip
    assert cell_keys(utilization, contract, SECTORS) == [
        ("le", 0.3), ("between", (0.3, 0.7)), ("gt", 0.7), ("word", "missing"),
    ]  # fmt: skip
    yes_no = [("word", "no"), ("word", "yes"), ("word", "missing")]
    assert cell_keys(iso, contract, SECTORS) == yes_no
    assert cell_keys(sector, contract, SECTORS) == [
        ("category", "industrial"), ("category", "agriculture"), ("category", "food_processing"),
        ("word", "missing"),
    ]  # fmt: skip
    assert cell_keys(members, contract, SECTORS) == [("word", "all_values"), ("word", "missing")]


def test_pair_contributions_add_main_effects_and_interaction(small_scorer):
    from scoring.explain import pair_contributions

    (pair,) = pair_contributions(small_scorer, load_contract(), categories=SECTORS)
    assert (pair["first"], pair["second"]) == ("iso9001", "sector")
    assert pair["joint"].shape == (3, 4)
    # iso9001 yes (0.2) with agriculture (-0.1), interaction cell [1, 1] = 0.05.
    assert pair["joint"][1, 1] == pytest.approx(0.2 - 0.1 + 0.05)
    # missing iso9001 (-0.1) with a missing sector (0.0), interaction cell [2, 3] = 0.11.
    assert pair["joint"][2, 3] == pytest.approx(-0.1 + 0.0 + 0.11)
    assert pair["second_cells"][-1] == ("word", "missing")


def test_contribution_spread_by_hand(small_scorer):
    from scoring.explain import contribution_spread

    utilization, sector, *_ = small_scorer.tables
    # No reference: the spread of the cells -0.5, 0, 0.4, -0.2 (mean -0.075).
    assert contribution_spread(utilization, None) == pytest.approx(np.sqrt(0.4275 / 4))
    # Categories with their training shares (the last for missing): mean 0.08, variance 0.0196.
    shares = {"expected": [0.5, 0.3, 0.2, 0.0], "categories": ["a", "b", "c"]}
    assert contribution_spread(sector, shares) == pytest.approx(0.14)
    # Numbers: one point per training decile bin, [below 0.2, 0.35, 0.65, 0.8, missing], in
    # cells 0, 1, 1, 2 and missing: values -0.5, 0, 0, 0.4, -0.2; mean 0.01, variance 0.0609.
    deciles = {"edges": [0.2, 0.5, 0.8], "expected": [0.1, 0.3, 0.3, 0.2, 0.1]}
    assert contribution_spread(utilization, deciles) == pytest.approx(np.sqrt(0.0609))


def test_numeric_view_frames_the_middle_80_percent():
    from scoring.compiled import FeatureTable
    from scoring.explain import numeric_view

    table = FeatureTable("members", "numeric", np.array([2.0, 5.0]), np.zeros(3), 0.0)
    view = numeric_view(table, {"edges": list(range(1, 10))})
    # Deciles 1..9: linear, reach 0.6 * 8 cut at the known range 1..9, padded by 6% of 8.
    assert not view["log"] and view["band"] == (1.0, 9.0)
    assert (view["low"], view["high"]) == pytest.approx((1 - 0.48, 9 + 0.48))
    # A long right tail (p90 / p10 = 50, p90 - median > 3 (median - p10)): a log axis.
    skewed = numeric_view(table, {"edges": [1, 2, 3, 4, 5, 6, 7, 8, 50]})
    assert skewed["log"] and skewed["band"] == (1.0, 50.0)
    flat = FeatureTable("x", "numeric", np.empty(0), np.zeros(1), 0.0)
    assert numeric_view(flat, None)["band"] is None


def test_feature_contributions_ready_to_draw(small_scorer):
    from scoring.explain import contribution_spread, feature_contributions

    contract = load_contract()
    items = feature_contributions(small_scorer, contract, categories=SECTORS, drift_reference={})
    by_name = {item["name"]: item for item in items}
    spreads = [item["spread"] for item in items]
    assert spreads == sorted(spreads, reverse=True)
    assert by_name["utilization"]["spread"] == contribution_spread(small_scorer.tables[0], None)
    assert by_name["iso9001"]["partner"] == "sector" and by_name["sector"]["partner"] == "iso9001"
    assert by_name["utilization"]["partner"] is None
    assert by_name["iso9001"]["monotonic"] == contract.model.monotonic["iso9001"] == 1
    assert by_name["iso9001"]["values"] == [-0.3, 0.2]  # no, yes
    assert by_name["sector"]["keys"] == ["industrial", "agriculture", "food_processing"]
    assert not by_name["members"]["used"] and by_name["utilization"]["used"]
    assert by_name["utilization"]["missing"] == -0.2
