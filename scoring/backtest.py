"""Backtests by data year: train on the years up to t, test on year t + 1, as analysts retrain.

For every year t of the data but the last, the candidates are fitted and chosen on the rows of
the years up to t (ages counted to t) exactly as training chooses, and the chosen model is
scored on the rows of the next year in the data. The rows per year show how the model would
have done each time it was retrained.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import Contract
from scoring.errors import TrainingError
from scoring.evaluation import classification_metrics, truth_metrics
from scoring.training import YEAR_COLUMN, feature_builder, labels_of, select_model, structure_of
from scoring.truth import align_truth

__all__ = ["backtest_by_year"]

#: The figures kept per year.
_FIGURES = ("label_rate", "roc_auc", "log_loss", "brier", "ece")


def backtest_by_year(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    candidates: Sequence[Mapping[str, Any]] | None = None,
    learners: Sequence[str] | None = None,
    truth: pd.DataFrame | None = None,
    n_threads: int = 2,
) -> list[dict[str, Any]]:
    """One row per tested year: train on the years up to the one before, test on it.

    Returns
    -------
    list of dict
        ``train_years`` (first and last), ``test_year``, ``train_rows``, ``test_rows``, the
        chosen ``learner``, the test figures (``label_rate``, ``roc_auc``, ``log_loss``,
        ``brier``, ``ece``; with ``truth`` also ``auc_gap`` and ``mean_abs_error``) and
        ``seconds``; a year whose training rows cannot make a model has ``skipped`` instead.

    Raises
    ------
    TrainingError
        The rows have fewer than two data years.
    """
    years = (
        frame[YEAR_COLUMN].to_numpy(dtype=float)
        if YEAR_COLUMN in frame
        else np.full(len(frame), np.nan)
    )
    distinct = np.unique(years[np.isfinite(years)]).astype(int)
    if len(distinct) < 2:
        raise TrainingError(
            f"a backtest by year needs rows of two or more years in '{YEAR_COLUMN}', "
            f"found {len(distinct)}"
        )
    learners = contract.model.training.learners if learners is None else learners
    rows = []
    for last, tested in itertools.pairwise(distinct):
        tick = time.perf_counter()
        past, future = frame[years <= last], frame[years == tested]
        row: dict[str, Any] = {
            "train_years": [int(distinct[0]), int(last)],
            "test_year": int(tested),
            "train_rows": len(past),
            "test_rows": len(future),
        }
        try:
            y_past = labels_of(past, contract).astype(int)
        except TrainingError as exc:
            rows.append({**row, "skipped": str(exc)})
            continue
        builder = feature_builder(contract, int(last)).fit(past)
        selection = select_model(
            builder.transform(past), y_past, structure_of(builder, contract),
            candidates=candidates, learners=learners, seed=seed, n_threads=n_threads,
        )  # fmt: skip
        y_future = future[contract.model.label].to_numpy(dtype=int)
        p = selection.model.predict_proba(builder.transform(future))[:, 1]
        figures = classification_metrics(y_future, p)
        row["learner"] = selection.chosen_row["model"]
        row.update({name: figures.get(name) for name in _FIGURES})
        if truth is not None and len(np.unique(y_future)) == 2:
            known = truth_metrics(y_future, p, align_truth(truth, future[contract.id_column.name]))
            row.update(auc_gap=known["auc_gap"], mean_abs_error=known["mean_abs_error"])
        row["seconds"] = round(time.perf_counter() - tick, 2)
        rows.append(row)
    return rows
