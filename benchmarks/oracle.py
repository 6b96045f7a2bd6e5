"""The well-specified reference of ``bench_quality.py``: a ridge logistic on the true form.

It is told the sample generator's functional form (every term of ``scoring.sample.true_logit``:
the utilisation parabola and dormancy step, capped counts, ``log1p`` markets, the square root
of export intensity, clipped growth and debt, ISO 9001 by sector, a missing indicator per
optional column, sector and province) but not its coefficients, which it learns with an L2
penalty chosen by cross-validated log loss. No learner that must find the form from the data
can expect to beat it on the same rows: it shows what the data allows at each size.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegressionCV

from scoring.sample import COEF, REFERENCE_YEAR

__all__ = ["run_oracle", "true_form_design"]


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)


def _ratio(top: np.ndarray, bottom: np.ndarray, otherwise: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / bottom, otherwise)


def true_form_design(frame: pd.DataFrame) -> pd.DataFrame:
    """One column per term of the true logit, and a missing indicator per optional column."""
    c = COEF
    columns: dict[str, np.ndarray] = {}

    def term(name: str, raw: np.ndarray, value: np.ndarray) -> None:
        missing = np.isnan(raw)
        columns[name] = np.where(missing, 0.0, value)
        columns[name + " missing"] = missing

    util = np.clip(
        _ratio(_num(frame, "actual_output"), _num(frame, "installed_capacity"), np.nan), 0, 1
    )
    gap = util - c["util_best"]
    term("utilization below best", util, np.where(gap < 0, gap**2, 0.0))
    columns["utilization above best"] = np.where(np.isnan(util) | (gap < 0), 0.0, gap**2)
    columns["dormant"] = np.where(np.isnan(util), 0.0, util < c["dormant_below"])
    sector = frame["sector"].astype(str).to_numpy()
    iso = _num(frame, "iso9001")
    for name in np.unique(sector):
        columns[f"iso9001 x {name}"] = np.where(np.isnan(iso), 0.0, iso * (sector == name))
    columns["iso9001 missing"] = np.isnan(iso)
    intl = _num(frame, "intl_certifications")
    term("intl_certifications", intl, np.minimum(intl, c["intl_cap"]))
    for name in ("standard_mark", "commercial_card"):
        term(name, _num(frame, name), _num(frame, name))
    markets = _num(frame, "export_markets")
    term("log1p markets", markets, np.log1p(np.clip(markets, 0, c["markets_cap"])))
    revenue, export = _num(frame, "revenue"), _num(frame, "export_revenue")
    term("sqrt intensity", export, np.sqrt(np.clip(_ratio(export, revenue, 0.0), 0, 1)))
    defect = _num(frame, "defect_rate")
    term("defect", defect, np.clip(defect, 0, c["defect_cap"]))
    prev = _num(frame, "revenue_prev")
    growth = _ratio(revenue, prev, np.where(revenue > 0, np.inf, 0.0)) - (prev > 0)
    term("growth", prev, np.clip(growth, -c["growth_clip"], c["growth_clip"]))
    debt = _num(frame, "debt_ratio")
    term("debt over", debt, np.clip(debt - c["debt_from"], 0, c["debt_cap"] - c["debt_from"]))
    columns["log members"] = np.nan_to_num(np.log(np.maximum(_num(frame, "members"), 1) / 25))
    age = REFERENCE_YEAR - _num(frame, "established_year")
    term("young", age, age < c["young_below"])
    for group in ("sector", "province"):
        values = frame[group].astype(str).to_numpy()
        for name in np.unique(values):
            columns[f"{group} {name}"] = values == name
    return pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()})


def run_oracle(train: pd.DataFrame, test: pd.DataFrame, seed: int, threads: int) -> dict:
    """Fit the ridge logistic on the true form (penalty by 5-fold CV log loss); score ``test``."""
    X_test = true_form_design(test)
    X = true_form_design(train).reindex(columns=X_test.columns, fill_value=0.0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's notices of changing defaults
        model = LogisticRegressionCV(
            Cs=20, cv=5, scoring="neg_log_loss", max_iter=5000, n_jobs=threads
        ).fit(X, train["exported_next_year"].to_numpy())
    seconds = time.perf_counter() - started
    return {"probability": model.predict_proba(X_test)[:, 1], "seconds": seconds}
