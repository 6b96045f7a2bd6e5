"""Tests of the HTML reports (scoring.report) and their charts (scoring.plots).

Each report is rendered once per language (module fixtures) and read back as text: the sections
are there, the charts are embedded, the Persian one is right-to-left, nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.batch import ScoringModel, score_file
from scoring.errors import ContractError
from scoring.plots import localize_number, shape_text
from scoring.registry import load_model
from scoring.report import (
    batch_report_data,
    model_report_data,
    render_batch_report,
    render_model_report,
)
from scoring.sample import generate_sample, to_english_table

LANGS = ("en", "fa")
MODEL_SECTIONS = (
    "data", "metrics", "curves", "calibration", "distributions", "contributions", "groups",
    "tiers", "selection", "baseline", "truth", "limitations", "manifest",
)  # fmt: skip
BATCH_SECTIONS = (
    "overview", "tiers", "distribution", "provinces", "sectors", "reasons", "subscores", "drift",
    "top",
)  # fmt: skip
PERSIAN = re.compile("[\u0600-\u06ff]")
ROUNDS = 20  # bootstrap resamples: enough to exercise the intervals, quick on 2 cores


@pytest.fixture(scope="module")
def loaded(trained):
    registry, reference, _ = trained
    return load_model(registry, reference)


@pytest.fixture(scope="module")
def model_reports(loaded, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-reports")
    reports = {
        lang: render_model_report(
            loaded, folder / f"model-{lang}.html", lang=lang, rounds=ROUNDS
        ).read_text(encoding="utf-8")
        for lang in LANGS
    }
    return {**reports, "folder": folder}


@pytest.fixture(scope="module")
def scored(trained, tmp_path_factory):
    """A scored list (with name, province, sector kept) and its summary JSON."""
    registry, reference, _ = trained
    folder = tmp_path_factory.mktemp("scored")
    frame, _ = generate_sample(600, seed=5, labelled=False)
    to_english_table(frame).to_csv(folder / "list.csv", index=False)
    model = ScoringModel(load_model(registry, reference))
    score_file(
        folder / "list.csv",
        model,
        folder / "scores.csv",
        summary=folder / "summary.json",
        keep_columns=["name", "province", "sector"],
    )
    return folder / "scores.csv", folder / "summary.json"


@pytest.fixture(scope="module")
def batch_reports(scored, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-reports")
    scores, summary = scored
    reports = {
        lang: render_batch_report(
            scores, folder / f"batch-{lang}.html", summary=summary, lang=lang
        ).read_text(encoding="utf-8")
        for lang in LANGS
    }
    return {**reports, "folder": folder}


def _section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def _images(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]*)"', html)


@pytest.mark.parametrize("lang", LANGS)
def test_model_report_has_every_section_with_a_heading(model_reports, lang):
    html = model_reports[lang]
    ids = _section_ids(html)
    assert ids == list(MODEL_SECTIONS)
    for section in MODEL_SECTIONS:
        body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert re.search(r"<h2>[^<]+</h2>", body), section
        assert f'href="#{section}"' in html  # listed in the contents


@pytest.mark.parametrize("lang", LANGS)
def test_model_report_embeds_its_charts(model_reports, loaded, lang):
    html = model_reports[lang]
    images = _images(html)
    assert len(images) >= 3
    assert all(src.startswith("data:image/png;base64,") and len(src) > 1000 for src in images)
    for curve in ("curves", "calibration", "distributions"):
        section = html.split(f'<section id="{curve}">', 1)[1].split("</section>", 1)[0]
        assert "<img " in section, curve
    # One contribution chart per model feature, read from the compiled tables.
    for feature in loaded.scorer.features:
        block = html.split(f'id="feature-{feature}"', 1)[1].split("</div>", 1)[0]
        assert "<img " in block, feature


@pytest.mark.parametrize("kind", ["model", "batch"])
@pytest.mark.parametrize("lang", LANGS)
def test_reports_are_self_contained(model_reports, batch_reports, kind, lang):
    html = (model_reports if kind == "model" else batch_reports)[lang]
    assert not re.search(r"https?://", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html
    assert all(src.startswith("data:") for src in _images(html))


@pytest.mark.parametrize("kind", ["model", "batch"])
def test_persian_reports_are_right_to_left_and_in_persian(model_reports, batch_reports, kind):
    reports = model_reports if kind == "model" else batch_reports
    assert '<html lang="fa" dir="rtl">' in reports["fa"]
    assert '<html lang="en" dir="ltr">' in reports["en"]
    assert "Vazirmatn" in reports["fa"] and "Tahoma" in reports["fa"]
    headings = re.findall(r"<h2>([^<]+)</h2>", reports["fa"])
    assert headings and all(PERSIAN.search(h) for h in headings)
    assert not any(PERSIAN.search(h) for h in re.findall(r"<h2>([^<]+)</h2>", reports["en"]))
    assert "آماده صادرات" in reports["fa"]  # tier A's Persian label, from the contract
    assert "export-ready" in reports["en"]


def test_batch_report_has_every_section_and_chart(batch_reports):
    for lang in LANGS:
        html = batch_reports[lang]
        assert _section_ids(html) == list(BATCH_SECTIONS)
        assert len(_images(html)) >= 3
        for section in ("tiers", "distribution", "provinces", "sectors", "reasons", "subscores"):
            body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
            assert "<img " in body, (lang, section)
        assert 'class="pill ok"' in html or 'class="pill warn"' in html  # drift verdicts
        assert html.count('<div class="card">') >= 10  # top cooperatives of each province


def test_batch_report_uses_persian_reason_texts(batch_reports, scored):
    scores, _ = scored
    codes = pd.read_csv(scores)["reason_1"].dropna()
    top = codes.value_counts().index[0]
    from scoring.contract import load_contract

    reason = next(
        r for sides in load_contract().reasons.values() for r in sides.values() if r.code == top
    )
    assert reason.fa in batch_reports["fa"]
    assert reason.en in batch_reports["en"]


def test_batch_report_without_location_columns_or_summary(scored, tmp_path):
    scores, _ = scored
    frame = pd.read_csv(scores).drop(columns=["province", "sector", "name"])
    out = render_batch_report(frame, tmp_path / "bare.html", lang="fa")
    html = out.read_text(encoding="utf-8")
    assert _section_ids(html) == list(BATCH_SECTIONS)
    assert html.count('class="alert"') >= 4  # provinces, sectors, sub-scores, top: a note each
    assert "--summary" in html  # the drift section says how to get drift
    assert len(_images(html)) >= 3


def test_batch_data_reads_reason_texts_and_persian_categories(scored):
    scores, _ = scored
    frame = pd.read_csv(scores)
    from scoring.contract import load_contract

    contract = load_contract()
    texts = {
        r.code: r.fa for sides in contract.reasons.values() for r in sides.values()
    }  # as written by `readiness score --lang fa`
    persian = frame.assign(
        reason_1=frame["reason_1"].map(lambda c: texts.get(c, c)),
        province=frame["province"].map(contract.vocabularies["province"].persian),
    )
    by_code = batch_report_data(frame, contract=contract)
    by_text = batch_report_data(persian, contract=contract)
    assert by_text["reasons"] == by_code["reasons"]
    assert [r["group"] for r in by_text["province"]] == [r["group"] for r in by_code["province"]]
    assert sum(by_code["tier_counts"].values()) == len(frame)


def test_scored_file_without_its_columns_is_refused(tmp_path):
    table = pd.DataFrame({"coop_id": ["C1"], "probability": [0.4]})
    with pytest.raises(ContractError, match="export_probability"):
        render_batch_report(table, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_report_is_written_atomically(scored, tmp_path, monkeypatch):
    scores, summary = scored
    out = tmp_path / "report.html"
    out.write_text("previous report", encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("scoring.writing.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        render_batch_report(scores, out, summary=summary)
    assert out.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left


def test_rendering_leaves_only_the_reports(model_reports, batch_reports):
    for kind, reports in (("model", model_reports), ("batch", batch_reports)):
        names = sorted(p.name for p in reports["folder"].iterdir())
        assert names == [f"{kind}-en.html", f"{kind}-fa.html"]


def test_model_report_data_is_consistent(loaded):
    data = model_report_data(loaded, rounds=ROUNDS)
    rows = {row["metric"]: row for row in data["metrics"]}
    assert {"roc_auc", "pr_auc", "brier", "ece"} <= set(rows)
    for row in rows.values():
        low, high = row["interval"]
        assert low <= high
        assert row["difference"] == pytest.approx(row["value"] - row["baseline"])
        assert row["difference_interval"][0] <= row["difference_interval"][1]
    names = [item["name"] for item in data["contributions"]]
    assert sorted(names) == sorted(loaded.scorer.features)
    spreads = [item["spread"] for item in data["contributions"]]
    assert spreads == sorted(spreads, reverse=True) and min(spreads) >= 0
    # The pair chart is the tables' joint contribution: main effects plus interaction.
    pair = data["pairs"][0]
    scorer = loaded.scorer
    first = scorer.features.index(pair["first"])
    second = scorer.features.index(pair["second"])
    expected = (
        scorer.tables[first].cells()[:, None]
        + scorer.tables[second].cells()[None, :]
        + scorer.pairs[0].values
    )
    np.testing.assert_allclose(pair["joint"], expected)
    assert data["manifest"]["files"] == loaded.manifest["files"]


def test_unknown_language_is_refused(loaded, tmp_path):
    with pytest.raises(ValueError, match="language 'de'"):
        render_model_report(loaded, tmp_path / "m.html", lang="de", rounds=0)


def test_persian_numbers_keep_their_sign_in_right_to_left_text():
    assert localize_number("-0.25", "en") == "-0.25"
    assert localize_number("-0.25", "fa") == "\u2066-۰٫۲۵\u2069"
    assert localize_number("12.5%", "fa") == "\u2066۱۲٫۵٪\u2069"
    assert localize_number("n/a", "fa") == "n/a"
    assert shape_text("export-ready") == "export-ready"
    assert PERSIAN.search(shape_text("آماده صادرات"))


def test_report_output_must_be_html_in_an_existing_folder(loaded, tmp_path):
    from scoring.errors import InputFileError

    with pytest.raises(InputFileError, match="does not exist"):
        render_model_report(loaded, tmp_path / "missing" / "m.html", rounds=0)
    assert not Path(tmp_path / "missing").exists()


def test_model_without_holdout_or_truth_still_reports(loaded, tmp_path):
    """An older or trimmed model: no holdout file, no truth. The report says so and goes on."""
    import dataclasses

    metrics = {k: v for k, v in loaded.manifest["metrics"].items() if k != "truth"}
    bare = dataclasses.replace(
        loaded, path=tmp_path, manifest={**loaded.manifest, "metrics": metrics}
    )
    data = model_report_data(bare, rounds=ROUNDS)
    assert not data["has_holdout"] and data["truth"] is None
    assert all(row["interval"] is None for row in data["metrics"])
    assert "lim_sample" not in [key for key, _ in data["limitations"]]
    html = render_model_report(bare, tmp_path / "bare.html", rounds=ROUNDS).read_text("utf-8")
    ids = _section_ids(html)
    assert "curves" not in ids and "truth" not in ids and "contributions" in ids
    assert "no holdout file" in html
    assert len(_images(html)) >= 3  # contribution curves, groups, tiers
