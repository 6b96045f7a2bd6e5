"""Tests of the model registry (scoring.registry): round trip, hashes, signatures, champions,
and two trainings landing at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from scoring.contract import load_contract
from scoring.errors import ModelError
from scoring.registry import (
    list_models,
    load_model,
    promote_model,
    resolve_reference,
    save_model,
    verify_model,
)
from scoring.sample import generate_sample, to_english_table

ARTIFACTS = ("scorer.json", "pipeline.joblib", "holdout.parquet", "model_card.md")
ROOT = Path(__file__).resolve().parents[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _folder(registry: Path, reference: str) -> Path:
    name, version = reference.split("@")
    return registry / name / version


@pytest.fixture
def copy(trained, tmp_path):
    """A private copy of the session registry: ``(registry, reference, folder)``."""
    registry, reference, _ = trained
    target = tmp_path / "registry"
    shutil.copytree(registry, target)
    return target, reference, _folder(target, reference)


def _one_line_refusal(registry: Path, reference: str, **kwargs) -> str:
    with pytest.raises(ModelError) as caught:
        load_model(registry, reference, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message, message
    return message


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _write_manifest(folder: Path, manifest: dict) -> None:
    """Rewrite a manifest as someone who knows the format would, keeping it self-consistent:
    the checksum (if the format has one) is recomputed; a signature cannot be."""
    if "checksum" in manifest:
        body = {k: v for k, v in manifest.items() if k not in ("checksum", "signature")}
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
        manifest["checksum"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )


# --- round trip -----------------------------------------------------------------------------


def test_save_then_load_round_trips_the_model(trained, sample_frames):
    registry, reference, result = trained
    loaded = load_model(registry, reference)
    assert loaded.reference == reference and loaded.warnings == []
    assert loaded.scorer.to_dict() == result.scorer.to_dict()
    X = result.pipeline[0].transform(sample_frames[0])
    np.testing.assert_array_equal(loaded.scorer.logit(X), result.scorer.logit(X))
    # The analysts' pipeline comes back too, and predicts what it predicted before saving.
    pipeline = loaded.load_pipeline()
    np.testing.assert_array_equal(
        pipeline.predict_proba(sample_frames[0]), result.pipeline.predict_proba(sample_frames[0])
    )
    assert loaded.contract.tiers == load_contract().tiers


def test_the_manifest_holds_what_the_design_promises(trained):
    registry, reference, result = trained
    folder = _folder(registry, reference)
    manifest = _manifest(folder)
    # sha256 of every file, computed here independently.
    assert set(manifest["files"]) == set(ARTIFACTS)
    for name in ARTIFACTS:
        assert manifest["files"][name] == _sha256(folder / name), name
    assert {"python", "numpy", "pandas", "scikit-learn"} <= set(manifest["libraries"])
    assert manifest["training"]["rows"] == 3000
    assert manifest["training"]["label_rate"] == pytest.approx(result.training["label_rate"])
    assert len(manifest["training"]["fingerprint"]) == 64
    assert manifest["features"]["features"] == list(load_contract().model.features)
    assert manifest["tiers"] == {"A": 0.5, "B": 0.3, "C": 0.15}
    assert manifest["seed"] == 0
    assert manifest["metrics"]["overall"]["roc_auc"] == pytest.approx(
        result.metrics["overall"]["roc_auc"], abs=0
    )
    assert set(manifest["reference"]) == {"drift", "explainer"}
    assert manifest["contract"]["tiers"]["A"] == 0.5
    # The version sorts by time: a UTC timestamp, then a short hash.
    version = reference.split("@")[1]
    stamp = dt.datetime.strptime(version[:22], "%Y%m%dT%H%M%S%fZ")
    assert abs(dt.datetime.now() - stamp) < dt.timedelta(days=2)
    assert f"{reference}" in (folder / "model_card.md").read_text(encoding="utf-8")


def test_verify_reports_every_file_ok(trained):
    registry, reference, _ = trained
    rows = verify_model(registry, reference)
    assert rows and all(row["ok"] for row in rows), rows
    assert set(ARTIFACTS) <= {row["file"] for row in rows}


# --- changed, foreign and missing files -----------------------------------------------------


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_a_changed_byte_in_any_artifact_is_refused(copy, artifact):
    registry, reference, folder = copy
    _flip_a_byte(folder / artifact)
    message = _one_line_refusal(registry, reference)
    assert artifact in message and "changed" in message
    row = next(r for r in verify_model(registry, reference) if r["file"] == artifact)
    assert not row["ok"] and "differs" in row["detail"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"A": 0.5', '"A": 0.9'),  # a tier cut-off (valid JSON, different meaning)
        ('"min": 1900', '"min": 1901'),  # a contract rule
        ('"format": "readiness.model"', '"format": "readiness.modem"'),
    ],
)
def test_a_changed_value_in_the_manifest_is_refused(copy, old, new):
    registry, reference, folder = copy
    path = folder / "manifest.json"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    message = _one_line_refusal(registry, reference)
    assert "manifest" in message
    assert not all(row["ok"] for row in verify_model(registry, reference))


def test_a_manifest_without_its_checksum_is_refused(copy):
    registry, reference, folder = copy
    manifest = _manifest(folder)
    assert len(manifest.pop("checksum")) == 64
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert "no checksum" in _one_line_refusal(registry, reference)


def test_a_broken_manifest_is_refused(copy):
    registry, reference, folder = copy
    path = folder / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b"{", b"[", 1))
    assert "manifest" in _one_line_refusal(registry, reference)


def test_a_foreign_file_is_refused(copy):
    registry, reference, folder = copy
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    message = _one_line_refusal(registry, reference)
    assert "notes.txt" in message and "foreign" in message
    row = next(r for r in verify_model(registry, reference) if r["file"] == "notes.txt")
    assert not row["ok"]


def test_a_missing_file_is_refused(copy):
    registry, reference, folder = copy
    (folder / "holdout.parquet").unlink()
    assert "holdout.parquet is missing" in _one_line_refusal(registry, reference)


def test_the_pipeline_is_checked_again_before_unpickling(copy):
    registry, reference, folder = copy
    loaded = load_model(registry, reference)
    _flip_a_byte(folder / "pipeline.joblib")  # changed after the model was loaded
    with pytest.raises(ModelError, match=r"pipeline\.joblib has changed"):
        loaded.load_pipeline()


# --- signatures -----------------------------------------------------------------------------

KEY, OTHER_KEY = b"analyst-key", b"someone-else"


@pytest.fixture
def signed(trained, tmp_path):
    _, _, result = trained
    registry = tmp_path / "signed"
    reference = save_model(result, load_contract(), registry, signing_key=KEY)
    return registry, reference, _folder(registry, reference)


def test_a_signed_model_loads_with_its_key(signed):
    registry, reference, folder = signed
    assert load_model(registry, reference, signing_key=KEY).reference == reference
    manifest = _manifest(folder)
    body = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    expected = hmac.new(KEY, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    assert manifest["signature"] == expected  # HMAC-SHA256 of the manifest, checked here
    rows = verify_model(registry, reference, signing_key=KEY)
    assert all(row["ok"] for row in rows) and any(row["file"] == "signature" for row in rows)


def test_another_key_is_refused(signed):
    registry, reference, _ = signed
    assert "signature" in _one_line_refusal(registry, reference, signing_key=OTHER_KEY)
    rows = verify_model(registry, reference, signing_key=OTHER_KEY)
    assert not next(r for r in rows if r["file"] == "signature")["ok"]


def test_an_unsigned_model_is_refused_when_a_key_is_set(copy):
    registry, reference, _ = copy
    assert "not signed" in _one_line_refusal(registry, reference, signing_key=KEY)


def test_a_manifest_re_signed_with_another_key_is_refused(signed):
    registry, reference, folder = signed
    manifest = _manifest(folder)
    manifest["tiers"]["A"] = 0.1  # what a forger would want
    manifest.pop("signature")
    _write_manifest(folder, manifest)  # a consistent checksum ...
    manifest = _manifest(folder)
    canonical = json.dumps(manifest, sort_keys=True, ensure_ascii=False)
    manifest["signature"] = hmac.new(OTHER_KEY, canonical.encode(), hashlib.sha256).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")  # ... signed
    assert load_model(registry, reference, signing_key=OTHER_KEY).manifest.tiers["A"] == 0.1
    assert "signature does not match" in _one_line_refusal(registry, reference, signing_key=KEY)


def test_a_file_swapped_together_with_its_manifest_hash_is_refused(signed, trained):
    registry, reference, folder = signed
    # Swap in another model's holdout file and update its hash, as an attacker would.
    other = _folder(trained[0], trained[1]) / "holdout.parquet"
    swapped = folder / "holdout.parquet"
    data = bytearray(other.read_bytes())
    data[-20] ^= 0xFF
    swapped.write_bytes(bytes(data))
    manifest = _manifest(folder)
    manifest["files"]["holdout.parquet"] = _sha256(swapped)
    _write_manifest(folder, manifest)
    # The hashes agree, so only the signature can tell: without the key it loads ...
    assert load_model(registry, reference).reference == reference
    # ... with the key it is refused.
    assert "signature" in _one_line_refusal(registry, reference, signing_key=KEY)


# --- champion, latest, unknown references ---------------------------------------------------


def _two_versions(result, registry: Path) -> tuple[str, str]:
    contract = load_contract()
    first = save_model(
        result, contract, registry, name="m", created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    )
    second = save_model(
        result, contract, registry, name="m", created=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    )
    return first, second


def test_name_resolves_to_the_latest_without_a_champion_then_to_the_champion(trained, tmp_path):
    first, second = _two_versions(trained[2], tmp_path)
    assert first < second
    assert resolve_reference(tmp_path, "m") == ("m", second.split("@")[1])
    assert load_model(tmp_path, "m").reference == second
    assert promote_model(tmp_path, first) == first
    assert (tmp_path / "m" / "CHAMPION").read_text().strip() == first.split("@")[1]
    assert load_model(tmp_path, "m").reference == first
    assert [r["champion"] for r in list_models(tmp_path)] == [False, True]  # newest first
    promote_model(tmp_path, "m@" + second.split("@")[1])
    assert load_model(tmp_path, "m").reference == second
    assert [r["version"] for r in list_models(tmp_path) if r["champion"]] == [second.split("@")[1]]
    # No temporary pointer files are left behind.
    assert sorted(p.name for p in (tmp_path / "m").iterdir() if p.is_file()) == ["CHAMPION"]


def test_a_changed_model_cannot_be_promoted(trained, tmp_path):
    first, _ = _two_versions(trained[2], tmp_path)
    _flip_a_byte(_folder(tmp_path, first) / "scorer.json")
    with pytest.raises(ModelError, match="changed"):
        promote_model(tmp_path, first)
    assert not (tmp_path / "m" / "CHAMPION").exists()


def test_unknown_references_are_refused_listing_the_models(trained):
    registry, _, _ = trained
    with pytest.raises(ModelError) as caught:
        load_model(registry, "nope")
    assert "unknown model 'nope'" in str(caught.value)
    assert "export-readiness" in str(caught.value)  # the models there are listed
    with pytest.raises(ModelError, match="has no version '20990101'"):
        load_model(registry, "export-readiness@20990101")
    with pytest.raises(ModelError, match=r"models: none"):
        load_model(registry / "empty", "export-readiness")


def test_two_saves_in_the_same_instant_both_land(trained, tmp_path):
    _, _, result = trained
    instant = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    contract = load_contract()
    first = save_model(result, contract, tmp_path, created=instant, signing_key=KEY)
    second = save_model(result, contract, tmp_path, created=instant, signing_key=KEY)
    assert first != second
    for reference in (first, second):
        loaded = load_model(tmp_path, reference, signing_key=KEY)
        assert loaded.manifest.version == reference.split("@")[1]
        assert all(row["ok"] for row in verify_model(tmp_path, reference, signing_key=KEY))
        card = (_folder(tmp_path, reference) / "model_card.md").read_text(encoding="utf-8")
        assert f"# Model card: {reference}\n" in card


# --- two trainings at once ------------------------------------------------------------------

_TRAIN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import QUICK
    from scoring import training
    training.train_model.__kwdefaults__["candidates"] = QUICK  # the real command, tiny model
    training.train_model.__kwdefaults__["n_threads"] = 1  # see the report: 2 threads crawl here
    from scoring.cli import main
    sys.argv = ["readiness", "train", {data!r}, "--registry", {registry!r}, "--name", "race",
                "--seed", sys.argv[1]]
    main()
    """
)


