"""The Markdown model card written beside every trained model, and the metrics summary lines.

Computing lives in :mod:`scoring.training` and :mod:`scoring.evaluation`; this module only
presents their numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scoring.manifest import Manifest

__all__ = ["headline_rows", "model_card_markdown"]


def headline_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """The holdout figures a person reads first, as ``(label, value)`` pairs."""
    overall = metrics.get("overall", {})
    rows = [
        ("holdout rows", f"{overall.get('rows', 0):,}"),
        ("label rate", _fmt(overall.get("label_rate"))),
        ("ROC AUC", _fmt(overall.get("roc_auc"))),
        ("PR AUC", _fmt(overall.get("pr_auc"))),
        ("Brier", _fmt(overall.get("brier"))),
        ("log loss", _fmt(overall.get("log_loss"))),
        ("KS", _fmt(overall.get("ks"))),
        ("ECE (10 bins)", _fmt(overall.get("ece"))),
    ]
    truth = metrics.get("truth")
    if truth:
        rows += [
            ("Bayes AUC (truth)", _fmt(truth["bayes_auc"])),
            ("gap to Bayes AUC", _fmt(truth["auc_gap"])),
            ("mean |p - p_true|", _fmt(truth["mean_abs_error"])),
        ]
    return rows


def model_card_markdown(manifest: Manifest) -> str:
    """A short Markdown card from a model manifest."""
    training = manifest.training
    lines = [
        f"# Model card: {manifest.name}@{manifest.version}",
        "",
        "Calibrated probability that a production cooperative exports within the next 12 "
        "months, from registry data. A glass-box model: additive boosted trees (one feature per "
        "tree, plus the declared pairs), bagged over cross-validation folds, Platt-calibrated, "
        "compiled to lookup tables. Every score decomposes exactly into feature contributions.",
        "",
        "## Data",
        f"- rows: {training['rows']:,} ({training['train_rows']:,} training, "
        f"{training['holdout_rows']:,} holdout: {training['holdout']})",
        f"- label rate: {training['label_rate']:.3f}",
        f"- training-data fingerprint (sha256): `{training['fingerprint']}`",
        f"- seed: {manifest.seed}",
        "",
        "## Holdout metrics",
        "| metric | glass-box | baseline (splines + logistic) |",
        "|---|---|---|",
    ]
    baseline = dict(headline_rows(manifest.baseline_metrics))
    for label, value in headline_rows(manifest.metrics):
        lines.append(f"| {label} | {value} | {baseline.get(label, '')} |")
    lines += [
        "",
        "## Tiers (holdout)",
        "| tier | cut-off | share | exporting rate |",
        "|---|---|---|---|",
    ]
    for tier in manifest.metrics.get("tiers", []):
        lines.append(
            f"| {tier['tier']} | {_fmt(tier['cutoff'])} | {_fmt(tier['share'])} | "
            f"{_fmt(tier['exporting_rate'])} |"
        )
    lines += ["", "## Model selection (5-fold cross-validation on the training rows)"]
    lines += ["| model | settings | CV log loss | chosen |", "|---|---|---|---|"]
    for row in manifest.model_selection:
        lines.append(
            f"| {row['model']} | {row['settings']} | {_fmt(row['cv_log_loss'])} | "
            f"{'yes' if row.get('chosen') else ''} |"
        )
    lines += [
        "",
        "## Compiled scorer",
        f"- largest |compiled - pipeline| probability on the holdout: "
        f"{manifest.compiled_max_abs_diff:.2e}",
        "",
        "## Known limitations",
        "- Learnt from registry records: a cooperative unlike any in training (a new sector, "
        "an extreme size) gets the nearest learnt value, not an extrapolation.",
        "- Calibration holds for the population it was trained on; check drift (PSI) when "
        "scoring a different year or region.",
        "- Reasons compare with the median exporting cooperative; they say what the model "
        "weighs, not what causes exporting.",
        "",
        "## Versions",
        *[f"- {k}: {v}" for k, v in manifest.libraries.items()],
        "",
    ]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
