"""Tests of population stability (scoring.drift): the PSI by hand, its verdict bands, the
training reference, and the streaming monitor against one pass and against a second count."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from scoring.drift import DriftMonitor, build_drift_reference, psi, verdict

FEATURES = ["utilization", "sector"]
SECTORS = 4  # category codes 0..3 of the categorical feature


def _population(n: int, seed: int, *, shift: float = 0.0) -> np.ndarray:
    """A numeric feature (normal, some missing) and a categorical one (codes 0..3)."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(loc=shift, size=n)
    numeric[rng.random(n) < 0.05] = np.nan
    sector = rng.choice(SECTORS, size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(np.float64)
    return np.column_stack([numeric, sector])


@pytest.fixture(scope="module")
def reference():
    return build_drift_reference(_population(4000, seed=0), FEATURES, {1: SECTORS})


def _monitor(reference, *chunks: np.ndarray) -> list[dict]:
    monitor = DriftMonitor(reference, FEATURES)
    for chunk in chunks:
        monitor.update(chunk)
    return monitor.report()


# --- psi and verdict ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "by_hand"),
    [
        # 0.25 ln 2 + 0.25 ln 1.5 = 0.25 ln 3
        ([0.5, 0.5], [0.25, 0.75], 0.25 * math.log(3)),
        # 0.1 ln 1.5 + 0 + 0.1 ln 1.25 = 0.1 ln 1.875
        ([0.2, 0.3, 0.5], [0.3, 0.3, 0.4], 0.1 * math.log(1.875)),
        # symmetric in its arguments
        ([0.25, 0.75], [0.5, 0.5], 0.25 * math.log(3)),
    ],
)
def test_psi_by_hand(expected, actual, by_hand):
    assert psi(np.array(expected), np.array(actual)) == pytest.approx(by_hand, rel=1e-12)


def test_psi_of_identical_distributions_is_zero():
    shares = np.array([0.1, 0.2, 0.3, 0.4, 0.0])
    assert psi(shares, shares) == 0.0
    assert psi([1.0], [1.0]) == 0.0


def test_an_empty_bin_takes_the_floor_and_the_psi_stays_finite():
    # Expected share 0 is read as 1e-4: 0.25 ln 2 + (0.25 - 1e-4) ln(0.25 / 1e-4).
    by_hand = 0.25 * math.log(2) + (0.25 - 1e-4) * math.log(2500)
    assert psi([0.5, 0.5, 0.0], [0.5, 0.25, 0.25]) == pytest.approx(by_hand, rel=1e-12)
    # And an empty actual bin the same way, from the other side.
    assert psi([0.5, 0.25, 0.25], [0.5, 0.5, 0.0]) == pytest.approx(by_hand, rel=1e-12)
    assert math.isfinite(psi([1.0, 0.0], [0.0, 1.0]))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "stable"),
        (0.0999, "stable"),
        (0.1, "investigate"),  # "stable below 0.1"
        (0.1001, "investigate"),
        (0.2499, "investigate"),
        (0.25, "investigate"),  # "investigate up to 0.25"
        (0.2501, "shifted"),
        (3.0, "shifted"),
    ],
)
def test_verdict_bands(value, expected):
    assert verdict(value) == expected


# --- the reference --------------------------------------------------------------------------


def test_reference_holds_deciles_and_training_shares():
    # 0..99 and 25 missing: the deciles are 9.9, 19.8, ... 89.1, so each bin holds ten values
    # (10/125 of the rows) and the missing bin, last, the other 25.
    column = np.append(np.arange(100, dtype=np.float64), np.full(25, np.nan))
    sector = np.array([0, 0, 1, 2, np.nan] * 25)
    built = build_drift_reference(np.column_stack([column, sector]), FEATURES, {1: 3})
    numeric = built["utilization"]
    np.testing.assert_allclose(numeric["edges"], 9.9 * np.arange(1, 10), atol=1e-9)
    assert numeric["categories"] is None
    np.testing.assert_allclose(numeric["expected"], [0.08] * 10 + [0.2])
    # Categorical: one bin per code 0..2, then missing.
    assert built["sector"] == {"edges": [], "categories": 3, "expected": [0.4, 0.2, 0.2, 0.2]}


