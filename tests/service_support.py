"""Helpers shared by the service and store tests: a registry of their own, settings, apps."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "examples" / "programs.toml"
POSTGRES_URL = os.environ.get("READINESS_TEST_POSTGRES_URL", "")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="READINESS_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against "
    "(.ci/run starts one)",
)


def new_version(trained: Any, registry: Path) -> str:
    """Save the session's trained model as a new version in ``registry`` (no retraining)."""
    from scoring.contract import load_contract
    from scoring.registry import save_model

    return save_model(trained[2], load_contract(), registry)


def settings(registry: Path, db: str, **changes: Any) -> Any:
    from scoring.service import Settings

    defaults = dict(programs=PROGRAMS, reload_interval=0, token_refresh=0)
    return Settings(registry=registry, db=db, **{**defaults, **changes})


def sample_csv(path: Path, rows: int, seed: int, *, dirty: float = 0.0) -> Path:
    """An unlabelled sample file as ``readiness sample`` writes it."""
    from scoring.sample import generate_sample, inject_problems, to_english_table
    from scoring.writing import write_table

    frame, _ = generate_sample(rows, seed, labelled=False)
    table = to_english_table(frame)
    if dirty:
        table = inject_problems(table, dirty, seed)
    write_table(table, path)
    return path


def csv_records(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as records of the cells' text, as a client would send them."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def record(**changes: Any) -> dict[str, Any]:
    """One valid cooperative record (Persian values where a registry export has them)."""
    base = {
        "coop_id": "T-1",
        "province": "تهران",
        "sector": "صنعتی",
        "members": "۱۲",
        "employees": 30,
        "installed_capacity": 1000,
        "actual_output": 600,
        "revenue": 25000,
        "revenue_prev": 22000,
        "export_revenue": 0,
        "export_markets": 0,
        "iso9001": "خیر",
        "commercial_card": "بله",
        "established_year": 1385,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}
