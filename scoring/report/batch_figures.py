"""The batch report's charts with their words: report data and a wording in, data URIs out.

Each chart of :mod:`scoring.report.plots` gets its numbers from
:func:`~scoring.report.batch.batch_report_data` and its labels from a
:class:`~scoring.report.words.Wording`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring.contract import TIERS
from scoring.drift import JUDGED, SHIFTED, STABLE
from scoring.report import plots
from scoring.report.words import Wording

__all__ = ["REASONS_CHARTED", "SUBSCORE_SPAN", "batch_figures"]

#: Actionable reasons drawn in the reasons chart, most common first.
REASONS_CHARTED = 10
#: The colour scale of the sub-score differences reaches at least this many points either
#: way, so that a spread of one or two points does not look like a contrast.
SUBSCORE_SPAN = 5.0


def batch_figures(data: Mapping[str, Any], wording: Wording) -> dict[str, str]:
    """Every chart of the batch report, as data URIs by name."""
    phrase, lang = wording.phrase, wording.lang
    labels = {tier: f"{tier}: {wording.tier(tier)}" for tier in TIERS}
    counts = data["tier_counts"]
    share = {tier: wording.percent(counts[tier] / max(data["rows"], 1)) for tier in TIERS}
    figures = {
        "tier_counts": plots.horizontal_bars(
            [labels[tier] for tier in TIERS],
            [counts[tier] for tier in TIERS],
            value_labels=[f"{wording.count(counts[tier])} ({share[tier]})" for tier in TIERS],
            title=phrase("tier_counts_chart"),
            xlabel=phrase("cooperatives"),
            width=5.2,
            lang=lang,
        ),
        "distribution": plots.score_histogram_by_tier(
            {tier: data["scores"][tier] for tier in TIERS if len(data["scores"][tier])},
            labels,
            title=phrase("score_hist"),
            xlabel=phrase("score"),
            ylabel=phrase("cooperatives"),
            lang=lang,
        ),
    }
    for column in ("province", "sector"):
        rows = data.get(column)
        if rows:
            figures[column] = plots.tier_shares(
                [wording.category(column, r["group"]) for r in rows],
                {tier: [r[tier] for r in rows] for tier in TIERS},
                labels,
                title="",
                xlabel=phrase("share_of_group"),
                lang=lang,
            )
    actionable = [r for r in data["reasons"] if r["actionable"]]
    needs = sorted(actionable, key=lambda r: -r["anywhere"])[:REASONS_CHARTED]
    if needs:
        figures["reasons"] = plots.horizontal_bars(
            [wording.reason(r["code"])[1] for r in needs],
            [r["anywhere"] for r in needs],
            value_labels=[
                f"{wording.count(r['anywhere'])} ({wording.percent(r['share'])})" for r in needs
            ],
            title=phrase("reasons_chart"),
            xlabel=phrase("cooperatives"),
            color="#b45309",
            lang=lang,
        )
    if "subscores" in data:
        figures["subscores"] = _subscore_heatmap(data, wording)
    drift = data.get("drift") or []
    if drift:
        figures["drift"] = plots.drift_bars(
            [wording.feature(r["feature"]) for r in drift],
            [float(r["psi"]) for r in drift],
            judged=[r.get("verdict") in JUDGED for r in drift],
            title=phrase("drift_chart"),
            xlabel="PSI",
            stable=STABLE,
            shifted=SHIFTED,
            lang=lang,
        )
    return figures


def _subscore_heatmap(data: Mapping[str, Any], wording: Wording) -> str:
    """Each sector's mean sub-scores as differences from the whole list's (in the columns'
    names), on a diverging scale."""
    sub, phrase = data["subscores"], wording.phrase
    columns = [
        f"{phrase('dim_' + d)}\n{phrase('overall_mean', mean=wording.number(m, 0))}"
        for d, m in zip(data["dimensions"], sub["overall"], strict=True)
    ]
    rows = [
        f"{wording.category('sector', g)} ({wording.count(c)})"
        for g, c in zip(sub["rows"], sub["counts"], strict=True)
    ]
    return plots.heatmap(
        sub["difference"],
        rows,
        columns,
        title=phrase("subscores_chart"),
        center=0.0,
        span=SUBSCORE_SPAN,
        lang=wording.lang,
    )
