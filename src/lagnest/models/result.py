"""`FitResult`: the posterior of a lagnest model with its configuration and diagnostics.

A :class:`FitResult` is small and frozen: the sampler's :class:`xarray.DataTree`
(``sampled``: groups ``posterior`` with every sampled variable, ``sample_stats``,
``observed_data`` and ``fit_data``, the sufficient statistics the model was fitted to), the
configuration (model name, specification,
priors, sampler settings, seed, data fingerprint, package versions, config id) and the
:class:`~lagnest.models._fit.Diagnostics`. Model families add their answers in subclasses
(e.g. :class:`~lagnest.models.transition.TransitionResult`); :func:`load` finds the class
through the model registry (:mod:`lagnest.models.registry`), by model name.

``result.tree`` is the tree an ArviZ user works with (:mod:`lagnest.models.arviz`): the
reported variables and derived quantities without the sampler's internal offsets, a
``log_likelihood`` group, and after ``result.ppc()`` the check's statistics as
``posterior_predictive`` (or ``prior_predictive``) beside ``observed_data``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from lagnest import _hooks
from lagnest._files import atomic_write, check_readable
from lagnest._lang import translate
from lagnest._summaries import WIDTH, _unwrap, wrap
from lagnest.errors import DataProblem, LimitError, ResultFileError
from lagnest.models._fit import Diagnostics
from lagnest.models.registry import model_class
from lagnest.models.structure import GroupStructure

__all__ = [
    "RESULT_FORMAT",
    "RESULT_SUFFIX",
    "DifferentModelError",
    "FitResult",
    "ResultFileError",
    "config_id",
    "load",
]

_CONFIG_ATTR = "lagnest_config"
_DIAGNOSTICS_ATTR = "lagnest_diagnostics"
_ID_ATTR = "lagnest_id"
_GROUP_ATTR = "lagnest_group"
_FORMAT_ATTR = "lagnest_format"
#: Version of the result file layout written by :meth:`FitResult.save` (attribute
#: ``lagnest_format``; files without it are format 1). :func:`load` refuses newer formats.
RESULT_FORMAT = 1
#: The suffix of a result file.
RESULT_SUFFIX = ".nc"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: Default bound of :func:`load`'s ``max_bytes``: the data may take this many times the
#: file's size in memory (uncompressed results take about 1x), and at least ``_MIN_BYTES``.
_MAX_EXPANSION = 64
_MIN_BYTES = 256 << 20
_GROUPS = ("posterior", "prior")


class DifferentModelError(ResultFileError):
    """A saved fit does not match the model (or its own configuration) it is loaded for."""


def config_id(config: Mapping[str, Any]) -> str:
    """Hash of what defines a model fit: model name, spec, priors and data fingerprint.

    Sampler settings and seeds are left out: two fits of one model on one corpus share
    the id.
    """
    key = {k: config.get(k) for k in ("model", "spec", "priors", "data_fingerprint")}
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class FitResult:
    """Posterior (or prior) draws of a lagnest model, its configuration and diagnostics.

    Attributes
    ----------
    sampled : xarray.DataTree
        The sampler's DataTree with the model's coordinates (``given``, ``target``,
        ``dyad``, ``session``, ...): every sampled variable (the non-centred offsets
        ``z_*`` included), ``sample_stats``, ``observed_data`` and a ``fit_data`` group
        holding the data fitted. What :meth:`save` writes.
    config : dict
        JSON-ready: ``model``, ``spec``, ``priors``, ``sampler`` (settings and timings),
        ``seed``, ``data_fingerprint``, ``versions``, ``id``.
    diagnostics : Diagnostics or None
        Sampler diagnostics (None for prior draws).
    group : {"posterior", "prior"}
        The group whose draws the answers summarise.
    """

    sampled: xr.DataTree
    config: Mapping[str, Any]
    diagnostics: Diagnostics | None = None
    group: str = "posterior"
    #: Groups added by the predictive checks run on this result (``ppc()``), by group.
    _predictive: dict[str, dict[str, xr.Dataset]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    kind: ClassVar[str] = "model"

    @property
    def tree(self) -> xr.DataTree:
        """The fit as ArviZ expects it: ``az.summary(result.tree)``, ``az.loo(result.tree)``.

        :meth:`to_arviz` with its defaults (built once, then kept): the reported
        variables and derived quantities (no internal offsets), a ``log_likelihood``
        group with the observation of :meth:`loo` (left out, with a note in the tree's
        attributes, above ``lagnest.models.arviz.MAX_POINTWISE`` values), and the
        statistics of the last :meth:`ppc` as ``posterior_predictive`` (or
        ``prior_predictive``) with their observed values in ``observed_data``. Every
        sampled variable is in :attr:`sampled`.
        """
        base = self.__dict__.get("_tree_cache")
        if base is None:  # built once; the check's groups are added to a new tree each time
            base = self.to_arviz(log_likelihood="auto", checks=False)
            self.__dict__["_tree_cache"] = base
        return _hooks.ARVIZ_CHECKS(base, self)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the built ArviZ view (rebuilt on demand)."""
        return {k: v for k, v in self.__dict__.items() if k != "_tree_cache"}

    # ------------------------------------------------------------------ basics
    @property
    def id(self) -> str:
        """Config hash (see :func:`config_id`)."""
        return str(self.config["id"])

    @property
    def spec(self) -> dict[str, Any]:
        """The model specification (constructor arguments)."""
        return dict(self.config["spec"])

    @property
    def structure(self) -> GroupStructure | None:
        """Grouping levels the fit used (None for results saved before it was recorded)."""
        data = self.config.get("structure")
        return GroupStructure.from_dict(data) if data else None

    @property
    def draws(self) -> xr.Dataset:
        """The draws summarised by this result (``posterior`` or ``prior``)."""
        return self.sampled[self.group].to_dataset()

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior group as a Dataset (every sampled variable)."""
        return self.sampled["posterior"].to_dataset()

    @property
    def fit_data(self) -> xr.Dataset:
        """The data the model was fitted to (sufficient statistics)."""
        return self.sampled["fit_data"].to_dataset()

    def reported_vars(self) -> list[str] | None:
        """Posterior variables :meth:`to_arviz` shows (None: all).

        By default the model's ``diagnostic_vars`` (labelled parameters, group scales),
        without the sampler's internal offsets.
        """
        names = self.config.get("reported_vars")
        return list(names) if names is not None else None

    def derived_draws(self) -> dict[str, xr.DataArray]:
        """Derived quantities :meth:`to_arviz` adds to the posterior (none by default)."""
        return {}

    def reported_posterior(self) -> xr.Dataset:
        """The draws of :meth:`to_arviz`: reported variables and derived quantities.

        ``loo()``'s default relative efficiency is computed on it, as ArviZ computes it
        on ``to_arviz()``'s tree, so the two give the same elpd. For prior draws, the
        prior's reported variables.
        """
        post = self.draws
        names = self.reported_vars()
        if names is not None:
            post = post[[v for v in names if v in post]]
        if self.group != "posterior":
            return post
        extras = self.derived_draws()
        return post.assign({k: v for k, v in extras.items() if k not in post})

    def pointwise_log_lik(self) -> xr.DataArray | None:
        """Log-likelihood of each observation of :meth:`loo` ``(chain, draw, obs)``.

        None when the result's ``log_likelihood`` group is built another way (models
        fitted to counts build it from ``cell_log_lik``) or not at all.
        """
        return None

    def to_arviz(self, log_likelihood: bool | str = True, predictive: bool = False,
                 internals: bool = False, seed: int = 0, **kwargs: Any) -> xr.DataTree:
        """The fit as the DataTree ArviZ expects (see :mod:`lagnest.models.arviz`).

        ``arviz_stats.loo(result.to_arviz())`` equals ``result.loo()``;
        ``arviz_stats.summary(result.to_arviz(), ci_prob=0.95)`` lists the reported
        quantities (lagnest's intervals are 95%: ArviZ's default is 89%);
        ``to_arviz(predictive=True)`` adds ``posterior_predictive`` for ArviZ's predictive
        plots.

        Parameters
        ----------
        log_likelihood : bool or "auto", default True
            Add the ``log_likelihood`` group (per segment for the models fitted to
            counts, per session for the session-level models); "auto" leaves it out of
            a large corpus instead of raising.
        predictive : bool, default False
            Add ``posterior_predictive`` (observed arrays simulated from every draw) in
            place of the statistics of :meth:`ppc`.
        internals : bool, default False
            Keep every sampled variable in ``posterior``.
        seed : int, default 0
            Seed of the simulated predictions.
        **kwargs
            ``max_pointwise``, ``checks`` (see :func:`lagnest.models.arviz.to_arviz`).

        Returns
        -------
        xarray.DataTree
        """
        return _hooks.TO_ARVIZ(self, log_likelihood=log_likelihood, predictive=predictive,
                               internals=internals, seed=seed, **kwargs)

    def _header(self, lang: str = "en") -> list[str]:
        """First lines of :meth:`__str__` (in ``lang``: "en" or "es")."""
        cfg = self.config
        sampler = cfg.get("sampler") or {}
        what = "head.prior" if self.group == "prior" else "head.posterior"
        lines = [translate(what, lang, model=cfg["model"], id=self.id, seed=cfg.get("seed"))]
        if sampler and self.group == "posterior":
            lines.append(translate(
                "head.sampler", lang, sampler=sampler.get("sampler"),
                chains=sampler.get("chains"), draws=sampler.get("draws"),
                tune=sampler.get("tune"), compile=sampler.get("compile_seconds", float("nan")),
                sampling=sampler.get("sampling_seconds", float("nan"))))
        if self.structure is not None:
            lines += ["  " + line for line in self.structure.lines(lang)]
        if cfg.get("quick"):
            lines.append(translate("head.quick", lang))
        return lines

    def _text(self, lines: Sequence[str], body: Sequence[str] = ()) -> str:
        """Header ``lines`` (wrapped at ``WIDTH``), ``body`` as is, then the diagnostics."""
        out = [wrap(line, WIDTH) for line in lines]
        out += list(body)
        if self.diagnostics is not None:
            out.append(wrap("Diagnostics: " + _unwrap(str(self.diagnostics)), WIDTH, "    "))
        return "\n".join(out)

    def __str__(self) -> str:
        return self._text(self._header())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config['model']} id={self.id} group={self.group}>"

    # ------------------------------------------------------------------ checks
    def ppc(self, stats: Any = None, n_draws: int = 200, seed: int = 0) -> Any:
        """Predictive check of these draws: see :func:`lagnest.checks.ppc.check`.

        Parameters
        ----------
        stats : sequence of str, optional
            Statistics to check (default all).
        n_draws : int, default 200
            Parameter draws (one replicate each).
        seed : int, default 0
            Replication seed.

        Returns
        -------
        lagnest.checks.ppc.PredictiveCheck
        """
        # the checks sit above the models and fill this slot (lagnest._hooks)
        check = _hooks.PREDICTIVE_CHECK(self, stats=stats, n_draws=n_draws, seed=seed)
        # its statistics join result.tree (posterior_predictive or prior_predictive)
        groups = check.arviz_groups()
        self.__dict__["_predictive"] = {check.group: groups} if groups else {}
        return check

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str], *, parents: bool = False) -> Path:
        """Write the result to NetCDF (h5netcdf), atomically.

        The file is written to a temporary name in the target folder, flushed to disk and
        renamed over ``path`` only when complete, so a crash (even a killed process)
        never leaves a truncated file and keeps any previous result; temporary files of
        killed saves are removed by the next successful save. Numeric data carry HDF5
        Fletcher-32 checksums, so that :func:`load` detects damaged bytes.

        Parameters
        ----------
        path : str or path-like
            Target file; it must end in ``.nc``.
        parents : bool, default False
            Create missing parent folders (else a missing folder is an error).

        Returns
        -------
        pathlib.Path

        Raises
        ------
        ResultFileError
            When ``path`` does not end in ``.nc``.
        OSError
            Naming ``path``: a missing folder, a folder at ``path``, no permission, ...
        """
        path = Path(path)
        if path.suffix.lower() != RESULT_SUFFIX:
            raise ResultFileError(DataProblem(
                "a result file must end in .nc", file=str(path), value=path.suffix or path.name,
                expected=f"a path ending in {RESULT_SUFFIX}",
            ))
        tree = self.sampled.copy()
        tree.attrs = {
            **tree.attrs,
            _CONFIG_ATTR: json.dumps(self.config, sort_keys=True),
            _ID_ATTR: self.id,
            _GROUP_ATTR: self.group,
            _FORMAT_ATTR: RESULT_FORMAT,
        }
        if self.diagnostics is not None:
            tree.attrs[_DIAGNOSTICS_ATTR] = json.dumps(self.diagnostics.to_dict())
        tree = _encode_bools(tree)
        encoding = _checksums(tree)
        atomic_write(
            path,
            lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf", encoding=encoding),
            parents=parents,
        )
        return path


def per_draw(stacked: xr.Dataset) -> list[dict[str, np.ndarray]]:
    """Every draw of ``stacked`` (draws stacked on ``sample``) as plain arrays by variable.

    Each variable is read and reordered once (sample first, C-contiguous), so a loop over
    draws indexes numpy arrays instead of selecting from xarray per draw.
    """
    arrays = {name: np.ascontiguousarray(np.moveaxis(stacked[name].values,
                                                     stacked[name].dims.index("sample"), 0))
              for name in stacked.data_vars}
    return [{name: values[s] for name, values in arrays.items()}
            for s in range(stacked.sizes["sample"])]


def _checksums(tree: xr.DataTree) -> dict[str, dict[str, dict[str, Any]]]:
    """Encoding asking for Fletcher-32 checksums on every numeric, non-scalar variable."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for node in tree.subtree:
        wanted = {
            name: {"fletcher32": True}
            for name, da in node.dataset.data_vars.items()
            if da.ndim > 0 and da.size > 0 and np.issubdtype(da.dtype, np.number)
        }
        if wanted:
            out[node.path] = wanted
    return out


