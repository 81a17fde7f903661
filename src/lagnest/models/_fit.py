"""The one fit path of every lagnest model: sampling, timing and diagnostics.

:func:`sample` runs NUTS with an explicitly named sampler (PyMC silently switches to
nutpie when it is installed, so the sampler is always passed), times compilation and
sampling separately, and :func:`compute_diagnostics` checks R-hat, bulk and tail ESS,
divergences, tree depth and E-BFMI on every fit. :func:`warn_diagnostics` names the
offending parameters in one :class:`ConvergenceWarning`.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import multiprocessing
import os
import re
import sys
import textwrap
import time
import warnings
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._lang import failure_text, translate
from lagnest._warnings import warn_user
from lagnest.models.convergence import convergence_table

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SAMPLERS",
    "ConvergenceWarning",
    "Diagnostics",
    "available_samplers",
    "compute_diagnostics",
    "mp_context",
    "package_versions",
    "sample",
    "unguarded_main_script",
    "warn_diagnostics",
]

#: Samplers ``fit`` accepts and the module each needs.
SAMPLERS: dict[str, str | None] = {"pymc": None, "nutpie": "nutpie", "numpyro": "numpyro"}

#: Default diagnostic thresholds. ``ess_per_chain`` = 100 gives the usual 400 for 4 chains
#: (Vehtari et al. 2021); ``bfmi`` below 0.3 flags poor energy exploration (Betancourt 2016).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "rhat": 1.01,
    "ess_per_chain": 100.0,
    "bfmi": 0.3,
    "divergences": 0.0,
    "max_treedepth": 0.0,
}

_VERSIONED = ("lagnest", "pymc", "pytensor", "arviz", "numpy", "xarray", "numba", "nutpie")


#: Environment variable of the quick (smoke) mode: set to 1, every fit runs with at most
#: :data:`QUICK_LIMITS` draws, tuning steps and chains, its chains one after another in the
#: process unless ``cores`` is given (starting chain processes costs more than such short
#: chains), and issues no ConvergenceWarning, and its result says so; leave-one-dyad-out
#: holds out :data:`QUICK_HELD_OUT_DYADS` dyads. For running documentation pages and
#: notebooks as code checks (``tests/test_docs_snippets.py`` sets it); never for results
#: to read.
QUICK_ENV = "LAGNEST_QUICK"
QUICK_LIMITS: dict[str, int] = {"draws": 50, "tune": 50, "chains": 2}
#: Dyads held out by ``leave_one_dyad_out`` in quick mode (the first ones; the others are
#: not refitted): the refits are the heavy part of the model-comparison page.
QUICK_HELD_OUT_DYADS = 2


def quick_mode() -> bool:
    """Whether the quick (smoke) mode is on (``LAGNEST_QUICK`` set and not "0")."""
    return os.environ.get(QUICK_ENV, "").strip() not in ("", "0")


def quick_settings(draws: int, tune: int, chains: int) -> tuple[int, int, int]:
    """Sampler settings capped at :data:`QUICK_LIMITS`."""
    return (min(int(draws), QUICK_LIMITS["draws"]), min(int(tune), QUICK_LIMITS["tune"]),
            min(int(chains), QUICK_LIMITS["chains"]))


class ConvergenceWarning(UserWarning):
    """A fit failed one of the sampler diagnostics (R-hat, ESS, divergences, ...)."""


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a fit (for provenance metadata)."""
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def available_samplers() -> tuple[str, ...]:
    """The samplers of :data:`SAMPLERS` whose packages are installed."""
    return tuple(
        name
        for name, module in SAMPLERS.items()
        if module is None or importlib.util.find_spec(module) is not None
    )


