"""Number of hidden states: session-level LOO, information criteria, and the comparison."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import logsumexp

import lagnest as ln
from lagnest.kernels.hmm import hmm_block_log_likelihood, hmm_log_likelihood


def test_block_log_likelihoods_sum_to_the_total_and_match_a_block_alone():
    rng = np.random.default_rng(0)
    k, n = 3, 40
    log_init = np.log(rng.dirichlet(np.ones(k), size=2))
    log_trans = np.log(rng.dirichlet(np.ones(k), size=(2, k)))
    log_emit = np.log(rng.uniform(0.05, 1.0, size=(n, k)))
    offsets = np.array([0, 10, 10, 25, 40])
    init_row = np.array([0, 1, 1, 0])
    trans_row = rng.integers(0, 2, size=n)
    blocks = hmm_block_log_likelihood(log_init, init_row, log_trans, trans_row, log_emit,
                                      offsets)
    total = hmm_log_likelihood(log_init, init_row, log_trans, trans_row, log_emit, offsets)
    np.testing.assert_allclose(blocks.sum(), total, rtol=1e-12)
    assert blocks[1] == 0.0
    alone = hmm_log_likelihood(log_init, init_row[2:3], log_trans, trans_row[10:25],
                               log_emit[10:25], np.array([0, 15]))
    np.testing.assert_allclose(blocks[2], alone, rtol=1e-12)


@pytest.fixture(scope="module")
def fitted():
    mp = pytest.MonkeyPatch()
    mp.setenv("LAGNEST_QUICK", "1")
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2", "D3"])
    res = ln.HiddenMarkovModel(seqs, ["rupture"], 2).fit(seed=5)
    mp.undo()
    return seqs, res


def _numpy_forward(log_init, log_trans, trans_row, log_emit):
    """Log-space forward recursion of one chain (an oracle independent of the kernel)."""
    alpha = log_init + log_emit[0]
    for t in range(1, log_emit.shape[0]):
        alpha = logsumexp(alpha[:, None] + log_trans[trans_row[t]], axis=0) + log_emit[t]
    return logsumexp(alpha)


@pytest.mark.slow
def test_session_log_lik_equals_a_numpy_forward_pass_per_session(fitted):
    seqs, res = fitted
    ll = res.session_log_lik()
    assert ll.sizes["session"] == len(seqs.session_labels)
    model = res._model
    d = model.data
    params = {v: res.posterior[v].values[1, 7] for v in res.posterior.data_vars}
    log_init, log_trans, emission = model.log_probs(params)
    log_emit = model.log_emit(emission)
    expected = np.zeros(len(d.session_labels))
    for b, session in enumerate(d.block_session):
        lo, hi = d.block_offsets[b], d.block_offsets[b + 1]
        if hi > lo:
            expected[session] += _numpy_forward(log_init, log_trans, d.trans_unit[lo:hi],
                                                log_emit[lo:hi])
    np.testing.assert_allclose(ll.values[1, 7], expected, rtol=1e-10)


@pytest.mark.slow
def test_loo_is_per_session_and_criteria_are_consistent(fitted):
    seqs, res = fitted
    loo = res.loo()
    assert loo.elpd_i.sizes["session"] == len(seqs.session_labels)
    ll = res.session_log_lik().stack(s=("chain", "draw")).transpose("s", "session").values
    lppd = (logsumexp(ll, axis=0) - np.log(ll.shape[0])).sum()
    assert loo.elpd <= lppd + 1e-9  # leaving a session out never predicts it better
    ic = res.information_criteria()
    assert ic["n_parameters"] == 1 + 2 + 2 * 3  # initial, transition, 2 states x 3 logits
    np.testing.assert_allclose(ic["aic"], 2 * ic["n_parameters"] - 2 * ic["log_lik"])
    np.testing.assert_allclose(
        ic["bic"], ic["n_parameters"] * np.log(ic["n_segments"]) - 2 * ic["log_lik"])


@pytest.mark.slow
def test_the_tree_carries_sessions_log_likelihood_and_hmm_quantities(fitted):
    import arviz_stats as azs

    _, res = fitted
    tree = res.tree
    np.testing.assert_array_equal(tree["log_likelihood"]["codes"].values,
                                  res.session_log_lik().values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k on quick-mode chains
        assert azs.loo(tree).elpd == pytest.approx(res.loo().elpd, rel=1e-12)
    post = tree["posterior"]
    assert not any(v.startswith(("z_", "eta_")) for v in post.data_vars)
    assert {"stationary", "dwell_time", "transition_typical"} <= set(post.data_vars)
    # the stationary distribution solves pi P = pi in every draw; dwell is 1 / (1 - p_kk)
    p = post["transition_typical"].isel(chain=0, draw=3).values
    pi = post["stationary"].isel(chain=0, draw=3).values
    np.testing.assert_allclose(pi @ p, pi, atol=1e-12)
    np.testing.assert_allclose(post["dwell_time"].isel(chain=0, draw=3).values,
                               1 / (1 - np.diag(p)), rtol=1e-12)


@pytest.mark.slow
def test_the_tree_carries_finite_odds_ratios_of_transition_predictors(monkeypatch):
    import arviz_stats as azs

    monkeypatch.setenv("LAGNEST_QUICK", "1")
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2", "D3"])
    res = ln.HiddenMarkovModel(seqs, ["rupture"], 2, transition_predictors=["MIA4"]).fit(
        seed=2)
    ratio = res.tree["posterior"]["odds_ratio"]
    np.testing.assert_allclose(ratio.values, np.exp(res.posterior["beta"].values))
    assert list(ratio["move_label"].values) == ["1->2", "2->1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k on quick-mode chains
        loo = azs.loo(res.tree)
    assert np.isfinite(loo.elpd) and loo.elpd == pytest.approx(res.loo().elpd, rel=1e-12)


@pytest.mark.slow
def test_compare_states_table(monkeypatch):
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2"])
    comp = ln.compare_states(seqs, ["rupture"], n_states=(2, 3), fit_kwargs={"seed": 1})
    assert list(comp.table.index) == [2, 3]
    # arviz-stats's convention: elpd of K minus the best K's, unrounded (round_to="none")
    best_by_elpd = comp.table["elpd"].idxmax()
    assert comp.table.loc[best_by_elpd, "elpd_diff"] == 0.0
    assert (comp.table["elpd_diff"] <= 0).all()
    np.testing.assert_allclose(comp.table["elpd_diff"],
                               comp.table["elpd"] - comp.table["elpd"].max(), atol=1e-9)
    assert comp.best in (2, 3)
    # the fewest states within 2 dse of the best, from the table's own numbers
    pool = comp.table[comp.table["converged"]] if comp.table["converged"].any() else comp.table
    within = [k for k in pool.index
              if pool["elpd"].max() - pool.loc[k, "elpd"] <= 2 * pool.loc[k, "dse"]]
    assert comp.parsimonious() == min(within) and comp.parsimonious() <= comp.best
    assert set(comp.results) == {2, 3}
    text = str(comp)
    assert "elpd" in text and "Columns:" in text
    with pytest.raises(ValueError, match="distinct integers >= 2"):
        ln.compare_states(seqs, ["rupture"], n_states=(1, 2))


def test_parsimonious_takes_the_fewest_states_within_two_dse_of_the_best():
    from lagnest.models.hmm_states import StateComparison

    def table(elpd, dse, converged):
        t = pd.DataFrame({"elpd": elpd, "se": 5.0, "dse": dse, "p_loo": 1.0, "k_high": 0,
                          "aic": 0.0, "bic": 0.0, "converged": converged},
                         index=pd.Index([2, 3, 4], name="n_states"))
        t["elpd_diff"] = t["elpd"] - t["elpd"].max()
        return StateComparison(t, {}, {})

    # K = 3 best by 3 with dse 2 (1.5 dse: not separated); K = 4 best by 1 over K = 3
    comp = table([-100.0, -97.0, -96.0], [2.0, 1.5, 0.0], [True, True, True])
    assert comp.best == 4 and comp.parsimonious() == 2
    comp = table([-110.0, -97.0, -96.0], [2.0, 1.5, 0.0], [True, True, True])
    assert comp.parsimonious() == 3  # K = 2 is 14 below, 7 dse
    comp = table([-110.0, -97.0, -96.0], [2.0, 1.5, 0.0], [True, True, False])
    assert comp.best == 3 and comp.parsimonious() == 3  # K = 4 failed: not a candidate


def test_dyad_mixing_names_the_dyad_whose_chains_disagree():
    """A dyad whose chains visit its two modes in different proportions is listed first,
    with the cell concerned; dyads whose chains mix are near R-hat 1 (independent draws)."""
    from lagnest.models.hmm import dyad_mixing

    rng = np.random.default_rng(0)
    chains, draws = 4, 400
    z = rng.normal(size=(chains, draws, 3, 2, 2))
    share = np.array([0.02, 0.4, 0.02, 0.4])[:, None]  # chains' shares of the second mode
    z[:, :, 1, 0, 1] += 4.0 * (rng.random((chains, draws)) < share)
    post = xr.Dataset(
        {"z_emission_0": (("chain", "draw", "dyad", "state", "free_code_0"), z),
         "sigma_emission_0": (("chain", "draw"), np.abs(rng.normal(size=(chains, draws))))},
        coords={"dyad": ["a", "b", "c"], "state": [1, 2], "free_code_0": ["x", "y"]})
    table = dyad_mixing(post)
    assert table["dyad"][0] == "b" and table["quantity"][0] == "z_emission_0[1, y]"
    assert table["rhat"][0] > 1.05
    assert (table["rhat"][1:] < 1.02).all() and (table["ess_bulk"][1:] > 1000).all()
    # an eta_* (centred form) stands for its z_*; no dyad level: empty
    both = post.assign(eta_emission_0=post["z_emission_0"] * 0.5)
    assert dyad_mixing(both)["quantity"][0].startswith("eta_emission_0")
    assert dyad_mixing(post[["sigma_emission_0"]]).empty
    # one chain: no R-hat (NaN), still one row per dyad with its bulk ESS
    one = dyad_mixing(post.isel(chain=[0]))
    assert sorted(one["dyad"]) == ["a", "b", "c"] and one["rhat"].isna().all()
    assert (one["ess_bulk"] > 0).all()
