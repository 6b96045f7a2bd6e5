"""Tests of the workbook officers open (scoring.workbook, scoring.sheetxml, and the scores
workbook of scoring.batch): sheets, frozen and filtered header, widths, number formats, tier
colours, right-to-left for Persian, read back with python-calamine and from the XML itself."""

from __future__ import annotations

import json
import re
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

import scoring.batch as batch
import scoring.workbook as workbook
import scoring.writing as writing
from scoring.batch import SCORES_LAYOUT, score_file
from scoring.errors import InputFileError
from scoring.sample import generate_sample, inject_problems, to_english_table, to_persian_table
from scoring.tiers import TIER_COLORS
from scoring.workbook import ONE_DECIMAL, PERCENT, SheetLayout, write_excel
from scoring.writing import TableWriter

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
FRAME = pd.DataFrame(
    {
        "coop_id": ["=1+1", "a&b<c>", " padded ", None, "x\x01y_x0041_", "کد ۷"],
        "export_probability": [0.499662, 0.25, np.nan, 1.0, 0.1, 0.03],
        "readiness_score": [50.0, 25.0, np.nan, 100.0, 10.0, 3.0],
        "readiness_tier": ["A", "C", "D", "A", "D", "B"],
        "members": pd.array([12, None, 3, 4, 5, 6], dtype="Int64"),
        "certified": [True, False, True, False, True, False],
    }
)
LAYOUT = SheetLayout({"export_probability": PERCENT, "readiness_score": ONE_DECIMAL},
                     "readiness_tier", ("readiness_tier",))  # fmt: skip


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def _sheet_xml(path: Path, number: int) -> ET.Element:
    return ET.fromstring(_parts(path)[f"xl/worksheets/sheet{number}.xml"])


def _rows(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def _styles(path: Path) -> tuple[dict[int, str], list[ET.Element], list[ET.Element]]:
    """Number formats by id, the cell formats (by ``s`` index) and the fills of a workbook."""
    styles = ET.fromstring(_parts(path)["xl/styles.xml"])
    formats = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.iter(f"{MAIN}numFmt")}
    return formats, list(styles.find(f"{MAIN}cellXfs")), list(styles.find(f"{MAIN}fills"))


def _cell_style(path: Path, number: int, reference: str) -> tuple[str | None, str | None]:
    """The number format and the fill colour of one cell (``"B2"``) of sheet ``number``."""
    cell = next(c for c in _sheet_xml(path, number).iter(f"{MAIN}c") if c.get("r") == reference)
    formats, xfs, fills = _styles(path)
    xf = xfs[int(cell.get("s", 0))]
    fill = fills[int(xf.get("fillId"))].find(f"{MAIN}patternFill/{MAIN}fgColor")
    return formats.get(int(xf.get("numFmtId"))), None if fill is None else fill.get("rgb")


def _write(path: Path, frame: pd.DataFrame = FRAME, **options) -> TableWriter:
    with TableWriter(path, sheet="scores", columns=list(frame.columns), **options) as writer:
        writer.write(frame.iloc[:4])
        writer.write(frame.iloc[4:])
    return writer


# --- a streamed table sheet -------------------------------------------------------------------


def test_a_streamed_sheet_reads_back_as_the_plain_writer_writes_it(tmp_path):
    _write(tmp_path / "streamed.xlsx", layout=LAYOUT)
    write_excel(FRAME, tmp_path / "plain.xlsx", "scores")
    streamed, plain = (
        _rows(tmp_path / "streamed.xlsx", "scores"),
        _rows(tmp_path / "plain.xlsx", "scores"),
    )
    assert streamed == plain
    assert streamed[0] == list(FRAME.columns)
    assert streamed[1][:2] == ["=1+1", 0.499662]  # text stays text, numbers exact
    assert [r[0] for r in streamed[1:]] == ["=1+1", "a&b<c>", " padded ", "", "x\x01y_x0041_",
                                           "کد ۷"]  # fmt: skip
    assert [r[5] for r in streamed[1:]] == [True, False, True, False, True, False]


