"""Permutation tests of lag-sequential tables (within-session shuffles, in numba)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import xarray as xr

from lagnest import kernels
from lagnest.classical.lagtable import _resolve, lag_table
from lagnest.classical.statistics import structural_zero_mask, table_arrays
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = ["permutation_pvalues", "permutation_test"]

Alternative = Literal["two-sided", "greater", "less"]
_ALTERNATIVES = ("two-sided", "greater", "less")
#: Permutations per chunk (one progress-bar step). Fixed, so results never depend on
#: whether a progress bar is shown.
CHUNK_SIZE = 1000
#: Relative tolerance under which a permuted statistic ties with the observed one.
TIE_TOLERANCE = 1e-9


def _progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar when ``enabled`` (tqdm is an optional dependency), else None."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "progress=True needs tqdm: pip install 'lagnest[progress]' (or pip install tqdm)"
        ) from err
    return tqdm(total=total, unit="perm", desc="permutations")


def _chunks(n_perm: int) -> Iterator[tuple[int, int]]:
    """Fixed ``(start, stop)`` chunks of the permutation indices."""
    for start in range(0, n_perm, CHUNK_SIZE):
        yield start, min(start + CHUNK_SIZE, n_perm)


def _extreme(perm: np.ndarray, obs: np.ndarray, alternative: str, center=0.0) -> np.ndarray:
    """Count permuted values as or more extreme than observed (NaN never counts)."""
    tol = TIE_TOLERANCE * np.maximum(1.0, np.abs(obs))
    with np.errstate(invalid="ignore"):
        if alternative == "greater":
            hit = perm >= obs - tol
        elif alternative == "less":
            hit = perm <= obs + tol
        else:
            hit = np.abs(perm - center) >= np.abs(obs - center) - tol
    return hit.sum(axis=0)


def _table_generator(given, target, block_offsets, session_offsets, n_given, n_target, lag,
                     window, seed, n_perm, forbidden) -> Callable[[int, int], np.ndarray]:
    """Return ``draw(start, stop)`` producing the permuted tables of that chunk."""
    if forbidden is None or not forbidden.any():
        seeds = kernels.permutation_seeds(seed, n_perm)

        def draw(start: int, stop: int) -> np.ndarray:
            return kernels.permuted_tables(given, target, block_offsets, session_offsets,
                                           n_given, n_target, seeds[start:stop], lag, window)

        return draw
    if window is not None:
        raise LagnestDataError("structural zeros with a window are not supported")
    shuffler = kernels.ConstrainedShuffler(given, target, block_offsets, session_offsets,
                                           forbidden, lag, seed)

    def draw_constrained(start: int, stop: int) -> np.ndarray:
        per_chain = -(-(stop - start) // shuffler.n_chains)
        return shuffler.draw(per_chain)[: stop - start]

    return draw_constrained


def permutation_pvalues(
    given: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    session_offsets: np.ndarray,
    n_given: int,
    n_target: int,
    lag: int = 1,
    n_perm: int = 10_000,
    seed: int | None = 0,
    alternative: Alternative = "two-sided",
    structural_zeros: np.ndarray | None = None,
    window: int | None = None,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Array layer of :func:`permutation_test`: p-values from code arrays.

    Returns a dict with ``p_adj_resid``, ``p_counts``, ``perm_mean_counts`` (K x M) and
    ``p_X2``, ``p_G2`` (scalars), plus the observed ``counts``. p-values are NaN in cells
    where the observed statistic is undefined (NaN adjusted residual, structural zero).
    """
    if alternative not in _ALTERNATIVES:
        raise LagnestDataError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")
    if isinstance(n_perm, bool) or not isinstance(n_perm, int | np.integer) or n_perm < 1:
        raise LagnestDataError(f"n_perm must be a positive integer, got {n_perm!r}")
    lag, w = kernels.check_lag(lag, window)
    if lag == 0 and not w:
        raise LagnestDataError("lag 0 tables do not change under a within-session shuffle")
    observed = kernels.lag_counts(given, target, block_offsets, None, n_given, n_target, 1,
                                  lag, window)[0]
    draw = _table_generator(given, target, block_offsets, session_offsets, n_given, n_target,
                            lag, window, seed, n_perm, structural_zeros)
    return {"counts": observed, **pvalues_from_tables(observed, draw, n_perm, alternative,
                                                      structural_zeros, progress)}


