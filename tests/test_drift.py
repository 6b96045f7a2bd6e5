"""Tests of population stability (scoring.drift): the PSI by hand, its verdict bands, the
training reference, and the streaming monitor against one pass and against a second count."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from scoring.drift import JUDGED, MIN_ROWS, DriftMonitor, build_drift_reference, psi, verdict

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


# --- lists cut by segment, and small lists --------------------------------------------------

SEGMENTED = ["utilization", "sector", "province"]
PROVINCES = 5


def _segmented(n: int, seed: int) -> np.ndarray:
    """utilization depends strongly on the sector (mean = sector code), province does not."""
    rng = np.random.default_rng(seed)
    sector = rng.choice(SECTORS, size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(np.float64)
    province = rng.choice(PROVINCES, size=n).astype(np.float64)
    utilization = rng.normal(loc=sector, scale=0.5)
    return np.column_stack([utilization, sector, province])


@pytest.fixture(scope="module")
def segmented_reference():
    return build_drift_reference(_segmented(20000, seed=20), SEGMENTED, {1: SECTORS, 2: PROVINCES})


def _segment_report(reference, rows, **options) -> dict[str, dict]:
    monitor = DriftMonitor(reference, SEGMENTED, segments=("sector", "province"), **options)
    monitor.update(rows)
    return {row["feature"]: row for row in monitor.report()}


def test_a_one_sector_list_does_not_flag_sector_and_is_compared_within_it(segmented_reference):
    rows = _segmented(20000, seed=21)
    one_sector = rows[rows[:, 1] == 3][:1500]
    report = _segment_report(segmented_reference, one_sector)
    # The sector's own PSI is huge (one of four sectors) and kept, but it is the list's cut.
    assert report["sector"]["psi"] > 1 and report["sector"]["verdict"] == "segment"
    assert (report["sector"]["covered"], report["sector"]["categories"]) == (1, 4)
    # Against the whole reference utilization (mean 3 here, about 1 overall) would be flagged;
    # against the training rows of sector 3 it is stable.
    plain = DriftMonitor(segmented_reference, SEGMENTED)
    plain.update(one_sector)
    assert {r["feature"]: r for r in plain.report()}["utilization"]["verdict"] == "shifted"
    assert report["utilization"]["verdict"] == "stable"
    assert report["utilization"]["compared_with"] == "sector"
    assert report["province"]["verdict"] == "stable"
    assert not [r for r in report.values() if r["verdict"] == "shifted"]


def test_a_one_province_list_does_not_flag_province(segmented_reference):
    rows = _segmented(20000, seed=22)
    report = _segment_report(segmented_reference, rows[rows[:, 2] == 4])
    assert report["province"]["verdict"] == "segment"
    assert (report["province"]["covered"], report["province"]["categories"]) == (1, PROVINCES)
    assert report["utilization"]["verdict"] == "stable"
    assert report["sector"]["verdict"] == "stable"  # compared with province 4's sector mix


def test_a_real_shift_within_the_segment_is_still_flagged(segmented_reference):
    rows = _segmented(20000, seed=23)
    one_sector = rows[rows[:, 1] == 2][:2000].copy()
    one_sector[:, 0] += 1.0  # two standard deviations within the sector
    report = _segment_report(segmented_reference, one_sector)
    assert report["utilization"]["verdict"] == "shifted"
    assert report["sector"]["verdict"] == "segment"


def test_the_mix_of_a_list_reweights_the_segment_shares_by_hand():
    # A yes/no feature (bins: no, yes, missing): 90% no in sector 0, 90% yes in sector 1.
    reference = {
        "yes": {
            "edges": [0.5],
            "categories": None,
            "expected": [0.5, 0.5, 0.0],
            "by_segment": {"sector": [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.5, 0.5, 0.0]]},
        },
        "sector": {"edges": [], "categories": 2, "expected": [0.5, 0.5, 0.0]},
    }
    # Six rows of sector 0 (four no, two yes) and two of sector 1 (both yes).
    X = np.array([[0, 0]] * 4 + [[1, 0]] * 2 + [[1, 1]] * 2, dtype=float)
    monitor = DriftMonitor(reference, ["yes", "sector"], segments=["sector"], min_rows=1)
    monitor.update(X)
    report = {r["feature"]: r for r in monitor.report()}
    # The sector mix (3/4, 1/4) is not stable: 0.25 ln 1.5 + 0.25 ln 2 = 0.274.
    assert report["sector"]["psi"] == pytest.approx(0.25 * math.log(3), abs=1e-6)
    assert report["sector"]["verdict"] == "segment"
    # Expected in that mix: 3/4 (0.9, 0.1) + 1/4 (0.1, 0.9) = (0.7, 0.3); seen (0.5, 0.5).
    by_hand = 0.2 * math.log(0.7 / 0.5) + 0.2 * math.log(0.5 / 0.3)
    assert report["yes"]["psi"] == pytest.approx(by_hand, abs=1e-6)
    assert report["yes"]["compared_with"] == "sector"
    assert report["yes"]["verdict"] == verdict(by_hand) == "investigate"


def test_segment_shares_are_smoothed_towards_the_whole():
    # Sector 0 has rows in bin 0 only, sector 1 in bin 1 only; the whole is half and half.
    X = np.array([[0.0, 0]] * 50 + [[1.0, 1]] * 50, dtype=float)
    built = build_drift_reference(X, ["value", "sector"], {1: 2}, bins=2)
    whole = np.array(built["value"]["expected"])
    table = np.array(built["value"]["by_segment"]["sector"])
    # Each sector: (its 50 rows + 50 rows of the whole) / 100; no rows of the missing code: the
    # whole's own shares.
    own = np.zeros_like(whole)
    own[np.argmax(table[0])] = 1.0
    np.testing.assert_allclose(table[0], (50 * own + 50 * whole) / 100, atol=1e-6)
    np.testing.assert_allclose(table[2], whole, atol=1e-6)
    assert "by_segment" not in built["sector"]  # a segment is not split by itself


def test_a_reference_without_segment_shares_is_not_comparable(segmented_reference):
    old = json.loads(json.dumps(segmented_reference))
    for spec in old.values():
        spec.pop("by_segment", None)
    rows = _segmented(20000, seed=24)
    report = _segment_report(old, rows[rows[:, 1] == 3][:1500])
    assert report["sector"]["verdict"] == "segment"
    assert report["utilization"]["verdict"] == "not_comparable"
    assert report["utilization"]["segment"] == "sector"
    assert report["utilization"]["psi"] > 0.25  # the figure is kept


def test_no_verdict_below_the_minimum_number_of_rows(reference):
    rows = _population(3000, seed=25)
    rows[:, 0] += 1.0
    few = _monitor(reference, rows[: MIN_ROWS - 1])
    enough = _monitor(reference, rows[:MIN_ROWS])
    assert {r["verdict"] for r in few} == {"too_few_rows"}
    assert {r["feature"]: r["verdict"] for r in enough}["utilization"] == "shifted"
    # The PSI is the same figure either way: computed, only not judged.
    monitor = DriftMonitor(reference, FEATURES, min_rows=1)
    monitor.update(rows[: MIN_ROWS - 1])
    assert [r["psi"] for r in few] == [r["psi"] for r in monitor.report()]


def test_judged_features_come_before_the_others(segmented_reference):
    rows = _segmented(20000, seed=26)
    monitor = DriftMonitor(segmented_reference, SEGMENTED, segments=["sector", "province"])
    monitor.update(rows[rows[:, 1] == 0][:1000])
    verdicts = [r["verdict"] for r in monitor.report()]
    assert verdicts[-1] == "segment" and set(verdicts[:-1]) <= set(JUDGED)


def test_scoring_a_one_sector_list_flags_no_sector(scoring_model, tmp_path):
    from scoring.batch import score_file
    from scoring.sample import generate_sample, to_english_table

    frame, _ = generate_sample(4000, seed=27, labelled=False)
    table = to_english_table(frame)
    counts = table["sector"].value_counts()
    table[table["sector"] == counts.index[0]].to_csv(tmp_path / "one.csv", index=False)
    assert counts.iloc[0] >= MIN_ROWS
    result = score_file(
        tmp_path / "one.csv", scoring_model, tmp_path / "out.csv", summary=tmp_path / "s.json"
    )
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    rows = {r["feature"]: r for r in summary["drift"]}
    assert rows["sector"]["verdict"] == "segment" and rows["sector"]["covered"] == 1
    assert "sector" not in summary["drift_shifted"]
    assert summary["drift_shifted"] == [
        r["feature"] for r in summary["drift"] if r["verdict"] == "shifted"
    ]
    assert result.rows_scored == counts.iloc[0]
