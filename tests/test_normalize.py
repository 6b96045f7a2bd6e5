"""Tests of normalising raw cells into typed values (scoring.normalize)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.contract import load_contract
from scoring.errors import ContractError
from scoring.headers import map_headers
from scoring.normalize import (
    normalize_chunk,
    parse_category,
    parse_id,
    parse_label,
    parse_number,
    parse_text,
    parse_year,
    parse_yesno,
    translate_digits,
)
from scoring.text import ASCII_DIGITS, fold_text

CONTRACT = load_contract()
NUMBER = CONTRACT.column("debt_ratio")  # number, no rule that matters to parsing
INT = CONTRACT.column("members")
RATE = CONTRACT.column("defect_rate")
YEAR = CONTRACT.column("established_year")
SECTOR = CONTRACT.column("sector")
PROVINCE = CONTRACT.column("province")

DIGITS = {
    "ascii": "0123456789",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "arabic": "٠١٢٣٤٥٦٧٨٩",
}
FAST = settings(max_examples=80, deadline=None)


def _strings(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


def _digits(text: str, system: str) -> str:
    return text.translate(str.maketrans("0123456789", DIGITS[system]))


def _group(integer: str, separator: str) -> str:
    """'1234567' -> '1,234,567' (correct 3-digit grouping)."""
    head = len(integer) % 3 or 3
    groups = [integer[:head]] + [integer[i : i + 3] for i in range(head, len(integer), 3)]
    return separator.join(groups)


# --- numbers --------------------------------------------------------------------------------


@st.composite
def written_numbers(draw, *, whole: bool = False) -> tuple[str, str]:
    """(as a person writes it, the plain ASCII text whose float it means)."""
    integer = str(draw(st.integers(0, 10**15)))
    fraction = "" if whole else draw(st.one_of(st.just(""), st.text("0123456789", min_size=1,
                                                                      max_size=6)))  # fmt: skip
    sign = draw(st.sampled_from(["", "", "-", "\u2212", "+"]))
    ascii_sign = "-" if sign in ("-", "\u2212") else sign
    plain = ascii_sign + integer + (f".{fraction}" if fraction else "")
    separator = draw(st.sampled_from([None, ",", "٬"]))
    mark = draw(st.sampled_from([".", "٫"]))
    system = draw(st.sampled_from(list(DIGITS)))
    body = _group(integer, separator) if separator else integer
    written = sign + _digits(body, system) + (mark + _digits(fraction, system) if fraction else "")
    if draw(st.booleans()):
        written = f"  {written} "  # spaces around a cell do not matter
    return written, plain


@FAST
@given(st.lists(written_numbers(), min_size=1, max_size=8), st.booleans())
def test_any_written_number_parses_to_the_float_of_its_ascii_text(numbers, with_junk):
    cells = [written for written, _ in numbers]
    if with_junk:  # an unreadable cell elsewhere in the column must not change the others
        cells.append("abc")
    parsed = parse_number(_strings(cells), NUMBER)
    expected = [float(plain) for _, plain in numbers]
    assert parsed.values[: len(numbers)].tolist() == expected
    assert not parsed.unreadable[: len(numbers)].any()
    if with_junk:
        assert parsed.unreadable[-1] and math.isnan(parsed.values[-1])


@FAST
@given(st.lists(written_numbers(whole=True), min_size=1, max_size=8))
def test_any_written_whole_number_parses_in_an_int_column(numbers):
    parsed = parse_number(_strings([w for w, _ in numbers]), INT)
    assert parsed.values.tolist() == [float(plain) for _, plain in numbers]
    assert not parsed.unreadable.any()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1,500", 1500.0),
        ("۱٬۵۰۰٫۵", 1500.5),
        ("٤٫٥", 4.5),
        ("12,345,678", 12345678.0),
        ("-1,234.5", -1234.5),
        ("\u2212۱۲", -12.0),
        ("1,234.", 1234.0),
        (".5", 0.5),
        ("007", 7.0),
    ],
)
def test_number_examples(written, expected):
    parsed = parse_number(_strings([written]), NUMBER)
    assert parsed.values.tolist() == [expected]
    assert not parsed.unreadable.any()


@pytest.mark.parametrize(
    "written",
    ["1,5", "۱٬۵", "12,34", "1,2345", "1,234,56", ",123", "1,,234", "1, 234", "1 234",
     "abc", "12abc", "۱۲x", "n/a?", "-", "1.2.3", "inf", "nan", "0x10", "1_000"],
)  # fmt: skip
def test_unreadable_numbers(written):
    parsed = parse_number(_strings([written, "7"]), NUMBER)
    assert parsed.unreadable.tolist() == [True, False]
    assert math.isnan(parsed.values[0])  # '1,5' is not read as 15
    assert parsed.values[1] == 7.0
    assert parsed.problem == "is not a number"


_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?%?$"


@st.composite
def grouped_or_not(draw) -> str:
    """Thousands grouping, often nearly right: a character put in, dropped or swapped."""
    integer = str(draw(st.integers(0, 10**10)))
    cell = draw(st.sampled_from(["", "+", "-"])) + _group(integer, ",")
    cell += draw(st.sampled_from(["", ".", ".5", ".25", "%", ".5%", "e3"]))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(cell)))
        put = draw(st.sampled_from(list("0123456789,,.+-%eE x")))
        cell = cell[:at] + put + cell[at + draw(st.integers(0, 1)) :]
    return cell


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), grouped_or_not(), st.text("0123,.-e ", max_size=8)),
                max_size=10), st.sampled_from([NUMBER, RATE]))  # fmt: skip
def test_thousands_grouping_is_the_regex_for_every_cell_that_reads_as_a_number(cells, column):
    parsed = parse_number(_strings(cells), column)
    for i, cell in enumerate(cells):
        if cell is None or "," not in cell.strip():
            continue
        text = cell.strip()
        number = text.replace(",", "")
        if column is RATE and number.endswith("%"):
            number = number[:-1]
        try:
            reads = math.isfinite(pc.cast(_strings([number]), pa.float64())[0].as_py())
        except pa.ArrowInvalid:
            reads = False
        if reads:  # otherwise it is unreadable whatever its grouping
            well_grouped = pc.match_substring_regex(_strings([text]), _THOUSANDS)[0].as_py()
            assert parsed.unreadable[i] == (not well_grouped), cell


@pytest.mark.parametrize("junk", [None, "abc", "inf", "1_000", "1e", "."])
def test_a_number_reads_the_same_beside_unreadable_cells(junk):
    cells = ["+900719925474100.1", "0.1", "1e-7", "1.", ".5", "-0", "1E+05", "00.25", junk]
    parsed = parse_number(_strings(cells), NUMBER)
    assert parsed.values[:-1].tolist() == [float(c) for c in cells[:-1]]  # exactly, not nearly
    assert not parsed.unreadable[:-1].any()
    assert parsed.unreadable[-1] == (junk is not None)


def test_empty_cells_are_missing_not_unreadable():
    parsed = parse_number(_strings(["", "   ", None, "3"]), NUMBER)
    assert np.isnan(parsed.values[:3]).all()
    assert parsed.values[3] == 3.0
    assert not parsed.unreadable.any()


@pytest.mark.parametrize(
    ("written", "expected"),
    [("4.5%", 0.045), ("۴٫۵٪", 0.045), ("٤٫٥٪", 0.045), ("50%", 0.5), ("150%", 1.5),
     ("4.5 %", 0.045), ("0.045", 0.045), ("1,000%", 10.0)],
)  # fmt: skip
def test_rates_with_a_percent_sign(written, expected):
    parsed = parse_number(_strings([written]), RATE)
    assert parsed.values[0] == pytest.approx(expected, rel=1e-12)
    assert not parsed.unreadable.any()


@pytest.mark.parametrize("written", ["4.5%", "۴٫۵٪", "50%"])
def test_percent_in_a_column_that_is_not_a_rate_is_unreadable(written):
    for column in (NUMBER, INT):
        parsed = parse_number(_strings([written]), column)
        assert parsed.unreadable.tolist() == [True]
        assert math.isnan(parsed.values[0])


@pytest.mark.parametrize("written", ["%", "%5", "abc%", "4.5%%"])
def test_bad_percent_in_a_rate_column_is_unreadable(written):
    assert parse_number(_strings([written]), RATE).unreadable.tolist() == [True]


def test_fraction_in_a_whole_number_column():
    parsed = parse_number(_strings(["2.5", "3", "3.0", "۱٫۵"]), INT)
    assert parsed.unreadable.tolist() == [True, False, False, True]
    assert parsed.problem == "is not a whole number"
    assert parsed.values[1:3].tolist() == [3.0, 3.0]
    # A column with text too keeps the general message.
    assert parse_number(_strings(["2.5", "abc"]), INT).problem == "is not a number"


def test_typed_numbers_from_excel_or_parquet():
    parsed = parse_number(pa.array([1.5, None, float("inf"), 2.0]), NUMBER)
    assert parsed.unreadable.tolist() == [False, False, True, False]
    assert parsed.values[0] == 1.5 and parsed.values[3] == 2.0 and np.isnan(parsed.values[1])
    ints = parse_number(pa.array([3, None, 5], pa.int64()), INT)
    assert ints.values[[0, 2]].tolist() == [3.0, 5.0] and not ints.unreadable.any()
    fractional = parse_number(pa.array([2.5, 2.0]), INT)
    assert fractional.unreadable.tolist() == [True, False]
    booleans = parse_number(pa.array([True, False, None]), NUMBER)
    assert booleans.values[:2].tolist() == [1.0, 0.0] and np.isnan(booleans.values[2])


# --- years ----------------------------------------------------------------------------------


@FAST
@given(st.integers(1280, 1450), st.sampled_from(list(DIGITS)))
def test_jalali_years_become_gregorian(year, system):
    parsed = parse_year(_strings([_digits(str(year), system)]), YEAR)
    assert parsed.values.tolist() == [year + 621.0]
    assert not parsed.unreadable.any()


@FAST
@given(st.one_of(st.integers(1900, 2100), st.integers(1451, 1899), st.integers(0, 1279)))
def test_other_years_are_kept(year):
    parsed = parse_year(_strings([str(year)]), YEAR)
    assert parsed.values.tolist() == [float(year)]


def test_year_examples():
    cells = ["۱۴۰۲", "1402", "1990", "1279", "1451", "", "abc", "1400.5"]
    parsed = parse_year(_strings(cells), YEAR)
    assert parsed.values[:5].tolist() == [2023.0, 2023.0, 1990.0, 1279.0, 1451.0]
    assert parsed.unreadable.tolist() == [False] * 6 + [True, True]


# --- yes/no ---------------------------------------------------------------------------------

YES_WORDS = ["بله", "دارد", "آری", "اری", "yes", "y", "true", "1", "۱", "YES", " Yes ", "TRUE",
             "Y", "بلي"]  # fmt: skip
NO_WORDS = ["خیر", "ندارد", "نه", "no", "n", "false", "0", "٠", "NO", "  no", "False", "N"]


def test_yes_no_words_in_both_languages():
    cells = [*YES_WORDS, *NO_WORDS]
    parsed = parse_yesno(_strings(cells), CONTRACT)
    assert parsed.values.tolist() == [1.0] * len(YES_WORDS) + [0.0] * len(NO_WORDS)
    assert not parsed.unreadable.any()


@pytest.mark.parametrize("word", ["maybe", "2", "yess", "بلهه", "-1", " \u2212۱", "- 0", "0.5"])
def test_unknown_yes_no_word_is_unreadable(word):
    parsed = parse_yesno(_strings([word, "yes"]), CONTRACT)
    assert parsed.unreadable.tolist() == [True, False]
    assert math.isnan(parsed.values[0])
    assert parsed.problem == "is not yes/no"


def test_empty_yes_no_is_missing():
    parsed = parse_yesno(_strings(["", "  ", None]), CONTRACT)
    assert np.isnan(parsed.values).all()
    assert not parsed.unreadable.any()


def test_typed_yes_no():
    parsed = parse_yesno(pa.array([True, False, None]), CONTRACT)
    assert parsed.values[:2].tolist() == [1.0, 0.0] and np.isnan(parsed.values[2])
    ints = parse_yesno(pa.array([1, 0, 2, None]), CONTRACT)
    assert ints.unreadable.tolist() == [False, False, True, False]
    floats = parse_yesno(pa.array([1.0, 0.0, 0.5, -1.0]), CONTRACT)
    assert floats.values[:2].tolist() == [1.0, 0.0]
    assert floats.unreadable.tolist() == [False, False, True, True]


def test_label_accepts_yes_no_and_says_0_1():
    parsed = parse_label(_strings(["1", "0", "yes", "x"]), CONTRACT)
    assert parsed.values[:3].tolist() == [1.0, 0.0, 1.0]
    assert parsed.unreadable.tolist() == [False, False, False, True]
    assert parsed.problem == "is not 0/1"


_YES_NO_CELL = st.one_of(
    st.none(),
    st.sampled_from([*YES_WORDS, *NO_WORDS, "", "maybe", "2"]),
    st.text(st.sampled_from(list("-\u2212 \t\n\v\f\r01۱٠yesنه")), max_size=5),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_YES_NO_CELL, max_size=15))
def test_yes_no_words_are_read_per_distinct_cell_as_per_cell(cells):
    parsed = parse_yesno(_strings(cells), CONTRACT)
    for i, cell in enumerate(cells):
        if cell is None:
            expected, unreadable = np.nan, False
        else:
            # What the contract means, with Arrow's own regex (RE2) for a leading minus.
            minus = pc.match_substring_regex(translate_digits(_strings([cell])), r"^\s*-\s*\d")
            word = fold_text(cell)
            yes, no = word in CONTRACT.yes, word in CONTRACT.no
            expected = np.nan if minus[0].as_py() else 1.0 if yes else 0.0 if no else np.nan
            unreadable = bool(minus[0].as_py()) or (word != "" and math.isnan(expected))
        assert parsed.unreadable[i] == unreadable, cell
        assert parsed.values[i] == expected or (
            math.isnan(expected) and math.isnan(parsed.values[i])
        )


# --- categories -----------------------------------------------------------------------------


def test_categories_by_key_persian_name_and_letter_variant():
    cells = ["food_processing", "صنایع غذایی", "صنايع غذايي", "Food Processing",
             " FOOD-PROCESSING ", "food", "صنایع\u200cغذایی", "mining", "معدنی"]  # fmt: skip
    parsed = parse_category(_strings(cells), CONTRACT, SECTOR)
    assert list(parsed.values) == ["food_processing"] * 7 + ["mining", "mining"]
    assert not parsed.unknown
    assert not parsed.unreadable.any()


def test_unknown_category_becomes_other_and_is_counted():
    cells = ["fishing", "Fishing ", "tourism", "industrial", "", None]
    parsed = parse_category(_strings(cells), CONTRACT, SECTOR)
    values = list(parsed.values)
    assert values[:4] == ["other", "other", "other", "industrial"]
    assert pd.isna(values[4]) and pd.isna(values[5])  # empty is missing, not 'other'
    assert dict(parsed.unknown) == {"fishing": 2, "tourism": 1}
    assert not parsed.unreadable.any()
    assert list(parsed.values.categories) == [*CONTRACT.vocabularies["sector"].keys, "other"]


def test_unknown_categories_are_counted_by_folded_word_most_first():
    cells = ["zoo", "Tourism", "fishing", "tourism ", "FISHING", "fishing", None, "mining"]
    parsed = parse_category(_strings(cells), CONTRACT, SECTOR)
    assert list(parsed.unknown.items()) == [("fishing", 3), ("tourism", 2), ("zoo", 1)]
    assert list(parsed.values)[-1] == "mining"


def test_provinces_in_persian_with_arabic_letters():
    parsed = parse_category(_strings(["كرمانشاه", "تهران", "Isfahan", "آذربایجان شرقی"]),
                            CONTRACT, PROVINCE)  # fmt: skip
    assert list(parsed.values) == ["kermanshah", "tehran", "esfahan", "east_azerbaijan"]


# --- ids ------------------------------------------------------------------------------------


def _texts(values) -> list[str | None]:
    return [None if pd.isna(v) else v for v in values]


def test_ids_are_trimmed_with_ascii_digits_and_persian_letters():
    parsed = parse_id(_strings([" C12 ", "۱۲۳", "٠٠٧", "", "  ", None, "كد۱ي", "ىك−۵"]))
    assert parsed.values.dtype == "str"  # Arrow-backed, no Python objects per cell
    expected = ["C12", "123", "007", None, None, None, "کد1ی", "یک-5"]
    assert _texts(parsed.values) == expected
    assert _texts(parse_id(pa.array([12.0, 3.5, None])).values) == ["12", "3.5", None]
    assert _texts(parse_id(pa.array([7, None], pa.int64())).values) == ["7", None]


_SPACES = " \t\n\v\f\r\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
_TEXT_CELL = st.one_of(
    st.none(), st.text(st.sampled_from(list(_SPACES + "ab۱ي\u200b\u200c…−€")), max_size=6)
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXT_CELL, max_size=12), st.data())
def test_text_is_trimmed_like_str_strip_and_empty_is_missing(cells, data):
    start = data.draw(st.integers(0, len(cells)))
    got = parse_text(_strings(cells).slice(start)).values
    assert _texts(got) == [None if c is None or not c.strip() else c.strip() for c in cells[start:]]


def test_ids_from_a_slice_with_missing_cells():
    array = _strings(["x", " ۱ ", None, "", "ك", " C2 "]).slice(1)
    assert _texts(parse_id(array).values) == ["1", None, None, "ک", "C2"]


# --- translate_digits -----------------------------------------------------------------------

_CELL = st.text(
    st.sampled_from(list("0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫٬٪،−-.,%+ abcسلامیيکك\u200c€–—…😀")),
    max_size=12,
)


def _expected(values: list[str | None]) -> list[str | None]:
    return [None if v is None else v.translate(ASCII_DIGITS) for v in values]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.none(), _CELL, st.text(max_size=8)), max_size=12),
    st.data(),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_translate_digits_is_str_translate_on_every_cell(values, data, kind):
    array = pa.array(values, kind)
    start = data.draw(st.integers(0, len(values)))
    length = data.draw(st.integers(0, len(values) - start))
    sliced = array.slice(start, length)
    translated = translate_digits(sliced)
    translated.validate(full=True)
    assert translated.type == pa.string()
    assert translated.to_pylist() == _expected(values[start : start + length])
    assert translated.null_count == sum(v is None for v in values[start : start + length])


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None],
        [None, None],
        [""],
        ["", None, ""],
        ["\u2212"],
        ["\u2212\u2212۱", "a\u2212b", "−"],
        ["۱۲۳", None, "abc", "−۵"],
        ["تهران ۱۴۰۲ سال", "ايران ٢٠٢٣", "€ 12"],
        ["€", "–5", "—", "\u2213"],  # other 3-byte characters that start with 0xE2
        ["ي١", "ا٢", "ك۳"],  # Arabic letters share lead bytes with the digits
    ],
)
def test_translate_digits_examples(values):
    assert translate_digits(pa.array(values, pa.string())).to_pylist() == _expected(values)


def test_translate_digits_on_slices_with_nulls():
    array = pa.array(["x", "۱۲", None, "٣−4", "سلام ۱۲ dd", None, "٫"], pa.string())
    for start in range(len(array) + 1):
        for length in range(len(array) - start + 1):
            sliced = array.slice(start, length)
            got = translate_digits(sliced)
            got.validate(full=True)
            assert got.to_pylist() == _expected(sliced.to_pylist()), (start, length)


def test_translate_digits_on_an_all_null_column():
    got = translate_digits(pa.array([None, None], pa.null()))
    assert got.to_pylist() == [None, None]


# --- headers --------------------------------------------------------------------------------

REQUIRED = ["coop_id", "province", "sector", "members", "installed_capacity", "actual_output",
            "revenue"]  # fmt: skip


def test_headers_in_english_persian_and_aliases_with_odd_spelling():
    headers = [
        "  COOP_ID ",
        "استان",
        "بخش\u200cفعالیت",  # alias 'بخش فعالیت' written with a ZWNJ
        "Number   of  Members",
        "ظرفیت اسمي",  # Arabic yeh
        "Actual-Output",
        "فروش",
        "گواهینامه\u200cهای بین\u200cالمللی",
        "ISO 9001",
        "unrelated column",
    ]
    found = map_headers(headers, CONTRACT)
    assert found == {
        "coop_id": "  COOP_ID ",
        "province": "استان",
        "sector": "بخش\u200cفعالیت",
        "members": "Number   of  Members",
        "installed_capacity": "ظرفیت اسمي",
        "actual_output": "Actual-Output",
        "revenue": "فروش",
        "intl_certifications": "گواهینامه\u200cهای بین\u200cالمللی",
        "iso9001": "ISO 9001",
    }


def test_missing_required_column_names_it_and_lists_found_headers():
    headers = ["coop_id", "province", "sector", "members", "actual_output", "revenue"]
    with pytest.raises(ContractError) as caught:
        map_headers(headers, CONTRACT, source="coops.xlsx")
    found = "'coop_id', 'province', 'sector', 'members', 'actual_output', 'revenue'"
    assert str(caught.value) == (
        f"column 'installed_capacity' is required but missing from coops.xlsx (found: {found})"
    )


def test_several_missing_columns_are_all_named():
    with pytest.raises(ContractError) as caught:
        map_headers(["coop_id", "name"], CONTRACT)
    message = str(caught.value)
    for name in REQUIRED[1:]:
        assert f"'{name}'" in message
    names = ", ".join(f"'{name}'" for name in REQUIRED[1:])
    assert message.startswith(f"columns {names} are required but missing from the file (found: ")


def test_label_is_required_only_when_labelled():
    map_headers(REQUIRED, CONTRACT)
    with pytest.raises(ContractError, match="'exported_next_year'"):
        map_headers(REQUIRED, CONTRACT, labelled=True)
    assert (
        map_headers([*REQUIRED, "صادرات سال بعد"], CONTRACT, labelled=True)["exported_next_year"]
        == "صادرات سال بعد"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("coop_id", "شناسه تعاونی"), ("revenue", "sales"), ("members", "MEMBERS ")],
)
def test_two_headers_meaning_the_same_column_raise(first, second):
    headers = [*REQUIRED, second] if first in REQUIRED else [*REQUIRED, first, second]
    with pytest.raises(ContractError) as caught:
        map_headers(headers, CONTRACT)
    message = str(caught.value)
    assert f"'{first}'" in message and f"'{second}'" in message and "both mean" in message


def test_no_headers_at_all():
    with pytest.raises(ContractError, match="no headers"):
        map_headers([], CONTRACT)


# --- a whole chunk --------------------------------------------------------------------------


def test_normalize_chunk_types_every_column_and_keeps_originals():
    table = pa.table(
        {
            "شناسه تعاونی": ["۱", "2"],
            "استان": ["تهران", "nowhere"],
            "بخش": ["صنايع غذايي", "mining"],
            "تعداد اعضا": ["۱۲", "abc"],
            "ظرفیت اسمی": ["۱٬۰۰۰", "5"],
            "تولید واقعی": ["۵۰۰٫۵", "1"],
            "فروش": ["۱۲", "1"],
            "نرخ ضایعات": ["۴٫۵٪", ""],
            "سال تاسیس": ["۱۴۰۰", "1999"],
            "ایزو ۹۰۰۱": ["بله", "maybe"],
        }
    )
    headers = map_headers(table.column_names, CONTRACT)
    chunk = normalize_chunk(table, headers, CONTRACT)
    frame = chunk.frame
    assert list(frame.columns) == [c.name for c in CONTRACT.input_columns()]
    assert frame["coop_id"].tolist() == ["1", "2"]
    assert frame["province"].tolist() == ["tehran", "other"]
    assert frame["sector"].tolist() == ["food_processing", "mining"]
    assert frame["installed_capacity"].tolist() == [1000.0, 5.0]
    assert frame["actual_output"].tolist() == [500.5, 1.0]
    assert frame["defect_rate"][0] == pytest.approx(0.045) and np.isnan(frame["defect_rate"][1])
    assert frame["established_year"].tolist() == [2021.0, 1999.0]
    assert frame["iso9001"][0] == 1.0
    assert frame["employees"].isna().all()  # absent optional column
    assert chunk.unreadable["members"][0].tolist() == [False, True]
    assert chunk.unreadable["iso9001"][1] == "is not yes/no"
    assert chunk.originals["members"].to_pylist() == ["۱۲", "abc"]
    assert dict(chunk.unknown_categories["province"]) == {"nowhere": 1}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet=",1٬۲ a.", max_size=8)), max_size=30),
    st.integers(0, 5),
)
def test_commas_come_out_as_arrows_replace_takes_them_out(cells, cut):
    """The grouping commas are removed on the column's bytes; Arrow's replace is the check."""
    from scoring.normalize import _without_commas

    text = pa.array(cells, pa.string()).slice(min(cut, len(cells)))
    assert _without_commas(text).equals(pc.replace_substring(text, ",", ""))


@pytest.mark.parametrize("dropped", [0.0, 0.01, 0.06, 0.07, 0.5, 1.0])
def test_kept_bytes_are_the_same_whichever_way_they_are_gathered(dropped):
    """Few bytes dropped are gathered by boolean indexing, many by np.compress (faster there):
    both keep exactly the marked bytes of each cell, cell by cell, missing cells missing."""
    from scoring.buffers import text_buffers
    from scoring.normalize import _kept_bytes

    rng = np.random.default_rng(int(dropped * 100))
    cells = ["".join(rng.choice(list("ab۱,٬ "), rng.integers(0, 12))) for _ in range(400)]
    cells[::37] = [None] * len(cells[::37])
    text = pa.array(cells, pa.string()).slice(3)
    offsets, data = text_buffers(text)
    keep = rng.random(len(data)) >= dropped
    expected = []
    for i, cell in enumerate(text.to_pylist()):  # the plain way: cell by cell, in Python
        start, end = int(offsets[i]), int(offsets[i + 1])
        kept = bytes(b for b, k in zip(data[start:end], keep[start:end], strict=True) if k)
        expected.append(None if cell is None else kept)
    got = _kept_bytes(text, offsets, data, keep)
    assert got.view(pa.binary()).to_pylist() == expected  # bytes: a cut may split a letter
