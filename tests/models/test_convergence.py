"""The fits' R-hat and ESS equal ArviZ's, cell by cell (ArviZ is the oracle)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from lagnest.models.convergence import convergence_table


def _ar1(rng: np.random.Generator, shape: tuple[int, int, int], phi: float) -> np.ndarray:
    """Chains of AR(1) processes (phi < 0: anti-correlated draws)."""
    noise = rng.normal(size=shape)
    x = np.zeros(shape)
    for t in range(shape[1]):
        x[:, t] = noise[:, t] + (phi * x[:, t - 1] if t else 0.0)
    return x


def _arviz(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells = xr.Dataset({"x": (("chain", "draw", "cell"), x)})
    with np.errstate(all="ignore"):
        return (np.asarray(az.rhat(cells)["x"]), np.asarray(az.ess(cells, method="bulk")["x"]),
                np.asarray(az.ess(cells, method="tail")["x"]))


@pytest.mark.parametrize("chains", [1, 2, 4])
@pytest.mark.parametrize("draws", [4, 7, 50, 201])
@pytest.mark.parametrize("phi", [-0.7, 0.0, 0.6, 0.97])
def test_equal_to_arviz_on_awkward_cells(chains, draws, phi):
    rng = np.random.default_rng(draws * 10 + chains)
    x = _ar1(rng, (chains, draws, 9), phi)
    x[..., 1] = 2.5  # constant
    x[..., 2] = np.round(x[..., 2])  # ties
    x[..., 3] = (x[..., 3] > 0).astype(float)  # two values
    x[0, 1, 4] = np.nan  # a NaN draw
    x[..., 5] += 3.0 * np.arange(chains)[:, None]  # chains that disagree
    x[..., 6] = np.exp(3 * x[..., 6])  # heavy tail
    ours = convergence_table(x, tail_prob=float(az.rcParams["stats.ci_prob"]))
    for got, want, name in zip(ours, _arviz(x), ("rhat", "ess_bulk", "ess_tail"), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True, err_msg=name)


@given(chains=st.integers(1, 4), draws=st.integers(4, 60), cells=st.integers(1, 5),
       phi=st.floats(-0.9, 0.99), seed=st.integers(0, 2**16))
def test_equal_to_arviz_property(chains, draws, cells, phi, seed):
    x = _ar1(np.random.default_rng(seed), (chains, draws, cells), phi)
    for got, want in zip(convergence_table(x), _arviz(x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)


def test_too_few_draws_give_nan_and_bad_shapes_are_refused():
    rhat, bulk, tail = convergence_table(np.zeros((2, 3, 4)))
    assert np.isnan(rhat).all() and np.isnan(bulk).all() and np.isnan(tail).all()
    with pytest.raises(ValueError, match=r"shape \(chain, draw, cell\)"):
        convergence_table(np.zeros((2, 10)))
