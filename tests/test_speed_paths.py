"""The fast scoring paths give exactly what the plain computations give.

Each fast path (features binned once by comparisons, one gather per table, top-3 reasons by
repeated minimum, Arrow text columns, chunks halved with the validating thread, the exact
probability sum) is checked against the straightforward computation it replaced, written
here again the plain way: ``searchsorted`` per feature, a per-row pull, a full stable sort.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scoring.pipeline as pipeline
from scoring.batch import _ExactSum, score_file, score_frame
from scoring.binning import edge_counts
from scoring.compiled import CompiledScorer, FeatureTable, PairTable, sigmoid
from scoring.explain import Explainer
from scoring.pipeline import ChunkPipeline, open_source
from scoring.sample import generate_sample, inject_problems, to_english_table

SIDES = ("low", "high", "missing")


# --- the plain computations ------------------------------------------------------------------


def _plain_cells(scorer: CompiledScorer, X: np.ndarray) -> np.ndarray:
    """Each value's cell, by binary search (as before the comparisons)."""
    index = np.empty(X.shape, dtype=np.int64)
    for j, table in enumerate(scorer.tables):
        x, missing = X[:, j], len(table.values)
        if table.kind == "categorical":
            known = (x >= 0) & (x < missing) & (x == np.floor(x))
            index[:, j] = np.where(known, x, missing)
        else:
            index[:, j] = np.where(np.isnan(x), missing, np.searchsorted(table.edges, x))
    return index


def _plain_logit(scorer: CompiledScorer, index: np.ndarray) -> np.ndarray:
    features = np.empty(index.shape)
    for j, table in enumerate(scorer.tables):
        features[:, j] = table.cells()[index[:, j]]
    pairs = np.empty((len(index), len(scorer.pairs)))
    for k, pair in enumerate(scorer.pairs):
        pairs[:, k] = pair.values[index[:, pair.first], index[:, pair.second]]
    return scorer.intercept + features.sum(axis=1) + pairs.sum(axis=1)


def _plain_reasons(explainer: Explainer, X: np.ndarray, index: np.ndarray) -> list[list[str]]:
    """Per row: the pull of each reason feature, one row at a time, then a full stable sort."""
    scorer, data = explainer.scorer, explainer.data
    out = []
    for i in range(len(X)):
        pulls = []
        for name in explainer.reason_features:
            j = scorer.features.index(name)
            table = scorer.tables[j]
            reference = int(table.index(np.array([data["reference_profile"][name]]))[0])
            pull = table.cells()[index[i, j]] - table.cells()[reference]
            for pair in scorer.pairs:
                if j in (pair.first, pair.second):
                    partner = pair.second if pair.first == j else pair.first
                    values = pair.values if pair.first == j else pair.values.T
                    pull = pull + values[index[i, j], index[i, partner]]
                    pull = pull - values[reference, index[i, partner]]
            pulls.append(pull)
        row = []
        for k in np.argsort(np.array(pulls), kind="stable")[:3]:
            name = explainer.reason_features[k]
            x, reference = X[i, scorer.features.index(name)], data["reference_profile"][name]
            side = "missing" if np.isnan(x) else ("low" if x < reference else "high")
            row.append(data["reasons"][name][side]["code"] if pulls[k] < -1e-9 else "")
        out.append(row + [""] * (3 - len(row)))
    return out


# --- edges --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_edges", [0, 1, 2, 7, 40, 128, 129, 300])
@pytest.mark.parametrize("side", ["left", "right"])
def test_counting_edges_is_a_binary_search(n_edges, side):
    rng = np.random.default_rng(n_edges)
    edges = np.unique(rng.normal(size=n_edges))
    # Values on the edges themselves, between them, beyond them, infinite and missing.
    x = np.concatenate([edges, rng.normal(size=500), [np.inf, -np.inf, np.nan, 0.0, -0.0]])
    got = edge_counts(x, edges, side=side, dtype=np.uint16)
    expected = np.searchsorted(edges, np.nan_to_num(x, nan=np.inf), side=side)
    finite_or_inf = ~np.isnan(x)
    assert got.dtype == np.uint16
    assert np.array_equal(got[finite_or_inf], expected[finite_or_inf])
    assert np.all(got[np.isnan(x)] == 0)  # NaN is above no edge (callers mark it missing)


