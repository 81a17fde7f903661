"""A fit as the DataTree ArviZ expects: reported variables, log-likelihood, predictions.

``result.sampled`` is PyMC's output plus the fitted data: every sampled variable (the
non-centred offsets ``z_*`` included), no ``log_likelihood`` group and no predictions.
:func:`to_arviz` (``result.to_arviz()``; ``result.tree`` is its default, built once) gives
the tree an ArviZ user works with:

* ``posterior`` (``prior`` for prior draws): the model's reported variables (its
  ``reported_vars``: typical-dyad parameters, group scales, dyad and session values) and
  the derived quantities its result class names (e.g. transition probabilities, odds
  ratios); the sampler's internal offsets are left out (``internals=True`` keeps
  everything);
* ``log_likelihood``: the observation of ``result.loo()``, so ``arviz_stats.loo`` and
  ``compare`` on the tree give what ``result.loo()`` and :func:`lagnest.compare` give.
  For the models fitted to counts (transition, lagged regression) the variable ``y``
  holds one value per *segment*: the segments of one cell share their log-likelihood, so
  the per-segment array is the per-cell one repeated by count (``CellLogLik``). It holds
  draws x segments values, so above ``max_pointwise`` values (a large corpus) it is not
  built (``to_arviz`` raises, ``result.tree`` leaves it out and says so in its
  ``lagnest_log_likelihood`` attribute) and ``result.loo()``, which runs PSIS once per
  cell, is the way. The session-level models (hidden Markov, session impact) give one
  value per session (``result.pointwise_log_lik()``);
* ``posterior_predictive`` or ``prior_predictive``: after ``result.ppc()``, the check's
  statistics of every replicate (one chain), with their observed values added to
  ``observed_data``, for ``arviz_plots.plot_ppc_dist`` and friends; with
  ``predictive=True`` instead, the observed arrays simulated from every posterior draw
  with the model's generative hook;
* ``sample_stats``, ``observed_data``, ``constant_data``, ``fit_data`` as fitted.

lagnest's intervals are 95% central intervals; ArviZ's ``summary`` shows 89% by default
(pass ``ci_prob=0.95`` to compare like with like).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from lagnest import _hooks
from lagnest._summaries import CI_PROB

__all__ = ["MAX_POINTWISE", "PointwiseTooLarge", "to_arviz", "with_checks"]

#: Largest number of draws x segments values of a ``log_likelihood`` group (8 bytes each).
MAX_POINTWISE = 50_000_000


class PointwiseTooLarge(ValueError):
    """A per-segment ``log_likelihood`` group would exceed ``max_pointwise`` values."""


def _pointwise(result: Any, max_pointwise: int) -> xr.DataArray:
    """Per-segment log-likelihood ``(chain, draw, segment)`` from the result's cells."""
    cells = result.cell_log_lik()
    ll = cells.log_lik.transpose("chain", "draw", "cell")
    counts = np.asarray(cells.counts)
    n = int(counts.sum())
    if n * ll.sizes["chain"] * ll.sizes["draw"] > max_pointwise:
        raise PointwiseTooLarge(
            f"a per-segment log_likelihood group would hold {n} segments x "
            f"{ll.sizes['chain'] * ll.sizes['draw']} draws, more than max_pointwise="
            f"{max_pointwise:,} values: use result.loo() (PSIS once per cell) or pass a "
            "larger max_pointwise")
    seg_cell = (np.repeat(np.arange(counts.size), counts) if cells.segment_cell is None
                else np.asarray(cells.segment_cell))
    values = ll.values[:, :, seg_cell]
    coords: dict[str, Any] = {"chain": ll["chain"].values, "draw": ll["draw"].values,
                              "segment": (np.asarray(cells.segment) if cells.segment
                                          is not None else np.arange(n))}
    for name, coord in ll.coords.items():
        if coord.dims == ("cell",) and name != "cell":
            coords[name] = ("segment", np.asarray(coord.values)[seg_cell])
    return xr.DataArray(values, dims=("chain", "draw", "segment"), coords=coords, name="y")


def _predictive(result: Any, seed: int) -> xr.Dataset:
    """Observed arrays simulated from every posterior draw (the model's ``simulate``)."""
    from lagnest.models.base import BayesianModel

    model = BayesianModel.from_result(result)
    post = result.posterior
    observed = result.sampled["observed_data"].to_dataset() if "observed_data" in \
        result.sampled.children else xr.Dataset()
    rng = np.random.default_rng(seed)
    sims = []
    for c in range(post.sizes["chain"]):
        for d in range(post.sizes["draw"]):
            arrays = model.simulate(post.isel(chain=c, draw=d), rng)
            sims.append(next(iter(arrays.values())))
    values = np.stack(sims).reshape(post.sizes["chain"], post.sizes["draw"], *sims[0].shape)
    name = next(iter(observed.data_vars), "y")
    dims = observed[name].dims if name in observed else tuple(
        f"y_dim_{i}" for i in range(values.ndim - 2))
    coords = {k: v for k, v in (observed[name].coords.items() if name in observed else [])}
    return xr.Dataset({name: (("chain", "draw", *dims), values)},
                      coords={"chain": post["chain"].values, "draw": post["draw"].values,
                              **coords})


