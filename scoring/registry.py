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
import functools
import hashlib
import hmac
import io
import json
import os
import platform
import re
import secrets
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scoring.compiled import CompiledScorer
from scoring.contract import Contract, contract_from_dict
from scoring.errors import ModelError, RegistryError
from scoring.manifest import FORMAT, Manifest, References
from scoring.modelcard import model_card_markdown
from scoring.writing import atomic_path, json_default

if TYPE_CHECKING:
    from scoring.training import TrainingResult

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
    manifest: Manifest
    contract: Contract
    scorer: CompiledScorer
    warnings: list[str]

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.version}"

    def load_pipeline(self) -> Any:
        """Unpickle the scikit-learn pipeline from bytes whose hash was checked just before."""
        import joblib

        data = _verified_bytes(
            self.path / PIPELINE, self.manifest.files.get(PIPELINE), self.reference
        )
        return joblib.load(io.BytesIO(data))


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on: an imported library's own
    ``__version__``, else the installed metadata (so that loading a model to score never
    imports scikit-learn). Read once a process: every model load compares them."""
    return dict(_library_versions())


@functools.cache
def _library_versions() -> tuple[tuple[str, str], ...]:
    from scoring import __version__

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    modules = {"pandas": "pandas", "scikit-learn": "sklearn", "pyarrow": "pyarrow"}
    for library, module in modules.items():
        imported = sys.modules.get(module)
        if imported is not None and isinstance(getattr(imported, "__version__", None), str):
            versions[library] = imported.__version__
            continue
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:  # pragma: no cover - a broken install
            versions[library] = "not installed"
    versions["export-readiness"] = __version__
    return tuple(versions.items())


def save_model(
    result: TrainingResult,
    contract: Contract,
    registry: str | Path,
    *,
    name: str = "export-readiness",
    signing_key: bytes | None = None,
    model_card: str | None = None,
    created: dt.datetime | None = None,
) -> str:
    """Write a trained model into the registry; returns its reference ``NAME@VERSION``."""
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
        version = (
            created.strftime("%Y%m%dT%H%M%S%fZ") + "-" + _sha256_bytes(scorer_text.encode())[:8]
        )
        manifest = _manifest(result, contract, name, version, created)
        while True:
            _seal(staging, manifest.replace(version=version), model_card, signing_key)
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
    """``NAME@VERSION`` as is; ``NAME`` as its champion, else its latest version.

    Raises
    ------
    ModelError
        An unknown name or version, or a ``CHAMPION`` pointer that names no version of the
        model (corrupted or edited by hand): refused rather than silently replaced.
    """
    registry = Path(registry)
    name, _, version = reference.partition("@")
    family = registry / name
    if not name or not _NAME.match(name) or not family.is_dir():
        known = ", ".join(sorted(_families(registry))) or "none"
        hint = (
            "train one first, or point at the registry that holds it"
            if known == "none"
            else "use one of those names, or point at another registry"
        )
        raise ModelError(
            f"unknown model '{reference}' in {registry} (models: {known}); {hint}",
            parameter="registry",
        )
    versions = _versions(family)
    if version:
        if version not in versions:
            raise ModelError(
                f"model '{name}' has no version '{version}' "
                f"(latest: {versions[-1] if versions else 'none'})"
            )
        return name, version
    champion = _champion(family)
    if champion is not None:
        if champion not in versions:
            raise ModelError(
                f"model '{name}': {CHAMPION} names '{_shorten(champion)}', which is not one of its "
                "versions; promote one of its versions again"
            )
        return name, champion
    if not versions:
        raise ModelError(
            f"model '{name}' has no trained version in {registry}; train one first",
            parameter="registry",
        )
    return name, versions[-1]


def load_model(
    registry: str | Path, reference: str = "export-readiness", *, signing_key: bytes | None = None
) -> LoadedModel:
    """Verify a model's files and load its compiled scorer (nothing executable is loaded).

    Each file is read once: its hash is checked on those bytes and the same bytes are parsed,
    so a file swapped after the check is never used.

    Raises
    ------
    ModelError
        Unknown reference, a changed, missing or foreign file, a bad signature, a manifest
        naming another model or version than its folder, or a malformed scorer.
    """
    name, version = resolve_reference(registry, reference)
    path = Path(registry) / name / version
    inspection = _inspect(path, name, version, signing_key)
    failed = next((check for check in inspection.checks if not check.ok), None)
    if failed is not None:
        raise ModelError(failed.message, parameter=failed.parameter)
    manifest = Manifest.from_dict(inspection.document, where=f"model {name}@{version}")
    try:
        scorer_document = json.loads(inspection.contents[SCORER].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model {name}@{version}: {SCORER} is not valid JSON ({exc})") from None
    scorer = CompiledScorer.from_dict(scorer_document)
    contract = contract_from_dict(manifest.contract, origin=f"{name}@{version}")
    return LoadedModel(name, version, path, manifest, contract, scorer, _version_warnings(manifest))


def verify_model(
    registry: str | Path, reference: str, *, signing_key: bytes | None = None
) -> list[dict[str, Any]]:
    """Check every file of a model; one row per file (and the signature), none raising."""
    name, version = resolve_reference(registry, reference)
    inspection = _inspect(Path(registry) / name / version, name, version, signing_key)
    rows = [{"file": c.file, "ok": c.ok, "detail": c.detail} for c in inspection.checks]
    if inspection.document is not None:
        libraries = inspection.document.get("libraries", {})
        for warning in _version_warnings_of(libraries if isinstance(libraries, dict) else {}):
            rows.append({"file": "libraries", "ok": True, "detail": warning})
    return rows


def promote_model(
    registry: str | Path,
    reference: str,
    *,
    force: bool = False,
    comparison: dict[str, Any] | None = None,
) -> str:
    """Make a version its family's champion (atomic pointer replace); returns ``NAME@VERSION``.

    A challenger significantly worse than the current champion is refused unless ``force``:
    judged on ``comparison`` (:func:`scoring.comparison.compare_models` of the two on labelled
    rows) when given, else on the comparison its training recorded against that champion.

    Raises
    ------
    RegistryError
        The challenger is significantly worse (the message says on which metrics).
    """
    from scoring.comparison import worse_on

    name, version = resolve_reference(registry, reference)
    family = Path(registry) / name
    loaded = load_model(registry, f"{name}@{version}")  # refuses a changed or malformed model
    champion = _champion(family)
    if comparison is None:
        comparison = loaded.manifest.training.get("champion_comparison")
    if (
        not force
        and champion not in (None, version)
        and comparison
        and comparison.get("champion") == f"{name}@{champion}"
        and worse_on(comparison)
    ):
        raise RegistryError(
            f"refusing to promote {name}@{version}: it is significantly worse than the champion "
            f"{name}@{_shorten(champion)} on {comparison.get('rows', 0):,} labelled rows: "
            + "; ".join(worse_on(comparison))
            + "; force the promotion to replace the champion anyway",
            parameter="force",
        )
    with atomic_path(family / CHAMPION) as temporary:
        temporary.write_text(version + "\n", encoding="utf-8")
    return f"{name}@{version}"


def list_models(registry: str | Path) -> list[dict[str, Any]]:
    """Every version in the registry, newest first per model, with its headline metrics."""
    registry = Path(registry)
    rows = []
    for name in sorted(_families(registry)):
        family = registry / name
        champion = _champion(family) or ""
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
    result: TrainingResult, contract: Contract, name: str, version: str, created: dt.datetime
) -> Manifest:
    return Manifest(
        name=name,
        version=version,
        created=created.isoformat(timespec="seconds"),
        libraries=library_versions(),
        contract=contract.to_dict(),
        features=result.feature_config,
        training=result.training,
        seed=result.seed,
        timings=result.timings,
        metrics=result.metrics,
        baseline_metrics=result.baseline_metrics,
        model_selection=result.candidates,
        compiled_max_abs_diff=result.compiled_max_abs_diff,
        tiers=dict(contract.tiers),
        reference=References(drift=result.drift_reference, explainer=result.explainer),
    )


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
    staging: Path, manifest: Manifest, model_card: str | None, signing_key: bytes | None
) -> None:
    """Write the card and manifest of a version in ``staging``: hashes, checksum, signature.

    The signature covers the whole manifest, its name and version included, and loading checks
    those against the folder: a signed version copied under another name or version is refused.
    """
    manifest = manifest.replace(files={}, checksum="", signature=None)
    card = model_card if model_card is not None else model_card_markdown(manifest)
    (staging / "model_card.md").write_text(card, encoding="utf-8")
    files = {p.name: _sha256_file(p) for p in sorted(staging.iterdir()) if p.name != MANIFEST}
    # What is written is what a reader parses back: checksum and signature cover exactly that.
    document = manifest.to_dict()
    sealed = json.loads(json.dumps(document, ensure_ascii=False, default=json_default))
    sealed["files"] = files
    sealed["checksum"] = _checksum(sealed)
    if signing_key:
        sealed["signature"] = _sign(sealed, signing_key)
    (staging / MANIFEST).write_text(
        json.dumps(sealed, indent=2, ensure_ascii=False, default=json_default) + "\n",
        encoding="utf-8",
    )


@dataclass(frozen=True)
class _Check:
    """One verification step: what it checked, whether it held, and the refusal if not."""

    file: str
    ok: bool
    detail: str
    message: str = ""
    parameter: str | None = None


@dataclass
class _Inspection:
    document: dict[str, Any] | None
    checks: list[_Check] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)


def _inspect(path: Path, name: str, version: str, signing_key: bytes | None) -> _Inspection:
    """Every check of a model folder, in the order loading refuses on; files read once."""
    reference = f"{name}@{version}"
    try:
        document = json.loads((path / MANIFEST).read_bytes().decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        detail = f"unreadable: {exc}"
        message = f"model {reference}: manifest is missing or unreadable ({exc})"
        return _Inspection(None, [_Check(MANIFEST, False, detail, message)])
    inspection = _Inspection(document)
    checks = inspection.checks
    if document.get("format") != FORMAT:
        message = f"model {reference}: {MANIFEST} is not a readiness model manifest"
        checks.append(_Check(MANIFEST, False, "not a readiness model manifest", message))
    elif "checksum" not in document:
        message = (
            f"model {reference}: {MANIFEST} has no checksum (changed, or written before "
            "checksums were added); refusing to load it - retrain the model"
        )
        checks.append(_Check(MANIFEST, False, "no checksum", message))
    elif not _checksum_ok(document):
        message = (
            f"model {reference}: {MANIFEST} has changed since training (its checksum differs); "
            "refusing to load it - retrain or restore the file"
        )
        checks.append(_Check(MANIFEST, False, "checksum differs", message))
    else:
        checks.append(_Check(MANIFEST, True, "checksum ok"))
    if signing_key:
        checks.append(_signature_check(document, signing_key, reference))
    if (document.get("name"), document.get("version")) != (name, version):
        message = (
            f"model {reference}: its manifest names "
            f"'{_shorten(str(document.get('name')))}@{_shorten(str(document.get('version')))}'; "
            "a model folder was copied or renamed - refusing it"
        )
        checks.append(_Check(MANIFEST, False, "names another model or version", message))
    expected = document.get("files")
    expected = expected if isinstance(expected, dict) else {}
    present = {p.name for p in path.iterdir() if p.name != MANIFEST}
    foreign = sorted(present - set(expected))
    if foreign:
        message = (
            f"model {reference}: file(s) {foreign} are not in the manifest; refusing a foreign file"
        )
        checks.extend(_Check(f, False, "not in the manifest (foreign)", message) for f in foreign)
    for file in sorted(expected):
        if file == PIPELINE:  # large, and unpickled only on request (hashed again then)
            target = path / file
            if target.is_file():
                ok = hmac.compare_digest(_sha256_file(target), str(expected[file]))
                checks.append(_file_check(file, ok, reference))
            else:
                checks.append(_missing(file, reference))
            continue
        try:
            data = (path / file).read_bytes()
        except OSError:
            checks.append(_missing(file, reference))
            continue
        ok = hmac.compare_digest(_sha256_bytes(data), str(expected[file]))
        checks.append(_file_check(file, ok, reference))
        if ok:
            inspection.contents[file] = data
    if SCORER not in expected and not any(c.file == SCORER for c in checks):
        checks.append(_missing(SCORER, reference))
    return inspection


def _signature_check(document: dict[str, Any], key: bytes, reference: str) -> _Check:
    signature = document.get("signature")
    if not signature:
        message = (
            f"model {reference} is not signed but a signing key is set; retrain it with "
            "the signing key set, or unset the key to accept unsigned models"
        )
        return _Check("signature", False, "HMAC-SHA256 missing", message, "signing_key")
    if not hmac.compare_digest(str(signature), _sign(document, key)):
        message = (
            f"model {reference}: manifest signature does not match the signing key; "
            "the model was changed or signed with another key"
        )
        return _Check("signature", False, "HMAC-SHA256 does not match", message, "signing_key")
    return _Check("signature", True, "HMAC-SHA256 valid")


def _missing(file: str, reference: str) -> _Check:
    return _Check(file, False, "missing", f"model {reference}: {file} is missing")


def _file_check(file: str, ok: bool, reference: str) -> _Check:
    message = (
        f"model {reference}: {file} has changed since training (sha256 differs); "
        "refusing to load it - retrain or restore the file"
    )
    return _Check(file, ok, "sha256 ok" if ok else "sha256 differs", "" if ok else message)


def _verified_bytes(path: Path, digest: str | None, reference: str) -> bytes:
    """A file's bytes, read once, refused unless they hash to ``digest``."""
    if digest is None:
        raise ModelError(f"model {reference}: {path.name} is not in the manifest")
    try:
        data = path.read_bytes()
    except OSError:
        raise ModelError(f"model {reference}: {path.name} is missing") from None
    if not hmac.compare_digest(_sha256_bytes(data), digest):
        raise ModelError(_file_check(path.name, False, reference).message)
    return data


def _champion(family: Path) -> str | None:
    """The version a family's ``CHAMPION`` file names, or None when there is no such file."""
    pointer = family / CHAMPION
    if not pointer.is_file():
        return None
    try:
        return pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return "(unreadable)"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _version_warnings(manifest: Manifest) -> list[str]:
    return _version_warnings_of(manifest.libraries)


def _version_warnings_of(trained: dict[str, Any]) -> list[str]:
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


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
