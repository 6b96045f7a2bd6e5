"""The domain's exceptions: one base class the CLI turns into one line on stderr and exit 1.

An error carries, beside its message, the fields a caller may act on: the ``column`` and
``value`` at fault, the ``rule`` broken, and the library ``parameter`` that can fix it (the CLI
names the option or environment variable behind that parameter; the library never does).
"""

from __future__ import annotations

__all__ = [
    "ContractError",
    "InputFileError",
    "ModelError",
    "OutputFileError",
    "PlanError",
    "ReadinessError",
    "RegistryError",
    "TrainingError",
]


class ReadinessError(Exception):
    """A user, data or domain error: its message is one line saying what, the rule and the fix.

    Parameters
    ----------
    message
        The one line shown to the user.
    column, value, rule
        The column, the offending value and the rule, where the error is about data.
    parameter
        The name of the library parameter that would fix it (e.g. ``"encoding"``).
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        value: object = None,
        rule: str | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(message)
        self.column = column
        self.value = value
        self.rule = rule
        self.parameter = parameter


class InputFileError(ReadinessError):
    """The input file cannot be read as a table (missing, empty, binary, unsupported type)."""


class OutputFileError(ReadinessError):
    """An output cannot be written where asked (same file as an input, unknown type, disk full)."""


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
