"""The fast lane of record scoring (:mod:`scoring.service.plain`): one-record requests answer
exactly what ``readiness score`` writes, and any cell the lane cannot read is left to the batch
path, so the two lanes never disagree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_support import PROGRAMS, csv_records, new_version, record, sample_csv
from service_support import settings as service_settings
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.contract import load_contract
from scoring.model import ScoringModel
from scoring.normalize import normalize_chunk
from scoring.planning import apply_program, load_programs, programs_from_dict
from scoring.registry import load_model
from scoring.service import create_app
from scoring.service.records import RecordScorer
from scoring.text import to_persian_digits
from scoring.validation import Validator

FIELDS = [
    "coop_id", "export_probability", "readiness_score", "readiness_tier", "reason_1",
    "reason_2", "reason_3", "capacity_score", "quality_score", "output_score", "market_score",
    "sector_percentile", "next_step", "next_step_score",
]  # fmt: skip


@pytest.fixture(scope="module")
def registry(tmp_path_factory, trained):
    folder = tmp_path_factory.mktemp("plain-registry")
    return folder, new_version(trained, folder)


@pytest.fixture(scope="module")
def scorer(registry):
    folder, reference = registry
    model = ScoringModel(load_model(folder, reference))
    return RecordScorer(model, load_programs(PROGRAMS, model.contract))


def _as_registry_types(row: dict[str, str], k: int) -> dict[str, str]:
    """Every third record as a Persian export writes it: Persian digits, words and names."""
    if k % 3:
        return row
    contract = load_contract()
    out = {}
    for key, text in row.items():
        column = contract.column(key) if key in contract.names else None
        if column is not None and column.type == "yesno":
            text = {"yes": "بله", "no": "خیر"}.get(text, text)
        elif column is not None and column.type == "category":
            text = contract.vocabularies[column.vocabulary].label(text, "fa")
        elif column is not None and column.is_numeric:
            text = to_persian_digits(text)
        out[key] = text
    return out


def test_one_record_requests_equal_readiness_score(registry, tmp_path, monkeypatch):
    """400 rows, each POSTed alone (a third in Persian): every field as the CLI writes it."""
    folder, reference = registry
    source = sample_csv(tmp_path / "list.csv", 400, seed=11)
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        cli,
        ["score", str(source), "--out", str(out), "--model", reference, "--registry",
         str(folder), "--next-step", "--programs", str(PROGRAMS), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    batch = pd.read_parquet(out)
    assert batch["next_step"].astype(bool).any()  # the next step is exercised, not all ''
    app = create_app(service_settings(folder, f"sqlite:///{tmp_path / 's.db'}"))
    lane = app.state.service.holder.current.scorer._plain
    assert lane is not None
    scored_plain = []
    real_score = lane.score
    monkeypatch.setattr(lane, "score", lambda rows: scored_plain.extend(rows) or real_score(rows))
    answers = []
    with TestClient(app) as client:
        for k, row in enumerate(csv_records(source)):
            body = {key: text for key, text in _as_registry_types(row, k).items() if text != ""}
            response = client.post("/api/v1/score", json=body)
            assert response.status_code == 200, response.text
            [answer] = response.json()["results"]
            assert answer["ok"], answer
            answers.append(answer)
    assert len(scored_plain) == len(batch) == 400  # every record took the fast lane
    api = pd.DataFrame(answers)[FIELDS]
    for name in FIELDS:
        left, right = api[name].to_numpy(), batch[name].to_numpy()
        if batch[name].dtype.kind == "f":
            assert np.array_equal(left.astype(float), right, equal_nan=True), name
        else:
            assert left.tolist() == right.tolist(), name


def test_cells_the_lane_cannot_read_go_to_the_batch_path(scorer):
    plain = [record(), record(members="۱۲", iso9001="بله", established_year="1385")]
    other = [
        record(revenue="25,000"),  # grouped digits
        record(defect_rate="4.5%"),  # a percent
        record(established_year="1385/05/12"),  # a date
        record(members=" 12"),  # surrounding space
        record(sector="robotics"),  # not in the vocabulary: a warning
        record(members="many"),  # unreadable: an error
        record(members=0),  # out of range: an error
        record(coop_id="جمع کل"),  # a totals row
        record(province=...),  # an empty required cell
        {**record(revenue=...), "revenue (ریال)": "25000000"},  # a unit in the header
    ]
    for k, one in enumerate(other):
        one["coop_id"] = one["coop_id"] if k == 7 else f"T-{k}"
    prepared = scorer.prepare(plain + other)
    assert [p.plain is not None for p in prepared] == [True] * 2 + [False] * len(other)
    results = scorer.score_groups([prepared[2:]])[0]
    assert results[4]["ok"] and results[4]["warnings"]
    assert [r["ok"] for r in results] == [True] * 5 + [False] * 4 + [True]


_CELLS = st.sampled_from([
    "0", "1", "12", "12.0", "12.5", "007", "-3", "1e3", "1,000", "۱۲", "۱۲٫۵", "٣", "4.5%",
    "0.03", "0.5", "1.5", " 7", "7 ", "", "yes", "no", "بله", "خیر", "Yes", "true", "1", "maybe",
    "-1", "1385", "1403", "1999", "2030", "1385/01/01", "tehran", "تهران", "TEHRAN", "other",
    "industrial", "صنایع غذایی", "robotics", "C-1", "ك-۱", "total", "Behsaz", "  ",
])  # fmt: skip
_COLUMNS = [c.name for c in load_contract().input_columns() if c.type != "id"]
_NUMBERS = {c.name for c in load_contract().input_columns() if c.is_numeric or c.type == "yesno"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.dictionaries(st.sampled_from(_COLUMNS), _CELLS, max_size=8), coop=_CELLS)
def test_both_lanes_give_the_same_answer_for_any_cells(scorer, cells, coop):
    """Random cells over a valid record: the fast lane answers exactly as the batch path."""
    body = [{**record(coop_id=coop or "X"), **cells}, record(coop_id="Y")]
    fast = scorer.score_groups([scorer.prepare(body)])[0]
    slow_prepared = scorer.prepare(body)
    for p in slow_prepared:
        p.plain = None
    assert fast == scorer.score_groups([slow_prepared])[0]
    [first, _] = scorer.prepare(body)
    if first.plain is not None:  # the values read, not only the answer (bins hide small slips)
        assert _same_nan(first.plain) == _same_nan(_batch_values(first, scorer.contract))


def _same_nan(values: dict) -> dict:
    return {k: "NaN" if isinstance(v, float) and v != v else v for k, v in values.items()}


def _batch_values(prepared, contract) -> dict:
    """The record's values as the batch path reads and validates them (None: rejected)."""
    table = pa.table({k: pa.array([prepared.cells[k]], pa.string()) for k in prepared.cells})
    normalized = normalize_chunk(table, prepared.headers, contract)
    valid = Validator(contract, check_duplicates=False).validate(normalized, np.array([2])).valid
    assert len(valid) == 1
    row = valid.drop(columns="row").astype(object).iloc[0].to_dict()
    return {k: (None if k not in _NUMBERS and v != v else v) for k, v in row.items()}


