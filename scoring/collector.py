"""Start-up without the cyclic garbage collector: importing makes objects, not garbage.

Importing pandas, numpy, pyarrow, typer and the package makes some hundreds of thousands of
objects, and the collector walks them again and again as they come (about 8 % of the imports'
time here), to find nothing to free. :func:`paused` runs a block without it; the command line
keeps it off from its start until a command begins (:func:`pause_for_start_up`,
:func:`end_of_start_up`). It is on again, as it was, whatever happens in between.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["end_of_start_up", "pause_for_start_up", "paused"]

_paused_for_start_up = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Run the block with the collector off; on again after it if it was on before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def pause_for_start_up() -> None:
    """Turn the collector off until :func:`end_of_start_up` (if it is on)."""
    global _paused_for_start_up
    if gc.isenabled():
        gc.disable()
        _paused_for_start_up = True


def end_of_start_up() -> None:
    """Turn the collector on again if :func:`pause_for_start_up` turned it off."""
    global _paused_for_start_up
    if _paused_for_start_up:
        _paused_for_start_up = False
        gc.enable()
