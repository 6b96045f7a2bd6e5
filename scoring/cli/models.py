"""Commands on models: ``train``, ``evaluate`` and ``models list|show|verify|promote``."""

from __future__ import annotations

import os
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
    read_coverage,
    registry_path,
    signing_key,
    tell_header_row,
    user_errors,
    warn_coverage,
)

__all__ = ["evaluate", "models_list", "models_promote", "models_show", "models_verify", "train"]


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
    strict: StrictOption = False,
    header_row: HeaderRowOption = None,
) -> None:
    """Train, evaluate on a holdout, and save NAME@VERSION in the registry."""
    from scoring.registry import save_model
    from scoring.training import read_labelled, train_model
    from scoring.truth import read_truth

    the_contract = load_contract_option(contract)
    reading = dict(encoding=encoding, sheet=sheet, header_row=header_row)
    coverage = read_coverage(file, the_contract, strict=strict, labelled=True, **reading)
    frame, report = read_labelled(file, the_contract, **reading)
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
    result = train_model(
        frame,
        the_contract,
        seed=seed,
        holdout_share=holdout,
        truth=truth_frame,
        n_threads=threads,
    )
    reference = save_model(
        result, the_contract, registry_path(registry), name=name, signing_key=signing_key()
    )
    out.print(f"holdout evaluation of {reference}", soft_wrap=True)
    out.print(metrics_table("holdout metrics", result.metrics, result.baseline_metrics))
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
    registry: RegistryOption = None,
) -> None:
    """Make a version its model's champion (what NAME refers to)."""
    from scoring.registry import promote_model

    promoted = promote_model(registry_path(registry), reference)
    out.print(f"champion is now {promoted}")
