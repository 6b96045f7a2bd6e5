"""Tests of the HTML reports (scoring.report) rendered whole, in both languages.

Each report is rendered once per language (module fixtures) and read back as text: the sections
are there, the charts are embedded, the Persian one is right-to-left, nothing is fetched.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.batch import score_file
from scoring.errors import ContractError, OutputFileError
from scoring.model import ScoringModel
from scoring.registry import load_model
from scoring.report import (
    batch_report_data,
    model_report_data,
    render_batch_report,
    render_model_report,
)
from scoring.report.plots import shape_text
from scoring.report.words import localize_number
from scoring.sample import generate_sample, to_english_table

LANGS = ("en", "fa")
MODEL_SECTIONS = (
    "data", "metrics", "curves", "calibration", "distributions", "contributions", "groups",
    "tiers", "selection", "baseline", "truth", "limitations", "manifest",
)  # fmt: skip
BATCH_SECTIONS = (
    "overview", "near", "tiers", "distribution", "provinces", "sectors", "reasons", "subscores",
    "drift", "top",
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
    with pytest.raises(OutputFileError, match="disk full"):  # one line for the user
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
    assert data["manifest"]["files"] == loaded.manifest.files


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

    metrics = {k: v for k, v in loaded.manifest.metrics.items() if k != "truth"}
    bare = dataclasses.replace(
        loaded, path=tmp_path, manifest=loaded.manifest.replace(metrics=metrics)
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


# --------------------------------------------------------------------------------------------
# Golden files: the report data, pinned. They were written by the report module as it was
# before it became a package (a second implementation of the same numbers); set
# READINESS_UPDATE_GOLDEN=1 to rewrite them after an intended change.

GOLDEN = Path(__file__).parent / "data" / "report"
#: What changes from run to run (dates, versions, timings, hashes), left out of the goldens.
MODEL_VOLATILE = (
    "reference", "created", "warnings", "training.fingerprint", "selection.seconds",
    "manifest.version", "manifest.created", "manifest.checksum", "manifest.files",
    "manifest.libraries", "manifest.timings", "manifest.fingerprint",
)  # fmt: skip


def _plain(value):
    """Report data as JSON values: arrays as lists, tuples as lists, NaN and inf as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _without(data: dict, paths) -> dict:
    """``data`` without the dotted ``paths`` (a list on the way: each of its items)."""
    for path in paths:
        *parents, last = path.split(".")
        nodes = [data]
        for part in parents:
            nodes = [node[part] for node in nodes]
            nodes = [
                item for node in nodes for item in (node if isinstance(node, list) else [node])
            ]
        for node in nodes:
            node.pop(last, None)
    return data


def _differences(actual, expected, where="data"):
    """Where ``actual`` differs from ``expected``: floats within 1e-6 (relative), all else exact."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if actual.keys() != expected.keys():
            return [f"{where}: keys {sorted(actual)} != {sorted(expected)}"]
        return [d for k in expected for d in _differences(actual[k], expected[k], f"{where}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(actual) != len(expected):
            return [f"{where}: {len(actual)} items != {len(expected)}"]
        pairs = zip(actual, expected, strict=True)
        return [d for i, (a, e) in enumerate(pairs) for d in _differences(a, e, f"{where}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, int | float):
        same = actual == pytest.approx(expected, rel=1e-6, abs=1e-9)
        return [] if same and not isinstance(actual, bool) else [f"{where}: {actual} != {expected}"]
    same = type(actual) is type(expected) and actual == expected
    return [] if same else [f"{where}: {actual!r} != {expected!r}"]


def _golden_text(value, indent: str = "") -> str:
    """JSON with one key per line and each list of plain values on one line: short diffs."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {_golden_text(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return (
            "[\n" + ",\n".join(inner + _golden_text(v, inner) for v in value) + "\n" + indent + "]"
        )
    return json.dumps(value, ensure_ascii=False)


