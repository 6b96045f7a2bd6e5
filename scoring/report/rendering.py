"""Filling the reports' jinja2 templates and writing the page: one self-contained HTML file.

The templates (``templates/``) get the report's :class:`~scoring.report.words.Wording` as
``wording`` and its :meth:`~scoring.report.words.Wording.phrase` as ``phrase``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from scoring.contract import TIERS
from scoring.report.plots import TIER_COLORS
from scoring.report.words import Wording, font_stack
from scoring.text import to_persian_digits
from scoring.writing import write_text

__all__ = ["generated_date", "render_page", "write_page"]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("scoring.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(template: str, wording: Wording, **context: Any) -> str:
    """The HTML of ``template`` in ``wording``'s language, with the page's own ``context``."""
    page = _environment().get_template(template)
    return page.render(
        lang=wording.lang,
        dir="rtl" if wording.fa else "ltr",
        font=font_stack(wording.lang),
        tier_colors=TIER_COLORS,
        wording=wording,
        phrase=wording.phrase,
        tiers=TIERS,
        generated=generated_date(wording.lang),
        **context,
    )


def write_page(html: str, out: Path) -> None:
    """Write ``html`` to ``out`` atomically: the old file stays whole until the new one is."""
    write_text(html, out)


def generated_date(lang: str, now: dt.datetime | None = None) -> str:
    """When a report is made: ``2025-03-21 09:30``; in Persian the Jalali date in Persian
    digits (``۱۴۰۴/۰۱/۰۱ ۰۹:۳۰``), isolated right-to-left so that the date comes first (on the
    right) wherever the page puts it."""
    now = now or dt.datetime.now().astimezone()
    if lang != "fa":
        return now.strftime("%Y-%m-%d %H:%M")
    import jdatetime

    jalali = jdatetime.datetime.fromgregorian(datetime=now).strftime("%Y/%m/%d %H:%M")
    return "\u2067" + to_persian_digits(jalali) + "\u2069"
