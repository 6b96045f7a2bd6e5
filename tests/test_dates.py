"""Tests of dates in year columns (scoring.dates, through scoring.normalize.parse_year)."""

from __future__ import annotations

import datetime as dt
import math

import jdatetime
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import dates
from scoring.contract import Column, load_contract
from scoring.normalize import parse_year
from scoring.pipeline import collect_file

CONTRACT = load_contract()
YEAR = CONTRACT.column("established_year")
SPAN = (YEAR.jalali_min, YEAR.jalali_max)
PERSIAN, ARABIC = "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"
NOT_A_DATE = "is not a date"


def _digits(text: str, digits: str) -> str:
    return text.translate(str.maketrans("0123456789", digits))


def _years(cells: list[str | None]) -> list[float]:
    return parse_year(pa.array(cells, pa.string()), YEAR).values.tolist()


# --- by hand --------------------------------------------------------------------------------

# Each Gregorian day worked out by hand from Nowruz (1 Farvardin 1398 = 21 March 2019,
# 1 Farvardin 1403 = 20 March 2024): Farvardin-Shahrivar have 31 days, Mehr-Bahman 30, so
# 1 Dey is day 6*31 + 3*30 = 276 after Nowruz, and 21 March 2019 + 285 days = 31 December 2019.
BY_HAND = [
    ("۱۳۹۸/۰۳/۱۵", 2019),  # + 76 days: 5 June 2019
    ("1398-03-15", 2019),
    ("۱۴۰۳.۰۳.۱۵", 2024),  # 20 March 2024 + 76: 4 June 2024
    ("1398/09/30", 2019),  # + 275: 21 December 2019
    ("1398/10/01", 2019),  # + 276: 22 December 2019 (Dey, still 2019)
    ("1398/10/10", 2019),  # + 285: 31 December 2019
    ("1398/10/11", 2020),  # + 286: 1 January 2020
    ("1398/10/12", 2020),  # + 287: 2 January 2020
    ("۱۳۹۸/۱۰/۱۵", 2020),  # 5 January 2020
    ("1398/12/29", 2020),  # + 364: 19 March 2020 (the last day of 1398, a common year)
    ("1403/12/30", 2025),  # 1403 is a leap year: + 365, 20 March 2025
    ("1398/3/5", 2019),  # without leading zeros
    ("٢٠١٩/٠٦/٠٥", 2019),  # Gregorian in Arabic-Indic digits
    ("2019-06-05", 2019),
    ("2019/12/31", 2019),
    ("2019.01.01", 2019),
    ("2020-02-29", 2020),
    ("2019-06-05 00:00:00", 2019),  # an Excel date-time cell as the reader writes it
    ("2019-06-05 10:30:00.500000", 2019),
    ("2019-06-05T23:59:59", 2019),
    (" ۱۳۹۸/۱۰/۱۲ ", 2020),  # surrounding spaces
    ("1398", 2019),  # a bare Jalali year keeps +621
    ("۱۴۰۰", 2021),
    ("2019", 2019),
]


@pytest.mark.parametrize(("cell", "year"), BY_HAND)
def test_a_date_is_the_gregorian_year_of_its_day(cell, year):
    parsed = parse_year(pa.array([cell, "1990"]), YEAR)
    assert parsed.values.tolist() == [float(year), 1990.0]
    assert not parsed.unreadable.any()


def test_the_library_agrees_with_the_hand_computed_days():
    # The same days as above, by jdatetime: the table's arithmetic is right.
    assert jdatetime.date(1398, 10, 1).togregorian() == dt.date(2019, 12, 22)
    assert jdatetime.date(1398, 10, 12).togregorian() == dt.date(2020, 1, 2)
    assert jdatetime.date(1398, 9, 30).togregorian() == dt.date(2019, 12, 21)
    assert jdatetime.date(1403, 12, 30).togregorian() == dt.date(2025, 3, 20)


