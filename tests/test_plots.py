"""Tests of the report charts (scoring.report.plots, scoring.report.model_plots): every chart is
a PNG data URI in both languages, Persian text is shaped when matplotlib cannot shape it, and
Persian charts write their tick numbers in Persian digits."""

from __future__ import annotations

import base64
import itertools
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

from scoring.report import model_plots, plots
from scoring.text import to_ascii_digits

PNG = b"\x89PNG\r\n\x1a\n"
DPI = 110
WORD = {"en": "sector", "fa": "بخش"}
TIER_LABELS = {tier: f"{tier}: tier" for tier in "ABCD"}
CURVE = {"x": [0.0, 0.2, 1.0], "y": [0.0, 0.7, 1.0], "role": "model", "label": "model"}
RELIABILITY = {
    "predicted": [0.1, 0.5, 0.9], "observed": [0.12, 0.45, 0.85], "low": [0.05, 0.35, 0.75],
    "high": [0.2, 0.55, 0.92], "role": "model", "label": "model",
}  # fmt: skip


def _charts(word: str) -> dict:
    """Each chart function with small arguments, labelled with ``word``."""
    return {
        "roc_curves": lambda lang: model_plots.roc_curves(
            [CURVE], title=word, xlabel=word, ylabel=word, lang=lang
        ),
        "precision_recall_curves": lambda lang: model_plots.precision_recall_curves(
            [CURVE], base_rate=0.3, base_label=word, title=word, xlabel=word, ylabel=word,
            lang=lang,
        ),
        "reliability_diagram": lambda lang: model_plots.reliability_diagram(
            [RELIABILITY], shares=[0.5, 0.5], edges=[0.0, 0.5, 1.0], title=word, xlabel=word,
            ylabel=word, share_label=word, ideal_label=word, lang=lang,
        ),
        "outcome_histograms": lambda lang: model_plots.outcome_histograms(
            [0.0, 0.5, 1.0], [[1.5, 0.5], [0.4, 1.6]], [word, word], title=word, xlabel=word,
            ylabel=word, lang=lang,
        ),
        "contribution_curve": lambda lang: model_plots.contribution_curve(
            [1.0, 2.0, 5.0], [-0.4, 0.0, 0.3, 0.5], -0.1, low=0.5, high=6.0, log=False,
            band=(1.0, 5.0), deciles=[1.0, 2.0, 3.0], ylabel=word, missing_label=word,
            lang=lang,
        ),
        "contribution_curve_log": lambda lang: model_plots.contribution_curve(
            [10.0, 100.0, 1000.0], [-0.4, 0.0, 0.3, 0.5], 0.2, low=5.0, high=5000.0, log=True,
            band=None, deciles=[], ylabel=word, missing_label=word, lang=lang,
        ),
        "contribution_bars": lambda lang: model_plots.contribution_bars(
            [word, "b", "c"], [0.3, -0.2, 0.05], missing_index=2, xlabel=word, lang=lang
        ),
        "contribution_columns": lambda lang: model_plots.contribution_bars(
            [f"{word} {i}" for i in range(14)], list(np.linspace(-1, 1, 14)), missing_index=13,
            xlabel=word, vertical=True, lang=lang,
        ),
        "pair_heatmap": lambda lang: model_plots.pair_heatmap(
            np.array([[0.1, -0.3], [0.2, 0.4]]), [word, "b"], ["c", word], title="",
            row_label=word, column_label=word, lang=lang,
        ),
        "calibration_by_group": lambda lang: model_plots.calibration_by_group(
            [word, "b", "c"], [0.2, 0.3, 0.5], [0.25, 0.3, 0.4], [False, True, False],
            title=word, xlabel=word, observed_label=word, predicted_label=word,
            small_label=word, lang=lang,
        ),
        "tier_bars": lambda lang: model_plots.tier_bars(
            list("ABCD"), [TIER_LABELS[t] for t in "ABCD"], [0.1, 0.2, 0.3, 0.4],
            [0.6, 0.4, None, 0.05], title=word, share_label=word, rate_label=word, lang=lang,
        ),
        "truth_scatter": lambda lang: model_plots.truth_scatter(
            [0.1, 0.5, 0.9], [0.15, 0.45, 0.8], title=word, xlabel=word, ylabel=word, lang=lang
        ),
        "score_histogram_by_tier": lambda lang: plots.score_histogram_by_tier(
            {"A": [80.0, 90.0], "C": [30.0], "D": [5.0, 12.0]}, TIER_LABELS, title=word,
            xlabel=word, ylabel=word, lang=lang,
        ),
        "tier_shares": lambda lang: plots.tier_shares(
            [word, "b"], {"A": [3, 0], "B": [1, 2], "C": [0, 4], "D": [1, 1]}, TIER_LABELS,
            title="", xlabel=word, lang=lang,
        ),
        "horizontal_bars": lambda lang: plots.horizontal_bars(
            [word, "b"], [12, 5], value_labels=["12", "5"], title=word, xlabel=word, lang=lang
        ),
        "heatmap": lambda lang: plots.heatmap(
            np.array([[20.0, 80.0], [55.0, np.nan]]), [word, "b"], [word, "d"], title=word,
            lang=lang,
        ),
        "drift_bars": lambda lang: plots.drift_bars(
            [word, "b", "c"], [0.3, 0.15, 0.02], title=word, xlabel="PSI", stable=0.1,
            shifted=0.25, lang=lang,
        ),
    }  # fmt: skip


