"""Build the registry-export fixtures of this folder, the way a ministry export is made.

``coops-fa.xlsx``: a Persian sheet as an officer receives it (a merged title cell on row 1, a
report-date row, the header on row 4, the table from column B, units and notes in headers,
Persian digits, full Jalali dates, a blank row, two rows with real errors, a totals row).
``coops-fa-utf16.txt``: the same sheet saved by Excel as "Unicode text" (UTF-16LE with a
byte-order mark, tab separated, CRLF). ``coops-en.csv``: the canonical English twin (contract
headers, ASCII digits, million rials, fractions, Gregorian years; no title, blank or totals row).

Run ``python tests/data/exports/make_exports.py`` to rebuild them; the files are committed.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import jdatetime
import xlsxwriter

HERE = Path(__file__).resolve().parent
PERSIAN = str.maketrans("0123456789.,", "۰۱۲۳۴۵۶۷۸۹٫٬")

#: The table in its canonical English form; None is an empty cell. Two rows hold real errors
#: (members 0; a capacity that is not a number). Dates in the Persian sheet are the Jalali
#: `founded` ones: their Gregorian year is the English `established_year`.
COLUMNS = [
    "coop_id", "name", "province", "sector", "established_year", "members", "employees",
    "installed_capacity", "actual_output", "revenue", "revenue_prev", "product_lines",
    "export_revenue", "export_markets", "iso9001", "intl_certifications", "standard_mark",
    "defect_rate", "debt_ratio", "commercial_card",
]  # fmt: skip
#: Persian headers as officers write them: units, notes, a question.
PERSIAN_HEADERS = [
    "شناسه تعاونی", "نام تعاونی", "استان", "بخش", "سال تاسیس", "تعداد اعضا", "تعداد کارکنان",
    "ظرفیت اسمی (تن)", "تولید واقعی (تن)", "فروش (میلیون ریال)", "فروش سال قبل (میلیون ریال)",
    "تعداد محصولات", "فروش صادراتی (میلیارد ریال)", "تعداد بازارهای صادراتی", "ایزو ۹۰۰۱",
    "گواهینامه های بین المللی", "نشان استاندارد", "نرخ ضایعات (٪)", "نسبت بدهی",
    "کارت بازرگانی دارد؟",
]  # fmt: skip
PROVINCES = {"tehran": "تهران", "esfahan": "اصفهان", "fars": "فارس", "khorasan_razavi":
             "خراسان رضوی", "east_azerbaijan": "آذربایجان شرقی", "yazd": "یزد"}  # fmt: skip
SECTORS = {"industrial": "صنعتی", "agriculture": "کشاورزی", "food_processing": "صنایع غذایی",
           "handicrafts": "صنایع دستی", "textiles": "نساجی"}  # fmt: skip
YES_NO = {"yes": "بله", "no": "خیر"}
CARD = {"yes": "دارد", "no": "ندارد"}

# Each row: (english values..., founded as written in the Persian sheet, export revenue in
# billion rials as written, defect rate in percent as written).
ROWS = [
    # Dey 15, 1398 is 5 January 2020: a Dey-Esfand date falls in the next Gregorian year.
    (["1001", "Golbahar", "tehran", "food_processing", None, 25, 40, 1200.0, 950.0, 48000.0,
      41000.0, 6, 19581.0, 4, "yes", 2, "yes", 0.045, 0.35, "yes"],
     "۱۳۹۸/۱۰/۱۵", "۱۹٫۵۸۱", "۴٫۵"),
    (["1002", "Sepid Dasht", "esfahan", "agriculture", None, 140, 18, 5400.0, 3100.0, 12500.0,
      13900.0, 3, None, 0, "no", 0, "yes", 0.0389, 0.62, "no"],
     "۱۳۹۰", None, "۳٫۸۹"),
    (["1003", "Faraz", "fars", "industrial", None, 0, 12, 800.0, 640.0, 9700.0, 8800.0, 4,
      750.0, 1, "yes", 1, "no", 0.01, 0.41, "yes"],
     "۱۳۹۵/۰۳/۲۰", "۰٫۷۵", "۱"),  # members 0: an error
    (["1004", "Noor Baft", "yazd", "textiles", None, 33, 51, 2600.0, 2590.0, 61000.0, 52000.0,
      9, 24000.0, 6, "yes", 3, "yes", 0.12, 0.18, "yes"],
     "۱۳۹۵/۱۲/۲۸", "۲۴", "۱۲"),  # Esfand 28, 1395 is 18 March 2017
    (["1005", "Kavir Sabz", "khorasan_razavi", "agriculture", None, 210, 7, 15000.0, 4200.0,
      7300.0, None, 2, None, None, "no", None, "no", None, 0.9, "no"],
     "1385-07-10", None, None),
    (["1006", "Tabriz Handmade", "east_azerbaijan", "handicrafts", None, 12, 15, 300.5, 288.25,
      5200.0, 4900.0, 14, 2400.0, 7, "no", 0, "yes", 0.005, 0.22, "yes"],
     "۱۳۸۸.۱۱.۰۲", "۲٫۴", "۰٫۵"),  # Bahman 2, 1388 is 22 January 2010
    (["1007", "Arya Felez", "tehran", "industrial", None, 9, 60, 9000.0, "unknown", 88000.0,
      79000.0, 5, 31000.0, 3, "yes", 2, "yes", 0.02, 0.5, "yes"],
     "۱۳۹۲/۰۱/۱۵", "۳۱", "۲"),  # output not a number: an error
    (["1008", "Mahtab", "fars", "food_processing", None, 48, 22, 1800.0, 1500.0, 23500.0,
      20500.0, 7, 3525.5, 2, "yes", 1, "yes", 0.031, 0.27, "no"],
     "۱۴۰۰", "۳٫۵۲۵۵", "۳٫۱"),
    (["1009", "Baran", "yazd", "textiles", None, 17, 30, 2200.0, 1980.0, 31000.0, 26000.0,
      4, 0.0, 0, "no", 0, "no", 0.06, 0.44, "no"],
     "۱۳۹۹/۰۹/۳۰", "۰", "۶"),  # Azar 30, 1399 is 20 December 2020
    (["1010", "Shahd", "esfahan", "food_processing", None, 64, 35, 4100.0, 3650.0, 42000.0,
      37000.0, 8, 8900.0, 5, "yes", 2, "yes", 0.015, 0.31, "yes"],
     "۱۳۹۷/۱۱/۱۱", "۸٫۹", "۱٫۵"),  # Bahman 11, 1397 is 31 January 2019
]  # fmt: skip
PERSIAN_NAMES = ["گلبهار", "سپید دشت", "فراز", "نور بافت", "کویر سبز", "دستباف تبریز",
                 "آریا فلز", "مهتاب", "باران", "شهد"]  # fmt: skip
TITLE = "گزارش تعاونی‌های تولیدی متقاضی حمایت صادراتی"
REPORT_DATE = "تاریخ گزارش: ۱۴۰۳/۰۹/۱۰"
HEADER_ROW = 4  # sheet rows, 1-based
BLANK_AFTER = 5  # a blank row after the fifth cooperative


def gregorian_year(jalali: str) -> int:
    """The Gregorian year of a Jalali date (year/month/day, any digits or separator), or a
    bare Jalali year's first day (Farvardin 1)."""
    text = jalali.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    parts = [int(p) for p in text.replace("-", "/").replace(".", "/").split("/")]
    year, month, day = [*parts, 1, 1][:3]
    if len(parts) == 1:
        return year + 621  # the contract's rule for a bare Jalali year
    return jdatetime.date(year, month, day).togregorian().year


