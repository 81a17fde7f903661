"""Starting points of the HMM's chains: the pooled EM fit and the values the chains get."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from lagnest.kernels.hmm import hmm_log_likelihood
from lagnest.models import HiddenMarkovModel
from lagnest.models.hmm_start import (
    SAME_FIT,
    PooledEstimate,
    _em,
    coordinate_search,
    dyad_candidates,
    dyad_em,
    pooled_em,
)
from lagnest.simulate import thesis_like

INIT = np.array([0.7, 0.3])
TRANS = np.array([[0.9, 0.1], [0.25, 0.75]])
EMIT = [np.array([[0.8, 0.15, 0.05], [0.1, 0.3, 0.6]]), np.array([[0.9, 0.1], [0.3, 0.7]])]


def _simulate(n_chains: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes (N, 2) of a 2-state HMM written out here (numpy), with 5% uncoded."""
    rng = np.random.default_rng(seed)
    codes = []
    for _ in range(n_chains):
        z = rng.choice(2, p=INIT)
        for t in range(length):
            if t:
                z = rng.choice(2, p=TRANS[z])
            codes.append([rng.choice(len(e[z]), p=e[z]) for e in EMIT])
    codes = np.array(codes, dtype=np.int64)
    codes[rng.random(codes.shape) < 0.05] = -1
    offsets = np.arange(0, n_chains * length + 1, length, dtype=np.int64)
    return codes, offsets


def test_em_never_lowers_the_likelihood_and_reaches_a_maximum():
    codes, offsets = _simulate(20, 30, seed=1)
    rng = np.random.default_rng(0)
    est = PooledEstimate(np.array([0.5, 0.5]), np.array([[0.6, 0.4], [0.4, 0.6]]),
                         [rng.dirichlet(np.ones(3), 2), rng.dirichlet(np.ones(2), 2)], -np.inf, 0)
    values = []
    for _ in range(60):
        est = _em(codes, [3, 2], offsets, est, max_iter=1, tol=0.0)
        values.append(est.log_likelihood)
    # EM with pseudo-counts maximises likelihood + log prior: the likelihood part may dip
    # by far less than the prior's size, never by a real step
    assert np.all(np.diff(values) > -1e-6 * abs(values[-1]))
    assert values[-1] - values[-2] < 1e-3


def _loglik(est: PooledEstimate, codes: np.ndarray, offsets: np.ndarray) -> float:
    """Log-likelihood of an estimate by the forward kernel (independent of EM's code)."""
    log_emit = np.zeros((codes.shape[0], 2))
    for c, e in enumerate(est.emission):
        code = codes[:, c]
        log_emit += np.where(code[:, None] >= 0, np.log(e).T[np.maximum(code, 0)], 0.0)
    n_blocks = len(offsets) - 1
    return float(hmm_log_likelihood(np.log(est.initial)[None], np.zeros(n_blocks, np.int64),
                                    np.log(est.transition)[None],
                                    np.zeros(codes.shape[0], np.int64), log_emit, offsets))


def test_pooled_em_recovers_a_known_hmm_up_to_the_order_of_states():
    codes, offsets = _simulate(200, 40, seed=2)
    est = pooled_em(codes, [3, 2], offsets, 2, seed=3)
    order = np.argsort(est.emission[0][:, 2])  # truth: state 2 emits code 2 most
    est = est.permuted(order)
    np.testing.assert_allclose(est.transition, TRANS, atol=0.04)
    for got, want in zip(est.emission, EMIT, strict=True):
        np.testing.assert_allclose(got, want, atol=0.04)
    # the maximum found beats the truth's likelihood (it is the maximum, up to the prior)
    truth = PooledEstimate(INIT, TRANS, EMIT, 0.0, 0)
    assert _loglik(est, codes, offsets) >= _loglik(truth, codes, offsets) - 1.0
    np.testing.assert_allclose(_loglik(est, codes, offsets), est.log_likelihood, rtol=1e-4)


def test_pooled_em_is_reproducible_and_handles_a_chain_of_one_segment():
    codes, offsets = _simulate(10, 20, seed=4)
    offsets = np.concatenate([[0, 1], offsets[1:]])  # a chain of one segment first
    a = pooled_em(codes, [3, 2], offsets, 3, seed=5)
    b = pooled_em(codes, [3, 2], offsets, 3, seed=5)
    np.testing.assert_array_equal(a.transition, b.transition)
    assert np.isfinite(a.log_likelihood)
    assert all(np.all(e > 0) for e in a.emission)


