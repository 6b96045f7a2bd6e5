"""Tests of output in the reader's language (scoring.localize): Persian headers from the
contract, reject messages naming columns as the file headed them, the summary sheet's words."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from scoring.batch import OPTIONAL_COLUMNS, SCORE_COLUMNS, score_file
from scoring.contract import contract_from_dict, load_contract
from scoring.localize import RejectTranslator, output_headers, summary_sections
from scoring.sample import generate_sample, to_english_table, to_persian_table
from scoring.validation import REJECT_COLUMNS
from scoring.workbook import Cell

CONTRACT = load_contract()
#: Every output column's Persian header, as the contract's [output_labels] should give it.
PERSIAN_HEADERS = {
    "coop_id": "شناسه تعاونی",
    "export_probability": "احتمال صادرات",
    "readiness_score": "امتیاز آمادگی",
    "readiness_tier": "سطح آمادگی",
    "tier_name": "نام سطح",
    "reason_1": "دلیل اول",
    "reason_2": "دلیل دوم",
    "reason_3": "دلیل سوم",
    "capacity_score": "امتیاز ظرفیت",
    "quality_score": "امتیاز کیفیت",
    "output_score": "امتیاز تولید و فروش",
    "market_score": "امتیاز بازار",
    "sector_percentile": "صدک در بخش",
    "next_step": "گام بعدی",
    "next_step_score": "امتیاز پس از گام بعدی",
    "row": "ردیف",
    "error": "خطا",
}
#: As the file headed its columns (a Persian registry export with a unit in one header).
FILE_HEADERS = {"members": "تعداد اعضا", "revenue": "فروش (میلیارد ریال)", "coop_id": "کد"}


# --- headers ----------------------------------------------------------------------------------


def test_every_output_column_has_a_persian_header():
    scores, rejects = [*SCORE_COLUMNS, *OPTIONAL_COLUMNS], REJECT_COLUMNS
    assert set(scores) | set(rejects) == set(PERSIAN_HEADERS)
    assert output_headers(CONTRACT, "fa", scores) == {c: PERSIAN_HEADERS[c] for c in scores}
    assert output_headers(CONTRACT, "fa", rejects) == {c: PERSIAN_HEADERS[c] for c in rejects}
    assert len(set(PERSIAN_HEADERS.values())) == len(PERSIAN_HEADERS)  # no two alike


@pytest.mark.parametrize("lang", [None, "en"])
def test_english_headers_are_the_names(lang):
    names = [*SCORE_COLUMNS, *OPTIONAL_COLUMNS, "name", "province"]
    assert output_headers(CONTRACT, lang, names) == {n: n for n in names}


def test_kept_columns_take_their_columns_persian_name_and_never_a_taken_header():
    headers = output_headers(
        CONTRACT, "fa", ["coop_id", "name", "province", "نام", "Notes", "شناسه تعاونی"]
    )
    assert headers == {
        "coop_id": "شناسه تعاونی",
        "name": "نام تعاونی",
        "province": "استان",
        "نام": "نام",  # a header as the file wrote it stays
        "Notes": "Notes",  # not a contract column
        "شناسه تعاونی": "شناسه تعاونی",  # its own name: the caller refuses such a kept column
    }


def test_the_tiers_c_and_d_are_named_apart():
    names = {t: CONTRACT.tier_label(t, "fa") for t in "ABCD"}
    assert names == {"A": "آماده صادرات", "B": "نزدیک به آمادگی", "C": "در حال توسعه",
                     "D": "آماده نیست"}  # fmt: skip
    assert not set(names["C"].split()) & set(names["D"].split())  # no word shared


def test_a_contract_stored_without_output_labels_takes_the_packaged_ones():
    document = CONTRACT.to_dict()
    del document["output_labels"]
    older = contract_from_dict(document)
    assert older.output_label("readiness_tier", "fa") == "سطح آمادگی"
    assert older.output_label("readiness_tier", "en") == "readiness_tier"


# --- reject messages --------------------------------------------------------------------------

MESSAGES = [
    ("members: 'ده' is not a number", "تعداد اعضا: «ده» عدد نیست"),
    ("members: '2.5' is not a whole number", "تعداد اعضا: «2.5» عدد صحیح نیست"),
    ("members: 'inf' is not a finite number", "تعداد اعضا: «inf» عدد معتبر نیست"),
    ("members: is empty but required", "تعداد اعضا: خالی است ولی الزامی است"),
    ("members: '-3' is below the minimum 1", "تعداد اعضا: «-3» کمتر از حداقل ۱ است"),
    ("revenue: '-5' is below the minimum 0", "فروش (میلیارد ریال): «-5» کمتر از حداقل ۰ است"),
    ("installed_capacity: '0' must be greater than 0",
     "ظرفیت اسمی: «0» باید بیشتر از ۰ باشد"),  # absent from FILE_HEADERS: its Persian name
    ("defect_rate: '1.5' is above the maximum 1", "نرخ ضایعات: «1.5» بیشتر از حداکثر ۱ است"),
    ("defect_rate: '2' must be less than 1.5", "نرخ ضایعات: «2» باید کمتر از ۱٫۵ باشد"),
    ("established_year: '13x' is not a year or a date",
     "سال تاسیس: «13x» سال یا تاریخ نیست"),
    ("established_year: '1398/13/40' is not a date", "سال تاسیس: «1398/13/40» تاریخ نیست"),
    ("iso9001: 'maybe' is not yes/no", "ایزو ۹۰۰۱: «maybe» بله/خیر نیست"),
    ("exported_next_year: '2' is not 0/1", "صادرات سال بعد: «2» ۰ یا ۱ نیست"),
    ("coop_id: 'C7' repeats row 12", "کد: «C7» تکرار ردیف ۱۲ است"),
    ("coop_id: '12345678901234567890' is too large to be an exact id (store ids as text)",
     "کد: «12345678901234567890» بزرگ‌تر از آن است که شناسه‌ای دقیق باشد "
     "(شناسه‌ها را به صورت متن ذخیره کنید)"),
    ("totals row", "ردیف جمع است، نه یک تعاونی"),
    ("row has 9 fields, the header has 21", "ردیف ۹ خانه دارد ولی سطر عنوان ۲۱ خانه"),
    ("column 'نام' holds a NUL byte (binary data, not text)",
     "ستون «نام» بایت NUL دارد (داده دودویی است، نه متن)"),
    ("column 'نام' is not valid windows-1256 text", "ستون «نام» متن معتبر windows-1256 نیست"),
    # Several problems of one row, and cells holding a quote, a semicolon or nothing.
    ("members: 'ده' is not a number; sector: is empty but required",
     "تعداد اعضا: «ده» عدد نیست؛ بخش: خالی است ولی الزامی است"),
    ("members: 'a'; b' is not a number", "تعداد اعضا: «a'; b» عدد نیست"),
    ("members: '' is not a number", "تعداد اعضا: «» عدد نیست"),
    # Problem kinds as the summary counts them (no cell).
    ("members: is not a number", "تعداد اعضا: عدد نیست"),
    ("coop_id: repeats an earlier row", "کد: تکرار یک ردیف قبلی است"),
]  # fmt: skip


@pytest.mark.parametrize(("english", "persian"), MESSAGES)
def test_each_kind_of_reject_message_in_persian(english, persian):
    assert RejectTranslator(CONTRACT, "fa", FILE_HEADERS).message(english) == persian


@pytest.mark.parametrize("lang", [None, "en"])
def test_english_messages_stay_as_they_are(lang):
    translator = RejectTranslator(CONTRACT, lang, FILE_HEADERS)
    for english, _ in MESSAGES:
        assert translator.message(english) == english


def test_a_message_of_an_unknown_kind_is_kept_from_where_it_is_unknown():
    translator = RejectTranslator(CONTRACT, "fa", FILE_HEADERS)
    assert translator.message("a new kind of problem") == "a new kind of problem"
    assert (
        translator.message("members: 'x' is not a number; name: 'y' glows")
        == "تعداد اعضا: «x» عدد نیست؛ name: 'y' glows"
    )


def test_a_reject_table_keeps_its_columns_and_translates_its_messages():
    rejects = pd.DataFrame(
        {"row": [2, 5], "coop_id": ["C1", ""], "error": ["members: 'ده' is not a number",
                                                        "totals row"]}
    )  # fmt: skip
    table = RejectTranslator(CONTRACT, "fa", FILE_HEADERS).table(rejects)
    assert table.columns.tolist() == ["row", "coop_id", "error"]  # the writer heads them
    assert table["error"].tolist() == ["تعداد اعضا: «ده» عدد نیست", "ردیف جمع است، نه یک تعاونی"]
    assert table["row"].tolist() == [2, 5] and table["coop_id"].tolist() == ["C1", ""]
    assert RejectTranslator(CONTRACT, None).table(rejects) is rejects


def _damaged(table: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    """A copy with one problem of each kind the validator finds in a cell, by column name."""
    table = table.copy()
    column = {name: headers.get(name, name) for name in CONTRACT.names}
    table.loc[0, column["members"]] = "ده"
    table.loc[1, column["members"]] = "2.5"
    table.loc[2, column["revenue"]] = "-4"
    table.loc[3, column["installed_capacity"]] = "0"
    table.loc[4, column["defect_rate"]] = "1.7"
    table.loc[5, column["established_year"]] = "13x"
    table.loc[6, column["iso9001"]] = "maybe"
    table.loc[7, column["sector"]] = ""
    table.loc[8, column["coop_id"]] = table.loc[3, column["coop_id"]]
    table.loc[9, column["coop_id"]] = "جمع کل"
    return table


def test_a_persian_file_rejects_in_persian_naming_its_headers(scoring_model, tmp_path):
    frame, _ = generate_sample(60, seed=31, labelled=False)
    table = to_persian_table(frame)
    persian_headers = {c.name: c.fa for c in CONTRACT.columns}
    _damaged(table, persian_headers).to_csv(tmp_path / "in.csv", index=False)
    score_file(tmp_path / "in.csv", scoring_model, tmp_path / "out.csv", lang="fa",
               rejects=tmp_path / "rejects.csv")  # fmt: skip
    raw = (tmp_path / "rejects.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel on Windows then reads the Persian
    rejects = pd.read_csv(tmp_path / "rejects.csv", encoding="utf-8-sig", dtype=str)
    assert rejects.columns.tolist() == ["ردیف", "شناسه تعاونی", "خطا"]
    errors = dict(zip(rejects["ردیف"].astype(int), rejects["خطا"], strict=True))
    assert errors[2] == "تعداد اعضا: «ده» عدد نیست"  # row 2 of the sheet: the first data row
    assert errors[3] == "تعداد اعضا: «2.5» عدد صحیح نیست"
    assert errors[5] == "ظرفیت اسمی: «0» باید بیشتر از ۰ باشد"
    assert errors[9] == "بخش: خالی است ولی الزامی است"
    assert errors[11] == "ردیف جمع است، نه یک تعاونی"
    assert len(errors) == 10
    for error in rejects["خطا"]:  # Persian but for the quoted cells and the letters A-Z of ISO
        outside_quotes = re.sub(r"«[^»]*»", "", error)
        assert not re.search(r"[a-z]{3,}", outside_quotes), error


def test_an_english_headed_file_is_named_as_it_is_headed_and_english_stays(scoring_model, tmp_path):
    frame, _ = generate_sample(60, seed=32, labelled=False)
    _damaged(to_english_table(frame), {}).to_csv(tmp_path / "in.csv", index=False)
    for lang in ("fa", None):
        score_file(tmp_path / "in.csv", scoring_model, tmp_path / f"{lang}.csv", lang=lang,
                   rejects=tmp_path / f"{lang}-rejects.csv")  # fmt: skip
    persian = pd.read_csv(tmp_path / "fa-rejects.csv", encoding="utf-8-sig", dtype=str)
    assert persian["خطا"].iloc[0] == "members: «ده» عدد نیست"  # the file's header, in Persian
    english = (tmp_path / "None-rejects.csv").read_bytes()
    assert not english.startswith(b"\xef\xbb\xbf")  # English: as it always was
    assert english.decode("utf-8").splitlines()[:2] == [
        '"row","coop_id","error"',
        f'2,"{frame["coop_id"].iloc[0]}","members: \'ده\' is not a number"',
    ]


# --- the summary sheet's words ----------------------------------------------------------------

SUMMARY = {
    "model": "export-readiness@1",
    "source": "list.csv",
    "started": "2026-01-01T00:00:00+00:00",
    "rows_read": 10,
    "rows_scored": 8,
    "rows_rejected": 2,
    "tiers": {"A": 1, "B": 2, "C": 3, "D": 2},
    "mean_probability": 0.25,
    "columns_found": {"members": "تعداد اعضا", "revenue": "فروش"},
    "columns_absent": ["debt_ratio"],
    "headers_unmatched": ["یادداشت"],
    "unknown_categories": {"sector": {"fishing": 3}},
    "most_common_problems": {"members: is not a number": 2},
    "drift": [{"feature": "utilization", "psi": 0.31, "verdict": "shifted"},
              {"feature": "sector", "psi": 0.5, "verdict": "too_few_rows"}],
}  # fmt: skip


def test_the_summary_sheet_in_persian():
    blocks = dict((heading[0], rows) for heading, rows in summary_sections(SUMMARY, CONTRACT, "fa"))
    facts = dict(blocks["اجرا"])
    assert facts["ردیف‌های خوانده‌شده"] == 10 and facts["ردیف‌های ردشده"] == 2
    assert facts["میانگین احتمال صادرات"] == Cell(0.25, "0.0%")
    assert blocks["سطح"] == [("A", "آماده صادرات", 1), ("B", "نزدیک به آمادگی", 2),
                             ("C", "در حال توسعه", 3), ("D", "آماده نیست", 2)]  # fmt: skip
    assert blocks["ستون"] == [("تعداد اعضا", "تعداد اعضا"), ("فروش (میلیون ریال)", "فروش")]
    assert dict(blocks[""]) == {"ستون‌های مدل که فایل ندارد": "نسبت بدهی",
                                "عنوان‌هایی که به هیچ ستونی نخوردند": "یادداشت"}  # fmt: skip
    assert blocks["مقدارهای ناشناخته (سایر)"] == [("بخش", "fishing", 3)]
    assert blocks["رایج‌ترین خطاها"] == [("تعداد اعضا: عدد نیست", 2)]
    assert blocks["جابه‌جایی توزیع: ویژگی"] == [
        ("میزان استفاده از ظرفیت", Cell(0.31, "0.000"), "جابه‌جا شده"),
        ("بخش", Cell(0.5, "0.000"), "ردیف‌ها برای داوری کم است"),
    ]


def test_the_summary_sheet_in_english_names_things_as_the_summary_json_does():
    blocks = dict((heading[0], rows) for heading, rows in summary_sections(SUMMARY, CONTRACT, None))
    assert dict(blocks["Run"])["rows scored"] == 8
    assert blocks["tier"][3] == ("D", "not ready", 2)
    assert blocks["column"] == [("members", "تعداد اعضا"), ("revenue", "فروش")]
    assert blocks["most common problems"] == [("members: is not a number", 2)]
    assert blocks["drift: feature"][0] == ("utilization", Cell(0.31, "0.000"), "shifted")
    empty = {**SUMMARY, "columns_absent": [], "headers_unmatched": []}
    lists = dict((h[0], rows) for h, rows in summary_sections(empty, CONTRACT, None))[""]
    assert [value for _, value in lists] == ["none", "none"]
    assert np.isclose(dict(blocks["Run"])["mean probability"].value, 0.25)
