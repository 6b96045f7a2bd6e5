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
from rich import box
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


def _registry(path: Path | None) -> Path:
    if path is not None:
        return path
    return Path(os.environ.get("READINESS_REGISTRY", "models"))


def _signing_key() -> bytes | None:
    key = os.environ.get("READINESS_SIGNING_KEY")
    return key.encode("utf-8") if key else None


def _load(registry: Path | None, reference: str):
    from scoring.registry import load_model

    model = load_model(_registry(registry), reference, signing_key=_signing_key())
    for warning in model.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    return model


def _metrics_table(title: str, metrics: dict, baseline: dict | None = None) -> Table:
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


@app.command()
@user_errors
def train(
    file: Annotated[Path, typer.Argument(help="Labelled registry file.")],
    name: Annotated[str, typer.Option(help="Model name in the registry.")] = "export-readiness",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same model).")] = 0,
    truth: Annotated[
        Path | None, typer.Option(help="True probabilities (sample data): adds the Bayes gap.")
    ] = None,
    holdout: Annotated[
        float, typer.Option(min=0.05, max=0.9, help="Holdout share (when there is no data_year).")
    ] = 1 / 3,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="OpenMP threads (default: $OMP_NUM_THREADS, else one per core)."),
    ] = None,
    registry: RegistryOption = None,
    contract: ContractOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
) -> None:
    """Train, evaluate on a holdout, and save NAME@VERSION in the registry."""
    from scoring.registry import save_model
    from scoring.training import read_labelled, read_truth, train_model

    the_contract = _load_contract(contract)
    frame, report = read_labelled(file, the_contract, encoding=encoding, sheet=sheet)
    if report.rows_rejected:
        err.print(
            f"warning: {report.rows_rejected:,} of {report.rows_read:,} rows rejected and left "
            "out of training (see `readiness validate --labelled --rejects FILE`)",
            markup=False,
            soft_wrap=True,
        )
    truth_frame = read_truth(truth) if truth is not None else None
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS") or min(2, os.cpu_count() or 1))
    result = train_model(
        frame,
        the_contract,
        seed=seed,
        holdout_share=holdout,
        truth=truth_frame,
        n_threads=threads,
    )
    reference = save_model(
        result, the_contract, _registry(registry), name=name, signing_key=_signing_key()
    )
    out.print(f"holdout evaluation of {reference}", soft_wrap=True)
    out.print(_metrics_table("holdout metrics", result.metrics, result.baseline_metrics))
    selection = Table(title="model selection (cross-validated log loss)")
    for column in ("model", "settings", "CV log loss", "seconds", "chosen"):
        selection.add_column(column)
    for row in result.candidates:
        selection.add_row(
            row["model"],
            ", ".join(f"{k}={v:g}" for k, v in row["settings"].items()),
            f"{row['cv_log_loss']:.4f}",
            f"{row['seconds']:.1f}",
            "yes" if row.get("chosen") else "",
        )
    out.print(selection)
    out.print(
        f"trained on {result.training['train_rows']:,} rows in "
        f"{result.timings['total_seconds']:.1f} s; compiled scorer matches the pipeline within "
        f"{result.compiled_max_abs_diff:.1e}"
    )
    out.print(f"saved {reference}", soft_wrap=True)


@app.command()
@user_errors
def evaluate(
    file: Annotated[Path, typer.Argument(help="Labelled registry file.")],
    model: ModelOption = "export-readiness",
    truth: Annotated[Path | None, typer.Option(help="True probabilities (sample data).")] = None,
    registry: RegistryOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics as JSON here.")
    ] = None,
) -> None:
    """Metrics of a saved model on labelled data (scored with its compiled tables)."""
    from scoring.batch import evaluate_file

    loaded = _load(registry, model)
    metrics = evaluate_file(
        file,
        loaded,
        truth=truth,
        encoding=encoding,
        sheet=sheet,
    )
    out.print(_metrics_table(f"{loaded.reference} on {file.name}", metrics))
    if json_out is not None:
        from scoring.writing import write_json

        write_json(metrics, json_out)


