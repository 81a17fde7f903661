"""Contract every BayesianModel subclass keeps (walks the model registry).

A new model registers itself by its ``model_name``; this test then fails until an example
construction is added to ``EXAMPLES`` and the model keeps the contract: its spec covers
every constructor argument, ``from_config`` rebuilds the same model, results save and load
as the right class, a result rebuilds its model without the corpus, the NumPy generative
hook returns arrays of the observed shapes, and a refit on simulated data reuses the graph.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import xarray as xr

import lagnest as ln
from lagnest.models import ConvergenceWarning
from lagnest.models.base import BayesianModel, constructor_arguments
from lagnest.models.registry import model_class, model_names

EXAMPLES = {
    "TransitionModel": {"given": "MIA4", "target": "rupture"},
    "LaggedRegression": {"target": "rupture", "predictors": ["MIA4", "MIA2:withdrawal"],
                         "session_covariates": ["tms_decentering"], "random_slopes": ["MIA4"],
                         "center": "dyad"},
    "SessionImpactModel": {"outcomes": ["seq_positivity", "seq_depth"],
                           "predictors": ["tms_curiosity", "session_number"]},
    "HiddenMarkovModel": {"emissions": ["rupture", "MIA4"], "n_states": 2,
                          "transition_predictors": ["MIA2"],
                          "session_covariates": ["tms_decentering"]},
}
FIT = {"draws": 20, "tune": 20, "chains": 2, "cores": 1, "seed": 3, "warn": False}


@pytest.fixture(scope="module")
def seqs():
    corpus = ln.datasets.load_example()
    return corpus.subset(dyads=corpus.dyad_labels[:4])


def test_every_registered_model_has_an_example():
    assert set(model_names()) <= set(EXAMPLES), (
        f"add an example construction for {sorted(set(model_names()) - set(EXAMPLES))}"
    )


@pytest.mark.parametrize("name", sorted(model_names()))
def test_fit_shows_the_options_of_bayesian_model_fit(name):
    """A model's ``fit`` spells out BayesianModel.fit's keywords (tab completion, help())."""
    cls = model_class(name)
    expected = inspect.signature(BayesianModel.fit).parameters
    shown = inspect.signature(cls.fit).parameters
    assert [(p.name, p.kind, p.default) for p in shown.values()] == [
        (p.name, p.kind, p.default) for p in expected.values()]
    assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in shown.values())
    assert cls.fit.__doc__ == BayesianModel.fit.__doc__


@pytest.fixture(scope="module", params=sorted(model_names()))
def fitted(request, seqs, tmp_path_factory):
    cls = model_class(request.param)
    model = cls(seqs, **EXAMPLES[request.param])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = model.fit(**FIT)
    path = result.save(tmp_path_factory.mktemp(request.param) / "fit.nc")
    return model, result, path


def test_spec_covers_every_constructor_argument(fitted):
    model, _, _ = fitted
    assert set(model.spec) == set(constructor_arguments(type(model)))


def test_from_config_rebuilds_the_same_model(fitted, seqs):
    model, result, _ = fitted
    again = BayesianModel.from_config(result.config, seqs)
    assert type(again) is type(model)
    assert again.id == model.id == result.id
    other = seqs.subset(dyads=seqs.dyad_labels[:3])
    with pytest.raises(ln.DifferentModelError, match="data differ"):
        BayesianModel.from_config(result.config, other)


def test_save_load_round_trip_keeps_class_config_and_draws(fitted):
    model, result, path = fitted
    back = ln.load(path, model=model)
    assert type(back) is type(result) is model.result_class
    assert back.id == result.id and back.structure == result.structure
    xr.testing.assert_identical(back.posterior, result.posterior)
    xr.testing.assert_identical(back.fit_data, result.fit_data)


def test_result_rebuilds_its_model_without_the_corpus_and_simulates(fitted):
    model, result, path = fitted
    detached = BayesianModel.from_result(ln.load(path))
    assert detached.seqs is None and detached.id == model.id
    draw = result.posterior.isel(chain=0, draw=-1)
    sim = detached.simulate(draw, np.random.default_rng(0))
    assert set(sim) == set(model.data.observed)
    for name, array in sim.items():
        ref = model.data.observed[name]
        assert array.shape == ref.shape and array.dtype.kind == ref.dtype.kind
    again = detached.simulate(draw, np.random.default_rng(0))
    for name in sim:  # same seed, same numbers
        np.testing.assert_array_equal(sim[name], again[name])


def test_refit_on_simulated_data_reuses_the_graph(fitted):
    model, result, _ = fitted
    graph = model.build()
    sim = model.simulate(result.posterior.isel(chain=1, draw=0), np.random.default_rng(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        refit = model.fit(observed=sim, **FIT)
    assert model.build() is graph
    assert refit.config["simulated"] and refit.config["data_fingerprint"] is None
    name = next(iter(sim))
    if name in refit.fit_data:
        np.testing.assert_array_equal(refit.fit_data[name].values, sim[name])
    # the model's own data are restored after the refit
    np.testing.assert_array_equal(graph[name].get_value(), model.data.observed[name])


def test_prior_predictive_runs(fitted):
    model, _, _ = fitted
    prior = model.prior_predictive(draws=20, seed=1)
    assert prior.group == "prior" and prior.diagnostics is None


def test_calibration_variables_are_free_or_derived_variables_of_the_posterior(fitted):
    """Every model can be calibrated (lagnest sbc accepts every registered model's spec)."""
    model, result, _ = fitted
    names = model.calibration_vars
    assert names and set(names) <= set(result.posterior.data_vars), names


def test_built_graph_is_frozen_with_every_variable(fitted):
    """The graph is frozen (compiled once, reused by refits) and keeps every variable."""
    from pymc.model.core import FrozenModel

    model, _, _ = fitted
    graph = model.build()
    assert isinstance(graph, FrozenModel)
    unfrozen = model.build_model()
    assert set(graph.named_vars) == set(unfrozen.named_vars)
    assert sorted(v.name for v in graph.deterministics) == sorted(
        v.name for v in unfrozen.deterministics)


def test_stream_slopes_freeze_with_their_population_copy(seqs):
    """``beta`` (shrunk stream slopes) and ``beta_typical`` both survive freezing."""
    from pymc.model.core import FrozenModel

    graph = ln.LaggedRegression(seqs, target="rupture", predictors=["mia"],
                                 shrinkage="common").build()
    assert isinstance(graph, FrozenModel)
    assert {"beta", "beta_typical"} <= {v.name for v in graph.deterministics}
