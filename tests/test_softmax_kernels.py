"""The multinomial-logit kernels against NumPy and SciPy (lagnest.kernels.softmax)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from lagnest.kernels.softmax import EXP_FLOOR, exp_into, multinomial_logit_value_grad


# ------------------------------------------------------------------------------ exp_into
def test_exp_matches_numpy_to_a_few_ulp_over_its_range():
    x = np.concatenate([np.linspace(EXP_FLOOR, 0.0, 1_000_001), [-0.0, -5e-324, -1e-300,
                                                                 -np.log(2) / 2, -1e-12]])
    out = np.empty_like(x)
    exp_into(x, out)
    reference = np.exp(x)
    assert np.max(np.abs(out - reference) / reference) < 1e-15
    assert out[x == 0.0][0] == 1.0


def test_exp_below_the_floor_is_the_floor_and_nan_stays_nan():
    x = np.array([-745.0, -1e6, -np.inf, EXP_FLOOR, np.nan])
    out = np.empty_like(x)
    exp_into(x, out)
    np.testing.assert_allclose(out[:4], np.exp(EXP_FLOOR), rtol=1e-15)
    assert np.isnan(out[4])


# ------------------------------------------------------------------ value and gradient
@st.composite
def count_rows(draw):
    """Units, groups, rows with counts (some all-zero), and logits up to +-40."""
    k = draw(st.integers(2, 5))
    n_units = draw(st.integers(1, 6))
    n_groups = draw(st.integers(1, 4))
    n_rows = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0, 40.0]))
    rng = np.random.default_rng(seed)
    eta_unit = scale * rng.standard_normal((n_units, k - 1))
    intercept = scale * rng.standard_normal((n_groups, k - 1))
    row_unit = rng.integers(0, n_units, n_rows)
    row_group = rng.integers(0, n_groups, n_rows)
    counts = rng.integers(0, 7, (n_rows, k)) * (rng.random((n_rows, 1)) < 0.9)
    return eta_unit, intercept, row_unit, row_group, counts


def _logits(eta_unit, intercept, row_unit, row_group):
    eta = eta_unit[row_unit] + intercept[row_group]
    return np.concatenate([np.zeros((eta.shape[0], 1)), eta], axis=1)


@settings(max_examples=60, deadline=None)
@given(count_rows())
def test_value_is_the_multinomial_log_pmf_without_its_coefficient(rows):
    eta_unit, intercept, row_unit, row_group, counts = rows
    value, _, _ = multinomial_logit_value_grad(eta_unit, intercept, row_unit, row_group, counts)
    probs = special.softmax(_logits(eta_unit, intercept, row_unit, row_group), axis=1)
    n = counts.sum(axis=1)
    log_pmf = stats.multinomial.logpmf(counts, n, probs)  # SciPy, with the coefficient
    coefficient = special.gammaln(n + 1) - special.gammaln(counts + 1).sum(axis=1)
    expected = np.sum(log_pmf - coefficient)
    assert value.shape == ()
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(count_rows())
def test_gradient_is_counts_minus_expected_counts_scattered_to_units_and_groups(rows):
    eta_unit, intercept, row_unit, row_group, counts = rows
    _, grad_unit, grad_intercept = multinomial_logit_value_grad(
        eta_unit, intercept, row_unit, row_group, counts)
    probs = special.softmax(_logits(eta_unit, intercept, row_unit, row_group), axis=1)
    residual = (counts - counts.sum(axis=1, keepdims=True) * probs)[:, 1:]
    expected_unit = np.zeros_like(eta_unit)
    expected_intercept = np.zeros_like(intercept)
    np.add.at(expected_unit, row_unit, residual)
    np.add.at(expected_intercept, row_group, residual)
    np.testing.assert_allclose(grad_unit, expected_unit, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(grad_intercept, expected_intercept, rtol=1e-10, atol=1e-9)


def test_gradient_matches_finite_differences_of_the_value():
    rng = np.random.default_rng(11)
    eta_unit, intercept = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    row_unit, row_group = rng.integers(0, 4, 25), rng.integers(0, 3, 25)
    counts = rng.integers(0, 9, (25, 3))

    def value(flat):
        return float(multinomial_logit_value_grad(flat[:8].reshape(4, 2), flat[8:].reshape(3, 2),
                                                  row_unit, row_group, counts)[0])

    x = np.concatenate([eta_unit.ravel(), intercept.ravel()])
    h = 1e-6
    numeric = np.array([(value(x + h * e) - value(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    _, g_unit, g_intercept = multinomial_logit_value_grad(eta_unit, intercept, row_unit,
                                                          row_group, counts)
    np.testing.assert_allclose(np.concatenate([g_unit.ravel(), g_intercept.ravel()]), numeric,
                               rtol=1e-6, atol=1e-6)


def test_extreme_logits_stay_finite_and_match_logsumexp():
    eta_unit = np.array([[800.0, -800.0], [-1000.0, 1000.0]])
    intercept = np.zeros((1, 2))
    counts = np.array([[1, 2, 3], [4, 5, 6]])
    value, grad_unit, _ = multinomial_logit_value_grad(eta_unit, intercept, np.array([0, 1]),
                                                       np.array([0, 0]), counts)
    logits = _logits(eta_unit, intercept, np.array([0, 1]), np.array([0, 0]))
    expected = np.sum(counts * (logits - special.logsumexp(logits, axis=1, keepdims=True)))
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    assert np.all(np.isfinite(grad_unit))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_logit_gives_nan_not_a_number_that_looks_valid(bad):
    eta_unit = np.array([[0.5, bad]])
    value, grad_unit, grad_intercept = multinomial_logit_value_grad(
        eta_unit, np.zeros((1, 2)), np.array([0]), np.array([0]), np.array([[1, 1, 1]]))
    assert np.isnan(value)
    assert np.all(np.isnan(grad_unit)) and np.all(np.isnan(grad_intercept))


@pytest.mark.parametrize(("row_unit", "row_group", "counts_rows"), [
    ([0, 2], [0, 0], 2),   # unit 2 of 2 units
    ([0, -1], [0, 0], 2),  # negative unit
    ([0, 1], [0, 1], 2),   # group 1 of 1 group
    ([0, 1], [0, 0], 3),   # counts have another number of rows
])
def test_bad_indices_or_shapes_raise_instead_of_reading_outside(row_unit, row_group, counts_rows):
    with pytest.raises(ValueError, match="multinomial_logit_value_grad"):
        multinomial_logit_value_grad(np.zeros((2, 2)), np.zeros((1, 2)),
                                     np.array(row_unit), np.array(row_group),
                                     np.ones((counts_rows, 3)))
