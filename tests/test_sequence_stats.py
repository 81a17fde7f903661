"""Sequence statistics against naive pure-Python computations and independent oracles."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lagnest import kernels
from lagnest.checks.sequence_stats import (
    DEFAULT_STATISTICS,
    STATISTICS,
    conditional_independence_g2,
    paired_targets,
    sequence_statistics,
)
from lagnest.classical.lagtable import homogeneity_test, lag_table
from lagnest.data.sequences import Encoded, Sequences
from lagnest.errors import LagnestDataError

# --------------------------------------------------------------------------- corpora


@st.composite
def corpora(draw, max_dyads=3, max_sessions=3, max_blocks=2, max_len=9, max_codes=3):
    """Nesting arrays, a batch of target codes (D, n) and an independent given stream."""
    k = draw(st.integers(1, max_codes))
    k_given = draw(st.integers(1, max_codes))
    session_dyad, block_session, lengths = [], [], []
    for y in range(draw(st.integers(1, max_dyads))):
        for _ in range(draw(st.integers(1, max_sessions))):
            session_dyad.append(y)
            for _ in range(draw(st.integers(1, max_blocks))):
                block_session.append(len(session_dyad) - 1)
                lengths.append(draw(st.integers(1, max_len)))
    block_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    block_session = np.array(block_session, dtype=np.int64)
    starts = [block_offsets[np.flatnonzero(block_session == s)[0]]
              for s in range(len(session_dyad))]
    session_offsets = np.array([*starts, block_offsets[-1]], dtype=np.int64)
    nest = Encoded(session_offsets, block_offsets, block_session,
                   np.array(session_dyad, dtype=np.int64))
    n = int(block_offsets[-1])
    n_draws = draw(st.integers(1, 3))
    codes = np.array(draw(st.lists(st.integers(-1, k - 1), min_size=n * n_draws,
                                   max_size=n * n_draws)), dtype=np.int64).reshape(n_draws, n)
    given_codes = np.array(draw(st.lists(st.integers(-1, k_given - 1), min_size=n,
                                         max_size=n)), dtype=np.int64)
    return nest, codes, k, given_codes, k_given


# --------------------------------------------------------------------------- naive references


def naive_counts(given_codes, target, nest, lag, k, m, sessions=None):
    x = [[0] * m for _ in range(k)]
    for b, s in enumerate(nest.block_session):
        if sessions is not None and s not in sessions:
            continue
        start, end = nest.block_offsets[b], nest.block_offsets[b + 1]
        for t in range(start, end - lag):
            if given_codes[t] >= 0 and target[t + lag] >= 0:
                x[given_codes[t]][target[t + lag]] += 1
    return x


def naive_cells(x):
    """Adjusted residuals and Yule's Q from the textbook formulas."""
    k, m = len(x), len(x[0])
    r = [sum(row) for row in x]
    c = [sum(x[i][j] for i in range(k)) for j in range(m)]
    n = sum(r)
    z = [[math.nan] * m for _ in range(k)]
    q = [[math.nan] * m for _ in range(k)]
    for i, j in itertools.product(range(k), range(m)):
        if n and 0 < r[i] < n and 0 < c[j] < n:
            e = r[i] * c[j] / n
            z[i][j] = (x[i][j] - e) / math.sqrt(e * (1 - r[i] / n) * (1 - c[j] / n))
        a = x[i][j]
        b, cc = r[i] - a, c[j] - a
        d = n - r[i] - c[j] + a
        if a * d + b * cc:
            q[i][j] = (a * d - b * cc) / (a * d + b * cc)
    return z, q


def naive_g2(x):
    r = [sum(row) for row in x]
    c = [sum(col) for col in zip(*x, strict=True)]
    n = sum(r)
    g2 = sum(2 * v * math.log(v * n / (r[i] * c[j]))
             for i, row in enumerate(x) for j, v in enumerate(row) if v > 0)
    df = max(sum(v > 0 for v in r) - 1, 0) * max(sum(v > 0 for v in c) - 1, 0)
    return g2, df


def naive_homogeneity(tables):
    k, m = len(tables[0]), len(tables[0][0])
    g2, df = 0.0, 0
    for i in range(k):
        pooled = [sum(t[i][j] for t in tables) for j in range(m)]
        r = sum(pooled)
        for t in tables:
            ru = sum(t[i])
            for j in range(m):
                if t[i][j] > 0:
                    g2 += 2 * t[i][j] * math.log((t[i][j] / ru) / (pooled[j] / r))
        units = sum(sum(t[i]) > 0 for t in tables)
        targets = sum(v > 0 for v in pooled)
        df += max(units - 1, 0) * max(targets - 1, 0)
    return g2, df


