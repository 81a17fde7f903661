"""Permutation tests: reproducibility, p-value rules, uniformity under the null."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lagnest.classical.permutation import permutation_pvalues, permutation_test
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError


def _random_corpus(seed, n_sessions=3, length=40, codes="abc"):
    rng = np.random.default_rng(seed)
    return Sequences.from_sequences(
        {"code": [list(rng.choice(list(codes), length)) for _ in range(n_sessions)]}
    )


def test_reproducible_with_seed_and_p_value_form():
    seqs = _random_corpus(0)
    a = permutation_test(seqs, "code", "code", n_perm=499, seed=11)
    b = permutation_test(seqs, "code", "code", n_perm=499, seed=11)
    c = permutation_test(seqs, "code", "code", n_perm=499, seed=12)
    np.testing.assert_array_equal(a.p_perm_adj_resid.values, b.p_perm_adj_resid.values)
    assert a.attrs["p_perm_G2"] == b.attrs["p_perm_G2"]
    assert not np.array_equal(a.p_perm_counts.values, c.p_perm_counts.values)
    for name in ("p_perm_adj_resid", "p_perm_counts"):
        p = a[name].values
        assert ((p >= 1 / 500) & (p <= 1)).all()
        np.testing.assert_allclose(p * 500, np.round(p * 500), atol=1e-9)  # (1 + B)/(1 + n)
    assert a.attrs["n_perm"] == 499 and a.attrs["shuffle"] == "within-session"
    assert "counts" in a and "adj_resid" in a  # the lag table is kept


def test_progress_bar_does_not_change_results():
    seqs = _random_corpus(1)
    quiet = permutation_test(seqs, "code", "code", n_perm=2100, seed=3)
    shown = permutation_test(seqs, "code", "code", n_perm=2100, seed=3, progress=True)
    np.testing.assert_array_equal(quiet.p_perm_adj_resid.values, shown.p_perm_adj_resid.values)


def test_strong_dependence_is_detected_and_alternatives():
    seqs = Sequences.from_sequences({"code": [list("ababababab")] * 3})
    res = permutation_test(seqs, "code", "code", n_perm=199, seed=1)
    assert float(res.p_perm_adj_resid.sel(given="a", target="b")) == pytest.approx(1 / 200)
    greater = permutation_test(seqs, "code", "code", n_perm=199, seed=1, alternative="greater")
    less = permutation_test(seqs, "code", "code", n_perm=199, seed=1, alternative="less")
    assert float(greater.p_perm_counts.sel(given="a", target="b")) == pytest.approx(1 / 200)
    assert float(less.p_perm_counts.sel(given="a", target="b")) == pytest.approx(1.0)
    noisy = _random_corpus(5)
    g = permutation_test(noisy, "code", "code", n_perm=299, seed=2, alternative="greater")
    ls = permutation_test(noisy, "code", "code", n_perm=299, seed=2, alternative="less")
    assert (g.p_perm_adj_resid.values + ls.p_perm_adj_resid.values >= 1 - 1e-12).all()


def test_structural_zeros_use_constrained_shuffle():
    rng = np.random.default_rng(4)
    sessions = []
    for _ in range(3):
        seq = [rng.choice(list("abc"))]
        while len(seq) < 30:
            code = rng.choice(list("abc"))
            if code != seq[-1]:
                seq.append(code)
        sessions.append(seq)
    seqs = Sequences.from_sequences({"code": sessions})
    res = permutation_test(seqs, "code", "code", n_perm=300, seed=0, structural_zeros="diagonal")
    assert res.attrs["shuffle"] == "constrained-swap-chain"
    assert (np.diag(res.perm_mean_counts.values) == 0).all()
    assert np.isnan(np.diag(res.p_perm_adj_resid.values)).all()
    off = ~np.eye(3, dtype=bool)
    assert ((res.p_perm_adj_resid.values[off] > 0) & (res.p_perm_adj_resid.values[off] <= 1)).all()
    again = permutation_test(seqs, "code", "code", n_perm=300, seed=0, structural_zeros="diagonal")
    np.testing.assert_array_equal(res.p_perm_counts.values, again.p_perm_counts.values)


def test_bad_requests():
    seqs = _random_corpus(0)
    with pytest.raises(LagnestDataError, match="lag 0"):
        permutation_test(seqs, "code", "code", lag=0, n_perm=10)
    with pytest.raises(LagnestDataError, match="alternative"):
        permutation_test(seqs, "code", "code", n_perm=10, alternative="both")
    with pytest.raises(LagnestDataError, match="n_perm"):
        permutation_test(seqs, "code", "code", n_perm=0)


def test_p_values_uniform_under_null():
    """KS over 200 small null corpora x 199 permutations (segments iid within sessions)."""
    rng = np.random.default_rng(2024)
    n_corpora, n_perm = 200, 199
    p_x2, p_cell = [], []
    sessions = np.array([0, 30, 60, 90], dtype=np.int64)
    for _ in range(n_corpora):
        codes = rng.integers(0, 3, 90).astype(np.int64)
        res = permutation_pvalues(codes, codes, sessions, sessions, 3, 3, n_perm=n_perm,
                                  seed=int(rng.integers(2**31)))
        p_x2.append(res["p_X2"])
        p_cell.append(res["p_adj_resid"][0, 1])
    for p in (p_x2, p_cell):
        assert stats.kstest(p, "uniform").pvalue > 0.01
