"""`BayesianModel`: the base class that owns fit, prior draws, diagnostics and save/load.

A model is a *specification*: its constructor validates and stores configuration only
(``spec``, JSON-ready, and the priors). The sufficient statistics (:class:`ModelData`)
and the PyMC graph are built lazily. The graph reads every observed array through
fixed-shape ``pm.Data``, and the built model is frozen (PyMC's ``freeze_model``: design
data become constants, compiled functions are cached on the model), so refitting the same
design on new data (calibration, design analysis) swaps the observed arrays and reuses the
compiled log-density, gradient, initial-point and trace functions. Every model fits through
the one path of :mod:`lagnest.models._fit` and returns a
:class:`~lagnest.models.result.FitResult`.

Every model also has a NumPy generative hook, :meth:`BayesianModel.simulate`, which draws
new observed arrays from given parameter values over the model's own design; predictive
checks and calibration are written once on top of it.

How to add a model: see ``ARCHITECTURE.md``.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import warnings
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

import numpy as np
import xarray as xr

from lagnest import _hooks
from lagnest.models import _fit
from lagnest.models.priors import Prior, resolve_priors
from lagnest.models.registry import model_class, register_model
from lagnest.models.result import DifferentModelError, FitResult, config_id
from lagnest.models.structure import GroupStructure

if TYPE_CHECKING:
    import pymc as pm

    from lagnest.data.sequences import Sequences

__all__ = ["BayesianModel", "ModelData", "resolve_seed"]

#: Built PyMC models of this thread, by class and config id (model, spec, priors, corpus
#: fingerprint): a second model object of the same class and configuration on the same
#: corpus reuses the graph and every function PyMC compiled on it (the log-density and its
#: gradient, the initial point, the trace), instead of compiling them again. Per thread,
#: because a fit with ``observed=`` swaps the graph's data for its duration. At most
#: :data:`BUILT_MODELS_KEPT` are kept (least recently used dropped).
_BUILT = threading.local()
BUILT_MODELS_KEPT = 8


def _built_models() -> OrderedDict[str, pm.Model]:
    """Built models of the calling thread, by config id."""
    cache = getattr(_BUILT, "models", None)
    if cache is None:
        cache = _BUILT.models = OrderedDict()
    return cache


class ModelData(Protocol):
    """What a model's sufficient statistics offer the base class.

    ``observed`` holds the arrays a dataset may replace (same shapes for every dataset
    of the design: the ``pm.Data`` of the graph); everything else is the design.
    """

    @property
    def observed(self) -> dict[str, np.ndarray]:
        """Arrays replaced by a new dataset of the same design."""
        ...

    def with_observed(self, arrays: Mapping[str, np.ndarray]) -> ModelData:
        """A copy with other observed arrays (shapes and dtypes checked)."""
        ...

    def to_dataset(self) -> xr.Dataset:
        """The design and data as a Dataset (the result's ``fit_data`` group)."""
        ...


#: Posterior draws per chain of a fit, unless the model's ``default_sampler_config`` says
#: otherwise.
DEFAULT_DRAWS = 1000

#: The result class a model's :meth:`BayesianModel.fit` returns. A module-level TypeVar
#: rather than PEP 695's ``class BayesianModel[ResultT: ...]``: with postponed annotations
#: ``typing.get_type_hints(LaggedRegression.fit)`` resolves it only from the module.
ResultT = TypeVar("ResultT", bound=FitResult)


class BayesianModel(ABC, Generic[ResultT]):  # noqa: UP046 (see ResultT)
    """Base of the lagnest PyMC models (specification; the backend is built lazily).

    A model names the result class its :meth:`fit` returns as the type parameter
    (``class TransitionModel(BayesianModel["TransitionResult"])``) and in
    :attr:`result_class`, so ``fit`` keeps one signature and one docstring for every model.

    Parameters
    ----------
    seqs : Sequences or None
        The data (None only for a model rebuilt from a saved result's ``fit_data``, see
        :meth:`from_result`).
    spec : mapping
        The validated constructor arguments, JSON-ready (subclasses build it).
    priors : mapping, optional
        Overrides of :attr:`default_priors` (user > default), see
        :func:`lagnest.models.priors.resolve_priors`.
    """

    #: Name stored in fit metadata and used by :func:`lagnest.load` (the registry key).
    model_name: ClassVar[str] = "BayesianModel"
    #: Result class returned by :meth:`fit`.
    result_class: ClassVar[type[FitResult]] = FitResult
    #: Class of the sufficient statistics, with ``from_dataset`` (rebuild from fit_data).
    data_class: ClassVar[Any] = None
    #: Default priors of the model.
    default_priors: ClassVar[Mapping[str, Prior]] = {}
    #: ``"scale"`` or ``"location"`` for each prior (which distributions it accepts).
    prior_kinds: ClassVar[Mapping[str, str]] = {}
    #: Default sampler settings of the model (overridden by :meth:`fit` arguments):
    #: ``target_accept`` and, where a model needs other than :data:`DEFAULT_DRAWS`, ``draws``.
    default_sampler_config: ClassVar[Mapping[str, Any]] = {"target_accept": 0.9}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "model_name" in cls.__dict__:
            register_model(cls)

    def __init__(
        self,
        seqs: Sequences | None,
        spec: Mapping[str, Any],
        priors: Mapping[str, Any] | None = None,
    ) -> None:
        self._seqs = seqs
        self._spec = dict(spec)
        self._priors = resolve_priors(self.default_priors, priors, self.prior_kinds)
        self._fingerprint = seqs.fingerprint if seqs is not None else None
        self._data: Any = None
        self._model: pm.Model | None = None

    # ------------------------------------------------------------------ subclass API
    @abstractmethod
    def _make_data(self, seqs: Sequences) -> Any:
        """Compute the sufficient statistics (a :class:`ModelData`) from the corpus."""

    @property
    @abstractmethod
    def coords(self) -> dict[str, list[Any]]:
        """Coordinates of the PyMC model (``given``, ``target``, ``dyad``, ...)."""

    @abstractmethod
    def build_model(self) -> pm.Model:
        """Build the PyMC model on ``pm.Data`` of :attr:`ModelData.observed`."""

    @abstractmethod
    def simulate(self, params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """Draw new observed arrays from parameter values over this model's design.

        Parameters
        ----------
        params : mapping of str to array
            One draw of the model's variables (as in one ``(chain, draw)`` of the
            posterior or prior group, e.g. ``result.draws.isel(chain=0, draw=0)``).
        rng : numpy.random.Generator
            Source of randomness.

        Returns
        -------
        dict of str to ndarray
            Arrays with the names, shapes and dtypes of ``model.data.observed``.
        """

    @property
    @abstractmethod
    def structure(self) -> GroupStructure:
        """Grouping levels used (after :func:`~lagnest.models.structure.check_grouping`)."""

    @property
    def diagnostic_vars(self) -> tuple[str, ...] | None:
        """Posterior variables checked by the diagnostics (None = all)."""
        return None

    # ------------------------------------------------------------------ shared
    @property
    def seqs(self) -> Sequences | None:
        """The data (None for a model rebuilt from a result without its corpus)."""
        return self._seqs

    @property
    def spec(self) -> dict[str, Any]:
        """Constructor arguments other than data and priors, JSON-ready."""
        return dict(self._spec)

    @property
    def priors(self) -> dict[str, Prior]:
        """The priors in force (defaults merged with the user's)."""
        return dict(self._priors)

    @property
    def data(self) -> Any:
        """The sufficient statistics and design (computed once, on first use)."""
        if self._data is None:
            if self._seqs is None:  # pragma: no cover - detached models always carry data
                raise RuntimeError("a model without a corpus needs its data from a result")
            self._data = self._make_data(self._seqs)
        return self._data

    def fit_data(self) -> xr.Dataset:
        """The data the model is fitted to, stored in the result's ``fit_data`` group."""
        return self.data.to_dataset()

    @property
    def config(self) -> dict[str, Any]:
        """Model name, spec, priors and data fingerprint, JSON-ready, with its ``id``."""
        cfg: dict[str, Any] = {
            "model": self.model_name,
            "spec": self.spec,
            "priors": {k: v.to_dict() for k, v in sorted(self._priors.items())},
            "data_fingerprint": self._fingerprint,
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
        """Build (once) and return the PyMC model, frozen.

        The model is frozen (:func:`pymc.model.transform.optimization.freeze_model`):
        its compiled log-density, gradient, initial-point and trace functions are
        compiled on the first ``pm.sample`` and reused by every later fit of the same
        design (``fit(observed=...)`` replaces the observed data only), and the design
        data are constants of the graph. Another model object of the same configuration
        on the same corpus, in the same thread, gets the same built model (see
        :data:`BUILT_MODELS_KEPT`).
        """
        if self._model is None:
            # only a model on a corpus: its fingerprint is computed from the data itself;
            # keyed by class too, since a subclass that builds another graph (a prior of
            # its own) keeps its parent's ``model_name``, hence the same config id
            cls = type(self)
            key = (f"{cls.__module__}.{cls.__qualname__}:{self.id}"
                   if self._seqs is not None else None)
            built = _built_models()
            if key is not None and key in built:
                import pymc as pm

                built.move_to_end(key)
                self._model = built[key]
                # its data as this corpus has them, whatever was set on the shared graph
                pm.set_data(self.data.observed, model=self._model)
                return self._model
            from pymc.model.transform.optimization import freeze_model

            model = self.build_model()
            frozen = freeze_model(model)
            # PyMC 6.4's freeze_model merges two Deterministics of one expression (the
            # second name is lost): keep the unfrozen model rather than lose a variable
            # (every registered model is checked to freeze whole in the contract test).
            self._model = frozen if _same_names(model, frozen) else model
            if key is not None:
                built[key] = self._model
                while len(built) > BUILT_MODELS_KEPT:
                    built.popitem(last=False)
        return self._model

    # ------------------------------------------------------------------ rebuilding
    @staticmethod
    def from_config(config: Mapping[str, Any], seqs: Sequences) -> BayesianModel:
        """Rebuild the model a configuration describes, on ``seqs``.

        Parameters
        ----------
        config : mapping
            ``result.config`` (or a model's ``config``).
        seqs : Sequences
            The corpus; it must be the one fitted (same fingerprint).

        Returns
        -------
        BayesianModel
            Of the class registered under ``config["model"]``, with the same config id.

        Raises
        ------
        DifferentModelError
            When the rebuilt model's id differs (other data, or an edited config).
        """
        cls = model_class(str(config["model"]))
        model = cls(seqs, **dict(config["spec"]), priors=dict(config.get("priors") or {}))
        if "id" in config and model.id != config["id"]:
            raise DifferentModelError(
                f"the configuration (id {config['id']!r}) does not rebuild on this corpus "
                f"(id {model.id!r}): the data differ from the data fitted"
            )
        return model

    @staticmethod
    def from_result(result: FitResult, seqs: Sequences | None = None) -> BayesianModel:
        """The model a result came from: on ``seqs``, or on the result's own ``fit_data``.

        Without ``seqs`` the model carries the design and data stored in the result, which
        is all :meth:`simulate`, :meth:`fit` (``observed=``) and predictive checks need.
        """
        if seqs is not None:
            return BayesianModel.from_config(result.config, seqs)
        return BayesianModel.from_design(result.config, result.fit_data)

    @staticmethod
    def from_design(config: Mapping[str, Any], fit_data: xr.Dataset) -> BayesianModel:
        """A model without its corpus, on a stored design (``result.fit_data``).

        Parameters
        ----------
        config : mapping
            A model's or a result's ``config``.
        fit_data : xarray.Dataset
            The design and data (``model.fit_data()`` or ``result.fit_data``).

        Returns
        -------
        BayesianModel
            ``seqs`` is None; everything else (data, graph, fit, simulate) works. This is
            how calibration workers rebuild a model from picklable pieces.
        """
        cls = model_class(str(config["model"]))
        model = cls.__new__(cls)
        BayesianModel.__init__(model, None, config["spec"], config.get("priors"))
        model._fingerprint = config.get("data_fingerprint")
        model._data = cls.data_class.from_dataset(fit_data)
        return model

    # ------------------------------------------------------------------ fitting
    def _tree_with_data(self, tree: xr.DataTree, data: Any) -> xr.DataTree:
        """Attach the ``fit_data`` group to a sampler tree."""
        out = tree.copy()
        out["fit_data"] = xr.DataTree(data.to_dataset())
        return out

    @contextlib.contextmanager
    def _observed(self, arrays: Mapping[str, np.ndarray] | None) -> Iterator[Any]:
        """Swap the graph's ``pm.Data`` to ``arrays`` for the duration of a fit."""
        import pymc as pm

        model = self.build()
        if arrays is None:  # the corpus's own data, whatever was set on the graph before
            pm.set_data(self.data.observed, model=model)
            yield self.data
            return
        data = self.data.with_observed(arrays)
        pm.set_data(data.observed, model=model)
        try:
            yield data
        finally:
            pm.set_data(self.data.observed, model=model)

    def _result_config(self, seed: int, sampler: Any, data: Any) -> dict[str, Any]:
        """Config stored with a result (observed data other than the corpus are marked)."""
        reported = self.diagnostic_vars
        config = {**self.config, "seed": seed, "sampler": sampler,
                  "versions": _fit.package_versions(), "structure": self.structure.to_dict(),
                  "reported_vars": list(reported) if reported is not None else None}
        if data is not self.data:
            config["data_fingerprint"] = None
            config["simulated"] = True
            config["id"] = config_id(config)
        return config

    def check_sampler(self, sampler: str) -> None:
        """Raise ``ValueError`` if this model cannot be sampled with ``sampler``.

        Every model can be sampled with every sampler of :data:`lagnest.models._fit.SAMPLERS`
        unless it overrides this (a likelihood written as a numba kernel has no JAX form).
        """
        return None

    def fit(
        self,
        draws: int | None = None,
        tune: int = 1000,
        chains: int = 4,
        seed: int | None = None,
        sampler: str = "pymc",
        target_accept: float | None = None,
        cores: int | None = None,
        progressbar: bool = False,
        thresholds: Mapping[str, float] | None = None,
        warn: bool = True,
        observed: Mapping[str, np.ndarray] | None = None,
        sampler_options: Mapping[str, Any] | None = None,
    ) -> ResultT:
        """Sample the posterior with NUTS; return a :class:`FitResult`.

        Parameters
        ----------
        draws : int, optional
            Draws kept per chain; default the model's ``default_sampler_config``
            (1000; the hidden Markov model's 2000).
        tune : int, default 1000
            Tuning steps per chain.
        chains : int, default 4
            Number of chains (4 or more for trustworthy R-hat).
        seed : int, optional
            Random seed; None draws one and records it in ``result.config["seed"]``.
            With ``sampler="pymc"`` the same seed gives the same draws.
        sampler : {"pymc", "nutpie", "numpyro"}
            NUTS implementation, always passed explicitly to PyMC (nutpie and numpyro
            only when installed). A model may refuse one (:meth:`check_sampler`):
            ``LaggedRegression``'s numba likelihood has no JAX form for numpyro.
        target_accept : float, optional
            Target acceptance rate; default the model's ``default_sampler_config``.
            Raise it (0.99) if the fit reports divergences.
        cores : int, optional
            Chains run in parallel (default: as many as CPUs allow).
        progressbar : bool, default False
            Show the sampler's progress bar.
        thresholds : mapping, optional
            Overrides of :data:`lagnest.models._fit.DEFAULT_THRESHOLDS`.
        warn : bool, default True
            Issue a :class:`~lagnest.models._fit.ConvergenceWarning` naming the offending
            parameters when a diagnostic fails (the diagnostics are computed regardless).
        observed : mapping of str to ndarray, optional
            Fit these observed arrays (e.g. from :meth:`simulate`) instead of the
            corpus's, on the same design and the same compiled graph.
        sampler_options : mapping, optional
            Further options of the NUTS implementation (``pm.sample(nuts={...})``),
            recorded in ``result.config["sampler"]["options"]``: e.g.
            ``{"max_treedepth": 12}`` with PyMC's sampler, or nutpie's low-rank mass
            matrix, ``{"adaptation": "low_rank"}`` with ``sampler="nutpie"`` (on the
            three-state nonverbal HMM at 4 x 1000 draws: 270 s against PyMC's 735 s, bulk
            ESS per second 0.55 against 0.38, neither run passing its diagnostics; see
            ``docs/hidden_markov_model.md``).

        Returns
        -------
        FitResult
            With ``diagnostics`` (R-hat, bulk/tail ESS, divergences, tree depth, E-BFMI).
        """
        seed = resolve_seed(seed)
        self.check_sampler(sampler)
        if target_accept is None:
            target_accept = float(self.default_sampler_config["target_accept"])
        if draws is None:
            draws = int(self.default_sampler_config.get("draws", DEFAULT_DRAWS))
        quick = _fit.quick_mode()
        if quick:  # a smoke run of the code (LAGNEST_QUICK): small chains, no warning
            draws, tune, chains = _fit.quick_settings(draws, tune, chains)
            warn = False
            if cores is None:  # chains this short cost less in turn than in new processes
                cores = 1
        model = self.build()
        with self._observed(observed) as data:
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
                initvals=self.start_values(data),
                sampler_options=sampler_options,
            )
        tree = self._tree_with_data(tree, data)
        diagnostics = _fit.compute_diagnostics(tree, self.diagnostic_vars, thresholds)
        config = self._result_config(seed, info.to_dict(), data)
        if quick:
            config["quick"] = True
        result = cast("ResultT", self.result_class(sampled=tree, config=config,
                                                   diagnostics=diagnostics))
        if warn:
            _fit.warn_diagnostics(diagnostics, what=f"{self.model_name} fit",
                                  advice=self.fit_advice(diagnostics))
        return result

    #: Name and version of the method of :meth:`start_values` (None: PyMC's own initial
    #: points). Part of a calibration run's id, so that a run resumed after the method
    #: changed does not mix fits from two starts.
    start_method: ClassVar[str | None] = None

    def start_values(self, data: Any) -> dict[str, np.ndarray]:
        """Starting values of the chains for ``data`` (before PyMC's jitter), by variable.

        Default: none (PyMC's own initial points). A model whose posterior has several
        modes a chain may start in (the hidden Markov model) overrides it, and names its
        method in :attr:`start_method`.
        """
        return {}

    def fit_advice(self, diagnostics: _fit.Diagnostics) -> str:
        """What to try when a fit fails its diagnostics (the model's own remedies).

        Divergences of a model with group levels: the other parameterisation of the levels
        sampled one way (``parameterization="auto"`` decides per level from the data and
        can be wrong near its threshold), then a higher ``target_accept``. Otherwise ""
        (the generic remedies).
        """
        if diagnostics.n_divergent == 0 or "parameterization" not in self._spec:
            return ""
        forms = getattr(self.structure, "parameterization", {})
        centred = [level for level, form in forms.items() if form == "centered"]
        if centred:
            other = "noncentered"
            which = ", ".join(centred)
        else:
            other, which = "centered", ", ".join(forms)
        if not which:
            return "raise target_accept (e.g. 0.99)"
        chosen = ("chosen by parameterization='auto'"
                  if self._spec["parameterization"] == "auto" else "as asked")
        return (f"the {which} level(s) were sampled {'centred' if centred else 'non-centred'} "
                f"({chosen}): refit with parameterization={other!r}, then raise "
                "target_accept (e.g. 0.99) if divergences remain")

    def prior_predictive(self, draws: int = 500, seed: int | None = None) -> ResultT:
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

        seed = resolve_seed(seed)
        model = self.build()
        with _quiet("pymc"), warnings.catch_warnings():  # PyMC logs at INFO level
            # a likelihood written as a Potential (HiddenMarkovModel) adds nothing to the
            # prior draws of the parameters, which is what PyMC's warning is about
            warnings.filterwarnings("ignore", "The effect of Potentials on other parameters",
                                    UserWarning)
            # a distribution with its own forward draws (HiddenMarkovModel's ordered
            # emission logits) runs them in Python, which is all the warning says
            warnings.filterwarnings("ignore", "Numba will use object mode", UserWarning)
            tree = pm.sample_prior_predictive(draws=int(draws), model=model, random_seed=seed)
        tree = self._tree_with_data(tree, self.data)
        config = self._result_config(seed, None, self.data)
        return cast("ResultT", self.result_class(sampled=tree, config=config, diagnostics=None,
                                                 group="prior"))

    def prior_predictive_check(self, stats: Any = None, n_draws: int = 200,
                               seed: int = 0) -> Any:
        """What the priors imply for the checked statistics: see :mod:`lagnest.checks.ppc`.

        Parameters
        ----------
        stats : sequence of str, optional
            Statistics (default all).
        n_draws : int, default 200
            Prior draws (one replicate each).
        seed : int, default 0
            Seed of the prior draws and the replication.

        Returns
        -------
        lagnest.checks.ppc.PredictiveCheck
        """
        # the checks sit above the models and fill this slot (lagnest._hooks)
        return _hooks.PRIOR_PREDICTIVE_CHECK(self, stats=stats, n_draws=n_draws, seed=seed)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._spec.items())
        return f"{type(self).__name__}({args})"


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Silence a library logger below WARNING for the duration of a call."""
    import logging

    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def constructor_arguments(cls: type[BayesianModel]) -> tuple[str, ...]:
    """Names of a model's constructor arguments other than ``seqs`` and ``priors``."""
    params = inspect.signature(cls.__init__).parameters
    return tuple(n for n in params if n not in ("self", "seqs", "priors"))


def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` as int, or draw a fresh one from OS entropy."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return int(seed)


def _same_names(model: Any, frozen: Any) -> bool:
    """Whether a frozen model keeps every named variable and Deterministic of ``model``."""
    def names(m: Any) -> tuple[set[str], list[str]]:
        return set(m.named_vars), sorted(v.name for v in m.deterministics)

    return names(model) == names(frozen)
