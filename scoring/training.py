"""Training: holdout split, candidate models by cross-validation, calibration, compilation.

``train_model`` takes validated labelled rows and returns everything the registry stores: the
scikit-learn pipeline (for analysts), the compiled scorer (for scoring), the explainer and drift
references, and the holdout evaluation of the chosen model beside a transparent baseline.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer

from scoring.compiled import CompiledScorer, compile_model
from scoring.contract import Contract
from scoring.drift import build_drift_reference
from scoring.errors import TrainingError
from scoring.evaluation import evaluate_predictions
from scoring.explain import build_explainer
from scoring.feature_builder import FeatureBuilder
from scoring.glassbox import GlassBoxClassifier
from scoring.manifest import FeatureConfig
from scoring.pipeline import collect_file
from scoring.truth import align_truth
from scoring.validation import ValidationReport

__all__ = [
    "CANDIDATES",
    "TrainingResult",
    "feature_builder",
    "fingerprint",
    "read_labelled",
    "train_model",
]

#: Candidate settings of the glass-box model; cross-validated log loss picks one.
CANDIDATES: tuple[dict[str, Any], ...] = (
    {"max_leaf_nodes": 4, "min_samples_leaf": 100},
    {"max_leaf_nodes": 3, "min_samples_leaf": 200},
)
MIN_CLASS_ROWS = 25
YEAR_COLUMN = "data_year"


@dataclass
class TrainingResult:
    """A trained model and everything measured while training it."""

    pipeline: Pipeline
    scorer: CompiledScorer
    explainer: dict[str, Any]
    drift_reference: dict[str, Any]
    feature_config: FeatureConfig
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    candidates: list[dict[str, Any]]
    training: dict[str, Any]
    holdout: pd.DataFrame
    compiled_max_abs_diff: float
    seed: int
    timings: dict[str, float] = field(default_factory=dict)


def feature_builder(contract: Contract, reference_year: int | None = None) -> FeatureBuilder:
    """The feature transformer a contract's model spec asks for."""
    categories = {
        name: list(contract.vocabularies[contract.column(name).vocabulary].categories)
        for name in contract.model.categorical
    }
    return FeatureBuilder(
        features=list(contract.model.features),
        categories=categories,
        reference_year=reference_year,
    )