@pytest.mark.slow
def test_two_concurrent_trainings_both_land_intact(tmp_path):
    frame, _ = generate_sample(800, seed=5)
    data = tmp_path / "labelled.csv"
    to_english_table(frame).to_csv(data, index=False)
    registry = tmp_path / "models"
    script = _TRAIN.format(tests=str(ROOT / "tests"), data=str(data), registry=str(registry))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("READINESS_SIGNING_KEY", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, seed],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "1")  # the same seed: the same scorer, so the versions differ by time
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert "saved race@" in stdout
    rows = list_models(registry)
    assert len(rows) == 2 and {r["name"] for r in rows} == {"race"}
    for row in rows:
        reference = f"race@{row['version']}"
        assert all(r["ok"] for r in verify_model(registry, reference)), reference
        assert load_model(registry, reference).manifest.training["rows"] == 800
    leftovers = [p.name for p in (registry / "race").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_shared_registry_is_readable_by_others_as_the_umask_allows(trained, tmp_path):
    """Model folders and the champion pointer get the umask's permissions, not tempfile's
    owner-only ones: officers scoring under another account must be able to read them."""
    previous = os.umask(0o022)
    try:
        first, _ = _two_versions(trained[2], tmp_path)
        promote_model(tmp_path, first)
    finally:
        os.umask(previous)
    folder = _folder(tmp_path, first)
    assert folder.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "m" / "CHAMPION").stat().st_mode & 0o777 == 0o644
    assert (folder / "scorer.json").stat().st_mode & 0o777 == 0o644
