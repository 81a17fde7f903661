r"""Model comparison by leave-one-out cross-validation on sufficient statistics.

**What is left out.** lagnest's models are fitted to counts: lag pairs per (session,
given code, target code) for :class:`~lagnest.models.transition.TransitionModel`, per
(row, target) for :class:`~lagnest.models.regression.LaggedRegression`. The unit of
comparison is still the *segment*: each lag pair's target segment is one observation,
and :meth:`result.loo() <lagnest.models.transition.TransitionResult.loo>` gives the PSIS
estimate of the expected log predictive density (elpd) of the per-segment model, exactly
as :func:`arviz_stats.loo` would on the per-segment pointwise log-likelihood.

**Why cells suffice.** Every segment of one cell c (a distinct (session, given, target)
or (row, target) combination with count :math:`n_c`) has the same log-likelihood
:math:`\log p(y_c \mid \theta_s)` over the posterior draws s, hence the same importance
ratios, the same Pareto-smoothed weights, the same pointwise :math:`\mathrm{elpd}_c` and
the same Pareto :math:`\hat k_c`. PSIS therefore runs once per cell with a nonzero count
and the segment-level LOO follows by expansion, without an N x draws matrix:
:math:`\mathrm{elpd} = \sum_c n_c\,\mathrm{elpd}_c`, :math:`p_{loo} = \sum_c n_c\,p_c`,
:math:`\mathrm{SE} = \sqrt{N\,\mathrm{Var}_i(\mathrm{elpd}_i)}` over the N segments
(:func:`cell_loo`). The relative efficiency ``reff`` is ArviZ's: the mean ESS of all
posterior variables over the number of draws (:func:`relative_efficiency`).

**What it measures.** Segment-level LOO scores how well a model predicts *one left-out
segment* of the dyads and sessions it was fitted to, given everything else, including
the *later* segments of its session (they inform its session and dyad deviations): it
is interpolation within the observed sessions, not a forecast of the next segment from
the past (a leave-future-out comparison would refit on each session's early segments;
lagnest does not offer it). It does not say how well a model predicts a *new dyad*: for
that, :func:`leave_one_dyad_out` refits the model without each dyad in turn and scores
that dyad's whole record under a new dyad and new sessions drawn from the fitted
hierarchy (exact, one refit per dyad; one observation per dyad).

**Pareto k.** A segment whose cell is small (a rare given code in one session, a rare
target) can move the posterior of its session's deviations when left out; PSIS then
reports :math:`\hat k` above ``good_k`` (0.7 for the usual draw counts) and its elpd is
unreliable. Remedies, cheapest first: more draws (``good_k`` grows slowly with them);
a model that pools more (``pooling="dyad"`` or the shared deviations) so that one
segment matters less; exact refits for the offending segments; or compare on
:func:`leave_one_dyad_out`, which does not use importance sampling.

**Hooks a result provides** (implemented by
:class:`~lagnest.models.transition.TransitionResult`; ``LaggedRegression`` implements the
same two to get ``loo()``, :func:`compare` and :func:`leave_one_dyad_out`):

``result.cell_log_lik() -> CellLogLik``
    In-sample log-likelihood of ONE segment of each cell with a nonzero count, per
    posterior draw, ``log p(target | cell)`` (not the multinomial log pmf), with the
    counts, the cell of each segment (``segment_cell``, in the order of the lag pairs)
    and the segments' positions in the corpus (``segment``). With it,
    ``result.loo()`` is ``loo_from_cells(result)``.

``result.new_dyad_joint_log_lik(seqs, n_new, rng, max_draws) -> ndarray (S, G)``
    For the corpus ``seqs`` of one held-out dyad (``full.subset(dyads=[d])``), built
    with the result's own spec: for each of S posterior draws and each of ``n_new``
    new dyads (with new sessions) drawn from the fitted group scales, the log-likelihood
    of all the held-out segments together. :func:`leave_one_dyad_out` averages the
    likelihoods into the dyad's joint elpd. All zeros when the dyad has no scored
    segment.

Results of :func:`cell_loo` are ArviZ ``ELPDDataLOO`` objects with per-segment ``elpd_i``
(dim ``segment``, coordinate = position of the target segment in the corpus, plus the
cell's labels as coordinates); :func:`leave_one_dyad_out` gives an ``ELPDDataLOOKFold``
with one ``elpd_i`` per dyad (dim ``dyad``). :func:`arviz_stats.compare` works on both
unchanged; :func:`compare` adds the check that the models score the same units
(segments, or dyads) of one target.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from lagnest._warnings import warn_user
from lagnest.errors import LagnestDataError
from lagnest.models import _fit

if TYPE_CHECKING:
    import pandas as pd

    from lagnest.models.base import BayesianModel
    from lagnest.models.result import FitResult

__all__ = [
    "CellLogLik",
    "SegmentMismatchError",
    "align_segments",
    "cell_loo",
    "compare",
    "leave_one_dyad_out",
    "loo_from_cells",
    "relative_efficiency",
    "tag_elpd",
]

SAMPLE_DIMS = ("chain", "draw")


class SegmentMismatchError(LagnestDataError):
    """Models compared on different target segments (other target, lag or given codes)."""


@dataclass(frozen=True)
class CellLogLik:
    """Log-likelihood of one segment per cell, with the cells' counts and segments.

    Attributes
    ----------
    log_lik : xarray.DataArray
        Dims ``(chain, draw, cell)``: ``log p(target | cell)`` of one segment of each
        cell, per draw. One-dimensional coordinates along ``cell`` (e.g. ``session``,
        ``given``, ``target`` labels) are carried to every segment of the cell.
    counts : ndarray of int64, shape (n_cells,)
        Segments per cell.
    segment_cell : ndarray of int64, shape (N,) or None
        Cell (position along ``cell``) of each segment, in segment order; None when only
        the counts are known (segments are then the cells repeated by count).
    segment : ndarray of int64, shape (N,) or None
        Position of each segment's target segment in the corpus (its identity when
        models are compared); None when unknown.
    """

    log_lik: xr.DataArray
    counts: np.ndarray
    segment_cell: np.ndarray | None = None
    segment: np.ndarray | None = None

    @property
    def n_segments(self) -> int:
        """Number of segments (sum of the counts)."""
        return int(np.asarray(self.counts).sum())


# =========================================================================== PSIS on cells


def relative_efficiency(posterior: xr.Dataset | xr.DataTree) -> float:
    """Relative MCMC efficiency of a posterior as ArviZ's ``loo`` computes it by default.

    Parameters
    ----------
    posterior : xarray.Dataset or DataTree
        Posterior draws (dims ``chain``, ``draw``); a DataTree's ``posterior`` group is
        used when it has one.

    Returns
    -------
    float
        1 with a single chain; otherwise the mean over every value of every posterior
        variable of the ESS (``method="mean"``) divided by the number of draws.
    """
    import arviz_stats  # noqa: F401  (registers the .azstats accessor)

    if isinstance(posterior, xr.DataTree):
        posterior = posterior["posterior"] if "posterior" in posterior.children else posterior
        posterior = posterior.to_dataset()
    n_samples = posterior.sizes["chain"] * posterior.sizes["draw"]
    if posterior.sizes["chain"] == 1:
        return 1.0
    ess = posterior.azstats.ess(method="mean")
    return float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / n_samples)


def good_k(n_samples: int) -> float:
    """ArviZ's threshold on Pareto k for ``n_samples`` draws: ``min(1 - 1/log10(S), 0.7)``."""
    return min(1 - 1 / np.log10(n_samples), 0.7) if n_samples > 1 else 0.7