def _log_likelihood(result: Any, max_pointwise: int) -> xr.Dataset | None:
    """The ``log_likelihood`` group of a result (None when its model gives none)."""
    if hasattr(result, "cell_log_lik"):
        return _pointwise(result, max_pointwise).to_dataset()
    values = result.pointwise_log_lik()
    return None if values is None else values.to_dataset()


def _beside(observed: xr.Dataset, checked: dict[str, xr.Dataset]) -> dict[str, xr.Dataset]:
    """The check's groups, with every dim whose labels clash with ``observed`` renamed.

    A statistic's dim (``given``, ``target``, ``session``...) joins ``observed_data`` as it
    is when its labels equal those of the fitted arrays, and as ``<dim>_check`` otherwise
    (the fitted arrays are never padded).
    """
    clash = {d: f"{d}_check" for data in checked.values() for d in data.dims
             if d in observed.indexes and d in data.indexes
             and not data.indexes[d].equals(observed.indexes[d])}
    return {name: data.rename(clash) for name, data in checked.items()} if clash else checked


def to_arviz(result: Any, log_likelihood: bool | str = True, predictive: bool = False,
             internals: bool = False, max_pointwise: int = MAX_POINTWISE,
             seed: int = 0, checks: bool = True) -> xr.DataTree:
    """The fit as an ArviZ DataTree (see the module docstring).

    Parameters
    ----------
    result : FitResult
        A fit (posterior draws) or prior draws (``model.prior_predictive()``).
    log_likelihood : bool or "auto", default True
        Add the ``log_likelihood`` group (posterior draws of models that give one);
        "auto" leaves it out above ``max_pointwise`` values instead of raising, with
        the reason in the tree's ``lagnest_log_likelihood`` attribute.
    predictive : bool, default False
        Add ``posterior_predictive``: observed arrays simulated from every draw (in place
        of the statistics of a ``result.ppc()``).
    internals : bool, default False
        Keep every sampled variable in ``posterior`` (the offsets ``z_*`` included).
    max_pointwise : int, default MAX_POINTWISE
        Refuse a ``log_likelihood`` group larger than this many values.
    seed : int, default 0
        Seed of the simulated predictions.
    checks : bool, default True
        Add the groups of the result's last ``ppc()`` (:func:`with_checks`).

    Returns
    -------
    xarray.DataTree
    """
    if log_likelihood not in (True, False, "auto"):
        raise ValueError(f"log_likelihood must be True, False or 'auto', got {log_likelihood!r}")
    prior = result.group != "posterior"
    if prior and predictive:
        raise ValueError("predictive=True simulates from posterior draws; this result "
                         "holds prior draws (run result.ppc() for a prior predictive check)")
    if internals:
        draws = result.draws
        if not prior:
            draws = draws.assign({k: v for k, v in result.derived_draws().items()
                                  if k not in draws})
    else:
        draws = result.reported_posterior()
    groups: dict[str, Any] = {result.group: draws}
    for name in ("sample_stats", "observed_data", "constant_data", "fit_data"):
        if name in result.sampled.children:
            groups[name] = result.sampled[name].to_dataset()
    attrs: dict[str, Any] = {}
    if log_likelihood and not prior:
        try:
            ll = _log_likelihood(result, max_pointwise)
        except PointwiseTooLarge as err:  # only the size: any other failure is raised
            if log_likelihood != "auto":
                raise
            ll, attrs["lagnest_log_likelihood"] = None, f"left out: {err}"
        if ll is not None:
            groups["log_likelihood"] = ll
    if predictive:
        groups["posterior_predictive"] = _predictive(result, seed)
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(result.sampled.attrs)
    tree.attrs.update(attrs)
    tree.attrs["lagnest_ci_prob"] = CI_PROB
    return with_checks(tree, result) if checks and not predictive else tree


def with_checks(tree: xr.DataTree, result: Any) -> xr.DataTree:
    """``tree`` with the groups of the result's last ``ppc()`` (a new tree; none: ``tree``).

    The check's replicated statistics become ``posterior_predictive`` (or
    ``prior_predictive``) and its observed statistics join ``observed_data`` beside the
    fitted arrays (:func:`_beside`).
    """
    checked = getattr(result, "_predictive", {}).get(result.group, {})
    if not checked:
        return tree
    groups = {node.path.strip("/"): node.to_dataset() for node in tree.children.values()}
    if "observed_data" in checked and "observed_data" in groups:
        checked = _beside(groups["observed_data"], checked)
    for name, data in checked.items():
        groups[name] = xr.merge([groups[name], data]) if name in groups else data
    out = xr.DataTree.from_dict(groups)
    out.attrs.update(tree.attrs)
    return out


_hooks.TO_ARVIZ.fill(to_arviz)
_hooks.ARVIZ_CHECKS.fill(with_checks)
