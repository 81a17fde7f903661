"""Predictive checks of a hidden Markov model: replicated from the states it draws."""

import numpy as np
import pytest

import lagnest as ln
from lagnest.checks.sequence_stats import sequence_statistics


@pytest.fixture(scope="module")
def fitted():
    mp = pytest.MonkeyPatch()
    mp.setenv("LAGNEST_QUICK", "1")
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2", "D3"])
    res = ln.HiddenMarkovModel(seqs, ["rupture", "MIA4"], 2).fit(seed=3)
    mp.undo()
    return seqs, res


@pytest.mark.slow
def test_observed_statistics_are_those_of_the_first_stream(fitted):
    seqs, res = fitted
    chk = res.ppc(n_draws=30, seed=1)
    codes, labels = seqs.categorical("rupture")
    direct = sequence_statistics(np.asarray(codes)[None], seqs.encoded, len(labels),
                                 chk.statistics, labels=list(labels),
                                 given_labels=list(labels),
                                 dyad_labels=list(seqs.dyad_labels)).isel(draw=0)
    for name in chk.statistics:
        np.testing.assert_allclose(chk.observed[name].values, direct[name].values,
                                   equal_nan=True, err_msg=name)
    assert chk.replicated.sizes["draw"] == 30
    assert "hidden states drawn" in chk.replication
    # replicates keep the observed coding pattern: the counts of every replicate sum to
    # the number of coded lag-1 pairs of the data
    np.testing.assert_array_equal(chk.replicated["counts"].sum(("given", "target")).values,
                                  float(chk.observed["counts"].sum()))


@pytest.mark.slow
def test_same_seed_same_replicates(fitted):
    _, res = fitted
    a, b = res.ppc(n_draws=10, seed=4), res.ppc(n_draws=10, seed=4)
    np.testing.assert_array_equal(a.replicated["counts"].values, b.replicated["counts"].values)
    c = res.ppc(n_draws=10, seed=5)
    assert not np.array_equal(a.replicated["counts"].values, c.replicated["counts"].values)


@pytest.mark.slow
def test_prior_predictive_check_of_an_hmm(fitted):
    seqs, _ = fitted
    model = ln.HiddenMarkovModel(seqs, ["rupture", "MIA4"], 2)
    chk = model.prior_predictive_check(n_draws=20, seed=2)
    assert chk.group == "prior"
    assert chk.replicated.sizes["draw"] == 20
    assert np.isfinite(chk.p_values["counts"].values).all()


@pytest.mark.slow
def test_summary_in_spanish(fitted):
    """The HMM summary speaks Spanish like the other results (issue 22)."""
    _, res = fitted
    en, es = str(res.summary()), str(res.summary(lang="es"))
    assert "from 1" in en and "stationary" in en and "Diagnostics:" in en
    for word in ("desde 1", "a 2", "estacionaria", "permanencia", "díada típica",
                 "Los estados están ordenados", "Diagnósticos: R-hat máx."):
        assert word in es, word
    for word in ("from 1", "stationary", "typical dyad", "States are ordered", "bulk ESS"):
        assert word not in es, word
    assert (res.summary(lang="es").table.to_numpy() == res.summary().table.to_numpy()).all()


def test_log_odds_ratios_are_the_logs_of_the_odds_ratios():
    """Medians commute with exp; the null of the log scale is 0 (P(>0) = P(OR > 1))."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LAGNEST_QUICK", "1")
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2"])
    res = ln.HiddenMarkovModel(seqs, ["rupture"], 2, transition_predictors=["MIA4"]).fit(
        seed=1, draws=41, tune=40, chains=1)  # odd: the median is one draw
    mp.undo()
    lor, odds = res.log_odds_ratios(), res.effects()
    assert lor["median"].dims == ("feature", "move")
    assert list(lor["move"].values) == ["1->2", "2->1"]
    np.testing.assert_allclose(np.exp(lor["median"].values), odds["median"].values, rtol=1e-9)
    np.testing.assert_allclose(lor["p_positive"].values, odds["p_positive"].values)
    draws = res.draws["beta"].values.reshape(-1, *res.draws["beta"].shape[2:])
    np.testing.assert_allclose(lor["mean"].values, draws.mean(axis=0))