@pytest.mark.parametrize("k", [2, 3])
def test_the_chains_start_values_are_the_models_variables_ordered_and_finite(k):
    seqs, _ = thesis_like(seed=1)
    model = HiddenMarkovModel(seqs, ["rupture", "mia"], k, transition_predictors=["MIA4"],
                              order_by="rupture:withdrawal")
    start = model.start_values(model.data)
    built = model.build()
    for name, value in start.items():
        assert np.shape(value) == tuple(built[name].shape.eval()), name
        assert np.all(np.isfinite(value)) and np.all(np.abs(value) <= 4.5 + 1e-12), name
    assert np.all(np.diff(start["emission_order_0"]) > 0)
    assert set(start) >= {"emission_order_0", "emission_rest_0", "transition_logit",
                          "initial_logit"}


@pytest.mark.parametrize("k", [2, 3])
def test_prior_draws_keep_the_ordering_with_the_order_statistics_of_a_normal(k):
    """Forward draws (prior predictive, the truths of an SBC) obey the constraint the
    sampler imposes, with the law the sampler's density implies: that of sorted
    independent Normal(0, 1.5) draws, whose means are checked against an independent
    Monte Carlo oracle; the model's density at a point is the normal one."""
    from scipy import stats

    seqs, _ = thesis_like(seed=1)
    model = HiddenMarkovModel(seqs, ["rupture"], k, order_by="rupture:withdrawal")
    draws = model.prior_predictive(draws=4000, seed=5).draws["emission_order_0"].values
    draws = draws.reshape(-1, k)
    assert np.all(np.diff(draws, axis=1) > 0)
    oracle = np.sort(np.random.default_rng(9).normal(0.0, 1.5, (200_000, k)), axis=1)
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - oracle.mean(axis=0)) < 4 * se)
    built = model.build()
    rv = built["emission_order_0"]
    value = np.linspace(-0.7, 1.1, k)
    logp = pm.logp(rv, value).eval()
    np.testing.assert_allclose(logp, stats.norm(0.0, 1.5).logpdf(value).sum(), rtol=1e-10)


def test_centred_and_noncentred_dyad_deviations_are_the_same_likelihood():
    """``parameterization`` changes the sampler's view only: at corresponding points
    (``eta = sigma * z``) the two graphs give the same log-likelihood."""
    seqs, _ = thesis_like(seed=1)
    kwargs = {"transition_predictors": ["MIA4"], "order_by": "rupture:withdrawal"}
    nc = HiddenMarkovModel(seqs, ["rupture"], 2, **kwargs).build()
    c = HiddenMarkovModel(seqs, ["rupture"], 2, parameterization="centered", **kwargs).build()
    rng = np.random.default_rng(0)
    point = {k: rng.normal(0.0, 0.5, np.shape(v)) for k, v in nc.initial_point().items()}
    centred = {k: v for k, v in point.items() if not k.startswith("z_")}
    for name, sigma in (("emission_0", "sigma_emission_0"), ("transition", "sigma_transition")):
        centred[f"eta_{name}"] = np.exp(point[f"{sigma}_log__"]) * point[f"z_{name}"]
    assert set(centred) == set(c.initial_point())

    def loglik(model, at):  # the likelihood Potential as a function of the value variables
        (pot,) = model.replace_rvs_by_values([model.potentials[0]])
        return model.compile_fn(pot, inputs=model.value_vars, on_unused_input="ignore")(at)

    ll_nc, ll_c = loglik(nc, point), loglik(c, centred)
    np.testing.assert_allclose(ll_c, ll_nc, rtol=1e-10)
    with pytest.raises(Exception, match="parameterization must be one of"):
        HiddenMarkovModel(seqs, ["rupture"], 2, parameterization="auto-ish")


def _dyads_hmm(n_dyads: int, length: int, spread: float, seed: int):
    """Sequences of a 2-state HMM whose emission logits differ by dyad (SD ``spread``)."""
    from lagnest import Sequences

    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c"])
    base = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]))
    sessions = []
    for _ in range(n_dyads):
        logits = base + rng.normal(0.0, spread, base.shape)
        emit = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        z, codes = 0, []
        for t in range(length):
            z = rng.choice(2, p=TRANS[z]) if t else rng.choice(2, p=INIT)
            codes.append(labels[rng.choice(3, p=emit[z])])
        sessions.append(list(codes))
    return Sequences.from_sequences({"x": sessions}, dyads=[f"d{i}" for i in range(n_dyads)])


def test_auto_parameterization_centres_long_differing_dyads_only():
    long_and_different = HiddenMarkovModel(_dyads_hmm(10, 600, 1.0, seed=1), ["x"], 2)
    assert long_and_different.structure.parameterization == {"dyad": "centered"}
    assert "eta_emission_0" in long_and_different.build().named_vars
    short = HiddenMarkovModel(_dyads_hmm(6, 60, 1.0, seed=2), ["x"], 2)
    assert short.structure.parameterization == {"dyad": "noncentered"}
    alike = HiddenMarkovModel(_dyads_hmm(10, 600, 0.0, seed=3), ["x"], 2)
    assert alike.structure.parameterization == {"dyad": "noncentered"}
    forced = HiddenMarkovModel(_dyads_hmm(6, 60, 1.0, seed=2), ["x"], 2,
                               parameterization="centered")
    assert forced.structure.parameterization == {"dyad": "centered"}


