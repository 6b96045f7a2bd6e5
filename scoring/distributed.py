"""The Dask engine: the same scoring, with chunks normalised, validated and scored on workers.

The driver streams raw chunks from the file (so row numbers and unsplittable rows are known in
file order) and submits each to a worker, at most a few at a time, so memory stays bounded. A
worker validates its chunk against the model's contract, scores it from the lookup tables and
returns the scored rows, the rejects and the feature matrix. Ids can repeat across chunks, which
no worker sees, so the driver checks them in file order exactly as the local engine does and
moves a repeated row to the rejects with the same message. The output is therefore identical to
the local engine's.

The model travels once: its manifest and tables (plain data) are scattered to every worker and
turned into a :class:`~scoring.batch.ScoringModel` there, cached per model version. Each worker
runs one thread with one OpenMP thread, so workers do not oversubscribe the cores.

On one 2-core machine this brings no speed-up over the local engine; it is for clusters
(``--scheduler tcp://HOST:PORT``).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.batch import ScoreSummary, ScoringModel, score_chunk, write_scores
from scoring.compiled import CompiledScorer
from scoring.contract import contract_from_dict
from scoring.errors import ReadinessError
from scoring.normalize import map_headers, normalize_chunk
from scoring.reading import open_table
from scoring.registry import LoadedModel
from scoring.validation import ChunkResult, Validator, attach_bad_rows, passthrough_columns

__all__ = ["score_file_dask", "start_client"]

IN_FLIGHT_PER_WORKER = 2


def start_client(scheduler: str | None = None, *, n_workers: int = 2) -> Any:
    """A Dask client: on ``scheduler``, or on a new local cluster of ``n_workers`` processes.

    ``scheduler="synchronous"`` runs every task at once in this process (for tests and
    debugging): the same code path without a cluster.
    """
    if scheduler == "synchronous":
        return _InlineClient()
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ReadinessError(
            "--engine dask needs the distributed extra: pip install 'export-readiness[distributed]'"
        ) from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ReadinessError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the worker processes
    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster)


def score_file_dask(
    path: str | Path,
    model: ScoringModel,
    out: str | Path,
    *,
    scheduler: str | None = None,
    client: Any = None,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    chunk_size: int = 100_000,
    keep_columns: Sequence[str] = (),
    lang: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    extra: Any = None,
    progress: Any = None,
) -> ScoreSummary:
    """Score a file on a Dask cluster; writes exactly what :func:`scoring.batch.score_file` does."""
    own_client = client is None
    client = start_client(scheduler) if own_client else client
    try:
        pieces = _pieces(client, path, model, chunk_size, list(keep_columns), lang, encoding, sheet)
        return write_scores(
            pieces,
            model,
            out,
            source=str(path),
            rejects=rejects,
            summary=summary,
            keep_columns=keep_columns,
            progress=progress,
            extra=extra,
        )
    finally:
        if own_client:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()


def _pieces(
    client: Any,
    path: str | Path,
    model: ScoringModel,
    chunk_size: int,
    keep: list[str],
    lang: str | None,
    encoding: str | None,
    sheet: str | int | None,
) -> Iterator[tuple[ChunkResult, pd.DataFrame, np.ndarray]]:
    source = open_table(path, encoding=encoding, sheet=sheet)
    contract = model.contract
    headers = map_headers(source.headers, contract, source=source.path.name)
    loaded = model.loaded
    payload = {"manifest": loaded.manifest, "scorer": loaded.scorer.to_dict(),
               "name": loaded.name, "version": loaded.version}  # fmt: skip
    [model_future] = client.scatter([payload], broadcast=True)
    duplicates = Validator(contract)
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    pending: collections.deque = collections.deque()
    reported_bad = 0

    def finish(future: Any, rows: np.ndarray) -> tuple[ChunkResult, pd.DataFrame, np.ndarray]:
        nonlocal reported_bad
        chunk, scored, X, ids = future.result()
        chunk, scored, X = _reject_repeats(duplicates, chunk, scored, X, ids, rows)
        last_row = int(rows[-1]) if len(rows) else 0
        new_bad = [b for b in source.bad_rows[reported_bad:] if b.row <= last_row]
        reported_bad += len(new_bad)
        if new_bad:
            chunk = attach_bad_rows(chunk, new_bad, source, contract)
        return chunk, scored, X

    for first_row, table in source.chunks(chunk_size):
        rows = source.row_numbers(first_row, table.num_rows)
        future = client.submit(
            _score_raw_chunk, table, rows, headers, model_future, lang, keep, pure=False
        )
        pending.append((future, rows))
        if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
            yield finish(*pending.popleft())
    while pending:
        yield finish(*pending.popleft())
    rest = source.bad_rows[reported_bad:]
    if rest:
        empty = pa.table({h: pa.array([], pa.string()) for h in source.headers})
        normalized = normalize_chunk(empty, headers, contract)
        chunk = duplicates.validate(normalized, np.empty(0, dtype=np.int64))
        chunk = attach_bad_rows(chunk, rest, source, contract)
        yield (
            chunk,
            _empty_scores(chunk, model, lang, keep),
            np.empty((0, len(model.scorer.features))),
        )


def _score_raw_chunk(
    table: pa.Table,
    rows: np.ndarray,
    headers: dict[str, str],
    payload: dict[str, Any],
    lang: str | None,
    keep: list[str],
) -> tuple[ChunkResult, pd.DataFrame, np.ndarray, pd.Series]:
    """On a worker: normalise, validate (all but repeated ids), score."""
    model = _worker_model(payload)
    normalized = normalize_chunk(table, headers, model.contract)
    chunk = Validator(model.contract, check_duplicates=False).validate(normalized, rows)
    if keep:
        chunk.passthrough = passthrough_columns(table, keep, headers, chunk, rows)
    scored, X = score_chunk(chunk, model, lang, keep)
    ids = normalized.frame[model.contract.id_column.name]
    return chunk, scored, X, ids


_MODELS: dict[tuple[str, str], ScoringModel] = {}


def _worker_model(payload: dict[str, Any]) -> ScoringModel:
    """The worker's model, built once per model version from the scattered data."""
    name, version = payload["name"], payload["version"]
    if (name, version) not in _MODELS:
        _MODELS[(name, version)] = _build_model(name, version, payload["manifest"], payload)
    return _MODELS[(name, version)]


