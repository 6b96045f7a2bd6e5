"""Domain features: the numbers the model sees, computed from validated rows (numpy only).

The model sees what an export officer would look at: how much of the installed capacity is used
(and how much lies dormant), how much of the sales are exported, whether sales grow, sales per
employee, the cooperative's age, its certificates, and the raw contract columns. Missing values
stay missing (NaN): the model learns what a missing value means.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["DERIVED_FEATURES", "FeatureMatrix", "reference_point"]

#: Derived features: name -> (the input columns it needs, what it means).
DERIVED_FEATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "utilization": (
        ("actual_output", "installed_capacity"),
        "actual output / installed capacity: how much of the capacity is active",
    ),
    "dormant_capacity_share": (
        ("actual_output", "installed_capacity"),
        "1 - utilization (at least 0): the share of capacity lying dormant",
    ),
    "export_intensity": (("export_revenue", "revenue"), "export sales / sales"),
    "revenue_growth": (("revenue", "revenue_prev"), "sales / sales the year before - 1"),
    "revenue_per_employee": (("revenue", "employees"), "sales / employees"),
    "coop_age": (("established_year",), "reference year - year of establishment"),
    "certification_count": (
        ("iso9001", "intl_certifications", "standard_mark"),
        "ISO 9001 + international certificates + standard mark (missing counts as none)",
    ),
}


class FeatureMatrix:
    """Builds the feature matrix of validated rows: no scikit-learn, so scoring stays light.

    Parameters
    ----------
    features
        Output features, in order: names from :data:`DERIVED_FEATURES` or input columns.
    categories
        For categorical input columns, their categories: values become their position in the
        list (a float code), anything else NaN.
    reference_year
        The year ages are counted to.
    """

    def __init__(
        self,
        features: Sequence[str],
        categories: Mapping[str, Sequence[str]] | None,
        reference_year: int,
    ) -> None:
        self.features = tuple(features)
        self.categories = dict(categories or {})
        self.reference_year = int(reference_year)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The feature matrix (float64, NaN where missing), columns as in ``features``."""
        out = np.empty((len(frame), len(self.features)), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            for j, name in enumerate(self.features):
                out[:, j] = self._feature(frame, name)
        return out

    def _column(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        values = frame[name]
        categories = self.categories.get(name)
        if categories is not None:
            if isinstance(values.dtype, pd.CategoricalDtype) and list(
                values.cat.categories
            ) == list(categories):
                codes = values.cat.codes.to_numpy().astype(np.float64)
            else:
                # get_indexer gives -1 for values outside the list (pd.Categorical warns, and
                # will refuse them in pandas 4).
                codes = pd.Index(list(categories)).get_indexer(values.astype(object))
                codes = codes.astype(np.float64)
            codes[codes < 0] = np.nan
            return codes
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)

    def _feature(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        col = lambda c: self._column(frame, c)  # noqa: E731
        if name not in DERIVED_FEATURES or name in frame.columns:
            return col(name)
        if name == "utilization":
            return col("actual_output") / col("installed_capacity")
        if name == "dormant_capacity_share":
            return np.maximum(1.0 - col("actual_output") / col("installed_capacity"), 0.0)
        if name == "export_intensity":
            return _ratio(col("export_revenue"), col("revenue"))
        if name == "revenue_growth":
            return _ratio(col("revenue"), col("revenue_prev")) - 1.0
        if name == "revenue_per_employee":
            return _ratio(col("revenue"), col("employees"))
        if name == "coop_age":
            return self.reference_year - col("established_year")
        if name == "certification_count":
            parts = np.column_stack(
                [col("iso9001"), col("intl_certifications"), col("standard_mark")]
            )
            total = np.nansum(parts, axis=1)
            total[np.isnan(parts).all(axis=1)] = np.nan
            return total
        raise ValueError(f"unknown feature '{name}'")  # pragma: no cover


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    out = np.full_like(numerator, np.nan, dtype=np.float64)
    ok = np.isfinite(denominator) & (denominator != 0)
    out[ok] = numerator[ok] / denominator[ok]
    return out


def reference_point(X: np.ndarray, categorical: Collection[int]) -> np.ndarray:
    """Median of each column (the most common code for a categorical one), 0 if all missing."""
    reference = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        column = X[:, j][np.isfinite(X[:, j])]
        if not len(column):
            continue
        if j in categorical:
            values, counts = np.unique(column, return_counts=True)
            reference[j] = values[np.argmax(counts)]
        else:
            reference[j] = float(np.median(column))
    return reference


def __getattr__(name: str) -> object:
    # Pipelines pickled before the transformer moved name it here; unpickling them still works.
    if name == "FeatureBuilder":
        from scoring.feature_builder import FeatureBuilder

        return FeatureBuilder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
