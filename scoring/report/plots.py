"""Charts for the HTML reports: the house style and palette, and the batch report's charts.

Every chart takes numbers already computed (by :mod:`scoring.report.batch` and
:mod:`scoring.report.model_card`) and labels already in the report's language, and returns a
``data:image/png;base64,...`` URI, so a report needs no image files and fetches nothing. Figures
are drawn on the Agg canvas directly, never through ``pyplot``: making a report does not change
the backend or the global style of a notebook. matplotlib is imported when the first chart is
drawn, not with this module, so importing the reports stays light. The model card's charts are
in :mod:`scoring.report.model_plots`, drawn with the helpers here (:func:`chart`,
:func:`new_axes`, ...).

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
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, ParamSpec

import numpy as np

from scoring.report.words import localize_number
from scoring.tiers import TIER_COLORS  # one palette for charts, pages and workbooks

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACCENT",
    "MISSING_COLOR",
    "MODEL_COLORS",
    "REFERENCE_LINE",
    "TIER_COLORS",
    "add_legend",
    "chart",
    "comparison_bars",
    "curve_points",
    "draw_diagonal",
    "drift_bars",
    "frame_heatmap",
    "heatmap",
    "horizontal_bars",
    "log_subs",
    "new_axes",
    "new_figure",
    "number_text",
    "paired_bars",
    "percent_text",
    "plain_tick",
    "row_axes",
    "score_histogram_by_tier",
    "set_labels",
    "set_row_labels",
    "shape_text",
    "tier_shares",
    "value_limits",
]

#: Lines of the glass-box model, the baseline and the truth in curves and diagrams.
MODEL_COLORS = {"model": "#1f4e79", "baseline": "#9a9a9a", "truth": "#222222"}
ACCENT = "#1f4e79"  # the pages' accent colour too
MISSING_COLOR = "#c2410c"  # a feature's contribution when its value is missing
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
P = ParamSpec("P")


@cache
def _has_layout() -> bool:
    """Whether this matplotlib shapes and orders right-to-left text itself (libraqm)."""
    from matplotlib import ft2font

    return hasattr(ft2font, "__libraqm_version__")


def shape_text(text: str) -> str:
    """``text`` ready for matplotlib: shaped and reordered when matplotlib cannot do it itself."""
    if not _ARABIC_SCRIPT.search(text) or _has_layout():
        return text
    import arabic_reshaper
    from bidi.algorithm import get_display

    return get_display(arabic_reshaper.reshape(text))


def chart(function: Callable[P, Figure]) -> Callable[P, str]:
    """Draw ``function``'s figure in the house style and return it as a PNG data URI."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> str:
        import matplotlib

        lang = str(kwargs.get("lang", "en"))
        with matplotlib.rc_context(_RC):
            figure = function(*args, **kwargs)
            return _encode(figure, lang)

    return wrapper


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """An empty figure on its own Agg canvas (no pyplot), ``width`` by ``height`` inches."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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


def number_text(value: float, lang: str, digits: int = 2) -> str:
    """A number to write on a chart, in the chart's digits."""
    return localize_number(f"{value:,.{digits}f}", lang)


def percent_text(value: float, lang: str, digits: int = 0) -> str:
    """A share (0-1) to write on a chart as a percentage, in the chart's digits."""
    return localize_number(f"{100 * value:.{digits}f}%", lang)


def plain_tick(value: float, _position: object = None) -> str:
    """Tick label of a log axis without exponents: 1,000 not 10^3."""
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


def curve_points(
    edges: Sequence[float], values: Sequence[float], low: float, high: float
) -> tuple[np.ndarray, np.ndarray]:
    """The step curve of a numeric feature's table over ``[low, high]``, as drawn: the x of
    each step's start (and ``high``) and its contribution."""
    edges = np.asarray(edges, float)
    inside = edges[(edges > low) & (edges < high)]
    xs = np.concatenate([[low], inside, [high]])
    first = int(np.searchsorted(edges, low, side="left"))
    ys = np.asarray(values, float)[first : first + len(inside) + 1]
    return xs, np.append(ys, ys[-1])


