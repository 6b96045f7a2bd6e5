"""Tests of training (scoring.training): refusals, the holdout, reproducibility, model selection
and the truth metrics. Models are tiny (conftest.QUICK): these tests check behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK
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
