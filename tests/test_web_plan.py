"""The workbench's Plan page (managers only; the plan equals :func:`scoring.planning.plan_file`
run on the uploaded file itself; Persian digits in the budget; an uploaded programmes file;
downloads that neutralise formulas), the batch page's coverage and drift in words, Jalali dates
on Persian pages and the one-batch history chart."""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
import pytest
import test_web_pages as web
from fastapi.testclient import TestClient
from service_support import PROGRAMS, settings
from test_web_pages import csrf_of, persian_list, sign_in, upload

from scoring.service import create_app

# The page tests' fixtures: their registry, store, open app, tokens and token app.
registry, db, open_client = web.registry, web.db, web.open_client
tokens, token_app = web.tokens, web.token_app
_FA = str.maketrans("۰۱۲۳۴۵۶۷۸۹٫٬", "0123456789.,")


def shown(html: str, element: str) -> float:
    """The number an element shows (Persian digits and separators read back)."""
    [text] = re.findall(rf'id="{element}"><bdi class="num">([^<]+)</bdi>', html)
    return float(text.translate(_FA).replace(",", ""))


def library_plan(registry, path, budget, tmp_path, programs=PROGRAMS):
    """The same plan by the library directly, on the file as uploaded (the second method)."""
    from scoring.model import ScoringModel
    from scoring.planning import load_programs, plan_file
    from scoring.registry import load_model

    model = ScoringModel(load_model(registry[0], registry[1]))
    chosen = load_programs(programs, model.contract)
    out = tmp_path / "library-plan.csv"
    return plan_file(path, model, chosen, budget, out, details=True), pd.read_csv(out)


def make_plan(client, batch: str, budget: str, **files) -> TestClient:
    form = client.get("/plan")
    assert form.status_code == 200 and 'id="plan-form"' in form.text
    data = {"csrf": csrf_of(form.text), "batch": batch.rsplit("/", 1)[1], "budget": budget}
    data["programs"] = "upload" if files else "service"
    return client.post("/plan", data=data, files=files or None, follow_redirects=False)


