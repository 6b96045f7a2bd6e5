"""End-to-end scoring throughput and peak memory, as a ratio to a bare baseline in the same run.

Baseline (what a person would write without this tool): ``pandas.read_csv`` + the trained
scikit-learn pipeline's ``predict_proba`` + ``to_csv`` of ``coop_id`` and the probability (the
four yes/no columns mapped to 1/0 so the pipeline gets numbers). Library: ``score_file`` - read,
normalise, validate, score from the compiled tables, tiers, reasons, sub-scores, percentiles,
drift, atomic CSV out. Every case runs in a fresh subprocess; cases are interleaved and repeated
and the ratio is taken within each repeat (the machine is shared and noisy).

Threads: the baseline's HistGradientBoosting predict uses OpenMP; both run with
``OMP_NUM_THREADS=2`` (one per core) so neither is oversubscribed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_read import CACHE, HERE, load_average, peak_rss_mb, sample_paths, versions

SCRIPT = Path(__file__).resolve()
REGISTRY = CACHE / "registry"
YES_NO = ("iso9001", "standard_mark", "commercial_card")


def ensure_model(registry: Path, reference: str | None) -> str:
    """A model trained on 30,000 sample rows with the default candidates (cached)."""
    from scoring.contract import load_contract
    from scoring.registry import list_models, save_model
    from scoring.sample import generate_sample
    from scoring.training import train_model

    if reference:
        return reference
    if list_models(registry):
        return "export-readiness"
    print("training the benchmark model (30,000 rows) ...", file=sys.stderr)
    frame, _ = generate_sample(30_000, seed=0)
    contract = load_contract()
    save_model(train_model(frame, contract, seed=0), contract, registry)
    return "export-readiness"


def run_one(path: Path, mode: str, registry: Path, reference: str) -> dict:
    """One measurement in this fresh process."""
    import numpy as np
    import pandas as pd

    from scoring.batch import score_file
    from scoring.model import ScoringModel
    from scoring.registry import load_model

    loaded = load_model(registry, reference)
    out = CACHE / f"out-{os.getpid()}.csv"
    if mode == "baseline":
        pipeline = loaded.load_pipeline()
    else:
        model = ScoringModel(loaded)
    floor = peak_rss_mb()
    wall = time.perf_counter()
    if mode == "baseline":
        frame = pd.read_csv(path)
        for column in YES_NO:
            frame[column] = frame[column].map({"yes": 1.0, "no": 0.0})
        probability = pipeline.predict_proba(frame)[:, 1]
        pd.DataFrame({"coop_id": frame["coop_id"], "p": probability}).to_csv(out, index=False)
        rows, scored = len(frame), int(np.isfinite(probability).sum())
    else:
        summary = score_file(path, model, out)
        rows, scored = summary.rows_read, summary.rows_scored
    wall = time.perf_counter() - wall
    out.unlink(missing_ok=True)
    return {"rows": rows, "scored": scored, "seconds": wall, "floor_rss_mb": floor,
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def measure(path: Path, mode: str, registry: Path, reference: str) -> dict:
    command = [sys.executable, str(SCRIPT), "--one", str(path), "--mode", mode,
               "--registry", str(registry), "--model", reference]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{mode} on {path.name} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--registry", type=Path, default=REGISTRY)
    parser.add_argument("--model", help="model reference (default: train one, cached)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "score.json")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="score", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.mode, args.registry, args.model)))
        return
    reference = ensure_model(args.registry, args.model)
    rows, small = args.rows, args.rows // 10
    big, little = sample_paths(rows), sample_paths(small)
    cases = {
        "baseline en": (big["en"], "baseline", rows),
        "score en": (big["en"], "score", rows),
        "score fa": (big["fa"], "score", rows),
        "score en small": (little["en"], "score", small),
        "score fa small": (little["fa"], "score", small),
    }
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    load_before = load_average()
    for repeat in range(args.repeat):
        for name, (path, mode, n) in cases.items():
            print(f"  run {repeat + 1}/{args.repeat}: {name}", file=sys.stderr)
            run = measure(path, mode, args.registry, reference)
            if run["rows"] != n:
                raise AssertionError(f"{name}: {run['rows']} rows read, expected {n}")
            runs[name].append(run)
    base = runs["baseline en"]
    results = {}
    for name, (_, _, n) in cases.items():
        seconds = statistics.median(r["seconds"] for r in runs[name])
        ratio = (
            statistics.median(
                r["seconds"] / b["seconds"] for r, b in zip(runs[name], base, strict=True)
            )
            if n == rows
            else None
        )
        peak = statistics.median(r["peak_rss_mb"] for r in runs[name])
        results[name] = {"rows": n, "median_seconds": seconds, "rows_per_second": n / seconds,
                         "time_vs_baseline": ratio, "median_peak_rss_mb": peak,
                         "runs": runs[name]}  # fmt: skip
    memory = {
        lang: results[f"score {lang}"]["median_peak_rss_mb"]
        / results[f"score {lang} small"]["median_peak_rss_mb"]
        for lang in ("en", "fa")
    }
    header = f"{'case':<16} {'rows':>10} {'median s':>9} {'rows/s':>10} {'x baseline':>11}"
    print(f"\n{header} {'peak MB':>8}")
    for name, r in results.items():
        ratio = "" if r["time_vs_baseline"] is None else f"{r['time_vs_baseline']:.2f}"
        print(f"{name:<16} {r['rows']:>10,} {r['median_seconds']:9.2f} "
              f"{r['rows_per_second']:>10,.0f} {ratio:>11} "
              f"{r['median_peak_rss_mb']:8.0f}")  # fmt: skip
    for lang, ratio in memory.items():
        print(f"peak RSS {rows:,} / {small:,} rows ({lang}): {ratio:.2f}x (target <= 1.5x)")
    load_after = load_average()
    print(f"load average before {load_before}, after {load_after}")
    report = {**versions(), "command": " ".join(sys.argv), "rows": rows, "repeat": args.repeat,
              "model": reference, "load_average_before_after": [load_before, load_after],
              "memory_ratio_1m_vs_100k": memory, "cases": results}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
