"""The Dask engine writes exactly what the local engine writes."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from scoring.batch import score_file
from scoring.distributed import score_file_dask, start_client
from scoring.errors import ReadinessError
from scoring.sample import generate_sample, inject_problems, to_english_table
from scoring.writing import write_table


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory):
    """600 rows with ~10% problems, repeated ids among them, and two unsplittable rows."""
    frame, _ = generate_sample(600, seed=5, labelled=False)
    table = inject_problems(to_english_table(frame), 0.1, seed=5)
    # Repeat ids across every chunk boundary of a 100-row chunking.
    for row in (150, 250, 420):
        table.loc[row, "coop_id"] = table.loc[row - 120, "coop_id"]
    path = tmp_path_factory.mktemp("dask") / "dirty.csv"
    write_table(table, path)
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(77, '"broken","row"')
    text.append('"also","broken","row"')
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def _outputs(tmp_path, name):
    return tmp_path / f"{name}.csv", tmp_path / f"{name}-rejects.csv"


def _run_local(path, model, tmp_path, **options):
    out, rejects = _outputs(tmp_path, "local")
    summary = score_file(path, model, out, rejects=rejects, chunk_size=100, **options)
    return pd.read_csv(out), pd.read_csv(rejects), summary


def test_synchronous_engine_equals_local(dirty_csv, scoring_model, tmp_path):
    local, local_rejects, local_summary = _run_local(
        dirty_csv, scoring_model, tmp_path, keep_columns=["name"]
    )
    out, rejects = _outputs(tmp_path, "dask")
    summary = score_file_dask(
        dirty_csv,
        scoring_model,
        out,
        rejects=rejects,
        chunk_size=100,
        keep_columns=["name"],
        client=start_client("synchronous"),
    )
    pd.testing.assert_frame_equal(pd.read_csv(out), local)
    pd.testing.assert_frame_equal(pd.read_csv(rejects), local_rejects)
    assert summary.rows_read == local_summary.rows_read == 602
    assert summary.rows_read == summary.rows_scored + summary.rows_rejected
    # The repeats planted across chunk boundaries were caught. Table row r is spreadsheet row
    # r + 2, one more after the unsplittable line inserted as row 78.
    repeats = local_rejects[local_rejects["error"].str.contains("repeats row")]
    assert {153, 253, 423} <= set(repeats["row"])
    assert summary.to_dict()["drift"] == local_summary.to_dict()["drift"]


def test_local_cluster_equals_local(dirty_csv, scoring_model, tmp_path):
    pytest.importorskip("distributed")
    local, local_rejects, _ = _run_local(dirty_csv, scoring_model, tmp_path)
    out, rejects = _outputs(tmp_path, "cluster")
    client = start_client(None, n_workers=1)
    try:
        score_file_dask(
            dirty_csv, scoring_model, out, rejects=rejects, chunk_size=100, client=client
        )
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    pd.testing.assert_frame_equal(pd.read_csv(out), local)
    pd.testing.assert_frame_equal(pd.read_csv(rejects), local_rejects)


def test_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ReadinessError, match=r"pip install 'export-readiness\[distributed\]'"):
        start_client(None)


def test_an_unreachable_scheduler_is_one_line_suggesting_the_local_engine():
    pytest.importorskip("distributed")
    with pytest.raises(ReadinessError, match=r"cannot reach the Dask scheduler .*local engine"):
        start_client("tcp://127.0.0.1:1")


def test_a_scheduler_with_no_workers_stops_instead_of_hanging(monkeypatch):
    distributed = pytest.importorskip("distributed")
    import scoring.distributed as engine

    monkeypatch.setattr(engine, "WORKER_TIMEOUT", 1)
    cluster = distributed.LocalCluster(n_workers=0, dashboard_address=":0", processes=False)
    try:
        with pytest.raises(ReadinessError, match="has no workers after 1 s"):
            start_client(cluster.scheduler_address)
    finally:
        cluster.close()


def test_a_failure_on_the_cluster_is_one_line_and_writes_nothing(
    dirty_csv, scoring_model, tmp_path
):
    import scoring.distributed as engine

    class Lost:
        def result(self, timeout=None):
            raise OSError("worker tcp://10.0.0.9:4000 lost")

    class Client(engine._InlineClient):
        def submit(self, function, *args, pure=True):
            return Lost()

    out = tmp_path / "scores.csv"
    with pytest.raises(ReadinessError, match=r"Dask cluster failed while scoring .*worker"):
        score_file_dask(dirty_csv, scoring_model, out, client=Client())
    assert list(tmp_path.iterdir()) == []