def test_programme_effects_on_arrays_match_apply_program(registry, tmp_path):
    """Caps (a cap column changed too), adds that skip or fill missing values, a set, and a
    condition on a category: each record's next step is the batch path's."""
    folder, reference = registry
    model = ScoringModel(load_model(folder, reference))
    document = {
        "program": [
            {"id": "double_output", "name": "d", "cost": 100, "slots": 9,
             "effect": {"actual_output": "*2"}},
            {"id": "smaller_plant", "name": "s", "cost": 100, "slots": 9,
             "effect": {"installed_capacity": "*0.5", "actual_output": "*1.8"}},
            {"id": "markets", "name": "m", "cost": 50, "slots": 9,
             "effect": {"export_markets": "+2", "employees": "-1", "members": 40}},
            {"id": "food_iso", "name": "f", "cost": 50, "slots": 9,
             "eligible": "sector == food_processing or revenue < 1000",
             "effect": {"iso9001": True, "defect_rate": "*0.2"}},
        ]
    }  # fmt: skip
    scorer = RecordScorer(model, programs_from_dict(document, model.contract, origin="test"))
    assert scorer._plain is not None and not scorer._plain._numeric_conditions
    records = csv_records(sample_csv(tmp_path / "list.csv", 600, seed=3))
    prepared = scorer.prepare(records)
    assert all(p.plain is not None for p in prepared)
    groups = [prepared[k : k + 25] for k in range(0, len(prepared), 25)]
    fast = scorer.score_groups(groups)
    for group in groups:
        for p in group:
            p.plain = None
    assert fast == scorer.score_groups(groups)
    steps = {r["next_step"] for results in fast for r in results}
    assert len(steps - {""}) >= 3  # most programmes are someone's next step
    # The changed values themselves (a capped value rarely changes a tier, so check them).
    table = pa.table({k: pa.array([r.get(k) for r in records], pa.string()) for k in records[0]})
    headers = prepared[0].headers
    valid = (
        Validator(model.contract)
        .validate(normalize_chunk(table, headers, model.contract), np.arange(len(records)))
        .valid
    )
    numbers = {n: valid[n].to_numpy(np.float64) for n in scorer._plain._numeric}
    capped = 0
    for program in scorer.programs:
        new, changed = apply_program(valid, program, model.contract)
        mine, mine_changed = scorer._plain.apply_effects(valid, numbers, program)
        assert mine_changed.tolist() == changed.tolist(), program.id
        for name, values in mine.items():
            expected = new[name].to_numpy(np.float64)
            assert np.array_equal(values, expected, equal_nan=True), (program.id, name)
        if program.id == "double_output":
            capped = int((mine["actual_output"] == numbers["installed_capacity"]).sum())
    assert capped > 50  # the cap is exercised
