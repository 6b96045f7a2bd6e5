"""Tests of the `plan` command (scoring.cli) through typer's CliRunner: a plan within budget,
budgets refused as usage errors, unreadable programmes files, plans with nobody funded, what a
manager reads (names, provinces, programme names, tiers; English and Persian; the split and the
rules of thumb in words) and `report plan`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line
from typer.testing import CliRunner

from scoring.cli import app
from scoring.sample import generate_sample, to_english_table

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "programs.toml"
#: The plan output's columns, as shared/DESIGN.md lists them.
DESIGN_COLUMNS = ["coop_id", "program", "cost", "probability_before", "probability_after", "uplift"]
#: What the command writes after them, for a manager.
MANAGER_COLUMNS = ["name", "province", "sector", "program_name", "tier_before", "tier_after"]
PROGRAMMES = {p["id"]: p for p in tomllib.loads(EXAMPLE.read_text("utf-8"))["program"]}


def _run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def cooperatives(tmp_path_factory) -> Path:
    """300 unlabelled sample cooperatives as an English registry export."""
    frame, _ = generate_sample(300, seed=23, labelled=False)
    path = tmp_path_factory.mktemp("plan-cli") / "cooperatives.csv"
    to_english_table(frame).to_csv(path, index=False)
    return path


def _plan(cooperatives: Path, trained, out: Path, *, budget: str, programs: Path = EXAMPLE):
    registry, reference, _ = trained
    return _run(
        "plan", cooperatives, "--programs", programs, "--budget", budget, "--out", out,
        "--registry", registry, "--model", reference,
    )  # fmt: skip


def test_plan_funds_within_the_budget(tmp_path, trained, cooperatives):
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    registry, reference, _ = trained
    result = _run(
        "plan", cooperatives, "--programs", EXAMPLE, "--budget", "5,000", "--out", out,
        "--summary", summary, "--registry", registry, "--model", reference,
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"plan written to {out}" in result.stdout
    plan = pd.read_csv(out, dtype={"coop_id": str, "program": str})
    assert list(plan.columns) == [*DESIGN_COLUMNS, *MANAGER_COLUMNS]
    assert len(plan) > 0 and plan["cost"].sum() <= 5000
    assert not plan["coop_id"].duplicated().any()  # one programme per cooperative
    assert set(plan["coop_id"]) <= set(pd.read_csv(cooperatives, dtype=str)["coop_id"])
    # Each row costs what its programme costs in the programmes file.
    costs = {p["id"]: p["cost"] for p in tomllib.loads(EXAMPLE.read_text("utf-8"))["program"]}
    assert plan["cost"].tolist() == [costs[p] for p in plan["program"]]
    np.testing.assert_allclose(
        plan["uplift"], plan["probability_after"] - plan["probability_before"], atol=1e-12
    )
    assert (plan["uplift"] > 0).all()
    # "before" is the probability `readiness score` gives the same cooperative.
    scores = tmp_path / "scores.csv"
    scored = _run(
        "score", cooperatives, "--out", scores, "--registry", registry, "--model", reference,
        "--quiet",
    )  # fmt: skip
    assert scored.exit_code == 0, scored.stderr
    probability = pd.read_csv(scores, dtype={"coop_id": str}).set_index("coop_id")
    np.testing.assert_allclose(
        plan["probability_before"],
        probability.loc[plan["coop_id"], "export_probability"],
        rtol=1e-12,
    )
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["funded"] == len(plan) and figures["budget"] == 5000
    assert figures["total_cost"] == pytest.approx(plan["cost"].sum())
    # The same budget without its thousands separator gives the same plan.
    again = tmp_path / "again.csv"
    assert _plan(cooperatives, trained, again, budget="5000").exit_code == 0
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("budget", ["abc", "0", "-5", "nan", "inf", "", "5,000x"])
def test_a_bad_budget_is_a_usage_error(tmp_path, cooperatives, budget):
    out = tmp_path / "plan.csv"
    # A registry that does not exist: had the budget passed, loading the model would fail (1).
    result = _run(
        "plan", cooperatives, "--programs", EXAMPLE, "--budget", budget, "--out", out,
        "--registry", tmp_path / "no-registry",
    )  # fmt: skip
    assert result.exit_code == 2, (result.stdout, result.stderr)
    said = [line for line in result.stderr.splitlines() if "--budget" in line]
    assert len(said) == 1, result.stderr
    assert f"must be a positive number, got '{budget}'" in said[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "does not exist"),
        ("folder", "is a folder"),
        ("not toml", "is not valid TOML"),
        ("not utf-8", "cannot read programmes file"),
        ("no programme", "defines no programme"),
    ],
)
def test_an_unreadable_programmes_file_is_one_error_line(
    tmp_path, trained, cooperatives, kind, expected
):
    programs = tmp_path / "programs.toml"
    if kind == "folder":
        programs.mkdir()
    elif kind == "not toml":
        programs.write_text("[[program]\nid = 'a'\n", encoding="utf-8")
    elif kind == "not utf-8":
        programs.write_bytes(b"\xff\xfe[[program]]")
    elif kind == "no programme":
        programs.write_text("# nothing yet\n", encoding="utf-8")
    out = tmp_path / "plan.csv"
    assert_one_error_line(
        _plan(cooperatives, trained, out, budget="1000", programs=programs), expected
    )
    assert not out.exists()


NOBODY = """
[[program]]
id = "iso_support"
name = "ISO 9001 certification support"
cost = 300
slots = 10
eligible = "members > 1000000"
[program.effect]
iso9001 = true
"""


@pytest.mark.parametrize(
    ("programs", "budget", "message"),
    [
        (NOBODY, "1000", "no cooperative is eligible for any programme: the plan is empty"),
        (
            NOBODY.replace('eligible = "members > 1000000"\n', ""),
            "299",  # every cooperative could take it, but it costs 300
            "no programme fits the budget and slots: the plan is empty",
        ),
    ],
)
def test_an_empty_plan_says_why(tmp_path, trained, cooperatives, programs, budget, message):
    path = tmp_path / "programs.toml"
    path.write_text(programs, encoding="utf-8")
    out = tmp_path / "plan.csv"
    result = _plan(cooperatives, trained, out, budget=budget, programs=path)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert message in result.stdout
    assert "rules of thumb" not in result.stdout  # no comparison table for an empty plan
    plan = pd.read_csv(out)
    assert list(plan.columns) == [*DESIGN_COLUMNS, *MANAGER_COLUMNS] and len(plan) == 0


# ---------------------------------------------------------------------------- for managers

#: The rules of thumb as the command names them.
POLICY_WORDS = {
    "en": ("the weakest cooperatives first", "the strongest cooperatives first",
           "cooperatives at random"),
    "fa": ("اولویت با ضعیف‌ترین تعاونی‌ها", "اولویت با قوی‌ترین تعاونی‌ها", "انتخاب به قید قرعه"),
}  # fmt: skip
#: The plan's headers under --lang fa, in DESIGN_COLUMNS + MANAGER_COLUMNS order.
PERSIAN_HEADERS = [
    "شناسه تعاونی", "کد برنامه", "هزینه", "احتمال صادرات پیش از برنامه",
    "احتمال صادرات پس از برنامه", "افزایش احتمال صادرات", "نام تعاونی", "استان", "بخش",
    "نام برنامه", "سطح پیش از برنامه", "سطح پس از برنامه",
]  # fmt: skip
#: Every key the summary had before the manager's additions.
SUMMARY_KEYS = {
    "model", "source", "rows_read", "rows_valid", "rows_rejected", "programs",
    "eligible_cooperatives", "method", "status", "budget", "candidates", "funded", "total_cost",
    "expected_additional_exporters", "bound", "gap", "per_program", "seconds", "policies",
    "gain_over_best_policy", "empty", "message", "header_row",
}  # fmt: skip


@pytest.fixture(scope="module")
def planned(tmp_path_factory, trained, cooperatives):
    """The same plan of 5,000 in English and in Persian: ``{lang: (plan, summary, stdout)}``."""
    from scoring.cli.common import out as console

    registry, reference, _ = trained
    folder = tmp_path_factory.mktemp("planned")
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console, "_width", 200)  # wide enough that no table cell wraps
        for lang in ("en", "fa"):
            plan, summary = folder / f"plan-{lang}.csv", folder / f"summary-{lang}.json"
            result = _run(
                "plan", cooperatives, "--programs", EXAMPLE, "--budget", "5000", "--out", plan,
                "--summary", summary, "--registry", registry, "--model", reference,
                "--lang", lang,
            )  # fmt: skip
            assert result.exit_code == 0, (result.stdout, result.stderr)
            runs[lang] = (plan, summary, result.stdout)
    return runs


def _hand_tier(p: float) -> str | None:
    """The tier of a probability by the contract's cut-offs (A 0.50, B 0.30, C 0.15); None
    within 0.0005 of a cut-off, where showing the rounded score may decide."""
    if min(abs(p - cut) for cut in (0.50, 0.30, 0.15)) < 0.0005:
        return None
    return "A" if p >= 0.50 else "B" if p >= 0.30 else "C" if p >= 0.15 else "D"


def test_plan_rows_name_place_programme_and_tiers(planned, cooperatives, scoring_model):
    plan = pd.read_csv(planned["en"][0], dtype=str)
    assert list(plan.columns) == [*DESIGN_COLUMNS, *MANAGER_COLUMNS] and len(plan) > 5
    source = pd.read_csv(cooperatives, dtype=str).set_index("coop_id")
    for row in plan.itertuples():
        assert row.name == source.loc[row.coop_id, "name"]
        assert row.province == source.loc[row.coop_id, "province"]  # the sample writes keys
        assert row.sector == source.loc[row.coop_id, "sector"]
        assert row.program_name == PROGRAMMES[row.program]["name"]
    assert scoring_model.tiers == {"A": 0.50, "B": 0.30, "C": 0.15}  # the cut-offs used by hand
    checked = 0
    for when in ("before", "after"):
        for p, tier in zip(plan[f"probability_{when}"].astype(float), plan[f"tier_{when}"],
                           strict=True):  # fmt: skip
            expected = _hand_tier(p)
            if expected is not None:
                assert tier == expected, (when, p, tier)
                checked += 1
    assert checked >= len(plan)
    order = "DCBA"
    assert all(order.index(a) >= order.index(b)
               for b, a in zip(plan["tier_before"], plan["tier_after"], strict=True))  # fmt: skip


def test_a_persian_plan_has_persian_headers_and_names(planned):
    english = pd.read_csv(planned["en"][0], dtype=str)
    persian = pd.read_csv(planned["fa"][0], dtype=str)
    assert list(persian.columns) == PERSIAN_HEADERS
    persian.columns = [*DESIGN_COLUMNS, *MANAGER_COLUMNS]
    # The same allocation, word for word where the language does not matter.
    same = ["coop_id", "program", "cost", "probability_before", "probability_after", "uplift",
            "name", "tier_before", "tier_after"]  # fmt: skip
    pd.testing.assert_frame_equal(persian[same], english[same])
    assert persian["program_name"].tolist() == [
        PROGRAMMES[p]["name_fa"] for p in english["program"]
    ]
    places = {"tehran": "تهران", "esfahan": "اصفهان", "fars": "فارس"}
    for key, fa in places.items():
        rows = english["province"] == key
        assert (persian.loc[rows, "province"] == fa).all(), key
    sectors = {"agriculture": "کشاورزی", "industrial": "صنعتی", "handicrafts": "صنایع دستی"}
    for key, fa in sectors.items():
        assert (persian.loc[english["sector"] == key, "sector"] == fa).all(), key


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_the_command_says_the_split_and_the_rules_of_thumb_in_words(planned, lang):
    plan_path, summary_path, stdout = planned[lang]
    for words in POLICY_WORDS[lang]:
        assert words in stdout, words
    for code in ("lowest_score_first", "highest_score_first"):
        assert code not in stdout
    plan = pd.read_csv(plan_path, dtype=str)
    names = plan.iloc[:, MANAGER_COLUMNS.index("program_name") + 6].unique()
    provinces = plan.iloc[:, MANAGER_COLUMNS.index("province") + 6].unique()
    for name in names:
        assert name in stdout, name  # the split by programme
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert stdout.splitlines()[0] == summary["headline"]
    if lang == "en":
        assert summary["headline"].startswith(f"The plan funds {summary['funded']} cooperatives")
        assert "giving the same budget to the weakest cooperatives first would expect" in stdout
        assert "the plan by programme" in stdout and "the plan by province" in stdout
        for key in provinces:  # the split by province, names as people write them
            assert key.replace("_", " ").title() in stdout, key
    else:
        assert "با همین بودجه، اولویت با ضعیف‌ترین تعاونی‌ها" in summary["headline"]
        for name in provinces:
            assert name in stdout, name


def test_the_summary_keeps_its_keys_and_adds_provinces_and_words(planned):
    plan_path, summary_path, _ = planned["en"]
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert set(summary) >= SUMMARY_KEYS
    assert {"per_province", "headline", "lang"} <= set(summary) and summary["lang"] == "en"
    plan = pd.read_csv(plan_path, dtype={"coop_id": str})
    by_hand = plan.groupby("province").agg(funded=("cost", "size"), cost=("cost", "sum"),
                                           gain=("uplift", "sum"))  # fmt: skip
    assert set(summary["per_province"]) == set(by_hand.index)
    for province, figures in summary["per_province"].items():
        assert figures["funded"] == by_hand.loc[province, "funded"]
        assert figures["total_cost"] == pytest.approx(by_hand.loc[province, "cost"])
        assert figures["expected_additional_exporters"] == pytest.approx(
            by_hand.loc[province, "gain"]
        )
    assert sum(f["funded"] for f in summary["per_province"].values()) == len(plan)
    names = [summary["policies"][p]["name"] for p in
             ("lowest_score_first", "highest_score_first", "random")]  # fmt: skip
    assert tuple(names) == POLICY_WORDS["en"]
    persian = json.loads(planned["fa"][1].read_text(encoding="utf-8"))
    assert persian["policies"]["random"]["name"] == "انتخاب به قید قرعه"
    assert persian["per_province"] == summary["per_province"]  # keys, not names: comparable


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_report_plan_writes_the_page(planned, tmp_path, lang, direction):
    plan, summary, _ = planned[lang]
    out = tmp_path / f"plan-{lang}.html"
    result = _run("report", "plan", plan, "--summary", summary, "--out", out, "--lang", lang)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "plan report written to" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert POLICY_WORDS[lang][0] in html
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_report_plan_checks_its_html_extension(planned, tmp_path):
    plan, summary, _ = planned["en"]
    out = tmp_path / "plan.pdf"
    line = assert_one_error_line(
        _run("report", "plan", plan, "--summary", summary, "--out", out), "'.pdf'", ".html"
    )
    assert "plan.pdf" in line
    assert list(tmp_path.iterdir()) == []
