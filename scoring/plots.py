"""Charts for the HTML reports: matplotlib figures rendered off-screen to embedded PNGs.

Every function takes numbers already computed (by :mod:`scoring.report`) and labels already in
the report's language, and returns a ``data:image/png;base64,...`` URI, so a report needs no
image files and fetches nothing. Figures are drawn on the Agg canvas directly, never through
``pyplot``: making a report does not change the backend or the global style of a notebook.

Persian labels: matplotlib 3.11 and later lay out text with libraqm, which shapes Arabic-script
letters and orders right-to-left runs by itself; earlier releases draw code points one by one,
so there the text is shaped (arabic-reshaper) and reordered (python-bidi) first. DejaVu Sans,
which ships with matplotlib, has the Persian letters (پ چ ژ گ ی) and digits.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any, ParamSpec

import matplotlib
import numpy as np
from matplotlib import ft2font, transforms
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from scoring.text import to_persian_digits

__all__ = [
    "MODEL_COLORS",
    "TIER_COLORS",
    "calibration_by_group",
    "contribution_bars",
    "contribution_curve",
    "drift_bars",
    "heatmap",
    "horizontal_bars",
    "localize_number",
    "outcome_histograms",
    "pair_heatmap",
    "precision_recall_curves",
    "reliability_diagram",
    "roc_curves",
    "score_histogram_by_tier",
    "shape_text",
    "tier_bars",
    "tier_shares",
    "truth_scatter",
]

TIER_COLORS = {"A": "#1b7837", "B": "#7fbf7b", "C": "#f1a340", "D": "#b2182b"}
MODEL_COLORS = {"model": "#1f4e79", "baseline": "#9a9a9a", "truth": "#222222"}
_ACCENT = "#1f4e79"
_MISSING = "#c2410c"
_DPI = 110
_RC = {
    "font.family": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "svg.fonttype": "none",
}
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")
_HAS_LAYOUT = hasattr(ft2font, "__libraqm_version__")
P = ParamSpec("P")


def shape_text(text: str) -> str:
    """``text`` ready for matplotlib: shaped and reordered when matplotlib cannot do it itself."""
    if _HAS_LAYOUT or not _ARABIC_SCRIPT.search(text):
        return text
    import arabic_reshaper
    from bidi.algorithm import get_display

    return get_display(arabic_reshaper.reshape(text))


def _chart(function: Callable[P, Figure]) -> Callable[P, str]:
    """Draw ``function``'s figure in the house style and return it as a PNG data URI."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> str:
        lang = str(kwargs.get("lang", "en"))
        with matplotlib.rc_context(_RC):
            figure = function(*args, **kwargs)
            return _encode(figure, lang)

    return wrapper


