"""``readiness serve --load``: lists stored as uploads at start, their figures kept."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_support import new_version, sample_csv, settings
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.service import create_app
from scoring.store import queries as q
from scoring.web import inputs
from scoring.web.uploads import OPERATOR, load_files


@pytest.fixture
def app(trained, tmp_path):
    registry = tmp_path / "registry"
    new_version(trained, registry)
    app = create_app(settings(registry, f"sqlite:///{tmp_path / 'store.db'}"))
    with TestClient(app):
        yield app


def test_a_loaded_list_is_a_stored_upload_with_its_figures_kept(app, tmp_path):
    (tmp_path / "lists").mkdir()
    source = sample_csv(tmp_path / "lists" / "list.csv", 60, seed=3, dirty=0.05)
    shared = app.state.service
    [batch_id] = load_files(shared, [source])
    with shared.store.connect() as conn:
        batch = q.get_batch(conn, batch_id)
    assert batch["file_name"] == "list.csv" and batch["uploaded_by"] == OPERATOR.name
    assert batch["rows_read"] == 60 == batch["rows_scored"] + batch["rows_rejected"]
    # The figures of spreadsheet row 2 (the first data row) are the file's first row.
    first = pd.read_csv(source, dtype=str, nrows=1).iloc[0]
    kept = inputs.find(shared, batch_id, 2)
    assert kept is not None and kept["coop_id"] == first["coop_id"]
    assert list(source.parent.iterdir()) == [source]  # nothing written beside the input


def test_loading_the_same_file_again_keeps_one_batch(app, tmp_path):
    source = sample_csv(tmp_path / "list.csv", 30, seed=4)
    shared = app.state.service
    first = load_files(shared, [source])
    again = load_files(shared, [source])
    assert first == again
    with shared.store.connect() as conn:
        assert q.count_batches(conn) == 1


def test_load_needs_one_worker(tmp_path):
    source = sample_csv(tmp_path / "list.csv", 5, seed=1)
    result = CliRunner().invoke(
        cli, ["serve", "--workers", "2", "--load", str(source), "--registry", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--workers 1" in result.output


def test_a_file_that_is_not_a_table_is_refused_in_its_own_name(app, tmp_path):
    from scoring.errors import ReadinessError

    bad = tmp_path / "export.xlsx"
    bad.write_bytes(b"not a workbook")
    shared = app.state.service
    with pytest.raises(ReadinessError) as caught:
        load_files(shared, [bad])
    assert str(bad) in str(caught.value) and str(shared.upload_dir) not in str(caught.value)
    with shared.store.connect() as conn:
        assert q.count_batches(conn) == 0
    assert not list(shared.upload_dir.iterdir())  # the copy is gone
