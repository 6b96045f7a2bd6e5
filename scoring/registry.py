"""The model registry: versioned, hashed, optionally signed model folders.

Layout::

    models/NAME/VERSION/scorer.json      compiled tables (data only: what score and plan load)
    models/NAME/VERSION/pipeline.joblib  the scikit-learn pipeline (a pickle, for analysts)
    models/NAME/VERSION/holdout.parquet  holdout labels and predictions (for the model card)
    models/NAME/VERSION/manifest.json    sha256 of every file, versions, contract, metrics ...,
                                         and a checksum of its own content
    models/NAME/VERSION/model_card.md
    models/NAME/CHAMPION                 the promoted version (replaced atomically)

A version is ``UTC timestamp + short hash`` and sorts by time. A model folder is built under a
temporary name and renamed into place, so readers never see half a model and two trainings at
once both land. Loading checks the manifest's own checksum and every file's sha256 against the
manifest before reading it, and the manifest's HMAC-SHA256 signature when a signing key is
given; a changed, missing or foreign file is refused. The joblib pipeline is only unpickled
after its hash is verified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import platform
import re
import secrets
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scoring.compiled import CompiledScorer
from scoring.contract import Contract, contract_from_dict
from scoring.errors import ModelError, RegistryError
from scoring.modelcard import model_card_markdown
from scoring.writing import atomic_path, json_default

__all__ = [
    "LoadedModel",
    "library_versions",
    "list_models",
    "load_model",
    "promote_model",
    "resolve_reference",
    "save_model",
    "verify_model",
]

MANIFEST = "manifest.json"
CHAMPION = "CHAMPION"
SCORER = "scorer.json"
PIPELINE = "pipeline.joblib"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class LoadedModel:
    """A verified model: its manifest, contract and compiled scorer (no pickle loaded)."""

    name: str
    version: str
    path: Path
    manifest: dict[str, Any]
    contract: Contract
    scorer: CompiledScorer
    warnings: list[str]

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.version}"

    def load_pipeline(self) -> Any:
        """Unpickle the scikit-learn pipeline, after checking its hash again."""
        import joblib

        path = self.path / PIPELINE
        _check_file(path, self.manifest["files"].get(PIPELINE), self.reference)
        return joblib.load(path)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on."""
    import pandas
    import pyarrow
    import sklearn

    from scoring import __version__

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "scikit-learn": sklearn.__version__,
        "pyarrow": pyarrow.__version__,
        "export-readiness": __version__,
    }


def save_model(
    result: Any,
    contract: Contract,
    registry: str | Path,
    *,
    name: str = "export-readiness",
    signing_key: bytes | None = None,
    model_card: str | None = None,
    created: dt.datetime | None = None,
) -> str:
    """Write a trained model into the registry; returns its reference ``NAME@VERSION``.

    ``result`` is a :class:`scoring.training.TrainingResult`.
    """
    import joblib

    if not _NAME.match(name):
        raise RegistryError(
            f"model name '{name}' is invalid: use letters, digits, '.', '_' or '-' (max 64)"
        )
    registry = Path(registry)
    family = registry / name
    family.mkdir(parents=True, exist_ok=True)
    created = created or dt.datetime.now(dt.UTC)
    staging = _new_folder(family, ".staging-")
    try:
        scorer_text = json.dumps(result.scorer.to_dict())
        (staging / SCORER).write_text(scorer_text, encoding="utf-8")
        joblib.dump(result.pipeline, staging / PIPELINE)
        result.holdout.to_parquet(staging / "holdout.parquet", index=False)
        version = created.strftime("%Y%m%dT%H%M%S%fZ") + "-" + _sha256_text(scorer_text)[:8]
        manifest = _manifest(result, contract, name, version, created)
        while True:
            _seal(staging, manifest, version, model_card, signing_key)
            target = family / version
            try:
                os.rename(staging, target)
                break
            except OSError:
                if not target.exists():
                    raise
                # Another training took this version in the same instant: take another name
                # (and rewrite what names it: the card, the manifest, its checksum, signature).
                version = f"{version}-{uuid.uuid4().hex[:4]}"
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return f"{name}@{version}"


def resolve_reference(registry: str | Path, reference: str) -> tuple[str, str]:
    """``NAME@VERSION`` as is; ``NAME`` as its champion, else its latest version."""
    registry = Path(registry)
    name, _, version = reference.partition("@")
    family = registry / name
    if not name or not _NAME.match(name) or not family.is_dir():
        known = ", ".join(sorted(_families(registry))) or "none"
        raise ModelError(f"unknown model '{reference}' in {registry} (models: {known})")
    versions = _versions(family)
    if version:
        if version not in versions:
            raise ModelError(
                f"model '{name}' has no version '{version}' "
                f"(latest: {versions[-1] if versions else 'none'})"
            )
        return name, version
    champion = family / CHAMPION
    if champion.is_file():
        version = champion.read_text(encoding="utf-8").strip()
        if version in versions:
            return name, version
    if not versions:
        raise ModelError(f"model '{name}' has no trained version in {registry}")
    return name, versions[-1]


