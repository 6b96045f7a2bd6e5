"""Tests of atomic table writing (scoring.writing)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scoring.writing as writing
from scoring.errors import InputFileError
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
