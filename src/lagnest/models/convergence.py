"""Rank-normalised split R-hat and bulk / tail ESS of many parameters at once.

The statistics are ArviZ's (``arviz_stats``: Vehtari, Gelman, Simpson, Carpenter and
Bürkner 2021), computed here for every parameter cell in one pass of array operations.
ArviZ loops over the cells in Python, calling the rank transform, the FFT and Geyer's
sequences once per cell and per statistic; a transition model's fit has about a thousand
cells (session deviations), and the diagnostics of one short fit took longer than its
sampling. The result equals ArviZ's to rounding (``tests/models/test_convergence.py``
compares them on autocorrelated, anti-correlated, constant, tied and NaN cells), and
ArviZ remains the definition: any change of its method is a change here.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["convergence_table"]

#: Blom's offset of the rank back-transform.
_BLOM = 3.0 / 8.0


def _split(x: np.ndarray) -> np.ndarray:
    """``(C, D, N)`` -> ``(2C, D // 2, N)``: each chain's first and last halves."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks of each cell over all chains and draws (ties averaged)."""
    by_cell = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)  # rank along rows: fast
    rank = rankdata(by_cell, method="average", axis=1)
    z = ndtri((rank - _BLOM) / (by_cell.shape[1] - 2 * _BLOM + 1))
    return z.T.reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Classic R-hat of each cell of ``(C, n, N)``."""
    n = x.shape[1]
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    within = x.var(axis=1, ddof=1).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of each cell of ``(C, n, N)`` (Geyer's initial sequences)."""
    chains, n, _ = x.shape
    total = chains * n
    m = next_fast_len(2 * n)
    spectrum = np.fft.rfft(x - x.mean(axis=1, keepdims=True), n=m, axis=1)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=m, axis=1)[:, :n] / n
    mean_var = acov[:, 0].mean(axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus = var_plus + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (n, N), one row per lag
    # Geyer's initial positive sequence over the pairs k = (2k, 2k + 1); pair 0 = (1, rho_1)
    k_max = sum(1 for k in range(1, n) if 2 * k - 1 < n - 3)  # pairs the loop may reach
    pairs = np.arange(1, k_max + 1)
    even, odd = rho[2 * pairs], rho[2 * pairs + 1]  # (k_max, N)
    sums = np.vstack([1.0 + rho[1][None], even + odd])  # S_0 .. S_kmax
    stop = np.where((sums <= 0).any(axis=0), np.argmax(sums <= 0, axis=0), np.inf)
    last = np.minimum(stop, k_max).astype(np.int64)  # pairs the loop evaluated, per cell
    cells = np.arange(x.shape[-1])
    out = np.zeros((2 * k_max + 2, x.shape[-1]))
    out[0], out[1] = 1.0, rho[1]
    # (a pair up to ``stop`` is never beyond ``last``: pairs run to k_max at most)
    written = (pairs[:, None] < stop[None]) | ((pairs[:, None] == stop[None]) & (
        sums[1:] == 0))
    out[2 * pairs] = np.where(written, even, 0.0)
    out[2 * pairs + 1] = np.where(written, odd, 0.0)
    last_even = np.where(last > 0, rho[2 * last, cells], 1.0)
    out[2 * last, cells] = np.where(last_even > 0, last_even, out[2 * last, cells])
    # Geyer's initial monotone sequence: pair sums 1 .. last - 1 made non-increasing
    pair_sums = out[0::2] + out[1::2]
    running = np.minimum.accumulate(pair_sums, axis=0)
    j = np.arange(pair_sums.shape[0])[:, None]
    lowered = (j >= 1) & (j <= last[None] - 1) & (running < pair_sums)
    out[0::2] = np.where(lowered, running / 2.0, out[0::2])
    out[1::2] = np.where(lowered, running / 2.0, out[1::2])
    index = np.arange(out.shape[0])[:, None]
    tau = (-1.0 + 2.0 * np.where(index < 2 * last[None], out, 0.0).sum(axis=0)
           + out[2 * last, cells])
    tau = np.maximum(tau, 1.0 / np.log10(total))
    ess = total / tau
    ess[np.isnan(np.where(index <= 2 * last[None] + 1, out, 0.0)).any(axis=0)] = np.nan
    constant = (x.max(axis=(0, 1)) - x.min(axis=(0, 1))) < np.finfo(float).resolution
    return np.where(constant, float(total), ess)


def convergence_table(x: np.ndarray, tail_prob: float = 0.89
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank-normalised split R-hat, bulk ESS and tail ESS of every cell.

    Parameters
    ----------
    x : ndarray, shape (chain, draw, cell)
    tail_prob : float, default 0.89
        The tail ESS is the smaller of the ESS of the indicators of the
        ``(1 - tail_prob, tail_prob)`` quantiles (ArviZ's ``stats.ci_prob``).

    Returns
    -------
    rhat, ess_bulk, ess_tail : ndarray, shape (cell,)
        NaN for a cell with a NaN draw, fewer than 4 draws, or (R-hat) one chain.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (chain, draw, cell), got {x.shape}")
    n_cells = x.shape[-1]
    nan = np.full(n_cells, np.nan)
    if x.shape[1] < 4 or n_cells == 0:
        return nan, nan.copy(), nan.copy()
    bad = np.isnan(x).any(axis=(0, 1))
    clean = np.where(bad[None, None], 0.0, x)
    split = _split(clean)
    z_split = _z_scale(split)  # ranked once: the bulk R-hat and the bulk ESS both use it
    if x.shape[0] >= 2:
        folded = np.abs(split - np.median(split, axis=(0, 1)))
        bulk_rhat, tail_rhat = _rhat(z_split), _rhat(_z_scale(folded))
        # ArviZ's max(bulk, tail): the bulk value unless the tail one is larger (a NaN
        # tail, from a folded cell that is constant, leaves the bulk value)
        rhat = np.where(tail_rhat > bulk_rhat, tail_rhat, bulk_rhat)
    else:
        rhat = nan.copy()
    bulk = _ess(z_split)
    flat = clean.reshape(-1, n_cells)
    low, high = sorted((tail_prob, 1.0 - tail_prob))
    tail = np.minimum(*(_ess(_split((clean <= np.quantile(flat, p, axis=0)).astype(float)))
                        for p in (low, high)))
    return (np.where(bad, np.nan, rhat), np.where(bad, np.nan, bulk),
            np.where(bad, np.nan, tail))