def pvalues_from_tables(observed: np.ndarray, draw: Callable[[int, int], np.ndarray],
                        n_perm: int, alternative: str, structural_zeros: Any = None,
                        progress: bool = False) -> dict[str, Any]:
    """p-values of an observed table against ``n_perm`` permuted tables.

    The one counting rule of every permutation test (segments or timed events): a
    permuted table counts as extreme when its statistic is at least as far out as the
    observed one (adjusted residuals and counts by ``alternative``, X² and G² from
    above), and p = (1 + extreme) / (1 + n_perm).

    Parameters
    ----------
    observed : ndarray of int, shape (K, M)
    draw : callable
        ``draw(start, stop)`` returns the permuted tables ``start .. stop - 1``, shape
        ``(stop - start, K, M)`` (drawn in chunks to bound memory).
    n_perm : int
    alternative : {"two-sided", "greater", "less"}
    structural_zeros : bool ndarray, optional
        Cells that cannot occur (their p-values are NaN).
    progress : bool, default False

    Returns
    -------
    dict
        ``p_adj_resid``, ``p_counts``, ``perm_mean_counts`` (K x M), ``p_X2``, ``p_G2``.
    """
    obs = table_arrays(observed, structural_zeros)
    tables = np.empty((n_perm, *observed.shape), dtype=np.int64)
    hits = {"adj_resid": np.zeros(observed.shape), "X2": 0.0, "G2": 0.0}
    bar = _progress_bar(n_perm, progress)
    try:
        for start, stop in _chunks(n_perm):
            tables[start:stop] = draw(start, stop)
            perm = table_arrays(tables[start:stop], structural_zeros)
            hits["adj_resid"] += _extreme(perm["adj_resid"], obs["adj_resid"], alternative)
            for name in ("X2", "G2"):
                hits[name] += _extreme(perm[name], obs[name], "greater")
            if bar is not None:
                bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
    mean_counts = tables.mean(axis=0)
    count_hits = _extreme(tables, observed, alternative, center=mean_counts)
    scale = 1.0 / (1 + n_perm)
    undefined = ~np.isfinite(obs["adj_resid"])
    p_counts = (1 + count_hits) * scale
    if structural_zeros is not None:
        p_counts[structural_zeros] = np.nan
    return {
        "p_adj_resid": np.where(undefined, np.nan, (1 + hits["adj_resid"]) * scale),
        "p_counts": p_counts,
        "perm_mean_counts": mean_counts,
        "p_X2": float((1 + hits["X2"]) * scale),
        "p_G2": float((1 + hits["G2"]) * scale),
    }