def english_rows() -> list[list[object]]:
    rows = []
    for values, founded, _, _ in ROWS:
        row = list(values)
        row[4] = gregorian_year(founded)
        rows.append(row)
    return rows


def persian(value: object) -> str:
    """A number as a Persian export writes it: Persian digits, ٬ thousands, ٫ decimals."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:,}" if isinstance(value, int) else str(value)
    return text.translate(PERSIAN)


def persian_rows() -> list[list[object]]:
    """Cells of the Persian sheet, left to right; numbers are floats where Excel holds a number."""
    rows = []
    for (values, founded, export_billion, defect_percent), name in zip(
        ROWS, PERSIAN_NAMES, strict=True
    ):
        v = dict(zip(COLUMNS, values, strict=True))
        rows.append([
            persian(int(v["coop_id"])).replace("٬", ""),
            name,
            PROVINCES[v["province"]],
            SECTORS[v["sector"]],
            founded,
            float(v["members"]),  # a number cell
            persian(v["employees"]),
            persian(v["installed_capacity"]),
            persian(v["actual_output"]) if v["actual_output"] != "unknown" else "نامشخص",
            persian(v["revenue"]),
            None if v["revenue_prev"] is None else float(v["revenue_prev"]),
            float(v["product_lines"]),
            export_billion,
            None if v["export_markets"] is None else persian(v["export_markets"]),
            YES_NO[v["iso9001"]],
            None if v["intl_certifications"] is None else float(v["intl_certifications"]),
            CARD[v["standard_mark"]],
            defect_percent,
            persian(v["debt_ratio"]),
            YES_NO[v["commercial_card"]],
        ])  # fmt: skip
    return rows


def totals_row(rows: list[list[object]]) -> list[object]:
    """``جمع کل`` with the sums a registry prints under its table."""
    members = sum(int(r[5]) for r in rows)
    revenue = sum(v[9] for v, *_ in ROWS)
    empty = [None] * 10
    return ["جمع کل", None, None, None, None, float(members), None, None, None,
            persian(revenue), *empty]  # fmt: skip


def sheet_rows() -> list[list[object] | None]:
    """The sheet from row 1, column B on: title rows, header, table; None is a blank row."""
    body = persian_rows()
    table: list[list[object] | None] = [*body[:BLANK_AFTER], None, *body[BLANK_AFTER:]]
    return [[TITLE], [REPORT_DATE], None, PERSIAN_HEADERS, *table, totals_row(body)]


def write_xlsx(path: Path) -> None:
    book = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"created": dt.datetime(2024, 11, 30, 9, 0, 0)})
    sheet = book.add_worksheet("تعاونی ها")
    sheet.right_to_left()
    bold = book.add_format({"bold": True, "align": "center"})
    width = len(PERSIAN_HEADERS)
    for r, cells in enumerate(sheet_rows()):
        if cells is None:
            continue
        if r == 0:  # the title, merged over the table's width
            sheet.merge_range(0, 1, 0, width, cells[0], bold)
            continue
        for c, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, float):
                sheet.write_number(r, c + 1, value)
            else:
                sheet.write_string(r, c + 1, value)
    book.close()


def write_unicode_text(path: Path) -> None:
    """The sheet as Excel's "Unicode text": every row from column A, tabs, CRLF, UTF-16LE."""
    width = 1 + len(PERSIAN_HEADERS)
    lines = []
    for cells in sheet_rows():
        texts = [""] * width
        for c, value in enumerate(cells or []):
            texts[c + 1] = "" if value is None else _displayed(value)
        lines.append("\t".join(texts))
    path.write_bytes(b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le"))


def _displayed(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def write_english(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in english_rows():
            writer.writerow(["" if v is None else _plain(v) for v in row])


def _plain(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def main() -> None:
    write_xlsx(HERE / "coops-fa.xlsx")
    write_unicode_text(HERE / "coops-fa-utf16.txt")
    write_english(HERE / "coops-en.csv")


if __name__ == "__main__":
    main()
