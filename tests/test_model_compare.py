"""Tests of champion against challenger (scoring.comparison) and of the commands that use it:
``models compare``, ``promote`` refusing a significantly worse challenger unless ``--force``,
the comparison recorded at training, and ``train --by-year``, through typer's CliRunner."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import QUICK, assert_one_error_line
from sklearn.metrics import log_loss, roc_auc_score
from test_cli_model import _ok, _run

import scoring.training
from scoring.comparison import compare_predictions, worse_on
from scoring.contract import default_contract_path
from scoring.registry import load_model
from scoring.sample import generate_sample, to_english_table


def _saved(stdout: str) -> str:
    match = re.search(r"saved (\S+@\S+)", stdout)
    assert match, stdout
    return match.group(1)


# --- the comparison itself ------------------------------------------------------------------


def _labels_and_probabilities(n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-1, 1.2, n)))
    return (rng.random(n) < p).astype(int), p


def test_a_model_against_itself_differs_by_nothing():
    y, p = _labels_and_probabilities()
    comparison = compare_predictions(y, p, p, rounds=50)
    for metric in ("roc_auc", "log_loss", "ece"):
        row = comparison["metrics"][metric]
        assert row["difference"] == 0 and row["interval"] == [0.0, 0.0]
        assert not row["significantly_worse"]
    assert worse_on(comparison) == [] and comparison["rows"] == 3000


def test_a_noisier_model_is_significantly_worse_and_the_figures_are_its_own():
    y, p = _labels_and_probabilities()
    rng = np.random.default_rng(1)
    noisy = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + rng.normal(0, 1.5, len(p)))))
    comparison = compare_predictions(y, noisy, p, rounds=100)
    auc, loss = comparison["metrics"]["roc_auc"], comparison["metrics"]["log_loss"]
    assert auc["challenger"] == pytest.approx(roc_auc_score(y, noisy))
    assert auc["champion"] == pytest.approx(roc_auc_score(y, p))
    assert loss["difference"] == pytest.approx(log_loss(y, noisy) - log_loss(y, p))
    assert auc["significantly_worse"] and auc["interval"][1] < 0
    assert loss["significantly_worse"] and loss["interval"][0] > 0
    phrases = worse_on(comparison)
    assert phrases[0].startswith(f"roc_auc {auc['challenger']:.4f} against {auc['champion']:.4f}")
    # Swapped, the better model is not worse on anything ranked.
    assert not compare_predictions(y, p, noisy, rounds=100)["metrics"]["roc_auc"][
        "significantly_worse"
    ]


# --- through the command line ---------------------------------------------------------------


def _weak_contract(folder):
    """The packaged contract with a model of three weak features (a clearly worse challenger)."""
    text = default_contract_path().read_text(encoding="utf-8")
    text = re.sub(r"\nfeatures = \[.*?\]\n", '\nfeatures = ["members", "sector", "province"]\n',
                  text, count=1, flags=re.S)  # fmt: skip
    text = text.replace('pairs = [["iso9001", "sector"]]', "pairs = []")
    text = re.sub(r"\[model\.monotonic\]\n(?:[a-z0-9_]+ = -?1\n)+", "[model.monotonic]\n", text)
    path = folder / "weak.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A registry: a good champion and a weak challenger trained after it, and their data."""
    folder = tmp_path_factory.mktemp("compare")
    frame, _ = generate_sample(1500, seed=51)
    data = folder / "labelled.csv"
    to_english_table(frame).to_csv(data, index=False)
    registry = folder / "models"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(scoring.training.train_model.__kwdefaults__, "candidates", QUICK)
        patch.setitem(scoring.training.train_model.__kwdefaults__, "n_threads", 1)
        good = _saved(_ok(_run("train", data, "--registry", registry, "--name", "m")))
        _ok(_run("models", "promote", good, "--registry", registry))
        stdout = _ok(_run(
            "train", data, "--registry", registry, "--name", "m", "--seed", 1,
            "--contract", _weak_contract(folder),
        ))  # fmt: skip
    return {"folder": folder, "data": data, "frame": frame, "registry": registry,
            "good": good, "weak": _saved(stdout), "weak_stdout": stdout}  # fmt: skip


def test_training_compares_a_new_model_with_the_champion_and_the_card_shows_it(world):
    assert "against m@" in world["weak_stdout"] and "this model worse" in world["weak_stdout"]
    loaded = load_model(world["registry"], world["weak"])
    recorded = loaded.manifest.training["champion_comparison"]
    assert recorded["champion"] == world["good"]
    assert recorded["rows"] == loaded.manifest.training["holdout_rows"]
    assert recorded["metrics"]["roc_auc"]["significantly_worse"]
    card = (loaded.path / "model_card.md").read_text(encoding="utf-8")
    assert f"## Against the champion {world['good']}" in card
    assert re.search(r"\| roc_auc \| 0\.\d{4} \| 0\.\d{4} \| -0\.\d{4} \| .* \| yes \|", card)


