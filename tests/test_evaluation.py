"""Tests of model quality figures (scoring.evaluation) on arrays small enough to work by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from scoring.evaluation import (
    SMALL_GROUP,
    bootstrap_intervals,
    classification_metrics,
    evaluate_predictions,
    expected_calibration_error,
    group_metrics,
    ks_statistic,
    paired_bootstrap,
    reliability_bins,
    tier_metrics,
    truth_metrics,
)

CUTOFFS = {"A": 0.5, "B": 0.3, "C": 0.15}


def test_ece_by_hand():
    # One row in each of four bins: |0-.05| + |1-.15| + |1-.85| + |0-.95| = 2.0, each weight 1/4.
    y = np.array([0, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.85, 0.95])
    assert expected_calibration_error(y, p) == pytest.approx(0.5, abs=1e-12)
    # Two rows sharing a bin: observed rate 1/2, mean probability 0.45; the other bin is exact.
    y = np.array([0, 1, 1])
    p = np.array([0.4, 0.5 - 1e-9, 1.0])  # 1.0 falls in the last bin, not beyond it
    assert expected_calibration_error(y, p) == pytest.approx(2 / 3 * 0.05, abs=1e-8)
    # Perfectly calibrated bins give zero.
    y = np.array([0, 1, 0, 1, 0, 0, 0, 0])
    p = np.array([0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0])
    assert expected_calibration_error(y, p) == 0.0


def test_ks_by_hand_and_against_scipy():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    # At threshold 0.8: TPR 1/2, FPR 0; at 0.35: TPR 1, FPR 1/2: the largest gap is 1/2.
    assert ks_statistic(y, p) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.15), 0, 1)
    expected = ks_2samp(p[y == 1], p[y == 0]).statistic
    assert ks_statistic(y, p) == pytest.approx(expected, abs=1e-12)


def test_classification_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.2, 0.6, 0.4, 0.8])
    metrics = classification_metrics(y, p)
    # Pairs (positive, negative) ranked right: (.4>.2), (.8>.2), (.8>.6); wrong: (.4<.6).
    assert metrics["roc_auc"] == pytest.approx(3 / 4)
    assert metrics["brier"] == pytest.approx((0.04 + 0.36 + 0.36 + 0.04) / 4)
    log_loss = -(np.log(0.8) + np.log(0.4) + np.log(0.4) + np.log(0.8)) / 4
    assert metrics["log_loss"] == pytest.approx(log_loss)
    # Average precision: ranks .8(+), .6(-), .4(+), .2(-): (1/1 + 2/3) / 2.
    assert metrics["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics["rows"] == 4 and metrics["positives"] == 2
    assert metrics["label_rate"] == 0.5 and metrics["mean_probability"] == pytest.approx(0.5)


def test_classification_metrics_with_one_outcome_skips_the_ranking_figures():
    metrics = classification_metrics(np.zeros(5, int), np.full(5, 0.1))
    assert "roc_auc" not in metrics and "ece" not in metrics
    assert metrics["brier"] == pytest.approx(0.01)


def test_tier_precision_and_recall_by_hand():
    y = np.array([1, 0, 1, 0, 1, 0])
    p = np.array([0.6, 0.5, 0.4, 0.2, 0.1, 0.05])  # 0.5 sits exactly on the A cut-off
    rows = {row["tier"]: row for row in tier_metrics(y, p, CUTOFFS)}
    assert list(rows) == ["A", "B", "C", "D"]
    # A: p >= .5 -> rows 0, 1.
    assert rows["A"]["rows"] == 2 and rows["A"]["share"] == pytest.approx(2 / 6)
    assert rows["A"]["exporting_rate"] == 0.5
    assert rows["A"]["precision_at_or_above"] == 0.5
    assert rows["A"]["recall_at_or_above"] == pytest.approx(1 / 3)
    # B: .3 <= p < .5 -> row 2; at or above B: rows 0-2 hold 2 of the 3 exporters.
    assert rows["B"]["rows"] == 1 and rows["B"]["exporting_rate"] == 1.0
    assert rows["B"]["precision_at_or_above"] == pytest.approx(2 / 3)
    assert rows["B"]["recall_at_or_above"] == pytest.approx(2 / 3)
    # C: .15 <= p < .3 -> row 3.
    assert rows["C"]["rows"] == 1 and rows["C"]["exporting_rate"] == 0.0
    assert rows["C"]["precision_at_or_above"] == pytest.approx(2 / 4)
    assert rows["C"]["recall_at_or_above"] == pytest.approx(2 / 3)
    # D: everyone at or above; no cut-off.
    assert rows["D"]["cutoff"] is None and rows["D"]["rows"] == 2
    assert rows["D"]["precision_at_or_above"] == pytest.approx(0.5)
    assert rows["D"]["recall_at_or_above"] == 1.0
    assert sum(row["rows"] for row in rows.values()) == len(y)


def test_an_empty_tier_has_no_rates():
    rows = {r["tier"]: r for r in tier_metrics(np.array([0, 1]), np.array([0.1, 0.2]), CUTOFFS)}
    assert rows["A"]["rows"] == 0 and rows["A"]["exporting_rate"] is None
    assert rows["A"]["precision_at_or_above"] is None
    assert rows["A"]["recall_at_or_above"] == 0.0


def test_truth_metrics_by_hand():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.3, 0.6, 0.5, 0.4])
    p_true = np.array([0.1, 0.9, 0.2, 0.7])  # ranks every pair right: Bayes AUC 1
    metrics = truth_metrics(y, p, p_true)
    assert metrics["bayes_auc"] == 1.0
    # The model ranks 3 of the 4 (exporter, non-exporter) pairs right: only (.4, .5) is wrong.
    assert metrics["auc_gap"] == pytest.approx(1.0 - 0.75)
    assert metrics["mean_abs_error"] == pytest.approx((0.2 + 0.3 + 0.3 + 0.3) / 4)
    assert metrics["bayes_brier"] == pytest.approx((0.01 + 0.01 + 0.04 + 0.09) / 4)
    assert metrics["p90_abs_error"] == pytest.approx(0.3)


def test_group_metrics_counts_and_marks_small_groups():
    rng = np.random.default_rng(1)
    groups = np.array(["big"] * (SMALL_GROUP + 50) + ["small"] * 30, dtype=object)
    y = rng.integers(0, 2, len(groups))
    p = rng.random(len(groups))
    rows = {row["group"]: row for row in group_metrics(y, p, groups)}
    assert rows["big"]["rows"] == SMALL_GROUP + 50 and not rows["big"]["small"]
    assert rows["small"]["rows"] == 30 and rows["small"]["small"]
    mask = groups == "small"
    assert rows["small"]["positives"] == int(y[mask].sum())
    assert rows["small"]["mean_probability"] == pytest.approx(p[mask].mean())
    # A group with one outcome has no AUC, rather than an error.
    one = group_metrics(np.array([1, 1, 0]), np.array([0.5, 0.6, 0.1]), np.array(["a", "a", "b"]))
    assert one[0]["roc_auc"] is None


def test_evaluate_predictions_gathers_everything():
    rng = np.random.default_rng(2)
    p_true = rng.random(400)
    y = (rng.random(400) < p_true).astype(int)
    p = np.clip(p_true + rng.normal(0, 0.05, 400), 0, 1)
    sectors = rng.choice(["a", "b"], 400)
    metrics = evaluate_predictions(y, p, cutoffs=CUTOFFS, groups={"sector": sectors}, p_true=p_true)
    assert set(metrics) == {"overall", "tiers", "groups", "truth"}
    assert [g["group"] for g in metrics["groups"]["sector"]] == ["a", "b"]
    assert metrics["truth"]["mean_abs_error"] == pytest.approx(np.mean(np.abs(p - p_true)))
    assert "truth" not in evaluate_predictions(y, p, cutoffs=CUTOFFS)


def test_bootstrap_intervals_bracket_the_estimate():
    rng = np.random.default_rng(3)
    p = rng.random(300)
    y = (rng.random(300) < p).astype(int)
    intervals = bootstrap_intervals(y, p, rounds=40)
    point = classification_metrics(y, p)
    for metric, (low, high) in intervals.items():
        assert low < point[metric] < high, metric
    assert intervals == bootstrap_intervals(y, p, rounds=40)  # seeded: reproducible


def _labelled(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    return (rng.random(n) < p).astype(int), p


def test_paired_bootstrap_model_and_baseline_intervals_are_each_ones_own_bootstrap():
    y, p = _labelled(3)
    baseline = np.clip(p + np.random.default_rng(4).normal(0, 0.2, len(p)), 0.01, 0.99)
    paired = paired_bootstrap(y, p, baseline, rounds=40, seed=7)
    # The same resamples (same seed) as the one-model bootstrap of each.
    assert paired["model"] == bootstrap_intervals(y, p, rounds=40, seed=7)
    assert paired["baseline"] == bootstrap_intervals(y, baseline, rounds=40, seed=7)
    assert paired_bootstrap(y, p, rounds=40, seed=7) == {"model": paired["model"]}


def test_paired_bootstrap_difference_by_a_second_computation():
    y, p = _labelled(5, 200)
    baseline = p**2
    rounds, seed = 30, 1
    paired = paired_bootstrap(y, p, baseline, metrics=("brier",), rounds=rounds, seed=seed)
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(rounds):
        rows = rng.integers(0, len(y), len(y))
        differences.append(
            np.mean((p[rows] - y[rows]) ** 2) - np.mean((baseline[rows] - y[rows]) ** 2)
        )
    low, high = paired["difference"]["brier"]
    assert low == pytest.approx(np.quantile(differences, 0.025), abs=1e-12)
    assert high == pytest.approx(np.quantile(differences, 0.975), abs=1e-12)


def test_paired_difference_of_ranking_metrics_is_zero_for_a_monotone_baseline():
    # p**3 orders the rows as p does: ROC AUC, PR AUC and KS are the same on every resample,
    # while the Brier score (which reads the values) differs.
    y, p = _labelled(8)
    paired = paired_bootstrap(y, p, p**3, metrics=("roc_auc", "pr_auc", "ks", "brier"), rounds=25)
    for metric in ("roc_auc", "pr_auc", "ks"):
        assert paired["difference"][metric] == pytest.approx((0.0, 0.0), abs=1e-12), metric
    low, high = paired["difference"]["brier"]
    assert low < high


def test_reliability_bins_by_hand():
    # Eight rows sorted by p, four equal-count bins of two.
    p = np.array([0.9, 0.1, 0.2, 0.8, 0.4, 0.3, 0.6, 0.7])
    y = np.array([1, 0, 0, 1, 1, 0, 0, 1])
    bins = reliability_bins(y, p, bins=4)
    np.testing.assert_allclose(bins["predicted"], [0.15, 0.35, 0.65, 0.85])
    np.testing.assert_allclose(bins["observed"], [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(bins["rows"], [2, 2, 2, 2])
    # More bins than rows: one row each.
    assert len(reliability_bins(y[:3], p[:3], bins=10)["rows"]) == 3


def test_reliability_intervals_are_wilson_intervals_as_scipy_computes_them():
    from scipy.stats import binomtest

    rng = np.random.default_rng(2)
    p = rng.random(40)
    y = (rng.random(40) < p).astype(int)
    bins = reliability_bins(y, p, bins=5)
    order = np.argsort(p, kind="stable")
    for k, rows in enumerate(np.array_split(order, 5)):
        wilson = binomtest(int(y[rows].sum()), len(rows)).proportion_ci(method="wilson")
        assert bins["low"][k] == pytest.approx(wilson.low, abs=1e-6)
        assert bins["high"][k] == pytest.approx(wilson.high, abs=1e-6)