def test_the_header_is_frozen_and_filtered_and_the_dimension_is_whole(tmp_path):
    _write(tmp_path / "out.xlsx", layout=LAYOUT)
    sheet = _sheet_xml(tmp_path / "out.xlsx", 1)
    pane = sheet.find(f"{MAIN}sheetViews/{MAIN}sheetView/{MAIN}pane")
    assert pane.get("state") == "frozen" and pane.get("ySplit") == "1"
    assert sheet.find(f"{MAIN}autoFilter").get("ref") == "A1:F7"
    assert sheet.find(f"{MAIN}dimension").get("ref") == "A1:F7"
    assert sheet.find(f"{MAIN}sheetViews/{MAIN}sheetView").get("rightToLeft") is None
    assert sheet.findall(f".//{MAIN}f") == [] and "hyperlink" not in "".join(
        _parts(tmp_path / "out.xlsx")
    )
    workbook_xml = _parts(tmp_path / "out.xlsx")["xl/workbook.xml"]
    assert "scores!$A$1:$F$7" in workbook_xml  # the filter's range, as Excel keeps it


def test_number_formats_and_tier_colours_follow_the_layout(tmp_path):
    path = tmp_path / "out.xlsx"
    _write(path, layout=LAYOUT)
    assert _cell_style(path, 1, "B2")[0] == "0.0%"
    assert _cell_style(path, 1, "C2")[0] == "0.0"
    assert _cell_style(path, 1, "E2") == (None, None)  # no format asked: General
    tiers = {"D2": "A", "D3": "C", "D4": "D", "D7": "B"}
    for reference, tier in tiers.items():
        assert _cell_style(path, 1, reference)[1] == "FF" + TIER_COLORS[tier].lstrip("#").upper()


def test_widths_fit_the_header_and_the_first_rows(tmp_path):
    frame = pd.DataFrame(
        {"id": ["x"] * 3, "note": ["a long note of forty characters, or so!!"] * 3}
    )
    _write(tmp_path / "out.xlsx", frame, layout=SheetLayout())
    widths = [
        float(c.get("width")) for c in _sheet_xml(tmp_path / "out.xlsx", 1).iter(f"{MAIN}col")
    ]
    assert 6 <= widths[0] < 10 and 40 <= widths[1] <= 45


def test_right_to_left_for_persian_and_headers_as_given(tmp_path):
    _write(tmp_path / "out.xlsx", layout=LAYOUT, headers={"coop_id": "شناسه تعاونی"})
    path = tmp_path / "out.xlsx"
    view = _sheet_xml(path, 1).find(f"{MAIN}sheetViews/{MAIN}sheetView")
    assert view.get("rightToLeft") is None
    _write(path, layout=SheetLayout(right_to_left=True), headers={"coop_id": "شناسه تعاونی"})
    view = _sheet_xml(path, 1).find(f"{MAIN}sheetViews/{MAIN}sheetView")
    assert view.get("rightToLeft") == "1"
    assert _rows(path, "scores")[0][0] == "شناسه تعاونی"


def test_a_table_with_no_rows_has_its_header(tmp_path):
    with TableWriter(tmp_path / "out.xlsx", columns=["row", "error"], layout=SheetLayout()):
        pass
    assert _rows(tmp_path / "out.xlsx", "data") == [["row", "error"]]
    assert _sheet_xml(tmp_path / "out.xlsx", 1).find(f"{MAIN}autoFilter").get("ref") == "A1:B1"


def test_long_text_is_cut_with_a_note(tmp_path):
    frame = pd.DataFrame({"note": ["x" * 40_000, "short"]})
    writer = _write(tmp_path / "out.xlsx", frame, layout=SheetLayout())
    rows = _rows(tmp_path / "out.xlsx", "scores")
    assert rows[1][0] == "x" * 32_766 + "…" and rows[2][0] == "short"
    assert len(writer.warnings) == 1 and "1 row of column 'note'" in writer.warnings[0]


def test_more_sheets_and_their_row_limit(tmp_path, monkeypatch):
    path = tmp_path / "out.xlsx"
    with TableWriter(path, sheet="scores", layout=LAYOUT) as writer:
        summary = writer.add_summary("summary", right_to_left=True)
        rejects = writer.add_sheet("rejects", ["row", "error"], SheetLayout(), {"error": "خطا"})
        writer.write(FRAME)
        rejects.write(pd.DataFrame({"row": [3], "error": ["bad"]}))
        summary.write([(("Run", ""), [("rows", 6), ("mean", workbook.Cell(0.25, PERCENT))]),
                       (("", ""), [("absent", "none")])])  # fmt: skip
    assert CalamineWorkbook.from_path(str(path)).sheet_names == ["scores", "summary", "rejects"]
    assert _rows(path, "rejects") == [["row", "خطا"], [3.0, "bad"]]
    assert _rows(path, "summary") == [["Run", ""], ["rows", 6.0], ["mean", 0.25], ["", ""],
                                      ["absent", "none"]]  # fmt: skip
    assert _cell_style(path, 2, "B3")[0] == "0.0%"
    monkeypatch.setattr(writing, "EXCEL_MAX_ROWS", 2)
    with (
        pytest.raises(InputFileError, match="more than 2 rows"),
        TableWriter(path, layout=LAYOUT) as w,
    ):
        w.add_sheet("rejects", None, SheetLayout()).write(FRAME.iloc[:3])
    assert len(_rows(path, "rejects")) == 2  # the earlier workbook stays