def _build_model(
    name: str, version: str, manifest: dict[str, Any], payload: dict[str, Any]
) -> ScoringModel:
    loaded = LoadedModel(
        name=name,
        version=version,
        path=Path("."),
        manifest=manifest,
        contract=contract_from_dict(manifest["contract"], origin=f"{name}@{version}"),
        scorer=CompiledScorer.from_dict(payload["scorer"]),
        warnings=[],
    )
    return ScoringModel(loaded)


def _reject_repeats(
    validator: Validator,
    chunk: ChunkResult,
    scored: pd.DataFrame,
    X: np.ndarray,
    ids: pd.Series,
    rows: np.ndarray,
) -> tuple[ChunkResult, pd.DataFrame, np.ndarray]:
    """Apply the file-order id check the workers could not do; same messages as local."""
    found = validator.repeated_ids(ids, rows)
    if found is None:
        return chunk, scored, X
    _, lines = found
    repeated_rows = {int(rows[i]): line for i, line in lines.items()}
    valid_rows = chunk.valid["row"].to_numpy(dtype=np.int64)
    now_rejected = np.isin(valid_rows, list(repeated_rows))
    rejects = chunk.rejects.copy()
    if len(rejects):
        already = rejects["row"].astype(np.int64).map(repeated_rows)
        has = already.notna().to_numpy()
        rejects.loc[has, "error"] = rejects.loc[has, "error"] + "; " + already[has]
    if now_rejected.any():
        moved = chunk.valid.loc[now_rejected]
        added = pd.DataFrame(
            {
                "row": moved["row"].to_numpy(dtype=np.int64),
                "coop_id": moved[validator.contract.id_column.name].astype(str).to_numpy(),
                "error": [repeated_rows[int(r)] for r in moved["row"]],
            }
        )
        rejects = pd.concat([rejects, added], ignore_index=True)
        rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
        keep = ~now_rejected
        chunk.valid = chunk.valid.loc[keep].reset_index(drop=True)
        if chunk.passthrough is not None:
            chunk.passthrough = chunk.passthrough.loc[keep].reset_index(drop=True)
        scored = scored.loc[keep].reset_index(drop=True)
        X = X[keep]
    chunk.rejects = rejects
    return chunk, scored, X


class _InlineClient:
    """The few client methods the driver uses, running each task at once in this process."""

    class _Done:
        def __init__(self, value: Any) -> None:
            self.value = value

        def result(self) -> Any:
            return self.value

    def scatter(self, data: list[Any], broadcast: bool = False) -> list[Any]:
        return list(data)

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {"inline": {}}}

    def submit(self, function: Any, *args: Any, pure: bool = True) -> _Done:
        return self._Done(function(*args))

    def close(self) -> None:
        return None


def _empty_scores(
    chunk: ChunkResult, model: ScoringModel, lang: str | None, keep: list[str]
) -> pd.DataFrame:
    scored, _ = score_chunk(chunk, model, lang, keep)
    return scored
