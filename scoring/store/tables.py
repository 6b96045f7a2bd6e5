"""The store's tables, declared once (SQLAlchemy 2 Core): batches, their scores and rejects,
and the service's access tokens. Migrations in ``migrations/versions`` build exactly these.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from scoring.batch import SCORE_COLUMNS

__all__ = ["SCORE_FIELDS", "batches", "metadata", "rejects", "scores", "tokens"]

metadata = MetaData()

#: One scored batch: a file uploaded to the service, a `readiness score --db` run, or records
#: scored through the API with ``"store": true``. Times are UTC ISO-8601 text (sortable).
batches = Table(
    "batches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created", String(32), nullable=False, index=True),
    Column("source", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("rows_scored", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Column("uploaded_by", Text, nullable=False),
    Column("summary", JSON, nullable=False),
)

#: The score output of each valid row, with the row's canonical province and sector (for
#: filtering) and its name; ``position`` keeps the input order.
scores = Table(
    "scores",
    metadata,
    Column("batch_id", String(36), ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("row", Integer, nullable=False),
    Column("coop_id", Text, nullable=False),
    Column("name", Text),
    Column("province", Text),
    Column("sector", Text),
    Column("export_probability", Float(53), nullable=False),
    Column("readiness_score", Float(53), nullable=False),
    Column("readiness_tier", String(1), nullable=False),
    Column("reason_1", Text, nullable=False),
    Column("reason_2", Text, nullable=False),
    Column("reason_3", Text, nullable=False),
    Column("capacity_score", Float(53)),
    Column("quality_score", Float(53)),
    Column("output_score", Float(53)),
    Column("market_score", Float(53)),
    Column("sector_percentile", Float(53)),
    Column("next_step", Text),
    Column("next_step_score", Float(53)),
)
Index("ix_scores_coop_id", scores.c.coop_id)
Index("ix_scores_batch_tier", scores.c.batch_id, scores.c.readiness_tier)

#: The score-output columns a score row holds (beside batch_id, position, row, name, province,
#: sector).
SCORE_FIELDS = (*SCORE_COLUMNS, "next_step", "next_step_score")

rejects = Table(
    "rejects",
    metadata,
    Column("batch_id", String(36), ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("row", Integer, nullable=False),
    Column("coop_id", Text, nullable=False),
    Column("error", Text, nullable=False),
)

#: Access tokens of the service: only the sha256 of each token is kept.
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created", String(32), nullable=False),
    Column("revoked", String(32)),
)