@models_app.command("list")
@user_errors
def models_list(registry: RegistryOption = None) -> None:
    """Every model version, newest first."""
    from scoring.registry import list_models

    rows = list_models(_registry(registry))
    if not rows:
        out.print(f"no models in {_registry(registry)}")
        return
    out.print(f"models in {_registry(registry)}", soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    # Name and version are what --model and promote need: never cut them. `models show`
    # has the rest.
    for column, values in (
        ("name", [r["name"] for r in rows]),
        ("version", [r["version"] for r in rows]),
    ):
        table.add_column(column, no_wrap=True, min_width=max(len(v) for v in values))
    for column in ("champion", "rows", "AUC"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for row in rows:
        table.add_row(
            row["name"],
            row["version"],
            "*" if row.get("champion") else "",
            f"{row['rows']:,}" if row.get("rows") else "",
            f"{row['roc_auc']:.3f}" if row.get("roc_auc") is not None else "",
        )
    out.print(table)


@models_app.command("show")
@user_errors
def models_show(
    reference: Annotated[str, typer.Argument(help="NAME@VERSION or NAME.")],
    registry: RegistryOption = None,
) -> None:
    """A model's manifest facts and holdout metrics."""
    loaded = _load(registry, reference)
    manifest = loaded.manifest
    facts = Table(title=loaded.reference, show_header=False)
    facts.add_row("created", manifest["created"])
    facts.add_row("training rows", f"{manifest['training']['rows']:,}")
    facts.add_row("label rate", f"{manifest['training']['label_rate']:.3f}")
    facts.add_row("holdout", manifest["training"]["holdout"])
    facts.add_row("fingerprint", manifest["training"]["fingerprint"][:16] + "...")
    facts.add_row("features", ", ".join(manifest["features"]["features"]))
    facts.add_row("tiers", ", ".join(f"{k} >= {v}" for k, v in manifest["tiers"].items()))
    facts.add_row("signed", "yes" if "signature" in manifest else "no")
    for library, version in manifest["libraries"].items():
        facts.add_row(library, version)
    out.print(facts)
    out.print(_metrics_table("holdout", manifest["metrics"], manifest.get("baseline_metrics")))


@models_app.command("verify")
@user_errors
def models_verify(
    reference: Annotated[str, typer.Argument(help="NAME@VERSION or NAME.")],
    registry: RegistryOption = None,
) -> None:
    """Check every file's sha256 (and the signature when READINESS_SIGNING_KEY is set)."""
    from scoring.errors import ModelError
    from scoring.registry import resolve_reference, verify_model

    name, version = resolve_reference(_registry(registry), reference)
    rows = verify_model(_registry(registry), reference, signing_key=_signing_key())
    table = Table(title=f"{name}@{version}")
    for column in ("file", "ok", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["file"], "ok" if row["ok"] else "FAILED", row["detail"])
    out.print(table)
    failed = [row["file"] for row in rows if not row["ok"]]
    if failed:
        raise ModelError(f"model {name}@{version} failed verification: {', '.join(failed)}")


@models_app.command("promote")
@user_errors
def models_promote(
    reference: Annotated[str, typer.Argument(help="NAME@VERSION to make the champion.")],
    registry: RegistryOption = None,
) -> None:
    """Make a version its model's champion (what NAME refers to)."""
    from scoring.registry import promote_model

    promoted = promote_model(_registry(registry), reference)
    out.print(f"champion is now {promoted}")


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
) -> None:
    """Score a file: probability, score, tier, reasons, sub-scores, sector percentile."""
    from scoring.batch import ScoringModel, score_file
    from scoring.writing import check_output_path

    for path in (out_file, rejects, summary):
        if path is not None:
            check_output_path(path)
    if next_step and programs is None:
        raise typer.BadParameter("--next-step needs --programs FILE")
    keep = [c.strip() for c in keep_columns.split(",") if c.strip()] if keep_columns else []
    loaded = _load(registry, model)
    scoring_model = ScoringModel(loaded)
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
        extra=extra,
    )
    if engine is Engine.dask:
        from scoring.distributed import score_file_dask

        result = score_file_dask(file, scoring_model, out_file, scheduler=scheduler, **options)
    else:
        with _progress(file, chunk_size, quiet) as progress:
            result = score_file(file, scoring_model, out_file, progress=progress, **options)
    _print_summary(result.to_dict())
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
        err.print(
            "warning: drift: these features shifted against the training reference "
            f"(PSI > 0.25): {', '.join(summary['drift_shifted'])}",
            markup=False,
            soft_wrap=True,
        )


