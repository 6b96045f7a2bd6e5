"""Output in the reader's language: headers of the score and reject files, reject messages and
the labels of the workbook's summary sheet. English is the names and messages as they are.

Reject messages are translated from the structure every message of the validator and the
readers has (the column, the quoted cell, the kind of problem), so a Persian message names the
column as the file's header named it: ``members: 'ده' is not a number`` under a column headed
``تعداد اعضا`` becomes ``تعداد اعضا: «ده» عدد نیست``. A message of a kind not known here stays as
it was.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from scoring.contract import TIERS, Contract
from scoring.text import to_persian_digits
from scoring.workbook import PERCENT, Cell

__all__ = ["RejectTranslator", "output_headers", "summary_sections"]

# The kinds of problem after "column: 'cell' ", in English and in Persian; {n} a number.
_PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"is not a whole number", "عدد صحیح نیست"),
    (r"is not a finite number", "عدد معتبر نیست"),
    (r"is not a number", "عدد نیست"),
    (r"is not a year or a date", "سال یا تاریخ نیست"),
    (r"is not a date", "تاریخ نیست"),
    (r"is not yes/no", "بله/خیر نیست"),
    (r"is not 0/1", "۰ یا ۱ نیست"),
    (
        r"is too large to be an exact id \(store ids as text\)",
        "بزرگ‌تر از آن است که شناسه‌ای دقیق باشد (شناسه‌ها را به صورت متن ذخیره کنید)",
    ),
    (r"is empty but required", "خالی است ولی الزامی است"),
    (r"is below the minimum (?P<n>\S+)", "کمتر از حداقل {n} است"),
    (r"must be greater than (?P<n>\S+)", "باید بیشتر از {n} باشد"),
    (r"is above the maximum (?P<n>\S+)", "بیشتر از حداکثر {n} است"),
    (r"must be less than (?P<n>\S+)", "باید کمتر از {n} باشد"),
    (r"repeats row (?P<n>\d+)", "تکرار ردیف {n} است"),
    (r"repeats an earlier row", "تکرار یک ردیف قبلی است"),  # a kind of problem, counted
)
# Whole messages about a row, not a column's cell (the readers'); {header} a file's header.
_ROW_PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"totals row", "ردیف جمع است، نه یک تعاونی"),
    (
        r"row has (?P<n>\d+) fields, the header has (?P<m>\d+)",
        "ردیف {n} خانه دارد ولی سطر عنوان {m} خانه",
    ),
    (
        r"column '(?P<header>.*)' holds a NUL byte \(binary data, not text\)",
        "ستون «{header}» بایت NUL دارد (داده دودویی است، نه متن)",
    ),
    (
        r"column '(?P<header>.*)' is not valid (?P<encoding>\S+) text",
        "ستون «{header}» متن معتبر {encoding} نیست",
    ),
    (
        r"column '(?P<header>.*)' holds (?P<value>\S+), beyond 2\^53: "
        r"too large to hold exactly as a number",
        "ستون «{header}» مقدار {value} را دارد که از ۲^۵۳ بزرگ‌تر است و دقیق نگه داشته نمی‌شود",
    ),
)
_NUMBERED = ("n", "m")  # fields written in Persian digits; the others as the file wrote them
_PERSIAN_NUMBER = str.maketrans(".", "٫")  # the Persian decimal separator

# The words of the workbook's summary sheet: key -> (English, Persian).
_WORDS = {
    "run": ("Run", "اجرا"),
    "model": ("model", "مدل"),
    "source": ("file", "فایل"),
    "started": ("started", "زمان شروع"),
    "rows_read": ("rows read", "ردیف‌های خوانده‌شده"),
    "rows_scored": ("rows scored", "ردیف‌های امتیازدهی‌شده"),
    "rows_rejected": ("rows rejected", "ردیف‌های ردشده"),
    "mean_probability": ("mean probability", "میانگین احتمال صادرات"),
    "tier": ("tier", "سطح"),
    "tier_name": ("name", "نام سطح"),
    "count": ("cooperatives", "تعداد تعاونی‌ها"),
    "column": ("column", "ستون"),
    "header": ("header in the file", "عنوان در فایل"),
    "absent": ("columns the model uses that the file lacks", "ستون‌های مدل که فایل ندارد"),
    "unmatched": ("headers that fed no column", "عنوان‌هایی که به هیچ ستونی نخوردند"),
    "unknown": ("values not in the vocabulary (scored as other)", "مقدارهای ناشناخته (سایر)"),
    "value": ("value", "مقدار"),
    "rows": ("rows", "ردیف‌ها"),
    "problem": ("most common problems", "رایج‌ترین خطاها"),
    "feature": ("drift: feature", "جابه‌جایی توزیع: ویژگی"),
    "psi": ("PSI", "PSI"),
    "verdict": ("verdict", "نتیجه"),
    "none": ("none", "هیچ"),
    "stable": ("stable", "پایدار"),
    "investigate": ("investigate", "نیازمند بررسی"),
    "shifted": ("shifted", "جابه‌جا شده"),
    "too_few_rows": ("too few rows to judge", "ردیف‌ها برای داوری کم است"),
    "segment": ("the list's own segment: not judged", "بخش‌بندی خود فهرست: داوری نمی‌شود"),
    "not_comparable": ("not comparable", "قابل مقایسه نیست"),
}
_PSI_FORMAT = "0.000"


def output_headers(contract: Contract, lang: str | None, names: Iterable[str]) -> dict[str, str]:
    """The header each output column is written under: ``{name: header}``.

    In English (``lang`` None or ``"en"``) every name is its own header. In Persian an output
    column takes its ``[output_labels]`` header and a kept input column named by its contract
    name (``province``) its column's Persian name; any other keeps its name. A header already
    taken (ignoring case) leaves the later column its name, so no two columns share a header.
    """
    headers: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if name in headers:  # named twice: one column
            continue
        header = name
        if lang == "fa":
            header = contract.output_label(name, "fa")
            if header == name and name in contract.names:
                header = contract.column(name).fa or name
        if header.casefold() in taken:
            header = name
        taken.add(header.casefold())
        headers[name] = header
    return headers


class RejectTranslator:
    """Reject messages and tables in the output's language.

    Parameters
    ----------
    contract
        The columns a message may name.
    lang
        ``"fa"`` translates; anything else leaves messages and tables as they are.
    headers
        ``{column: header as written}`` of the file (a :class:`~scoring.headers.HeaderMap`): a
        Persian message names a column so; a column the file lacks by its Persian name.
    """

    def __init__(
        self, contract: Contract, lang: str | None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.contract = contract
        self.lang = lang
        self.headers = dict(headers or {})
        self._part = _part_pattern(tuple(contract.names))

    def table(self, rejects: pd.DataFrame) -> pd.DataFrame:
        """A reject table (``row``, ``coop_id``, ``error``) with its messages in the output's
        language (its headers are the writer's: :func:`output_headers`)."""
        if self.lang != "fa":
            return rejects
        return rejects.assign(error=[self.message(str(e)) for e in rejects["error"]])

    def message(self, error: str) -> str:
        """One reject message (problems joined by ``"; "``) in the output's language."""
        if self.lang != "fa":
            return error
        parts, position = [], 0
        while position < len(error):
            match = self._part.match(error, position)
            if match is None:  # a problem of a kind not known here: kept as written
                parts.append(error[position:])
                break
            parts.append(self._persian(match))
            position = match.end() + 2  # past "; "
        return "؛ ".join(parts)

    def _persian(self, match: re.Match[str]) -> str:
        if match["row_problem"] is not None:
            return _fill(match["row_problem"], _ROW_PROBLEMS)
        column = match["column"]
        name = self.headers.get(column) or self.contract.column(column).fa or column
        quoted = "" if match["value"] is None else f"«{match['value']}» "
        return f"{name}: {quoted}{_fill(match['problem'], _PROBLEMS)}"


def summary_sections(
    summary: Mapping[str, Any], contract: Contract, lang: str | None
) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """The blocks of the workbook's summary sheet: ``(heading cells, rows of cells)`` each.

    ``summary`` is :meth:`scoring.batch.ScoreSummary.to_dict`; the mean probability is a
    percentage, PSI has three decimals. Labels are in ``lang`` (English by default); a heading
    of empty cells takes no row.
    """
    fa = lang == "fa"
    word = functools.partial(_word, fa=fa)
    feature = functools.partial(_feature_name, contract, "fa" if fa else "en")
    translate = RejectTranslator(contract, "fa" if fa else None, summary.get("columns_found"))
    facts = [
        (word("model"), summary["model"]),
        (word("source"), summary["source"]),
        (word("started"), summary["started"]),
        *((word(key), summary[key]) for key in ("rows_read", "rows_scored", "rows_rejected")),
        (word("mean_probability"), Cell(summary["mean_probability"], PERCENT)),
    ]
    tiers = [
        (tier, contract.tier_label(tier, "fa" if fa else "en"), summary["tiers"].get(tier, 0))
        for tier in TIERS
    ]
    found = [(feature(c), header) for c, header in summary["columns_found"].items()]
    lists = [
        (word("absent"), _listed([feature(c) for c in summary["columns_absent"]], fa=fa)),
        (word("unmatched"), _listed(summary["headers_unmatched"], fa=fa)),
    ]
    unknown = [
        (feature(column), value, count)
        for column, counts in summary["unknown_categories"].items()
        for value, count in counts.items()
    ]
    problems = [(translate.message(p), n) for p, n in summary["most_common_problems"].items()]
    drift = [
        (feature(d["feature"]), Cell(d["psi"], _PSI_FORMAT), word(d["verdict"]))
        for d in summary["drift"]
    ]
    return [
        ((word("run"), ""), facts),
        ((word("tier"), word("tier_name"), word("count")), tiers),
        ((word("column"), word("header")), found),
        (("", ""), lists),
        ((word("unknown"), word("value"), word("rows")), unknown),
        ((word("problem"), word("rows")), problems),
        ((word("feature"), word("psi"), word("verdict")), drift),
    ]


@functools.cache
def _part_pattern(columns: tuple[str, ...]) -> re.Pattern[str]:
    """One problem of a message, followed by ``"; "`` or the end.

    The quoted cell is matched lazily up to the first ``' KIND`` that ends the problem, so a
    cell holding a quote or ``;`` is still read whole.
    """
    names = "|".join(re.escape(c) for c in sorted(columns, key=len, reverse=True))
    problems = "|".join(_unnamed(p) for p, _ in _PROBLEMS)
    row_problems = "|".join(_unnamed(p) for p, _ in _ROW_PROBLEMS)
    return re.compile(
        rf"(?:(?P<row_problem>{row_problems})"
        rf"|(?P<column>{names}): (?:'(?P<value>.*?)' )?(?P<problem>{problems}))(?=; |$)",
        re.DOTALL,
    )


def _unnamed(pattern: str) -> str:
    """``pattern`` with its named groups made plain ones (to join several in one pattern)."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


def _fill(text: str, kinds: Sequence[tuple[str, str]]) -> str:
    """The Persian of one problem ``text`` of a known kind."""
    for pattern, persian in kinds:
        match = re.fullmatch(pattern, text, re.DOTALL)
        if match is not None:
            fields = {
                k: to_persian_digits(v).translate(_PERSIAN_NUMBER) if k in _NUMBERED else v
                for k, v in match.groupdict().items()
            }
            return persian.format(**fields)
    return text  # pragma: no cover - the part pattern matched one of the kinds


def _word(key: str, *, fa: bool) -> str:
    """A word of the summary sheet; a key not listed (a new verdict) as it is."""
    words = _WORDS.get(key)
    return key if words is None else words[fa]


def _feature_name(contract: Contract, lang: str, name: str) -> str:
    return contract.feature_label(name, lang) if lang == "fa" else name


def _listed(names: Sequence[str], *, fa: bool) -> str:
    return ("، " if fa else ", ").join(names) or _word("none", fa=fa)
