"""The HTML model card of a registered model, for analysts: metrics, curves, feature effects.

:func:`model_report_data` computes (plain numbers, no language, no figures);
:func:`render_model_report` draws the charts, fills ``model_report.html`` and writes the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from scoring.errors import ModelError
from scoring.evaluation import SMALL_GROUP, paired_bootstrap, reliability_bins
from scoring.explain import feature_contributions, pair_contributions
from scoring.registry import LoadedModel
from scoring.report.model_figures import model_figures, wide_chart
from scoring.report.rendering import render_page, write_page
from scoring.report.words import Wording
from scoring.writing import check_output_path

__all__ = ["METRICS", "model_report_data", "render_model_report"]

#: Metrics shown with bootstrap intervals, in order; higher is better for the first three.
METRICS = ("roc_auc", "pr_auc", "ks", "brier", "log_loss", "ece")
_HIGHER_BETTER = {"roc_auc", "pr_auc", "ks"}


def model_report_data(loaded: LoadedModel, *, rounds: int = 200, seed: int = 0) -> dict[str, Any]:
    """Everything the model report shows, as plain numbers (no language, no figures).

    Parameters
    ----------
    loaded
        A verified model (:func:`scoring.registry.load_model`).
    rounds
        Bootstrap resamples of the holdout for the confidence intervals.
    seed
        Seed of the resampling.
    """
    manifest = loaded.manifest
    metrics, baseline = manifest.metrics, manifest.baseline_metrics
    holdout = _read_holdout(loaded)
    data: dict[str, Any] = {
        "reference": loaded.reference,
        "created": manifest.created,
        "training": manifest.training,
        "reference_year": manifest.features.reference_year,
        "overall": metrics.get("overall", {}),
        "baseline_overall": baseline.get("overall", {}),
        "has_holdout": holdout is not None,
        "rounds": rounds,
    }
    data["metrics"] = _metric_rows(holdout, metrics, baseline, rounds=rounds, seed=seed)
    if holdout is not None:
        data.update(_holdout_figures(holdout))
    categories = manifest.features.categories
    data["contributions"] = feature_contributions(
        loaded.scorer,
        loaded.contract,
        categories=categories,
        drift_reference=manifest.reference.drift,
    )
    data["pairs"] = pair_contributions(loaded.scorer, loaded.contract, categories=categories)
    data["intercept"] = float(loaded.scorer.intercept)
    data["groups"] = {
        name: sorted(rows, key=lambda r: -r["rows"])
        for name, rows in metrics.get("groups", {}).items()
    }
    data["tiers"] = metrics.get("tiers", [])
    data["baseline_tiers"] = baseline.get("tiers", [])
    data["selection"] = manifest.model_selection
    data["truth"] = metrics.get("truth")
    data["baseline_truth"] = baseline.get("truth")
    data["limitations"] = _limitations(data)
    data["manifest"] = {
        "name": manifest.name,
        "version": manifest.version,
        "created": manifest.created,
        "seed": manifest.seed,
        "signed": manifest.signed,
        "checksum": manifest.checksum,
        "compiled_max_abs_diff": manifest.compiled_max_abs_diff,
        "contract_version": manifest.contract.get("version"),
        "tiers": manifest.tiers,
        "libraries": manifest.libraries,
        "files": manifest.files,
        "timings": manifest.timings,
        "fingerprint": manifest.training.get("fingerprint"),
        "calibration": manifest.training.get("calibration", {}),
    }
    data["warnings"] = list(loaded.warnings)
    return data


def _read_holdout(loaded: LoadedModel) -> pd.DataFrame | None:
    path = loaded.path / "holdout.parquet"
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # a verified file that pyarrow cannot read: say which
        raise ModelError(f"model {loaded.reference}: cannot read holdout.parquet ({exc})") from None
    if not {"label", "probability"} <= set(frame.columns) or not len(frame):
        return None
    return frame


def _metric_rows(
    holdout: pd.DataFrame | None,
    metrics: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    rounds: int,
    seed: int,
) -> list[dict[str, Any]]:
    overall = metrics.get("overall", {})
    base = baseline.get("overall", {})
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    if holdout is not None and holdout["label"].nunique() == 2 and rounds > 0:
        intervals = paired_bootstrap(
            holdout["label"].to_numpy(int),
            holdout["probability"].to_numpy(float),
            holdout["baseline_probability"].to_numpy(float)
            if "baseline_probability" in holdout
            else None,
            metrics=METRICS,
            rounds=rounds,
            seed=seed,
        )
    rows = []
    for metric in METRICS:
        if metric not in overall:
            continue
        value, other = overall.get(metric), base.get(metric)
        rows.append(
            {
                "metric": metric,
                "higher_better": metric in _HIGHER_BETTER,
                "value": value,
                "interval": intervals.get("model", {}).get(metric),
                "baseline": other,
                "baseline_interval": intervals.get("baseline", {}).get(metric),
                "difference": None if other is None else value - other,
                "difference_interval": intervals.get("difference", {}).get(metric),
            }
        )
    return rows


def _holdout_figures(holdout: pd.DataFrame) -> dict[str, Any]:
    """Curves, reliability bins and outcome histograms of the holdout predictions."""
    y = holdout["label"].to_numpy(int)
    columns = {"model": "probability", "baseline": "baseline_probability"}
    if "true_probability" in holdout:
        columns["truth"] = "true_probability"
    curves: dict[str, list[dict[str, Any]]] = {"roc": [], "pr": []}
    reliability = []
    both = len(np.unique(y)) == 2
    for role, column in columns.items():
        if column not in holdout:
            continue
        p = holdout[column].to_numpy(float)
        if both:
            fpr, tpr, _ = roc_curve(y, p)
            precision, recall, _ = precision_recall_curve(y, p)
            curves["roc"].append({"role": role, "x": fpr, "y": tpr, "auc": roc_auc_score(y, p)})
            curves["pr"].append({"role": role, "x": recall, "y": precision})
        if role != "truth":
            reliability.append({"role": role, **reliability_bins(y, p)})
    p = holdout["probability"].to_numpy(float)
    edges = np.linspace(0, 1, 26)
    densities = [
        np.histogram(p[y == outcome], bins=edges, density=True)[0]
        if (y == outcome).any()
        else np.zeros(len(edges) - 1)
        for outcome in (0, 1)
    ]
    share_edges = np.linspace(0, 1, 21)
    shares = np.histogram(p, bins=share_edges)[0] / max(len(p), 1)
    out: dict[str, Any] = {
        "curves": curves,
        "reliability": reliability,
        "prediction_shares": {"edges": share_edges, "shares": shares},
        "outcomes": {"edges": edges, "densities": densities},
    }
    if "true_probability" in holdout:
        rng = np.random.default_rng(0)
        keep = rng.choice(len(holdout), size=min(len(holdout), 3000), replace=False)
        out["truth_points"] = {
            "true": holdout["true_probability"].to_numpy(float)[keep],
            "predicted": p[keep],
        }
    return out


def _limitations(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Known limitations as ``(sentence key, values)``: the standing ones, then the measured."""
    items: list[tuple[str, dict[str, Any]]] = [
        ("lim_extrapolation", {}),
        ("lim_drift", {}),
        ("lim_reasons", {}),
    ]
    split = str(data["training"].get("holdout", ""))
    if split and not split.startswith("by year"):
        items.append(("lim_random_split", {"split": split}))
    small = {
        name: ([row["group"] for row in rows if row.get("small")], len(rows))
        for name, rows in data["groups"].items()
        if any(row.get("small") for row in rows)
    }
    if small:
        items.append(("lim_small_groups", {"groups": small}))
    ece = data["overall"].get("ece")
    if ece is not None and ece > 0.05:
        items.append(("lim_calibration", {"ece": ece}))
    for row in data["metrics"]:
        if row["metric"] == "roc_auc" and row["difference"] is not None and row["difference"] <= 0:
            items.append(("lim_baseline", {"difference": row["difference"]}))
    if data.get("truth"):
        items.append(("lim_sample", {}))
    return items


