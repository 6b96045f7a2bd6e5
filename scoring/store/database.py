"""Opening the store: a URL (or a SQLite file path) to an engine whose schema is migrated.

SQLite gets WAL journalling, a busy timeout and foreign keys, so the service and a
``readiness score --db`` run can write the same file; PostgreSQL is reached by URL
(``postgresql+psycopg://user:password@host/db``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from scoring.errors import ReadinessError
from scoring.store.queries import ping

__all__ = ["DEFAULT_FILE", "Store", "StoreError", "open_store", "store_url"]

#: The store's file name under the registry folder when no URL is given.
DEFAULT_FILE = "readiness.db"
_CONNECT_TIMEOUT = 5  # seconds: an unreachable server fails fast, it does not hang a request
_MIGRATION_LOCK = 0x5EAD1  # the advisory lock key migrations take on PostgreSQL


class StoreError(ReadinessError):
    """The store cannot be reached, migrated or written."""


def store_url(db: str | None, registry: str | Path) -> str:
    """The URL of the store: ``db`` when it is a URL, a SQLite URL for a file path, else the
    registry folder's ``readiness.db``."""
    if db is None or not str(db).strip():
        return f"sqlite:///{(Path(registry) / DEFAULT_FILE).resolve()}"
    text = str(db).strip()
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


class Store:
    """An engine on the store's database, migrated on :meth:`migrate`.

    Parameters
    ----------
    url
        A SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql+psycopg://...``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.migrated = False
        self.engine = _engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def display_url(self) -> str:
        """The URL without its password, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Bring the schema to the newest version (alembic ``upgrade head``)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("scoring.store") / "migrations")
        )
        try:
            # Several workers (or test processes) may start at once on a new store: one
            # migrates, the others wait and then find the schema at head.
            with self._migration_lock(), self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(
                f"cannot migrate the store {self.display_url()}: {_reason(exc)}"
            ) from None
        self.migrated = True

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """An exclusive lock on ``FILE.lock`` beside a SQLite file (PostgreSQL: an advisory
        lock in the migration's transaction instead)."""
        database = self.engine.url.database if self.dialect == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        import fcntl

        try:
            handle = open(f"{database}.lock", "a")  # noqa: SIM115 (closed below)
        except OSError:  # no folder to hold it: SQLite will say why it cannot open the file
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reading (migrating first if not yet done)."""
        if not self.migrated:
            self.migrate()
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.display_url()} failed: {_reason(exc)}") from None

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction: committed when the block ends, else rolled back."""
        if not self.migrated:
            self.migrate()
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.display_url()} failed: {_reason(exc)}") from None

    def reachable(self) -> tuple[bool, str]:
        """Whether the store answers (and is migrated), and why not."""
        try:
            with self.connect() as conn:
                ping(conn)
        except StoreError as exc:
            return False, str(exc)
        return True, ""

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """A :class:`Store` on ``url``, migrated unless ``migrate`` is False.

    Raises
    ------
    StoreError
        The URL is malformed or names a driver that is not installed, or (when migrating) the
        database cannot be reached.
    """
    store = Store(url)
    if migrate:
        store.migrate()
    return store


def _engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        connect_args: dict[str, Any] = {}
        if url.startswith("postgresql"):
            connect_args["connect_timeout"] = _CONNECT_TIMEOUT
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use the store URL: {_reason(exc)}") from None


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    # WAL: readers never block the writer; NORMAL sync is durable at each WAL checkpoint.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _reason(exc: BaseException) -> str:
    """The first line of a driver's error, without SQLAlchemy's background link."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
