"""The readiness score and tiers as people see them: the shown score and the tiers' colours.

One place for both, so that a tier is decided on the score a reader sees and looks the same in
the reports' charts and in the Excel workbook.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIER_COLORS", "TIER_TEXT_COLORS", "readiness_scores"]

#: The tiers' colours, in the charts, the pages' style sheet and the workbook's tier cells.
TIER_COLORS = {"A": "#1b7837", "B": "#7fbf7b", "C": "#f1a340", "D": "#b2182b"}
#: Text on a tier's colour: white on the dark ones, black on the light ones.
TIER_TEXT_COLORS = {"A": "#ffffff", "B": "#000000", "C": "#000000", "D": "#ffffff"}


def readiness_scores(probability: np.ndarray) -> np.ndarray:
    """The readiness score people see: 100 times the probability, to one decimal.

    Parameters
    ----------
    probability
        Calibrated probabilities (NaN stays NaN).

    Returns
    -------
    numpy.ndarray
        Scores from 0 to 100 in steps of 0.1, as floats.
    """
    return np.round(100.0 * np.asarray(probability, dtype=np.float64), 1)
