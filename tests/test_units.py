"""Tests of units and decimal-exact scaling (scoring.units, and parse_number with a factor)."""

from __future__ import annotations

import copy
import math
import tomllib
from decimal import Context, Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.contract import contract_from_dict, default_contract_path, load_contract
from scoring.errors import ContractError
from scoring.normalize import parse_number
from scoring.units import decimal_exponent, scale_text, unit_table_from_dict

CONTRACT = load_contract()
NUMBER = CONTRACT.column("revenue")
RATE = CONTRACT.column("defect_rate")
INT = CONTRACT.column("members")
FAST = settings(max_examples=150, deadline=None)
# The exact product, computed apart from the code under test: Decimal with room for every digit.
EXACT = Context(prec=200)
PERSIAN = str.maketrans("0123456789.%", "۰۱۲۳۴۵۶۷۸۹٫٪")
# Every size of the packaged currency table, relative to million rials, typed by hand.
CURRENCY = {"ریال": "0.000001", "هزار ریال": "0.001", "میلیون ریال": "1", "میلیارد ریال": "1000",
            "تومان": "0.00001", "هزار تومان": "0.01", "میلیون تومان": "10",
            "IRR": "0.000001", "MIRR": "1", "billion rials": "1000"}  # fmt: skip


def _strings(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


def _read(cells: list[str | None], column=NUMBER, factor: str = "1") -> np.ndarray:
    parsed = parse_number(_strings(cells), column, factor=Decimal(factor))
    return parsed.values


def _exact(text: str, factor: str) -> float:
    return float(EXACT.multiply(Decimal(text), Decimal(factor)))


@st.composite
def decimals(draw) -> str:
    """A decimal as a registry writes it: sign, digits, maybe a fraction, maybe an exponent."""
    integer = str(draw(st.integers(0, 10**18)))
    fraction = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=12)))
    text = draw(st.sampled_from(["", "-"])) + integer + (f".{fraction}" if fraction else "")
    if draw(st.integers(0, 9)) == 0:
        text += f"e{draw(st.integers(-30, 30))}"
    return text


# --- bit-exact scaling ----------------------------------------------------------------------


@FAST
@given(st.lists(decimals(), min_size=1, max_size=6), st.sampled_from(sorted(CURRENCY)))
def test_unit_scaling_is_the_float_of_the_exact_decimal_product(texts, unit):
    factor = CURRENCY[unit]
    values = _read([*texts, "abc"], factor=factor)
    assert values[:-1].tolist() == [_exact(t, factor) for t in texts]
    assert math.isnan(values[-1])


@FAST
@given(st.lists(decimals(), min_size=1, max_size=6), st.sampled_from(["2.5", "0.3", "7"]))
def test_a_factor_that_is_not_a_power_of_ten_is_exact_too(texts, factor):
    assert _read(texts, factor=factor).tolist() == [_exact(t, factor) for t in texts]


@FAST
@given(decimals().filter(lambda t: "e" not in t), st.booleans())
def test_percent_sign_percent_header_and_the_fraction_are_one_float(text, persian):
    expected = _exact(text, "0.01")
    written = f"{text}%".translate(PERSIAN) if persian else f"{text}%"
    by_sign = _read([written], RATE)[0]
    by_header = _read([text], RATE, factor="0.01")[0]
    sign_under_header = _read([f"{text}%"], RATE, factor="0.01")[0]  # said twice, meant once
    fraction = _read([str(EXACT.multiply(Decimal(text), Decimal("0.01")))], RATE)[0]
    assert by_sign == by_header == sign_under_header == fraction == expected


def test_the_examples_of_the_issue():
    # 3.89/100 is 0.038900000000000004: the percent is read in decimal instead.
    assert 3.89 / 100 != 0.0389
    values = _read(["3.89%", "۳٫۸۹٪", "0.0389"], RATE).tolist()
    assert values == [0.0389, 0.0389, 0.0389]
    assert _read(["3.89"], RATE, factor="0.01").tolist() == [0.0389]
    # Under a percent header, '۴٫۵' and '۱' are 4.5 % and 1 %, not fractions.
    assert _read(["۴٫۵", "۱"], RATE, factor="0.01").tolist() == [0.045, 0.01]
    # 19.581 billion rials is exactly 19581 million, and 1.005 billion 1005 (1.005 * 1000 in
    # floats is 1004.9999999999999).
    assert 1.005 * 1000 != 1005.0
    values = _read(["19.581", "۱۹٫۵۸۱", "1.005"], factor="1000").tolist()
    assert values == [19581.0, 19581.0, 1005.0]


def test_typed_numbers_scale_by_their_shortest_text():
    parsed = parse_number(pa.array([1.005, None, float("inf"), 3.0]), NUMBER, factor=Decimal(1000))
    assert parsed.values[0] == 1005.0 and parsed.values[3] == 3000.0
    assert math.isnan(parsed.values[1])
    assert parsed.unreadable.tolist() == [False, False, True, False]
    ints = parse_number(pa.array([12, 7], pa.int64()), NUMBER, factor=Decimal("0.001"))
    assert ints.values.tolist() == [0.012, 0.007]