def test_plan_matches_the_library_within_budget(open_client, registry, tmp_path):
    path = persian_list(tmp_path / "list.xlsx")
    batch = upload(open_client, path)
    answer = make_plan(open_client, batch, "۲٬۰۰۰")  # Persian digits and separator
    assert answer.status_code == 303, answer.text
    page = open_client.get(answer.headers["location"])
    assert page.status_code == 200 and '<html lang="fa" dir="rtl">' in page.text
    summary, rows = library_plan(registry, path, 2000, tmp_path)
    assert summary.funded > 0  # the budget buys something, so the check means something
    assert shown(page.text, "plan-budget") == 2000
    assert shown(page.text, "plan-spent") <= 2000
    assert shown(page.text, "plan-spent") == pytest.approx(summary.total_cost)
    assert shown(page.text, "plan-funded") == summary.funded == len(rows)
    # By programme: the funded count of each programme adds up to the plan's, as the library's.
    by_program = re.findall(r'<tr data-group="([^"]+)"><td>[^<]*</td><td class="n">'
                            r'<bdi class="num">([^<]+)</bdi>', page.text.split('id="by-program"')[1]
                            .split("</table>")[0])  # fmt: skip
    counts = {g: int(n.translate(_FA)) for g, n in by_program}
    assert counts == rows["program"].value_counts().to_dict()
    # The rules of thumb are listed beside the plan, and the headline says it in Persian.
    assert page.text.count("data-policy=") == 4
    assert "این برنامه" in page.text and "صادرکنندهٔ تازه" in page.text
    # The funded list is the plan's coops; downloads in Persian (with BOM) and xlsx.
    listed = re.findall(r'/cooperatives/([^"]+)"><bdi dir="ltr">', page.text)
    assert set(listed) == set(rows["coop_id"].astype(str))
    csv = open_client.get(answer.headers["location"] + "/plan.csv")
    assert csv.status_code == 200 and csv.text.startswith("\ufeff")
    assert "کد برنامه" in csv.text.splitlines()[0]
    assert len(pd.read_csv(io.StringIO(csv.text.lstrip("\ufeff")))) == summary.funded
    xlsx = open_client.get(answer.headers["location"] + "/plan.xlsx", params={"lang": "en"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert len(pd.read_excel(io.BytesIO(xlsx.content), engine="calamine")) == summary.funded


def test_plan_refuses_a_bad_budget_and_uses_an_uploaded_programmes_file(
    open_client, registry, tmp_path
):
    frame = pd.read_excel(persian_list(tmp_path / "list.xlsx"), dtype=str, engine="calamine")
    frame.loc[0, "نام تعاونی"] = '=HYPERLINK("http://x","y")'  # a formula as a name
    frame.loc[0, "کارت بازرگانی"] = "خیر"
    path = tmp_path / "list.csv"  # a CSV keeps the formula as the text it is
    frame.to_csv(path, index=False)
    batch = upload(open_client, path)
    bad = make_plan(open_client, batch, "شصت هزار")
    assert bad.status_code == 422 and 'id="plan-error"' in bad.text
    assert make_plan(open_client, batch, "-5").status_code == 422
    programs = tmp_path / "one.toml"
    programs.write_text(
        '[[program]]\nid = "card"\nname = "Card"\ncost = 10\nslots = 1000\n'
        'eligible = "commercial_card != yes"\n[program.effect]\ncommercial_card = true\n',
        encoding="utf-8",
    )
    with programs.open("rb") as handle:
        answer = make_plan(open_client, batch, "100000", programs_file=("p.toml", handle))
    assert answer.status_code == 303, answer.text
    summary, rows = library_plan(registry, path, 100000, tmp_path, programs)
    page = open_client.get(answer.headers["location"], params={"lang": "en"})
    assert shown(page.text, "plan-funded") == summary.funded
    assert set(rows["program"]) == {"card"}
    assert str(frame.loc[0, "شناسه تعاونی"]).translate(_FA) in set(rows["coop_id"].astype(str))
    csv = open_client.get(answer.headers["location"] + "/plan.csv").text
    assert "'=HYPERLINK" in csv  # neutralised by the library's writer
    assert "\n=HYPERLINK" not in csv and ',"=HYPERLINK' not in csv and ",=HYPERLINK" not in csv


def test_plan_is_for_managers_only(token_app, tokens, tmp_path):
    client = token_app
    assert client.get("/plan", follow_redirects=False).status_code == 303  # sign in first
    sign_in(client, tokens["officer"])
    assert client.get("/plan").status_code == 403
    assert 'id="nav-plan"' not in client.get("/").text
    batch = upload(client, persian_list(tmp_path / "l.xlsx"))
    csrf = csrf_of(client.get("/").text)
    data = {"csrf": csrf, "batch": batch.rsplit("/", 1)[1], "budget": "1000"}
    assert client.post("/plan", data=data).status_code == 403
    sign_in(client, tokens["manager"])
    assert 'id="nav-plan"' in client.get("/").text
    assert client.get("/plan").status_code == 200
    # Without the CSRF token the plan is refused.
    assert client.post("/plan", data={**data, "csrf": "x" * 40}).status_code == 403
    assert client.get("/plan/" + "0" * 32).status_code == 404


def test_coverage_and_drift_in_words(open_client, tmp_path):
    from scoring.sample import generate_sample, to_english_table

    frame, _ = generate_sample(600, 5, labelled=False)  # drift is judged from 500 rows
    table = to_english_table(frame).drop(columns=["employees", "defect_rate"])
    table["members"] = table["members"].astype(float) * 10  # ten times the members
    path = tmp_path / "shifted.csv"
    table.to_csv(path, index=False)
    batch = upload(open_client, path)
    page = open_client.get(batch).text
    coverage = page.split('id="coverage"')[1].split("</div>")[0]
    drift = page.split('id="drift"')[1].split("</div>")[0]
    # The two missing columns by their Persian headers, and the members among what shifted.
    assert "تعداد کارکنان" in coverage and "نرخ ضایعات" in coverage and "ندارد" in coverage
    assert "تغییر یافته" in drift and "تعداد اعضا" in drift
    english = open_client.get(batch, params={"lang": "en"}).text
    assert "lacks" in english.split('id="coverage"')[1].split("</div>")[0]
    assert "Members" in english.split('id="drift"')[1].split("</div>")[0]
    # A list like the training data: every column there, nothing shifted.
    from service_support import sample_csv

    plain = upload(open_client, sample_csv(tmp_path / "p.csv", 600, 8))
    plain = open_client.get(plain, params={"lang": "fa"}).text
    assert "همهٔ ستون‌هایی" in plain.split('id="coverage"')[1].split("</div>")[0]
    assert "هیچ ویژگی تغییر نیافته" in plain.split('id="drift"')[1].split("</div>")[0]


def test_jalali_dates_in_persian_and_iso_in_english(open_client, tmp_path):
    import jdatetime

    batch = upload(open_client, persian_list(tmp_path / "list.xlsx"))
    today = dt.datetime.now().astimezone().date()
    jalali = jdatetime.date.fromgregorian(date=today).strftime("%Y/%m/%d")
    persian = jalali.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    page = open_client.get(batch).text
    created = page.split('id="batch-created">')[1].split("</span>")[0]
    assert persian in created and today.isoformat() not in created
    english = open_client.get(batch, params={"lang": "en"}).text
    assert today.isoformat() in english.split('id="batch-created">')[1].split("</span>")[0]
    assert persian in open_client.get("/", params={"lang": "fa"}).text
    # The profile's one-point history: the point, its value and "one batch so far".
    coop = open_client.get(f"/api/v1{batch}/scores").json()["scores"][0]
    profile = open_client.get(f"/cooperatives/{coop['coop_id']}").text
    chart = profile.split('class="history-chart"')[1].split("</svg>")[0]
    assert chart.count("<circle") == 1 and "تاکنون تنها یک دسته" in chart
    value = f"{coop['readiness_score']:.1f}".translate(str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫"))
    assert f'class="point">{value}</text>' in chart and persian in chart


def test_plan_page_without_kept_batches(registry, tmp_path):
    with TestClient(create_app(settings(registry[0], f"sqlite:///{tmp_path / 'e.db'}"))) as c:
        page = c.get("/plan")
        assert page.status_code == 200 and 'id="plan-no-batch"' in page.text
