"""A remedy tried for the persistence slopes' pull towards zero in sparse cells.

The default gives every slope of the target's own past (``rupture=...[t-1]``) an
independent Normal(0, 1.5) prior, so a cell of a handful of lag pairs is pulled towards 0
(docs/lagged_regression.md, *Where the pull comes from*). These variants let such a cell
borrow from the well-measured ones instead: the persistence slopes share a learned mean and
scale, ``beta ~ Normal(mu_history, sigma_history)`` with ``mu_history ~ Normal(0, 1.5)`` and
``sigma_history ~ HalfNormal(1)``; over all nine history slopes (:class:`PooledHistory`) or
only the three of a state on itself (:class:`PooledDiagonal`, the off-diagonal ones keep
the default). Everything else is the default (Normal(0, 1.5) MIA slopes, centred within
dyad). Benchmark-only subclasses of ``LaggedRegression`` (they replace its slope prior,
a private method): the ``historypooled`` stage of ``operating_characteristics.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lagnest.models import LaggedRegression

#: The default's arguments, as the ``historypooled`` stage's ``default`` fits it.
DEFAULT_ARGUMENTS: dict[str, Any] = {"target": "rupture", "predictors": ["mia"],
                                     "center": "dyad", "shrinkage": "none",
                                     "priors": {"beta": {"sigma": 1.5}}}


class PooledHistory(LaggedRegression):
    """The default with a learned common mean and scale for the history slopes."""

    #: Pool only a state's slope on itself (withdrawal -> withdrawal, ...).
    diagonal = False

    def _slopes(self, groups: list[str]) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        if set(groups) - {""} or self._mixing() is not None or self._row_mixing() is not None:
            raise ValueError("PooledHistory: only for shrinkage='none' without combine")
        features = self.data.features
        k1 = len(self.data.target_labels) - 1
        pooled = np.array([f.history for f in features])[:, None] & np.ones((1, k1), bool)
        if self.diagonal:
            names = self.data.feature_names
            target = self._spec["target"]
            pooled &= np.array([[name.startswith(f"{target}={c}[") for c in
                                 self.data.target_labels[1:]] for name in names])
        sd = np.repeat(self._independent_sd()[:, None], k1, axis=1)
        mu = pm.Normal("mu_history", 0.0, 1.5)
        sigma = pm.HalfNormal("sigma_history", 1.0)
        z = pm.Normal("z_beta", 0.0, 1.0, dims=("feature", "category"))
        return pm.Deterministic("beta", pt.where(pooled, mu, 0.0) + pt.where(pooled, sigma, sd)
                                * z, dims=("feature", "category"))


class PooledDiagonal(PooledHistory):
    """The default with a learned common mean and scale for a state's slope on itself."""

    diagonal = True


def pooled_history(seqs: Any) -> PooledHistory:
    """A method of the OC stage: :class:`PooledHistory` on ``seqs``."""
    return PooledHistory(seqs, **DEFAULT_ARGUMENTS)


def pooled_diagonal(seqs: Any) -> PooledDiagonal:
    """A method of the OC stage: :class:`PooledDiagonal` on ``seqs``."""
    return PooledDiagonal(seqs, **DEFAULT_ARGUMENTS)