def load_model(
    registry: str | Path, reference: str = "export-readiness", *, signing_key: bytes | None = None
) -> LoadedModel:
    """Verify a model's files and load its compiled scorer (nothing executable is loaded).

    Raises
    ------
    ModelError
        Unknown reference, a changed, missing or foreign file, or a bad signature.
    """
    name, version = resolve_reference(registry, reference)
    path = Path(registry) / name / version
    manifest = _verified_manifest(path, f"{name}@{version}", signing_key)
    scorer = CompiledScorer.from_dict(json.loads((path / SCORER).read_text(encoding="utf-8")))
    contract = contract_from_dict(manifest["contract"], origin=f"{name}@{version}")
    return LoadedModel(name, version, path, manifest, contract, scorer, _version_warnings(manifest))


def verify_model(
    registry: str | Path, reference: str, *, signing_key: bytes | None = None
) -> list[dict[str, Any]]:
    """Check every file of a model; one row per file (and the signature), none raising."""
    name, version = resolve_reference(registry, reference)
    path = Path(registry) / name / version
    rows: list[dict[str, Any]] = []
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [{"file": MANIFEST, "ok": False, "detail": f"unreadable: {exc}"}]
    ok = _checksum_ok(manifest)
    rows.append({"file": MANIFEST, "ok": ok, "detail": "checksum ok" if ok else "checksum differs"})
    expected = manifest.get("files", {})
    for file in sorted(set(expected) | {p.name for p in path.iterdir() if p.name != MANIFEST}):
        target = path / file
        if file not in expected:
            rows.append({"file": file, "ok": False, "detail": "not in the manifest (foreign)"})
        elif not target.is_file():
            rows.append({"file": file, "ok": False, "detail": "missing"})
        else:
            actual = _sha256_file(target)
            ok = hmac.compare_digest(actual, expected[file])
            rows.append({"file": file, "ok": ok, "detail": "sha256 ok" if ok else "sha256 differs"})
    if signing_key:
        signature = manifest.get("signature")
        ok = bool(signature) and hmac.compare_digest(signature, _sign(manifest, signing_key))
        detail = "valid" if ok else ("missing" if not signature else "does not match")
        rows.append({"file": "signature", "ok": ok, "detail": f"HMAC-SHA256 {detail}"})
    for warning in _version_warnings(manifest):
        rows.append({"file": "libraries", "ok": True, "detail": warning})
    return rows


def promote_model(registry: str | Path, reference: str) -> str:
    """Make a version its family's champion (atomic pointer replace); returns ``NAME@VERSION``."""
    name, version = resolve_reference(registry, reference)
    family = Path(registry) / name
    _verified_manifest(family / version, f"{name}@{version}", None)
    with atomic_path(family / CHAMPION) as temporary:
        temporary.write_text(version + "\n", encoding="utf-8")
    return f"{name}@{version}"