def test_the_private_parts_are_removed_on_success_and_on_failure(tmp_path, monkeypatch):
    parts = tmp_path / "system-temporary"
    parts.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parts))
    _write(tmp_path / "out.xlsx", layout=LAYOUT)
    with pytest.raises(RuntimeError), TableWriter(tmp_path / "b.xlsx", layout=LAYOUT) as writer:
        writer.write(FRAME)
        raise RuntimeError("interrupted")
    assert list(parts.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx", "system-temporary"]


TEXT = st.one_of(
    st.none(),
    st.sampled_from(["=1+1", '=HYPERLINK("http://x.example","x")', "http://x.example", "-12",
                     " lead", "trail ", "_x0000_", "a\tb\nc\rd", "<b>&amp;</b>", "\ufffe"]),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TEXT, st.one_of(st.floats(allow_nan=True), st.none())), min_size=1,
                max_size=8))  # fmt: skip
def test_fuzzed_cells_read_back_as_the_plain_writer_writes_them(rows):
    frame = pd.DataFrame({"text": pd.Series([r[0] for r in rows], dtype=object),
                          "number": pd.Series([r[1] for r in rows], dtype=float)})  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        streamed, plain = Path(folder) / "s.xlsx", Path(folder) / "p.xlsx"
        with TableWriter(streamed, layout=SheetLayout()) as writer:
            writer.write(frame)
        write_excel(frame, plain, "data")
        back, expected = _rows(streamed, "data"), _rows(plain, "data")
        assert [r[0] for r in back] == [r[0] for r in expected]  # the same texts
        # Numbers exactly (xlsxwriter's cells keep 16 digits, these the shortest exact form).
        numbers = [np.nan if v == "" else float(v) for v in (r[1] for r in back[1:])]  # "inf"
        numbers += [np.nan] * (len(frame) - len(numbers))  # trailing empty rows hold no cell
        np.testing.assert_array_equal(numbers, frame["number"].to_numpy(float))
        assert _sheet_xml(streamed, 1).findall(f".//{MAIN}f") == []


# --- CSV under --lang fa ----------------------------------------------------------------------


def test_a_csv_with_a_byte_order_mark_has_it_once(tmp_path):
    marked, plain = tmp_path / "marked.csv", tmp_path / "plain.csv"
    _write(marked, byte_order_mark=True)
    _write(plain)
    assert marked.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    with TableWriter(tmp_path / "empty.csv", columns=["ردیف"], byte_order_mark=True):
        pass
    assert (tmp_path / "empty.csv").read_bytes() == '\ufeff"ردیف"\n'.encode()
    _write(tmp_path / "out.parquet", byte_order_mark=True)  # only text files take the mark
    assert pd.read_parquet(tmp_path / "out.parquet").shape == FRAME.shape


