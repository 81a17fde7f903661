"""The three standard analyses fit the example corpus cleanly with their defaults (slow).

Issue 9: no divergences, R-hat <= 1.01, bulk and tail ESS >= 400 for ``mia_to_rupture``,
``rupture_to_resolution`` and ``state_mindfulness_to_impact`` with the spec's own fit
settings (4 chains x 1000 draws), and for the random-slope variant of (a).
"""

import warnings

import pytest

import lagnest as ln
from lagnest.models import ConvergenceWarning, LaggedRegression

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seqs():
    return ln.datasets.load_example()


def _fit_clean(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(seed=1, **kwargs)


@pytest.mark.parametrize("name", ["mia_to_rupture", "rupture_to_resolution",
                                  "state_mindfulness_to_impact"])
def test_standard_spec_fits_with_its_defaults(seqs, name):
    spec = ln.load_spec(name)
    res = _fit_clean(spec.build(seqs))
    d = res.diagnostics
    assert d.n_chains == spec.fit.get("chains", 4) == 4
    assert d.n_divergent == 0 and d.rhat_max <= 1.01
    assert d.ess_bulk_min >= 400 and d.ess_tail_min >= 400


def test_random_slope_variant_fits(seqs):
    model = LaggedRegression(seqs, target="rupture", predictors=["mia"], center="dyad",
                             random_slopes=["MIA4"])
    res = _fit_clean(model, draws=1000, tune=1000, chains=4)
    assert res.diagnostics.ok, str(res.diagnostics)
