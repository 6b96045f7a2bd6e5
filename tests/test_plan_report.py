"""Tests of the plan report (scoring.report.plan) on a small hand-made plan: its figures per
programme, province and rule of thumb, its tier moves and funded list, English and Persian
headers read alike, the page in both languages, and the plan's headline sentence."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from scoring.errors import ContractError, InputFileError
from scoring.planning import plan_headline
from scoring.report import plan_report_data, render_plan_report
from scoring.report.plan import generated_date

PERSIAN = re.compile("[\u0600-\u06ff]")
#: Five funded cooperatives, two of them in Tehran (one written in Persian, as a --lang fa plan
#: writes it), two in Fars.
PLAN = pd.DataFrame(
    {
        "coop_id": ["C1", "C2", "C3", "C4", "C5"],
        "program": ["iso", "card", "card", "iso", "market"],
        "cost": [300, 60, 60, 300, 150],
        "probability_before": [0.45, 0.20, 0.10, 0.35, 0.28],
        "probability_after": [0.55, 0.32, 0.13, 0.40, 0.36],
        "uplift": [0.10, 0.12, 0.03, 0.05, 0.08],
        "name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
        "province": ["tehran", "تهران", "fars", "esfahan", "fars"],
        "sector": ["industrial", "agriculture", "textiles", "mining", "services"],
        "program_name": ["ISO help", "Card help", "Card help", "ISO help", "Markets"],
        "tier_before": ["B", "C", "D", "B", "C"],
        "tier_after": ["A", "B", "D", "B", "B"],
    }
)
SUMMARY = {
    "budget": 1000.0,
    "model": "export-readiness@1",
    "source": "list.csv",
    "programs": [
        {"id": "iso", "name": "ISO 9001 support", "name_fa": "حمایت ایزو"},
        {"id": "card", "name": "Commercial card help", "name_fa": "کمک کارت بازرگانی"},
        {"id": "market", "name": "Export marketing", "name_fa": "بازاریابی صادراتی"},
    ],
    "policies": {
        "lowest_score_first": {"funded": 4, "total_cost": 570.0,
                               "expected_additional_exporters": 0.2},
        "highest_score_first": {"funded": 3, "total_cost": 900.0,
                                "expected_additional_exporters": 0.26},
        "random": {"funded": 4, "total_cost": 660.0, "expected_additional_exporters": 0.1},
    },
}  # fmt: skip


def test_the_figures_per_programme_province_and_rule_of_thumb():
    data = plan_report_data(PLAN, summary=SUMMARY, top=3)
    assert data["funded"] == 5 and data["budget"] == 1000
    assert data["total_cost"] == 870  # 300 + 60 + 60 + 300 + 150
    assert data["expected"] == pytest.approx(0.38)  # .10 + .12 + .03 + .05 + .08
    # Programmes, the largest cost first: iso 600, market 150, card 120; names from the summary.
    programs = data["programs"]
    assert [p["group"] for p in programs] == ["iso", "market", "card"]
    assert [p["funded"] for p in programs] == [2, 1, 2]
    assert [p["total_cost"] for p in programs] == [600, 150, 120]
    assert [p["expected"] for p in programs] == pytest.approx([0.15, 0.08, 0.15])
    assert programs[0]["cost_share"] == pytest.approx(600 / 870)
    assert (
        programs[1]["name"] == "Export marketing" and programs[2]["name_fa"] == "کمک کارت بازرگانی"
    )
    # Provinces: "تهران" is Tehran, so Tehran has C1 and C2 (360), then Esfahan 300, Fars 210.
    provinces = data["provinces"]
    assert [p["group"] for p in provinces] == ["tehran", "esfahan", "fars"]
    assert [p["funded"] for p in provinces] == [2, 1, 2]
    assert [p["total_cost"] for p in provinces] == [360, 300, 210]
    assert [p["expected"] for p in provinces] == pytest.approx([0.22, 0.05, 0.11])
    # This plan first, then the rules of thumb in their order.
    assert [p["policy"] for p in data["policies"]] == [
        "plan", "lowest_score_first", "highest_score_first", "random",
    ]  # fmt: skip
    assert [p["expected"] for p in data["policies"]] == pytest.approx([0.38, 0.2, 0.26, 0.1])
    assert [p["total_cost"] for p in data["policies"]] == [870, 570, 900, 660]
    # B->A (C1), C->B (C2, C5), D->D (C3), B->B (C4): three move up, one to export-ready.
    moves = data["tier_moves"]
    assert moves["up"] == 3 and moves["to_top"] == 1
    assert moves["matrix"]["B"] == {"A": 1, "B": 1, "C": 0, "D": 0}
    assert moves["matrix"]["C"]["B"] == 2 and moves["matrix"]["D"]["D"] == 1
    assert sum(sum(row.values()) for row in moves["matrix"].values()) == 5
    # The funded list: the three largest gains, largest first.
    assert [r["coop_id"] for r in data["top_rows"]] == ["C2", "C1", "C5"]
    assert data["has"] == {"name": True, "province": True, "sector": True, "program_name": True}


def test_without_a_summary_the_plan_still_has_its_splits():
    bare = PLAN[["coop_id", "program", "cost", "probability_before", "probability_after",
                 "uplift"]]  # fmt: skip
    data = plan_report_data(bare)
    assert data["budget"] is None and data["policies"] == []
    assert data["provinces"] == [] and data["tier_moves"] is None
    assert [p["group"] for p in data["programs"]] == ["iso", "market", "card"]
    assert data["programs"][0]["name"] == "iso"  # no name anywhere: the id


def test_a_persian_plan_file_reads_as_the_english_one(tmp_path):
    persian = {
        "coop_id": "شناسه تعاونی", "program": "کد برنامه", "cost": "هزینه",
        "probability_before": "احتمال صادرات پیش از برنامه",
        "probability_after": "احتمال صادرات پس از برنامه", "uplift": "افزایش احتمال صادرات",
        "name": "نام تعاونی", "province": "استان", "sector": "بخش",
        "program_name": "نام برنامه", "tier_before": "سطح پیش از برنامه",
        "tier_after": "سطح پس از برنامه",
    }  # fmt: skip
    path = tmp_path / "plan-fa.csv"
    typed = PLAN.assign(cost=["۳۰۰", "۶۰", "۶۰", "۳۰۰", "۱۵۰"])  # typed over in Persian digits
    typed.rename(columns=persian).to_csv(path, index=False)
    english = plan_report_data(PLAN, summary=SUMMARY)
    from_file = plan_report_data(path, summary=SUMMARY)
    for key in ("funded", "total_cost", "programs", "provinces", "policies", "tier_moves"):
        assert from_file[key] == english[key], key


def test_a_file_that_is_not_a_plan_is_refused(tmp_path):
    with pytest.raises(ContractError, match="lacks column 'uplift' of a plan"):
        plan_report_data(PLAN.drop(columns="uplift"))
    with pytest.raises(InputFileError, match="is not a plan summary"):
        plan_report_data(PLAN, summary={"rows_read": 10, "tiers": {}})
    with pytest.raises(InputFileError, match="does not exist"):
        plan_report_data(PLAN, summary=tmp_path / "missing.json")


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_the_report_renders_in_both_languages(tmp_path, lang, direction):
    out = render_plan_report(PLAN, tmp_path / f"plan-{lang}.html", summary=SUMMARY, lang=lang)
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}" dir="{direction}">' in html
    assert html.count("data:image/png;base64,") == 3  # programmes, provinces, comparison
    assert "http://" not in html and "https://" not in html  # nothing fetched
    for section in ("overview", "programs", "provinces", "comparison", "tiers", "funded"):
        assert f'<section id="{section}">' in html
    if lang == "en":
        for words in ("the weakest cooperatives first", "the strongest cooperatives first",
                      "cooperatives at random", "Tehran", "Commercial card help"):  # fmt: skip
            assert words in html, words
        assert "The plan funds 5 cooperatives for 870" in html
        assert "130 of the budget of 1,000 is left" in html  # 1,000 - 870
        assert "حمایت ایزو" not in html
    else:
        for words in ("اولویت با ضعیف‌ترین تعاونی‌ها", "انتخاب به قید قرعه", "تهران", "حمایت ایزو"):
            assert words in html, words
        assert "weakest" not in html and "Tehran" not in html
        assert "\u2066۸۷۰\u2069" in html  # the total cost in Persian digits, isolated left-to-right
        # The generated date: Jalali (a year in the 1400s, not 2000s), in Persian digits.
        generated = re.search('<p>تاریخ تهیه: <span class="ltr">\u2067([^<]*)\u2069</span>', html)
        assert generated, "no Jalali date"
        assert re.fullmatch("[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}", generated.group(1))
        assert generated.group(1).startswith("۱۴")


def test_a_plan_without_summary_or_funded_rows_renders_and_says_why(tmp_path):
    html = render_plan_report(PLAN, tmp_path / "bare.html").read_text(encoding="utf-8")
    assert "No plan summary was given" in html
    empty = PLAN.iloc[:0]
    html = render_plan_report(empty, tmp_path / "empty.html", summary=SUMMARY, lang="fa")
    text = html.read_text(encoding="utf-8")
    assert "این برنامه به هیچ تعاونی‌ای کمک نمی‌کند." in text
    assert "data:image/png" not in text


def test_the_report_date_is_jalali_in_persian():
    nowruz = dt.datetime(2025, 3, 21, 9, 30)  # 1 Farvardin 1404
    # Isolated right-to-left, so that the date reads first (on the right) in a left-to-right span.
    assert generated_date("fa", nowruz) == "\u2067۱۴۰۴/۰۱/۰۱ ۰۹:۳۰\u2069"
    assert generated_date("en", nowruz) == "2025-03-21 09:30"
    assert generated_date("fa", dt.datetime(2025, 3, 20, 23, 59)) == "\u2067۱۴۰۳/۱۲/۳۰ ۲۳:۵۹\u2069"


def test_the_headline_names_the_rules_of_thumb_in_words():
    figures = {"funded": 5, "total_cost": 870, "expected_additional_exporters": 0.38}
    assert plan_headline(figures, SUMMARY["policies"], "en") == (
        "The plan funds 5 cooperatives for 870 and expects 0.4 more exporters; giving the same "
        "budget to the weakest cooperatives first would expect 0.2, to the strongest first 0.3, "
        "at random 0.1."
    )
    assert plan_headline(figures, SUMMARY["policies"], "fa") == (
        "این برنامه ۵ تعاونی را با ۸۷۰ حمایت می‌کند و انتظار می‌رود ۰٫۴ صادرکنندهٔ تازه به دست "
        "آید؛ با همین بودجه، اولویت با ضعیف‌ترین تعاونی‌ها ۰٫۲، اولویت با قوی‌ترین تعاونی‌ها "
        "۰٫۳ و انتخاب به قید قرعه ۰٫۱ صادرکنندهٔ تازه به دست می‌داد."
    )
    one = {"funded": 1, "total_cost": 60000, "expected_additional_exporters": 0.24}
    assert plan_headline(one, None, "en") == (
        "The plan funds 1 cooperative for 60,000 and expects 0.2 more exporters."
    )