#: Width of the plotting area of a contribution curve, in inches (3.5 inches, 22%-79%).
_CURVE_AXES_INCHES = 3.5 * (0.79 - 0.22)
#: Room one tick label such as ``100,000`` takes on a contribution curve's axis, in inches.
_TICK_LABEL_INCHES = 0.6


def log_subs(low: float, high: float, inches: float = _CURVE_AXES_INCHES) -> tuple[float, ...]:
    """Which ticks of each decade a log axis from ``low`` to ``high`` labels so that labels
    such as ``30,000`` and ``100,000`` do not run together: 1 and 3 when a third of a decade is
    wide enough for a label, else 1 alone."""
    decades = max(np.log10(high / low), 1e-9)
    third = np.log10(10 / 3) * inches / decades  # 3 to 10: the narrower gap of 1-3-10
    return (1.0, 3.0) if third >= _TICK_LABEL_INCHES else (1.0,)


def value_limits(values: Sequence[float]) -> tuple[float, float]:
    """An axis from the lowest to the highest of ``values`` and 0, with a margin."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    bottom = min(float(finite.min()), 0.0) if len(finite) else 0.0
    top = max(float(finite.max()), 0.0) if len(finite) else 0.0
    pad = 0.08 * (top - bottom) if top > bottom else 0.1
    return bottom - pad, top + pad


def _title(ax: Any, title: str | None) -> None:
    if title:
        ax.set_title(shape_text(title), loc="left" if not _ARABIC_SCRIPT.search(title) else "right")


def new_axes(width: float, height: float) -> tuple[Figure, Any]:
    """A figure of one axes (constrained layout)."""
    figure = new_figure(width, height)
    return figure, figure.subplots()


def row_axes(
    width: float, n: int, minimum: float, base: float, step: float
) -> tuple[Figure, Any, np.ndarray]:
    """A figure for ``n`` horizontal rows (first on top): ``base + step * n`` inches high, at
    least ``minimum``; with its axes and the rows' y positions."""
    figure, ax = new_axes(width, max(minimum, base + step * n))
    return figure, ax, np.arange(n)[::-1]


def set_labels(
    ax: Any, *, xlabel: str | None = None, ylabel: str | None = None, title: str | None = None
) -> None:
    """Axis labels and title, shaped for matplotlib."""
    if xlabel is not None:
        ax.set_xlabel(shape_text(xlabel))
    if ylabel is not None:
        ax.set_ylabel(shape_text(ylabel))
    _title(ax, title)


def set_row_labels(ax: Any, position: np.ndarray, labels: Sequence[str]) -> None:
    """Category names along the y axis of horizontal bars or dots, without horizontal grid."""
    ax.set_yticks(position, labels=[shape_text(label) for label in labels])
    ax.grid(False, axis="y")


def add_legend(target: Any, lang: str, *args: Any, **kwargs: Any) -> None:
    """A legend of an axes or figure; in Persian, markers sit on the right of their text."""
    legend = target.legend(*args, markerfirst=lang != "fa", **kwargs)
    for text in legend.get_texts():
        text.set_text(shape_text(text.get_text()))


#: Dotted grey: the diagonal of calibration and ROC charts, the base rate of PR curves.
REFERENCE_LINE = {"color": "#d1d5db", "linewidth": 1, "linestyle": ":"}


def draw_diagonal(ax: Any, **kwargs: Any) -> None:
    """The dotted y = x reference line of the unit square."""
    ax.plot([0, 1], [0, 1], **REFERENCE_LINE, **kwargs)


def frame_heatmap(
    figure: Figure, ax: Any, image: Any, rows: Sequence[str], title: str | None
) -> None:
    """Row names, no grid, a colour bar and the title of an annotated heatmap."""
    ax.set_yticks(range(len(rows)), labels=[shape_text(r) for r in rows])
    ax.grid(False)
    figure.colorbar(image, ax=ax, shrink=0.8)
    _title(ax, title)


# --------------------------------------------------------------------------------------------
# The batch report's charts


@chart
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
    figure, ax = new_axes(6.4, 3.0)
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
    set_labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    handles, names = ax.get_legend_handles_labels()
    add_legend(ax, lang, handles[::-1], names[::-1], loc="upper right")
    return figure