INVALID = [
    "1398/13/01",  # month 13
    "1398/00/10",
    "1398/01/32",  # day 32
    "1398/07/31",  # Mehr has 30 days
    "1398/12/30",  # 30 Esfand in a common year
    "1398/01/00",
    "2019-02-29",  # not a leap year
    "2019-13-01",
    "05/06/2019",  # day first: ambiguous, refused
    "98/03/15",  # a two-digit year
    "1398/03-15",  # two separators
    "2019-06-05 25:00",  # no such hour
    "۱۳۹۸/۱۳/۰۱",
]


@pytest.mark.parametrize("cell", INVALID)
def test_a_date_that_does_not_exist_is_unreadable(cell):
    parsed = parse_year(pa.array([cell, "1398/01/01", None]), YEAR)
    assert parsed.unreadable.tolist() == [True, False, False]
    assert math.isnan(parsed.values[0]) and parsed.values[1] == 2019.0
    assert parsed.problem == NOT_A_DATE


def test_bad_dates_beside_bad_numbers_and_fractions():
    parsed = parse_year(pa.array(["1398/13/01", "abc", "2001"]), YEAR)
    assert parsed.unreadable.tolist() == [True, True, False]
    assert parsed.problem == "is not a year or a date"
    fraction = parse_year(pa.array(["1398/13/01", "1400.5", "2001"]), YEAR)
    assert fraction.unreadable.tolist() == [True, True, False]
    assert fraction.fractional.tolist() == [False, True, False]
    assert fraction.problem == NOT_A_DATE  # the fraction keeps its own message


def test_year_columns_without_jalali_years_read_every_date_as_gregorian():
    column = Column(name="year", type="year")
    parsed = parse_year(pa.array(["1398/03/15", "2019-06-05"]), column)
    assert parsed.values.tolist() == [1398.0, 2019.0]
    assert dates.year_of_date("1398/12/30") == 1398  # a Gregorian 30 December


def test_typed_date_cells_are_their_year():
    days = pa.array([dt.date(2019, 6, 5), None, dt.date(2020, 1, 1)])
    assert parse_year(days, YEAR).values[[0, 2]].tolist() == [2019.0, 2020.0]
    stamps = pa.array([dt.datetime(2019, 12, 31, 23, 0), None], pa.timestamp("us"))
    parsed = parse_year(stamps, YEAR)
    assert parsed.values[0] == 2019.0 and math.isnan(parsed.values[1])


def test_each_distinct_date_is_read_once(monkeypatch):
    calls: list[str] = []
    year_of_date = dates.year_of_date

    def counted(text, jalali_years=None):
        calls.append(text)
        return year_of_date(text, jalali_years)

    monkeypatch.setattr(dates, "year_of_date", counted)
    cells = ["1398/10/12", "۱۳۹۸/۰۳/۱۵", "1990", None, "1398/13/01"] * 4000
    parsed = parse_year(pa.array(cells), YEAR)
    assert sorted(calls) == ["1398/03/15", "1398/10/12", "1398/13/01"]
    expected = np.tile([2020.0, 2019.0, 1990.0, np.nan, np.nan], 4000)
    np.testing.assert_array_equal(parsed.values, expected)
    assert parsed.unreadable.sum() == 4000


# --- properties -----------------------------------------------------------------------------

FIRST_DAY = jdatetime.date(1280, 1, 1).togregorian().toordinal()
LAST_DAY = jdatetime.date(1450, 12, 29).togregorian().toordinal()
_OFFSETS = np.cumsum([0] + [31] * 6 + [30] * 5)  # days before each Jalali month


def _gregorian_year_by_offset(year: int, month: int, day: int) -> int:
    """A second method: Nowruz of ``year`` plus the days into the year, by month lengths."""
    nowruz = jdatetime.date(year, 1, 1).togregorian()
    return (nowruz + dt.timedelta(days=int(_OFFSETS[month - 1]) + day - 1)).year


