"""Tests of the `sample` and `validate` commands (scoring.cli) through typer's CliRunner."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line
from typer.testing import CliRunner

from scoring.cli import app
from scoring.sample import generate_sample

# Recent click keeps stderr apart: result.stdout is stdout only, result.stderr stderr only.
runner = CliRunner()

REQUIRED_HEADER = "coop_id,province,sector,members,installed_capacity,actual_output,revenue"


def _run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _count(output: str, label: str) -> int:
    match = re.search(rf"{label}\s*│\s*([\d,]+)", output)
    assert match, (label, output)
    return int(match.group(1).replace(",", ""))


# --- sample ---------------------------------------------------------------------------------


def test_sample_writes_an_english_labelled_file(tmp_path):
    out = tmp_path / "sample.csv"
    result = _run("sample", "--rows", 50, "--seed", 3, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(frame) == 50
    assert frame.columns[0] == "coop_id" and frame.columns[-1] == "exported_next_year"
    assert set(frame["exported_next_year"]) <= {"0", "1"}
    expected, _ = generate_sample(50, 3)
    assert frame["coop_id"].tolist() == expected["coop_id"].tolist()
    rate = expected["exported_next_year"].mean()
    assert f"wrote 50 cooperatives to {out}, label rate {rate:.3f}" in result.stdout.replace(
        "\n", ""
    )


def test_sample_same_seed_same_file(tmp_path):
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((first, 5), (second, 5), (other, 6)):
        assert _run("sample", "--rows", 30, "--seed", seed, "--out", path).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_sample_persian(tmp_path):
    out = tmp_path / "fa.xlsx"
    result = _run("sample", "--rows", 20, "--persian", "--out", out)
    assert result.exit_code == 0, result.stderr
    frame = pd.read_excel(out, dtype=str, engine="calamine")
    assert "شناسه تعاونی" in frame.columns and "coop_id" not in frame.columns
    assert len(frame) == 20
    members = frame["تعداد اعضا"].dropna()
    assert members.str.fullmatch("[۰-۹]+").all()  # Persian digits


def test_sample_truth_and_unlabelled(tmp_path):
    out, truth = tmp_path / "s.parquet", tmp_path / "truth.csv"
    result = _run("sample", "--rows", 40, "--seed", 2, "--unlabelled", "--truth", truth,
                  "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "label rate" not in result.stdout
    frame = pd.read_parquet(out)
    assert "exported_next_year" not in frame.columns and len(frame) == 40
    truth_frame = pd.read_csv(truth)
    assert truth_frame.columns.tolist() == ["coop_id", "true_probability"]
    _, probability = generate_sample(40, 2, labelled=False)
    np.testing.assert_allclose(truth_frame["true_probability"], probability, rtol=1e-12)
    assert truth_frame["coop_id"].tolist() == frame["coop_id"].tolist()


def test_sample_bad_output_path_writes_nothing(tmp_path):
    result = _run("sample", "--rows", 5, "--out", tmp_path / "sample.docx")
    assert_one_error_line(result, "sample.docx")
    assert list(tmp_path.iterdir()) == []


def test_sample_dirty_persian_is_a_usage_error(tmp_path):
    result = _run("sample", "--rows", 5, "--dirty", 0.1, "--persian", "--out", tmp_path / "x.csv")
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


# --- validate -------------------------------------------------------------------------------


@pytest.fixture
def dirty_file(tmp_path) -> Path:
    path = tmp_path / "coops.csv"
    path.write_text(
        f"{REQUIRED_HEADER},iso9001\n"
        "A,tehran,mining,abc,100,50,10,yes\n"  # row 2: members unreadable
        "B,تهران,صنايع غذايي,۱۲,۱٬۰۰۰,۵۰۰,۱۰,بله\n"  # row 3: valid
        "A,fars,fishing,5,100,50,10,no\n"  # row 4: repeats row 2 (and an unknown sector)
        "C,fars,mining,5,100,50,10,maybe\n"  # row 5: maybe
        "D,fars,mining,5,100,50,10,\n",  # row 6: valid
        encoding="utf-8",
    )
    return path


def test_validate_prints_counts_and_problems(dirty_file):
    result = _run("validate", dirty_file)
    assert result.exit_code == 0, result.stderr
    assert _count(result.stdout, "rows read") == 5
    assert _count(result.stdout, "rows valid") == 2
    assert _count(result.stdout, "rows rejected") == 3
    assert "most common problems" in result.stdout
    for problem in ["members: is not a number", "coop_id: repeats an earlier row",
                    "iso9001: is not yes/no"]:  # fmt: skip
        assert re.search(rf"{re.escape(problem)}\s*│\s*1\b", result.stdout), problem
    # The unknown sector is a warning, not an error.
    assert result.stderr.startswith("warning: 1 sector value(s) not in the vocabulary")
    assert "'fishing'" in result.stderr


def test_validate_writes_rejects(dirty_file, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = _run("validate", dirty_file, "--rejects", rejects, "--chunk-size", 2)
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(rejects, dtype={"row": int, "coop_id": str, "error": str})
    assert frame.to_dict("records") == [
        {"row": 2, "coop_id": "A", "error": "members: 'abc' is not a number"},
        {"row": 4, "coop_id": "A", "error": "coop_id: 'A' repeats row 2"},
        {"row": 5, "coop_id": "C", "error": "iso9001: 'maybe' is not yes/no"},
    ]
    assert "rejects written to" in result.stdout


def test_validate_clean_file_has_no_problem_table(tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text(f"{REQUIRED_HEADER}\nA,tehran,mining,5,100,50,10\n", encoding="utf-8")
    rejects = tmp_path / "rejects.xlsx"
    result = _run("validate", path, "--rejects", rejects)
    assert result.exit_code == 0, result.stderr
    assert _count(result.stdout, "rows rejected") == 0
    assert "most common problems" not in result.stdout
    back = pd.read_excel(rejects, engine="calamine")
    assert back.columns.tolist() == ["row", "coop_id", "error"] and len(back) == 0


def test_validate_a_dirty_sample(tmp_path):
    data = tmp_path / "dirty.csv"
    assert _run("sample", "--rows", 200, "--dirty", 0.25, "--seed", 1, "--out", data).exit_code == 0
    result = _run("validate", data)
    assert result.exit_code == 0, result.stderr
    read, valid, rejected = (_count(result.stdout, k) for k in
                             ("rows read", "rows valid", "rows rejected"))  # fmt: skip
    assert read == 200 and valid + rejected == 200
    assert 0 < rejected <= 50


# --- every bad input: exit 1, one line on stderr, no output ---------------------------------


def _excel_with_empty_sheet(path: Path) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter") as excel:
        excel.book.add_worksheet("data")


def _header_only_xlsx(path: Path) -> None:
    pd.DataFrame(columns=REQUIRED_HEADER.split(",")).to_excel(path, engine="xlsxwriter",
                                                              index=False)  # fmt: skip


BAD_INPUTS = {
    "missing": ("missing.csv", None, ["does not exist"]),
    "extension": ("coops.json", lambda p: p.write_text("{}"), ["cannot read '.json' files"]),
    "empty": ("empty.csv", lambda p: p.touch(), ["is empty"]),
    "header only": ("header.csv", lambda p: p.write_text(REQUIRED_HEADER + "\n"), ["0 rows"]),
    "header only xlsx": ("header.xlsx", _header_only_xlsx, ["0 rows"]),
    "header only parquet": (
        "header.parquet",
        lambda p: pd.DataFrame({c: pd.Series([], dtype="str") for c in REQUIRED_HEADER.split(",")})
        .to_parquet(p),
        ["0 rows"],
    ),
    "nul bytes": ("garbage.csv", lambda p: p.write_bytes(b"a,b\n\x00\x00\xff" * 20), ["binary"]),
    "random xlsx": ("garbage.xlsx", lambda p: p.write_bytes(bytes(range(256)) * 8),
                    ["spreadsheet"]),
    "random parquet": ("garbage.parquet", lambda p: p.write_bytes(bytes(range(256)) * 8),
                       ["Parquet"]),
    "empty sheet": ("empty.xlsx", _excel_with_empty_sheet, ["sheet 'data'", "is empty"]),
    "missing column": (
        "coops.csv",
        lambda p: p.write_text("coop_id,province,sector,members,actual_output,revenue\n"
                               "A,tehran,mining,5,50,10\n"),
        ["column 'installed_capacity' is required but missing from coops.csv (found: 'coop_id'"],
    ),
    "same column twice": (
        "coops.csv",
        lambda p: p.write_text(REQUIRED_HEADER + ",sales\nA,tehran,mining,5,100,50,10,10\n"),
        ["'revenue'", "'sales'", "both mean"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_no_output(tmp_path, case):
    name, make, fragments = BAD_INPUTS[case]
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = inputs / name
    if make is not None:
        make(path)
    rejects = tmp_path / "rejects.csv"
    result = _run("validate", path, "--rejects", rejects)
    assert_one_error_line(result, *fragments)
    assert not rejects.exists()
    assert list(tmp_path.iterdir()) == [inputs]  # no output, no temporary file


def test_bad_rejects_path_fails_before_reading(dirty_file, tmp_path):
    result = _run("validate", dirty_file, "--rejects", tmp_path / "nowhere" / "rejects.csv")
    assert_one_error_line(result, "does not exist")
    assert result.stdout == ""  # no counts: it failed before any work


def test_bad_contract_file(dirty_file, tmp_path):
    contract = tmp_path / "contract.toml"
    contract.write_text('[[column]]\nname = "coop_id"\ntype = "identifier"\n', encoding="utf-8")
    result = _run("validate", dirty_file, "--contract", contract)
    assert_one_error_line(result, "'identifier'")


def test_unknown_sheet(tmp_path):
    path = tmp_path / "coops.xlsx"
    pd.DataFrame({"coop_id": ["A"]}).to_excel(path, engine="xlsxwriter", index=False,
                                              sheet_name="one")  # fmt: skip
    assert_one_error_line(_run("validate", path, "--sheet", "two"), "no sheet 'two'")
