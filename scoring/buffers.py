"""Zero-copy numpy views of an Arrow text array: its offsets and its UTF-8 bytes.

Normalising and id hashing work on the bytes of whole columns at once, not cell by cell.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["text_buffers"]


def text_buffers(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, bytes)`` of a string or large string array, offsets from 0; no copy of bytes.

    ``offsets`` has ``len(texts) + 1`` entries (int32 for ``string``, int64 for
    ``large_string``); cell ``i`` is ``bytes[offsets[i]:offsets[i + 1]]``.
    """
    n = len(texts)
    width = np.dtype(np.int64 if pa.types.is_large_string(texts.type) else np.int32)
    if n == 0:
        return np.zeros(1, dtype=width), np.empty(0, dtype=np.uint8)
    _, offsets_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=width, count=n + 1, offset=width.itemsize * texts.offset
    )
    start, stop = int(offsets[0]), int(offsets[-1])
    if start:
        offsets = offsets - start
    if data_buffer is None or stop == start:
        return offsets, np.empty(0, dtype=np.uint8)
    return offsets, np.frombuffer(data_buffer, np.uint8, count=stop - start, offset=start)
