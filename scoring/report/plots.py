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
    "draw_diagonal",
    "drift_bars",
    "frame_heatmap",
    "heatmap",
    "horizontal_bars",
    "new_axes",
    "new_figure",
    "number_text",
    "percent_text",
    "plain_tick",
    "row_axes",
    "score_histogram_by_tier",
    "set_labels",
    "set_row_labels",
    "shape_text",
    "tier_shares",
]

#: The tiers' colours, in the charts and (through the templates) in the pages' style sheet.
TIER_COLORS = {"A": "#1b7837", "B": "#7fbf7b", "C": "#f1a340", "D": "#b2182b"}
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
    lang: str = "en",
) -> Figure:
    """Annotated heatmap (sub-scores per sector), higher is greener."""
    matrix = np.asarray(matrix, float)
    figure, ax = new_axes(max(4.2, 1.1 * len(columns) + 2.2), max(1.8, 0.34 * len(rows) + 1.0))
    image = ax.imshow(matrix, cmap="YlGn", vmin=vmin, vmax=vmax, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            color = "white" if value > vmin + 0.65 * (vmax - vmin) else "#111827"
            ax.text(
                j, i, number_text(value, lang, 0), ha="center", va="center", fontsize=8, color=color
            )
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
    lang: str = "en",
) -> Figure:
    """PSI per feature with the stable / shifted thresholds."""
    n = len(labels)
    figure, ax, position = row_axes(5.0, n, 1.8, 0.8, 0.22)
    values = np.asarray(values, float)
    # The tier palette: shifted as 'not ready', to investigate as 'developing', stable as 'near'.
    colors = np.where(
        values > shifted,
        TIER_COLORS["D"],
        np.where(values >= stable, TIER_COLORS["C"], TIER_COLORS["B"]),
    )
    ax.barh(position, values, color=colors, height=0.7)
    for threshold in (stable, shifted):
        ax.axvline(threshold, color="#6b7280", linewidth=0.8, linestyle="--")
    set_row_labels(ax, position, labels)
    ax.set_xlim(0, max(shifted * 1.2, float(values.max()) * 1.1 if n else 0))
    set_labels(ax, xlabel=xlabel, title=title)
    return figure
