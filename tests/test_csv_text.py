"""CSV rows made by :mod:`scoring.csv_text` are the bytes of Arrow's own CSV writer.

The second method is :func:`pyarrow.csv.write_csv` itself, on the same table: text with
quotes, delimiters, line breaks and Persian letters, missing cells, floats of every size (and
the tenths that are gathered rather than formatted), NaN, infinities, ``-0.0``, integers and
booleans.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.batch import score_file
from scoring.csv_text import csv_rows
from scoring.sample import generate_sample, to_english_table
from scoring.writing import TableWriter


def _arrow_rows(table: pa.Table, delimiter: str = ",") -> bytes:
    sink = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter)
    pacsv.write_csv(table, sink, write_options=options)
    return sink.getvalue().to_pybytes()


_TEXT = st.text(alphabet=st.sampled_from(list("ab \",;\n\r\t=+-'@آی۱")), max_size=6)
_TENTH = st.integers(0, 1000).map(lambda k: k / 10)
_FLOAT = st.one_of(
    _TENTH,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-0.0, 0.0, 100.0, 100.1, -0.1, 1e-7, 1e300, 2.0**53]),
)
_COLUMNS = st.sampled_from(["text", "tenths", "floats", "ints", "bools"])


@st.composite
def tables(draw) -> pa.Table:
    n = draw(st.integers(1, 30))
    columns = {}
    for j, kind in enumerate(draw(st.lists(_COLUMNS, min_size=1, max_size=6))):
        missing = draw(st.booleans())

        def cell(strategy, missing=missing):
            return st.one_of(st.none(), strategy) if missing else strategy

        if kind == "text":
            values = draw(st.lists(cell(_TEXT), min_size=n, max_size=n))
            kind_type = draw(st.sampled_from([pa.string(), pa.large_string()]))
            columns[f"c{j}"] = pa.array(values, kind_type)
        elif kind == "tenths":
            columns[f"c{j}"] = pa.array(draw(st.lists(cell(_TENTH), min_size=n, max_size=n)))
        elif kind == "floats":
            values = draw(st.lists(cell(_FLOAT), min_size=n, max_size=n))
            columns[f"c{j}"] = pa.array(values, pa.float64())
        elif kind == "ints":
            values = draw(st.lists(cell(st.integers(-(2**62), 2**62)), min_size=n, max_size=n))
            columns[f"c{j}"] = pa.array(values, pa.int64())
        else:
            values = draw(st.lists(cell(st.booleans()), min_size=n, max_size=n))
            columns[f"c{j}"] = pa.array(values, pa.bool_())
    return pa.table(columns)


@settings(max_examples=300, deadline=None)
@given(tables(), st.sampled_from([",", "\t", ";"]))
def test_rows_are_the_bytes_of_arrows_writer(table, delimiter):
    rows = csv_rows(table, delimiter)
    assert rows is not None
    assert rows.to_pybytes() == _arrow_rows(table, delimiter)


def test_tenths_are_written_as_the_cast_writes_them():
    """All 1,001 gathered texts, and values next to them that are not tenths."""
    tenths = np.arange(1001) / 10
    near = np.nextafter(tenths, np.inf)
    table = pa.table({"tenths": tenths, "near": near, "missing": [None] * 1000 + [5.5]})
    assert csv_rows(table).to_pybytes() == _arrow_rows(table)
    lines = csv_rows(table).to_pybytes().decode().splitlines()
    assert lines[0] == "0,5e-324,"  # 0.0 and the float just above it; a missing cell is empty
    assert lines[123].startswith("12.3,12.300000000000002,")
    assert lines[1000] == "100,100.00000000000001,5.5"


def test_a_table_of_another_type_is_left_to_arrow():
    dates = pa.table({"when": pa.array([0, 1], pa.date32())})
    assert csv_rows(dates) is None
    assert csv_rows(pa.table({"a": pa.array([], pa.float64())})) is None


def test_a_text_dictionary_is_quoted_like_its_text():
    words = pa.array(['say "hi"', None, "", "a,b"]).dictionary_encode()
    table = pa.table({"w": words, "x": [1.5, 2.0, math.nan, None]})
    assert csv_rows(table).to_pybytes() == _arrow_rows(table)


@pytest.mark.parametrize("lang", [None, "fa"])
def test_a_scored_sample_is_written_as_arrows_writer_writes_it(
    scoring_model, tmp_path, monkeypatch, lang
):
    """The scores of 3,000 sample rows, written by the engine and again by Arrow's writer."""
    frame, _ = generate_sample(3000, seed=11)
    source = tmp_path / "sample.csv"
    to_english_table(frame).to_csv(source, index=False)
    score_file(source, scoring_model, tmp_path / "fast.csv", lang=lang, chunk_size=1000)
    monkeypatch.setattr("scoring.writing.csv_rows", lambda table, delimiter: None)
    score_file(source, scoring_model, tmp_path / "arrow.csv", lang=lang, chunk_size=1000)
    fast, arrow = (tmp_path / "fast.csv").read_bytes(), (tmp_path / "arrow.csv").read_bytes()
    assert fast == arrow
    assert fast.count(b"\n") == 3001


def test_the_writer_neutralises_text_before_the_rows_are_made(tmp_path):
    """A formula in a text cell still gets its quote mark on the fast path."""
    with TableWriter(tmp_path / "t.csv", columns=["a", "b"]) as writer:
        writer.write(pd.DataFrame({"a": ["=1+2", "ok"], "b": [12.5, 3.0]}))
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == '"a","b"\n"\'=1+2",12.5\n"ok",3\n'
