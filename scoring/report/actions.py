"""Where to act, read from a scored list: next steps and their cost, the near-ready
cooperatives, idle capacity by province and sector, and what each cooperative needs.

Plain numbers and keys (reason codes, vocabulary keys, programme ids), no language: the batch
report (:mod:`scoring.report.batch`) words and draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.contract import TIERS, Contract
from scoring.normalize import parse_number
from scoring.planning.programs import Program
from scoring.report.words import read_reason, reason_lookup
from scoring.text import fold_text

__all__ = [
    "IDLE_SHARE",
    "REASON_COLUMNS",
    "idle_capacity",
    "kept_column",
    "near_ready",
    "needs_of",
    "next_steps",
    "program_catalogue",
    "reason_codes",
]

#: A cooperative has idle capacity when at least this share of its installed capacity is
#: unused (it produces under 70% of it: the working-capital programme's rule of thumb).
IDLE_SHARE = 0.3
REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")
_GROUPS = ("province", "sector")


def reason_codes(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The reason cells of a scored frame (codes, or texts in either language) as codes, with
    ``''`` for an empty cell; a text the contract does not know stays as written."""
    lookup = reason_lookup(contract)
    out = {}
    for column in REASON_COLUMNS:
        if column in frame:
            values = frame[column].astype(object)
            codes = {v: read_reason(v, lookup)[0] for v in values.dropna().unique()}
            out[column] = values.map(codes).fillna("")
    return pd.DataFrame(out, index=frame.index)


def needs_of(codes: pd.DataFrame, actionable: set[str]) -> pd.Series:
    """Per row, its actionable reason codes in order (what support could change)."""
    if codes.empty:
        return pd.Series([[] for _ in range(len(codes))], index=codes.index, dtype=object)
    rows = codes.to_numpy(dtype=object)
    return pd.Series([[c for c in row if c in actionable] for row in rows], index=codes.index)


def kept_column(frame: pd.DataFrame, contract: Contract, name: str) -> str | None:
    """The frame's column holding the contract column ``name`` (kept under its name, its
    Persian header or an alias), or None."""
    if name in frame:
        return name
    if name not in contract.names:
        return None
    column = contract.column(name)
    spellings = {fold_text(s) for s in (column.name, column.fa, *column.aliases) if s}
    return next((c for c in frame.columns if fold_text(str(c)) in spellings), None)


def next_steps(
    frame: pd.DataFrame, programs: Mapping[str, Program] | None
) -> dict[str, Any] | None:
    """What the ``next_step`` column says: how many cooperatives are one programme away from
    a higher tier, which programmes, and the cost of all of them (None without ``programs``).

    Returns None when the scored file has no ``next_step`` column.
    """
    if "next_step" not in frame:
        return None
    steps = _steps(frame)
    chosen = steps[steps != ""]
    counts = chosen.value_counts()
    by_program = [
        {
            "program": str(program),
            "count": int(count),
            "cost": _cost(programs, program, int(count)),
        }
        for program, count in counts.items()
    ]
    known = [row["cost"] for row in by_program]
    return {
        "count": len(chosen),
        "share": len(chosen) / max(len(frame), 1),
        "cost": None if any(c is None for c in known) else float(sum(known)),
        "by_program": by_program,
        "by_tier": {t: int(((steps != "") & (frame["readiness_tier"] == t)).sum()) for t in TIERS},
    }


def _steps(frame: pd.DataFrame) -> pd.Series:
    return frame["next_step"].astype("string").fillna("").str.strip()


def _cost(programs: Mapping[str, Program] | None, program: str, count: int) -> float | None:
    if programs is None or program not in programs:
        return None
    return float(programs[program].cost) * count