@pytest.mark.parametrize("form", ["noncentered", "centered"])
def test_dyad_start_values_follow_each_dyads_data(form):
    seqs = _dyads_hmm(8, 300, 1.0, seed=4)
    model = HiddenMarkovModel(seqs, ["x"], 2, parameterization=form)
    start = model.start_values(model.data)
    dev = start["eta_emission_0"] if form == "centered" else \
        start["z_emission_0"] * start["sigma_emission_0"]
    assert dev.shape == (8, 2, 2) and np.all(np.isfinite(dev))
    # each dyad's start is its own EM fit: its deviations differ between dyads, and the
    # scale starts at their root mean square
    assert np.std(dev, axis=0).mean() > 0.2
    np.testing.assert_allclose(start["sigma_emission_0"], np.sqrt(np.mean(dev ** 2)))
    built = model.build()
    for name, value in start.items():
        assert np.shape(value) == tuple(built[name].shape.eval()), name


def test_coordinate_search_finds_each_groups_best_and_follows_interactions():
    rng = np.random.default_rng(3)
    values = [list(rng.normal(size=n)) for n in (1, 4, 6, 3)]
    chosen = coordinate_search(values, lambda pick: float(sum(pick)))
    assert chosen == [max(v) for v in values]  # a separable score: every group's maximum
    calls = []
    assert coordinate_search([[1], [2]], lambda pick: calls.append(pick) or 0.0) == [1, 2]
    assert not calls  # nothing to choose: the score is never computed

    # group 0's second candidate pays only once group 1 has moved: a second sweep takes it
    def score(pick: list[str]) -> float:
        return {("a", "x"): 0.0, ("b", "x"): -1.0, ("a", "y"): 1.0, ("b", "y"): 3.0}[
            tuple(pick)]

    assert coordinate_search([["a", "b"], ["x", "y"]], score) == ["b", "y"]
    assert coordinate_search([["a", "b"], ["x", "y"]], score, max_sweeps=1) == ["a", "y"]


def test_dyad_candidates_add_better_fits_in_every_labelling():
    """A pooled estimate with two identical states is a fixed point of EM: a dyad's fit
    from it stays there, and the random starts find the two-state solution, offered in
    both labellings; no fit is offered twice."""
    codes, offsets = _simulate(12, 40, seed=2)
    block_dyad = np.repeat([0, 1], 6)
    flat = PooledEstimate(np.array([0.5, 0.5]), np.full((2, 2), 0.5),
                          [np.full((2, 3), 1 / 3), np.full((2, 2), 0.5)], -np.inf, 0)
    first = dyad_em(codes, [3, 2], offsets, block_dyad, flat, 2)
    candidates = dyad_candidates(codes, [3, 2], offsets, block_dyad, flat, 2, seed=1)
    for dyad, group in enumerate(candidates):
        np.testing.assert_array_equal(group[0].emission[0], first[dyad].emission[0])
        assert len(group) >= 3 and (len(group) - 1) % 2 == 0
        others = group[1:]
        assert all(c.log_likelihood > group[0].log_likelihood + SAME_FIT for c in others)
        for a, b in zip(others[::2], others[1::2], strict=True):  # one fit, two labellings
            np.testing.assert_array_equal(a.emission[0], b.emission[0][::-1])
            np.testing.assert_array_equal(a.transition, b.transition[::-1, ::-1])
        distinct = [c.log_likelihood for c in others[::2]]
        assert np.all(np.abs(np.subtract.outer(distinct, distinct))[np.triu_indices(
            len(distinct), 1)] > SAME_FIT)
        # the recovered states emit as the truth does, up to their order
        best = max(others, key=lambda c: c.log_likelihood)
        order = np.argsort(best.emission[0][:, 0])[::-1]
        np.testing.assert_allclose(best.emission[0][order], EMIT[0], atol=0.12)


