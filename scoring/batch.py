"""Batch scoring: stream a file through validation, the compiled scorer and the explainer.

Each chunk is validated against the contract stored with the model, scored from the lookup
tables, explained (reasons, sub-scores, sector percentile) and written at once, so memory stays
flat however long the file. Outputs (scores, rejects) are written atomically: they appear only
when the whole file has been processed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.compiled import sigmoid
from scoring.contract import TIERS
from scoring.drift import DriftMonitor
from scoring.headers import HeaderMap
from scoring.localize import RejectTranslator, output_headers, summary_sections
from scoring.model import ScoringModel, tier_codes
from scoring.pipeline import ChunkPipeline, open_source
from scoring.reading import PARQUET_SUFFIXES
from scoring.tiers import readiness_scores
from scoring.validation import REJECT_COLUMNS, ChunkResult, ValidationReport, reject_table
from scoring.workbook import ONE_DECIMAL, PERCENT, SheetLayout
from scoring.writing import TableWriter, write_json

__all__ = [
    "SCORES_LAYOUT",
    "SCORE_COLUMNS",
    "ScoreSummary",
    "score_chunk",
    "score_file",
    "score_frame",
    "write_scores",
]

SCORE_COLUMNS = [
    "coop_id",
    "export_probability",
    "readiness_score",
    "readiness_tier",
    "reason_1",
    "reason_2",
    "reason_3",
    "capacity_score",
    "quality_score",
    "output_score",
    "market_score",
    "sector_percentile",
]
#: Columns some runs add: the tier's name (with ``lang``) and the next step (``--next-step``).
OPTIONAL_COLUMNS = ["tier_name", "next_step", "next_step_score"]
#: How the scores sheet of a workbook shows its columns: probability as a percentage, scores
#: and the percentile to one decimal, the tier's cells in its colour.
_ONE_DECIMAL_COLUMNS = (
    "readiness_score", "capacity_score", "quality_score", "output_score", "market_score",
    "sector_percentile", "next_step_score",
)  # fmt: skip
SCORES_LAYOUT = SheetLayout(
    number_formats={
        "export_probability": PERCENT,
        **dict.fromkeys(_ONE_DECIMAL_COLUMNS, ONE_DECIMAL),
    },
    tier_column="readiness_tier",
    tier_colored=("readiness_tier", "tier_name"),
)
_PROGRESS_ROWS = 10_000  # rows written between two reports of progress
#: Pieces of a chunk in memory at once while scoring to CSV or Excel: one read ahead, one
#: validated ahead, one scored and one written. A file of one chunk is in four pieces too, so
#: memory is as full as a long file's: a long file's peak stays that of a short one. (Halves
#: spent some 5-10 % less CPU on 1M rows, but a 1M file's peak rose to 1.25 times a 100k
#: file's, over the 1.2 the benchmark holds it to.)
_PIECES = 4
#: Called with how many more rows were written (scores and rejects: all add up to rows read).
Progress = Callable[[int], None]
Extra = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], pd.DataFrame]
Piece = tuple[ChunkResult, pd.DataFrame, np.ndarray]
Engine = Callable[[ChunkPipeline, int, str | None], Iterable[Piece]]


def score_frame(
    valid: pd.DataFrame,
    model: ScoringModel,
    *,
    lang: str | None = None,
    X: np.ndarray | None = None,
) -> pd.DataFrame:
    """Score validated rows: one output row per input row, columns as in :data:`SCORE_COLUMNS`.

    ``lang`` None writes reason codes; ``"en"``/``"fa"`` writes reason texts and adds
    ``tier_name`` in that language.
    """
    X = _features(model, valid) if X is None else X
    index = model.scorer.indices(X)
    features, pairs = model.scorer.contributions_at(index)
    logit = model.scorer.intercept + features.sum(axis=1) + pairs.sum(axis=1)
    probability = sigmoid(logit)
    tiers = tier_codes(probability, model.tiers)
    reason_ids, texts = model.explainer.reason_ids(
        X, index=index, codes=lang is None, lang=lang or "en"
    )
    # Reasons are positions in a short list of texts: gathered as Arrow text at once, not
    # made into a million Python strings and back.
    words = pa.array(texts, pa.large_string())
    reasons = [_text_column(words.take(reason_ids[:, rank])) for rank in range(3)]
    dimensions = model.explainer.dimension_scores(features, pairs)
    out = {
        "coop_id": _id_column(valid[model.contract.id_column.name]),
        "export_probability": probability,
        "readiness_score": readiness_scores(probability),
        "readiness_tier": _text_column(pa.array(TIERS, pa.large_string()).take(tiers)),
        "reason_1": reasons[0],
        "reason_2": reasons[1],
        "reason_3": reasons[2],
        "capacity_score": np.round(dimensions.get("capacity", np.full(len(X), np.nan)), 1),
        "quality_score": np.round(dimensions.get("quality", np.full(len(X), np.nan)), 1),
        "output_score": np.round(dimensions.get("output", np.full(len(X), np.nan)), 1),
        "market_score": np.round(dimensions.get("market", np.full(len(X), np.nan)), 1),
        "sector_percentile": np.round(model.explainer.sector_percentile(X, probability), 1),
    }
    frame = pd.DataFrame(out)
    if lang is not None:
        names = np.array([model.contract.tier_label(t, lang) for t in TIERS], dtype=object)
        frame.insert(4, "tier_name", names.take(tiers))
    return frame


class _ExactSum:
    """A sum of floats, exact whatever the chunks they come in, rounded once at the end.

    Each finite value is ``q * 2**(e - 53)`` with ``q`` an integer of 53 bits (``np.frexp``).
    Values of one exponent are added in numpy, ``q`` split in two halves of 27 and 26 bits whose
    float sums stay exact (below 2**53) for slices of up to 2**24 values; the few sums, one per
    exponent met, are added to a Python integer in units of 2**-1126 (the smallest double is
    2**-1074). Python rounds the integer's quotient correctly: the total is ``math.fsum`` of
    every value added. NaN is left out; an infinity is added as a float.
    """

    _UNIT = 1126  # the total is self._exact * 2**-_UNIT
    _SLICE = 1 << 24

    def __init__(self) -> None:
        self._exact = 0
        self._infinite = 0.0

    def add(self, values: np.ndarray) -> None:
        """Add the values that are not NaN."""
        values = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(values)
        if not finite.all():
            self._infinite += float(values[np.isinf(values)].sum())
            values = values[finite]
        for start in range(0, len(values), self._SLICE):
            mantissa, exponent = np.frexp(values[start : start + self._SLICE])
            q = np.ldexp(mantissa, 53).astype(np.int64)  # exact: |q| < 2**53
            shift = exponent + (self._UNIT - 53)  # value * 2**_UNIT == q << shift, shift >= 0
            high = np.bincount(shift, weights=q >> 26)
            low = np.bincount(shift, weights=q & ((1 << 26) - 1))
            for at in np.flatnonzero((high != 0) | (low != 0)).tolist():
                self._exact += ((int(high[at]) << 26) + int(low[at])) << at

    def total(self) -> float:
        if self._infinite:
            return self._infinite
        return self._exact / (1 << self._UNIT)


def _counts(values: pd.Series) -> dict[str, int]:
    """``values.value_counts().to_dict()`` counted by Arrow (a third of pandas' cost)."""
    counts = pc.value_counts(pa.array(values.array, pa.large_string()))
    return dict(zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=True))