def _figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    figure = Figure(figsize=(width, height), dpi=_DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _encode(figure: Figure, lang: str) -> str:
    """PNG data URI of a figure; in Persian, tick numbers are written in Persian digits."""
    if lang == "fa":
        figure.canvas.draw()
        for ax in figure.axes:
            for axis in (ax.xaxis, ax.yaxis):
                _persian_ticks(axis)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _persian_ticks(axis: Any) -> None:
    """Rewrite an axis's drawn tick labels in Persian digits, keeping its ticks and limits."""
    labels = [t.get_text() for t in axis.get_ticklabels()]
    if not any(re.search(r"\d", label) for label in labels):
        return
    if any(label.startswith("$") for label in labels):
        return  # mathtext: leave as drawn
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    locations = np.asarray(axis.get_ticklocs(), float)
    visible = (locations >= low - span) & (locations <= high + span)
    limits = axis.get_view_interval()
    axis.set_ticks(
        locations[visible],
        labels=[localize_number(t, "fa") for t, v in zip(labels, visible, strict=True) if v],
    )
    axis.set_view_interval(*limits, ignore=True)


def localize_number(text: str, lang: str) -> str:
    """A formatted number in the report's language.

    In Persian: Persian digits and marks (``٫`` ``٬`` ``٪``), isolated as a left-to-right run
    (U+2066 ... U+2069), without which a sign or percent sign lands on the wrong side of the
    number in right-to-left text (in the browser and in matplotlib alike).
    """
    if lang != "fa" or not re.search(r"\d", text):
        return text
    return "\u2066" + to_persian_digits(text).replace("%", "٪") + "\u2069"


def _number(value: float, lang: str, digits: int = 2) -> str:
    return localize_number(f"{value:,.{digits}f}", lang)


def _percent(value: float, lang: str, digits: int = 0) -> str:
    return localize_number(f"{100 * value:.{digits}f}%", lang)


def _plain(value: float, _position: object = None) -> str:
    """Tick label of a log axis without exponents: 1,000 not 10^3."""
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


def _title(ax: Any, title: str | None) -> None:
    if title:
        ax.set_title(shape_text(title), loc="left" if not _ARABIC_SCRIPT.search(title) else "right")


def _axes(width: float, height: float) -> tuple[Figure, Any]:
    """A figure of one axes (constrained layout)."""
    figure = _figure(width, height)
    return figure, figure.subplots()


def _row_axes(
    width: float, n: int, minimum: float, base: float, step: float
) -> tuple[Figure, Any, np.ndarray]:
    """A figure for ``n`` horizontal rows (first on top): ``base + step * n`` inches high, at
    least ``minimum``; with its axes and the rows' y positions."""
    figure, ax = _axes(width, max(minimum, base + step * n))
    return figure, ax, np.arange(n)[::-1]


def _labels(
    ax: Any, *, xlabel: str | None = None, ylabel: str | None = None, title: str | None = None
) -> None:
    """Axis labels and title, shaped for matplotlib."""
    if xlabel is not None:
        ax.set_xlabel(shape_text(xlabel))
    if ylabel is not None:
        ax.set_ylabel(shape_text(ylabel))
    _title(ax, title)


def _row_labels(ax: Any, position: np.ndarray, labels: Sequence[str]) -> None:
    """Category names along the y axis of horizontal bars or dots, without horizontal grid."""
    ax.set_yticks(position, labels=[shape_text(label) for label in labels])
    ax.grid(False, axis="y")


def _rtl_legend(target: Any, lang: str, *args: Any, **kwargs: Any) -> None:
    """A legend of an axes or figure; in Persian, markers sit on the right of their text."""
    legend = target.legend(*args, markerfirst=lang != "fa", **kwargs)
    for text in legend.get_texts():
        text.set_text(shape_text(text.get_text()))


_REFERENCE = {"color": "#d1d5db", "linewidth": 1, "linestyle": ":"}


def _diagonal(ax: Any, **kwargs: Any) -> None:
    """The dotted y = x reference line of the unit square."""
    ax.plot([0, 1], [0, 1], **_REFERENCE, **kwargs)


def _heatmap_frame(
    figure: Figure, ax: Any, image: Any, rows: Sequence[str], title: str | None
) -> None:
    """Row names, no grid, a colour bar and the title of an annotated heatmap."""
    ax.set_yticks(range(len(rows)), labels=[shape_text(r) for r in rows])
    ax.grid(False)
    figure.colorbar(image, ax=ax, shrink=0.8)
    _title(ax, title)


# --------------------------------------------------------------------------------------------
# Model report


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
    figure, ax = _axes(4.2, 3.6)
    reference(ax)
    for curve in curves:
        ax.plot(curve["x"], curve["y"], **_line(curve["role"]), label=curve["label"])
    ax.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    _labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    _rtl_legend(ax, lang, loc=legend)
    return figure


@_chart
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
        _diagonal,
        curves,
        title=title,
        xlabel=xlabel,
        ylabel=ylabel,
        lang=lang,
        legend="lower right",
    )


@_chart
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
        lambda ax: ax.axhline(base_rate, **_REFERENCE, label=base_label),
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