def train_model(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    holdout_share: float = 1 / 3,
    truth: pd.DataFrame | None = None,
    candidates: Sequence[Mapping[str, Any]] = CANDIDATES,
    reference_year: int | None = None,
    n_threads: int = 2,
) -> TrainingResult:
    """Train, select, calibrate, compile and evaluate on a holdout.

    Parameters
    ----------
    frame
        Validated labelled rows (canonical columns, as :mod:`scoring.validation` returns them).
    holdout_share
        Share of rows held out, stratified by the label; when the rows carry a ``data_year``
        with two or more years, the latest year is the holdout instead.
    truth
        Optional ``coop_id``, ``true_probability`` (sample data): adds the gap to the Bayes AUC
        and mean |p - p_true| to the holdout metrics.

    Raises
    ------
    TrainingError
        Too few rows of a class to learn from, or a single class.
    """
    started = time.perf_counter()
    label = contract.model.label
    if label not in frame or frame[label].isna().all():
        raise TrainingError(f"no label column '{label}': training needs labelled rows")
    y_all = frame[label].to_numpy(dtype=float)
    counts = {int(v): int((y_all == v).sum()) for v in (0, 1)}
    if min(counts.values()) == 0:
        only = 1 if counts[1] else 0
        raise TrainingError(f"every labelled row has {label} = {only}; a model needs both outcomes")
    if min(counts.values()) < MIN_CLASS_ROWS:
        raise TrainingError(
            f"too few rows to learn from: {counts[1]} exporters and {counts[0]} non-exporters; "
            f"each needs at least {MIN_CLASS_ROWS}"
        )
    train_index, holdout_index, split = _split(frame, y_all, holdout_share, seed)
    y_train, y_holdout = y_all[train_index].astype(int), y_all[holdout_index].astype(int)
    if min(y_train.sum(), len(y_train) - y_train.sum()) < MIN_CLASS_ROWS:
        raise TrainingError("too few rows of one outcome left for training after the holdout")
    holdout_frame = frame.iloc[holdout_index]
    p_true = None
    if truth is not None:  # before fitting: a bad truth file should not cost a training
        p_true = align_truth(truth, holdout_frame[contract.id_column.name])
    if reference_year is None and YEAR_COLUMN in frame:
        years = frame[YEAR_COLUMN].dropna()
        reference_year = int(years.max()) if len(years) else None
    builder = feature_builder(contract, reference_year)
    X_train = builder.fit_transform(frame.iloc[train_index])
    X_holdout = builder.transform(frame.iloc[holdout_index])
    features = list(builder.features_)
    position = {name: j for j, name in enumerate(features)}
    categorical = {
        position[name]: len(builder.categories[name]) for name in contract.model.categorical
    }
    pairs = [tuple(position[f] for f in pair) for pair in contract.model.pairs]
    monotonic = {position[f]: s for f, s in contract.model.monotonic.items() if f in position}

    fitted: list[tuple[float, GlassBoxClassifier, dict]] = []
    table = []
    for settings in candidates:
        tick = time.perf_counter()
        model = GlassBoxClassifier(
            categorical=sorted(categorical),
            pairs=pairs,
            monotonic=monotonic,
            n_threads=n_threads,
            random_state=seed,
            **settings,
        ).fit(X_train, y_train)
        row = {
            "model": "glass-box boosting",
            "settings": dict(settings),
            "cv_log_loss": model.cv_log_loss_,
            "cv_roc_auc": float(roc_auc_score(y_train, model.oof_probability_)),
            "seconds": round(time.perf_counter() - tick, 2),
        }
        table.append(row)
        fitted.append((model.cv_log_loss_, model, row))
    best_loss, best_model, best_row = min(fitted, key=lambda item: item[0])
    best_row["chosen"] = True

    tick = time.perf_counter()
    baseline = _baseline(categorical, n_features=len(features), seed=seed).fit(X_train, y_train)
    baseline_loss, baseline_c = _baseline_selection(baseline[-1])
    table.append(
        {
            "model": "spline logistic baseline",
            "settings": {"C": baseline_c},
            "cv_log_loss": baseline_loss,
            "cv_roc_auc": None,
            "seconds": round(time.perf_counter() - tick, 2),
        }
    )

    pipeline = Pipeline([("features", builder), ("model", best_model)])
    tick = time.perf_counter()
    scorer = compile_model(best_model, X_train, features, categorical=categorical, pairs=pairs)
    compile_seconds = time.perf_counter() - tick
    p_holdout = best_model.predict_proba(X_holdout)[:, 1]
    compiled_holdout = scorer.probability(X_holdout)
    compiled_diff = float(np.max(np.abs(compiled_holdout - p_holdout))) if len(X_holdout) else 0.0
    p_train = scorer.probability(X_train)

    groups = {
        name: holdout_frame[name].astype(str).to_numpy()
        for name in ("sector", "province")
        if name in holdout_frame
    }
    metrics = evaluate_predictions(
        y_holdout, p_holdout, cutoffs=contract.tiers, groups=groups, p_true=p_true
    )
    p_baseline = baseline.predict_proba(X_holdout)[:, 1]
    baseline_metrics = evaluate_predictions(
        y_holdout, p_baseline, cutoffs=contract.tiers, p_true=p_true
    )
    baseline_metrics.pop("groups", None)
    explainer = build_explainer(scorer, X_train, y_train, p_train, contract)
    drift_reference = build_drift_reference(X_train, features, categorical)
    holdout = pd.DataFrame(
        {
            contract.id_column.name: holdout_frame[contract.id_column.name].to_numpy(),
            "label": y_holdout,
            "probability": p_holdout,
            "baseline_probability": p_baseline,
            **{name: values for name, values in groups.items()},
        }
    )
    if p_true is not None:
        holdout["true_probability"] = p_true
    elapsed = time.perf_counter() - started
    return TrainingResult(
        pipeline=pipeline,
        scorer=scorer,
        explainer=explainer,
        drift_reference=drift_reference,
        feature_config=FeatureConfig(
            features=features,
            categories=builder.categories,
            reference_year=builder.reference_year_,
            categorical={features[j]: k for j, k in categorical.items()},
            pairs=[[features[a], features[b]] for a, b in pairs],
            monotonic={features[j]: s for j, s in monotonic.items()},
        ),
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        candidates=table,
        training={
            "rows": len(frame),
            "train_rows": len(train_index),
            "holdout_rows": len(holdout_index),
            "label_rate": float(y_all.mean()),
            "holdout": split,
            "fingerprint": fingerprint(frame),
            "group_weights": {
                "+".join(features[j] for j in group): w
                for group, w in getattr(best_model, "group_weights_", {}).items()
            },
            "calibration": dict(zip(("slope", "intercept"), best_model.calibration_, strict=True)),
            "cv_log_loss": best_loss,
        },
        holdout=holdout,
        compiled_max_abs_diff=compiled_diff,
        seed=seed,
        timings={"total_seconds": round(elapsed, 2), "compile_seconds": round(compile_seconds, 2)},
    )


