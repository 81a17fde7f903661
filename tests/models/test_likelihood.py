"""The fused multinomial-logit Op in PyTensor and PyMC graphs (lagnest.models.likelihood)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad
from scipy import special, stats

from lagnest.models.likelihood import (
    MultinomialLogitRows,
    aggregated_multinomial_logit,
    multinomial_logit_rows,
)

RNG = np.random.default_rng(5)
N_UNITS, N_GROUPS, N_ROWS, K = 6, 4, 30, 4
ROW_UNIT = RNG.integers(0, N_UNITS, N_ROWS)
ROW_GROUP = np.sort(RNG.integers(0, N_GROUPS, N_ROWS))
COUNTS = RNG.integers(0, 8, (N_ROWS, K))
COUNTS[:, 0] += 1


def _reference_logp(eta_unit, intercept, counts=COUNTS):
    """SciPy's multinomial log-pmf minus its coefficient (the oracle)."""
    eta = eta_unit[ROW_UNIT] + intercept[ROW_GROUP]
    probs = special.softmax(np.concatenate([np.zeros((N_ROWS, 1)), eta], axis=1), axis=1)
    n = counts.sum(axis=1)
    coefficient = special.gammaln(n + 1) - special.gammaln(counts + 1).sum(axis=1)
    return float(np.sum(stats.multinomial.logpmf(counts, n, probs) - coefficient))


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_op_value_and_gradient_in_compiled_graphs(mode):
    eta_unit, intercept = pt.dmatrix("eta_unit"), pt.dmatrix("intercept")
    value = multinomial_logit_rows(eta_unit, intercept, ROW_UNIT, ROW_GROUP, COUNTS)
    fn = pytensor.function([eta_unit, intercept], [value, *pt.grad(value, [eta_unit, intercept])],
                           mode=mode)
    a, b = RNG.normal(size=(N_UNITS, K - 1)), RNG.normal(size=(N_GROUPS, K - 1))
    got, grad_a, grad_b = fn(a, b)
    np.testing.assert_allclose(got, _reference_logp(a, b), rtol=1e-12)
    # the gradient of an explicit log-softmax graph (PyTensor's own derivative)
    eta = eta_unit[ROW_UNIT] + intercept[ROW_GROUP]
    explicit = (COUNTS * pt.special.log_softmax(
        pt.concatenate([pt.zeros((N_ROWS, 1)), eta], axis=1), axis=1)).sum()
    ref = pytensor.function([eta_unit, intercept], pt.grad(explicit, [eta_unit, intercept]))(a, b)
    np.testing.assert_allclose(grad_a, ref[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_b, ref[1], rtol=1e-10, atol=1e-10)


def test_verify_grad_of_the_value():
    def value(eta_unit, intercept):
        return multinomial_logit_rows(eta_unit, intercept, ROW_UNIT, ROW_GROUP, COUNTS)

    verify_grad(value, [RNG.normal(size=(N_UNITS, K - 1)), RNG.normal(size=(N_GROUPS, K - 1))],
                rng=np.random.default_rng(0))


def test_second_derivatives_are_refused():
    eta_unit, intercept = pt.dmatrix("eta_unit"), pt.dmatrix("intercept")
    node = MultinomialLogitRows()(eta_unit, intercept, ROW_UNIT, ROW_GROUP, COUNTS)[0].owner
    gradient = pt.grad(node.outputs[0], eta_unit)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        pt.grad(gradient.sum(), eta_unit)


def _model():
    with pm.Model() as model:
        eta_unit = pm.Normal("eta_unit", 0.0, 1.0, shape=(N_UNITS, K - 1))
        intercept = pm.Normal("intercept", 0.0, 1.0, shape=(N_GROUPS, K - 1))
        counts = pm.Data("counts", COUNTS)
        aggregated_multinomial_logit("y", counts, eta_unit, intercept, ROW_UNIT, ROW_GROUP,
                                     observed=counts)
    return model


def test_observed_variable_logp_is_the_multinomial_up_to_its_coefficient():
    model = _model()
    point = {"eta_unit": RNG.normal(size=(N_UNITS, K - 1)),
             "intercept": RNG.normal(size=(N_GROUPS, K - 1))}
    logp_y = model.compile_logp(vars=[model["y"]], sum=True)(point)
    np.testing.assert_allclose(logp_y, _reference_logp(point["eta_unit"], point["intercept"]),
                               rtol=1e-12)


def test_draws_are_multinomial_with_each_rows_total():
    model = _model()
    with model:
        prior = pm.sample_prior_predictive(draws=200, random_seed=3)
    y = prior["prior_predictive"]["y"].values[0]
    assert y.shape == (200, N_ROWS, K)
    np.testing.assert_array_equal(y.sum(axis=-1), np.broadcast_to(COUNTS.sum(axis=1),
                                                                  (200, N_ROWS)))
    # each draw is multinomial with that draw's softmax probabilities: the summed
    # residuals y - n p, standardised by their multinomial variance, are ~ N(0, 1)
    eta = prior["prior"]["eta_unit"].values[0][:, ROW_UNIT] + \
        prior["prior"]["intercept"].values[0][:, ROW_GROUP]
    probs = special.softmax(np.concatenate([np.zeros((200, N_ROWS, 1)), eta], axis=2), axis=2)
    n = COUNTS.sum(axis=1)[None, :, None]
    z = (y - n * probs).sum(axis=(0, 1)) / np.sqrt((n * probs * (1 - probs)).sum(axis=(0, 1)))
    assert np.all(np.abs(z) < 4.5), z


def test_pymc_samples_the_same_posterior_as_the_explicit_multinomial():
    with _model():
        fused = pm.sample(draws=400, tune=400, chains=2, cores=1, random_seed=2,
                          nuts_sampler="pymc", progressbar=False, compute_convergence_checks=False)
    with pm.Model():
        eta_unit = pm.Normal("eta_unit", 0.0, 1.0, shape=(N_UNITS, K - 1))
        intercept = pm.Normal("intercept", 0.0, 1.0, shape=(N_GROUPS, K - 1))
        eta = eta_unit[ROW_UNIT] + intercept[ROW_GROUP]
        p = pt.special.softmax(pt.concatenate([pt.zeros((N_ROWS, 1)), eta], axis=1), axis=1)
        pm.Multinomial("y", n=COUNTS.sum(axis=1), p=p, observed=COUNTS)
        plain = pm.sample(draws=400, tune=400, chains=2, cores=1, random_seed=2,
                          nuts_sampler="pymc", progressbar=False, compute_convergence_checks=False)
    a = fused["posterior"]["eta_unit"].values.reshape(-1, N_UNITS * (K - 1))
    b = plain["posterior"]["eta_unit"].values.reshape(-1, N_UNITS * (K - 1))
    # means agree within 5 Monte Carlo standard errors (800 draws, ESS >= ~200 each)
    se = np.sqrt(a.var(axis=0) / 200 + b.var(axis=0) / 200)
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * se)