def naive_runs_and_rates(codes, nest, k):
    """Per code: runs, mean run, longest, SD of session rates, sessions without the code."""
    runs = [[] for _ in range(k)]
    per_session = []
    for s in range(nest.session_offsets.size - 1):
        seg = [int(v) for v in codes[nest.session_offsets[s]:nest.session_offsets[s + 1]]]
        coded = sum(v >= 0 for v in seg)
        if coded:
            per_session.append([seg.count(h) / coded for h in range(k)])
    for b in range(nest.block_offsets.size - 1):
        block = [int(v) for v in codes[nest.block_offsets[b]:nest.block_offsets[b + 1]]]
        for code, group in itertools.groupby(block):
            if code >= 0:
                runs[code].append(len(list(group)))
    out = {"n_runs": [], "run_mean": [], "run_longest": [], "rate_sd": [],
           "sessions_without": []}
    for h in range(k):
        out["n_runs"].append(len(runs[h]))
        out["run_mean"].append(statistics.mean(runs[h]) if runs[h] else math.nan)
        out["run_longest"].append(max(runs[h], default=0))
        rates = [row[h] for row in per_session]
        out["rate_sd"].append(statistics.stdev(rates) if len(rates) > 1 else math.nan)
        out["sessions_without"].append(sum(r == 0 for r in rates))
    return out


def naive_second_order(codes, nest, k, lag):
    n = {}
    for b in range(nest.block_offsets.size - 1):
        start, end = nest.block_offsets[b], nest.block_offsets[b + 1]
        for t in range(start, end - 2 * lag):
            tri = (codes[t], codes[t + lag], codes[t + 2 * lag])
            if min(tri) >= 0:
                n[tri] = n.get(tri, 0) + 1

    def total(pred):
        return sum(v for key, v in n.items() if pred(key))

    g2 = 0.0
    for (i, j, h), v in n.items():
        n_j = total(lambda key, j=j: key[1] == j)
        n_ij = total(lambda key, i=i, j=j: key[:2] == (i, j))
        n_jk = total(lambda key, j=j, h=h: key[1:] == (j, h))
        g2 += 2 * v * math.log(v * n_j / (n_ij * n_jk))
    df = 0
    for j in range(k):
        rows = sum(total(lambda key, i=i, j=j: key[:2] == (i, j)) > 0 for i in range(k))
        cols = sum(total(lambda key, j=j, h=h: key[1:] == (j, h)) > 0 for h in range(k))
        df += max(rows - 1, 0) * max(cols - 1, 0)
    return g2, df


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9,
                               atol=1e-9, equal_nan=True)


# --------------------------------------------------------------------------- naive comparisons


@settings(max_examples=80, deadline=None)
@given(corpora(), st.integers(1, 2), st.booleans())
def test_table_statistics_match_naive(corpus, lag, own_history):
    nest, codes, k, given_codes, k_given = corpus
    if own_history:
        ds = sequence_statistics(codes, nest, k, lag=lag)
    else:
        ds = sequence_statistics(codes, nest, k, given=given_codes, n_given=k_given, lag=lag)
    n_dyads = int(nest.session_dyad.max()) + 1
    for d in range(codes.shape[0]):
        g = codes[d] if own_history else given_codes
        kg = k if own_history else k_given
        pooled = naive_counts(g, codes[d], nest, lag, kg, k)
        z, q = naive_cells(pooled)
        close(ds["counts"][d], pooled)
        close(ds["adj_resid"][d], z)
        close(ds["yules_q"][d], q)
        g2, df = naive_g2(pooled)
        close(ds["G2"][d], g2)
        assert ds["G2_df"][d] == df
        dyad_tables, within_g2, within_df = [], 0.0, 0
        for y in range(n_dyads):
            mine = set(np.flatnonzero(nest.session_dyad == y).tolist())
            table = naive_counts(g, codes[d], nest, lag, kg, k, mine)
            dyad_tables.append(table)
            zy, qy = naive_cells(table)
            close(ds["adj_resid_dyad"][d, y], zy)
            close(ds["yules_q_dyad"][d, y], qy)
            session_tables = [naive_counts(g, codes[d], nest, lag, kg, k, {s}) for s in mine]
            hg, hdf = naive_homogeneity(session_tables)
            within_g2 += hg
            within_df += hdf
        hg, hdf = naive_homogeneity(dyad_tables)
        close(ds["homogeneity_dyads"][d], hg)
        assert ds["homogeneity_dyads_df"][d] == hdf
        close(ds["homogeneity_sessions"][d], within_g2)
        assert ds["homogeneity_sessions_df"][d] == within_df


