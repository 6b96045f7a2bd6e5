"""Shared fixtures: a small trained model in a temporary registry, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

#: One quick candidate: the suite checks behaviour, not model quality (benchmarks do that).
QUICK = ({"max_leaf_nodes": 3, "min_samples_leaf": 40, "max_iter": 300},)


@pytest.fixture(scope="session")
def sample_frames():
    """3,000 labelled sample rows (normalised form) and their true probabilities."""
    from scoring.sample import generate_sample

    return generate_sample(3000, seed=11)


@pytest.fixture(scope="session")
def trained(tmp_path_factory, sample_frames):
    """``(registry, reference, result)`` of a small model trained on the sample."""
    from scoring.contract import load_contract
    from scoring.registry import save_model
    from scoring.training import train_model

    frame, p_true = sample_frames
    contract = load_contract()
    truth = pd.DataFrame({"coop_id": frame["coop_id"], "true_probability": p_true})
    result = train_model(frame, contract, seed=0, truth=truth, candidates=QUICK, n_threads=1)
    registry = Path(tmp_path_factory.mktemp("registry"))
    reference = save_model(result, contract, registry)
    return registry, reference, result


@pytest.fixture(scope="session")
def scoring_model(trained):
    """The trained model, loaded and verified as ``readiness score`` loads it."""
    from scoring.model import ScoringModel
    from scoring.registry import load_model

    registry, reference, _ = trained
    return ScoringModel(load_model(registry, reference))


def assert_one_error_line(result, *fragments: str) -> str:
    """A CliRunner ``result`` of a clean refusal: exit 1 and one ``error: ...`` line on stderr
    (holding every one of ``fragments``), no traceback. Returns that line."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def contract_with_water(folder: Path):
    """The packaged contract plus a column (``water_use``) and a derived feature
    (``water_per_member = water_use / members``), in TOML only, written to ``folder``."""
    from scoring.contract import default_contract_path, load_contract

    text = default_contract_path().read_text(encoding="utf-8")
    text = text.replace(
        "[model.derived]\n", '[model.derived]\nwater_per_member = "water_use / members"\n'
    )
    text = text.replace(
        'features = [\n    "utilization",', 'features = [\n    "water_per_member", "utilization",'
    )
    text += '\n[[column]]\nname = "water_use"\nfa = "مصرف آب"\ntype = "number"\nmin = 0\n'
    path = folder / "contract.toml"
    path.write_text(text, encoding="utf-8")
    return load_contract(path)
