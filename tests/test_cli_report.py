"""Tests of ``readiness report model`` and ``readiness report batch`` through typer's CliRunner:
exit 0, one page written, in the language asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scoring.cli as cli

runner = CliRunner()
GOLDEN = Path(__file__).parent / "data" / "report"


def _ok(*args: str | Path) -> str:
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_report_model_writes_the_card(trained, tmp_path, lang, direction):
    registry, reference, _ = trained
    out = tmp_path / f"model-{lang}.html"
    stdout = _ok("report", "model", reference, "--out", out, "--lang", lang, "--registry", registry)
    assert "model report written to" in stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>\n<html")
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert reference in html
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_report_batch_writes_the_report(tmp_path, lang, direction):
    out = tmp_path / f"batch-{lang}.html"
    stdout = _ok(
        "report", "batch", GOLDEN / "scores.csv", "--summary", GOLDEN / "summary.json",
        "--out", out, "--lang", lang,
    )  # fmt: skip
    assert "batch report written to" in stdout
    html = out.read_text(encoding="utf-8")
    assert f'<html lang="{lang}" dir="{direction}">' in html
    # The summary's drift verdicts, each a pill: shifted, investigate, stable.
    assert re.findall(r'class="pill (ok|warn|bad)"', html).count("bad") == 1
    assert ("تهران" in html) == (lang == "fa") and ("Tehran" in html) == (lang == "en")


def test_report_batch_names_reasons_with_the_models_contract(trained, tmp_path):
    registry, reference, _ = trained
    out = tmp_path / "batch.html"
    _ok(
        "report", "batch", GOLDEN / "scores.csv", "--model", reference, "--registry", registry,
        "--out", out,
    )  # fmt: skip
    html = out.read_text(encoding="utf-8")
    assert "Little or none of the sales are exported" in html  # low_export_share, in English
    assert "--summary" in html  # no summary given: the drift section says how to get one
