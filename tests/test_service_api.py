"""The scoring API driven through its real ASGI app (FastAPI's TestClient and httpx's ASGI
transport): same output as batch scoring, bad input refused with problem details, the store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_support import PROGRAMS, csv_records, new_version, record, sample_csv, settings
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.contract import load_contract
from scoring.service import create_app

FIELDS = [
    "coop_id",
    "export_probability",
    "readiness_score",
    "readiness_tier",
    "reason_1",
    "reason_2",
    "reason_3",
    "capacity_score",
    "quality_score",
    "output_score",
    "market_score",
    "sector_percentile",
    "next_step",
    "next_step_score",
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory, trained):
    folder = tmp_path_factory.mktemp("service-registry")
    return folder, new_version(trained, folder)


@pytest.fixture
def make_client(registry, tmp_path):
    """``make_client(**settings)``: a TestClient (lifespan running) on a fresh store."""
    clients = []

    def make(**changes):
        db = changes.pop("db", f"sqlite:///{tmp_path / 'store.db'}")
        client = TestClient(create_app(settings(registry[0], db, **changes)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def score(client, body, **headers):
    return client.post("/api/v1/score", json=body, headers=headers)


def test_api_scores_every_row_exactly_as_readiness_score(registry, make_client, tmp_path):
    """3,000 sample rows (some dirty) through the CLI and the API: every field equal."""
    folder, reference = registry
    source = sample_csv(tmp_path / "list.csv", 3000, seed=5, dirty=0.03)
    out, rejects = tmp_path / "scores.parquet", tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(source),
            "--out",
            str(out),
            "--rejects",
            str(rejects),
            "--model",
            reference,
            "--registry",
            str(folder),
            "--next-step",
            "--programs",
            str(PROGRAMS),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    batch = pd.read_parquet(out)
    rejected = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    records = csv_records(source)
    if any(None in r or None in r.values() for r in records):  # rows the reader cannot split
        pytest.skip("the dirty sample has rows with the wrong number of fields")
    client = make_client(max_records=5000, body_limit=20_000_000)
    response = score(client, {"records": records})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["records"] == len(records) == len(batch) + len(rejected)
    ok = [r for r in answer["results"] if r["ok"]]
    assert len(ok) == len(batch) > 2500
    api = pd.DataFrame(ok)[FIELDS]
    for name in FIELDS:
        left, right = api[name].to_numpy(), batch[name].to_numpy()
        if batch[name].dtype.kind == "f":
            assert np.array_equal(left.astype(float), right, equal_nan=True), name
        else:
            assert left.tolist() == right.tolist(), name
    # The rejects: the same rows, with the rejects file's messages (a file counts its header as
    # row 1, so a repeated id names row k + 1 there where the API names record k).
    bad = [r for r in answer["results"] if not r["ok"]]
    assert [r["index"] + 2 for r in bad] == rejected["row"].astype(int).tolist()
    for mine, theirs in zip(bad, rejected["error"], strict=True):
        assert _file_numbering(mine["error"]) == theirs


def _file_numbering(error: str) -> str:
    import re

    return re.sub(r"repeats row (\d+)", lambda m: f"repeats row {int(m.group(1)) + 1}", error)


def test_one_record_with_persian_values_in_persian(client):
    contract = load_contract()
    response = score(client, record(), **{"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"})
    assert response.status_code == 200
    answer = response.json()
    [result] = answer["results"]
    assert result["ok"] and answer["lang"] == "fa"
    assert answer["model"] == response.headers["x-readiness-model"]
    assert answer["model"].startswith("export-readiness@")
    p = result["export_probability"]
    assert 0 < p < 1 and result["readiness_score"] == round(100 * p, 1)
    cutoffs = contract.tiers
    expected = next((t for t in "ABC" if p >= cutoffs[t]), "D")
    assert result["readiness_tier"] == expected
    assert result["tier_name"] == contract.tier_label(expected, "fa")
    persian = {r.code: r.fa for sides in contract.reasons.values() for r in sides.values()}
    assert result["reasons"] and all(r["text"] == persian[r["code"]] for r in result["reasons"])
    assert [r["code"] for r in result["reasons"]] == [
        c for c in (result["reason_1"], result["reason_2"], result["reason_3"]) if c
    ]
    assert result["province"] == "tehran" and result["sector"] == "industrial"
    if result["next_step"]:
        assert result["next_step_score"] > result["readiness_score"]
        assert result["next_step_cost"] > 0 and result["next_step_name"]


def test_persian_digits_and_words_read_as_in_a_file(client):
    persian = score(client, record(members="۱۲", iso9001="خیر", established_year=1385)).json()
    english = score(client, record(members=12, iso9001=False, established_year=2006)).json()
    assert (
        persian["results"][0]["export_probability"] == english["results"][0]["export_probability"]
    )


def test_unknown_fields_are_listed_ignored_and_reported(client):
    plain = score(client, record()).json()["results"][0]
    answer = score(client, record(colour="blue", shoe_size=42)).json()
    [result] = answer["results"]
    assert answer["unknown_fields"] == ["colour", "shoe_size"]
    assert result["ignored_fields"] == ["colour", "shoe_size"]
    assert result["export_probability"] == plain["export_probability"]


def test_a_bad_record_gets_its_errors_while_the_others_are_scored(client):
    body = [
        record(coop_id="A"),
        record(coop_id="B", members="many", defect_rate=3),
        record(coop_id="C", province=...),
        record(coop_id="A"),
    ]
    answer = score(client, body).json()
    ok, bad_type, missing, repeated = answer["results"]
    assert ok["ok"] and answer["scored"] == 1 and answer["rejected"] == 3
    assert bad_type["errors"] == [
        "members: 'many' is not a number",
        "defect_rate: '3' is above the maximum 1",
    ]
    assert missing["errors"] == ["province: is empty but required"]
    assert repeated["errors"] == ["coop_id: 'A' repeats row 1"]
    assert [r["index"] for r in answer["results"]] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"[{", 400, "not valid JSON"),
        (b"[" * 50_000, 400, "nested too deeply"),
        (b'{"coop_id": NaN}', 400, "NaN"),
        (b"[]", 422, "no records"),
        (b'"hello"', 422, "list of objects"),
        (b"[1, 2]", 422, "record 0 is a JSON int"),
        (b'[{"coop_id": {"a": 1}}]', 422, "'coop_id' is a JSON object"),
        (b'{"records": [{"members": [1, 2]}]}', 422, "'members' is a JSON list"),
        (b'{"records": [], "sort": 1}', 422, "unknown request keys"),
        (b"", 400, "empty"),
    ],
)
def test_bad_bodies_are_problems_never_500(client, body, status, fragment):
    response = client.post(
        "/api/v1/score", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and fragment in problem["detail"]
    assert problem["model"] == response.headers["x-readiness-model"]


def test_size_and_count_limits(client):
    huge = json.dumps([record(name="x" * (10 * 1024 * 1024))]).encode()
    response = client.post(
        "/api/v1/score", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "2,097,152" in response.json()["detail"]
    many = [{"coop_id": str(i)} for i in range(100_000)]
    response = score(client, many)
    assert response.status_code == 413
    assert response.json()["detail"] == "100,000 records in one request; the limit is 1,000"
    assert score(client, [record(coop_id=str(i)) for i in range(1000)]).status_code == 200
    response = client.post(
        "/api/v1/score", content=b"coop_id=1", headers={"content-type": "text/csv"}
    )
    assert response.status_code == 415


def test_what_if_before_after_and_every_programme(client):
    body = {"record": record(), "changes": {"iso9001": True}}
    response = client.post("/api/v1/what-if", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    before, after = answer["before"], answer["after"]
    assert (
        answer["uplift"]["export_probability"]
        == after["export_probability"] - before["export_probability"]
    )
    programs = {p["program"]: p for p in answer["programs"]}
    assert len(programs) == 6
    # The ISO programme makes exactly this change (the record has no ISO 9001): same after.
    assert programs["iso_support"]["applies"]
    assert programs["iso_support"]["probability_after"] == after["export_probability"]
    assert not programs["intl_certification"]["applies"]  # needs ISO or the standard mark
    capped = client.post(
        "/api/v1/what-if", json={"record": record(), "changes": {"actual_output": "*10"}}
    ).json()
    full = client.post(
        "/api/v1/what-if", json={"record": record(), "changes": {"actual_output": 1000}}
    ).json()
    assert capped["after"]["export_probability"] == full["after"]["export_probability"]
    bad = client.post("/api/v1/what-if", json={"record": record(), "changes": {"sector": "x"}})
    assert bad.status_code == 422 and "sector" in bad.json()["detail"]


def test_what_if_without_programmes_answers_the_same_before_and_after(client):
    # The workbench's panel asks for no programme uplifts; the rest is the API's answer.
    body = {"record": record(), "changes": {"iso9001": True, "actual_output": "*1.2"}}
    api = client.post("/api/v1/what-if", json=body).json()
    scorer = client.app.state.service.holder.current.scorer
    [prepared] = scorer.prepare([record()])
    light = scorer.what_if(prepared, body["changes"], "en", programs=False)
    assert light["programs"] == [] and len(api["programs"]) == 6
    for side in ("before", "after", "uplift"):
        assert light[side] == api[side]


def test_upload_scored_stored_and_read_back(client, tmp_path):
    source = sample_csv(tmp_path / "list.csv", 400, seed=3, dirty=0.05)
    with source.open("rb") as handle:
        response = client.post("/api/v1/batches", files={"file": ("لیست.csv", handle, "text/csv")})
    assert response.status_code == 201, response.text
    answer = response.json()
    batch_id, summary = answer["batch_id"], answer["summary"]
    assert answer["stored"] and answer["file_name"] == "لیست.csv"
    assert summary["rows_read"] == 400 == summary["rows_scored"] + summary["rows_rejected"]
    assert summary["rows_rejected"] > 0
    listed = client.get("/api/v1/batches").json()
    assert listed["total"] == 1 and listed["batches"][0]["id"] == batch_id
    one = client.get(f"/api/v1/batches/{batch_id}").json()
    assert one["summary"]["rows_scored"] == summary["rows_scored"] and one["source"] == "upload"
    page = client.get(f"/api/v1/batches/{batch_id}/scores", params={"per_page": 500}).json()
    assert page["total"] == summary["rows_scored"] == len(page["scores"])
    tiers = pd.Series([s["readiness_tier"] for s in page["scores"]]).value_counts().to_dict()
    assert tiers == {k: v for k, v in summary["tiers"].items() if v}
    a_only = client.get(
        f"/api/v1/batches/{batch_id}/scores",
        params={"tier": "A", "sort": "-readiness_score", "per_page": 500},
    ).json()
    assert a_only["total"] == summary["tiers"]["A"]
    scores = [s["readiness_score"] for s in a_only["scores"]]
    assert scores == sorted(scores, reverse=True)
    first = page["scores"][0]
    found = client.get(f"/api/v1/batches/{batch_id}/scores", params={"q": first["coop_id"]})
    assert first["coop_id"] in [s["coop_id"] for s in found.json()["scores"]]
    by_sector = client.get(
        f"/api/v1/batches/{batch_id}/scores", params={"sector": first["sector"], "per_page": 500}
    ).json()
    assert {s["sector"] for s in by_sector["scores"]} == {first["sector"]}
    rejects = client.get(f"/api/v1/batches/{batch_id}/rejects").json()
    assert rejects["total"] == summary["rows_rejected"]
    assert all(r["error"] for r in rejects["rejects"])
    exported = client.get(f"/api/v1/batches/{batch_id}/scores.csv")
    assert exported.status_code == 200
    assert exported.text.count("\n") == summary["rows_scored"] + 1
    workbook = client.get(f"/api/v1/batches/{batch_id}/scores.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    history = client.get(f"/api/v1/cooperatives/{first['coop_id']}").json()
    assert history["latest"]["readiness_score"] == first["readiness_score"]
    assert history["latest"]["batch_id"] == batch_id
    assert client.get("/api/v1/batches/nope").status_code == 404
    assert client.get("/api/v1/batches/../../etc/passwd").status_code == 404
    assert (
        client.get(f"/api/v1/batches/{batch_id}/scores", params={"sort": "x;drop"}).status_code
        == 422
    )


def test_cooperative_history_across_batches_newest_first(client):
    first = score(client, {"records": [record(coop_id="۷۷")], "store": True}).json()
    second = score(client, {"records": [record(coop_id="77", iso9001=True)], "store": True}).json()
    assert first["stored"] and second["stored"]
    history = client.get("/api/v1/cooperatives/۷۷").json()  # Persian digits: the same id
    assert [h["batch_id"] for h in history["history"]] == [second["batch_id"], first["batch_id"]]
    assert history["latest"]["export_probability"] == second["results"][0]["export_probability"]
    assert client.get("/api/v1/cooperatives/unknown").status_code == 404


def test_an_upload_that_is_not_a_table_stores_nothing(client):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    for name, kind in (("scores.csv", "text/csv"), ("scores.xlsx", "application/octet-stream")):
        response = client.post("/api/v1/batches", files={"file": (name, png, kind)})
        assert response.status_code == 422, response.text
        assert name in response.json()["detail"]
        assert "readiness-uploads" not in response.json()["detail"]  # no server path leaks
    headers_only = client.post("/api/v1/batches", files={"file": ("a.csv", b"coop_id,sector\n")})
    assert headers_only.status_code == 422
    unknown = client.post(
        "/api/v1/batches",
        content=b"a,b\n1,2\n",
        params={"filename": "x.doc"},
        headers={"content-type": "application/msword"},
    )
    assert unknown.status_code == 415
    assert client.get("/api/v1/batches").json()["total"] == 0


def test_an_unreachable_store_fails_readiness_but_scoring_answers(make_client, tmp_path):
    client = make_client(db=f"sqlite:///{tmp_path / 'missing' / 'folder' / 'store.db'}")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["store"]["ok"] is False
    assert client.get("/healthz").status_code == 200
    answer = score(client, {"records": [record()], "store": True}).json()
    assert answer["results"][0]["ok"] and answer["stored"] is False
    assert "not stored" in answer["store_error"]
    source = sample_csv(tmp_path / "list.csv", 50, seed=1)
    uploaded = client.post("/api/v1/batches", files={"file": ("list.csv", source.read_bytes())})
    assert uploaded.status_code == 200 and uploaded.json()["stored"] is False
    assert uploaded.json()["summary"]["rows_scored"] == 50
    listed = client.get("/api/v1/batches")
    assert (
        listed.status_code == 503 and listed.headers["content-type"] == "application/problem+json"
    )


def test_openapi_describes_every_contract_column_in_english_and_persian(client):
    document = client.get("/openapi.json").json()
    record_schema = document["components"]["schemas"]["CooperativeRecord"]
    contract = load_contract()
    for column in contract.input_columns():
        description = record_schema["properties"][column.name]["description"]
        assert column.fa in description and " — " in description, column.name
    assert "/api/v1/score" in document["paths"] and "/api/v1/what-if" in document["paths"]
    scored = document["components"]["schemas"]["ScoredRecord"]["properties"]
    assert "احتمال" in scored["export_probability"]["description"]
    assert client.get("/docs").status_code == 200


def test_metrics_count_requests_records_and_errors(client):
    score(client, [record(), record(coop_id="x", members="?")])
    client.post("/api/v1/score", content=b"{", headers={"content-type": "application/json"})
    text = client.get("/metrics").text
    assert 'readiness_requests_total{method="POST",route="/api/v1/score",status="200"} 1' in text
    assert 'readiness_records_total{outcome="scored"} 1' in text
    assert 'readiness_records_total{outcome="rejected"} 1' in text
    assert 'readiness_errors_total{class="4xx"} 1' in text
    assert 'readiness_request_seconds_bucket{route="/api/v1/score",le="+Inf"} 2' in text
    client.get("/api/v1/batches/0123456789abcdef0123456789abcdef")
    assert 'route="/api/v1/batches/{batch_id}"' in client.get("/metrics").text


def test_concurrent_requests_are_coalesced_with_the_same_answers(registry, tmp_path):
    """40 requests at once through httpx's ASGI transport give what each gives alone."""
    app = create_app(settings(registry[0], f"sqlite:///{tmp_path / 's.db'}"))
    bodies = [
        [record(coop_id=f"c{i}", actual_output=25 * i + 5, export_revenue=400 * i, members=i + 1)]
        for i in range(40)
    ]

    async def run():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                together = await asyncio.gather(*(c.post("/api/v1/score", json=b) for b in bodies))
                alone = [await c.post("/api/v1/score", json=b) for b in bodies]
        return together, alone

    together, alone = asyncio.run(run())
    assert [r.json()["results"] for r in together] == [r.json()["results"] for r in alone]
    assert len({r.json()["results"][0]["export_probability"] for r in alone}) > 10


