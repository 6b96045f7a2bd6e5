"""Planning on the sample registry: speed, and the plan's TRUE gain against the oracle's.

The sample generator knows every cooperative's true export probability, before and after any
programme's effect (``scoring.sample.true_probability`` on the modified rows). So the plan made
from the model's uplifts can be judged by what it would truly gain, and compared with the
oracle: the same exact allocation computed on the true uplifts. The rules of thumb (lowest score
first, highest score first, random) are judged the same way.

    .venv/bin/python benchmarks/bench_plan.py                     # trains a model first (~1 min)
    .venv/bin/python benchmarks/bench_plan.py --registry models --model export-readiness
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402

from scoring.contract import load_contract  # noqa: E402
from scoring.model import ScoringModel  # noqa: E402
from scoring.planning import (  # noqa: E402
    CANDIDATE_COLUMNS,
    POLICIES,
    allocate,
    candidate_uplifts,
    load_programs,
    plan_file,
    policy_allocation,
    uplifts,
)
from scoring.registry import load_model, save_model  # noqa: E402
from scoring.sample import generate_sample, to_english_table, true_probability  # noqa: E402
from scoring.training import train_model  # noqa: E402

TARGET_SECONDS = 30.0
TARGET_SHARE = 0.85


def train(rows: int, seed: int, registry: Path) -> tuple[str, float]:
    """Train the default model on ``rows`` labelled sample rows into ``registry``."""
    contract = load_contract()
    frame, p_true = generate_sample(rows, seed=seed)
    truth = pd.DataFrame({"coop_id": frame["coop_id"], "true_probability": p_true})
    started = time.perf_counter()
    result = train_model(frame, contract, seed=0, truth=truth, n_threads=2)
    reference = save_model(result, contract, registry)
    return reference, time.perf_counter() - started


def true_candidates(frame: pd.DataFrame, programs, contract) -> pd.DataFrame:
    """The candidates with TRUE probabilities before and after each programme's effect."""
    return uplifts(frame, programs, contract, true_probability)[CANDIDATE_COLUMNS]


