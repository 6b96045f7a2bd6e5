"""The plan as people read it: the funded rows' names, places, programme names and tiers, the
plan's headers in English or Persian, the rules of thumb named in words, the headline sentence.

Choosing who is funded is :mod:`scoring.planning.plan`'s; this module only describes a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import Contract
from scoring.errors import PlanError
from scoring.model import tiers_of
from scoring.planning.programs import Program
from scoring.planning.uplift import PLAN_COLUMNS
from scoring.text import fold_text, to_persian_digits

__all__ = [
    "DETAIL_COLUMNS",
    "PLAN_LANGUAGES",
    "check_plan_lang",
    "describe_plan",
    "per_group",
    "plan_header_lookup",
    "plan_headers",
    "plan_headline",
    "plan_word",
    "policy_name",
    "program_label",
]

PLAN_LANGUAGES = ("en", "fa")
#: What a manager reads beside :data:`PLAN_COLUMNS`: the cooperative's columns the file has, the
#: programme's name, and the tier before and after the programme.
DETAIL_COLUMNS = ["name", "province", "sector", "program_name", "tier_before", "tier_after"]
#: Persian headers of the plan's own columns (the cooperative's columns take the contract's).
_PERSIAN_HEADERS = {
    "program": "کد برنامه",
    "cost": "هزینه",
    "probability_before": "احتمال صادرات پیش از برنامه",
    "probability_after": "احتمال صادرات پس از برنامه",
    "uplift": "افزایش احتمال صادرات",
    "program_name": "نام برنامه",
    "tier_before": "سطح پیش از برنامه",
    "tier_after": "سطح پس از برنامه",
}
#: Each rule of thumb as a name (a table row) and as a clause of the headline sentence.
_POLICY_WORDS = {
    "lowest_score_first": {
        "en": ("the weakest cooperatives first", "to the weakest cooperatives first"),
        "fa": ("اولویت با ضعیف‌ترین تعاونی‌ها", "اولویت با ضعیف‌ترین تعاونی‌ها"),
    },
    "highest_score_first": {
        "en": ("the strongest cooperatives first", "to the strongest first"),
        "fa": ("اولویت با قوی‌ترین تعاونی‌ها", "اولویت با قوی‌ترین تعاونی‌ها"),
    },
    "random": {
        "en": ("cooperatives at random", "at random"),
        "fa": ("انتخاب به قید قرعه", "انتخاب به قید قرعه"),
    },
}
#: The words of the plan's printed tables.
_WORDS = {
    "program": {"en": "programme", "fa": "برنامه"},
    "province": {"en": "province", "fa": "استان"},
    "policy": {"en": "allocation", "fa": "شیوه تخصیص"},
    "funded": {"en": "funded", "fa": "تعاونی‌های حمایت‌شده"},
    "cost": {"en": "cost", "fa": "هزینه"},
    "expected": {"en": "expected additional exporters", "fa": "صادرکنندگان تازهٔ مورد انتظار"},
    "the_plan": {"en": "this plan", "fa": "این برنامه"},
    "by_program": {"en": "the plan by programme", "fa": "برنامه به تفکیک نوع حمایت"},
    "by_province": {"en": "the plan by province", "fa": "برنامه به تفکیک استان"},
    "gap": {
        "en": "optimality gap against the LP bound: {gap}",
        "fa": "فاصله تا بهینه (نسبت به کران LP): {gap}",
    },
    "against": {
        "en": "plan against rules of thumb (same budget, slots, one per cooperative)",
        "fa": "مقایسه با قاعده‌های سرانگشتی (همان بودجه و ظرفیت، یک برنامه برای هر تعاونی)",
    },
}
_HEADLINE = {
    "en": "The plan funds {funded} {cooperatives} for {cost} and expects {expected} more exporters",
    "fa": (
        "این برنامه {funded} تعاونی را با {cost} حمایت می‌کند و انتظار می‌رود {expected} "
        "صادرکنندهٔ تازه به دست آید"
    ),
}

Number = Callable[[float, int], str]


def check_plan_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`PLAN_LANGUAGES`, else :class:`PlanError`."""
    if lang not in PLAN_LANGUAGES:
        raise PlanError(f"language '{lang}' is not supported; use en or fa")
    return lang


def plan_word(key: str, lang: str = "en") -> str:
    """A word of the plan's printed tables (``program``, ``funded``, ``expected`` ...)."""
    return _WORDS[key][lang]


def policy_name(policy: str, lang: str = "en") -> str:
    """A rule of thumb named in words: ``lowest_score_first`` is the weakest cooperatives first."""
    return _POLICY_WORDS[policy][lang][0]


def program_label(program: Program, lang: str = "en") -> str:
    """A programme's name in ``lang``: ``name_fa`` in Persian when the file gives one."""
    return (program.name_fa or program.name) if lang == "fa" else program.name


def plan_headers(columns: Sequence[str], contract: Contract, lang: str = "en") -> list[str]:
    """The headers of the plan's ``columns``: the names themselves in English; in Persian the
    contract's Persian header of a cooperative's column, else the plan's own Persian name."""
    if lang != "fa":
        return list(columns)
    headers = []
    for name in columns:
        fa = contract.column(name).fa if name in contract.names else ""
        headers.append(fa or _PERSIAN_HEADERS.get(name, name))
    return headers


