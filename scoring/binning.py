"""Binning values by sorted edges, exactly as ``np.searchsorted`` does, in a few vector passes.

A binary search per value costs some 40 ns; scoring bins a million rows by every feature's
edges. A few edges are counted by one comparison each; more are looked up on an even grid of
cells between the first and the last edge, each grid cell holding the two or three edges inside
it, which are then compared. Both give the count of a binary search, bit for bit.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np

__all__ = ["code_type", "edge_counts"]

#: Up to this many edges, one comparison per edge is the fastest.
_COMPARED_EDGES = 6
#: Up to this many values (a service call), a binary search per value is cheapest.
_FEW_ROWS = 64
#: Grid cells per edge, and at most this many edges in one grid cell (else compared or searched).
_CELLS_PER_EDGE, _MAX_CELLS, _MAX_PER_CELL = 16, 1 << 14, 4
Side = Literal["left", "right"]


def code_type(slots: int) -> type[np.unsignedinteger]:
    """The smallest unsigned integer type that numbers ``slots`` cells."""
    return np.uint8 if slots <= 256 else np.uint16 if slots <= 65536 else np.uint32


def edge_counts(
    x: np.ndarray, edges: np.ndarray, *, side: Side = "left", dtype: type = np.intp
) -> np.ndarray:
    """``np.searchsorted(edges, x, side)`` for strictly increasing finite ``edges``.

    How many edges lie below each value (``side="right"``: at or below), as ``dtype`` (which
    must hold ``len(edges)``); 0 for NaN (callers give NaN its own cell).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    if len(x) > _FEW_ROWS and len(edges) > _COMPARED_EDGES:
        grid = _grid(np.asarray(edges, dtype=np.float64).tobytes())
        if grid is not None:
            return grid.counts(x, side, dtype)
    if len(x) <= _FEW_ROWS or len(edges) > 128:  # one binary search a value beats the passes
        out = np.searchsorted(edges, x, side=side).astype(dtype)
        out[np.isnan(x)] = 0
        return out
    # A comparison per edge runs vectorised without branches; NaN is above no edge.
    compare = np.greater if side == "left" else np.greater_equal
    out = np.zeros(len(x), dtype=dtype)
    above = np.empty(len(x), dtype=bool)
    for edge in edges:
        compare(x, edge, out=above)
        out += above
    return out


@functools.lru_cache(maxsize=256)
def _grid(edges: bytes) -> _Grid | None:
    """The grid of some edges (as the bytes of their floats), made once for every chunk."""
    return _Grid.of(np.frombuffer(edges, dtype=np.float64))


class _Grid:
    """Edges placed on an even grid: ``cell(v)`` is monotone in ``v``, so an edge in an earlier
    cell than a value is below it, one in a later cell above it; only the edges of the value's
    own cell are compared."""

    def __init__(self, first: float, scale: float, size: int, before: np.ndarray, inside: list):
        self.first, self.scale, self.size = first, scale, size
        self.before = before  # per cell: how many edges lie in earlier cells
        self.inside = inside  # per place t: the t-th edge of each cell, NaN where none

    @classmethod
    def of(cls, edges: np.ndarray) -> _Grid | None:
        span = float(edges[-1] - edges[0])
        size = min(_CELLS_PER_EDGE * len(edges), _MAX_CELLS)
        scale = size / span if span > 0 else np.inf
        if not np.isfinite(scale) or not np.all(np.isfinite(edges)):
            return None
        grid = cls(float(edges[0]), scale, size, np.empty(0, np.intp), [])
        cells = grid.cells(edges)
        counts = np.bincount(cells, minlength=size + 2)
        if counts.max() > _MAX_PER_CELL:  # edges bunched together: compare or search instead
            return None
        grid.before = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        for t in range(int(counts.max())):
            place = np.full(size + 2, np.nan)
            has = counts > t
            place[has] = edges[grid.before[has] + t]
            grid.inside.append(place)
        return grid

    def cells(self, values: np.ndarray) -> np.ndarray:
        """The grid cell of each value: 0 below the first edge's cell, ``size + 1`` above."""
        with np.errstate(over="ignore", invalid="ignore"):  # beyond the grid: clipped below
            position = (values - self.first) * self.scale
        np.floor(position, out=position)
        np.clip(position, -1.0, float(self.size), out=position)
        position[np.isnan(position)] = -1.0
        position += 1.0
        return position.astype(np.intp)

    def counts(self, x: np.ndarray, side: Side, dtype: type) -> np.ndarray:
        cells = self.cells(x)
        out = self.before.take(cells).astype(dtype)
        # The edges in the value's own cell; NaN (no edge, or a NaN value) compares false.
        compare = np.less if side == "left" else np.less_equal
        below = np.empty(len(x), dtype=bool)
        for place in self.inside:
            compare(place.take(cells), x, out=below)
            out += below
        return out
