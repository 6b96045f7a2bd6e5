"""Tests of batch scoring (scoring.batch): counts under dirty inputs, order, formats and
languages, chunk boundaries, atomic output under a kill, the summary, and evaluate_file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from scoring.batch import SCORE_COLUMNS, score_file, score_frame
from scoring.contract import load_contract
from scoring.file_evaluation import evaluate_file
from scoring.model import tiers_of
from scoring.registry import load_model
from scoring.sample import generate_sample, inject_problems, to_english_table, to_persian_table

ROOT = Path(__file__).resolve().parents[1]


def _read(path: Path) -> pd.DataFrame:
    """A written CSV as text, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def unlabelled():
    frame, _ = generate_sample(400, seed=31, labelled=False)
    return frame


# --- counts under dirty inputs --------------------------------------------------------------

CONTRACT_COLUMNS = [
    "coop_id", "province", "sector", "established_year", "members", "employees",
    "installed_capacity", "actual_output", "revenue", "revenue_prev", "export_revenue",
    "iso9001", "defect_rate", "commercial_card",
]  # fmt: skip
DIRTY_VALUES = [
    "", " ", "abc", "-5", "0", "150%", "4.5%", "maybe", "بله", "۱۲٬۳۴۵", "1,000", "1e400", "nan",
    "None", "C0000001", "fishing", "تهران", '"quoted, comma"', "a\nb", "١٢", "∞",
]  # fmt: skip
# Not a lone carriage return: pandas writes it unquoted, and then the file really has another
# line (a bare CR ends a line for most CSV readers), so the row count is the file's, not ours.
# Not NUL: the reader refuses a file with a NUL in its first 64 KiB as binary (by design).
DIRTY = st.one_of(
    st.sampled_from(DIRTY_VALUES),
    st.text(st.characters(exclude_characters="\r\x00", exclude_categories=("Cs",)), max_size=6),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 29), st.sampled_from(CONTRACT_COLUMNS), DIRTY), max_size=25
    ),
    chunk_size=st.integers(1, 40),
)
def test_rows_read_equal_scored_plus_rejected_on_dirty_inputs(
    scoring_model, tmp_path_factory, edits, chunk_size
):
    frame, _ = generate_sample(30, seed=5, labelled=False)
    table = to_english_table(frame)
    table["ref"] = [str(i) for i in range(len(table))]  # an extra column: which row is which
    for row, column, value in edits:
        table.loc[row, column] = value
    folder = tmp_path_factory.mktemp("dirty")
    source, out, rejects = folder / "in.csv", folder / "out.csv", folder / "rejects.csv"
    table.to_csv(source, index=False)
    summary = score_file(
        source, scoring_model, out, rejects=rejects, chunk_size=chunk_size, keep_columns=["ref"]
    )
    assert summary.rows_read == len(table) == 30
    assert summary.rows_read == summary.rows_scored + summary.rows_rejected
    scored, rejected = _read(out), _read(rejects)
    assert len(scored) == summary.rows_scored and len(rejected) == summary.rows_rejected
    # Every row is either scored or rejected, never both, never lost; scores keep input order.
    scored_rows = scored["ref"].astype(int).tolist()
    rejected_rows = (rejected["row"].astype(int) - 2).tolist()
    assert sorted(scored_rows + rejected_rows) == list(range(30))
    assert scored_rows == sorted(scored_rows)
    assert all(error for error in rejected["error"])  # each reject says why
    probability = scored["export_probability"].astype(float)
    assert probability.between(0, 1).all()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_first_chunk_without_valid_rows_does_not_break_the_output(
    scoring_model, tmp_path, suffix
):
    """Regression (found by the test above): the writer takes its schema from the first chunk;
    a chunk with no valid rows has untyped (null) columns, and the next chunk's text cannot be
    cast to them (ArrowNotImplementedError: Unsupported cast from large_string to null)."""
    frame, _ = generate_sample(6, seed=5, labelled=False)
    table = to_english_table(frame)
    table.loc[[0, 1], "members"] = "abc"  # the whole first chunk is rejected
    table.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / f"out{suffix}"
    summary = score_file(
        tmp_path / "in.csv", scoring_model, out, rejects=tmp_path / f"rejects{suffix}",
        chunk_size=2,
    )  # fmt: skip
    assert (summary.rows_scored, summary.rows_rejected) == (4, 2)
    scored = _read(out) if suffix == ".csv" else pd.read_parquet(out)
    assert scored["coop_id"].tolist() == table["coop_id"].iloc[2:].tolist()