@settings(max_examples=300, deadline=None)
@given(
    st.integers(FIRST_DAY, LAST_DAY),
    st.sampled_from("/-."),
    st.booleans(),
    st.sampled_from(["0123456789", PERSIAN, ARABIC]),
    st.sampled_from(["", " 00:00:00", "T12:30"]),
)
def test_random_jalali_dates_in_every_form(ordinal, separator, padded, digits, time):
    day = jdatetime.date.fromgregorian(date=dt.date.fromordinal(ordinal))
    width = 2 if padded else 1
    text = separator.join(
        [str(day.year), str(day.month).zfill(width), str(day.day).zfill(width)]
    )  # fmt: skip
    cell = _digits(text + time, digits)
    expected = _gregorian_year_by_offset(day.year, day.month, day.day)
    assert expected == dt.date.fromordinal(ordinal).year
    parsed = parse_year(pa.array([cell]), YEAR)
    assert parsed.values.tolist() == [float(expected)], cell
    assert not parsed.unreadable.any()


@settings(max_examples=200, deadline=None)
@given(
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
    st.sampled_from("/-."),
    st.sampled_from(["0123456789", PERSIAN, ARABIC]),
)
def test_random_gregorian_dates(day, separator, digits):
    cell = _digits(separator.join([f"{day.year}", f"{day.month:02}", f"{day.day:02}"]), digits)
    assert _years([cell]) == [float(day.year)]


@settings(max_examples=200, deadline=None)
@given(st.integers(1280, 1450), st.integers(1, 12), st.integers(29, 33))
def test_days_past_a_month_end_are_never_read(year, month, day):
    length = 31 if month <= 6 else 30 if month <= 11 else 30 if _is_leap(year) else 29
    parsed = parse_year(pa.array([f"{year}/{month:02}/{day:02}"]), YEAR)
    assert bool(parsed.unreadable[0]) == (day > length)


def _is_leap(year: int) -> bool:
    try:
        jdatetime.date(year, 12, 30)
    except ValueError:
        return False
    return True


# --- through a file -------------------------------------------------------------------------

REQUIRED = ["coop_id", "province", "sector", "members", "installed_capacity", "actual_output",
            "revenue"]  # fmt: skip
GOOD = ["tehran", "mining", 5, 100, 50, 10]


def test_excel_date_cells_and_jalali_texts_in_a_workbook(tmp_path):
    import xlsxwriter

    path = tmp_path / "dates.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [*REQUIRED, "سال تاسیس"])
    cells = [
        dt.datetime(2019, 6, 5),
        dt.datetime(2019, 12, 31, 10, 30),
        "۱۳۹۸/۱۰/۱۲",
        "1398/09/30",
        "۱۳۹۸/۱۳/۰۱",
        1398,
    ]
    for i, cell in enumerate(cells, start=1):
        sheet.write_row(i, 0, [f"C{i}", *GOOD])
        if isinstance(cell, dt.datetime):
            sheet.write_datetime(i, len(REQUIRED), cell, day)
        else:
            sheet.write(i, len(REQUIRED), cell)
    book.close()
    collected = collect_file(path, CONTRACT)
    valid = collected.valid.set_index("coop_id")["established_year"]
    assert valid.to_dict() == {"C1": 2019.0, "C2": 2019.0, "C3": 2020.0, "C4": 2019.0,
                               "C6": 2019.0}  # fmt: skip
    assert collected.rejects[["row", "coop_id", "error"]].values.tolist() == [
        [6, "C5", "established_year: '۱۳۹۸/۱۳/۰۱' is not a date"]
    ]
    report = collected.report
    assert report.rows_read == report.rows_valid + report.rows_rejected == 6


def test_a_csv_date_column_rejects_what_is_not_a_date(tmp_path):
    path = tmp_path / "dates.csv"
    lines = [",".join([*REQUIRED, "established_year"])]
    for i, cell in enumerate(["1398/13/01", "abc", "1398-10-12", "1400.5"], start=1):
        lines.append(",".join([f"C{i}", *map(str, GOOD), cell]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    collected = collect_file(path, CONTRACT)
    assert collected.valid["established_year"].tolist() == [2020.0]
    assert collected.rejects["error"].tolist() == [
        "established_year: '1398/13/01' is not a year or a date",
        "established_year: 'abc' is not a year or a date",
        "established_year: '1400.5' is not a whole number",
    ]
