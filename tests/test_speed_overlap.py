"""Writing chunk k on a thread while chunk k+1 is scored changes nothing that is written.

The writing thread (:class:`scoring.batch._WriteBehind`) is checked against the same run with
every write done at once in the caller's thread, byte for byte (CSV, Persian CSV with a
rejects file, Excel), and against one whole-file write; an error on either thread surfaces in
the caller and leaves no output and no temporary file behind.
"""

from __future__ import annotations

import io
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest

import scoring.batch as batch
from scoring.batch import score_file, score_frame
from scoring.pipeline import collect_file
from scoring.sample import generate_sample, inject_problems, to_english_table
from scoring.writing import TableWriter, write_table

CHUNK = 128  # the local engine scores pieces of 32 rows: some 22 of them in 700 rows


class _Serial:
    """Every write done at once in the caller's thread: the writer as it was."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, job) -> None:
        job()

    def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory):
    frame, _ = generate_sample(700, seed=45, labelled=False)
    table = inject_problems(to_english_table(frame), 0.1, seed=45)
    table.loc[600, "coop_id"] = table.loc[5, "coop_id"]  # a repeat across chunks
    path = tmp_path_factory.mktemp("overlap") / "dirty.csv"
    table.to_csv(path, index=False)
    return path


def _score(path, model, folder, monkeypatch, *, serial: bool, out: str, **options):
    if serial:
        monkeypatch.setattr(batch, "_WriteBehind", _Serial)
    else:
        monkeypatch.undo()
    folder.mkdir(exist_ok=True)
    return score_file(path, model, folder / out, chunk_size=CHUNK, **options)


#: Parts of a workbook that hold the clock: its creation time, the summary's start and seconds.
_CLOCKED = ("docProps/core.xml", "xl/worksheets/sheet2.xml")


def _members(path) -> dict[str, bytes]:
    """An .xlsx file's parts but those written by the clock."""
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as book:
        return {n: book.read(n) for n in book.namelist() if n not in _CLOCKED}


