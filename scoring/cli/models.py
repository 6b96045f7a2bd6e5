"""Commands on models: ``train``, ``evaluate`` and ``models list|show|verify|promote|compare``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from scoring.cli.common import (
    ContractOption,
    EncodingOption,
    HeaderRowOption,
    ModelOption,
    RegistryOption,
    SheetOption,
    StrictOption,
    app,
    err,
    load_contract_option,
    load_model_option,
    metrics_table,
    models_app,
    out,
    registry_path,
    signing_key,
    tell_header_row,
    user_errors,
    warn_coverage,
)

__all__ = [
    "evaluate",
    "models_compare",
    "models_list",
    "models_promote",
    "models_show",
    "models_verify",
    "train",
]


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
        float | None,
        typer.Option(
            min=0.05,
            max=0.9,
            help="Holdout share when there is no data_year (default: \\[model.training]).",
        ),
    ] = None,
    refit: Annotated[
        bool | None,
        typer.Option(
            "--refit/--no-refit",
            help="Refit the chosen model on every labelled row once the holdout has measured it "
            "(default: \\[model.training] refit).",
            show_default=False,
        ),
    ] = None,
    learner: Annotated[
        list[str] | None,
        typer.Option(
            "--learner",
            help="A learner to try (boosting, spline, blend); repeat for several "
            "(default: \\[model.training] learners).",
        ),
    ] = None,
    by_year: Annotated[
        bool,
        typer.Option(
            "--by-year",
            help="Also backtest: train on the years up to t, test on t + 1, for each data year.",
        ),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="OpenMP threads (default: $OMP_NUM_THREADS, else one per core)."),
    ] = None,
    registry: RegistryOption = None,
    contract: ContractOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    strict: StrictOption = False,
    header_row: HeaderRowOption = None,
) -> None:
    """Train, evaluate on a holdout, and save NAME@VERSION in the registry."""
    from scoring.registry import save_model
    from scoring.training import read_labelled, train_model
    from scoring.truth import read_truth

    the_contract = load_contract_option(contract)
    reading = dict(encoding=encoding, sheet=sheet, header_row=header_row)
    frame, report = read_labelled(file, the_contract, strict=strict, **reading)
    coverage = report.headers
    tell_header_row(report.header_row)
    warn_coverage(the_contract, file, coverage.absent, coverage.unmatched, coverage.row_counters)
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
    settings = the_contract.model.training
    learners = tuple(learner) if learner else None
    with _phases() as progress:
        result = train_model(
            frame,
            the_contract,
            seed=seed,
            holdout_share=holdout,
            truth=truth_frame,
            learners=learners,
            n_threads=threads,
            refit=settings.refit if refit is None else refit,
            progress=progress,
        )
    if by_year:
        from scoring.backtest import backtest_by_year

        result.training["backtest"] = backtest_by_year(
            frame, the_contract, seed=seed, learners=learners, truth=truth_frame,
            n_threads=threads,
        )  # fmt: skip
    champion = _champion_comparison(registry_path(registry), name, frame, result)
    if champion is not None:
        result.training["champion_comparison"] = champion
    reference = save_model(
        result, the_contract, registry_path(registry), name=name, signing_key=signing_key()
    )
    out.print(f"holdout evaluation of {reference}", soft_wrap=True)
    out.print(metrics_table("holdout metrics", result.metrics, result.baseline_metrics))
    _print_selection(result.candidates)
    if "backtest" in result.training:
        _print_backtest(result.training["backtest"])
    if champion is not None:
        _print_comparison(champion, "this model", champion["champion"])
    fits = result.training["fits"]
    out.print(
        f"trained on {result.training['train_rows']:,} rows in "
        f"{result.timings['total_seconds']:.1f} s; holdout metrics from {fits['holdout_metrics']}; "
        f"registered model: {fits['registered_model']}; compiled scorer matches the pipeline "
        f"within {result.compiled_max_abs_diff:.1e}",
        soft_wrap=True,
    )
    out.print(f"saved {reference}", soft_wrap=True)


def _print_selection(candidates: list[dict]) -> None:
    selection = Table(title="model selection (cross-validated log loss)")
    for column in ("model", "settings", "CV log loss", "seconds", "chosen"):
        selection.add_column(column)
    for row in candidates:
        selection.add_row(
            row["model"],
            ", ".join(f"{k}={v:g}" for k, v in row["settings"].items()),
            f"{row['cv_log_loss']:.4f}",
            f"{row['seconds']:.1f}",
            "yes" if row.get("chosen") else "",
        )
    out.print(selection)


def _print_backtest(rows: list[dict]) -> None:
    table = Table(title="backtest by year (train on years up to t, test on the next)")
    for column in ("trained on", "tested on", "rows", "AUC", "log loss", "ECE", "learner"):
        table.add_column(column)
    for row in rows:
        first, last = row["train_years"]
        if "skipped" in row:
            table.add_row(f"{first}-{last}", str(row["test_year"]), "", "", "", "", row["skipped"])
            continue
        figures = [_figure(row.get(m)) for m in ("roc_auc", "log_loss", "ece")]
        rows_used = f"{row['train_rows']:,} / {row['test_rows']:,}"
        table.add_row(f"{first}-{last}", str(row["test_year"]), rows_used, *figures, row["learner"])
    out.print(table)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _print_comparison(comparison: dict, first: str, second: str) -> None:
    level = comparison.get("level", 0.95)
    table = Table(title=f"{first} against {second} on {comparison['rows']:,} labelled rows")
    for column in ("metric", first, second, "difference", f"{level:.0%} interval", "verdict"):
        table.add_column(column)
    for metric, row in comparison["metrics"].items():
        low, high = row["interval"]
        better = low > 0 if metric == "roc_auc" else high < 0
        verdict = (
            f"{first} worse" if row["significantly_worse"]
            else f"{first} better" if better
            else "no significant difference"
        )  # fmt: skip
        table.add_row(
            metric, f"{row['challenger']:.4f}", f"{row['champion']:.4f}",
            f"{row['difference']:+.4f}", f"{low:+.4f} to {high:+.4f}", verdict,
        )  # fmt: skip
    out.print(table)


def _champion_comparison(registry: Path, name: str, frame, result) -> dict | None:
    """This training's holdout predictions against the current champion's on the same rows."""
    from scoring.comparison import compare_predictions, model_probability
    from scoring.errors import ReadinessError
    from scoring.registry import CHAMPION, load_model

    pointer = registry / name / CHAMPION
    if not pointer.is_file():
        return None
    try:
        champion = load_model(registry, name, signing_key=signing_key())
        ids = result.holdout.iloc[:, 0].astype(str)
        by_id = frame.set_index(frame[ids.name].astype(str))
        rows = by_id.loc[ids.to_numpy()].reset_index(drop=True)
        comparison = compare_predictions(
            result.holdout["label"].to_numpy(int),
            result.holdout["probability"].to_numpy(float),
            model_probability(champion, rows),
        )
    except ReadinessError as exc:
        err.print(f"warning: not compared with the champion: {exc}", markup=False, soft_wrap=True)
        return None
    # The challenger's figures are out of sample; the champion may have seen these rows.
    return {"champion": champion.reference, "rows_from": "this model's holdout", **comparison}


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
    from scoring.file_evaluation import evaluate_file
    from scoring.writing import check_outputs

    check_outputs({"FILE": file, "--truth": truth}, {}, {"--json": json_out})
    loaded = load_model_option(registry, model)
    metrics = evaluate_file(
        file,
        loaded,
        truth=truth,
        encoding=encoding,
        sheet=sheet,
    )
    out.print(metrics_table(f"{loaded.reference} on {file.name}", metrics))
    if json_out is not None:
        from scoring.writing import write_json

        write_json(metrics, json_out)


@models_app.command("list")
@user_errors
def models_list(registry: RegistryOption = None) -> None:
    """Every model version, newest first."""
    from scoring.registry import list_models

    rows = list_models(registry_path(registry))
    if not rows:
        out.print(f"no models in {registry_path(registry)}")
        return
    out.print(f"models in {registry_path(registry)}", soft_wrap=True)
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
    loaded = load_model_option(registry, reference)
    manifest = loaded.manifest
    facts = Table(title=loaded.reference, show_header=False)
    facts.add_row("created", manifest.created)
    facts.add_row("training rows", f"{manifest.training['rows']:,}")
    facts.add_row("label rate", f"{manifest.training['label_rate']:.3f}")
    facts.add_row("holdout", manifest.training["holdout"])
    fits = manifest.training.get("fits")
    if fits:  # models trained before the refit have none
        facts.add_row("holdout metrics from", fits["holdout_metrics"])
        facts.add_row("registered model", fits["registered_model"])
    facts.add_row("fingerprint", manifest.training["fingerprint"][:16] + "...")
    facts.add_row("features", ", ".join(manifest.features.features))
    facts.add_row("tiers", ", ".join(f"{k} >= {v}" for k, v in manifest.tiers.items()))
    facts.add_row("signed", "yes" if manifest.signed else "no")
    for library, version in manifest.libraries.items():
        facts.add_row(library, version)
    out.print(facts)
    out.print(metrics_table("holdout", manifest.metrics, manifest.baseline_metrics or None))


@models_app.command("verify")
@user_errors
def models_verify(
    reference: Annotated[str, typer.Argument(help="NAME@VERSION or NAME.")],
    registry: RegistryOption = None,
) -> None:
    """Check every file's sha256 (and the signature when READINESS_SIGNING_KEY is set)."""
    from scoring.errors import ModelError
    from scoring.registry import resolve_reference, verify_model

    name, version = resolve_reference(registry_path(registry), reference)
    rows = verify_model(registry_path(registry), reference, signing_key=signing_key())
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
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            exists=True,
            dir_okay=False,
            help="Labelled file to compare it with the current champion on first (default: the "
            "comparison recorded when it was trained).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if significantly worse than the champion.")
    ] = False,
    registry: RegistryOption = None,
) -> None:
    """Make a version its model's champion (what NAME refers to).

    Refused when the version is significantly worse than the current champion (paired
    bootstrap on labelled rows: AUC, log loss, ECE), unless --force.
    """
    from scoring.errors import RegistryError
    from scoring.registry import CHAMPION, promote_model, resolve_reference

    folder = registry_path(registry)
    name, version = resolve_reference(folder, reference)
    comparison = None
    if data is not None and (folder / name / CHAMPION).is_file():
        champion = load_model_option(registry, name)
        if champion.version != version:
            challenger = load_model_option(registry, f"{name}@{version}")
            comparison = _compare(challenger, champion, data)
            _print_comparison(comparison, challenger.reference, champion.reference)
    try:
        promoted = promote_model(folder, f"{name}@{version}", force=force, comparison=comparison)
    except RegistryError as exc:
        if exc.parameter == "force":
            raise RegistryError(f"{exc} (see --force)") from None
        raise
    out.print(f"champion is now {promoted}")


