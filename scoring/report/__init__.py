"""HTML reports: the model card (:mod:`.model_card`), the scored-batch report (:mod:`.batch`) and
the plan report (:mod:`.plan`), each a self-contained page; words in :mod:`.words`, charts in
:mod:`.plots` (matplotlib on use)."""

from scoring.report.batch import batch_report_data, render_batch_report
from scoring.report.model_card import model_report_data, render_model_report
from scoring.report.plan import plan_report_data, render_plan_report

__all__ = [
    "batch_report_data",
    "model_report_data",
    "plan_report_data",
    "render_batch_report",
    "render_model_report",
    "render_plan_report",
]
