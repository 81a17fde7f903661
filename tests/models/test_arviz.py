"""ArviZ works on a fit: result.to_arviz() for loo, compare, summary and predictive plots."""

import warnings

import arviz_stats as azs
import numpy as np
import pytest

import lagnest as ln
from lagnest.models import ConvergenceWarning, LaggedRegression, TransitionModel


@pytest.fixture(scope="module")
def fits():
    seqs = ln.datasets.load_example()
    seqs = seqs.subset(dyads=seqs.dyad_labels[:4])
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in (("transition", TransitionModel(seqs, "rupture", "rupture")),
                            ("regression", LaggedRegression(seqs, "rupture", ["MIA4"]))):
            out[name] = model.fit(draws=200, tune=200, chains=2, cores=1, seed=4)
    return out


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
@pytest.mark.parametrize("name", ["transition", "regression"])
def test_arviz_loo_on_the_tree_equals_result_loo(fits, name):
    res = fits[name]
    tree = res.to_arviz()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours, theirs = res.loo(), azs.loo(tree)
    assert theirs.elpd == pytest.approx(ours.elpd, rel=1e-9)
    assert theirs.se == pytest.approx(ours.se, rel=1e-9)
    assert theirs.n_data_points == ours.n_data_points


@pytest.mark.slow
def test_summary_shows_reported_quantities_without_offsets(fits):
    tree = fits["regression"].to_arviz()
    table = azs.summary(tree, ci_prob=0.9)
    names = set(table.index.str.split("[").str[0])
    assert not any(n.startswith("z_") for n in names)
    assert {"beta_typical", "odds_ratio", "sigma_dyad"} <= names
    full = fits["regression"].to_arviz(internals=True)
    assert "z_dyad" in full["posterior"].data_vars
    trans = fits["transition"].to_arviz(log_likelihood=False)
    assert "transition_probs" in trans["posterior"].data_vars
    np.testing.assert_allclose(trans["posterior"]["transition_probs"].sum("target"), 1.0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
def test_compare_and_predictive_groups(fits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = azs.compare({k: v.to_arviz() for k, v in fits.items()})
    assert set(table.index) == {"transition", "regression"}
    tree = fits["regression"].to_arviz(predictive=True, log_likelihood=False)
    pp, obs = tree["posterior_predictive"]["y"], tree["observed_data"]["y"]
    assert pp.shape[2:] == obs.shape
    # every simulated row keeps its number of segments
    np.testing.assert_array_equal(pp.sum(obs.dims[-1]).isel(chain=0, draw=0),
                                  obs.sum(obs.dims[-1]))
    from arviz_plots import plot_ppc_dist

    with warnings.catch_warnings():  # ArviZ suggests its discrete variants for counts
        warnings.filterwarnings("ignore", "Variables y in .* look discrete", UserWarning)
        plot_ppc_dist(tree)


def test_to_arviz_refuses_prior_draws_and_huge_pointwise_groups(fits):
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2"])
    prior = TransitionModel(seqs, "rupture", "rupture").prior_predictive(draws=5, seed=1)
    with pytest.raises(ValueError, match="prior draws"):
        prior.to_arviz()
    with pytest.raises(ValueError, match="max_pointwise"):
        fits["transition"].to_arviz(max_pointwise=10)