@settings(max_examples=80, deadline=None)
@given(corpora(), st.integers(1, 2))
def test_run_rate_and_second_order_statistics_match_naive(corpus, lag):
    nest, codes, k, _, _ = corpus
    names = ["n_runs", "run_mean", "run_longest", "rate_sd", "sessions_without",
             "second_order_G2"]
    ds = sequence_statistics(codes.astype(np.int8), nest, k, names, lag=lag)
    for d in range(codes.shape[0]):
        want = naive_runs_and_rates(codes[d], nest, k)
        for name in names[:-1]:
            close(ds[name][d], want[name])
        g2, df = naive_second_order(codes[d], nest, k, lag)
        close(ds["second_order_G2"][d], g2)
        assert ds["second_order_G2_df"][d] == df


def test_second_order_g2_equals_loglinear_deviance_from_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    smf = pytest.importorskip("statsmodels.formula.api")
    rng = np.random.default_rng(4)
    k = 3
    codes = rng.integers(0, k, 2000)
    codes[rng.random(codes.size) < 0.05] = -1
    triples = kernels.triple_counts(codes, np.array([0, 700, 2000]), k)[0]
    g2, df = conditional_independence_g2(triples)
    cells = pd.DataFrame([(i, j, h, triples[i, j, h]) for i, j, h in np.ndindex(k, k, k)],
                         columns=["i", "j", "h", "n"])
    fit = smf.glm("n ~ C(i) * C(j) + C(j) * C(h)", cells, family=sm.families.Poisson()).fit()
    assert (triples.sum(0) > 0).all() and (triples.sum(2) > 0).all()
    np.testing.assert_allclose(g2, fit.deviance, rtol=1e-7)
    assert df == round(fit.df_resid) == k * (k - 1) ** 2


# --------------------------------------------------------------------------- same as lag_table


def test_statistics_equal_lag_table_and_homogeneity_test_on_sequences():
    rng = np.random.default_rng(0)
    sessions = [[rng.choice(["a", "b", "c", None], p=[0.4, 0.3, 0.2, 0.1])
                 for _ in range(rng.integers(20, 40))] for _ in range(7)]
    dyads = ["d1", "d1", "d2", "d2", "d2", "d3", "d3"]
    seqs = Sequences.from_sequences({"code": sessions}, dyads=dyads, breaks=[[], [5], [], [],
                                                                              [9], [], []])
    codes, labels = seqs.categorical("code")
    ds = sequence_statistics(codes, seqs.encoded, len(labels), labels=labels,
                             given_labels=labels, dyad_labels=seqs.dyad_labels)
    tab = lag_table(seqs, "code", "code")
    close(ds["adj_resid"][0], tab.adj_resid)
    close(ds["yules_q"][0], tab.yules_q)
    close(ds["G2"][0], tab.attrs["G2"])
    assert ds["G2_df"][0] == tab.attrs["df"]
    by_dyad = lag_table(seqs, "code", "code", by="dyad").drop_sel(unit="pooled")
    close(ds["adj_resid_dyad"][0], by_dyad.adj_resid)
    hom = homogeneity_test(seqs, "code", "code", by="dyad")
    close(ds["homogeneity_dyads"][0], hom.attrs["G2"])
    assert ds["homogeneity_dyads_df"][0] == hom.attrs["df"]
    within = [homogeneity_test(seqs.subset(dyads=[y]), "code", "code", by="session")
              for y in ["d1", "d2", "d3"]]
    close(ds["homogeneity_sessions"][0], sum(h.attrs["G2"] for h in within))
    assert ds["homogeneity_sessions_df"][0] == sum(h.attrs["df"] for h in within)
    assert list(ds["dyad"].values) == ["d1", "d2", "d3"]
    assert list(ds["target"].values) == list(labels)


# --------------------------------------------------------------------------- second order


def test_second_order_g2_of_first_order_chains_is_uniform_and_second_order_is_flagged():
    rng = np.random.default_rng(2024)
    k, n = 3, 1500
    probs = rng.dirichlet(np.ones(k) * 3, size=(1, 1, k))
    first = rng.integers(0, k, n)
    offsets = np.array([0, 500, 1000, 1500])
    chains = kernels.simulate_chains(first, np.broadcast_to(probs, (100, 1, k, k)), offsets,
                                     np.zeros(3, int), seeds=7)
    nest = Encoded(np.array([0, n]), offsets, np.zeros(3, np.int64), np.zeros(1, np.int64))
    ds = sequence_statistics(chains, nest, k, ["second_order_G2"])
    assert (ds["second_order_G2_df"] == k * (k - 1) ** 2).all()
    p = stats.chi2.sf(ds["second_order_G2"], ds["second_order_G2_df"])
    assert stats.kstest(p, "uniform").pvalue > 0.01

    # second order: x_t depends on x_{t-2} (a moderate dependence, 3000 segments)
    for seed in range(3):
        g = np.random.default_rng(seed)
        table = g.dirichlet(np.ones(k) * 2, size=(k, k))  # P(x_t | x_{t-2}, x_{t-1})
        x = [0, 1]
        for _ in range(2998):
            x.append(g.choice(k, p=table[x[-2], x[-1]]))
        one = Encoded(np.array([0, 3000]), np.array([0, 3000]), np.zeros(1, np.int64),
                      np.zeros(1, np.int64))
        res = sequence_statistics(np.array(x), one, k, ["second_order_G2"])
        assert stats.chi2.sf(res["second_order_G2"][0], res["second_order_G2_df"][0]) < 0.01


