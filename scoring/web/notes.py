"""A batch's coverage and drift told in sentences: which of the model's columns the file lacks
and which headers fed nothing, and which inputs shifted from the training data.

Drift is told by the batch report's own sentences (:func:`scoring.report.batch_words.drift_notes`)
so the page and the report never say different things about one list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring.contract import Contract
from scoring.report.batch_words import drift_notes
from scoring.report.words import Wording
from scoring.web.words import word

__all__ = ["coverage_notes", "drift_sentences", "shifted_features"]


def coverage_notes(summary: Mapping[str, Any], contract: Contract, lang: str) -> list[str]:
    """The file's coverage of the model's columns, one sentence per fact (at least one)."""
    wording = Wording(lang, contract)
    absent = [str(c) for c in summary.get("columns_absent") or []]
    unmatched = [str(h) for h in summary.get("headers_unmatched") or []]
    notes = []
    if absent:
        names = wording.joined([wording.feature(c) for c in absent])
        notes.append(
            word("coverage_absent", lang).format(count=wording.count(len(absent)), columns=names)
        )
    else:
        notes.append(word("coverage_full", lang))
    if unmatched:
        notes.append(
            word("coverage_unmatched", lang).format(
                count=wording.count(len(unmatched)), headers=wording.joined(unmatched)
            )
        )
    return notes


def shifted_features(summary: Mapping[str, Any]) -> list[str]:
    """The features the batch's drift check judged shifted, most shifted first."""
    rows = [r for r in summary.get("drift") or [] if isinstance(r, Mapping)]
    shifted = [r for r in rows if r.get("verdict") == "shifted"]
    return [str(r["feature"]) for r in sorted(shifted, key=lambda r: -float(r.get("psi") or 0))]


def drift_sentences(summary: Mapping[str, Any], contract: Contract, lang: str) -> list[str]:
    """What the batch's drift check found, as the batch report says it; none when unchecked."""
    rows = [dict(r) for r in summary.get("drift") or [] if isinstance(r, Mapping)]
    data = {"drift": rows, "summary": dict(summary), "rows": summary.get("rows_scored", 0)}
    return drift_notes(data, Wording(lang, contract))