@pytest.mark.parametrize(
    ("written", "factor", "expected"),
    [("1.5e3", "0.001", 1.5), ("2E-2", "1000", 20.0), ("-0", "1000", -0.0),
     ("1,234.5", "10", 12345.0), ("1.", "1000", 1000.0), (".5", "0.01", 0.005)],
)  # fmt: skip
def test_scaling_examples(written, factor, expected):
    value = _read([written], factor=factor)[0]
    assert value == expected and math.copysign(1, value) == math.copysign(1, expected)


@pytest.mark.parametrize(
    "written", ["abc", "1,5", "1e", "e5", ".", "inf", "nan", "1_000", "0x10", "1.2.3", "1e400"]
)
def test_unreadable_cells_stay_unreadable_when_scaled(written):
    for factor in ("1000", "0.01", "2.5"):
        parsed = parse_number(_strings([written, "2"]), NUMBER, factor=Decimal(factor))
        assert parsed.unreadable.tolist() == [True, False], (written, factor)
        assert parsed.values[1] == _exact("2", factor)


@pytest.mark.parametrize("written", ["%", "%5", "abc%", "4.5%%", "e-2%"])
def test_bad_percent_cells_stay_unreadable_under_a_percent_header(written):
    parsed = parse_number(_strings([written]), RATE, factor=Decimal("0.01"))
    assert parsed.unreadable.tolist() == [True]


def test_scaling_a_whole_number_column_keeps_its_fraction_rule():
    parsed = parse_number(_strings(["1.5", "2"]), INT, factor=Decimal(1))
    assert parsed.unreadable.tolist() == [True, False]
    parsed = parse_number(_strings(["0.005"]), INT, factor=Decimal(1000))
    assert parsed.values.tolist() == [5.0] and not parsed.unreadable.any()


def test_scale_text_moves_the_decimal_point_without_touching_a_digit():
    text = _strings(["3.89", "1.5e3", None, "x"])
    assert scale_text(text, Decimal("0.01")).to_pylist() == ["3.89e-2", "15", None, "xe-2"]
    percent = np.array([True, False, False, False])
    shifted = scale_text(text, Decimal(1000), percent)
    assert shifted.to_pylist() == ["3.89e-2", "1.5E+6", None, "xe3"]


@pytest.mark.parametrize(
    ("factor", "places"),
    [("1", 0), ("1000", 3), ("1000.0", 3), ("0.001", -3), ("1E-6", -6), ("2", None), ("0.5", None),
     ("11", None)],
)  # fmt: skip
def test_decimal_exponent(factor, places):
    assert decimal_exponent(Decimal(factor)) == places


# --- the table in the contract --------------------------------------------------------------


def test_packaged_units_sizes_are_exact_decimals():
    units = CONTRACT.units
    for spelling, size in CURRENCY.items():
        assert units.find(spelling).size == Decimal(size), spelling
    assert units.find("بر حسب میلیون ریال").spelling == "میلیون ریال"
    assert units.find("in thousand rials").size == Decimal("0.001")
    assert units.find("٪").is_percent and units.find("درصد").is_percent
    assert units.find("کیلوگرم").kind == "mass" and units.find("dollars") is None
    assert CONTRACT.column("revenue").unit == "million rials"
    assert CONTRACT.column("defect_rate").unit == "fraction"
    assert CONTRACT.column("installed_capacity").unit == "own"
    assert CONTRACT.column("established_year").unit is None


@pytest.fixture
def document() -> dict:
    return tomllib.loads(default_contract_path().read_text(encoding="utf-8"))


def _column(document: dict, name: str) -> dict:
    return next(c for c in document["column"] if c["name"] == name)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: _column(d, "revenue").update(unit="dollars"), "unit 'dollars'"),
        (lambda d: _column(d, "iso9001").update(unit="count"), "cannot have a unit"),
        (lambda d: _column(d, "established_year").update(unit="count"), "cannot have a unit"),
        (lambda d: d["units"]["currency"].update({"ریال": -1}), "positive number"),
        (lambda d: d["units"]["currency"].update({"ریال": "lots"}), "positive number"),
        (lambda d: d["units"]["mass"].update({"IRR": 1}), "listed twice"),
        (lambda d: d["units"].update(own=["money"]), "own must list"),
        (lambda d: d["units"].update(currency=5), "[units.currency]"),
    ],
)
def test_bad_unit_tables_are_refused(document, change, fragment):
    change(document)
    with pytest.raises(ContractError) as caught:
        contract_from_dict(document, origin="my_contract.toml")
    assert fragment in str(caught.value) and "my_contract.toml" in str(caught.value)


def test_a_contract_stored_without_units_reads_them_as_the_packaged_contract(document):
    old = copy.deepcopy(document)
    del old["units"]
    for column in old["column"]:
        column.pop("unit", None)
    contract = contract_from_dict(old)
    assert contract.column("revenue").unit == "million rials"
    assert contract.units.find("میلیارد ریال").size == Decimal(1000)


def test_a_unit_table_of_ones_own():
    table = unit_table_from_dict({"own": ["mass"], "mass": {"tons": 1, "kg": "1e-3"}}, "mine")
    assert table.find("KG").size == Decimal("0.001") and table.own_kinds == ("mass",)
    assert table.percent_words == frozenset()
