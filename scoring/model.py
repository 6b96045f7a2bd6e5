"""The model as scoring sees it: features, lookup tables, explainer, tiers and drift reference.

Built from a verified :class:`~scoring.registry.LoadedModel`; holds no pickle. Batch scoring,
planning, the Dask workers and the service all score through one :class:`ScoringModel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring.contract import TIERS
from scoring.explain import Explainer
from scoring.features import FeatureMatrix
from scoring.tiers import readiness_scores

if TYPE_CHECKING:
    from scoring.registry import LoadedModel

__all__ = ["ScoringModel", "tier_codes", "tiers_of"]


class ScoringModel:
    """What scoring needs from a loaded model: features, tables, explainer, tiers, drift."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.contract = loaded.contract
        manifest = loaded.manifest
        self.matrix = FeatureMatrix(
            manifest.features.features,
            manifest.features.categories,
            manifest.features.reference_year,
            derived=self.contract.model.derived,  # features defined in the model's contract
        )
        self.scorer = loaded.scorer
        self.explainer = Explainer(self.scorer, manifest.reference.explainer)
        self.tiers = {tier: float(manifest.tiers[tier]) for tier in TIERS[:-1]}
        self.drift_reference = manifest.reference.drift

    @property
    def reference(self) -> str:
        """``NAME@VERSION`` of the model."""
        return self.loaded.reference

    def features(self, valid: pd.DataFrame) -> np.ndarray:
        """The feature matrix of validated rows."""
        return self.matrix.transform(valid)


def tiers_of(probability: np.ndarray, cutoffs: dict[str, float]) -> np.ndarray:
    """Tier letter per probability: the best tier whose cut-off its shown score reaches.

    The tier is decided on the readiness score people see (:func:`~scoring.tiers.readiness_scores`,
    one decimal), so that a score never contradicts its tier: tier A iff the score is at least
    ``100 * cutoffs["A"]`` (p = 0.49966 shows 50.0 and is A under a 0.5 cut-off), and so on;
    below every cut-off, or missing, is the lowest tier. ``cutoffs`` gives the lower bound of
    every tier in :data:`~scoring.contract.TIERS` but the last.
    """
    return np.array(TIERS, dtype=object).take(tier_codes(probability, cutoffs))


def tier_codes(probability: np.ndarray, cutoffs: dict[str, float]) -> np.ndarray:
    """:func:`tiers_of` as positions in :data:`~scoring.contract.TIERS` (0 is the best tier)."""
    tenths = np.rint(readiness_scores(probability) * 10.0)  # the shown score, exactly
    codes = np.full(len(tenths), len(TIERS) - 1, dtype=np.intp)
    for code in range(len(TIERS) - 2, -1, -1):
        # The lowest shown score at or above the cut-off, in tenths; rounding first keeps
        # 1000 * 0.15 (149.99999999999997 or so) at 150, never 151.
        needed = np.ceil(np.round(1000.0 * cutoffs[TIERS[code]], 6))
        codes[tenths >= needed] = code
    return codes