def _temporaries(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("lang", [None, "fa"])
def test_the_writing_thread_writes_the_csv_bytes_of_the_caller(
    scoring_model, dirty_csv, tmp_path, monkeypatch, lang
):
    runs = {}
    for serial in (True, False):
        folder = tmp_path / str(serial)
        summary = _score(dirty_csv, scoring_model, folder, monkeypatch, serial=serial,
                         out="s.csv", rejects=folder / "r.csv", lang=lang)  # fmt: skip
        runs[serial] = (folder, summary)
    (one, first), (two, second) = runs[True], runs[False]
    for name in ("s.csv", "r.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes()
    assert first.rows_read == 700 and first.rows_rejected > 0
    clock = {"seconds": 0, "started": ""}
    assert first.to_dict() | clock == second.to_dict() | clock
    assert (two / "s.csv").read_bytes().startswith(b"\xef\xbb\xbf") == (lang == "fa")


def test_the_csv_is_the_whole_file_scored_and_written_at_once(scoring_model, dirty_csv, tmp_path):
    """A second method: every valid row scored in one frame, written by one write."""
    score_file(dirty_csv, scoring_model, tmp_path / "s.csv", chunk_size=CHUNK)
    valid = collect_file(dirty_csv, scoring_model.contract).valid
    write_table(score_frame(valid, scoring_model), tmp_path / "whole.csv")
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    ids = pd.read_csv(tmp_path / "s.csv", dtype=str)["coop_id"].tolist()
    assert ids == valid["coop_id"].astype(str).tolist()  # input order


def test_the_writing_thread_writes_the_workbook_of_the_caller(
    scoring_model, dirty_csv, tmp_path, monkeypatch
):
    books = {}
    for serial in (True, False):
        folder = tmp_path / str(serial)
        _score(dirty_csv, scoring_model, folder, monkeypatch, serial=serial, out="s.xlsx")
        books[serial] = _members(folder / "s.xlsx")
    assert books[True] == books[False]
    assert {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml"} <= set(books[True])
    scores = pd.read_excel(
        tmp_path / "False" / "s.xlsx", sheet_name="scores", dtype=str, engine="calamine"
    )
    valid = collect_file(dirty_csv, scoring_model.contract).valid
    assert scores["coop_id"].tolist() == valid["coop_id"].astype(str).tolist()


def test_order_is_kept_when_a_write_is_slow(scoring_model, dirty_csv, tmp_path, monkeypatch):
    score_file(dirty_csv, scoring_model, tmp_path / "plain.csv", chunk_size=CHUNK)
    write = TableWriter.write
    calls = []
    slow = threading.Event()

    def slow_write(self, frame):
        calls.append(threading.current_thread().name)
        if len(calls) % 3 == 1:
            slow.wait(0.05)  # the caller scores on meanwhile
        write(self, frame)

    monkeypatch.setattr(TableWriter, "write", slow_write)
    score_file(dirty_csv, scoring_model, tmp_path / "slow.csv", chunk_size=CHUNK)
    assert (tmp_path / "slow.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert len(calls) > 10 and set(calls) == {"readiness-write-behind"}


def test_an_error_writing_is_raised_in_the_caller_and_leaves_nothing(
    scoring_model, dirty_csv, tmp_path, monkeypatch
):
    out = tmp_path / "s.csv"
    out.write_bytes(b"the previous scores\n")
    write = TableWriter.write
    where = []

    def failing_write(self, frame):
        where.append(threading.current_thread().name)
        if len(where) == 3:
            raise RuntimeError("the disk went away")
        write(self, frame)

    monkeypatch.setattr(TableWriter, "write", failing_write)
    with pytest.raises(RuntimeError, match="the disk went away"):
        score_file(dirty_csv, scoring_model, out, rejects=tmp_path / "r.csv", chunk_size=CHUNK)
    assert where[2] == "readiness-write-behind"
    assert out.read_bytes() == b"the previous scores\n"  # untouched
    assert not (tmp_path / "r.csv").exists()
    assert _temporaries(tmp_path) == []
    assert not [t for t in threading.enumerate() if t.name == "readiness-write-behind"]


def test_a_file_system_error_keeps_its_one_line(scoring_model, dirty_csv, tmp_path, monkeypatch):
    from scoring.errors import OutputFileError

    write = TableWriter._write_arrow
    count = [0]

    def full_disk(self, frame):
        count[0] += 1
        if count[0] == 4:
            raise OSError(28, "No space left on device")
        write(self, frame)

    monkeypatch.setattr(TableWriter, "_write_arrow", full_disk)
    with pytest.raises(OutputFileError, match="the disk is full"):
        score_file(dirty_csv, scoring_model, tmp_path / "s.csv", chunk_size=CHUNK)
    assert not (tmp_path / "s.csv").exists() and _temporaries(tmp_path) == []


def test_an_error_scoring_stops_the_writing_thread(scoring_model, dirty_csv, tmp_path, monkeypatch):
    seen = []

    def extra(valid, scored, X):
        seen.append(len(scored))
        if len(seen) == 5:
            raise ValueError("a next step failed")
        return scored

    with pytest.raises(ValueError, match="a next step failed"):
        score_file(dirty_csv, scoring_model, tmp_path / "s.xlsx", chunk_size=CHUNK, extra=extra)
    assert not (tmp_path / "s.xlsx").exists() and _temporaries(tmp_path) == []
    assert not [t for t in threading.enumerate() if t.name == "readiness-write-behind"]


def test_one_job_is_written_while_the_caller_works_on_the_next():
    release, started, finished = threading.Event(), [], []

    def job(name):
        def run():
            started.append(name)
            release.wait(5)
            finished.append(name)

        return run

    with batch._WriteBehind() as behind:
        behind.submit(job("a"))  # returns at once: "a" is written on the thread
        assert finished == []
        second = threading.Thread(target=behind.submit, args=(job("b"),))
        second.start()
        second.join(0.2)
        assert second.is_alive() and started == ["a"]  # "b" waits for "a": one job ahead
        release.set()
        second.join(5)
        behind.close()
    assert finished == ["a", "b"]


def test_a_job_error_is_raised_once_and_later_jobs_are_skipped():
    boom, ran = KeyError("cell"), []

    def fail():
        raise boom

    with batch._WriteBehind() as behind:
        behind.submit(fail)
        with pytest.raises(KeyError) as raised:
            behind.submit(lambda: ran.append("late"))
    assert raised.value is boom and ran == []


def test_the_local_engine_scores_quarter_chunks(scoring_model, dirty_csv, tmp_path, monkeypatch):
    sizes = []
    scored_pieces = batch._scored_pieces

    def counting(chunks, *args):
        for piece in scored_pieces(chunks, *args):
            sizes.append(piece[0].rows_read)
            yield piece

    monkeypatch.setattr(batch, "_scored_pieces", counting)
    score_file(dirty_csv, scoring_model, tmp_path / "s.csv", chunk_size=400)
    assert sizes == [100] * 7  # 700 rows in quarters of 400
    sizes.clear()
    score_file(dirty_csv, scoring_model, tmp_path / "s.parquet", chunk_size=400)
    assert sizes == [400, 300]  # Parquet: row groups follow whole chunks, as before


@pytest.mark.parametrize("slot_bits", [23, 3])
def test_ids_seen_in_runs_repeat_as_a_plain_dictionary_says(scoring_model, monkeypatch, slot_bits):
    """The runs of seen ids (merged as a binary counter) against a dictionary of first rows;
    with 8 slots every new id shares a marked slot, so every id is searched for."""
    from scoring.validation import Validator, _SeenIds

    monkeypatch.setattr(_SeenIds, "_SLOT_BITS", slot_bits)
    rng = np.random.default_rng(7)
    validator, first = Validator(scoring_model.contract), {}
    row = 2
    for size in (5, 40, 1, 17, 64, 3, 0, 90, 33, 8, 250, 2):
        ids = [f"c{v}" for v in rng.integers(0, 400, size)]
        rows = np.arange(row, row + size, dtype=np.int64)
        expected = {}
        for i, (text, at) in enumerate(zip(ids, rows, strict=True)):
            if text in first:
                expected[i] = f"coop_id: '{text}' repeats row {first[text]}"
            else:
                first[text] = int(at)
        found = validator.repeated_ids(pd.Series(ids, dtype="str"), rows)
        assert (found[1] if found is not None else {}) == expected
        row += size
    assert sum(len(h) for h, _ in validator._seen._runs) == len(first)
    assert len(validator._seen._runs) <= 5  # merged: about log2 of the chunks
