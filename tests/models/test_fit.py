"""Sampling, diagnostics, answers and save/load of TransitionModel fits (short chains)."""

import json
import warnings

import numpy as np
import pytest
import xarray as xr

from lagnest.classical.statistics import table_statistics
from lagnest.errors import LagnestDataError
from lagnest.models import (
    ConvergenceWarning,
    DifferentModelError,
    TransitionModel,
    TransitionResult,
    _fit,
    load,
)

from .conftest import simulate_markov

pytestmark = pytest.mark.filterwarnings("ignore::lagnest.models.ConvergenceWarning")


def _fit_quiet(model, **kwargs):
    settings = {"draws": 200, "tune": 200, "chains": 2, "cores": 1, "seed": 5, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(**settings)


# ---------------------------------------------------------------- result contents
def test_result_structure(small_fit):
    model, res = small_fit
    assert isinstance(res, TransitionResult)
    assert res.id == model.id
    assert res.config["seed"] == 11
    assert res.config["sampler"]["sampler"] == "pymc"
    assert res.config["data_fingerprint"] == model.seqs.fingerprint
    assert {"pymc", "arviz", "numpy"} <= set(res.config["versions"])
    post = res.posterior
    assert post["logit_session"].dims == ("chain", "draw", "session", "given", "target")
    assert list(post["dyad"].values) == list(model.seqs.dyad_labels)
    np.testing.assert_array_equal(res.fit_data["counts"].values, model.data.counts)
    text = str(res)
    assert "code -> code at lag 1" in text and "Diagnostics" in text


def test_diagnostics_are_computed(small_fit):
    _, res = small_fit
    d = res.diagnostics
    assert d.n_chains == 2 and d.n_draws == 600
    assert {"parameter", "rhat", "ess_bulk", "ess_tail"} == set(d.table.columns)
    assert "sigma_dyad" in set(d.table.parameter)
    assert d.rhat_max == pytest.approx(d.table.rhat.max())
    assert d.n_divergent == int(res.sampled["sample_stats"]["diverging"].values.sum())
    assert np.isfinite(d.bfmi_min) and d.bfmi_min > 0


def test_answers_are_consistent_draw_by_draw(small_fit):
    _, res = small_fit
    for level, dim in (("population", None), ("typical", None), ("dyad", "dyad"),
                       ("session", "session")):
        p = res.draws_of("transition_probs", level)
        np.testing.assert_allclose(p.sum("target"), 1.0)
        marg = res.draws_of("marginal", level)
        lift = res.draws_of("lift", level)
        xr.testing.assert_allclose(lift, (p / marg).rename("lift"))
        q = res.draws_of("yules_q", level)
        lor = res.draws_of("log_odds", level)
        xr.testing.assert_allclose(q, np.tanh(lor / 2).rename("yules_q"))
        if dim is not None:
            assert dim in p.dims
    ds = res.transition_probs()
    assert set(ds.data_vars) == {"mean", "median", "sd", "lower", "upper", "p_positive",
                                 "p_direction"}
    xr.testing.assert_allclose(ds["median"], res.draws_of("transition_probs").median(
        ("chain", "draw")).rename("median"))
    assert ds["mean"].dims == ("given", "target")
    assert ds.attrs["ci_prob"] == 0.95  # the documented default
    assert np.all((ds["lower"] <= ds["mean"]) & (ds["mean"] <= ds["upper"]))
    assert np.all(ds["p_direction"] >= 0.5)
    c = res.contrast("a", "b", "c")
    p = res.draws_of("transition_probs")
    diff = p.sel(given="a", target="c") - p.sel(given="b", target="c")
    assert float(c["mean"]) == pytest.approx(float(diff.mean()))
    assert float(c["p_positive"]) == pytest.approx(float((diff > 0).mean()))
    with pytest.raises(ValueError, match="unknown given code"):
        res.contrast("zz", "b", "c")


def test_log_odds_matches_the_collapsed_table_formula(small_fit):
    """At one draw the log OR equals that of the 2 x 2 table of expected joint frequencies."""
    _, res = small_fit
    p = res.draws_of("transition_probs").isel(chain=0, draw=0).values
    w = res.fit_data["counts"].sum(("session", "target")).values
    joint = w[:, None] / w.sum() * p
    stats = table_statistics(joint * 1000.0)
    lor = res.draws_of("log_odds").isel(chain=0, draw=0).values
    np.testing.assert_allclose(lor, stats["log_odds"].values, rtol=1e-9)


def test_summary_sits_beside_the_classical_table(small_fit):
    model, res = small_fit
    summary = res.summary()
    frame = summary.table
    assert frame.shape[0] == 9
    pooled = model.data.counts.sum(0)
    np.testing.assert_allclose(
        frame["prob_pooled"].to_numpy().reshape(3, 3), pooled / pooled.sum(1, keepdims=True)
    )
    assert {"prob_mean", "prob_lower", "prob_upper", "prob_typical", "Q_classical", "Q_mean",
            "logOR_mean"} <= set(frame.columns)
    # 120 pairs per dyad: classical and population estimates agree roughly
    assert np.max(np.abs(frame["prob_mean"] - frame["prob_pooled"])) < 0.15
    text = str(summary)
    # the printed columns, a line saying what each is, the others named, the diagnostics;
    # no pandas truncation and no line wider than 100
    assert "..." not in text and "Diagnostics: R-hat" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "prob_mean               posterior mean of P(target | given), averaged over new " \
           "dyads and sessions" in text
    hidden = text.split("Not printed (in .table and to_dataframe()): ")[1]
    assert "logOR_upper" in hidden and "prob_typical" in hidden


def test_population_average_differs_from_the_typical_dyad_as_theory_says(small_fit):
    """Average over new groups = E[softmax(alpha + dev)], checked by an independent MC."""
    _, res = small_fit
    avg = res.draws_of("transition_probs", "population").isel(chain=0, draw=slice(0, 20))
    post = res.posterior.isel(chain=0, draw=slice(0, 20))
    from scipy.special import softmax

    rng = np.random.default_rng(0)
    k = 3
    got, want = [], []
    for i in range(10):
        alpha = post["logit_typical"].values[i]
        sd_d, sd_dr, sd_s, sd_sr = (
            float(post[f"sigma_{name}"][i])
            for name in ("dyad", "dyad_row", "session", "session_row")
        )
        n = 20000
        # a (shared by rows) + u (row-specific), each Normal then centred over targets
        dev = (rng.normal(0, sd_d, (n, 1, k)) + rng.normal(0, sd_dr, (n, k, k))
               + rng.normal(0, sd_s, (n, 1, k)) + rng.normal(0, sd_sr, (n, k, k)))
        dev -= dev.mean(-1, keepdims=True)  # centring a Normal vector = ZeroSumNormal
        want.append(softmax(alpha + dev, axis=-1).mean(0))
        got.append(avg.values[i])
    # lagnest averages 400 new groups per draw: per-draw MC error ~0.01
    np.testing.assert_allclose(got, want, atol=0.05)
    np.testing.assert_allclose(np.mean(got, 0), np.mean(want, 0), atol=0.012)
    typical = res.draws_of("transition_probs", "typical").isel(chain=0, draw=slice(0, 20))
    assert np.abs(np.mean(got, 0) - typical.values[:10].mean(0)).max() > 0.01


# ---------------------------------------------------------------- save / load
def test_save_load_round_trip(small_fit, tmp_path):
    model, res = small_fit
    path = res.save(tmp_path / "fit.nc")
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]  # no temp file left
    back = load(path, model=model)
    assert isinstance(back, TransitionResult)
    assert back.config == json.loads(json.dumps(res.config))
    for group in ("posterior", "sample_stats", "observed_data", "fit_data"):
        xr.testing.assert_identical(back.sampled[group].to_dataset(),
                                    res.sampled[group].to_dataset())
    assert back.diagnostics.to_dict() == res.diagnostics.to_dict()
    xr.testing.assert_identical(back.transition_probs(), res.transition_probs())


