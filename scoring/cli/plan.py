"""The ``plan`` command: a support budget allocated across programmes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from scoring.planning import PlanSummary

from scoring.cli.common import (
    ChunkOption,
    EncodingOption,
    HeaderRowOption,
    ModelOption,
    RegistryOption,
    SheetOption,
    app,
    err,
    load_model_option,
    out,
    tell_header_row,
    user_errors,
)

__all__ = ["plan"]


def _budget_amount(text: str) -> float:
    """``--budget``: a positive finite number, in any digits, grouped or not (``۶۰٬۰۰۰``)."""
    from scoring.text import parse_option_number

    try:
        amount = parse_option_number(text)
    except ValueError:
        amount = float("nan")
    if not 0 < amount < float("inf"):
        raise typer.BadParameter(f"must be a positive number, got '{text}'")
    return amount


@app.command()
@user_errors
def plan(
    file: Annotated[Path, typer.Argument(help="Registry file of candidate cooperatives.")],
    programs: Annotated[Path, typer.Option(help="Programmes file (TOML).")],
    budget: Annotated[
        float,
        typer.Option(
            parser=_budget_amount,
            metavar="AMOUNT",
            help="Total budget, in the programmes' currency (60000 or 60,000).",
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the plan.")],
    model: ModelOption = "export-readiness",
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected rows (row, coop_id, error) here.")
    ] = None,
    summary: Annotated[
        Path | None, typer.Option(help="Write the plan summary (JSON) here.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random-allocation comparison.")] = 0,
    chunk_size: ChunkOption = 100_000,
    registry: RegistryOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
) -> None:
    """Allocate support programmes within a budget to raise the expected number of exporters."""
    from scoring.model import ScoringModel
    from scoring.planning import load_programs, plan_file
    from scoring.writing import check_outputs

    inputs = {"FILE": file, "--programs": programs}
    tables = {"--out": out_file, "--rejects": rejects}
    for note in check_outputs(inputs, tables, {"--summary": summary}):
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    scoring_model = ScoringModel(load_model_option(registry, model))
    catalogue = load_programs(programs, scoring_model.contract)
    result = plan_file(
        file,
        scoring_model,
        catalogue,
        budget,
        out_file,
        rejects=rejects,
        summary=summary,
        chunk_size=chunk_size,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
        seed=seed,
    )
    _print_plan(result)
    tell_header_row(result.header_row)
    out.print(f"plan written to {out_file}", soft_wrap=True)


def _print_plan(result: PlanSummary) -> None:
    if result.empty:
        out.print(result.message)
        return
    table = Table(title="plan against rules of thumb (same budget, slots, one per cooperative)")
    for column in ("policy", "funded", "cost", "expected extra exporters"):
        table.add_column(column, justify="right")
    rows = {f"optimal ({result.method})": result.to_dict(), **result.policies}
    for name, figures in rows.items():
        table.add_row(
            name,
            f"{figures['funded']:,}",
            f"{figures['total_cost']:,.0f}",
            f"{figures['expected_additional_exporters']:.2f}",
        )
    out.print(table)
    out.print(result.message, soft_wrap=True)
    out.print(f"optimality gap against the LP bound: {result.gap:.2%}")
