"""``readiness serve`` as a real uvicorn process on 127.0.0.1 (a free port, bounded waits):
it starts in one command, answers, logs one JSON line per request, swaps its champion on
SIGHUP, refuses a public address without tokens, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from service_support import PROGRAMS, new_version, record

from scoring.registry import promote_model


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(registry, tmp_path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "scoring",
        "serve",
        "--registry",
        str(registry),
        "--port",
        str(port),
        "--db",
        str(tmp_path / "serve.db"),
        "--programs",
        str(PROGRAMS),
        "--reload-interval",
        "0",
        *extra,
    ]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def wait_until(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=10)
    return process.returncode


@pytest.fixture
def registry(tmp_path, trained):
    folder = tmp_path / "registry"
    first = new_version(trained, folder)
    promote_model(folder, first)
    return folder, first


def test_serve_answers_logs_json_swaps_on_sighup_and_stops(registry, trained, tmp_path):
    folder, first = registry
    process, url = start(folder, tmp_path)
    try:
        wait_until(lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200)
        with httpx.Client(base_url=url, timeout=10) as client:
            answer = client.post("/api/v1/score", json=[record()]).json()
            assert answer["model"] == first and answer["results"][0]["ok"]
            assert client.get("/readyz").status_code == 200
            second = new_version(trained, folder)
            promote_model(folder, second)
            os.kill(process.pid, signal.SIGHUP)
            wait_until(lambda: client.get("/healthz").json()["model"] == second, seconds=20)
            assert client.post("/api/v1/score", json=[record()]).json()["model"] == second
    finally:
        code = stop(process)
    assert code == 0
    output = (tmp_path / "serve.log").read_text()
    assert f"serving {first} on {url}" in output
    assert "open: no token exists" in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    scored = [r for r in requests if r["path"] == "/api/v1/score"]
    assert len(scored) == 2 and all(r["status"] == 200 and r["records"] == 1 for r in scored)
    assert {"method", "path", "status", "ms", "model", "records"} <= set(scored[0])
    assert [r["model"] for r in scored] == [first, second]
    assert any(
        line.get("event") == "model_served" and line.get("model") == second for line in lines
    )


def test_serve_refuses_a_public_address_without_tokens(registry, tmp_path):
    folder, _ = registry
    process, _ = start(folder, tmp_path, "--host", "0.0.0.0")
    try:
        code = process.wait(timeout=60)
    finally:
        stop(process)
    output = (tmp_path / "serve.log").read_text()
    assert code == 1
    assert "refusing to serve on 0.0.0.0 without tokens" in output


def test_serve_refuses_an_unknown_model(registry, tmp_path):
    folder, _ = registry
    process, _ = start(folder, tmp_path, "--model", "no-such-model")
    try:
        code = process.wait(timeout=60)
    finally:
        stop(process)
    assert code == 1
    assert "unknown model 'no-such-model'" in (tmp_path / "serve.log").read_text()


def _exchange(port: int, head: bytes, body: bytes, *, wait: float = 10.0) -> tuple[int, dict]:
    """Send a request by hand (``body`` may be shorter than its Content-Length) and read the
    answer: its status and its JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head_text, _, content = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head_text.lower()
    return int(head_text.split(b" ", 2)[1]), json.loads(content)


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 1 << 30


def test_time_limits_and_bad_bodies_on_a_real_uvicorn_server(registry, tmp_path):
    """A slow body gets 408 and slow scoring 504 at the time limit, an oversized or broken
    body 413 or 400: problem details over a real socket, and the server goes on serving."""
    import threading

    import uvicorn
    from service_support import settings

    from scoring.service import create_app

    folder, first = registry
    limits = dict(request_timeout=0.5, batch_window=1.5, body_limit=4096)
    app = create_app(settings(folder, f"sqlite:///{tmp_path / 's.db'}", **limits))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200)
        body = json.dumps([record()]).encode()

        def head(length: int) -> bytes:
            return (
                f"POST /api/v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                f"application/json\r\nContent-Length: {length}\r\n\r\n"
            ).encode()

        started = time.monotonic()
        status, problem = _exchange(port, head(len(body)), body[:20])  # then silence
        assert status == 408 and 0.5 <= time.monotonic() - started < 1.4
        assert problem["detail"] == "the request body stopped arriving for 0.5 s"
        started = time.monotonic()
        status, problem = _exchange(port, head(len(body)), body)
        assert status == 504 and 0.5 <= time.monotonic() - started < 1.4
        assert problem["model"] == first and problem["status"] == 504
        status, problem = _exchange(port, head(10_000), b"[")
        assert status == 413 and "4,096 bytes" in problem["detail"]
        status, problem = _exchange(port, head(2), b"[{")
        assert status == 400 and "not valid JSON" in problem["detail"]
        app.state.service.batcher.window = 0.0
        time.sleep(1.5)  # the window the 504 request opened ends
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/score", json=[record()]).json()
        assert answer["model"] == first and answer["results"][0]["ok"]
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert not thread.is_alive()
