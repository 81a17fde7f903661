"""Declarative, serialisable priors for the lagnest models.

A prior is a plain frozen dataclass (:class:`Prior`: a distribution name and its
parameters) that the spec layer stores, hashes and writes to JSON; PyMC is imported only
when a backend turns it into a random variable with :meth:`Prior.create_variable`.

Precedence is *user > default*: :func:`resolve_priors` merges the user's priors over a
model's defaults, after checking every name and value, so a rejected call changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lagnest.errors import LagnestDataError

__all__ = ["SCALE_DISTRIBUTIONS", "Prior", "prior_scale", "resolve_priors"]

#: Distributions allowed for a scale (standard deviation) parameter, with their parameters.
SCALE_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "HalfNormal": ("sigma",),
    "HalfStudentT": ("nu", "sigma"),
    "HalfCauchy": ("beta",),
    "Exponential": ("lam",),
    "Gamma": ("alpha", "beta"),
    "LogNormal": ("mu", "sigma"),
}
#: Distributions allowed for a location parameter on the logit scale.
LOCATION_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {"Normal": ("sigma",)}
#: Distributions allowed for a location parameter whose prior has its own centre (e.g.
#: the log odds of leaving a hidden state, centred below 0: states persist).
CENTRED_LOCATION_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {"Normal": ("mu", "sigma")}
#: Distributions allowed for a correlation matrix (LKJ concentration ``eta``).
CORRELATION_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {"LKJCorr": ("eta",)}
#: Distributions allowed for a proportion (e.g. the R2 of the R2D2 prior).
PROPORTION_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {"Beta": ("alpha", "beta")}
_BY_KIND = {
    "scale": SCALE_DISTRIBUTIONS,
    "location": LOCATION_DISTRIBUTIONS,
    "centred_location": CENTRED_LOCATION_DISTRIBUTIONS,
    "correlation": CORRELATION_DISTRIBUTIONS,
    "proportion": PROPORTION_DISTRIBUTIONS,
}
_POSITIVE = {"sigma", "beta", "lam", "alpha", "nu", "eta"}


@dataclass(frozen=True)
class Prior:
    """A prior distribution: a PyMC distribution name and its parameters.

    Parameters
    ----------
    dist : str
        Name of a PyMC distribution, e.g. ``"HalfNormal"``.
    params : mapping of str to float
        Its parameters, e.g. ``{"sigma": 0.5}``.

    Examples
    --------
    >>> p = Prior("HalfNormal", {"sigma": 0.5})
    >>> p.to_dict()
    {'dist': 'HalfNormal', 'sigma': 0.5}
    >>> Prior.from_dict({"dist": "HalfNormal", "sigma": 0.5}) == p
    True
    """

    dist: str
    params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            params = {k: float(v) for k, v in dict(self.params).items()}
        except (TypeError, ValueError):
            raise LagnestDataError(
                f"every parameter must be a number, got {dict(self.params)!r} "
                f"({self.dist})") from None
        object.__setattr__(self, "params", params)

    def __hash__(self) -> int:
        return hash((self.dist, tuple(sorted(self.params.items()))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form ``{"dist": name, **params}``."""
        return {"dist": self.dist, **self.params}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prior:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        if "dist" not in data:
            raise LagnestDataError(f"a prior needs a 'dist' entry, got {data!r}")
        dist = data.pop("dist")
        return cls(str(dist), data)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.dist}({args})"

    def create_variable(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable ``name`` (inside a model context).

        Parameters
        ----------
        name : str
            Variable name.
        **kwargs
            Passed to the distribution (``dims``, ``shape``, ...).

        Returns
        -------
        pytensor.tensor.TensorVariable
        """
        import pymc as pm

        return getattr(pm, self.dist)(name, **self.params, **kwargs)


def _validate(name: str, prior: Prior, allowed: Mapping[str, tuple[str, ...]]) -> None:
    """Check a prior's distribution name and parameters; see :func:`resolve_priors`."""
    if prior.dist not in allowed:
        raise LagnestDataError(
            f"prior {name!r}: distribution {prior.dist!r} is not allowed here; expected one "
            f"of {sorted(allowed)}"
        )
    wanted = set(allowed[prior.dist])
    given = set(prior.params)
    if given != wanted:
        raise LagnestDataError(
            f"prior {name!r}: {prior.dist} takes parameters {sorted(wanted)}, got "
            f"{sorted(given)}"
        )
    for key, value in prior.params.items():
        if not math.isfinite(value) or (key in _POSITIVE and value <= 0):
            raise LagnestDataError(
                f"prior {name!r}: parameter {key}={value!r}; expected a finite"
                f"{' positive' if key in _POSITIVE else ''} number"
            )


def resolve_priors(
    defaults: Mapping[str, Prior],
    user: Mapping[str, Prior | Mapping[str, Any]] | None,
    kinds: Mapping[str, str],
) -> dict[str, Prior]:
    """Merge user priors over defaults (user > default), validating everything first.

    Parameters
    ----------
    defaults : mapping of str to Prior
        The model's default priors.
    user : mapping, optional
        Name to a :class:`Prior`, a dict ``{"dist": ..., **params}``, or a dict of
        parameters only (``{"sigma": 1.0}``), which keeps the default distribution and
        the default's other parameters.
    kinds : mapping of str to str
        Which distributions each name accepts: ``"scale"``, ``"location"`` (centred at
        0 by the model), ``"centred_location"`` (its own ``mu``), ``"correlation"`` or
        ``"proportion"``.

    Returns
    -------
    dict of str to Prior
    """
    out = dict(defaults)
    for name, value in (user or {}).items():
        if name not in defaults:
            raise LagnestDataError(
                f"unknown prior {name!r}; this model has priors {sorted(defaults)}"
            )
        if isinstance(value, Prior):
            prior = value
        elif isinstance(value, Mapping):
            # parameters alone keep the default distribution and its other parameters
            try:
                prior = (
                    Prior.from_dict(value)
                    if "dist" in value
                    else Prior(defaults[name].dist, {**defaults[name].params, **value})
                )
            except LagnestDataError as err:  # Prior's own check, named here
                raise LagnestDataError(f"prior {name!r}: {err}") from None
        else:
            raise LagnestDataError(
                f"prior {name!r}: expected a Prior or a dict like "
                f"{defaults[name].to_dict()!r}, got {value!r}"
            )
        _validate(name, prior, _BY_KIND[kinds[name]])
        out[name] = prior
    return out


def prior_scale(prior: Prior) -> float:
    """Typical size of a scale parameter under ``prior`` (its scale parameter or mean).

    Parameters
    ----------
    prior : Prior
        A prior of kind ``"scale"`` (see :data:`SCALE_DISTRIBUTIONS`).

    Returns
    -------
    float
        ``sigma`` (HalfNormal, HalfStudentT, LogNormal: ``exp(mu)``), ``beta``
        (HalfCauchy), ``1 / lam`` (Exponential), ``alpha / beta`` (Gamma).
    """
    p = prior.params
    if prior.dist in ("HalfNormal", "HalfStudentT"):
        return p["sigma"]
    if prior.dist == "HalfCauchy":
        return p["beta"]
    if prior.dist == "Exponential":
        return 1.0 / p["lam"]
    if prior.dist == "Gamma":
        return p["alpha"] / p["beta"]
    if prior.dist == "LogNormal":
        return math.exp(p["mu"])
    raise ValueError(f"{prior.dist} is not a scale prior")