#: A main script guarded so that re-importing it (as spawn and forkserver do) runs nothing.
_MAIN_GUARD = re.compile(r"""^\s*if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.MULTILINE)
_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks"


#: Modules the fork server imports once before it forks chain workers (``"__main__"`` is
#: Python's own default), so that no worker imports PyMC again: PyMC's sampling time of a
#: 2-chain fit of the example went from 4.1 to 1.5 s (``benchmarks/results/mp_ctx.md``).
FORKSERVER_PRELOAD: tuple[str, ...] = ("__main__", "pymc", "lagnest.models",
                                       "lagnest.models.likelihood")


#: Set while the fork server starts (unless the user set them): it must stay a single
#: thread, since it forks every worker. Importing NumPy starts OpenBLAS's thread pool
#: and importing pandas starts pyarrow's jemalloc background thread. The workers inherit
#: one BLAS thread each, which suits chains that each have a core.
_SINGLE_THREAD_ENV: dict[str, str] = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}


def preload_forkserver() -> None:
    """Start the fork server, single-threaded, with :data:`FORKSERVER_PRELOAD` imported.

    No effect if it already runs (it lives as long as this process).
    """
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
    added = {k: v for k, v in _SINGLE_THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        forkserver.ensure_running()
    finally:
        for name in added:
            os.environ.pop(name, None)


def mp_context() -> str | None:
    """Start method of the processes that run chains in parallel (PyMC sampler, Linux).

    ``"forkserver"`` wherever the main module can be imported again in the workers: an
    interactive session or notebook, ``python -c``, or a script guarded by
    ``if __name__ == "__main__":``. PyMC's default, ``"fork"``, copies a process whose
    threads (numba's pool, pyarrow's allocator, BLAS) may hold locks, and Python 3.12
    warns about it. An unguarded script would run again in every worker under
    ``"forkserver"``: it keeps ``"fork"`` (and the warning is not shown). Other platforms
    keep PyMC's default (None). The environment variable ``LAGNEST_MP_CTX`` (``fork``,
    ``forkserver`` or ``spawn``) overrides the choice.

    ``"forkserver"`` costs time on every fit: its workers rebuild the compiled model
    instead of inheriting it. Most of that was each worker importing PyMC: :func:`sample`
    has the fork server import :data:`FORKSERVER_PRELOAD` once, so its workers start with
    them loaded. A 2-chain fit of the example (200 draws) takes 3.7 s against 2.9 s with
    ``"fork"``, and took 6.3 s without the preload (``benchmarks/results/mp_ctx.md``).

    Returns
    -------
    str or None
    """
    chosen = os.environ.get("LAGNEST_MP_CTX")
    if chosen in ("fork", "forkserver", "spawn"):
        return chosen
    if not sys.platform.startswith("linux"):
        return None
    return "fork" if unguarded_main_script() else "forkserver"


def unguarded_main_script() -> str | None:
    """The main script, if a process that imports it again would run it all again.

    A ``"forkserver"`` or ``"spawn"`` worker imports the main module; a script without
    ``if __name__ == "__main__":`` then reruns its top level in every worker. None for an
    interactive session, a notebook, ``python -c``, or a guarded script; the script's
    path when it has no guard (or cannot be read to tell).

    Returns
    -------
    str or None
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(1 << 20)
    except OSError:
        return str(path)
    return None if _MAIN_GUARD.search(text) else str(path)


def _check_sampler(sampler: str) -> None:
    """Raise unless ``sampler`` is known and installed; see :func:`sample`."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {list(SAMPLERS)}, got {sampler!r}")
    module = SAMPLERS[sampler]
    if module is not None and importlib.util.find_spec(module) is None:
        raise ImportError(
            f"sampler {sampler!r} needs the package {module!r}; install it "
            f"(pip install {module}) or use sampler='pymc'"
        )


@dataclass(frozen=True)
class SampleInfo:
    """Settings and timings of one sampling run (seconds)."""

    sampler: str
    draws: int
    tune: int
    chains: int
    seed: int
    target_accept: float
    compile_seconds: float
    sampling_seconds: float
    #: Further NUTS options passed to the sampler (``sampler_options``), by name.
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


#: One trace template per PyMC model (see :func:`_trace_template`).
_TRACE_TEMPLATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _trace_template(model: Any) -> Any:
    """An empty in-memory trace of ``model`` whose compiled point function every chain shares.

    PyMC compiles the function that records a draw (the value variables and every
    deterministic) once per chain of every ``pm.sample``, since the variables it asks for
    are rebuilt on each call: about 0.35 s per chain on the example's models. Given a trace
    object instead, PyMC copies it for each chain; this template is built (and compiled)
    once per model, and each copy gets its own storage.
    """
    template = _TRACE_TEMPLATES.get(model)
    if template is None:
        template = _TRACE_TEMPLATES[model] = _chain_trace_class()(model=model)
    return template


@functools.cache
def _chain_trace_class() -> type:
    """PyMC's in-memory trace whose copies share the compiled function, not the draws."""
    from pymc.backends.ndarray import NDArray

    class ChainTrace(NDArray):
        def __copy__(self) -> ChainTrace:
            new = object.__new__(type(self))
            new.__dict__.update(self.__dict__)
            new.samples, new._stats, new.draw_idx, new.draws = {}, None, 0, None
            return new

    return ChainTrace


