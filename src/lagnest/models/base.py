"""`BayesianModel`: the base class that owns fit, prior draws, diagnostics and save/load.

A model is a *specification*: its constructor stores and validates configuration only.
Data work (sufficient statistics) and the PyMC graph are built lazily by :meth:`build`,
from the subclass's :meth:`BayesianModel.build_model`. Every model fits through the one
path of :mod:`lagnest.models._fit` and returns a :class:`~lagnest.models.result.FitResult`.

How to add a model: subclass :class:`BayesianModel`, set ``model_name``,
``result_class``, ``default_priors`` and ``prior_kinds``; implement ``spec`` (the
constructor arguments, JSON-ready), ``coords``, ``build_model`` and ``fit_data``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import xarray as xr

from lagnest.models import _fit
from lagnest.models.priors import Prior, resolve_priors
from lagnest.models.result import FitResult, config_id

if TYPE_CHECKING:
    import pymc as pm

    from lagnest.sequences import Sequences

__all__ = ["BayesianModel"]


class BayesianModel(ABC):
    """Base of the lagnest PyMC models (specification; the backend is built lazily).

    Parameters
    ----------
    seqs : Sequences
        The data.
    priors : mapping, optional
        Overrides of :attr:`default_priors` (user > default), see
        :func:`lagnest.models.priors.resolve_priors`.
    """

    #: Name stored in fit metadata and used by :func:`lagnest.load`.
    model_name: ClassVar[str] = "BayesianModel"
    #: Result class returned by :meth:`fit`.
    result_class: ClassVar[type[FitResult]] = FitResult
    #: Default priors of the model.
    default_priors: ClassVar[Mapping[str, Prior]] = {}
    #: ``"scale"`` or ``"location"`` for each prior (which distributions it accepts).
    prior_kinds: ClassVar[Mapping[str, str]] = {}

    def __init__(self, seqs: Sequences, priors: Mapping[str, Any] | None = None) -> None:
        self._seqs = seqs
        self._priors = resolve_priors(self.default_priors, priors, self.prior_kinds)
        self._model: pm.Model | None = None

    # ------------------------------------------------------------------ subclass API
    @property
    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """Constructor arguments other than data and priors, JSON-ready."""

    @property
    @abstractmethod
    def coords(self) -> dict[str, list[Any]]:
        """Coordinates of the PyMC model (``given``, ``target``, ``dyad``, ...)."""

    @abstractmethod
    def build_model(self) -> pm.Model:
        """Build the PyMC model from the data (called once by :meth:`build`)."""

    @abstractmethod
    def fit_data(self) -> xr.Dataset:
        """The data the model is fitted to, stored in the result's ``fit_data`` group."""

    #: Default sampler settings of the model (overridden by :meth:`fit` arguments).
    default_sampler_config: ClassVar[Mapping[str, Any]] = {"target_accept": 0.9}
    #: Posterior variables checked by the diagnostics (None = all).
    diagnostic_vars: ClassVar[tuple[str, ...] | None] = None

    # ------------------------------------------------------------------ shared
    @property
    def seqs(self) -> Sequences:
        """The data."""
        return self._seqs

    @property
    def priors(self) -> dict[str, Prior]:
        """The priors in force (defaults merged with the user's)."""
        return dict(self._priors)

    @property
    def config(self) -> dict[str, Any]:
        """Model name, spec, priors and data fingerprint, JSON-ready, with its ``id``."""
        cfg: dict[str, Any] = {
            "model": self.model_name,
            "spec": self.spec,
            "priors": {k: v.to_dict() for k, v in sorted(self._priors.items())},
            "data_fingerprint": self._seqs.fingerprint,
        }
        cfg["id"] = config_id(cfg)
        return cfg

    @property
    def id(self) -> str:
        """Config hash: equal for the same spec, priors and data."""
        return self.config["id"]

    @property
    def built(self) -> bool:
        """Whether the PyMC model has been built."""
        return self._model is not None

    def build(self) -> pm.Model:
        """Build (once) and return the PyMC model."""
        if self._model is None:
            self._model = self.build_model()
        return self._model

    def _tree_with_data(self, tree: xr.DataTree) -> xr.DataTree:
        """Attach the ``fit_data`` group to a sampler tree."""
        out = tree.copy()
        out["fit_data"] = xr.DataTree(self.fit_data())
        return out

    def fit(
        self,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        seed: int | None = None,
        sampler: str = "pymc",
        target_accept: float | None = None,
        cores: int | None = None,
        progressbar: bool = False,
        thresholds: Mapping[str, float] | None = None,
        warn: bool = True,
    ) -> FitResult:
        """Sample the posterior with NUTS; return a :class:`FitResult`.

        Parameters
        ----------
        draws, tune : int
            Draws kept and tuning steps, per chain.
        chains : int, default 4
            Number of chains (4 or more for trustworthy R-hat).
        seed : int, optional
            Random seed; None draws one and records it in ``result.config["seed"]``.
            With ``sampler="pymc"`` the same seed gives the same draws.
        sampler : {"pymc", "nutpie", "numpyro"}
            NUTS implementation, always passed explicitly to PyMC (nutpie and numpyro
            only when installed).
        target_accept : float, optional
            Target acceptance rate; default the model's ``default_sampler_config``
            (0.95 for :class:`~lagnest.models.TransitionModel`). Raise it (0.99) if the fit
            reports divergences.
        cores : int, optional
            Chains run in parallel (default: as many as CPUs allow).
        progressbar : bool, default False
            Show the sampler's progress bar.
        thresholds : mapping, optional
            Overrides of :data:`lagnest.models._fit.DEFAULT_THRESHOLDS`.
        warn : bool, default True
            Issue a :class:`~lagnest.models._fit.ConvergenceWarning` naming the offending
            parameters when a diagnostic fails (the diagnostics are computed regardless).

        Returns
        -------
        FitResult
            With ``diagnostics`` (R-hat, bulk/tail ESS, divergences, tree depth, E-BFMI).
        """
        seed = _resolve_seed(seed)
        if target_accept is None:
            target_accept = float(self.default_sampler_config["target_accept"])
        model = self.build()
        tree, info = _fit.sample(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            sampler=sampler,
            target_accept=target_accept,
            cores=cores,
            progressbar=progressbar,
        )
        tree = self._tree_with_data(tree)
        diagnostics = _fit.compute_diagnostics(tree, self.diagnostic_vars, thresholds)
        if warn:
            _fit.warn_diagnostics(diagnostics, what=f"{self.model_name} fit")
        config = {
            **self.config,
            "seed": seed,
            "sampler": info.to_dict(),
            "versions": _fit.package_versions(),
        }
        return self.result_class(tree=tree, config=config, diagnostics=diagnostics)

    def prior_predictive(self, draws: int = 500, seed: int | None = None) -> FitResult:
        """Draw from the prior (and prior predictive); summarise like a posterior.

        Parameters
        ----------
        draws : int, default 500
            Number of prior draws.
        seed : int, optional
            Random seed (None draws one, recorded in ``config["seed"]``).

        Returns
        -------
        FitResult
            With ``group="prior"``: its answers (e.g. ``transition_probs()``) show what
            the priors imply before seeing data.
        """
        import pymc as pm

        seed = _resolve_seed(seed)
        model = self.build()
        tree = pm.sample_prior_predictive(draws=int(draws), model=model, random_seed=seed)
        tree = self._tree_with_data(tree)
        config = {**self.config, "seed": seed, "sampler": None, "versions": _fit.package_versions()}
        return self.result_class(tree=tree, config=config, diagnostics=None, group="prior")


def _resolve_seed(seed: int | None) -> int:
    """Return ``seed`` as int, or draw a fresh one from OS entropy."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return int(seed)
