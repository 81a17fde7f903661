"""The stationarity test against a log-linear oracle, LagSequential, and simulated chains.

Oracles: the G2 of the part x given x target table for the model [part*given][given*target]
is the deviance of a Poisson GLM (statsmodels), with the per-part counts tallied by a plain
Python loop; O'Connor's LagSequential 0.1.1 (github.com/cran/LagSequential,
``R/seqgroups.R``, run with R 4.2.2) gives the likelihood-ratio test of homogeneity of its
example data ``data_seqgroups_strings`` (``man/seqgroups.Rd`` example), which lagnest
reproduces with the segments as the thirds of one session or as three sessions in order.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lagnest.classical.lagtable import homogeneity_test
from lagnest.classical.stationarity import (
    _shuffle_within,
    stationarity_arrays,
    stationarity_test,
)
from lagnest.data import StreamData
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError, LagnestDataWarning

CODES = ["a", "b", "c"]
STATIONARY = np.array([[0.7, 0.2, 0.1], [0.1, 0.7, 0.2], [0.2, 0.1, 0.7]])
OTHER = np.array([[0.2, 0.6, 0.2], [0.2, 0.2, 0.6], [0.6, 0.2, 0.2]])

#: data_seqgroups_strings of LagSequential 0.1.1: three segments of 131 codes.
SEQGROUPS = [
    "LAC RAC LAC RDO LAC RAC LAC RDO LAC RDO LAC LAC RAC LAC RDO LAC RAC LUP RDO LUP RDO LDO "
    "RDO RDO LDO LAC RAC LAC LDO RAC RDO LAC RAC LDO RDO RDO LAC LUP RUP RUP LAC LAC RUP RAC "
    "RAC RAC RUP LUP RUP LUP LUP RUP LUP LAC RAC LUP RAC LAC RUP LAC LAC LAC RAC LAC RDO RDO "
    "RAC LAC RAC LAC RAC RAC RDO LAC RAC RAC RAC LAC RAC LAC RAC LAC RAC LAC LAC RAC LAC RAC "
    "LAC LAC RAC RAC LAC LAC LAC RAC LAC RAC LAC RAC LAC RAC LAC LAC RAC LAC RAC LUP RAC LAC "
    "RAC RAC LAC LAC RAC LAC LAC RAC LAC RUP LAC RAC RDO LAC RAC LAC RDO RDO LAC LDO LAC",
    "RAC LAC RAC LAC RAC RAC RAC LUP RAC LAC RAC RAC LAC RAC RAC LAC RAC LAC RAC LAC RDO LAC "
    "RDO LAC RAC RDO LAC LAC RAC LAC RAC RAC RAC LAC RAC LAC RAC RAC LAC RAC LAC RAC RAC LAC "
    "LDO LAC RAC LDO RAC LDO RAC RAC RDO LAC LAC LAC LUP RUP LUP RUP LUP RUP LUP RUP LUP RUP "
    "LUP LUP RUP RUP RUP RAC LDO LAC RAC LAC RAC RAC LAC RDO RAC RAC LAC RAC RAC LAC RAC LAC "
    "RAC LAC RAC LDO RAC RDO LAC LAC RAC LAC RAC LAC RAC RDO LDO RDO RDO LAC RDO RDO LAC RDO "
    "LAC LUP RAC RDO LAC LAC RAC LAC RUP LDO RDO LDO RDO RAC RAC RAC RDO RAC LAC RDO RAC",
    "RAC LAC RAC LAC LAC LAC RAC LAC LAC RAC LAC LAC RDO LAC LAC LAC RUP LAC RDO LUP LUP LUP "
    "LUP LAC LUP RUP LUP RAC LUP LUP RAC LUP LAC LAC LAC LAC RUP LUP RUP LUP RUP LAC RUP LDO "
    "RUP LUP LUP LUP LUP RAC LUP RAC LAC RAC LUP LUP RUP LUP LDO RDO LDO RAC LDO RAC RUP LUP "
    "LUP RUP LUP RUP LUP RUP LUP RUP LUP RUP LUP LUP RUP LUP RUP LUP LAC RAC LAC RAC LAC RAC "
    "LAC RAC LAC LAC LAC LUP RAC LDO RUP LDO RUP RUP RUP LDO RUP RUP LDO RUP LDO RUP LAC RAC "
    "LDO RUP RUP RUP LAC LAC RUP RUP RUP LAC RUP LAC RUP LAC RAC RAC RAC RAC RAC RAC RUP",
]
#: seqgroups(data_seqgroups_strings, test = "homogeneity")$chi: lrx2sh, dfsh.
SEQGROUPS_G2, SEQGROUPS_DF = 91.6840219121282, 60


def _chain(rng, length, first=None, second=None, switch=None, start=None):
    """A Markov chain of codes; the matrix switches from ``first`` to ``second`` at ``switch``."""
    first = STATIONARY if first is None else first
    x = [int(rng.integers(3)) if start is None else start]
    for t in range(1, length):
        matrix = second if switch is not None and t > switch else first
        x.append(int(rng.choice(3, p=matrix[x[-1]])))
    return [CODES[i] for i in x]


def _corpus(rng, n_sessions=12, per_dyad=4, lengths=(30, 60), **chain):
    sessions = [_chain(rng, int(rng.integers(*lengths)), **chain) for _ in range(n_sessions)]
    dyads = [f"d{s // per_dyad}" for s in range(n_sessions)]
    return sessions, Sequences.from_sequences({"code": sessions}, dyads=dyads,
                                              codes={"code": CODES})


def _loop_counts(sessions, part_of, n_parts, lag=1):
    """Per-part lag counts by a plain loop: ``part_of(session, t, length)`` of the given."""
    x = np.zeros((n_parts, 3, 3))
    for s, codes in enumerate(sessions):
        for t in range(len(codes) - lag):
            x[part_of(s, t, len(codes)), CODES.index(codes[t]), CODES.index(codes[t + lag])] += 1
    return x


def _glm(x, allowed=None):
    """Deviance and residual df of the Poisson GLM [part*given][given*target] of ``x``.

    The design has one column per (part, given) and one per allowed (given, target) but
    the first of each given row; structural zeros are left out of the data.
    """
    import statsmodels.api as sm

    n_parts, k, m = x.shape
    allowed = np.ones((k, m), dtype=bool) if allowed is None else allowed
    cells = [(p, i, j) for p in range(n_parts) for i in range(k) for j in range(m)
             if allowed[i, j]]
    pair_columns = [(i, j) for i in range(k) for j in np.flatnonzero(allowed[i])[1:]]
    design = np.zeros((len(cells), n_parts * k + len(pair_columns)))
    for row, (p, i, j) in enumerate(cells):
        design[row, p * k + i] = 1
        if (i, j) in pair_columns:
            design[row, n_parts * k + pair_columns.index((i, j))] = 1
    y = np.array([x[c] for c in cells])
    fit = sm.GLM(y, design, family=sm.families.Poisson()).fit(tol=1e-13, maxiter=200)
    return fit.deviance, len(cells) - np.linalg.matrix_rank(design)


SPLITS = {
    "half": (2, {}, lambda s, t, n: (2 * t) // n),
    "tercile": (3, {}, lambda s, t, n: (3 * t) // n),
    "position": (4, {"n_parts": 4}, lambda s, t, n: (4 * t) // n),
    "session_order": (2, {}, lambda s, t, n: (2 * (s % 4)) // 4),
}


@pytest.mark.parametrize("by", list(SPLITS))
def test_g2_equals_loglinear_deviance(by):
    rng = np.random.default_rng(3)
    sessions, seqs = _corpus(rng, first=np.full((3, 3), 1 / 3))
    n_parts, kwargs, part_of = SPLITS[by]
    res = stationarity_test(seqs, "code", "code", by=by, **kwargs)
    x = _loop_counts(sessions, part_of, n_parts)
    np.testing.assert_array_equal(res["counts"].values, x)
    deviance, df_resid = _glm(x)
    assert res.attrs["G2"] == pytest.approx(deviance, abs=1e-6)
    assert res.attrs["df"] == round(df_resid) == 3 * 2 * (n_parts - 1)
    assert res.attrs["p"] == pytest.approx(stats.chi2.sf(deviance, df_resid))
    # per-row contributions and the null model's fit
    assert float(res["G2_given"].sum()) == pytest.approx(res.attrs["G2"])
    pooled = x.sum(0)
    expected = x.sum(-1, keepdims=True) * pooled / pooled.sum(-1, keepdims=True)
    np.testing.assert_allclose(res["expected"].values, expected)
    np.testing.assert_array_equal(res["N"].values, x.sum((1, 2)))


def test_structural_zeros_drop_out_like_the_glm_on_allowed_cells():
    rng = np.random.default_rng(7)
    no_repeat = np.array([[0, 0.7, 0.3], [0.4, 0, 0.6], [0.5, 0.5, 0]])
    sessions, seqs = _corpus(rng, first=no_repeat)
    res = stationarity_test(seqs, "code", "code", by="half", structural_zeros="diagonal")
    x = _loop_counts(sessions, SPLITS["half"][2], 2)
    deviance, df_resid = _glm(x, allowed=~np.eye(3, dtype=bool))
    assert res.attrs["G2"] == pytest.approx(deviance, abs=1e-6)
    assert res.attrs["df"] == round(df_resid) == 3 * 1 * 1  # (P - 1)(M_i - 1) per row
    assert res.attrs["n_structural_zeros"] == 3
    assert np.all(res["expected"].values[:, np.eye(3, dtype=bool)] == 0)
    with pytest.raises(LagnestDataError, match="structural zeros"):
        stationarity_test(seqs, "code", "code", structural_zeros=[("a", "b")])


@pytest.mark.parametrize("layout", ["thirds of one session", "three sessions in order"])
def test_lagsequential_seqgroups_homogeneity(layout):
    segments = [s.split() for s in SEQGROUPS]
    if layout == "thirds of one session":
        # breaks at the segment starts: no pair crosses a segment, as in seqgroups
        whole = [code for segment in segments for code in segment]
        seqs = Sequences.from_sequences({"code": [whole]}, breaks=[[131, 262]])
        res = stationarity_test(seqs, "code", "code", by="tercile")
    else:
        seqs = Sequences.from_sequences({"code": segments}, dyads=["d1"] * 3)
        res = stationarity_test(seqs, "code", "code", by="session_order", n_parts=3)
    assert res.attrs["G2"] == pytest.approx(SEQGROUPS_G2, abs=1e-9)
    # seqgroups takes df = K (K - 1) (S - 1) = 60; four transitions never occur in the
    # pooled table, and each drops one df per extra part: 60 - 4 * 2
    pooled = res["counts"].sum("part").values
    assert (pooled == 0).sum() == 4
    assert res.attrs["df"] == SEQGROUPS_DF - 4 * 2


def test_parts_as_units_equal_homogeneity_test():
    rng = np.random.default_rng(5)
    _, seqs = _corpus(rng, n_sessions=5, per_dyad=5)
    res = stationarity_test(seqs, "code", "code", by="session_order", n_parts=5)
    hom = homogeneity_test(seqs, "code", "code", by="session")
    for name in ("G2", "df", "p"):
        assert res.attrs[name] == pytest.approx(hom.attrs[name])
    np.testing.assert_allclose(res["G2_given"].values, hom["G2_given"].values)


def test_stationarity_arrays_example():
    parts = np.array([[[8, 2], [3, 7]], [[2, 8], [3, 7]]])
    out = stationarity_arrays(parts)
    p_pool = np.array([10, 10]) / 20
    want = 2 * (8 * np.log(0.8 / p_pool[0]) + 2 * np.log(0.2 / p_pool[1])) * 2
    assert float(out["G2"]) == pytest.approx(want)
    assert float(out["G2_given"][1]) == 0 and int(out["df"]) == 2


def test_stationary_chains_give_uniform_p():
    rng = np.random.default_rng(11)
    p_chi2, p_perm = [], []
    for rep in range(150):
        _, seqs = _corpus(rng, n_sessions=8, per_dyad=8, lengths=(40, 41))
        res = stationarity_test(seqs, "code", "code", by="half",
                                n_perm=99 if rep < 60 else 0, seed=rep)
        p_chi2.append(res.attrs["p"])
        if rep < 60:
            p_perm.append(res.attrs["p_perm"])
    p_chi2, p_perm = np.array(p_chi2), np.array(p_perm)
    assert stats.kstest(p_chi2, "uniform").pvalue > 0.01
    assert 0.01 <= (p_chi2 <= 0.05).mean() <= 0.11
    assert stats.kstest(p_perm, "uniform").pvalue > 0.01
    assert (p_perm <= 0.1).mean() <= 0.2


def test_session_order_permutation_is_uniform_under_the_null():
    rng = np.random.default_rng(2)
    p_perm = []
    for rep in range(40):
        _, seqs = _corpus(rng, n_sessions=12, per_dyad=6, lengths=(20, 40))
        res = stationarity_test(seqs, "code", "code", by="session_order", n_perm=99, seed=rep)
        p_perm.append(res.attrs["p_perm"])
    assert stats.kstest(p_perm, "uniform").pvalue > 0.01


def test_change_within_sessions_is_detected():
    rng = np.random.default_rng(1)
    sessions = [_chain(rng, 40, second=OTHER, switch=19) for _ in range(8)]
    seqs = Sequences.from_sequences({"code": sessions}, codes={"code": CODES})
    res = stationarity_test(seqs, "code", "code", by="half", n_perm=199, seed=0)
    assert res.attrs["p"] < 1e-6
    assert res.attrs["p_perm"] == pytest.approx(1 / 200)
    assert res.attrs["null"].startswith("pair part labels")


def test_change_over_therapy_is_detected():
    rng = np.random.default_rng(4)
    sessions = []
    for _dyad in range(3):
        sessions += [_chain(rng, 40) for _ in range(4)]
        sessions += [_chain(rng, 40, first=OTHER) for _ in range(4)]
    dyads = [f"d{s // 8}" for s in range(len(sessions))]
    seqs = Sequences.from_sequences({"code": sessions}, dyads=dyads, codes={"code": CODES})
    res = stationarity_test(seqs, "code", "code", by="session_order", n_perm=499, seed=0)
    assert res.attrs["p"] < 1e-6
    # 3 dyads x C(8, 4) = 70 splits each: the observed split is the most extreme
    assert res.attrs["p_perm"] <= 0.01
    assert list(res.part.values) == ["early", "late"]
    assert res.attrs["null"].startswith("session part labels")


def test_permutation_is_protected_from_heterogeneous_sessions():
    # Two kinds of sessions, each stationary, starting far from their equilibrium: code a
    # is frequent early in the one kind and late in the other, so the pooled parts mix
    # the kinds differently and the chi-square test rejects; the permutation does not.
    kind_a = np.array([[0.95, 0.05, 0.0], [0.0, 0.9, 0.1], [0.0, 0.1, 0.9]])
    kind_b = np.array([[0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.15, 0.05, 0.8]])
    rng = np.random.default_rng(5)
    p_chi2, p_perm = [], []
    for rep in range(40):
        sessions = ([_chain(rng, 40, first=kind_a, start=0) for _ in range(10)]
                    + [_chain(rng, 40, first=kind_b, start=2) for _ in range(10)])
        seqs = Sequences.from_sequences({"code": sessions}, codes={"code": CODES})
        res = stationarity_test(seqs, "code", "code", by="half", n_perm=99, seed=rep)
        p_chi2.append(res.attrs["p"])
        p_perm.append(res.attrs["p_perm"])
    assert np.mean(np.array(p_chi2) <= 0.05) > 0.3
    assert np.mean(np.array(p_perm) <= 0.05) <= 0.15


def test_permutation_p_is_seeded_and_bounded():
    rng = np.random.default_rng(8)
    _, seqs = _corpus(rng)
    one = stationarity_test(seqs, "code", "code", n_perm=300, seed=4)
    again = stationarity_test(seqs, "code", "code", n_perm=300, seed=4)
    assert one.attrs["p_perm"] == again.attrs["p_perm"]
    assert 1 / 301 <= one.attrs["p_perm"] <= 1
    assert one.attrs["n_perm"] == 300 and one.attrs["seed"] == 4
    assert "p_perm" not in stationarity_test(seqs, "code", "code").attrs


def test_shuffle_within_strata_keeps_each_stratum():
    rng = np.random.default_rng(0)
    strata = np.repeat([0.0, 1.0, 2.0], [3, 1, 4])
    labels = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    rows = _shuffle_within(strata, labels, 200, rng)
    for s in range(3):
        cols = strata == s
        assert (np.sort(rows[:, cols], axis=1) == np.sort(labels[cols])).all()
    assert len({tuple(r) for r in rows}) > 5


def test_indicator_sets_equal_one_indicator_at_a_time():
    rng = np.random.default_rng(9)
    sessions, _ = _corpus(rng, n_sessions=8, per_dyad=4)
    flags = [[int(rng.random() < 0.4) for _ in s] for s in sessions]
    marks = [[int(rng.random() < 0.6) for _ in s] for s in sessions]
    seqs = Sequences.from_sequences({"code": sessions, "f1": flags, "f2": marks},
                                    dyads=[f"d{s // 4}" for s in range(8)],
                                    codes={"code": CODES})
    for by in ("tercile", "session_order"):
        as_given = stationarity_test(seqs, ["f1", "f2"], "code", by=by,
                                     n_perm=50 if by == "session_order" else 0)
        as_target = stationarity_test(seqs, "code", ["f1", "f2"], by=by)
        assert as_given["G2"].dims == ("indicator",)
        for name in ("f1", "f2"):
            alone = stationarity_test(seqs, name, "code", by=by)
            assert float(as_given["G2"].sel(indicator=name)) == pytest.approx(alone.attrs["G2"])
            assert int(as_given["df"].sel(indicator=name)) == alone.attrs["df"]
            back = stationarity_test(seqs, "code", name, by=by)
            assert float(as_target["G2"].sel(indicator=name)) == pytest.approx(back.attrs["G2"])
        if by == "session_order":
            assert as_given["p_perm"].dims == ("indicator",)
    with pytest.raises(LagnestDataError, match="within-session permutation"):
        stationarity_test(seqs, ["f1", "f2"], "code", n_perm=10)


def test_session_order_follows_the_order_covariate():
    rng = np.random.default_rng(6)
    sessions = [_chain(rng, 30) for _ in range(4)]
    labels = ["s1", "s2", "s3", "s4"]
    number = pd.DataFrame({"session_number": [3, 1, 4, 2]}, index=labels)
    codes = np.array([CODES.index(c) for s in sessions for c in s])
    seqs = Sequences.from_arrays(
        sessions=labels, dyads=["d"] * 4, lengths=[30] * 4,
        streams={"code": StreamData("categorical", tuple(CODES), codes)},
        session_covariates=number)
    by_number = stationarity_test(seqs, "code", "code", by="session_order",
                                  order="session_number")
    early = [sessions[1], sessions[3]]  # session numbers 1 and 2
    want = _loop_counts(early, lambda s, t, n: 0, 1)[0]
    np.testing.assert_array_equal(by_number["counts"].sel(part="early").values, want)
    stored = stationarity_test(seqs, "code", "code", by="session_order")
    want = _loop_counts(sessions[:2], lambda s, t, n: 0, 1)[0]
    np.testing.assert_array_equal(stored["counts"].sel(part="early").values, want)
    assert by_number.attrs["order"] == "session_number" and stored.attrs["order"] == "storage"
    with pytest.raises(LagnestDataError, match="not a session covariate"):
        stationarity_test(seqs, "code", "code", by="session_order", order="week")


def test_short_dyads_are_left_out_with_a_warning():
    rng = np.random.default_rng(10)
    sessions = [_chain(rng, 30) for _ in range(5)]
    seqs = Sequences.from_sequences({"code": sessions}, dyads=["d1"] * 4 + ["d2"],
                                    codes={"code": CODES})
    with pytest.warns(LagnestDataWarning, match="leaves out 1 sessions of 1 dyads"):
        res = stationarity_test(seqs, "code", "code", by="session_order", n_perm=20)
    assert res.attrs["sessions_left_out"] == 1
    assert int(res["N"].sum()) == 4 * 29
    lone = Sequences.from_sequences({"code": sessions[:1]}, codes={"code": CODES})
    with pytest.raises(LagnestDataError, match="needs a dyad with at least 2 sessions"):
        stationarity_test(lone, "code", "code", by="session_order")


def test_bad_arguments_raise():
    rng = np.random.default_rng(12)
    _, seqs = _corpus(rng, n_sessions=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kwargs, match in [
            ({"by": "quarter"}, "by must be one of"),
            ({"by": "half", "n_parts": 3}, "splits into 2 parts"),
            ({"by": "position"}, "needs n_parts"),
            ({"by": "position", "n_parts": 1}, "n_parts must be an integer >= 2"),
            ({"by": "session_order", "n_parts": True}, "n_parts must be"),
            ({"by": "half", "order": "session_number"}, "order orders the sessions"),
            ({"n_perm": -1}, "n_perm must be a non-negative integer"),
            ({"n_perm": True}, "n_perm must be"),
            ({"lag": 1.5}, "lag must be an integer"),
        ]:
            with pytest.raises(LagnestDataError, match=match):
                stationarity_test(seqs, "code", "code", **kwargs)
