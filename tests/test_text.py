"""Tests of Persian-aware text folding (scoring.text)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.text import ASCII_DIGITS, fold_text, fold_values, to_ascii_digits, to_persian_digits

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ZWNJ = "\u200c"

# Letters and marks Persian files really mix, plus ASCII, spaces of all kinds and punctuation.
_ALPHABET = st.sampled_from(
    list(
        "abcXYZ _-.,%0123456789"
        "ابپتثجچحخدذرزسشصضطظعغفقکگلمنوهیي"
        "كىةأإآ"
        "ـًٌٍَُِّْ"
        f"{PERSIAN_DIGITS}{ARABIC_DIGITS}٫٬٪،−"
        "\u200c\u200d\u200e\u200f\u061c\ufeff\u00a0\t\n"
    )
)
PERSIANISH_TEXT = st.text(_ALPHABET, max_size=30)


@settings(max_examples=100, deadline=None)
@given(st.one_of(PERSIANISH_TEXT, st.text(max_size=20)))
def test_fold_text_is_idempotent(text):
    folded = fold_text(text)
    assert fold_text(folded) == folded


@settings(max_examples=60, deadline=None)
@given(PERSIANISH_TEXT)
def test_fold_text_leaves_no_variant_marks_or_double_spaces(text):
    folded = fold_text(text)
    for char in "يكىةأإآـ\u200c\u200d\u200e\u200f\ufeff\u00a0_-" + PERSIAN_DIGITS + ARABIC_DIGITS:
        assert char not in folded
    assert "  " not in folded
    assert folded == folded.strip()


@pytest.mark.parametrize(
    ("arabic", "persian"),
    [
        ("ي", "ی"),
        ("ك", "ک"),
        ("صنايع غذايي", "صنایع غذایی"),
        ("كرمانشاه", "کرمانشاه"),
        ("شناسه تعاوني", "شناسه تعاونی"),
        ("تعداد كاركنان", "تعداد کارکنان"),
    ],
)
def test_arabic_and_persian_letter_variants_fold_equal(arabic, persian):
    assert arabic != persian
    assert fold_text(arabic) == fold_text(persian)
    # The Persian letters are the folded form.
    assert fold_text(arabic) == persian


def test_zero_width_non_joiner_counts_as_a_space():
    with_zwnj = f"گواهینامه{ZWNJ}های بین{ZWNJ}المللی"
    assert ZWNJ in with_zwnj
    assert fold_text(with_zwnj) == fold_text("گواهینامه های بین المللی")
    assert fold_text(f"گواهینامه{ZWNJ}های") == fold_text("گواهینامه های")
    assert fold_text(f"گواهینامه{ZWNJ}های") == "گواهینامه های"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Installed_Capacity ", "installed capacity"),
        ("INSTALLED-CAPACITY", "installed capacity"),
        ("installed \t\n  capacity", "installed capacity"),
        ("ISO\u00a09001", "iso 9001"),
        ("\ufeffcoop_id", "coop id"),
        ("ایزو ۹۰۰۱", "ایزو 9001"),
        ("ایزو ٩٠٠١", "ایزو 9001"),
        ("سال تأسیس", "سال تاسیس"),
        ("\u200fاستان\u200e", "استان"),
        ("صنـــایع", "صنایع"),  # tatweel stretches a word, it is not a letter
        ("مُحَمَّد", "محمد"),  # short-vowel marks are dropped
    ],
)
def test_fold_text_examples(raw, expected):
    assert fold_text(raw) == expected


def test_to_ascii_digits_maps_both_digit_sets_and_number_marks():
    assert to_ascii_digits(PERSIAN_DIGITS) == "0123456789"
    assert to_ascii_digits(ARABIC_DIGITS) == "0123456789"
    assert to_ascii_digits("۱٬۲۳۴٫۵٪") == "1,234.5%"
    assert to_ascii_digits("\u2212۵") == "-5"
    assert to_ascii_digits("سال ۱۴۰۲ و ٢٠٢٣") == "سال 1402 و 2023"
    assert to_ascii_digits("abc 12") == "abc 12"


def test_to_persian_digits_examples():
    assert to_persian_digits("0123456789") == PERSIAN_DIGITS
    assert to_persian_digits("1,234.5") == "۱٬۲۳۴٫۵"
    assert to_persian_digits("C12 تهران") == "C۱۲ تهران"


@settings(max_examples=100, deadline=None)
@given(st.text(st.sampled_from(list("0123456789.,-% abcسلام")), max_size=30))
def test_persian_digits_round_trip_from_ascii(text):
    persian = to_persian_digits(text)
    assert not any(c in persian for c in "0123456789.,")
    assert to_ascii_digits(persian) == text


@settings(max_examples=100, deadline=None)
@given(st.text(st.sampled_from(list(PERSIAN_DIGITS + "٫٬ سلامabc")), max_size=30))
def test_ascii_digits_round_trip_from_persian(text):
    ascii_text = to_ascii_digits(text)
    assert not any(c in ascii_text for c in PERSIAN_DIGITS + "٫٬")
    assert to_persian_digits(ascii_text) == text


def test_ascii_digits_table_is_what_to_ascii_digits_uses():
    sample = "۱۲٫۵٪ ٣٤٬٥ − ،"
    assert sample.translate(ASCII_DIGITS) == to_ascii_digits(sample) == "12.5% 34,5 - ,"


def test_fold_values_folds_each_distinct_value_and_marks_missing():
    values = np.array(["YES", None, "yes ", "ي", "ی", np.nan, ""], dtype=object)
    codes, uniques, folded = fold_values(values)
    assert codes.tolist()[1] == -1 and codes.tolist()[5] == -1
    assert uniques == ["YES", "yes ", "ي", "ی", ""]  # as written, in order of first appearance
    assert folded == [fold_text(u) for u in uniques]
    got = [None if c == -1 else folded[c] for c in codes]
    assert got == ["yes", None, "yes", "ی", "ی", None, ""]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["YES", " yes", "بله", "ي", "ی", ""]),
                          PERSIANISH_TEXT), max_size=20), st.data())  # fmt: skip
def test_fold_values_of_arrow_text_is_fold_text_of_every_cell(values, data):
    start = data.draw(st.integers(0, len(values)))
    array = pa.array(values, pa.string()).slice(start)
    codes, uniques, folded = fold_values(array)
    assert len(set(uniques)) == len(uniques)
    assert [None if c == -1 else uniques[c] for c in codes] == values[start:]
    assert [None if c == -1 else folded[c] for c in codes] == [
        None if v is None else fold_text(v) for v in values[start:]
    ]


def test_the_whole_plane_folds_in_one_pass_as_each_character_alone():
    from scoring.text import _folded_bmp

    assert _folded_bmp() == [fold_text(chr(code)) for code in range(0x10000)]
