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
    lines += _feature_lines(manifest)
    lines += _training_sections(training)
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


def _feature_lines(manifest: Manifest) -> list[str]:
    """The model's derived features with the contract expression computing each (none: no
    section, as for contracts stored before features were expressions)."""
    derived = manifest.contract.get("model", {}).get("derived", {})
    used = [name for name in manifest.features.features if name in derived]
    if not used:
        return []
    return ["", "## Derived features", *(f"- {name} = `{derived[name]}`" for name in used)]


def _training_sections(training: dict[str, Any]) -> list[str]:
    """Which fit the figures come from, the backtest by year and the champion comparison, when
    training recorded them (older models did not)."""
    lines: list[str] = []
    fits = training.get("fits")
    if fits:
        lines += ["", "## Fits", f"- holdout metrics: {fits['holdout_metrics']}"]
        lines.append(f"- registered model (tables, pipeline): {fits['registered_model']}")
        if training.get("learner"):
            lines.append(f"- learner: {training['learner']}")
    backtest = training.get("backtest")
    if backtest:
        lines += ["", "## Backtest by year (train on the years up to t, test on the next)"]
        lines += ["| trained on | tested on | rows (train / test) | ROC AUC | log loss | ECE |"]
        lines.append("|---|---|---|---|---|---|")
        for row in backtest:
            first, last = row["train_years"]
            figures = " | ".join(_fmt(row.get(m)) for m in ("roc_auc", "log_loss", "ece"))
            rows = f"{row['train_rows']:,} / {row['test_rows']:,}"
            lines.append(f"| {first}-{last} | {row['test_year']} | {rows} | {figures} |")
    comparison = training.get("champion_comparison")
    if comparison:
        lines += [
            "",
            f"## Against the champion {comparison['champion']}",
            f"On this model's {comparison['rows']:,} holdout rows (the champion may have been "
            "trained on some of them), paired bootstrap of this model minus the champion:",
            "| metric | this model | champion | difference | 95% interval | significantly worse |",
            "|---|---|---|---|---|---|",
        ]
        for metric, row in comparison["metrics"].items():
            low, high = row["interval"]
            lines.append(
                f"| {metric} | {_fmt(row['challenger'])} | {_fmt(row['champion'])} | "
                f"{row['difference']:+.4f} | {low:+.4f} to {high:+.4f} | "
                f"{'yes' if row['significantly_worse'] else 'no'} |"
            )
    return lines


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
