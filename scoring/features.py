"""Domain features as a scikit-learn transformer.

The model sees what an export officer would look at: how much of the installed capacity is used
(and how much lies dormant), how much of the sales are exported, whether sales grow, sales per
employee, the cooperative's age, its certificates, and the raw contract columns. Missing values
stay missing (NaN): the model learns what a missing value means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["DERIVED_FEATURES", "FeatureBuilder", "reference_point"]

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


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Turn validated registry rows into the model's numeric feature matrix.

    Parameters
    ----------
    features : sequence of str or None
        Output features, in order: names from :data:`DERIVED_FEATURES` or input columns. None
        passes every input column through, then adds each derived feature whose inputs exist.
    categories : mapping of str to sequence of str or None
        For categorical input columns, their categories: values become their position in the list
        (a float code), anything else NaN.
    reference_year : int or None
        The year ages are counted to; None uses the calendar year at fit time.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    reference_year_ : int
    features_ : tuple of str
        The output features.
    """

    def __init__(
        self,
        features: Sequence[str] | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
        reference_year: int | None = None,
    ) -> None:
        self.features = features
        self.categories = categories
        self.reference_year = reference_year

    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> FeatureBuilder:
        """Check the inputs and fix the output features."""
        frame = self._frame(X, fitting=True)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.reference_year_ = (
            int(self.reference_year) if self.reference_year is not None else dt.date.today().year
        )
        available = set(frame.columns)
        if self.features is None:
            derived = [
                name
                for name, (needs, _) in DERIVED_FEATURES.items()
                if set(needs) <= available and name not in available
            ]
            self.features_ = (*frame.columns, *derived)
        else:
            self.features_ = tuple(self.features)
            for name in self.features_:
                needs = DERIVED_FEATURES[name][0] if name in DERIVED_FEATURES else (name,)
                absent = [c for c in needs if c not in available]
                if absent:
                    raise ValueError(
                        f"feature '{name}' needs input column(s) {absent}, which X lacks "
                        f"(X has: {sorted(available)[:20]})"
                    )
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The feature matrix (float64, NaN where missing), columns as in ``features_``."""
        check_is_fitted(self, "features_")
        frame = self._frame(X, fitting=False)
        if frame.shape[1] != self.n_features_in_ and not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"X has {frame.shape[1]} features, but FeatureBuilder is expecting "
                f"{self.n_features_in_} features as input"
            )
        n = len(frame)
        out = np.empty((n, len(self.features_)), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            for j, name in enumerate(self.features_):
                out[:, j] = self._feature(frame, name)
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "features_")
        return np.asarray(self.features_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _frame(self, X: pd.DataFrame | np.ndarray, *, fitting: bool) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X
        if getattr(X, "dtype", None) is not None and X.dtype.kind in "US":
            raise ValueError("FeatureBuilder takes numbers in an array; pass a DataFrame for text")
        # scikit-learn's own checks: 2-D, not empty, not sparse or complex, numbers (an object
        # array of numbers is fine), no infinity; the messages are the ones users know.
        array = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan", estimator=self)
        names = (
            list(self.feature_names_in_)
            if not fitting and hasattr(self, "feature_names_in_")
            else [f"x{i}" for i in range(array.shape[1])]
        )
        if len(names) != array.shape[1]:
            names = [f"x{i}" for i in range(array.shape[1])]
        return pd.DataFrame(array, columns=names)

    def _column(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        values = frame[name]
        categories = (self.categories or {}).get(name)
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
            return self.reference_year_ - col("established_year")
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
