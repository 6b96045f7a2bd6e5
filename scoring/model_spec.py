"""The model part of a contract: features, derived expressions, pairs, monotone constraints,
the label, the peer group, training settings (``[model]``) and the reasons (``[reason.*]``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scoring.errors import ContractError
from scoring.packaged import default_contract_path, packaged_document

if TYPE_CHECKING:
    from scoring.contract import Column

__all__ = ["ModelSpec", "Reason", "TrainingSpec", "parse_model", "parse_reasons"]


@dataclass(frozen=True)
class Reason:
    """A stable reason code with its English and Persian texts.

    ``actionable``: whether support can change it (idle capacity, a missing certificate or
    commercial card, few markets), as against context (age, size, sector), which explains a
    score but is nothing to act on.
    """

    code: str
    en: str
    fa: str
    actionable: bool = True

    def text(self, lang: str = "en") -> str:
        return self.fa if lang == "fa" else self.en


@dataclass(frozen=True)
class TrainingSpec:
    """How a model is trained (``[model.training]``); the command line may override each."""

    holdout_share: float = 1 / 3
    refit: bool = True
    learners: tuple[str, ...] = ("boosting", "spline", "blend")


@dataclass(frozen=True)
class ModelSpec:
    """What the model takes in and what the domain is sure of."""

    features: tuple[str, ...]
    categorical: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    monotonic: Mapping[str, int]
    label: str
    #: Derived features: name -> expression text (``[model.derived]``, :mod:`scoring.expressions`).
    derived: Mapping[str, str] = field(default_factory=dict)
    #: The categorical feature whose groups percentiles compare within (None: no percentiles).
    peer_group: str | None = "sector"
    training: TrainingSpec = field(default_factory=TrainingSpec)


def parse_model(raw: Mapping[str, Any], columns: tuple[Column, ...], origin: str) -> ModelSpec:
    by_name = {c.name: c for c in columns}
    features = tuple(raw.get("features", ()))
    derived = _parse_derived(raw.get("derived"), by_name, origin)
    unknown = [f for f in features if f not in by_name and f not in derived]
    if unknown:
        raise ContractError(
            f"{origin}: model feature(s) {unknown} are neither a column nor in [model.derived]; "
            "add the column, or define the feature as an expression of columns"
        )
    categorical = tuple(raw.get("categorical", ()))
    pairs = tuple(tuple(p) for p in raw.get("pairs", ()))
    for pair in pairs:
        if len(pair) != 2 or not set(pair) <= set(features):
            raise ContractError(f"{origin}: model pair {list(pair)} must name two model features")
    monotonic = {str(k): int(v) for k, v in raw.get("monotonic", {}).items()}
    bad = {k: v for k, v in monotonic.items() if v not in (-1, 1) or k not in features}
    if bad:
        raise ContractError(f"{origin}: model.monotonic must map model features to 1 or -1: {bad}")
    label = str(raw.get("label", "exported_next_year"))
    if label not in by_name:
        raise ContractError(f"{origin}: model label '{label}' is not a column")
    peer_group = raw.get("peer_group", "sector" if "sector" in categorical else None)
    if peer_group is not None and peer_group not in categorical:
        raise ContractError(
            f"{origin}: model.peer_group '{peer_group}' must be a categorical model feature "
            f"(one of: {', '.join(categorical) or 'none'})"
        )
    training = _parse_training(raw.get("training", {}), origin)
    return ModelSpec(features, categorical, pairs, monotonic, label, derived, peer_group, training)


def _parse_derived(raw: Any, columns: Mapping[str, Column], origin: str) -> dict[str, str]:
    """``[model.derived]``, each expression parsed and its names checked against the columns;
    the packaged contract's when absent (contracts stored with older models)."""
    from scoring.expressions import REFERENCE_YEAR, ExpressionError, parse_expression

    if raw is None:
        raw = packaged_document()["model"].get("derived", {})
    if not isinstance(raw, Mapping):
        raise ContractError(f"{origin}: [model.derived] must be a table of name = expression")
    derived: dict[str, str] = {}
    for name, text in raw.items():
        try:
            expression = parse_expression(text)
        except ExpressionError as exc:
            raise ContractError(f"{origin}: model.derived.{name}: {exc}") from None
        for used in expression.names:
            column = columns.get(used)
            numeric = column is not None and (column.is_numeric or column.type == "yesno")
            if used != REFERENCE_YEAR and (not numeric or column.type == "label"):
                raise ContractError(
                    f"{origin}: model.derived.{name} = {text!r} reads '{used}', which is not a "
                    f"numeric or yes/no column of the contract (or {REFERENCE_YEAR})"
                )
        derived[str(name)] = str(text)
    return derived


def _parse_training(raw: Any, origin: str) -> TrainingSpec:
    """``[model.training]``: holdout share, refit, learners (defaults for what is absent)."""
    if not isinstance(raw, Mapping):
        raise ContractError(f"{origin}: [model.training] must be a table")
    unknown = set(raw) - {"holdout_share", "refit", "learners"}
    if unknown:
        raise ContractError(f"{origin}: [model.training] has unknown keys {sorted(unknown)}")
    spec = TrainingSpec()
    share = raw.get("holdout_share", spec.holdout_share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
        raise ContractError(
            f"{origin}: model.training.holdout_share must be a number between 0 and 1, "
            f"got {share!r}"
        )
    refit = _flag(raw.get("refit", spec.refit), f"{origin}: model.training.refit")
    learners = raw.get("learners", spec.learners)
    if isinstance(learners, str) or not all(isinstance(x, str) for x in learners) or not learners:
        raise ContractError(
            f"{origin}: model.training.learners must be a list of learner names, got {learners!r}"
        )
    return TrainingSpec(float(share), bool(refit), tuple(learners))


def parse_reasons(raw: Mapping[str, Any], origin: str) -> dict[str, dict[str, Reason]]:
    """``[reason.FEATURE]``: a reason per side; ``actionable`` on the feature, or on a side to
    override it. A reason marked nowhere (contracts stored with older models) takes the packaged
    contract's mark for its code, else counts as actionable."""
    packaged_source = origin == str(default_contract_path())
    reasons: dict[str, dict[str, Reason]] = {}
    for feature, sides in raw.items():
        default = _flag(sides.get("actionable"), f"{origin}: reason.{feature}.actionable")
        reasons[feature] = {}
        for side, r in sides.items():
            if side == "actionable":
                continue
            flag = _flag(r.get("actionable"), f"{origin}: reason.{feature}.{side}.actionable")
            flag = default if flag is None else flag
            reasons[feature][side] = Reason(
                code=r["code"],
                en=r.get("en", r["code"]),
                fa=r.get("fa", r["code"]),
                actionable=flag if flag is not None else _unmarked(r["code"], packaged_source),
            )
    return reasons


def _flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ContractError(f"{where} must be true or false, got {value!r}")


def _unmarked(code: str, packaged_source: bool) -> bool:
    """The mark of a reason marked nowhere: the packaged contract's for its code (read only
    then: stored contracts of current models mark every reason), else actionable."""
    return True if packaged_source else _packaged_actionable().get(code, True)


@functools.cache
def _packaged_actionable() -> dict[str, bool]:
    """Each packaged reason code's ``actionable`` mark."""
    document = packaged_document().get("reason", {})
    parsed = parse_reasons(document, str(default_contract_path()))
    return {r.code: r.actionable for sides in parsed.values() for r in sides.values()}