@pytest.mark.parametrize(
    "edges",
    [
        np.concatenate([np.linspace(0, 1e-9, 20), [1.0, 2.0, 1e6]]),  # bunched: no grid
        np.geomspace(1e-3, 1e9, 60),  # a long right tail, as sales have
        np.array([-1e300, -1.0, 0.0, 1e-300, 1.0, 2.5, 3.0, 1e300]),  # spans near overflow
        np.arange(0.5, 40.5, 1.0),  # whole numbers' midpoints, as counts have
    ],
    ids=["bunched", "tail", "huge", "counts"],
)
def test_counting_odd_edges_is_a_binary_search(edges):
    rng = np.random.default_rng(3)
    neighbours = np.concatenate([np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    x = np.concatenate([edges, neighbours, rng.choice(edges, 300) * rng.random(300),
                        [np.inf, -np.inf, 1.7e308, -1.7e308, 0.0]])  # fmt: skip
    for side in ("left", "right"):
        assert np.array_equal(edge_counts(x, edges, side=side), np.searchsorted(edges, x, side))


def test_cells_of_a_table_as_before_and_missing_last():
    table = FeatureTable("members", "numeric", np.array([2.5, 10.0, 40.0]), np.zeros(4), 0.0)
    x = np.array([1, 2.5, 2.6, 10, 40, 41, np.nan, np.inf])
    assert table.codes(x).tolist() == [0, 0, 1, 1, 2, 3, 4, 3]
    assert table.index(x).dtype == np.int64
    sector = FeatureTable("sector", "categorical", np.array([]), np.zeros(3), 0.0)
    assert sector.codes(np.array([0, 2, 3, -1, 1.5, np.nan])).tolist() == [0, 2, 3, 3, 3, 3]


# --- scores, reasons and sub-scores of the trained model ------------------------------------


@pytest.fixture(scope="module")
def messy(scoring_model):
    """Unlabelled sample rows with missing and odd values, validated, and their features."""
    frame, _ = generate_sample(1500, seed=41, labelled=False)
    rng = np.random.default_rng(41)
    for column in ("employees", "revenue_prev", "export_revenue", "defect_rate", "iso9001"):
        frame.loc[rng.random(len(frame)) < 0.15, column] = np.nan
    return frame, scoring_model.features(frame)


def test_probabilities_are_those_of_the_plain_lookups(scoring_model, messy):
    frame, X = messy
    scorer = scoring_model.scorer
    index = scorer.indices(X)
    assert np.array_equal(index, _plain_cells(scorer, X))
    scored = score_frame(frame, scoring_model)
    expected = sigmoid(_plain_logit(scorer, _plain_cells(scorer, X)))
    assert np.array_equal(scored["export_probability"].to_numpy(), expected)  # bit for bit


def test_reasons_are_those_of_a_full_stable_sort(scoring_model, messy):
    frame, X = messy
    explainer = scoring_model.explainer
    expected = _plain_reasons(explainer, X, _plain_cells(scoring_model.scorer, X))
    scored = score_frame(frame, scoring_model)
    got = scored[["reason_1", "reason_2", "reason_3"]].to_numpy().tolist()
    assert got == expected
    assert scored["reason_1"].dtype == "str"
    assert sum(r[2] != "" for r in expected) > 100  # the third reason is exercised


def test_sub_scores_are_those_of_the_plain_contributions(scoring_model, messy):
    _, X = messy
    scorer = scoring_model.scorer
    index = _plain_cells(scorer, X)
    plain = np.empty(index.shape)
    for j, table in enumerate(scorer.tables):
        plain[:, j] = table.cells()[index[:, j]]
    features, pairs = scorer.contributions(X)
    assert features.flags.c_contiguous  # rows summed as before: the same floats
    assert np.array_equal(features, plain)
    for k, pair in enumerate(scorer.pairs):
        assert np.array_equal(pairs[:, k], pair.values[index[:, pair.first], index[:, pair.second]])


def _tied_explainer() -> Explainer:
    """Three reason features whose tables are equal: every pull ties with the others'."""
    tables = [FeatureTable(n, "numeric", np.array([0.5]), np.array([-1.0, 1.0]), -2.0)
              for n in ("a", "b", "c")]  # fmt: skip
    tables.append(FeatureTable("d", "numeric", np.array([0.5]), np.array([-3.0, 0.0]), 0.0))
    tables.append(FeatureTable("s", "categorical", np.array([]), np.zeros(2), 0.0))
    pair = PairTable(3, 4, np.array([[0.0, 2.5, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    scorer = CompiledScorer([t.name for t in tables], tables, [pair], 0.0)
    reasons = {n: {s: {"code": f"{s}_{n}"} for s in SIDES} for n in "abcd"}
    data = {"reference_profile": dict.fromkeys("abcd", 1.0), "reasons": reasons}
    return Explainer(scorer, data)


def test_tied_pulls_keep_the_order_of_the_features():
    explainer = _tied_explainer()
    X = np.array([
        [0.0, 0.0, 0.0, 1.0, 0.0],  # a, b, c all pull by -2: in feature order
        [np.nan, 0.0, 0.0, 0.0, 0.0],  # a (missing) and d (sector 0) pull by -3, b and c -2
        [0.0, 1.0, 0.0, 0.0, 1.0],  # d: -3 + 2.5 (its pair with sector 1) = -0.5
        [1.0, 1.0, 1.0, 1.0, 0.0],  # nothing to improve
    ])  # fmt: skip
    index = explainer.scorer.indices(X)
    assert _plain_reasons(explainer, X, index) == [
        ["low_a", "low_b", "low_c"],
        ["missing_a", "low_d", "low_b"],  # ties of -3, then of -2: in feature order
        ["low_a", "low_c", "low_d"],
        ["", "", ""],
    ]
    got = explainer.reasons(X)
    assert [list(row) for row in zip(*got, strict=True)] == _plain_reasons(explainer, X, index)
    ids, texts = explainer.reason_ids(X, top=3)
    assert texts[0] == "" and ids.shape == (4, 3) and ids[3].tolist() == [0, 0, 0]


# --- chunks, memory and the summary ----------------------------------------------------------


def test_the_exact_sum_does_not_depend_on_the_chunks():
    rng = np.random.default_rng(5)
    values = rng.random(20_000) ** 7  # many magnitudes: a chunked float sum drifts
    values[::97] = np.nan
    expected = math.fsum(values[~np.isnan(values)])
    for cuts in ([], [1], [7_000], [3, 5_000, 5_001, 19_999]):
        total = _ExactSum()
        for part in np.split(values, cuts):
            total.add(part)
        assert total.total() == expected


@given(st.lists(st.lists(st.floats(allow_nan=True, allow_infinity=False), max_size=40), max_size=6))
def test_the_exact_sum_is_fsum_of_every_value(parts):
    # Any finite doubles, subnormals and both zeros among them, in any chunks: the one
    # correctly rounded sum of them all (math.fsum's), NaN left out.
    every = [v for part in parts for v in part if not math.isnan(v)]
    try:
        expected = math.fsum(every)
    except OverflowError:  # the exact sum is beyond the largest double
        return
    total = _ExactSum()
    for part in parts:
        total.add(np.array(part, dtype=np.float64))
    assert total.total() == expected


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory):
    frame, _ = generate_sample(700, seed=43, labelled=False)
    table = inject_problems(to_english_table(frame), 0.1, seed=43)
    table.loc[650, "coop_id"] = table.loc[10, "coop_id"]  # a repeat across chunks
    path = tmp_path_factory.mktemp("speed") / "dirty.csv"
    table.to_csv(path, index=False)
    return path


def test_with_the_thread_chunks_hold_half_the_rows(scoring_model, tmp_path, monkeypatch):
    frame, _ = generate_sample(700, seed=44, labelled=False)
    clean = tmp_path / "clean.csv"
    to_english_table(frame).to_csv(clean, index=False)

    def sizes(ahead: bool) -> list[int]:
        monkeypatch.setattr(pipeline, "VALIDATE_AHEAD", ahead)
        source = open_source(clean, scoring_model.contract)
        chunks = ChunkPipeline(source, scoring_model.contract).chunks_holding(300)
        return [c.rows_read for c in chunks]

    assert sizes(False) == [300, 300, 100]
    assert sizes(True) == [150] * 4 + [100]


def test_the_thread_and_its_halves_write_the_bytes_of_one_thread(
    scoring_model, dirty_csv, tmp_path, monkeypatch
):
    runs = {}
    for ahead in (False, True):
        monkeypatch.setattr(pipeline, "VALIDATE_AHEAD", ahead)
        folder = tmp_path / str(ahead)
        folder.mkdir()
        summary = score_file(dirty_csv, scoring_model, folder / "s.csv",
                             rejects=folder / "r.csv", chunk_size=128)  # fmt: skip
        score_file(dirty_csv, scoring_model, folder / "s.parquet", chunk_size=128)
        runs[ahead] = (folder, summary)
    (serial, one), (threaded, two) = runs[False], runs[True]
    # Parquet's row groups follow the chunks: it is written from whole chunks either way.
    for name in ("s.csv", "r.csv", "s.parquet"):
        assert (serial / name).read_bytes() == (threaded / name).read_bytes()
    assert one.mean_probability == two.mean_probability
    scores = pd.read_csv(serial / "s.csv")
    assert one.mean_probability == pytest.approx(scores["export_probability"].mean(), rel=1e-12)
    assert one.rows_rejected > 0 and one.rows_read == 700


def test_cells_and_contributions_of_tables_of_one_and_two_byte_codes():
    # 400 edges: 402 cells, two-byte codes beside a one-byte table. Every value is checked
    # against each table's own `index` and its cell read directly, row by row.
    rng = np.random.default_rng(7)
    wide = FeatureTable("a", "numeric", np.arange(400.0), rng.normal(size=401), -1.0)
    narrow = FeatureTable("b", "numeric", np.array([0.5]), np.array([0.1, 0.2]), 0.3)
    pair = PairTable(0, 1, rng.normal(size=(402, 3)))
    scorer = CompiledScorer(["a", "b"], [wide, narrow], [pair], 0.0)
    X = np.column_stack([rng.uniform(-5, 405, 500), rng.uniform(0, 1, 500)])
    X[::7, 0] = np.nan
    X[::11, 1] = np.nan
    index = scorer.indices(X)
    assert index.dtype == np.intp and index.flags.c_contiguous
    assert index[:, 0].tolist() == wide.index(X[:, 0]).tolist()
    assert index[:, 1].tolist() == narrow.index(X[:, 1]).tolist()
    assert index[:, 0].max() > 255  # the two-byte cells are reached
    features, pairs = scorer.contributions_at(index)
    for row in range(len(X)):
        i, j = index[row]
        assert features[row, 0] == (wide.values[i] if i < 401 else wide.missing)
        assert features[row, 1] == (narrow.values[j] if j < 2 else narrow.missing)
        assert pairs[row, 0] == pair.values[i, j]