#: Step-method choices of frozen PyMC models (see :func:`_memoize_step_assignment`).
_STEP_ASSIGNMENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: PyMC's own ``assign_step_methods``, which the kept choices come from.
_PYMC_ASSIGN_STEP_METHODS: Any = None


@functools.cache
def _memoize_step_assignment() -> None:
    """Make ``pm.sample`` choose the step methods of a frozen model once, not on every call.

    Before sampling, PyMC picks a step method for every value variable by building the
    gradient of the model's log-density with respect to it: about 0.5 s on every fit of
    the example's models, the same work each time. A ``FrozenModel`` (every lagnest model
    once built) cannot change its graph, so neither can that choice: it is kept per model
    and handed out as a fresh copy. Calls with steps given, other step-method sets and
    unfrozen models go to PyMC's own function unchanged. Installed on the first
    :func:`sample`; PyMC's sampling code looks the function up in its module at each call.
    """
    global _PYMC_ASSIGN_STEP_METHODS
    from pymc.model.core import FrozenModel
    from pymc.sampling import mcmc

    _PYMC_ASSIGN_STEP_METHODS = mcmc.assign_step_methods

    @functools.wraps(_PYMC_ASSIGN_STEP_METHODS)
    def assign_step_methods(model: Any, step: Any = None, methods: Any = None) -> Any:
        if step is not None or not isinstance(model, FrozenModel):
            return _PYMC_ASSIGN_STEP_METHODS(model, step, methods=methods)
        key = tuple(methods) if methods is not None else None
        known = _STEP_ASSIGNMENTS.setdefault(model, {})
        if key not in known:
            known[key] = _PYMC_ASSIGN_STEP_METHODS(model, None, methods=methods)
        provided, selected = known[key]
        return list(provided), {method: list(vars_) for method, vars_ in selected.items()}

    mcmc.assign_step_methods = assign_step_methods


