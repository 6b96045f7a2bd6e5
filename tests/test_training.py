"""Tests of training (scoring.training): refusals, the holdout, reproducibility, model selection
and the truth metrics. Models are tiny (conftest.QUICK): these tests check behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK, contract_with_water
from sklearn.metrics import roc_auc_score

import scoring.training
from scoring.contract import load_contract
from scoring.errors import TrainingError
from scoring.sample import generate_sample, to_english_table
from scoring.training import fingerprint, read_labelled, train_model
from scoring.truth import read_truth

LABEL = "exported_next_year"


@pytest.fixture(scope="module")
def contract():
    return load_contract()


@pytest.fixture(scope="module")
def small():
    frame, p_true = generate_sample(1200, seed=21)
    return frame, p_true


def _train(frame, contract, **kwargs):
    kwargs.setdefault("candidates", QUICK)
    return train_model(frame, contract, n_threads=1, **kwargs)


# --- refusals -------------------------------------------------------------------------------


def test_no_label_column_is_refused(small, contract):
    frame, _ = small
    with pytest.raises(TrainingError, match="no label column 'exported_next_year'"):
        _train(frame.drop(columns=[LABEL]), contract)
    with pytest.raises(TrainingError, match="no label column"):
        _train(frame.assign(**{LABEL: np.nan}), contract)


@pytest.mark.parametrize("only", [0, 1])
def test_a_single_class_is_refused(small, contract, only):
    frame, _ = small
    with pytest.raises(TrainingError, match=f"every labelled row has {LABEL} = {only}"):
        _train(frame.assign(**{LABEL: only}), contract)


def test_too_few_rows_of_a_class_are_refused(small, contract):
    frame, _ = small
    labels = np.zeros(len(frame), dtype=int)
    labels[:20] = 1  # 20 exporters: fewer than a model can learn from
    with pytest.raises(TrainingError, match="20 exporters and 1180 non-exporters"):
        _train(frame.assign(**{LABEL: labels}), contract)


def test_too_few_rows_left_after_the_holdout_are_refused(small, contract):
    frame, _ = small
    labels = np.zeros(len(frame), dtype=int)
    labels[:30] = 1  # enough in all, but a third goes to the holdout
    with pytest.raises(TrainingError, match="after the holdout"):
        _train(frame.assign(**{LABEL: labels}), contract)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_an_impossible_holdout_share_is_refused(small, contract, share):
    with pytest.raises(TrainingError, match="holdout share"):
        _train(small[0], contract, holdout_share=share)


def test_a_truth_file_missing_holdout_rows_is_refused_before_fitting(small, contract, monkeypatch):
    frame, p_true = small
    truth = pd.DataFrame({"coop_id": frame["coop_id"], "true_probability": p_true}).iloc[:600]

    def no_fitting(*args, **kwargs):
        raise AssertionError("a model was fitted before the truth file was checked")

    monkeypatch.setattr(scoring.training.GlassBoxClassifier, "fit", no_fitting)
    with pytest.raises(TrainingError, match=r"truth file lacks \d+ of the holdout's coop_id"):
        _train(frame, contract, truth=truth)


# --- the holdout ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def by_year(small, contract):
    """Trained on two data years with two candidates: the latest year is the holdout."""
    frame, _ = small
    years = np.where(np.arange(len(frame)) < 800, 2022, 2023)
    candidates = (*QUICK, {"max_leaf_nodes": 2, "min_samples_leaf": 60, "max_iter": 200})
    result = _train(frame.assign(data_year=years), contract, candidates=candidates)
    return frame, years, result


def test_the_latest_data_year_is_the_holdout(by_year):
    frame, years, result = by_year
    assert result.training["holdout"] == "by year: 2023 held out"
    assert result.holdout["coop_id"].tolist() == frame.loc[years == 2023, "coop_id"].tolist()
    assert result.training["train_rows"] == 800 and result.training["holdout_rows"] == 400
    # Ages are counted to the latest data year, not to the calendar.
    assert result.feature_config.reference_year == 2023


def test_without_a_year_the_holdout_is_a_stratified_third(trained, sample_frames):
    _, _, result = trained
    frame, _ = sample_frames
    assert result.training["holdout"] == "stratified random 33%"
    assert result.training["train_rows"] == 2000 and result.training["holdout_rows"] == 1000
    held = frame["coop_id"].isin(result.holdout["coop_id"])
    assert held.sum() == 1000 and result.holdout["coop_id"].is_unique
    rate = frame[LABEL].mean()
    assert abs(frame.loc[held, LABEL].mean() - rate) < 0.002  # stratified by the label
    np.testing.assert_array_equal(result.holdout["label"], frame.loc[held, LABEL])


# --- reproducibility and model selection ----------------------------------------------------


def test_the_same_seed_gives_identical_predictions(small, contract):
    frame, _ = small
    first = _train(frame, contract, seed=4)
    second = _train(frame, contract, seed=4)
    np.testing.assert_array_equal(first.holdout["probability"], second.holdout["probability"])
    assert first.scorer.to_dict() == second.scorer.to_dict()
    np.testing.assert_array_equal(
        first.pipeline.predict_proba(frame), second.pipeline.predict_proba(frame)
    )
    assert first.training["fingerprint"] == second.training["fingerprint"]
    assert "truth" not in first.metrics  # no truth given


def test_the_model_selection_table_marks_the_best_candidate(by_year):
    _, _, result = by_year
    table = result.candidates
    boosted = [row for row in table if row["model"] == "glass-box boosting"]
    assert len(boosted) == 2
    assert [row for row in table if row.get("chosen")] == [
        min(boosted, key=lambda row: row["cv_log_loss"])
    ]
    assert result.training["cv_log_loss"] == min(row["cv_log_loss"] for row in boosted)
    baseline = [row for row in table if row["model"] == "spline logistic baseline"]
    assert len(baseline) == 1 and baseline[0]["cv_log_loss"] > 0 and baseline[0]["settings"]["C"]
    chosen = next(row for row in boosted if row.get("chosen"))["settings"]
    assert result.pipeline[-1].max_leaf_nodes == chosen["max_leaf_nodes"]


def test_metrics_include_the_truth_gap_when_truth_is_given(trained, sample_frames):
    _, _, result = trained
    frame, p_true = sample_frames
    truth = result.metrics["truth"]
    # Recompute from the holdout rows and the sample's own truth, aligned by coop_id.
    lookup = pd.Series(p_true, index=frame["coop_id"])
    p_true_held = lookup.loc[result.holdout["coop_id"]].to_numpy()
    y, p = result.holdout["label"].to_numpy(), result.holdout["probability"].to_numpy()
    bayes = roc_auc_score(y, p_true_held)
    assert truth["bayes_auc"] == pytest.approx(bayes, abs=1e-12)
    assert truth["auc_gap"] == pytest.approx(bayes - roc_auc_score(y, p), abs=1e-12)
    assert truth["mean_abs_error"] == pytest.approx(np.mean(np.abs(p - p_true_held)), abs=1e-12)
    # A sane model, even a tiny one: better than chance, calibrated to within reason.
    assert 0.0 <= truth["auc_gap"] < 0.05 and truth["mean_abs_error"] < 0.1
    assert result.metrics["overall"]["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert {g["group"] for g in result.metrics["groups"]["sector"]} == set(
        frame.loc[frame["coop_id"].isin(result.holdout["coop_id"]), "sector"]
    )
    assert "truth" in result.baseline_metrics


# --- reading labelled files -----------------------------------------------------------------


def test_read_labelled_returns_valid_rows_and_counts_the_rejected(tmp_path, contract):
    frame, _ = generate_sample(60, seed=2)
    table = to_english_table(frame)
    table.loc[[3, 7], LABEL] = "2"  # not 0/1
    path = tmp_path / "labelled.csv"
    table.to_csv(path, index=False)
    valid, report = read_labelled(path, contract)
    assert report.rows_read == 60 and report.rows_rejected == 2 and len(valid) == 58
    assert set(valid[LABEL].unique()) <= {0, 1}
    assert not valid["coop_id"].isin(frame["coop_id"].iloc[[3, 7]]).any()


def test_read_labelled_refuses_a_file_without_valid_rows(tmp_path, contract):
    frame, _ = generate_sample(10, seed=2)
    table = to_english_table(frame)
    table[LABEL] = "maybe"
    path = tmp_path / "labelled.csv"
    table.to_csv(path, index=False)
    with pytest.raises(TrainingError, match=r"no valid labelled rows in labelled.csv \(10 read\)"):
        read_labelled(path, contract)


def test_read_truth_needs_its_columns(tmp_path):
    path = tmp_path / "truth.csv"
    pd.DataFrame({"coop_id": ["C1"], "p": [0.5]}).to_csv(path, index=False)
    with pytest.raises(TrainingError, match="not a truth file"):
        read_truth(path)
    pd.DataFrame({"coop_id": ["C1"], "true_probability": ["0.25"]}).to_csv(path, index=False)
    assert read_truth(path)["true_probability"].tolist() == [0.25]


def test_the_fingerprint_follows_the_data(small):
    frame, _ = small
    assert fingerprint(frame) == fingerprint(frame.copy())
    changed = frame.copy()
    changed.loc[5, "members"] += 1
    assert fingerprint(changed) != fingerprint(frame)
    assert fingerprint(frame.iloc[::-1]) != fingerprint(frame)  # order counts


# --- the refit on every labelled row --------------------------------------------------------


@pytest.fixture(scope="module")
def measured_and_refit(small, contract):
    frame, _ = small
    return _train(frame, contract, seed=2), _train(frame, contract, seed=2, refit=True)


def test_the_refit_keeps_the_holdout_metrics_of_the_fit_that_was_measured(measured_and_refit):
    measured, refit = measured_and_refit
    assert refit.metrics == measured.metrics  # the same fit measured the same holdout
    np.testing.assert_array_equal(refit.holdout["probability"], measured.holdout["probability"])
    y, p = refit.holdout["label"].to_numpy(), refit.holdout["probability"].to_numpy()
    assert refit.metrics["overall"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert refit.training["fits"] == {
        "holdout_metrics": "the fit on the 800 training rows",
        "registered_model": "the same candidate refit on all 1,200 labelled rows",
    }
    assert measured.training["fits"]["registered_model"] == "the fit on the 800 training rows"


def test_the_registered_model_is_fitted_on_every_row(measured_and_refit, small):
    measured, refit = measured_and_refit
    frame, _ = small
    X = refit.pipeline[0].transform(frame)
    registered = refit.pipeline.predict_proba(frame)[:, 1]
    np.testing.assert_allclose(refit.scorer.probability(X), registered, atol=1e-9)
    # Another model than the measured one ...
    assert np.max(np.abs(registered - measured.pipeline.predict_proba(frame)[:, 1])) > 1e-3
    # ... whose references (percentiles) come from all 1,200 rows, not the 800.
    levels = np.linspace(0, 1, 101)
    expected = np.quantile(refit.scorer.probability(X), levels)
    np.testing.assert_allclose(refit.explainer["sector_percentiles"]["all"], expected, atol=1e-12)
    assert refit.drift_reference  # built too, from the same rows


def test_the_learners_compete_and_the_lowest_cv_log_loss_wins(small, contract):
    frame, _ = small
    spec = {"learner": "boosting", **QUICK[0], "validation_fraction": 0.15}
    candidates = [spec, {"learner": "spline"}, {"learner": "blend"}]
    result = _train(frame, contract, candidates=candidates)
    table = result.candidates
    assert [row["model"] for row in table] == [
        "glass-box boosting", "spline logistic baseline", "blend: boosting + spline",
    ]  # fmt: skip
    chosen = [row for row in table if row.get("chosen")]
    assert chosen == [min(table, key=lambda row: row["cv_log_loss"])]
    assert result.training["learner"] == chosen[0]["model"]
    assert 0 <= table[2]["settings"]["boosting_weight"] <= 1
    # The spline is both a candidate and the baseline: one fit (one row), not two.
    assert sum(row["model"] == "spline logistic baseline" for row in table) == 1


# --- backtests by year ----------------------------------------------------------------------


def test_a_backtest_trains_on_the_years_up_to_t_and_tests_on_the_next(small, contract):
    from scoring.backtest import backtest_by_year

    frame, _ = small
    years = np.repeat([2021, 2022, 2023], 400)
    rows = backtest_by_year(frame.assign(data_year=years), contract, candidates=QUICK, n_threads=1)
    assert [(r["train_years"], r["test_year"]) for r in rows] == [
        ([2021, 2021], 2022), ([2021, 2022], 2023),
    ]  # fmt: skip
    assert [(r["train_rows"], r["test_rows"]) for r in rows] == [(400, 400), (800, 400)]
    # The last year by another route: training holds the latest year out on the same rows.
    held = _train(frame.assign(data_year=years), contract)
    assert rows[1]["roc_auc"] == pytest.approx(held.metrics["overall"]["roc_auc"], abs=2e-3)
    assert rows[1]["log_loss"] == pytest.approx(held.metrics["overall"]["log_loss"], abs=2e-3)
    with pytest.raises(TrainingError, match="two or more years"):
        backtest_by_year(frame, contract, candidates=QUICK, n_threads=1)


# --- a model defined by the contract alone --------------------------------------------------


def test_a_column_and_feature_defined_only_in_toml_reach_tables_reasons_and_card(tmp_path):
    from scoring.explain import Explainer
    from scoring.registry import save_model
    from scoring.sample import true_logit

    water = contract_with_water(tmp_path)
    assert "water_per_member" in water.model.features and "water_use" in water.names
    frame, _ = generate_sample(1500, seed=8)
    rng = np.random.default_rng(8)
    per_member = np.exp(rng.normal(0, 1, len(frame)))
    frame["water_use"] = per_member * frame["members"]
    # Exporting gets less likely with water use per member (by a lot: the model must see it).
    logit = true_logit(frame) - 1.2 * np.log(per_member)
    frame[LABEL] = (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)
    result = _train(frame, water)
    j = result.scorer.features.index("water_per_member")
    table = result.scorer.tables[j]
    assert len(table.edges) >= 2 and np.ptp(table.values) > 0.5  # the tables learnt it
    assert table.values[0] > table.values[-1]  # falling, as the truth
    reasons = result.explainer["reasons"]["water_per_member"]
    assert reasons["high"]["code"] == "high_water_per_member"
    assert reasons["high"]["en"] == "High water per member"
    X = result.pipeline[0].transform(frame)
    first = Explainer(result.scorer, result.explainer).reasons(X)[0]
    assert (first == "high_water_per_member").sum() > 50  # heavy users: their first reason
    registry = tmp_path / "models"
    reference = save_model(result, water, registry)
    card = (registry / reference.replace("@", "/") / "model_card.md").read_text(encoding="utf-8")
    assert "- water_per_member = `water_use / members`" in card
    # Scored from the registry, the feature comes from the stored contract's expression: the
    # compiled model gives the pipeline's probabilities.
    from scoring.batch import score_frame
    from scoring.model import ScoringModel
    from scoring.registry import load_model

    model = ScoringModel(load_model(registry, reference))
    scored = score_frame(frame, model)
    expected = result.pipeline.predict_proba(frame)[:, 1]
    np.testing.assert_allclose(scored["export_probability"], expected, rtol=0, atol=1e-12)


# --- training settings from the contract ----------------------------------------------------


def _contract_with(**model) -> object:
    import copy

    from scoring.contract import contract_from_dict

    document = copy.deepcopy(load_contract().to_dict())
    document["model"].update(model)
    return contract_from_dict(document)


def test_the_contract_names_the_peer_group_of_the_percentiles(small):
    frame, _ = small
    by_province = _contract_with(peer_group="province")
    result = _train(frame, by_province)
    assert result.explainer["sector_feature"] == "province"
    # Each province with 20 or more training rows has its own percentiles, by province code.
    provinces = list(by_province.vocabularies["province"].categories)
    train = frame[~frame["coop_id"].isin(result.holdout["coop_id"])]
    counts = train["province"].map(provinces.index).value_counts()
    expected = {str(code) for code, n in counts.items() if n >= 20} | {"all"}
    assert set(result.explainer["sector_percentiles"]) == expected
    assert "province" in result.metrics["groups"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"peer_group": "members"}, "peer_group 'members' must be a categorical model feature"),
        ({"training": {"holdout_share": 1.5}}, "holdout_share must be a number between 0 and 1"),
        ({"training": {"refit": "yes"}}, "refit must be true or false"),
        ({"training": {"learners": "boosting"}}, "learners must be a list of learner names"),
        ({"training": {"folds": 3}}, r"unknown keys \['folds'\]"),
    ],
)
def test_the_contract_refuses_bad_training_settings(model, message):
    from scoring.errors import ContractError

    with pytest.raises(ContractError, match=message):
        _contract_with(**model)


def test_training_takes_its_holdout_share_and_learners_from_the_contract(small):
    frame, _ = small
    settings = {"holdout_share": 0.25, "learners": ["spline"], "refit": False}
    result = train_model(frame, _contract_with(training=settings), n_threads=1)
    assert result.training["holdout"] == "stratified random 25%"
    assert result.training["holdout_rows"] == 300
    assert [row["model"] for row in result.candidates] == ["spline logistic baseline"]
    assert result.training["learner"] == "spline logistic baseline"
    with pytest.raises(TrainingError, match=r"unknown learner\(s\) \['forest'\]"):
        train_model(frame, _contract_with(training={"learners": ["forest"]}), n_threads=1)


def _contract_with_label_values(values) -> object:
    import copy

    from scoring.contract import contract_from_dict

    document = copy.deepcopy(load_contract().to_dict())
    label = next(c for c in document["column"] if c["name"] == LABEL)
    label["values"] = values
    return contract_from_dict(document)


def test_a_label_column_reads_its_own_words_and_others_keep_the_global_ones():
    contract = _contract_with_label_values({"yes": ["Good", "خوش حساب"], "no": ["BAD"]})
    yes, no = contract.yesno_words(contract.label_column)
    assert yes == {"good", "خوش حساب"} and no == {"bad"}  # folded, as cells are
    assert contract.yesno_words(contract.column("iso9001")) == (contract.yes, contract.no)
    assert "good" not in contract.yes  # not widened for every column


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"yes": ["ok"]}, r"values must be \{ yes = \[...\], no = \[...\] \}"),
        ({"yes": ["ok"], "no": ["OK"]}, r"both yes and no: \['ok'\]"),
    ],
)
def test_label_words_that_cannot_be_read_are_refused(values, message):
    from scoring.errors import ContractError

    with pytest.raises(ContractError, match=message):
        _contract_with_label_values(values)


def test_training_tells_each_phase_as_it_starts(small, contract):
    frame, _ = small
    phases: list[str] = []
    _train(frame, contract, refit=True, progress=phases.append)
    assert [p.split()[0] for p in phases] == ["choosing", "evaluating", "refitting", "compiling"]
    assert f"all {len(frame):,} labelled rows" in phases[2]