def test_unknown_and_negative_codes_count_as_missing():
    built = build_drift_reference(np.array([[0.0], [1.0]]), ["sector"], {0: 2})
    monitor = DriftMonitor(built, ["sector"])
    monitor.update(np.array([[0.0], [5.0], [-1.0], [np.nan]]))
    np.testing.assert_array_equal(monitor.counts["sector"], [1, 0, 3])


def test_reference_survives_a_json_round_trip(reference):
    """The manifest stores it as JSON: a monitor on the stored form reports the same."""
    stored = json.loads(json.dumps(reference))
    new = _population(1000, seed=3, shift=0.3)
    assert _monitor(stored, new) == _monitor(reference, new)


# --- the monitor ----------------------------------------------------------------------------


def test_training_rows_show_no_drift(reference):
    report = _monitor(reference, _population(4000, seed=0))
    assert [r["psi"] for r in report] == [0.0, 0.0]
    assert {r["verdict"] for r in report} == {"stable"}


def test_chunks_in_any_order_give_the_one_pass_report(reference):
    rows = _population(3000, seed=4, shift=0.2)
    one_pass = _monitor(reference, rows)
    order = np.random.default_rng(5).permutation(len(rows))
    shuffled = rows[order]
    chunks = np.split(shuffled, [1, 400, 401, 1700])  # uneven, one of a single row
    assert _monitor(reference, *chunks[::-1]) == one_pass
    assert _monitor(reference, *[rows[i : i + 250] for i in range(0, 3000, 250)]) == one_pass


def test_monitor_psi_equals_a_second_count(reference):
    rows = _population(2000, seed=6, shift=0.5)
    report = {r["feature"]: r for r in _monitor(reference, rows)}
    # Recount the numeric bins with a comparison per edge, not searchsorted.
    edges = reference["utilization"]["edges"]
    values = rows[:, 0]
    finite = values[~np.isnan(values)]
    counts = [np.sum(finite < edges[0])]
    counts += [np.sum((finite >= lo) & (finite < hi)) for lo, hi in itertools.pairwise(edges)]
    counts += [np.sum(finite >= edges[-1]), np.sum(np.isnan(values))]
    actual = np.array(counts) / len(values)
    expected = np.array(reference["utilization"]["expected"])
    by_hand = float(np.sum((actual - expected) * np.log(actual / expected)))
    assert report["utilization"]["psi"] == pytest.approx(by_hand, abs=1e-6)
    sector = np.bincount(rows[:, 1].astype(int), minlength=SECTORS + 1) / len(rows)
    by_hand = psi(reference["sector"]["expected"], sector)
    assert report["sector"]["psi"] == pytest.approx(by_hand, abs=1e-6)


def test_a_shifted_column_is_flagged_and_listed_first(reference):
    rows = _population(3000, seed=7)
    rows[:, 0] += 1.0  # one standard deviation
    report = _monitor(reference, rows)
    assert [r["feature"] for r in report] == ["utilization", "sector"]
    assert report[0]["verdict"] == "shifted" and report[0]["psi"] > 0.25
    assert report[1]["verdict"] == "stable"


def test_a_shifted_category_mix_is_flagged(reference):
    rows = _population(3000, seed=8)
    rows[:, 1] = np.where(rows[:, 1] == 0, 3, rows[:, 1])  # the largest sector disappears
    report = {r["feature"]: r for r in _monitor(reference, rows)}
    assert report["sector"]["verdict"] == "shifted"
    assert math.isfinite(report["sector"]["psi"])  # its empty bin took the floor
    assert report["utilization"]["verdict"] == "stable"


def test_rows_all_in_one_bin_give_a_finite_psi(reference):
    rows = np.column_stack([np.full(500, 1e9), np.full(500, 2.0)])
    report = _monitor(reference, rows)
    assert all(math.isfinite(r["psi"]) and r["verdict"] == "shifted" for r in report)


def test_no_rows_no_report_and_unknown_features_skipped(reference):
    assert _monitor(reference) == []
    monitor = DriftMonitor(reference, ["not_in_reference", *FEATURES])
    monitor.update(np.column_stack([np.zeros(10), _population(10, seed=9)]))
    assert sorted(r["feature"] for r in monitor.report()) == sorted(FEATURES)