@_chart
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
    figure = _figure(4.4, 4.4)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3.2, 1])
    _diagonal(top, label=ideal_label)
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
    _labels(top, ylabel=ylabel, title=title)
    _rtl_legend(top, lang, loc="upper left")
    edges = np.asarray(edges)
    bottom.bar(edges[:-1], shares, width=np.diff(edges), align="edge", color="#cbd5e1")
    _labels(bottom, xlabel=xlabel, ylabel=share_label)
    bottom.grid(False, axis="x")
    return figure


@_chart
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
    figure, ax = _axes(4.6, 3.2)
    colors = ("#9ca3af", _ACCENT)
    edges = np.asarray(edges)
    for density, label, color in zip(densities, labels, colors, strict=True):
        ax.stairs(density, edges, fill=True, alpha=0.25, color=color)
        ax.stairs(density, edges, color=color, linewidth=1.6, label=label)
    ax.set_xlim(0, 1)
    _labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    _rtl_legend(ax, lang, loc="upper right")
    return figure


@_chart
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
    lang: str = "en",
) -> Figure:
    """A numeric feature's contribution to the log-odds: a step curve over ``[low, high]``.

    Cell ``k`` covers ``(edges[k-1], edges[k]]``. The value for a missing input is a diamond
    beyond the right end of the axis; ``band`` shades where the middle 80% of training
    cooperatives lie and ``deciles`` are ticked along the bottom.
    """
    # Fixed margins, one axes: these small multiples are the bulk of a model report's charts.
    figure = _figure(3.5, 2.4, layout=None)
    figure.subplots_adjust(left=0.22, right=0.79, bottom=0.14, top=0.96)
    ax = figure.subplots()
    edges = np.asarray(edges, float)
    inside = edges[(edges > low) & (edges < high)]
    xs = np.concatenate([[low], inside, [high]])
    first = int(np.searchsorted(edges, low, side="left"))
    ys = np.asarray(values, float)[first : first + len(inside) + 1]
    ys = np.append(ys, ys[-1])
    if band is not None:
        ax.axvspan(*band, color="#dbeafe", alpha=0.6, linewidth=0)
    ax.axhline(0, color="#9ca3af", linewidth=0.8)
    ax.plot(xs, ys, drawstyle="steps-post", color=_ACCENT, linewidth=1.8)
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
        subs = (1.0, 3.0) if high / low < 300 else (1.0,)  # at most ~5 labels on 3.5 inches
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=8))
        ax.xaxis.set_major_formatter(FuncFormatter(_plain))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(low, high)
    bottom, top = min(ys.min(), missing, 0.0), max(ys.max(), missing, 0.0)
    pad = 0.08 * (top - bottom) if top > bottom else 0.1
    ax.set_ylim(bottom - pad, top + pad)
    ax.set_ylabel(shape_text(ylabel))
    outside = transforms.blended_transform_factory(ax.transAxes, ax.transData)
    ax.plot([1.09], [missing], marker="D", color=_MISSING, markersize=6, linestyle="none",
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
        color=_MISSING,
        annotation_clip=False,
    )
    return figure


@_chart
def contribution_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    missing_index: int | None,
    xlabel: str,
    vertical: bool = False,
    lang: str = "en",
) -> Figure:
    """A categorical (or yes/no) feature's contribution per category, as bars.

    Horizontal bars, or columns with slanted labels when ``vertical`` (many categories). The
    bar at ``missing_index`` (a missing input) is drawn hatched in another colour.
    """
    n = len(labels)
    colors = [
        _MISSING if i == missing_index else (_ACCENT if v >= 0 else "#94a3b8")
        for i, v in enumerate(values)
    ]
    if vertical:
        figure, ax = _axes(max(6.0, 0.26 * n + 1.2), 2.9)
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
        _labels(ax, ylabel=xlabel)
        if lang == "fa":
            ax.invert_xaxis()
    else:
        figure, ax, position = _row_axes(3.5, n, 1.6, 0.9, 0.2)
        bars = ax.barh(position, values, color=colors, height=0.7)
        ax.axvline(0, color="#6b7280", linewidth=0.8)
        _row_labels(ax, position, labels)
        _labels(ax, xlabel=xlabel)
    if missing_index is not None:
        bars[missing_index].set_hatch("///")
        bars[missing_index].set_alpha(0.75)
    return figure


