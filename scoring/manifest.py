"""The manifest of a registered model, typed: what it was trained on, how well it does, its files.

The registry writes ``manifest.json`` from a :class:`Manifest` and reads it back into one, so
every other module reads attributes (``manifest.metrics``, ``manifest.features.categories``)
rather than string keys. Metrics and training facts stay mappings: they are reports whose keys
grow with the evaluation, not structure other code depends on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.errors import ModelError

__all__ = ["FORMAT", "FeatureConfig", "Manifest", "References"]

FORMAT = "readiness.model"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FeatureConfig:
    """How the feature matrix is built (columns, category codes, reference year) and the
    structure the model was given (categorical sizes, declared pairs, monotone signs)."""

    features: list[str]
    categories: dict[str, list[str]]
    reference_year: int
    categorical: dict[str, int] = field(default_factory=dict)
    pairs: list[list[str]] = field(default_factory=list)
    monotonic: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureConfig:
        return cls(
            features=[str(f) for f in data["features"]],
            categories={str(k): [str(c) for c in v] for k, v in data["categories"].items()},
            reference_year=int(data["reference_year"]),
            categorical={str(k): int(v) for k, v in data.get("categorical", {}).items()},
            pairs=[[str(a), str(b)] for a, b in data.get("pairs", [])],
            monotonic={str(k): int(v) for k, v in data.get("monotonic", {}).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class References:
    """Distributions of the training data that scoring compares against."""

    drift: dict[str, Any]
    explainer: dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    """Everything a model folder says about itself, as written in ``manifest.json``."""

    name: str
    version: str
    created: str
    libraries: dict[str, str]
    contract: dict[str, Any]
    features: FeatureConfig
    training: dict[str, Any]
    seed: int
    timings: dict[str, float]
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    model_selection: list[dict[str, Any]]
    compiled_max_abs_diff: float
    tiers: dict[str, float]
    reference: References
    files: dict[str, str] = field(default_factory=dict)
    checksum: str = ""
    signature: str | None = None
    format_version: int = FORMAT_VERSION

    @property
    def reference_name(self) -> str:
        """``NAME@VERSION``."""
        return f"{self.name}@{self.version}"

    @property
    def signed(self) -> bool:
        return bool(self.signature)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "manifest") -> Manifest:
        """Parse a manifest document; a missing or mistyped entry is a :class:`ModelError`."""
        if data.get("format") != FORMAT:
            raise ModelError(f"{where}: not a readiness model manifest")
        try:
            reference = data["reference"]
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                created=str(data["created"]),
                libraries={str(k): str(v) for k, v in data["libraries"].items()},
                contract=dict(data["contract"]),
                features=FeatureConfig.from_dict(data["features"]),
                training=dict(data["training"]),
                seed=int(data["seed"]),
                timings=dict(data.get("timings", {})),
                metrics=dict(data["metrics"]),
                baseline_metrics=dict(data.get("baseline_metrics") or {}),
                model_selection=list(data.get("model_selection") or []),
                compiled_max_abs_diff=float(data["compiled_max_abs_diff"]),
                tiers={str(k): float(v) for k, v in data["tiers"].items()},
                reference=References(dict(reference["drift"]), dict(reference["explainer"])),
                files={str(k): str(v) for k, v in data.get("files", {}).items()},
                checksum=str(data.get("checksum", "")),
                signature=data.get("signature"),
                format_version=int(data.get("format_version", FORMAT_VERSION)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"{where}: manifest entry missing or malformed ({exc!r})") from None

    def to_dict(self) -> dict[str, Any]:
        """The document as written (``files``, ``checksum`` and ``signature`` when set)."""
        document: dict[str, Any] = {
            "format": FORMAT,
            "format_version": self.format_version,
            "name": self.name,
            "version": self.version,
            "created": self.created,
            "libraries": dict(self.libraries),
            "contract": self.contract,
            "features": self.features.to_dict(),
            "training": self.training,
            "seed": self.seed,
            "timings": self.timings,
            "metrics": self.metrics,
            "baseline_metrics": self.baseline_metrics,
            "model_selection": self.model_selection,
            "compiled_max_abs_diff": self.compiled_max_abs_diff,
            "tiers": dict(self.tiers),
            "reference": {"drift": self.reference.drift, "explainer": self.reference.explainer},
        }
        if self.files:
            document["files"] = dict(self.files)
        if self.checksum:
            document["checksum"] = self.checksum
        if self.signature:
            document["signature"] = self.signature
        return document

    def replace(self, **changes: Any) -> Manifest:
        return dataclasses.replace(self, **changes)
