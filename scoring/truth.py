"""True probabilities of sample data: reading a truth file and aligning it to scored rows.

``readiness sample --truth FILE`` writes each row's true probability; training and evaluation
use it to report the gap to the Bayes AUC and mean |p - p_true|.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring.errors import TrainingError
from scoring.reading import open_table

__all__ = ["align_truth", "read_truth"]


def read_truth(path: str | Path) -> pd.DataFrame:
    """A truth file (``coop_id``, ``true_probability``) as written by ``readiness sample``."""
    table = open_table(path).read_all().to_pandas()
    if not {"coop_id", "true_probability"} <= set(table.columns):
        raise TrainingError(
            f"{Path(path).name} is not a truth file: it needs columns coop_id and true_probability"
        )
    table["true_probability"] = pd.to_numeric(table["true_probability"], errors="coerce")
    table["coop_id"] = table["coop_id"].astype(str)
    return table


def align_truth(truth: pd.DataFrame, ids: pd.Series) -> np.ndarray:
    """Each id's true probability from a truth file's rows (sample data)."""
    if not {"coop_id", "true_probability"} <= set(truth.columns):
        raise TrainingError("the truth file needs columns coop_id and true_probability")
    lookup = truth.drop_duplicates("coop_id").set_index("coop_id")["true_probability"]
    values = lookup.reindex(ids.astype(str).to_numpy()).to_numpy(dtype=float)
    if np.isnan(values).any():
        missing = int(np.isnan(values).sum())
        raise TrainingError(f"the truth file lacks {missing} of the holdout's coop_id values")
    return values
