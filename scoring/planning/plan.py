"""The plan as frames: which candidates get a programme (and what the rules of thumb would
fund), whole files planned end to end, and the next step a scored cooperative can take.

The arithmetic is :mod:`scoring.planning.allocation`'s, on arrays: this module turns the
candidates table (:func:`scoring.planning.uplift.candidate_uplifts`) into them and back.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.contract import TIERS, Contract
from scoring.errors import PlanError
from scoring.model import ScoringModel, tiers_of
from scoring.pipeline import collect_file
from scoring.planning.allocation import (
    POLICIES,
    Problem,
    check_budget,
    check_method,
    check_policy,
    fund_in_order,
    policy_order,
    solve,
)
from scoring.planning.presentation import (
    check_plan_lang,
    describe_plan,
    per_group,
    plan_headers,
    plan_headline,
    policy_name,
)
from scoring.planning.programs import Program, apply_program
from scoring.planning.uplift import CANDIDATE_COLUMNS, PLAN_COLUMNS, candidate_uplifts
from scoring.validation import REJECT_COLUMNS, reject_table
from scoring.writing import TableWriter, check_output_path, write_json

__all__ = [
    "Allocation",
    "PlanSummary",
    "allocate",
    "next_step_columns",
    "plan_file",
    "policy_allocation",
    "policy_baselines",
]

# TIERS runs from the best tier to the lowest; the lowest ranks 0.
_TIER_RANK = {tier: rank for rank, tier in enumerate(reversed(TIERS))}


@dataclass
class Allocation:
    """A budgeted allocation: the funded candidates and how good the solution is known to be.

    ``method`` is ``milp`` or ``greedy``; ``status`` says whether it is proven ``optimal``
    (within ``MIP_REL_GAP``), stopped at the ``time limit``, or a ``heuristic``. ``bound`` is an
    upper bound on the best achievable objective (HiGHS's dual bound, or the LP relaxation for
    the greedy) and ``gap`` = (bound - objective) / bound.
    """

    chosen: pd.DataFrame
    method: str
    status: str
    objective: float
    bound: float
    gap: float
    budget: float
    candidates: int
    seconds: float = 0.0

    @property
    def total_cost(self) -> float:
        return float(self.chosen["cost"].sum())

    def per_program(self) -> dict[str, dict[str, float]]:
        """Count, cost and expected additional exporters per programme id."""
        return per_group(self.chosen, self.chosen["program"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "budget": self.budget,
            "candidates": self.candidates,
            "funded": len(self.chosen),
            "total_cost": self.total_cost,
            "expected_additional_exporters": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "per_program": self.per_program(),
            "seconds": round(self.seconds, 3),
        }


def allocate(
    candidates: pd.DataFrame,
    programs: Sequence[Program],
    budget: float,
    *,
    method: str = "auto",
    time_limit: float = 30.0,
) -> Allocation:
    """Fund the candidates that maximise the total uplift within budget, slots, one per coop.

    Parameters
    ----------
    candidates
        From :func:`candidate_uplifts`; only rows with ``uplift > 0`` and ``cost <= budget`` of a
        programme with slots are considered.
    programs
        The programmes (for their slots).
    budget
        Total money available (> 0), in the programmes' cost currency.
    method
        ``"milp"`` (exact, HiGHS), ``"greedy"``, or ``"auto"``: MILP up to
        :data:`~scoring.planning.allocation.MILP_MAX_CANDIDATES` candidates, else greedy.
    time_limit
        Seconds HiGHS may take; at the limit the better of its incumbent and the greedy is kept.

    Raises
    ------
    PlanError
        The budget is not a positive number, or the method is unknown.
    """
    started = time.perf_counter()
    budget = check_budget(budget)
    check_method(method)
    pool, coops, progs, slots = _pool(candidates, programs, budget)
    solution = solve(_problem(pool, coops, progs, slots, budget), method, time_limit=time_limit)
    picked = pool.loc[solution.chosen].sort_values("uplift", ascending=False, kind="stable")
    picked = picked.reset_index(drop=True)
    objective = float(picked["uplift"].sum())
    bound = max(solution.bound, objective)
    gap = (bound - objective) / bound if bound > 0 else 0.0
    return Allocation(
        chosen=picked,
        method=solution.method,
        status=solution.status,
        objective=objective,
        bound=float(bound),
        gap=float(gap),
        budget=budget,
        candidates=len(pool),
        seconds=time.perf_counter() - started,
    )


def _pool(
    candidates: pd.DataFrame, programs: Sequence[Program], budget: float
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The candidates worth considering, their coop and programme codes, and the slots."""
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates]
    if missing:
        raise PlanError(f"candidates lack columns {missing}; build them with candidate_uplifts")
    slots_of = {p.id: p.slots for p in programs}
    unknown = set(candidates["program"].unique()) - set(slots_of)
    if unknown:
        raise PlanError(f"candidates name programmes not given: {sorted(map(str, unknown))}")
    program_ids = list(slots_of)
    slots = np.array([slots_of[p] for p in program_ids], dtype=np.int64)
    progs = pd.Categorical(candidates["program"], categories=program_ids).codes.astype(np.int64)
    keep = (
        (candidates["uplift"].to_numpy(dtype=float) > 0)
        & (candidates["cost"].to_numpy(dtype=float) <= budget)
        & (slots[progs] > 0)
    )
    pool = candidates.loc[keep].reset_index(drop=True)
    coops = pd.factorize(pool["position"])[0].astype(np.int64)
    return pool, coops, progs[keep], slots


