"""ArviZ works on a fit: result.tree (result.to_arviz()) for loo, compare, summary, ppc plots."""

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
    table = azs.summary(tree, ci_prob=0.95)
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


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
@pytest.mark.parametrize("name", ["transition", "regression"])
def test_result_tree_is_what_arviz_needs(fits, name):
    """The issue's must-show, on result.tree itself: loo, compare, summary, ppc plots."""
    res = fits[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours, theirs = res.loo(), azs.loo(res.tree)
        table = azs.compare({k: v.tree for k, v in fits.items()})
    assert theirs.elpd == pytest.approx(ours.elpd, rel=1e-9)
    assert theirs.se == pytest.approx(ours.se, rel=1e-9)
    assert set(table.index) == {"transition", "regression"}
    names = set(azs.summary(res.tree).index.str.split("[").str[0])
    assert names and not any(n.startswith("z_") for n in names)
    assert any(n.startswith("z_") for n in res.sampled["posterior"].data_vars)
    assert "posterior_predictive" not in res.tree.children
    check = res.ppc(n_draws=20, seed=1)
    pp, obs = res.tree["posterior_predictive"], res.tree["observed_data"]
    assert set(check.statistics) <= set(pp.data_vars) & set(obs.data_vars)
    assert pp.to_dataset().sizes["draw"] == 20 and pp.to_dataset().sizes["chain"] == 1
    assert "y" in obs.data_vars  # the fitted arrays stay beside the statistics
    np.testing.assert_array_equal(obs["y"].values, res.sampled["observed_data"]["y"].values)
    stat = next(s for s in check.statistics if check.observed[s].ndim)  # one with elements
    np.testing.assert_array_equal(pp[stat].values[0], check.replicated[stat].values)
    from arviz_plots import plot_ppc_dist

    with warnings.catch_warnings():  # integer statistics look discrete to ArviZ
        warnings.filterwarnings("ignore", "Variables .* look discrete", UserWarning)
        plot_ppc_dist(res.tree, var_names=[stat], num_samples=20)


def test_prior_tree_and_prior_check_in_arviz_layout():
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2"])
    model = TransitionModel(seqs, "rupture", "rupture")
    prior = model.prior_predictive(draws=30, seed=1)
    assert "prior" in prior.tree.children and "posterior" not in prior.tree.children
    assert not any(v.startswith("z_") for v in prior.tree["prior"].data_vars)
    assert "log_likelihood" not in prior.tree.children
    check = model.prior_predictive_check(n_draws=30, seed=2)
    tree = check.to_arviz()
    assert set(tree.children) == {"prior_predictive", "observed_data"}
    assert set(tree["prior_predictive"].data_vars) == set(check.statistics)
    stat = next(s for s in check.statistics if check.observed[s].ndim)
    from arviz_plots import plot_ppc_dist

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Variables .* look discrete", UserWarning)
        plot_ppc_dist(tree, group="prior_predictive", var_names=[stat], num_samples=30)
    prior.ppc(n_draws=10, seed=3)
    assert "prior_predictive" in prior.tree.children
    with pytest.raises(ValueError, match="prior draws"):
        prior.to_arviz(predictive=True)


@pytest.mark.slow
def test_the_tree_follows_the_last_check_and_pickles_without_its_cache(fits):
    import pickle

    res = fits["transition"]
    first = res.ppc(n_draws=10, seed=1, stats=["counts"])
    assert set(res.tree["posterior_predictive"].data_vars) == {"counts"}
    res.ppc(n_draws=12, seed=2, stats=["run_mean"])
    pp = res.tree["posterior_predictive"]
    assert set(pp.data_vars) == {"run_mean"} and pp.to_dataset().sizes["draw"] == 12
    # the view built once holds no check: each check's groups go on a new tree
    assert "posterior_predictive" not in res.__dict__["_tree_cache"].children
    assert first.statistics == ["counts"]
    back = pickle.loads(pickle.dumps(res))
    assert "_tree_cache" not in back.__dict__
    assert set(back.tree["posterior_predictive"].data_vars) == {"run_mean"}


def test_tree_leaves_out_only_a_too_large_log_likelihood(fits, monkeypatch):
    from lagnest.models import arviz as arviz_module

    res = fits["transition"]

    def broken(*args, **kwargs):
        raise ValueError("a bug in the log-likelihood")

    monkeypatch.setattr(arviz_module, "_pointwise", broken)
    with pytest.raises(ValueError, match="a bug"):
        res.to_arviz(log_likelihood="auto")


def test_to_arviz_refuses_huge_pointwise_groups_and_the_tree_leaves_them_out(fits):
    with pytest.raises(ValueError, match="max_pointwise"):
        fits["transition"].to_arviz(max_pointwise=10)
    tree = fits["transition"].to_arviz(log_likelihood="auto", max_pointwise=10)
    assert "log_likelihood" not in tree.children
    assert "max_pointwise" in tree.attrs["lagnest_log_likelihood"]
