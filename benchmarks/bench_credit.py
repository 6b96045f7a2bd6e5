"""Small real data through an analyst's own contract: the public German credit table.

``examples/credit/`` holds the table (1,000 applications, 300 with bad credit) and a contract
written for it: other columns than the registry's, the label's own words (``good``/``bad``), no
dimensions or reasons. Over repeated stratified 70/30 splits, the engine's candidates are chosen
on the 70 % as ``readiness train`` chooses them and every learner is judged on the 30 %:

- **engine**: the chosen candidate (the holdout metrics ``readiness train`` reports);
- **spline**: the engine's transparent spline-logistic baseline on the same rows;
- **logistic**: scikit-learn's ``LogisticRegressionCV`` on one-hot categories and standardised
  numbers, what an analyst would fit first.

ECE on 300 rows is noisy: the table also gives the ECE a *perfectly calibrated* model would show
on the same holdout (labels drawn from the engine's own probabilities, 500 draws), the floor
that no learner can be expected to beat.

    .venv/bin/python benchmarks/bench_credit.py               # 5 splits
    .venv/bin/python benchmarks/bench_credit.py --splits 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegressionCV  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from scoring.contract import load_contract  # noqa: E402
from scoring.evaluation import expected_calibration_error  # noqa: E402
from scoring.training import (  # noqa: E402
    feature_builder,
    labels_of,
    read_labelled,
    select_model,
    structure_of,
)

EXAMPLE = ROOT / "examples" / "credit"
LEARNERS = ("engine", "spline", "logistic")


def _logistic(frame, train, holdout, y, contract):
    """One-hot categories and standardised numbers under a cross-validated logistic."""
    features = list(contract.model.features)
    categorical = [f for f in features if f in contract.model.categorical]
    numeric = [f for f in features if f not in categorical]
    columns = ColumnTransformer(
        [("numbers", StandardScaler(), numeric),
         ("categories", OneHotEncoder(handle_unknown="ignore"), categorical)]
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's notices of changing defaults
        model = make_pipeline(
            columns, LogisticRegressionCV(Cs=20, cv=5, scoring="neg_log_loss", max_iter=5000)
        ).fit(frame.iloc[train][features], y[train])
    return model.predict_proba(frame.iloc[holdout][features])[:, 1]


def one_split(frame, y, contract, seed: int, rng: np.random.Generator) -> list[dict]:
    # As training splits a file without data years: stratified by the label.
    index = np.arange(len(y))
    train, holdout = train_test_split(index, test_size=0.3, stratify=y, random_state=seed)
    train, holdout = np.sort(train), np.sort(holdout)
    builder = feature_builder(contract).fit(frame.iloc[train])
    X, X_holdout = builder.transform(frame.iloc[train]), builder.transform(frame.iloc[holdout])
    tick = time.perf_counter()
    selection = select_model(
        X, y[train], structure_of(builder, contract), candidates=None, learners=None,
        seed=seed, n_threads=1,
    )  # fmt: skip
    seconds = time.perf_counter() - tick
    probabilities = {
        "engine": selection.model.predict_proba(X_holdout)[:, 1],
        "spline": selection.baseline.predict_proba(X_holdout)[:, 1],
        "logistic": _logistic(frame, train, holdout, y, contract),
    }
    y_holdout = y[holdout]
    engine = probabilities["engine"]
    floor = statistics.fmean(
        expected_calibration_error(rng.random(len(engine)) < engine, engine) for _ in range(500)
    )
    rows = []
    for name, p in probabilities.items():
        rows.append({
            "split": seed, "learner": name, "auc": float(roc_auc_score(y_holdout, p)),
            "log_loss": float(log_loss(y_holdout, p)),
            "ece": expected_calibration_error(y_holdout, p),
            **({"chosen": selection.spec.get("learner", "boosting"), "fit_seconds": seconds,
                "perfect_model_ece": floor} if name == "engine" else {}),
        })  # fmt: skip
        print(f"split {seed} {name:>8}: AUC {rows[-1]['auc']:.4f} log loss "
              f"{rows[-1]['log_loss']:.4f} ECE {rows[-1]['ece']:.4f}", flush=True)  # fmt: skip
    print(f"split {seed}: a perfectly calibrated model would show ECE {floor:.4f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, default=5, help="Repeated 70/30 splits.")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "credit.json")
    args = parser.parse_args(argv)
    contract = load_contract(EXAMPLE / "contract.toml")
    frame, report = read_labelled(EXAMPLE / "germancredit.csv", contract)
    y = labels_of(frame, contract).astype(int)
    rng = np.random.default_rng(0)
    runs = [row for seed in range(args.splits) for row in one_split(frame, y, contract, seed, rng)]
    summary = []
    for name in LEARNERS:
        chosen = [r for r in runs if r["learner"] == name]
        row = {"learner": name, "splits": len(chosen)}
        keys = ("auc", "log_loss", "ece") + (("perfect_model_ece",) if name == "engine" else ())
        for key in keys:
            values = [r[key] for r in chosen]
            row[key] = statistics.fmean(values)
            row[key + "_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
        summary.append(row)
    print(f"\n{'learner':>8} {'AUC':>15} {'log loss':>15} {'ECE':>15}")
    for row in summary:
        print(f"{row['learner']:>8} " + " ".join(
            f"{row[k]:.4f} ± {row[k + '_sd']:.4f}" for k in ("auc", "log_loss", "ece")
        ))  # fmt: skip
    engine = summary[0]
    print(f"perfectly calibrated model's ECE on the same holdouts: "
          f"{engine['perfect_model_ece']:.4f} ± {engine['perfect_model_ece_sd']:.4f}")  # fmt: skip
    document = {
        "benchmark": "credit",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/bench_credit.py", *(argv or sys.argv[1:])]),
        "rows": report.rows_valid, "summary": summary, "runs": runs,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
