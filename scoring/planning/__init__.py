"""Support-programme planning: programmes and their eligibility, the counterfactual uplift of
each programme, a budgeted allocation, and whole files planned (see each module's docstring).
"""

from scoring.planning.allocation import MILP_MAX_CANDIDATES, POLICIES
from scoring.planning.conditions import Condition, parse_condition
from scoring.planning.plan import (
    Allocation,
    PlanSummary,
    allocate,
    next_step_columns,
    plan_file,
    policy_allocation,
    policy_baselines,
)
from scoring.planning.programs import (
    Effect,
    Program,
    apply_program,
    load_programs,
    programs_from_dict,
)
from scoring.planning.uplift import CANDIDATE_COLUMNS, PLAN_COLUMNS, candidate_uplifts, uplifts

__all__ = [
    "CANDIDATE_COLUMNS",
    "MILP_MAX_CANDIDATES",
    "PLAN_COLUMNS",
    "POLICIES",
    "Allocation",
    "Condition",
    "Effect",
    "PlanSummary",
    "Program",
    "allocate",
    "apply_program",
    "candidate_uplifts",
    "load_programs",
    "next_step_columns",
    "parse_condition",
    "plan_file",
    "policy_allocation",
    "policy_baselines",
    "programs_from_dict",
    "uplifts",
]