def _png(uri: str) -> tuple[int, int]:
    """The width and height of a PNG data URI (from its IHDR chunk)."""
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix) :], validate=True)
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("lang", ["en", "fa"])
@pytest.mark.parametrize("name", sorted(_charts("x")))
def test_every_chart_is_a_png_data_uri(name, lang):
    width, height = _png(_charts(WORD[lang])[name](lang))
    assert 200 <= width <= 1500 and 150 <= height <= 1000, (width, height)


def test_every_chart_function_is_tried():
    batch_charts = {"drift_bars", "heatmap", "horizontal_bars", "score_histogram_by_tier"}
    assert {*model_plots.__all__, *batch_charts, "tier_shares"} <= set(_charts("x"))


def test_charts_are_as_large_as_their_figure():
    # 4.2 x 3.6 inches (ROC) and 3.5 x 2.4 inches (a contribution curve) at 110 dpi.
    assert _png(_charts("x")["roc_curves"]("en")) == (round(4.2 * DPI), round(3.6 * DPI))
    assert _png(_charts("x")["contribution_curve"]("en")) == (385, 264)


def test_persian_text_is_shaped_and_reordered_without_libraqm(monkeypatch):
    monkeypatch.setattr(plots, "_has_layout", lambda: False)
    # بخش: beh (initial form U+FE91), khah (medial U+FEA8), sheen (final U+FEB6), drawn
    # left to right, so last letter first.
    assert plots.shape_text("بخش") == "\ufeb6\ufea8\ufe91"
    assert plots.shape_text("export-ready") == "export-ready"
    _, ax = plots.new_axes(3, 2)
    plots.set_labels(ax, xlabel="بخش", ylabel="share", title="بخش")
    assert ax.get_xlabel() == "\ufeb6\ufea8\ufe91" and ax.get_ylabel() == "share"
    assert ax.get_title(loc="right") == "\ufeb6\ufea8\ufe91"  # a Persian title sits right


def test_persian_text_is_left_to_matplotlib_when_it_can_lay_it_out(monkeypatch):
    monkeypatch.setattr(plots, "_has_layout", lambda: True)
    assert plots.shape_text("بخش") == "بخش"


def _ticks(lang: str) -> tuple[list[tuple[float, str]], list[str], tuple[float, float]]:
    """A small chart drawn in ``lang``: its x ticks in view as ``(place, label)``, its y tick
    labels, and its x limits."""
    drawn = {}

    @plots.chart
    def probe(*, lang: str):
        figure, ax = plots.new_axes(4, 3)
        ax.plot([0, 2500], [-0.5, 0.5])
        drawn["ax"] = ax
        return figure

    probe(lang=lang)
    ax = drawn["ax"]
    low, high = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    x = [(p, t) for p, t in zip(ax.get_xticks(), labels, strict=True) if low <= p <= high]
    return x, [t.get_text() for t in ax.get_yticklabels()], (low, high)


def test_persian_charts_write_tick_numbers_in_persian_digits():
    en_x, _, en_limits = _ticks("en")
    fa_x, fa_y, fa_limits = _ticks("fa")
    assert all(re.search(r"[0-9]", label) for _, label in en_x) and len(en_x) >= 3
    for label in [label for _, label in fa_x] + fa_y:
        assert not re.search(r"[0-9]", label), label
        assert re.search("[۰-۹]", label), label
        assert label.startswith("\u2066") and label.endswith("\u2069")  # left-to-right runs
    # The same numbers at the same places: only their digits change.
    assert [(p, to_ascii_digits(label.strip("\u2066\u2069"))) for p, label in fa_x] == en_x
    assert fa_limits == en_limits


