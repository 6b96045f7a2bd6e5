"""The ``readiness`` command line: thin wrappers that parse options, call the library, print.

This is the only module that prints, exits or reads environment variables. A user error
(:class:`~scoring.errors.ReadinessError`) becomes one line on stderr and exit code 1; usage
errors exit with 2.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from scoring.errors import ReadinessError

app = typer.Typer(
    name="readiness",
    help="Export-readiness scoring for production cooperatives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(
    help="The model registry: list, show, verify, promote.", no_args_is_help=True
)
report_app = typer.Typer(
    help="HTML reports: a model card, or a scored batch.", no_args_is_help=True
)
app.add_typer(models_app, name="models")
app.add_typer(report_app, name="report")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


class Lang(StrEnum):
    en = "en"
    fa = "fa"


ContractOption = Annotated[
    Path | None,
    typer.Option("--contract", help="A contract TOML file (default: the packaged contract)."),
]
EncodingOption = Annotated[
    str | None, typer.Option(help="CSV text encoding (default: detect UTF-8 or Windows-1256).")
]
SheetOption = Annotated[
    str | None, typer.Option(help="Excel sheet name or 0-based index (default: the first).")
]
ChunkOption = Annotated[
    int, typer.Option("--chunk-size", min=1, help="Rows per chunk when streaming a file.")
]


def user_errors(command: F) -> F:
    """Turn domain errors into one line on stderr and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ReadinessError as exc:
            err.print(f"error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: no output was written", markup=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _load_contract(path: Path | None):
    from scoring.contract import load_contract

    return load_contract(path)


@app.command()
@user_errors
def sample(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write (.csv, .xlsx, .parquet).")
    ],
    rows: Annotated[int, typer.Option(min=1, help="How many cooperatives.")] = 1000,
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
    from scoring.writing import check_output_path, write_table

    if dirty and persian:
        raise typer.BadParameter("--dirty works on the English form only; drop --persian")
    check_output_path(out_file)
    if truth is not None:
        check_output_path(truth)
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
    out.print(f"wrote {rows:,} cooperatives to {out_file}{label}")


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
) -> None:
    """Read and validate a file only: counts, and the most common problems."""
    from scoring.validation import validate_file
    from scoring.writing import check_output_path, write_table

    if rejects is not None:
        check_output_path(rejects)
    report, rejected = validate_file(
        file,
        _load_contract(contract),
        chunk_size=chunk_size,
        labelled=labelled,
        encoding=encoding,
        sheet=sheet,
    )
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
    if rejects is not None:
        out.print(f"rejects written to {rejects}")


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
    app(prog_name="readiness")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
