"""Registry exports as officers have them (tests/data/exports) read exactly like their twin.

``coops-fa.xlsx`` (title rows, header on row 4 from column B, units in headers, Persian digits,
Jalali dates, a blank row, two real errors, a totals row) and ``coops-fa-utf16.txt`` (the same
sheet as Excel's "Unicode text") must score bit for bit like ``coops-en.csv``, their canonical
English twin, and their rejects must name the rows a person sees in the sheet.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_one_error_line
from typer.testing import CliRunner

from scoring.batch import score_file
from scoring.cli import app
from scoring.contract import load_contract
from scoring.pipeline import open_source, validate_file
from scoring.text import to_ascii_digits

EXPORTS = Path(__file__).parent / "data" / "exports"
ENGLISH = EXPORTS / "coops-en.csv"
PERSIAN = [EXPORTS / "coops-fa.xlsx", EXPORTS / "coops-fa-utf16.txt"]
CONTRACT = load_contract()

# Read off the sheet by hand (make_exports.py builds it): title on row 1, report date on row 2,
# row 3 blank, headers on row 4, cooperatives 1001-1005 on rows 5-9, row 10 blank, 1006-1010 on
# rows 11-15, the totals row on row 16. 1003 (members 0) and 1007 (output not a number) are
# the real errors.
HEADER_ROW = 4
SHEET_ROWS = [5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16]
ERRORS = {7: ("1003", "members"), 12: ("1007", "actual_output")}
TOTALS = 16
# In the twin: header on row 1, the ten cooperatives on rows 2-11.
TWIN_ERRORS = {4: ("1003", "members"), 8: ("1007", "actual_output")}
COOPERATIVES = {f"10{i:02d}" for i in range(1, 11)} - {"1003", "1007"}

runner = CliRunner()


def _scores(path: Path, model, tmp_path: Path) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    out, rejects = tmp_path / f"{path.stem}.csv", tmp_path / f"{path.stem}-rejects.csv"
    summary = score_file(path, model, out, rejects=rejects)
    scored = pd.read_csv(out, dtype={"coop_id": str}, keep_default_na=False)
    rejected = pd.read_csv(rejects, dtype={"coop_id": str}, keep_default_na=False)
    return summary, scored, rejected


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.suffix)
def test_the_header_is_found_below_the_title_rows(path):
    source = open_source(path, CONTRACT)
    assert source.header_row == HEADER_ROW
    headers = [h for h in source.headers if h != "column_1"]  # the text file's empty column A
    assert headers[0] == "شناسه تعاونی" and headers[-1] == "کارت بازرگانی دارد؟"
    numbered = [r for first, t in source.chunks(4) for r in source.row_numbers(first, t.num_rows)]
    assert numbered == SHEET_ROWS
    assert source.blank_rows == [10]  # counted, neither read nor rejected
    assert source.bad_rows == []


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.suffix)
def test_forcing_the_header_row_reads_the_same_rows(path):
    forced = open_source(path, CONTRACT, header_row=HEADER_ROW)
    found = open_source(path, CONTRACT)
    assert (forced.header_row, forced.headers) == (found.header_row, found.headers)


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.suffix)
def test_real_errors_are_rejected_on_the_rows_a_person_sees(path):
    report, rejects = validate_file(path, CONTRACT)
    assert report.header_row == HEADER_ROW
    assert report.rows_read == len(SHEET_ROWS) == report.rows_valid + report.rows_rejected
    by_row = {int(r.row): r for r in rejects.itertuples()}
    for row, (coop_id, column) in ERRORS.items():
        assert to_ascii_digits(str(by_row[row].coop_id)) == coop_id
        assert by_row[row].error.startswith(f"{column}: ")


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.suffix)
def test_the_totals_row_is_rejected_as_such(path):
    report, rejects = validate_file(path, CONTRACT)
    assert sorted(rejects["row"]) == sorted([*ERRORS, TOTALS])
    assert rejects.set_index("row").loc[TOTALS, "error"] == "totals row"
    assert report.rows_valid == len(COOPERATIVES)


def test_the_english_twin_rejects_the_same_cooperatives():
    report, rejects = validate_file(ENGLISH, CONTRACT)
    assert report.header_row == 1
    assert dict(zip(rejects["row"], rejects["coop_id"], strict=True)) == {
        row: coop_id for row, (coop_id, _) in TWIN_ERRORS.items()
    }
    assert report.rows_read == 10 and report.rows_valid == len(COOPERATIVES)


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.suffix)
def test_a_persian_export_scores_exactly_like_its_english_twin(path, scoring_model, tmp_path):
    twin, twin_scores, _ = _scores(ENGLISH, scoring_model, tmp_path)
    summary, scores, rejects = _scores(path, scoring_model, tmp_path)
    assert summary.rows_read == summary.rows_scored + summary.rows_rejected == len(SHEET_ROWS)
    assert (summary.rows_scored, twin.rows_scored) == (len(COOPERATIVES), len(COOPERATIVES))
    scores["coop_id"] = scores["coop_id"].map(to_ascii_digits)
    assert set(scores["coop_id"]) == set(twin_scores["coop_id"]) == COOPERATIVES
    mine = scores.set_index("coop_id").loc[sorted(COOPERATIVES)]
    theirs = twin_scores.set_index("coop_id").loc[sorted(COOPERATIVES)]
    delta = (mine["export_probability"] - theirs["export_probability"]).abs()
    assert delta.max() == 0.0, delta.to_dict()  # |Δp| = 0, not merely close
    assert mine["readiness_tier"].tolist() == theirs["readiness_tier"].tolist()
    assert sorted(rejects["row"]) == sorted([*ERRORS, TOTALS])


def test_the_cli_says_where_the_header_was_found():
    result = runner.invoke(app, ["validate", str(PERSIAN[0])])
    assert result.exit_code == 0, result.stderr
    assert "header found on row 4" in result.stdout
    english = runner.invoke(app, ["validate", str(ENGLISH)])
    assert english.exit_code == 0 and "header found" not in english.stdout


@pytest.mark.parametrize("path", PERSIAN, ids=lambda p: p.suffix)
def test_header_row_option_forces_the_row(path):
    forced = runner.invoke(app, ["validate", str(path), "--header-row", "۴"])  # Persian digit
    assert forced.exit_code == 0, forced.stderr
    assert "header found on row 4" in forced.stdout
    # Row 2 is the report-date row: its cells name no contract column.
    wrong = runner.invoke(app, ["validate", str(path), "--header-row", "2"])
    assert_one_error_line(wrong, "required but missing")
    blank = runner.invoke(app, ["validate", str(path), "--header-row", "3"])
    assert_one_error_line(blank, "row 3", "blank", "--header-row")


def test_the_fixtures_are_what_make_exports_builds(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_exports", EXPORTS / "make_exports.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    make.write_xlsx(tmp_path / "fa.xlsx")
    make.write_unicode_text(tmp_path / "fa.txt")
    make.write_english(tmp_path / "en.csv")
    assert (tmp_path / "fa.xlsx").read_bytes() == PERSIAN[0].read_bytes()
    assert (tmp_path / "fa.txt").read_bytes() == PERSIAN[1].read_bytes()
    assert (tmp_path / "en.csv").read_bytes() == ENGLISH.read_bytes()
    text = PERSIAN[1].read_bytes()
    assert text.startswith(b"\xff\xfe") and "\t".encode("utf-16-le") in text
