"""The store's queries: plain functions taking a SQLAlchemy connection, returning plain values.

Writers never commit: the caller's transaction decides, so a batch is stored whole or not at
all. Readers return dicts (rows) and never a live cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from scoring.store.tables import SCORE_FIELDS, batches, rejects, scores, tokens

__all__ = [
    "EXPORT_FIELDS",
    "SORTABLE",
    "active_tokens",
    "add_token",
    "cooperative_history",
    "count_batches",
    "find_batch",
    "finish_batch",
    "get_batch",
    "insert_batch",
    "insert_rejects",
    "insert_scores",
    "iter_scores",
    "list_batches",
    "list_rejects",
    "list_tokens",
    "now",
    "page_scores",
    "ping",
    "revoke_token",
]

#: What ``page_scores`` may sort by (a leading ``-`` sorts descending).
SORTABLE = (
    "position",
    "coop_id",
    "readiness_score",
    "export_probability",
    "sector_percentile",
    "capacity_score",
    "quality_score",
    "output_score",
    "market_score",
    "province",
    "sector",
    "readiness_tier",
)
_BATCH_COLUMNS = [c for c in batches.c if c.name != "summary"]


def now() -> str:
    """The current UTC time as the store writes it (ISO 8601, microseconds, sortable as text)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def ping(conn: Connection) -> None:
    """Raise unless the store answers."""
    conn.execute(select(1)).scalar_one()


def insert_batch(conn: Connection, batch: Mapping[str, Any]) -> None:
    """Add a batch row (``id``, ``created``, ``source``, ``file_name``, ``sha256``, counts,
    ``model``, ``uploaded_by``, ``summary``)."""
    conn.execute(batches.insert(), [dict(batch)])


def finish_batch(conn: Connection, batch_id: str, values: Mapping[str, Any]) -> None:
    """Set a batch's counts and summary once all its rows are in."""
    conn.execute(update(batches).where(batches.c.id == batch_id).values(**values))


def insert_scores(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add score rows (each with ``batch_id``, ``position``, ``row`` and the score fields)."""
    if rows:
        conn.execute(scores.insert(), list(rows))


def insert_rejects(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add reject rows (``batch_id``, ``position``, ``row``, ``coop_id``, ``error``)."""
    if rows:
        conn.execute(rejects.insert(), list(rows))


def list_batches(conn: Connection, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Batches, newest first, without their summaries."""
    query = (
        select(*_BATCH_COLUMNS)
        .order_by(batches.c.created.desc(), batches.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def count_batches(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(batches)).scalar_one())


def find_batch(conn: Connection, *, sha256: str, model: str) -> str | None:
    """The newest batch of the file with this sha256 scored by ``model``, or None."""
    query = (
        select(batches.c.id)
        .where(batches.c.sha256 == sha256, batches.c.model == model)
        .order_by(batches.c.created.desc())
        .limit(1)
    )
    return conn.execute(query).scalar_one_or_none()


def get_batch(conn: Connection, batch_id: str) -> dict[str, Any] | None:
    """One batch with its summary, or None."""
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
    return dict(row) if row is not None else None


def _score_filter(
    batch_id: str,
    tier: str | None,
    province: str | None,
    sector: str | None,
    q: str | None,
) -> Any:
    conditions = [scores.c.batch_id == batch_id]
    if tier:
        conditions.append(scores.c.readiness_tier == tier)
    if province:
        conditions.append(scores.c.province == province)
    if sector:
        conditions.append(scores.c.sector == sector)
    if q:
        # A literal search: % and _ typed by a user match themselves.
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(
            or_(
                scores.c.coop_id.ilike(pattern, escape="\\"),
                scores.c.name.ilike(pattern, escape="\\"),
            )
        )
    return and_(*conditions)


def page_scores(
    conn: Connection,
    batch_id: str,
    *,
    tier: str | None = None,
    province: str | None = None,
    sector: str | None = None,
    q: str | None = None,
    sort: str = "position",
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of a batch's scores, filtered and sorted, and how many rows match in all.

    ``sort`` is one of :data:`SORTABLE`, with a leading ``-`` for descending; ties keep the
    input order.
    """
    where = _score_filter(batch_id, tier, province, sector, q)
    total = conn.execute(select(func.count()).select_from(scores).where(where)).scalar_one()
    key = getattr(scores.c, sort.lstrip("-"))
    order = key.desc() if sort.startswith("-") else key.asc()
    query = (
        select(scores).where(where).order_by(order, scores.c.position).limit(limit).offset(offset)
    )
    return int(total), [dict(row) for row in conn.execute(query).mappings()]


def iter_scores(
    conn: Connection, batch_id: str, *, chunk: int = 5000
) -> Iterator[list[dict[str, Any]]]:
    """All of a batch's scores in input order, ``chunk`` rows at a time (keyset paging)."""
    last = -1
    while True:
        query = (
            select(scores)
            .where(scores.c.batch_id == batch_id, scores.c.position > last)
            .order_by(scores.c.position)
            .limit(chunk)
        )
        rows = [dict(row) for row in conn.execute(query).mappings()]
        if not rows:
            return
        yield rows
        last = rows[-1]["position"]


def list_rejects(
    conn: Connection, batch_id: str, *, limit: int = 1000, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """A page of a batch's rejects (``row``, ``coop_id``, ``error``) and their total."""
    where = rejects.c.batch_id == batch_id
    total = conn.execute(select(func.count()).select_from(rejects).where(where)).scalar_one()
    query = (
        select(rejects.c.row, rejects.c.coop_id, rejects.c.error)
        .where(where)
        .order_by(rejects.c.position)
        .limit(limit)
        .offset(offset)
    )
    return int(total), [dict(row) for row in conn.execute(query).mappings()]


def cooperative_history(
    conn: Connection, coop_id: str, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Every stored score of one cooperative, newest batch first, with its batch's facts."""
    query = (
        select(
            scores,
            batches.c.created,
            batches.c.model,
            batches.c.source,
            batches.c.file_name,
        )
        .join(batches, batches.c.id == scores.c.batch_id)
        .where(scores.c.coop_id == coop_id)
        .order_by(batches.c.created.desc(), batches.c.id.desc(), scores.c.position.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def add_token(conn: Connection, *, name: str, role: str, token_hash: str) -> None:
    """Store a new token's hash under a unique name."""
    conn.execute(
        tokens.insert(), [{"name": name, "role": role, "token_hash": token_hash, "created": now()}]
    )


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """Every token's name, role, creation and revocation time (never the hash)."""
    query = select(tokens.c.name, tokens.c.role, tokens.c.created, tokens.c.revoked).order_by(
        tokens.c.name
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def revoke_token(conn: Connection, name: str) -> bool:
    """Revoke a token by name; False when no active token has that name."""
    result = conn.execute(
        update(tokens)
        .where(tokens.c.name == name, tokens.c.revoked.is_(None))
        .values(revoked=now())
    )
    return result.rowcount > 0


def active_tokens(conn: Connection) -> dict[str, tuple[str, str]]:
    """``{sha256 of token: (name, role)}`` of the tokens not revoked."""
    query = select(tokens.c.token_hash, tokens.c.name, tokens.c.role).where(
        tokens.c.revoked.is_(None)
    )
    return {row.token_hash: (row.name, row.role) for row in conn.execute(query)}


#: Score-row fields in the order an export writes them.
EXPORT_FIELDS = ("row", *SCORE_FIELDS, "name", "province", "sector")
