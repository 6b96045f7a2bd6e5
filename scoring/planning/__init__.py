"""Support-programme planning: programmes and their eligibility, the counterfactual uplift of
each programme, a budgeted allocation, whole files planned, and the plan as people read it (see
each module's docstring).
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
from scoring.planning.presentation import (
    DETAIL_COLUMNS,
    PLAN_LANGUAGES,
    describe_plan,
    plan_header_lookup,
    plan_headers,
    plan_headline,
    policy_name,
)
from scoring.planning.programs import (
    Effect,
    Program,
    apply_effects,
    apply_program,
    load_programs,
    programs_from_dict,
)
from scoring.planning.uplift import CANDIDATE_COLUMNS, PLAN_COLUMNS, candidate_uplifts, uplifts

__all__ = [
    "CANDIDATE_COLUMNS",
    "DETAIL_COLUMNS",
    "MILP_MAX_CANDIDATES",
    "PLAN_COLUMNS",
    "PLAN_LANGUAGES",
    "POLICIES",
    "Allocation",
    "Condition",
    "Effect",
    "PlanSummary",
    "Program",
    "allocate",
    "apply_effects",
    "apply_program",
    "candidate_uplifts",
    "describe_plan",
    "load_programs",
    "next_step_columns",
    "parse_condition",
    "plan_file",
    "plan_header_lookup",
    "plan_headers",
    "plan_headline",
    "policy_allocation",
    "policy_baselines",
    "policy_name",
    "programs_from_dict",
    "uplifts",
]
