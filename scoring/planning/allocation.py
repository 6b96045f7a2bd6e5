"""Budgeted allocation on arrays: the exact 0/1 programme (LP bound, reduced-cost fixing, MILP),
the greedy with exchanges, and the rules of thumb it is compared with. No pandas here.

The allocation maximises the sum of probability uplifts (expected additional exporters) within
the budget, each programme's slots and one programme per cooperative: a 0/1 programme with one
variable per candidate and a sparse constraint matrix (one budget row, a row per programme whose
slots can bind, a row per cooperative with two or more candidates).

1. The LP relaxation (HiGHS, interior point with crossover) gives duals, hence a Lagrangian upper
   bound that holds whatever the solver's tolerances, and each candidate's reduced cost.
2. The greedy: funds candidates in order of uplift per cost, or the LP solution first, keeps the
   better, then applies improving exchanges (add, swap, move a cooperative to another
   programme). It is the incumbent.
3. Exact (``milp``): every candidate whose reduced cost exceeds bound - incumbent is fixed at its
   LP side (no better plan can differ there), and ``scipy.optimize.milp`` (HiGHS) solves the
   rest, typically a few percent of the candidates.

Above :data:`MILP_MAX_CANDIDATES` candidates (``method="auto"``), or when HiGHS hits its time
limit without a better plan, the greedy plan is used, with the Lagrangian bound and the relative
gap reported. The candidates table and the plan as frames are :mod:`scoring.planning.plan`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scoring.errors import PlanError

if TYPE_CHECKING:  # scipy is imported when a plan is solved: scoring never pays for it
    from scipy import sparse

__all__ = [
    "METHODS",
    "MILP_MAX_CANDIDATES",
    "MIP_REL_GAP",
    "POLICIES",
    "Problem",
    "Solution",
    "check_budget",
    "check_method",
    "check_policy",
    "fund_in_order",
    "policy_order",
    "solve",
]

#: ``auto``: ``milp`` up to :data:`MILP_MAX_CANDIDATES` candidates, else ``greedy``.
METHODS = ("auto", "milp", "greedy")
#: The rules of thumb an allocation is compared with (see :func:`policy_order`).
POLICIES = ("lowest_score_first", "highest_score_first", "random")
#: Above this many candidates ``method="auto"`` uses the greedy with the LP bound.
#: Measured on the sample data with examples/programs.toml, 2 shared cores (benchmarks/README.md):
#: when HiGHS has to branch, exact allocation took 0.7 s for 43k candidates, 4-5 s for 215k,
#: 10-20 s for 430k, 35-73 s for 1.07M (time limit hit) and 110-150 s for 2.1M; the greedy
#: took 0.7 / 3 / 8-13 / 22 / 55-77 s and was within 1e-6 of the bound from 50k cooperatives up.
#: Past 500k the proof of optimality costs more than it can gain.
MILP_MAX_CANDIDATES = 500_000
#: HiGHS stops at this relative gap between its solution and its bound.
MIP_REL_GAP = 1e-6


def check_budget(budget: Any) -> float:
    """``budget`` as a float; raise :class:`PlanError` unless it is a positive finite number."""
    is_number = isinstance(budget, int | float) and not isinstance(budget, bool)
    if not is_number or not math.isfinite(budget) or budget <= 0:
        raise PlanError(f"budget must be a positive number, got {budget!r}")
    return float(budget)


def check_method(method: str) -> None:
    """Raise :class:`PlanError` unless ``method`` is one of :data:`METHODS`."""
    if method not in METHODS:
        raise PlanError(f"method '{method}' is unknown; use auto, milp or greedy")


def check_policy(policy: str) -> None:
    """Raise :class:`PlanError` unless ``policy`` is one of :data:`POLICIES`."""
    if policy not in POLICIES:
        raise PlanError(f"policy '{policy}' is unknown; use one of {', '.join(POLICIES)}")


@dataclass
class Problem:
    """The allocation as arrays: per candidate its uplift, cost, cooperative and programme code;
    the slots per programme code, the budget, and the constraints ``matrix @ x <= upper``.

    Build it with :meth:`build`.
    """

    uplift: np.ndarray
    costs: np.ndarray
    coops: np.ndarray
    progs: np.ndarray
    slots: np.ndarray
    budget: float
    matrix: sparse.csr_array
    upper: np.ndarray

    @classmethod
    def build(
        cls,
        uplift: np.ndarray,
        costs: np.ndarray,
        coops: np.ndarray,
        progs: np.ndarray,
        slots: np.ndarray,
        budget: float,
    ) -> Problem:
        """The problem of funding candidates; ``coops`` and ``progs`` are codes counted from 0."""
        uplift = np.asarray(uplift, dtype=np.float64)
        costs = np.asarray(costs, dtype=np.float64)
        matrix, upper = _constraints(costs, coops, progs, slots, budget)
        return cls(uplift, costs, coops, progs, slots, budget, matrix, upper)


@dataclass(frozen=True)
class Solution:
    """The funded candidates (a mask), the ``method`` that found them, its ``status`` and an
    upper ``bound`` on the best achievable total uplift."""

    chosen: np.ndarray
    method: str
    status: str
    bound: float


def solve(problem: Problem, method: str = "auto", *, time_limit: float = 30.0) -> Solution:
    """Fund the candidates that maximise the total uplift under the problem's constraints.

    Parameters
    ----------
    problem
        The candidates and their constraints.
    method
        One of :data:`METHODS`: ``"milp"`` (exact, HiGHS), ``"greedy"``, or ``"auto"``: MILP up
        to :data:`MILP_MAX_CANDIDATES` candidates, else greedy.
    time_limit
        Seconds HiGHS may take; at the limit the better of its incumbent and the greedy is kept.

    Raises
    ------
    PlanError
        The method is unknown.
    """
    check_method(method)
    n = len(problem.uplift)
    if n == 0:
        return Solution(np.zeros(0, dtype=bool), "milp", "optimal", 0.0)
    if method == "milp" or (method == "auto" and n <= MILP_MAX_CANDIDATES):
        return Solution(*_solve_milp(problem, time_limit))
    return Solution(*_solve_greedy(problem))


def policy_order(
    policy: str,
    before: np.ndarray,
    uplift: np.ndarray,
    position: np.ndarray,
    coops: np.ndarray,
    *,
    seed: int = 0,
) -> np.ndarray:
    """The order in which a rule of thumb takes the candidates, for :func:`fund_in_order`.

    ``lowest_score_first``: lowest probability ``before`` first, then by ``position``;
    ``highest_score_first``: the highest first; ``random``: the cooperatives in a random order
    drawn from ``seed``. A cooperative's candidates come highest uplift first.

    Raises
    ------
    PlanError
        The policy is not one of :data:`POLICIES`.
    """
    check_policy(policy)
    if policy == "random":
        rank = np.random.default_rng(seed).permutation(int(coops.max()) + 1)[coops]
        return np.lexsort((-uplift, rank))
    key = before if policy == "lowest_score_first" else -before
    return np.lexsort((-uplift, position, key))


def _constraints(
    costs: np.ndarray, coops: np.ndarray, progs: np.ndarray, slots: np.ndarray, budget: float
) -> tuple[sparse.csr_array, np.ndarray]:
    """Budget, binding slots, and one-per-cooperative rows (only where they can bind)."""
    from scipy import sparse

    n = len(costs)
    rows = [np.zeros(n, dtype=np.int64)]
    cols = [np.arange(n)]
    data = [costs]
    upper = [budget]
    count = np.bincount(progs, minlength=len(slots))
    next_row = 1
    for j in np.flatnonzero(count > slots):
        members = np.flatnonzero(progs == j)
        rows.append(np.full(len(members), next_row))
        cols.append(members)
        data.append(np.ones(len(members)))
        upper.append(float(slots[j]))
        next_row += 1
    per_coop = np.bincount(coops)
    shared = np.flatnonzero(per_coop > 1)
    if len(shared):
        row_of = np.full(len(per_coop), -1, dtype=np.int64)
        row_of[shared] = next_row + np.arange(len(shared))
        members = np.flatnonzero(row_of[coops] >= 0)
        rows.append(row_of[coops[members]])
        cols.append(members)
        data.append(np.ones(len(members)))
        upper.extend([1.0] * len(shared))
        next_row += len(shared)
    matrix = sparse.csr_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(next_row, n)
    )
    return matrix, np.asarray(upper, dtype=np.float64)


def _relaxation(problem: Problem) -> tuple[np.ndarray, float, np.ndarray]:
    """The LP relaxation: its solution, a rigorous upper bound, and each variable's reduced cost.

    The bound is the Lagrangian one built from HiGHS's duals (clipped to their valid sign), so it
    holds whatever the solver's tolerances: for every feasible 0/1 plan ``x``,
    ``uplift @ x <= bound - sum(|reduced[k]|, over k where x[k] differs from its LP side)``.
    """
    from scipy.optimize import linprog

    relaxed = linprog(
        -problem.uplift,
        A_ub=problem.matrix,
        b_ub=problem.upper,
        bounds=(0, 1),
        method="highs-ipm",  # with crossover: a vertex, so only a handful of fractional values
    )
    if relaxed.status != 0 or relaxed.x is None:  # pragma: no cover - these LPs always solve
        n = len(problem.uplift)
        return np.zeros(n), float(np.clip(problem.uplift, 0, None).sum()), np.zeros(n)
    duals = np.minimum(np.asarray(relaxed.ineqlin.marginals, dtype=np.float64), 0.0)
    # Maximisation view: price of each candidate = uplift - (its share of the constraints' duals).
    reduced = problem.uplift + problem.matrix.T @ duals
    bound = float(-duals @ problem.upper + np.clip(reduced, 0, None).sum())
    return np.asarray(relaxed.x, dtype=np.float64), bound, reduced


def _solve_milp(problem: Problem, time_limit: float) -> tuple[np.ndarray, str, str, float]:
    """Exact: reduced-cost fixing from the LP relaxation, then HiGHS on the variables left.

    With the greedy's plan as incumbent, a candidate whose reduced cost exceeds the gap between
    the LP bound and the incumbent cannot change in any better plan, so it is fixed at its LP
    side. On the sample data this leaves a few percent of the variables to branch on.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    x_lp, bound, reduced = _relaxation(problem)
    incumbent = _greedy_plan(problem, x_lp)
    best_value = float(problem.uplift[incumbent].sum())
    slack = bound - best_value
    if slack <= MIP_REL_GAP * abs(bound):  # the bound already proves it, as HiGHS would
        return incumbent, "milp", "optimal", bound
    side = reduced > 0  # the LP-side value of each candidate in the Lagrangian relaxation
    fixed = np.abs(reduced) > slack + 1e-9 * max(1.0, bound)
    ones = fixed & side
    free = np.flatnonzero(~fixed)
    # HiGHS sees only the free candidates; the ones fixed at 1 use up budget, slots and coops.
    upper = problem.upper - problem.matrix @ ones.astype(np.float64)
    if np.any(upper < -1e-9 * max(1.0, problem.budget)):
        return incumbent, "milp", "optimal", best_value  # the fixed plan is infeasible
    plan = ones.copy()
    status = "optimal"
    if len(free):
        matrix = problem.matrix[:, free]
        rows = np.flatnonzero(np.diff(matrix.tocsr().indptr) > 0)
        result = milp(
            -problem.uplift[free],
            constraints=LinearConstraint(matrix[rows], -np.inf, np.maximum(upper[rows], 0.0)),
            integrality=np.ones(len(free)),
            bounds=Bounds(0, 1),
            options={"time_limit": float(time_limit), "mip_rel_gap": MIP_REL_GAP},
        )
        if result.status == 2:  # infeasible: nothing beats the incumbent
            return incumbent, "milp", "optimal", best_value
        status = "optimal" if result.status == 0 else "time limit"
        if result.x is None:
            return incumbent, "greedy", status, bound
        plan[free] = result.x > 0.5
        if result.status == 0 and result.mip_dual_bound is not None:
            fixed_value = float(problem.uplift[ones].sum())
            sub_bound = fixed_value - float(result.mip_dual_bound)
            bound = min(bound, max(best_value, sub_bound))
    if _feasible(plan, problem) and problem.uplift[plan].sum() > best_value:
        return plan, "milp", status, bound
    return incumbent, ("milp" if status == "optimal" else "greedy"), status, bound


