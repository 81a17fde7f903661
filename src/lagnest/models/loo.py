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

**What it measures.** Segment-level LOO scores how well a model predicts *one more
segment* of the dyads and sessions it was fitted to (one-step-ahead prediction within
the observed dyads: the held-out segment's own dyad and session deviations stay
informed by the rest of that session). It does not say how well a model predicts a
*new dyad*: for that, :func:`leave_one_dyad_out` refits the model without each dyad in
turn and scores that dyad's segments under a new dyad and new sessions drawn from the
fitted hierarchy (exact, one refit per dyad).

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

``result.new_dyad_log_lik(seqs, n_new, rng) -> CellLogLik``
    For the corpus ``seqs`` of one held-out dyad (``full.subset(dyads=[d])``), built
    with the result's own spec: per posterior draw, the log of the probability of one
    segment of each cell averaged over ``n_new`` new dyads and new sessions drawn from
    the fitted group scales (Monte Carlo with ``rng``). ``segment`` holds positions in
    ``seqs``; :func:`leave_one_dyad_out` maps them to the full corpus. A held-out corpus
    without a scored segment returns a :class:`CellLogLik` with no segment.

Results of :func:`cell_loo` and :func:`leave_one_dyad_out` are ArviZ ``ELPDData`` objects
(``ELPDDataLOO``, ``ELPDDataLOOKFold``) with per-segment ``elpd_i`` (dim ``segment``,
coordinate = position of the target segment in the corpus, plus the cell's labels as
coordinates), so :func:`arviz_stats.compare` works on them unchanged;
:func:`compare` adds the check that the models score the same segments of one target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from lagnest._warnings import warn_user
from lagnest.errors import LagnestDataError

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
    if high.any():
        warn_user(
            f"Pareto k > {threshold:.2f} for {int(counts[used][high].sum())} of {n} "
            f"segments ({int(high.sum())} of {used.size} cells, max k "
            f"{float(np.max(k_c.values)):.2f}): their PSIS-LOO elpd is unreliable; see "
            "lagnest.models.loo (more draws, more pooling, or leave_one_dyad_out)"
        )
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
        Relative efficiency; default computed from ``result.posterior`` as ArviZ does.

    Returns
    -------
    arviz_stats.ELPDDataLOO
        As :func:`cell_loo`; ``elpd_i.attrs`` name the target, corpus and model.
    """
    if result.group != "posterior":
        raise ValueError("LOO needs posterior draws; this result holds prior draws")
    cells = result.cell_log_lik()
    elpd = cell_loo(cells.log_lik, cells.counts, cells.segment_cell,
                    result.posterior if reff is None else reff, segment=cells.segment)
    return tag_elpd(result, elpd, cells.segment is not None)


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
    tree = xr.DataTree.from_dict({"posterior": result.posterior, "log_likelihood": ll})
    elpd = arviz_stats.loo(tree, pointwise=True, reff=reff)
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
    """Segment identities of one model's pointwise elpd (raise when it has none)."""
    values = elpd.elpd_i
    if values is None or values.dims != ("segment",) or "target" not in values.attrs:
        raise SegmentMismatchError(
            f"model {name!r}: expected a lagnest LOO (result.loo() or leave_one_dyad_out) "
            "with pointwise elpd per segment; got an ELPDData without segment identities"
        )
    if not values.attrs.get("segment_ids", 0):
        raise SegmentMismatchError(
            f"model {name!r} does not record which corpus segments it scored (fitted to "
            "simulated data or saved by an older lagnest); refit it on the corpus"
        )
    return np.asarray(values["segment"].values)


def _restrict(elpd: Any, keep: np.ndarray) -> Any:
    """``elpd`` on the segments ``keep`` (in that order), totals recomputed."""
    sel = {"segment": keep}
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
    Segment-level LOO measures one-step-ahead prediction within the fitted dyads; to
    compare prediction to new dyads, pass :func:`leave_one_dyad_out` results.
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


def _corpus_positions(full: Any, part: Any) -> np.ndarray:
    """Position in ``full`` of every segment of ``part`` (a subset of sessions)."""
    index = {label: i for i, label in enumerate(full.session_labels)}
    full_off = full.encoded.session_offsets
    part_off = part.encoded.session_offsets
    out = np.empty(int(part_off[-1]), dtype=np.int64)
    for j, label in enumerate(part.session_labels):
        start = full_off[index[label]]
        out[part_off[j]:part_off[j + 1]] = np.arange(start, start + part_off[j + 1] - part_off[j])
    return out


