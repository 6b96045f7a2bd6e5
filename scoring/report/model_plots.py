"""Charts of the model card: curves, calibration, feature contributions, groups and tiers.

Drawn as :mod:`scoring.report.plots` draws (its house style, helpers and palette): each takes
numbers computed by :mod:`scoring.report.model_card` and labels in the report's language, and
returns a PNG data URI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scoring.report.plots import (
    ACCENT,
    MISSING_COLOR,
    MODEL_COLORS,
    REFERENCE_LINE,
    TIER_COLORS,
    add_legend,
    chart,
    curve_points,
    draw_diagonal,
    frame_heatmap,
    log_subs,
    new_axes,
    new_figure,
    number_text,
    percent_text,
    plain_tick,
    row_axes,
    set_labels,
    set_row_labels,
    shape_text,
    value_limits,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "calibration_by_group",
    "contribution_bars",
    "contribution_curve",
    "outcome_histograms",
    "pair_heatmap",
    "precision_recall_curves",
    "reliability_diagram",
    "roc_curves",
    "tier_bars",
    "truth_scatter",
]


def _curves(
    reference: Callable[[Any], object],
    curves: Sequence[Mapping[str, Any]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str,
    legend: str,
) -> Figure:
    """Curves on the unit square (each with ``x``, ``y``, ``label``, ``role``) over a reference."""
    figure, ax = new_axes(4.2, 3.6)
    reference(ax)
    for curve in curves:
        ax.plot(curve["x"], curve["y"], **_line(curve["role"]), label=curve["label"])
    ax.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    set_labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    add_legend(ax, lang, loc=legend)
    return figure


@chart
def roc_curves(
    curves: Sequence[Mapping[str, Any]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str = "en",
) -> Figure:
    """ROC curves: each of ``curves`` has ``x`` (FPR), ``y`` (TPR), ``label`` and ``role``."""
    return _curves(
        draw_diagonal,
        curves,
        title=title,
        xlabel=xlabel,
        ylabel=ylabel,
        lang=lang,
        legend="lower right",
    )


@chart
def precision_recall_curves(
    curves: Sequence[Mapping[str, Any]],
    *,
    base_rate: float,
    base_label: str,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str = "en",
) -> Figure:
    """Precision-recall curves (``x`` recall, ``y`` precision) and the base rate line."""
    return _curves(
        lambda ax: ax.axhline(base_rate, **REFERENCE_LINE, label=base_label),
        curves,
        title=title,
        xlabel=xlabel,
        ylabel=ylabel,
        lang=lang,
        legend="upper right",
    )


def _line(role: str) -> dict[str, Any]:
    if role == "baseline":
        return {"color": MODEL_COLORS["baseline"], "linewidth": 1.4, "linestyle": "--"}
    if role == "truth":
        return {"color": MODEL_COLORS["truth"], "linewidth": 1.0, "linestyle": ":"}
    return {"color": MODEL_COLORS["model"], "linewidth": 2.0}


@chart
def reliability_diagram(
    series: Sequence[Mapping[str, Any]],
    *,
    shares: Sequence[float],
    edges: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
    share_label: str,
    ideal_label: str,
    lang: str = "en",
) -> Figure:
    """Observed rate against mean predicted probability per bin, with 95% intervals.

    Each of ``series`` has ``predicted``, ``observed``, ``low``, ``high`` (per bin), ``label``
    and ``role``. Below, the share of rows per probability bin (``edges``, ``shares``).
    """
    figure = new_figure(4.4, 4.4)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3.2, 1])
    draw_diagonal(top, label=ideal_label)
    for item in series:
        style = _line(item["role"])
        predicted = np.asarray(item["predicted"])
        observed = np.asarray(item["observed"])
        error = np.vstack([observed - np.asarray(item["low"]), np.asarray(item["high"]) - observed])
        top.errorbar(
            predicted,
            observed,
            yerr=error,
            color=style["color"],
            linestyle=style.get("linestyle", "-"),
            linewidth=style["linewidth"] * 0.8,
            marker="o" if item["role"] == "model" else "s",
            markersize=4,
            capsize=2,
            label=item["label"],
        )
    top.set(xlim=(0, 1), ylim=(0, 1))
    set_labels(top, ylabel=ylabel, title=title)
    add_legend(top, lang, loc="upper left")
    edges = np.asarray(edges)
    bottom.bar(edges[:-1], shares, width=np.diff(edges), align="edge", color="#cbd5e1")
    set_labels(bottom, xlabel=xlabel, ylabel=share_label)
    bottom.grid(False, axis="x")
    return figure


@chart
def outcome_histograms(
    edges: Sequence[float],
    densities: Sequence[Sequence[float]],
    labels: Sequence[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str = "en",
) -> Figure:
    """Overlaid step histograms of predicted probability, one per outcome (0 then 1)."""
    figure, ax = new_axes(4.6, 3.2)
    colors = ("#9ca3af", ACCENT)
    edges = np.asarray(edges)
    for density, label, color in zip(densities, labels, colors, strict=True):
        ax.stairs(density, edges, fill=True, alpha=0.25, color=color)
        ax.stairs(density, edges, color=color, linewidth=1.6, label=label)
    ax.set_xlim(0, 1)
    set_labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    add_legend(ax, lang, loc="upper right")
    return figure


@chart
def contribution_curve(
    edges: Sequence[float],
    values: Sequence[float],
    missing: float,
    *,
    low: float,
    high: float,
    log: bool,
    band: tuple[float, float] | None,
    deciles: Sequence[float],
    ylabel: str,
    missing_label: str,
    limits: tuple[float, float] | None = None,
    integer: bool = False,
    lang: str = "en",
) -> Figure:
    """A numeric feature's contribution to the log-odds: a step curve over ``[low, high]``.

    Cell ``k`` covers ``(edges[k-1], edges[k]]``. The value for a missing input is a diamond
    beyond the right end of the axis; ``band`` shades where the middle 80% of training
    cooperatives lie and ``deciles`` are ticked along the bottom. ``limits`` fixes the
    log-odds axis (one scale for every feature, so that effects compare); ``integer`` ticks
    whole numbers only (a count).
    """
    from matplotlib import transforms
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    # Fixed margins, one axes: these small multiples are the bulk of a model report's charts.
    figure = new_figure(3.5, 2.4, layout=None)
    figure.subplots_adjust(left=0.22, right=0.79, bottom=0.14, top=0.96)
    ax = figure.subplots()
    xs, ys = curve_points(edges, values, low, high)
    if band is not None:
        ax.axvspan(*band, color="#dbeafe", alpha=0.6, linewidth=0)
    ax.axhline(0, color="#9ca3af", linewidth=0.8)
    ax.plot(xs, ys, drawstyle="steps-post", color=ACCENT, linewidth=1.8)
    if len(deciles):
        ax.plot(
            deciles,
            np.zeros(len(deciles)),
            linestyle="none",
            marker="|",
            markersize=6,
            color="#64748b",
            transform=ax.get_xaxis_transform(),
        )
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=log_subs(low, high), numticks=6))
        ax.xaxis.set_major_formatter(FuncFormatter(plain_tick))
        ax.xaxis.set_minor_formatter(NullFormatter())
    elif integer:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_xlim(low, high)
    ax.set_ylim(*(limits or value_limits([*ys, missing])))
    ax.set_ylabel(shape_text(ylabel))
    outside = transforms.blended_transform_factory(ax.transAxes, ax.transData)
    ax.plot([1.09], [missing], marker="D", color=MISSING_COLOR, markersize=6, linestyle="none",
            transform=outside, clip_on=False)  # fmt: skip
    ax.annotate(
        shape_text(missing_label),
        (1.03, missing),
        xycoords=outside,
        xytext=(0, -7),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=7.5,
        color=MISSING_COLOR,
        annotation_clip=False,
    )
    return figure


@chart
def contribution_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    missing_index: int | None,
    xlabel: str,
    vertical: bool = False,
    limits: tuple[float, float] | None = None,
    lang: str = "en",
) -> Figure:
    """A categorical (or yes/no) feature's contribution per category, as bars.

    Horizontal bars, or columns with slanted labels when ``vertical`` (many categories). The
    bar at ``missing_index`` (a missing input) is drawn hatched in another colour. ``limits``
    fixes the log-odds axis (one scale for every feature).
    """
    n = len(labels)
    colors = [
        MISSING_COLOR if i == missing_index else (ACCENT if v >= 0 else "#94a3b8")
        for i, v in enumerate(values)
    ]
    if vertical:
        figure, ax = new_axes(max(6.0, 0.26 * n + 1.2), 2.9)
        bars = ax.bar(np.arange(n), values, color=colors, width=0.7)
        ax.axhline(0, color="#6b7280", linewidth=0.8)
        # Slanted down and away from the tick: to the left in English, to the right in Persian
        # (whose words end on their left, at the tick).
        ax.set_xticks(
            np.arange(n),
            labels=[shape_text(label) for label in labels],
            rotation=-50 if lang == "fa" else 50,
            ha="left" if lang == "fa" else "right",
            rotation_mode="anchor",
            fontsize=7.5,
        )
        ax.set_xlim(-0.7, n - 0.3)
        ax.grid(False, axis="x")
        set_labels(ax, ylabel=xlabel)
        if limits is not None:
            ax.set_ylim(*limits)
        if lang == "fa":
            ax.invert_xaxis()
    else:
        figure, ax, position = row_axes(3.5, n, 1.6, 0.9, 0.2)
        bars = ax.barh(position, values, color=colors, height=0.7)
        ax.axvline(0, color="#6b7280", linewidth=0.8)
        set_row_labels(ax, position, labels)
        set_labels(ax, xlabel=xlabel)
        if limits is not None:
            ax.set_xlim(*limits)
    if missing_index is not None:
        bars[missing_index].set_hatch("///")
        bars[missing_index].set_alpha(0.75)
    return figure


@chart
def pair_heatmap(
    matrix: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    title: str,
    row_label: str,
    column_label: str,
    lang: str = "en",
) -> Figure:
    """Joint contribution of a declared pair: main effects plus interaction, cell by cell."""
    matrix = np.asarray(matrix, float)
    figure, ax = new_axes(max(4.0, 0.62 * len(columns) + 1.6), max(1.8, 0.45 * len(rows) + 1.3))
    limit = float(np.nanmax(np.abs(matrix))) or 1.0
    image = ax.imshow(matrix, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        color = "white" if abs(value) > 0.6 * limit else "#111827"
        ax.text(j, i, number_text(value, lang), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(
        range(len(columns)),
        labels=[shape_text(c) for c in columns],
        rotation=-35 if lang == "fa" else 35,
        ha="left" if lang == "fa" else "right",
        rotation_mode="anchor",
    )
    set_labels(ax, xlabel=column_label, ylabel=row_label)
    frame_heatmap(figure, ax, image, rows, title)
    return figure


@chart
def calibration_by_group(
    labels: Sequence[str],
    observed: Sequence[float],
    predicted: Sequence[float],
    small: Sequence[bool],
    *,
    title: str,
    xlabel: str,
    observed_label: str,
    predicted_label: str,
    small_label: str,
    lang: str = "en",
) -> Figure:
    """Observed exporting rate and mean predicted probability per group (small groups hollow)."""
    figure, ax, position = row_axes(4.0, len(labels), 2.0, 1.0, 0.21)
    observed = np.asarray(observed, float)
    predicted = np.asarray(predicted, float)
    small = np.asarray(small, bool)
    ax.hlines(
        position,
        np.minimum(observed, predicted),
        np.maximum(observed, predicted),
        color="#cbd5e1",
        linewidth=2,
    )
    ax.plot(predicted, position, "o", color=ACCENT, markersize=5, label=predicted_label)
    ax.plot(
        observed[~small], position[~small], "D", color="#111827", markersize=4, label=observed_label
    )
    if small.any():
        ax.plot(
            observed[small],
            position[small],
            "D",
            markerfacecolor="white",
            markeredgecolor="#111827",
            markersize=4,
            linestyle="none",
            label=small_label,
        )
    set_row_labels(ax, position, labels)
    ax.set_xlim(0, max(1e-9, float(np.nanmax([observed.max(), predicted.max()]))) * 1.08)
    set_labels(ax, xlabel=xlabel, title=title)
    add_legend(figure, lang, loc="outside lower center", ncols=3, fontsize=7.5)
    return figure


@chart
def tier_bars(
    tiers: Sequence[str],
    labels: Sequence[str],
    shares: Sequence[float],
    rates: Sequence[float | None],
    *,
    title: str,
    share_label: str,
    rate_label: str,
    lang: str = "en",
) -> Figure:
    """Share of rows in each tier (bars) and the exporting rate within it (labels on bars)."""
    figure, ax = new_axes(4.6, 2.8)
    position = np.arange(len(tiers))
    colors = [TIER_COLORS.get(t, ACCENT) for t in tiers]
    ax.bar(position, shares, color=colors, width=0.65)
    for x, share, rate in zip(position, shares, rates, strict=True):
        text = percent_text(share, lang)
        if rate is not None:
            text += "\n" + shape_text(rate_label) + " " + percent_text(rate, lang)
        ax.text(x, share, text, ha="center", va="bottom", fontsize=7.5)
    ax.set_xticks(position, labels=[shape_text(label) for label in labels])
    if lang == "fa":
        ax.invert_xaxis()  # tier A first, on the right
    ax.set_ylim(0, max(shares) * 1.35 if len(shares) else 1)
    ax.grid(False, axis="x")
    set_labels(ax, ylabel=share_label, title=title)
    return figure


@chart
def truth_scatter(
    true: Sequence[float],
    predicted: Sequence[float],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str = "en",
) -> Figure:
    """Predicted against true probability (sample data, where the truth is known)."""
    figure, ax = new_axes(4.0, 3.6)
    draw_diagonal(ax)
    ax.scatter(true, predicted, s=5, alpha=0.35, color=ACCENT, linewidths=0)
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
    set_labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    return figure