def _check_golden(name: str, data: dict) -> None:
    path = GOLDEN / name
    if os.environ.get("READINESS_UPDATE_GOLDEN") == "1":
        path.write_text(_golden_text(data) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    differences = _differences(json.loads(json.dumps(data)), expected)
    assert not differences, differences[:10]


def test_model_report_data_matches_its_golden_file(loaded):
    data = _without(_plain(model_report_data(loaded, rounds=ROUNDS)), MODEL_VOLATILE)
    _check_golden("model_data.json", data)


def test_batch_report_data_matches_its_golden_file():
    data = batch_report_data(GOLDEN / "scores.csv", summary=GOLDEN / "summary.json")
    _check_golden("batch_data.json", _plain(data))


def test_batch_report_data_of_the_fixed_list_by_hand():
    """The golden's input read by hand: spellings unified, tiers cleaned, reasons counted."""
    data = batch_report_data(GOLDEN / "scores.csv", summary=GOLDEN / "summary.json")
    assert data["tier_counts"] == {"A": 2, "B": 2, "C": 3, "D": 3}  # 'b ' is B
    provinces = {row["group"]: row for row in data["province"]}
    assert set(provinces) == {"tehran", "fars", "esfahan"}  # تهران, Fars, isfahan: its keys
    assert provinces["tehran"]["rows"] == 4 and provinces["tehran"]["A"] == 2
    assert provinces["fars"]["ready_share"] == pytest.approx(2 / 3)  # C03, C04 of three
    sectors = {row["group"]: row["rows"] for row in data["sector"]}
    # C05's صنایع غذایی is food_processing; C07's empty sector is 'other'.
    assert sectors == {
        "food_processing": 3,
        "industrial": 3,
        "handicrafts": 2,
        "textiles": 1,
        "other": 1,
    }
    reasons = {row["code"]: (row["first"], row["anywhere"]) for row in data["reasons"]}
    # low_export_share: first for C01 and C03 (its Persian text), also C02, C05, C08.
    assert reasons["low_export_share"] == (2, 5)
    # First for C02, C04, C08 and C05 (written as its English text).
    assert reasons["low_capacity_utilization"] == (4, 4)
    assert reasons["something unheard of"] == (1, 1)  # unknown text: counted as itself
    assert data["mean_probability"] == pytest.approx(3.11 / 10)
    assert [g["group"] for g in data["top_rows"]] == ["tehran", "fars", "esfahan"]
    assert [r["coop_id"] for r in data["top_rows"][0]["top"]] == ["C01", "C02", "C07", "C10"]


def test_the_style_sheet_takes_the_tier_colours_of_the_charts(scored, tmp_path, monkeypatch):
    from scoring.report import plots

    monkeypatch.setitem(plots.TIER_COLORS, "B", "#123456")
    frame = pd.read_csv(scored[0]).drop(columns=["province", "sector", "name"]).head(50)
    html = render_batch_report(frame, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "--B:#123456;" in html and "--A:#1b7837;" in html


def test_every_phrase_the_reports_ask_for_has_both_languages():
    """Each ``phrase("key")`` written in the templates and the report modules is a key of
    words.toml with an English and a Persian text (a missing key would print as itself)."""
    import tomllib

    package = Path(__file__).parents[1] / "scoring" / "report"
    words = tomllib.loads((package / "words.toml").read_text(encoding="utf-8"))["words"]
    sources = [*package.glob("templates/*.html"), *package.glob("*.py")]
    literal = re.compile(r"""phrase\(\s*["']([a-z0-9_ -]+)["']\s*[,)]""")
    asked = {key for source in sources for key in literal.findall(source.read_text("utf-8"))}
    assert len(asked) > 100
    # Keys made up as prefix + name: metrics, dimensions, verdicts, groups, sections.
    asked |= {f"m_{m}" for m in ("roc_auc", "pr_auc", "ks", "brier", "log_loss", "ece")}
    asked |= {f"dim_{d}" for d in ("capacity", "quality", "output", "market")}
    asked |= {f"v_{v}" for v in ("stable", "investigate", "shifted")}
    asked |= {f"{p}{c}" for p in ("by_", "tiers_by_") for c in ("province", "sector")}
    asked |= {f"sec_{s}" for s in (*MODEL_SECTIONS, *BATCH_SECTIONS) if s != "tiers"}
    asked |= {"sec_tiers", "sec_tier_counts"}
    assert asked <= set(words), sorted(asked - set(words))
    assert all(set(texts) == {"en", "fa"} for texts in words.values())


# --------------------------------------------------------------------------------------------
# Where to act: the headline, next steps, near-ready lists, idle capacity, actionable reasons.

HAND_MADE = pd.DataFrame(
    {
        "coop_id": [f"K{i}" for i in range(1, 11)],
        "export_probability": [0.70, 0.55, 0.45, 0.40, 0.35, 0.25, 0.20, 0.16, 0.10, 0.05],
        "readiness_tier": ["A", "A", "B", "B", "B", "C", "C", "C", "D", "D"],
        "reason_1": [
            "old_cooperative", "low_debt", "no_commercial_card", "young_cooperative",
            "low_capacity_utilization", "no_iso9001", "few_members", "low_capacity_utilization",
            "falling_revenue", "high_defect_rate",
        ],
        "reason_2": [
            "iso9001", "no_standard_mark", "", "low_capacity_utilization", "", "", "", "", "", "",
        ],
        "reason_3": [""] * 10,
        "province": ["tehran", "fars", "tehran", "fars", "tehran", "fars", "tehran", "fars",
                     "tehran", "fars"],
        "sector": ["textiles"] * 5 + ["mining"] * 5,
        "installed_capacity": ["100", "200", "100", "۱۰۰", "1,000", "50", "80", "100", "10", ""],
        "actual_output": ["90", "100", "50", "80", "500", "50", "20", "20", "10", "5"],
        "next_step": ["", "", "commercial_card", "working_capital", "commercial_card",
                      "iso_support", "", "working_capital", "working_capital", ""],
        "next_step_score": [np.nan, np.nan, 52.0, 51.0, 55.0, 31.0, np.nan, 30.5, 16.0, np.nan],
    }
)  # fmt: skip


@pytest.fixture(scope="module")
def programs():
    from scoring.contract import load_contract
    from scoring.planning import load_programs

    return load_programs(Path(__file__).parents[1] / "examples" / "programs.toml", load_contract())


def test_headline_sentences_of_a_hand_made_list(programs, tmp_path):
    data = batch_report_data(HAND_MADE, programs=programs)
    # Steps: K3, K5 commercial_card (60 each), K4, K8, K9 working_capital (500 each), K6
    # iso_support (300): six cooperatives, 2 * 60 + 3 * 500 + 300 = 1,920.
    step = data["next_step"]
    assert step["count"] == 6 and step["cost"] == 1920.0
    assert step["by_program"][0] == {"program": "working_capital", "count": 3, "cost": 1500.0}
    assert step["by_tier"] == {"A": 0, "B": 3, "C": 2, "D": 1}
    # Idle (at least 30% of capacity unused): K2 (50%), K3 (50%), K5 (50%), K7 (75%), K8
    # (80%); K1 uses 90%, K4 (written ۱۰۰) 80%, K6 and K9 all; K10 has no capacity. Tehran
    # (K1, K3, K5, K7, K9): three; Fars (K2, K4, K6, K8, K10): two.
    idle = data["idle"]
    assert idle["source"] == "columns" and idle["count"] == 5
    assert [(r["group"], r["idle"], r["rows"]) for r in idle["by"]["province"]] == [
        ("tehran", 3, 5),
        ("fars", 2, 5),
    ]
    # Textiles (K1-K5): K2, K3, K5; mining: K7, K8.
    assert [(r["group"], r["idle"]) for r in idle["by"]["sector"]] == [
        ("textiles", 3),
        ("mining", 2),
    ]
    out = render_batch_report(HAND_MADE, tmp_path / "hand.html", programs=programs)
    html = out.read_text(encoding="utf-8")
    overview = html.split('<section id="overview">', 1)[1].split("</section>", 1)[0]
    sentences = re.findall(r"<li>(.*?)</li>", overview, flags=re.S)
    assert sentences[0] == "2 of 10 cooperatives (20.0%) are export-ready (tier A)."
    assert sentences[1].startswith(
        "6 cooperatives (60.0%) are one programme away from a higher tier "
        "(B to A: 3, C to B: 2, D to C: 1); giving each its cheapest such programme costs "
        "1,920 in all"
    )
    assert "Working-capital loan to bring idle capacity back into use (3)" in sentences[1]
    assert sentences[2] == (
        "Most idle capacity (cooperatives producing under 70% of their capacity): in Tehran, "
        "3 cooperatives (60.0% of the province&#39;s); by sector, Textiles (3, 60.0%)."
    )


def test_headline_says_how_to_get_next_steps_and_idle_capacity(tmp_path):
    bare = HAND_MADE.drop(columns=["next_step", "next_step_score", "province", "sector"])
    html = render_batch_report(bare, tmp_path / "bare.html").read_text(encoding="utf-8")
    overview = html.split('<section id="overview">', 1)[1].split("</section>", 1)[0]
    assert "--next-step --programs FILE" in overview
    assert "--keep-columns" in overview
    # Steps kept, programmes not given: the count without a cost.
    data = batch_report_data(HAND_MADE)
    assert data["next_step"]["count"] == 6 and data["next_step"]["cost"] is None


def test_idle_capacity_falls_back_to_reasons_then_sub_scores():
    frame = HAND_MADE.drop(columns=["installed_capacity", "actual_output"])
    idle = batch_report_data(frame)["idle"]
    # The idle-capacity reason: K4 and K8 (Fars), K5 (Tehran).
    assert idle["source"] == "reasons" and idle["count"] == 3
    assert [(r["group"], r["idle"]) for r in idle["by"]["province"]] == [("fars", 2), ("tehran", 1)]
    scores = frame.drop(columns=["reason_1", "reason_2", "reason_3"]).assign(
        capacity_score=[10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    )
    idle = batch_report_data(scores)["idle"]
    # Means: Tehran (K1, K3, K5, K7, K9) 50, Fars 60: the lowest first.
    assert idle["source"] == "subscores"
    assert [(r["group"], r["mean"]) for r in idle["by"]["province"]] == [
        ("tehran", 50.0),
        ("fars", 60.0),
    ]


def test_near_ready_lists_the_cheapest_step_first_per_province(programs):
    near = batch_report_data(HAND_MADE, programs=programs, top=5)["near_ready"]
    # B and C: K3, K4, K5, K6, K7, K8; K7 has no step.
    assert near["with_steps"] and near["count"] == 5
    groups = {g["group"]: g for g in near["groups"]}
    # Tehran: K3 (45 -> 52) and K5 (35 -> 55), both the commercial card (60): the larger gain
    # first. Fars: K6's ISO support (300), then K4 (40 -> 51) and K8 (16 -> 30.5), both 500.
    assert [r["coop_id"] for r in groups["tehran"]["rows"]] == ["K5", "K3"]
    assert groups["tehran"]["cost"] == 120.0 and groups["tehran"]["step"] == "commercial_card"
    assert [r["coop_id"] for r in groups["fars"]["rows"]] == ["K6", "K8", "K4"]
    assert groups["fars"]["cost"] == 1300.0
    assert [r["next_tier"] for r in groups["fars"]["rows"]] == ["B", "B", "A"]
    assert [g["group"] for g in near["groups"]] == ["fars", "tehran"]  # most near-ready first


def test_actionable_reasons_and_context_are_apart(tmp_path):
    data = batch_report_data(HAND_MADE)
    marked = {r["code"]: r["actionable"] for r in data["reasons"]}
    assert marked["no_commercial_card"] and marked["low_capacity_utilization"]
    assert marked["no_iso9001"] and marked["high_defect_rate"] and marked["no_standard_mark"]
    assert not marked["old_cooperative"] and not marked["young_cooperative"]
    assert not marked["low_debt"] and not marked["few_members"] and not marked["iso9001"]
    # Top cooperatives show what they need: K1's reasons are all context, K2's first is not.
    tehran = next(g for g in data["top_rows"] if g["group"] == "tehran")
    fars = next(g for g in data["top_rows"] if g["group"] == "fars")
    assert tehran["top"][0]["coop_id"] == "K1" and tehran["top"][0]["needs"] == []
    assert fars["top"][0]["coop_id"] == "K2" and fars["top"][0]["needs"] == ["no_standard_mark"]
    html = render_batch_report(HAND_MADE, tmp_path / "r.html").read_text(encoding="utf-8")
    top = html.split('<section id="top">', 1)[1].split("</section>", 1)[0]
    assert "An old cooperative" not in top and "Low debt" not in top
    assert "No national standard mark" in top and "nothing actionable" in top
    reasons = html.split('<section id="reasons">', 1)[1].split("</section>", 1)[0]
    actionable, context = reasons.split("Context: explains the score", 1)
    assert "no_commercial_card" in actionable and "no_commercial_card" not in context
    assert "young_cooperative" in context and "young_cooperative" not in actionable


def test_a_stored_contract_without_marks_takes_the_packaged_ones():
    from scoring.contract import contract_from_dict, load_contract

    document = load_contract().to_dict()
    for sides in document["reason"].values():
        sides.pop("actionable", None)
        for side in sides.values():
            side.pop("actionable", None)
    old = contract_from_dict(document, origin="manifest")
    assert not old.reasons["coop_age"]["low"].actionable
    assert old.reasons["commercial_card"]["low"].actionable
    assert not old.reasons["iso9001"]["high"].actionable


def test_subscores_are_shown_against_the_whole_list():
    frame = HAND_MADE.assign(
        capacity_score=[50, 60, 70, 80, 90, 10, 20, 30, 40, 50],
        quality_score=[40.0] * 10,
    )
    sub = batch_report_data(frame)["subscores"]
    # Textiles (K1-K5) mean capacity 70, mining 30, overall 50: +20 and -20; quality all 40.
    assert sub["rows"] == ["textiles", "mining"]
    np.testing.assert_allclose(sub["overall"], [50.0, 40.0])
    np.testing.assert_allclose(sub["difference"], [[20.0, 0.0], [-20.0, 0.0]])


def test_kept_columns_under_persian_headers_are_read():
    frame = HAND_MADE.rename(columns={"province": "استان", "sector": "بخش"})
    data = batch_report_data(frame)
    assert {r["group"] for r in data["province"]} == {"tehran", "fars"}
    assert data["has"]["sector"]


def test_drift_notes_say_why_features_were_not_judged(tmp_path):
    drift = [
        {"feature": "sector", "psi": 8.7, "verdict": "segment", "covered": 1, "categories": 7},
        {"feature": "utilization", "psi": 0.02, "verdict": "stable", "compared_with": "sector"},
    ]
    summary = {"rows_read": 900, "rows_scored": 900, "rows_rejected": 0, "drift": drift}
    html = render_batch_report(HAND_MADE, tmp_path / "d.html", summary=summary)
    text = html.read_text(encoding="utf-8")
    assert "The list covers only 1 of 7 sectors: sector is the list&#39;s own cut" in text
    assert "compared with the training cooperatives of the same sector mix" in text
    assert "the list&#39;s own cut</span>" in text and "pill bad" not in text
    small = {**summary, "rows_scored": 49, "drift": [{**drift[1], "verdict": "too_few_rows"}]}
    fa = render_batch_report(HAND_MADE, tmp_path / "f.html", summary=small, lang="fa")
    text = fa.read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in text
    assert "ردیف‌ها برای داوری کم است" in text and "۴۹" in text


def test_persian_command_line_text_is_isolated_left_to_right(tmp_path):
    bare = HAND_MADE.drop(columns=["province", "sector", "next_step", "next_step_score"])
    html = render_batch_report(bare, tmp_path / "fa.html", lang="fa").read_text("utf-8")
    assert "\u2066`--keep-columns name,province,sector`\u2069" in html
    assert "\u2066`--next-step --programs FILE`\u2069" in html


def test_the_persian_batch_report_words_its_problems_in_persian(tmp_path):
    out = tmp_path / "batch-fa.html"
    render_batch_report(GOLDEN / "scores.csv", out, summary=GOLDEN / "summary.json", lang="fa")
    page = out.read_text(encoding="utf-8")
    # "members: is below the minimum 1", as the Persian rejects file says it.
    assert "تعداد اعضا: کمتر از حداقل ۱ است" in page
    assert "is below the minimum" not in page