def render_model_report(
    loaded: LoadedModel, out: str | Path, *, lang: str = "en", rounds: int = 200
) -> Path:
    """Write the model report of a verified model as one self-contained HTML file.

    Parameters
    ----------
    loaded
        From :func:`scoring.registry.load_model`.
    out
        The ``.html`` file to write (atomically).
    lang
        ``"en"`` or ``"fa"``.
    rounds
        Bootstrap resamples for the confidence intervals.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = check_output_path(out)
    wording = Wording(lang, loaded.contract)
    data = model_report_data(loaded, rounds=rounds)
    html = render_page(
        "model_report.html",
        wording,
        data=data,
        figures=model_figures(data, wording),
        sections=[(s, f"sec_{s}") for s in _model_sections(data)],
        facts=_model_facts(data, wording),
        limitations=[_limitation_text(key, values, wording) for key, values in data["limitations"]],
        contributions=[_contribution_view(item, wording) for item in data["contributions"]],
        groups={
            name: [{**row, "label": wording.category(name, row["group"])} for row in rows]
            for name, rows in data["groups"].items()
        },
        small_group=SMALL_GROUP,
    )
    write_page(html, out)
    return out


def _model_sections(data: Mapping[str, Any]) -> list[str]:
    sections = ["data", "metrics"]
    if data["has_holdout"]:
        sections += ["curves", "calibration", "distributions"]
    sections += ["contributions", "groups", "tiers", "selection", "baseline"]
    if data.get("truth"):
        sections.append("truth")
    return [*sections, "limitations", "manifest"]


def _model_facts(data: Mapping[str, Any], wording: Wording) -> list[tuple[str, str, bool]]:
    """The data section's ``(label, value, left-to-right)`` rows."""
    training, phrase = data["training"], wording.phrase
    rows = [
        (phrase("rows_total"), wording.count(training.get("rows")), False),
        (phrase("rows_train"), wording.count(training.get("train_rows")), False),
        (phrase("rows_holdout"), wording.count(training.get("holdout_rows")), False),
        (phrase("label_rate"), wording.percent(training.get("label_rate")), False),
        (phrase("label_rate_holdout"), wording.percent(data["overall"].get("label_rate")), False),
        (phrase("holdout_split"), _split_text(training.get("holdout", ""), wording), False),
    ]
    if data.get("reference_year") is not None:
        rows.append((phrase("data_year"), wording.digits(str(data["reference_year"])), False))
    rows.append((phrase("trained_on"), str(data["created"]), True))
    rows.append((phrase("fingerprint"), str(training.get("fingerprint", "")), True))
    return rows