def _problem(
    pool: pd.DataFrame, coops: np.ndarray, progs: np.ndarray, slots: np.ndarray, budget: float
) -> Problem:
    uplift = pool["uplift"].to_numpy(dtype=np.float64)
    costs = pool["cost"].to_numpy(dtype=np.float64)
    return Problem.build(uplift, costs, coops, progs, slots, budget)


def policy_allocation(
    candidates: pd.DataFrame,
    programs: Sequence[Program],
    budget: float,
    policy: str,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """The candidates a rule of thumb funds, under the plan's constraints.

    The policy takes cooperatives in its order (``lowest_score_first``: lowest probability
    first; ``highest_score_first``; ``random``, seeded) and gives each its highest-uplift
    programme (uplift > 0) that still has a slot and fits the remaining budget.
    """
    budget = check_budget(budget)
    check_policy(policy)
    pool, coops, progs, slots = _pool(candidates, programs, budget)
    if not len(pool):
        return pool
    order = policy_order(
        policy,
        pool["probability_before"].to_numpy(dtype=np.float64),
        pool["uplift"].to_numpy(dtype=np.float64),
        pool["position"].to_numpy(dtype=np.int64),
        coops,
        seed=seed,
    )
    chosen = fund_in_order(order, coops, progs, pool["cost"].to_numpy(float), slots, budget)
    return pool.iloc[order[chosen[order]]].reset_index(drop=True)  # in the order funded


def policy_baselines(
    candidates: pd.DataFrame, programs: Sequence[Program], budget: float, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Cost, expected additional exporters and count of each rule of thumb in ``POLICIES``."""
    out = {}
    for policy in POLICIES:
        chosen = policy_allocation(candidates, programs, budget, policy, seed=seed)
        out[policy] = {
            "total_cost": float(chosen["cost"].sum()),
            "expected_additional_exporters": float(chosen["uplift"].sum()),
            "funded": len(chosen),
            "per_program": per_group(chosen, chosen["program"]),
        }
    return out


@dataclass
class PlanSummary:
    """What :func:`plan_file` did, field for field the JSON summary (:meth:`to_dict`).

    The file's rows and programmes; the allocation's figures, as :meth:`Allocation.to_dict`
    gives them but ``seconds``, which is the whole plan's; the rules of thumb's figures (each
    with its ``name`` in words); and ``empty``/``message``, which say why when nobody is funded.
    ``per_province`` splits the plan as ``per_program`` does, by province key; ``headline`` says
    the plan and the rules of thumb in one sentence, in the plan's ``lang``.
    """

    model: str
    source: str
    rows_read: int
    rows_valid: int
    rows_rejected: int
    programs: list[dict[str, Any]]
    eligible_cooperatives: int
    method: str
    status: str
    budget: float
    candidates: int
    funded: int
    total_cost: float
    expected_additional_exporters: float
    bound: float
    gap: float
    per_program: dict[str, dict[str, float]]
    seconds: float
    policies: dict[str, dict[str, Any]]
    gain_over_best_policy: float
    empty: bool
    message: str
    header_row: int = 1  # the spreadsheet row the headers were found on
    per_province: dict[str, dict[str, float]] = field(default_factory=dict)
    headline: str = ""
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """The summary as written to ``--summary`` (JSON)."""
        return dataclasses.asdict(self)


def plan_file(
    path: str | Path,
    model: ScoringModel,
    programs: Sequence[Program],
    budget: float,
    out: str | Path,
    *,
    rejects: str | Path | None = None,
    summary: str | Path | None = None,
    chunk_size: int = 100_000,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    seed: int = 0,
    method: str = "auto",
    lang: str = "en",
    details: bool = False,
) -> PlanSummary:
    """Plan a whole file: validate it as ``score`` does, allocate, write the plan.

    Writes ``out`` (columns :data:`~scoring.planning.uplift.PLAN_COLUMNS`, one row per funded
    cooperative, by uplift, header only when nothing is funded), ``rejects`` and ``summary``
    (JSON), each atomically; nothing is written when an error is raised.

    With ``details``, the plan's rows also carry what a manager reads
    (:data:`~scoring.planning.presentation.DETAIL_COLUMNS`: name, province, sector, programme
    name, tier before and after). ``lang="fa"`` writes the plan's headers, programme names
    (``name_fa``), provinces and sectors in Persian, and the summary's words.

    Returns
    -------
    PlanSummary
        Rows, budget, funded count, total cost, expected additional exporters, per programme
        figures, method, bound, gap, the policies' figures, and ``empty``/``message`` when no
        cooperative can be funded.

    Raises
    ------
    PlanError
        The budget is not a positive number, no programme is given, or a programme does not fit
        the model's contract.
    """
    started = time.perf_counter()
    budget = check_budget(budget)
    lang = check_plan_lang(lang)
    _check_programs(programs, model.contract)
    for target in (out, rejects, summary):
        if target is not None:
            check_output_path(target)
    collected = collect_file(
        path,
        model.contract,
        chunk_size=chunk_size,
        encoding=encoding,
        sheet=sheet,
        header_row=header_row,
    )
    frame = collected.valid
    candidates = candidate_uplifts(frame, model, programs)
    allocation = allocate(candidates, programs, budget, method=method)
    baselines = policy_baselines(candidates, programs, budget, seed=seed)
    plan = describe_plan(allocation.chosen, frame, programs, model.tiers, model.contract, lang)
    if not details:
        plan = plan[PLAN_COLUMNS]
    headers = plan_headers(list(plan.columns), model.contract, lang)
    with TableWriter(out, columns=headers) as writer:
        if len(plan):
            writer.write(plan.set_axis(headers, axis=1))
    if rejects is not None:
        with TableWriter(rejects, columns=REJECT_COLUMNS) as writer:
            if len(collected.rejects):
                writer.write(reject_table(collected.rejects))
    figures = allocation.to_dict()
    del figures["seconds"]  # the summary's are the whole plan's
    best_policy = max((b["expected_additional_exporters"] for b in baselines.values()), default=0.0)
    for policy, policy_figures in baselines.items():
        policy_figures["name"] = policy_name(policy, lang)
    provinces = _provinces(allocation.chosen, frame)
    result = PlanSummary(
        model=model.reference,
        source=str(path),
        rows_read=collected.report.rows_read,
        rows_valid=len(frame),
        rows_rejected=collected.report.rows_read - len(frame),
        programs=[
            {"id": p.id, "name": p.name, "name_fa": p.name_fa, "cost": p.cost, "slots": p.slots}
            for p in programs
        ],
        eligible_cooperatives=int(candidates.loc[candidates["uplift"] > 0, "position"].nunique()),
        **figures,
        policies=baselines,
        gain_over_best_policy=allocation.objective - best_policy,
        empty=len(plan) == 0,
        message=_message(allocation, candidates),
        seconds=round(time.perf_counter() - started, 3),
        header_row=collected.report.header_row,
        per_province=per_group(allocation.chosen, provinces) if provinces is not None else {},
        headline=plan_headline(figures, baselines, lang) if len(plan) else "",
        lang=lang,
    )
    if summary is not None:
        write_json(result.to_dict(), summary)
    return result


def _provinces(chosen: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray | None:
    """The province key of each funded row, or None when the rows have no province."""
    if "province" not in frame:
        return None
    return frame["province"].astype(str).to_numpy(dtype=object)[chosen["position"].to_numpy(int)]


def _check_programs(programs: Sequence[Program], contract: Contract) -> None:
    """Refuse no programme at all, or one built for another contract than the model's."""
    if not programs:
        raise PlanError("no programme given: the programmes file must define at least one")
    for program in programs:
        unknown = [e.column for e in program.effects if e.column not in contract.names]
        if unknown:
            raise PlanError(
                f"programme '{program.id}' changes {unknown}, not columns of the model's contract"
            )
        if program.condition is not None:
            program.condition.check(contract)


def _message(allocation: Allocation, candidates: pd.DataFrame) -> str:
    funded = len(allocation.chosen)
    if funded:
        return (
            f"{funded} cooperatives funded for {allocation.total_cost:,.0f}: "
            f"{allocation.objective:.2f} expected additional exporters ({allocation.method})"
        )
    if not len(candidates):
        return "no cooperative is eligible for any programme: the plan is empty"
    if not (candidates["uplift"] > 0).any():
        return "no programme raises any cooperative's probability: the plan is empty"
    return "no programme fits the budget and slots: the plan is empty"


def next_step_columns(
    model: ScoringModel, programs: Sequence[Program]
) -> Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], pd.DataFrame]:
    """A ``score_file(extra=...)`` hook adding ``next_step`` and ``next_step_score``.

    ``next_step`` is the id of the cheapest programme after which the cooperative's tier is
    higher (ties: the higher resulting score, then file order of the programmes), or ``''``;
    ``next_step_score`` is the ``readiness_score`` after it (NaN when there is none).
    """
    ranked = sorted(enumerate(programs), key=lambda item: (item[1].cost, item[0]))
    top = _TIER_RANK[TIERS[0]]

    def add(valid: pd.DataFrame, scored: pd.DataFrame, X: np.ndarray) -> pd.DataFrame:
        n = len(valid)
        before = scored["export_probability"].to_numpy(dtype=np.float64)
        rank = _tier_rank(tiers_of(before, model.tiers))
        best_step = np.full(n, "", dtype=object)
        best_score = np.full(n, np.nan)
        best_cost = np.full(n, np.inf)
        for _, program in ranked:
            open_rows = rank < top
            if not open_rows.any():
                break
            new, changed = apply_program(valid, program, model.contract)
            rows = np.flatnonzero(changed & open_rows & (program.cost <= best_cost))
            if not len(rows):
                continue
            after = model.scorer.probability(model.features(new.iloc[rows]))
            higher = _tier_rank(tiers_of(after, model.tiers)) > rank[rows]
            score = np.round(100.0 * after, 1)
            better = higher & (
                (program.cost < best_cost[rows])
                | (score > np.nan_to_num(best_score[rows], nan=-1.0))
            )
            take = rows[better]
            best_step[take] = program.id
            best_score[take] = score[better]
            best_cost[take] = program.cost
        out = scored.copy()
        out["next_step"] = best_step
        out["next_step_score"] = best_score
        return out

    return add


def _tier_rank(tiers: np.ndarray) -> np.ndarray:
    return np.array([_TIER_RANK[t] for t in tiers], dtype=np.int64)
