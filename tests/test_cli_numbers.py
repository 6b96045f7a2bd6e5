"""Numbers in command-line options (``--rows``, ``--chunk-size``, ``--budget``) in any digits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scoring.cli import app
from scoring.text import parse_option_number

runner = CliRunner()
PERSIAN, ARABIC = "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"


def _run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _digits(text: str, digits: str) -> str:
    return text.translate(str.maketrans("0123456789", digits))


# --- the parser -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("۶۰٬۰۰۰", 60000.0),
        ("60,000", 60000.0),
        ("٦٠٠٠٠", 60000.0),
        ("٦٠,٠٠٠", 60000.0),
        ("60000", 60000.0),
        ("۱۲٫۵", 12.5),
        ("1,234,567.5", 1234567.5),
        (" 10 ", 10.0),
        ("6e4", 60000.0),
        ("-5", -5.0),
        ("+۷", 7.0),
    ],
)
def test_option_numbers_are_read_as_data_cells_are(text, number):
    assert parse_option_number(text) == number


@pytest.mark.parametrize(
    "text", ["", "abc", "nan", "inf", "-inf", "1_000", "1,5", "60,00", "6,0000", "۶۰٬۰۰", "1e3,0",
             "0x10", "5,000x", "١٢a", "1.2.3"],
)  # fmt: skip
def test_other_texts_are_not_numbers(text):
    with pytest.raises(ValueError, match="is not a number"):
        parse_option_number(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12), st.sampled_from(["0123456789", PERSIAN, ARABIC]),
       st.sampled_from(["", ",", "٬"]))  # fmt: skip
def test_any_whole_number_in_any_digits_and_grouping(number, digits, separator):
    text = f"{number:,}".replace(",", separator)
    assert parse_option_number(_digits(text, digits)) == float(number)


# --- through the commands -------------------------------------------------------------------


@pytest.mark.parametrize("rows", ["۱۰", "١٠", "10", "۱۰٫۰"])
def test_sample_rows_in_persian_digits(tmp_path, rows):
    out = tmp_path / "x.csv"
    result = _run("sample", "--rows", rows, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_csv(out)) == 10


def test_sample_rows_with_thousands_grouping(tmp_path):
    out = tmp_path / "x.csv"
    assert _run("sample", "--rows", "۱٬۲۰۰", "--out", out).exit_code == 0
    assert len(pd.read_csv(out)) == 1200


def test_chunk_size_in_persian_digits_gives_the_same_result(tmp_path):
    data = tmp_path / "coops.csv"
    assert _run("sample", "--rows", 30, "--seed", 4, "--out", data).exit_code == 0
    rejects = {}
    for chunk in ["۷", "7", "١٠٠٬٠٠٠"]:
        path = tmp_path / f"rejects-{len(rejects)}.csv"
        result = _run("validate", data, "--chunk-size", chunk, "--rejects", path)
        assert result.exit_code == 0, result.stderr
        rejects[chunk] = path.read_bytes()
    assert len(set(rejects.values())) == 1


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("sample", "--rows", "abc"),
        ("sample", "--rows", "0"),
        ("sample", "--rows", "-3"),
        ("sample", "--rows", "۱٫۵"),
        ("sample", "--rows", "1,5"),
        ("sample", "--rows", "inf"),
        ("validate", "--chunk-size", "۰"),
        ("validate", "--chunk-size", "ten"),
    ],
)
def test_a_bad_count_is_a_usage_error(tmp_path, command, option, value):
    out = tmp_path / "x.csv"
    args = ["sample", "--out", out] if command == "sample" else ["validate", tmp_path / "no.csv"]
    result = _run(*args, option, value)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    said = [line for line in result.stderr.splitlines() if option in line]
    assert len(said) == 1, result.stderr
    assert f"must be a whole number >= 1, got '{value}'" in said[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def _plan(tmp_path: Path, budget: str):
    """``plan`` against an empty registry: a budget that parses gets as far as the model."""
    data, programs = tmp_path / "coops.csv", tmp_path / "programs.toml"
    data.write_text("coop_id\n1\n", encoding="utf-8")
    programs.write_text("", encoding="utf-8")
    return _run(
        "plan", data, "--programs", programs, "--budget", budget, "--out", tmp_path / "plan.csv",
        "--registry", tmp_path / "no-registry",
    )  # fmt: skip


@pytest.mark.parametrize("budget", ["۶۰٬۰۰۰", "٦٠٠٠٠", "60,000", "60000", "۶۰۰۰۰٫۵"])
def test_budget_in_persian_digits_passes_the_usage_check(tmp_path, budget):
    result = _plan(tmp_path, budget)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: unknown model 'export-readiness'"), result.stderr


@pytest.mark.parametrize("budget", ["۶۰٬۰۰", "nan", "٠", "-۵"])
def test_a_bad_persian_budget_is_a_usage_error(tmp_path, budget):
    result = _plan(tmp_path, budget)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    said = [line for line in result.stderr.splitlines() if "--budget" in line]
    assert len(said) == 1 and f"must be a positive number, got '{budget}'" in said[0]