def read_labelled(
    path: str | Path,
    contract: Contract,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate a labelled file whole: the valid rows and the validation report."""
    collected = collect_file(
        path, contract, labelled=True, encoding=encoding, sheet=sheet, header_row=header_row
    )
    frame, report = collected.valid, collected.report
    if not len(frame):
        raise TrainingError(
            f"no valid labelled rows in {Path(path).name} ({report.rows_read} read)"
        )
    return frame, report


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the training rows' values (order and content), independent of file format."""
    hashed = pd.util.hash_pandas_object(frame.drop(columns=["row"], errors="ignore"), index=False)
    digest = hashlib.sha256(np.ascontiguousarray(hashed.to_numpy()).tobytes())
    digest.update(",".join(map(str, frame.columns)).encode())
    return digest.hexdigest()


def _split(
    frame: pd.DataFrame, y: np.ndarray, share: float, seed: int
) -> tuple[np.ndarray, np.ndarray, str]:
    index = np.arange(len(frame))
    if YEAR_COLUMN in frame:
        years = frame[YEAR_COLUMN].to_numpy(dtype=float)
        distinct = np.unique(years[np.isfinite(years)])
        if len(distinct) >= 2:
            latest = distinct.max()
            holdout = index[years == latest]
            train = index[years != latest]
            return train, holdout, f"by year: {int(latest)} held out"
    if not 0 < share < 1:
        raise TrainingError(f"holdout share must be between 0 and 1, got {share}")
    train, holdout = train_test_split(index, test_size=share, stratify=y, random_state=seed)
    return np.sort(train), np.sort(holdout), f"stratified random {share:.0%}"


def _baseline(categorical: Mapping[int, int], *, n_features: int, seed: int) -> Pipeline:
    """Transparent additive baseline: natural splines of numbers, one-hot categories, logistic."""
    numeric = [j for j in range(n_features) if j not in categorical]
    columns = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    SplineTransformer(
                        n_knots=5, degree=3, knots="quantile", extrapolation="constant"
                    ),
                ),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                sorted(categorical),
            ),
        ]
    )
    options: dict[str, Any] = {}
    if "use_legacy_attributes" in LogisticRegressionCV().get_params():  # scikit-learn >= 1.8
        # Ask for the attribute layout that becomes the default in 1.10 (and silence the notice).
        options = {"l1_ratios": (0.0,), "use_legacy_attributes": False}
    model = LogisticRegressionCV(
        Cs=6, cv=5, scoring="neg_log_loss", max_iter=2000, random_state=seed, **options
    )
    return Pipeline([("columns", columns), ("logistic", model)])


def _baseline_selection(model: LogisticRegressionCV) -> tuple[float, float]:
    """(cross-validated log loss, C) of the chosen C, whatever scikit-learn's attribute layout.

    ``scores_`` is a dict by class of (folds, Cs) before scikit-learn 1.10 and an array of
    (folds, l1_ratios, Cs) after; ``C_`` an array, then a float.
    """
    scores = model.scores_
    if isinstance(scores, dict):
        scores = next(iter(scores.values()))
    scores = np.asarray(scores, dtype=float)
    per_setting = scores.reshape(scores.shape[0], -1).mean(axis=0)
    return float(-per_setting.max()), float(np.ravel(model.C_)[0])
