"""Time limits of the service, driven through its real ASGI app: a body that stops arriving is
refused with 408, scoring that outlasts the request's time limit with 504, both as problem
details naming the model, and the service answers the next request."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from fastapi.testclient import TestClient
from service_support import new_version, record, settings

from scoring.service import create_app


@pytest.fixture(scope="module")
def registry(tmp_path_factory, trained):
    folder = tmp_path_factory.mktemp("faults-registry")
    return folder, new_version(trained, folder)


def _scope(path: str, length: int) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(length).encode())],
    }  # fmt: skip


def test_a_body_that_stops_arriving_is_refused_with_408(registry, tmp_path):
    folder, reference = registry
    app = create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}", request_timeout=0.3))
    body = json.dumps([record()]).encode()
    parts = [{"type": "http.request", "body": body[:10], "more_body": True}]
    sent: list[dict] = []

    async def receive() -> dict:
        if parts:
            return parts.pop(0)
        await asyncio.sleep(3600)  # the client went quiet: the rest never comes
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    started = time.monotonic()
    asyncio.run(asyncio.wait_for(app(_scope("/api/v1/score", len(body)), receive, send), 10))
    assert time.monotonic() - started < 5
    start, content = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    headers = dict(start["headers"])
    assert start["status"] == 408
    assert headers[b"content-type"] == b"application/problem+json"
    problem = json.loads(content)
    assert problem["status"] == 408 and problem["title"] == "Request timeout"
    assert problem["detail"] == "the request body stopped arriving for 0.3 s"
    assert problem["model"] == reference == headers[b"x-readiness-model"].decode()


def test_scoring_past_the_time_limit_is_refused_with_504(registry, tmp_path):
    """The coalescing window outlasts the request's limit: the request gets a 504 problem,
    its records are never scored, and the service answers again once the window is short."""
    folder, reference = registry
    slow = settings(folder, f"sqlite:///{tmp_path / 's.db'}", request_timeout=0.3, batch_window=2.0)
    app = create_app(slow)
    shared = app.state.service
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.post("/api/v1/score", json=[record()])
        assert 0.3 <= time.monotonic() - started < 2.0  # refused at the limit, not the window
        assert response.status_code == 504
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 504 and problem["title"] == "Timeout"
        assert "longer than the request timeout" in problem["detail"]
        assert problem["model"] == reference == response.headers["x-readiness-model"]
        time.sleep(2.2)  # the window ends: the abandoned request is dropped, not scored
        assert shared.metrics.call_records == 0
        shared.batcher.window = 0.0
        again = client.post("/api/v1/score", json=[record()])
        assert again.status_code == 200 and again.json()["results"][0]["ok"]
        metrics = client.get("/metrics").text
    assert 'readiness_errors_total{class="5xx"} 1' in metrics
    assert "readiness_scoring_call_records_total 1" in metrics
