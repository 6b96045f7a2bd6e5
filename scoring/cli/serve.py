"""The service's commands: ``readiness serve`` and ``readiness tokens add | list | revoke``.

Nothing heavy is imported until a command runs, so ``readiness --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from scoring.cli.common import RegistryOption, err, out, registry_path, signing_key, user_errors

__all__ = [
    "LogLevel",
    "Role",
    "recording",
    "serve",
    "tokens_add",
    "tokens_app",
    "tokens_list",
    "tokens_revoke",
    "worker_app",
]

_SETTINGS_VARIABLE = "READINESS_SERVE_SETTINGS"
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

tokens_app = typer.Typer(
    help="The service's access tokens: add (shown once), list, revoke.", no_args_is_help=True
)


class Role(StrEnum):
    viewer = "viewer"
    officer = "officer"
    manager = "manager"
    analyst = "analyst"


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The store: a SQLAlchemy URL (postgresql+psycopg://...) or a SQLite file "
        "(default: $READINESS_DB, else readiness.db in the registry folder).",
        show_default=False,
    ),
]


def _db_url(db: str | None, registry: Path) -> str:
    from scoring.store import store_url

    return store_url(db if db is not None else os.environ.get("READINESS_DB"), registry)


@user_errors
def serve(
    model: Annotated[
        str, typer.Option("--model", help="NAME (follows its champion) or NAME@VERSION.")
    ] = "export-readiness",
    host: Annotated[
        str, typer.Option(help="Address to listen on; loopback unless tokens exist.")
    ] = ("127.0.0.1"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    db: DbOption = None,
    programs: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Programmes file (TOML) for the next step and what-if uplifts "
            "(default: $READINESS_PROGRAMS).",
        ),
    ] = None,
    max_records: Annotated[int, typer.Option(min=1, help="Records per request at most.")] = 1000,
    body_limit: Annotated[int, typer.Option(min=1024, help="Bytes of a JSON body at most.")] = (
        2 * 1024 * 1024
    ),
    upload_limit: Annotated[int, typer.Option(min=1024, help="Bytes of an upload at most.")] = (
        100 * 1024 * 1024
    ),
    reload_interval: Annotated[
        float, typer.Option(min=0, help="Seconds between champion checks (0: SIGHUP only).")
    ] = 5.0,
    log_level: Annotated[LogLevel, typer.Option(help="Log level of the JSON lines.")] = (
        LogLevel.info
    ),
    registry: RegistryOption = None,
    load: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="A list to score and store at start, as an upload, so the workbench opens on "
            "it (its figures kept for what-if and plan); repeat for several. One worker only.",
        ),
    ] = None,
) -> None:
    """Serve the scoring API (/api/v1, docs at /docs), the workbench (/) and the score store."""
    import uvicorn

    from scoring.service.app import create_app
    from scoring.service.settings import Settings

    the_registry = registry_path(registry)
    if programs is None and os.environ.get("READINESS_PROGRAMS"):
        programs = Path(os.environ["READINESS_PROGRAMS"])
    settings = Settings(
        registry=the_registry,
        model=model,
        db=_db_url(db, the_registry),
        programs=programs,
        host=host,
        port=port,
        workers=workers,
        signing_key=signing_key(),
        max_records=max_records,
        body_limit=body_limit,
        upload_limit=upload_limit,
        reload_interval=reload_interval,
        log_level=log_level.value,
    )
    if load and workers > 1:
        raise typer.BadParameter(
            "--load keeps the list's figures in one process for what-if and plan: use --workers 1"
        )
    app = create_app(settings)  # loads and verifies the model, checks the tokens: fails here
    shared = app.state.service
    where = f"http://{host}:{port}"
    if load:
        from scoring.web.uploads import load_files

        try:
            loaded = load_files(shared, load)
        except BaseException:
            shutil.rmtree(shared.upload_dir, ignore_errors=True)  # the server never started
            raise
        for path, batch_id in zip(load, loaded, strict=True):
            err.print(f"loaded {path}: {where}/batches/{batch_id}", markup=False, soft_wrap=True)
    err.print(
        f"serving {shared.holder.reference} on {where} (docs: {where}/docs); store "
        f"{shared.store.display_url()}" + ("" if shared.store_up else " (UNREACHABLE)"),
        markup=False,
        soft_wrap=True,
    )
    if shared.open:
        err.print(
            "open: no token exists, so anyone on this machine may call every endpoint; "
            "create one with `readiness tokens add NAME --role ROLE` to require tokens",
            markup=False,
            soft_wrap=True,
        )
    common = dict(
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
    )
    # uvicorn stops gracefully on SIGTERM or Ctrl-C, then raises the signal again (which the
    # CLI turns into KeyboardInterrupt): a server asked to stop has not failed.
    with contextlib.suppress(KeyboardInterrupt):
        if workers > 1:
            os.environ[_SETTINGS_VARIABLE] = settings.to_json()
            del app, shared
            uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **common)
        else:
            uvicorn.Server(uvicorn.Config(app, **common)).run()
    err.print("stopped", markup=False)


def worker_app() -> Any:
    """The application of one worker process (``--workers N``): settings from the parent."""
    from scoring.service.app import create_app
    from scoring.service.settings import Settings

    settings = Settings.from_json(os.environ[_SETTINGS_VARIABLE], signing_key=signing_key())
    return create_app(settings)


def _open_store(db: str | None, registry: Path | None) -> Any:
    from scoring.store import open_store

    return open_store(_db_url(db, registry_path(registry)))


@tokens_app.command("add")
@user_errors
def tokens_add(
    name: Annotated[str, typer.Argument(help="Who holds the token (unique), e.g. portal.")],
    role: Annotated[Role, typer.Option(help="viewer, officer, manager or analyst.")],
    db: DbOption = None,
    registry: RegistryOption = None,
) -> None:
    """Create a token: it is shown once; the store keeps only its sha256."""
    from scoring.service.auth import hash_token, new_token
    from scoring.store import StoreError
    from scoring.store.queries import add_token

    if not _TOKEN_NAME.match(name):
        raise typer.BadParameter("use letters, digits, '_', '.', '@' or '-' (max 64)")
    store = _open_store(db, registry)
    token = new_token()
    try:
        with store.begin() as conn:
            add_token(conn, name=name, role=role.value, token_hash=hash_token(token))
    except StoreError as exc:
        raise StoreError(f"cannot add token '{name}' (is the name taken?): {exc}") from None
    out.print(f"token for {name} ({role.value}), shown once; keep it safe:", markup=False)
    out.print(token, markup=False, soft_wrap=True)


@tokens_app.command("list")
@user_errors
def tokens_list(db: DbOption = None, registry: RegistryOption = None) -> None:
    """Every token's name, role, creation and revocation (never the token)."""
    from rich.table import Table

    from scoring.store.queries import list_tokens

    with _open_store(db, registry).connect() as conn:
        rows = list_tokens(conn)
    if not rows:
        out.print("no tokens: the service runs open on loopback only")
        return
    table = Table()
    for column in ("name", "role", "created", "revoked"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(row["name"], row["role"], row["created"], row["revoked"] or "")
    out.print(table)


@tokens_app.command("revoke")
@user_errors
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: DbOption = None,
    registry: RegistryOption = None,
) -> None:
    """Revoke a token: refused by running services within seconds."""
    from scoring.store import StoreError
    from scoring.store.queries import revoke_token

    with _open_store(db, registry).begin() as conn:
        revoked = revoke_token(conn, name)
    if not revoked:
        raise StoreError(f"no active token named '{name}' (see `readiness tokens list`)")
    out.print(f"revoked {name}")


