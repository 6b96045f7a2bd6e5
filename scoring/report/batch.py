"""The HTML report of a scored batch, for managers: tiers, reasons, provinces, sectors, drift.

:func:`batch_report_data` computes (plain numbers, no language, no figures);
:func:`render_batch_report` draws the charts, fills ``batch_report.html`` and writes the page.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import TIERS, Contract, load_contract
from scoring.drift import SHIFTED, STABLE
from scoring.errors import ContractError, InputFileError
from scoring.reading import open_table
from scoring.report import plots
from scoring.report.rendering import render_page, write_page
from scoring.report.words import Wording, column_vocabulary, read_reason, reason_lookup
from scoring.text import fold_text, to_ascii_digits
from scoring.writing import check_output_path

__all__ = ["DIMENSIONS", "batch_report_data", "render_batch_report"]

#: The dimension sub-scores of a scored file, as ``{dimension}_score`` columns.
DIMENSIONS = ("capacity", "quality", "output", "market")
_SCORED_REQUIRED = ("coop_id", "export_probability", "readiness_tier")
_NUMERIC_SCORED = (
    "export_probability",
    "readiness_score",
    "capacity_score",
    "quality_score",
    "output_score",
    "market_score",
    "sector_percentile",
)
_SECTIONS = (
    "overview",
    "tiers",
    "distribution",
    "provinces",
    "sectors",
    "reasons",
    "subscores",
    "drift",
    "top",
)
#: The pill (CSS class) of each drift verdict.
_VERDICT_CLASSES = {"stable": "ok", "investigate": "warn", "shifted": "bad"}


def batch_report_data(
    scored: str | Path | pd.DataFrame,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """Everything the batch report shows, as plain numbers (no language, no figures).

    Parameters
    ----------
    scored
        The output of ``readiness score`` (a file or a frame): ``coop_id``,
        ``export_probability``, ``readiness_tier``, the reasons and sub-scores, and, when
        scored with ``--keep-columns``, ``name``, ``province`` and ``sector``.
    summary
        The scoring summary (the JSON of ``--summary``, or its dict), for drift and counts.
    contract
        For category names, tier labels and reason texts (default: the packaged contract).
    top
        Cooperatives listed per province.

    Raises
    ------
    ContractError
        The scored table lacks a column every scored file has.
    """
    contract = contract or load_contract()
    frame = _read_scored(scored)
    summary = _read_summary(summary)
    n = len(frame)
    tiers = frame["readiness_tier"].astype(str).str.strip().str.upper()
    frame = frame.assign(readiness_tier=tiers)
    score = (
        frame["readiness_score"]
        if "readiness_score" in frame
        else np.round(100 * frame["export_probability"], 1)
    )
    frame = frame.assign(readiness_score=score)
    data: dict[str, Any] = {
        "rows": n,
        "summary": summary,
        "tier_counts": {t: int((tiers == t).sum()) for t in TIERS},
        "mean_probability": float(frame["export_probability"].mean()) if n else None,
        "scores": {t: frame.loc[tiers == t, "readiness_score"].to_numpy(float) for t in TIERS},
        "has": {c: c in frame for c in ("province", "sector", "name")},
        "top": top,
    }
    for column in ("province", "sector"):
        if column in frame:
            frame[column] = _category_keys(frame[column], contract, column)
            data[column] = _tier_mix(frame, column)
    data["reasons"] = _reason_counts(frame, contract)
    dimensions = [d for d in DIMENSIONS if f"{d}_score" in frame]
    data["dimensions"] = dimensions
    if dimensions and "sector" in frame:
        table = frame.groupby("sector", sort=False)[[f"{d}_score" for d in dimensions]].mean()
        order = frame["sector"].value_counts().index
        table = table.loc[order]
        overall = frame[[f"{d}_score" for d in dimensions]].mean()
        data["subscores"] = {
            "rows": [*table.index.tolist(), None],
            "matrix": np.vstack([table.to_numpy(float), overall.to_numpy(float)[None, :]]),
            "counts": [*frame["sector"].value_counts().loc[order].tolist(), n],
        }
    if summary is not None:
        data["drift"] = list(summary.get("drift", []))
    if "province" in frame:
        data["top_rows"] = _top_per_group(frame, "province", top)
    return data


def _read_scored(scored: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(scored, pd.DataFrame):
        frame, where = scored.copy(), "the scored frame"
    else:
        frame, where = open_table(scored).read_all().to_pandas(), Path(scored).name
    missing = [c for c in _SCORED_REQUIRED if c not in frame]
    if missing:
        raise ContractError(
            f"{where} lacks column '{missing[0]}' of a scored file (has: "
            f"{', '.join(map(str, frame.columns[:12]))}); pass the output of `readiness score`"
        )
    for column in _NUMERIC_SCORED:
        if column in frame and not pd.api.types.is_numeric_dtype(frame[column]):
            text = (
                frame[column]
                .astype("string")
                .map(lambda v: to_ascii_digits(v) if isinstance(v, str) else v)
            )
            frame[column] = pd.to_numeric(text, errors="coerce")
    frame["coop_id"] = frame["coop_id"].astype(str)
    return frame


def _read_summary(summary: Mapping[str, Any] | str | Path | None) -> dict[str, Any] | None:
    if summary is None or isinstance(summary, Mapping):
        return None if summary is None else dict(summary)
    path = Path(summary)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"summary file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"summary file {path} is not the JSON of `readiness score --summary` ({exc})"
        ) from None


def _category_keys(values: pd.Series, contract: Contract, column: str) -> pd.Series:
    """Passed-through category cells (English or Persian, as written) as vocabulary keys."""
    vocabulary = column_vocabulary(contract, column)
    text = values.astype("string").fillna("").str.strip()
    if vocabulary is None:
        return text.astype(object)
    mapping = {u: vocabulary.lookup.get(fold_text(u), u) for u in text.unique()}
    return text.map(mapping).replace("", vocabulary.unknown).astype(object)


def _tier_mix(frame: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    """Tier counts per group, groups with the highest share of A and B first."""
    table = pd.crosstab(frame[column], frame["readiness_tier"])
    rows = []
    for group, counts in table.iterrows():
        total = int(counts.sum())
        row = {"group": group, "rows": total, **{t: int(counts.get(t, 0)) for t in TIERS}}
        row["ready_share"] = (row["A"] + row["B"]) / total if total else 0.0
        row["mean_probability"] = float(
            frame.loc[frame[column] == group, "export_probability"].mean()
        )
        rows.append(row)
    return sorted(rows, key=lambda r: (-r["ready_share"], -r["rows"]))


def _reason_counts(frame: pd.DataFrame, contract: Contract) -> list[dict[str, Any]]:
    """Reason codes by how often they come first, and how often among the three."""
    columns = [c for c in ("reason_1", "reason_2", "reason_3") if c in frame]
    if not columns:
        return []
    lookup = reason_lookup(contract)
    first: Counter = Counter()
    anywhere: Counter = Counter()
    for position, column in enumerate(columns):
        for value, count in frame[column].value_counts(dropna=True).items():
            code, _ = read_reason(value, lookup)
            if not code:
                continue
            anywhere[code] += int(count)
            if position == 0:
                first[code] += int(count)
    n = max(len(frame), 1)
    return [
        {
            "code": code,
            "first": first.get(code, 0),
            "anywhere": count,
            "first_share": first.get(code, 0) / n,
            "share": count / n,
        }
        for code, count in sorted(anywhere.items(), key=lambda kv: (-first[kv[0]], -kv[1]))
    ]


def _top_per_group(frame: pd.DataFrame, column: str, top: int) -> list[dict[str, Any]]:
    """The ``top`` highest probabilities in each group, groups by size."""
    ranked = frame.sort_values("export_probability", ascending=False, kind="stable")
    out = []
    for group in frame[column].value_counts().index:
        rows = ranked[ranked[column] == group].head(top).astype(object)
        records = rows.where(rows.notna(), None).to_dict("records")
        out.append({"group": group, "rows": int((frame[column] == group).sum()), "top": records})
    return out


def render_batch_report(
    scored: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    lang: str = "en",
    top: int = 5,
) -> Path:
    """Write the report of a scored batch as one self-contained HTML file.

    Parameters
    ----------
    scored
        The output file of ``readiness score`` (CSV, Excel or Parquet), or its frame.
    out
        The ``.html`` file to write (atomically).
    summary
        The scoring summary (JSON file or dict) for the counts and the drift table.
    contract
        For category names, tier labels and reason texts (default: the packaged contract).
    lang
        ``"en"`` or ``"fa"``.
    top
        Cooperatives listed per province.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = check_output_path(out)
    contract = contract or load_contract()
    wording = Wording(lang, contract)
    data = batch_report_data(scored, summary=summary, contract=contract, top=top)
    source = str((data["summary"] or {}).get("source", "")) or (
        str(scored) if not isinstance(scored, pd.DataFrame) else ""
    )
    html = render_page(
        "batch_report.html",
        wording,
        data=data,
        figures=_batch_figures(data, wording),
        sections=[(s, "sec_tier_counts" if s == "tiers" else f"sec_{s}") for s in _SECTIONS],
        source=source,
        model=(data["summary"] or {}).get("model", ""),
        reasons=[{**r, "text": wording.reason(r["code"])[1]} for r in data["reasons"]],
        drift=[
            {
                **row,
                "label": wording.feature(row["feature"]),
                "class": _VERDICT_CLASSES.get(row.get("verdict", ""), "muted"),
            }
            for row in data.get("drift", [])
        ],
        stable=STABLE,
        shifted=SHIFTED,
    )
    write_page(html, out)
    return out


