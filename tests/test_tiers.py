"""Tests of the shown score and the tiers decided on it (scoring.tiers, scoring.model.tiers_of):
a score never contradicts its tier, at every cut-off edge."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.batch import score_frame
from scoring.model import tiers_of
from scoring.sample import generate_sample
from scoring.tiers import TIER_COLORS, readiness_scores

CUTOFFS = {"A": 0.5, "B": 0.3, "C": 0.15}  # the packaged contract's

# (probability, the score a reader sees, its tier), worked out by hand: 100 p to one decimal,
# then A from 50.0, B from 30.0, C from 15.0.
EDGES = [
    (0.4949, 49.5, "B"),
    (0.495, 49.5, "B"),
    (0.4951, 49.5, "B"),
    (0.49949, 49.9, "B"),
    (0.49951, 50.0, "A"),  # shows 50.0: A, though p < 0.5
    (0.499662, 50.0, "A"),  # the case of the issue
    (0.4999, 50.0, "A"),
    (0.5, 50.0, "A"),
    (0.50001, 50.0, "A"),
    (0.5049, 50.5, "A"),
    (0.505, 50.5, "A"),
    (0.5051, 50.5, "A"),
    (0.29949, 29.9, "C"),
    (0.29951, 30.0, "B"),
    (0.3, 30.0, "B"),
    (0.30049, 30.0, "B"),
    (0.14949, 14.9, "D"),
    (0.14951, 15.0, "C"),
    (0.15, 15.0, "C"),  # 100 * 0.15 is 15.000000000000002 in floating point: still C
    (0.1501, 15.0, "C"),
    (0.0, 0.0, "D"),
    (1.0, 100.0, "A"),
]


@pytest.mark.parametrize(("p", "score", "tier"), EDGES)
def test_each_cut_off_edge_by_hand(p, score, tier):
    assert readiness_scores(np.array([p]))[0] == score
    assert tiers_of(np.array([p]), CUTOFFS)[0] == tier


def test_a_missing_probability_has_no_score_and_the_lowest_tier():
    assert np.isnan(readiness_scores(np.array([np.nan]))[0])
    assert tiers_of(np.array([np.nan, 0.7]), CUTOFFS).tolist() == ["D", "A"]


def test_a_cut_off_between_two_shown_scores_takes_the_next_shown_score():
    # A cut-off of 0.1234 is a score of 12.34: 12.3 is below it, 12.4 the first score above.
    cutoffs = {"A": 0.5, "B": 0.3, "C": 0.1234}
    probabilities = np.array([0.1234, 0.12349, 0.12351, 0.124])
    assert readiness_scores(probabilities).tolist() == [12.3, 12.3, 12.4, 12.4]
    assert tiers_of(probabilities, cutoffs).tolist() == ["D", "D", "C", "C"]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_the_tier_is_the_shown_scores_tier(probabilities):
    """Checked in exact decimals: the shown score against 100 times each cut-off."""
    p = np.array(probabilities)
    shown = readiness_scores(p)
    tiers = tiers_of(p, CUTOFFS)
    for score, tier in zip(shown, tiers, strict=True):
        exact = Decimal(f"{score:.1f}")
        expected = next((t for t in "ABC" if exact >= 100 * Decimal(str(CUTOFFS[t]))), "D")
        assert tier == expected, (score, tier)


def test_scored_rows_never_show_a_score_that_contradicts_their_tier(scoring_model):
    frame, _ = generate_sample(3000, seed=41, labelled=False)
    scored = score_frame(frame, scoring_model)
    lower = {"A": 50.0, "B": 30.0, "C": 15.0, "D": 0.0}  # the default contract's cut-offs
    upper = {"A": 100.1, "B": 50.0, "C": 30.0, "D": 15.0}
    score, tier = scored["readiness_score"], scored["readiness_tier"]
    assert (score >= tier.map(lower)).all() and (score < tier.map(upper)).all()
    assert set(tier) == set("ABCD")


def test_one_palette_for_reports_and_workbooks():
    from scoring.report import plots

    assert plots.TIER_COLORS is TIER_COLORS
    assert set(TIER_COLORS) == set("ABCD")