def true_gain(chosen: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Sum of the true uplifts of the chosen (cooperative, programme) assignments."""
    key = ["position", "program"]
    merged = chosen[key].merge(truth[[*key, "uplift"]], on=key, how="left", validate="1:1")
    return float(merged["uplift"].sum())


def describe(chosen: pd.DataFrame, truth: pd.DataFrame, oracle: float) -> dict:
    gain = true_gain(chosen, truth)
    return {
        "funded": len(chosen),
        "total_cost": float(chosen["cost"].sum()),
        "model_expected_gain": float(chosen["uplift"].sum()),
        "true_gain": gain,
        "share_of_oracle": gain / oracle if oracle > 0 else float("nan"),
        "per_program": chosen["program"].value_counts().sort_index().to_dict(),
    }


def scaling(model, programs, sizes: list[int], budget_share: float, seed: int) -> list[dict]:
    """Exact allocation against the greedy as the registry grows (slots and budget scaled)."""
    rows = []
    for size in sizes:
        frame, _ = generate_sample(size, seed=seed, labelled=False)
        candidates = candidate_uplifts(frame, model, programs)
        scale = size / 10_000
        scaled = [replace(p, slots=round(p.slots * scale)) for p in programs]
        for method in ("milp", "greedy"):
            started = time.perf_counter()
            allocation = allocate(candidates, scaled, budget_share * scale, method=method)
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "cooperatives": size,
                    "candidates": len(candidates),
                    "method": method,
                    "seconds": seconds,
                    "status": allocation.status,
                    "objective": allocation.objective,
                    "gap": allocation.gap,
                }
            )
            print(
                f"  {size:>9,} coops {len(candidates):>10,} candidates  {method:<6} "
                f"{seconds:7.2f} s  {allocation.status:<10} gap {allocation.gap:.1e}",
                file=sys.stderr,
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="cooperatives to plan")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the cooperatives")
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--train-seed", type=int, default=7)
    parser.add_argument("--budget", type=float, default=150_000, help="million rials")
    parser.add_argument("--programs", type=Path, default=ROOT / "examples" / "programs.toml")
    parser.add_argument("--registry", type=Path, help="use a trained model from this registry")
    parser.add_argument("--model", default="export-readiness", help="model reference")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (median)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "plan.json")
    parser.add_argument(
        "--scaling",
        help="also time exact vs greedy allocation at these registry sizes, e.g. 10000,100000",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        training_seconds = None
        registry, reference = args.registry, args.model
        if registry is None:
            registry = Path(scratch) / "registry"
            print(f"training on {args.train_rows:,} sample rows ...", file=sys.stderr)
            reference, training_seconds = train(args.train_rows, args.train_seed, registry)
        model = ScoringModel(load_model(registry, reference))
        contract = model.contract
        programs = load_programs(args.programs, contract)
        frame, _ = generate_sample(args.rows, seed=args.seed, labelled=False)

        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            candidates = candidate_uplifts(frame, model, programs)
            middle = time.perf_counter()
            allocation = allocate(candidates, programs, args.budget)
            done = time.perf_counter()
            timings.append((middle - started, done - middle, done - started))
        candidates_s, allocate_s, total_s = (
            statistics.median(t) for t in zip(*timings, strict=True)
        )

        truth = true_candidates(frame, programs, contract)
        oracle = allocate(truth, programs, args.budget, method="milp")
        oracle_gain = oracle.objective
        plan = describe(allocation.chosen, truth, oracle_gain)
        policies = {
            name: describe(
                policy_allocation(candidates, programs, args.budget, name, seed=args.seed),
                truth,
                oracle_gain,
            )
            for name in POLICIES
        }

        grown = []
        if args.scaling:
            print("exact vs greedy allocation by size:", file=sys.stderr)
            sizes = [int(size) for size in args.scaling.split(",")]
            grown = scaling(model, programs, sizes, args.budget * 10_000 / args.rows, args.seed)

        source = Path(scratch) / "cooperatives.csv"
        to_english_table(frame).to_csv(source, index=False)
        started = time.perf_counter()
        plan_file(source, model, programs, args.budget, Path(scratch) / "plan.csv")
        plan_file_s = time.perf_counter() - started

    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "cpus": os.cpu_count(),
        "rows": args.rows,
        "seed": args.seed,
        "train_rows": args.train_rows if args.registry is None else None,
        "training_seconds": training_seconds,
        "model": str(reference),
        "programs": [p.id for p in programs],
        "budget": args.budget,
        "candidates": len(candidates),
        "candidates_with_gain": int((candidates["uplift"] > 0).sum()),
        "seconds": {
            "candidate_uplifts": candidates_s,
            "allocate": allocate_s,
            "plan": total_s,
            "plan_file_csv": plan_file_s,
            "repeats": args.repeat,
        },
        "allocation": {
            "method": allocation.method,
            "status": allocation.status,
            "objective": allocation.objective,
            "bound": allocation.bound,
            "gap": allocation.gap,
        },
        "oracle": {
            "true_gain": oracle_gain,
            "funded": len(oracle.chosen),
            "total_cost": oracle.total_cost,
            "method": oracle.method,
            "status": oracle.status,
        },
        "plan": plan,
        "policies": policies,
        "scaling": grown,
        "targets": {
            "plan_seconds": TARGET_SECONDS,
            "share_of_oracle": TARGET_SHARE,
            "met_seconds": total_s <= TARGET_SECONDS,
            "met_share": plan["share_of_oracle"] >= TARGET_SHARE,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(
        f"{args.rows:,} cooperatives x {len(programs)} programmes, budget {args.budget:,.0f}: "
        f"{len(candidates):,} candidates; plan in {total_s:.2f} s "
        f"(candidates {candidates_s:.2f} s, allocate {allocate_s:.2f} s; {allocation.method}, "
        f"{allocation.status}, gap {allocation.gap:.1e}); plan_file on CSV {plan_file_s:.2f} s"
    )
    header = f"{'allocation':<22}{'funded':>8}{'cost':>12}{'model gain':>12}{'true gain':>11}"
    print(header + f"{'of oracle':>11}")
    print(f"{'oracle (true uplifts)':<22}{len(oracle.chosen):>8}{oracle.total_cost:>12,.0f}"
          f"{'':>12}{oracle_gain:>11.2f}{1:>11.1%}")  # fmt: skip
    for name, row in {"plan (model uplifts)": plan, **policies}.items():
        print(
            f"{name:<22}{row['funded']:>8}{row['total_cost']:>12,.0f}"
            f"{row['model_expected_gain']:>12.2f}{row['true_gain']:>11.2f}"
            f"{row['share_of_oracle']:>11.1%}"
        )
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
