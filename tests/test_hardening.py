"""Hardening of what the commands write, through the CLI and by fuzzing the writers.

No two paths of one command are the same file; kept columns cannot overwrite results; a table is
only written under a table's extension; a full disk is one line and leaves nothing; stale
temporary files are cleaned and told; and text cells never become formulas or links in .xlsx
and are neutralised in CSV (OWASP "CSV injection"), whatever the text.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scoring.writing as writing
from scoring.cli import app
from scoring.sample import generate_sample, to_english_table
from scoring.writing import write_table

runner = CliRunner()
PROGRAMS = Path(__file__).resolve().parents[1] / "examples" / "programs.toml"
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
DANGER = ("=", "+", "-", "@", "\t", "\r")


def _run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _registry(args: list, registry: Path) -> list:
    """``--registry`` for the commands that load a model."""
    return ["--registry", registry] if args[0] in ("score", "plan", "evaluate", "report") else []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def data(tmp_path) -> Path:
    """A small unlabelled registry file, with hostile text in a kept column."""
    frame, _ = generate_sample(30, seed=7, labelled=False)
    table = to_english_table(frame)
    table.loc[0, "coop_id"] = "=1+1"
    table.loc[1, "name"] = '=HYPERLINK("http://evil.example","click")'
    table.loc[2, "name"] = "http://example.com/a?b=1"
    table.loc[3, "name"] = "\r=2+2"
    table.loc[4, "name"] = "-12"
    path = tmp_path / "data.csv"
    table.to_csv(path, index=False, quoting=csv.QUOTE_ALL)  # quoted: the CR stays in its cell
    return path


@pytest.fixture
def registry(trained) -> Path:
    return trained[0]


# --- no two paths of one command are the same file -----------------------------------------


# Each case: the command's arguments, given the input FILE and the folder to write in.
SAME_FILE = {
    "score --out is FILE": lambda data, d: ["score", data, "--out", data],
    "score --rejects is FILE": lambda data, d: [
        "score", data, "--out", d / "scores.csv", "--rejects", data,
    ],
    "score --out is --rejects": lambda data, d: [
        "score", data, "--out", d / "scores.csv", "--rejects", d / "scores.csv",
    ],
    "score --summary is --out": lambda data, d: [
        "score", data, "--out", d / "scores.csv", "--summary", d / "scores.csv",
    ],
    "score --out is a link to FILE": lambda data, d: ["score", data, "--out", d / "link.csv"],
    "score --out is a hard link to FILE": lambda data, d: ["score", data, "--out", d / "hard.csv"],
    "validate --rejects is FILE": lambda data, d: ["validate", data, "--rejects", data],
    "plan --out is FILE": lambda data, d: [
        "plan", data, "--programs", PROGRAMS, "--budget", "1000", "--out", data,
    ],
    "plan --out is --programs": lambda data, d: [
        "plan", data, "--programs", d / "programs.toml", "--budget", "1000",
        "--out", d / "programs.toml",
    ],
    "plan --summary is --out": lambda data, d: [
        "plan", data, "--programs", PROGRAMS, "--budget", "1000", "--out", d / "plan.csv",
        "--summary", d / "plan.csv",
    ],
    "evaluate --json is FILE": lambda data, d: ["evaluate", data, "--json", data],
    "report batch --out is SCORED": lambda data, d: ["report", "batch", data, "--out", data],
    "report batch --out is --summary": lambda data, d: [
        "report", "batch", data, "--summary", d / "programs.toml", "--out", d / "programs.toml",
    ],
    "sample --truth is --out": lambda data, d: [
        "sample", "--rows", "5", "--out", d / "scores.csv", "--truth", d / "scores.csv",
    ],
}  # fmt: skip


@pytest.mark.parametrize("case", list(SAME_FILE))
def test_no_two_paths_of_a_command_are_the_same_file(tmp_path, data, registry, case):
    (tmp_path / "link.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "programs.toml").write_bytes(PROGRAMS.read_bytes())
    args = SAME_FILE[case](data, tmp_path)
    before, listing = _digest(data), _listing(tmp_path)
    programs = _digest(tmp_path / "programs.toml")
    assert_one_error_line(_run(*args, *_registry(args, registry)), "same file")
    assert _digest(data) == before  # the inputs are untouched
    assert _digest(tmp_path / "programs.toml") == programs
    assert _listing(tmp_path) == listing  # and nothing was written


# --- kept columns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    ["readiness_tier", "export_probability", "coop_id", "tier_name", "next_step", "reason_1",
     "next_step_score"],
)  # fmt: skip
def test_a_kept_column_cannot_replace_a_computed_one(tmp_path, data, registry, column):
    table = pd.read_csv(data, dtype=str, keep_default_na=False)
    table[column] = "A+"  # the input has a column of that name
    table.to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    result = _run("score", data, "--out", out, "--keep-columns", f"name,{column}",
                  "--registry", registry, "--quiet")  # fmt: skip
    line = assert_one_error_line(result, f"'{column}'")
    assert "'name'" not in line
    assert not out.exists()


def test_kept_columns_pass_through_beside_the_computed_ones(tmp_path, data, registry):
    out = tmp_path / "scores.csv"
    result = _run("score", data, "--out", out, "--keep-columns", "name,province",
                  "--registry", registry, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(scored["readiness_tier"]) <= set("ABCD")
    assert scored.columns.tolist()[-2:] == ["name", "province"]


# --- output extensions --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["score", "{data}", "--out", "{dir}/scores.json"],
        ["score", "{data}", "--out", "{dir}/scores.csv", "--rejects", "{dir}/rejects.html"],
        ["score", "{data}", "--out", "{dir}/scores.csv", "--summary", "{dir}/summary.csv"],
        ["validate", "{data}", "--rejects", "{dir}/rejects.json"],
        ["sample", "--rows", "5", "--out", "{dir}/sample.json"],
        ["plan", "{data}", "--programs", str(PROGRAMS), "--budget", "9", "--out", "{dir}/p.json"],
        ["report", "batch", "{data}", "--out", "{dir}/report.csv"],
        ["evaluate", "{data}", "--json", "{dir}/metrics.csv"],
    ],
    ids=["score", "rejects", "summary", "validate", "sample", "plan", "report", "evaluate"],
)
def test_an_output_with_the_wrong_extension_is_refused_before_work(tmp_path, data, registry, args):
    args = [a.format(data=data, dir=tmp_path) for a in args]
    listing = _listing(tmp_path)
    assert_one_error_line(_run(*args, *_registry(args, registry)), "use .")
    assert _listing(tmp_path) == listing


# --- a full disk --------------------------------------------------------------------------


def _full_disk(sink, schema, options):
    """The CSV stream on a full disk: the header fits, then ENOSPC."""
    sink.write(b"coop_id,export_probability\n")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_scoring_is_one_line_and_leaves_nothing(
    tmp_path, data, registry, monkeypatch
):
    monkeypatch.setattr(writing, "_CsvStream", _full_disk)
    out, rejects = tmp_path / "scores.csv", tmp_path / "rejects.csv"
    listing = _listing(tmp_path)
    result = _run("score", data, "--out", out, "--rejects", rejects,
                  "--registry", registry, "--quiet")  # fmt: skip
    assert_one_error_line(result, "disk is full", "scores.csv")
    assert _listing(tmp_path) == listing  # no output, no rejects, no temporary file


# --- stale temporary files ----------------------------------------------------------------


def test_a_stale_temporary_beside_the_output_is_removed_and_told(tmp_path, data, registry):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".scores.csv.{int(child.stdout)}.0badc0de.tmp"
    stale.write_bytes(b"half of a killed run's output")
    result = _run("score", data, "--out", tmp_path / "scores.csv",
                  "--registry", registry, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert not stale.exists()
    notes = [line for line in result.stderr.splitlines() if "temporary file" in line]
    assert len(notes) == 1 and notes[0].startswith("warning: ") and "scores.csv" in notes[0]


# --- text cells written by the commands -----------------------------------------------------


def _sheet_parts(path: Path) -> tuple[ET.Element, list[str]]:
    """The first sheet's XML, and the text of every relationships part of the workbook."""
    with zipfile.ZipFile(path) as archive:
        sheet = ET.fromstring(archive.read("xl/worksheets/sheet1.xml"))
        rels = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".rels")]
    return sheet, rels