@models_app.command("compare")
@user_errors
def models_compare(
    first: Annotated[str, typer.Argument(help="A model: NAME@VERSION or NAME (the challenger).")],
    second: Annotated[str, typer.Argument(help="Another model (the champion).")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Labelled registry file.")
    ],
    rounds: Annotated[int, typer.Option(min=20, help="Bootstrap resamples.")] = 200,
    registry: RegistryOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the comparison as JSON here.")
    ] = None,
) -> None:
    """Two models on the same labelled rows: AUC, log loss and ECE with paired-bootstrap
    intervals of their differences (first minus second)."""
    a, b = load_model_option(registry, first), load_model_option(registry, second)
    comparison = _compare(a, b, file, rounds=rounds)
    _print_comparison(comparison, a.reference, b.reference)
    if json_out is not None:
        from scoring.writing import write_json

        write_json(comparison, json_out)


def _compare(challenger, champion, file: Path, *, rounds: int = 200) -> dict:
    """Both models' comparison on a labelled file read with the challenger's contract."""
    from scoring.comparison import compare_models
    from scoring.training import read_labelled

    frame, report = read_labelled(file, challenger.contract)
    if report.rows_rejected:
        err.print(
            f"warning: {report.rows_rejected:,} of {report.rows_read:,} rows rejected and left "
            "out of the comparison",
            markup=False,
            soft_wrap=True,
        )
    return compare_models(challenger, champion, frame, rounds=rounds)


@contextlib.contextmanager
def _phases() -> Iterator[Callable[[str], None] | None]:
    """A spinner on stderr naming the training phase, with the time taken, on a terminal."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("training", total=None)
        yield lambda phase: bar.update(task, description=phase)
