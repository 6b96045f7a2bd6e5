"""The domain features as a scikit-learn transformer, for the analysts' pipeline and training.

Scoring builds the same matrix with :class:`scoring.features.FeatureMatrix`, without
scikit-learn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from scoring.features import FeatureMatrix, derived_expressions

__all__ = ["FeatureBuilder"]


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Turn validated registry rows into the model's numeric feature matrix.

    Parameters
    ----------
    features : sequence of str or None
        Output features, in order: names of ``derived`` or input columns. None passes every
        input column through, then adds each derived feature whose inputs exist.
    categories : mapping of str to sequence of str or None
        For categorical input columns, their categories: values become their position in the list
        (a float code), anything else NaN.
    reference_year : int or None
        The year ages are counted to; None uses the calendar year at fit time.
    derived : mapping of str to str or None
        Derived features as expressions of input columns (a contract's ``[model.derived]``,
        grammar in :mod:`scoring.expressions`); None: the packaged contract's.

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
        derived: Mapping[str, str] | None = None,
    ) -> None:
        self.features = features
        self.categories = categories
        self.reference_year = reference_year
        self.derived = derived

    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> FeatureBuilder:
        """Check the inputs and fix the output features."""
        frame = self._frame(X, fitting=True)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.reference_year_ = (
            int(self.reference_year) if self.reference_year is not None else dt.date.today().year
        )
        available = set(frame.columns)
        expressions = derived_expressions(self.derived)
        if self.features is None:
            derived = [
                name
                for name, expression in expressions.items()
                if set(expression.columns) <= available and name not in available
            ]
            self.features_ = (*frame.columns, *derived)
        else:
            self.features_ = tuple(self.features)
            for name in self.features_:
                derived_here = name in expressions and name not in available
                needs = expressions[name].columns if derived_here else (name,)
                absent = [c for c in needs if c not in available]
                if absent:
                    raise ValueError(
                        f"feature '{name}' needs input column(s) {absent}, which X lacks "
                        f"(X has: {sorted(available)[:20]})"
                    )
        self.matrix_ = FeatureMatrix(
            self.features_, self.categories, self.reference_year_, self.derived
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
        return self.matrix_.transform(frame)

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
