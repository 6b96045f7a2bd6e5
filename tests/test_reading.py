"""Tests of reading registry files as raw Arrow chunks (scoring.reading)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import assert_one_error_line
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scoring.reading.csv as reading_csv
from scoring.cli import app
from scoring.contract import load_contract
from scoring.errors import InputFileError
from scoring.pipeline import validate_file
from scoring.reading import BadRow, TableSource, open_table
from scoring.sample import generate_sample, to_english_table

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
    monkeypatch.setattr(reading_csv, "_BLOCK_BYTES", 48)  # many small blocks
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
    monkeypatch.setattr(reading_csv, "_BLOCK_BYTES", 64)  # many blocks, so the reader is ahead
    text = HEADER + "\n" + "".join(f"{i},n,{i}\n" for i in range(2000))
    source = open_table(_csv(tmp_path, text))
    chunks = source.chunks(10)
    first_row, table = next(chunks)
    assert (first_row, table.num_rows) == (2, 10)
    assert _reader_threads()
    chunks.close()
    assert not _reader_threads()


def test_a_bad_byte_far_into_the_file_rejects_its_row_only(tmp_path, monkeypatch):
    # Issue 11: one line that is not UTF-8, past the sniffed 64 KiB, used to stop the file.
    monkeypatch.setattr(reading_csv, "_BLOCK_BYTES", 4096)
    good = "".join(f"{i},n,{i}\n" for i in range(8000)).encode()  # beyond what is sniffed
    path = tmp_path / "coops.csv"
    path.write_bytes(HEADER.encode() + b"\n" + good + b"9,\xff\xfe,9\n" + good)
    source = open_table(path)
    assert source.encoding == "utf-8"
    numbered = _numbered(source, 1000)
    assert len(numbered) == 16_000
    # The header is row 1, the first block of good rows rows 2..8001, the bad line row 8002.
    assert numbered[7999] == (8001, "7999") and numbered[8000] == (8003, "0")
    assert [(b.row, b.error) for b in source.bad_rows] == [
        (8002, "column 'name' is not valid utf-8 text")
    ]
    assert source.bad_rows[0].text.startswith("9,")
    assert not _reader_threads()


def test_chunks_are_one_contiguous_array_per_column(tmp_path, monkeypatch):
    monkeypatch.setattr(reading_csv, "_BLOCK_BYTES", 64)
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


# --- the header row ---------------------------------------------------------------------------


def _score(cells) -> tuple[bool, int]:
    """A stand-in for the contract's header score: all three of coop_id, name, members."""
    found = {"coop_id", "name", "members"} & {str(c).strip() for c in cells}
    return len(found) == 3, len(found)


def test_title_rows_above_the_header_are_skipped_and_keep_their_numbers(tmp_path):
    text = (
        "Production cooperatives,,\n"  # row 1: a title (Excel writes the table's width)
        "report date: 1403/09/10\n"  # row 2
        ",,\n"  # row 3: blank
        "coop_id,name,members\n"  # row 4
        "1,a,5\n"  # row 5
        "\n"  # row 6: blank
        "2,b,6\n"  # row 7
    )
    source = open_table(_csv(tmp_path, text), header_score=_score)
    assert (source.header_row, source.headers, source.delimiter) == (4, HEADER.split(","), ",")
    assert _numbered(source, 10) == [(5, "1"), (7, "2")]
    assert (source.blank_rows, source.bad_rows) == ([6], [])


def test_without_a_score_the_first_row_with_cells_is_the_header(tmp_path):
    source = open_table(_csv(tmp_path, "\n\r\n" + HEADER + "\n1,a,5\n"))
    assert source.header_row == 3
    assert _numbered(source, 10) == [(4, "1")]


def test_the_row_naming_most_columns_wins_when_none_names_all(tmp_path):
    text = "title,,\nid,name,members\n1,a,5\n"  # 'id' is not one of the three
    source = open_table(_csv(tmp_path, text), header_score=_score)
    assert (source.header_row, source.headers) == (2, ["id", "name", "members"])


