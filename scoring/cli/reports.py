"""The ``report model``, ``report batch`` and ``report plan`` commands: self-contained HTML
reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scoring.cli.common import (
    Lang,
    RegistryOption,
    load_model_option,
    out,
    report_app,
    user_errors,
)

__all__ = ["report_batch", "report_model", "report_plan"]


@report_app.command("model")
@user_errors
def report_model(
    reference: Annotated[str, typer.Argument(help="NAME@VERSION or NAME.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the HTML card.")],
    lang: Annotated[Lang, typer.Option(help="Report language.")] = Lang.en,
    registry: RegistryOption = None,
) -> None:
    """A self-contained HTML model card: metrics, curves, calibration, feature effects."""
    from scoring.report import render_model_report
    from scoring.writing import HTML_SUFFIXES, check_output_path

    check_output_path(out_file, HTML_SUFFIXES)
    path = render_model_report(load_model_option(registry, reference), out_file, lang=lang.value)
    out.print(f"model report written to {path}", soft_wrap=True)


@report_app.command("batch")
@user_errors
def report_batch(
    scored: Annotated[Path, typer.Argument(help="A file written by `readiness score`.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")],
    summary: Annotated[
        Path | None, typer.Option(help="The run summary (JSON) for the drift table.")
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Report language.")] = Lang.en,
    model: Annotated[
        str | None, typer.Option("--model", help="Model whose contract names reasons/tiers.")
    ] = None,
    programs: Annotated[
        Path | None,
        typer.Option(help="Programmes file (TOML): names and costs of the next steps."),
    ] = None,
    registry: RegistryOption = None,
) -> None:
    """A self-contained HTML report of a scored batch: where to act, tiers, reasons, drift."""
    from scoring.report import render_batch_report
    from scoring.writing import HTML_SUFFIXES, check_distinct_paths, check_output_path

    check_distinct_paths(
        {"SCORED": scored, "--summary": summary, "--programs": programs}, {"--out": out_file}
    )
    check_output_path(out_file, HTML_SUFFIXES)
    contract = load_model_option(registry, model).contract if model else None
    path = render_batch_report(
        scored, out_file, summary=summary, contract=contract, programs=programs, lang=lang.value
    )
    out.print(f"batch report written to {path}", soft_wrap=True)


@report_app.command("plan")
@user_errors
def report_plan(
    plan: Annotated[Path, typer.Argument(help="A file written by `readiness plan`.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")],
    summary: Annotated[
        Path | None,
        typer.Option(help="The plan summary (JSON), for the budget and the rules of thumb."),
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Report language.")] = Lang.en,
) -> None:
    """A self-contained HTML report of a support plan: budget by programme and province,
    expected additional exporters against the rules of thumb, the funded cooperatives.

    Example: readiness report plan plan.csv --summary plan-summary.json --out plan.html
    """
    from scoring.report import render_plan_report
    from scoring.writing import HTML_SUFFIXES, check_distinct_paths, check_output_path

    check_distinct_paths({"PLAN": plan, "--summary": summary}, {"--out": out_file})
    check_output_path(out_file, HTML_SUFFIXES)
    path = render_plan_report(plan, out_file, summary=summary, lang=lang.value)
    out.print(f"plan report written to {path}", soft_wrap=True)
