"""Training: holdout split, candidate models by cross-validation, holdout evaluation, the refit
on every labelled row, compilation.

``train_model`` takes validated labelled rows and returns everything the registry stores: the
scikit-learn pipeline (for analysts), the compiled scorer (for scoring), the explainer and drift
references, and the holdout evaluation of the chosen model beside a transparent baseline. With
``refit`` the registered model is the chosen candidate fitted again on all labelled rows once
the holdout has measured it; the metrics stay those of the fit on the training part.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from scoring.candidates import (
    BlendedClassifier,
    SplineLogisticClassifier,
    Structure,
    candidate_specs,
    describe,
    learner_of,
    make_learner,
)
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
    "Selection",
    "TrainingResult",
    "feature_builder",
    "fingerprint",
    "labels_of",
    "read_labelled",
    "select_model",
    "structure_of",
    "train_model",
]

#: Glass-box settings of older releases (kept for callers that pass them as ``candidates``);
#: by default the candidates are chosen by data size (:func:`scoring.candidates.candidate_specs`).
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


@dataclass
class Selection:
    """The candidates fitted on one set of rows: the chosen model, the baseline, the table."""

    model: BaseEstimator
    spec: dict[str, Any]
    baseline: SplineLogisticClassifier
    table: list[dict[str, Any]]

    @property
    def chosen_row(self) -> dict[str, Any]:
        """The chosen candidate's line of the table."""
        return next(row for row in self.table if row.get("chosen"))


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
        derived=dict(contract.model.derived),
    )


def structure_of(builder: FeatureBuilder, contract: Contract) -> Structure:
    """Categorical sizes, declared pairs and monotone signs as indices of the built features."""
    position = {name: j for j, name in enumerate(builder.features_)}
    return Structure(
        categorical={position[n]: len(builder.categories[n]) for n in contract.model.categorical},
        pairs=[tuple(position[f] for f in pair) for pair in contract.model.pairs],
        monotonic={position[f]: s for f, s in contract.model.monotonic.items() if f in position},
    )


def labels_of(frame: pd.DataFrame, contract: Contract) -> np.ndarray:
    """The 0/1 labels of labelled rows, refused when a model could not learn from them.

    Raises
    ------
    TrainingError
        No label, a single outcome, or fewer than 25 rows of an outcome.
    """
    label = contract.model.label
    if label not in frame or frame[label].isna().all():
        raise TrainingError(f"no label column '{label}': training needs labelled rows")
    y = frame[label].to_numpy(dtype=float)
    counts = {int(v): int((y == v).sum()) for v in (0, 1)}
    if min(counts.values()) == 0:
        only = 1 if counts[1] else 0
        raise TrainingError(f"every labelled row has {label} = {only}; a model needs both outcomes")
    if min(counts.values()) < MIN_CLASS_ROWS:
        raise TrainingError(
            f"too few rows to learn from: {counts[1]} exporters and {counts[0]} non-exporters; "
            f"each needs at least {MIN_CLASS_ROWS}"
        )
    return y


def select_model(
    X: np.ndarray,
    y: np.ndarray,
    structure: Structure,
    *,
    candidates: Sequence[Mapping[str, Any]] | None = None,
    learners: Sequence[str] | None = None,
    seed: int = 0,
    n_threads: int = 2,
) -> Selection:
    """Fit the candidates on ``(X, y)`` and choose by cross-validated log loss.

    Parameters
    ----------
    candidates
        Candidate specs (:func:`scoring.candidates.candidate_specs`); a mapping without a
        ``learner`` is glass-box settings. None: the candidates for this many rows.
    learners
        With ``candidates`` None, which learners to try (default: all).
    """
    if candidates is None:
        try:
            candidates = candidate_specs(len(y), **({"learners": learners} if learners else {}))
        except ValueError as exc:
            raise TrainingError(str(exc)) from None
    fitted: list[tuple[dict[str, Any], BaseEstimator, dict[str, Any]]] = []
    for spec in (dict(s) for s in candidates):
        tick = time.perf_counter()
        if learner_of(spec) == "blend":
            model = _blend(fitted, y)
            if model is None:
                continue
        else:
            model = make_learner(spec, structure, seed=seed, n_threads=n_threads).fit(X, y)
        fitted.append((spec, model, _row(spec, model, y, time.perf_counter() - tick)))
    if not fitted:
        raise TrainingError("no candidate model to train: name at least one learner")
    spec, model, row = min(fitted, key=lambda item: item[2]["cv_log_loss"])
    row["chosen"] = True
    baseline = next((m for s, m, _ in fitted if learner_of(s) == "spline"), None)
    table = [r for _, _, r in fitted]
    if baseline is None:  # the transparent baseline is always measured, even when not a candidate
        tick = time.perf_counter()
        spec_b = {"learner": "spline", "n_knots": 5}
        baseline = make_learner(spec_b, structure, seed=seed, n_threads=n_threads).fit(X, y)
        table.append(_row(spec_b, baseline, y, time.perf_counter() - tick))
    return Selection(model, spec, baseline, table)


