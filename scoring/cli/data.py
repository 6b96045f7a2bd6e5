"""Commands on data files: ``sample`` and ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scoring.cli.common import (
    ChunkOption,
    ContractOption,
    EncodingOption,
    HeaderRowOption,
    SheetOption,
    StrictOption,
    app,
    err,
    load_contract_option,
    out,
    parse_count,
    tell_header_row,
    user_errors,
    warn_coverage,
)

__all__ = ["sample", "validate"]


@app.command()
@user_errors
def sample(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write (.csv, .xlsx, .parquet).")
    ],
    rows: Annotated[
        int, typer.Option(parser=parse_count, metavar="N", help="How many cooperatives.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same rows.")] = 0,
    unlabelled: Annotated[bool, typer.Option(help="Leave out the label column.")] = False,
    persian: Annotated[
        bool, typer.Option(help="Write as a Persian registry export (headers, digits, Jalali).")
    ] = False,
    truth: Annotated[
        Path | None, typer.Option(help="Also write each row's true probability here.")
    ] = None,
    dirty: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of rows given realistic data problems.")
    ] = 0.0,
) -> None:
    """Write embedded synthetic registry data, drawn from a documented generative model."""
    import pandas as pd

    from scoring.sample import generate_sample, inject_problems, to_english_table, to_persian_table
    from scoring.writing import check_outputs, write_table

    if dirty and persian:
        raise typer.BadParameter("--dirty works on the English form only; drop --persian")
    for note in check_outputs({}, {"--out": out_file, "--truth": truth}):
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    frame, probability = generate_sample(rows, seed, labelled=not unlabelled)
    table = to_english_table(frame)
    if dirty:
        table = inject_problems(table, dirty, seed)
    if persian:
        table = to_persian_table(frame)
    write_table(table, out_file)
    if truth is not None:
        write_table(
            pd.DataFrame({"coop_id": frame["coop_id"], "true_probability": probability}), truth
        )
    label = "" if unlabelled else f", label rate {frame['exported_next_year'].mean():.3f}"
    out.print(f"wrote {rows:,} cooperatives to {out_file}{label}", soft_wrap=True)


@app.command()
@user_errors
def validate(
    file: Annotated[Path, typer.Argument(help="Registry file (.csv, .xlsx, .parquet).")],
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected rows (row, coop_id, error) here.")
    ] = None,
    labelled: Annotated[
        bool, typer.Option(help="Also require and check the label column.")
    ] = False,
    contract: ContractOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    chunk_size: ChunkOption = 100_000,
    top: Annotated[int, typer.Option(min=1, help="How many of the most common problems.")] = 10,
    strict: StrictOption = False,
    header_row: HeaderRowOption = None,
) -> None:
    """Read and validate a file only: counts, and the most common problems."""
    from scoring.pipeline import validate_file
    from scoring.writing import check_outputs, write_table

    for note in check_outputs({"FILE": file}, {"--rejects": rejects}):
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    the_contract = load_contract_option(contract)
    reading = dict(encoding=encoding, sheet=sheet, header_row=header_row)
    report, rejected = validate_file(
        file, the_contract, chunk_size=chunk_size, labelled=labelled, strict=strict, **reading
    )
    coverage = report.headers
    if rejects is not None:
        write_table(rejected, rejects)
    table = Table(title=f"{file.name}", show_header=False)
    table.add_row("rows read", f"{report.rows_read:,}")
    table.add_row("rows valid", f"{report.rows_valid:,}")
    table.add_row("rows rejected", f"{report.rows_rejected:,}")
    out.print(table)
    if report.problems:
        problems = Table(title="most common problems")
        problems.add_column("problem")
        problems.add_column("rows", justify="right")
        for problem, count in report.problems.most_common(top):
            problems.add_row(problem, f"{count:,}")
        out.print(problems)
    for column, counts in report.unknown_categories.items():
        shown = ", ".join(f"'{k}' ({v})" for k, v in counts.most_common(5))
        err.print(
            f"warning: {sum(counts.values()):,} {column} value(s) not in the vocabulary, "
            f"scored as 'other': {shown}",
            markup=False,
        )
    tell_header_row(report.header_row)
    warn_coverage(the_contract, file, coverage.absent, coverage.unmatched, coverage.row_counters)
    if rejects is not None:
        out.print(f"rejects written to {rejects}")