def near_ready(
    frame: pd.DataFrame,
    contract: Contract,
    programs: Mapping[str, Program] | None,
    *,
    top: int,
) -> dict[str, Any]:
    """Tier B and C cooperatives closest to moving up, per province (one group without one).

    With a ``next_step`` column: those with a step, cheapest first (then the largest gain).
    Without: those nearest the next tier's cut-off. Each row keeps its columns and gains
    ``gap`` (points to the next tier), ``next_tier`` and, with a step, ``step_cost``.
    """
    cutoffs = {t: 100 * contract.tiers[t] for t in TIERS[:-1]}
    upper = {"B": "A", "C": "B"}
    chosen = frame[frame["readiness_tier"].isin(tuple(upper))].copy()
    chosen["next_tier"] = chosen["readiness_tier"].map(upper)
    chosen["gap"] = chosen["next_tier"].map(cutoffs) - chosen["readiness_score"]
    with_steps = "next_step" in frame
    if with_steps:
        chosen["next_step"] = _steps(chosen)
        chosen = chosen[chosen["next_step"] != ""]
        costs = {k: float(p.cost) for k, p in (programs or {}).items()}
        chosen["step_cost"] = chosen["next_step"].map(costs)
        chosen["gain"] = chosen["next_step_score"] - chosen["readiness_score"]
        chosen["next_tier"] = [_tier_of(s, cutoffs) for s in chosen["next_step_score"]]
        order, ascending = ["step_cost", "gain", "gap"], [True, False, True]
    else:
        order, ascending = ["gap"], [True]
    chosen = chosen.sort_values(order, ascending=ascending, kind="stable", na_position="last")
    groups = []
    keys = frame["province"].value_counts().index if "province" in frame else [None]
    for key in keys:
        rows = chosen if key is None else chosen[chosen["province"] == key]
        if not len(rows):
            continue
        head = rows.head(top).astype(object)
        cost = rows["step_cost"].sum(min_count=1) if with_steps else np.nan
        common = rows["next_step"].value_counts() if with_steps else pd.Series(dtype=int)
        groups.append(
            {
                "group": key,
                "count": len(rows),
                "cost": None if pd.isna(cost) else float(cost),
                "step": str(common.index[0]) if len(common) else None,
                "step_count": int(common.iloc[0]) if len(common) else 0,
                "rows": head.where(head.notna(), None).to_dict("records"),
            }
        )
    groups.sort(key=lambda g: -g["count"])  # stable: provinces of equal count by size
    return {"with_steps": with_steps, "count": len(chosen), "groups": groups}


def _tier_of(score: float, cutoffs: Mapping[str, float]) -> str:
    """The tier a 0-100 score falls in (the contract's cut-offs, as scores)."""
    if pd.isna(score):
        return ""
    return next((t for t in TIERS[:-1] if score >= cutoffs[t]), TIERS[-1])


def idle_capacity(
    frame: pd.DataFrame, contract: Contract, codes: pd.DataFrame
) -> dict[str, Any] | None:
    """Where idle capacity sits: per province and per sector, most idle cooperatives first.

    Read, by preference, from the kept ``installed_capacity`` and ``actual_output`` columns
    (a cooperative is idle when at least :data:`IDLE_SHARE` of its capacity is unused), else
    from the idle-capacity reason among the three, else from the capacity sub-score (lowest
    first). None when the frame has no province or sector, or nothing to read it from.
    """
    groups = [g for g in _GROUPS if g in frame]
    if not groups:
        return None
    dormant = _dormant_share(frame, contract)
    if dormant is not None:
        source, idle, measure = "columns", dormant >= IDLE_SHARE, dormant
    elif not codes.empty:
        code = contract.reasons.get("utilization", {}).get("low")
        flag = codes.eq(code.code if code else "low_capacity_utilization").any(axis=1)
        source, idle, measure = "reasons", flag, flag.astype(float)
    elif "capacity_score" in frame:
        source, idle, measure = "subscores", None, frame["capacity_score"].astype(float)
    else:
        return None
    out: dict[str, Any] = {"source": source, "limit": IDLE_SHARE, "by": {}}
    if idle is not None:
        out["count"] = int(idle.sum())
        out["share"] = float(idle.mean()) if len(idle) else 0.0
    else:
        out["overall"] = float(measure.mean())
    for column in groups:
        table = pd.DataFrame({"group": frame[column], "measure": measure})
        if idle is not None:
            table["idle"] = idle.to_numpy()
        summary = table.groupby("group", sort=False).agg(
            rows=("measure", "size"),
            mean=("measure", "mean"),
            **({"idle": ("idle", "sum")} if idle is not None else {}),
        )
        if idle is not None:
            summary["share"] = summary["idle"] / summary["rows"]
            summary = summary.sort_values(["idle", "share"], ascending=False, kind="stable")
        else:
            summary = summary.sort_values("mean", kind="stable")
        out["by"][column] = summary.reset_index().to_dict("records")
    return out


def _dormant_share(frame: pd.DataFrame, contract: Contract) -> pd.Series | None:
    """Unused share of installed capacity per row (0-1) from the kept columns, or None."""
    capacity = kept_column(frame, contract, "installed_capacity")
    output = kept_column(frame, contract, "actual_output")
    if capacity is None or output is None:
        return None
    installed = _numbers(frame[capacity], contract, "installed_capacity")
    produced = _numbers(frame[output], contract, "actual_output")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(installed > 0, 1.0 - produced / installed, np.nan)
    share = pd.Series(np.clip(share, 0.0, 1.0), index=frame.index)
    return share if share.notna().any() else None


def _numbers(values: pd.Series, contract: Contract, name: str) -> np.ndarray:
    """A kept (passed-through) number column, read as the scorer reads it."""
    text = pa.array(values.astype("string").fillna("").tolist(), type=pa.string())
    parsed = parse_number(text, contract.column(name))
    return np.asarray(parsed.values, dtype=float)


def program_catalogue(programs: Sequence[Program] | None) -> dict[str, Program] | None:
    """Programmes by id, or None."""
    return None if programs is None else {p.id: p for p in programs}