def _batch_figures(data: Mapping[str, Any], wording: Wording) -> dict[str, str]:
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
    reasons = data["reasons"][:12]
    if reasons:
        figures["reasons"] = plots.horizontal_bars(
            [wording.reason(r["code"])[1] for r in reasons],
            [r["first"] for r in reasons],
            value_labels=[wording.percent(r["first_share"]) for r in reasons],
            title=phrase("reasons_chart"),
            xlabel=phrase("cooperatives"),
            color="#b45309",
            lang=lang,
        )
    if "subscores" in data:
        sub = data["subscores"]
        figures["subscores"] = plots.heatmap(
            sub["matrix"],
            [
                (wording.category("sector", g) if g is not None else phrase("all_sectors"))
                + f" ({wording.count(c)})"
                for g, c in zip(sub["rows"], sub["counts"], strict=True)
            ],
            [phrase("dim_" + d) for d in data["dimensions"]],
            title=phrase("subscores_chart"),
            lang=lang,
        )
    drift = data.get("drift") or []
    if drift:
        figures["drift"] = plots.drift_bars(
            [wording.feature(r["feature"]) for r in drift],
            [float(r["psi"]) for r in drift],
            title=phrase("drift_chart"),
            xlabel="PSI",
            stable=STABLE,
            shifted=SHIFTED,
            lang=lang,
        )
    return figures
