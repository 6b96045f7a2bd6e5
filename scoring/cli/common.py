"""What every command shares: the typer apps, the consoles, option types, the error boundary.

A :class:`~scoring.errors.ReadinessError` becomes one line on stderr and exit code 1 here, with
the option or environment variable behind the library parameter it names.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from scoring.collector import end_of_start_up
from scoring.errors import ReadinessError

__all__ = [
    "ChunkOption",
    "ContractOption",
    "EncodingOption",
    "HeaderRowOption",
    "Lang",
    "ModelOption",
    "RegistryOption",
    "SheetOption",
    "StrictOption",
    "app",
    "err",
    "error_line",
    "freeze_start_up",
    "load_contract_option",
    "load_model_option",
    "metrics_table",
    "models_app",
    "out",
    "parse_count",
    "registry_path",
    "report_app",
    "signing_key",
    "tell_header_row",
    "user_errors",
    "warn_coverage",
]

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
    help="HTML reports: a model card, a scored batch, or a plan.", no_args_is_help=True
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


def parse_count(text: str | int) -> int:
    """A count option (``--rows``, ``--chunk-size``): a whole number, at least 1, in any digits."""
    from scoring.text import parse_option_number

    try:
        number = parse_option_number(str(text))
    except ValueError:
        number = float("nan")
    if not (number >= 1 and number.is_integer()):
        raise typer.BadParameter(f"must be a whole number >= 1, got '{text}'")
    return int(number)


ChunkOption = Annotated[
    int,
    typer.Option(
        "--chunk-size",
        parser=parse_count,
        metavar="N",
        help="Rows per chunk when streaming a file.",
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict", help="Refuse a file that lacks a column the model uses (default: a warning)."
    ),
]
HeaderRowOption = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        parser=parse_count,
        metavar="N",
        help="Spreadsheet row of the headers, 1 = the first (default: found in the first 20).",
    ),
]


#: How a user sets what a library parameter named in an error stands for.
_SETTINGS = {
    "encoding": "--encoding NAME",
    "keep_columns": "--keep-columns",
    "signing_key": "READINESS_SIGNING_KEY",
    "registry": "readiness train FILE, or --registry DIR / READINESS_REGISTRY",
    "sheet": "--sheet",
    "budget": "--budget",
    "strict": "--strict",
    "header_row": "--header-row N",
}


def error_line(exc: ReadinessError) -> str:
    """The one line shown for a domain error, naming the option or variable that fixes it."""
    setting = _SETTINGS.get(exc.parameter or "")
    return f"error: {exc} (see {setting})" if setting else f"error: {exc}"


def user_errors(command: F) -> F:
    """Turn domain errors into one line on stderr and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        end_of_start_up()  # the collector back on for the command's own work (cli.main)
        try:
            return command(*args, **kwargs)
        except ReadinessError as exc:
            err.print(error_line(exc), markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: no output was written", markup=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def load_contract_option(path: Path | None):
    from scoring.contract import load_contract

    return load_contract(path)


def tell_header_row(row: int) -> None:
    """Say where the headers were found when it is not the first row."""
    if row != 1:
        out.print(f"header found on row {row}")


def warn_coverage(contract: Any, file: Path, absent, unmatched, row_counters) -> None:
    """One warning line: model columns the file lacks (English and Persian), unmatched headers."""
    from scoring.headers import coverage_warning

    line = coverage_warning(
        contract, file.name, absent=absent, unmatched=unmatched, row_counters=row_counters
    )
    if line is not None:
        err.print(f"warning: {line}", markup=False, soft_wrap=True)


RegistryOption = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Model registry folder (default: $READINESS_REGISTRY or ./models).",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str,
    typer.Option("--model", help="NAME@VERSION, or NAME for its champion (else its latest)."),
]


def registry_path(path: Path | None) -> Path:
    if path is not None:
        return path
    return Path(os.environ.get("READINESS_REGISTRY", "models"))


def signing_key() -> bytes | None:
    key = os.environ.get("READINESS_SIGNING_KEY")
    return key.encode("utf-8") if key else None


#: Files from this size on are long runs, whose start-up is kept out of garbage collection.
_LONG_RUN_BYTES = 16 << 20


def freeze_start_up(file: Path) -> None:
    """Before a long run (``file`` of 16 MiB or more), leave what start-up loaded (modules,
    the model) out of the collector's full passes.

    A long run makes many small containers, and each full pass would walk every object of
    pandas, pyarrow and the model again: some 4 % of the CPU of scoring 1M rows. The service
    does the same once it has started. A short run is left alone: the collection this needs
    first would cost it more than it saves.
    """
    try:
        long_run = file.stat().st_size >= _LONG_RUN_BYTES
    except OSError:  # the reader words the error
        return
    if long_run:
        gc.collect()
        gc.freeze()


def load_model_option(registry: Path | None, reference: str):
    from scoring.registry import load_model

    model = load_model(registry_path(registry), reference, signing_key=signing_key())
    for warning in model.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    return model


def metrics_table(title: str, metrics: dict, baseline: dict | None = None) -> Table:
    from scoring.modelcard import headline_rows

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("glass-box", justify="right")
    if baseline is not None:
        table.add_column("baseline", justify="right")
        base = dict(headline_rows(baseline))
    for label, value in headline_rows(metrics):
        table.add_row(label, value, *([base.get(label, "")] if baseline is not None else []))
    return table
