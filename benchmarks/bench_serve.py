"""The scoring service under load on loopback, against a plain baseline service in the same run.

Load: ``--clients`` (32) concurrent keep-alive clients on 127.0.0.1, each sending one-record
``POST /api/v1/score`` requests back to back for ``--seconds`` (30; at most 600), records drawn
from an unlabelled sample file as text (as a registry would send them). Reported: requests/s,
p50/p99 latency, errors. Two clients: ``raw`` (asyncio streams writing HTTP/1.1 by hand: the
cheapest client, so the figures measure the server) and ``httpx`` (``httpx.AsyncClient``, whose
own CPU use on this 2-core machine caps what it can send; it is measured against an empty
endpoint too, to show that cap).

Baseline: the same FastAPI/uvicorn set-up whose endpoint turns the record into a one-row pandas
frame and calls ``HistGradientBoostingClassifier.predict_proba``, fitted on the same 30,000-row
training sample as the served model (what MLflow-style serving gives).

Also: a 10,000-row CSV uploaded to ``POST /api/v1/batches`` (scored and stored), and the
server's resident memory after ``--memory-warmup`` (1,000) and after ``--memory-requests``
(100,000) requests. Servers run one at a time; the machine's load average is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_read import CACHE, HERE, load_average, versions
from bench_score import MODEL, REGISTRY, train_engine_model

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
MAX_SECONDS = 600.0
BASELINE_SETTINGS = "BENCH_SERVE_BASELINE"


# ------------------------------------------------------------------------------------------
# The baseline service (run in its own uvicorn process)


def baseline_app():  # pragma: no cover - run by uvicorn in the baseline process
    """FastAPI app: record -> one-row pandas frame -> HistGradientBoosting predict_proba."""
    import pandas as pd
    from fastapi import FastAPI
    from sklearn.ensemble import HistGradientBoostingClassifier

    from scoring.sample import generate_sample

    frame, _ = generate_sample(30_000, seed=0)  # the served model's training sample
    label = frame.pop("exported_next_year")
    features = [c for c in frame.columns if c not in ("coop_id", "name", "data_year")]
    categorical = ["province", "sector"]
    train = frame[features].copy()
    for column in categorical:
        train[column] = train[column].astype("category")
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(train, label)
    kinds = {c: train[c].dtype for c in categorical}
    app = FastAPI()

    @app.post("/api/v1/score")
    def score(record: dict) -> dict:
        row = pd.DataFrame([record]).reindex(columns=features)
        for column in features:
            if column in kinds:
                row[column] = row[column].astype(kinds[column])
            elif column in ("iso9001", "standard_mark", "commercial_card"):
                row[column] = row[column].map({"yes": 1.0, "no": 0.0})
            else:
                row[column] = pd.to_numeric(row[column], errors="coerce")
        probability = float(model.predict_proba(row)[0, 1])
        return {"model": "baseline", "export_probability": probability}

    @app.post("/empty")
    def empty(record: dict) -> dict:
        return {"ok": True}

    return app


# ------------------------------------------------------------------------------------------
# Load generators


class RawClient:
    """One keep-alive HTTP/1.1 connection, written by hand (Content-Length responses only)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        assert self.reader is not None
        response = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in response.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def load(
    url: str,
    path: str,
    bodies: list[bytes],
    *,
    clients: int,
    seconds: float,
    kind: str,
    limit: int | None = None,
) -> dict:
    """``clients`` concurrent clients sending ``bodies`` for ``seconds`` (or ``limit`` requests)."""
    import httpx

    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    sent = 0
    stop_at = time.perf_counter() + seconds
    shared = (
        httpx.AsyncClient(
            base_url=url,
            timeout=30,
            limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
        )
        if kind == "httpx"
        else None
    )

    async def worker(number: int) -> None:
        nonlocal errors, sent
        raw = RawClient(host, int(port)) if kind == "raw" else None
        k = number
        try:
            while time.perf_counter() < stop_at and (limit is None or sent < limit):
                sent += 1
                body = bodies[k % len(bodies)]
                k += clients
                started = time.perf_counter()
                try:
                    if raw is not None:
                        status = await raw.post(path, body)
                    else:
                        headers = {"content-type": "application/json"}
                        status = (
                            await shared.post(path, content=body, headers=headers)
                        ).status_code
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    ValueError,
                    StopIteration,
                    httpx.HTTPError,
                ):
                    status = 0
                    if raw is not None:
                        await raw.close()
                        raw = RawClient(host, int(port))
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors += 1
        finally:
            if raw is not None:
                await raw.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.perf_counter() - began
    if shared is not None:
        await shared.aclose()
    latencies.sort()
    n = len(latencies)
    return {
        "client": kind,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": n,
        "requests_per_s": round(n / elapsed, 1),
        "p50_ms": round(1000 * latencies[n // 2], 1) if n else None,
        "p99_ms": round(1000 * latencies[min(n - 1, int(n * 0.99))], 1) if n else None,
        "errors": errors,
    }


# ------------------------------------------------------------------------------------------
# Servers


def ensure_model(registry: Path, model: str | None) -> str:
    """The model to serve: ``model``, else the scoring benchmark's (trained once, cached)."""
    if model is None and not (registry / MODEL).exists():
        print("training the engine's model (minutes) ...", file=sys.stderr)
        train_engine_model(registry)
    return model or MODEL


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 180.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server at {url} exited with {process.returncode}")
        try:
            if httpx.post(f"{url}/api/v1/score", json={}, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer within {seconds:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def records_per_call(url: str) -> float:
    """How many records the service's coalesced calls scored on average (from /metrics)."""
    import httpx

    values = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("readiness_scoring_call"):
            name, value = line.split()
            values[name] = float(value)
    calls = values.get("readiness_scoring_calls_total", 0)
    return round(values.get("readiness_scoring_call_records_total", 0) / calls, 1) if calls else 0


def upload_seconds(url: str, path: Path) -> dict:
    import httpx

    started = time.perf_counter()
    with path.open("rb") as handle:
        response = httpx.post(
            f"{url}/api/v1/batches", files={"file": (path.name, handle, "text/csv")}, timeout=300
        )
    seconds = time.perf_counter() - started
    answer = response.json()
    return {
        "status": response.status_code,
        "seconds": round(seconds, 2),
        "rows_read": answer["summary"]["rows_read"],
        "stored": answer["stored"],
    }


# ------------------------------------------------------------------------------------------


def records(rows: int, seed: int) -> tuple[list[bytes], Path]:
    """One-record bodies (cells as text) from an unlabelled sample, and that sample as CSV."""
    from scoring.sample import generate_sample, to_english_table

    frame, _ = generate_sample(rows, seed, labelled=False)
    table = to_english_table(frame)
    path = CACHE / f"serve-upload-{rows}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    bodies = [
        json.dumps({k: v for k, v in r.items() if v != ""}).encode()
        for r in table.to_dict("records")
    ]
    random.Random(seed).shuffle(bodies)
    return bodies, path


def run(args: argparse.Namespace) -> dict:
    reference = ensure_model(args.registry, args.model)
    bodies, upload = records(10_000, seed=1)
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    results: dict = {
        "versions": versions(),
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "load_average_before": load_average(),
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "scoring",
        "serve",
        "--registry",
        str(args.registry),
        "--model",
        reference,
        "--port",
        str(port),
        "--db",
        str(folder / "bench.db"),
        "--programs",
        str(ROOT / "examples" / "programs.toml"),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
    ]
    server = start_server(command, env, folder / "serve.log")
    try:
        wait_ready(url, server)
        print(f"service: {args.seconds:g} s of one-record requests ...", file=sys.stderr)
        results["service"] = measure_clients(url, bodies, args)
        results["service"]["load_average"] = load_average()
        results["service"]["records_per_scoring_call"] = records_per_call(url)
        results["upload_10000_rows"] = upload_seconds(url, upload)
        if args.memory_requests:
            print(f"service: memory over {args.memory_requests:,} requests ...", file=sys.stderr)
            asyncio.run(
                load(
                    url,
                    "/api/v1/score",
                    bodies,
                    clients=args.clients,
                    seconds=MAX_SECONDS,
                    kind="raw",
                    limit=args.memory_warmup,
                )
            )
            after_warmup = rss_mb(server.pid)
            asyncio.run(
                load(
                    url,
                    "/api/v1/score",
                    bodies,
                    clients=args.clients,
                    seconds=MAX_SECONDS * 2,
                    kind="raw",
                    limit=args.memory_requests - args.memory_warmup,
                )
            )
            after_all = rss_mb(server.pid)
            results["memory"] = {
                "rss_mb_after_warmup": after_warmup,
                "rss_mb_after_all": after_all,
                "requests": args.memory_requests,
                "growth_percent": round(100 * (after_all - after_warmup) / after_warmup, 1),
            }
    finally:
        stop_server(server)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench_serve:baseline_app",
        "--app-dir",
        str(SCRIPT.parent),
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    baseline = start_server(command, env, folder / "baseline.log")
    try:
        wait_ready(url, baseline)
        print(f"baseline: {args.seconds:g} s of one-record requests ...", file=sys.stderr)
        results["baseline"] = measure_clients(url, bodies, args)
        if "httpx" in args.client:  # what the httpx client can send at all, server doing nothing
            results["httpx_client_cap"] = asyncio.run(
                load(
                    url,
                    "/empty",
                    bodies,
                    clients=args.clients,
                    seconds=min(args.seconds, 10),
                    kind="httpx",
                )
            )
        results["baseline"]["load_average"] = load_average()
    finally:
        stop_server(baseline)
    for kind in args.client:
        ours, theirs = results["service"][kind], results["baseline"][kind]
        results[f"speedup_{kind}"] = round(ours["requests_per_s"] / theirs["requests_per_s"], 1)
    return results


def measure_clients(url: str, bodies: list, args: argparse.Namespace) -> dict:
    """A 3 s warm-up, then ``args.seconds`` of one-record ``POST /score`` per client kind."""
    path, clients = "/api/v1/score", args.clients
    asyncio.run(load(url, path, bodies, clients=clients, seconds=3, kind="raw"))
    return {
        kind: asyncio.run(load(url, path, bodies, clients=clients, seconds=args.seconds, kind=kind))
        for kind in args.client
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per measurement (max 600)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    parser.add_argument(
        "--client",
        action="append",
        choices=["raw", "httpx"],
        help="load generator(s); default both",
    )
    parser.add_argument("--memory-requests", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--memory-warmup", type=int, default=1_000)
    parser.add_argument("--registry", type=Path, default=REGISTRY)
    parser.add_argument("--model", help="model reference (default: train one, cached)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "serve.json")
    args = parser.parse_args()
    args.seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    args.client = args.client or ["raw", "httpx"]
    results = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