def _check_cells(
    log_lik: Any, counts: Any, segment_cell: Any, segment: Any
) -> tuple[xr.DataArray, str, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Validate the inputs of :func:`cell_loo`; return them as arrays."""
    if not isinstance(log_lik, xr.DataArray):
        raise TypeError(f"log_lik must be an xarray.DataArray, got {type(log_lik).__name__}")
    other = [d for d in log_lik.dims if d not in SAMPLE_DIMS]
    if set(SAMPLE_DIMS) - set(log_lik.dims) or len(other) != 1:
        raise ValueError(
            f"log_lik must have dims (chain, draw, <cell>), got {log_lik.dims}; stack the "
            "cell dimensions into one first"
        )
    (cell_dim,) = other
    n_cells = log_lik.sizes[cell_dim]
    counts = np.asarray(counts)
    if counts.shape != (n_cells,):
        raise ValueError(f"counts must have shape ({n_cells},) like log_lik's {cell_dim!r}, "
                         f"got {counts.shape}")
    if counts.size and (not np.issubdtype(counts.dtype, np.integer) or counts.min() < 0):
        raise ValueError("counts must hold non-negative integers")
    counts = counts.astype(np.int64)
    if counts.sum() == 0:
        raise ValueError("counts are all zero: no segment to score")
    if segment_cell is not None:
        segment_cell = np.asarray(segment_cell)
        if segment_cell.ndim != 1 or not np.issubdtype(segment_cell.dtype, np.integer):
            raise ValueError("segment_cell must be a 1-d integer array")
        if segment_cell.size and (segment_cell.min() < 0 or segment_cell.max() >= n_cells):
            raise ValueError(f"segment_cell values must lie in 0..{n_cells - 1}")
        if not np.array_equal(np.bincount(segment_cell, minlength=n_cells), counts):
            raise ValueError("segment_cell does not match counts (segments per cell differ)")
        segment_cell = segment_cell.astype(np.int64)
    if segment is not None:
        segment = np.asarray(segment, dtype=np.int64)
        if segment.shape != (int(counts.sum()),):
            raise ValueError(f"segment must have one entry per segment ({counts.sum()}), "
                             f"got shape {segment.shape}")
    return log_lik, cell_dim, counts, segment_cell, segment


def cell_loo(
    log_lik: xr.DataArray,
    counts: Any,
    segment_cell: Any = None,
    reff: float | xr.Dataset | xr.DataTree | None = None,
    *,
    segment: Any = None,
    warn: bool = True,
) -> Any:
    """Segment-level PSIS-LOO from one log-likelihood per cell (PSIS once per cell).

    Parameters
    ----------
    log_lik : xarray.DataArray
        Dims ``(chain, draw, cell)`` (any name for the cell dim): the log probability of
        ONE segment of each cell, ``log p(target | cell)``. Cells with a zero count are
        skipped (their values are never read).
    counts : array of int, shape (n_cells,)
        Segments per cell.
    segment_cell : array of int, shape (N,), optional
        Cell of each segment, in segment order (must agree with ``counts``). Default:
        the cells repeated by their counts.
    reff : float, xarray.Dataset or DataTree, optional
        Relative efficiency, or the posterior to compute it from as ArviZ does
        (:func:`relative_efficiency`). Default 1.0 (ArviZ's value for a single chain).
    segment : array of int, shape (N,), optional
        Identity of each segment (its position in the corpus): the ``segment``
        coordinate of the result. Default ``0..N-1``.
    warn : bool, default True
        Warn when Pareto k exceeds ``good_k`` (off for quick-mode fits).

    Returns
    -------
    arviz_stats.ELPDDataLOO
        ``elpd``, ``se``, ``p`` as :func:`arviz_stats.loo` gives them on the expanded
        N x draws log-likelihood; ``elpd_i``, ``pareto_k`` and ``p_loo_i`` per segment
        (dim ``segment``; the cell dim's 1-d coordinates and ``cell`` are carried as
        coordinates along ``segment``); ``log_weights`` is None (never expanded).

    Warns
    -----
    UserWarning
        When some segments have Pareto k above ``good_k`` (see the module docstring).

    Notes
    -----
    Segments of one cell share their importance ratios, so their pointwise values are
    those of the cell: the result is identical (up to floating point) to ArviZ's
    segment-level LOO, at the cost of one PSIS per cell.
    """
    from arviz_stats import ELPDDataLOO  # also registers the .azstats accessor

    log_lik, cell_dim, counts, segment_cell, segment = _check_cells(
        log_lik, counts, segment_cell, segment
    )
    if isinstance(reff, xr.Dataset | xr.DataTree):
        reff = relative_efficiency(reff)
    reff = 1.0 if reff is None else float(reff)
    used = np.flatnonzero(counts)
    ll = log_lik.isel({cell_dim: used}).transpose(*SAMPLE_DIMS, cell_dim)
    elpd_c, k_c, p_c = ll.azstats.loo(sample_dims=list(SAMPLE_DIMS), r_eff=reff)
    position = np.full(counts.size, -1, dtype=np.int64)
    position[used] = np.arange(used.size)
    cells = (np.repeat(np.arange(counts.size), counts) if segment_cell is None
             else segment_cell)
    rows = position[cells]
    n = cells.size
    seg_coords: dict[str, Any] = {
        "segment": np.arange(n, dtype=np.int64) if segment is None else segment,
        "cell": ("segment", log_lik[cell_dim].values[cells]),
    }
    for name, coord in log_lik.coords.items():
        if coord.dims == (cell_dim,) and name != cell_dim:
            seg_coords[name] = ("segment", coord.values[cells])

    def expand(values: xr.DataArray, name: str) -> xr.DataArray:
        return xr.DataArray(np.asarray(values.values)[rows], dims="segment",
                            coords=seg_coords, name=name)

    elpd_i = expand(elpd_c, "elpd_i")
    pareto_k = expand(k_c, "pareto_k")
    p_loo_i = expand(p_c, "p_loo_i")
    elpd, se, p, _ = elpd_i.azstats.loo_summary(p_loo_i)
    n_samples = ll.sizes["chain"] * ll.sizes["draw"]
    threshold = good_k(n_samples)
    high = np.asarray(k_c.values) > threshold
    if high.any() and warn:
        _warn_high_k(threshold, int(counts[used][high].sum()), n, float(np.max(k_c.values)),
                     cells=(int(high.sum()), used.size))
    return ELPDDataLOO(
        elpd=float(elpd),
        se=float(se),
        p=float(p),
        n_samples=n_samples,
        n_data_points=n,
        scale="log",
        warning=bool(high.any()),
        good_k=threshold,
        elpd_i=elpd_i,
        pareto_k=pareto_k,
        p_loo_i=p_loo_i,
        approx_posterior=False,
    )


def tag_elpd(result: FitResult, elpd: Any, exact: bool) -> Any:
    """Record what :func:`compare` checks in the attrs of ``elpd``'s pointwise arrays.

    Parameters
    ----------
    result : FitResult
        The result scored: its ``spec["target"]``, data fingerprint and model name.
    elpd : ELPDData
        Its LOO, with ``elpd_i`` on dim ``segment``.
    exact : bool
        Whether the ``segment`` coordinate holds corpus positions (else 0..N-1).

    Returns
    -------
    ELPDData
        ``elpd`` (modified in place).
    """
    cfg = result.config
    for values in (elpd.elpd_i, elpd.pareto_k, getattr(elpd, "p_loo_i", None)):
        if values is not None:
            values.attrs.update({
                "target": str(result.spec.get("target")),
                "data_fingerprint": str(cfg.get("data_fingerprint") or ""),
                "model": str(cfg.get("model")),
                "segment_ids": int(exact),
            })
    return elpd


def loo_from_cells(result: FitResult, reff: float | None = None) -> Any:
    """PSIS-LOO of a result through its :meth:`cell_log_lik` hook (see module docstring).

    Parameters
    ----------
    result : FitResult
        A posterior result whose class implements ``cell_log_lik()``.
    reff : float, optional
        Relative efficiency; default computed as ArviZ does, on the reported posterior
        (``result.reported_posterior()``, the posterior of ``result.to_arviz()``).

    Returns
    -------
    arviz_stats.ELPDDataLOO
        As :func:`cell_loo`; ``elpd_i.attrs`` name the target, corpus and model.
    """
    if result.group != "posterior":
        raise ValueError("LOO needs posterior draws; this result holds prior draws")
    cells = result.cell_log_lik()
    elpd = cell_loo(cells.log_lik, cells.counts, cells.segment_cell,
                    result.reported_posterior() if reff is None else reff,
                    segment=cells.segment, warn=_warns_on_k(result))
    return tag_elpd(result, elpd, cells.segment is not None)


def _warns_on_k(result: FitResult) -> bool:
    """Whether LOO of ``result`` warns about high Pareto k (both paths).

    Not for a quick-mode fit (``LAGNEST_QUICK``): a smoke run of the code, whose few draws
    give high k by design.
    """
    return not result.config.get("quick")


def _warn_high_k(threshold: float, n_high: int, n: int, max_k: float,
                 cells: tuple[int, int] | None = None) -> None:
    """The one warning of both LOO paths on segments whose Pareto k exceeds ``threshold``.

    ``cells``: high-k cells and cells used, on the cell path.
    """
    where = f"{cells[0]} of {cells[1]} cells, " if cells is not None else ""
    warn_user(
        f"Pareto k > {threshold:.2f} for {n_high} of {n} segments ({where}max k "
        f"{max_k:.2f}): their PSIS-LOO "
        "elpd is unreliable; see lagnest.models.loo (more draws, more pooling, or "
        "leave_one_dyad_out)"
    )


def pointwise_loo(result: FitResult, segment: np.ndarray, coords: Mapping[str, np.ndarray],
                  reff: float | None = None, identified: bool = True) -> Any:
    """PSIS-LOO of a per-segment fit on PyMC's pointwise log-likelihood (the check path).

    Parameters
    ----------
    result : FitResult
        A posterior fit of a model built with ``per_segment=True`` (one likelihood term
        per segment, observed variable ``y``).
    segment : ndarray of int
        Position in the corpus of each likelihood term's target segment.
    coords : mapping of str to ndarray
        Labels per segment (``session``, ``target``, ...).
    reff : float, optional
        Relative efficiency (default: ArviZ's, from the posterior).
    identified : bool, default True
        Whether ``segment`` identifies corpus segments (for :func:`compare`).

    Returns
    -------
    arviz_stats.ELPDDataLOO
        Per-segment ``elpd_i``, ``pareto_k`` and ``p_loo_i`` on dim ``segment``.

    Warns
    -----
    UserWarning
        When some segments have Pareto k above ArviZ's ``good_k``: lagnest's warning of
        the cell path (ArviZ's own, which names neither count nor remedy, is replaced).
    """
    import arviz_stats
    import pymc as pm
    from scipy.special import logsumexp

    from lagnest.models.base import BayesianModel

    if result.group != "posterior":
        raise ValueError("LOO needs posterior draws; this result holds prior draws")
    model = BayesianModel.from_result(result).build()
    posterior = xr.DataTree.from_dict({"posterior": result.posterior})
    ll = pm.compute_log_likelihood(posterior, model=model, extend_inferencedata=False,
                                   progressbar=False)
    # the relative efficiency from the reported posterior, as the cell path computes it
    tree = xr.DataTree.from_dict({"posterior": result.reported_posterior(),
                                  "log_likelihood": ll})
    with warnings.catch_warnings():  # lagnest's own warning below, as on the cell path
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
        elpd = arviz_stats.loo(tree, pointwise=True, reff=reff)
    pareto_k = np.asarray(getattr(elpd.pareto_k, "values", elpd.pareto_k))
    high = pareto_k > elpd.good_k
    if high.any() and _warns_on_k(result):
        _warn_high_k(float(elpd.good_k), int(high.sum()), pareto_k.size,
                     float(np.max(pareto_k)))
    labelled = {"segment": segment, **{k: ("segment", v) for k, v in coords.items()}}

    def relabel(values: Any, name: str) -> xr.DataArray:
        return xr.DataArray(np.asarray(getattr(values, "values", values)), dims="segment",
                            coords=labelled, name=name)

    log_lik = tree["log_likelihood"]["y"].values.reshape(-1, segment.size)
    lppd_i = logsumexp(log_lik, axis=0) - np.log(log_lik.shape[0])
    elpd_i = relabel(elpd.elpd_i, "elpd_i")
    elpd = dataclasses.replace(
        elpd, elpd_i=elpd_i, pareto_k=relabel(elpd.pareto_k, "pareto_k"),
        p_loo_i=relabel(lppd_i - elpd_i, "p_loo_i"),
    )
    return tag_elpd(result, elpd, identified)


# =========================================================================== compare


def _segments(name: str, elpd: Any) -> np.ndarray:
    """Identities of one model's pointwise units, segments or dyads (raise when none)."""
    values = elpd.elpd_i
    if values is None or values.dims not in (("segment",), ("dyad",)) or (
            "target" not in values.attrs):
        raise SegmentMismatchError(
            f"model {name!r}: expected a lagnest LOO (result.loo() or leave_one_dyad_out) "
            "with pointwise elpd per segment or dyad; got an ELPDData without their "
            "identities"
        )
    if values.dims == ("dyad",):
        return np.asarray(values["dyad"].values).astype(str)
    if not values.attrs.get("segment_ids", 0):
        raise SegmentMismatchError(
            f"model {name!r} does not record which corpus segments it scored (fitted to "
            "simulated data or saved by an older lagnest); refit it on the corpus"
        )
    return np.asarray(values["segment"].values)


def _restrict(elpd: Any, keep: np.ndarray) -> Any:
    """``elpd`` on the segments ``keep`` (in that order), totals recomputed."""
    sel = {elpd.elpd_i.dims[0]: keep}
    elpd_i = elpd.elpd_i.sel(sel)
    n = int(keep.size)
    changes: dict[str, Any] = {"elpd_i": elpd_i, "n_data_points": n}
    if elpd.kind == "loo":
        if elpd.p_loo_i is None:
            raise SegmentMismatchError("restricting a LOO to common segments needs p_loo_i")
        p_i = elpd.p_loo_i.sel(sel)
        total, se, p, _ = elpd_i.azstats.loo_summary(p_i)
        k = elpd.pareto_k.sel(sel)
        changes.update(pareto_k=k, p_loo_i=p_i, log_weights=None,
                       warning=bool((k > elpd.good_k).any()))
    else:
        total, se = elpd_i.sum(), np.sqrt(n * np.var(elpd_i.values))
        p_i = elpd.p_kfold_i.sel(sel) if elpd.p_kfold_i is not None else None
        p = float(p_i.sum()) if p_i is not None else float("nan")
        changes["p_kfold_i"] = p_i
    changes.update(elpd=float(total), se=float(se), p=float(p))
    return dataclasses.replace(elpd, **changes)


def align_segments(loos: Mapping[str, Any], on: str = "same") -> dict[str, Any]:
    """Check that LOO results score the same segments of one target; align their order.

    Parameters
    ----------
    loos : mapping of str to ELPDData
        Results of ``result.loo()`` or :func:`leave_one_dyad_out`.
    on : {"same", "common"}
        ``"same"``: refuse unless every model scores the same segments; ``"common"``:
        keep the segments every model scores (totals recomputed on them).

    Returns
    -------
    dict of str to ELPDData
        Pointwise values in one segment order (increasing position in the corpus).

    Raises
    ------
    SegmentMismatchError
        Different targets or corpora, or (``on="same"``) different segments.
    """
    if on not in ("same", "common"):
        raise ValueError(f"on must be 'same' or 'common', got {on!r}")
    if not loos:
        raise ValueError("nothing to compare: pass at least one model")
    units = {name: elpd.elpd_i.dims for name, elpd in loos.items()}
    if len(set(units.values())) > 1:
        listed = ", ".join(f"{n!r} per {d[0]}" for n, d in units.items())
        raise SegmentMismatchError(
            f"models {listed}: segment-level LOO and leave-one-dyad-out score different "
            "units (one segment vs one whole dyad); compare like with like")
    ids = {name: _segments(name, elpd) for name, elpd in loos.items()}
    for key, what in (("target", "predict different targets"),
                      ("data_fingerprint", "were fitted to different corpora")):
        seen = {name: elpd.elpd_i.attrs.get(key) for name, elpd in loos.items()}
        if len(set(seen.values())) > 1:
            listed = ", ".join(f"{n!r} ({v!r})" for n, v in seen.items())
            raise SegmentMismatchError(f"models {listed} {what}: their elpd is not comparable")
    common = ids[next(iter(ids))]
    for values in ids.values():
        common = np.intersect1d(common, values)
    differ = {name: int(values.size - common.size) for name, values in ids.items()}
    if any(differ.values()):
        counts = ", ".join(f"{n!r} scores {ids[n].size} ({differ[n]} not scored by every "
                           "model)" for n in ids)
        if on == "same":
            raise SegmentMismatchError(
                f"the models were not fitted on the same target segments: {counts}; "
                "fit them with the same target and lag on segments coded for every "
                f"predictor, or pass on='common' to compare on the {common.size} "
                "segments they share"
            )
        if common.size == 0:
            raise SegmentMismatchError(f"the models share no target segment: {counts}")
    return {name: elpd if np.array_equal(ids[name], common) else _restrict(elpd, common)
            for name, elpd in loos.items()}


def compare(
    results: Mapping[str, Any],
    method: str = "stacking",
    on: str = "same",
    reference: str | None = None,
    round_to: int | str = "auto",
) -> pd.DataFrame:
    """Compare fitted models by their segment-level elpd (ArviZ's ``compare`` underneath).

    Parameters
    ----------
    results : mapping of str to FitResult or ELPDData
        Model name to a fitted result (its ``loo()`` is computed) or to a precomputed
        ``result.loo()`` / :func:`leave_one_dyad_out` result.
    method : {"stacking", "BB-pseudo-BMA", "pseudo-BMA"}
        How :func:`arviz_stats.compare` weighs the models.
    on : {"same", "common"}
        ``"same"`` (default): refuse models scored on different target segments;
        ``"common"``: compare on the segments every model scores.
    reference : str, optional
        Model the differences are taken against (default: the best).
    round_to : int or {"auto", "none"}
        Passed to :func:`arviz_stats.compare`.

    Returns
    -------
    pandas.DataFrame
        :func:`arviz_stats.compare`'s table: ``rank``, ``elpd_diff``, ``dse``,
        ``p_worse``, ``diag_diff``, ``diag_elpd``, ``p``, ``elpd``, ``se``, ``weight``.

    Raises
    ------
    SegmentMismatchError
        When the models predict different targets, were fitted to different corpora, or
        (``on="same"``) score different segments (e.g. other lags, or given codes
        uncoded on different segments); the message names the models and counts.

    Notes
    -----
    Segment-level LOO measures prediction of a left-out segment within the fitted
    sessions (its later segments included, so not a forecast); to compare prediction to
    new dyads, pass :func:`leave_one_dyad_out` results (one observation per dyad).
    """
    import arviz_stats

    loos = {}
    for name, res in results.items():
        if isinstance(res, arviz_stats.ELPDData):
            loos[name] = res
        elif callable(getattr(res, "loo", None)):
            loos[name] = res.loo()
        else:
            raise TypeError(f"model {name!r}: expected a FitResult with loo() or an "
                            f"ELPDData, got {type(res).__name__}")
    aligned = align_segments(loos, on=on)
    return arviz_stats.compare(aligned, method=method, reference=reference, round_to=round_to)


# =========================================================================== leave one dyad out


def _in_sample_dyad_lpd(result: FitResult, seqs: Any) -> dict[str, float]:
    """In-sample joint lpd of each dyad: log mean over draws of prod p(its segments)."""
    from scipy.special import logsumexp

    cells = result.cell_log_lik()
    ll = cells.log_lik.transpose(*SAMPLE_DIMS, "cell").values
    ll = ll.reshape(-1, ll.shape[-1]) * np.asarray(cells.counts)[None, :]
    dyad_of = {label: seqs.dyad_labels[d]
               for label, d in zip(seqs.session_labels, seqs.encoded.session_dyad, strict=True)}
    cell_dyad = np.array([dyad_of[str(v)] for v in cells.log_lik["session"].values])
    out = {}
    for dyad in np.unique(cell_dyad):
        total = ll[:, cell_dyad == dyad].sum(axis=1)
        out[str(dyad)] = float(logsumexp(total) - np.log(total.size))
    return out


def leave_one_dyad_out(
    model: BayesianModel,
    result: FitResult | None = None,
    n_new: int = 1000,
    seed: int | None = None,
    max_draws: int = 400,
    **fit_kwargs: Any,
) -> Any:
    r"""Exact leave-one-dyad-out cross-validation: refit without each dyad, score it as new.

    Parameters
    ----------
    model : BayesianModel
        A model on its corpus (``model.seqs``); its result class must implement the
        ``new_dyad_joint_log_lik`` hook (see the module docstring).
    result : FitResult, optional
        The fit of ``model`` on the whole corpus: gives ``p`` (in-sample joint lpd of the
        dyads minus the cross-validated elpd, as ArviZ's ``loo_kfold``); without it ``p``
        is NaN.
    n_new : int, default 1000
        New dyads (with new sessions) drawn per posterior draw to integrate over them.
    seed : int, optional
        Seeds every refit and the Monte Carlo draws (same seed, same numbers with
        PyMC's sampler).
    max_draws : int, default 400
        Posterior draws of each refit used (evenly thinned).
    **fit_kwargs
        Passed to every ``fit`` (``draws``, ``tune``, ``chains``, ``cores``, ...).

    Returns
    -------
    arviz_stats.ELPDDataLOOKFold
        ``kind="loo_kfold"``, one observation per dyad: ``elpd_i`` (dim ``dyad``) is the
        held-out dyad's *joint* elpd, ``elpd`` their sum and ``se`` =
        :math:`\sqrt{D\,\mathrm{Var}_d(\mathrm{elpd}_d)}` over the D dyads (the dyads,
        not the segments, are the independent units of a new-dyad prediction);
        ``n_data_points`` = D. :func:`compare` compares it with other dyad-level results
        of the same target (differences and their SE per dyad).

    Notes
    -----
    The elpd of held-out dyad d is

    .. math::

        \mathrm{elpd}_d = \log \frac{1}{S G} \sum_{s=1}^{S} \sum_{g=1}^{G}
        \prod_{i \in d} p(y_i \mid \theta_s, u_g)

    with :math:`\theta_s` the refit's posterior draws (without dyad d) and :math:`u_g`
    new dyad and session deviations drawn from the refit's scales: the predictive density
    of the dyad's whole record as one new dyad (the segments of a dyad share its
    deviations, so their densities are not multiplied after averaging). Nothing about
    the held-out dyad's outcomes enters its predictors (its covariates are standardised
    with the fitted corpus's scale; history terms are never centred).

    In quick mode (``LAGNEST_QUICK=1``, a smoke run of the code) only the first
    ``QUICK_HELD_OUT_DYADS`` (2) dyads are held out, and the result's ``elpd_i`` says so
    in its ``quick`` attribute.
    """
    from arviz_stats import ELPDDataLOOKFold
    from scipy.special import logsumexp

    from lagnest.models.base import resolve_seed

    seqs = model.seqs
    if seqs is None:
        raise ValueError("leave_one_dyad_out needs a model on its corpus (model.seqs)")
    if result is not None and result.id != model.id:
        raise ValueError(f"result (id {result.id}) is not a fit of this model (id {model.id})")
    if len(seqs.dyad_labels) < 2:
        raise LagnestDataError("leave-one-dyad-out needs at least two dyads; got one")
    if "observed" in fit_kwargs:
        raise TypeError("leave_one_dyad_out refits on the corpus; it takes no observed=")
    seed = resolve_seed(seed)
    elpd_d, dyads, n_samples = [], [], 0
    held_out = list(seqs.dyad_labels)
    if _fit.quick_mode():  # a smoke run of the code: the first dyads only
        held_out = held_out[:_fit.QUICK_HELD_OUT_DYADS]
    for i, dyad in enumerate(held_out):
        held = seqs.subset(dyads=[dyad])
        rest = seqs.subset(dyads=[d for d in seqs.dyad_labels if d != dyad])
        fold = type(model)(rest, **model.spec, priors=model.priors)
        fold_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0] % 2**31)
        fit = fold.fit(seed=fold_seed, **fit_kwargs)
        joint = fit.new_dyad_joint_log_lik(held, n_new, np.random.default_rng([seed, i, 1]),
                                           max_draws=max_draws)
        if not np.any(joint):  # the dyad has no segment to score
            continue
        elpd_d.append(float(logsumexp(joint) - np.log(joint.size)))
        dyads.append(str(dyad))
        n_samples = joint.shape[0]
    if not elpd_d:
        raise LagnestDataError("no dyad has a segment to score")
    elpd_i = xr.DataArray(
        np.asarray(elpd_d), dims="dyad", coords={"dyad": dyads}, name="elpd_i",
        attrs={"target": str(model.spec.get("target")),
               "data_fingerprint": str(model.config.get("data_fingerprint") or ""),
               "model": model.model_name, "segment_ids": 1,
               **({"quick": f"only {len(held_out)} of {len(seqs.dyad_labels)} dyads held "
                   "out (LAGNEST_QUICK)"} if len(held_out) < len(seqs.dyad_labels) else {})},
    )
    n = elpd_i.size
    p_i = None
    if result is not None:
        lpd = _in_sample_dyad_lpd(result, seqs)
        p_i = (xr.DataArray([lpd[d] for d in dyads], dims="dyad", coords={"dyad": dyads})
               - elpd_i).rename("p_kfold_i")
    return ELPDDataLOOKFold(
        elpd=float(elpd_i.sum()),
        se=float(np.sqrt(n * np.var(elpd_i.values))),
        p=float(p_i.sum()) if p_i is not None else float("nan"),
        n_samples=n_samples,
        n_data_points=n,
        scale="log",
        warning=False,
        good_k=None,
        elpd_i=elpd_i,
        n_folds=n,
        p_kfold_i=p_i,
    )
