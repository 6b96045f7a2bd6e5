"""Indexes for the workbench's batch table at 100,000 rows: the best scores first (within a
tier too), counts of a province or sector filter, and searching ids and names in an index
rather than the whole rows.

Measured on a 100,000-row batch in SQLite (benchmarks/bench_workbench.py, a loaded 2-core
machine): the first page by score went from a temporary B-tree over the batch (80 ms) to an
index walk (0.1 ms), tier C of one sector by score from 45 to 1.4 ms (its count from 31 to
0.2 ms), a province-and-tier count from 15 to 0.1 ms, a search's count from 169 to 67 ms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: name -> columns; ``position`` last keeps the input order among equal scores (the queries'
#: tie-break), so the page is read off the index with no sort.
_INDEXES = {
    "ix_scores_batch_score": ["batch_id", sa.text("readiness_score DESC"), "position"],
    # Without it a tier filter sorted by score walks the score index above past other tiers.
    "ix_scores_batch_tier_score": [
        "batch_id",
        "readiness_tier",
        sa.text("readiness_score DESC"),
        "position",
    ],
    # Counts of a filter read these alone (the table's rows are not touched).
    "ix_scores_batch_province": ["batch_id", "province", "readiness_tier"],
    "ix_scores_batch_sector": ["batch_id", "sector", "readiness_tier"],
    # A search (text anywhere in the id or name) still reads every row of the batch, but from
    # this narrow index rather than the table.
    "ix_scores_batch_search": ["batch_id", "coop_id", "name"],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "scores", columns)


def downgrade() -> None:
    for name in reversed(_INDEXES):
        op.drop_index(name, "scores")
