"""Champion hot swap: a promoted model serves without a restart once verified; a model failing
verification (a tampered champion, a file changed under the served one) is refused and the old
one keeps serving, with a log line."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from service_support import new_version, record, settings

from scoring.registry import promote_model
from scoring.service import create_app


@pytest.fixture
def registry(tmp_path, trained):
    folder = tmp_path / "registry"
    first = new_version(trained, folder)
    promote_model(folder, first)
    return folder, first


def serving(client) -> str:
    answer = client.post("/api/v1/score", json=[record()]).json()
    assert answer["results"][0]["ok"]
    return answer["model"]


def tamper(registry, reference: str) -> None:
    name, version = reference.split("@")
    scorer = registry / name / version / "scorer.json"
    document = json.loads(scorer.read_text())
    document["intercept"] += 1.0
    scorer.write_text(json.dumps(document))


def point_champion(registry, reference: str) -> None:
    """Write the champion pointer by hand (``promote`` itself refuses a changed model)."""
    name, version = reference.split("@")
    (registry / name / "CHAMPION").write_text(version + "\n")


def log_events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_promoted_model_serves_without_restart(registry, trained, tmp_path):
    folder, first = registry
    app = create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}"))
    holder = app.state.service.holder
    with TestClient(app) as client:
        assert serving(client) == first
        second = new_version(trained, folder)
        assert holder.check() == "unchanged"  # a new version is not the champion
        promote_model(folder, second)
        assert holder.check() == "served"
        assert serving(client) == second
        assert client.get("/healthz").headers["x-readiness-model"] == second
        assert 'readiness_model_swaps_total{outcome="served"} 1' in client.get("/metrics").text


def test_a_tampered_champion_is_refused_and_the_old_one_keeps_serving(
    registry, trained, tmp_path, capsys
):
    folder, first = registry
    app = create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}"))
    holder = app.state.service.holder
    with TestClient(app) as client:
        bad = new_version(trained, folder)
        tamper(folder, bad)
        point_champion(folder, bad)
        assert holder.check() == "refused"
        assert holder.check() == "refused"  # still refused, and told once only
        assert serving(client) == first
        assert "sha256 differs" in holder.last_error
        ready = client.get("/readyz").json()
        assert ready["checks"]["model"]["reference"] == first
        assert "scorer.json" in ready["checks"]["model"]["last_reload_error"]
    refusals = [e for e in log_events(capsys.readouterr().err) if e["event"] == "model_refused"]
    assert len(refusals) == 1
    assert refusals[0]["model"] == bad and refusals[0]["serving"] == first


def test_a_file_changed_under_the_served_model_is_refused_on_the_next_reload(
    registry, tmp_path, capsys
):
    folder, first = registry
    app = create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}"))
    holder = app.state.service.holder
    with TestClient(app) as client:
        before = client.post("/api/v1/score", json=[record()]).json()["results"][0]
        tamper(folder, first)
        assert holder.check() == "refused"  # the files' stamps changed: reloaded, and refused
        after = client.post("/api/v1/score", json=[record()]).json()
        assert after["model"] == first
        # The verified tables loaded at start keep scoring, unchanged by the file on disk.
        assert after["results"][0]["export_probability"] == before["export_probability"]
        assert holder.check(force=True) == "refused"  # what SIGHUP does
    events = [e["event"] for e in log_events(capsys.readouterr().err)]
    assert events.count("model_refused") == 2


def test_the_timer_picks_up_a_promotion(registry, trained, tmp_path):
    folder, first = registry
    app = create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}", reload_interval=0.2))
    with TestClient(app) as client:
        assert serving(client) == first
        second = new_version(trained, folder)
        promote_model(folder, second)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and serving(client) != second:
            time.sleep(0.1)
        assert serving(client) == second


def test_promote_through_the_api_is_audited(registry, trained, tmp_path, capsys):
    folder, _ = registry
    second = new_version(trained, folder)
    with TestClient(create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}"))) as client:
        response = client.post("/api/v1/models/promote", json={"reference": second})
        assert response.status_code == 200, response.text
        assert response.json()["reload"] == "served" and serving(client) == second
        missing = client.post("/api/v1/models/promote", json={"reference": "../../etc@passwd"})
        assert missing.status_code == 404
        listed = client.get("/api/v1/models").json()
        assert {m["version"] for m in listed["models"] if m["champion"]} == {second.split("@")[1]}
    audits = [e for e in log_events(capsys.readouterr().err) if e.get("audit")]
    assert [(a["event"], a["outcome"]) for a in audits] == [
        ("promote", "promoted"),
        ("promote", "refused"),
    ]
