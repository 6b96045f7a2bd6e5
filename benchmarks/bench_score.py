"""`readiness score` against honest baselines: whole processes, side by side in one run.

Every case is a whole process (interpreter start and imports included), run fresh, interleaved
with the others and repeated; ratios are taken within each repeat, then the median:

- **engine**: ``python -m scoring score FILE --out OUT`` (read, normalise, validate, score from
  the compiled tables, tiers, reasons, sub-scores, percentiles, drift, atomic write);
- **reference**: what a person would write without this tool: ``pandas.read_csv``, the domain
  ratios of :mod:`scoring.features`, one default ``HistGradientBoostingClassifier`` (fitted
  beforehand on the rows the engine's model was trained on), ``predict_proba``, ``to_csv`` of
  id and probability. It cannot read Persian digits or Jalali years, so the Persian file is
  compared with the reference on its English twin (the same rows);
- **floor**: pyarrow reads the file (``pyarrow.csv.read_csv``, threaded) and writes two columns
  (id and a float): no program that reads the file and writes scores can be much faster.
  For ``.xlsx`` the floor is calamine reading the sheet and xlsxwriter writing two columns.

With ``--before CHECKOUT`` (an earlier commit's tree, e.g. from ``git worktree add``), the
engine of that checkout runs in the same run on the same files (``before en``, ``before fa``),
and the run checks that both wrote the same bytes.

Also: the engine with :data:`scoring.pipeline.VALIDATE_AHEAD` off (the gain of the second
thread), a 200-row file against a bare ``import numpy, pandas, pyarrow.csv`` (the import tax),
with ``python -X importtime`` telling where the start-up goes, and the engine's peak RSS on a
file a tenth the size (memory stays flat as files grow). Children run with
``OMP_NUM_THREADS=2`` (one per core); their peak RSS is their own (``wait4``).
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from bench_read import CACHE, HERE, load_average, run_process, sample_paths, versions

SCRIPT = Path(__file__).resolve()
REGISTRY = CACHE / "registry"
MODEL = "export-readiness"
TRAIN_ROWS, TRAIN_SEED = 30_000, 0  # the engine's model and the reference learn from these rows
#: The reference's features: the engine model's (`manifest.features`), as a person would
#: compute them with pandas.
RAW = [
    "members",
    "employees",
    "revenue",
    "product_lines",
    "export_markets",
    "iso9001",
    "intl_certifications",
    "standard_mark",
    "defect_rate",
    "debt_ratio",
    "commercial_card",
]
YES_NO = ("iso9001", "standard_mark", "commercial_card")
CATEGORIES = ("sector", "province")
REFERENCE_YEAR = 2025  # the model's `reference_year`: ages are counted to it
SERIAL = (  # the engine with the validating thread off
    "import sys, scoring.pipeline as p; p.VALIDATE_AHEAD = False; "
    "from scoring.cli import main; sys.argv[0] = 'readiness'; main()"
)
BARE_IMPORT = "import numpy, pandas, pyarrow.csv"
GROUPS = ("en", "fa", "xlsx", "memory", "ahead", "startup")


# --- the reference and the floor, each run in its own process ---------------------------------


def reference_features(frame):
    """The engine model's features from a raw English table, with pandas."""
    import numpy as np
    import pandas as pd

    for column in YES_NO:
        frame[column] = frame[column].map({"yes": 1.0, "no": 0.0})

    def ratio(numerator, denominator):  # NaN where the denominator is 0 or missing
        return frame[numerator] / frame[denominator].where(frame[denominator] != 0)

    X = pd.DataFrame(
        {
            "utilization": frame["actual_output"] / frame["installed_capacity"],
            "export_intensity": ratio("export_revenue", "revenue"),
            "revenue_growth": ratio("revenue", "revenue_prev") - 1.0,
            "revenue_per_employee": ratio("revenue", "employees"),
            "coop_age": REFERENCE_YEAR - frame["established_year"],
        }
    )
    for column in RAW:
        X[column] = frame[column].astype(np.float64)
    for column in CATEGORIES:
        X[column] = frame[column].astype("category")
    return X


