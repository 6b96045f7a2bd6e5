"""Tests of atomic table writing (scoring.writing)."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet
import pytest

import scoring.writing as writing
from scoring.errors import InputFileError, OutputFileError
from scoring.reading import open_table
from scoring.writing import TableWriter, check_output_path, write_json, write_table

FRAME = pd.DataFrame(
    {
        "row": [2, 3, 5],
        "coop_id": ["C1", "۱۲", "کد"],
        "error": ["members: 'abc' is not a number; x", 'quote " and, comma', "two\nlines"],
        "probability": [0.125, np.nan, 1.0],
    }
)


def _leftovers(folder: Path) -> list[str]:
    """Temporary files an atomic writer might have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _read_back(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".xlsx":
        return pd.read_excel(path, sheet_name="data", engine="calamine")
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx", ".parquet"])
def test_write_table_round_trips(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    write_table(FRAME, path)
    back = _read_back(path)
    assert back.columns.tolist() == FRAME.columns.tolist()
    assert back["row"].tolist() == [2, 3, 5]
    assert back["coop_id"].tolist() == ["C1", "۱۲", "کد"]
    assert back["error"].tolist() == FRAME["error"].tolist()
    np.testing.assert_array_equal(back["probability"].to_numpy(float), [0.125, np.nan, 1.0])
    assert _leftovers(tmp_path) == []
    # The package's own reader reads it too.
    assert open_table(path).read_all().num_rows == 3


def test_excel_sheet_name(tmp_path):
    path = tmp_path / "out.xlsx"
    write_table(FRAME, path, sheet="rejects")
    assert pd.read_excel(path, sheet_name="rejects", engine="calamine")["row"].tolist() == [2, 3, 5]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_streamed_chunks_make_one_table(tmp_path, suffix):
    path = tmp_path / f"stream{suffix}"
    with TableWriter(path, columns=["coop_id", "score"]) as writer:
        writer.write(pd.DataFrame({"coop_id": ["a", "b"], "score": [1.5, 2.5]}))
        writer.write(pd.DataFrame({"coop_id": ["c"], "score": [3.5]}))
        writer.write(pd.DataFrame({"coop_id": ["d"], "score": [4]}))  # int: cast to the float
    assert writer.rows == 4
    back = _read_back(path)
    assert back["coop_id"].tolist() == ["a", "b", "c", "d"]
    assert back["score"].tolist() == [1.5, 2.5, 3.5, 4.0]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
@pytest.mark.parametrize(
    "first",
    [
        pd.DataFrame({"coop_id": pd.Series([], dtype=object), "name": pd.Series([], dtype=object)}),
        pd.DataFrame({"coop_id": ["a"], "name": np.array([None], dtype=object)}),
    ],
    ids=["no rows", "all missing"],
)
def test_a_first_frame_without_values_does_not_fix_the_column_types(tmp_path, suffix, first):
    path = tmp_path / f"stream{suffix}"
    with TableWriter(path, columns=["coop_id", "name"]) as writer:
        writer.write(first)  # Arrow types its untyped columns as null
        writer.write(pd.DataFrame({"coop_id": ["b"], "name": pd.array(["Arman"], dtype="str")}))
    back = _read_back(path)
    assert back["coop_id"].tolist() == [*first["coop_id"], "b"]
    assert back["name"].tolist()[-1] == "Arman"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_no_rows_still_writes_the_header(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    with TableWriter(path, columns=["row", "coop_id", "error"]):
        pass
    assert path.exists()
    assert _read_back(path).columns.tolist() == ["row", "coop_id", "error"]
    assert len(_read_back(path)) == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_failure_inside_the_block_leaves_no_file(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with pytest.raises(RuntimeError, match="boom"), TableWriter(path) as writer:
        writer.write(FRAME)
        raise RuntimeError("boom")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_failure_leaves_an_existing_target_untouched(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    path.write_bytes(b"the previous result")
    with pytest.raises(KeyboardInterrupt), TableWriter(path) as writer:
        writer.write(FRAME)
        raise KeyboardInterrupt
    assert path.read_bytes() == b"the previous result"
    assert _leftovers(tmp_path) == []


def test_success_replaces_an_existing_target(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    write_table(FRAME, path)
    assert _read_back(path)["coop_id"].tolist() == ["C1", "۱۲", "کد"]


def test_excel_over_its_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "EXCEL_MAX_ROWS", 5)
    path = tmp_path / "big.xlsx"
    with pytest.raises(InputFileError) as caught, TableWriter(path) as writer:
        writer.write(FRAME)  # 3 rows
        writer.write(FRAME)  # 6 rows: too many
    message = str(caught.value)
    assert "more than 5 rows" in message and ".csv or .parquet" in message
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
    # At the limit it is fine.
    write_table(pd.concat([FRAME, FRAME.iloc[:2]]), path)
    assert len(_read_back(path)) == 5


def test_csv_is_not_limited_like_excel(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "EXCEL_MAX_ROWS", 2)
    write_table(FRAME, tmp_path / "big.csv")
    assert len(_read_back(tmp_path / "big.csv")) == 3


@pytest.mark.parametrize("name", ["out.json.gz", "out.docx", "out", "out.xls"])
def test_unknown_suffix(tmp_path, name):
    with pytest.raises(InputFileError, match=r"use \.csv, \.xlsx or \.parquet"):
        write_table(FRAME, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_folder_that_does_not_exist(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        write_table(FRAME, tmp_path / "missing" / "out.csv")
    assert not (tmp_path / "missing").exists()


def test_folder_that_is_a_file(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputFileError, match="does not exist"):
        write_table(FRAME, tmp_path / "plain" / "out.csv")


def test_target_that_is_a_folder(tmp_path):
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(InputFileError, match="it is a folder"):
        write_table(FRAME, tmp_path / "out.csv")


def test_unwritable_folder(tmp_path, monkeypatch):
    # As root every folder is writable, so ask os.access what a normal user would hear.
    monkeypatch.setattr(writing.os, "access", lambda path, mode: False)
    with pytest.raises(InputFileError, match="is not writable"):
        write_table(FRAME, tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_check_output_path_accepts_reports_and_summaries(tmp_path):
    for name in ["a.csv", "a.tsv", "a.xlsx", "a.parquet", "a.json", "a.html", "A.CSV"]:
        assert check_output_path(tmp_path / name) == tmp_path / name


def test_write_json_is_atomic_and_handles_numpy(tmp_path):
    path = tmp_path / "summary.json"
    write_json({"rows": np.int64(3), "share": np.float64(0.5), "ids": np.array([1, 2]),
                "path": Path("x"), "fa": "تهران"}, path)  # fmt: skip
    assert json.loads(path.read_text("utf-8")) == {
        "rows": 3,
        "share": 0.5,
        "ids": [1, 2],
        "path": "x",
        "fa": "تهران",
    }
    assert "تهران" in path.read_text("utf-8")  # not \\u escapes
    with pytest.raises(TypeError):
        write_json({"bad": object()}, path)
    assert json.loads(path.read_text("utf-8"))["rows"] == 3  # the old file survived
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".json"])
@pytest.mark.parametrize(
    ("umask", "mode"),
    [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)],
    ids=["umask 022", "umask 027", "umask 077"],
)
def test_outputs_get_the_permissions_of_any_new_file(tmp_path, suffix, umask, mode):
    path = tmp_path / f"out{suffix}"
    path.write_text("an older output")
    path.chmod(0o600)
    previous = os.umask(umask)
    try:
        if suffix == ".json":
            write_json({"rows": 3}, path)
        else:
            write_table(FRAME, path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode  # 0o666 less the umask, not mkstemp's 0o600
    assert _leftovers(tmp_path) == []


# --- CSV text cells cannot start a formula (OWASP "CSV injection") --------------------------

DANGEROUS = ["=1+1", "+98 21 5555", "-2+3", "@SUM(A1)", "\tx", "\r=2+2"]
HARMLESS = ["a=b", "C-1", "", "-12", " =1"]  # a signed plain number is read as a number


def _csv_rows(path: Path) -> list[list[str]]:
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt"])
def test_csv_text_cells_that_could_start_a_formula_get_a_quote(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    texts = [*DANGEROUS, *HARMLESS, None]
    frame = pd.DataFrame(
        {
            "coop_id": texts,
            "change": [-0.5, -1.25, -3.0, 0.0, 1.0, -2.0, 5.5, 6.0, 7.0, -8.0, 9.0, -10.0],
            "rank": np.arange(-6, 6),
        }
    )
    write_table(frame, path)
    rows = _csv_rows(path)
    assert rows[0] == ["coop_id", "change", "rank"]
    # OWASP: a text cell starting with = + - @ tab or CR gets a leading single quote.
    expected = ["'=1+1", "'+98 21 5555", "'-2+3", "'@SUM(A1)", "'\tx", "'\r=2+2", *HARMLESS, ""]
    assert [row[0] for row in rows[1:]] == expected
    # Numbers are never touched: a negative number stays a negative number.
    assert rows[1][1] == "-0.5"
    assert [float(row[1]) for row in rows[1:]] == frame["change"].tolist()
    assert [int(row[2]) for row in rows[1:]] == list(range(-6, 6))


def test_csv_neutralises_text_arriving_after_an_empty_first_chunk(tmp_path):
    path = tmp_path / "out.csv"
    with TableWriter(path, columns=["coop_id", "note"]) as writer:
        writer.write(pd.DataFrame({"coop_id": ["a"], "note": np.array([None], dtype=object)}))
        writer.write(pd.DataFrame({"coop_id": ["=b"], "note": pd.array(["@c"], dtype="str")}))
    assert _csv_rows(path)[1:] == [["a", ""], ["'=b", "'@c"]]


def test_csv_neutralises_categorical_text_too(tmp_path):
    path = tmp_path / "out.csv"
    tiers = pd.Categorical(["=A", "B", "=A", None])  # Arrow writes it as a dictionary column
    write_table(pd.DataFrame({"tier": tiers, "score": [-1.5, 2.0, 3.0, 4.0]}), path)
    assert _csv_rows(path)[1:] == [["'=A", "-1.5"], ["B", "2"], ["'=A", "3"], ["", "4"]]


def test_csv_header_that_could_start_a_formula_gets_a_quote(tmp_path):
    path = tmp_path / "out.csv"
    write_table(pd.DataFrame({"coop_id": ["a"], "=cmd|' /C calc'!A0": ["x"]}), path)
    assert _csv_rows(path)[0] == ["coop_id", "'=cmd|' /C calc'!A0"]
    empty = tmp_path / "empty.csv"
    with TableWriter(empty, columns=["coop_id", "-note"]):
        pass
    assert _csv_rows(empty) == [["coop_id", "'-note"]]


def test_parquet_keeps_text_exactly(tmp_path):
    path = tmp_path / "out.parquet"
    write_table(pd.DataFrame({"coop_id": DANGEROUS}), path)
    assert pd.read_parquet(path)["coop_id"].tolist() == DANGEROUS  # typed data: no formulas


# --- output extensions ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.json", "out.html", "out.xls", "out.docx", "out"])
def test_a_table_is_only_written_with_a_table_extension(tmp_path, name):
    with pytest.raises(InputFileError) as caught:
        writing.check_output_path(tmp_path / name, writing.TABLE_SUFFIXES)
    message = str(caught.value)
    assert "\n" not in message
    for suffix in (".csv", ".tsv", ".txt", ".xlsx", ".parquet"):
        assert suffix in message
    with pytest.raises(InputFileError):
        write_table(FRAME, tmp_path / name)  # not CSV under another name
    assert list(tmp_path.iterdir()) == []


def test_a_summary_is_only_written_as_json_and_a_report_as_html(tmp_path):
    with pytest.raises(InputFileError, match=r"use \.json"):
        writing.check_output_path(tmp_path / "summary.csv", writing.JSON_SUFFIXES)
    with pytest.raises(InputFileError, match=r"use \.html"):
        writing.check_output_path(tmp_path / "report.xlsx", writing.HTML_SUFFIXES)
    assert writing.check_output_path(tmp_path / "S.JSON", writing.JSON_SUFFIXES)
    assert writing.check_output_path(None) is None  # an option left out


# --- a full disk ----------------------------------------------------------------------------


class _FailingArrowWriter:
    """Stands in for the CSV stream and pyarrow's Parquet writer: writes part of a file, then
    the disk fills."""

    def __init__(self, sink, schema, *args, **kwargs):
        part = b"coop_id,probability\nC1,0.5\n"
        if isinstance(sink, pa.NativeFile):  # the CSV stream's open temporary file
            sink.write(part)
        else:
            Path(sink).write_bytes(part)
        self.when = _FailingArrowWriter.when

    def write_table(self, table):
        if self.when == "write":
            raise OSError(_FailingArrowWriter.errno, os.strerror(_FailingArrowWriter.errno))

    def close(self):
        if self.when == "close":  # buffered bytes are flushed on close: the disk may fill then
            raise OSError(_FailingArrowWriter.errno, os.strerror(_FailingArrowWriter.errno))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
@pytest.mark.parametrize("when", ["write", "close"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_a_full_disk_while_streaming_is_one_line_and_leaves_nothing(
    tmp_path, monkeypatch, code, when, suffix, existing
):
    monkeypatch.setattr(_FailingArrowWriter, "when", when, raising=False)
    monkeypatch.setattr(_FailingArrowWriter, "errno", code, raising=False)
    monkeypatch.setattr(writing, "_CsvStream", _FailingArrowWriter)
    monkeypatch.setattr(pyarrow.parquet, "ParquetWriter", _FailingArrowWriter)  # imported late
    path = tmp_path / f"out{suffix}"
    if existing:
        path.write_bytes(b"the previous result")
    with pytest.raises(OutputFileError) as caught:
        write_table(FRAME, path)
    message = str(caught.value)
    assert "\n" not in message and "out" + suffix in message
    assert "disk is full" in message
    assert _leftovers(tmp_path) == []
    assert path.read_bytes() == b"the previous result" if existing else not path.exists()


@pytest.mark.parametrize("where", ["zipping", "writing the file"])
def test_a_full_disk_while_writing_excel_is_one_line_and_leaves_nothing(
    tmp_path, monkeypatch, where
):
    import xlsxwriter.workbook

    def fill_the_disk(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write_half(self, data):
        with open(self, "wb") as handle:
            handle.write(bytes(data)[: len(data) // 2])
        fill_the_disk()

    parts = tmp_path / "system-temporary"
    parts.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parts))  # where xlsxwriter puts its parts
    if where == "zipping":  # xlsxwriter's parts, in the temporary folder, do not fit
        monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", fill_the_disk)
    else:
        monkeypatch.setattr(writing.Path, "write_bytes", write_half)
    with pytest.raises(OutputFileError, match="disk is full"):
        write_table(FRAME, tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == [parts]
    assert list(parts.iterdir()) == []  # xlsxwriter's parts are gone too


def test_any_other_write_failure_is_one_line_too(tmp_path, monkeypatch):
    monkeypatch.setattr(_FailingArrowWriter, "when", "write", raising=False)
    monkeypatch.setattr(_FailingArrowWriter, "errno", errno.EIO, raising=False)
    monkeypatch.setattr(writing, "_CsvStream", _FailingArrowWriter)
    with pytest.raises(OutputFileError, match=r"cannot write .*out\.csv: Input/output error"):
        write_table(FRAME, tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_is_one_line_and_removes_the_temporary(tmp_path, monkeypatch):
    def refuse(source, target):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(writing.os, "replace", refuse)
    with pytest.raises(OutputFileError, match="Permission denied"):
        write_json({"rows": 1}, tmp_path / "summary.json")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_writing_text_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def fill_the_disk(self, text, encoding=None):
        with open(self, "w", encoding=encoding) as handle:
            handle.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writing.Path, "write_text", fill_the_disk)
    with pytest.raises(OutputFileError, match=r"report\.html: the disk is full"):
        writing.write_text("<html>" + "x" * 1000, tmp_path / "report.html")
    with pytest.raises(OutputFileError, match=r"summary\.json: the disk is full"):
        write_json({"rows": 3}, tmp_path / "summary.json")
    assert list(tmp_path.iterdir()) == []


def test_an_error_of_the_caller_inside_the_block_is_not_called_a_write_error(tmp_path):
    # Reading the input fails inside the writer's block: that is not a failure to write.
    with pytest.raises(FileNotFoundError), TableWriter(tmp_path / "out.csv") as writer:
        writer.write(FRAME)
        open(tmp_path / "missing-input.csv")  # noqa: SIM115
    assert list(tmp_path.iterdir()) == []


# --- temporary files left by a killed run ---------------------------------------------------


def _dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_temporary_file_is_named_after_the_writing_process(tmp_path):
    path = tmp_path / "out.csv"
    with TableWriter(path) as writer:
        writer.write(FRAME)
        names = _leftovers(tmp_path)
    assert len(names) == 1
    assert re.fullmatch(rf"\.out\.csv\.{os.getpid()}\.[0-9a-f]{{8}}\.tmp", names[0])


def test_stale_temporaries_of_the_same_target_are_removed_and_reported(tmp_path):
    path = tmp_path / "out.csv"
    dead = tmp_path / f".out.csv.{_dead_pid()}.0badc0de.tmp"  # its writer was killed
    old = tmp_path / ".out.csv.deadbeef.tmp"  # an older release's name, two hours old
    live = tmp_path / f".out.csv.{os.getpid()}.1234abcd.tmp"  # a writer still at work
    other = tmp_path / f".other.csv.{_dead_pid()}.0badc0de.tmp"  # another target's
    for stale in (dead, old, live, other):
        stale.write_bytes(b"half a file")
    _age(old, 2 * 3600)
    notes = write_table(FRAME, path)
    assert not dead.exists() and not old.exists()
    assert live.exists() and other.exists()
    assert len(notes) == 1 and "\n" not in notes[0]
    assert "2 temporary files" in notes[0] and "out.csv" in notes[0]
    assert _read_back(path)["coop_id"].tolist() == ["C1", "۱۲", "کد"]
    assert write_table(FRAME, path) == []  # nothing left to remove: no note


def test_a_live_writers_temporary_left_for_over_an_hour_is_stale(tmp_path):
    live = tmp_path / f".out.csv.{os.getpid()}.1234abcd.tmp"
    live.write_bytes(b"")
    _age(live, 3601)
    notes = writing.remove_stale_temporaries(tmp_path / "out.csv")
    assert not live.exists() and "1 temporary file " in notes[0]


def test_the_table_writer_keeps_its_notes(tmp_path):
    stale = tmp_path / f".out.xlsx.{_dead_pid()}.0badc0de.tmp"
    stale.write_bytes(b"")
    with TableWriter(tmp_path / "out.xlsx") as writer:
        writer.write(FRAME)
    assert not stale.exists()
    assert len(writer.warnings) == 1 and "out.xlsx" in writer.warnings[0]


# --- Excel's limit of 32,767 characters per cell --------------------------------------------


def test_excel_text_over_its_cell_limit_is_cut_with_an_ellipsis_and_a_warning(tmp_path):
    path = tmp_path / "out.xlsx"
    long_text, emoji = "x" * 40_000, "\U0001f600" * 20_000  # an emoji is 2 UTF-16 units
    frame = pd.DataFrame(
        {
            "coop_id": ["C1", "C2", "C3"],
            "notes": [long_text, "short", long_text + "y"],
            "story": ["", emoji, None],
            "probability": [0.5, np.inf, np.nan],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing reaches stderr raw
        notes = write_table(frame, path)
    back = pd.read_excel(path, sheet_name="data", engine="calamine")
    cut = back["notes"].tolist()
    assert [len(cut[0]), cut[1], len(cut[2])] == [32_767, "short", 32_767]
    assert cut[0] == "x" * 32_766 + "…" and cut[2] == cut[0]
    story = back["story"][1]
    assert len(story.encode("utf-16-le")) // 2 <= 32_767 and story.endswith("…")
    assert story[:-1] == "\U0001f600" * (len(story) - 1)  # no half an emoji
    assert len(notes) == 2 and all("\n" not in note for note in notes)
    assert "'notes'" in notes[0] and "2 rows" in notes[0] and "32,767" in notes[0]
    assert "'story'" in notes[1] and "1 row" in notes[1]
    assert write_table(frame.iloc[[1]].assign(story="ok"), path) == []


def test_csv_text_is_never_cut(tmp_path):
    path = tmp_path / "out.csv"
    assert write_table(pd.DataFrame({"notes": ["x" * 40_000]}), path) == []
    assert len(_csv_rows(path)[1][0]) == 40_000


# --- no two paths of one command are the same file -----------------------------------------


def test_distinct_paths_pass(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("coop_id\nC1\n")
    writing.check_distinct_paths([data, data, None], [tmp_path / "out.csv", None])
    writing.check_distinct_paths({"FILE": data}, {"--out": tmp_path / "out.csv"})


def test_an_output_that_is_an_input_is_refused(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("coop_id\nC1\n")
    (tmp_path / "sub").mkdir()
    same = [data, tmp_path / "sub" / ".." / "data.csv"]
    (tmp_path / "link.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    same += [tmp_path / "link.csv", tmp_path / "hard.csv"]
    for output in same:
        with pytest.raises(OutputFileError) as caught:
            writing.check_distinct_paths({"FILE": data}, {"--out": output})
        message = str(caught.value)
        assert "\n" not in message and "same file" in message
        assert "FILE" in message and "--out" in message and str(output) in message


def test_two_outputs_that_are_one_file_are_refused(tmp_path):
    out = tmp_path / "out.csv"  # neither exists yet
    with pytest.raises(OutputFileError, match=r"--rejects .* same file as --out"):
        writing.check_distinct_paths({}, {"--out": out, "--rejects": tmp_path / "." / "out.csv"})
    with pytest.raises(OutputFileError, match="same file"):
        writing.check_distinct_paths([], [out, out])


def test_check_outputs_checks_sameness_then_kinds_then_cleans(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("coop_id\nC1\n")
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    with pytest.raises(OutputFileError, match="same file"):  # sameness first, then kinds
        writing.check_outputs({"FILE": data}, {"--out": out}, {"--summary": out})
    with pytest.raises(InputFileError, match=r"use \.json"):
        writing.check_outputs({"FILE": data}, {"--out": out}, {"--summary": tmp_path / "s.csv"})
    with pytest.raises(InputFileError, match=r"use \.csv"):
        writing.check_outputs({"FILE": data}, {"--out": tmp_path / "out.json"})
    stale = tmp_path / f".summary.json.{_dead_pid()}.0badc0de.tmp"
    stale.write_bytes(b"")
    notes = writing.check_outputs(
        {"FILE": data}, {"--out": out, "--rejects": None}, {"-s": summary}
    )
    assert not stale.exists() and len(notes) == 1 and "summary.json" in notes[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]  # checks write nothing


# --- kept columns cannot overwrite results --------------------------------------------------


def test_kept_columns_named_like_an_output_column_are_refused():
    outputs = ["coop_id", "export_probability", "readiness_tier", "next_step"]
    writing.check_kept_columns(["name", "province"], outputs)
    with pytest.raises(OutputFileError) as caught:
        writing.check_kept_columns(["name", "readiness_tier", "Next_Step"], outputs)
    message = str(caught.value)
    assert "\n" not in message
    assert "'readiness_tier'" in message and "'Next_Step'" in message
    assert "'name'" not in message