def test_compare_prints_and_writes_both_models_on_the_same_rows(world, tmp_path):
    out = tmp_path / "comparison.json"
    stdout = _ok(_run(
        "models", "compare", world["weak"], world["good"], world["data"],
        "--registry", world["registry"], "--json", out, "--rounds", 50,
    ))  # fmt: skip
    assert "roc_auc" in stdout and "log_loss" in stdout and "ece" in stdout
    comparison = json.loads(out.read_text(encoding="utf-8"))
    assert comparison["rows"] == 1500 and comparison["rounds"] == 50
    # Independently: each model's analysts' pipeline on the same rows.
    y = world["frame"]["exported_next_year"].to_numpy()
    for role, reference in (("challenger", world["weak"]), ("champion", world["good"])):
        pipeline = load_model(world["registry"], reference).load_pipeline()
        p = pipeline.predict_proba(world["frame"])[:, 1]
        assert comparison["metrics"]["roc_auc"][role] == pytest.approx(roc_auc_score(y, p))
    auc = comparison["metrics"]["roc_auc"]
    assert auc["significantly_worse"] and auc["interval"][1] < 0


def test_promote_refuses_a_significantly_worse_challenger_and_says_why(world):
    before = load_model(world["registry"], "m").reference
    result = _run("models", "promote", world["weak"], "--registry", world["registry"])
    line = assert_one_error_line(result, "refusing to promote", "significantly worse than the "
                                 "champion", "roc_auc", "(see --force)")  # fmt: skip
    assert world["good"] in line
    assert load_model(world["registry"], "m").reference == before == world["good"]
    # With fresh labelled rows the same verdict, the comparison shown first.
    fresh = _run(
        "models", "promote", world["weak"], "--data", world["data"], "--registry",
        world["registry"],
    )  # fmt: skip
    assert fresh.exit_code == 1 and "roc_auc" in fresh.stdout
    assert "refusing to promote" in fresh.stderr


def test_force_promotes_it_anyway(world, tmp_path):
    import shutil

    registry = tmp_path / "models"
    shutil.copytree(world["registry"], registry)
    stdout = _ok(_run("models", "promote", world["weak"], "--force", "--registry", registry))
    assert f"champion is now {world['weak']}" in stdout
    assert load_model(registry, "m").reference == world["weak"]
    # And back: the good model is not worse than the weak one, so no force is needed.
    _ok(_run("models", "promote", world["good"], "--data", world["data"], "--registry", registry))
    assert load_model(registry, "m").reference == world["good"]


def test_train_by_year_backtests_every_year_and_the_card_shows_them(tmp_path, monkeypatch):
    monkeypatch.setitem(scoring.training.train_model.__kwdefaults__, "candidates", QUICK)
    monkeypatch.setitem(scoring.training.train_model.__kwdefaults__, "n_threads", 1)
    frame, _ = generate_sample(1200, seed=52)
    frame["data_year"] = np.repeat([2022.0, 2023.0, 2024.0], 400)
    data = tmp_path / "years.csv"
    to_english_table(frame).to_csv(data, index=False)
    stdout = _ok(_run(
        "train", data, "--registry", tmp_path / "models", "--by-year", "--learner", "boosting",
        "--learner", "spline", "--no-refit",
    ))  # fmt: skip
    assert "backtest by year" in stdout
    loaded = load_model(tmp_path / "models", _saved(stdout))
    rows = loaded.manifest.training["backtest"]
    assert [(r["train_years"], r["test_year"], r["train_rows"], r["test_rows"]) for r in rows] == [
        ([2022, 2022], 2023, 400, 400), ([2022, 2023], 2024, 800, 400),
    ]  # fmt: skip
    assert all(0.5 < r["roc_auc"] < 1 and r["learner"] for r in rows)
    # --no-refit: the registered model is the measured one.
    assert (
        loaded.manifest.training["fits"]["registered_model"] == "the fit on the 800 training rows"
    )
    card = (loaded.path / "model_card.md").read_text(encoding="utf-8")
    assert "## Backtest by year (train on the years up to t, test on the next)" in card
    assert re.search(r"\| 2022-2023 \| 2024 \| 800 / 400 \| 0\.\d{4} \|", card)
