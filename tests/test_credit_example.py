"""The credit example: a contract for a table that is not the registry's, read and trained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import QUICK

from scoring.contract import load_contract
from scoring.training import read_labelled, train_model

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "credit"


@pytest.fixture(scope="module")
def credit():
    contract = load_contract(EXAMPLE / "contract.toml")
    frame, report = read_labelled(EXAMPLE / "germancredit.csv", contract)
    return contract, frame, report


def test_every_application_is_read_and_the_label_reads_its_own_words(credit):
    contract, frame, report = credit
    assert (report.rows_read, report.rows_valid, report.rows_rejected) == (1000, 1000, 0)
    # The published table has 700 good and 300 bad credits; 'bad' is the outcome (1).
    assert frame["bad_credit"].sum() == 300
    raw = (EXAMPLE / "germancredit.csv").read_text(encoding="utf-8").splitlines()
    assert raw[1].endswith(",good") and frame["bad_credit"].iloc[0] == 0
    assert raw[2].endswith(",bad") and frame["bad_credit"].iloc[1] == 1
    assert "bad" not in contract.yes  # its words did not widen the global ones


def test_a_contract_without_reasons_gets_generated_ones_for_every_feature(credit):
    contract, frame, _ = credit
    result = train_model(frame, contract, candidates=QUICK, n_threads=1, holdout_share=0.3)
    reasons = result.explainer["reasons"]
    numeric = set(contract.model.features) - set(contract.model.categorical)
    assert set(reasons) == numeric  # categories are context, as sector and province are
    duration = reasons["duration_in_month"]
    sides = {side for side in ("low", "high") if side in duration}
    assert sides and all(duration[s]["code"] == f"{s}_duration_in_month" for s in sides)
    # The table is informative: published AUCs are about 0.78.
    assert result.metrics["overall"]["roc_auc"] > 0.7
    p = result.scorer.probability(result.pipeline[0].transform(frame))
    assert np.all((p > 0) & (p < 1)) and abs(p.mean() - 0.3) < 0.05
