"""Keep the public API honest, as httpx does: every module of ``scoring`` declares ``__all__``,
every name in it exists, and every public function or class a module defines is listed."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

import scoring

#: Runs the CLI on import (``python -m scoring``): not a library module.
SKIPPED = {"scoring.__main__"}
#: Alembic's environment and revision scripts: run by alembic, never imported as an API.
SCRIPTS = "scoring.store.migrations"


def _optional_modules() -> set[str]:
    """Top-level import names of the packages of the optional extras (but dev) in pyproject."""
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
    extras = project["project"].get("optional-dependencies", {})
    return {
        Requirement(spec).name.lower().replace("-", "_")
        for extra, specs in extras.items()
        if extra != "dev"
        for spec in specs
    }


OPTIONAL = _optional_modules()


def _module_names() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(scoring.__path__, "scoring.")
        if info.name not in SKIPPED and not info.name.startswith(SCRIPTS)
    ]
    return ["scoring", *sorted(names)]


def _load(name: str) -> ModuleType:
    """Import a module; skip it when what is missing is a package of an optional extra."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in OPTIONAL:
            pytest.skip(f"{name} needs the optional package {missing!r}")
        raise


def _defined_here(module: ModuleType) -> set[str]:
    """Public top-level functions and classes whose home is this module (not imported)."""
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }


def test_the_walk_finds_the_modules():
    """Guards the test itself: a broken walk would make every other case vacuous."""
    names = _module_names()
    assert {"scoring", "scoring.drift", "scoring.glassbox", "scoring.cli"} <= set(names)
    assert "scoring.__main__" not in names
    assert {"dask", "distributed"} <= OPTIONAL


def test_the_walk_reaches_every_source_file():
    """A folder without ``__init__.py`` is a namespace package, which the walk never enters."""
    root = Path(scoring.__file__).parent
    files = {
        ".".join(("scoring", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        for p in root.rglob("*.py")
    }
    files = {f for f in files if not f.startswith(SCRIPTS)}
    unreached = sorted(files - set(_module_names()) - SKIPPED)
    assert not unreached, f"modules in a folder without __init__.py: {unreached}"


@pytest.mark.parametrize("name", _module_names())
def test_module_declares_its_public_names(name):
    module = _load(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    declared = list(module.__all__)
    assert all(isinstance(n, str) for n in declared), declared
    assert len(declared) == len(set(declared)), f"{name}.__all__ repeats a name"
    missing = [n for n in declared if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists names it does not have: {missing}"
    unlisted = sorted(_defined_here(module) - set(declared))
    assert not unlisted, f"{name} defines public names missing from __all__: {unlisted}"
