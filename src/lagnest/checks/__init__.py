"""Predictive checks (posterior and prior) on the sequential statistics the field trusts.

Importing this layer fills the model layer's check slots (:mod:`lagnest._hooks`), so that
``result.ppc()`` and ``model.prior_predictive_check()`` run :func:`check` and
:func:`prior_predictive_check` without the models importing the checks.
"""

from lagnest.checks.ppc import (
    REPLICATORS,
    SESSION_STATISTICS,
    PredictiveCheck,
    check,
    prior_predictive_check,
    session_statistics,
)
from lagnest.checks.sequence_stats import STATISTICS, sequence_statistics

__all__ = [
    "REPLICATORS",
    "SESSION_STATISTICS",
    "STATISTICS",
    "PredictiveCheck",
    "check",
    "prior_predictive_check",
    "sequence_statistics",
    "session_statistics",
]
