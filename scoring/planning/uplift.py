"""The counterfactual: each cooperative's probability before and after every programme that
changes it, as the candidates table the allocation chooses from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from scoring.contract import Contract
from scoring.model import ScoringModel
from scoring.planning.programs import Program, apply_program

__all__ = ["CANDIDATE_COLUMNS", "PLAN_COLUMNS", "candidate_uplifts", "uplifts"]

#: The plan's columns: one row per funded cooperative.
PLAN_COLUMNS = ["coop_id", "program", "cost", "probability_before", "probability_after", "uplift"]
#: The candidates' columns: the plan's, after ``position``, the row of the planned frame.
CANDIDATE_COLUMNS = ["position", *PLAN_COLUMNS]


def candidate_uplifts(
    frame: pd.DataFrame, model: ScoringModel, programs: Sequence[Program]
) -> pd.DataFrame:
    """Probability before and after every programme, for every cooperative it changes.

    One feature build and one scorer call per programme, over the rows it changes.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`: ``position`` (row of ``frame``), ``coop_id``,
        ``program`` (id), ``cost``, ``probability_before``, ``probability_after``, ``uplift``.
        Ordered by programme, then position. ``uplift`` may be <= 0 (a non-monotone feature).
    """
    return uplifts(
        frame,
        programs,
        model.contract,
        lambda rows: model.scorer.probability(model.features(rows)),
    )


def uplifts(
    frame: pd.DataFrame,
    programs: Sequence[Program],
    contract: Contract,
    probability: Callable[[pd.DataFrame], np.ndarray],
) -> pd.DataFrame:
    """:func:`candidate_uplifts` with any probability of a frame (e.g. the sample's truth)."""
    before = probability(frame) if len(frame) else np.empty(0)
    ids = frame[contract.id_column.name].to_numpy(dtype=object) if len(frame) else np.empty(0)
    parts = []
    for program in programs:
        if not len(frame):
            break
        new, changed = apply_program(frame, program, contract)
        rows = np.flatnonzero(changed)
        if not len(rows):
            continue
        after = probability(new.iloc[rows])
        parts.append(
            pd.DataFrame(
                {
                    "position": rows.astype(np.int64),
                    "coop_id": ids[rows],
                    "program": program.id,
                    "cost": program.cost,
                    "probability_before": before[rows],
                    "probability_after": after,
                    "uplift": after - before[rows],
                }
            )
        )
    if not parts:
        return _empty_candidates()
    return pd.concat(parts, ignore_index=True)


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "position": pd.Series(dtype=np.int64),
            "coop_id": pd.Series(dtype=object),
            "program": pd.Series(dtype=object),
            **{c: pd.Series(dtype=np.float64) for c in PLAN_COLUMNS[2:]},
        }
    )
