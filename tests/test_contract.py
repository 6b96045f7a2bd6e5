"""Tests of the data contract (scoring.contract and scoring/data/contract.toml)."""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from scoring.contract import (
    COLUMN_TYPES,
    Contract,
    contract_from_dict,
    default_contract_path,
    load_contract,
)
from scoring.errors import ContractError, ReadinessError
from scoring.pipeline import validate_file
from scoring.text import fold_text

# The column table of shared/DESIGN.md, typed by hand: name, Persian header, type, required.
DESIGN_COLUMNS = [
    ("coop_id", "شناسه تعاونی", "id", True),
    ("name", "نام تعاونی", "text", False),
    ("province", "استان", "category", True),
    ("sector", "بخش", "category", True),
    ("established_year", "سال تاسیس", "year", False),
    ("members", "تعداد اعضا", "int", True),
    ("employees", "تعداد کارکنان", "int", False),
    ("installed_capacity", "ظرفیت اسمی", "number", True),
    ("actual_output", "تولید واقعی", "number", True),
    ("revenue", "فروش", "number", True),
    ("revenue_prev", "فروش سال قبل", "number", False),
    ("product_lines", "تعداد محصولات", "int", False),
    ("export_revenue", "فروش صادراتی", "number", False),
    ("export_markets", "تعداد بازارهای صادراتی", "int", False),
    ("iso9001", "ایزو ۹۰۰۱", "yesno", False),
    ("intl_certifications", "گواهینامه های بین المللی", "int", False),
    ("standard_mark", "نشان استاندارد", "yesno", False),
    ("defect_rate", "نرخ ضایعات", "rate", False),
    ("debt_ratio", "نسبت بدهی", "number", False),
    ("commercial_card", "کارت بازرگانی", "yesno", False),
    ("exported_next_year", "صادرات سال بعد", "label", False),
]
# The rules of DESIGN.md: (min, min_exclusive, max).
DESIGN_RANGES = {
    "members": (1, None, None),
    "employees": (0, None, None),
    "installed_capacity": (None, 0, None),
    "actual_output": (0, None, None),
    "revenue": (0, None, None),
    "revenue_prev": (0, None, None),
    "product_lines": (0, None, None),
    "export_revenue": (0, None, None),
    "export_markets": (0, None, None),
    "intl_certifications": (0, None, None),
    "defect_rate": (0, None, 1),
    "debt_ratio": (0, None, None),
}
SECTORS = {
    "industrial": "صنعتی",
    "agriculture": "کشاورزی",
    "food_processing": "صنایع غذایی",
    "handicrafts": "صنایع دستی",
    "mining": "معدنی",
    "textiles": "نساجی",
    "services": "خدماتی",
}
PERSIAN_LETTERS = re.compile(r"^[\u0600-\u06ff\u200c ]+$")


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