def test_load_checks_the_model_and_the_config_id(small_fit, tmp_path):
    model, res = small_fit
    path = res.save(tmp_path / "fit.nc")
    other = TransitionModel(model.seqs, "code", "code", pooling="dyad")
    with pytest.raises(DifferentModelError, match="not of the given model"):
        load(path, model=other)
    tampered = json.loads(json.dumps(res.config))
    tampered["spec"]["lag"] = 2
    forged = type(res)(sampled=res.sampled, config=tampered, diagnostics=res.diagnostics)
    forged.save(tmp_path / "forged.nc")
    with pytest.raises(DifferentModelError, match="edited or corrupted"):
        load(tmp_path / "forged.nc")


# ---------------------------------------------------------------- seeds
def test_same_seed_same_draws_different_seed_different_draws(small_corpus):
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="dyad")
    a = _fit_quiet(model, seed=3, draws=50, tune=50)
    b = _fit_quiet(TransitionModel(seqs, "code", "code", pooling="dyad"), seed=3, draws=50,
                   tune=50)
    c = _fit_quiet(model, seed=4, draws=50, tune=50)
    xr.testing.assert_equal(a.posterior, b.posterior)
    assert not np.allclose(a.posterior["alpha_free"], c.posterior["alpha_free"])


def test_a_second_model_of_one_configuration_reuses_the_built_graph(small_corpus,
                                                                     monkeypatch):
    import threading

    from lagnest.models import base

    seqs, _ = small_corpus
    base._built_models().clear()
    first = TransitionModel(seqs, "code", "code", pooling="dyad")
    fresh = _fit_quiet(first, seed=5, draws=30, tune=30)
    again = TransitionModel(seqs, "code", "code", pooling="dyad")
    assert again.build() is first.build()  # compiled functions travel with the graph
    xr.testing.assert_equal(fresh.posterior, _fit_quiet(again, seed=5, draws=30, tune=30).posterior)
    # data set on the shared graph by hand do not reach the next model of the corpus
    import pymc as pm

    graph = first.build()
    corpus = {k: np.array(graph[k].get_value()) for k in first.data.observed}
    pm.set_data({k: np.zeros_like(v) for k, v in corpus.items()}, model=graph)
    assert TransitionModel(seqs, "code", "code", pooling="dyad").build() is graph
    for name, values in corpus.items():
        np.testing.assert_array_equal(graph[name].get_value(), values)
    # another configuration, or a model without its corpus, builds its own
    assert TransitionModel(seqs, "code", "code", pooling="none").build() is not first.build()
    detached = type(first).from_design(first.config, first.fit_data())
    assert detached.build() is not first.build()
    # another thread builds its own (a fit with observed= swaps the graph's data)
    other = []
    worker = threading.Thread(
        target=lambda: other.append(TransitionModel(seqs, "code", "code",
                                                    pooling="dyad").build()))
    worker.start()
    worker.join()
    assert other[0] is not first.build()
    # a subclass with a graph of its own keeps the parent's model_name, hence its config
    # id: it must still get its own graph, not the parent's built one
    class Extended(TransitionModel):
        def build_model(self):
            model = super().build_model()
            with model:
                pm.Normal("extra", 0.0, 1.0)
            return model

    extended = Extended(seqs, "code", "code", pooling="dyad")
    assert extended.id == first.id
    assert extended.build() is not first.build()
    assert "extra" in extended.build().named_vars and "extra" not in first.build().named_vars
    assert Extended(seqs, "code", "code", pooling="dyad").build() is extended.build()
    # at most BUILT_MODELS_KEPT are kept, the least recently used dropped
    monkeypatch.setattr(base, "BUILT_MODELS_KEPT", 1)
    complete = TransitionModel(seqs, "code", "code", pooling="complete")
    complete.build()
    assert [key.endswith(complete.id) for key in base._built_models()] == [True]
    assert TransitionModel(seqs, "code", "code", pooling="dyad").build() is not first.build()


