"""Model quality against the truth: the engine beside interpret's ExplainableBoostingClassifier.

The sample generator knows every cooperative's true export probability, so both learners are
judged on what matters: how far their probabilities are from the truth (mean |p - p_true|),
calibration (ECE, 10 bins), the gap of their AUC to the Bayes AUC (the truth's own AUC), and fit
time. Both see the same training rows of the same seeds and the same feature matrix (the
contract's features); both are scored on one large test set drawn with another seed.

- **engine**: ``train_model`` as ``readiness train`` runs it: candidates chosen by data size and
  cross-validated log loss, holdout evaluation, then the refit on every training row; scored
  from its compiled tables.
- **EBM**: ``ExplainableBoostingClassifier`` with its defaults (interactions found by itself),
  categorical features declared nominal, fitted on every training row.
- **oracle**: a ridge logistic told the true functional form (``oracle.py``), coefficients
  learnt from the same rows: what the data allows at each size.

    .venv/bin/python benchmarks/bench_quality.py                          # 3 sizes x 3 seeds
    .venv/bin/python benchmarks/bench_quality.py --sizes 2000 --seeds 0   # while iterating
    .venv/bin/python benchmarks/bench_quality.py --sizes 1000 --no-ebm    # engine and oracle
    .venv/bin/python benchmarks/bench_quality.py --learners oracle        # the reference alone

EBM needs the ``dev`` extra (``interpret-core``); without it only the engine runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from oracle import run_oracle  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402

from scoring.contract import load_contract  # noqa: E402
from scoring.evaluation import expected_calibration_error  # noqa: E402
from scoring.sample import REFERENCE_YEAR, generate_sample  # noqa: E402
from scoring.training import feature_builder, train_model  # noqa: E402

METRICS = ("auc_gap", "mean_abs_error", "ece", "log_loss", "fit_seconds")
#: Training data of seed s is drawn with seed 1000 + s; the test set with seed 999.
TRAIN_SEED_BASE = 1000
TEST_SEED = 999


def measure(y: np.ndarray, p: np.ndarray, p_true: np.ndarray, seconds: float) -> dict:
    """The figures of one learner on the test set."""
    return {
        "auc_gap": float(roc_auc_score(y, p_true) - roc_auc_score(y, p)),
        "mean_abs_error": float(np.mean(np.abs(p - p_true))),
        "ece": expected_calibration_error(y, p),
        "log_loss": float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))),
        "fit_seconds": round(seconds, 2),
    }


def run_engine(train: pd.DataFrame, test: pd.DataFrame, seed: int, threads: int) -> dict:
    contract = load_contract()
    started = time.perf_counter()
    result = train_model(train, contract, seed=seed, n_threads=threads, refit=True)
    seconds = time.perf_counter() - started
    X_test = result.pipeline[0].transform(test)
    return {
        "probability": result.scorer.probability(X_test),
        "seconds": seconds,
        "learner": result.training["learner"],
    }


def run_ebm(train: pd.DataFrame, test: pd.DataFrame, seed: int, threads: int) -> dict:
    from interpret.glassbox import ExplainableBoostingClassifier

    contract = load_contract()
    builder = feature_builder(contract, REFERENCE_YEAR).fit(train)
    names = list(builder.features_)
    types = ["nominal" if n in contract.model.categorical else "continuous" for n in names]
    X = pd.DataFrame(builder.transform(train), columns=names)
    X_test = pd.DataFrame(builder.transform(test), columns=names)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "missing values detected": expected, and handled
        model = ExplainableBoostingClassifier(
            feature_types=types, n_jobs=threads, random_state=seed
        ).fit(X, train[contract.model.label].to_numpy())
    seconds = time.perf_counter() - started
    return {"probability": model.predict_proba(X_test)[:, 1], "seconds": seconds}


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds, per size and learner."""
    rows = []
    for size in sorted({r["rows"] for r in runs}):
        for learner in ("engine", "ebm", "oracle"):
            chosen = [r for r in runs if r["rows"] == size and r["learner"] == learner]
            if not chosen:
                continue
            row = {"rows": size, "learner": learner, "seeds": len(chosen)}
            for metric in METRICS:
                values = [r[metric] for r in chosen]
                row[metric] = statistics.fmean(values)
                row[metric + "_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
            rows.append(row)
    return rows


def print_table(summary: list[dict]) -> None:
    header = (
        f"{'train rows':>10} {'learner':>7} {'seeds':>5} {'AUC gap':>15} {'mean |p-p*|':>15} "
        f"{'ECE':>15} {'log loss':>8} {'fit s':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in summary:
        cells = [
            f"{row[m]:.4f} ± {row[m + '_sd']:.4f}" for m in ("auc_gap", "mean_abs_error", "ece")
        ]
        print(
            f"{row['rows']:>10,} {row['learner']:>7} {row['seeds']:>5} "
            + " ".join(f"{c:>15}" for c in cells)
            + f" {row['log_loss']:>8.4f} {row['fit_seconds']:>8.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000,100000", help="Training rows, a,b,c.")
    parser.add_argument("--seeds", default="0,1,2", help="Seeds, comma-separated.")
    parser.add_argument("--test-rows", type=int, default=20_000, help="Rows of the test set.")
    parser.add_argument("--threads", type=int, default=1, help="Threads of each learner (1 or 2).")
    parser.add_argument(
        "--learners", default="engine,ebm,oracle", help="Which learners, comma-separated."
    )
    parser.add_argument("--no-ebm", action="store_true", help="Leave EBM out.")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "quality.json")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    chosen = set(args.learners.split(","))
    ebm = "ebm" in chosen and not args.no_ebm
    if ebm:
        try:
            import interpret  # noqa: F401
        except ImportError:
            print("interpret-core is not installed (the dev extra): running the engine only")
            ebm = False
    test, p_test = generate_sample(args.test_rows, seed=TEST_SEED)
    y_test = test["exported_next_year"].to_numpy()
    runs = []
    for size in sizes:
        for seed in seeds:
            train, _ = generate_sample(size, seed=TRAIN_SEED_BASE + seed)
            learners = {"engine": run_engine, "ebm": run_ebm, "oracle": run_oracle}
            learners = {k: v for k, v in learners.items() if k in chosen and (k != "ebm" or ebm)}
            for name, run in learners.items():
                outcome = run(train, test, seed, args.threads)
                row = {"rows": size, "seed": seed, "learner": name}
                row |= measure(y_test, outcome["probability"], p_test, outcome["seconds"])
                if "learner" in outcome:
                    row["chosen"] = outcome["learner"]
                runs.append(row)
                print(
                    f"{size:>7,} rows seed {seed} {name:>6}: mean |p-p*| "
                    f"{row['mean_abs_error']:.4f}, ECE {row['ece']:.4f}, AUC gap "
                    f"{row['auc_gap']:.4f}, {row['fit_seconds']:.1f} s"
                    + (f" ({row['chosen']})" if "chosen" in row else ""),
                    flush=True,
                )
    summary = summarise(runs)
    print()
    print_table(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "quality",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/bench_quality.py", *(argv or sys.argv[1:])]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "test_rows": args.test_rows,
        "threads": args.threads,
        "summary": summary,
        "runs": runs,
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