def sample(
    model: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    sampler: str = "pymc",
    target_accept: float = 0.9,
    cores: int | None = None,
    progressbar: bool = False,
    initvals: Mapping[str, Any] | None = None,
    sampler_options: Mapping[str, Any] | None = None,
) -> tuple[xr.DataTree, SampleInfo]:
    """Sample a PyMC model with NUTS; return the DataTree and timings.

    Parameters
    ----------
    model : pymc.Model
        The built model.
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, number of chains.
    seed : int
        Random seed; the same seed gives the same draws with ``sampler="pymc"``.
    sampler : {"pymc", "nutpie", "numpyro"}
        NUTS implementation; nutpie and numpyro only when installed.
    target_accept : float
        Target acceptance rate of step-size adaptation.
    cores : int, optional
        Parallel chains (PyMC sampler); default ``min(chains, os.cpu_count())``. Parallel
        chains run in processes started as :func:`mp_context` says.
    progressbar : bool
        Show a progress bar.
    initvals : mapping, optional
        Starting values by variable name (every chain, before PyMC's jitter).
    sampler_options : mapping, optional
        Further options of the NUTS implementation, passed as ``pm.sample(nuts={...})``:
        e.g. ``{"max_treedepth": 12}`` for PyMC's, ``{"adaptation": "low_rank"}`` for
        nutpie's. ``target_accept`` has its own argument. PyMC's NUTS silently ignores a
        keyword it does not know, so an option it does not take is refused here.

    Returns
    -------
    tree : xarray.DataTree
        Groups ``posterior``, ``sample_stats``, ``observed_data``.
    info : SampleInfo
        ``sampling_seconds`` is the sampler's own sampling time (tuning and draws);
        ``compile_seconds`` the rest of the call: compiling (and JIT) the log-density
        and its gradient, initialisation and conversion of the trace.
    """
    import pymc as pm

    _check_sampler(sampler)
    _memoize_step_assignment()
    _check_positive(draws=draws, chains=chains)
    if tune < 0:
        raise ValueError(f"tune must be >= 0, got {tune}")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be in (0, 1), got {target_accept}")
    options = check_sampler_options(sampler_options, sampler)
    seed = int(seed)
    common = {
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "random_seed": seed,
        "progressbar": progressbar,
        "quiet": not progressbar,
        "compute_convergence_checks": False,
        "model": model,
    }
    if initvals:
        common["initvals"] = dict(initvals)
    kwargs: dict[str, Any] = {}
    if cores is None:
        cores = max(1, min(int(chains), os.cpu_count() or 1))
    # PyMC 6 takes the NUTS options of every implementation as ``nuts={...}``
    # (``nuts_sampler_kwargs`` is deprecated and warns)
    nuts = {"target_accept": target_accept, **options}
    if sampler == "pymc":
        kwargs = {"cores": cores, "nuts": nuts, "trace": _trace_template(model)}
        if cores > 1 and chains > 1:
            kwargs["mp_ctx"] = mp_context()
            if kwargs["mp_ctx"] == "forkserver":
                preload_forkserver()
    else:
        kwargs = {"cores": cores, "nuts": nuts}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        if kwargs.get("mp_ctx") == "fork":  # an unguarded script: see mp_context
            warnings.filterwarnings("ignore", _FORK_WARNING, DeprecationWarning)
        tree = pm.sample(nuts_sampler=sampler, **common, **kwargs)
    total = time.perf_counter() - t0
    sampling = float(tree["posterior"].attrs.get("sampling_time", total))
    info = SampleInfo(
        sampler=sampler,
        draws=int(draws),
        tune=int(tune),
        chains=int(chains),
        seed=seed,
        target_accept=float(target_accept),
        compile_seconds=max(total - sampling, 0.0),
        sampling_seconds=sampling,
        options=options,
    )
    return tree, info


#: Arguments of PyMC's NUTS that lagnest or PyMC's initialisation set (not
#: ``sampler_options``): ``init_nuts`` passes its own ``potential``, which ``scaling`` and
#: ``is_cov`` would contradict.
_NUTS_SET_BY_LAGNEST = frozenset({"self", "vars", "model", "rng", "initial_point",
                                  "target_accept", "kwargs", "pytensor_kwargs", "potential",
                                  "scaling", "is_cov"})


@functools.cache
def _pymc_nuts_options() -> frozenset[str]:
    """The keywords of PyMC's NUTS step a user may set (read once from its signatures)."""
    import inspect

    import pymc as pm
    from pymc.step_methods.hmc.base_hmc import BaseHMC

    return frozenset(name for cls in (pm.NUTS, BaseHMC)
                     for name in inspect.signature(cls.__init__).parameters
                     ) - _NUTS_SET_BY_LAGNEST


def check_sampler_options(options: Mapping[str, Any] | None, sampler: str) -> dict[str, Any]:
    """``sampler_options`` as a dict, or ``ValueError`` saying what is wrong with them.

    Used by :func:`sample` and by the spec check of ``[fit]`` (so that a spec's mistake is
    reported before anything is fitted). ``target_accept`` has its own argument; the values
    must be JSON (they are saved with the result); with PyMC's sampler every key must be a
    keyword of its NUTS step, which silently ignores one it does not know (nutpie raises).
    """
    options = dict(options or {})
    if "target_accept" in options:
        raise ValueError("sampler_options must not hold target_accept: pass it as "
                         "target_accept=")
    try:
        json.dumps(options)
    except TypeError as err:
        raise ValueError(f"sampler_options must be plain values (numbers, strings, "
                         f"booleans, lists): {err}") from None
    if options and sampler == "pymc":
        known = _pymc_nuts_options()
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"sampler_options {unknown} are not options of PyMC's NUTS; "
                             f"expected some of {sorted(known)}")
    return options