def _heavy_imports(registry, tmp_path) -> set[str]:
    """The heavy libraries a service process has imported after scoring and a what-if."""
    code = f"""
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from scoring.service import Settings, create_app
settings = Settings(registry=Path({str(registry[0])!r}), db="sqlite:///{tmp_path}/s.db",
                    programs=Path({str(PROGRAMS)!r}), reload_interval=0)
with TestClient(create_app(settings)) as client:
    assert client.post("/api/v1/score", json={{"coop_id": "1", "province": "fars",
        "sector": "mining", "members": 3, "installed_capacity": 5, "actual_output": 1,
        "revenue": 9}}).status_code == 200
    what_if = {{"record": {{"coop_id": "1"}}, "changes": {{"iso9001": True}}}}
    client.post("/api/v1/what-if", json=what_if)
    header = "coop_id,province,sector,members,installed_capacity,actual_output,revenue"
    table = chr(10).join([header, "1,fars,mining,3,5,1,9", ""]).encode()
    batch = client.post("/api/v1/batches", files={{"file": ("a.csv", table)}}).json()["batch_id"]
    assert client.get(f"/api/v1/batches/{{batch}}/scores.xlsx").status_code == 200
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"sklearn", "scipy", "matplotlib"}})
print(",".join(heavy))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(filter(None, done.stdout.strip().split(",")))


def test_the_service_never_imports_scikit_learn_scipy_or_matplotlib(registry, tmp_path):
    heavy = _heavy_imports(registry, tmp_path)
    assert not heavy & {"sklearn", "scipy", "matplotlib"}, f"the service imported {heavy}"
