"""lagnest: Bayesian lag-sequential analysis of coded sequences (dyad > session > segment)."""

from lagnest import datasets, plots, simulate
from lagnest.agreement import agreement
from lagnest.codebook import Codebook, available_codebooks, load_codebook
from lagnest.errors import LagnestDataError, SpecError
from lagnest.io import convert, read_boris, read_sdis, read_table, write_sdis, write_table
from lagnest.kappa import wampold_kappa, wampold_kappa_table
from lagnest.lagtable import (
    count_table,
    format_lag_table,
    homogeneity_test,
    lag_table,
    per_unit_indices,
    table_statistics,
)
from lagnest.models import (
    BayesianModel,
    ConvergenceWarning,
    Diagnostics,
    DifferentModelError,
    FitResult,
    LaggedRegression,
    ModelSpec,
    Prior,
    RegressionResult,
    SessionImpactModel,
    SessionImpactResult,
    TransitionModel,
    TransitionResult,
    from_spec,
    load,
    load_spec,
)
from lagnest.models.loo import compare
from lagnest.permutation import permutation_test
from lagnest.sequences import Encoded, Sequences, StreamData

__version__ = "0.1.0"

__all__ = [
    "BayesianModel",
    "Codebook",
    "ConvergenceWarning",
    "Diagnostics",
    "DifferentModelError",
    "Encoded",
    "FitResult",
    "LaggedRegression",
    "LagnestDataError",
    "ModelSpec",
    "Prior",
    "RegressionResult",
    "Sequences",
    "SessionImpactModel",
    "SessionImpactResult",
    "SpecError",
    "StreamData",
    "TransitionModel",
    "TransitionResult",
    "__version__",
    "agreement",
    "available_codebooks",
    "compare",
    "convert",
    "count_table",
    "datasets",
    "format_lag_table",
    "from_spec",
    "homogeneity_test",
    "lag_table",
    "load",
    "load_codebook",
    "load_spec",
    "per_unit_indices",
    "permutation_test",
    "plots",
    "read_boris",
    "read_sdis",
    "read_table",
    "simulate",
    "table_statistics",
    "wampold_kappa",
    "wampold_kappa_table",
    "write_sdis",
    "write_table",
]
