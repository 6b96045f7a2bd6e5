"""Throughput and peak memory of read + normalise + validate, as ratios to ``pandas.read_csv``.

Each measurement runs in a fresh subprocess (``--one PATH``) that prints its wall time, CPU time
and peak RSS as JSON. The parent interleaves the cases, repeats them and reports medians; the
ratio to the bare ``pandas.read_csv`` baseline is taken within each repeat, then the median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()
HERE = SCRIPT.parent
CACHE = HERE / ".cache"
SEED = 1
CHUNK = 100_000


def sample_paths(rows: int, seed: int = SEED) -> dict[str, Path]:
    """English and Persian CSV twins of ``rows`` sample rows, generated once and cached."""
    sources = [HERE.parent / "scoring" / "sample.py", HERE.parent / "scoring/data/contract.toml"]
    key = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()[:8]
    paths = {lang: CACHE / f"sample-{rows}-seed{seed}-{key}-{lang}.csv" for lang in ("en", "fa")}
    if not all(p.exists() for p in paths.values()):  # in a child: keep this process small
        print(f"generating {rows:,} sample rows in {CACHE} ...", file=sys.stderr)
        command = [sys.executable, str(SCRIPT), "--generate", str(rows), str(seed),
                   *map(str, paths.values())]  # fmt: skip
        subprocess.run(command, check=True)
    return paths


def generate(rows: int, seed: int, english: Path, persian: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from scoring.sample import generate_sample, to_english_table, to_persian_table

    frame, _ = generate_sample(rows, seed=seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    for path, write in ((english, to_english_table), (persian, to_persian_table)):
        tmp = path.with_suffix(".tmp")
        pacsv.write_csv(pa.Table.from_pandas(write(frame), preserve_index=False), tmp)
        tmp.replace(path)


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss alone: Linux keeps it across exec, so a child's
    starts at its parent's peak; VmHWM belongs to the new address space."""
    with open("/proc/self/status", encoding="ascii") as status:
        hwm = [int(line.split()[1]) for line in status if line.startswith("VmHWM:")]
    return (hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def run_one(path: Path, baseline: bool) -> dict:
    """One measurement in this (fresh) process: the library path, or bare ``pandas.read_csv``."""
    if baseline:
        import pandas as pd
    else:
        from scoring.contract import load_contract
        from scoring.pipeline import iter_validated
        from scoring.reading import open_table

        contract = load_contract()
    floor = peak_rss_mb()  # interpreter + imports
    wall, cpu = time.perf_counter(), time.process_time()
    rows = valid = rejected = 0
    if baseline:
        rows = valid = len(pd.read_csv(path))
    else:
        for result in iter_validated(open_table(path), contract, chunk_size=CHUNK, labelled=False):
            rows += result.rows_read
            valid += len(result.valid)
            rejected += len(result.rejects)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"rows": rows, "valid": valid, "rejected": rejected, "seconds": wall,
            "cpu_seconds": cpu, "floor_rss_mb": floor, "peak_rss_mb": peak_rss_mb(),
            "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def run_process(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``command`` as a whole process: its wall and CPU seconds, peak RSS and stdout.

    The figures are the child's own (``wait4``), interpreter start and imports included. Its
    peak RSS starts at this process's size when forked (``ru_maxrss`` survives ``exec``), so
    the parent should stay small.
    """
    # Files, not pipes: Popen.communicate would reap the child before wait4 could.
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        wall = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - wall
        child.returncode = code = os.waitstatus_to_exitcode(status)
        told = {}
        for name, stream in (("stdout", stdout), ("stderr", stderr)):
            stream.seek(0)
            told[name] = stream.read().decode(errors="replace")
    if code:
        raise SystemExit(f"{' '.join(command)} failed ({code}):\n{told['stderr']}")
    return {"seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, **told}  # fmt: skip


def measure(path: Path, baseline: bool, expected_rows: int) -> dict:
    command = [sys.executable, str(SCRIPT), "--one", str(path)]
    done = subprocess.run(command + ["--baseline"] * baseline, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"measurement of {path.name} failed:\n{done.stderr}")
    run = json.loads(done.stdout)
    if not run["rows"] == run["valid"] + run["rejected"] == expected_rows:
        raise AssertionError(f"{path.name}: rows do not add up to {expected_rows}: {run}")
    return run


def summarise(runs: list[dict], base: list[dict], rows: int) -> dict:
    """Medians of a case's runs; its time over the baseline's, paired within each repeat."""
    keys = ("seconds", "cpu_seconds", "peak_rss_mb", "floor_rss_mb")
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    paired = statistics.median(r["seconds"] / b["seconds"] for r, b in zip(runs, base, strict=True))
    return {
        "rows": rows,
        "rows_per_second": rows / median["seconds"],
        "time_vs_pandas_read_csv_en": paired if rows == base[0]["rows"] else None,
        **{f"median_{k}": v for k, v in median.items()},
        "runs": runs,
    }


def versions() -> dict:
    import numpy
    import pandas
    import pyarrow

    return {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "python": platform.python_version(), "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__, "numpy": numpy.__version__,
            "cpu_count": os.cpu_count(), "platform": platform.platform()}  # fmt: skip


def load_average() -> list[float] | None:
    """The machine's 1, 5 and 15 minute load averages: how busy the other processes kept it."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="large file rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--quick", action="store_true", help="100k/10k rows, for smoke tests")
    parser.add_argument("--out", type=Path, help="JSON results (default results/read.json)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        rows, seed, english, persian = args.generate
        generate(int(rows), int(seed), Path(english), Path(persian))
        return
    if args.one:
        print(json.dumps(run_one(args.one, args.baseline)))
        return
    rows = 100_000 if args.quick else args.rows
    small = rows // 10
    out = args.out or HERE / "results" / ("read-quick.json" if args.quick else "read.json")
    big, little = sample_paths(rows), sample_paths(small)
    cases = {  # name: (path, pandas baseline?, rows)
        "pandas.read_csv en": (big["en"], True, rows),
        "library en": (big["en"], False, rows),
        "library fa": (big["fa"], False, rows),
        "library en small": (little["en"], False, small),
        "library fa small": (little["fa"], False, small),
    }
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    load_before = load_average()
    for repeat in range(args.repeat):  # interleaved, so every repeat sees the same noise
        for name, (path, baseline, n) in cases.items():
            print(f"  run {repeat + 1}/{args.repeat}: {name}", file=sys.stderr)
            runs[name].append(measure(path, baseline, n))
    base = runs["pandas.read_csv en"]
    results = {name: summarise(runs[name], base, cases[name][2]) for name in cases}
    ratios, memory = {}, {}
    for lang in ("en", "fa"):
        large, tiny = results[f"library {lang}"], results[f"library {lang} small"]
        ratios[f"{lang}_time_vs_pandas_read_csv_en"] = large["time_vs_pandas_read_csv_en"]
        memory[f"{lang}_peak_rss_ratio"] = large["median_peak_rss_mb"] / tiny["median_peak_rss_mb"]
        memory[f"{lang}_growth_above_imports_ratio"] = (
            large["median_peak_rss_mb"] - large["median_floor_rss_mb"]
        ) / max(tiny["median_peak_rss_mb"] - tiny["median_floor_rss_mb"], 1.0)
    print(f"\n{'case':<20} {'rows':>10} {'median s':>9} {'rows/s':>10} {'x pandas':>9} "
          f"{'peak RSS MB':>12} {'imports MB':>11}")  # fmt: skip
    for name, r in results.items():
        ratio = r["time_vs_pandas_read_csv_en"]
        print(f"{name:<20} {r['rows']:>10,} {r['median_seconds']:9.2f} "
              f"{r['rows_per_second']:>10,.0f} {'' if ratio is None else f'{ratio:.2f}':>9} "
              f"{r['median_peak_rss_mb']:12.0f} {r['median_floor_rss_mb']:11.0f}")  # fmt: skip
    load_after = load_average()
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {load_after}")
    for lang in ("en", "fa"):
        print(f"peak RSS {rows:,} / {small:,} rows ({lang}): "
              f"{memory[f'{lang}_peak_rss_ratio']:.2f}x (target <= 1.5x); above imports: "
              f"{memory[f'{lang}_growth_above_imports_ratio']:.2f}x")  # fmt: skip
    report = {
        **versions(),
        "rows": rows,
        "small_rows": small,
        "repeat": args.repeat,
        "chunk_size": CHUNK,
        "command": " ".join(sys.argv),
        "load_average_before_after": [load_before, load_after],
        "files": {name: str(path.relative_to(HERE)) for name, (path, _, _) in cases.items()},
        "ratios": ratios,
        "memory": memory,
        "cases": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