def plan_header_lookup(contract: Contract) -> dict[str, str]:
    """Every header a plan may have (English or Persian), folded, to its column name."""
    names = [*PLAN_COLUMNS, *DETAIL_COLUMNS]
    persian = plan_headers(names, contract, "fa")
    lookup = {fold_text(h): n for n, h in zip(names, persian, strict=True)}
    lookup.update({fold_text(n): n for n in names})
    return lookup


def describe_plan(
    chosen: pd.DataFrame,
    frame: pd.DataFrame,
    programs: Sequence[Program],
    tiers: Mapping[str, float],
    contract: Contract,
    lang: str = "en",
) -> pd.DataFrame:
    """The plan's rows with what a manager reads beside the allocation's figures.

    Parameters
    ----------
    chosen
        The funded candidates (:attr:`Allocation.chosen`): ``position`` and :data:`PLAN_COLUMNS`.
    frame
        The validated rows the candidates' ``position`` points into.
    programs
        The programmes, for their names (``name_fa`` in Persian, when given).
    tiers
        The model's tier cut-offs, for ``tier_before`` and ``tier_after``.
    contract
        For the Persian names of provinces and sectors.
    lang
        ``"en"``: provinces and sectors as vocabulary keys; ``"fa"``: their Persian names.

    Returns
    -------
    pandas.DataFrame
        :data:`PLAN_COLUMNS`, then :data:`DETAIL_COLUMNS` (``name``, ``province`` and ``sector``
        only when ``frame`` has them), in the order of ``chosen``.
    """
    plan = chosen[PLAN_COLUMNS].copy()
    plan["coop_id"] = plan["coop_id"].astype(str)
    plan["program"] = plan["program"].astype(str)
    positions = chosen["position"].to_numpy(dtype=np.int64)
    for column in ("name", "province", "sector"):
        if column in frame:
            values = frame[column].astype(object).to_numpy()[positions]
            plan[column] = _category_names(values, contract, column, lang)
    names = {p.id: program_label(p, lang) for p in programs}
    plan["program_name"] = plan["program"].map(names).astype(object)
    for when in ("before", "after"):
        probability = plan[f"probability_{when}"].to_numpy(dtype=np.float64)
        plan[f"tier_{when}"] = tiers_of(probability, dict(tiers))
    return plan


def _category_names(values: np.ndarray, contract: Contract, column: str, lang: str) -> np.ndarray:
    """Category keys as the plan writes them: the keys in English, Persian names in Persian."""
    if lang != "fa" or column not in contract.names:
        return values
    vocabulary = contract.vocabularies.get(contract.column(column).vocabulary or "")
    if vocabulary is None:
        return values
    return np.array([vocabulary.label(str(v), "fa") for v in values], dtype=object)


def per_group(chosen: pd.DataFrame, keys: pd.Series | np.ndarray) -> dict[str, dict[str, float]]:
    """Count, cost and expected additional exporters of the funded rows per key (sorted)."""
    grouped = chosen.groupby(np.asarray(keys, dtype=object).astype(str), sort=True)
    return {
        str(key): {
            "funded": len(rows),
            "total_cost": float(rows["cost"].sum()),
            "expected_additional_exporters": float(rows["uplift"].sum()),
        }
        for key, rows in grouped
    }


def _plain_number(value: float, places: int, lang: str) -> str:
    text = f"{value:,.{places}f}"
    return to_persian_digits(text) if lang == "fa" else text


def plan_headline(
    figures: Mapping[str, Any],
    policies: Mapping[str, Mapping[str, Any]] | None,
    lang: str = "en",
    number: Number | None = None,
) -> str:
    """The plan and the rules of thumb in one sentence.

    "The plan funds 700 cooperatives for 60,000 and expects 123.6 more exporters; giving the
    same budget to the weakest cooperatives first would expect 1.7, to the strongest first 4.7,
    at random 35.2."

    Parameters
    ----------
    figures
        ``funded``, ``total_cost`` and ``expected_additional_exporters`` of the plan.
    policies
        The same figures per rule of thumb (:func:`policy_baselines`), or None to leave them out.
    lang
        ``"en"`` or ``"fa"``.
    number
        Writes a number with a given count of decimals (default: grouped thousands, and
        Persian digits in Persian).
    """
    write = number or (lambda value, places: _plain_number(value, places, lang))
    funded = int(figures["funded"])
    sentence = _HEADLINE[lang].format(
        funded=write(funded, 0),
        cooperatives="cooperative" if funded == 1 else "cooperatives",
        cost=write(float(figures["total_cost"]), 0),
        expected=write(float(figures["expected_additional_exporters"]), 1),
    )
    known = [p for p in _POLICY_WORDS if p in (policies or {})]
    if not known:
        return sentence + "."
    values = [write(float(policies[p]["expected_additional_exporters"]), 1) for p in known]
    clauses = [f"{_POLICY_WORDS[p][lang][1]} {v}" for p, v in zip(known, values, strict=True)]
    if lang == "fa":
        listed = "، ".join(clauses[:-1]) + (" و " if len(clauses) > 1 else "") + clauses[-1]
        return f"{sentence}؛ با همین بودجه، {listed} صادرکنندهٔ تازه به دست می‌داد."
    # "to the weakest cooperatives first would expect 1.7, to the strongest first 4.7, ..."
    clauses[0] = f"{_POLICY_WORDS[known[0]][lang][1]} would expect {values[0]}"
    return f"{sentence}; giving the same budget {', '.join(clauses)}."