def permutation_test(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    n_perm: int = 10_000,
    seed: int | None = 0,
    alternative: Alternative = "two-sided",
    structural_zeros: Any = None,
    window: int | None = None,
    progress: bool = False,
) -> xr.Dataset:
    r"""Permutation test of a lag table: shuffle within each session, recount, compare.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target : str
        Categorical streams or single codes (indicator sets are not supported: test each
        indicator separately).
    lag : int, default 1
        Lag (not 0: a joint shuffle does not change co-occurrence tables).
    n_perm : int, default 10_000
        Number of permutations.
    seed : int or None, default 0
        Seed; the same seed gives the same p-values on any number of threads.
    alternative : {"two-sided", "greater", "less"}
        Direction for the per-cell p-values (``X2`` and ``G2`` are always upper-tailed).
    structural_zeros : None, "diagonal", bool mask or list of pairs
        Structural zeros: expected counts by IPF (see :func:`lagnest.table_statistics`)
        and a constrained shuffle that never fills a forbidden cell.
    window : int, optional
        Test window counts (see :func:`lagnest.lag_table`) instead of lag counts.
    progress : bool, default False
        Show a tqdm progress bar (needs ``tqdm``).

    Returns
    -------
    xarray.Dataset
        :func:`lagnest.lag_table` output plus ``p_perm_adj_resid`` and ``p_perm_counts``
        (per cell) and ``perm_mean_counts`` (mean permuted count, the expected count under
        the permutation null); attrs ``p_perm_X2``, ``p_perm_G2``, ``n_perm``, ``seed``,
        ``alternative``, ``shuffle``.

    See Also
    --------
    lagnest.kernels.permuted_tables : the unconstrained shuffle.
    lagnest.kernels.ConstrainedShuffler : the shuffle that respects structural zeros.

    Notes
    -----
    Under the null the segments of a session are exchangeable. Each permutation shuffles
    the rows ``(given_t, target_t)`` of every session jointly among the segments where both
    are coded (uncoded segments and breaks stay in place, so N is unchanged), recounts the
    pooled table and recomputes its statistics. With :math:`B` the number of permutations
    whose statistic is as or more extreme than observed,

    .. math:: p = \frac{1 + B}{1 + n_{perm}}

    (Phipson & Smyth 2010), so p is never 0. "As extreme" is, per cell, :math:`z^* \ge z`
    (greater), :math:`z^* \le z` (less) or :math:`|z^*| \ge |z|` (two-sided) for the
    adjusted residual; for counts the two-sided distance is taken from
    ``perm_mean_counts``. Ties within a relative ``1e-9`` count as extreme.

    With structural zeros the unconstrained shuffle would create forbidden transitions;
    a Markov chain of swaps that rejects any swap creating one is used instead (32
    fixed chains, see :class:`lagnest.kernels.ConstrainedShuffler`).

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.
    .. [2] Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero.
       *Statistical Applications in Genetics and Molecular Biology, 9*\ (1).

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("ababababab")] * 3})
    >>> res = permutation_test(seqs, "code", "code", n_perm=199, seed=1)
    >>> float(res.p_perm_adj_resid.sel(given="a", target="b"))
    0.005
    """
    g, t = _resolve(seqs, given), _resolve(seqs, target)
    if g.is_set or t.is_set:
        raise LagnestDataError(
            "permutation_test takes one categorical given and target; test each indicator "
            "of a set separately"
        )
    ds = lag_table(seqs, given, target, lag=lag, structural_zeros=structural_zeros,
                   window=window)
    zeros = structural_zero_mask(structural_zeros, ds["counts"].shape,
                                 list(ds.given.values), list(ds.target.values))
    enc = seqs.encoded
    res = permutation_pvalues(g.values, t.values, enc.block_offsets, enc.session_offsets,
                              len(g.labels), len(t.labels), lag=lag, n_perm=n_perm, seed=seed,
                              alternative=alternative, structural_zeros=zeros, window=window,
                              progress=progress)
    dims = ("given", "target")
    ds["p_perm_adj_resid"] = (dims, res["p_adj_resid"])
    ds["p_perm_counts"] = (dims, res["p_counts"])
    ds["perm_mean_counts"] = (dims, res["perm_mean_counts"])
    ds["p_perm_adj_resid"].attrs["description"] = f"permutation p of adj_resid ({alternative})"
    ds["p_perm_counts"].attrs["description"] = f"permutation p of counts ({alternative})"
    ds["perm_mean_counts"].attrs["description"] = "mean count over permutations"
    shuffle = "within-session" if zeros is None or not zeros.any() else "constrained-swap-chain"
    ds.attrs.update(p_perm_X2=float(res["p_X2"]), p_perm_G2=float(res["p_G2"]),
                    n_perm=int(n_perm), seed=-1 if seed is None else int(seed),
                    alternative=alternative, shuffle=shuffle)
    return ds