def test_importing_the_reports_loads_neither_matplotlib_nor_jinja_on_the_scoring_path():
    code = (
        "import sys\n"
        "import scoring.batch, scoring.model, scoring.registry, scoring.modelcard\n"
        "assert 'matplotlib' not in sys.modules and 'jinja2' not in sys.modules\n"
        "import scoring.report, scoring.report.plots, scoring.report.model_plots\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded before a chart was drawn'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- chart fixes: tick labels, one log-odds scale, whole-number axes, differences ------------


@pytest.fixture
def drawn(monkeypatch):
    """The figures charts draw, kept instead of encoded."""
    figures = []

    def keep(figure, lang):
        figure.canvas.draw()
        figures.append(figure)
        return "data:image/png;base64,"

    monkeypatch.setattr(plots, "_encode", keep)
    return figures


def _boxes(labels) -> list:
    return [t.get_window_extent() for t in labels if t.get_text() and t.get_visible()]


@pytest.mark.parametrize(("low", "high"), [(3924.0, 848865.0), (5.0, 5000.0), (240.0, 40054.0)])
def test_log_axis_tick_labels_do_not_run_together(drawn, low, high):
    """The sales axis once read '10,00030,000100,000': its labels overlapped."""
    edges = list(np.geomspace(low * 1.5, high / 1.5, 6))
    model_plots.contribution_curve(
        edges, list(np.linspace(-0.1, 0.1, 7)), 0.0, low=low, high=high, log=True, band=None,
        deciles=[], ylabel="log-odds", missing_label="missing",
    )  # fmt: skip
    ax = drawn[-1].axes[0]
    boxes = sorted(_boxes(ax.get_xticklabels()), key=lambda b: b.x0)
    assert len(boxes) >= 2
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0, [t.get_text() for t in ax.get_xticklabels()]
    assert all(t.get_text() == plots.plain_tick(t.get_position()[0]) for t in ax.get_xticklabels()
               if t.get_text())  # fmt: skip


def test_log_subs_and_plain_ticks_by_hand():
    # 2 inches of axis: a third of a decade is wide enough over 1.3 decades, not over 2.3.
    assert plots.log_subs(5000.0, 100000.0, inches=2.0) == (1.0, 3.0)
    assert plots.log_subs(3924.0, 848865.0, inches=2.0) == (1.0,)
    assert plots.plain_tick(30000.0) == "30,000" and plots.plain_tick(0.5) == "0.5"


def test_contribution_charts_take_one_log_odds_scale(drawn):
    model_plots.contribution_curve(
        [1.0, 2.0], [-0.01, 0.0, 0.01], 0.0, low=0.5, high=3.0, log=False, band=None,
        deciles=[], ylabel="y", missing_label="m", limits=(-2.0, 1.0),
    )  # fmt: skip
    model_plots.contribution_bars(["a", "b", "m"], [0.1, -0.1, 0.0], missing_index=2,
                                  xlabel="x", limits=(-2.0, 1.0))  # fmt: skip
    model_plots.contribution_bars([f"c{i}" for i in range(14)], [0.01] * 14, missing_index=13,
                                  xlabel="x", vertical=True, limits=(-2.0, 1.0))  # fmt: skip
    curve, bars, columns = (figure.axes[0] for figure in drawn)
    assert curve.get_ylim() == (-2.0, 1.0)
    assert bars.get_xlim() == (-2.0, 1.0)
    assert columns.get_ylim() == (-2.0, 1.0)


def test_shared_limits_span_every_drawn_contribution():
    from scoring.report.model_figures import contribution_limits

    items = [
        # Drawn over [0, 10]: cells (-inf, 2], (2, 5], (5, inf) -> -1.5, 0.2, 0.7; missing -0.3.
        {"kind": "numeric", "edges": [2.0, 5.0], "values": [-1.5, 0.2, 0.7], "missing": -0.3,
         "low": 0.0, "high": 10.0},
        # Only the middle cell is on the axis [3, 4]: the 9.0 beyond it is not drawn.
        {"kind": "numeric", "edges": [2.0, 5.0], "values": [-9.0, 0.1, 9.0], "missing": 0.0,
         "low": 3.0, "high": 4.0},
        {"kind": "yesno", "values": [-0.2, 0.4], "missing": 0.9},
    ]  # fmt: skip
    low, high = contribution_limits(items)
    # From -1.5 to 0.9, padded by 8% of the 2.4 span.
    assert (low, high) == pytest.approx((-1.5 - 0.192, 0.9 + 0.192))


def test_counts_get_whole_number_ticks(drawn):
    model_plots.contribution_curve(
        [0.5, 1.5], [-0.1, 0.2, 0.4], 0.0, low=-0.03, high=1.7, log=False, band=None,
        deciles=[], ylabel="y", missing_label="m", integer=True,
    )  # fmt: skip
    ticks = drawn[-1].axes[0].get_xticks()
    low, high = drawn[-1].axes[0].get_xlim()
    shown = [t for t in ticks if low <= t <= high]
    assert shown and all(float(t).is_integer() for t in shown), shown


def test_heatmap_of_differences_is_signed_and_centred(drawn):
    plots.heatmap(np.array([[4.6, -3.2], [0.3, -0.4]]), ["a", "b"], ["x", "y"], title="t",
                  center=0.0, span=5.0)  # fmt: skip
    ax = drawn[-1].axes[0]
    assert [t.get_text() for t in ax.texts] == ["+5", "\u22123", "0", "0"]
    image = ax.get_images()[0]
    assert image.get_clim() == (-5.0, 5.0)  # at least the span, symmetric


def test_drift_bars_of_unjudged_features_do_not_set_the_axis(drawn):
    plots.drift_bars(["sector", "utilization"], [8.7, 0.05], title="t", xlabel="PSI",
                     stable=0.1, shifted=0.25, judged=[False, True])  # fmt: skip
    ax = drawn[-1].axes[0]
    assert ax.get_xlim() == pytest.approx((0.0, 0.3))
    widths = sorted(bar.get_width() for bar in ax.patches)
    assert widths == pytest.approx([0.05, 0.3])  # the segment's 8.7 cut at the edge
    assert any("8.70" in t.get_text() for t in ax.texts)
