"""The batch report's sentences: the three headline facts (export-ready, one step from the
next tier and its cost, where idle capacity sits) and what the drift table means for a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring.contract import TIERS
from scoring.drift import JUDGED, MIN_ROWS
from scoring.report.words import Wording

__all__ = ["drift_notes", "headline"]


def headline(data: Mapping[str, Any], wording: Wording, names: Mapping[str, str]) -> list[str]:
    """The report's three opening sentences: how many are export-ready, how many are one step
    from the next tier and what the steps cost, and where the most idle capacity is."""
    phrase, count, percent = wording.phrase, wording.count, wording.percent
    n = max(data["rows"], 1)
    ready = data["tier_counts"]["A"]
    lines = [phrase("head_ready", count=count(ready), total=count(data["rows"]),
                    share=percent(ready / n))]  # fmt: skip
    step = data["next_step"]
    if step is None:
        lines.append(phrase("head_step_unknown"))
    elif not step["count"]:
        lines.append(phrase("head_step_none"))
    else:
        common = step["by_program"][0]
        values = {
            "count": count(step["count"]),
            "share": percent(step["count"] / n),
            "program": names.get(common["program"], common["program"]),
            "program_count": count(common["count"]),
            "tiers": wording.joined(
                [
                    phrase("step_tiers", before=tier, after=TIERS[i - 1], count=count(n))
                    for i, (tier, n) in enumerate(step["by_tier"].items())
                    if n and i
                ]
            ),
        }
        if step["cost"] is None:
            lines.append(phrase("head_step_no_cost", **values))
        else:
            lines.append(phrase("head_step", cost=wording.number(step["cost"], 0), **values))
    lines.append(_idle_sentence(data.get("idle"), wording))
    return lines


def _idle_sentence(idle: Mapping[str, Any] | None, wording: Wording) -> str:
    if idle is None:
        return wording.phrase("head_idle_unknown")
    parts = []
    for column, rows in idle["by"].items():
        if not rows:
            continue
        best = rows[0]
        name = wording.category(column, best["group"])
        if idle["source"] == "subscores":
            values = {"mean": wording.number(best["mean"], 0)}
        else:
            values = {"count": wording.count(best["idle"]), "share": wording.percent(best["share"])}
        parts.append(wording.phrase(f"idle_{idle['source']}_{column}", group=name, **values))
    limit = wording.percent(1 - idle["limit"], 0)
    lead = wording.phrase(f"head_idle_{idle['source']}", limit=limit)
    return lead + " " + wording.joined(parts, "group_separator") + "."


def drift_notes(data: Mapping[str, Any], wording: Wording) -> list[str]:
    """What the drift table means for this list: too few rows, the list's own segments, what
    the other features were compared with, and whether anything shifted."""
    rows = data.get("drift") or []
    if not rows:
        return []
    phrase = wording.phrase
    verdicts = {row["verdict"] for row in rows}
    if "too_few_rows" in verdicts:
        scored = (data["summary"] or {}).get("rows_scored", data["rows"])
        return [phrase("drift_too_few", rows=wording.count(scored), least=wording.count(MIN_ROWS))]
    notes = []
    for row in rows:
        if row["verdict"] == "segment":
            notes.append(
                phrase(
                    "drift_segment",
                    feature=_in_sentence(wording.feature(row["feature"]), wording),
                    covered=wording.count(row.get("covered")),
                    categories=wording.count(row.get("categories")),
                    groups=phrase("segment_" + row["feature"]),
                )
            )
    within = sorted({row["compared_with"] for row in rows if "compared_with" in row})
    if within:
        notes.append(
            phrase(
                "drift_within",
                groups=wording.joined([_in_sentence(wording.feature(s), wording) for s in within]),
            )
        )
    if "not_comparable" in verdicts:
        notes.append(phrase("drift_not_comparable"))
    shifted = [wording.feature(r["feature"]) for r in rows if r["verdict"] == "shifted"]
    if shifted:
        notes.append(phrase("drift_shifted", features=wording.joined(shifted)))
    elif verdicts & set(JUDGED):
        notes.append(phrase("drift_none_shifted"))
    return notes


def _in_sentence(label: str, wording: Wording) -> str:
    """A feature's name inside an English sentence (``sector``, not ``Sector``)."""
    return label if wording.fa else label[:1].lower() + label[1:]
