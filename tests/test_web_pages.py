"""The workbench pages through the real ASGI app: every page answers, is Persian and
right-to-left by default and English on request, checks the caller's role, refuses a form
without its CSRF token, and an upload of a Persian Excel list with bad rows shows the counts
and the rejects (their spreadsheet rows and Persian reasons)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import new_version, settings
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.service import create_app

#: The broken rows of :func:`persian_list` (0-based data index -> what is wrong), spreadsheet
#: row = index + 2 (the header is row 1).
BROKEN = {4: "members", 9: "province", 17: "actual_output"}
ROWS = 40


def persian_list(path: Path, rows: int = ROWS, seed: int = 3) -> Path:
    """A Persian registry export (Excel) of ``rows`` cooperatives, three of them broken."""
    from scoring.sample import generate_sample, to_persian_table

    frame, _ = generate_sample(rows, seed, labelled=False)
    table = to_persian_table(frame)
    table.loc[4, "تعداد اعضا"] = "ده نفر"  # not a number
    table.loc[9, "استان"] = ""  # a required cell left empty
    table.loc[17, _header("actual_output")] = "زیاد"  # not a number
    table.to_excel(path, index=False)
    return path


def _header(column: str) -> str:
    from scoring.contract import load_contract

    return load_contract().column(column).fa


def add_token(db: str, name: str, role: str) -> str:
    result = CliRunner().invoke(cli, ["tokens", "add", name, "--role", role, "--db", db])
    assert result.exit_code == 0, result.output
    [token] = re.findall(r"rdy_[A-Za-z0-9_-]{43}", result.output)
    return token


def csrf_of(html: str) -> str:
    [token] = set(re.findall(r'name="csrf" value="([^"]+)"', html))
    return token


def sign_in(client: TestClient, token: str) -> None:
    page = client.get("/signin")
    answer = client.post(
        "/signin",
        data={"csrf": csrf_of(page.text), "token": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert client.cookies.get("rdy_session") == token


def upload(client: TestClient, path: Path) -> str:
    """Upload through the form; the batch page's path."""
    home = client.get("/")
    with path.open("rb") as handle:
        answer = client.post(
            "/upload",
            data={"csrf": csrf_of(home.text)},
            files={"file": (path.name, handle, "application/octet-stream")},
            follow_redirects=False,
        )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory, trained):
    folder = tmp_path_factory.mktemp("web-registry")
    return folder, new_version(trained, folder)


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def open_client(registry, db):
    with TestClient(create_app(settings(registry[0], db))) as client:
        yield client


@pytest.fixture
def tokens(db):
    return {r: add_token(db, f"{r}-1", r) for r in ("viewer", "officer", "manager", "analyst")}


@pytest.fixture
def token_app(registry, db, tokens):
    with TestClient(create_app(settings(registry[0], db))) as client:
        yield client


