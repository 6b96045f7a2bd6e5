"""Tests of the chunk pipeline's validating thread (``ChunkPipeline.chunks(ahead=...)``): the
same chunks as one thread gives, errors where they occur, at most one chunk computed ahead, and
no thread left running when the caller stops."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_one_error_line
from typer.testing import CliRunner

from scoring.cli import app
from scoring.contract import load_contract
from scoring.errors import InputFileError
from scoring.pipeline import ChunkPipeline, _one_ahead
from scoring.reading import open_table
from scoring.sample import generate_sample, inject_problems, to_english_table

CONTRACT = load_contract()
THREADS = ("readiness-validate-ahead", "readiness-csv-reader")
#: Table rows whose id repeats the row 250 earlier: each repeat is in a later 100-row chunk.
REPEATS = (260, 555, 910)
RAGGED = 400  # a table row written with a field too many (the reader cannot split it)


def _running() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in THREADS]


def _settled() -> list[str]:
    """The pipeline's threads still alive once any that is stopping has stopped."""
    deadline = time.monotonic() + 5
    while _running() and time.monotonic() < deadline:
        time.sleep(0.01)
    return _running()


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory) -> Path:
    """1,000 rows, ~10% with problems, ids repeated across chunks and one ragged row."""
    frame, _ = generate_sample(1000, seed=5, labelled=False)
    table = inject_problems(to_english_table(frame), 0.1, seed=5)
    for row in REPEATS:
        table.loc[row, "coop_id"] = table.loc[row - 250, "coop_id"]
    lines = table.to_csv(index=False).splitlines()
    lines[RAGGED + 1] += ",extra"  # +1: the header line
    path = tmp_path_factory.mktemp("pipeline") / "dirty.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _chunks(path: Path, *, ahead: bool, chunk_size: int = 100) -> list:
    return list(ChunkPipeline(open_table(path), CONTRACT).chunks(chunk_size, ahead=ahead))


def test_the_thread_gives_the_chunks_one_thread_gives(dirty_csv):
    ahead, alone = _chunks(dirty_csv, ahead=True), _chunks(dirty_csv, ahead=False)
    assert len(ahead) == len(alone) == 10
    for mine, theirs in zip(ahead, alone, strict=True):
        pd.testing.assert_frame_equal(mine.valid, theirs.valid)
        pd.testing.assert_frame_equal(mine.rejects, theirs.rejects)
        assert mine.rows_read == theirs.rows_read
    rejects = pd.concat([c.rejects for c in ahead], ignore_index=True)
    by_row = dict(zip(rejects["row"], rejects["error"], strict=True))
    # Spreadsheet row = table row + 2 (the header is row 1).
    for row in REPEATS:
        assert f"repeats row {row - 250 + 2}" in by_row[row + 2]
    width = len(dirty_csv.read_text(encoding="utf-8").splitlines()[0].split(","))
    assert f"row has {width + 1} fields, the header has {width}" in by_row[RAGGED + 2]
    assert sum(c.rows_read for c in ahead) == 1000
    assert _settled() == []


def test_an_error_comes_where_its_item_would_have():
    def items():
        yield from range(3)
        raise InputFileError("row 9 is broken")

    got = []
    with pytest.raises(InputFileError, match="row 9 is broken"):
        for item in _one_ahead(items()):
            got.append(item)
    assert got == [0, 1, 2]
    assert _settled() == []


def test_the_thread_computes_one_item_ahead_then_waits():
    made: list[int] = []

    def items():
        for i in range(10):
            made.append(i)
            yield i

    stream = _one_ahead(items())
    assert next(stream) == 0
    deadline = time.monotonic() + 5
    while len(made) < 2 and time.monotonic() < deadline:  # item 1 is computed meanwhile ...
        time.sleep(0.01)
    time.sleep(0.2)
    assert made == [0, 1]  # ... and no more: the caller holds 0, the thread holds 1
    assert next(stream) == 1
    stream.close()
    assert len(made) <= 3
    assert _settled() == []


def test_closing_early_stops_the_threads_and_closes_the_items_in_theirs(dirty_csv):
    closed_in: list[str] = []

    def items():
        try:
            yield from range(100)
        finally:
            closed_in.append(threading.current_thread().name)

    stream = _one_ahead(items())
    next(stream)
    stream.close()
    assert closed_in == ["readiness-validate-ahead"]
    chunks = ChunkPipeline(open_table(dirty_csv), CONTRACT).chunks(100, ahead=True)
    next(chunks)
    assert _running()  # the validating thread (and the CSV reader's) run ahead ...
    chunks.close()
    assert _running() == []  # ... and are gone as soon as the caller closes


def test_ctrl_c_while_waiting_stops_the_thread_within_its_item():
    made: list[int] = []

    def items():
        for i in range(10):
            time.sleep(0.01 if i == 0 else 0.5)
            made.append(i)
            yield i

    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in _one_ahead(items()):
            pass
    timer.join()
    assert made == [0, 1]  # the item being computed is finished, none is started after
    assert _settled() == []


def test_an_unclosed_quote_after_some_chunks_is_still_one_error_line(trained, tmp_path):
    frame, _ = generate_sample(20_000, seed=9, labelled=False)
    lines = to_english_table(frame).to_csv(index=False).splitlines()
    lines[19_500] = lines[19_500].replace(",", ',"', 1)  # row 19501, past several read blocks
    assert len("\n".join(lines[:19_500]).encode()) > 3 * (1 << 19)
    path = tmp_path / "late-quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    registry, _, _ = trained
    arguments = ["score", path, "--out", out, "--registry", registry, "--chunk-size", 500]
    result = CliRunner().invoke(app, [str(a) for a in arguments])
    assert_one_error_line(result, "row 19501 of late-quote.csv opens a quote")
    assert not out.exists()
    assert _settled() == []
