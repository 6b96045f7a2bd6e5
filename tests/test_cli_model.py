"""Tests of the model commands (train, evaluate, models list/show/verify/promote, score) through
typer's CliRunner, and of their refusals: one line, exit 1, nothing written, registry untouched."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import QUICK, assert_one_error_line
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

import scoring.cli as cli
import scoring.training
import scoring.writing
from scoring.registry import list_models, load_model
from scoring.sample import generate_sample, to_english_table
from scoring.training import read_labelled

runner = CliRunner()
app = cli.app
NAME = "export-readiness"


def _run(*args: str | Path, columns: int = 200):
    """Invoke the CLI with its consoles laid out for a terminal ``columns`` wide.

    (The consoles are built at import and fix their width then if COLUMNS is set, as
    pytest-xdist sets it to 80 in its workers: so set the width itself, and put it back.)
    """
    saved = [(console, console._width) for console in (cli.out, cli.err)]
    for console, _ in saved:
        console.width = columns
    try:
        return runner.invoke(app, [str(a) for a in args])
    finally:
        for console, width in saved:
            console._width = width


def _ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder (hidden ones too) with its content hash."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {str(p.relative_to(folder)) + "/": "" for p in folder.rglob("*") if p.is_dir()}


def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real train command with a tiny candidate set and one thread."""
    monkeypatch.setitem(scoring.training.train_model.__kwdefaults__, "candidates", QUICK)
    monkeypatch.setitem(scoring.training.train_model.__kwdefaults__, "n_threads", 1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-data")
    frame, p_true = generate_sample(1200, seed=41)
    table = to_english_table(frame)
    table.to_csv(folder / "labelled.csv", index=False)
    pd.DataFrame({"coop_id": frame["coop_id"], "true_probability": p_true}).to_csv(
        folder / "truth.csv", index=False
    )
    table.drop(columns=["exported_next_year"]).iloc[:300].to_csv(
        folder / "unlabelled.csv", index=False
    )
    return folder


@pytest.fixture(scope="module")
def registry(files, tmp_path_factory):
    """A registry holding one model trained through the command line."""
    folder = tmp_path_factory.mktemp("cli-registry")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fast(monkeypatch)
        result = _run(
            "train", files / "labelled.csv", "--truth", files / "truth.csv",
            "--registry", folder, "--seed", 3,
        )  # fmt: skip
    stdout = _ok(result)
    match = re.search(r"saved (export-readiness@\S+)", stdout)
    assert match, stdout
    return folder, match.group(1), stdout


# --- train, evaluate, models, score ---------------------------------------------------------


def test_train_saves_a_model_and_prints_its_holdout_metrics(registry):
    folder, reference, stdout = registry
    loaded = load_model(folder, reference)
    overall = loaded.manifest.metrics["overall"]
    assert f"{overall['roc_auc']:.4f}" in stdout
    assert "gap to Bayes AUC" in stdout  # --truth adds the truth rows
    assert f"{loaded.manifest.metrics['truth']['auc_gap']:.4f}" in stdout
    assert "model selection" in stdout and "spline logistic" in stdout
    assert loaded.manifest.training["rows"] == 1200 and loaded.manifest.seed == 3
    assert [r["version"] for r in list_models(folder)] == [reference.split("@")[1]]


def test_evaluate_prints_and_writes_the_metrics(registry, files, tmp_path):
    folder, reference, _ = registry
    out = tmp_path / "metrics.json"
    stdout = _ok(_run("evaluate", files / "labelled.csv", "--registry", folder, "--json", out))
    metrics = json.loads(out.read_text(encoding="utf-8"))
    # Independently: the analysts' pipeline on the same rows.
    loaded = load_model(folder, reference)
    frame, _ = read_labelled(files / "labelled.csv", loaded.contract)
    p = loaded.load_pipeline().predict_proba(frame)[:, 1]
    expected = roc_auc_score(frame["exported_next_year"], p)
    assert metrics["overall"]["roc_auc"] == pytest.approx(expected, abs=1e-9)
    assert metrics["overall"]["rows"] == 1200
    assert re.search(rf"ROC AUC\s*│\s*{expected:.4f}", stdout)
    assert reference in "".join(stdout.split())  # the title wraps to the table's width


def test_models_list_show_and_verify(registry):
    folder, reference, _ = registry
    version = reference.split("@")[1]
    listing = _ok(_run("models", "list", "--registry", folder))
    assert NAME in listing and version in listing
    shown = _ok(_run("models", "show", reference, "--registry", folder))
    assert reference in shown and "1,200" in shown and "scikit-learn" in shown
    assert "ROC AUC" in shown
    verified = _ok(_run("models", "verify", NAME, "--registry", folder))
    for artifact in ("scorer.json", "pipeline.joblib", "holdout.parquet", "model_card.md"):
        assert re.search(rf"{re.escape(artifact)}\s*│\s*ok", verified), artifact
    assert "FAILED" not in verified


def test_models_list_shows_whole_versions_in_an_80_column_terminal(registry):
    """The version is what `promote` and `--model` need: it must not be cut to 'export-…'.
    Fails today: rich shrinks every column of the 8-column table to fit 80 characters (also
    when the output is piped, which rich lays out at 80). Proposed fix in scoring/cli.py,
    models_list: ``table.add_column(column, no_wrap=True, min_width=...)`` for name and version
    (their longest value), so that rich narrows the other columns instead."""
    folder, reference, _ = registry
    listing = _ok(_run("models", "list", "--registry", folder, columns=80))
    assert reference.split("@")[1] in listing and NAME in listing


def test_models_list_on_an_empty_registry(tmp_path):
    assert "no models in" in _ok(_run("models", "list", "--registry", tmp_path / "none"))


def test_promote_moves_the_champion_and_score_uses_it(
    registry, files, tmp_path_factory, monkeypatch
):
    folder, first, _ = registry
    own = tmp_path_factory.mktemp("promote") / "models"
    import shutil

    shutil.copytree(folder, own)
    _fast(monkeypatch)
    stdout = _ok(_run("train", files / "labelled.csv", "--registry", own, "--seed", 4))
    second = re.search(r"saved (export-readiness@\S+)", stdout).group(1)
    assert second != first
    work = tmp_path_factory.mktemp("promote-out")

    def scored_with() -> str:
        summary = work / "summary.json"
        _ok(_run(
            "score", files / "unlabelled.csv", "--out", work / "out.csv", "--summary", summary,
            "--registry", own, "--quiet",
        ))  # fmt: skip
        return json.loads(summary.read_text(encoding="utf-8"))["model"]

    assert scored_with() == second  # no champion: the latest
    assert f"champion is now {first}" in _ok(_run("models", "promote", first, "--registry", own))
    assert scored_with() == first
    listing = _ok(_run("models", "list", "--registry", own))
    champion_rows = [line for line in listing.splitlines() if "*" in line]
    assert len(champion_rows) == 1 and first.split("@")[1][:20] in champion_rows[0]
    _ok(_run("models", "promote", second, "--registry", own))
    assert scored_with() == second


def test_score_writes_scores_summary_and_passes_columns(registry, files, tmp_path):
    folder, reference, _ = registry
    out, summary = tmp_path / "scores.csv", tmp_path / "summary.json"
    stdout = _ok(_run(
        "score", files / "unlabelled.csv", "--out", out, "--summary", summary,
        "--registry", folder, "--model", reference, "--keep-columns", "name,province",
        "--lang", "fa", "--chunk-size", 70,
    ))  # fmt: skip
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    source = pd.read_csv(files / "unlabelled.csv", dtype=str, keep_default_na=False)
    # --lang fa heads the columns in Persian, the kept `name` as its column's Persian name.
    assert scored["شناسه تعاونی"].tolist() == source["coop_id"].tolist()
    assert scored["نام تعاونی"].tolist() == source["name"].tolist()
    assert set(scored["نام سطح"]) <= {
        "آماده صادرات",
        "نزدیک به آمادگی",
        "در حال توسعه",
        "آماده نیست",
    }
    facts = json.loads(summary.read_text(encoding="utf-8"))
    assert facts["rows_read"] == facts["rows_scored"] == 300
    assert re.search(r"rows scored\s*│\s*300", stdout)
    # The probabilities are the model's, computed here with the analysts' pipeline.
    loaded = load_model(folder, reference)
    frame, _ = read_labelled(files / "labelled.csv", loaded.contract)
    expected = loaded.load_pipeline().predict_proba(frame.iloc[:300])[:, 1]
    np.testing.assert_allclose(scored["احتمال صادرات"].astype(float), expected, atol=1e-9)


# --- refusals: one line, exit 1, no output, registry untouched ------------------------------


def _labelled(files: Path, tmp_path: Path, change) -> Path:
    table = pd.read_csv(files / "labelled.csv", dtype=str, keep_default_na=False)
    table = change(table)
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    return path


TRAIN_REFUSALS = {
    "no label column": (
        lambda t: t.drop(columns=["exported_next_year"]),
        ["exported_next_year"],
    ),
    "labels not 0/1": (lambda t: t.assign(exported_next_year="2"), ["no valid labelled rows"]),
    "a single class": (lambda t: t.assign(exported_next_year="0"), ["exported_next_year = 0"]),
    "too few rows": (lambda t: t.iloc[:40], ["too few rows"]),
    "missing required column": (
        lambda t: t.drop(columns=["installed_capacity"]),
        ["installed_capacity"],
    ),
}


@pytest.mark.parametrize("case", list(TRAIN_REFUSALS))
def test_train_refuses_bad_input(registry, files, tmp_path, monkeypatch, case):
    folder, _, _ = registry
    _fast(monkeypatch)
    change, fragments = TRAIN_REFUSALS[case]
    path = _labelled(files, tmp_path, change)
    before = _snapshot(folder)
    result = _run("train", path, "--registry", folder)
    assert_one_error_line(result, *fragments)
    assert _snapshot(folder) == before


def test_train_into_a_new_registry_leaves_nothing_on_refusal(files, tmp_path, monkeypatch):
    _fast(monkeypatch)
    path = _labelled(files, tmp_path, lambda t: t.assign(exported_next_year="1"))
    assert_one_error_line(_run("train", path, "--registry", tmp_path / "fresh"), "= 1")
    assert not (tmp_path / "fresh").exists()


def _score(folder: Path, source: Path, out: Path, *extra: str | Path):
    return _run("score", source, "--out", out, "--registry", folder, "--quiet", *extra)


def test_score_refuses_an_unknown_model(registry, files, tmp_path):
    folder, _, _ = registry
    out = tmp_path / "out.csv"
    before = _snapshot(folder)
    assert_one_error_line(
        _score(folder, files / "unlabelled.csv", out, "--model", "nope"),
        "unknown model 'nope'", NAME,
    )  # fmt: skip
    assert_one_error_line(
        _score(folder, files / "unlabelled.csv", out, "--model", f"{NAME}@1999"),
        "no version '1999'",
    )  # fmt: skip
    assert not out.exists() and _snapshot(folder) == before


def test_score_refuses_a_changed_artifact(registry, files, tmp_path):
    import shutil

    folder, reference, _ = registry
    own = tmp_path / "models"
    shutil.copytree(folder, own)
    scorer = own / NAME / reference.split("@")[1] / "scorer.json"
    scorer.write_text(scorer.read_text().replace("0.", "1.", 1))
    before = _snapshot(own)
    out = tmp_path / "out.csv"
    assert_one_error_line(_score(own, files / "unlabelled.csv", out), "scorer.json", "changed")
    assert not out.exists()
    result = _run("models", "verify", reference, "--registry", own)
    assert_one_error_line(result, "failed verification", "scorer.json")
    assert "FAILED" in result.stdout
    assert_one_error_line(_run("models", "promote", reference, "--registry", own), "changed")
    assert_one_error_line(_run("evaluate", files / "labelled.csv", "--registry", own), "changed")
    assert _snapshot(own) == before


def test_score_refuses_a_file_that_breaks_the_contract(registry, files, tmp_path):
    folder, _, _ = registry
    table = pd.read_csv(files / "unlabelled.csv", dtype=str).drop(columns=["revenue"])
    source = tmp_path / "no-revenue.csv"
    table.to_csv(source, index=False)
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    assert_one_error_line(
        _score(folder, source, out, "--rejects", rejects), "'revenue'", "required"
    )
    assert not out.exists() and not rejects.exists()


def test_score_refuses_an_output_path_that_cannot_be_written(registry, files, tmp_path):
    folder, _, _ = registry
    assert_one_error_line(
        _score(folder, files / "unlabelled.csv", tmp_path / "missing" / "out.csv"),
        "does not exist",
    )  # fmt: skip
    (tmp_path / "a-folder.csv").mkdir()
    assert_one_error_line(
        _score(folder, files / "unlabelled.csv", tmp_path / "a-folder.csv"), "folder"
    )
    assert_one_error_line(_score(folder, files / "unlabelled.csv", tmp_path / "out.pdf"), ".pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder.csv"]


def test_score_refuses_an_excel_result_too_large(registry, files, tmp_path, monkeypatch):
    folder, _, _ = registry
    monkeypatch.setattr(scoring.writing, "EXCEL_MAX_ROWS", 100)
    out = tmp_path / "scores.xlsx"
    out_existing = tmp_path / "old.xlsx"
    out_existing.write_bytes(b"previous result")
    assert_one_error_line(
        _score(folder, files / "unlabelled.csv", out, "--chunk-size", 50), "100", ".csv"
    )
    assert_one_error_line(_score(folder, files / "unlabelled.csv", out_existing), "Excel")
    assert not out.exists() and out_existing.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_evaluate_refuses_unlabelled_data_and_unknown_models(registry, files):
    folder, _, _ = registry
    before = _snapshot(folder)
    assert_one_error_line(
        _run("evaluate", files / "unlabelled.csv", "--registry", folder), "exported_next_year"
    )
    assert_one_error_line(
        _run("evaluate", files / "labelled.csv", "--registry", folder, "--model", "other"),
        "unknown model 'other'",
    )  # fmt: skip
    for command in ("show", "verify", "promote"):
        assert_one_error_line(
            _run("models", command, "ghost", "--registry", folder), "unknown model"
        )
    assert _snapshot(folder) == before


def test_train_help_names_the_contract_table_its_defaults_come_from():
    # Rich markup once swallowed "[model.training]" as a tag, leaving "(default: )".
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert result.output.count("[model.training]") == 3