def test_a_quoted_title_over_two_lines_is_one_row(tmp_path):
    text = '"Cooperatives\nof Fars",,\ncoop_id,name,members\n1,a,5\n'
    source = open_table(_csv(tmp_path, text), header_score=_score)
    assert source.header_row == 2
    assert _numbered(source, 10) == [(3, "1")]


def test_the_header_is_looked_for_in_the_first_20_rows_unless_forced(tmp_path):
    text = "".join(f"note {i}\n" for i in range(25)) + HEADER + "\n1,a,5\n"
    path = _csv(tmp_path, text)
    assert "one column: 'note 0'" in _error(path, header_score=_score)  # row 1 taken
    forced = open_table(path, header_row=26)
    assert (forced.headers, _numbered(forced, 5)) == (HEADER.split(","), [(27, "1")])


def test_a_forced_header_row_that_is_blank_or_missing_is_refused(tmp_path):
    path = _csv(tmp_path, "title\n\n" + HEADER + "\n1,a,5\n")
    assert open_table(path, header_row=3).headers == HEADER.split(",")
    with pytest.raises(InputFileError, match=r"row 2 of .* is blank") as blank:
        open_table(path, header_row=2)
    assert blank.value.parameter == "header_row"
    with pytest.raises(InputFileError, match="no row 9") as missing:
        open_table(path, header_row=9)
    assert missing.value.parameter == "header_row"


def test_a_header_row_is_refused_on_parquet(tmp_path):
    path = tmp_path / "coops.parquet"
    pd.DataFrame({"coop_id": ["a"], "members": [1]}).to_parquet(path)
    assert open_table(path, header_row=1).header_row == 1
    assert "Parquet" in _error(path, header_row=3)


# --- blank rows and spreadsheet row numbers -------------------------------------------------


def test_blank_lines_and_rows_of_empty_cells_are_counted_not_read(tmp_path):
    text = f"{HEADER}\n1,a,5\n\n,,\n2,b,6\n   \n3,c,7\n"
    source = open_table(_csv(tmp_path, text))
    assert _numbered(source, 2) == [(2, "1"), (5, "2"), (7, "3")]
    assert (source.blank_rows, source.bad_rows) == ([3, 4, 6], [])


KINDS = {
    "data": "{i},n{i},{i}",
    "quoted": '{i},"a, b",{i}',
    "lines": '{i},"two\nlines",{i}',
    "ragged": "{i},r{i}",
    "blank": "",
    "empty": ",,",
    "spaces": "  ",
}


@settings(max_examples=60, deadline=None)
@given(
    titles=st.lists(st.sampled_from(["Report,,", "date: 1403/01/01", ""]), max_size=4),
    kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=40),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    block=st.sampled_from([48, 100, 1 << 19]),
)
def test_every_row_keeps_the_number_a_spreadsheet_shows(titles, kinds, newline, block):
    kinds = [*kinds, "data"]  # at least one row to read
    lines = [*titles, HEADER] + [KINDS[k].format(i=i) for i, k in enumerate(kinds)]
    header_row = len(titles) + 1
    # By hand: the row of record j (from 0) below the header is header_row + 1 + j.
    rows = {k: [header_row + 1 + j for j, kind in enumerate(kinds) if kind == k] for k in KINDS}
    read = sorted(rows["data"] + rows["quoted"] + rows["lines"])
    ids = [str(j) for j, kind in enumerate(kinds) if kind in ("data", "quoted", "lines")]
    blank = sorted(rows["blank"] + rows["empty"] + rows["spaces"])
    old = reading_csv._BLOCK_BYTES
    reading_csv._BLOCK_BYTES = block  # small blocks: rows straddle them and are read again
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "coops.csv"
            text = ("\n".join(lines) + "\n").replace("\n", newline)  # cells' too
            path.write_text(text, encoding="utf-8", newline="")
            source = open_table(path, header_score=_score)
            assert source.header_row == header_row
            for chunk_size in (1, 7):
                assert _numbered(source, chunk_size) == list(zip(read, ids, strict=True))
                assert [b.row for b in source.bad_rows] == rows["ragged"]
                assert source.blank_rows == blank
    finally:
        reading_csv._BLOCK_BYTES = old