def train_model(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    holdout_share: float | None = None,
    truth: pd.DataFrame | None = None,
    candidates: Sequence[Mapping[str, Any]] | None = None,
    learners: Sequence[str] | None = None,
    reference_year: int | None = None,
    n_threads: int = 2,
    refit: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Train, select, evaluate on a holdout, optionally refit on every row, and compile.

    Parameters
    ----------
    frame
        Validated labelled rows (canonical columns, as :mod:`scoring.validation` returns them).
    holdout_share
        Share of rows held out, stratified by the label (None: the contract's
        ``[model.training] holdout_share``); when the rows carry a ``data_year`` with two or
        more years, the latest year is the holdout instead.
    truth
        Optional ``coop_id``, ``true_probability`` (sample data): adds the gap to the Bayes AUC
        and mean |p - p_true| to the holdout metrics.
    candidates, learners
        As for :func:`select_model`; ``learners`` None takes the contract's.
    refit
        Fit the chosen candidate again on all rows once the holdout has measured it, and return
        that model (``readiness train`` does, as ``[model.training] refit`` says). Off, the
        returned model is the one the holdout measured, its holdout probabilities its own.
    progress
        Called with the name of each phase as it starts (a progress display; no output here).

    Raises
    ------
    TrainingError
        Too few rows of a class to learn from, or a single class.
    """
    started = time.perf_counter()
    settings = contract.model.training
    holdout_share = settings.holdout_share if holdout_share is None else holdout_share
    learners = settings.learners if learners is None else learners
    y_all = labels_of(frame, contract)
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
    builder = feature_builder(contract, reference_year).fit(frame.iloc[train_index])
    X_train = builder.transform(frame.iloc[train_index])
    X_holdout = builder.transform(holdout_frame)
    structure = structure_of(builder, contract)
    tell = progress or (lambda phase: None)
    tell(f"choosing a model: candidates by 5-fold cross-validation on {len(train_index):,} rows")
    choice = dict(candidates=candidates, learners=learners, seed=seed, n_threads=n_threads)
    selection = select_model(X_train, y_train, structure, **choice)
    tell(f"evaluating on the holdout ({len(holdout_index):,} rows)")
    p_holdout = selection.model.predict_proba(X_holdout)[:, 1]
    p_baseline = selection.baseline.predict_proba(X_holdout)[:, 1]
    groups = {
        name: holdout_frame[name].astype(str).to_numpy()
        for name in dict.fromkeys(("sector", "province", contract.model.peer_group))
        if name and name in holdout_frame
    }
    metrics = evaluate_predictions(
        y_holdout, p_holdout, cutoffs=contract.tiers, groups=groups, p_true=p_true
    )
    baseline_metrics = evaluate_predictions(
        y_holdout, p_baseline, cutoffs=contract.tiers, p_true=p_true
    )
    baseline_metrics.pop("groups", None)

    model, fitted_index, X_fit = selection.model, train_index, X_train
    refit_seconds = 0.0
    if refit:
        tell(f"refitting the chosen model on all {len(frame):,} labelled rows")
        tick = time.perf_counter()
        builder = feature_builder(contract, reference_year).fit(frame)
        fitted_index, X_fit = np.arange(len(frame)), builder.transform(frame)
        model = _refit(selection.model).fit(X_fit, y_all.astype(int))
        X_holdout = builder.transform(holdout_frame)
        refit_seconds = time.perf_counter() - tick
    y_fit = y_all[fitted_index].astype(int)
    features = list(builder.features_)
    tell("compiling the lookup tables and the references")
    tick = time.perf_counter()
    scorer = compile_model(
        model, X_fit, features, categorical=dict(structure.categorical), pairs=structure.pairs
    )
    compile_seconds = time.perf_counter() - tick
    p_registered = model.predict_proba(X_holdout)[:, 1]
    compiled_diff = (
        float(np.max(np.abs(scorer.probability(X_holdout) - p_registered)))
        if len(X_holdout)
        else 0.0
    )
    explainer = build_explainer(
        scorer, X_fit, y_fit, scorer.probability(X_fit), contract,
        sector_feature=contract.model.peer_group or "sector",
    )  # fmt: skip
    holdout = pd.DataFrame(
        {
            contract.id_column.name: holdout_frame[contract.id_column.name].to_numpy(),
            "label": y_holdout,
            "probability": p_holdout,
            "baseline_probability": p_baseline,
            **groups,
        }
    )
    if p_true is not None:
        holdout["true_probability"] = p_true
    training = {
        "rows": len(frame),
        "train_rows": len(train_index),
        "holdout_rows": len(holdout_index),
        "label_rate": float(y_all.mean()),
        "holdout": split,
        "fingerprint": fingerprint(frame),
        "learner": describe(selection.spec),
        "cv_log_loss": selection.chosen_row["cv_log_loss"],
        "fits": _fits(len(train_index), len(fitted_index), refit),
        **_model_facts(model, features),
    }
    return TrainingResult(
        pipeline=Pipeline([("features", builder), ("model", model)]),
        scorer=scorer,
        explainer=explainer,
        drift_reference=build_drift_reference(X_fit, features, dict(structure.categorical)),
        feature_config=FeatureConfig(
            features=features,
            categories=builder.categories,
            reference_year=builder.reference_year_,
            categorical={features[j]: k for j, k in structure.categorical.items()},
            pairs=[[features[a], features[b]] for a, b in structure.pairs],
            monotonic={features[j]: s for j, s in structure.monotonic.items()},
        ),
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        candidates=selection.table,
        training=training,
        holdout=holdout,
        compiled_max_abs_diff=compiled_diff,
        seed=seed,
        timings={
            "total_seconds": round(time.perf_counter() - started, 2),
            "compile_seconds": round(compile_seconds, 2),
            "refit_seconds": round(refit_seconds, 2),
        },
    )


def read_labelled(
    path: str | Path,
    contract: Contract,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    strict: bool = False,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read and validate a labelled file whole: the valid rows and the validation report
    (``strict``: refuse a file that lacks a column the model uses)."""
    collected = collect_file(
        path,
        contract,
        labelled=True,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
        strict=strict,
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


def _row(spec: Mapping[str, Any], model: Any, y: np.ndarray, seconds: float) -> dict[str, Any]:
    """One line of the model-selection table."""
    settings = {k: v for k, v in spec.items() if k != "learner"}
    if isinstance(model, SplineLogisticClassifier):
        settings["C"] = model.C_
    if isinstance(model, BlendedClassifier):
        settings["boosting_weight"] = model.weight_
    oof = model.oof_decision_
    return {
        "model": describe(spec),
        "settings": settings,
        "cv_log_loss": float(model.cv_log_loss_),
        "cv_roc_auc": float(roc_auc_score(y, oof)) if len(np.unique(y)) == 2 else None,
        "seconds": round(seconds, 2),
    }


def _blend(
    fitted: Sequence[tuple[dict[str, Any], BaseEstimator, dict[str, Any]]], y: np.ndarray
) -> BlendedClassifier | None:
    """The best boosted candidate blended with the spline, or None without both."""
    boosted = [(r["cv_log_loss"], m) for s, m, r in fitted if learner_of(s) == "boosting"]
    splines = [m for s, m, _ in fitted if learner_of(s) == "spline"]
    if not boosted or not splines:
        return None
    best = min(boosted, key=lambda item: item[0])[1]
    members = [best, splines[0]]
    return BlendedClassifier(estimators=[clone(m) for m in members]).combine(members, y)


def _refit(model: BaseEstimator) -> BaseEstimator:
    """The chosen candidate, unfitted, with what selection chose kept (a blend's weight)."""
    again = clone(model)
    if isinstance(model, BlendedClassifier):
        again.set_params(weight=model.weight_)
    return again


def _fits(train_rows: int, fitted_rows: int, refit: bool) -> dict[str, str]:
    """Which fit each figure comes from (the model card says so)."""
    measured = f"the fit on the {train_rows:,} training rows"
    return {
        "holdout_metrics": measured,
        "registered_model": (
            f"the same candidate refit on all {fitted_rows:,} labelled rows" if refit else measured
        ),
    }


def _model_facts(model: Any, features: Sequence[str]) -> dict[str, Any]:
    """Group weights and calibration of a boosted model (or of a blend's boosted member)."""
    boosted = next(
        (m for m in [model, *getattr(model, "members_", [])] if isinstance(m, GlassBoxClassifier)),
        None,
    )
    facts: dict[str, Any] = {"group_weights": {}, "calibration": {}}
    if boosted is not None:
        facts["group_weights"] = {
            "+".join(features[j] for j in group): w
            for group, w in getattr(boosted, "group_weights_", {}).items()
        }
    calibration = getattr(model, "calibration_", None)
    if calibration is not None:
        facts["calibration"] = dict(zip(("slope", "intercept"), calibration, strict=True))
    return facts