# ---------------------------------------------------------------- pooling, priors
def test_pooling_none_and_complete(small_corpus):
    seqs, _ = small_corpus
    none = _fit_quiet(TransitionModel(seqs, "code", "code", pooling="none"), draws=100, tune=100)
    assert none.levels == ("session",)
    assert none.transition_probs("session")["mean"].dims == ("session", "given", "target")
    with pytest.raises(ValueError, match="not defined with pooling='none'"):
        none.transition_probs("population")
    comp = _fit_quiet(TransitionModel(seqs, "code", "code", pooling="complete"), draws=100,
                      tune=100)
    p = comp.draws_of("transition_probs", "session")
    xr.testing.assert_allclose(p.isel(session=0, drop=True), p.isel(session=-1, drop=True))


def test_prior_predictive_shows_implied_transition_probabilities():
    seqs, _ = simulate_markov(3, n_dyads=3, sessions_per_dyad=2, segments=10,
                              diagonal_zero=True)
    model = TransitionModel(seqs, "code", "code", structural_zeros="diagonal")
    prior = model.prior_predictive(draws=400, seed=2)
    assert prior.group == "prior" and prior.diagnostics is None
    ds = prior.transition_probs()
    diag = np.eye(3, dtype=bool)
    assert np.all(ds["mean"].values[diag] == 0)
    # weakly informative: wide central intervals, centred near uniform over allowed cells
    off = ~diag
    assert np.all(ds["upper"].values[off] - ds["lower"].values[off] > 0.5)
    np.testing.assert_allclose(ds["mean"].values[off], 0.5, atol=0.06)
    assert "prior draws" in str(prior)


