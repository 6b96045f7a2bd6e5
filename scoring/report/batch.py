"""The HTML report of a scored batch, for managers: where to act first, then tiers, reasons,
provinces, sectors, drift.

:func:`batch_report_data` computes (plain numbers, no language, no figures; where to act comes
from :mod:`scoring.report.actions`); :func:`render_batch_report` words it
(:mod:`scoring.report.batch_words`), draws the charts (:mod:`scoring.report.batch_figures`),
fills ``batch_report.html`` and writes the page.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import TIERS, Contract, load_contract
from scoring.errors import ContractError, InputFileError
from scoring.localize import RejectTranslator
from scoring.planning.programs import Program, load_programs
from scoring.reading import open_table
from scoring.report import actions
from scoring.report.batch_figures import batch_figures
from scoring.report.batch_words import drift_notes, headline
from scoring.report.rendering import render_page, write_page
from scoring.report.words import Wording, column_vocabulary
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
    "next_step_score",
)
#: Columns a scored file may hold under a kept input header (a contract alias, a Persian name).
_KEPT = ("name", "province", "sector")
_SECTIONS = (
    "overview",
    "near",
    "tiers",
    "distribution",
    "provinces",
    "sectors",
    "reasons",
    "subscores",
    "drift",
    "top",
)
#: Provinces whose near-ready cooperatives are listed one by one (the rest in the table).
_NEAR_CARDS = 6
#: The pill (CSS class) of each drift verdict; verdicts that judge nothing are muted.
_VERDICT_CLASSES = {"stable": "ok", "investigate": "warn", "shifted": "bad"}


def batch_report_data(
    scored: str | Path | pd.DataFrame,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    programs: Sequence[Program] | str | Path | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """Everything the batch report shows, as plain numbers (no language, no figures).

    Parameters
    ----------
    scored
        The output of ``readiness score`` (a file or a frame): ``coop_id``,
        ``export_probability``, ``readiness_tier``, the reasons and sub-scores; when scored
        with ``--keep-columns``, ``name``, ``province``, ``sector`` (and ``installed_capacity``,
        ``actual_output`` for idle capacity); with ``--next-step``, ``next_step`` and
        ``next_step_score``.
    summary
        The scoring summary (the JSON of ``--summary``, or its dict), for drift and counts.
    contract
        For category names, tier labels and reason texts (default: the packaged contract).
    programs
        The programmes the next steps name (a programmes file or its programmes), for their
        cost and names.
    top
        Cooperatives listed per province.

    Raises
    ------
    ContractError
        The scored table lacks a column every scored file has.
    """
    contract = contract or load_contract()
    frame = _read_scored(scored, contract)
    summary = _read_summary(summary)
    if isinstance(programs, str | Path):
        programs = load_programs(programs, contract)
    catalogue = actions.program_catalogue(programs)
    n = len(frame)
    tiers = frame["readiness_tier"].astype(str).str.strip().str.upper()
    frame = frame.assign(readiness_tier=tiers)
    score = (
        frame["readiness_score"]
        if "readiness_score" in frame
        else np.round(100 * frame["export_probability"], 1)
    )
    frame = frame.assign(readiness_score=score)
    codes = actions.reason_codes(frame, contract)
    frame["needs"] = actions.needs_of(codes, _actionable_codes(contract))
    data: dict[str, Any] = {
        "rows": n,
        "summary": summary,
        "tier_counts": {t: int((tiers == t).sum()) for t in TIERS},
        "mean_probability": float(frame["export_probability"].mean()) if n else None,
        "scores": {t: frame.loc[tiers == t, "readiness_score"].to_numpy(float) for t in TIERS},
        "has": {c: c in frame for c in (*_KEPT, "next_step")},
        "top": top,
        "programs": sorted(catalogue) if catalogue else None,
    }
    for column in ("province", "sector"):
        if column in frame:
            frame[column] = _category_keys(frame[column], contract, column)
            data[column] = _tier_mix(frame, column)
    data["next_step"] = actions.next_steps(frame, catalogue)
    data["near_ready"] = actions.near_ready(frame, contract, catalogue, top=top)
    data["idle"] = actions.idle_capacity(frame, contract, codes)
    data["reasons"] = _reason_counts(codes, contract, n)
    dimensions = [d for d in DIMENSIONS if f"{d}_score" in frame]
    data["dimensions"] = dimensions
    if dimensions and "sector" in frame:
        data["subscores"] = _subscore_profile(frame, dimensions)
    if summary is not None:
        data["drift"] = list(summary.get("drift", []))
    if "province" in frame:
        data["top_rows"] = _top_per_group(frame, "province", top)
    return data


def _read_scored(scored: str | Path | pd.DataFrame, contract: Contract) -> pd.DataFrame:
    if isinstance(scored, pd.DataFrame):
        frame, where = scored.copy(), "the scored frame"
    else:
        frame, where = open_table(scored).read_all().to_pandas(), Path(scored).name
    frame = frame.rename(columns=_output_names(frame.columns, contract))
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
    # A column kept under the file's own header (`--keep-columns استان`) is still the province.
    renames = {}
    for name in _KEPT:
        found = actions.kept_column(frame, contract, name)
        if found is not None and found != name:
            renames[found] = name
    return frame.rename(columns=renames)


def _output_names(headers: Sequence[Any], contract: Contract) -> dict[Any, str]:
    """Output headers written in a language (``--lang fa``) back to their column names."""
    spellings = {
        fold_text(text): name
        for name, texts in contract.output_labels.items()
        for text in texts.values()
        if text
    }
    return {
        header: spellings[fold_text(str(header))]
        for header in headers
        if fold_text(str(header)) in spellings and spellings[fold_text(str(header))] != header
    }


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


def _actionable_codes(contract: Contract) -> set[str]:
    """Reason codes the contract marks actionable (a text it does not know is not)."""
    return {r.code for sides in contract.reasons.values() for r in sides.values() if r.actionable}


def _reason_counts(codes: pd.DataFrame, contract: Contract, n: int) -> list[dict[str, Any]]:
    """Reason codes by how often they come first, and how often among the three; each marked
    ``actionable`` (support can change it) or not (context)."""
    if codes.empty:
        return []
    actionable = _actionable_codes(contract)
    first: Counter = Counter()
    anywhere: Counter = Counter()
    for position, column in enumerate(codes.columns):
        for code, count in codes[column][codes[column] != ""].value_counts().items():
            anywhere[code] += int(count)
            if position == 0:
                first[code] += int(count)
    n = max(n, 1)
    return [
        {
            "code": code,
            "actionable": code in actionable,
            "first": first.get(code, 0),
            "anywhere": count,
            "first_share": first.get(code, 0) / n,
            "share": count / n,
        }
        for code, count in sorted(anywhere.items(), key=lambda kv: (-first[kv[0]], -kv[1]))
    ]


def _subscore_profile(frame: pd.DataFrame, dimensions: list[str]) -> dict[str, Any]:
    """Mean sub-scores per sector (largest first), the overall mean, and each sector's
    difference from it: the sub-scores of sectors differ by a few points on a 0-100 scale, which
    only the difference shows."""
    columns = [f"{d}_score" for d in dimensions]
    order = frame["sector"].value_counts()
    means = frame.groupby("sector", sort=False)[columns].mean().loc[order.index]
    overall = frame[columns].mean().to_numpy(float)
    matrix = means.to_numpy(float)
    return {
        "rows": means.index.tolist(),
        "counts": order.tolist(),
        "means": matrix,
        "overall": overall,
        "difference": matrix - overall[None, :],
    }


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
    programs: Sequence[Program] | str | Path | None = None,
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
    programs
        The programmes file (or its programmes) the next steps came from: their names and
        costs.
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
    if isinstance(programs, str | Path):
        programs = load_programs(programs, contract)
    data = batch_report_data(scored, summary=summary, contract=contract, programs=programs, top=top)
    source = str((data["summary"] or {}).get("source", "")) or (
        str(scored) if not isinstance(scored, pd.DataFrame) else ""
    )
    names = {p.id: (p.name_fa or p.name) if wording.fa else p.name for p in programs or ()}
    if wording.fa and data["summary"] and data["summary"].get("most_common_problems"):
        # The problems as the Persian rejects file words them, naming columns in Persian.
        translate = RejectTranslator(contract, "fa", data["summary"].get("columns_found"))
        problems = data["summary"]["most_common_problems"]
        data = {
            **data,
            "summary": {
                **data["summary"],
                "most_common_problems": {translate.message(k): v for k, v in problems.items()},
            },
        }
    html = render_page(
        "batch_report.html",
        wording,
        data=data,
        headline=headline(data, wording, names),
        figures=batch_figures(data, wording),
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
        drift_notes=drift_notes(data, wording),
        near_cards=_NEAR_CARDS,
        program=lambda key: names.get(key, key),
    )
    write_page(html, out)
    return out
