import json

import pytest

from lagnest.errors import LagnestDataError
from lagnest.models.priors import Prior, resolve_priors

DEFAULTS = {"alpha": Prior("Normal", {"sigma": 1.5}), "s": Prior("HalfNormal", {"sigma": 0.5})}
KINDS = {"alpha": "location", "s": "scale"}


def test_prior_round_trip_and_json():
    p = Prior("HalfStudentT", {"nu": 3, "sigma": 0.5})
    assert Prior.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    assert str(p) == "HalfStudentT(nu=3, sigma=0.5)"
    assert hash(p) == hash(Prior("HalfStudentT", {"sigma": 0.5, "nu": 3.0}))


def test_user_overrides_default_keeping_distribution():
    out = resolve_priors(DEFAULTS, {"s": {"sigma": 1.0}}, KINDS)
    assert out["s"] == Prior("HalfNormal", {"sigma": 1.0})
    assert out["alpha"] == DEFAULTS["alpha"]
    out = resolve_priors(DEFAULTS, {"s": {"dist": "Exponential", "lam": 2}}, KINDS)
    assert out["s"] == Prior("Exponential", {"lam": 2.0})
    assert resolve_priors(DEFAULTS, None, KINDS) == DEFAULTS


def test_parameters_alone_keep_the_defaults_other_parameters():
    defaults = {"move": Prior("Normal", {"mu": -2.0, "sigma": 1.0}),
                "s": Prior("HalfStudentT", {"nu": 3.0, "sigma": 0.5})}
    kinds = {"move": "centred_location", "s": "scale"}
    out = resolve_priors(defaults, {"move": {"sigma": 2.0}, "s": {"sigma": 1.0}}, kinds)
    assert out["move"] == Prior("Normal", {"mu": -2.0, "sigma": 2.0})
    assert out["s"] == Prior("HalfStudentT", {"nu": 3.0, "sigma": 1.0})
    with pytest.raises(LagnestDataError, match="takes parameters"):
        resolve_priors(defaults, {"move": {"dist": "Normal", "sigma": 1.0}}, kinds)
    with pytest.raises(LagnestDataError, match="takes parameters"):  # zero-centred kind
        resolve_priors(DEFAULTS, {"alpha": {"mu": 1.0}}, KINDS)


@pytest.mark.parametrize(
    ("user", "match"),
    [
        ({"beta": {"sigma": 1}}, "unknown prior 'beta'"),
        ({"s": {"dist": "Normal", "sigma": 1}}, "not allowed"),
        ({"s": {"mu": 1}}, "takes parameters"),
        ({"s": {"sigma": -1}}, "positive"),
        ({"alpha": {"dist": "HalfNormal", "sigma": 1}}, "not allowed"),
        ({"s": 3}, "expected a Prior"),
        ({"s": {"sigma": "wide"}}, "prior 's': every parameter must be a number"),
    ],
)
def test_bad_priors_are_rejected(user, match):
    with pytest.raises(LagnestDataError, match=match):
        resolve_priors(DEFAULTS, user, KINDS)


def test_a_prior_refuses_a_parameter_that_is_not_a_number():
    with pytest.raises(LagnestDataError, match=r"every parameter must be a number.*'wide'"):
        Prior("Normal", {"sigma": "wide"})
    with pytest.raises(LagnestDataError, match=r"prior 's': every parameter must be a number"):
        resolve_priors(DEFAULTS, {"s": {"dist": "HalfNormal", "sigma": None}}, KINDS)


def test_create_variable_inside_model():
    import pymc as pm

    with pm.Model() as m:
        Prior("HalfNormal", {"sigma": 0.5}).create_variable("s")
    assert "s" in m.named_vars
