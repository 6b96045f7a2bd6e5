"""Alembic migrations of the score store (``env.py`` and ``versions/``), run at every start."""
