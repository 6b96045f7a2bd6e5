"""Reading a Parquet file in batches, its column types kept (numbers stay numbers).

Integers in number columns beyond 2^53, which a float64 cannot hold exactly, reject their row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring.errors import InputFileError
from scoring.reading.source import TableSource, first_line

__all__ = ["PARQUET_SUFFIXES", "open_parquet"]

PARQUET_SUFFIXES = (".parquet", ".pq")
_EXACT = 2**53  # the largest integer span a float64 holds exactly


def open_parquet(path: Path) -> TableSource:
    """Open a Parquet file: its column names are the headers, its schema their types."""
    import pyarrow.parquet as pq  # here: a CSV or Excel run does without its 14 ms import

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(f"cannot read {path} as Parquet: {first_line(exc)}") from None
    if parquet.metadata.num_rows == 0:
        raise InputFileError(f"file {path} has columns but no data rows (0 rows)")
    schema = parquet.schema_arrow
    return TableSource(
        path, "parquet", list(schema.names), schema=schema, _batches=_parquet_batches
    )


def _parquet_batches(
    source: TableSource, chunk_size: int, numbers: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    source.skip_recorded()
    position = source.header_row + 1
    try:
        for batch in pq.ParquetFile(source.path).iter_batches(batch_size=chunk_size):
            batch = _exact_numbers(source, batch, numbers, position)
            position += batch.num_rows
            yield batch
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(
            f"cannot read {source.path.name} as Parquet: {first_line(exc)}"
        ) from None


def _exact_numbers(
    source: TableSource, batch: pa.RecordBatch, numbers: Sequence[str], position: int
) -> pa.RecordBatch:
    """The batch without the rows whose integers in ``numbers`` are beyond 2^53 (recorded)."""
    problems: dict[int, str] = {}
    for header in numbers:
        column = batch.column(header)
        if not pa.types.is_integer(column.type) or column.type.bit_width < 54:
            continue
        beyond = pc.greater(column, pa.scalar(_EXACT, column.type))
        if pa.types.is_signed_integer(column.type):
            beyond = pc.or_(beyond, pc.less(column, pa.scalar(-_EXACT, column.type)))
        for i in np.flatnonzero(pc.fill_null(beyond, False).to_numpy(zero_copy_only=False)):
            problems.setdefault(
                int(i),
                f"column '{header}' holds {column[int(i)].as_py()}, beyond 2^53: "
                "too large to hold exactly as a number",
            )
    return source.drop_rows(batch, position, problems)
