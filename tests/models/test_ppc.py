"""Predictive checks: calibrated on well-specified fits, sharp on misspecified ones."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import lagnest as ln
from lagnest import Sequences
from lagnest.checks.ppc import PredictiveCheck, check
from lagnest.models import ConvergenceWarning, LaggedRegression, TransitionModel

from .conftest import simulate_markov

matplotlib.use("Agg")
FIT = {"draws": 300, "tune": 300, "chains": 2, "cores": 1}


def _fit(model, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(seed=seed, warn=False, **FIT)


def _second_order(seed, n_dyads=4, sessions=3, segments=400):
    """x_t repeats x_{t-2} with probability 0.8: strongly second order, weak at lag 1."""
    rng = np.random.default_rng(seed)
    out, dyads = [], []
    for d in range(n_dyads):
        for _ in range(sessions):
            x = list(rng.integers(0, 3, 2))
            for _ in range(segments - 2):
                x.append(x[-2] if rng.random() < 0.8 else int(rng.integers(0, 3)))
            out.append(["abc"[i] for i in x])
            dyads.append(f"d{d}")
    return Sequences.from_sequences({"code": out}, dyads=dyads, codes={"code": list("abc")})


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_well_specified_fits_give_unremarkable_p_values(seed):
    seqs, _ = simulate_markov(seed, n_dyads=6, sessions_per_dyad=5, segments=40,
                              sigma_dyad=0.5, sigma_session=0.3)
    res = _fit(TransitionModel(seqs, "code", "code"), seed)
    ppc = res.ppc(n_draws=200, seed=seed)
    table = ppc.summary()
    scalar = table[table["element"] == ""]
    assert (scalar["ppp_two_sided"] > 0.01).all(), scalar
    assert table["flag"].mean() <= 0.05, table[table["flag"]]


@pytest.mark.slow
def test_complete_pooling_on_heterogeneous_dyads_flags_homogeneity():
    seqs, _ = simulate_markov(5, n_dyads=6, sessions_per_dyad=4, segments=60,
                              sigma_dyad=1.5, sigma_session=0.1)
    res = _fit(TransitionModel(seqs, "code", "code", pooling="complete"), 1)
    ppc = check(res, stats=["homogeneity_dyads", "G2"], n_draws=200, seed=2)
    assert float(ppc.two_sided()["homogeneity_dyads"]) < 0.01
    assert float(ppc.p_values["homogeneity_dyads"]) < 0.005  # observed above every replicate
    hierarchical = _fit(TransitionModel(seqs, "code", "code"), 1)
    ok = check(hierarchical, stats=["homogeneity_dyads"], n_draws=200, seed=2)
    assert float(ok.two_sided()["homogeneity_dyads"]) > 0.01


@pytest.mark.slow
def test_first_order_model_on_second_order_data_flags_the_lag2_table():
    seqs = _second_order(0)
    res = _fit(TransitionModel(seqs, "code", "code", pooling="dyad"), 1)
    ppc = res.ppc(stats=["second_order_G2", "run_mean"], n_draws=100, seed=3)
    assert float(ppc.two_sided()["second_order_G2"]) < 0.01
    assert "second_order_G2" in set(ppc.flagged()["statistic"])


@pytest.fixture(scope="module")
def example_fits():
    seqs = ln.datasets.load_example()
    seqs = seqs.subset(dyads=seqs.dyad_labels[:3])
    small = {"draws": 60, "tune": 60, "chains": 2, "cores": 1, "warn": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "markov": TransitionModel(seqs, "rupture", "rupture").fit(seed=1, **small),
            "given": TransitionModel(seqs, "MIA4", "rupture").fit(seed=1, **small),
            "regression": LaggedRegression(seqs, "rupture", ["MIA4"]).fit(seed=1, **small),
            "interaction": LaggedRegression(seqs, "rupture", ["MIA4:withdrawal"]).fit(
                seed=1, **small),
        }


@pytest.mark.parametrize(("name", "how"), [
    ("markov", "fully generative"), ("given", "one step ahead"),
    ("regression", "fully generative"), ("interaction", "one step ahead"),
])
def test_every_model_kind_replicates_and_seeds_reproduce(example_fits, name, how, tmp_path):
    res = example_fits[name]
    ppc = res.ppc(n_draws=20, seed=4)
    assert isinstance(ppc, PredictiveCheck) and ppc.replication.startswith(how)
    assert ppc.replicated.sizes["draw"] == 20
    again = res.ppc(n_draws=20, seed=4)
    for stat in ppc.statistics:
        np.testing.assert_array_equal(ppc.replicated[stat].values,
                                      again.replicated[stat].values)
    # a result loaded from disk checks the same
    loaded = ln.load(res.save(tmp_path / "fit.nc"))
    back = loaded.ppc(n_draws=20, seed=4)
    for stat in ppc.statistics:
        np.testing.assert_array_equal(ppc.replicated[stat].values, back.replicated[stat].values)
    p = ppc.p_values["G2"]
    assert 0 <= float(p) <= 1


def test_observed_statistics_equal_the_lag_table(example_fits):
    seqs = ln.datasets.load_example()
    seqs = seqs.subset(dyads=seqs.dyad_labels[:3])
    ppc = example_fits["markov"].ppc(n_draws=5, seed=0)
    tab = ln.lag_table(seqs, "rupture", "rupture", lag=1)
    assert float(ppc.observed["G2"]) == pytest.approx(tab.attrs["G2"])
    np.testing.assert_allclose(ppc.observed["adj_resid"].values, tab["adj_resid"].values)
    hom = ln.homogeneity_test(seqs, "rupture", "rupture", by="dyad")
    assert float(ppc.observed["homogeneity_dyads"]) == pytest.approx(hom.attrs["G2"])


def test_prior_predictive_check_and_plot(example_fits):
    seqs = ln.datasets.load_example()
    model = TransitionModel(seqs.subset(dyads=seqs.dyad_labels[:3]), "rupture", "rupture")
    prior = model.prior_predictive_check(stats=["G2", "run_mean"], n_draws=30, seed=1)
    assert prior.group == "prior" and prior.replicated.sizes["draw"] == 30
    drawn = prior.plot()
    assert len(drawn.titles) == 1 + 4  # G2 and the mean run of each of the 4 codes
    assert drawn.titles[0].startswith("G2")
    import matplotlib.pyplot as plt

    plt.close(drawn.figure)


def test_a_check_prints_readably_and_flagged_says_none(example_fits):
    ppc = example_fits["markov"].ppc(n_draws=20, seed=4)
    text = str(ppc)
    assert repr(ppc) == text and "Columns:" in text and "ppp_two_sided" in text
    assert all(len(line) <= 100 for line in text.splitlines()), text
    assert list(ppc.summary().columns) == [
        "statistic", "element", "observed", "replicated_mean", "replicated_lower",
        "replicated_upper", "ppp", "ppp_two_sided", "flag"]
    # nothing flagged: still a DataFrame for code, "none flagged" for a reader
    none = ppc.flagged(alpha=1e-9)
    assert isinstance(none, pd.DataFrame) and none.empty and len(none) == 0
    assert list(none.columns) == list(ppc.summary().columns)
    assert repr(none) == str(none) == ("none flagged at two-sided posterior predictive p "
                                       "(ppp) < 1e-09")
    assert "none flagged" in none._repr_html_()
    some = ppc.flagged(alpha=0.999)
    assert len(some) and repr(some).startswith(f"{len(some)} flagged at two-sided")
    assert all(len(line) <= 100 for line in repr(some).splitlines())
    assert set(some["statistic"]) <= set(ppc.statistics) and some["flag"].all()


def test_bad_arguments_fail_clearly(example_fits):
    res = example_fits["markov"]
    with pytest.raises(ln.LagnestDataError, match="unknown statistic"):
        res.ppc(stats=["nope"], n_draws=5)
    with pytest.raises(ValueError, match="n_draws must be a positive integer"):
        res.ppc(n_draws=0)


def test_session_model_checks_and_loo():
    from lagnest.checks.ppc import session_statistics
    from lagnest.models import SessionImpactModel

    seqs = ln.datasets.load_example()
    model = SessionImpactModel(seqs, ["seq_positivity", "seq_depth"], ["tms_curiosity"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = model.fit(draws=100, tune=100, chains=2, cores=1, seed=1, warn=False)
    ppc = res.ppc(n_draws=40, seed=1)
    assert ppc.replication.startswith("every session's outcomes")
    d = model.data
    # observed statistics against numpy directly
    np.testing.assert_allclose(ppc.observed["sd"].values, d.outcomes.std(axis=0, ddof=1))
    np.testing.assert_allclose(ppc.observed["correlation"].values,
                               np.corrcoef(d.outcomes.T), atol=1e-12)
    means = np.array([d.outcomes[d.session_dyad == g].mean(0)
                      for g in range(len(d.dyad_labels))])
    np.testing.assert_allclose(ppc.observed["dyad_sd"].values, means.std(0, ddof=1))
    with pytest.raises(ln.LagnestDataError, match="unknown statistic"):
        session_statistics(d.outcomes[None], d.session_dyad, 6, ["a", "b"], ["nope"])
    # the correlation's diagonal is 1 in every replicate: no panel; the off-diagonal is drawn
    fig = ppc.plot(stats=["correlation"])[0]
    titles = [a.get_title() for a in fig.axes if a.get_visible() and a.get_title()]
    assert len(titles) == 2 and all("seq_positivity" in t and "seq_depth" in t for t in titles)
    with warnings.catch_warnings():  # 200 draws: a session's Pareto k may pass 0.57
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
        elpd = res.loo()
    assert elpd.n_data_points == d.outcomes.shape[0]
    assert np.isfinite(elpd.pareto_k.values).all()


def test_summary_rows_are_the_values_at_each_element_whatever_the_order_of_dims():
    import xarray as xr

    rng = np.random.default_rng(5)
    coords = {"given": ["a", "b"], "target": ["x", "y", "z"]}
    observed = xr.Dataset({"n": (("given", "target"), rng.normal(size=(2, 3)))}, coords=coords)
    replicated = xr.Dataset({"n": (("target", "draw", "given"), rng.normal(size=(3, 40, 2)))},
                            coords=coords)
    ppp = xr.Dataset({"n": (("target", "given"), rng.uniform(size=(3, 2)))}, coords=coords)
    table = PredictiveCheck(observed, replicated, ppp, "posterior", "test", "M").summary(
        alpha=0.5, ci_prob=0.8)
    assert len(table) == 6
    for row in table.itertuples():
        at = dict(part.split("=") for part in row.element.split(", "))
        rep = replicated["n"].sel(at).values
        assert row.observed == observed["n"].sel(at).item()
        assert row.replicated_mean == pytest.approx(rep.mean())
        assert row.replicated_lower == pytest.approx(np.quantile(rep, 0.1))
        assert row.replicated_upper == pytest.approx(np.quantile(rep, 0.9))
        p = ppp["n"].sel(at).item()
        assert row.ppp == p and row.ppp_two_sided == pytest.approx(2 * min(p, 1 - p))
        assert row.flag == (2 * min(p, 1 - p) < 0.5)
    assert list(table.element[:2]) == ["given=a, target=x", "given=a, target=y"]


def test_per_draw_gives_each_draw_as_selection_by_position_would():
    import xarray as xr

    from lagnest.models.result import per_draw

    rng = np.random.default_rng(0)
    draws = xr.Dataset({
        "a": (("chain", "draw", "k"), rng.normal(size=(2, 3, 4))),
        "b": (("k2", "chain", "draw"), rng.normal(size=(5, 2, 3))),
        "c": (("chain", "draw"), rng.normal(size=(2, 3))),
    }).stack(sample=("chain", "draw"))
    out = per_draw(draws)
    assert len(out) == 6
    for s, params in enumerate(out):
        for name in ("a", "b", "c"):
            expected = draws[name].isel(sample=s).values
            np.testing.assert_array_equal(params[name], expected)
            assert params[name].shape == expected.shape
            assert params[name].flags.c_contiguous