class _Recording:
    """A ``readiness score --db`` run being recorded (see :func:`recording`)."""

    def __init__(
        self,
        recorder: Any = None,
        rejects: Path | None = None,
        url: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.recorder = recorder
        self.rejects = rejects
        self.url = url
        #: The rejects file's header of each column (Persian under --lang fa) -> its name.
        self.names = {header: name for name, header in (headers or {}).items()}

    def finish(self, result: Any) -> None:
        """After ``score_file`` returned: add the rejects, set the counts; commits on exit."""
        if self.recorder is None:
            return
        import pandas as pd

        from scoring.reading import open_table
        from scoring.store import StoreError

        # A run without rejects leaves a header-only file, which the reader refuses as input.
        rejected = result.to_dict().get("rows_rejected", 0) and self.rejects.stat().st_size
        table = open_table(self.rejects).read_all() if rejected else None
        if table is not None and table.num_rows:
            rejects = table.to_pandas().rename(columns=self.names)
            rejects["row"] = pd.to_numeric(rejects["row"]).astype("int64")
            self.recorder.add_rejects(rejects.fillna(""))
        outcome = self.recorder.finish(result.to_dict())
        if not outcome.stored:
            raise StoreError(f"{outcome.error} (scores were written; the store {self.url} was not)")
        out.print(f"batch {outcome.batch_id} recorded in {self.url}", soft_wrap=True)


@contextlib.contextmanager
def recording(db: str | None, file: Path, model: Any, options: dict[str, Any]) -> Iterator[Any]:
    """Record a ``readiness score`` run in the store at ``db`` (nothing when None).

    The scored chunks go into one open transaction as ``score_file`` writes them (the
    ``extra`` hook in ``options``: nothing is held in memory, nothing re-read); the rejects
    are read back from the rejects file (a temporary one when ``--rejects`` is not given).
    The batch commits when the block ends without an error, so it is stored whole or not at
    all. The store is opened (and migrated) first, so an unreachable one stops the run early.
    """
    if db is None:
        yield _Recording()
        return
    import getpass
    import tempfile

    from scoring.localize import output_headers
    from scoring.store import BatchRecorder, open_store, store_url
    from scoring.store.recorder import file_sha256
    from scoring.validation import REJECT_COLUMNS

    store = open_store(store_url(db, "."))
    with contextlib.ExitStack() as stack:
        if options.get("rejects") is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            options["rejects"] = folder / "rejects.parquet"
        recorder = BatchRecorder(
            store,
            source="cli",
            file_name=Path(file).name,
            sha256=file_sha256(file),
            model=model.reference,
            uploaded_by=f"cli:{getpass.getuser()}",
        )
        options["extra"] = recorder.extra(options.get("extra"))
        headers = output_headers(model.contract, options.get("lang"), REJECT_COLUMNS)
        with recorder:
            yield _Recording(recorder, Path(options["rejects"]), store.display_url(), headers)
