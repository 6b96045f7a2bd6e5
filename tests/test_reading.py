"""Tests of reading registry files as raw Arrow chunks (scoring.reading)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring.reading as reading
from scoring.errors import InputFileError
from scoring.reading import BadRow, TableSource, open_table

HEADER = "coop_id,name,members"


def _csv(tmp_path: Path, text: str, name: str = "coops.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _rows(source) -> list[dict]:
    return source.read_all().to_pylist()


def _numbered(source, chunk_size: int) -> list[tuple[int, str]]:
    """(spreadsheet row, coop_id) of every parsed row."""
    pairs = []
    for first_row, table in source.chunks(chunk_size):
        rows = source.row_numbers(first_row, table.num_rows)
        pairs += list(zip(rows.tolist(), table.column("coop_id").to_pylist(), strict=True))
    return pairs


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(InputFileError) as caught:
        source = open_table(path, **kwargs)
        source.read_all()
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- CSV ------------------------------------------------------------------------------------


def test_utf8_csv_keeps_cells_as_written(tmp_path):
    path = _csv(tmp_path, "شناسه تعاونی,استان,تعداد اعضا\n۱,تهران,۱۲\n2,, 5 \n")
    source = open_table(path)
    assert (source.kind, source.encoding, source.delimiter) == ("csv", "utf-8", ",")
    assert source.headers == ["شناسه تعاونی", "استان", "تعداد اعضا"]
    assert _rows(source) == [
        {"شناسه تعاونی": "۱", "استان": "تهران", "تعداد اعضا": "۱۲"},
        {"شناسه تعاونی": "2", "استان": None, "تعداد اعضا": " 5 "},
    ]


def test_utf8_csv_with_a_byte_order_mark(tmp_path):
    path = _csv(tmp_path, "\ufeffشناسه تعاونی,استان\n۱,تهران\n")
    source = open_table(path)
    assert source.headers == ["شناسه تعاونی", "استان"]  # no BOM in the first header
    assert _rows(source) == [{"شناسه تعاونی": "۱", "استان": "تهران"}]


def test_windows_1256_csv_is_detected(tmp_path):
    # Windows-1256 has the Arabic letters ي and ك (not Persian ی and ک), as old exports use.
    text = "شناسه تعاوني,استان,بخش\n1,كرمان,صنايع غذايي\n"
    path = _csv(tmp_path, text, encoding="cp1256")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    source = open_table(path)
    assert source.encoding == "cp1256"
    assert source.headers == ["شناسه تعاوني", "استان", "بخش"]
    assert _rows(source) == [{"شناسه تعاوني": "1", "استان": "كرمان", "بخش": "صنايع غذايي"}]


def test_explicit_encoding_and_unknown_encoding(tmp_path):
    path = _csv(tmp_path, "a,b\nكرمان,1\n", encoding="cp1256")
    assert _rows(open_table(path, encoding="cp1256")) == [{"a": "كرمان", "b": "1"}]
    assert "unknown encoding 'klingon'" in _error(path, encoding="klingon")


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters(tmp_path, delimiter):
    text = delimiter.join(["coop_id", "name", "members"]) + "\n"
    text += delimiter.join(["1", "a, b", "5"]) + "\n"
    source = open_table(_csv(tmp_path, text))
    assert source.delimiter == delimiter
    assert source.headers == ["coop_id", "name", "members"]
    assert _rows(source) == [{"coop_id": "1", "name": "a, b", "members": "5"}]


def test_ragged_rows_become_bad_rows_with_spreadsheet_row_numbers(tmp_path):
    text = (
        f"{HEADER}\n"
        '1,"two\nlines",5\n'  # row 2, a quoted cell with a newline in it
        "2,short\n"  # row 3: too few fields
        "3,ok,7\n"  # row 4
        "4,long,8,9\n"  # row 5: too many fields
        "5,ok,1\n"  # row 6
    )
    source = open_table(_csv(tmp_path, text))
    assert _numbered(source, 10) == [(2, "1"), (4, "3"), (6, "5")]
    assert source.bad_rows == [
        BadRow(3, "2,short", "row has 2 fields, the header has 3"),
        BadRow(5, "4,long,8,9", "row has 4 fields, the header has 3"),
    ]
    assert _rows(source)[0]["name"] == "two\nlines"


def test_row_numbers_are_right_across_read_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_BLOCK_BYTES", 48)  # many small blocks
    lines, bad, good = [HEADER], [], []
    for i in range(1, 80):
        row = i + 1  # the header is row 1
        if i % 7 == 0:
            lines.append(f"{i},bad")
            bad.append(row)
        elif i % 5 == 0:
            lines.append(f'{i},"multi\nline, with comma",{i}')
            good.append((row, str(i)))
        else:
            lines.append(f"{i},n{i},{i}")
            good.append((row, str(i)))
    source = open_table(_csv(tmp_path, "\n".join(lines) + "\n"))
    for chunk_size in (1, 3, 10, 1000):
        assert _numbered(source, chunk_size) == good
        assert [b.row for b in source.bad_rows] == bad


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(2, 60), max_size=20), st.integers(2, 40), st.integers(0, 30))
def test_row_numbers_step_over_every_skipped_row(skipped, first_row, n):
    source = TableSource(Path("x.csv"), "csv", ["a"], bad_rows=[BadRow(r, "", "") for r in skipped])
    expected = []  # the rows of the file that were not skipped, from parsed row first_row on
    row = 1
    for _ in range(first_row - 1):
        row += 1
        while row in skipped:
            row += 1
    for _ in range(n):
        expected.append(row)
        row += 1
        while row in skipped:
            row += 1
    assert source.row_numbers(first_row, n).tolist() == expected


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "readiness-csv-reader"]


def test_stopping_early_stops_the_reading_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_BLOCK_BYTES", 64)  # many blocks, so the reader is ahead
    text = HEADER + "\n" + "".join(f"{i},n,{i}\n" for i in range(2000))
    source = open_table(_csv(tmp_path, text))
    chunks = source.chunks(10)
    first_row, table = next(chunks)
    assert (first_row, table.num_rows) == (2, 10)
    assert _reader_threads()
    chunks.close()
    assert not _reader_threads()


def test_a_bad_byte_far_into_the_file_is_a_read_error(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_BLOCK_BYTES", 4096)
    good = "".join(f"{i},n,{i}\n" for i in range(8000)).encode()  # beyond what is sniffed
    path = tmp_path / "coops.csv"
    path.write_bytes(HEADER.encode() + b"\n" + good + b"9,\xff\xfe,9\n" + good)
    source = open_table(path)
    assert source.encoding == "utf-8"
    seen = 0
    with pytest.raises(InputFileError, match=r"cannot read coops\.csv as CSV: .*invalid UTF8"):
        for _, table in source.chunks(1000):
            seen += table.num_rows
    assert 0 < seen <= 8000
    assert not _reader_threads()


def test_chunks_are_one_contiguous_array_per_column(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "_BLOCK_BYTES", 64)
    source = open_table(_csv(tmp_path, HEADER + "\n" + "".join(f"{i},n,{i}\n" for i in range(50))))
    for _, table in source.chunks(7):
        assert all(column.num_chunks == 1 for column in table.columns)
    assert np.array_equal(
        [int(v) for v in source.read_all().column("coop_id").to_pylist()], np.arange(50)
    )


def test_reading_a_source_twice_gives_the_same_rows_and_bad_rows(tmp_path):
    source = open_table(_csv(tmp_path, f"{HEADER}\n1,a,1\n2,b\n3,c,3\n"))
    first = _numbered(source, 1)
    assert first == _numbered(source, 1) == [(2, "1"), (4, "3")]
    assert [b.row for b in source.bad_rows] == [3]


@pytest.mark.parametrize(("rows", "chunk_size"), [(10, 3), (10, 5), (10, 10), (10, 11), (1, 1)])
def test_csv_chunks_split_exactly(tmp_path, rows, chunk_size):
    text = HEADER + "\n" + "".join(f"{i},n,{i}\n" for i in range(rows))
    source = open_table(_csv(tmp_path, text))
    chunks = list(source.chunks(chunk_size))
    sizes = [table.num_rows for _, table in chunks]
    assert sizes == [min(chunk_size, rows - start) for start in range(0, rows, chunk_size)]
    assert [first for first, _ in chunks] == list(range(2, rows + 2, chunk_size))
    ids = [v for _, table in chunks for v in table.column("coop_id").to_pylist()]
    assert ids == [str(i) for i in range(rows)]


def test_chunk_size_must_be_positive(tmp_path):
    source = open_table(_csv(tmp_path, f"{HEADER}\n1,a,1\n"))
    with pytest.raises(InputFileError, match="at least 1"):
        list(source.chunks(0))


def test_repeated_csv_header_is_refused(tmp_path):
    message = _error(_csv(tmp_path, "coop_id,members,coop_id\n1,2,3\n"))
    assert "repeats the header(s) ['coop_id']" in message


# --- Excel ----------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path) -> Path:
    path = tmp_path / "coops.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as excel:
        pd.DataFrame(
            {
                "coop_id": ["a", "b", "c"],
                "members": [5, 6.5, None],
                "iso": [True, False, True],
                "name": ["x", None, "۱۲"],
            }
        ).to_excel(excel, sheet_name="first", index=False)
        pd.DataFrame({"coop_id": ["d"], "members": [7]}).to_excel(
            excel, sheet_name="second", index=False
        )
        excel.book.add_worksheet("blank")
    return path


def test_excel_first_sheet_by_default(workbook):
    source = open_table(workbook)
    assert (source.kind, source.sheet) == ("excel", "first")
    assert source.headers == ["coop_id", "members", "iso", "name"]
    # Cells as a person sees them: whole numbers without '.0', booleans as yes/no.
    assert _rows(source) == [
        {"coop_id": "a", "members": "5", "iso": "yes", "name": "x"},
        {"coop_id": "b", "members": "6.5", "iso": "no", "name": ""},
        {"coop_id": "c", "members": "", "iso": "yes", "name": "۱۲"},
    ]


@pytest.mark.parametrize("sheet", ["second", 1, "1"])
def test_excel_sheet_by_name_or_index(workbook, sheet):
    source = open_table(workbook, sheet=sheet)
    assert source.sheet == "second"
    assert _rows(source) == [{"coop_id": "d", "members": "7"}]


def test_excel_unknown_sheet(workbook):
    message = _error(workbook, sheet="third")
    assert "no sheet 'third'" in message and "first, second, blank" in message
    assert "no sheet 7" in _error(workbook, sheet=7)


def test_excel_empty_sheet(workbook):
    assert "sheet 'blank'" in _error(workbook, sheet="blank")
    assert "is empty" in _error(workbook, sheet="blank")


def test_excel_whose_only_sheet_is_empty(tmp_path):
    path = tmp_path / "empty.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as excel:
        excel.book.add_worksheet("data")
    assert "is empty" in _error(path)


def test_excel_header_only(tmp_path):
    path = tmp_path / "header.xlsx"
    pd.DataFrame({"coop_id": [], "members": []}).to_excel(path, engine="xlsxwriter", index=False)
    assert "0 rows" in _error(path)


def test_excel_chunks(tmp_path):
    path = tmp_path / "many.xlsx"
    pd.DataFrame({"coop_id": [f"c{i}" for i in range(7)], "v": range(7)}).to_excel(
        path, engine="xlsxwriter", index=False
    )
    source = open_table(path)
    chunks = list(source.chunks(3))
    assert [(first, table.num_rows) for first, table in chunks] == [(2, 3), (5, 3), (8, 1)]
    assert _numbered(source, 3) == [(i + 2, f"c{i}") for i in range(7)]


def test_excel_repeated_header_is_refused(tmp_path):
    path = tmp_path / "repeated.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as excel:
        sheet = excel.book.add_worksheet("data")
        sheet.write_row(0, 0, ["coop_id", "members", "coop_id"])
        sheet.write_row(1, 0, ["a", 1, "b"])
    assert "repeats the header(s) ['coop_id']" in _error(path)


# --- Parquet --------------------------------------------------------------------------------


def test_parquet_keeps_types_and_chunks(tmp_path):
    path = tmp_path / "coops.parquet"
    pd.DataFrame({"coop_id": ["a", "b", "c"], "members": [1, 2, 3]}).to_parquet(path)
    source = open_table(path)
    assert source.kind == "parquet"
    assert source.headers == ["coop_id", "members"]
    chunks = list(source.chunks(2))
    assert [(first, table.num_rows) for first, table in chunks] == [(2, 2), (4, 1)]
    assert pa.types.is_integer(chunks[0][1].schema.field("members").type)
    assert _rows(source) == [
        {"coop_id": "a", "members": 1},
        {"coop_id": "b", "members": 2},
        {"coop_id": "c", "members": 3},
    ]


# --- files that cannot be read --------------------------------------------------------------


def test_missing_path(tmp_path):
    assert "does not exist" in _error(tmp_path / "nope.csv")


def test_directory(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert "is a folder" in _error(folder)


@pytest.mark.parametrize("name", ["coops.json", "coops.docx", "coops"])
def test_unknown_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("coop_id,members\n1,2\n")
    message = _error(path)
    assert "cannot read" in message and ".csv, .xlsx or .parquet" in message


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.parquet"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.touch()
    assert "is empty" in _error(path)


@pytest.mark.parametrize("text", [f"{HEADER}\n", HEADER, f"{HEADER}\r\n\r\n", f"{HEADER}\n\n \n"])
def test_header_only_csv(tmp_path, text):
    assert "0 rows" in _error(_csv(tmp_path, text))


def test_header_only_parquet(tmp_path):
    path = tmp_path / "header.parquet"
    pd.DataFrame({"coop_id": pd.Series([], dtype="str")}).to_parquet(path)
    assert "0 rows" in _error(path)


def test_csv_with_nul_bytes(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"coop_id,members\n\x00\x01\x02\xff\xfe" + os.urandom(64))
    assert "binary" in _error(path)


@pytest.mark.parametrize(("name", "what"), [("garbage.xlsx", "spreadsheet"),
                                            ("garbage.parquet", "Parquet")])  # fmt: skip
def test_random_bytes_with_a_table_extension(tmp_path, name, what):
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 4)
    message = _error(path)
    assert message.startswith(f"cannot read {path}") and what in message


def test_csv_that_is_one_column_of_text(tmp_path):
    assert "does not look like a CSV table" in _error(_csv(tmp_path, "just some text\nmore\n"))
