"""The workbench in a real browser: Debian's Chromium driven by Playwright against a real
uvicorn on 127.0.0.1 (a free port, a small trained registry, a token): sign in, upload a
Persian Excel list with bad rows (the bar of bytes sent, then "scoring"), filter, open a
cooperative, what-if, plan a budget (checked against :func:`scoring.planning.plan_file` on the
same file), switch language.

Skipped, saying why, when Playwright or Chromium is missing; CI sets ``READINESS_CHROMIUM``.
Every wait is on an element, with a bounded timeout; no sleeps. ``READINESS_SCREENSHOTS=DIR``
also saves a screenshot of every page in both languages, at 1280 and 390 px wide.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from service_support import PROGRAMS, new_version
from test_service_uvicorn import free_port, stop, wait_until
from test_web_pages import BROKEN, ROWS, add_token, persian_list

CHROMIUM = os.environ.get("READINESS_CHROMIUM", "/usr/bin/chromium")
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_WAIT = 20_000  # ms, for any one element
_FA = str.maketrans("۰۱۲۳۴۵۶۷۸۹٫٬", "0123456789.,")


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests skipped: playwright is not installed (pip install playwright)"
    if not Path(CHROMIUM).is_file():
        return f"browser tests skipped: no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


_REASON = _skip_reason()
if _REASON:
    print(_REASON, file=sys.stderr)
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


@pytest.fixture(scope="module")
def server(tmp_path_factory, trained):
    """A real ``readiness serve`` with a manager token; ``(url, token, registry)``."""
    folder = tmp_path_factory.mktemp("browser")
    registry = folder / "registry"
    new_version(trained, registry)
    db = f"sqlite:///{folder / 'web.db'}"
    token = add_token(db, "manager-1", "manager")
    port = free_port()
    command = [
        sys.executable, "-m", "scoring", "serve", "--registry", str(registry),
        "--port", str(port), "--db", db, "--programs", str(PROGRAMS),
        "--reload-interval", "0",
    ]  # fmt: skip
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200)
        yield url, token, registry
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(_WAIT)
    yield page
    context.close()


def number(text: str) -> float:
    return float(text.strip().translate(_FA).replace(",", ""))


def shoot(page, name: str) -> None:
    folder = os.environ.get("READINESS_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def both_languages(page, name: str) -> None:
    """Screenshots of the current page in Persian and English (then back to Persian)."""
    shoot(page, f"{name}-fa")
    page.click("#lang-switch")
    page.wait_for_selector('html[lang="en"][dir="ltr"]')
    shoot(page, f"{name}-en")
    page.click("#lang-switch")
    page.wait_for_selector('html[lang="fa"][dir="rtl"]')


#: Records each state of the upload form (and whether its bar is determinate) to Python.
_WATCH_UPLOAD = """
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (!form) { return; }
  const bar = document.getElementById("upload-bar");
  new MutationObserver(() => window.recordUpload(
    form.getAttribute("data-state") + ":" + (bar.hasAttribute("value") ? "bytes" : "indeterminate")
  )).observe(form, {attributes: true, subtree: true, attributeFilter: ["data-state", "value"]});
});
"""


def test_officer_and_manager_journey(server, page, tmp_path):
    url, token, registry = server
    states: list[str] = []
    page.expose_function("recordUpload", lambda state: states.append(state))
    page.add_init_script(_WATCH_UPLOAD)
    # Sign in: the page is Persian and right to left; a wrong token is told.
    page.goto(url + "/signin?lang=en")
    page.wait_for_selector('html[lang="en"] #signin-form')
    shoot(page, "signin-en")
    page.goto(url + "/signin?lang=fa")
    page.wait_for_selector("#signin-form")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    shoot(page, "signin-fa")
    page.fill("#token", "rdy_wrong")
    page.click("#signin-form button")
    page.wait_for_selector("#signin-error")
    page.fill("#token", token)
    page.click("#signin-form button")
    page.wait_for_selector("#upload-form")
    # The packaged font is the one in use.
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")

    # Upload a Persian Excel list with three bad rows: counts and rejects.
    path = persian_list(tmp_path / "فهرست-تعاونی‌ها.xlsx")
    page.set_input_files("#file", str(path))
    page.click("#upload-form button")
    page.wait_for_selector("#counts", timeout=60_000)
    # The script sent it: first a bar of the bytes sent, then "scoring" (indeterminate).
    assert states and states[0].startswith("uploading:bytes"), states
    assert "scoring:indeterminate" in states, states
    assert states.index("scoring:indeterminate") > 0
    assert page.get_attribute("html", "dir") == "rtl"
    assert number(page.inner_text("#rows-read")) == ROWS
    assert number(page.inner_text("#rows-rejected")) == len(BROKEN)
    assert number(page.inner_text("#rows-scored")) == ROWS - len(BROKEN)
    reject_rows = [
        number(t) for t in page.locator("#rejects tbody tr td:first-child").all_inner_texts()
    ]
    assert reject_rows == [i + 2 for i in sorted(BROKEN)]
    assert "عدد نیست" in page.inner_text("#rejects")
    batch_url = page.url
    both_languages(page, "batch")
    page.goto(url + "/")
    page.wait_for_selector("#upload-form")
    both_languages(page, "home")
    # A file the service cannot read: the script shows the refusal the plain form would.
    unreadable = tmp_path / "notes.pdf"
    unreadable.write_bytes(b"%PDF-1.4 not a registry export")
    page.set_input_files("#file", str(unreadable))
    page.click("#upload-form button")
    page.wait_for_selector("#upload-error")
    assert ".csv" in page.inner_text("#upload-error")
    page.goto(batch_url)
    page.wait_for_selector("#scores")

    # Filter to tier B in the province with most B rows (read from the API with the token).
    batch_id = batch_url.rstrip("/").rsplit("/", 1)[-1]
    api = httpx.get(
        f"{url}/api/v1/batches/{batch_id}/scores",
        params={"per_page": 500, "tier": "B"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["scores"]
    assert api, "the sample list has tier B rows"
    provinces = [s["province"] for s in api]
    province = max(set(provinces), key=provinces.count)
    page.select_option("#f-tier", "B")
    page.select_option("#f-province", province)
    page.click("#apply")
    page.wait_for_url(re.compile(r"tier=B"))
    page.wait_for_selector("#scores tbody tr")
    rows = page.locator("#scores tbody tr")
    assert rows.count() == provinces.count(province)
    for i in range(rows.count()):
        assert rows.nth(i).get_attribute("data-tier") == "B"
        assert rows.nth(i).get_attribute("data-province") == province

    # Open a cooperative; what-if: the score shown becomes what POST /what-if returns.
    rows.first.locator("a").click()
    page.wait_for_selector("#whatif-form")
    coop_id = page.inner_text("#coop-id").strip()
    both_languages(page, "profile")
    page.select_option("#w-iso9001", "yes")
    page.wait_for_selector("#whatif-after[data-value]")
    shown = number(page.inner_text("#whatif-after"))
    from scoring.sample import generate_sample, to_english_table

    frame, _ = generate_sample(ROWS, 3, labelled=False)
    record = to_english_table(frame).set_index("coop_id", drop=False).loc[coop_id].to_dict()
    expected = httpx.post(
        f"{url}/api/v1/what-if",
        json={"record": record, "changes": {"iso9001": True}},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["after"]["readiness_score"]
    assert shown == pytest.approx(expected, abs=0.05)
    # A second change updates it again, to the API's answer for both changes.
    page.fill("#w-actual_output", str(float(record["installed_capacity"]) * 0.95))
    page.wait_for_function(
        "v => document.querySelector('#whatif-after').dataset.value != v", arg=str(expected)
    )
    both = httpx.post(
        f"{url}/api/v1/what-if",
        json={
            "record": record,
            "changes": {
                "iso9001": True,
                "actual_output": float(record["installed_capacity"]) * 0.95,
            },
        },
        headers={"Authorization": f"Bearer {token}"},
    ).json()["after"]["readiness_score"]
    assert float(page.get_attribute("#whatif-after", "data-value")) == pytest.approx(both)
    shoot(page, "profile-whatif-fa")

    # Switch language: English, left to right, and the choice is kept.
    page.click("#lang-switch")
    page.wait_for_selector('html[lang="en"][dir="ltr"]')
    assert "What if" in page.inner_text("#whatif-title")
    page.goto(url + "/models")
    page.wait_for_selector("#models")
    assert page.get_attribute("html", "dir") == "ltr"
    shoot(page, "models-en")
    page.click("#lang-switch")
    page.wait_for_selector('html[lang="fa"][dir="rtl"]')
    shoot(page, "models-fa")

    # Plan a budget typed in Persian digits; the page's figures are the library's own plan of
    # the same file, programmes and budget (plan_file on the uploaded xlsx itself).
    page.goto(url + "/plan?lang=fa")
    page.wait_for_selector("#plan-form")
    both_languages(page, "plan-form")
    page.fill("#p-budget", "۲٬۰۰۰")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-counts", timeout=60_000)
    spent, funded = number(page.inner_text("#plan-spent")), number(page.inner_text("#plan-funded"))
    from scoring.model import ScoringModel
    from scoring.planning import load_programs, plan_file
    from scoring.registry import list_models, load_model

    [version] = list_models(registry)
    model = ScoringModel(load_model(registry, f"{version['name']}@{version['version']}"))
    library = plan_file(
        path, model, load_programs(PROGRAMS, model.contract), 2000, tmp_path / "plan.csv"
    )
    assert library.funded > 0
    assert spent <= 2000 and spent == pytest.approx(library.total_cost)
    assert funded == library.funded == page.locator("#funded tbody tr").count()
    both_languages(page, "plan")