def _cell_elpd(cells: CellLogLik) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log predictive density per segment and the segments' corpus positions."""
    from scipy.special import logsumexp

    ll = cells.log_lik.transpose(*SAMPLE_DIMS, ...).values
    n_samples = ll.shape[0] * ll.shape[1]
    lpd_c = logsumexp(ll.reshape(n_samples, -1), axis=0) - np.log(n_samples)
    counts = np.asarray(cells.counts)
    seg_cell = (np.repeat(np.arange(counts.size), counts) if cells.segment_cell is None
                else np.asarray(cells.segment_cell))
    if cells.segment is None:
        raise SegmentMismatchError("the result does not record which segments it scored")
    return lpd_c[seg_cell], np.asarray(cells.segment)


def leave_one_dyad_out(
    model: BayesianModel,
    result: FitResult | None = None,
    n_new: int = 400,
    seed: int | None = None,
    **fit_kwargs: Any,
) -> Any:
    """Exact leave-one-dyad-out cross-validation: refit without each dyad, score it as new.

    Parameters
    ----------
    model : BayesianModel
        A model on its corpus (``model.seqs``); its result class must implement the
        ``new_dyad_log_lik`` hook (see the module docstring).
    result : FitResult, optional
        The fit of ``model`` on the whole corpus: gives ``p`` (in-sample lpd minus the
        cross-validated elpd, as ArviZ's ``loo_kfold``); without it ``p`` is NaN.
    n_new : int, default 400
        New dyads (and sessions) drawn per posterior draw to integrate over them.
    seed : int, optional
        Seeds every refit and the Monte Carlo draws (same seed, same numbers with
        PyMC's sampler).
    **fit_kwargs
        Passed to every ``fit`` (``draws``, ``tune``, ``chains``, ``cores``, ...).

    Returns
    -------
    arviz_stats.ELPDDataLOOKFold
        ``kind="loo_kfold"``, ``n_folds`` = dyads with scored segments, ``elpd_i`` per
        segment (dim ``segment`` = position in the corpus, coordinate ``dyad``), ``se``
        = sqrt(N Var(elpd_i)) as ArviZ's k-fold; comparable by :func:`compare` with
        other results of the same target.

    Notes
    -----
    ``elpd_i`` of a held-out segment is the log of its predictive probability
    averaged over the refit's posterior draws and over new dyads and sessions drawn from
    the fitted scales: the pointwise (marginal) predictive density, as in ArviZ's and
    brms' k-fold. It measures prediction to a new dyad (one refit per dyad); segment-level
    :meth:`loo` measures prediction within the fitted dyads.
    """
    from arviz_stats import ELPDDataLOOKFold

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
    elpd_parts, seg_parts, dyad_parts = [], [], []
    n_samples = 0
    for i, dyad in enumerate(seqs.dyad_labels):
        held = seqs.subset(dyads=[dyad])
        rest = seqs.subset(dyads=[d for d in seqs.dyad_labels if d != dyad])
        fold = type(model)(rest, **model.spec, priors=model.priors)
        fold_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0] % 2**31)
        fit = fold.fit(seed=fold_seed, **fit_kwargs)
        cells = fit.new_dyad_log_lik(held, n_new, np.random.default_rng([seed, i, 1]))
        if cells.n_segments == 0:
            continue
        lpd, local = _cell_elpd(cells)
        elpd_parts.append(lpd)
        seg_parts.append(_corpus_positions(seqs, held)[local])
        dyad_parts.append(np.full(lpd.size, dyad, dtype=object))
        n_samples = cells.log_lik.sizes["chain"] * cells.log_lik.sizes["draw"]
    if not elpd_parts:
        raise LagnestDataError("no dyad has a segment to score")
    segment = np.concatenate(seg_parts)
    order = np.argsort(segment, kind="stable")
    elpd_i = xr.DataArray(
        np.concatenate(elpd_parts)[order], dims="segment",
        coords={"segment": segment[order], "dyad": ("segment", np.concatenate(dyad_parts)[order])},
        name="elpd_i",
        attrs={"target": str(model.spec.get("target")),
               "data_fingerprint": str(model.config.get("data_fingerprint") or ""),
               "model": model.model_name, "segment_ids": 1},
    )
    n = elpd_i.size
    p_i = None
    if result is not None:
        lpd_full, seg_full = _cell_elpd(result.cell_log_lik())
        where = np.searchsorted(seg_full, elpd_i["segment"].values)
        if np.any(where >= seg_full.size) or np.any(seg_full[np.minimum(where, seg_full.size - 1)]
                                                   != elpd_i["segment"].values):
            raise SegmentMismatchError("the full fit scores other segments than the refits")
        p_i = (xr.zeros_like(elpd_i) + lpd_full[where] - elpd_i.values).rename("p_kfold_i")
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
        n_folds=len(elpd_parts),
        p_kfold_i=p_i,
    )