def fit_reference(train_csv: Path, fitted: Path) -> None:
    """One default HistGradientBoostingClassifier on the training rows, pickled."""
    import pickle

    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame = pd.read_csv(train_csv)
    X = reference_features(frame)
    categories = {c: X[c].cat.categories for c in CATEGORIES}
    model = HistGradientBoostingClassifier(random_state=0).fit(X, frame["exported_next_year"])
    fitted.write_bytes(pickle.dumps({"model": model, "categories": categories}))


def run_reference(path: Path, fitted: Path, out: Path) -> dict:
    """Read, the ratios, predict_proba, write id and probability: the bare script."""
    import pickle
    import time

    import pandas as pd

    started = time.perf_counter()
    saved = pickle.loads(fitted.read_bytes())  # imports scikit-learn
    excel = path.suffix == ".xlsx"
    frame = pd.read_excel(path, engine="calamine") if excel else pd.read_csv(path)
    X = reference_features(frame)
    for column, categories in saved["categories"].items():
        X[column] = pd.Categorical(X[column], categories=categories)
    scores = pd.DataFrame({"coop_id": frame["coop_id"], "p": saved["model"].predict_proba(X)[:, 1]})
    if excel:
        scores.to_excel(out, index=False, engine="xlsxwriter")
    else:
        scores.to_csv(out, index=False)
    return {"rows": len(frame), "inner_seconds": time.perf_counter() - started}


def run_floor(path: Path, out: Path) -> dict:
    """Read the file and write two of its columns, as fast as the libraries go."""
    import time

    started = time.perf_counter()
    if path.suffix == ".xlsx":
        import xlsxwriter
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = book.add_worksheet("scores")
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, (row[0], "p" if i == 0 else i / len(rows)))
        book.close()
        n = len(rows) - 1
    else:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(path)
        n = table.num_rows
        ids = table.column("coop_id" if "coop_id" in table.column_names else 0)
        pacsv.write_csv(pa.table({"coop_id": ids, "p": pc.random(n, initializer=0)}), out)
    return {"rows": n, "inner_seconds": time.perf_counter() - started}


def make_xlsx(csv: Path, xlsx: Path) -> None:
    """The English sample as an Excel export (every cell as the CSV has it, numbers as numbers)."""
    import pandas as pd

    tmp = xlsx.with_suffix(".tmp.xlsx")
    pd.read_csv(csv).to_excel(tmp, index=False, sheet_name="registry", engine="xlsxwriter")
    tmp.replace(xlsx)


def train_engine_model(registry: Path) -> None:
    """The engine's model: the default candidates on the training rows (slow: minutes)."""
    from scoring.contract import load_contract
    from scoring.registry import save_model
    from scoring.sample import generate_sample
    from scoring.training import train_model

    frame, _ = generate_sample(TRAIN_ROWS, seed=TRAIN_SEED)
    contract = load_contract()
    save_model(train_model(frame, contract, seed=TRAIN_SEED), contract, registry)


# --- the cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One process to time: its role, its input, how many rows it must read."""

    name: str
    role: str  # engine, serial, reference, floor, bare, before
    path: Path | None
    rows: int