def test_a_kept_column_empty_in_the_first_chunk_does_not_break_the_output(scoring_model, tmp_path):
    """The same bug through --keep-columns: empty cells in the first chunk give a null column."""
    frame, _ = generate_sample(6, seed=5, labelled=False)
    table = to_english_table(frame)
    table.loc[[0, 1], "name"] = ""
    scored = _score_table(
        scoring_model, table, tmp_path / "in.csv", chunk_size=2, keep_columns=["name"]
    )
    assert scored["name"].tolist() == ["", "", *table["name"].iloc[2:]]


def test_output_keeps_input_order_and_rejects_name_their_rows(scoring_model, tmp_path):
    frame, _ = generate_sample(200, seed=8, labelled=False)
    table = to_english_table(frame).sample(frac=1.0, random_state=3).reset_index(drop=True)
    table = inject_problems(table, 0.2, seed=4)
    table.to_csv(tmp_path / "in.csv", index=False)
    summary = score_file(
        tmp_path / "in.csv", scoring_model, tmp_path / "out.csv", rejects=tmp_path / "rej.csv",
        chunk_size=37,
    )  # fmt: skip
    scored, rejected = _read(tmp_path / "out.csv"), _read(tmp_path / "rej.csv")
    assert summary.rows_rejected >= 20 and len(rejected) == summary.rows_rejected
    kept = table.drop(index=rejected["row"].astype(int) - 2)
    assert scored["coop_id"].tolist() == kept["coop_id"].tolist()
    assert list(scored.columns) == SCORE_COLUMNS
    # The rejects' coop_id is the one in that spreadsheet row.
    for row, coop_id in zip(rejected["row"].astype(int), rejected["coop_id"], strict=True):
        assert table.loc[row - 2, "coop_id"].strip() == coop_id or coop_id in ("", "None")


def test_scores_follow_the_model(scoring_model, unlabelled, trained):
    """The batch output is the trained pipeline's probability, with the documented columns."""
    _, _, result = trained
    scored = score_frame(unlabelled, scoring_model)
    expected = result.pipeline.predict_proba(unlabelled)[:, 1]
    np.testing.assert_allclose(scored["export_probability"], expected, atol=1e-9)
    np.testing.assert_array_equal(scored["readiness_score"], np.round(100 * expected, 1))
    cut = {t: round(100 * c, 6) for t, c in load_contract().tiers.items()}  # on the score
    shown = np.round(100 * expected, 1)  # the tier follows the score a reader sees
    tiers = np.where(
        shown >= cut["A"], "A",
        np.where(shown >= cut["B"], "B", np.where(shown >= cut["C"], "C", "D")),
    )  # fmt: skip
    np.testing.assert_array_equal(scored["readiness_tier"], tiers)
    # 0.4999 shows 50.0 and 0.1499 shows 15.0: tiers A and C, as their scores say.
    assert tiers_of(np.array([0.5, 0.4999, 0.3, 0.15, 0.1499]), load_contract().tiers).tolist() == [
        "A", "A", "B", "C", "C",
    ]  # fmt: skip
    for column in ("capacity_score", "quality_score", "output_score", "market_score"):
        assert scored[column].between(0, 100).all()


# --- formats and languages ------------------------------------------------------------------


def _score_table(model, table: pd.DataFrame, path: Path, **kwargs) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        table.to_excel(path, index=False)
    else:
        table.to_csv(path, index=False)
    out = path.with_name(path.stem + "-scores.csv")
    score_file(path, model, out, **kwargs)
    return _read(out)


def test_a_persian_file_scores_identically_to_its_english_twin(scoring_model, unlabelled, tmp_path):
    english = _score_table(scoring_model, to_english_table(unlabelled), tmp_path / "en.csv")
    persian_table = to_persian_table(unlabelled)
    assert "شناسه تعاونی" in persian_table.columns  # really Persian headers and digits
    assert persian_table["تعداد اعضا"].str.contains("[۰-۹]").all()
    persian = _score_table(scoring_model, persian_table, tmp_path / "fa.csv", chunk_size=64)
    assert len(english) == len(unlabelled)
    pd.testing.assert_frame_equal(persian, english)


def test_an_excel_file_scores_identically_to_the_csv(scoring_model, unlabelled, tmp_path):
    table = to_english_table(unlabelled)
    csv = _score_table(scoring_model, table, tmp_path / "in.csv")
    excel = _score_table(scoring_model, table, tmp_path / "in.xlsx", chunk_size=150)
    pd.testing.assert_frame_equal(excel, csv)


