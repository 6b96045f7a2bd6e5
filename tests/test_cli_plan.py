"""Tests of the `plan` command (scoring.cli) through typer's CliRunner: a plan within budget,
budgets refused as usage errors, unreadable programmes files, and plans with nobody funded."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line
from typer.testing import CliRunner

from scoring.cli import app
from scoring.sample import generate_sample, to_english_table

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "programs.toml"
#: The plan output's columns, as shared/DESIGN.md lists them.
DESIGN_COLUMNS = ["coop_id", "program", "cost", "probability_before", "probability_after", "uplift"]


def _run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def cooperatives(tmp_path_factory) -> Path:
    """300 unlabelled sample cooperatives as an English registry export."""
    frame, _ = generate_sample(300, seed=23, labelled=False)
    path = tmp_path_factory.mktemp("plan-cli") / "cooperatives.csv"
    to_english_table(frame).to_csv(path, index=False)
    return path


def _plan(cooperatives: Path, trained, out: Path, *, budget: str, programs: Path = EXAMPLE):
    registry, reference, _ = trained
    return _run(
        "plan", cooperatives, "--programs", programs, "--budget", budget, "--out", out,
        "--registry", registry, "--model", reference,
    )  # fmt: skip


def test_plan_funds_within_the_budget(tmp_path, trained, cooperatives):
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    registry, reference, _ = trained
    result = _run(
        "plan", cooperatives, "--programs", EXAMPLE, "--budget", "5,000", "--out", out,
        "--summary", summary, "--registry", registry, "--model", reference,
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"plan written to {out}" in result.stdout
    plan = pd.read_csv(out, dtype={"coop_id": str, "program": str})
    assert list(plan.columns) == DESIGN_COLUMNS
    assert len(plan) > 0 and plan["cost"].sum() <= 5000
    assert not plan["coop_id"].duplicated().any()  # one programme per cooperative
    assert set(plan["coop_id"]) <= set(pd.read_csv(cooperatives, dtype=str)["coop_id"])
    # Each row costs what its programme costs in the programmes file.
    costs = {p["id"]: p["cost"] for p in tomllib.loads(EXAMPLE.read_text("utf-8"))["program"]}
    assert plan["cost"].tolist() == [costs[p] for p in plan["program"]]
    np.testing.assert_allclose(
        plan["uplift"], plan["probability_after"] - plan["probability_before"], atol=1e-12
    )
    assert (plan["uplift"] > 0).all()
    # "before" is the probability `readiness score` gives the same cooperative.
    scores = tmp_path / "scores.csv"
    scored = _run(
        "score", cooperatives, "--out", scores, "--registry", registry, "--model", reference,
        "--quiet",
    )  # fmt: skip
    assert scored.exit_code == 0, scored.stderr
    probability = pd.read_csv(scores, dtype={"coop_id": str}).set_index("coop_id")
    np.testing.assert_allclose(
        plan["probability_before"],
        probability.loc[plan["coop_id"], "export_probability"],
        rtol=1e-12,
    )
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["funded"] == len(plan) and figures["budget"] == 5000
    assert figures["total_cost"] == pytest.approx(plan["cost"].sum())
    # The same budget without its thousands separator gives the same plan.
    again = tmp_path / "again.csv"
    assert _plan(cooperatives, trained, again, budget="5000").exit_code == 0
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("budget", ["abc", "0", "-5", "nan", "inf", "", "5,000x"])
def test_a_bad_budget_is_a_usage_error(tmp_path, cooperatives, budget):
    out = tmp_path / "plan.csv"
    # A registry that does not exist: had the budget passed, loading the model would fail (1).
    result = _run(
        "plan", cooperatives, "--programs", EXAMPLE, "--budget", budget, "--out", out,
        "--registry", tmp_path / "no-registry",
    )  # fmt: skip
    assert result.exit_code == 2, (result.stdout, result.stderr)
    said = [line for line in result.stderr.splitlines() if "--budget" in line]
    assert len(said) == 1, result.stderr
    assert f"must be a positive number, got '{budget}'" in said[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "does not exist"),
        ("folder", "is a folder"),
        ("not toml", "is not valid TOML"),
        ("not utf-8", "cannot read programmes file"),
        ("no programme", "defines no programme"),
    ],
)
def test_an_unreadable_programmes_file_is_one_error_line(
    tmp_path, trained, cooperatives, kind, expected
):
    programs = tmp_path / "programs.toml"
    if kind == "folder":
        programs.mkdir()
    elif kind == "not toml":
        programs.write_text("[[program]\nid = 'a'\n", encoding="utf-8")
    elif kind == "not utf-8":
        programs.write_bytes(b"\xff\xfe[[program]]")
    elif kind == "no programme":
        programs.write_text("# nothing yet\n", encoding="utf-8")
    out = tmp_path / "plan.csv"
    assert_one_error_line(
        _plan(cooperatives, trained, out, budget="1000", programs=programs), expected
    )
    assert not out.exists()


NOBODY = """
[[program]]
id = "iso_support"
name = "ISO 9001 certification support"
cost = 300
slots = 10
eligible = "members > 1000000"
[program.effect]
iso9001 = true
"""


@pytest.mark.parametrize(
    ("programs", "budget", "message"),
    [
        (NOBODY, "1000", "no cooperative is eligible for any programme: the plan is empty"),
        (
            NOBODY.replace('eligible = "members > 1000000"\n', ""),
            "299",  # every cooperative could take it, but it costs 300
            "no programme fits the budget and slots: the plan is empty",
        ),
    ],
)
def test_an_empty_plan_says_why(tmp_path, trained, cooperatives, programs, budget, message):
    path = tmp_path / "programs.toml"
    path.write_text(programs, encoding="utf-8")
    out = tmp_path / "plan.csv"
    result = _plan(cooperatives, trained, out, budget=budget, programs=path)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert message in result.stdout
    assert "rules of thumb" not in result.stdout  # no comparison table for an empty plan
    plan = pd.read_csv(out)
    assert list(plan.columns) == DESIGN_COLUMNS and len(plan) == 0