@chart
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
    from matplotlib.ticker import FuncFormatter

    n = len(groups)
    figure, ax, position = row_axes(6.4, n, 1.8, 1.0, 0.24)
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
        count = number_text(total, lang, 0) if lang == "fa" else f"n={total:,.0f}"
        ax.text(
            1.01,
            y,
            count,
            va="center",
            ha="right" if lang == "fa" else "left",
            fontsize=7,
            color="#4b5563",
        )
    set_row_labels(ax, position, groups)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, 1)
    if lang == "fa":
        # Right to left: tier A starts at the right, group names on the right.
        ax.invert_xaxis()
        ax.yaxis.tick_right()
        ax.spines["right"].set_visible(True)
        ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))  # digits: _encode
    set_labels(ax, xlabel=xlabel, title=title)
    handles, names = ax.get_legend_handles_labels()
    if lang == "fa":
        handles, names = handles[::-1], names[::-1]  # A on the right
    add_legend(figure, lang, handles, names, loc="outside upper center", ncols=4, fontsize=7.5)
    return figure


@chart
def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    value_labels: Sequence[str] | None = None,
    color: str = ACCENT,
    width: float = 6.4,
    lang: str = "en",
) -> Figure:
    """Plain horizontal bars, largest first, with an optional label at the end of each bar."""
    figure, ax, position = row_axes(width, len(labels), 1.6, 0.8, 0.26)
    ax.barh(position, values, color=color, height=0.7)
    if value_labels is not None:
        for y, value, text in zip(position, values, value_labels, strict=True):
            ax.text(value, y, " " + text, va="center", fontsize=7.5, color="#374151")
    set_row_labels(ax, position, labels)
    ax.set_xlim(0, (max(values) if len(values) else 1) * 1.18)
    set_labels(ax, xlabel=xlabel, title=title)
    return figure


@chart
def heatmap(
    matrix: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    title: str,
    vmin: float = 0,
    vmax: float = 100,
    center: float | None = None,
    span: float = 0.0,
    lang: str = "en",
) -> Figure:
    """Annotated heatmap (sub-scores per sector), higher is greener.

    With ``center``, the cells are differences drawn on a diverging scale around it (green
    above, purple below) reaching at least ``span`` either way, and written with their sign.
    """
    matrix = np.asarray(matrix, float)
    figure, ax = new_axes(max(4.2, 1.1 * len(columns) + 2.2), max(1.8, 0.34 * len(rows) + 1.2))
    cmap = "YlGn"
    if center is not None:
        finite = np.abs(matrix[np.isfinite(matrix)] - center)
        reach = max(span, float(finite.max()) if len(finite) else 0.0) or 1.0
        vmin, vmax, cmap = center - reach, center + reach, "PiYG"
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            if center is None:
                dark = value > vmin + 0.65 * (vmax - vmin)
                text = number_text(value, lang, 0)
            else:
                dark = abs(value - center) > 0.65 * (vmax - center)
                shown = round(value - center)  # "0", never "+0" or "-0"
                text = localize_number(f"{shown:+d}" if shown else "0", lang).replace("-", "−")
            color = "white" if dark else "#111827"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(len(columns)), labels=[shape_text(c) for c in columns])
    ax.xaxis.tick_top()
    if lang == "fa":
        ax.invert_xaxis()  # the first column on the right
    frame_heatmap(figure, ax, image, rows, title)
    return figure


