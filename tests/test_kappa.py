"""Wampold's kappa against a loop transcription of O'Connor's code and exact moments."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagnest.classical.wampold import wampold_kappa, wampold_kappa_table
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError

BQ_2011 = (
    "2 1 4 3 3 4 3 4 2 1 4 4 5 4 1 3 4 5 3 2 2 1 4 1 2 5 2 1 2 3 3 1 4 4 1 4 1 3 3 3 1 5 2 1 1 3 "
    "1 4 1 2 3 3 4 5 5 2 3 3 5 2 5 4 4 2 3 1 5 5 2 2 1 3 3 3 3"
).split()


def oconnor_loops(data, k, lag=1):
    """Cell-by-cell transcription of LagSequential's sequential()/bidirectional() (adjacent)."""
    freqs = np.zeros((k, k))
    for c in range(len(data) - lag):
        freqs[data[c], data[c + lag]] += 1
    nr = freqs.sum(1).copy()
    nr[data[-1]] += 1
    n = freqs.sum() + 1
    kappa = np.full((k, k), np.nan)
    z = np.full((k, k), np.nan)
    kb = np.full((k, k), np.nan)
    zb = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(k):
            et = nr[i] * nr[j] / n
            var = nr[i] * nr[j] * (n - nr[j]) * (n - nr[i]) / (n**2 * (n - 1))
            if var > 0:
                z[i, j] = (freqs[i, j] - et) / np.sqrt(var)
                mn = min(nr[i], nr[j])
                if mn - et != 0:
                    kappa[i, j] = (freqs[i, j] - et) / (mn - et)
                    if kappa[i, j] < 0:
                        kappa[i, j] = (freqs[i, j] - et) / et
            if nr[i] > 0 and nr[j] > 0:
                obs = freqs[i, j] + freqs[j, i]
                ett = 2 * nr[i] * nr[j] / n
                varb = 2 * nr[i] * nr[j] * (nr[i] * nr[j] + (n - nr[i]) * (n - nr[j]) - n) / (
                    n**2 * (n - 1))
                zb[i, j] = (obs - ett) / np.sqrt(varb)
                mn = min(nr[i], nr[j])
                kb[i, j] = (obs - ett) / (2 * mn - ett)
                if kb[i, j] < 0:
                    kb[i, j] = (obs - ett) / ett
                if nr[i] == nr[j]:
                    kb[i, j] = (obs - ett) / ((2 * nr[j] - 1) - ett)
    return freqs, kappa, z, kb, zb


def _check_against_loops(data, labels, lag=1):
    seqs = Sequences.from_sequences({"code": [list(data)]}, codes={"code": labels})
    ds = wampold_kappa(seqs, "code", lag=lag)
    index = {c: i for i, c in enumerate(labels)}
    freqs, kappa, z, kb, zb = oconnor_loops([index[c] for c in data], len(labels), lag)
    np.testing.assert_array_equal(ds.counts.values, freqs)
    np.testing.assert_allclose(ds.kappa.values, kappa, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds.z.values, z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds.kappa_bi.values, kb, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds.z_bi.values, zb, rtol=1e-12, atol=1e-12)


def test_bakeman_quera_sequence_matches_oconnor():
    _check_against_loops(BQ_2011, list("12345"))
    _check_against_loops(BQ_2011, list("12345"), lag=2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("abc"), min_size=4, max_size=40))
def test_random_sequences_match_oconnor(data):
    labels = sorted(set(data))
    if len(labels) < 2:
        return
    _check_against_loops(data, labels)


@pytest.mark.parametrize("sequence", ["aabbbcc", "abbbccccd", "aaabbc"])
def test_expected_and_variance_equal_exact_permutation_moments(sequence):
    """For i != j, e_ij and sigma_ij^2 are the exact moments of f_ij over all orderings."""
    labels = sorted(set(sequence))
    seqs = Sequences.from_sequences({"code": [list(sequence)]})
    ds = wampold_kappa(seqs, "code")
    index = {c: i for i, c in enumerate(labels)}
    orders = set(itertools.permutations(sequence))
    k = len(labels)
    tallies = np.zeros((len(orders), k, k))
    for p, order in enumerate(orders):
        for t in range(len(order) - 1):
            tallies[p, index[order[t]], index[order[t + 1]]] += 1
    mean, var = tallies.mean(0), tallies.var(0)
    off = ~np.eye(k, dtype=bool)
    np.testing.assert_allclose(ds.expected.values[off], mean[off], rtol=1e-12)
    diff = ds.counts.values - ds.expected.values
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = (diff / ds.z.values) ** 2
    usable = off & (np.abs(diff) > 1e-9)
    np.testing.assert_allclose(sigma2[usable], var[usable], rtol=1e-9)


def test_frequency_matrix_input_follows_oconnor():
    freqs = np.array([[3, 5], [4, 2]])
    ds = wampold_kappa_table(freqs)
    n = freqs.sum() + 1
    nr = freqs.sum(1)
    assert ds.attrs["n"] == n
    et = nr[0] * nr[1] / n
    assert ds.expected.values[0, 1] == pytest.approx(et)
    assert ds.kappa.values[0, 1] == pytest.approx((5 - et) / (min(nr) - et))
    assert ds.p.values[0, 1] == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(
        abs(ds.z.values[0, 1]))))


def test_no_repeat_variant_and_errors():
    seqs = Sequences.from_sequences({"code": [list("abcacbabcbacab")]})
    ds = wampold_kappa(seqs, "code", repeats=False)
    assert np.isnan(np.diag(ds.kappa.values)).all()
    nr = ds.code_freqs.values
    n = nr.sum()
    assert ds.expected.values[0, 1] == pytest.approx(nr[0] * nr[1] / (n - nr[0]))
    with pytest.raises(LagnestDataError):
        wampold_kappa_table(np.ones((2, 3)))
    with pytest.raises(LagnestDataError):
        wampold_kappa_table(np.ones((2, 2)), tails=3)
