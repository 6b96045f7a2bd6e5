"""The score store: batches, their scores and rejects, and the service's tokens, in SQLite (a
file, the default) or PostgreSQL (by URL), through SQLAlchemy 2 Core; alembic migrates at open.
"""

from __future__ import annotations

from scoring.store.database import Store, StoreError, open_store, store_url
from scoring.store.recorder import BatchRecorder, RecordedBatch

__all__ = ["BatchRecorder", "RecordedBatch", "Store", "StoreError", "open_store", "store_url"]
