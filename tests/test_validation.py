"""Tests of row-level validation (scoring.validation)."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.contract import load_contract
from scoring.errors import ContractError
from scoring.pipeline import iter_validated, validate_file
from scoring.reading import open_table
from scoring.sample import generate_sample, to_english_table, to_persian_table
from scoring.text import to_ascii_digits
from scoring.validation import REJECT_COLUMNS, ValidationReport, _argsort_stable, _hash_texts
from scoring.writing import write_table

CONTRACT = load_contract()
REQUIRED_HEADER = "coop_id,province,sector,members,installed_capacity,actual_output,revenue"


def _csv(path: Path, rows: list[list[str]], header: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _validate(path: Path, chunk_size: int = 100_000, **kwargs):
    """(report, valid rows, rejects) of a whole file."""
    report = ValidationReport()
    valid, rejects = [], []
    for result in iter_validated(open_table(path), CONTRACT, chunk_size=chunk_size, **kwargs):
        report.add(result)
        valid.append(result.valid)
        rejects.append(result.rejects)
    valid_frame = pd.concat(valid, ignore_index=True) if valid else pd.DataFrame()
    return report, valid_frame, pd.concat(rejects, ignore_index=True)


# --- property: nothing is lost, every reject says why ---------------------------------------

# Per column: cells that are fine, and cells that cannot be read or break a rule with the message
# each must get (typed by hand from the contract). Empty cells are fine in optional columns and
# errors in required ones.
THIS_YEAR = dt.date.today().year
NOT_A_NUMBER, NOT_WHOLE = "is not a number", "is not a whole number"
CELLS: dict[str, dict[str, list]] = {
    "name": {"valid": ["x", "Arman Dairy", "a, b", 'q"uote', "two\nlines", "abc"], "bad": []},
    "province": {"valid": ["tehran", "تهران", "كرمانشاه", "Fars", "atlantis"], "bad": []},
    "sector": {"valid": ["mining", "صنايع غذايي", "Food Processing", "fishing"], "bad": []},
    "established_year": {
        "valid": ["1990", "۱۴۰۰", "2001"],
        "bad": [("abc", NOT_A_NUMBER), ("19x0", NOT_A_NUMBER), ("1990.5", NOT_WHOLE),
                ("1850", "is below the minimum 1900"),
                ("3000", f"is above the maximum {THIS_YEAR}")],
    },
    "members": {
        "valid": ["5", "۱۲", "1,200"],
        "bad": [("abc", NOT_A_NUMBER), ("1,5", NOT_A_NUMBER), ("2.5", NOT_WHOLE),
                ("۲٫۵", NOT_WHOLE), ("0", "is below the minimum 1"),
                ("-3", "is below the minimum 1")],
    },
    "installed_capacity": {
        "valid": ["100", "۱٬۰۰۰٫۵", "0.5"],
        "bad": [("n/a?", NOT_A_NUMBER), ("1,23", NOT_A_NUMBER), ("0", "must be greater than 0"),
                ("-1", "must be greater than 0")],
    },
    "actual_output": {
        "valid": ["0", "50", "۵۰"],
        "bad": [("x", NOT_A_NUMBER), ("-1", "is below the minimum 0"),
                ("-0.5", "is below the minimum 0")],
    },
    "revenue": {
        "valid": ["0", "1e3", "12.5"],
        "bad": [("abc", NOT_A_NUMBER), ("-5", "is below the minimum 0")],
    },
    "iso9001": {
        "valid": ["yes", "خیر", "1", "ندارد"],
        "bad": [("maybe", "is not yes/no"), ("2", "is not yes/no"), ("-1", "is not yes/no")],
    },
    "defect_rate": {
        "valid": ["0.05", "5%", "۴٫۵٪", "1"],
        "bad": [("%", NOT_A_NUMBER), ("abc", NOT_A_NUMBER), ("150%", "is above the maximum 1"),
                ("1.5", "is above the maximum 1"), ("-0.1", "is below the minimum 0")],
    },
    "export_markets": {
        "valid": ["0", "3"],
        "bad": [("many", NOT_A_NUMBER), ("-1", "is below the minimum 0"), ("1.5", NOT_WHOLE)],
    },
}  # fmt: skip
COLUMNS = ["coop_id", *CELLS]
RAGGED = "(ragged)"
# A small pool so that ids repeat; '۱۲' and '12', 'كد1' and 'کد۱', ' C1 ' and 'C1' are one id.
ID_POOL = ["C1", " C1 ", "C2", "۱۲", "12", "كد1", "کد۱", "", "  "]


def _id_key(cell: str) -> str:
    return to_ascii_digits(cell.strip()).replace("ي", "ی").replace("ك", "ک")


@st.composite
def dirty_rows(draw) -> tuple[list[list[str]], list[dict[str, str]]]:
    """Rows of cells and, for each row, {column: the message its cell must get}."""
    n = draw(st.integers(1, 25))
    rows, problems = [], []
    for i in range(n):
        row, problem = [], {}
        coop_id = draw(st.one_of(st.sampled_from(ID_POOL), st.just(f"U{i}")))
        row.append(coop_id)
        for column, cells in CELLS.items():
            kinds = ["valid", "valid", "valid", "empty"] + (["bad", "bad"] if cells["bad"] else [])
            kind = draw(st.sampled_from(kinds))
            if kind == "valid":
                cell = draw(st.sampled_from(cells["valid"]))
            elif kind == "bad":
                cell, message = draw(st.sampled_from(cells["bad"]))
                problem[column] = f"{column}: '{cell}' {message}"
            else:
                cell = ""
                if CONTRACT.column(column).required:
                    problem[column] = f"{column}: is empty but required"
            row.append(cell)
        if draw(st.integers(0, 9)) == 0:  # a ragged row: too few or too many fields
            width = draw(st.sampled_from([2, 3, 5, len(row) + 1]))
            ragged = [*row, "extra"][:width]
            # A line of empty fields only (",") is a blank spreadsheet row, counted as such.
            if any(cell.strip() for cell in ragged):
                row = ragged
                problem = {RAGGED: f"row has {width} fields, the header has {len(COLUMNS)}"}
        rows.append(row)
        problems.append(problem)
    return rows, problems


def _expected_id_problems(rows: list[list[str]]) -> list[str | None]:
    seen: dict[str, int] = {}
    out = []
    for i, row in enumerate(rows):
        key = _id_key(row[0])
        if len(row) != len(COLUMNS):  # the reader skips it: its id is never seen
            out.append(None)
        elif not key:
            out.append("coop_id: is empty but required")
        elif key in seen:
            out.append(f"coop_id: '{key}' repeats row {seen[key]}")
        else:
            seen[key] = i + 2
            out.append(None)
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dirty_rows(), st.data())
def test_dirty_frames_in_any_chunk_size_lose_no_row(case, data):
    rows, problems = case
    n = len(rows)
    chunk_size = data.draw(st.integers(1, n + 1))
    with tempfile.TemporaryDirectory() as folder:
        path = _csv(Path(folder) / "dirty.csv", rows, COLUMNS)
        report, valid, rejects = _validate(path, chunk_size)

    # Nothing dropped, nothing counted twice.
    assert report.rows_read == n
    assert report.rows_valid + report.rows_rejected == n
    assert len(valid) + len(rejects) == n
    assert list(rejects.columns) == REJECT_COLUMNS
    rejected_rows = rejects["row"].tolist()
    assert len(set(rejected_rows)) == len(rejected_rows)
    assert all(2 <= r <= n + 1 for r in rejected_rows)
    assert sorted(rejected_rows + valid["row"].tolist()) == list(range(2, n + 2))
    assert all(isinstance(e, str) and e for e in rejects["error"])
    assert valid["coop_id"].notna().all()
    assert valid["coop_id"].is_unique

    # Exactly the rows that should be rejected are, each with every one of its problems.
    id_problems = _expected_id_problems(rows)
    expected_bad = {i + 2 for i in range(n) if problems[i] or id_problems[i] is not None}
    assert set(rejected_rows) == expected_bad
    errors = dict(zip(rejected_rows, rejects["error"], strict=True))
    reject_ids = dict(zip(rejected_rows, rejects["coop_id"], strict=True))
    for i in sorted(r - 2 for r in expected_bad):
        if RAGGED in problems[i]:
            assert errors[i + 2] == problems[i][RAGGED]
            assert reject_ids[i + 2] == rows[i][0].strip()
            continue
        parts = errors[i + 2].split("; ")
        named = [part.split(":", 1)[0] for part in parts]
        expected_columns = set(problems[i]) | ({"coop_id"} if id_problems[i] else set())
        assert set(named) == expected_columns and len(named) == len(expected_columns)
        for message in problems[i].values():
            assert message in parts
        if id_problems[i]:
            assert id_problems[i] in parts
        assert reject_ids[i + 2] == _id_key(rows[i][0])

    # Valid rows keep their types whatever the chunking (also after a trailing ragged row).
    assert valid["row"].dtype == np.int64
    assert all(valid[c].dtype == np.float64 for c in ["members", "revenue", "iso9001"])
    assert isinstance(valid["sector"].dtype, pd.CategoricalDtype)

    # Unknown categories are counted on every row that has them, valid or not.
    full = [row for row in rows if len(row) == len(COLUMNS)]
    atlantis = sum(row[COLUMNS.index("province")] == "atlantis" for row in full)
    assert report.unknown_categories.get("province", Counter())["atlantis"] == atlantis
    fishing = sum(row[COLUMNS.index("sector")] == "fishing" for row in full)
    assert report.unknown_categories.get("sector", Counter())["fishing"] == fishing
    if len(valid):
        assert set(valid["province"].dropna()) <= {"tehran", "kermanshah", "fars", "other"}


# --- examples -------------------------------------------------------------------------------


def _file(tmp_path: Path, body: str, header: str = REQUIRED_HEADER) -> Path:
    path = tmp_path / "coops.csv"
    path.write_text(f"{header}\n{body}", encoding="utf-8")
    return path


def test_message_quotes_the_original_cell(tmp_path):
    path = _file(tmp_path, "A,tehran,mining,abc,100,50,10\nB,tehran,mining,۱٫۵,100,50,10\n")
    _, rejects = validate_file(path, CONTRACT)
    assert rejects.to_dict("records") == [
        {"row": 2, "coop_id": "A", "error": "members: 'abc' is not a number"},
        {"row": 3, "coop_id": "B", "error": "members: '۱٫۵' is not a whole number"},
    ]


def test_all_problems_of_a_row_are_joined(tmp_path):
    header = REQUIRED_HEADER + ",iso9001,defect_rate"
    path = _file(tmp_path, "A,,mining,0,abc,-1,,maybe,150%\n", header)
    report, rejects = validate_file(path, CONTRACT)
    assert rejects["error"].tolist() == [
        "province: is empty but required; members: '0' is below the minimum 1; "
        "installed_capacity: 'abc' is not a number; actual_output: '-1' is below the minimum 0; "
        "revenue: is empty but required; iso9001: 'maybe' is not yes/no; "
        "defect_rate: '150%' is above the maximum 1"
    ]
    assert report.problems["members: is below the minimum 1"] == 1
    assert report.problems["revenue: is empty but required"] == 1
    assert sum(report.problems.values()) == 7


def test_empty_required_cell(tmp_path):
    path = _file(tmp_path, "A,tehran,mining,5,100,50,   \n,tehran,mining,5,100,50,1\n")
    _, rejects = validate_file(path, CONTRACT)
    assert rejects["error"].tolist() == [
        "revenue: is empty but required",
        "coop_id: is empty but required",
    ]
    assert rejects["coop_id"].tolist() == ["A", ""]


def test_empty_optional_cell_is_missing_not_an_error(tmp_path):
    header = REQUIRED_HEADER + ",employees,iso9001"
    path = _file(tmp_path, "A,tehran,mining,5,100,50,1,,\n", header)
    report, valid, _ = _validate(path)
    assert report.rows_valid == 1
    assert np.isnan(valid.loc[0, "employees"]) and np.isnan(valid.loc[0, "iso9001"])


def test_duplicate_across_a_chunk_boundary(tmp_path):
    body = "X,tehran,mining,5,100,50,1\nY,tehran,mining,5,100,50,1\n" * 2
    path = _file(tmp_path, body)
    for chunk_size in (1, 2, 3, 100):
        report, rejects = validate_file(path, CONTRACT, chunk_size=chunk_size)
        assert (report.rows_valid, report.rows_rejected) == (2, 2), chunk_size
        assert rejects.to_dict("records") == [
            {"row": 4, "coop_id": "X", "error": "coop_id: 'X' repeats row 2"},
            {"row": 5, "coop_id": "Y", "error": "coop_id: 'Y' repeats row 3"},
        ]
        assert report.problems == Counter({"coop_id: repeats an earlier row": 2})


def test_later_repeats_name_the_first_row(tmp_path):
    body = "X,tehran,mining,5,100,50,1\n" * 4
    for chunk_size in (1, 2, 3, 100):
        _, rejects = validate_file(_file(tmp_path, body), CONTRACT, chunk_size=chunk_size)
        assert rejects["error"].tolist() == ["coop_id: 'X' repeats row 2"] * 3


def test_ids_written_differently_are_one_id(tmp_path):
    body = "۱۲,tehran,mining,5,100,50,1\n 12 ,tehran,mining,5,100,50,1\n"
    _, rejects = validate_file(_file(tmp_path, body), CONTRACT)
    assert rejects["error"].tolist() == ["coop_id: '12' repeats row 2"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(st.sampled_from(list("ab1۱ك ")), min_size=1, max_size=3),
            st.integers(1, 70).map(lambda n: "C" * n),  # both sides of 32 bytes, hashed apart
            st.integers(1, 40).map(lambda n: "ی" * n),  # two bytes a letter
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 8),
)
def test_duplicates_of_ids_of_any_length_name_their_first_row(ids, chunk_size):
    with tempfile.TemporaryDirectory() as folder:
        body = "".join(f"{i},tehran,mining,5,100,50,1\n" for i in ids)
        report, rejects = validate_file(_file(Path(folder), body), CONTRACT, chunk_size=chunk_size)
    first: dict[str, int] = {}
    expected = []
    for row, cell in enumerate(ids, start=2):
        key = _id_key(cell)
        if not key:
            expected.append({"row": row, "coop_id": "", "error": "coop_id: is empty but required"})
        elif key in first:
            quoted = key if len(key) <= 40 else key[:39] + "…"
            error = f"coop_id: '{quoted}' repeats row {first[key]}"
            expected.append({"row": row, "coop_id": key, "error": error})
        else:
            first[key] = row
    assert rejects.to_dict("records") == expected
    assert report.rows_valid == len(first)


def test_id_hashes_are_equal_for_equal_texts_however_stored():
    cells = ["", "a", "C0000001", "C00000010", "x" * 32, "x" * 33, "x" * 80, "ی" * 20, "abcdefgh"]
    plain = _hash_texts(pa.array(cells, pa.string()))
    assert len(set(plain.tolist())) == len(cells)
    assert plain.tolist() == _hash_texts(pa.array(cells, pa.large_string())).tolist()
    assert plain.tolist() == _hash_texts(pa.array(["pad", *cells], pa.string()).slice(1)).tolist()
    many = [f"C{i:07d}" for i in range(200_000)] + [str(i) for i in range(200_000)]
    assert len(np.unique(_hash_texts(pa.array(many)))) == len(many)
    # A cell's hash does not depend on the other cells (say, the longest one in its chunk).
    for i, cell in enumerate(cells):
        assert _hash_texts(pa.array([cell])).tolist() == [plain[i]], cell


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.sampled_from([0, 1, 2**16, 2**64 - 1]), max_size=60))
def test_hashes_sort_stably_like_numpy(values):
    hashes = np.array(values, dtype=np.uint64)
    assert _argsort_stable(hashes).tolist() == np.argsort(hashes, kind="stable").tolist()


def test_unknown_sector_is_not_rejected_but_counted(tmp_path):
    body = "A,tehran,fishing,5,100,50,1\nB,tehran,Fishing,5,100,50,1\nC,tehran,mining,5,100,50,1\n"
    report, valid, rejects = _validate(_file(tmp_path, body))
    assert (report.rows_valid, report.rows_rejected) == (3, 0)
    assert valid["sector"].tolist() == ["other", "other", "mining"]
    assert report.unknown_categories == {"sector": Counter({"fishing": 2})}
    assert len(rejects) == 0


def test_ragged_rows_are_rejected_with_their_row_and_id(tmp_path):
    body = 'A,tehran,mining,5,100,50,1\nB,tehran\n"C",tehran,mining,5,100,50,1\nD,1,2,3,4,5,6,7\n'
    report, valid, rejects = _validate(_file(tmp_path, body), chunk_size=1)
    assert (report.rows_read, report.rows_valid, report.rows_rejected) == (4, 2, 2)
    assert valid["row"].tolist() == [2, 4]
    assert rejects.to_dict("records") == [
        {"row": 3, "coop_id": "B", "error": "row has 2 fields, the header has 7"},
        {"row": 5, "coop_id": "D", "error": "row has 8 fields, the header has 7"},
    ]


def test_a_line_of_empty_fields_is_a_blank_row_and_keeps_the_numbering(tmp_path):
    # Spreadsheets export an empty row as separators only, whatever their count.
    body = "A,tehran,mining,5,100,50,1\n,\n,,,,,,\nB,tehran,mining,5,100,50,1\n"
    report, valid, _ = _validate(_file(tmp_path, body), chunk_size=1)
    assert (report.rows_read, report.rows_valid, report.rows_rejected) == (2, 2, 0)
    assert valid["row"].tolist() == [2, 5]  # rows 3 and 4 are the blank ones


def test_label_is_checked_only_when_labelled(tmp_path):
    header = REQUIRED_HEADER + ",exported_next_year"
    path = _file(tmp_path, "A,tehran,mining,5,100,50,1,\nB,tehran,mining,5,100,50,1,2\n", header)
    report, _ = validate_file(path, CONTRACT)
    assert report.rows_rejected == 0
    report, rejects = validate_file(path, CONTRACT, labelled=True)
    assert rejects["error"].tolist() == [
        "exported_next_year: is empty but required",
        "exported_next_year: '2' is not 0/1",
    ]


def test_missing_required_column_stops_before_any_row(tmp_path):
    path = _file(tmp_path, "A,tehran,mining,5,50,1\n",
                 "coop_id,province,sector,members,actual_output,revenue")  # fmt: skip
    with pytest.raises(ContractError, match="'installed_capacity'"):
        validate_file(path, CONTRACT)


def test_valid_rows_are_typed(tmp_path):
    header = REQUIRED_HEADER + ",defect_rate,established_year"
    path = _file(tmp_path, "A,تهران,صنايع غذايي,۱۲,۱٬۰۰۰,۵۰۰٫۵,۱۲,۴٫۵٪,۱۴۰۰\n", header)
    _, valid, _ = _validate(path)
    record = valid.iloc[0]
    assert record["row"] == 2
    assert (record["province"], record["sector"]) == ("tehran", "food_processing")
    assert (record["members"], record["installed_capacity"]) == (12.0, 1000.0)
    assert record["actual_output"] == 500.5
    assert record["defect_rate"] == pytest.approx(0.045)
    assert record["established_year"] == 2021.0


# --- a Persian file and its English twin ----------------------------------------------------


@pytest.fixture(scope="module")
def twin_tables():
    frame, _ = generate_sample(400, 7)
    return frame, to_english_table(frame), to_persian_table(frame)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_persian_and_english_twins_normalise_identically(tmp_path, twin_tables, suffix):
    frame, english, persian = twin_tables
    assert list(persian.columns) != list(english.columns)  # really a Persian file
    assert persian["استان"].str.contains("[آ-ی]", regex=True).all()
    english_path, persian_path = tmp_path / f"en{suffix}", tmp_path / f"fa{suffix}"
    write_table(english, english_path)
    write_table(persian, persian_path)
    en_report, en_valid, _ = _validate(english_path, chunk_size=150, labelled=True)
    fa_report, fa_valid, _ = _validate(persian_path, chunk_size=150, labelled=True)
    assert en_report.rows_read == fa_report.rows_read == len(frame)
    assert en_report.rows_rejected == fa_report.rows_rejected == 0
    pd.testing.assert_frame_equal(fa_valid, en_valid)
    # And both are the generated rows themselves.
    assert fa_valid["coop_id"].tolist() == frame["coop_id"].tolist()
    for column in ["members", "installed_capacity", "revenue", "defect_rate", "established_year",
                   "iso9001", "exported_next_year"]:  # fmt: skip
        np.testing.assert_array_equal(
            fa_valid[column].to_numpy(), frame[column].to_numpy(dtype=float), err_msg=column
        )
    assert fa_valid["sector"].astype(str).tolist() == frame["sector"].tolist()


# --- ids and yes/no from Parquet floats -----------------------------------------------------


def _parquet(path: Path, coop_id: list, iso9001: list) -> Path:
    import pyarrow.parquet as pq

    n = len(coop_id)
    table = pa.table(
        {
            "coop_id": pa.array(coop_id, pa.float64()),
            "province": ["tehran"] * n,
            "sector": ["mining"] * n,
            "members": [5] * n,
            "installed_capacity": [100.0] * n,
            "actual_output": [50.0] * n,
            "revenue": [10.0] * n,
            "iso9001": pa.array(iso9001, pa.float64()),
        }
    )
    pq.write_table(table, path)
    return path


def test_float_ids_from_parquet_are_exact_integers_or_rejected(tmp_path):
    nan, inf = float("nan"), float("inf")
    ids = [12.0, nan, 1e20, 12.5, inf, 7.0, None, 2.0**53, -3.0]
    path = _parquet(tmp_path / "ids.parquet", ids, [1.0] * len(ids))
    report, valid, rejects = _validate(path)
    assert valid["coop_id"].tolist() == ["12", "7", "9007199254740992", "-3"]
    too_large = "is too large to be an exact id (store ids as text)"
    assert rejects[["row", "error"]].values.tolist() == [
        [3, "coop_id: is empty but required"],  # NaN: no id, not the id 'nan'
        [4, f"coop_id: '1e+20' {too_large}"],  # not '-9223372036854775808'
        [5, "coop_id: '12.5' is not a whole number"],
        [6, f"coop_id: 'inf' {too_large}"],
        [8, "coop_id: is empty but required"],
    ]
    assert report.rows_read == report.rows_valid + report.rows_rejected == len(ids)


def test_nan_in_a_parquet_yes_no_column_is_missing(tmp_path):
    nan = float("nan")
    path = _parquet(tmp_path / "yesno.parquet", [1.0, 2.0, 3.0, 4.0], [1.0, nan, 0.0, 0.5])
    _, valid, rejects = _validate(path)
    assert valid["coop_id"].tolist() == ["1", "2", "3"]
    assert valid["iso9001"].tolist()[::2] == [1.0, 0.0] and np.isnan(valid["iso9001"][1])
    assert rejects["error"].tolist() == ["iso9001: '0.5' is not yes/no"]
