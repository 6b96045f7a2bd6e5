"""The ``readiness`` command line: thin wrappers that parse options, call the library, print.

The only package that prints, exits or reads environment variables; one module per group of
commands, sharing the apps, consoles, options and the error boundary of :mod:`.common`.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from scoring.cli import data, models, plan, reports, score  # noqa: F401 (registers commands)
from scoring.cli.common import app, err, out, user_errors
from scoring.service.commands import serve, tokens_app

__all__ = ["app", "err", "main", "out", "user_errors"]

app.command("serve")(serve)
app.add_typer(tokens_app, name="tokens")
#: The order ``readiness --help`` lists the commands in: the order of the work.
_ORDER = ("sample", "validate", "train", "evaluate", "score", "plan", "serve")
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name or c.callback.__name__))


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
    app(prog_name="readiness")