def _encode_bools(tree: xr.DataTree) -> xr.DataTree:
    """Store bool variables as int8 with a flag attr (NetCDF has no bool type)."""

    def encode(ds: xr.Dataset) -> xr.Dataset:
        out = ds.copy()
        for name, da in ds.data_vars.items():
            if da.dtype == bool:
                out[name] = da.astype("int8").assign_attrs({**da.attrs, "lagnest_bool": 1})
        return out

    return tree.map_over_datasets(encode)


def _decode_bools(tree: xr.DataTree) -> xr.DataTree:
    """Inverse of :func:`_encode_bools`."""

    def decode(ds: xr.Dataset) -> xr.Dataset:
        out = ds.copy()
        for name, da in ds.data_vars.items():
            if da.attrs.get("lagnest_bool") == 1:
                restored = da.astype(bool)
                restored.attrs = {k: v for k, v in da.attrs.items() if k != "lagnest_bool"}
                out[name] = restored
        return out

    return tree.map_over_datasets(decode)


def load(
    path: str | os.PathLike[str], model: Any = None, *, max_bytes: int | None = None
) -> FitResult:
    """Load a result written by :meth:`FitResult.save`.

    Parameters
    ----------
    path : str or path-like
        The NetCDF file.
    model : BayesianModel, optional
        When given, the file must hold a fit of this model on this data (same config id).
    max_bytes : int, optional
        Most memory the file's data may take once loaded; default 64 times the file's
        size, and at least 256 MiB (a result is stored uncompressed, so only a crafted
        file comes near it).

    Returns
    -------
    FitResult
        The subclass registered for the saved model (e.g. ``TransitionResult``).

    Raises
    ------
    ResultFileError
        Naming the file and what is wrong: empty, truncated, damaged (a checksum fails),
        foreign (not NetCDF-4, or not written by lagnest), a configuration that is not
        valid JSON, a result written by a newer lagnest (``lagnest_format`` above
        :data:`RESULT_FORMAT`), an unknown model.
    DifferentModelError
        A `ResultFileError`: the stored configuration does not hash to the stored id (an
        edited or corrupted file), or does not match ``model``.
    LimitError
        The data would take more than ``max_bytes`` once loaded.
    OSError
        A path problem (missing, a folder, no permission), naming ``path``.
    """
    file = str(path)

    def problem(message: str, expected: str | None = None, value: Any = None) -> DataProblem:
        return DataProblem(message, file=file, value=value, expected=expected)

    expected_file = "a result written by FitResult.save (lagnest.load reads NetCDF-4 files)"
    path = check_readable(path)
    size = path.stat().st_size
    if size == 0:
        raise ResultFileError(problem("the file is empty", expected_file))
    with open(path, "rb") as fh:
        head = fh.read(len(_HDF5_MAGIC))
    if head != _HDF5_MAGIC:
        what = "a NetCDF-3 file" if head[:3] == b"CDF" else "not an HDF5/NetCDF-4 file"
        raise ResultFileError(problem(f"not a lagnest result: {what}", expected_file))
    limit = max_bytes if max_bytes is not None else max(_MIN_BYTES, _MAX_EXPANSION * size)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # xarray and h5netcdf on foreign layouts
            with xr.open_datatree(path, engine="h5netcdf") as opened:
                attrs = dict(opened.attrs)
                if _CONFIG_ATTR not in attrs:
                    raise ResultFileError(problem(
                        f"not written by lagnest (no {_CONFIG_ATTR!r} attribute)", expected_file
                    ))
                _check_format(attrs.get(_FORMAT_ATTR, 1), problem)
                needed = sum(
                    int(v.nbytes)
                    for node in opened.subtree
                    for v in node.dataset.variables.values()
                )
                if needed > limit:
                    raise LimitError(problem(
                        f"its data would take {needed / 2**20:,.0f} MiB in memory",
                        value=needed,
                        expected=f"at most max_bytes={limit:,} (pass a larger max_bytes= to "
                        "load it anyway)",
                    ))
                tree = opened.load()
    except (ResultFileError, LimitError):
        raise
    except Exception as err:  # the NetCDF/HDF5 stack on a damaged or foreign file
        raise ResultFileError(problem(
            f"cannot be read (truncated or damaged?): {type(err).__name__}: {err}",
            expected_file,
        )) from None
    attrs = dict(tree.attrs)
    try:
        config = json.loads(str(attrs.pop(_CONFIG_ATTR)))
    except (ValueError, RecursionError) as err:
        raise ResultFileError(problem(
            f"its stored configuration is not valid JSON ({type(err).__name__})",
            "the JSON configuration FitResult.save writes",
        )) from None
    if not isinstance(config, dict) or "model" not in config:
        raise ResultFileError(problem(
            "its stored configuration is not a lagnest configuration",
            "a JSON object with 'model', 'spec', 'priors', ...",
        ))
    stored_id = attrs.pop(_ID_ATTR, None)
    group = attrs.pop(_GROUP_ATTR, "posterior")
    diag = attrs.pop(_DIAGNOSTICS_ATTR, None)
    attrs.pop(_FORMAT_ATTR, None)
    if stored_id != config_id(config) or config.get("id") != stored_id:
        raise DifferentModelError(problem(
            f"stored config id {stored_id!r} does not match its configuration "
            f"({config_id(config)!r}); the file was edited or corrupted"
        ))
    if model is not None and model.id != stored_id:
        raise DifferentModelError(problem(
            f"holds a fit of model id {stored_id!r}, not of the given model "
            f"(id {model.id!r}): the specification, priors or data differ"
        ))
    if group not in _GROUPS or group not in tree.children:
        raise ResultFileError(problem(
            f"its draws group {group!r} is missing" if group in _GROUPS
            else "bad draws group attribute",
            value=group if group not in _GROUPS else None,
            expected=f"a {_GROUPS[0]!r} or {_GROUPS[1]!r} group, as FitResult.save writes",
        ))
    tree.attrs = attrs
    try:
        tree = _decode_bools(tree)
        cls = model_class(str(config["model"])).result_class
    except KeyError:
        raise DifferentModelError(problem(
            f"holds a fit of model {config['model']!r}, which this version of lagnest "
            "does not know"
        )) from None
    try:
        diagnostics = Diagnostics.from_dict(json.loads(diag)) if diag is not None else None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
        raise ResultFileError(problem(
            f"its stored diagnostics cannot be read ({type(err).__name__})",
            "the JSON diagnostics FitResult.save writes",
        )) from None
    return cls(sampled=tree, config=config, diagnostics=diagnostics, group=group)


def _check_format(value: Any, problem: Any) -> None:
    """Refuse a result file layout this lagnest does not read."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ResultFileError(problem(
            f"bad {_FORMAT_ATTR!r} attribute", value=value,
            expected=f"a format number (this lagnest reads 1..{RESULT_FORMAT})",
        ))
    if value > RESULT_FORMAT:
        raise ResultFileError(problem(
            f"written by a newer lagnest (result format {value})",
            expected=f"format {RESULT_FORMAT} or older: upgrade lagnest to read it",
        ))