def _assert_inert(path: Path) -> ET.Element:
    """No formula and no hyperlink anywhere in the sheet; returns the sheet."""
    sheet, rels = _sheet_parts(path)
    assert sheet.findall(f".//{SHEET}f") == []
    assert sheet.findall(f".//{SHEET}hyperlinks") == []
    assert not any("hyperlink" in part for part in rels)
    return sheet


def test_scores_in_excel_hold_hostile_text_as_text(tmp_path, data, registry):
    out = tmp_path / "scores.xlsx"
    result = _run("score", data, "--out", out, "--keep-columns", "name",
                  "--registry", registry, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    _assert_inert(out)
    back = pd.read_excel(out, engine="calamine", dtype=object)
    assert back["coop_id"][0] == "=1+1"
    assert back["name"][1] == '=HYPERLINK("http://evil.example","click")'
    assert back["name"][2] == "http://example.com/a?b=1"
    assert back["name"][4] == "-12"  # text stays text
    assert isinstance(back["export_probability"][0], float)  # numbers stay numbers


def test_scores_in_csv_neutralise_hostile_text(tmp_path, data, registry):
    out = tmp_path / "scores.csv"
    result = _run("score", data, "--out", out, "--keep-columns", "name",
                  "--registry", registry, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert scored["coop_id"][0] == "'=1+1"
    assert scored["name"][1] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert scored["name"][3] == "'\r=2+2"
    assert scored["name"][4] == "-12"  # a signed plain number: no formula, kept as written
    assert scored["name"][2] == "http://example.com/a?b=1"  # a plain link is no formula in CSV
    assert float(scored["export_probability"][0]) > 0


# --- fuzz: whatever the text, no formula, no link, and CSV neutralised ----------------------

HOSTILE = [
    "=1+1", '=HYPERLINK("http://evil.example","x")', "{=SUM(A1:A2)}", "\r=2+2", "\t=1",
    "+98 21", "-12", "@SUM(1)", "http://example.com/?a=1", "https://x.example", "mailto:a@b.c",
    "ftp://x.example/f", "file:///etc/passwd", "external:Sheet2!A1", "internal:Sheet1!A1",
    "=cmd|' /C calc'!A0", "=DDE(\"cmd\")", "12", "1e5", "-0.5", "TRUE", "#N/A",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.tuples(st.sampled_from(DANGER), st.text(max_size=20)).map("".join),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20),
    st.text(st.characters(max_codepoint=0x1F, exclude_characters="\x00"), max_size=8),
    st.builds(  # near and over Excel's limit of 32,767 UTF-16 units a cell
        lambda c, n: c * n,
        st.sampled_from(["=", "x", "ی", "\U0001f600"]),
        st.integers(32_000, 33_500),
    ),
    st.none(),
)
ROWS = st.lists(
    st.tuples(TEXT, TEXT, st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))),
    min_size=1,
    max_size=6,
)


