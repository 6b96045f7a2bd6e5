"""Tests of totals and subtotals rows (scoring.validation with the contract's ``[totals]``)."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scoring.cli import app
from scoring.contract import contract_from_dict, default_contract_path, load_contract
from scoring.errors import ContractError
from scoring.normalize import normalize_chunk
from scoring.pipeline import collect_file
from scoring.text import fold_matches, fold_text
from scoring.validation import Validator

CONTRACT = load_contract()
HEADER = ["coop_id", "name", "province", "sector", "members", "installed_capacity",
          "actual_output", "revenue"]  # fmt: skip
GOOD = ["tehran", "mining", "5", "100", "50", "10"]
ZWNJ = "\u200c"
TOTALS = "totals row"

# Written as registry exports write them: Persian and English, ZWNJ or space between the parts
# of a word, Arabic letters, any case, stray spaces.
TOTALS_WORDS = [
    "جمع", "جمع کل", f"جمع{ZWNJ}کل", "جمع  کل", "كل", "کل", "مجموع", "کل کشور",
    f"همه بخش{ZWNJ}ها", "همه بخش ها", f"همه{ZWNJ}بخش{ZWNJ}ها", "Total", "TOTAL", " total ",
    "Sum", "Subtotal", "sub-total", "Grand Total", "grand  total", "جمع استان", "جمع جزء",
]  # fmt: skip
# Cells that hold a totals word but are not one as a whole: real cooperatives.
NOT_TOTALS = ["کلبه سبز", f"جمع{ZWNJ}آوری شیر", "Total Foods", "sum-up coop", "کلاله", "مجموعه",
              "Totals Ltd", "1234", "جمع کل ۲"]  # fmt: skip


def _csv(path, rows: list[list[str]]):
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("word", TOTALS_WORDS)
@pytest.mark.parametrize("where", ["id", "name"])
def test_a_totals_word_in_the_id_or_name_rejects_the_row(tmp_path, word, where):
    row = [word, "", *GOOD] if where == "id" else ["999", word, *GOOD]
    path = _csv(tmp_path / "t.csv", [["C1", "Alpha", *GOOD], row, ["C2", "Beta", *GOOD]])
    collected = collect_file(path, CONTRACT)
    assert collected.valid["coop_id"].tolist() == ["C1", "C2"]
    assert collected.rejects["row"].tolist() == [3]
    assert collected.rejects["error"].tolist() == [TOTALS]
    report = collected.report
    assert report.rows_read == report.rows_valid + report.rows_rejected == 3
    assert report.problems == {TOTALS: 1}


@pytest.mark.parametrize("name", NOT_TOTALS)
def test_a_word_inside_a_longer_name_is_not_a_totals_row(tmp_path, name):
    path = _csv(tmp_path / "t.csv", [["C1", name, *GOOD], [name.replace(" ", ""), "x", *GOOD]])
    collected = collect_file(path, CONTRACT)
    assert len(collected.valid) == 2 and len(collected.rejects) == 0


def test_a_totals_row_says_only_that(tmp_path):
    # Its other cells are sums or empty: no "province is empty", no "members is not a number".
    rows = [["C1", "Alpha", *GOOD], ["", "جمع کل", "", "", "۱۵۰", "abc", "", "30"]]
    collected = collect_file(_csv(tmp_path / "t.csv", rows), CONTRACT)
    assert collected.rejects.to_dict("records") == [{"row": 3, "coop_id": "", "error": TOTALS}]


def test_subtotal_rows_sharing_an_id_are_not_repeats(tmp_path):
    rows = [["C1", "a", *GOOD], ["جمع", "", *GOOD], ["C2", "b", *GOOD], ["جمع", "", *GOOD],
            ["C1", "c", *GOOD]]  # fmt: skip
    collected = collect_file(_csv(tmp_path / "t.csv", rows), CONTRACT, chunk_size=2)
    assert collected.rejects[["row", "error"]].values.tolist() == [
        [3, TOTALS], [5, TOTALS], [6, "coop_id: 'C1' repeats row 2"]
    ]  # fmt: skip


def _chunk(rows: list[list[str]]):
    table = pa.table({h: pa.array([r[j] for r in rows], pa.string()) for j, h in enumerate(HEADER)})
    return normalize_chunk(table, {name: name for name in HEADER}, CONTRACT)


def test_the_dask_drivers_id_check_agrees_with_the_local_one():
    # Workers validate without the id check; the driver then checks the ids of every row read.
    rows = [["C1", "a", *GOOD], ["جمع", "", *GOOD], ["جمع", "", *GOOD], ["C1", "جمع کل", *GOOD],
            ["C3", "b", *GOOD]]  # fmt: skip
    numbers = np.arange(2, 7)
    local = Validator(CONTRACT).validate(_chunk(rows), numbers)
    worker = Validator(CONTRACT, check_duplicates=False).validate(_chunk(rows), numbers)
    chunk = _chunk(rows)
    found = Validator(CONTRACT).repeated_ids(chunk.frame["coop_id"], numbers)
    _, lines = found
    driver = dict(zip(worker.rejects["row"], worker.rejects["error"], strict=True))
    for i, line in lines.items():
        driver[int(numbers[i])] = f"{driver[int(numbers[i])]}; {line}"
    assert dict(zip(local.rejects["row"], local.rejects["error"], strict=True)) == driver
    assert driver == {3: TOTALS, 4: TOTALS, 5: "totals row; coop_id: 'C1' repeats row 2"}


# --- the contract's list --------------------------------------------------------------------


def _document() -> dict:
    return tomllib.loads(default_contract_path().read_text(encoding="utf-8"))


def test_the_list_is_extendable(tmp_path):
    document = _document()
    document["totals"]["words"].append("جمع شهرستان")
    contract = contract_from_dict(document)
    path = _csv(tmp_path / "t.csv", [["C1", f"جمع{ZWNJ}شهرستان", *GOOD], ["C2", "x", *GOOD]])
    assert collect_file(path, contract).rejects["error"].tolist() == [TOTALS]
    assert collect_file(path, CONTRACT).rejects.empty  # not a default word


def test_a_contract_stored_without_totals_uses_the_packaged_words():
    document = _document()
    del document["totals"]
    assert contract_from_dict(document).totals == CONTRACT.totals
    assert {"جمع", "جمع کل", "کل", "مجموع", "total", "sum", "subtotal"} <= CONTRACT.totals
    assert fold_text(f"همه بخش{ZWNJ}ها") in CONTRACT.totals


@pytest.mark.parametrize("totals", [["جمع"], {"words": "جمع"}, {"words": [1]}, {"words": [" "]}])
def test_a_malformed_totals_list_is_refused(totals):
    document = _document()
    document["totals"] = totals
    with pytest.raises(ContractError, match=r"\[totals\] words must be a list of words"):
        contract_from_dict(document)


def test_no_totals_words_means_no_totals_rows(tmp_path):
    document = _document()
    document["totals"]["words"] = []
    path = _csv(tmp_path / "t.csv", [["C1", "جمع کل", *GOOD]])
    assert collect_file(path, contract_from_dict(document)).rejects.empty


# --- fold_matches against folding every cell ------------------------------------------------

# Characters folding changes or removes (spaces, ZWNJ, tatweel, marks, Arabic letters, case,
# a long s that folds to 's'), around letters of the words.
_ALPHABET = [*"جمعکلكلوهبخشا ", ZWNJ, "\u0640", "\u200f", "\u064b", "\u00a0", "\ufeff",
             "\u017f", *"TotalSumGrndbx-_"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(TOTALS_WORDS + NOT_TOTALS),
            st.text(st.sampled_from(_ALPHABET), max_size=8),
        ),
        max_size=20,
    )
)
def test_fold_matches_is_folding_each_cell(cells):
    expected = [c is not None and fold_text(c) in CONTRACT.totals for c in cells]
    got = fold_matches(pa.array(cells, pa.string()), CONTRACT.totals)
    assert got.tolist() == expected
    # A slice (offsets not from 0) and large text (64-bit offsets), as chunks hand them over.
    sliced = pa.array(["جمع", *cells], pa.large_string()).slice(1)
    assert fold_matches(sliced, CONTRACT.totals).tolist() == expected


def test_validate_counts_totals_rows(tmp_path):
    path = _csv(tmp_path / "t.csv", [["C1", "a", *GOOD], ["", "Grand Total", "", "", "", "", "",
                                                           ""]])  # fmt: skip
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(app, ["validate", str(path), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.stderr
    assert "totals row" in result.stdout
    frame = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert frame.to_dict("records") == [{"row": "3", "coop_id": "", "error": TOTALS}]


def test_edge_bytes_agree_with_the_whole_planes_edge_characters():
    """The ASCII bytes' verdicts are made from 128 characters; the plane's folding, made
    another way (one translate of every character), must give the same ones."""
    from scoring.text import _edge_bytes, _edge_characters

    for words in (CONTRACT.totals, frozenset({"total", "x-y", " z"})):
        starts, ends = _edge_bytes(words)
        first, last = (set(chars.to_pylist()) for chars in _edge_characters(words))
        assert [chr(b) in first for b in range(128)] == starts[:128].tolist()
        assert [chr(b) in last for b in range(128)] == ends[:128].tolist()
        assert starts[128:].all() and ends[128:].all()  # beyond ASCII: checked by character
