"""The ``plan`` command: a support budget allocated across programmes, told in plain words."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from scoring.contract import Contract
    from scoring.planning import PlanSummary, Program

from scoring.cli.common import (
    ChunkOption,
    EncodingOption,
    HeaderRowOption,
    Lang,
    ModelOption,
    RegistryOption,
    SheetOption,
    app,
    err,
    freeze_start_up,
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
    lang: Annotated[
        Lang, typer.Option(help="Language of the plan's headers, programme names and words.")
    ] = Lang.en,
    chunk_size: ChunkOption = 100_000,
    registry: RegistryOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
) -> None:
    """Allocate support programmes within a budget to raise the expected number of exporters.

    The plan lists each funded cooperative with its programme, cost, probability and tier before
    and after; the split by programme and by province and the comparison with rules of thumb
    are printed.

    Example: readiness plan list.csv --programs programs.toml --budget 60,000 --out plan.csv
    """
    from scoring.model import ScoringModel
    from scoring.planning import load_programs, plan_file
    from scoring.writing import check_outputs

    inputs = {"FILE": file, "--programs": programs}
    tables = {"--out": out_file, "--rejects": rejects}
    for note in check_outputs(inputs, tables, {"--summary": summary}):
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    scoring_model = ScoringModel(load_model_option(registry, model))
    catalogue = load_programs(programs, scoring_model.contract)
    freeze_start_up(file)
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
        lang=lang.value,
        details=True,
    )
    _print_plan(result, {p.id: p for p in catalogue}, scoring_model.contract)
    tell_header_row(result.header_row)
    out.print(f"plan written to {out_file}", soft_wrap=True)


def _print_plan(result: PlanSummary, programs: dict[str, Program], contract: Contract) -> None:
    """The plan in plain words, its split by programme and province, and the rules of thumb."""
    from scoring.planning.presentation import plan_word, policy_name, program_label
    from scoring.report.words import Wording

    if result.empty:
        out.print(result.message)
        return
    lang = result.lang
    out.print(result.headline, soft_wrap=True)
    name_of = {pid: program_label(p, lang) for pid, p in programs.items()}
    out.print(
        _split_table(plan_word("by_program", lang), "program", result.per_program, name_of, lang)
    )
    wording = Wording(lang, contract)
    names = {key: wording.category("province", key) for key in result.per_province}
    out.print(
        _split_table(plan_word("by_province", lang), "province", result.per_province, names, lang)
    )
    rows = {f"{plan_word('the_plan', lang)} ({result.method})": result.to_dict()}
    rows.update({policy_name(p, lang): figures for p, figures in result.policies.items()})
    out.print(_figures_table(plan_word("against", lang), "policy", rows, lang))
    out.print(plan_word("gap", lang).format(gap=f"{result.gap:.2%}"))


def _split_table(
    title: str, key: str, groups: dict[str, dict], names: dict[str, str], lang: str
) -> Table:
    """The plan per programme or province, the largest cost first."""
    ordered = sorted(groups.items(), key=lambda item: (-item[1]["total_cost"], item[0]))
    rows = {names.get(group, group): figures for group, figures in ordered}
    return _figures_table(title, key, rows, lang)


def _figures_table(title: str, key: str, rows: dict[str, dict], lang: str) -> Table:
    from scoring.planning.presentation import plan_word

    table = Table(title=title)
    for column in (key, "funded", "cost", "expected"):
        table.add_column(plan_word(column, lang), justify="left" if column == key else "right")
    for name, figures in rows.items():
        table.add_row(
            name,
            f"{figures['funded']:,}",
            f"{figures['total_cost']:,.0f}",
            f"{figures['expected_additional_exporters']:.2f}",
        )
    return table
