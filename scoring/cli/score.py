"""The ``score`` command: a file scored chunk by chunk, with a progress bar and a summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scoring.cli.common import (
    ChunkOption,
    EncodingOption,
    HeaderRowOption,
    Lang,
    ModelOption,
    RegistryOption,
    SheetOption,
    StrictOption,
    app,
    err,
    freeze_start_up,
    load_model_option,
    out,
    tell_header_row,
    user_errors,
    warn_coverage,
)

__all__ = ["Engine", "score"]


class Engine(StrEnum):
    local = "local"
    dask = "dask"


@app.command()
@user_errors
def score(
    file: Annotated[Path, typer.Argument(help="Registry file to score (.csv, .xlsx, .parquet).")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the scores.")],
    model: ModelOption = "export-readiness",
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected rows (row, coop_id, error) here.")
    ] = None,
    summary: Annotated[Path | None, typer.Option(help="Write the run summary (JSON) here.")] = None,
    chunk_size: ChunkOption = 100_000,
    keep_columns: Annotated[
        str | None, typer.Option(help="Input columns to pass through, e.g. name,province.")
    ] = None,
    lang: Annotated[
        Lang | None, typer.Option(help="Write reason texts and tier names in this language.")
    ] = None,
    next_step: Annotated[
        bool, typer.Option(help="Add the cheapest programme that lifts the tier (--programs).")
    ] = False,
    programs: Annotated[
        Path | None, typer.Option(help="Programmes file (TOML), for --next-step.")
    ] = None,
    engine: Annotated[Engine, typer.Option(help="local: chunks in this process; dask.")] = (
        Engine.local
    ),
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    registry: RegistryOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    strict: StrictOption = False,
    header_row: HeaderRowOption = None,
    db: Annotated[
        str | None,
        typer.Option(help="Also record the batch in this store (URL or SQLite file)."),
    ] = None,
) -> None:
    """Score a file: probability, score, tier, reasons, sub-scores, sector percentile."""
    from scoring.batch import OPTIONAL_COLUMNS, SCORE_COLUMNS, score_file
    from scoring.localize import output_headers
    from scoring.model import ScoringModel
    from scoring.writing import check_kept_columns, check_outputs

    notes = check_outputs(
        {"FILE": file, "--programs": programs},
        {"--out": out_file, "--rejects": rejects},
        {"--summary": summary},
    )
    if next_step and programs is None:
        raise typer.BadParameter("--next-step needs --programs FILE")
    keep = [c.strip() for c in keep_columns.split(",") if c.strip()] if keep_columns else []
    check_kept_columns(keep, [*SCORE_COLUMNS, *OPTIONAL_COLUMNS])
    for note in notes:
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    loaded = load_model_option(registry, model)
    scoring_model = ScoringModel(loaded)
    if lang is Lang.fa:  # nor the Persian header of one
        headed = output_headers(scoring_model.contract, "fa", [*SCORE_COLUMNS, *OPTIONAL_COLUMNS])
        check_kept_columns(keep, list(headed.values()))
    extra = None
    if next_step:
        from scoring.planning import load_programs, next_step_columns

        catalogue = load_programs(programs, scoring_model.contract)
        extra = next_step_columns(scoring_model, catalogue)
    options = dict(
        rejects=rejects,
        summary=summary,
        chunk_size=chunk_size,
        keep_columns=keep,
        lang=lang.value if lang else None,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
        strict=strict,
        extra=extra,
    )
    from scoring.cli.serve import recording

    freeze_start_up(file)
    with recording(db, file, scoring_model, options) as recorder:
        if engine is Engine.dask:
            from scoring.distributed import score_file_dask

            if scheduler and not _on_loopback(scheduler):
                err.print(
                    f"warning: results from {scheduler} are unpickled in this process: a "
                    "scheduler you do not control can run code here (see README, Dask engine)",
                    markup=False,
                    soft_wrap=True,
                )
            result = score_file_dask(file, scoring_model, out_file, scheduler=scheduler, **options)
        else:
            with _progress(file, chunk_size, quiet) as progress:
                result = score_file(file, scoring_model, out_file, progress=progress, **options)
        recorder.finish(result)
    told = result.to_dict()
    _print_summary(told)
    tell_header_row(told["header_row"])
    warn_coverage(scoring_model.contract, file, told["columns_absent"],
                   told["headers_unmatched"], told["headers_row_counters"])  # fmt: skip
    out.print(f"scores written to {out_file}", soft_wrap=True)


class _progress:
    """A rich progress bar on stderr for files larger than one chunk, when stderr is a terminal."""

    def __init__(self, file: Path, chunk_size: int, quiet: bool) -> None:
        self.enabled = not quiet and err.is_terminal and _larger_than(file, chunk_size)
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
        )
        self.bar.start()
        task = self.bar.add_task("scoring: 0 rows", total=None)
        done = [0]

        def advance(rows: int) -> None:
            done[0] += rows
            self.bar.update(task, description=f"scoring: {done[0]:,} rows")

        return advance

    def __exit__(self, *args: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _larger_than(file: Path, chunk_size: int) -> bool:
    try:
        return file.stat().st_size > chunk_size * 100
    except OSError:
        return False


def _print_summary(summary: dict) -> None:
    out.print(f"scored with {summary['model']}", soft_wrap=True)
    table = Table(show_header=False)
    table.add_row("rows read", f"{summary['rows_read']:,}")
    table.add_row("rows scored", f"{summary['rows_scored']:,}")
    table.add_row("rows rejected", f"{summary['rows_rejected']:,}")
    for tier, count in summary["tiers"].items():
        table.add_row(f"tier {tier}", f"{count:,}")
    table.add_row("seconds", f"{summary['seconds']:.2f}")
    out.print(table)
    for column, counts in summary["unknown_categories"].items():
        shown = ", ".join(f"'{k}' ({v})" for k, v in list(counts.items())[:5])
        err.print(
            f"warning: {sum(counts.values()):,} {column} value(s) not in the vocabulary, "
            f"scored as 'other': {shown}",
            markup=False,
            soft_wrap=True,
        )
    if summary["drift_shifted"]:
        # Only judged shifts warn: a list's own segment and lists too small to judge do not.
        within = sorted({r["compared_with"] for r in summary["drift"] if "compared_with" in r})
        against = (
            f"the training cooperatives of the same {' and '.join(within)} mix"
            if within
            else "the training reference"
        )
        err.print(
            f"warning: drift: these features shifted against {against} "
            f"(PSI > 0.25): {', '.join(summary['drift_shifted'])}",
            markup=False,
            soft_wrap=True,
        )


def _on_loopback(address: str) -> bool:
    """Whether a Dask scheduler address is on this machine's loopback (127.0.0.0/8, ::1)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
