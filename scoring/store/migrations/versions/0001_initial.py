"""The first schema: batches, scores, rejects and tokens.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _batch_key() -> sa.Column:
    return sa.Column(
        "batch_id",
        sa.String(36),
        sa.ForeignKey("batches.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_scored", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.Text, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_index("ix_batches_created", "batches", ["created"])
    double = sa.Float(53)
    op.create_table(
        "scores",
        _batch_key(),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("coop_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("province", sa.Text),
        sa.Column("sector", sa.Text),
        sa.Column("export_probability", double, nullable=False),
        sa.Column("readiness_score", double, nullable=False),
        sa.Column("readiness_tier", sa.String(1), nullable=False),
        sa.Column("reason_1", sa.Text, nullable=False),
        sa.Column("reason_2", sa.Text, nullable=False),
        sa.Column("reason_3", sa.Text, nullable=False),
        *(
            sa.Column(name, double)
            for name in (
                "capacity_score",
                "quality_score",
                "output_score",
                "market_score",
                "sector_percentile",
            )
        ),
        sa.Column("next_step", sa.Text),
        sa.Column("next_step_score", double),
    )
    op.create_index("ix_scores_coop_id", "scores", ["coop_id"])
    op.create_index("ix_scores_batch_tier", "scores", ["batch_id", "readiness_tier"])
    op.create_table(
        "rejects",
        _batch_key(),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("coop_id", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("revoked", sa.String(32)),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("rejects")
    op.drop_index("ix_scores_batch_tier", "scores")
    op.drop_index("ix_scores_coop_id", "scores")
    op.drop_table("scores")
    op.drop_index("ix_batches_created", "batches")
    op.drop_table("batches")