def plan_cases(groups: list[str], rows: int, xlsx_rows: int, before: bool = False) -> list[Case]:
    """The cases the groups need (each once), inputs generated and cached; ``before`` adds an
    earlier checkout's engine beside this one's on the 1M files."""
    big = sample_paths(rows)
    cases: dict[str, Case] = {}

    def add(name: str, role: str, path: Path | None, n: int) -> None:
        cases.setdefault(name, Case(name, role, path, n))

    if before:
        for lang in ("en", "fa"):
            add(f"engine {lang}", "engine", big[lang], rows)
            add(f"before {lang}", "before", big[lang], rows)

    if {"en", "fa", "ahead"} & set(groups):
        add("engine en", "engine", big["en"], rows)
    if {"en", "fa"} & set(groups):
        add("reference en", "reference", big["en"], rows)
    if "en" in groups:
        add("floor en", "floor", big["en"], rows)
    if "fa" in groups:
        add("engine fa", "engine", big["fa"], rows)
        add("floor fa", "floor", big["fa"], rows)
    if "ahead" in groups:
        add("serial en", "serial", big["en"], rows)
    if "memory" in groups:
        small = sample_paths(rows // 10)
        add("engine en", "engine", big["en"], rows)
        add("engine fa", "engine", big["fa"], rows)
        add("engine en small", "engine", small["en"], rows // 10)
        add("engine fa small", "engine", small["fa"], rows // 10)
    if "xlsx" in groups:
        csv = sample_paths(xlsx_rows)["en"]
        xlsx = csv.with_suffix(".xlsx")
        if not xlsx.exists():
            print(f"writing {xlsx.name} ...", file=sys.stderr)
            run_process([sys.executable, str(SCRIPT), "--make-xlsx", str(csv), str(xlsx)])
        for role in ("engine", "reference", "floor"):
            add(f"{role} xlsx", role, xlsx, xlsx_rows)
    if "startup" in groups:
        add("engine 200 rows", "engine", sample_paths(200)["en"], 200)
        add("bare import", "bare", None, 0)
    return list(cases.values())


def command(case: Case, out: Path, summary: Path, fitted: Path, model: str) -> list[str]:
    python = sys.executable
    if case.role == "bare":
        return [python, "-c", BARE_IMPORT]
    if case.role == "reference":
        return [python, str(SCRIPT), "--reference", str(case.path), str(fitted), str(out)]
    if case.role == "floor":
        return [python, str(SCRIPT), "--floor", str(case.path), str(out)]
    # -P: not the current folder first, where this checkout's package would hide the other's.
    start = {"engine": ["-m", "scoring"], "before": ["-P", "-m", "scoring"]}.get(
        case.role, ["-c", SERIAL]
    )
    return [python, *start, "score", str(case.path), "--out", str(out), "--registry",
            str(REGISTRY), "--model", model, "--quiet", "--summary", str(summary)]  # fmt: skip


#: The earlier checkout whose engine the ``before`` cases run (``--before``).
BEFORE: Path | None = None


def child_env(role: str = "engine") -> dict[str, str]:
    """The environment of every measured process: two OpenMP threads, and bytecode allowed.

    numpy, pandas and pyarrow come with compiled bytecode from their wheels; an environment
    with ``PYTHONDONTWRITEBYTECODE`` would make only this package recompile its sources on
    every run (about 0.1 s), which no installed copy does. :func:`main` compiles it first.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if role == "before" and BEFORE is not None:  # found before the installed copy
        env["PYTHONPATH"] = str(BEFORE)
    return env


def measure(case: Case, fitted: Path, model: str) -> dict:
    """One whole-process run of ``case``; its rows checked, its output's digest kept."""
    suffix = ".xlsx" if case.path is not None and case.path.suffix == ".xlsx" else ".csv"
    out, summary = CACHE / f"out-{os.getpid()}{suffix}", CACHE / f"summary-{os.getpid()}.json"
    run = run_process(command(case, out, summary, fitted, model), env=child_env(case.role))
    if case.role in ("engine", "serial", "before"):
        told = json.loads(summary.read_text(encoding="utf-8"))
        run.update(rows=told["rows_read"], inner_seconds=told["seconds"])
        run["output_sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    elif case.role != "bare":
        run.update(json.loads(run["stdout"].splitlines()[-1]))
    if case.role != "bare" and run["rows"] != case.rows:
        raise AssertionError(f"{case.name}: {run['rows']} rows read, expected {case.rows}")
    for path in (out, summary):
        path.unlink(missing_ok=True)
    del run["stdout"], run["stderr"]
    return run


#: (ratio name, numerator case, denominator case, target)
RATIOS = [
    ("engine en / reference en", "engine en", "reference en", 0.35),
    ("engine en / floor en", "engine en", "floor en", 3.0),
    ("engine fa / reference en", "engine fa", "reference en", 0.35),
    ("engine fa / floor fa", "engine fa", "floor fa", 3.0),
    ("engine xlsx / reference xlsx", "engine xlsx", "reference xlsx", None),
    ("engine xlsx / floor xlsx", "engine xlsx", "floor xlsx", None),
    ("engine en / serial en (validating thread)", "engine en", "serial en", None),
    ("engine 200 rows / bare import", "engine 200 rows", "bare import", 2.0),
    ("engine en / before en", "engine en", "before en", None),
    ("engine fa / before fa", "engine fa", "before fa", None),
]


def paired(runs: dict[str, list[dict]], top: str, bottom: str, key: str = "seconds") -> float:
    """The median over repeats of ``top``'s figure over ``bottom``'s, in the same repeat."""
    pairs = zip(runs[top], runs[bottom], strict=True)
    return statistics.median(a[key] / b[key] for a, b in pairs)


def import_profile(small: Path, model: str) -> dict:
    """``python -X importtime`` of a 200-row score: import time by top-level package."""
    out, summary = CACHE / "out-importtime.csv", CACHE / "summary-importtime.json"
    case = Case("importtime", "engine", small, 200)
    run = run_process(
        [sys.executable, "-X", "importtime", *command(case, out, summary, out, model)[1:]],
        env=child_env(),
    )
    out.unlink(missing_ok=True)
    summary.unlink(missing_ok=True)
    own: dict[str, float] = {}
    for line in run["stderr"].splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if found:
            package = found.group(2).split(".")[0].lstrip("_")
            own[package] = own.get(package, 0.0) + int(found.group(1)) / 1e6
    total = sum(own.values())
    ranked = sorted(own.items(), key=lambda item: -item[1])
    return {"process_seconds": run["seconds"], "import_seconds": total,
            "packages": {name: {"seconds": s, "share_of_imports": s / total,
                                "share_of_process": s / run["seconds"]}
                         for name, s in ranked[:15]},
            "heavy_imported": sorted(p for p in ("sklearn", "scipy", "matplotlib", "jinja2")
                                     if p in own)}  # fmt: skip


def summarise(cases: list[Case], runs: dict[str, list[dict]]) -> tuple[dict, dict, dict]:
    results = {}
    for case in cases:
        mine = runs[case.name]
        results[case.name] = {
            "rows": case.rows,
            "file": None if case.path is None else case.path.name,
            **{
                f"median_{k}": statistics.median(r[k] for r in mine)
                for k in ("seconds", "cpu_seconds", "peak_rss_mb")
            },
            "runs": mine,
        }
    ratios = {
        name: {
            "ratio": paired(runs, top, bottom),
            "target": target,
            "cpu_ratio": paired(runs, top, bottom, "cpu_seconds"),
        }
        for name, top, bottom, target in RATIOS
        if top in runs and bottom in runs
    }
    memory = {}
    for lang in ("en", "fa"):
        if f"engine {lang} small" in runs:
            memory[f"engine {lang} peak rss vs a tenth of the rows"] = paired(
                runs, f"engine {lang}", f"engine {lang} small", "peak_rss_mb"
            )
    if "reference en" in runs and "engine en" in runs:
        memory["engine en peak rss vs reference en"] = paired(
            runs, "engine en", "reference en", "peak_rss_mb"
        )
    return results, ratios, memory


def report(results: dict, ratios: dict, memory: dict, profile: dict | None) -> None:
    print(f"\n{'case':<17} {'rows':>10} {'median s':>9} {'cpu s':>7} {'peak MB':>8}")
    for name, r in results.items():
        print(f"{name:<17} {r['rows']:>10,} {r['median_seconds']:9.2f} "
              f"{r['median_cpu_seconds']:7.2f} {r['median_peak_rss_mb']:8.0f}")  # fmt: skip
    print(f"\n{'ratio (median of the repeats)':<44} {'wall':>6} {'cpu':>6}")
    for name, r in ratios.items():
        target = "" if r["target"] is None else f"   (target <= {r['target']})"
        print(f"{name:<44} {r['ratio']:6.2f} {r['cpu_ratio']:6.2f}{target}")
    for name, ratio in memory.items():
        print(f"{name:<44} {ratio:6.2f}")
    if profile:
        print(f"\nimports of a 200-row score: {profile['import_seconds']:.2f} s of a "
              f"{profile['process_seconds']:.2f} s process (under -X importtime); "
              f"heavy imported: {profile['heavy_imported'] or 'none'}")  # fmt: skip
        for name, p in list(profile["packages"].items())[:8]:
            print(f"  {name:<14} {p['seconds']:6.3f} s  {p['share_of_imports']:5.1%} of imports")


def prepare(args: argparse.Namespace) -> tuple[str, Path]:
    """The engine's model (trained once, cached) and the reference fitted on the same rows."""
    if args.model is None and not (REGISTRY / MODEL).exists():
        print("training the engine's model (minutes) ...", file=sys.stderr)
        run_process([sys.executable, str(SCRIPT), "--train", str(REGISTRY)])
    train_csv = sample_paths(TRAIN_ROWS, seed=TRAIN_SEED)["en"]
    fitted = train_csv.with_suffix(".reference-hgb.pkl")
    if not fitted.exists():
        print("fitting the reference HistGradientBoostingClassifier ...", file=sys.stderr)
        run_process([sys.executable, str(SCRIPT), "--fit", str(train_csv), str(fitted)])
    return args.model or MODEL, fitted


def child(args: argparse.Namespace) -> bool:
    """Run one of the child processes' jobs, if asked; True when one ran."""
    if args.reference:
        print(json.dumps(run_reference(*map(Path, args.reference))))
    elif args.floor:
        print(json.dumps(run_floor(*map(Path, args.floor))))
    elif args.fit:
        fit_reference(*map(Path, args.fit))
    elif args.make_xlsx:
        make_xlsx(*map(Path, args.make_xlsx))
    elif args.train:
        train_engine_model(Path(args.train))
    else:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large files")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="rows of the .xlsx file")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (median)")
    parser.add_argument("--cases", default=",".join(GROUPS),
                        help=f"comma-separated groups among {', '.join(GROUPS)}")  # fmt: skip
    parser.add_argument("--model", help=f"model reference in {REGISTRY} (default: {MODEL})")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "score.json")
    parser.add_argument("--before", type=Path,
                        help="an earlier checkout: its engine runs beside this one's")  # fmt: skip
    for hidden, n in (("--reference", 3), ("--floor", 2), ("--fit", 2), ("--make-xlsx", 2)):
        parser.add_argument(hidden, nargs=n, help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    args = parser.parse_args()
    compileall.compile_dir(HERE.parent / "scoring", quiet=1)  # as an installed copy has it
    if child(args):
        return
    groups = [g.strip() for g in args.cases.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown case group(s) {unknown}; choose among {', '.join(GROUPS)}")
    global BEFORE
    if args.before is not None:
        BEFORE = args.before.resolve()
        if not (BEFORE / "scoring" / "__init__.py").exists():
            parser.error(f"--before {args.before}: no scoring package there")
        compileall.compile_dir(BEFORE / "scoring", quiet=1)
        found = run_process([sys.executable, "-P", "-c", "import scoring; print(scoring.__file__)"],
                            env=child_env("before"))["stdout"].strip()  # fmt: skip
        if not Path(found).is_relative_to(BEFORE):
            parser.error(f"--before {args.before}: its package is hidden by {found}")
    model, fitted = prepare(args)
    cases = plan_cases(groups, args.rows, args.xlsx_rows, before=BEFORE is not None)
    runs: dict[str, list[dict]] = {case.name: [] for case in cases}
    load_before = load_average()
    for repeat in range(args.repeat):  # interleaved, every other repeat backwards
        for case in cases if repeat % 2 == 0 else cases[::-1]:
            print(f"  run {repeat + 1}/{args.repeat}: {case.name}", file=sys.stderr)
            runs[case.name].append(measure(case, fitted, model))
    load_after = load_average()
    if "ahead" in groups:  # the thread changes when chunks are validated, never what is written
        digests = {r["output_sha256"] for name in ("engine en", "serial en") for r in runs[name]}
        if len(digests) != 1:
            raise AssertionError("the engine wrote different outputs with and without the thread")
    if BEFORE is not None:  # the same model, the same bytes: only the time may differ
        for lang in ("en", "fa"):
            digests = {r["output_sha256"] for name in (f"engine {lang}", f"before {lang}")
                       for r in runs[name]}  # fmt: skip
            if len(digests) != 1:
                print(f"note: the earlier checkout wrote other bytes ({lang})", file=sys.stderr)
    profile = import_profile(sample_paths(200)["en"], model) if "startup" in groups else None
    results, ratios, memory = summarise(cases, runs)
    report(results, ratios, memory, profile)
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {load_after}")
    saved = {**versions(), "command": " ".join(["benchmarks/bench_score.py", *sys.argv[1:]]),
             "rows": args.rows, "xlsx_rows": args.xlsx_rows, "repeat": args.repeat,
             "before": None if BEFORE is None else str(BEFORE),
             "model": model, "load_average_before_after": [load_before, load_after],
             "ratios": ratios, "memory": memory, "import_profile": profile,
             "cases": results}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