def _check_positive(**values: int) -> None:
    """Raise unless every value is a positive integer."""
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")


# =========================================================================== diagnostics


@dataclass(frozen=True, eq=False)
class Diagnostics:
    """Sampler diagnostics of one fit.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scalar parameter (``parameter`` like ``"alpha[a, b]"``) with
        ``rhat``, ``ess_bulk``, ``ess_tail``. Constant cells (e.g. structural zeros) are
        left out.
    rhat_max, ess_bulk_min, ess_tail_min : float
        Worst values over the table.
    n_divergent : int
        Divergent transitions after tuning.
    n_max_treedepth : int
        Draws that hit the maximum tree depth.
    bfmi_min : float
        Smallest E-BFMI over chains (NaN when the sampler reports no energy).
    n_draws : int
        Total draws (chains x draws).
    thresholds : dict
        The thresholds applied (see :data:`DEFAULT_THRESHOLDS`).
    failures : tuple of str
        One message per failed check, naming the offending parameters.
    """

    table: pd.DataFrame
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    n_divergent: int
    n_max_treedepth: int
    bfmi_min: float
    n_chains: int
    n_draws: int
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.failures

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str = "en") -> str:
        """The diagnostics as printed, in ``lang`` ("en" or "es"; parameter names as fitted).

        Parameters
        ----------
        lang : {"en", "es"}, default "en"

        Returns
        -------
        str
            The worst values on one line, then one line per failed check (or "all checks
            passed"), no line wider than 100 columns.
        """
        lines = [translate("diag.head", lang, rhat=f"{self.rhat_max:.3f}",
                           bulk=f"{self.ess_bulk_min:.0f}", tail=f"{self.ess_tail_min:.0f}",
                           div=self.n_divergent, depth=self.n_max_treedepth,
                           bfmi=f"{self.bfmi_min:.2f}", chains=self.n_chains,
                           draws=self.n_draws)]
        failed = translate("diag.failed_check", lang)
        lines += ([f"  {failed} {failure_text(_whole_ess(f), lang)}" for f in self.failures]
                  or ["  " + translate("diag.ok", lang)])
        # no line wider than a terminal's 100 columns (continuations indented)
        return "\n".join(textwrap.fill(line, 100, subsequent_indent="    ",
                                        break_on_hyphens=False) for line in lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (inverse: :meth:`from_dict`)."""
        return {
            "table": {
                col: [_json_float(v) if col != "parameter" else v for v in self.table[col]]
                for col in self.table.columns
            },
            "rhat_max": _json_float(self.rhat_max),
            "ess_bulk_min": _json_float(self.ess_bulk_min),
            "ess_tail_min": _json_float(self.ess_tail_min),
            "n_divergent": int(self.n_divergent),
            "n_max_treedepth": int(self.n_max_treedepth),
            "bfmi_min": _json_float(self.bfmi_min),
            "n_chains": int(self.n_chains),
            "n_draws": int(self.n_draws),
            "thresholds": dict(self.thresholds),
            "failures": list(self.failures),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnostics:
        """Rebuild from :meth:`to_dict`."""
        table = pd.DataFrame(
            {
                k: (v if k == "parameter" else [_from_json_float(x) for x in v])
                for k, v in data["table"].items()
            }
        )
        floats = ("rhat_max", "ess_bulk_min", "ess_tail_min", "bfmi_min")
        return cls(
            table=table,
            **{k: _from_json_float(data[k]) for k in floats},
            n_divergent=int(data["n_divergent"]),
            n_max_treedepth=int(data["n_max_treedepth"]),
            n_chains=int(data["n_chains"]),
            n_draws=int(data["n_draws"]),
            thresholds=dict(data["thresholds"]),
            failures=tuple(data["failures"]),
        )


def _json_float(x: float) -> float | str:
    """Float for JSON; NaN and infinities as strings."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _from_json_float(x: float | str) -> float:
    """Inverse of :func:`_json_float`."""
    return float(x)


def _cell_labels(da: xr.DataArray) -> list[str]:
    """Labels ``name[c1, c2]`` of the non-sample cells of ``da``, in C order."""
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not dims:
        return [str(da.name)]
    values = [
        da[d].values if d in da.coords else np.arange(da.sizes[d]) for d in dims
    ]
    grid = np.meshgrid(*values, indexing="ij")
    flat = [g.ravel() for g in grid]
    return [f"{da.name}[{', '.join(str(v[i]) for v in flat)}]" for i in range(flat[0].size)]


def _per_parameter(posterior: xr.Dataset, var_names: Iterable[str]) -> pd.DataFrame:
    """R-hat, bulk and tail ESS per scalar parameter, constant cells dropped.

    ArviZ's statistics, computed for all cells at once by
    :func:`lagnest.models.convergence.convergence_table`.
    """
    import arviz as az

    labels: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    for name in var_names:
        da = posterior[name]
        other = [d for d in da.dims if d not in ("chain", "draw")]
        flat = da.transpose("chain", "draw", *other).values.reshape(
            da.sizes["chain"], da.sizes["draw"], -1
        )
        sd = flat.std(axis=(0, 1))
        keep = np.isfinite(sd) & (sd > 0)
        labels.append(np.array(_cell_labels(da), dtype=object)[keep])
        blocks.append(flat[:, :, keep])
    columns = ["parameter", "rhat", "ess_bulk", "ess_tail"]
    if not blocks or sum(b.shape[-1] for b in blocks) == 0:
        return pd.DataFrame(columns=columns)
    rhat, ess_bulk, ess_tail = convergence_table(np.concatenate(blocks, axis=-1),
                                                 tail_prob=float(az.rcParams["stats.ci_prob"]))
    return pd.DataFrame(
        {"parameter": np.concatenate(labels).astype(str), "rhat": rhat,
         "ess_bulk": ess_bulk, "ess_tail": ess_tail},
        columns=columns,
    )


def _whole_ess(failure: str) -> str:
    """An ESS failure message with its sample sizes as whole numbers.

    Results saved by older versions kept decimals: ``x (40.9)`` becomes ``x (41)``.
    """
    if "ESS <" not in failure:
        return failure
    return re.sub(r"\((\d+\.\d+)\)", lambda m: f"({float(m.group(1)):.0f})", failure)


def _worst(table: pd.DataFrame, column: str, bad: np.ndarray, limit: int = 5) -> str:
    """Names (and values) of up to ``limit`` offending parameters, worst first.

    R-hat with three significant digits, effective sample sizes as whole numbers.
    """
    sub = table.loc[bad]
    ascending = column != "rhat"
    sub = sub.sort_values(column, ascending=ascending).head(limit)
    spec = "{:.3g}" if column == "rhat" else "{:.0f}"
    names = ", ".join(f"{p} ({spec.format(v)})"
                      for p, v in zip(sub.parameter, sub[column], strict=True))
    more = int(bad.sum()) - len(sub)
    return names + (f" and {more} more" if more > 0 else "")


def _bfmi(tree: xr.DataTree) -> float:
    """Smallest E-BFMI over chains; NaN without an energy statistic."""
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else None
    if stats is None or "energy" not in stats:
        return float("nan")
    energy = stats["energy"].transpose("chain", "draw").values
    num = np.sum(np.diff(energy, axis=1) ** 2, axis=1) / energy.shape[1]
    den = np.var(energy, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.min(num / den))


def _stat_count(stats: xr.Dataset | None, names: Iterable[str]) -> int:
    """Number of draws where the first available boolean statistic is true."""
    if stats is None:
        return 0
    for name in names:
        if name in stats:
            return int(np.asarray(stats[name].values, dtype=bool).sum())
    return 0


def compute_diagnostics(
    tree: xr.DataTree,
    var_names: Iterable[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> Diagnostics:
    r"""Compute R-hat, bulk/tail ESS, divergences, tree-depth hits and E-BFMI.

    Parameters
    ----------
    tree : xarray.DataTree
        Sampler output with ``posterior`` (and ``sample_stats``) groups.
    var_names : iterable of str, optional
        Posterior variables to check; default all.
    thresholds : mapping, optional
        Overrides of :data:`DEFAULT_THRESHOLDS`.

    Returns
    -------
    Diagnostics

    Notes
    -----
    R-hat is the rank-normalised split R-hat and ESS the bulk and tail effective sample
    sizes of Vehtari et al. [1]_ (via ArviZ). The ESS threshold is
    ``ess_per_chain x chains`` (400 for 4 chains). E-BFMI [2]_ is
    :math:`\sum_t (E_t - E_{t-1})^2 / \sum_t (E_t - \bar E)^2` per chain.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B., & Bürkner, P.-C. (2021).
       Rank-normalization, folding, and localization: An improved R-hat for assessing
       convergence of MCMC. *Bayesian Analysis, 16*\ (2), 667-718.
    .. [2] Betancourt, M. (2016). Diagnosing suboptimal cotangent disintegrations in
       Hamiltonian Monte Carlo. arXiv:1604.00695.
    """
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    unknown = set(limits) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValueError(
            f"unknown thresholds {sorted(unknown)}; known {sorted(DEFAULT_THRESHOLDS)}"
        )
    posterior = tree["posterior"].to_dataset()
    names = list(var_names) if var_names is not None else list(posterior.data_vars)
    table = _per_parameter(posterior, names)
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else None
    n_chains = posterior.sizes["chain"]
    n_draws = n_chains * posterior.sizes["draw"]
    n_div = _stat_count(stats, ("diverging",))
    n_depth = _stat_count(stats, ("reached_max_treedepth", "maxdepth_reached"))
    bfmi = _bfmi(tree)
    failures = []
    ess_min = limits["ess_per_chain"] * n_chains
    rhat = table["rhat"].to_numpy()
    bad = ~(rhat <= limits["rhat"])
    if bad.any():
        failures.append(f"R-hat > {limits['rhat']:g}: {_worst(table, 'rhat', bad)}")
    for column, label in (("ess_bulk", "bulk ESS"), ("ess_tail", "tail ESS")):
        values = table[column].to_numpy()
        bad = ~(values >= ess_min)
        if bad.any():
            failures.append(f"{label} < {ess_min:g}: {_worst(table, column, bad)}")
    if n_div > limits["divergences"]:
        failures.append(
            f"{n_div} divergent transitions (of {n_draws} draws)"
        )
    if n_depth > limits["max_treedepth"]:
        failures.append(f"{n_depth} draws hit the maximum tree depth")
    if np.isfinite(bfmi) and bfmi < limits["bfmi"]:
        failures.append(f"E-BFMI {bfmi:.2f} < {limits['bfmi']:g} in at least one chain")

    def _agg(column: str, fn: Any) -> float:
        values = table[column].to_numpy(dtype=float)
        values = values[np.isfinite(values)]  # R-hat is NaN with one chain
        return float(fn(values)) if values.size else float("nan")

    return Diagnostics(
        table=table,
        rhat_max=_agg("rhat", np.nanmax),
        ess_bulk_min=_agg("ess_bulk", np.nanmin),
        ess_tail_min=_agg("ess_tail", np.nanmin),
        n_divergent=n_div,
        n_max_treedepth=n_depth,
        bfmi_min=bfmi,
        n_chains=n_chains,
        n_draws=n_draws,
        thresholds=limits,
        failures=tuple(failures),
    )


def warn_diagnostics(diagnostics: Diagnostics, what: str = "fit", advice: str = "") -> None:
    """Issue one :class:`ConvergenceWarning` listing every failed check.

    ``advice`` (the model's own, e.g. which parameterisation to try) replaces the generic
    remedies when given.
    """
    if diagnostics.ok:
        return
    text = "; ".join(diagnostics.failures)
    remedy = advice or "more draws/tune, higher target_accept, or stronger priors"
    warn_user(
        f"{what} failed sampler diagnostics: {text}. Do not trust these estimates until "
        f"fixed ({remedy}).",
        ConvergenceWarning,
    )