def _expected_excel(value: str | None) -> str | None:
    """The text as Excel holds it: cut to 32,767 UTF-16 units, ending in an ellipsis."""
    if value is None or len(value.encode("utf-16-le")) // 2 <= 32_767:
        return value
    return value.encode("utf-16-le")[: 2 * 32_766].decode("utf-16-le", errors="ignore") + "…"


def _expected_csv(value: str | None) -> str:
    if value is None:
        return ""
    if re.fullmatch(r"[+-]([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", value):
        return value  # a signed plain number: a spreadsheet reads a number, never a formula
    return "'" + value if value.startswith(DANGER) else value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS)
def test_fuzzed_text_cells_are_inert_in_excel_and_neutralised_in_csv(rows):
    frame = pd.DataFrame(
        {
            "coop_id": pd.Series([r[0] for r in rows], dtype=object),
            "note": pd.Series([r[1] for r in rows], dtype=object),
            "change": [r[2] for r in rows],
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        xlsx, csv_path = Path(folder) / "out.xlsx", Path(folder) / "out.csv"
        write_table(frame, xlsx)
        write_table(frame, csv_path)
        sheet = _assert_inert(xlsx)
        for cell in sheet.iter(f"{SHEET}c"):
            column, row = re.fullmatch(r"([A-Z]+)(\d+)", cell.get("r")).groups()
            if row != "1":  # below the header: text as a shared string, numbers as numbers
                assert cell.get("t") == ("s" if column in "AB" else None), cell.get("r")
        # Trailing rows with no value hold no cell: a reader sees fewer rows.
        back = pd.read_excel(xlsx, engine="calamine", dtype=object, keep_default_na=False)
        back = back.reindex(range(len(frame))).fillna("")  # "#N/A" is text here, not missing
        for column in ("coop_id", "note"):
            assert back[column].tolist() == [_expected_excel(v) or "" for v in frame[column]]
        change = back["change"].replace("", np.nan).to_numpy(float)
        np.testing.assert_allclose(change, frame["change"], rtol=1e-15)  # Excel keeps 16 digits
        with csv_path.open(newline="", encoding="utf-8") as handle:
            cells = list(csv.reader(handle))[1:]
        assert [c[0] for c in cells] == [_expected_csv(v) for v in frame["coop_id"]]
        assert [c[1] for c in cells] == [_expected_csv(v) for v in frame["note"]]
        written = [float(c[2]) if c[2] else np.nan for c in cells]
        np.testing.assert_array_equal(written, frame["change"])  # CSV numbers are exact