def test_counts_in_structural_zeros_raise(small_corpus):
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", structural_zeros=[("a", "a")])
    with pytest.raises(LagnestDataError, match="structural zeros"):
        model.build()


# ---------------------------------------------------------------- diagnostics machinery
def test_failed_diagnostics_warn_naming_parameters(small_corpus):
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="complete")
    with pytest.warns(ConvergenceWarning, match=r"bulk ESS < \d+: logit_typical\[") as rec:
        model.fit(draws=30, tune=30, chains=2, cores=1, seed=1,
                  thresholds={"ess_per_chain": 1000})
    assert rec[0].filename == __file__  # points at the user's line, not lagnest's


def test_quick_mode_caps_the_sampler_and_says_so(small_corpus, monkeypatch):
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="complete")
    monkeypatch.setenv(_fit.QUICK_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # none is issued in quick mode
        res = model.fit(draws=5000, tune=5000, chains=4, cores=1, seed=1,
                        thresholds={"ess_per_chain": 10**6})
    assert res.posterior.sizes["draw"] == _fit.QUICK_LIMITS["draws"]
    assert res.posterior.sizes["chain"] == _fit.QUICK_LIMITS["chains"]
    assert res.config["quick"] is True and not res.diagnostics.ok
    assert "QUICK MODE" in str(res)
    # its chains run in turn in the process unless cores is given
    asked = []
    original = _fit.sample
    monkeypatch.setattr(_fit, "sample", lambda m, **kw: asked.append(kw["cores"])
                        or original(m, **kw))
    model.fit(seed=1, warn=False)
    model.fit(seed=1, warn=False, cores=2)
    assert asked == [1, 2]
    monkeypatch.setenv(_fit.QUICK_ENV, "0")
    assert not _fit.quick_mode()


def test_diagnostics_on_a_synthetic_tree():
    rng = np.random.default_rng(0)
    post = xr.Dataset(
        {
            "good": (("chain", "draw"), rng.normal(size=(4, 500))),
            "stuck": (("chain", "draw", "k"), np.stack(
                [rng.normal(size=(4, 500)), rng.normal(size=(4, 500)) + np.arange(4)[:, None]],
                axis=-1)),
            "const": (("chain", "draw"), np.zeros((4, 500))),
        },
        coords={"k": ["x", "y"]},
    )
    energy = rng.normal(size=(4, 500)).cumsum(axis=1)  # random walk: low E-BFMI
    div = np.zeros((4, 500), dtype=bool)
    div[0, :3] = True
    stats = xr.Dataset({"energy": (("chain", "draw"), energy),
                        "diverging": (("chain", "draw"), div)})
    tree = xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})
    d = _fit.compute_diagnostics(tree)
    assert set(d.table.parameter) == {"good", "stuck[x]", "stuck[y]"}
    assert d.n_divergent == 3
    assert any("stuck[y]" in f and "R-hat" in f for f in d.failures)
    assert not any("good" in f for f in d.failures)
    assert any("E-BFMI" in f for f in d.failures)
    import arviz as az

    assert d.bfmi_min == pytest.approx(float(np.min(az.bfmi(tree)["energy"].values)), rel=1e-6)
    assert type(d).from_dict(json.loads(json.dumps(d.to_dict()))).to_dict() == d.to_dict()


