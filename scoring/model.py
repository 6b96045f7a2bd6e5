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

if TYPE_CHECKING:
    from scoring.registry import LoadedModel

__all__ = ["ScoringModel", "tiers_of"]


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
    """Tier letter per probability: the best tier whose cut-off it reaches, else the lowest.

    ``cutoffs`` gives the lower bound of every tier in :data:`~scoring.contract.TIERS` but the
    last.
    """
    tiers = np.full(len(probability), TIERS[-1], dtype=object)
    for tier in reversed(TIERS[:-1]):
        tiers[probability >= cutoffs[tier]] = tier
    return tiers
