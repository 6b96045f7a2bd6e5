"""The HTML report of a support plan, for programme managers: where the budget goes (by
programme and by province), what it buys against the rules of thumb, and who is funded.

:func:`plan_report_data` computes (plain numbers, no language, no figures);
:func:`render_plan_report` draws the charts, fills ``plan_report.html`` and writes the page.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from scoring.contract import TIERS, Contract, load_contract
from scoring.errors import ContractError, InputFileError
from scoring.planning import PLAN_COLUMNS, POLICIES, plan_header_lookup, plan_headline
from scoring.planning import policy_name as policy_words
from scoring.reading import open_table
from scoring.report import plots
from scoring.report.rendering import generated_date, render_page, write_page
from scoring.report.words import Wording, column_vocabulary
from scoring.text import fold_text, to_ascii_digits
from scoring.writing import check_output_path

__all__ = ["plan_report_data", "render_plan_report"]

_NUMERIC = ("cost", "probability_before", "probability_after", "uplift")
_SECTIONS = ("overview", "programs", "provinces", "comparison", "tiers", "funded")
#: Tier letters from the lowest (rank 0) to the best.
_RANK = {tier: rank for rank, tier in enumerate(reversed(TIERS))}
_LABEL_WIDTH = 34  # characters per line of a programme's name on a chart


def plan_report_data(
    plan: str | Path | pd.DataFrame,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    top: int = 25,
) -> dict[str, Any]:
    """Everything the plan report shows, as plain numbers (no language, no figures).

    Parameters
    ----------
    plan
        The output of ``readiness plan`` (a file or a frame; English or Persian headers): the
        plan's columns, and the ``name``, ``province``, ``sector``, ``program_name`` and tier
        columns when it has them.
    summary
        The plan summary (the JSON of ``readiness plan --summary``, or its dict): the budget,
        the programmes' names and the rules of thumb.
    contract
        For province names (default: the packaged contract).
    top
        Funded cooperatives listed, those whose probability rises most.

    Returns
    -------
    dict
        ``funded``, ``total_cost``, ``expected``; ``budget`` (None without a summary);
        ``programs`` and ``provinces`` (per group: ``funded``, ``total_cost``, ``expected``,
        ``cost_share``; the largest cost first); ``policies`` (this plan first, then each rule
        of thumb; empty without a summary); ``tier_moves`` (None without tier columns);
        ``top_rows``; ``has`` (which optional columns the plan has).

    Raises
    ------
    ContractError
        The plan lacks one of the columns every plan has.
    InputFileError
        The summary is missing or is not a plan summary.
    """
    contract = contract or load_contract()
    frame = _read_plan(plan, contract)
    summary = _read_summary(summary)
    total_cost = float(frame["cost"].sum())
    data: dict[str, Any] = {
        "funded": len(frame),
        "total_cost": total_cost,
        "expected": float(frame["uplift"].sum()),
        "budget": float(summary["budget"]) if summary else None,
        "summary": summary,
        "has": {c: c in frame for c in ("name", "province", "sector", "program_name")},
        "top": top,
    }
    names = _program_names(frame, summary)
    data["programs"] = [
        {**row, **names.get(row["group"], {"name": row["group"], "name_fa": row["group"]})}
        for row in _split(frame, "program", total_cost)
    ]
    if "province" in frame:
        # English keys or Persian names, as the plan was written, to keys
        vocabulary = column_vocabulary(contract, "province")
        lookup = vocabulary.lookup if vocabulary is not None else {}
        frame["province"] = frame["province"].map(lambda v: lookup.get(fold_text(str(v)), str(v)))
        data["provinces"] = _split(frame, "province", total_cost)
    else:
        data["provinces"] = []
    data["policies"] = _policies(data, summary)
    data["tier_moves"] = _tier_moves(frame)
    ranked = frame.sort_values("uplift", ascending=False, kind="stable").head(top).astype(object)
    data["top_rows"] = ranked.where(ranked.notna(), None).to_dict("records")
    return data


def _read_plan(plan: str | Path | pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The plan with its columns' names (whatever language its headers are in), numbers read."""
    if isinstance(plan, pd.DataFrame):
        frame, where = plan.copy(), "the plan frame"
    else:
        frame, where = open_table(plan).read_all().to_pandas(), Path(plan).name
    lookup = plan_header_lookup(contract)
    frame = frame.rename(columns=lambda h: lookup.get(fold_text(str(h)), h))
    missing = [c for c in PLAN_COLUMNS if c not in frame]
    if missing:
        raise ContractError(
            f"{where} lacks column '{missing[0]}' of a plan (has: "
            f"{', '.join(map(str, frame.columns[:12]))}); pass the output of `readiness plan`"
        )
    # The plan's numbers as written; a cell someone typed over in Persian digits still counts.
    frame[list(_NUMERIC)] = frame[list(_NUMERIC)].apply(
        lambda values: pd.to_numeric(values.map(_as_number_text), errors="coerce")
    )
    for column in ("coop_id", "program"):
        frame[column] = frame[column].astype(str)
    return frame