@app.command()
@user_errors
def plan(
    file: Annotated[Path, typer.Argument(help="Registry file of candidate cooperatives.")],
    programs: Annotated[Path, typer.Option(help="Programmes file (TOML).")],
    budget: Annotated[str, typer.Option(help="Total budget, in the programmes' currency.")],
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
) -> None:
    """Allocate support programmes within a budget to raise the expected number of exporters."""
    from scoring.batch import ScoringModel
    from scoring.errors import PlanError
    from scoring.planning import load_programs, plan_file
    from scoring.writing import check_output_path

    try:
        amount = float(budget.replace(",", ""))
    except ValueError:
        raise PlanError(f"--budget must be a positive number, got '{budget}'") from None
    if not amount > 0 or amount != amount or amount == float("inf"):
        raise PlanError(f"--budget must be a positive number, got '{budget}'")
    for path in (out_file, rejects, summary):
        if path is not None:
            check_output_path(path)
    scoring_model = ScoringModel(_load(registry, model))
    catalogue = load_programs(programs, scoring_model.contract)
    result = plan_file(
        file,
        scoring_model,
        catalogue,
        amount,
        out_file,
        rejects=rejects,
        summary=summary,
        chunk_size=chunk_size,
        encoding=encoding,
        sheet=sheet,
        seed=seed,
    )
    _print_plan(result)
    out.print(f"plan written to {out_file}", soft_wrap=True)


def _print_plan(result: dict) -> None:
    if result.get("empty"):
        out.print(result.get("message", "no cooperative can be helped: the plan is empty"))
        return
    table = Table(title="plan against rules of thumb (same budget, slots, one per cooperative)")
    for column in ("policy", "funded", "cost", "expected extra exporters"):
        table.add_column(column, justify="right")
    table.add_row(
        f"optimal ({result.get('method', '')})",
        f"{result.get('funded', 0):,}",
        f"{result.get('total_cost', 0):,.0f}",
        f"{result.get('expected_additional_exporters', 0):.2f}",
    )
    for name, policy in result.get("policies", {}).items():
        table.add_row(
            name,
            f"{policy.get('count', policy.get('funded', 0)):,}",
            f"{policy.get('total_cost', 0):,.0f}",
            f"{policy.get('expected_additional_exporters', policy.get('gain', 0)):.2f}",
        )
    out.print(table)
    out.print(result.get("message", ""), soft_wrap=True)
    if result.get("gap") is not None:
        out.print(f"optimality gap against the LP bound: {result['gap']:.2%}")


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
    from scoring.writing import check_output_path

    check_output_path(out_file)
    path = render_model_report(_load(registry, reference), out_file, lang=lang.value)
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
    registry: RegistryOption = None,
) -> None:
    """A self-contained HTML report of a scored batch: tiers, reasons, provinces, drift."""
    from scoring.report import render_batch_report
    from scoring.writing import check_output_path

    check_output_path(out_file)
    contract = _load(registry, model).contract if model else None
    path = render_batch_report(
        scored, out_file, summary=summary, contract=contract, lang=lang.value
    )
    out.print(f"batch report written to {path}", soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
    app(prog_name="readiness")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
