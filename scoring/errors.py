"""The domain's exceptions: one base class the CLI turns into one line on stderr and exit 1."""

from __future__ import annotations

__all__ = [
    "ContractError",
    "InputFileError",
    "ModelError",
    "PlanError",
    "ReadinessError",
    "RegistryError",
    "TrainingError",
]


class ReadinessError(Exception):
    """A user, data or domain error: its message is one line saying what, the rule and the fix."""


class InputFileError(ReadinessError):
    """The input file cannot be read as a table (missing, empty, binary, unsupported type)."""


class ContractError(ReadinessError):
    """The data or a contract file breaks the contract (missing required column, bad contract)."""


class TrainingError(ReadinessError):
    """Labelled data that a model cannot be trained or evaluated on."""


class ModelError(ReadinessError):
    """A model that cannot be used: unknown reference, changed artifact, bad signature."""


class RegistryError(ModelError):
    """The model registry refuses an operation."""


class PlanError(ReadinessError):
    """An invalid programmes file, budget or plan request."""
