"""What ``readiness score`` and ``readiness plan`` import, in a fresh interpreter each.

Scoring runs from the compiled tables (numpy, pyarrow, pandas): neither scikit-learn, scipy,
matplotlib nor jinja2 may be imported on its way, nor xlsxwriter unless the output is a
workbook. ``plan`` allocates with ``scipy.sparse`` (the constraint matrix) and
``scipy.optimize`` (HiGHS), imported when the allocation starts;
everything before it (reading, validating, scoring, the uplifts) imports none of them, and the
allocation adds scipy only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scoring.sample import generate_sample, to_english_table

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "scipy", "matplotlib", "jinja2")
#: Runs the CLI with ``plan``'s allocation wrapped: it tells which packages are loaded then.
SPY_ON_ALLOCATE = """
import sys
import scoring.planning.plan as plan

allocate = plan.allocate

def spy(*args, **kwargs):
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    print("loaded at the allocation: " + " ".join(loaded), file=sys.stderr)
    return allocate(*args, **kwargs)

plan.allocate = spy
from scoring.cli import main
sys.argv[0] = "readiness"
main()
"""


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    frame, _ = generate_sample(200, seed=3, labelled=False)
    path = tmp_path_factory.mktemp("imports") / "list.csv"
    to_english_table(frame).to_csv(path, index=False)
    return path


def _run(*arguments: str | Path) -> subprocess.CompletedProcess:
    """``python -X importtime ARGUMENTS`` in a fresh interpreter; it must succeed."""
    command = [sys.executable, "-X", "importtime", *map(str, arguments)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _modules(stderr: str) -> set[str]:
    """Modules that ``-X importtime`` saw imported."""
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", stderr, flags=re.M))


def _imported(stderr: str) -> set[str]:
    """Top-level packages that ``-X importtime`` saw imported."""
    return {name.split(".")[0] for name in _modules(stderr)}


def test_scoring_imports_none_of_the_heavy_libraries(trained, small_csv, tmp_path):
    registry, reference, _ = trained
    out = tmp_path / "scores.csv"
    done = _run("-m", "scoring", "score", small_csv, "--out", out, "--registry", registry,
                "--model", reference, "--quiet")  # fmt: skip
    imported = _imported(done.stderr)
    assert {"numpy", "pyarrow", "scoring"} <= imported  # the trace is read at all
    assert [name for name in HEAVY if name in imported] == []
    assert "xlsxwriter" not in imported  # a CSV output loads no Excel writer
    assert "pyarrow.parquet" not in _modules(done.stderr)  # nor Parquet's reader and writer
    assert len(out.read_text(encoding="utf-8").splitlines()) == 201  # 200 scored + header


def test_an_excel_output_imports_the_excel_writer(trained, small_csv, tmp_path):
    registry, reference, _ = trained
    out = tmp_path / "scores.xlsx"
    done = _run("-m", "scoring", "score", small_csv, "--out", out, "--registry", registry,
                "--model", reference, "--quiet")  # fmt: skip
    assert "xlsxwriter" in _imported(done.stderr)  # the check above can fail
    assert out.stat().st_size > 0


@pytest.fixture(scope="module")
def planned(trained, small_csv, tmp_path_factory) -> tuple[set[str], set[str]]:
    """``readiness plan`` run once: the packages loaded when it allocates, and all it imported."""
    registry, reference, _ = trained
    out = tmp_path_factory.mktemp("plan") / "plan.csv"
    done = _run("-c", SPY_ON_ALLOCATE, "plan", small_csv, "--programs",
                ROOT / "examples" / "programs.toml", "--budget", "5000", "--out", out,
                "--registry", registry, "--model", reference)  # fmt: skip
    assert out.exists()
    spied = [s for s in done.stderr.splitlines() if s.startswith("loaded at the allocation:")]
    assert len(spied) == 1, done.stderr[-2000:]  # the plan was allocated, once
    return set(spied[0].split(":", 1)[1].split()), _imported(done.stderr)


def test_planning_loads_none_of_them_before_it_allocates(planned):
    before, _ = planned
    assert {"numpy", "pandas", "scoring"} <= before
    assert [name for name in HEAVY if name in before] == []


def test_planning_imports_scipy_and_no_other(planned):
    _, imported = planned
    assert "scipy" in imported  # the allocation's
    assert [name for name in HEAVY if name in imported] == ["scipy"]


def test_a_parquet_output_imports_parquet(trained, small_csv, tmp_path):
    registry, reference, _ = trained
    out = tmp_path / "scores.parquet"
    done = _run("-m", "scoring", "score", small_csv, "--out", out, "--registry", registry,
                "--model", reference, "--quiet")  # fmt: skip
    assert "pyarrow.parquet" in _modules(done.stderr)  # the check on a CSV output can fail
    assert out.stat().st_size > 0