def _feasible(chosen: np.ndarray, problem: Problem) -> bool:
    return bool(
        problem.costs[chosen].sum() <= problem.budget * (1 + 1e-9)
        and np.all(
            np.bincount(problem.progs[chosen], minlength=len(problem.slots)) <= problem.slots
        )
        and np.all(np.bincount(problem.coops[chosen]) <= 1)
    )


def _solve_greedy(problem: Problem) -> tuple[np.ndarray, str, str, float]:
    """The greedy plan, with the LP relaxation's optimum as the stated bound."""
    x_lp, bound, _ = _relaxation(problem)
    return _greedy_plan(problem, x_lp), "greedy", "heuristic", bound


def _greedy_plan(problem: Problem, x_lp: np.ndarray) -> np.ndarray:
    """The better of two greedy passes under the constraints.

    Orders: uplift per cost (the classic knapsack greedy), and the LP relaxation's solution
    first (values at 1, then by fractional value, then by uplift per cost). The LP solution is a
    vertex with only a handful of fractional values, because few constraints couple the
    cooperatives, so the second pass is usually within a hair of the optimum.
    """
    uplift, costs = problem.uplift, problem.costs
    with np.errstate(divide="ignore"):
        ratio = np.where(costs > 0, uplift / np.where(costs > 0, costs, 1.0), np.inf)
    best = None
    for order in (np.lexsort((-uplift, -ratio)), np.lexsort((-ratio, -np.round(x_lp, 9)))):
        plan = fund_in_order(
            order, problem.coops, problem.progs, costs, problem.slots, problem.budget
        )
        if best is None or uplift[plan].sum() > uplift[best].sum():
            best = plan
    return _improve(best, problem)


