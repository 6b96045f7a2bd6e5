"""``readiness score --db`` on a file every row of which is valid: stored with no rejects."""

from __future__ import annotations

import pandas as pd
from service_support import new_version, sample_csv
from sqlalchemy import select
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.store import open_store
from scoring.store import queries as q
from scoring.store.tables import batches


def test_a_clean_file_is_recorded_with_no_rejects(trained, tmp_path):
    registry = tmp_path / "registry"
    reference = new_version(trained, registry)
    source = sample_csv(tmp_path / "list.csv", 40, seed=4)
    out = tmp_path / "scores.xlsx"
    url = f"sqlite:///{tmp_path / 'clean.db'}"
    result = CliRunner().invoke(
        cli,
        ["score", str(source), "--out", str(out), "--model", reference,
         "--registry", str(registry), "--db", url, "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(pd.read_excel(out, sheet_name=0, engine="calamine")) == 40
    store = open_store(url)
    with store.connect() as conn:
        batch = conn.execute(select(batches)).mappings().one()
        rejected, _ = q.list_rejects(conn, batch["id"])
    assert (batch["rows_read"], batch["rows_scored"], batch["rows_rejected"]) == (40, 40, 0)
    assert rejected == 0
    store.dispose()