# --- the scores workbook ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> dict[str, Path]:
    """A 400-row list with problems, as an English and as a Persian registry export."""
    frame, _ = generate_sample(400, seed=51, labelled=False)
    folder = tmp_path_factory.mktemp("workbook-input")
    paths = {}
    for lang, table in (("en", to_english_table(frame)), ("fa", to_persian_table(frame))):
        paths[lang] = folder / f"{lang}.csv"
        inject_problems(table, 0.1, seed=5).to_csv(paths[lang], index=False)
    return paths


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_the_scores_workbook(scoring_model, dirty, tmp_path, lang):
    out, summary = tmp_path / "scores.xlsx", tmp_path / "summary.json"
    score_file(dirty[lang], scoring_model, out, summary=summary, chunk_size=150,
               lang=lang if lang == "fa" else None, keep_columns=["name"])  # fmt: skip
    facts = json.loads(summary.read_text(encoding="utf-8"))
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["scores", "summary", "rejects"]
    scores, rejects = _rows(out, "scores"), _rows(out, "rejects")
    assert len(scores) == facts["rows_scored"] + 1 and len(rejects) == facts["rows_rejected"] + 1
    fa = lang == "fa"
    assert scores[0][:5] == (
        ["شناسه تعاونی", "احتمال صادرات", "امتیاز آمادگی", "سطح آمادگی", "نام سطح"]
        if fa else ["coop_id", "export_probability", "readiness_score", "readiness_tier",
                    "reason_1"]
    )  # fmt: skip
    assert scores[0][-1] == ("نام تعاونی" if fa else "name")
    assert rejects[0] == (["ردیف", "شناسه تعاونی", "خطا"] if fa else ["row", "coop_id", "error"])
    assert bool(re.search("[\u0600-\u06ff]", rejects[1][2])) == fa
    for number in (1, 2, 3):  # every sheet turns for Persian
        view = _sheet_xml(out, number).find(f"{MAIN}sheetViews/{MAIN}sheetView")
        assert (view.get("rightToLeft") == "1") == fa
    sheet = _sheet_xml(out, 1)
    assert sheet.find(f"{MAIN}sheetViews/{MAIN}sheetView/{MAIN}pane").get("state") == "frozen"
    last = f"{chr(ord('A') + len(scores[0]) - 1)}{len(scores)}"
    assert sheet.find(f"{MAIN}autoFilter").get("ref") == f"A1:{last}"
    assert [_cell_style(out, 1, f"{c}2")[0] for c in "BCD"] == ["0.0%", "0.0", None]
    tier = scores[1][3]
    assert _cell_style(out, 1, "D2")[1] == "FF" + TIER_COLORS[tier].lstrip("#").upper()
    # The summary sheet holds the run's counts.
    summary_rows = {row[0]: row[1] for row in _rows(out, "summary") if row and row[0]}
    label = "ردیف‌های خوانده‌شده" if fa else "rows read"
    assert summary_rows[label] == facts["rows_read"] == 400
    # Numbers are exact: the workbook holds what the CSV holds.
    score_file(dirty[lang], scoring_model, tmp_path / "scores.csv", chunk_size=150)
    csv = pd.read_csv(tmp_path / "scores.csv")
    np.testing.assert_array_equal([r[1] for r in scores[1:]], csv["export_probability"])


def test_rejects_named_elsewhere_leave_the_workbook_without_a_rejects_sheet(
    scoring_model, dirty, tmp_path
):
    score_file(dirty["en"], scoring_model, tmp_path / "s.xlsx", rejects=tmp_path / "r.xlsx")
    assert CalamineWorkbook.from_path(str(tmp_path / "s.xlsx")).sheet_names == ["scores", "summary"]
    assert _rows(tmp_path / "r.xlsx", "rejects")[0] == ["row", "coop_id", "error"]


def test_progress_counts_the_rows_as_they_are_written(scoring_model, tmp_path):
    frame, _ = generate_sample(25_000, seed=52, labelled=False)
    table = to_english_table(frame)
    table.loc[[5, 17_000], "members"] = "abc"
    table.to_csv(tmp_path / "in.csv", index=False)
    steps = []
    result = score_file(tmp_path / "in.csv", scoring_model, tmp_path / "out.xlsx",
                        chunk_size=12_000, progress=steps.append)  # fmt: skip
    assert sum(steps) == result.rows_read == 25_000
    assert max(steps) <= batch._PROGRESS_ROWS and len(steps) >= 5  # not 0, then everything


def test_the_summary_seconds_run_from_opening_the_file_to_the_last_byte(
    scoring_model, dirty, tmp_path, monkeypatch
):
    def slowly(function):
        def slow(*args, **kwargs):
            time.sleep(0.3)
            return function(*args, **kwargs)

        return slow

    monkeypatch.setattr(batch, "open_source", slowly(batch.open_source))  # reading
    monkeypatch.setattr(workbook.StreamedBook, "save", slowly(workbook.StreamedBook.save))
    result = score_file(dirty["en"], scoring_model, tmp_path / "out.xlsx")
    assert result.seconds >= 0.6


def test_the_scores_layout_formats_the_documented_columns():
    assert SCORES_LAYOUT.number_formats["export_probability"] == "0.0%"
    one_decimal = {k for k, v in SCORES_LAYOUT.number_formats.items() if v == "0.0"}
    assert one_decimal == {"readiness_score", "capacity_score", "quality_score", "output_score",
                           "market_score", "sector_percentile", "next_step_score"}  # fmt: skip
    assert SCORES_LAYOUT.tier_colored == ("readiness_tier", "tier_name")