def test_unknown_sampler_and_missing_package():
    with pytest.raises(ValueError, match="sampler must be one of"):
        _fit._check_sampler("stan")
    if "numpyro" not in _fit.available_samplers():
        with pytest.raises(ImportError, match="needs the package 'numpyro'"):
            _fit._check_sampler("numpyro")


@pytest.mark.slow
def test_nutpie_sampler_gets_target_accept_without_deprecated_arguments(small_corpus):
    """nutpie is passed its options the way PyMC 6 asks (``nuts={...}``): no FutureWarning."""
    pytest.importorskip("nutpie")
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="dyad")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = model.fit(draws=100, tune=100, chains=2, cores=1, seed=3, sampler="nutpie",
                        target_accept=0.95)
    assert res.config["sampler"]["sampler"] == "nutpie"
    assert res.config["sampler"]["target_accept"] == 0.95
    assert res.posterior.sizes["draw"] == 100 and res.posterior.sizes["chain"] == 2
    # nutpie tuned its step size to the target, not to its default of 0.8
    assert float(res.sampled["sample_stats"]["mean_tree_accept"].mean()) > 0.85


def test_sampler_options_reach_pymcs_nuts_and_are_recorded(small_corpus):
    """``sampler_options`` go to the NUTS step: a tree-depth cap is obeyed, a typo refused."""
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="dyad")
    capped = _fit_quiet(model, seed=3, draws=50, tune=50, chains=2, cores=1,
                        sampler_options={"max_treedepth": 2})
    free = _fit_quiet(model, seed=3, draws=50, tune=50, chains=2, cores=1)
    assert int(capped.sampled["sample_stats"]["tree_depth"].max()) <= 2
    assert int(free.sampled["sample_stats"]["tree_depth"].max()) > 2
    assert capped.config["sampler"]["options"] == {"max_treedepth": 2}
    assert free.config["sampler"]["options"] == {}
    # the acceptance target still reaches the step through the same ``nuts={...}``
    accept = float(free.sampled["sample_stats"]["acceptance_rate"].mean())
    assert accept > 0.85, accept
    with pytest.raises(ValueError, match=r"\['max_tree_depth'\] are not options"):
        model.fit(draws=10, tune=10, chains=1, sampler_options={"max_tree_depth": 2})
    with pytest.raises(ValueError, match="target_accept="):
        model.fit(draws=10, tune=10, chains=1, sampler_options={"target_accept": 0.9})
    # PyMC's initialisation sets the mass matrix itself: a scaling would contradict it
    with pytest.raises(ValueError, match=r"\['scaling'\] are not options"):
        model.fit(draws=10, tune=10, chains=1, sampler_options={"scaling": [1.0, 1.0]})
    # the options are saved with the result (JSON): a numpy scalar is refused up front
    with pytest.raises(ValueError, match="plain values"):
        model.fit(draws=10, tune=10, chains=1, sampler_options={"max_treedepth": np.int64(3)})


@pytest.mark.slow
def test_sampler_options_reach_nutpie(small_corpus):
    """nutpie gets its own options (its low-rank mass matrix) and refuses unknown ones."""
    pytest.importorskip("nutpie")
    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="dyad")
    res = _fit_quiet(model, seed=3, draws=50, tune=50, chains=2, cores=1, sampler="nutpie",
                     sampler_options={"adaptation": "low_rank"})
    assert res.config["sampler"]["options"] == {"adaptation": "low_rank"}
    # the low-rank adaptation reports the eigenvalues it keeps; the diagonal one does not
    assert "num_eigenvalues" in res.sampled["sample_stats"]
    with pytest.raises(AttributeError, match="no_such_option"):
        model.fit(draws=10, tune=10, chains=1, cores=1, sampler="nutpie",
                  sampler_options={"no_such_option": 1})


_SEED_SCRIPT = """
import warnings
warnings.simplefilter("ignore")
import numpy as np
import lagnest as ln
seqs = ln.Sequences.from_sequences(
    {"code": [list("abcabcaabbcc"), list("aabbccabcabc"), list("abacbcabacbc")]},
    dyads=["d1", "d1", "d2"])
res = ln.TransitionModel(seqs, "code", "code", pooling="dyad").fit(
    draws=50, tune=50, chains=2, cores=1, seed=11, warn=False)
print(repr(np.asarray(res.posterior["alpha_free"]).tobytes().hex()))
"""


