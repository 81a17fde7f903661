"""A fit as the DataTree ArviZ expects: reported variables, log-likelihood, predictions.

``result.tree`` is PyMC's output plus the fitted data: every sampled variable (the
non-centred offsets ``z_*`` included), no ``log_likelihood`` group and no predictions.
:func:`to_arviz` (``result.to_arviz()``) gives the tree an ArviZ user works with:

* ``posterior``: the model's reported variables (its ``reported_vars``: typical-dyad
  parameters, group scales, dyad and session values) and the derived quantities its
  result class names (e.g. transition probabilities, odds ratios); the sampler's
  internal offsets are left out (``internals=True`` keeps everything);
* ``log_likelihood``: variable ``y``, one value per *segment* (the observation of
  ``result.loo()``), so ``arviz_stats.loo`` and ``compare`` on the tree give what
  ``result.loo()`` and :func:`lagnest.compare` give. The models are fitted to counts, and
  the segments of one cell share their log-likelihood: the per-segment array is the
  per-cell one repeated by count (``CellLogLik``). It holds draws x segments values, so
  above ``max_pointwise`` values (a large corpus) it is not built and ``result.loo()``,
  which runs PSIS once per cell, is the way;
* ``posterior_predictive`` (``predictive=True``): the observed arrays simulated from every
  posterior draw with the model's generative hook, beside ``observed_data``, for
  ``arviz_plots.plot_ppc_dist`` and friends;
* ``sample_stats``, ``observed_data``, ``constant_data``, ``fit_data`` as fitted.

lagnest's intervals are 90% central intervals; ArviZ's ``summary`` shows 89% by default
(pass ``ci_prob=0.9`` to compare like with like).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from lagnest import _hooks

__all__ = ["MAX_POINTWISE", "to_arviz"]

#: Largest number of draws x segments values of a ``log_likelihood`` group (8 bytes each).
MAX_POINTWISE = 50_000_000


def _pointwise(result: Any, max_pointwise: int) -> xr.DataArray:
    """Per-segment log-likelihood ``(chain, draw, segment)`` from the result's cells."""
    cells = result.cell_log_lik()
    ll = cells.log_lik.transpose("chain", "draw", "cell")
    counts = np.asarray(cells.counts)
    n = int(counts.sum())
    if n * ll.sizes["chain"] * ll.sizes["draw"] > max_pointwise:
        raise ValueError(
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
    observed = result.tree["observed_data"].to_dataset() if "observed_data" in \
        result.tree.children else xr.Dataset()
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


def to_arviz(result: Any, log_likelihood: bool = True, predictive: bool = False,
             internals: bool = False, max_pointwise: int = MAX_POINTWISE,
             seed: int = 0) -> xr.DataTree:
    """The fit as an ArviZ DataTree (see the module docstring).

    Parameters
    ----------
    result : FitResult
        A posterior fit.
    log_likelihood : bool, default True
        Add the per-segment ``log_likelihood`` group (models with ``cell_log_lik``).
    predictive : bool, default False
        Add ``posterior_predictive``: observed arrays simulated from every draw.
    internals : bool, default False
        Keep every sampled variable in ``posterior`` (the offsets ``z_*`` included).
    max_pointwise : int, default MAX_POINTWISE
        Refuse a ``log_likelihood`` group larger than this many values.
    seed : int, default 0
        Seed of the simulated predictions.

    Returns
    -------
    xarray.DataTree
    """
    if result.group != "posterior":
        raise ValueError("to_arviz needs posterior draws; this result holds prior draws")
    if internals:
        post = result.posterior
        post = post.assign({k: v for k, v in result.derived_draws().items() if k not in post})
    else:
        post = result.reported_posterior()
    groups: dict[str, Any] = {"posterior": post}
    for name in ("sample_stats", "observed_data", "constant_data", "fit_data"):
        if name in result.tree.children:
            groups[name] = result.tree[name].to_dataset()
    if log_likelihood and hasattr(result, "cell_log_lik"):
        groups["log_likelihood"] = _pointwise(result, max_pointwise).to_dataset()
    if predictive:
        groups["posterior_predictive"] = _predictive(result, seed)
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(result.tree.attrs)
    tree.attrs["lagnest_ci_prob"] = 0.9
    return tree


_hooks.TO_ARVIZ.fill(to_arviz)
