"""Writing scored rows to ``.xlsx`` against CSV, in the same run, as a ratio (target <= 3x).

Two measures, each case interleaved with the others and repeated, the ratio taken within each
repeat and then the median (the machine is shared and noisy):

- **run**: ``score_file`` of a 100,000-row registry file to ``scores.csv`` and to
  ``scores.xlsx`` (read, validate, score, explain, write; the workbook with its ``summary`` and
  ``rejects`` sheets), in English and with ``lang="fa"`` (Persian headers, reasons and rejects,
  right-to-left sheets, a CSV with a byte order mark);
- **writer**: the writing alone: the same 100,000 scored rows through
  :class:`scoring.writing.TableWriter` to CSV, to the streamed workbook, and through
  xlsxwriter's cell API (:func:`scoring.workbook.write_excel`, how every ``.xlsx`` was written
  before), in steps of 10,000 rows as ``score`` writes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_read import HERE, load_average, sample_paths, versions
from bench_score import MODEL, REGISTRY, train_engine_model

STEP = 10_000  # rows per write, as scoring.batch writes them


def load_scoring_model(registry: Path):
    from scoring.model import ScoringModel
    from scoring.registry import list_models, load_model

    if not list_models(registry):
        print("training the benchmark model (minutes) ...", file=sys.stderr)
        train_engine_model(registry)
    return ScoringModel(load_model(registry, MODEL))


def run_cases(source: Path, model, folder: Path) -> dict[str, Callable[[], None]]:
    """Whole scoring runs, by output and language."""
    from scoring.batch import score_file

    def run(suffix: str, lang: str | None) -> Callable[[], None]:
        return lambda: score_file(source, model, folder / f"scores{suffix}", lang=lang)

    return {
        "run csv": run(".csv", None),
        "run xlsx": run(".xlsx", None),
        "run csv fa": run(".csv", "fa"),
        "run xlsx fa": run(".xlsx", "fa"),
    }


def writer_cases(scored, folder: Path) -> dict[str, Callable[[], None]]:
    """The scored rows written alone: CSV, the streamed workbook, xlsxwriter's cell API."""
    from scoring.batch import SCORES_LAYOUT
    from scoring.workbook import write_excel
    from scoring.writing import TableWriter

    def stream(name: str, **options) -> Callable[[], None]:
        def write() -> None:
            with TableWriter(folder / name, sheet="scores", **options) as writer:
                for start in range(0, len(scored), STEP):
                    writer.write(scored.iloc[start : start + STEP])

        return write

    return {
        "writer csv": stream("w.csv"),
        "writer xlsx": stream("w.xlsx", layout=SCORES_LAYOUT),
        "writer xlsx cells": lambda: write_excel(scored, folder / "cells.xlsx", "scores"),
    }


def timed(function: Callable[[], None]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--registry", type=Path, default=REGISTRY)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "write.json")
    args = parser.parse_args()
    import pandas as pd

    source = sample_paths(args.rows)["en"]
    model = load_scoring_model(args.registry)
    with tempfile.TemporaryDirectory(prefix="bench-write-") as name:
        folder = Path(name)
        cases = run_cases(source, model, folder)
        cases["run csv"]()  # warm up; its output is the writer's input
        scored = pd.read_csv(folder / "scores.csv", dtype={"coop_id": str})
        scored[["reason_1", "reason_2", "reason_3"]] = scored[
            ["reason_1", "reason_2", "reason_3"]
        ].fillna("")
        cases.update(writer_cases(scored, folder))
        before = load_average()
        runs: dict[str, list[float]] = {case: [] for case in cases}
        for repeat in range(args.repeat):
            for case, function in cases.items():
                print(f"  run {repeat + 1}/{args.repeat}: {case}", file=sys.stderr)
                runs[case].append(timed(function))
        sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    after = load_average()
    pairs = [("run xlsx", "run csv"), ("run xlsx fa", "run csv fa"), ("writer xlsx", "writer csv"),
             ("writer xlsx cells", "writer csv"), ("writer xlsx cells", "writer xlsx")]  # fmt: skip
    ratios = {
        f"{top} / {bottom}": statistics.median(
            t / b for t, b in zip(runs[top], runs[bottom], strict=True)
        )
        for top, bottom in pairs
    }
    medians = {case: statistics.median(times) for case, times in runs.items()}
    print(f"\n{'case':<20} {'median s':>9} {'rows/s':>11}")
    for case, seconds in medians.items():
        print(f"{case:<20} {seconds:9.3f} {args.rows / seconds:11,.0f}")
    for name, ratio in ratios.items():
        print(f"{name:<34} {ratio:6.2f}x")
    print(f"load average before {before}, after {after}")
    report = {**versions(), "command": " ".join(["benchmarks/bench_write.py", *sys.argv[1:]]),
              "rows": args.rows, "repeat": args.repeat,
              "load_average_before_after": [before, after], "median_seconds": medians,
              "ratios": ratios, "file_bytes": sizes, "runs": runs}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
