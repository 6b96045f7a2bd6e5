"""The model card's charts with their words: report data and a wording in, data URIs out.

Each chart of :mod:`scoring.report.model_plots` gets its numbers from
:func:`~scoring.report.model_card.model_report_data` and its labels from a
:class:`~scoring.report.words.Wording`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scoring.report import model_plots
from scoring.report.plots import curve_points, value_limits
from scoring.report.words import Wording

__all__ = ["contribution_limits", "model_figures", "wide_chart"]


def model_figures(data: Mapping[str, Any], wording: Wording) -> dict[str, Any]:
    """Every chart of the model report, as data URIs (``contributions`` by feature name,
    ``pairs`` and ``groups`` nested)."""
    phrase, lang = wording.phrase, wording.lang
    figures: dict[str, Any] = _holdout_charts(data, wording) if data["has_holdout"] else {}
    limits = contribution_limits(data["contributions"])
    figures["contributions"] = {
        item["name"]: _contribution_figure(item, wording, limits) for item in data["contributions"]
    }
    figures["pairs"] = [
        {
            "title": phrase(
                "pair_title",
                first=wording.feature(pair["first"]),
                second=wording.feature(pair["second"]),
            ),
            "image": model_plots.pair_heatmap(
                pair["joint"],
                [_cell_label(c, pair["first"], wording) for c in pair["first_cells"]],
                [_cell_label(c, pair["second"], wording) for c in pair["second_cells"]],
                title="",
                row_label=wording.feature(pair["first"]),
                column_label=wording.feature(pair["second"]),
                lang=lang,
            ),
        }
        for pair in data["pairs"]
    ]
    figures["groups"] = {}
    for name, rows in data["groups"].items():
        if not rows:
            continue
        figures["groups"][name] = model_plots.calibration_by_group(
            [wording.category(name, r["group"]) for r in rows],
            [r["label_rate"] for r in rows],
            [r["mean_probability"] for r in rows],
            [bool(r.get("small")) for r in rows],
            title=phrase("by_" + name)
            if wording.has_phrase("by_" + name)
            else wording.feature(name),
            xlabel=phrase("rate_observed"),
            observed_label=phrase("observed"),
            predicted_label=phrase("mean_predicted"),
            small_label=phrase("small_group"),
            lang=lang,
        )
    if data["tiers"]:
        figures["tiers"] = model_plots.tier_bars(
            [r["tier"] for r in data["tiers"]],
            [f"{r['tier']}: {wording.tier(r['tier'])}" for r in data["tiers"]],
            [r["share"] for r in data["tiers"]],
            [r["exporting_rate"] for r in data["tiers"]],
            title=phrase("tiers_chart"),
            share_label=phrase("share"),
            rate_label=phrase("exporting"),
            lang=lang,
        )
    return figures


def _holdout_charts(data: Mapping[str, Any], wording: Wording) -> dict[str, str]:
    """The charts of the holdout predictions: curves, calibration, outcomes, the truth."""
    phrase, lang = wording.phrase, wording.lang
    names = {"model": phrase("glassbox"), "baseline": phrase("baseline"), "truth": phrase("truth")}
    figures = {}
    curves = data["curves"]
    if curves["roc"]:
        figures["roc"] = model_plots.roc_curves(
            [
                {**c, "label": f"{names[c['role']]} (AUC {wording.number(c['auc'], 3)})"}
                for c in curves["roc"]
            ],
            title=phrase("roc"),
            xlabel=phrase("fpr"),
            ylabel=phrase("tpr"),
            lang=lang,
        )
        figures["pr"] = model_plots.precision_recall_curves(
            [{**c, "label": names[c["role"]]} for c in curves["pr"]],
            base_rate=float(data["overall"].get("label_rate", 0.0)),
            base_label=phrase("base_rate"),
            title=phrase("pr"),
            xlabel=phrase("recall"),
            ylabel=phrase("precision"),
            lang=lang,
        )
    figures["reliability"] = model_plots.reliability_diagram(
        [{**r, "label": names[r["role"]]} for r in data["reliability"]],
        shares=data["prediction_shares"]["shares"],
        edges=data["prediction_shares"]["edges"],
        title=phrase("reliability"),
        xlabel=phrase("predicted"),
        ylabel=phrase("observed"),
        share_label=phrase("share_rows"),
        ideal_label=phrase("ideal"),
        lang=lang,
    )
    figures["outcomes"] = model_plots.outcome_histograms(
        data["outcomes"]["edges"],
        data["outcomes"]["densities"],
        [phrase("not_exported"), phrase("exported")],
        title=phrase("outcomes"),
        xlabel=phrase("predicted"),
        ylabel=phrase("density"),
        lang=lang,
    )
    if "truth_points" in data:
        figures["truth"] = model_plots.truth_scatter(
            data["truth_points"]["true"],
            data["truth_points"]["predicted"],
            title=phrase("truth_scatter"),
            xlabel=phrase("truth"),
            ylabel=phrase("predicted"),
            lang=lang,
        )
    return figures


def contribution_limits(items: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """One log-odds axis for every feature's chart, from the lowest to the highest
    contribution any of them draws (a missing value's included): a feature that moves the
    score by 0.01 then looks as small beside capacity use as it is."""
    drawn: list[float] = []
    for item in items:
        values = item["values"]
        if item["kind"] == "numeric" and len(item["edges"]):
            values = curve_points(item["edges"], values, item["low"], item["high"])[1]
        drawn += [*np.asarray(values, float).tolist(), float(item["missing"])]
    return value_limits(drawn)


def _contribution_figure(
    item: Mapping[str, Any], wording: Wording, limits: tuple[float, float]
) -> str:
    phrase, lang, name = wording.phrase, wording.lang, item["name"]
    if item["kind"] == "categorical":
        order = np.argsort(-np.asarray(item["values"]), kind="stable")
        labels = [wording.category(name, item["keys"][i]) for i in order] + [phrase("missing")]
        values = [item["values"][i] for i in order] + [item["missing"]]
        return model_plots.contribution_bars(
            labels,
            values,
            missing_index=len(labels) - 1,
            xlabel=phrase("logodds"),
            vertical=wide_chart(item),
            limits=limits,
            lang=lang,
        )
    if item["kind"] == "yesno":
        return model_plots.contribution_bars(
            [phrase("no"), phrase("yes"), phrase("missing")],
            [*item["values"], item["missing"]],
            missing_index=2,
            xlabel=phrase("logodds"),
            limits=limits,
            lang=lang,
        )
    return model_plots.contribution_curve(
        item["edges"],
        item["values"],
        item["missing"],
        low=item["low"],
        high=item["high"],
        log=item["log"],
        band=item["band"],
        deciles=item["deciles"],
        ylabel=phrase("logodds_short"),
        missing_label=phrase("missing"),
        limits=limits,
        integer=_is_count(name, wording),
        lang=lang,
    )


def _is_count(name: str, wording: Wording) -> bool:
    """Whether a feature is a whole-number column of the contract (certificates, markets)."""
    contract = wording.contract
    return name in contract.names and contract.column(name).type == "int"


def wide_chart(item: Mapping[str, Any]) -> bool:
    """Whether a feature's contribution chart takes the full width: a categorical feature with
    many categories, drawn as columns."""
    return item["kind"] == "categorical" and len(item.get("keys", ())) > 12


def _cell_label(cell: tuple[str, Any], feature: str, wording: Wording) -> str:
    """A row or column name of a pair's table (:func:`scoring.explain.cell_keys`)."""
    kind, value = cell
    if kind == "category":
        return wording.category(feature, value)
    if kind == "word":
        return wording.phrase(value)
    if kind == "le":
        return "≤ " + wording.number(value, _places(value))
    if kind == "gt":
        return "> " + wording.number(value, _places(value))
    low, high = value
    return f"{wording.number(low, _places(low))}–{wording.number(high, _places(high))}"


def _places(value: float) -> int:
    """Decimals enough to tell interval edges apart at their size."""
    size = abs(value)
    if size >= 100:
        return 0
    if size >= 1:
        return 1
    return 2 if size >= 0.1 or size == 0 else 3
