"""Tests of the Markdown model card (scoring.modelcard) from a manifest made by hand."""

from __future__ import annotations

import pytest

from scoring.manifest import FeatureConfig, Manifest, References
from scoring.modelcard import headline_rows, model_card_markdown

OVERALL = {
    "rows": 1250, "label_rate": 0.284, "roc_auc": 0.81234, "pr_auc": 0.6, "brier": 0.15,
    "log_loss": 0.45678, "ks": 0.5, "ece": 0.0123,
}  # fmt: skip
TRUTH = {"bayes_auc": 0.85, "auc_gap": 0.03766, "mean_abs_error": 0.041, "p90_abs_error": 0.09}


@pytest.fixture
def manifest() -> Manifest:
    return Manifest(
        name="export-readiness",
        version="v7",
        created="2025-03-01T10:00:00+00:00",
        libraries={"numpy": "2.1.0", "scikit-learn": "1.9.1"},
        contract={"version": 1},
        features=FeatureConfig(["utilization", "sector"], {"sector": ["food"]}, 2024),
        training={
            "rows": 5000,
            "train_rows": 3750,
            "holdout_rows": 1250,
            "holdout": "stratified random 25%",
            "label_rate": 0.28123,
            "fingerprint": "ab12",
        },
        seed=42,
        timings={"total_seconds": 3.5},
        metrics={
            "overall": OVERALL,
            "truth": TRUTH,
            "tiers": [
                {"tier": "A", "cutoff": 0.5, "share": 0.1, "exporting_rate": 0.7},
                {"tier": "D", "cutoff": None, "share": 0.4, "exporting_rate": None},
            ],
        },
        baseline_metrics={"overall": {"rows": 1250, "roc_auc": 0.8, "brier": None}},
        model_selection=[
            {
                "model": "glass-box boosting",
                "settings": {"max_leaf_nodes": 3},
                "cv_log_loss": 0.44,
                "chosen": True,
            },
            {"model": "spline logistic baseline", "settings": {"C": 0.1}, "cv_log_loss": 0.45},
        ],
        compiled_max_abs_diff=3.2e-7,
        tiers={"A": 0.5, "B": 0.3, "C": 0.15},
        reference=References(drift={}, explainer={}),
    )


def test_headline_rows_by_hand():
    rows = dict(headline_rows({"overall": OVERALL, "truth": TRUTH}))
    assert rows["holdout rows"] == "1,250"
    assert rows["ROC AUC"] == "0.8123"  # four decimals
    assert rows["log loss"] == "0.4568"
    assert rows["ECE (10 bins)"] == "0.0123"
    assert rows["gap to Bayes AUC"] == "0.0377"
    assert rows["mean |p - p_true|"] == "0.0410"
    assert list(rows)[:8] == [
        "holdout rows", "label rate", "ROC AUC", "PR AUC", "Brier", "log loss", "KS",
        "ECE (10 bins)",
    ]  # fmt: skip


def test_headline_rows_without_truth_or_figures():
    rows = dict(headline_rows({"overall": {"rows": 3}}))
    assert "Bayes AUC (truth)" not in rows
    assert rows["holdout rows"] == "3" and rows["ROC AUC"] == "-"  # absent figures: a dash
    assert dict(headline_rows({}))["holdout rows"] == "0"


def test_card_has_every_section_in_order(manifest):
    card = model_card_markdown(manifest)
    headings = [line for line in card.splitlines() if line.startswith("#")]
    assert headings == [
        "# Model card: export-readiness@v7",
        "## Data",
        "## Holdout metrics",
        "## Tiers (holdout)",
        "## Model selection (5-fold cross-validation on the training rows)",
        "## Compiled scorer",
        "## Known limitations",
        "## Versions",
    ]
    assert card.endswith("\n")


def test_card_values_come_from_the_manifest(manifest):
    lines = model_card_markdown(manifest).splitlines()
    assert "- rows: 5,000 (3,750 training, 1,250 holdout: stratified random 25%)" in lines
    assert "- label rate: 0.281" in lines
    assert "- training-data fingerprint (sha256): `ab12`" in lines
    assert "- seed: 42" in lines
    # Glass-box beside baseline; the baseline's missing and None figures stay empty or '-'.
    assert "| ROC AUC | 0.8123 | 0.8000 |" in lines
    assert "| Brier | 0.1500 | - |" in lines
    assert "| Bayes AUC (truth) | 0.8500 |  |" in lines
    assert "| A | 0.5000 | 0.1000 | 0.7000 |" in lines
    assert "| D | - | 0.4000 | - |" in lines
    assert "| glass-box boosting | {'max_leaf_nodes': 3} | 0.4400 | yes |" in lines
    assert "| spline logistic baseline | {'C': 0.1} | 0.4500 |  |" in lines
    assert "- largest |compiled - pipeline| probability on the holdout: 3.20e-07" in lines
    assert lines[-2:] == ["- numpy: 2.1.0", "- scikit-learn: 1.9.1"]
