"""The packaged default contract: where it is, and its parsed TOML (for the sections that
contracts stored with older models lack)."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["default_contract_path", "packaged_document"]


def default_contract_path() -> Path:
    """The packaged default contract."""
    return Path(str(resources.files("scoring") / "data" / "contract.toml"))


@functools.cache
def packaged_document() -> dict[str, Any]:
    """The packaged contract as parsed TOML (for sections older stored contracts lack)."""
    return tomllib.loads(default_contract_path().read_text(encoding="utf-8"))
