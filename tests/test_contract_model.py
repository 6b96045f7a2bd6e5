"""The model as the contract defines it: a label column's own words, and the coverage of a
derived feature an analyst adds in TOML only."""

from __future__ import annotations

import copy

import numpy as np
from conftest import contract_with_water

from scoring.contract import contract_from_dict, load_contract
from scoring.headers import map_headers, model_columns
from scoring.sample import generate_sample, to_english_table
from scoring.training import read_labelled

LABEL = "exported_next_year"


def _with_label_words(yes: list[str], no: list[str]):
    document = copy.deepcopy(load_contract().to_dict())
    label = next(c for c in document["column"] if c["name"] == LABEL)
    label["values"] = {"yes": yes, "no": no}
    return contract_from_dict(document)


def _labelled_file(tmp_path, labels: list[str], iso: list[str] | None = None):
    frame, _ = generate_sample(len(labels), seed=3)
    table = to_english_table(frame)
    table[LABEL] = labels
    if iso is not None:
        table["iso9001"] = iso
    path = tmp_path / "labelled.csv"
    table.to_csv(path, index=False)
    return path


def test_a_label_read_with_its_own_words_gives_the_outcomes_written(tmp_path):
    contract = _with_label_words(["good", "خوش حساب"], ["bad"])
    labels = ["good", "BAD", " Good ", "خوش حساب", "bad", "yes"]
    frame, report = read_labelled(_labelled_file(tmp_path, labels), contract)
    # "yes" is a global yes word, but this label reads only its own words: row 7 is rejected.
    assert frame[LABEL].tolist() == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert report.rows_rejected == 1


def test_the_label_words_do_not_leak_into_other_yes_no_columns(tmp_path):
    contract = _with_label_words(["good"], ["bad"])
    labels = ["good", "bad", "good", "bad"]
    iso = ["yes", "good", "no", "بله"]  # 'good' is no yes/no word for iso9001
    frame, report = read_labelled(_labelled_file(tmp_path, labels, iso), contract)
    assert report.rows_rejected == 1
    assert frame["iso9001"].tolist() == [1.0, 0.0, 1.0]
    assert frame[LABEL].tolist() == [1.0, 1.0, 0.0]


def test_a_derived_feature_defined_in_toml_makes_its_column_one_the_model_reads(tmp_path):
    water = contract_with_water(tmp_path)
    assert "water_use" in model_columns(water)
    assert "water_use" not in model_columns(load_contract())
    headers = list(to_english_table(generate_sample(5, seed=1)[0]).columns)
    mapped = map_headers(headers, water, source="list.csv")
    assert "water_use" in mapped.absent  # told as missing: the model would read it
    present = map_headers([*headers, "مصرف آب"], water, source="list.csv")
    assert "water_use" not in present.absent and present.columns["water_use"] == "مصرف آب"


def test_label_words_are_folded_like_cells(tmp_path):
    contract = _with_label_words(["Good"], ["BAD"])
    labels = ["GOOD", "bad", "good", "Bad"]
    frame, report = read_labelled(_labelled_file(tmp_path, labels), contract)
    assert report.rows_rejected == 0
    np.testing.assert_array_equal(frame[LABEL].to_numpy(), [1.0, 0.0, 1.0, 0.0])
