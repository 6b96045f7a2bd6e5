"""The cyclic collector is off only while the command line starts, and on for every command."""

from __future__ import annotations

import gc
import sys

import pytest

from scoring import collector
from scoring.cli import app, main, user_errors


def _commands(typer_app):
    yield from typer_app.registered_commands
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance)


def test_every_command_begins_by_ending_start_up():
    """The collector comes back on in ``user_errors``: a command without it would run (a
    service for days) with the collector off."""
    wrapper_code = user_errors(lambda: None).__code__
    names = []
    for command in _commands(app):
        names.append(command.name or command.callback.__name__)
        assert command.callback.__code__ is wrapper_code, names[-1]
    assert {"score", "plan", "serve", "train"} <= set(names)  # the walk found the commands


def test_the_collector_is_on_inside_a_command_and_after_main(monkeypatch):
    seen = []

    @user_errors
    def probe() -> None:
        seen.append(gc.isenabled())

    app.command("collector-probe")(probe)
    monkeypatch.setattr(sys, "argv", ["readiness", "collector-probe"])
    try:
        with pytest.raises(SystemExit) as done:
            main()
    finally:
        app.registered_commands.pop()
    assert done.value.code == 0
    assert seen == [True]
    assert gc.isenabled()


def test_paused_restores_what_it_found():
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()


def test_start_up_pause_is_ended_once_and_only_if_it_paused():
    collector.pause_for_start_up()
    assert not gc.isenabled()
    collector.end_of_start_up()
    assert gc.isenabled()
    gc.disable()
    try:
        collector.pause_for_start_up()  # already off: not its to turn on
        collector.end_of_start_up()
        assert not gc.isenabled()
    finally:
        gc.enable()
