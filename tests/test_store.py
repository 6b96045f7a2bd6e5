"""The score store on SQLite and on a real PostgreSQL server: migrations, whole-or-nothing
batches, the queries the API pages with, tokens, and ``readiness score --db``."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from service_support import POSTGRES_URL, needs_postgres, new_version, sample_csv
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.store import BatchRecorder, StoreError, open_store, store_url
from scoring.store import queries as q
from scoring.store.tables import batches, scores


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else POSTGRES_URL
    opened = open_store(url)
    yield opened
    opened.dispose()


def scored_chunk(ids: list[str], start_row: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A validated chunk and its scored rows, as score_file hands them to its extra hook."""
    n = len(ids)
    probability = np.linspace(0.05, 0.95, n)
    valid = pd.DataFrame(
        {
            "row": np.arange(start_row, start_row + n),
            "name": pd.array([f"Coop {i}" for i in ids], dtype="str"),
            "province": pd.Categorical(["tehran", "fars"] * (n // 2) + ["tehran"] * (n % 2)),
            "sector": pd.Categorical(["mining"] * n),
        }
    )
    tiers = np.where(probability >= 0.5, "A", np.where(probability >= 0.3, "B", "D"))
    scored = pd.DataFrame(
        {
            "coop_id": ids,
            "export_probability": probability,
            "readiness_score": np.round(100 * probability, 1),
            "readiness_tier": tiers,
            "reason_1": ["low_export_share"] * n,
            "reason_2": [""] * n,
            "reason_3": [""] * n,
            "capacity_score": np.full(n, np.nan),
            "quality_score": np.ones(n),
            "output_score": np.ones(n),
            "market_score": np.ones(n),
            "sector_percentile": np.ones(n),
        }
    )
    return valid, scored


def record(store, ids, *, fail: BaseException | None = None, file_name="list.csv"):
    recorder = BatchRecorder(
        store,
        source="cli",
        file_name=file_name,
        sha256="0" * 64,
        model="m@1",
        uploaded_by="tester",
    )
    with recorder:
        valid, scored = scored_chunk(ids)
        recorder.add_scored(valid, scored)
        if fail is not None:
            raise fail
        recorder.add_rejects(pd.DataFrame({"row": [99], "coop_id": ["bad"], "error": ["x: no"]}))
        outcome = recorder.finish(
            {"rows_read": len(ids) + 1, "rows_scored": len(ids), "rows_rejected": 1}
        )
    return recorder, outcome


def test_migrations_build_the_tables_and_run_again_harmlessly(store):
    store.migrate()  # a second time: already at head
    with store.connect() as conn:
        names = set(inspect(conn).get_table_names())
        assert {"batches", "scores", "rejects", "tokens", "alembic_version"} <= names
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    assert version == "0002"  # 0002: the workbench's indexes


def test_a_batch_is_stored_whole_with_its_rows_in_order(store):
    ids = [f"S-{uuid.uuid4().hex[:8]}" for _ in range(7)]
    recorder, outcome = record(store, ids)
    assert outcome.stored and outcome.batch_id == recorder.batch_id
    with store.connect() as conn:
        batch = q.get_batch(conn, outcome.batch_id)
        assert (batch["rows_read"], batch["rows_scored"], batch["rows_rejected"]) == (8, 7, 1)
        total, rows = q.page_scores(conn, outcome.batch_id, limit=100)
        assert total == 7 and [r["coop_id"] for r in rows] == ids
        assert [r["row"] for r in rows] == list(range(2, 9))
        assert rows[0]["capacity_score"] is None and rows[0]["name"] == f"Coop {ids[0]}"
        assert rows[1]["province"] == "fars" and rows[0]["sector"] == "mining"
        assert q.list_rejects(conn, outcome.batch_id)[1] == [
            {"row": 99, "coop_id": "bad", "error": "x: no"}
        ]
        # Floats come back exactly.
        expected = np.linspace(0.05, 0.95, 7).tolist()
        assert [r["export_probability"] for r in rows] == expected


def test_a_batch_failing_half_way_leaves_nothing(store):
    ids = [f"F-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    name = f"{uuid.uuid4().hex}.csv"
    with pytest.raises(RuntimeError, match="disk on fire"):
        record(store, ids, fail=RuntimeError("disk on fire"), file_name=name)
    with store.connect() as conn:
        assert conn.execute(select(batches).where(batches.c.file_name == name)).all() == []
        found = conn.execute(select(scores.c.coop_id).where(scores.c.coop_id.in_(ids))).all()
    assert found == []


def test_a_database_error_mid_batch_abandons_it_and_scoring_goes_on(store):
    recorder = BatchRecorder(
        store, source="cli", file_name="a.csv", sha256="1" * 64, model="m@1", uploaded_by="t"
    )
    with recorder:
        valid, scored = scored_chunk(["D-1", "D-2"])
        recorder.add_scored(valid, scored)
        recorder._scored = 0  # the next chunk repeats positions 0 and 1: a primary-key clash
        recorder.add_scored(valid, scored)
        outcome = recorder.finish({"rows_read": 4, "rows_scored": 4, "rows_rejected": 0})
    assert not outcome.stored and "not stored" in outcome.error
    with store.connect() as conn:
        assert q.get_batch(conn, recorder.batch_id) is None


def test_paging_filters_sorting_and_search(store):
    ids = [f"P-{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(10)]
    _, outcome = record(store, ids)
    with store.connect() as conn:
        total, rows = q.page_scores(conn, outcome.batch_id, tier="A", limit=100)
        assert total == 5 and all(r["readiness_tier"] == "A" for r in rows)
        total, rows = q.page_scores(conn, outcome.batch_id, province="fars", limit=100)
        assert total == 5 and {r["province"] for r in rows} == {"fars"}
        _, rows = q.page_scores(conn, outcome.batch_id, sort="-readiness_score", limit=3)
        assert [r["coop_id"] for r in rows] == ids[::-1][:3]
        _, page2 = q.page_scores(conn, outcome.batch_id, limit=4, offset=4)
        assert [r["coop_id"] for r in page2] == ids[4:8]
        total, rows = q.page_scores(conn, outcome.batch_id, q=ids[3][2:6].lower())
        assert [r["coop_id"] for r in rows] == [ids[3]]
        # A user's % and _ are literal characters, not wildcards.
        assert q.page_scores(conn, outcome.batch_id, q="%")[0] == 0
        exported = [
            row for chunk in q.iter_scores(conn, outcome.batch_id, chunk=3) for row in chunk
        ]
        assert [r["coop_id"] for r in exported] == ids


def test_history_of_a_cooperative_across_batches_newest_first(store):
    coop = f"H-{uuid.uuid4().hex[:8]}"
    _, first = record(store, [coop, "other"])
    _, second = record(store, ["x", coop])
    with store.connect() as conn:
        history = q.cooperative_history(conn, coop)
    assert [h["batch_id"] for h in history] == [second.batch_id, first.batch_id]
    assert history[0]["model"] == "m@1" and history[0]["source"] == "cli"


def test_tokens_are_kept_hashed_and_revoked(store):
    name, digest = f"portal-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex * 2
    with store.begin() as conn:
        q.add_token(conn, name=name, role="officer", token_hash=digest)
    with store.connect() as conn:
        assert q.active_tokens(conn)[digest] == (name, "officer")
        listed = {t["name"]: t for t in q.list_tokens(conn)}
        assert listed[name]["revoked"] is None and "token_hash" not in listed[name]
    with store.begin() as conn:
        assert q.revoke_token(conn, name) is True
        assert q.revoke_token(conn, name) is False
    with store.connect() as conn:
        assert digest not in q.active_tokens(conn)
    with pytest.raises(StoreError), store.begin() as conn:  # names are unique
        q.add_token(conn, name=name, role="viewer", token_hash=uuid.uuid4().hex * 2)


def test_an_unreachable_store_says_why(tmp_path):
    missing = open_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", migrate=False)
    up, why = missing.reachable()
    assert not up and "unable to open database file" in why
    with pytest.raises(StoreError, match="cannot migrate"):
        missing.migrate()
    closed = open_store("postgresql+psycopg://u:secret@127.0.0.1:1/none", migrate=False)
    up, why = closed.reachable()
    assert not up and "secret" not in why and "***" in closed.display_url()
    with pytest.raises(StoreError, match="cannot use the store URL"):
        open_store("nosuchdriver://x", migrate=False)


def test_store_url_defaults_to_the_registry_folder(tmp_path):
    assert store_url(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'readiness.db'}"
    assert store_url(str(tmp_path / "x.db"), "models") == f"sqlite:///{tmp_path / 'x.db'}"
    assert store_url("postgresql+psycopg://a@b/c", "models") == "postgresql+psycopg://a@b/c"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def test_readiness_score_db_records_the_cli_batch(backend, trained, tmp_path):
    registry = tmp_path / "registry"
    reference = new_version(trained, registry)
    source = sample_csv(tmp_path / "list.csv", 300, seed=9, dirty=0.05)
    url = f"sqlite:///{tmp_path / 'cli.db'}" if backend == "sqlite" else POSTGRES_URL
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(source),
            "--out",
            str(out),
            "--model",
            reference,
            "--registry",
            str(registry),
            "--db",
            url,
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype={"coop_id": str})
    store = open_store(url)
    with store.connect() as conn:
        batch = (
            conn.execute(
                select(batches).where(batches.c.source == "cli", batches.c.model == reference)
            )
            .mappings()
            .first()
        )
        assert batch["file_name"] == "list.csv" and batch["model"] == reference
        assert batch["uploaded_by"].startswith("cli:")
        assert batch["rows_scored"] == len(written)
        assert batch["rows_read"] == 300 == batch["rows_scored"] + batch["rows_rejected"]
        total, rows = q.page_scores(conn, batch["id"], limit=1000)
        rejected, _ = q.list_rejects(conn, batch["id"])
    assert total == len(written) and rejected == batch["rows_rejected"] > 0
    assert [r["coop_id"] for r in rows] == written["coop_id"].tolist()
    assert np.allclose([r["export_probability"] for r in rows], written["export_probability"])
    assert f"batch {batch['id']} recorded" in result.output
    store.dispose()


def test_readiness_score_db_records_a_persian_run_with_its_rejects(trained, tmp_path):
    """Under --lang fa the rejects file is headed in Persian; the store still gets its rows."""
    registry = tmp_path / "registry"
    reference = new_version(trained, registry)
    source = sample_csv(tmp_path / "list.csv", 300, seed=9, dirty=0.05)
    url = f"sqlite:///{tmp_path / 'fa.db'}"
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        cli,
        ["score", str(source), "--out", str(tmp_path / "scores.csv"), "--rejects", str(rejects),
         "--lang", "fa", "--model", reference, "--registry", str(registry), "--db", url,
         "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(rejects, dtype=str)
    assert list(written.columns) == ["ردیف", "شناسه تعاونی", "خطا"]
    store = open_store(url)
    with store.connect() as conn:
        batch = conn.execute(select(batches)).mappings().first()
        rejected, stored = q.list_rejects(conn, batch["id"])
    assert rejected == len(written) > 0
    assert [int(r["row"]) for r in stored] == written["ردیف"].astype(int).tolist()
    store.dispose()


def test_readiness_score_db_unreachable_stops_before_writing(trained, tmp_path):
    registry = tmp_path / "registry"
    reference = new_version(trained, registry)
    source = sample_csv(tmp_path / "list.csv", 20, seed=9)
    out = tmp_path / "scores.csv"
    bad = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(source),
            "--out",
            str(out),
            "--model",
            reference,
            "--registry",
            str(registry),
            "--db",
            bad,
            "--quiet",
        ],
    )
    assert result.exit_code == 1 and "cannot migrate the store" in result.output
    assert not out.exists()