def test_start_density_is_pymcs_log_density_and_the_chosen_start_is_no_worse():
    """The density the start search maximises is PyMC's own log density of the model
    (without Jacobians) at PyMC's initial point built from the same values; the chosen
    start's density is at least that of the start every dyad's pooled-roles fit gives."""
    from pymc.initial_point import make_initial_point_fn

    seqs = _dyads_hmm(6, 200, 1.0, seed=5)
    model = HiddenMarkovModel(seqs, ["x"], 2)
    data = model.data
    start = model.start_values(data)
    built = model.build()
    point = make_initial_point_fn(model=built, overrides=start, jitter_rvs=set())(0)
    oracle = float(built.compile_logp(jacobian=False)(point))
    np.testing.assert_allclose(model._start_density(start), oracle, rtol=1e-10)
    est = model._pooled_estimate(data)
    typical = model._typical_start(data, est)
    first = dyad_em(data.codes, [3], data.block_offsets,
                    data.segment_dyad[data.block_offsets[:-1]], est, 6)
    pooled_roles = model._with_deviations(typical, model._start_deviations(data, first, typical))
    assert model._start_density(start) >= model._start_density(pooled_roles)


def test_fit_advice_of_the_hmm_names_the_form_or_where_to_look():
    """Divergences: the other form; slow mixing without divergences: label_check,
    dyad_mixing, more draws; a clean fit: none."""
    import pandas as pd

    from lagnest.models._fit import Diagnostics

    def diag(divergent: int, rhat: float, failures: tuple[str, ...]) -> Diagnostics:
        return Diagnostics(table=pd.DataFrame(), rhat_max=rhat, ess_bulk_min=1e3,
                           ess_tail_min=1e3, n_divergent=divergent, n_max_treedepth=0,
                           bfmi_min=1.0, n_chains=4, n_draws=4000, failures=failures)

    seqs = _dyads_hmm(6, 40, 1.0, seed=5)
    centred = HiddenMarkovModel(seqs, ["x"], 2, parameterization="centered")
    advice = centred.fit_advice(diag(3, 1.0, ("3 divergent transitions",)))
    assert "centred (as asked)" in advice and "parameterization='noncentered'" in advice
    slow = centred.fit_advice(diag(0, 1.03, ("R-hat > 1.01: x (1.03)",)))
    assert "dyad_mixing()" in slow and "label_check()" in slow and "draws=" in slow
    assert centred.fit_advice(diag(0, 1.0, ())) == ""


def test_a_given_start_replaces_the_em_fit_in_any_order_of_states():
    """``start=``: the typical dyad starts at the given solution (its logits, clipped as
    the EM fit's are), states put in the model's order; bad starts are refused clearly."""
    seqs = _dyads_hmm(4, 200, 0.5, seed=5)
    emission = np.array([[0.1, 0.3, 0.6], [0.7, 0.2, 0.1]])  # the later state first
    trans = np.array([[0.8, 0.2], [0.05, 0.95]])
    model = HiddenMarkovModel(seqs, ["x"], 2, order_by="x:c", parameterization="centered",
                              start={"transition": trans, "emission": {"x": emission}})
    start = model.start_values(model.data)
    order = [1, 0]  # p(c) / p(a) increases with the state: 0.1/0.7 < 0.6/0.1
    swapped = emission[order]
    np.testing.assert_allclose(start["emission_order_0"],
                               np.log(swapped[:, 2] / swapped[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(start["emission_rest_0"][:, 0],
                               np.log(swapped[:, 1] / swapped[:, 0]), rtol=1e-12)
    moved = trans[np.ix_(order, order)]
    np.testing.assert_allclose(start["transition_logit"],
                               np.log([moved[0, 1] / moved[0, 0], moved[1, 0] / moved[1, 1]]),
                               rtol=1e-12)
    np.testing.assert_allclose(start["initial_logit"], [0.0], atol=1e-12)  # uniform
    em = HiddenMarkovModel(seqs, ["x"], 2, order_by="x:c", parameterization="centered")
    assert not np.allclose(em.start_values(em.data)["transition_logit"],
                           start["transition_logit"])
    assert model.spec["start"]["emission"]["x"][0] == pytest.approx(
        emission[0].tolist())  # kept as given (lists), put in order when used

    def refused(match, **start):
        with pytest.raises(Exception, match=match):
            HiddenMarkovModel(seqs, ["x"], 2, start=start)

    refused("must have shape", transition=trans[:1], emission={"x": emission})
    refused("each emission channel", transition=trans, emission={"y": emission})
    refused("positive probabilities", transition=trans,
            emission={"x": [[0.0, 0.4, 0.6], [0.7, 0.2, 0.1]]})
    refused("sum to 1", transition=[[0.5, 0.6], [0.1, 0.9]], emission={"x": emission})
    # rounded published values (a row summing to 1.01) are accepted, renormalised
    rounded = HiddenMarkovModel(seqs, ["x"], 2, start={
        "transition": [[0.81, 0.2], [0.05, 0.95]], "emission": {"x": emission}})
    np.testing.assert_allclose(rounded.spec["start"]["transition"][0],
                               [0.81 / 1.01, 0.2 / 1.01], rtol=1e-12)
    refused("'transition', 'emission'", emission={"x": emission})
