"""`FitResult`: the posterior of a lagnest model with its configuration and diagnostics.

A :class:`FitResult` is small and frozen: the ArviZ :class:`xarray.DataTree` (groups
``posterior``, ``sample_stats``, ``observed_data`` and ``fit_data``, the sufficient
statistics the model was fitted to), the configuration (model name, specification,
priors, sampler settings, seed, data fingerprint, package versions, config id) and the
:class:`~lagnest.models._fit.Diagnostics`. Model families add their answers in subclasses
(e.g. :class:`~lagnest.models.transition.TransitionResult`); :func:`load` finds the class
through the model registry (:mod:`lagnest.models.registry`), by model name.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import xarray as xr

from lagnest._files import atomic_write
from lagnest.models._fit import Diagnostics
from lagnest.models.registry import model_class
from lagnest.models.structure import GroupStructure

__all__ = ["DifferentModelError", "FitResult", "config_id", "load"]

_CONFIG_ATTR = "lagnest_config"
_DIAGNOSTICS_ATTR = "lagnest_diagnostics"
_ID_ATTR = "lagnest_id"
_GROUP_ATTR = "lagnest_group"


class DifferentModelError(ValueError):
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
    tree : xarray.DataTree
        ArviZ DataTree with the model's coordinates (``given``, ``target``, ``dyad``,
        ``session``, ...) and a ``fit_data`` group holding the data fitted.
    config : dict
        JSON-ready: ``model``, ``spec``, ``priors``, ``sampler`` (settings and timings),
        ``seed``, ``data_fingerprint``, ``versions``, ``id``.
    diagnostics : Diagnostics or None
        Sampler diagnostics (None for prior draws).
    group : {"posterior", "prior"}
        The group whose draws the answers summarise.
    """

    tree: xr.DataTree
    config: Mapping[str, Any]
    diagnostics: Diagnostics | None = None
    group: str = "posterior"

    kind: ClassVar[str] = "model"

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
        return self.tree[self.group].to_dataset()

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior group as a Dataset."""
        return self.tree["posterior"].to_dataset()

    @property
    def fit_data(self) -> xr.Dataset:
        """The data the model was fitted to (sufficient statistics)."""
        return self.tree["fit_data"].to_dataset()

    def _header(self) -> list[str]:
        """First lines of :meth:`__str__`."""
        cfg = self.config
        sampler = cfg.get("sampler") or {}
        what = "prior draws" if self.group == "prior" else "posterior"
        line = f"{cfg['model']} {what} (id {self.id}, seed {cfg.get('seed')})"
        lines = [line]
        if sampler and self.group == "posterior":
            lines.append(
                f"  sampler {sampler.get('sampler')}: {sampler.get('chains')} chains x "
                f"{sampler.get('draws')} draws (tune {sampler.get('tune')}), compile "
                f"{sampler.get('compile_seconds', float('nan')):.1f} s, sampling "
                f"{sampler.get('sampling_seconds', float('nan')):.1f} s"
            )
        if self.structure is not None:
            lines.append("  " + self.structure.describe())
        return lines

    def __str__(self) -> str:
        lines = self._header()
        if self.diagnostics is not None:
            lines.append("Diagnostics: " + str(self.diagnostics))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config['model']} id={self.id} group={self.group}>"

    # ------------------------------------------------------------------ checks
    def ppc(self, stats: Any = None, n_draws: int = 200, seed: int = 0) -> Any:
        """Predictive check of these draws: see :func:`lagnest.ppc.check`.

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
        lagnest.ppc.PredictiveCheck
        """
        from lagnest.ppc import check  # the checks sit above the models; imported on use

        return check(self, stats=stats, n_draws=n_draws, seed=seed)

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to NetCDF (h5netcdf), atomically.

        The file is written to a temporary name in the target directory and renamed over
        ``path`` only when complete, so a crash never leaves a truncated file.

        Parameters
        ----------
        path : str or path-like
            Target file (``.nc``).

        Returns
        -------
        pathlib.Path
        """
        path = Path(path)
        tree = self.tree.copy()
        tree.attrs = {
            **tree.attrs,
            _CONFIG_ATTR: json.dumps(self.config, sort_keys=True),
            _ID_ATTR: self.id,
            _GROUP_ATTR: self.group,
        }
        if self.diagnostics is not None:
            tree.attrs[_DIAGNOSTICS_ATTR] = json.dumps(self.diagnostics.to_dict())
        tree = _encode_bools(tree)
        atomic_write(path, lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf"))
        return path


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


def load(path: str | os.PathLike[str], model: Any = None) -> FitResult:
    """Load a result written by :meth:`FitResult.save`.

    Parameters
    ----------
    path : str or path-like
        The NetCDF file.
    model : BayesianModel, optional
        When given, the file must hold a fit of this model on this data (same config id).

    Returns
    -------
    FitResult
        The subclass registered for the saved model (e.g. ``TransitionResult``).

    Raises
    ------
    DifferentModelError
        When the stored configuration does not hash to the stored id (a corrupted or
        edited file), or does not match ``model``.
    """
    with xr.open_datatree(path, engine="h5netcdf") as opened:
        tree = opened.load()
    attrs = dict(tree.attrs)
    if _CONFIG_ATTR not in attrs:
        raise DifferentModelError(f"{path} was not written by lagnest (no {_CONFIG_ATTR!r} attr)")
    config = json.loads(attrs.pop(_CONFIG_ATTR))
    stored_id = attrs.pop(_ID_ATTR, None)
    group = attrs.pop(_GROUP_ATTR, "posterior")
    diag = attrs.pop(_DIAGNOSTICS_ATTR, None)
    if stored_id != config_id(config) or config.get("id") != stored_id:
        raise DifferentModelError(
            f"{path}: stored config id {stored_id!r} does not match its configuration "
            f"({config_id(config)!r}); the file was edited or corrupted"
        )
    if model is not None and model.id != stored_id:
        raise DifferentModelError(
            f"{path} holds a fit of model id {stored_id!r}, not of the given model "
            f"(id {model.id!r}): the specification, priors or data differ"
        )
    tree.attrs = attrs
    tree = _decode_bools(tree)
    try:
        cls = model_class(str(config["model"])).result_class
    except KeyError:
        raise DifferentModelError(
            f"{path} holds a fit of model {config['model']!r}, which this version of lagnest "
            "does not know"
        ) from None
    diagnostics = Diagnostics.from_dict(json.loads(diag)) if diag is not None else None
    return cls(tree=tree, config=config, diagnostics=diagnostics, group=group)