@pytest.mark.slow
def test_same_seed_same_draws_across_processes(tmp_path):
    # STACK.md: with PyMC's numba backend, reproducibility across processes must be checked.
    # Measured here: two processes with a warm compile cache give bit-identical draws; the
    # very first run with a cold cache can differ in the last digits (~1e-8), which a long
    # chain can amplify. The first run below only warms the cache.
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTENSOR_FLAGS": f"compiledir={tmp_path / 'cache'}"}
    outputs = [
        subprocess.run([sys.executable, "-c", _SEED_SCRIPT], capture_output=True, text=True,
                       env=env, check=True, timeout=600).stdout.strip().splitlines()[-1]
        for _ in range(3)
    ]
    assert outputs[1] == outputs[2]


def test_fork_server_workers_start_with_pymc_imported():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tests._forkserver_probe import loaded

    _fit.preload_forkserver()
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        assert pool.submit(loaded, "pymc").result()
        assert pool.submit(loaded, "lagnest.models.likelihood").result()


def test_chains_recorded_through_the_shared_trace_template_equal_pymcs_own(small_corpus,
                                                                           monkeypatch):
    """The trace template compiles the recording function once; the draws are PyMC's own."""
    from lagnest.models import _fit

    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code", pooling="dyad")
    graph = model.build()
    shared = [_fit.sample(graph, draws=40, tune=30, chains=3, seed=8, cores=cores)[0]
              for cores in (1, 2)]
    assert _fit._trace_template(graph) is _fit._trace_template(graph)
    monkeypatch.setattr(_fit, "_trace_template", lambda model: None)  # PyMC's default trace
    own = _fit.sample(graph, draws=40, tune=30, chains=3, seed=8, cores=1)[0]
    for tree in shared:
        xr.testing.assert_equal(tree["posterior"].to_dataset(), own["posterior"].to_dataset())
    alpha = own["posterior"]["alpha_free"].values
    assert not np.allclose(alpha[0], alpha[1])  # each chain its own draws



def test_step_methods_of_a_frozen_model_are_chosen_once_and_draw_as_pymcs_own(small_corpus,
                                                                              monkeypatch):
    """The kept step-method choice gives PyMC's draws and is not recomputed on a refit."""
    import pymc as pm
    from pymc.model.core import FrozenModel
    from pymc.sampling import mcmc

    from lagnest.models import _fit

    seqs, _ = small_corpus
    graph = TransitionModel(seqs, "code", "code", pooling="dyad").build()
    assert isinstance(graph, FrozenModel)
    _fit._memoize_step_assignment()
    pymcs_own = _fit._PYMC_ASSIGN_STEP_METHODS
    calls = []
    monkeypatch.setattr(_fit, "_PYMC_ASSIGN_STEP_METHODS",
                        lambda *a, **k: calls.append(a[0]) or pymcs_own(*a, **k))
    monkeypatch.setattr(_fit, "_STEP_ASSIGNMENTS", type(_fit._STEP_ASSIGNMENTS)())
    kept = [_fit.sample(graph, draws=30, tune=30, chains=2, seed=5, cores=1)[0]
            for _ in range(2)]
    assert calls == [graph]  # chosen on the first fit only
    monkeypatch.setattr(mcmc, "assign_step_methods", pymcs_own)  # PyMC's, on every call
    own = _fit.sample(graph, draws=30, tune=30, chains=2, seed=5, cores=1)[0]
    for tree in kept:
        xr.testing.assert_equal(tree["posterior"].to_dataset(), own["posterior"].to_dataset())
    monkeypatch.undo()
    # an unfrozen model (its graph may still grow) is never kept
    _fit._memoize_step_assignment()
    calls.clear()
    monkeypatch.setattr(_fit, "_PYMC_ASSIGN_STEP_METHODS",
                        lambda *a, **k: calls.append(a[0]) or pymcs_own(*a, **k))
    with pm.Model() as plain:
        pm.Normal("x")
    for _ in range(2):
        provided, selected = mcmc.assign_step_methods(plain, None, methods=mcmc.STEP_METHODS)
        assert not provided and selected
    assert calls == [plain, plain]
