"""Dates written in year columns: a full Jalali or Gregorian date read as its Gregorian year.

Registry exports put ``۱۳۹۸/۰۳/۱۵``, ``2019-06-05`` or an Excel date cell where a year is asked
for; the year that counts is the Gregorian year of that day (Dey-Esfand fall in the next one).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import jdatetime
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring.buffers import text_buffers

__all__ = ["DateYears", "read_date_years", "year_of_date"]

#: What a date looks like before it is checked: three runs of digits joined by ``/``, ``-`` or
#: ``.``, maybe a time (Excel date-time cells read as ``2019-06-05 00:00:00``). Cells of this
#: shape are read as dates, or are not dates; every other cell is left to the number parser.
_DATE_SHAPE = r"^[0-9]{1,4}[-/.][0-9]{1,4}[-/.][0-9]{1,4}([ T][0-9:.]*)?$"
#: The dates read: year first with four digits (day-first forms such as 05/06/2019 are
#: ambiguous), one separator used twice, a time of day that exists.
_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
    r"(?:[ T](?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.[0-9]+)?)?)?"
)
_SEPARATORS = np.array([ord("/"), ord("-"), ord(".")], dtype=np.uint8)


@dataclass
class DateYears:
    """The cells of a column written as dates, and the Gregorian year of each."""

    #: Cells shaped like a date (valid or not).
    dated: np.ndarray
    #: Their Gregorian years; NaN elsewhere and where the date does not exist.
    years: np.ndarray
    #: Cells shaped like a date that is not one (month 13, day 32, 30 Esfand of a common year).
    invalid: np.ndarray


def year_of_date(text: str, jalali_years: tuple[float, float] | None = None) -> int | None:
    """The Gregorian year of the day written in ``text``, or None when it is not a date.

    Parameters
    ----------
    text
        A date written year first, with ASCII digits: ``1398/03/15``, ``2019-06-05``,
        ``1403.12.30``, optionally followed by a time (``2019-06-05 00:00:00``).
    jalali_years
        ``(first, last)``: a date whose year lies in this range is a Jalali (Solar Hijri) date,
        converted by the calendar (``1398/10/12`` is 2 January 2020, so 2020); other years
        are Gregorian. None: every date is Gregorian.
    """
    match = _DATE.fullmatch(text)
    if match is None or not _is_time_of_day(match):
        return None
    year, month, day = (int(match[part]) for part in ("year", "month", "day"))
    try:
        if jalali_years is not None and jalali_years[0] <= year <= jalali_years[1]:
            return jdatetime.date(year, month, day).togregorian().year
        return dt.date(year, month, day).year
    except ValueError:  # no such day: month 13, day 32, 30 Esfand of a common year ...
        return None


def read_date_years(text: pa.Array, jalali_years: tuple[float, float] | None) -> DateYears | None:
    """The cells of a text column that are written as dates, and their Gregorian years.

    Parameters
    ----------
    text
        Trimmed cells with ASCII digits (as :func:`scoring.normalize.translate_digits` gives).
    jalali_years
        As for :func:`year_of_date`.

    Returns
    -------
    DateYears or None
        None when no cell is shaped like a date. Each distinct cell is read once: a column
        holds few distinct dates however long it is.
    """
    _, data = text_buffers(text)
    if not np.isin(data, _SEPARATORS).any():  # plain years: no date to look for
        return None
    encoded = pc.dictionary_encode(text)
    shaped = pc.fill_null(pc.match_substring_regex(encoded.dictionary, _DATE_SHAPE), False)
    where = np.flatnonzero(shaped.to_numpy(zero_copy_only=False))
    if not len(where):
        return None
    # One slot per distinct cell and a last one that missing cells (code -1) pick.
    years = np.full(len(encoded.dictionary) + 1, np.nan)
    dated = np.zeros(len(encoded.dictionary) + 1, dtype=bool)
    dated[where] = True
    for position, cell in zip(where, encoded.dictionary.take(where).to_pylist(), strict=True):
        year = year_of_date(cell, jalali_years)
        if year is not None:
            years[position] = year
    codes = pc.fill_null(encoded.indices, -1).to_numpy()
    cell_dated, cell_years = dated[codes], years[codes]
    return DateYears(cell_dated, cell_years, cell_dated & np.isnan(cell_years))


def _is_time_of_day(match: re.Match[str]) -> bool:
    if match["hour"] is None:
        return True
    second = 0 if match["second"] is None else int(match["second"])
    return int(match["hour"]) < 24 and int(match["minute"]) < 60 and second < 60
