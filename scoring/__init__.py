"""Export-readiness scoring for production cooperatives.

Registry data in (CSV, Excel or Parquet; English or Persian), a calibrated probability of exporting
within a year out, with a 0-100 score, a tier, exact reasons, dimension sub-scores and a budgeted
plan of support programmes.
"""

from __future__ import annotations

from scoring.collector import paused as _paused

with _paused():  # pandas, numpy and pyarrow are imported here: objects, no garbage
    from scoring.contract import Contract, load_contract
    from scoring.errors import (
        ContractError,
        InputFileError,
        ModelError,
        PlanError,
        ReadinessError,
        RegistryError,
        TrainingError,
    )

__version__ = "0.1.0"

__all__ = [
    "Contract",
    "ContractError",
    "InputFileError",
    "ModelError",
    "PlanError",
    "ReadinessError",
    "RegistryError",
    "TrainingError",
    "__version__",
    "load_contract",
]
