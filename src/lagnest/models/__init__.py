"""Hierarchical Bayesian models on sufficient statistics (PyMC).

Every model is a specification (:class:`~lagnest.models.base.BayesianModel`) fitted through
the one path of :mod:`lagnest.models._fit`, returning a :class:`FitResult` that
:meth:`FitResult.save` writes and :func:`load` reads back.
"""

from lagnest._summaries import CI_PROB, Answer, ResultSummary
from lagnest.models import arviz  # noqa: F401  (fills the to_arviz slot of results)
from lagnest.models._fit import ConvergenceWarning, Diagnostics
from lagnest.models.base import BayesianModel
from lagnest.models.hmm import HiddenMarkovModel, HMMResult
from lagnest.models.impact import SessionImpactModel, SessionImpactResult
from lagnest.models.priors import Prior
from lagnest.models.regression import LaggedRegression, RegressionResult
from lagnest.models.result import DifferentModelError, FitResult, load
from lagnest.models.spec import ModelSpec, from_spec, load_spec, standard_specs
from lagnest.models.transition import TransitionModel, TransitionResult

__all__ = [
    "CI_PROB",
    "Answer",
    "BayesianModel",
    "ConvergenceWarning",
    "Diagnostics",
    "DifferentModelError",
    "FitResult",
    "HMMResult",
    "HiddenMarkovModel",
    "LaggedRegression",
    "ModelSpec",
    "Prior",
    "RegressionResult",
    "ResultSummary",
    "SessionImpactModel",
    "SessionImpactResult",
    "TransitionModel",
    "TransitionResult",
    "from_spec",
    "load",
    "load_spec",
    "standard_specs",
]