@pytest.fixture
def document() -> dict:
    return tomllib.loads(default_contract_path().read_text(encoding="utf-8"))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_contract.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(document: dict) -> str:
    with pytest.raises(ContractError) as caught:
        contract_from_dict(document, origin="my_contract.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert "my_contract.toml" in message
    return message


# --- the default contract -------------------------------------------------------------------


def test_default_contract_loads(contract):
    assert default_contract_path().is_file()
    assert load_contract(None).names == contract.names
    assert contract.id_column.name == "coop_id"
    assert contract.label_column.name == "exported_next_year"
    assert set(contract.tiers) == {"A", "B", "C"}
    assert 1 >= contract.tiers["A"] > contract.tiers["B"] > contract.tiers["C"] > 0


def test_every_design_column_is_present_with_its_persian_header(contract):
    # DESIGN.md's columns, in order, plus the one extension: data_year (the registry year a
    # row describes; training holds out the latest year when there are several).
    design = [name for name, *_ in DESIGN_COLUMNS]
    assert [n for n in contract.names if n != "data_year"] == design
    data_year = contract.column("data_year")
    assert (data_year.type, data_year.required, data_year.fa) == ("year", False, "سال داده")
    for name, fa, kind, required in DESIGN_COLUMNS:
        column = contract.column(name)
        assert column.fa == fa, name
        assert column.type == kind, name
        assert column.required is required, name
        assert column.type in COLUMN_TYPES


def test_design_ranges(contract):
    for name, (low, low_exclusive, high) in DESIGN_RANGES.items():
        column = contract.column(name)
        assert (column.min, column.min_exclusive, column.max) == (low, low_exclusive, high), name
    year = contract.column("established_year")
    assert (year.min, year.jalali_min, year.jalali_max) == (1900, 1280, 1450)
    assert year.max == dt.date.today().year  # "this_year" in the TOML
    assert contract.column("coop_id").unique
    assert contract.column("exported_next_year").training_only
    assert contract.column("actual_output").cap == "installed_capacity"


def test_input_columns_leave_out_the_label_unless_labelled(contract):
    assert "exported_next_year" not in [c.name for c in contract.input_columns()]
    assert "exported_next_year" in [c.name for c in contract.input_columns(labelled=True)]


def test_31_provinces_each_with_a_persian_name(contract):
    provinces = contract.vocabularies["province"]
    assert len(provinces.keys) == 31
    assert len(set(provinces.keys)) == 31
    assert provinces.unknown == "other"
    persian_names = [provinces.persian[key] for key in provinces.keys]
    assert len(set(persian_names)) == 31
    for key, name in zip(provinces.keys, persian_names, strict=True):
        assert PERSIAN_LETTERS.match(name), (key, name)
        assert provinces.lookup[fold_text(name)] == key
        assert provinces.lookup[fold_text(key)] == key
        assert provinces.label(key, "fa") == name
        assert provinces.label(key) == key
    assert provinces.lookup[fold_text("تهران")] == "tehran"
    assert provinces.lookup[fold_text("آذربایجان شرقی")] == "east_azerbaijan"


def test_sectors_of_design(contract):
    sectors = contract.vocabularies["sector"]
    assert set(sectors.keys) == set(SECTORS)
    assert sectors.categories[-1] == "other"
    for key, fa in SECTORS.items():
        assert sectors.persian[key] == fa
        assert sectors.lookup[fold_text(fa)] == key


def test_yes_and_no_words_of_design(contract):
    for word in ["yes", "y", "true", "1", "بله", "دارد", "آری"]:
        assert fold_text(word) in contract.yes, word
    for word in ["no", "n", "false", "0", "خیر", "ندارد", "نه"]:
        assert fold_text(word) in contract.no, word
    assert not contract.yes & contract.no


def test_header_lookup_knows_names_persian_headers_and_aliases(contract):
    lookup = contract.header_lookup()
    for name, fa, *_ in DESIGN_COLUMNS:
        assert lookup[fold_text(name)] == name
        assert lookup[fold_text(fa)] == name
    assert lookup[fold_text("sales")] == "revenue"
    assert lookup[fold_text("کد تعاونی")] == "coop_id"


def test_unknown_column_name_raises(contract):
    with pytest.raises(ContractError, match="'nope'"):
        contract.column("nope")


def test_to_dict_is_a_copy_of_the_document(contract, document):
    stored = contract.to_dict()
    assert stored["column"][0]["name"] == "coop_id"
    stored["column"][0]["name"] = "changed"
    assert contract.to_dict()["column"][0]["name"] == "coop_id"
    rebuilt = contract_from_dict(contract.to_dict())
    assert rebuilt.names == contract.names
    assert rebuilt.yes == contract.yes


# --- a copied and extended contract ---------------------------------------------------------

_NEW_COLUMN = """
[[column]]
name = "women_members"
fa = "تعداد اعضای زن"
aliases = ["female members"]
type = "int"
min = 0
"""


def _extended_contract_text() -> str:
    text = default_contract_path().read_text(encoding="utf-8")
    # Append the new column before the [yesno] table so that it stays in the [[column]] array.
    assert text.count("\n[yesno]\n") == 1
    text = text.replace("\n[yesno]\n", _NEW_COLUMN + "\n[yesno]\n")
    # Change a range: at least three members.
    old = 'name = "members"\nfa = "تعداد اعضا"\naliases = ["member count", "number of members", "اعضا"]\ntype = "int"\nrequired = true\nmin = 1'  # noqa: E501
    assert old in text
    return text.replace(old, old.removesuffix("min = 1") + "min = 3")


def test_copied_contract_with_added_column_and_changed_range(tmp_path):
    path = _write(tmp_path, _extended_contract_text())
    contract = load_contract(path)
    assert contract.names[-1] == "women_members"
    women = contract.column("women_members")
    assert (women.type, women.fa, women.min, women.required) == ("int", "تعداد اعضای زن", 0, False)
    assert contract.column("members").min == 3
    assert contract.header_lookup()[fold_text("تعداد اعضای زن")] == "women_members"

    data = tmp_path / "coops.csv"
    data.write_text(
        "coop_id,province,sector,members,installed_capacity,actual_output,revenue,female members\n"
        "A,tehran,mining,5,10,5,1,2\n"
        "B,tehran,mining,2,10,5,1,2\n"  # members below the new minimum 3
        "C,tehran,mining,5,10,5,1,-1\n"  # the new column's rule
        "D,tehran,mining,5,10,5,1,x\n"  # the new column's type
        "E,tehran,mining,5,10,5,1,\n",  # optional: may be empty
        encoding="utf-8",
    )
    report, rejects = validate_file(data, contract)
    assert (report.rows_read, report.rows_valid, report.rows_rejected) == (5, 2, 3)
    assert rejects["coop_id"].tolist() == ["B", "C", "D"]
    assert rejects["error"].tolist() == [
        "members: '2' is below the minimum 3",
        "women_members: '-1' is below the minimum 0",
        "women_members: 'x' is not a number",
    ]
    # The packaged default is unchanged: members = 2 is fine there, the extra column ignored.
    default_report, _ = validate_file(data, load_contract())
    assert (default_report.rows_valid, default_report.rows_rejected) == (5, 0)


# --- bad contracts --------------------------------------------------------------------------


def test_missing_contract_file(tmp_path):
    with pytest.raises(ContractError, match="does not exist") as caught:
        load_contract(tmp_path / "absent.toml")
    assert "\n" not in str(caught.value)


def test_contract_that_is_not_toml(tmp_path):
    path = _write(tmp_path, "[[column]\nname = ")
    with pytest.raises(ContractError, match="is not valid TOML") as caught:
        load_contract(path)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ReadinessError)


