"""Tests of header matching, units in headers and column coverage (scoring.headers), through
the library and the CLI."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import assert_one_error_line
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scoring.batch import score_file
from scoring.cli import app
from scoring.contract import contract_from_dict, default_contract_path, load_contract
from scoring.errors import ContractError
from scoring.headers import (
    HeaderParts,
    coverage_warning,
    header_columns,
    map_headers,
    model_columns,
    require_model_columns,
    split_header,
)
from scoring.normalize import normalize_chunk
from scoring.sample import generate_sample, to_english_table
from scoring.text import fold_text

CONTRACT = load_contract()
REQUIRED = ["coop_id", "province", "sector", "members", "installed_capacity", "actual_output",
            "revenue"]  # fmt: skip
# The optional columns the default model reads, in contract order, worked out by hand from
# [model] features: derived features read export_revenue, revenue_prev, employees and
# established_year; the rest are columns of their own. name and data_year feed no feature.
MODEL_OPTIONAL = ["established_year", "employees", "revenue_prev", "product_lines",
                  "export_revenue", "export_markets", "iso9001", "intl_certifications",
                  "standard_mark", "defect_rate", "debt_ratio", "commercial_card"]  # fmt: skip
FAST = settings(max_examples=200, deadline=None)
runner = CliRunner()


def _map(*extra: str, base: list[str] = REQUIRED, **options):
    return map_headers([*base, *extra], CONTRACT, **options)


def _without(name: str) -> list[str]:
    return [h for h in REQUIRED if h != name]


# --- the headers seen in real exports -------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column", "unit", "factor"),
    [
        ("فروش صادراتی (میلیون ریال)", "export_revenue", "میلیون ریال", "1"),
        ("Revenue (million IRR)", "revenue", "million irr", "1"),
        ("فروش (میلیارد ریال)", "revenue", "میلیارد ریال", "1000"),
        ("Revenue - million IRR", "revenue", "million irr", "1"),
        ("فروش – هزار تومان", "revenue", "هزار تومان", "0.01"),
        ("فروش (بر حسب ریال)", "revenue", "بر حسب ریال", "0.000001"),
        ("نرخ ضایعات (%)", "defect_rate", "%", "0.01"),
        ("نرخ ضایعات (٪)", "defect_rate", "%", "0.01"),
        ("درصد ضایعات", "defect_rate", "درصد", "0.01"),
        ("defect rate %", "defect_rate", "%", "0.01"),
        ("نرخ ضایعات [درصد]", "defect_rate", "درصد", "0.01"),
        ("تعداد اعضا (نفر)", "members", "نفر", "1"),
        ("نسبت بدهی {%}", "debt_ratio", "%", "0.01"),
    ],
)
def test_a_unit_in_a_header_converts_its_column(header, column, unit, factor):
    base = [h for h in REQUIRED if h != column]
    found = _map(header, base=base)
    assert found.columns[column] == header
    assert found.units[column].unit == unit
    assert found.units[column].factor == Decimal(factor)
    assert header not in found.unmatched


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("سال تاسیس (شمسی)", "established_year"),
        ("تاریخ تأسیس", "established_year"),
        ("date established", "established_year"),
        ("کارت بازرگانی دارد؟", "commercial_card"),
        ("آیا کارت بازرگانی دارد؟", "commercial_card"),
        ("دارای کارت بازرگانی", "commercial_card"),
        ("Has commercial card?", "commercial_card"),
        ("گواهی ISO 9001", "iso9001"),
        ("گواهی\u200cISO 9001", "iso9001"),
        ("ISO 9001 (yes/no)", "iso9001"),
        ("استان (محل ثبت)", "province"),
    ],
)
def test_notes_questions_and_mixed_script_names_match(header, column):
    base = [h for h in REQUIRED if h != column]
    found = _map(header, base=base)
    assert found.columns[column] == header
    assert column not in found.units


def test_a_calendar_note_on_the_year_column_is_kept_as_a_note():
    found = _map("سال تاسیس (شمسی)")
    assert found.notes == {"established_year": ("شمسی",)}


def test_row_counters_are_ignored_and_told():
    found = _map("ردیف", "#", "Row")
    assert found.row_counters == ("ردیف", "#", "Row")
    assert found.unmatched == () and "ردیف" not in found.columns.values()


def test_headers_matching_nothing_are_told_in_file_order():
    found = _map("Notes", "تلفن", "")
    assert found.unmatched == ("Notes", "تلفن")  # an empty header is no column at all


def test_a_percent_word_does_not_make_a_money_column_a_percentage():
    # 'the percent of export sales' is not export sales: it matches nothing, and is told.
    found = _map("درصد فروش صادراتی")
    assert "export_revenue" not in found.columns and found.unmatched == ("درصد فروش صادراتی",)


def test_a_percent_alias_needs_a_header_that_says_percent():
    # 'درصد ضایعات' is keyed as 'ضایعات' that says percent: a bare 'ضایعات' is not a fraction.
    assert "defect_rate" not in _map("ضایعات").columns
    assert _map("ضایعات (%)").units["defect_rate"].factor == Decimal("0.01")


def test_the_header_map_reads_as_the_mapping_of_columns():
    found = _map("Revenue_prev")
    assert found == {**{h: h for h in REQUIRED}, "revenue_prev": "Revenue_prev"}
    assert found["revenue_prev"] == "Revenue_prev" and "revenue_prev" in found
    assert len(found) == len(REQUIRED) + 1


# --- refused, never misread -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        ("فروش (دلار)", ["'فروش (دلار)'", "'دلار'", "known units: ریال", "میلیارد ریال"]),
        ("فروش (کیلوگرم)", ["'کیلوگرم' (mass)", "in million rials", "known units: ریال"]),
        ("فروش (سال ۱۴۰۲)", ["'سال 1402' is not a unit", "revenue"]),
        ("فروش (میلیون ریال) (ریال)", ["two different units"]),
    ],
)
def test_a_unit_that_cannot_be_read_on_a_number_column_is_fatal(header, fragments):
    with pytest.raises(ContractError) as caught:
        _map(header, base=_without("revenue"), source="coops.xlsx")
    message = str(caught.value)
    assert "coops.xlsx" in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("header", ["استان (ریال)", "کارت بازرگانی (%)", "سال تاسیس (تن)"])
def test_a_unit_on_a_column_that_takes_none_is_fatal(header):
    base = [h for h in REQUIRED if h != "province"] if header.startswith("استان") else REQUIRED
    with pytest.raises(ContractError, match="takes no unit"):
        _map(header, base=base)


def test_capacity_and_output_in_known_units_are_brought_to_one():
    base = [h for h in REQUIRED if h not in ("installed_capacity", "actual_output")]
    found = _map("ظرفیت اسمی (تن در سال)", "تولید واقعی (کیلوگرم)", base=base)
    assert found.units["installed_capacity"].factor == 1
    assert found.units["actual_output"].factor == Decimal("0.001")
    table = pa.table({h: ["1"] for h in base} | {"ظرفیت اسمی (تن در سال)": ["2"],
                                                   "تولید واقعی (کیلوگرم)": ["1500"]})  # fmt: skip
    frame = normalize_chunk(table, found, CONTRACT).frame
    assert frame["installed_capacity"].tolist() == [2.0]
    assert frame["actual_output"].tolist() == [1.5]  # tons, exactly


def test_capacity_and_output_in_units_that_do_not_convert_are_refused():
    base = [h for h in REQUIRED if h not in ("installed_capacity", "actual_output")]
    with pytest.raises(ContractError) as caught:
        _map("ظرفیت اسمی (تن)", "تولید واقعی (لیتر)", base=base, source="coops.csv")
    message = str(caught.value)
    assert "'installed_capacity' and 'actual_output'" in message and "mass" in message
    assert "volume" in message and "coops.csv" in message


def test_one_header_meaning_two_columns_is_fatal_and_names_both():
    document = tomllib.loads(default_contract_path().read_text(encoding="utf-8"))
    prev = next(c for c in document["column"] if c["name"] == "revenue_prev")
    prev["aliases"] = [*prev["aliases"], "turnover"]  # also an alias of revenue
    contract = contract_from_dict(document)
    with pytest.raises(ContractError) as caught:
        map_headers([*_without("revenue"), "Turnover"], contract)
    message = str(caught.value)
    assert "'Turnover'" in message and "'revenue'" in message and "'revenue_prev'" in message


def test_two_headers_meaning_one_column_stay_fatal():
    with pytest.raises(ContractError, match="both mean column 'revenue'"):
        _map("فروش (میلیارد ریال)")


def test_a_contract_alias_with_a_unit_is_refused():
    document = tomllib.loads(default_contract_path().read_text(encoding="utf-8"))
    revenue = next(c for c in document["column"] if c["name"] == "revenue")
    revenue["aliases"] = ["فروش (ریال)"]
    with pytest.raises(ContractError, match="must be plain"):
        map_headers(REQUIRED, contract_from_dict(document))


UNIT_LIKE = st.text(st.sampled_from(list("abcdxyz ریالتومنکگر%$€1")), min_size=1, max_size=10)
UNIT_LIKE = UNIT_LIKE.filter(lambda u: fold_text(u) != "")  # empty brackets are no unit at all


@FAST
@given(UNIT_LIKE, st.sampled_from(["revenue", "export_revenue", "installed_capacity",
                                   "defect_rate", "members", "product_lines"]))  # fmt: skip
def test_a_header_with_an_unknown_unit_never_passes_silently(unit, column):
    header = f"{CONTRACT.column(column).fa} ({unit})"
    try:
        found = _map(header, base=[h for h in REQUIRED if h != column])
    except ContractError as refused:
        assert header in str(refused)
        return
    # Not refused: the bracket is a known unit of the column, and it is applied.
    known = CONTRACT.units.find(unit)
    assert known is not None and found.units[column].unit == fold_text(unit)


# --- splitting is idempotent ----------------------------------------------------------------

HEADER_TEXT = st.text(
    st.sampled_from(list("ab فروشریال()[]{}?؟-–—%٪ _\u200cيك۱2")), min_size=0, max_size=24
)


@FAST
@given(HEADER_TEXT)
def test_splitting_a_header_is_idempotent(header):
    parts = split_header(header)
    assert split_header(parts.name) == HeaderParts(parts.name)
    assert fold_text(parts.name) == parts.name
    for qualifier in parts.qualifiers:
        assert qualifier == fold_text(qualifier) and qualifier


@FAST
@given(
    st.text(st.sampled_from(list("ab فروشریال_")), min_size=1, max_size=12),
    st.lists(st.sampled_from(["میلیون ریال", "%", "شمسی", "million IRR"]), max_size=3),
    st.sampled_from(["({})", "[{}]", "{{{}}}", " - {}", " – {}"]),
    st.booleans(),
)
def test_a_header_written_with_its_units_splits_back_into_them(name, units, form, asks):
    if not fold_text(name):
        return
    header = name + "".join(" " + form.format(u) for u in units) + ("؟" if asks else "")
    assert split_header(header) == HeaderParts(fold_text(name), tuple(fold_text(u) for u in units))


# --- coverage -------------------------------------------------------------------------------


def test_model_columns_and_absent_ones():
    assert list(model_columns(CONTRACT)) == MODEL_OPTIONAL
    assert list(_map().absent) == MODEL_OPTIONAL
    present = _map("فروش صادراتی (میلیون ریال)", "کارت بازرگانی دارد؟")
    assert "export_revenue" not in present.absent and "commercial_card" not in present.absent


def test_the_coverage_warning_names_columns_in_english_and_persian():
    found = _map("Notes", "ردیف", base=[*REQUIRED, *MODEL_OPTIONAL[:-2]])
    line = coverage_warning(CONTRACT, "coops.xlsx", absent=found.absent,
                            unmatched=found.unmatched, row_counters=found.row_counters)  # fmt: skip
    assert line == (
        "coops.xlsx lacks debt_ratio (نسبت بدهی), commercial_card (کارت بازرگانی), which the "
        "model uses: every row is scored without them; headers matching no column (ignored): "
        "'Notes'; row counter ignored: 'ردیف'"
    )
    assert coverage_warning(CONTRACT, "x.csv", absent=()) is None


def test_strict_coverage_refuses_an_absent_model_column():
    with pytest.raises(ContractError) as caught:
        require_model_columns(_map(base=[*REQUIRED, *MODEL_OPTIONAL[1:]]), CONTRACT, "a.csv")
    assert str(caught.value).startswith(
        "column established_year (سال تاسیس) is used by the model but absent from a.csv"
    )
    assert caught.value.parameter == "strict"
    require_model_columns(_map(base=[*REQUIRED, *MODEL_OPTIONAL]), CONTRACT, "a.csv")


def test_header_columns_tells_a_header_row_without_raising():
    row = ["شناسه تعاونی", "فروش (دلار)", "گزارش تعاونی‌ها", "", "سال تاسیس (شمسی)"]
    assert header_columns(row, CONTRACT) == ["coop_id", "revenue", None, None, "established_year"]


# --- a Persian export with units scores exactly like its English twin -----------------------

# (English header, Persian header with a unit, how many places the written value moves)
TWIN_HEADERS = [
    ("revenue", "فروش (میلیارد ریال)", -3),
    ("revenue_prev", "فروش سال قبل - هزار ریال", 3),
    ("export_revenue", "فروش صادراتی (میلیون ریال)", 0),
    ("defect_rate", "نرخ ضایعات (٪)", 2),
    ("established_year", "سال تاسیس (شمسی)", None),
    ("commercial_card", "کارت بازرگانی دارد؟", None),
    ("iso9001", "گواهی ISO 9001", None),
    ("members", "تعداد اعضا (نفر)", 0),
]


def _twin(english: pd.DataFrame) -> pd.DataFrame:
    """The same rows with Persian, unit-bearing headers and values written in those units."""
    twin = english.copy()
    for name, _, places in TWIN_HEADERS:
        if places:
            twin[name] = [str(Decimal(v).scaleb(places)) if v else v for v in twin[name]]
    twin = twin.rename(columns={name: header for name, header, _ in TWIN_HEADERS})
    twin.insert(0, "ردیف", [str(i + 1) for i in range(len(twin))])
    return twin


def test_a_persian_export_with_units_scores_exactly_like_its_english_twin(scoring_model, tmp_path):
    frame, _ = generate_sample(300, seed=5, labelled=False)
    english = to_english_table(frame)
    english.to_csv(tmp_path / "en.csv", index=False)
    _twin(english).to_csv(tmp_path / "fa.csv", index=False)
    summaries = {
        lang: score_file(tmp_path / f"{lang}.csv", scoring_model, tmp_path / f"{lang}-out.csv",
                         summary=tmp_path / f"{lang}.json")
        for lang in ("en", "fa")
    }  # fmt: skip
    en, fa = (pd.read_csv(tmp_path / f"{lang}-out.csv") for lang in ("en", "fa"))
    assert len(en) == 300 and np.array_equal(en["export_probability"], fa["export_probability"])
    pd.testing.assert_frame_equal(en, fa)
    told = json.loads((tmp_path / "fa.json").read_text(encoding="utf-8"))
    assert told["columns_found"]["revenue"] == "فروش (میلیارد ریال)"
    assert told["column_units"] == {"members": "نفر", "revenue": "میلیارد ریال",
                                    "revenue_prev": "هزار ریال", "export_revenue": "میلیون ریال",
                                    "defect_rate": "%"}  # fmt: skip
    assert told["columns_absent"] == [] and told["headers_unmatched"] == []
    assert told["headers_row_counters"] == ["ردیف"]
    assert summaries["fa"].rows_read == summaries["fa"].rows_scored + summaries["fa"].rows_rejected


# --- the CLI tells coverage -----------------------------------------------------------------


@pytest.fixture
def thin_file(tmp_path) -> Path:
    """Required columns and the label only, a row counter and a header that matches nothing."""
    path = tmp_path / "thin.csv"
    path.write_text(
        "ردیف," + ",".join(REQUIRED) + ",Notes,exported_next_year\n"
        "1,A,tehran,mining,5,100,50,10,x,1\n2,B,fars,mining,5,100,50,10,x,0\n",
        encoding="utf-8",
    )
    return path


def test_validate_warns_of_absent_model_columns_in_one_line(thin_file):
    result = runner.invoke(app, ["validate", str(thin_file)])
    assert result.exit_code == 0, result.stderr
    [line] = [x for x in result.stderr.splitlines() if "lacks" in x]
    assert line.startswith("warning: thin.csv lacks established_year (سال تاسیس), employees")
    assert "commercial_card (کارت بازرگانی)" in line and "'Notes'" in line and "'ردیف'" in line


@pytest.mark.parametrize("command", ["validate", "train"])
def test_strict_makes_an_absent_model_column_fatal(thin_file, command, tmp_path):
    args = [command, str(thin_file), "--strict"]
    if command == "train":
        args += ["--registry", str(tmp_path / "models")]
    result = runner.invoke(app, args)
    line = assert_one_error_line(result, "established_year (سال تاسیس)", "(see --strict)")
    assert "absent from thin.csv" in line
    assert not (tmp_path / "models").exists()


def test_score_strict_refuses_before_writing_and_warns_without_it(trained, thin_file, tmp_path):
    registry, reference, _ = trained
    out = tmp_path / "scores.csv"
    base = ["score", str(thin_file), "--out", str(out), "--registry", str(registry),
            "--model", reference, "--quiet"]  # fmt: skip
    refused = runner.invoke(app, [*base, "--strict"])
    assert_one_error_line(refused, "export_revenue (فروش صادراتی)", "(see --strict)")
    assert not out.exists()
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.stderr
    assert any(x.startswith("warning: thin.csv lacks ") for x in result.stderr.splitlines())
    assert out.exists()
