"""The three standard specs of models/ against the registered model classes.

SessionImpactModel comes from its own module; every spec must validate against its class.
"""

from __future__ import annotations

import inspect

import pytest

import lagnest as ln
from lagnest.models.base import constructor_arguments
from lagnest.models.registry import model_class
from lagnest.models.spec import standard_specs

EXPECTED = {
    "mia_to_rupture": ("LaggedRegression", {
        "target": "rupture", "predictors": ["mia"], "lags": [1], "history": True,
        "center": "dyad", "pooling": "dyad/session"}),
    "rupture_to_resolution": ("LaggedRegression", {
        "target": "resolution", "predictors": ["rupture", "mia", "MIA2:rupture", "MIA4:rupture"],
        "lags": [1], "history": True, "center": "dyad", "pooling": "dyad/session"}),
    "state_mindfulness_to_impact": ("SessionImpactModel", {
        "outcomes": ["seq_depth", "seq_smoothness", "seq_positivity", "seq_arousal"],
        "predictors": ["tms_curiosity", "tms_decentering", "session_number"],
        "groups": "dyad", "center": "dyad"}),
}


@pytest.fixture(scope="module")
def example():
    return ln.datasets.load_example()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_standard_spec_loads_against_registered_class(name):
    spec = ln.load_spec(name)
    model, arguments = EXPECTED[name]
    assert spec.path == standard_specs()[name]
    assert spec.model == model and spec.arguments == arguments
    assert len(spec.description) > 100
    cls = model_class(model)
    names = set(constructor_arguments(cls))
    assert set(spec.arguments) <= names
    params = inspect.signature(cls.__init__).parameters
    required = {n for n in names if params[n].default is inspect.Parameter.empty}
    assert required <= set(spec.arguments)
    assert set(spec.fit) <= set(inspect.signature(ln.BayesianModel.fit).parameters)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_standard_spec_builds_on_the_example_corpus(name, example):
    spec = ln.load_spec(name)
    model = ln.from_spec(name, example)
    assert type(model) is model_class(spec.model)
    for key, value in spec.arguments.items():
        stored = model.spec[key]
        assert (list(stored) if isinstance(stored, tuple) else stored) == value, key


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_standard_spec_data_settings_read_the_example_files(name, example):
    files = ln.datasets.example_files("thesis")
    seqs = ln.read_table(files["segments"], sessions=files["sessions"], dyads=files["dyads"],
                         **ln.load_spec(name).data)
    assert seqs.fingerprint == example.fingerprint