def list_models(registry: str | Path) -> list[dict[str, Any]]:
    """Every version in the registry, newest first per model, with its headline metrics."""
    registry = Path(registry)
    rows = []
    for name in sorted(_families(registry)):
        family = registry / name
        champion = (family / CHAMPION).read_text().strip() if (family / CHAMPION).is_file() else ""
        for version in reversed(_versions(family)):
            try:
                manifest = json.loads((family / version / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                rows.append({"name": name, "version": version, "status": "unreadable manifest"})
                continue
            overall = manifest.get("metrics", {}).get("overall", {})
            rows.append(
                {
                    "name": name,
                    "version": version,
                    "created": manifest.get("created", ""),
                    "champion": version == champion,
                    "rows": manifest.get("training", {}).get("rows"),
                    "roc_auc": overall.get("roc_auc"),
                    "ece": overall.get("ece"),
                    "signed": "signature" in manifest,
                }
            )
    return rows


def _manifest(
    result: Any, contract: Contract, name: str, version: str, created: dt.datetime
) -> dict[str, Any]:
    return {
        "format": "readiness.model",
        "format_version": 1,
        "name": name,
        "version": version,
        "created": created.isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "contract": contract.to_dict(),
        "features": result.feature_config,
        "training": result.training,
        "seed": result.seed,
        "timings": result.timings,
        "metrics": result.metrics,
        "baseline_metrics": result.baseline_metrics,
        "model_selection": result.candidates,
        "compiled_max_abs_diff": result.compiled_max_abs_diff,
        "tiers": dict(contract.tiers),
        "reference": {"drift": result.drift_reference, "explainer": result.explainer},
    }


def _new_folder(folder: Path, prefix: str) -> Path:
    """Create a new, uniquely named folder in ``folder``, with the permissions the umask gives
    (tempfile's are owner-only: a shared registry would be unreadable to others)."""
    for _ in range(100):
        candidate = folder / f"{prefix}{secrets.token_hex(6)}"
        try:
            candidate.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return candidate
    raise RegistryError(f"cannot create a temporary {prefix!r} folder in {folder}")


def _seal(
    staging: Path,
    manifest: dict[str, Any],
    version: str,
    model_card: str | None,
    signing_key: bytes | None,
) -> None:
    """Write the card and manifest of ``version`` in ``staging``: hashes, checksum, signature."""
    manifest["version"] = version
    for key in ("files", "checksum", "signature"):
        manifest.pop(key, None)
    card = model_card if model_card is not None else model_card_markdown(manifest)
    (staging / "model_card.md").write_text(card, encoding="utf-8")
    files = {p.name: _sha256_file(p) for p in sorted(staging.iterdir()) if p.name != MANIFEST}
    # What is written is what a reader parses back: checksum and signature cover exactly that.
    sealed = json.loads(json.dumps(manifest, ensure_ascii=False, default=json_default))
    sealed["files"] = files
    sealed["checksum"] = _checksum(sealed)
    if signing_key:
        sealed["signature"] = _sign(sealed, signing_key)
    (staging / MANIFEST).write_text(
        json.dumps(sealed, indent=2, ensure_ascii=False, default=json_default) + "\n",
        encoding="utf-8",
    )


def _verified_manifest(path: Path, reference: str, signing_key: bytes | None) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"model {reference}: manifest is missing or unreadable ({exc})") from None
    if manifest.get("format") != "readiness.model":
        raise ModelError(f"model {reference}: {MANIFEST} is not a readiness model manifest")
    if "checksum" not in manifest:
        raise ModelError(
            f"model {reference}: {MANIFEST} has no checksum (changed, or written before "
            "checksums were added); refusing to load it - retrain the model"
        )
    if not _checksum_ok(manifest):
        raise ModelError(
            f"model {reference}: {MANIFEST} has changed since training (its checksum differs); "
            "refusing to load it - retrain or restore the file"
        )
    if signing_key:
        signature = manifest.get("signature")
        if not signature:
            raise ModelError(
                f"model {reference} is not signed but a signing key is set; retrain it with "
                "READINESS_SIGNING_KEY set, or unset the key to accept unsigned models"
            )
        if not hmac.compare_digest(signature, _sign(manifest, signing_key)):
            raise ModelError(
                f"model {reference}: manifest signature does not match the signing key; "
                "the model was changed or signed with another key"
            )
    expected = manifest.get("files", {})
    present = {p.name for p in path.iterdir() if p.name != MANIFEST}
    foreign = sorted(present - set(expected))
    if foreign:
        raise ModelError(
            f"model {reference}: file(s) {foreign} are not in the manifest; refusing a foreign file"
        )
    for file, digest in expected.items():
        _check_file(path / file, digest, reference)
    return manifest


def _check_file(path: Path, digest: str | None, reference: str) -> None:
    if digest is None:
        raise ModelError(f"model {reference}: {path.name} is not in the manifest")
    if not path.is_file():
        raise ModelError(f"model {reference}: {path.name} is missing")
    if not hmac.compare_digest(_sha256_file(path), digest):
        raise ModelError(
            f"model {reference}: {path.name} has changed since training (sha256 differs); "
            "refusing to load it - retrain or restore the file"
        )


def _version_warnings(manifest: dict[str, Any]) -> list[str]:
    trained = manifest.get("libraries", {})
    installed = library_versions()
    warnings = []
    for library in ("scikit-learn", "numpy", "pandas"):
        if trained.get(library) and trained[library] != installed.get(library):
            warnings.append(
                f"trained with {library} {trained[library]}, running {installed.get(library)}: "
                "the compiled scorer is unaffected; the joblib pipeline may not load"
            )
    return warnings


def _checksum(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's content (without checksum and signature), canonical JSON.

    A file cannot hold its own hash, so the manifest carries the hash of what it says: a
    changed value is refused like a changed file. (Only the signature resists a forger, who
    can recompute this.)
    """
    body = {k: v for k, v in manifest.items() if k not in ("checksum", "signature")}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=json_default)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _checksum_ok(manifest: dict[str, Any]) -> bool:
    stored = manifest.get("checksum")
    return isinstance(stored, str) and hmac.compare_digest(stored, _checksum(manifest))


def _sign(manifest: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=json_default)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _families(registry: Path) -> list[str]:
    if not registry.is_dir():
        return []
    return [p.name for p in registry.iterdir() if p.is_dir() and _NAME.match(p.name)]


def _versions(family: Path) -> list[str]:
    return sorted(p.name for p in family.iterdir() if p.is_dir() and not p.name.startswith("."))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
