"""Calibration of the lagnest models and design analysis, run on many fits.

* :func:`sbc`: simulation-based calibration (ranks of prior draws among posteriors);
* :func:`recovery`: coverage and bias from one fixed truth;
* :func:`design_analysis`: interval width and detection probability of a lagged effect
  for candidate numbers of dyads, sessions and segments;
* :func:`operating_characteristics`: what estimators conclude on studies simulated with
  known truth (coverage, power, false positives, type S and M errors, bias).

Every loop runs its fits through :func:`lagnest.calibration.engine.run_tasks`: local
worker processes by default, a dask.distributed cluster with ``client=``; each finished
fit is written to ``path=`` so an interrupted run resumes where it stopped. Importing this
package does not import dask.
"""

from lagnest.calibration.design import DesignAnalysis, design_analysis
from lagnest.calibration.engine import RunMismatchError
from lagnest.calibration.operating import OperatingCharacteristics, operating_characteristics
from lagnest.calibration.sbc import (
    QUANTILES,
    CalibrationResult,
    RecoveryResult,
    SBCResult,
    recovery,
    sbc,
    uniformity_test,
)

__all__ = [
    "QUANTILES",
    "CalibrationResult",
    "DesignAnalysis",
    "OperatingCharacteristics",
    "RecoveryResult",
    "RunMismatchError",
    "SBCResult",
    "design_analysis",
    "operating_characteristics",
    "recovery",
    "sbc",
    "uniformity_test",
]