def _split_text(split: str, wording: Wording) -> str:
    """The holdout split as training wrote it (``by year: 2023 held out``, ``stratified random
    33%``), in Persian when the report is."""
    if not wording.fa:
        return split
    if split.startswith("by year:"):
        year = split.split(":", 1)[1].split()[0]
        return wording.phrase("split_by_year", year=wording.digits(year))
    if split.startswith("stratified random"):
        share = split.rsplit(" ", 1)[-1].rstrip("%")
        return wording.phrase("split_stratified", share=wording.digits(share))
    return split


def _limitation_text(key: str, values: Mapping[str, Any], wording: Wording) -> str:
    shown = {}
    for name, value in values.items():
        if name == "groups":
            shown[name] = _small_groups_text(value, wording)
        elif name == "split":
            shown[name] = _split_text(value, wording)
        elif isinstance(value, float):
            shown[name] = wording.number(value, 3)
        else:
            shown[name] = value
    return wording.phrase(key, **shown)


def _small_groups_text(groups: Mapping[str, Any], wording: Wording) -> str:
    """'sector: a, b; province: 30 of 31' - names when few, a count when many."""
    parts = []
    for column, (small, total) in groups.items():
        if len(small) <= 8:
            names = wording.joined([wording.category(column, g) for g in small])
        else:
            names = wording.phrase("n_of_m", n=wording.count(len(small)), m=wording.count(total))
        parts.append(f"{wording.feature(column)}: {names}")
    return wording.joined(parts, "group_separator")


def _contribution_view(item: Mapping[str, Any], wording: Wording) -> dict[str, Any]:
    """Title and notes of a feature's contribution chart, in the report's language."""
    spread = item["spread"]
    shown = wording.number(spread, 2) if spread >= 0.005 else "<" + wording.number(0.01, 2)
    notes = [wording.phrase("spread", value=shown)]
    if not item["used"]:
        notes.append(wording.phrase("unused"))
    if item["monotonic"] == 1:
        notes.append(wording.phrase("monotone_up"))
    elif item["monotonic"] == -1:
        notes.append(wording.phrase("monotone_down"))
    if item["partner"]:
        notes.append(wording.phrase("paired_with", other=wording.feature(item["partner"])))
    return {
        "name": item["name"],
        "title": wording.feature(item["name"]),
        "notes": notes,
        "wide": wide_chart(item),
    }
