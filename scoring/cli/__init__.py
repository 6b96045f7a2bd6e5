"""The ``readiness`` command line: thin wrappers that parse options, call the library, print.

The only package that prints, exits or reads environment variables; one module per group of
commands, sharing the apps, consoles, options and the error boundary of :mod:`.common`.
"""

from __future__ import annotations

import os
import signal
from typing import Annotated, Any

from scoring.collector import end_of_start_up, pause_for_start_up, paused

with paused():  # typer, rich and the commands: objects, no garbage
    import typer

    from scoring.cli import data, models, plan, reports, score  # noqa: F401 (registers commands)
    from scoring.cli.common import app, err, out, user_errors
    from scoring.cli.serve import serve, tokens_app

__all__ = ["app", "err", "main", "out", "user_errors"]

app.command("serve")(serve)
app.add_typer(tokens_app, name="tokens")
#: The order ``readiness --help`` lists the commands in: the order of the work.
_ORDER = ("sample", "validate", "train", "evaluate", "score", "plan", "serve")
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name or c.callback.__name__))

#: One example per command, shown at the end of its ``--help``.
EXAMPLES = {
    "sample": "readiness sample --rows 2000 --seed 1 --out list.csv --unlabelled",
    "validate": "readiness validate registry.xlsx --rejects problems.csv",
    "train": "readiness train registry-2024.csv --name export-readiness",
    "evaluate": "readiness evaluate registry-2025.csv --model export-readiness",
    "score": "readiness score list-fa.xlsx --out scores.xlsx --lang fa --keep-columns name",
    "plan": "readiness plan list.csv --programs examples/programs.toml --budget 60,000 "
    "--out plan.csv",
    "serve": "readiness serve --port 8000",
    "list": "readiness models list",
    "show": "readiness models show export-readiness",
    "verify": "readiness models verify export-readiness@VERSION",
    "promote": "readiness models promote export-readiness@VERSION",
    "model": "readiness report model export-readiness --out model.html --lang fa",
    "batch": "readiness report batch scores.csv --summary summary.json --out batch.html",
    "plan-report": "readiness report plan plan.csv --out plan.html --lang fa",
    "add": "readiness tokens add portal --role officer",
}


def _add_examples(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        key = "plan-report" if typer_app is not app and name == "plan" else name
        key = key.removeprefix("models-").removeprefix("report-")
        if key in EXAMPLES and not command.epilog:
            command.epilog = f"Example: {EXAMPLES[key]}"
    for group in typer_app.registered_groups:
        _add_examples(group.typer_instance)


_add_examples(app)


def _version(value: bool) -> None:
    if value:
        from scoring import __version__

        out.print(f"readiness {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Export-readiness scoring for production cooperatives."""


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
    # Off while typer parses the options (it imports pydantic to do so); a command turns it
    # on again as it begins (common.user_errors).
    pause_for_start_up()
    try:
        app(prog_name="readiness")
    finally:
        end_of_start_up()
