"""Tests of ``readiness score`` through typer's CliRunner: the Dask engine writes the local
engine's bytes, Persian output, the summary's counts, and clean one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_one_error_line
from typer.testing import CliRunner

from scoring.cli import app
from scoring.sample import generate_sample, inject_problems, to_english_table

runner = CliRunner()
#: Tier names under --lang fa, as the contract's [tiers.label] gives them.
PERSIAN_TIERS = {
    "A": "آماده صادرات",
    "B": "نزدیک به آمادگی",
    "C": "در حال توسعه",
    "D": "آماده نیست",
}
#: Table rows whose id repeats the row 60 earlier: every repeat is in a later 50-row chunk.
REPEATS = (75, 130, 260)
#: What a run records about itself rather than about the data.
RUN_FACTS = ("started", "seconds")


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory) -> Path:
    """300 unlabelled rows, ~10% with problems, and ids repeated across chunk boundaries."""
    frame, _ = generate_sample(300, seed=23, labelled=False)
    table = inject_problems(to_english_table(frame), 0.1, seed=23)
    for row in REPEATS:
        table.loc[row, "coop_id"] = table.loc[row - 60, "coop_id"]
    path = tmp_path_factory.mktemp("score-input") / "dirty.csv"
    table.to_csv(path, index=False)
    return path


def _score(trained, source: Path, out: Path, *extra: str | Path):
    registry, _, _ = trained
    arguments = ["score", source, "--out", out, "--registry", registry, "--quiet", *extra]
    return runner.invoke(app, [str(a) for a in arguments])


def _ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def _run_to(trained, source: Path, folder: Path, *extra: str | Path) -> dict[str, Path]:
    """Score into ``folder``: the paths of its scores, rejects and summary files."""
    folder.mkdir()
    paths = {k: folder / f"{k}.{e}" for k, e in [("scores", "csv"), ("rejects", "csv")]}
    paths["summary"] = folder / "summary.json"
    _ok(_score(trained, source, paths["scores"], "--rejects", paths["rejects"],
               "--summary", paths["summary"], "--chunk-size", 50, *extra))  # fmt: skip
    return paths


def _summary(path: Path) -> dict:
    facts = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in facts.items() if k not in RUN_FACTS}


@pytest.fixture(scope="module")
def local_run(trained, dirty_csv, tmp_path_factory) -> dict[str, Path]:
    return _run_to(trained, dirty_csv, tmp_path_factory.mktemp("local") / "run")


def _assert_same_run(run: dict[str, Path], local: dict[str, Path]) -> None:
    assert run["scores"].read_bytes() == local["scores"].read_bytes()
    assert run["rejects"].read_bytes() == local["rejects"].read_bytes()
    assert _summary(run["summary"]) == _summary(local["summary"])


def test_the_input_has_rejects_and_repeats_across_chunks(local_run, dirty_csv):
    """Guards the comparison below: the file exercises rejects and cross-chunk repeats."""
    rejects = pd.read_csv(local_run["rejects"])
    repeats = rejects[rejects["error"].str.contains("repeats row")]
    # Table row r is spreadsheet row r + 2 (the header is row 1).
    assert {r + 2 for r in REPEATS} <= set(repeats["row"])
    assert len(rejects) > len(REPEATS)
    scores = pd.read_csv(local_run["scores"])
    assert len(scores) + len(rejects) == len(pd.read_csv(dirty_csv))


def test_dask_synchronous_writes_the_local_engines_bytes(trained, dirty_csv, local_run, tmp_path):
    run = _run_to(trained, dirty_csv, tmp_path / "dask", "--engine", "dask",
                  "--scheduler", "synchronous")  # fmt: skip
    _assert_same_run(run, local_run)


@pytest.mark.slow
def test_dask_on_a_local_cluster_writes_the_local_engines_bytes(
    trained, dirty_csv, local_run, tmp_path
):
    """tests/test_distributed.py runs a local cluster through the library; this, the command."""
    pytest.importorskip("distributed")
    run = _run_to(trained, dirty_csv, tmp_path / "cluster", "--engine", "dask")
    _assert_same_run(run, local_run)


def test_summary_counts_add_up(trained, local_run, dirty_csv):
    facts = json.loads(local_run["summary"].read_text(encoding="utf-8"))
    rows_in_file = len(pd.read_csv(dirty_csv))
    assert facts["rows_read"] == rows_in_file == 300
    assert facts["rows_read"] == facts["rows_scored"] + facts["rows_rejected"]
    assert facts["rows_scored"] == len(pd.read_csv(local_run["scores"]))
    assert facts["rows_rejected"] == len(pd.read_csv(local_run["rejects"]))
    assert sum(facts["tiers"].values()) == facts["rows_scored"]
    assert facts["model"] == trained[1]  # the registry's only model, by default


def test_summary_tells_column_coverage(local_run):
    facts = json.loads(local_run["summary"].read_text(encoding="utf-8"))
    assert {"columns_found", "columns_absent", "headers_unmatched"} <= set(facts)


def test_persian_output_names_the_tiers_in_persian(trained, dirty_csv, local_run, tmp_path):
    run = _run_to(trained, dirty_csv, tmp_path / "fa", "--lang", "fa")
    scored = pd.read_csv(run["scores"], dtype=str, keep_default_na=False)
    english = pd.read_csv(local_run["scores"], dtype=str, keep_default_na=False)
    # --lang fa heads the columns in Persian: سطح آمادگی is readiness_tier, نام سطح tier_name.
    assert scored["سطح آمادگی"].tolist() == english["readiness_tier"].tolist()
    tier_names = scored["نام سطح"]
    assert tier_names.tolist() == scored["سطح آمادگی"].map(PERSIAN_TIERS).tolist()
    assert len(set(tier_names)) > 1  # more than one tier is named
    assert "tier_name" not in english  # the name comes with --lang only
    # Reasons are Persian texts, not the codes of the default run.
    assert scored["دلیل اول"].str.contains("[\u0600-\u06ff]").all()
    assert not english["reason_1"].str.contains("[\u0600-\u06ff]").any()
    # Same rows, same probabilities as the English run.
    assert scored["شناسه تعاونی"].tolist() == english["coop_id"].tolist()
    assert scored["احتمال صادرات"].tolist() == english["export_probability"].tolist()


def test_unknown_model_is_one_line_and_writes_nothing(trained, dirty_csv, tmp_path):
    out = tmp_path / "scores.csv"
    result = _score(trained, dirty_csv, out, "--model", "no-such-model")
    assert_one_error_line(result, "unknown model", "no-such-model")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("column", ["coop_id", "members", "installed_capacity", "sector"])
def test_missing_required_column_is_one_line_naming_it(trained, dirty_csv, tmp_path, column):
    source = tmp_path / "input.csv"
    pd.read_csv(dirty_csv, dtype=str).drop(columns=[column]).to_csv(source, index=False)
    out, rejects, summary = tmp_path / "out.csv", tmp_path / "rejects.csv", tmp_path / "s.json"
    result = _score(trained, source, out, "--rejects", rejects, "--summary", summary)
    assert_one_error_line(result, f"'{column}'", "required")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.csv"]


def test_persian_csv_starts_with_a_byte_order_mark(trained, dirty_csv, tmp_path):
    out = tmp_path / "scores.csv"
    _ok(_score(trained, dirty_csv, out, "--lang", "fa"))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_long_run_keeps_start_up_out_of_garbage_collection(tmp_path):
    """Only a file of 16 MiB or more freezes what is loaded; a short run pays nothing."""
    import gc

    from scoring.cli.common import freeze_start_up

    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_text("coop_id\nC1\n", encoding="utf-8")
    with large.open("wb") as handle:
        handle.truncate(16 << 20)  # sparse: 16 MiB on paper
    gc.unfreeze()
    try:
        freeze_start_up(small)
        freeze_start_up(tmp_path / "missing.csv")
        assert gc.get_freeze_count() == 0
        freeze_start_up(large)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