@_chart
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
    figure, ax = _axes(max(4.0, 0.62 * len(columns) + 1.6), max(1.8, 0.45 * len(rows) + 1.3))
    limit = float(np.nanmax(np.abs(matrix))) or 1.0
    image = ax.imshow(matrix, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        color = "white" if abs(value) > 0.6 * limit else "#111827"
        ax.text(j, i, _number(value, lang), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(
        range(len(columns)),
        labels=[shape_text(c) for c in columns],
        rotation=-35 if lang == "fa" else 35,
        ha="left" if lang == "fa" else "right",
        rotation_mode="anchor",
    )
    _labels(ax, xlabel=column_label, ylabel=row_label)
    _heatmap_frame(figure, ax, image, rows, title)
    return figure


@_chart
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
    figure, ax, position = _row_axes(4.0, len(labels), 2.0, 1.0, 0.21)
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
    ax.plot(predicted, position, "o", color=_ACCENT, markersize=5, label=predicted_label)
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
    _row_labels(ax, position, labels)
    ax.set_xlim(0, max(1e-9, float(np.nanmax([observed.max(), predicted.max()]))) * 1.08)
    _labels(ax, xlabel=xlabel, title=title)
    _rtl_legend(figure, lang, loc="outside lower center", ncols=3, fontsize=7.5)
    return figure


@_chart
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
    figure, ax = _axes(4.6, 2.8)
    position = np.arange(len(tiers))
    colors = [TIER_COLORS.get(t, _ACCENT) for t in tiers]
    ax.bar(position, shares, color=colors, width=0.65)
    for x, share, rate in zip(position, shares, rates, strict=True):
        text = _percent(share, lang)
        if rate is not None:
            text += "\n" + shape_text(rate_label) + " " + _percent(rate, lang)
        ax.text(x, share, text, ha="center", va="bottom", fontsize=7.5)
    ax.set_xticks(position, labels=[shape_text(label) for label in labels])
    if lang == "fa":
        ax.invert_xaxis()  # tier A first, on the right
    ax.set_ylim(0, max(shares) * 1.35 if len(shares) else 1)
    ax.grid(False, axis="x")
    _labels(ax, ylabel=share_label, title=title)
    return figure


@_chart
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
    figure, ax = _axes(4.0, 3.6)
    _diagonal(ax)
    ax.scatter(true, predicted, s=5, alpha=0.35, color=_ACCENT, linewidths=0)
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
    _labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    return figure


# --------------------------------------------------------------------------------------------
# Batch report


@_chart
def score_histogram_by_tier(
    scores: Mapping[str, Sequence[float]],
    labels: Mapping[str, str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str = "en",
) -> Figure:
    """Stacked histogram of the 0-100 readiness score, coloured by tier."""
    figure, ax = _axes(6.4, 3.0)
    tiers = [t for t in ("D", "C", "B", "A") if t in scores]
    ax.hist(
        [np.asarray(scores[t], float) for t in tiers],
        bins=np.linspace(0, 100, 41),
        stacked=True,
        color=[TIER_COLORS[t] for t in tiers],
        label=[labels[t] for t in tiers],
    )
    ax.set_xlim(0, 100)
    ax.grid(False, axis="x")
    _labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    handles, names = ax.get_legend_handles_labels()
    _rtl_legend(ax, lang, handles[::-1], names[::-1], loc="upper right")
    return figure


@_chart
def tier_shares(
    groups: Sequence[str],
    counts: Mapping[str, Sequence[int]],
    labels: Mapping[str, str],
    *,
    title: str,
    xlabel: str,
    lang: str = "en",
) -> Figure:
    """100% stacked horizontal bars: the tier mix of each group, with its row count."""
    n = len(groups)
    figure, ax, position = _row_axes(6.4, n, 1.8, 1.0, 0.24)
    matrix = np.array([counts[t] for t in ("A", "B", "C", "D")], float)
    totals = matrix.sum(axis=0)
    shares = matrix / np.where(totals > 0, totals, 1)
    left = np.zeros(n)
    for tier, share in zip(("A", "B", "C", "D"), shares, strict=True):
        ax.barh(
            position, share, left=left, color=TIER_COLORS[tier], height=0.75, label=labels[tier]
        )
        left += share
    for y, total in zip(position, totals, strict=True):
        count = _number(total, lang, 0) if lang == "fa" else f"n={total:,.0f}"
        ax.text(
            1.01,
            y,
            count,
            va="center",
            ha="right" if lang == "fa" else "left",
            fontsize=7,
            color="#4b5563",
        )
    _row_labels(ax, position, groups)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 1)
    if lang == "fa":
        # Right to left: tier A starts at the right, group names on the right.
        ax.invert_xaxis()
        ax.yaxis.tick_right()
        ax.spines["right"].set_visible(True)
        ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))  # digits: _encode
    _labels(ax, xlabel=xlabel, title=title)
    handles, names = ax.get_legend_handles_labels()
    if lang == "fa":
        handles, names = handles[::-1], names[::-1]  # A on the right
    _rtl_legend(figure, lang, handles, names, loc="outside upper center", ncols=4, fontsize=7.5)
    return figure