def test_unknown_column_type(document):
    members = next(c for c in document["column"] if c["name"] == "members")
    members["type"] = "integer"
    message = _error(document)
    assert "'members'" in message and "'integer'" in message
    assert "int, number" in message  # says what is allowed


def test_unknown_vocabulary(document):
    sector = next(c for c in document["column"] if c["name"] == "sector")
    sector["vocabulary"] = "sectors"
    message = _error(document)
    assert "'sector'" in message and "'sectors'" in message and "not defined" in message


def test_yes_no_overlap(document):
    document["yesno"]["no"].append("YES")
    message = _error(document)
    assert "both yes and no" in message and "'yes'" in message


def test_yes_no_overlap_after_folding_letter_variants(document):
    document["yesno"]["no"].append("بلي")  # Arabic yeh: the same word as بلی in [yesno].yes
    assert "both yes and no" in _error(document)


@pytest.mark.parametrize(
    "tiers",
    [
        {"A": 0.2, "B": 0.3, "C": 0.15},  # A below B
        {"A": 0.5, "B": 0.3, "C": 0.3},  # not strictly decreasing
        {"A": 1.5, "B": 0.3, "C": 0.15},  # above 1
        {"A": 0.5, "B": 0.3, "C": 0.0},  # C must be above 0
        {"A": 0.5, "B": 0.3, "C": -0.1},
    ],
)
def test_bad_tier_cut_offs(document, tiers):
    document["tiers"].update(tiers)
    assert "tier cut-offs must satisfy 1 >= A > B > C > 0" in _error(document)


@pytest.mark.parametrize("value", ["high", True, [0.5]])
def test_tier_cut_off_that_is_not_a_number(document, value):
    document["tiers"]["A"] = value
    message = _error(document)
    assert "tier cut-offs" in message and "numbers" in message


