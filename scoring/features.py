"""Domain features: the numbers the model sees, computed from validated rows (numpy only).

The model sees what an export officer would look at: how much of the installed capacity is used
(and how much lies dormant), how much of the sales are exported, whether sales grow, sales per
employee, the cooperative's age, its certificates, and the raw contract columns. The derived
ones are expressions in the contract (``[model.derived]``, grammar in :mod:`scoring.expressions`),
so an analyst adds a ratio without Python. Missing values stay missing (NaN): the model learns
what a missing value means.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Collection, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from scoring.expressions import Expression, parse_expression

__all__ = [
    "DERIVED_FEATURES",  # noqa: F822 (read from the packaged contract by the module __getattr__)
    "FeatureMatrix",
    "derived_expressions",
    "packaged_derived",
    "reference_point",
]


@functools.cache
def packaged_derived() -> dict[str, str]:
    """The packaged contract's ``[model.derived]``: feature name -> expression text."""
    from scoring.contract import default_contract_path

    document = tomllib.loads(default_contract_path().read_text(encoding="utf-8"))
    return dict(document["model"]["derived"])


def derived_expressions(derived: Mapping[str, str] | None) -> dict[str, Expression]:
    """Parsed expressions of ``derived`` (the packaged ones when None)."""
    texts = packaged_derived() if derived is None else derived
    return {name: _parsed(text) for name, text in texts.items()}


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Expression:
    return parse_expression(text)


class FeatureMatrix:
    """Builds the feature matrix of validated rows: no scikit-learn, so scoring stays light.

    Parameters
    ----------
    features
        Output features, in order: names of ``derived`` or input columns.
    categories
        For categorical input columns, their categories: values become their position in the
        list (a float code), anything else NaN.
    reference_year
        The year ages are counted to (``reference_year`` in an expression).
    derived
        Derived features: name -> expression (the contract's ``[model.derived]``); None: the
        packaged contract's. An input column of the same name, when present, wins.
    """

    def __init__(
        self,
        features: Sequence[str],
        categories: Mapping[str, Sequence[str]] | None,
        reference_year: int,
        derived: Mapping[str, str] | None = None,
    ) -> None:
        self.features = tuple(features)
        self.categories = dict(categories or {})
        self.reference_year = int(reference_year)
        self.expressions = derived_expressions(derived)

    def transform(self, frame: pd.DataFrame, order: Literal["C", "F"] = "C") -> np.ndarray:
        """The feature matrix (float64, NaN where missing), columns as in ``features``.

        ``order="F"`` lays each feature's column out contiguously: faster for scoring, which
        reads the matrix column by column.
        """
        out = np.empty((len(frame), len(self.features)), dtype=np.float64, order=order)
        column = functools.cache(lambda name: self._column(frame, name))
        # A matrix unpickled from an older pipeline has no expressions: the packaged ones.
        expressions = getattr(self, "expressions", None) or derived_expressions(None)
        for j, name in enumerate(self.features):
            expression = expressions.get(name)
            if expression is None or name in frame.columns:
                out[:, j] = column(name)
            else:
                out[:, j] = expression.evaluate(column, self.reference_year, len(frame))
        return out

    def _column(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        values = frame[name]
        categories = self.categories.get(name)
        if categories is not None:
            array = values.array
            if isinstance(array, pd.Categorical) and list(array.categories) == list(categories):
                codes = array.codes.astype(np.float64)
            else:
                # get_indexer gives -1 for values outside the list (pd.Categorical warns, and
                # will refuse them in pandas 4).
                codes = pd.Index(list(categories)).get_indexer(values.astype(object))
                codes = codes.astype(np.float64)
            codes[codes < 0] = np.nan
            return codes
        if values.dtype.kind == "f":  # normalised numbers already: no per-value coercion
            return values.to_numpy(dtype=np.float64)
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)


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
    # DERIVED_FEATURES: name -> (the input columns it needs, its expression), from the packaged
    # contract, read on first use rather than at import.
    if name == "DERIVED_FEATURES":
        return {n: (e.columns, e.text) for n, e in derived_expressions(None).items()}
    # Pipelines pickled before the transformer moved name it here; unpickling them still works.
    if name == "FeatureBuilder":
        from scoring.feature_builder import FeatureBuilder

        return FeatureBuilder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