# --------------------------------------------------------------------------- entry point


def _small_nest():
    return Encoded(np.array([0, 10, 20, 30]), np.array([0, 4, 10, 20, 30]),
                   np.array([0, 0, 1, 2]), np.array([0, 0, 1]))


def test_batch_rows_equal_single_draw_calls_and_given_may_be_shared():
    rng = np.random.default_rng(1)
    nest = _small_nest()
    codes = rng.integers(-1, 3, (4, 30))
    given_codes = rng.integers(0, 2, 30)
    batch = sequence_statistics(codes, nest, 3, given=given_codes, n_given=2)
    for d in range(4):
        one = sequence_statistics(codes[d], nest, 3, given=given_codes[None], n_given=2)
        for name in batch.data_vars:
            close(batch[name][d], one[name][0])
    per_draw = sequence_statistics(codes, nest, 3, given=np.tile(given_codes, (4, 1)),
                                   n_given=2)
    for name in batch.data_vars:
        close(per_draw[name], batch[name])


def test_dataset_layout_and_registry():
    nest = _small_nest()
    codes = np.random.default_rng(2).integers(0, 2, (5, 30))
    ds = sequence_statistics(codes, nest, 2, labels=["x", "y"])
    assert set(STATISTICS) == set(DEFAULT_STATISTICS)
    assert all(isinstance(v, str) and v for v in STATISTICS.values())
    stat_vars = [v for v in ds.data_vars if ds[v].attrs["kind"] == "statistic"]
    assert sorted(stat_vars) == sorted(STATISTICS)
    for name in ("G2", "homogeneity_dyads", "homogeneity_sessions", "second_order_G2"):
        assert ds[f"{name}_df"].attrs["kind"] == "df" and ds[f"{name}_df"].dtype == np.int64
    assert ds["adj_resid"].dims == ("draw", "given", "target")
    assert ds["yules_q_dyad"].dims == ("draw", "dyad", "given", "target")
    assert ds["run_mean"].dims == ("draw", "code")
    assert ds["G2"].dims == ("draw",)
    assert list(ds["code"].values) == ["x", "y"] and ds.sizes["draw"] == 5
    only = sequence_statistics(codes, nest, 2, ["n_runs"])
    assert list(only.data_vars) == ["n_runs"] and "given" not in only.dims


def test_bad_requests_raise():
    nest = _small_nest()
    codes = np.zeros((2, 30), dtype=np.int64)
    with pytest.raises(LagnestDataError, match="unknown statistic"):
        sequence_statistics(codes, nest, 2, ["G3"])
    with pytest.raises(LagnestDataError, match="n_given"):
        sequence_statistics(codes, nest, 2, given=codes[0])
    with pytest.raises(LagnestDataError, match="given must have shape"):
        sequence_statistics(codes, nest, 2, given=np.zeros((3, 30), int), n_given=2)
    with pytest.raises(ValueError, match="block_offsets"):
        sequence_statistics(codes[:, :20], nest, 2)
    with pytest.raises(ValueError, match="outside"):
        sequence_statistics(codes + 2, nest, 2)
    with pytest.raises(LagnestDataError, match="lag >= 1"):
        sequence_statistics(codes, nest, 2, lag=0)


def test_paired_targets_mask_matches_simulate_given():
    rng = np.random.default_rng(8)
    nest = _small_nest()
    given_codes = rng.integers(-1, 2, 30)
    target = rng.integers(-1, 3, 30)
    probs = rng.dirichlet(np.ones(3), size=(3, 3, 2))
    for lag in (1, 2):
        reps = kernels.simulate_given(given_codes, probs, nest.block_offsets,
                                      nest.block_session, seeds=1, lag=lag, target=target)
        observed = paired_targets(given_codes, target, nest.block_offsets, lag)
        assert ((reps >= 0) == (observed >= 0)).all()
        obs = sequence_statistics(observed, nest, 3, ["counts"], given=given_codes, n_given=2,
                                  lag=lag)
        want = kernels.lag_counts(given_codes, target, nest.block_offsets, None, 2, 3, lag=lag)
        np.testing.assert_array_equal(obs["counts"][0], want[0])