def test_upload_shows_counts_tiers_and_persian_rejects(open_client, tmp_path):
    path = persian_list(tmp_path / "فهرست.xlsx")
    batch = upload(open_client, path)
    page = open_client.get(batch)
    assert page.status_code == 200
    assert '<html lang="fa" dir="rtl">' in page.text
    # 40 read, 3 rejected, 37 scored: Persian digits, each wrapped for bidi.
    assert re.search(r'id="rows-read"><bdi class="num">۴۰</bdi>', page.text)
    assert re.search(r'id="rows-rejected"><bdi class="num">۳</bdi>', page.text)
    assert re.search(r'id="rows-scored"><bdi class="num">۳۷</bdi>', page.text)
    rejects = page.text.split('id="rejects"')[1]
    rows = [
        int(r.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
        for r in re.findall(r'<td class="n"><bdi class="num">([۰-۹]+)</bdi>', rejects)
    ]
    assert rows == [i + 2 for i in sorted(BROKEN)]
    assert "تعداد اعضا: «ده نفر» عدد نیست" in rejects
    assert "<svg" in page.text and "tier-chart" in page.text
    # The same counts in the rejects download, in Persian, with its BOM for Excel.
    csv = open_client.get(batch + "/rejects.csv")
    assert csv.status_code == 200 and csv.text.startswith("\ufeff")
    assert csv.text.count("\n") == 1 + len(BROKEN)
    assert "ردیف" in csv.text.splitlines()[0]


def test_batch_table_filters_sorts_searches_and_pages(open_client, tmp_path):
    from scoring.sample import generate_sample

    batch = upload(open_client, persian_list(tmp_path / "list.xlsx"))
    frame, _ = generate_sample(ROWS, 3, labelled=False)
    kept = frame.drop(index=list(BROKEN))
    api = open_client.get(f"/api/v1{batch}/scores", params={"per_page": 500}).json()["scores"]
    # The table's B rows of one province: the API's rows with that tier and province.
    province = kept["province"].mode()[0]
    wanted = [s["coop_id"] for s in api if s["readiness_tier"] == "B" and s["province"] == province]
    page = open_client.get(batch, params={"tier": "B", "province": province})
    shown = re.findall(r'<tr data-tier="([A-D])" data-province="([^"]+)">', page.text)
    assert len(shown) == len(wanted)
    assert all(t == "B" and p == province for t, p in shown)
    # Sorted by score, highest first.
    page = open_client.get(batch, params={"sort": "-readiness_score"})
    ids = re.findall(r'/cooperatives/([^"]+)"><bdi dir="ltr">', page.text)
    by_score = sorted(api, key=lambda s: (-s["readiness_score"], s["row"]))
    assert ids == [s["coop_id"] for s in by_score]
    # Search by id; paging past the end shows no rows; a bad tier is ignored.
    one = api[5]["coop_id"]
    page = open_client.get(batch, params={"q": one})
    assert re.findall(r'/cooperatives/([^"]+)"><bdi dir="ltr">', page.text) == [one]
    assert open_client.get(batch, params={"page": 9}).text.count("<tr data-tier") == 0
    assert open_client.get(batch, params={"tier": "Z"}).status_code == 200
    # Downloads through the session: the API's export, all 37 rows.
    assert open_client.get(batch + "/scores.csv").text.strip().count("\n") == ROWS - len(BROKEN)
    xlsx = open_client.get(batch + "/scores.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_profile_and_what_if_match_the_api(open_client, tmp_path):
    batch = upload(open_client, persian_list(tmp_path / "list.xlsx"))
    first = open_client.get(f"/api/v1{batch}/scores").json()["scores"][0]
    page = open_client.get(f"/cooperatives/{first['coop_id']}")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert first["coop_id"] in page.text and "history-chart" in page.text
    assert page.text.count('class="fill"') == 4
    # What-if from the script (JSON, CSRF header) equals POST /api/v1/what-if on the same row.
    csrf = csrf_of(page.text)
    changes = {"iso9001": True, "commercial_card": True}
    ours = open_client.post(
        f"/cooperatives/{first['coop_id']}/what-if",
        json={"changes": changes},
        headers={"x-csrf-token": csrf},
    )
    assert ours.status_code == 200, ours.text
    assert ours.json()["before"]["readiness_score"] == first["readiness_score"]
    from scoring.sample import generate_sample, to_english_table

    frame, _ = generate_sample(ROWS, 3, labelled=False)
    row = to_english_table(frame).iloc[first["row"] - 2].to_dict()
    theirs = open_client.post("/api/v1/what-if", json={"record": row, "changes": changes})
    assert ours.json()["after"]["readiness_score"] == theirs.json()["after"]["readiness_score"]
    # Without the header the call is refused; the plain form (no script) renders the result.
    assert (
        open_client.post(
            f"/cooperatives/{first['coop_id']}/what-if", json={"changes": changes}
        ).status_code
        == 403
    )
    form = open_client.post(
        f"/cooperatives/{first['coop_id']}/what-if",
        data={"csrf": csrf, "iso9001": "yes", "commercial_card": "yes"},
    )
    assert form.status_code == 200 and 'id="whatif-after"><bdi' in form.text
    assert open_client.get("/cooperatives/no-such-id").status_code == 404


def test_english_switch_and_cookie(open_client):
    page = open_client.get("/?lang=en")
    assert '<html lang="en" dir="ltr">' in page.text and "Upload a list" in page.text
    assert open_client.cookies.get("rdy_lang") == "en"
    again = open_client.get("/")
    assert 'dir="ltr"' in again.text  # the cookie keeps the choice
    assert 'dir="rtl"' in open_client.get("/?lang=fa").text
    assert '<html lang="fa" dir="rtl">' in open_client.get("/models").text


def test_static_assets_are_packaged(open_client):
    css = open_client.get("/static/workbench.css")
    assert css.status_code == 200 and "Vazirmatn" in css.text
    font = open_client.get("/static/fonts/Vazirmatn-Variable.woff2")
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
    assert "SIL Open Font License" in open_client.get("/static/fonts/OFL.txt").text
    assert open_client.get("/static/workbench.js").status_code == 200
    page = open_client.get("/").text
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_roles_sign_in_and_csrf(token_app, tokens, tmp_path):
    client = token_app
    # No session: every page sends to sign-in.
    for path in ("/", "/models", "/batches/" + "0" * 32, "/cooperatives/x"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    # A wrong token is refused on the form, a form without CSRF is refused.
    form = client.get("/signin")
    assert form.status_code == 200 and 'dir="rtl"' in form.text
    bad = client.post("/signin", data={"csrf": csrf_of(form.text), "token": "rdy_x", "next": "/"})
    assert bad.status_code == 401 and "signin-error" in bad.text
    no_csrf = client.post("/signin", data={"token": tokens["viewer"], "next": "/"})
    assert no_csrf.status_code == 403
    # A viewer reads but may not upload nor what-if nor promote.
    sign_in(client, tokens["viewer"])
    cookie = client.cookies.get("rdy_session")
    assert cookie == tokens["viewer"]
    home = client.get("/")
    assert home.status_code == 200 and 'id="upload-form"' not in home.text
    csrf = csrf_of(home.text)
    path = persian_list(tmp_path / "l.xlsx")
    with path.open("rb") as handle:
        refused = client.post("/upload", data={"csrf": csrf}, files={"file": ("l.xlsx", handle)})
    assert refused.status_code == 403
    assert client.post("/models/promote", data={"csrf": csrf, "reference": "x"}).status_code == 403
    assert "/models/promote" not in client.get("/models").text
    # An officer uploads; without CSRF the upload is refused.
    sign_in(client, tokens["officer"])
    with path.open("rb") as handle:
        assert client.post("/upload", files={"file": ("l.xlsx", handle)}).status_code == 403
    batch = upload(client, path)
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    first = client.get(f"/api/v1{batch}/scores", headers=officer).json()["scores"][0]
    page = client.get(f"/cooperatives/{first['coop_id']}")
    assert "whatif-form" not in page.text  # what-if needs a manager
    sign_in(client, tokens["manager"])
    page = client.get(f"/cooperatives/{first['coop_id']}")
    assert "whatif-form" in page.text
    # The session cookie is HttpOnly and SameSite=Strict.
    answer = client.post(
        "/signin",
        data={
            "csrf": csrf_of(client.get("/signin").text),
            "token": tokens["analyst"],
            "next": "/models",
        },
        follow_redirects=False,
    )
    header = answer.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header
    assert answer.headers["location"] == "/models"
    models = client.get("/models")
    assert models.status_code == 200 and "/models/promote" in models.text  # analysts promote
    # Sign-in never sends to another site.
    away = client.post(
        "/signin",
        data={
            "csrf": csrf_of(client.get("/signin").text),
            "token": tokens["viewer"],
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert away.headers["location"] == "/"


def test_every_page_in_both_languages(open_client, tmp_path):
    batch = upload(open_client, persian_list(tmp_path / "list.xlsx"))
    coop = open_client.get(f"/api/v1{batch}/scores").json()["scores"][0]["coop_id"]
    for path in ("/", batch, f"/cooperatives/{coop}", "/models"):
        for lang, direction in (("fa", "rtl"), ("en", "ltr")):
            page = open_client.get(path, params={"lang": lang})
            assert page.status_code == 200, (path, lang)
            assert f'<html lang="{lang}" dir="{direction}">' in page.text
            assert 'name="csrf"' in page.text or path == batch


class _Controls(HTMLParser):
    """The form controls of a page that a person sets, and the ids its labels name."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label":
            self._in_label += 1
            if found.get("for"):
                self.labelled.add(str(found["for"]))
        elif tag in ("input", "select", "textarea") and found.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.controls.append({**found, "_wrapped": "yes" if self._in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1


def test_every_control_has_a_label_in_both_languages(open_client, tmp_path):
    batch = upload(open_client, persian_list(tmp_path / "list.xlsx"))
    coop = open_client.get(f"/api/v1{batch}/scores").json()["scores"][0]["coop_id"]
    seen = 0
    for path in ("/", batch, f"/cooperatives/{coop}", "/models", "/plan", "/signin"):
        for lang in ("fa", "en"):
            page = open_client.get(path, params={"lang": lang})
            assert page.status_code == 200, (path, lang)
            parser = _Controls()
            parser.feed(page.text)
            for control in parser.controls:
                named = (
                    control.get("id") in parser.labelled
                    or control["_wrapped"]
                    or control.get("aria-label")
                    or control.get("aria-labelledby")
                )
                assert named, (path, lang, control)
            seen += len(parser.controls)
    assert seen > 20  # the pages do have controls: upload, filters, search, what-if, plan


def test_the_model_card_is_shown_as_html_and_its_html_as_text(open_client):
    from scoring.web.models import card_html

    page = open_client.get("/models", params={"lang": "fa"}).text
    card = page[page.index('class="model-card"') :]
    assert "<h1>Model card: " in card and "<table>" in card and "<th>metric</th>" in card
    assert "## Holdout metrics" not in card  # rendered, not shown as Markdown
    escaped = card_html("| a |\n|---|\n| <script>alert(1)</script> |")
    assert "<script>" not in escaped and "&lt;script&gt;alert(1)&lt;/script&gt;" in escaped