def test_parquet_in_and_out(scoring_model, unlabelled, tmp_path):
    table = to_english_table(unlabelled)
    table.to_parquet(tmp_path / "in.parquet", index=False)
    score_file(tmp_path / "in.parquet", scoring_model, tmp_path / "out.parquet")
    csv = _score_table(scoring_model, table, tmp_path / "in.csv")
    parquet = pd.read_parquet(tmp_path / "out.parquet")
    np.testing.assert_array_equal(parquet["coop_id"], csv["coop_id"])
    np.testing.assert_allclose(
        parquet["export_probability"], csv["export_probability"].astype(float)
    )


def test_a_duplicate_across_a_chunk_boundary_is_rejected(scoring_model, tmp_path):
    frame, _ = generate_sample(10, seed=12, labelled=False)
    table = to_english_table(frame)
    first_id = table.loc[1, "coop_id"]
    table.loc[6, "coop_id"] = first_id  # chunks of 4: rows 0-3, 4-7, 8-9
    table.to_csv(tmp_path / "in.csv", index=False)
    summary = score_file(
        tmp_path / "in.csv", scoring_model, tmp_path / "out.csv", rejects=tmp_path / "rej.csv",
        chunk_size=4,
    )  # fmt: skip
    rejected = _read(tmp_path / "rej.csv")
    assert summary.rows_rejected == 1 and rejected["row"].tolist() == ["8"]
    assert rejected["coop_id"].tolist() == [first_id]
    assert "repeats row 3" in rejected["error"].iloc[0]
    scored = _read(tmp_path / "out.csv")
    assert scored["coop_id"].tolist().count(first_id) == 1 and len(scored) == 9


def test_keep_columns_pass_through_aligned_with_their_rows(scoring_model, tmp_path):
    frame, _ = generate_sample(40, seed=13, labelled=False)
    table = to_english_table(frame)
    table.loc[[2, 17, 33], "members"] = "abc"  # rejected rows must not shift the others
    scored = _score_table(
        scoring_model, table, tmp_path / "in.csv", keep_columns=["name", "province"], chunk_size=16
    )
    assert list(scored.columns) == [*SCORE_COLUMNS, "name", "province"]
    kept = table.drop(index=[2, 17, 33])
    assert scored["coop_id"].tolist() == kept["coop_id"].tolist()
    assert scored["name"].tolist() == kept["name"].tolist()
    assert scored["province"].tolist() == kept["province"].tolist()


def test_lang_fa_writes_persian_reason_texts_and_tier_names(scoring_model, unlabelled, tmp_path):
    contract = load_contract()
    table = to_english_table(unlabelled)
    codes = _score_table(scoring_model, table, tmp_path / "codes.csv")
    persian = _score_table(scoring_model, table, tmp_path / "fa.csv", lang="fa")
    texts = {r.code: r.fa for sides in contract.reasons.values() for r in sides.values()}
    # Under lang="fa" the headers are Persian too (the contract's [output_labels]).
    for column, header in zip(
        ("reason_1", "reason_2", "reason_3"), ("دلیل اول", "دلیل دوم", "دلیل سوم"), strict=True
    ):
        expected = [texts[c] if c else "" for c in codes[column]]
        assert persian[header].tolist() == expected
    assert persian["دلیل اول"].str.contains("[\u0600-\u06ff]").mean() > 0.9
    tier_names = {t: contract.tier_label(t, "fa") for t in "ABCD"}
    assert persian["نام سطح"].tolist() == [tier_names[t] for t in codes["readiness_tier"]]
    assert tier_names["A"] == "آماده صادرات"
    english = _score_table(scoring_model, table, tmp_path / "en.csv", lang="en")
    assert set(english["tier_name"]) <= {"export-ready", "near-ready", "developing", "not ready"}


# --- the summary ----------------------------------------------------------------------------


