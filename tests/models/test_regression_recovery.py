"""Gross-breakage check of LaggedRegression's recovery (the full study: benchmarks/).

Five fits on one thesis-like design: every population intercept, slope and scale is drawn
from the model's prior, counts are simulated from the draw with the model's own generative
hook and refitted on the same graph. With the truth drawn from the prior, 90% intervals
cover it 90% of the time on average; the full study
(``benchmarks/recovery_regression.py``, 50 fits) reports the rate. Here, with short chains
and 5 fits, coverage below 70% means something is broken (the simulator, the likelihood,
the priors or the interval code disagree).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lagnest as ln
from lagnest._summaries import summarise
from lagnest.models import ConvergenceWarning, LaggedRegression

pytestmark = pytest.mark.slow

CHECKED = ("intercept_typical", "beta_typical", "sigma_dyad", "sigma_session")


def _cells(da):
    """Values of a DataArray keyed by its coordinates."""
    return {key: float(v) for key, v in da.to_series().items()}


def test_own_hook_recovery_covers_most_truths():
    seqs, _ = ln.simulate.thesis_like(seed=0)
    model = LaggedRegression(seqs, "rupture", ["mia"], center="dyad")
    graph = model.build()
    covered = total = 0
    for i in range(5):
        prior = model.prior_predictive(draws=1, seed=100 + i)
        draw = prior.draws.isel(chain=0, draw=0)
        observed = model.simulate(draw, np.random.default_rng(200 + i))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = model.fit(draws=300, tune=300, chains=2, cores=1, seed=300 + i,
                               observed=observed, warn=False)
        assert model.build() is graph
        for name in CHECKED:
            ci = summarise(result.draws[name], 0.9)
            truth, lower, upper = (_cells(x) for x in (draw[name], ci["lower"], ci["upper"]))
            assert truth.keys() == lower.keys()
            for key, value in truth.items():
                covered += lower[key] <= value <= upper[key]
                total += 1
    # MIA1-8, the rupture's own code at t-1 (3 columns) and its first-segment code (3)
    n_features = 8 + 3 + 3
    assert total == 5 * (3 + n_features * 3 + 3 + 3)
    assert covered / total >= 0.70, f"coverage {covered}/{total}"