def test_excel_title_rows_a_table_off_a1_and_blank_rows_keep_sheet_rows(tmp_path):
    path = tmp_path / "report.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as excel:
        sheet = excel.book.add_worksheet("report")
        sheet.merge_range(1, 2, 1, 4, "Production cooperatives")  # C2:E2, row 1 empty
        sheet.write(2, 2, "report date: 1403/09/10")  # row 3
        sheet.write_row(4, 2, ["coop_id", "name", "members"])  # row 5, from column C
        sheet.write_row(5, 2, ["1", "a", 5])  # row 6
        sheet.write_row(7, 2, ["2", "b", 6])  # row 8, after a blank row 7
        sheet.write_row(9, 2, ["3", "c", 7])  # row 10
    source = open_table(path, header_score=_score)
    assert (source.header_row, source.headers) == (5, HEADER.split(","))
    assert _numbered(source, 2) == [(6, "1"), (8, "2"), (10, "3")]
    assert source.blank_rows == [7, 9]
    assert open_table(path, header_row=5).headers == HEADER.split(",")
    assert "row 4 of sheet 'report'" in _error(path, header_row=4)
    assert "row 1 of sheet 'report'" in _error(path, header_row=1)  # above the used area
    assert "no row 11" in _error(path, header_row=11)


def test_excel_date_cells_read_as_iso_dates(tmp_path):
    path = tmp_path / "dates.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as excel:
        sheet = excel.book.add_worksheet("data")
        day = excel.book.add_format({"num_format": "yyyy/mm/dd"})
        sheet.write_row(0, 0, ["coop_id", "founded"])
        sheet.write("A2", "1")
        sheet.write_datetime("B2", dt.datetime(2019, 6, 5), day)
    assert _rows(open_table(path)) == [{"coop_id": "1", "founded": "2019-06-05"}]


# --- text encodings and delimiters ----------------------------------------------------------


def test_excel_unicode_text_is_read(tmp_path):
    # Excel's "Unicode text": UTF-16LE with a byte-order mark, tab separated, CRLF, .txt.
    text = "coop_id\tname\tmembers\r\n1\tتعاونی, گلبهار\t۵\r\n\t\t\r\n2\tb\t6\r\n"
    path = tmp_path / "coops.txt"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    source = open_table(path)
    assert (source.encoding, source.delimiter, source.headers) == (
        "utf-16-le", "\t", HEADER.split(",")
    )  # fmt: skip
    assert _numbered(source, 10) == [(2, "1"), (4, "2")]
    assert _rows(source)[0] == {"coop_id": "1", "name": "تعاونی, گلبهار", "members": "۵"}


@pytest.mark.parametrize(
    ("name", "data", "encoding", "expected"),
    [
        ("be.csv", b"\xfe\xff" + f"{HEADER}\n1,سلام,5\n".encode("utf-16-be"), None, "utf-16-be"),
        ("le.tsv", "coop_id\tname\tmembers\n1\tسلام\t5\n".encode("utf-16-le"), None, "utf-16-le"),
        ("le.csv", f"{HEADER}\n1,سلام,5\n".encode("utf-16-le"), "utf-16", "utf-16-le"),
        ("mark.csv", b"\xff\xfe" + f"{HEADER}\n1,سلام,5\n".encode("utf-16-le"), "utf-16",
         "utf-16-le"),
        ("sig.txt", b"\xef\xbb\xbf" + f"{HEADER}\n1,سلام,5\n".encode(), "utf-8", "utf-8"),
    ],
)  # fmt: skip
def test_utf16_files_and_a_named_encoding_before_any_binary_check(
    tmp_path, name, data, encoding, expected
):
    path = tmp_path / name
    path.write_bytes(data)
    source = open_table(path, encoding=encoding)
    assert source.encoding == expected
    assert _rows(source) == [{"coop_id": "1", "name": "سلام", "members": "5"}]