def _features(model: ScoringModel, valid: pd.DataFrame) -> np.ndarray:
    """The feature matrix, column by column in memory: scoring reads it by feature."""
    return model.matrix.transform(valid, order="F")


def _text_column(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow text as pandas' text column, without a copy."""
    return pd.array(values, dtype="str")


def _id_column(ids: pd.Series) -> Any:
    """The ids as they are (text is kept as Arrow text), without the frame's index."""
    return ids.array if ids.dtype == "str" else ids.to_numpy()


@dataclass
class ScoreSummary:
    """Counts, tiers, unknown categories, drift and column coverage of one scoring run."""

    model: str
    source: str
    header_row: int = 1  # the spreadsheet row the headers were found on
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    tiers: Counter = field(default_factory=Counter)
    unknown_categories: dict[str, Counter] = field(default_factory=dict)
    problems: Counter = field(default_factory=Counter)
    drift: list[dict[str, Any]] = field(default_factory=list)
    mean_probability: float = float("nan")
    started: str = ""
    seconds: float = 0.0
    #: Coverage: the header that fed each column, the optional columns the model uses that the
    #: file lacks, headers that fed no column, row-counter headers, and the units headers gave.
    columns_found: dict[str, str] = field(default_factory=dict)
    columns_absent: list[str] = field(default_factory=list)
    headers_unmatched: list[str] = field(default_factory=list)
    headers_row_counters: list[str] = field(default_factory=list)
    column_units: dict[str, str] = field(default_factory=dict)

    def add_coverage(self, headers: HeaderMap) -> None:
        """Record how the file's headers fed the contract (:func:`scoring.headers.map_headers`)."""
        self.columns_found = dict(headers.columns)
        self.columns_absent = list(headers.absent)
        self.headers_unmatched = list(headers.unmatched)
        self.headers_row_counters = list(headers.row_counters)
        self.column_units = {name: unit.unit for name, unit in headers.units.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "source": self.source,
            "header_row": self.header_row,
            "rows_read": self.rows_read,
            "rows_scored": self.rows_scored,
            "rows_rejected": self.rows_rejected,
            "tiers": {t: int(self.tiers.get(t, 0)) for t in TIERS},
            "mean_probability": self.mean_probability,
            "unknown_categories": {k: dict(v) for k, v in self.unknown_categories.items()},
            "most_common_problems": dict(self.problems.most_common(10)),
            "drift": self.drift,
            "drift_shifted": [d["feature"] for d in self.drift if d["verdict"] == "shifted"],
            "columns_found": dict(self.columns_found),
            "columns_absent": list(self.columns_absent),
            "headers_unmatched": list(self.headers_unmatched),
            "headers_row_counters": list(self.headers_row_counters),
            "column_units": dict(self.column_units),
            "started": self.started,
            "seconds": round(self.seconds, 3),
        }


def score_file(
    path: str | Path,
    model: ScoringModel,
    out: str | Path,
    *,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    chunk_size: int = 100_000,
    keep_columns: Sequence[str] = (),
    lang: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    extra: Extra | None = None,
    engine: Engine | None = None,
) -> ScoreSummary:
    """Score a whole file, chunk by chunk, into ``out`` (and ``rejects``, ``summary``).

    About ``chunk_size`` rows are in memory at once (the local engine works on quarters of it,
    :data:`_PIECES`, one in each stage; whole chunks for a Parquet ``out``, whose row groups
    follow them), so memory stays flat however long the file.
    ``extra(valid, scored, X)`` may add columns to each scored chunk (e.g. the next step).
    ``header_row`` (1-based) forces the header row, else it is found. ``engine(pipeline,
    chunk_size, lang)`` yields the scored pieces in file order (the Dask engine's); by default
    they are scored here. Nothing is written unless the whole file is processed. ``lang`` writes
    reason texts and tier names, and with ``"fa"`` Persian headers and reject messages
    (:func:`write_scores`).
    """
    started = dt.datetime.now(dt.UTC)  # the summary's time is the whole run's, from here
    source = open_source(
        path, model.contract, encoding=encoding, sheet=sheet, header_row=header_row
    )
    pipeline = ChunkPipeline(source, model.contract, keep=keep_columns, strict=strict)
    if engine is None:
        # Parquet row groups follow the chunks written: whole chunks keep its file as it was.
        parquet = Path(out).suffix.lower() in PARQUET_SUFFIXES
        size = chunk_size if parquet else max(1, chunk_size // _PIECES)
        chunks = pipeline.chunks(size)
        pieces = _scored_pieces(chunks, model, lang, keep_columns)
    else:
        pieces = engine(pipeline, chunk_size, lang)
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
        headers=pipeline.headers,
        header_row=source.header_row,
        lang=lang,
        started=started,
    )


def write_scores(
    pieces: Iterable[tuple[ChunkResult, pd.DataFrame, np.ndarray]],
    model: ScoringModel,
    out: str | Path,
    *,
    source: str,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    keep_columns: Sequence[str] = (),
    progress: Progress | None = None,
    extra: Extra | None = None,
    headers: HeaderMap | None = None,
    header_row: int = 1,
    lang: str | None = None,
    started: dt.datetime | None = None,
) -> ScoreSummary:
    """Write scored chunks ``(validated chunk, scored rows, feature matrix)`` in order.

    Shared by the local and the Dask engines: the outputs, the summary and the drift are built
    here, so both engines write the same files. ``headers`` (the file's header map) puts the
    column coverage in the summary and names columns in Persian reject messages. An ``.xlsx``
    ``out`` is a workbook of sheets ``scores``, ``summary`` and, unless ``rejects`` names
    another file, ``rejects``. ``lang="fa"`` heads the outputs in Persian, writes the reject
    messages in Persian, turns the sheets right-to-left and starts a CSV with UTF-8's byte
    order mark (Excel then reads it as UTF-8). Each chunk is written on a thread while the
    next is scored (:class:`_WriteBehind`); ``progress`` hears of its rows as it is handed to
    that thread, in this one; the summary's ``seconds`` run from ``started`` (default: now) to
    the outputs' last byte.
    """
    started = started or dt.datetime.now(dt.UTC)
    result = ScoreSummary(model=model.loaded.reference, source=source, header_row=header_row)
    result.started = started.isoformat(timespec="seconds")
    if headers is not None:
        result.add_coverage(headers)
    # Lists are cut by sector or province: such a cut is the list's choice, not drift.
    drift = DriftMonitor(
        model.drift_reference,
        list(model.scorer.features),
        segments=model.contract.model.categorical,
    )
    probability_sum = _ExactSum()
    checked = ValidationReport()  # problems and unknown categories, counted as `validate` does
    translator = RejectTranslator(model.contract, lang, headers)
    with contextlib.ExitStack() as outputs:
        writer, sheet, reject_writer = _open_outputs(
            outputs, out, rejects, model, lang, keep_columns
        )
        # Chunk k is formatted and written on a thread while this one scores chunk k+1.
        behind = outputs.enter_context(_WriteBehind())
        for chunk, scored, X in pieces:
            if extra is not None and len(scored):
                scored = extra(chunk.valid, scored, X)
            # Everything else read from this chunk is read before it is handed to the writing
            # thread, which also counts its drift (integer counts: the order cannot matter,
            # and the thread takes jobs in order anyway).
            result.rows_read += chunk.rows_read
            result.rows_scored += len(scored)
            result.rows_rejected += len(chunk.rejects)
            result.tiers.update(_counts(scored["readiness_tier"]))
            probability_sum.add(scored["export_probability"].to_numpy())
            checked.add(chunk)
            rejected = None
            if reject_writer is not None:
                rejected = translator.table(reject_table(chunk.rejects))
            behind.submit(partial(_write_piece, writer, scored, reject_writer, rejected, drift, X))
            if progress is not None:
                for start in range(0, len(scored), _PROGRESS_ROWS):
                    progress(min(_PROGRESS_ROWS, len(scored) - start))
                if chunk.rows_read > len(scored):
                    progress(chunk.rows_read - len(scored))  # the rejected rows
            # Memory stays flat: this chunk is let go before the next one is computed.
            del chunk, scored, X, rejected
        behind.close()  # the last chunk written, or the writing thread's error raised here
        result.problems = checked.problems
        result.unknown_categories = checked.unknown_categories
        result.drift = drift.report()
        result.mean_probability = (
            probability_sum.total() / result.rows_scored if result.rows_scored else 0.0
        )
        if result.rows_read != result.rows_scored + result.rows_rejected:  # pragma: no cover
            raise RuntimeError("rows were lost: read != scored + rejected")
        if sheet is not None:
            sheet.write(summary_sections(result.to_dict(), model.contract, lang))
    result.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    if summary is not None:
        write_json(result.to_dict(), summary)
    return result


def _write_piece(
    writer: TableWriter,
    scored: pd.DataFrame,
    reject_writer: Any,
    rejected: pd.DataFrame | None,
    drift: DriftMonitor,
    X: np.ndarray,
) -> None:
    """Write one chunk's scores and its rejects: a Parquet output in steps of
    :data:`_PROGRESS_ROWS` rows (its row groups, as they have always been), others at once;
    then count the chunk's features into ``drift``."""
    step = _PROGRESS_ROWS if writer.suffix in PARQUET_SUFFIXES else max(len(scored), 1)
    for start in range(0, max(len(scored), 1), step):
        writer.write(scored.iloc[start : start + step])
    if rejected is not None:
        reject_writer.write(rejected)
    drift.update(X)


class _WriteBehind:
    """Runs writing jobs in order on one thread while the caller computes the next one.

    :meth:`submit` waits for the job before to be done, so one job is written while the caller
    works on the next, never more (memory stays that of one chunk more). Formatting and writing
    in Arrow release the GIL: the two overlap on two cores. An error of a job is raised, as it
    was raised, by the next :meth:`submit` or by :meth:`close`; later jobs are skipped. Leaving
    the ``with`` block (on an error too) waits for the job being written, so the file under it
    is closed (and its temporary removed) only once nothing writes to it any more.
    """

    def __init__(self) -> None:
        self._job: Callable[[], None] | None = None
        self._error: BaseException | None = None
        self._stop = False
        self._ready = threading.Condition()
        # A daemon: a caller interrupted and never closed must not keep the interpreter alive.
        self._thread = threading.Thread(
            target=self._run, name="readiness-write-behind", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._job is not None or self._stop)
                job = self._job
            if job is None:
                return
            try:
                if self._error is None and not self._stop:  # stopped: the output is dropped
                    job()
            except BaseException as error:  # raised in the caller's thread, at its next call
                self._error = error
            del job  # the chunk is let go as soon as it is written
            with self._ready:
                self._job = None
                self._ready.notify_all()

    def _wait(self) -> None:
        with self._ready:
            self._ready.wait_for(lambda: self._job is None)
        if self._error is not None:
            raise self._error

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the thread once the one before is done (whose error is raised here)."""
        self._wait()
        with self._ready:
            self._job = job
            self._ready.notify_all()

    def close(self) -> None:
        """Wait for the last job; raise its error, or the error of any job before."""
        self._wait()

    def __enter__(self) -> _WriteBehind:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._ready:
            self._stop = True
            self._ready.notify_all()
        self._thread.join()


def _scored_pieces(
    chunks: Iterable[ChunkResult], model: ScoringModel, lang: str | None, keep: Sequence[str]
) -> Iterator[Piece]:
    """Each validated chunk with its scores, holding none of them once handed on."""
    for chunk in chunks:
        scored, X = score_chunk(chunk, model, lang, keep)
        yield chunk, scored, X
        del chunk, scored, X


def score_chunk(
    chunk: ChunkResult, model: ScoringModel, lang: str | None, keep: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Score a validated chunk: its output rows and its feature matrix."""
    X = _features(model, chunk.valid)
    scored = score_frame(chunk.valid, model, lang=lang, X=X)
    for name in keep:
        if chunk.passthrough is not None and name in chunk.passthrough:
            scored[name] = chunk.passthrough[name].to_numpy()
        else:  # a chunk with no valid rows (e.g. only unsplittable ones)
            scored[name] = np.full(len(scored), None, dtype=object)
    return scored, X


def _open_outputs(
    outputs: contextlib.ExitStack,
    out: str | Path,
    rejects: str | Path | None,
    model: ScoringModel,
    lang: str | None,
    keep: Sequence[str],
) -> tuple[TableWriter, Any, Any]:
    """The scores' writer, the workbook's summary sheet (or None) and where rejects go: their
    own file, else a sheet of the scores workbook, else nowhere (None)."""
    fa = lang == "fa"
    names = output_headers(model.contract, lang, [*SCORE_COLUMNS, *OPTIONAL_COLUMNS, *keep])
    writer = outputs.enter_context(
        TableWriter(out, sheet="scores", columns=[*SCORE_COLUMNS, *keep], headers=names,
                    layout=replace(SCORES_LAYOUT, right_to_left=fa), byte_order_mark=fa)
    )  # fmt: skip
    # Sheets in the order a reader wants them: scores, summary (written last), rejects.
    sheet = writer.add_summary("summary", right_to_left=fa) if writer.streams_sheets else None
    headers = output_headers(model.contract, lang, REJECT_COLUMNS)
    layout = SheetLayout(right_to_left=fa)
    if rejects is not None:
        reject_writer: Any = outputs.enter_context(
            TableWriter(rejects, sheet="rejects", columns=REJECT_COLUMNS, headers=headers,
                        layout=layout, byte_order_mark=fa)
        )  # fmt: skip
    elif writer.streams_sheets:
        reject_writer = writer.add_sheet("rejects", REJECT_COLUMNS, layout, headers)
    else:
        reject_writer = None
    return writer, sheet, reject_writer
