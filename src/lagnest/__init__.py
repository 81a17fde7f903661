"""lagnest: Bayesian lag-sequential analysis of coded sequences (dyad > session > segment).

The package is built in layers (``ARCHITECTURE.md``): data and kernels at the bottom, then
input/output, the classical statistics and the simulator, the models, the checks and the
calibration, and the figures and report on top. This module only hands their public
names on; importing it imports every layer, which fills the slots through which a lower
layer reaches a higher one (:mod:`lagnest._hooks`).
"""

from lagnest import (
    calibration,
    checks,
    classical,
    data,
    datasets,
    io,
    kernels,
    models,
    simulate,
    viz,
)
from lagnest._version import __version__
from lagnest.classical import (
    agreement,
    count_table,
    format_lag_table,
    homogeneity_test,
    lag_table,
    per_unit_indices,
    permutation_test,
    table_statistics,
    wampold_kappa,
    wampold_kappa_table,
)
from lagnest.data import (
    Codebook,
    Encoded,
    Sequences,
    StreamData,
    available_codebooks,
    load_codebook,
)
from lagnest.errors import (
    CodebookError,
    LagnestDataError,
    LagnestDataWarning,
    LimitError,
    ResultFileError,
    SpecError,
)
from lagnest.io import convert, read_boris, read_sdis, read_table, write_sdis, write_table
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
from lagnest.viz import plots

__all__ = [
    "BayesianModel",
    "Codebook",
    "CodebookError",
    "ConvergenceWarning",
    "Diagnostics",
    "DifferentModelError",
    "Encoded",
    "FitResult",
    "LaggedRegression",
    "LagnestDataError",
    "LagnestDataWarning",
    "LimitError",
    "ModelSpec",
    "Prior",
    "RegressionResult",
    "ResultFileError",
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
    "calibration",
    "checks",
    "classical",
    "compare",
    "convert",
    "count_table",
    "data",
    "datasets",
    "format_lag_table",
    "from_spec",
    "homogeneity_test",
    "io",
    "kernels",
    "lag_table",
    "load",
    "load_codebook",
    "load_spec",
    "models",
    "per_unit_indices",
    "permutation_test",
    "plots",
    "read_boris",
    "read_sdis",
    "read_table",
    "simulate",
    "table_statistics",
    "viz",
    "wampold_kappa",
    "wampold_kappa_table",
    "write_sdis",
    "write_table",
]