def test_column_with_unknown_key(document):
    document["column"][5]["maximum"] = 3
    assert "unknown keys ['maximum']" in _error(document)


@pytest.mark.parametrize("value", ["one", True])
def test_range_that_is_not_a_number(document, value):
    document["column"][5]["min"] = value
    assert "'members' min must be a number" in _error(document)


def test_no_columns(document):
    document["column"] = []
    assert "defines no [[column]]" in _error(document)


def test_column_defined_twice(document):
    document["column"].append(dict(document["column"][5]))
    assert "defines a column twice: ['members']" in _error(document)


def test_two_id_columns(document):
    document["column"][1]["type"] = "id"
    assert "exactly one column of type 'id'" in _error(document)


def test_column_without_name(document):
    document["column"].append({"type": "int"})
    assert "has no name" in _error(document)


def test_column_that_is_not_a_table(document):
    document["column"].append("women_members")
    assert "must be a table" in _error(document)


def test_cap_naming_an_unknown_column(document):
    output = next(c for c in document["column"] if c["name"] == "actual_output")
    output["cap"] = "capacity"
    assert "caps at unknown 'capacity'" in _error(document)


def test_model_label_that_is_not_a_column(document):
    document["model"]["label"] = "exported"
    assert "model label 'exported' is not a column" in _error(document)


def test_model_pair_of_one_feature(document):
    document["model"]["pairs"] = [["iso9001"]]
    assert "must name two model features" in _error(document)


def test_monotonic_constraint_must_be_plus_or_minus_one(document):
    document["model"]["monotonic"]["iso9001"] = 2
    assert "model.monotonic" in _error(document)


def test_a_lone_string_is_one_alias_or_word_not_its_letters(document):
    members = next(c for c in document["column"] if c["name"] == "members")
    members["aliases"] = "member count"
    document["yesno"]["yes"] = "yes"
    document["yesno"]["no"] = "no"
    contract = contract_from_dict(copy.deepcopy(document))
    assert contract.column("members").aliases == ("member count",)
    lookup = contract.header_lookup()
    assert lookup["member count"] == "members"
    assert "m" not in lookup and "" not in lookup
    assert contract.yes == {"yes"} and contract.no == {"no"}


# --------------------------------------------------------------------------------------------
# Feature labels: the names the reports print


def test_feature_labels_name_every_model_feature_in_both_languages(contract):
    for feature in contract.model.features:
        assert set(contract.feature_labels[feature]) == {"en", "fa"}, feature
    assert contract.feature_label("utilization") == "Capacity utilization"
    assert contract.feature_label("utilization", "fa") == "میزان استفاده از ظرفیت"
    # A label may say more than the column header: the unit of sales.
    assert contract.feature_label("revenue", "fa") == "فروش (میلیون ریال)"
    assert contract.column("revenue").fa == "فروش"


def test_feature_label_falls_back_to_the_persian_header_then_the_name(contract):
    assert contract.feature_label("name", "fa") == "نام تعاونی"  # a column without a label
    assert contract.feature_label("name", "en") == "name"
    assert contract.feature_label("revenue_prev", "en") == "revenue prev"
    assert contract.feature_label("not_a_feature", "fa") == "not a feature"


def test_contract_without_feature_labels_takes_the_packaged_ones(document):
    del document["feature_labels"]  # as stored with models trained before the labels
    contract = contract_from_dict(document)
    assert contract.feature_label("utilization", "en") == "Capacity utilization"
    assert contract.feature_label("utilization", "fa") == "میزان استفاده از ظرفیت"


def test_an_empty_feature_labels_table_falls_back_to_headers_and_names(document):
    document["feature_labels"] = {}
    contract = contract_from_dict(document)
    assert contract.feature_labels == {}
    assert contract.feature_label("members", "fa") == "تعداد اعضا"
    assert contract.feature_label("utilization", "en") == "utilization"


@pytest.mark.parametrize("labels", ["Capacity", {"de": "Auslastung"}, {"en": 3}])
def test_feature_label_that_is_not_a_table_of_texts(document, labels):
    document["feature_labels"]["utilization"] = labels
    assert "feature_labels.utilization" in _error(document)