@_chart
def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    value_labels: Sequence[str] | None = None,
    color: str = _ACCENT,
    width: float = 6.4,
    lang: str = "en",
) -> Figure:
    """Plain horizontal bars, largest first, with an optional label at the end of each bar."""
    figure, ax, position = _row_axes(width, len(labels), 1.6, 0.8, 0.26)
    ax.barh(position, values, color=color, height=0.7)
    if value_labels is not None:
        for y, value, text in zip(position, values, value_labels, strict=True):
            ax.text(value, y, " " + text, va="center", fontsize=7.5, color="#374151")
    _row_labels(ax, position, labels)
    ax.set_xlim(0, (max(values) if len(values) else 1) * 1.18)
    _labels(ax, xlabel=xlabel, title=title)
    return figure


@_chart
def heatmap(
    matrix: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    title: str,
    vmin: float = 0,
    vmax: float = 100,
    lang: str = "en",
) -> Figure:
    """Annotated heatmap (sub-scores per sector), higher is greener."""
    matrix = np.asarray(matrix, float)
    figure, ax = _axes(max(4.2, 1.1 * len(columns) + 2.2), max(1.8, 0.34 * len(rows) + 1.0))
    image = ax.imshow(matrix, cmap="YlGn", vmin=vmin, vmax=vmax, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            color = "white" if value > vmin + 0.65 * (vmax - vmin) else "#111827"
            ax.text(
                j, i, _number(value, lang, 0), ha="center", va="center", fontsize=8, color=color
            )
    ax.set_xticks(range(len(columns)), labels=[shape_text(c) for c in columns])
    ax.xaxis.tick_top()
    if lang == "fa":
        ax.invert_xaxis()  # the first column on the right
    _heatmap_frame(figure, ax, image, rows, title)
    return figure


@_chart
def drift_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    stable: float,
    shifted: float,
    lang: str = "en",
) -> Figure:
    """PSI per feature with the stable / shifted thresholds."""
    n = len(labels)
    figure, ax, position = _row_axes(5.0, n, 1.8, 0.8, 0.22)
    values = np.asarray(values, float)
    colors = np.where(values > shifted, "#b2182b", np.where(values >= stable, "#f1a340", "#7fbf7b"))
    ax.barh(position, values, color=colors, height=0.7)
    for threshold in (stable, shifted):
        ax.axvline(threshold, color="#6b7280", linewidth=0.8, linestyle="--")
    _row_labels(ax, position, labels)
    ax.set_xlim(0, max(shifted * 1.2, float(values.max()) * 1.1 if n else 0))
    _labels(ax, xlabel=xlabel, title=title)
    return figure
