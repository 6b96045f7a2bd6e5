"""HTML reports: the model card (:mod:`.model_card`), the scored-batch report (:mod:`.batch`) and
the plan report (:mod:`.plan`), each a self-contained page; words in :mod:`.words`, charts in
:mod:`.plots` (matplotlib on use)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "batch_report_data",
    "model_report_data",
    "plan_report_data",
    "render_batch_report",
    "render_model_report",
    "render_plan_report",
]

#: Where each name lives: a report module is imported when its name is first asked for, so
#: using the words (the plan's printout does) never loads jinja2 or scikit-learn.
_HOMES = {
    "batch_report_data": "batch",
    "render_batch_report": "batch",
    "model_report_data": "model_card",
    "render_model_report": "model_card",
    "plan_report_data": "plan",
    "render_plan_report": "plan",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"scoring.report.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