def test_a_utf8_file_with_three_cp1256_lines_rejects_those_lines(tmp_path):
    lines = ["شناسه تعاونی,نام,تعداد اعضا"] + [f"{i},تعاونی {i},{i}" for i in range(1, 31)]
    raw = [line.encode() for line in lines]
    for i in (2, 4, 6):  # sheet rows 3, 5, 7: an old program wrote them in Windows-1256
        raw[i] = f"{i},تعاوني كرمان,{i}".encode("cp1256")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(raw) + b"\n")
    source = open_table(path)
    assert source.encoding == "utf-8"
    assert source.headers == ["شناسه تعاونی", "نام", "تعداد اعضا"]
    table = source.read_all()
    assert table.num_rows == 27
    assert [(b.row, b.error) for b in source.bad_rows] == [
        (r, "column 'نام' is not valid utf-8 text") for r in (3, 5, 7)
    ]


def test_a_header_that_does_not_decode_names_the_encodings_tried(tmp_path):
    lines = [f"{i},تعاونی {i},{i}".encode() for i in range(1, 30)]
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(["شناسه تعاوني,نام,اعضا".encode("cp1256"), *lines]) + b"\n")
    message = _error(path)
    assert "header row (row 1)" in message and "utf-8" in message and "windows-1256" in message
    named = _error(path, encoding="utf-8")
    assert "not valid utf-8 text (encodings tried: utf-8, as asked)" in named


# --- one bad item never refuses the whole file (issue 11) -----------------------------------


def test_a_nul_byte_in_the_first_64_kib_rejects_its_row_only(tmp_path):
    body = "".join(f"{i},n{i},{i}\n" for i in range(1, 201)).replace("50,n50", "50,n\x0050")
    source = open_table(_csv(tmp_path, HEADER + "\n" + body))
    assert source.read_all().num_rows == 199
    assert [(b.row, b.error) for b in source.bad_rows] == [
        (51, "column 'name' holds a NUL byte (binary data, not text)")
    ]
    assert source.bad_rows[0].text.startswith("50,n")


def test_a_ragged_line_that_is_not_utf8_past_64_kib_is_one_bad_row(tmp_path, capfd):
    good = "".join(f"{i},name number {i},{i}\n" for i in range(4000)).encode()
    path = tmp_path / "coops.csv"
    path.write_bytes(HEADER.encode() + b"\n" + good + b"9999,\xff\n" + good)
    source = open_table(path)
    assert source.read_all().num_rows == 8000
    assert [(b.row, b.error) for b in source.bad_rows] == [
        (4002, "row has 2 fields, the header has 3")
    ]
    assert "Exception ignored" not in capfd.readouterr().err  # Arrow's handler did not fail