def _as_number_text(value: Any) -> Any:
    return to_ascii_digits(value).replace(",", "") if isinstance(value, str) else value


def _read_summary(summary: Mapping[str, Any] | str | Path | None) -> dict[str, Any] | None:
    """The plan summary as a dict, or None; refused when it is not one."""
    if summary is None:
        return None
    where = "the plan summary"
    if not isinstance(summary, Mapping):
        path, where = Path(summary), f"summary file {summary}"
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputFileError(f"{where} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(f"{where} cannot be read as JSON ({exc})") from None
    if not isinstance(summary, Mapping) or not {"budget", "policies"} <= set(summary):
        raise InputFileError(
            f"{where} is not a plan summary (no budget or policies); pass the JSON written by "
            "`readiness plan --summary`"
        )
    return dict(summary)


def _program_names(frame: pd.DataFrame, summary: Mapping[str, Any] | None) -> dict[str, dict]:
    """Each programme's English and Persian names: the summary's, else the plan's own."""
    names: dict[str, dict[str, str]] = {}
    if "program_name" in frame:
        for pid, name in frame.groupby("program", sort=False)["program_name"].first().items():
            names[str(pid)] = {"name": str(name), "name_fa": str(name)}
    for program in (summary or {}).get("programs", []):
        name = str(program.get("name") or program["id"])
        names[str(program["id"])] = {"name": name, "name_fa": program.get("name_fa") or name}
    return names


def _split(frame: pd.DataFrame, column: str, total_cost: float) -> list[dict[str, Any]]:
    """Count, cost, expected exporters and share of the spending per group, largest cost first."""
    grouped = frame.groupby(column, sort=True, observed=True)
    table = grouped.agg(
        funded=("cost", "size"), total_cost=("cost", "sum"), expected=("uplift", "sum")
    )
    table = table.sort_values(["total_cost", "expected"], ascending=False, kind="stable")
    return [
        {
            "group": str(group),
            "funded": int(row.funded),
            "total_cost": float(row.total_cost),
            "expected": float(row.expected),
            "cost_share": float(row.total_cost) / total_cost if total_cost else 0.0,
        }
        for group, row in table.iterrows()
    ]


def _policies(data: Mapping[str, Any], summary: Mapping[str, Any] | None) -> list[dict]:
    """This plan and each rule of thumb of the summary: funded, cost, expected exporters."""
    if summary is None:
        return []
    rows = [
        {
            "policy": "plan",
            "funded": data["funded"],
            "total_cost": data["total_cost"],
            "expected": data["expected"],
        }
    ]
    for policy in POLICIES:
        figures = summary["policies"].get(policy)
        if figures is not None:
            rows.append(
                {
                    "policy": policy,
                    "funded": int(figures["funded"]),
                    "total_cost": float(figures["total_cost"]),
                    "expected": float(figures["expected_additional_exporters"]),
                }
            )
    return rows


def _tier_moves(frame: pd.DataFrame) -> dict[str, Any] | None:
    """How many funded cooperatives go from each tier to each tier; how many move up."""
    if not {"tier_before", "tier_after"} <= set(frame.columns):
        return None
    before = frame["tier_before"].astype(str).str.strip().str.upper()
    after = frame["tier_after"].astype(str).str.strip().str.upper()
    rank_before, rank_after = before.map(_RANK), after.map(_RANK)
    up = rank_after > rank_before
    return {
        "matrix": {b: {a: int(((before == b) & (after == a)).sum()) for a in TIERS} for b in TIERS},
        "up": int(up.sum()),
        "to_top": int((up & (after == TIERS[0])).sum()),
    }


def render_plan_report(
    plan: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    summary: Mapping[str, Any] | str | Path | None = None,
    contract: Contract | None = None,
    lang: str = "en",
    top: int = 25,
) -> Path:
    """Write the report of a support plan as one self-contained HTML file.

    Parameters
    ----------
    plan
        The output file of ``readiness plan`` (CSV, Excel or Parquet), or its frame.
    out
        The ``.html`` file to write (atomically).
    summary
        The plan summary (JSON file or dict): the budget and the rules of thumb.
    contract
        For province and sector names (default: the packaged contract).
    lang
        ``"en"`` or ``"fa"``.
    top
        Funded cooperatives listed.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = check_output_path(out)
    contract = contract or load_contract()
    wording = Wording(lang, contract)
    data = plan_report_data(plan, summary=summary, contract=contract, top=top)
    summary = data["summary"] or {}
    program_names = {
        row["group"]: row["name_fa"] if wording.fa else row["name"] for row in data["programs"]
    }
    html = render_page(
        "plan_report.html",
        wording,
        data=data,
        figures=_plan_figures(data, wording, program_names) if data["funded"] else {},
        sections=[(s, f"plan_sec_{s}") for s in _SECTIONS],
        headlines=_headlines(data, wording, program_names),
        program_names=program_names,
        policy_names={
            row["policy"]: _policy_label(row["policy"], wording) for row in data["policies"]
        },
        source=str(summary.get("source", "")) or ("" if isinstance(plan, pd.DataFrame) else plan),
        model=summary.get("model", ""),
        generated_at=generated_date(lang),
        arrow="←" if wording.fa else "→",
        tier_ranks=_RANK,
    )
    write_page(html, out)
    return out


def _policy_label(policy: str, wording: Wording) -> str:
    return (
        wording.phrase("plan_the_plan") if policy == "plan" else policy_words(policy, wording.lang)
    )


def _headlines(data: Mapping[str, Any], wording: Wording, names: Mapping[str, str]) -> list[str]:
    """The report's first sentences: what the plan buys, where it goes, what it changes."""
    if not data["funded"]:
        return [wording.phrase("plan_empty")]
    summary = data["summary"] or {}
    figures = {
        "funded": data["funded"],
        "total_cost": data["total_cost"],
        "expected_additional_exporters": data["expected"],
    }
    sentences = [
        plan_headline(
            figures,
            summary.get("policies"),
            wording.lang,
            number=lambda value, places: wording.number(value, places),
        )
    ]
    biggest = data["programs"][0]
    sentences.append(
        wording.phrase(
            "plan_where",
            program=names[biggest["group"]],
            share=wording.percent(biggest["cost_share"], 0),
        )
    )
    if data["provinces"]:
        first = data["provinces"][0]
        sentences.append(
            wording.phrase(
                "plan_where_province",
                provinces=wording.count(len(data["provinces"])),
                province=wording.category("province", first["group"]),
                share=wording.percent(first["cost_share"], 0),
            )
        )
    moves = data["tier_moves"]
    if moves is not None:
        sentences.append(
            wording.phrase(
                "plan_tiers_sentence",
                up=wording.count(moves["up"]),
                ready=wording.count(moves["to_top"]),
            )
        )
    left = (data["budget"] or 0.0) - data["total_cost"]
    if data["budget"] and left >= 0.5:
        sentences.append(
            wording.phrase(
                "plan_unspent",
                left=wording.number(left, 0),
                budget=wording.number(data["budget"], 0),
            )
        )
    return sentences


def _plan_figures(
    data: Mapping[str, Any], wording: Wording, names: Mapping[str, str]
) -> dict[str, str]:
    phrase, lang = wording.phrase, wording.lang
    titles = (phrase("plan_cost_chart"), phrase("plan_exporters_chart"))
    figures = {}
    labels = {"programs": names.get, "provinces": lambda key: wording.category("province", key)}
    for key, label in labels.items():
        rows = data[key]
        if not rows:
            continue
        figures[key] = plots.paired_bars(
            [textwrap.fill(label(r["group"]), _LABEL_WIDTH) for r in rows],
            [r["total_cost"] for r in rows],
            [r["expected"] for r in rows],
            titles=titles,
            first_labels=[
                f"{wording.number(r['total_cost'], 0)} ({wording.percent(r['cost_share'], 0)})"
                for r in rows
            ],
            second_labels=[wording.number(r["expected"], 1) for r in rows],
            lang=lang,
        )
    policies = data["policies"]
    if policies:
        figures["comparison"] = plots.comparison_bars(
            [textwrap.fill(_policy_label(r["policy"], wording), _LABEL_WIDTH) for r in policies],
            [r["expected"] for r in policies],
            title=phrase("plan_comparison_chart"),
            xlabel=phrase("plan_expected"),
            value_labels=[wording.number(r["expected"], 1) for r in policies],
            lang=lang,
        )
    return figures
