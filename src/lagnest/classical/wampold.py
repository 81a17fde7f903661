"""Wampold's transformed kappa for sequential dependence, with O'Connor's conventions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from lagnest._version import __version__
from lagnest.classical.lagtable import count_table
from lagnest.classical.statistics import _safe_divide
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = ["wampold_kappa", "wampold_kappa_table"]


def _kappa_from_diff(diff: np.ndarray, expected: np.ndarray, maximum: np.ndarray) -> np.ndarray:
    """Transformed kappa: ``diff / (max - e)`` when positive, ``diff / e`` when negative."""
    kappa = _safe_divide(diff, maximum - expected)
    negative = kappa < 0
    kappa[negative] = _safe_divide(diff, expected)[negative]
    return kappa


def wampold_arrays(
    freqs: np.ndarray, code_freqs: np.ndarray, n: float, repeats: bool = True
) -> dict[str, np.ndarray]:
    """Unidirectional and bidirectional kappas of a K x K table; see :func:`wampold_kappa_table`."""
    f = np.asarray(freqs, dtype=float)
    nr = np.asarray(code_freqs, dtype=float)
    ni, nj = nr[:, None], nr[None, :]
    expected = ni * nj / n if repeats else _safe_divide(ni * nj, n - ni)
    var = ni * nj * (n - nj) * (n - ni) / (n**2 * (n - 1)) if n > 1 else np.full(f.shape, np.nan)
    ok = var > 0
    z = np.where(ok, (f - expected) / np.sqrt(np.where(ok, var, 1.0)), np.nan)
    kappa = np.where(ok, _kappa_from_diff(f - expected, expected, np.minimum(ni, nj)), np.nan)
    bi_counts = f + f.T
    bi_expected = 2 * ni * nj / n
    bi_var = 2 * ni * nj * (ni * nj + (n - ni) * (n - nj) - n) / (n**2 * (n - 1)) if n > 1 \
        else np.full(f.shape, np.nan)
    bi_diff = bi_counts - bi_expected
    bi_kappa = _kappa_from_diff(bi_diff, bi_expected, 2 * np.minimum(ni, nj))
    equal = np.broadcast_to(ni == nj, f.shape)
    bi_kappa[equal] = _safe_divide(bi_diff, (2 * nj - 1) - bi_expected)[equal]
    present = (ni > 0) & (nj > 0)
    bi_ok = present & (bi_var > 0)
    bi_z = np.where(bi_ok, bi_diff / np.sqrt(np.where(bi_ok, bi_var, 1.0)), np.nan)
    bi_kappa = np.where(present, bi_kappa, np.nan)
    if not repeats:
        diag = np.eye(f.shape[0], dtype=bool)
        for arr in (expected, z, kappa):
            arr[diag] = np.nan
    return {"counts": f, "expected": expected, "kappa": kappa, "z": z,
            "counts_bi": bi_counts, "expected_bi": bi_expected, "kappa_bi": bi_kappa,
            "z_bi": bi_z}


def wampold_kappa_table(
    counts: Any, code_freqs: Any = None, repeats: bool = True, tails: int = 2
) -> xr.Dataset:
    r"""Wampold's transformed kappas of a square lag table.

    Parameters
    ----------
    counts : array-like or xarray.DataArray, shape (K, K)
        Lag table of one stream (rows given, columns target, same codes).
    code_freqs : array-like, shape (K,), optional
        Frequency :math:`n_i` of each code in the sequence. Default, as O'Connor's programs
        do for a frequency-matrix input, the row totals (and :math:`n = N + 1`,
        see Notes).
    repeats : bool, default True
        Whether a code may follow itself. False uses
        :math:`e_{ij} = n_i n_j / (n - n_i)` and leaves the diagonal NaN.
    tails : {1, 2}, default 2
        p-values are ``tails * (1 - Phi(|z|))``.

    Returns
    -------
    xarray.Dataset
        On ``(given, target)``: unidirectional ``counts``, ``expected``, ``kappa``, ``z``,
        ``p`` and bidirectional ``counts_bi``, ``expected_bi``, ``kappa_bi``, ``z_bi``,
        ``p_bi``; ``code_freqs`` on ``given``; attrs ``n``, ``tails``, ``repeats``.

    Notes
    -----
    Formulas of O'Connor's (1999) LagSeq programs (the R port ``LagSequential``),
    following Wampold & Margolin (1982) and Wampold (1989, 1992). With :math:`n` events,
    code frequencies :math:`n_i` and observed :math:`f_{ij}`:

    .. math::

        e_{ij} = \frac{n_i n_j}{n},\quad
        \sigma^2_{ij} = \frac{n_i n_j (n - n_j)(n - n_i)}{n^2 (n - 1)},\quad
        z_{ij} = \frac{f_{ij} - e_{ij}}{\sigma_{ij}}

    .. math::

        \kappa_{ij} = \frac{f_{ij} - e_{ij}}{\min(n_i, n_j) - e_{ij}}
        \text{ if this is} \ge 0, \text{ else } \frac{f_{ij} - e_{ij}}{e_{ij}}

    Bidirectional (i -> j and j -> i pooled), with :math:`b_{ij} = f_{ij} + f_{ji}`:

    .. math::

        e^b_{ij} = \frac{2 n_i n_j}{n},\quad
        \sigma^{2,b}_{ij} = \frac{2 n_i n_j (n_i n_j + (n - n_i)(n - n_j) - n)}
        {n^2 (n - 1)}

    and :math:`\kappa^b = (b - e^b)/(2\min(n_i, n_j) - e^b)` (or :math:`/e^b` when
    negative), replaced by :math:`(b - e^b)/((2 n_j - 1) - e^b)` whenever
    :math:`n_i = n_j` (including the diagonal), exactly as O'Connor's code does.
    Cells whose formula divides by zero are NaN (O'Connor prints -9999).

    References
    ----------
    .. [1] O'Connor, B. P. (1999). Simple and flexible SAS and SPSS programs for analyzing
       lag-sequential categorical data. *Behavior Research Methods, Instruments, &
       Computers, 31*, 718-726.
    .. [2] Wampold, B. E. (1989). Kappa as a measure of pattern in sequential data.
       *Quality & Quantity, 23*, 171-187.
    .. [3] Wampold, B. E., & Margolin, G. (1982). Nonparametric strategies to test the
       independence of behavioral states in sequential data. *Psychological Bulletin,
       92*, 755-765.

    Examples
    --------
    >>> import numpy as np
    >>> ds = wampold_kappa_table(np.array([[0, 4], [4, 0]]), code_freqs=[5, 4])
    >>> ds.kappa.values.round(3)
    array([[-1.,  1.],
           [ 1., -1.]])
    """
    if isinstance(counts, xr.DataArray):
        labels = [list(counts[d].values) for d in counts.dims]
        f = counts.values
    else:
        f = np.asarray(counts)
        labels = [list(range(f.shape[0])), list(range(f.shape[-1]))]
    if f.ndim != 2 or f.shape[0] != f.shape[1]:
        raise LagnestDataError(f"Wampold's kappa needs a square K x K table, got {f.shape}")
    if tails not in (1, 2):
        raise LagnestDataError(f"tails must be 1 or 2, got {tails!r}")
    if code_freqs is None:
        nr = f.sum(1).astype(float)
        n_total = nr.sum() + 1
    else:
        nr = np.asarray(code_freqs, dtype=float)
        n_total = nr.sum()
    arrays = wampold_arrays(f, nr, n_total, repeats)
    dims = ("given", "target")
    ds = xr.Dataset({k: (dims, v) for k, v in arrays.items()},
                    coords={"given": labels[0], "target": labels[1]})
    ds["p"] = (dims, tails * special.ndtr(-np.abs(arrays["z"])))
    ds["p_bi"] = (dims, tails * special.ndtr(-np.abs(arrays["z_bi"])))
    ds["code_freqs"] = ("given", nr)
    ds.attrs.update(n=float(n_total), tails=int(tails), repeats=int(repeats),
                    lagnest_version=__version__)
    return ds


def _block_end_codes(codes: np.ndarray, block_offsets: np.ndarray, k: int) -> np.ndarray:
    """Count, per code, the blocks whose last segment carries it."""
    ends = np.asarray(block_offsets)[1:] - 1
    sizes = np.diff(np.asarray(block_offsets))
    last = codes[ends[sizes > 0]]
    return np.bincount(last[last >= 0], minlength=k)


def wampold_kappa(
    seqs: Sequences, stream: str, lag: int = 1, repeats: bool = True, tails: int = 2
) -> xr.Dataset:
    r"""Wampold's transformed kappa (unidirectional and bidirectional) of one stream.

    Parameters
    ----------
    seqs : Sequences
        The data.
    stream : str
        A categorical stream (given = target).
    lag : int, default 1
        Lag of the pairs.
    repeats : bool, default True
        Whether a code may follow itself (O'Connor's ``adjacent``).
    tails : {1, 2}, default 2
        p-values are ``tails * (1 - Phi(|z|))``.

    Returns
    -------
    xarray.Dataset
        See :func:`wampold_kappa_table`; attrs add ``stream`` and ``lag``.

    Notes
    -----
    O'Connor's programs take one sequence of n events and set :math:`n_i` to the row
    totals of the lag table plus one for the code of the last event (so
    :math:`n = N + 1`, also at lags above 1). Here the same rule is applied to every
    block (run of segments without a break inside a session): :math:`n_i` is the row
    total plus the number of blocks whose last segment carries code i, and
    :math:`n = \sum_i n_i`. For a single coded sequence this is exactly O'Connor's
    convention. See :func:`wampold_kappa_table` for the formulas.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("ababababa")]})
    >>> wampold_kappa(seqs, "code").kappa.values.round(3)
    array([[-1.,  1.],
           [ 1., -1.]])
    """
    counts = count_table(seqs, stream, stream, lag=lag)
    codes, labels = seqs.categorical(stream)
    extra = _block_end_codes(np.asarray(codes), seqs.encoded.block_offsets, len(labels))
    code_freqs = counts.values.sum(1) + extra
    ds = wampold_kappa_table(counts, code_freqs=code_freqs, repeats=repeats, tails=tails)
    ds.attrs.update(stream=str(stream), lag=int(lag))
    return ds