def test_a_cell_of_one_mebibyte_is_read(tmp_path):
    cell = "x" * (1 << 20)  # wider than a read block: the file is read again with larger ones
    source = open_table(_csv(tmp_path, f"{HEADER}\n1,a,1\n2,{cell},2\n3,c,3\n"))
    table = source.read_all()
    assert table.column("coop_id").to_pylist() == ["1", "2", "3"]
    assert table.column("name")[1].as_py() == cell
    assert _numbered(source, 2) == [(2, "1"), (3, "2"), (4, "3")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize(
    ("opened", "where"), [('5,"n5,5', ""), ('5,n5,"5', " in column 'members'")]
)
def test_an_unclosed_quote_refuses_the_file_naming_its_row(tmp_path, opened, where, newline):
    # Issue 11: 12 records with a quote opened on row 5 were read as 4 rows, exit 0.
    records = [f"{i},n{i},{i}" for i in range(1, 13)]
    records[3] = opened.replace("5", "4")  # the fourth record is row 5 (the header is row 1)
    path = _csv(tmp_path, newline.join([HEADER, *records]) + newline)
    message = _error(path)
    assert message.startswith('row 5 of coops.csv opens a quote (")') and where in message
    assert "rows 6 to 13" in message


def test_an_unclosed_quote_is_one_error_line_from_the_cli(tmp_path):
    frame, _ = generate_sample(12, seed=4, labelled=False)
    lines = to_english_table(frame).to_csv(index=False).splitlines()
    lines[4] = lines[4].replace(",", ',"', 1)  # row 5: a quote opens the second cell
    path = _csv(tmp_path, "\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert_one_error_line(result, "row 5 of coops.csv opens a quote", "rows 6 to 13")


def test_a_quote_closed_rows_later_is_refused_too(tmp_path):
    records = [f"{i},n{i},{i}" for i in range(1, 13)]
    records[3], records[8] = '4,"n4,4', '9,n9",9'  # opened on row 5, closed on row 10
    message = _error(_csv(tmp_path, HEADER + "\n" + "\n".join(records) + "\n"))
    assert message.startswith("row 5 of coops.csv") and "rows 6 to 10" in message


# --- Parquet types (issue 11) -----------------------------------------------------------------


def _parquet(tmp_path: Path, **columns: pa.Array) -> Path:
    frame, _ = generate_sample(4, seed=2, labelled=False)
    table = pa.Table.from_pandas(to_english_table(frame), preserve_index=False)
    for name, values in columns.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    path = tmp_path / "coops.parquet"
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pa.array([[1], [2], [3], [4]]), "list<element: int64>"),
        (pa.array([{"v": 1}] * 4), "struct<v: int64>"),
        (pa.array([b"1", b"2", b"3", b"4"], pa.binary()), "binary"),
    ],
)
def test_a_parquet_contract_column_of_nested_or_binary_type_is_refused(tmp_path, values, kind):
    path = _parquet(tmp_path, members=values)
    with pytest.raises(InputFileError) as caught:
        validate_file(path, load_contract())
    assert str(caught.value) == (
        f"column 'members' of coops.parquet holds Parquet values of type {kind}; it must hold "
        "text or numbers (write it as a plain column)"
    )


def test_parquet_integers_beyond_2_53_in_number_columns_reject_their_rows(tmp_path):
    big = 2**53 + 1  # 9007199254740993: a float64 would silently make it ...992
    path = _parquet(tmp_path, revenue=pa.array([1000, big, 2**53, -big], pa.int64()))
    report, rejects = validate_file(path, load_contract())
    assert report.rows_read == 4 == report.rows_valid + report.rows_rejected
    beyond = rejects[rejects["error"].str.contains("beyond 2^53", regex=False)]
    assert beyond["row"].tolist() == [3, 5]
    assert beyond["error"].iloc[0] == (
        "column 'revenue' holds 9007199254740993, beyond 2^53: too large to hold exactly as a "
        "number"
    )


def test_a_quote_left_open_past_the_csv_field_limit_is_still_refused(tmp_path):
    """Python's csv refuses fields over 128 KiB; a runaway that long once lost every row after
    it (20,000 rows in, rows_read 15,000, exit 0)."""
    header = "coop_id,province,sector,members,installed_capacity,actual_output,revenue"
    lines = [header] + [f"C{i},tehran,industrial,5,100,50,1000" for i in range(20_000)]
    lines[15_001] = '"' + lines[15_001]  # spreadsheet row 15,002 opens a quote
    path = _csv(tmp_path, "\n".join(lines) + "\n")
    assert len(path.read_bytes()) - path.read_bytes().index(b'"') > 131_072
    with pytest.raises(InputFileError, match=r"row 15002 of coops\.csv opens a quote"):
        validate_file(path, load_contract())