def test_the_summary_json_has_the_required_keys_and_agrees_with_the_files(
    scoring_model, trained, tmp_path
):
    frame, _ = generate_sample(300, seed=14, labelled=False)
    table = inject_problems(to_english_table(frame), 0.1, seed=2)
    table.loc[5, "sector"] = "fishing"  # unknown: scored as 'other', counted
    table.to_csv(tmp_path / "in.csv", index=False)
    result = score_file(
        tmp_path / "in.csv", scoring_model, tmp_path / "out.csv", summary=tmp_path / "sum.json",
        chunk_size=70,
    )  # fmt: skip
    summary = json.loads((tmp_path / "sum.json").read_text(encoding="utf-8"))
    assert {"rows_read", "rows_scored", "rows_rejected", "model", "tiers", "drift"} <= set(summary)
    assert summary["model"] == trained[1]
    assert summary["rows_read"] == 300 == summary["rows_scored"] + summary["rows_rejected"]
    assert summary == json.loads(json.dumps(result.to_dict()))
    scored = _read(tmp_path / "out.csv")
    counts = scored["readiness_tier"].value_counts()
    assert summary["tiers"] == {t: int(counts.get(t, 0)) for t in "ABCD"}
    assert summary["mean_probability"] == pytest.approx(
        scored["export_probability"].astype(float).mean()
    )
    assert summary["unknown_categories"]["sector"].get("fishing", 0) >= 1
    assert {row["feature"] for row in summary["drift"]} == set(scoring_model.scorer.features)
    # 300 rows are below the drift monitor's minimum (scoring.drift.MIN_ROWS): PSI, no verdict.
    assert all(row["verdict"] == "too_few_rows" for row in summary["drift"])
    assert summary["most_common_problems"]


def test_evaluate_file_matches_metrics_computed_from_the_scores(scoring_model, tmp_path):
    frame, _ = generate_sample(600, seed=15)
    table = to_english_table(frame)
    table.loc[[4, 9], "members"] = "-3"
    table.to_csv(tmp_path / "labelled.csv", index=False)
    metrics = evaluate_file(tmp_path / "labelled.csv", scoring_model.loaded)
    assert metrics["rows_rejected"] == 2
    scored = _score_table(
        scoring_model, table.drop(columns=["exported_next_year"]), tmp_path / "u.csv"
    )
    labels = frame.set_index("coop_id").loc[scored["coop_id"], "exported_next_year"]
    p = scored["export_probability"].astype(float)
    assert metrics["overall"]["rows"] == 598
    assert metrics["overall"]["roc_auc"] == pytest.approx(roc_auc_score(labels, p), abs=1e-9)
    assert {g["group"] for g in metrics["groups"]["sector"]} <= set(frame["sector"])


# --- a kill mid-run -------------------------------------------------------------------------


def _start_scoring(trained, source: Path, folder: Path) -> subprocess.Popen:
    """``score`` in a subprocess: scores over an existing file, rejects and summary new."""
    registry, reference, _ = trained
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("READINESS_SIGNING_KEY", None)
    command = [
        sys.executable, "-m", "scoring", "score", str(source), "--out", str(folder / "scores.csv"),
        "--rejects", str(folder / "rejects.csv"), "--summary", str(folder / "summary.json"),
        "--registry", str(registry), "--model", reference, "--chunk-size", "200", "--quiet",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for_temporary(process: subprocess.Popen, folder: Path) -> None:
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".scores.csv.") for p in folder.iterdir()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the scoring never started writing"
        time.sleep(0.005)
    time.sleep(0.2)  # well into the file


@pytest.mark.slow
def test_a_process_killed_mid_run_leaves_no_output_and_an_old_output_untouched(trained, tmp_path):
    frame, _ = generate_sample(40_000, seed=16, labelled=False)
    source = tmp_path / "big.csv"
    to_english_table(frame).to_csv(source, index=False)
    old = "coop_id,export_probability\nOLD,0.5\n"
    for sig in (signal.SIGKILL, signal.SIGTERM):
        folder = tmp_path / sig.name
        folder.mkdir()
        (folder / "scores.csv").write_text(old, encoding="utf-8")  # a previous run's result
        process = _start_scoring(trained, source, folder)
        _wait_for_temporary(process, folder)
        assert process.poll() is None  # still scoring when the signal comes
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
        seen = (sig.name, process.returncode, sorted(p.name for p in folder.iterdir()), stderr)
        assert process.returncode != 0, seen
        assert (folder / "scores.csv").read_text(encoding="utf-8") == old, seen  # untouched
        assert not (folder / "rejects.csv").exists(), seen
        assert not (folder / "summary.json").exists(), seen
        if sig == signal.SIGTERM:  # handled as Ctrl-C: temporary files removed, exit 130
            assert process.returncode == 130, seen
            assert b"no output was written" in stderr, seen
            assert [p.name for p in folder.iterdir()] == ["scores.csv"], seen


def test_the_loaded_model_is_the_one_scored_with(scoring_model, trained):
    registry, reference, _ = trained
    assert scoring_model.loaded.reference == reference
    assert load_model(registry, reference).scorer.to_dict() == scoring_model.scorer.to_dict()
