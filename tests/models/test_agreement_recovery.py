"""Slow checks: aggregated = per-segment posterior, parameter recovery, example corpus."""

import warnings

import numpy as np
import pytest

from lagnest.models import ConvergenceWarning, TransitionModel

from .conftest import simulate_markov

pytestmark = pytest.mark.slow


def _mcse(draws):
    import arviz as az
    import xarray as xr

    ds = xr.Dataset({"x": draws})
    return az.mcse(ds)["x"]


@pytest.mark.filterwarnings("ignore::lagnest.models.ConvergenceWarning")
def test_aggregated_and_per_segment_posteriors_agree(small_corpus):
    seqs, _ = small_corpus
    settings = {"draws": 500, "tune": 400, "chains": 2, "cores": 1}
    agg = TransitionModel(seqs, "code", "code").fit(seed=1, **settings)
    seg = TransitionModel(seqs, "code", "code", per_segment=True).fit(seed=2, **settings)
    assert seg.spec["per_segment"] and not agg.spec["per_segment"]
    for level in ("typical", "session"):
        pa = agg.draws_of("transition_probs", level)
        pb = seg.draws_of("transition_probs", level)
        err = np.sqrt(_mcse(pa) ** 2 + _mcse(pb) ** 2)
        z = np.abs(pa.mean(("chain", "draw")) - pb.mean(("chain", "draw"))) / err
        assert float(z.max()) < 4.5, f"{level}: means differ by {float(z.max()):.1f} MCSE"
        ratio = pa.std(("chain", "draw")) / pb.std(("chain", "draw"))
        assert 0.75 < float(ratio.min()) and float(ratio.max()) < 1.33


def test_recovery_of_population_probabilities_small():
    """A handful of fits of data drawn from the prior: 90% intervals cover the truth.

    The full study (50 fits) is ``benchmarks/recovery.py``.
    """
    hits, total = 0, 0
    for seed in range(4):
        seqs, truth = simulate_markov(100 + seed, n_dyads=6, sessions_per_dyad=5, segments=30)
        model = TransitionModel(seqs, "code", "code")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = model.fit(draws=250, tune=250, chains=2, cores=1, seed=seed)
        ci = res.transition_probs("typical", ci_prob=0.9)
        inside = (ci["lower"].values <= truth.population) & (truth.population <= ci["upper"].values)
        hits += int(inside.sum())
        total += inside.size
    assert hits / total >= 0.7, f"coverage {hits}/{total}"


def test_example_corpus_default_fit_passes_diagnostics():
    from lagnest import datasets
    seqs = datasets.load_example()
    model = TransitionModel(seqs, "rupture", "rupture")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # forked chains warn that the process is multi-threaded (Python 3.12)
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        res = model.fit(seed=1)
    d = res.diagnostics
    assert d.n_chains == 4
    assert d.rhat_max <= 1.01
    assert d.ess_bulk_min >= 400
    assert d.n_divergent == 0