@chart
def drift_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    stable: float,
    shifted: float,
    judged: Sequence[bool] | None = None,
    lang: str = "en",
) -> Figure:
    """PSI per feature with the stable / shifted thresholds.

    Features given no verdict (``judged`` false: the list's own segment, too few rows) are
    grey, and do not set the axis: a bar beyond it is cut at the edge, its value written there.
    """
    n = len(labels)
    figure, ax, position = row_axes(5.0, n, 1.8, 0.8, 0.22)
    values = np.asarray(values, float)
    judged = np.ones(n, bool) if judged is None else np.asarray(judged, bool)
    # The tier palette: shifted as 'not ready', to investigate as 'developing', stable as 'near'.
    colors = np.where(
        values > shifted,
        TIER_COLORS["D"],
        np.where(values >= stable, TIER_COLORS["C"], TIER_COLORS["B"]),
    )
    colors = np.where(judged, colors, "#cbd5e1")
    scale = values[judged] if judged.any() else values
    limit = max(shifted * 1.2, float(scale.max()) * 1.1 if len(scale) else 0)
    ax.barh(position, np.minimum(values, limit), color=colors, height=0.7)
    for y, value in zip(position, values, strict=True):
        if value > limit:
            ax.text(limit, y, number_text(value, lang) + " ", ha="right", va="center",
                    fontsize=7, color="#374151")  # fmt: skip
    for threshold in (stable, shifted):
        ax.axvline(threshold, color="#6b7280", linewidth=0.8, linestyle="--")
    set_row_labels(ax, position, labels)
    ax.set_xlim(0, limit)
    set_labels(ax, xlabel=xlabel, title=title)
    return figure


# --------------------------------------------------------------------------------------------
# The plan report's charts


def _value_bars(
    ax: Any, values: Sequence[float], texts: Sequence[str], colors: Any, lang: str
) -> np.ndarray:
    """Bars from the first row on top, a label at each bar's end; right to left in Persian."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    values = np.asarray(values, float)
    position = np.arange(len(values))[::-1]
    ax.barh(position, values, color=colors, height=0.7)
    for y, value, text in zip(position, values, texts, strict=True):
        # In Persian the label reads right to left: "۳۰٬۰۰۰ (۵۰٪)" with the amount on the right.
        label, align = (f"\u2067{text}\u2069 ", "right") if lang == "fa" else (f" {text}", "left")
        ax.text(value, y, label, va="center", ha=align, fontsize=7.5, color="#374151")
    ax.set_xlim(0, (float(values.max()) if len(values) else 1.0) * 1.35 or 1.0)
    ax.set_ylim(-0.6, len(values) - 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.xaxis.set_major_formatter(FuncFormatter(_grouped))  # digits: _encode
    if lang == "fa":
        ax.invert_xaxis()
    return position


def _grouped(value: float, _position: object = None) -> str:
    """Tick label with thousands grouping: 30,000 not 30000 (and 2.5 stays 2.5)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


@chart
def paired_bars(
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    *,
    titles: tuple[str, str],
    first_labels: Sequence[str],
    second_labels: Sequence[str],
    lang: str = "en",
) -> Figure:
    """Two measures of the same groups side by side (a plan's cost and what it buys).

    In Persian the first measure is on the right, the group names on its right, bars grow
    leftwards.
    """
    n = len(labels)
    figure = new_figure(7.6, max(1.7, 0.9 + 0.27 * n))
    left, right = figure.subplots(1, 2)
    near, far = (right, left) if lang == "fa" else (left, right)
    measures = ((near, first, first_labels, ACCENT), (far, second, second_labels, TIER_COLORS["A"]))
    for (ax, values, texts, color), title in zip(measures, titles, strict=True):
        position = _value_bars(ax, values, texts, color, lang)
        _title(ax, title)
    set_row_labels(near, position, labels)
    far.set_yticks([])
    far.grid(False, axis="y")
    _mirror(near, lang)
    _mirror(far, lang)
    return figure


@chart
def comparison_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    value_labels: Sequence[str],
    lang: str = "en",
) -> Figure:
    """One figure per allocation, the first (the plan) in the accent colour, the rest grey."""
    colors = [ACCENT, *["#9ca3af"] * (len(values) - 1)]
    figure, ax = new_axes(6.4, max(1.6, 0.8 + 0.3 * len(values)))
    position = _value_bars(ax, values, value_labels, colors, lang)
    set_row_labels(ax, position, labels)
    _mirror(ax, lang)
    set_labels(ax, xlabel=xlabel, title=title)
    return figure


def _mirror(ax: Any, lang: str) -> None:
    """In Persian, the axis line and the row names on the right, where the bars start."""
    if lang == "fa":
        ax.yaxis.tick_right()
        ax.spines["right"].set_visible(True)
        ax.spines["left"].set_visible(False)
