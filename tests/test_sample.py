"""Tests of the embedded synthetic registry (scoring.sample)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from scoring.sample import (
    LABEL,
    PROBLEM_KINDS,
    REFERENCE_YEAR,
    generate_sample,
    inject_problems,
    to_english_table,
    to_persian_table,
    true_logit,
    true_probability,
)

CONTRACT = tomllib.loads(
    (Path(__file__).parents[1] / "scoring" / "data" / "contract.toml").read_text("utf-8")
)
COLUMNS = [c["name"] for c in CONTRACT["column"]]
FA = {c["name"]: c["fa"] for c in CONTRACT["column"]}
REQUIRED = ["coop_id", "province", "sector", "members", "installed_capacity", "actual_output",
            "revenue"]  # fmt: skip
YESNO = ["iso9001", "standard_mark", "commercial_card"]
# Documented in docs/sample-model.md (20,000 rows, seed 0).
LABEL_RATE_BAND = (0.24, 0.30)
BAYES_AUC_BAND = (0.80, 0.86)
TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹٫", "0123456789.", "٬")


@pytest.fixture(scope="module")
def big() -> tuple[pd.DataFrame, np.ndarray]:
    return generate_sample(20_000, 0)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return generate_sample(3_000, 11)[0]


def test_same_seed_same_rows_and_truth():
    a, pa = generate_sample(2_000, 7)
    b, pb = generate_sample(2_000, 7)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(pa, pb)
    c, pc = generate_sample(2_000, 8)
    assert not np.array_equal(pa, pc)
    assert not a["members"].equals(c["members"])


def test_columns_types_and_ids():
    frame, p = generate_sample(500, 3)
    assert list(frame.columns) == COLUMNS
    assert p.shape == (500,) and np.all((p > 0) & (p < 1))
    assert frame["coop_id"].is_unique and frame["coop_id"].iloc[0] == "C0000001"
    assert frame[LABEL].dtype == np.int64 and set(frame[LABEL].unique()) <= {0, 1}
    for column in COLUMNS[4:-1]:
        assert frame[column].dtype == np.float64, column
    unlabelled, _ = generate_sample(500, 3, labelled=False)
    assert list(unlabelled.columns) == COLUMNS[:-1]
    vocab = CONTRACT["vocabulary"]
    assert set(frame["sector"]) <= set(vocab["sector"]) - {"unknown"}
    assert set(frame["province"]) <= set(vocab["province"]) - {"unknown"}


def test_required_never_missing_and_optional_sometimes(big):
    frame, _ = big
    assert not frame[REQUIRED].isna().any().any()
    assert frame["defect_rate"].isna().mean() == pytest.approx(0.15, abs=0.02)
    assert frame["revenue_prev"].isna().mean() == pytest.approx(0.10, abs=0.02)


def test_value_ranges(big):
    frame, _ = big
    assert (frame["actual_output"] <= frame["installed_capacity"]).all()
    assert (frame["installed_capacity"] > 0).all()
    assert (frame["members"] >= 7).all()
    assert (frame["members"] == frame["members"].round()).all()
    assert frame["members"].median() == pytest.approx(25, abs=3)
    assert frame["established_year"].dropna().between(1975, REFERENCE_YEAR).all()
    assert frame["defect_rate"].dropna().between(0, 1).all()
    assert (
        frame["export_revenue"].dropna() <= frame["revenue"][frame["export_revenue"].notna()]
    ).all()
    no_markets = frame["export_markets"] == 0
    assert (frame.loc[no_markets, "export_revenue"].fillna(0) == 0).all()
    assert frame["sector"].value_counts().index[0] == "agriculture"


def test_label_rate_and_bayes_auc_in_documented_bands(big):
    frame, p = big
    rate = frame[LABEL].mean()
    auc = roc_auc_score(frame[LABEL], p)
    assert LABEL_RATE_BAND[0] <= rate <= LABEL_RATE_BAND[1]
    assert BAYES_AUC_BAND[0] <= auc <= BAYES_AUC_BAND[1]
    assert abs(p.mean() - rate) < 0.015  # labels are drawn from the truth


def test_true_logit_reproduces_generated_truth(small):
    frame = small
    _, p = generate_sample(3_000, 11)
    np.testing.assert_allclose(true_probability(frame), p)
    np.testing.assert_allclose(true_probability(frame.drop(columns=LABEL)), p)


def _with_utilization(frame: pd.DataFrame, u: float) -> pd.DataFrame:
    changed = frame.copy()
    changed["actual_output"] = u * changed["installed_capacity"]
    return changed


def test_utilization_sweet_spot(small):
    best = true_logit(_with_utilization(small, 0.8))
    assert np.all(best > true_logit(_with_utilization(small, 0.2)))
    assert np.all(best > true_logit(_with_utilization(small, 1.0)))
    # the long-dormant penalty is sharp: a step between 0.26 and 0.24
    step = true_logit(_with_utilization(small, 0.26)) - true_logit(_with_utilization(small, 0.24))
    assert np.all(step > 0.5)


@pytest.mark.parametrize(
    ("column", "value"),
    [("iso9001", 1.0), ("commercial_card", 1.0), ("standard_mark", 1.0)],
)
def test_yes_never_lowers_the_truth(small, column, value):
    rows = small[small[column] == 0]
    assert len(rows) > 500
    changed = rows.copy()
    changed[column] = value
    assert np.all(true_logit(changed) >= true_logit(rows))
    assert np.mean(true_logit(changed) > true_logit(rows)) > 0.99


def test_more_markets_and_certificates_never_lower_the_truth(small):
    for column in ("export_markets", "intl_certifications"):
        changed = small.copy()
        changed[column] = changed[column] + 1
        assert np.all(true_logit(changed) >= true_logit(small)), column


def test_higher_defect_rate_never_raises_the_truth(small):
    rng = np.random.default_rng(0)
    changed = small.copy()
    changed["defect_rate"] = np.minimum(
        1.0, changed["defect_rate"] + rng.uniform(0, 0.5, len(small))
    )
    assert np.all(true_logit(changed) <= true_logit(small))
    assert np.mean(true_logit(changed) < true_logit(small)) > 0.5


def test_iso_effect_depends_on_sector_only(small):
    yes, no = small.copy(), small.copy()
    yes["iso9001"], no["iso9001"] = 1.0, 0.0
    effect = pd.Series(true_logit(yes) - true_logit(no)).groupby(small["sector"].to_numpy())
    assert (effect.max() - effect.min()).max() < 1e-9  # one effect per sector: additive otherwise
    per_sector = effect.first()
    assert per_sector["food_processing"] > per_sector["agriculture"] + 0.3
    assert per_sector["industrial"] > per_sector["handicrafts"] + 0.3


def test_missing_optional_values_have_a_fixed_effect(small):
    row = small.iloc[[0]].copy()
    row["defect_rate"] = 0.0
    missing = row.copy()
    missing["defect_rate"] = np.nan
    assert true_logit(missing)[0] == pytest.approx(true_logit(row)[0] - 0.3)
    assert np.isfinite(true_logit(small.drop(columns=["revenue_prev", "employees"]))).all()


def test_english_table_is_text_and_round_trips(small):
    table = to_english_table(small)
    assert list(table.columns) == COLUMNS
    assert all(isinstance(v, str) for v in table.to_numpy().ravel())
    assert set(table["iso9001"]) <= {"yes", "no", ""}
    assert not table["members"].str.endswith(".0").any()
    assert (table["defect_rate"] == "").sum() == small["defect_rate"].isna().sum()
    for column in ("revenue", "actual_output", "defect_rate", "debt_ratio", "members"):
        parsed = pd.to_numeric(table[column].replace("", np.nan))
        np.testing.assert_array_equal(parsed.to_numpy(), small[column].to_numpy())


def test_persian_table_headers_digits_and_twin_numbers(small):
    table = to_persian_table(small)
    assert list(table.columns) == [FA[c] for c in COLUMNS]
    assert not any(re.search("[0-9]", v) for v in table.to_numpy().ravel())
    assert all(isinstance(v, str) for v in table.to_numpy().ravel())
    assert set(table[FA["standard_mark"]]) <= {"بله", "خیر", ""}
    assert set(table[FA[LABEL]]) == {"۰", "۱"}
    assert set(table[FA["sector"]]) <= {v[0] for v in CONTRACT["vocabulary"]["sector"].values()}
    for column in ("revenue", "revenue_prev", "installed_capacity", "defect_rate", "debt_ratio"):
        latin = table[FA[column]].map(lambda s: s.translate(TO_LATIN)).replace("", np.nan)
        np.testing.assert_array_equal(pd.to_numeric(latin).to_numpy(), small[column].to_numpy())


def test_persian_number_and_year_format(small):
    frame = small.iloc[:3].copy()
    frame["revenue"] = [12345.6, 999.5, 1234567.0]
    frame["defect_rate"] = [0.045, np.nan, 0.1]
    frame["established_year"] = [2020.0, 1979.0, np.nan]
    table = to_persian_table(frame)
    assert table[FA["revenue"]].tolist() == ["۱۲٬۳۴۵٫۶", "۹۹۹٫۵", "۱٬۲۳۴٬۵۶۷"]
    assert table[FA["defect_rate"]].tolist() == ["۰٫۰۴۵", "", "۰٫۱"]
    assert table[FA["established_year"]].tolist() == ["۱۳۹۹", "۱۳۵۸", ""]
    years = pd.to_numeric(to_persian_table(small)[FA["established_year"]].map(
        lambda s: s.translate(TO_LATIN)).replace("", np.nan))  # fmt: skip
    np.testing.assert_array_equal(years.to_numpy(), small["established_year"].to_numpy() - 621)


@pytest.mark.parametrize("share", [0.05, 0.3])
def test_inject_problems_changes_about_share_of_rows(share):
    frame, _ = generate_sample(2_000, 5)
    table = to_english_table(frame)
    dirty = inject_problems(table, share, seed=1)
    assert dirty.shape == table.shape and list(dirty.columns) == list(table.columns)
    changed = (dirty != table).any(axis=1).mean()
    assert changed == pytest.approx(share, abs=0.01)
    assert table.equals(to_english_table(frame))  # the input is left alone
    pd.testing.assert_frame_equal(dirty, inject_problems(table, share, seed=1))


def test_inject_problems_kinds_appear():
    table = to_english_table(generate_sample(3_000, 2)[0])
    dirty = inject_problems(table, 0.5, seed=0)
    assert len(PROBLEM_KINDS) == 7
    assert (dirty["sector"] == "fishing").any()
    assert dirty["coop_id"].replace("", np.nan).dropna().duplicated().any()
    assert dirty["members"].str.startswith("-").any()
    assert dirty["defect_rate"].eq("150%").any()
    assert dirty[YESNO].eq("maybe").any().any()
    assert dirty[["revenue", "members", "installed_capacity"]].isin(["abc", "n/a?"]).any().any()
    assert (dirty[REQUIRED] == "").any().any()