def _improve(plan: np.ndarray, problem: Problem, max_moves: int = 1000) -> np.ndarray:
    """Exchange local search: apply the best improving move until none is left.

    Moves: add a candidate; swap a funded candidate for an unfunded one of another cooperative;
    move a cooperative to another of its programmes. Candidates of one programme and cost are
    interchangeable for the constraints, so only the weakest funded and the strongest unfunded
    of each such class are compared. This recovers what the greedy leaves at the budget's edge
    (typically: drop a 200 programme, fund a 300 one with the 100 left over).
    """
    plan = plan.copy()
    uplift, costs, coops, progs = problem.uplift, problem.costs, problem.coops, problem.progs
    classes, first, inverse = np.unique(
        np.column_stack([progs, costs]), axis=0, return_index=True, return_inverse=True
    )
    if len(classes) > 64:  # costs vary per candidate: the class shortcut does not apply
        return plan
    class_cost, class_prog = costs[first], progs[first]
    members = [np.flatnonzero(inverse.ravel() == c) for c in range(len(classes))]
    tolerance = 1e-9 * max(problem.budget, 1.0)
    for _ in range(max_moves):
        left_budget = problem.budget - costs[plan].sum()
        left_slots = problem.slots - np.bincount(progs[plan], minlength=len(problem.slots))
        used = np.zeros(int(coops.max()) + 1, dtype=bool)
        used[coops[plan]] = True
        best_gain, best_move = 1e-12, None
        strongest, weakest = [], []
        for items in members:
            free = items[~plan[items] & ~used[coops[items]]]
            strongest.append(free[np.argmax(uplift[free])] if len(free) else -1)
            funded = items[plan[items]]
            weakest.append(funded[np.argmin(uplift[funded])] if len(funded) else -1)
        for d, incoming in enumerate(strongest):
            if incoming < 0:
                continue
            has_slot = left_slots[class_prog[d]] > 0
            fits = has_slot and class_cost[d] <= left_budget + tolerance
            if fits and uplift[incoming] > best_gain:  # add
                best_gain, best_move = uplift[incoming], (incoming,)
            for c, outgoing in enumerate(weakest):  # swap
                if outgoing < 0 or not (has_slot or class_prog[c] == class_prog[d]):
                    continue
                if class_cost[d] - class_cost[c] > left_budget + tolerance:
                    continue
                gain = uplift[incoming] - uplift[outgoing]
                if gain > best_gain:
                    best_gain, best_move = gain, (incoming, outgoing)
        # Move a funded cooperative to another of its programmes.
        holder = np.full(len(used), -1, dtype=np.int64)
        holder[coops[plan]] = np.flatnonzero(plan)
        others = np.flatnonzero(~plan & used[coops])
        if len(others):
            current = holder[coops[others]]
            fits = (costs[others] - costs[current] <= left_budget + tolerance) & (
                (progs[others] == progs[current]) | (left_slots[progs[others]] > 0)
            )
            gain = np.where(fits, uplift[others] - uplift[current], -np.inf)
            k = int(np.argmax(gain))
            if gain[k] > best_gain:
                best_gain, best_move = gain[k], (others[k], current[k])
        if best_move is None:
            break
        plan[best_move[0]] = True
        if len(best_move) == 2:
            plan[best_move[1]] = False
    return plan


def fund_in_order(
    order: np.ndarray,
    coops: np.ndarray,
    progs: np.ndarray,
    costs: np.ndarray,
    slots: np.ndarray,
    budget: float,
) -> np.ndarray:
    """Walk the candidates in ``order``; fund each whose coop is free, with a slot, that fits.

    Returns the mask of the funded candidates.
    """
    chosen = np.zeros(len(order), dtype=bool)
    used = np.zeros(int(coops.max()) + 1 if len(coops) else 0, dtype=bool)
    left = slots.astype(np.int64).copy()
    remaining = float(budget)
    cheapest = float(costs.min()) if len(costs) else 0.0
    tolerance = 1e-9 * max(budget, 1.0)
    coop_list, prog_list, cost_list = coops.tolist(), progs.tolist(), costs.tolist()
    used_list, left_list = used.tolist(), left.tolist()
    for k in order.tolist():
        if remaining + tolerance < cheapest:
            break
        coop, prog, cost = coop_list[k], prog_list[k], cost_list[k]
        if used_list[coop] or left_list[prog] <= 0 or cost > remaining + tolerance:
            continue
        chosen[k] = True
        used_list[coop] = True
        left_list[prog] -= 1
        remaining -= cost
    return chosen
