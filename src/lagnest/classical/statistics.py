"""Statistics of count tables: the array layer of the classical statistics.

Statistics of count tables, the array layer of the classical statistics: expected counts
(independence, or quasi-independence by iterative proportional fitting when some cells are
structural zeros), adjusted residuals, odds ratios, Yule's Q, X², G² and their degrees of
freedom (formulas in ``docs/classical.md``), and :func:`table_statistics`, their labelled
form for any table of counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from lagnest._version import __version__
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    pass

__all__ = [
    "CELL_VARIABLES",
    "IPF_MAX_ITER",
    "IPF_TOLERANCE",
    "TABLE_VARIABLES",
    "hat_leverages",
    "ipf_expected",
    "structural_zero_mask",
    "table_arrays",
    "table_statistics",
]


#: Statistics with one value per cell, in output order.
CELL_VARIABLES = (
    "counts",
    "expected",
    "trans_prob",
    "adj_resid",
    "p_adj_resid",
    "yules_q",
    "odds_ratio",
    "log_odds",
    "log_odds_se",
    "phi",
)
#: Statistics with one value per table.
TABLE_VARIABLES = ("N", "X2", "G2", "df", "p_X2", "p_G2")
#: Relative tolerance of iterative proportional fitting on the margins.
IPF_TOLERANCE = 1e-13
#: Iteration cap of iterative proportional fitting.
IPF_MAX_ITER = 10_000




# =========================================================================== array layer


def structural_zero_mask(
    structural_zeros: Any,
    shape: tuple[int, int],
    given_labels: Sequence[str] | None = None,
    target_labels: Sequence[str] | None = None,
) -> np.ndarray | None:
    """Normalise a structural-zero spec into a bool mask (True = structural zero) or None.

    Accepts None, ``"diagonal"`` (a code cannot follow itself: cells whose given and
    target labels are equal, or the main diagonal of a square table without labels), a
    bool array-like of ``shape``, or a list of ``(given_label, target_label)`` pairs.
    """
    if structural_zeros is None:
        return None
    k, m = shape
    if isinstance(structural_zeros, str):
        if structural_zeros != "diagonal":
            raise LagnestDataError(
                f"structural_zeros must be None, 'diagonal', a bool mask or a list of "
                f"(given, target) pairs; got {structural_zeros!r}"
            )
        if given_labels is not None and target_labels is not None:
            mask = np.equal.outer(np.asarray(given_labels, dtype=object),
                                  np.asarray(target_labels, dtype=object)).astype(bool)
            if mask.any():
                return mask
        if k != m:
            raise LagnestDataError(f"'diagonal' structural zeros need a square table, got {shape}")
        return np.eye(k, dtype=bool)
    if isinstance(structural_zeros, list) and structural_zeros and isinstance(
        structural_zeros[0], tuple
    ):
        return _mask_from_pairs(structural_zeros, shape, given_labels, target_labels)
    mask = np.asarray(getattr(structural_zeros, "values", structural_zeros))
    if mask.shape != shape or mask.dtype != bool:
        raise LagnestDataError(
            f"structural_zeros mask must be bool of shape {shape}, got {mask.dtype} {mask.shape}"
        )
    return mask.copy()


def _mask_from_pairs(pairs, shape, given_labels, target_labels) -> np.ndarray:
    """Mask from ``(given_label, target_label)`` pairs."""
    if given_labels is None or target_labels is None:
        raise LagnestDataError("structural zeros as label pairs need a labelled table")
    mask = np.zeros(shape, dtype=bool)
    for g, t in pairs:
        if g not in given_labels or t not in target_labels:
            raise LagnestDataError(
                f"structural zero ({g!r}, {t!r}) names an unknown code; given codes are "
                f"{list(given_labels)}, target codes {list(target_labels)}"
            )
        mask[list(given_labels).index(g), list(target_labels).index(t)] = True
    return mask


def _check_structural_counts(counts: np.ndarray, zeros: np.ndarray | None) -> None:
    """Raise when observed counts fall in structural-zero cells."""
    if zeros is not None and np.any(counts[..., zeros] != 0):
        raise LagnestDataError(
            "observed counts fall in cells declared as structural zeros; check the mask "
            "(or the data: a forbidden transition occurs)"
        )


def _chi2_sf(statistic: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Upper tail of chi-square (NaN where ``df <= 0``); ``scipy.special`` keeps imports light."""
    df = np.asarray(df, dtype=float)
    return special.chdtrc(np.where(df > 0, df, np.nan), statistic)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 (no warnings)."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def ipf_expected(
    counts: np.ndarray,
    allowed: np.ndarray,
    tol: float = IPF_TOLERANCE,
    max_iter: int = IPF_MAX_ITER,
) -> tuple[np.ndarray, int]:
    """Quasi-independence expected counts by iterative proportional fitting.

    Fits row and column margins of ``counts (..., K, M)`` over the ``allowed`` cells until
    every margin matches to ``tol * N``; returns ``(expected, iterations)``. See
    :func:`table_statistics`.
    """
    x = np.asarray(counts, dtype=float)
    r = x.sum(-1)
    c = x.sum(-2)
    n = np.maximum(x.sum((-2, -1)), 1.0)[..., None]
    m = np.broadcast_to(allowed.astype(float), x.shape).copy()
    for it in range(1, max_iter + 1):
        m *= np.nan_to_num(_safe_divide(r, m.sum(-1)))[..., :, None]
        m *= np.nan_to_num(_safe_divide(c, m.sum(-2)))[..., None, :]
        err_r = np.abs(m.sum(-1) - r) / n
        err_c = np.abs(m.sum(-2) - c) / n
        if max(err_r.max(initial=0.0), err_c.max(initial=0.0)) <= tol:
            return m, it
    warnings.warn(
        f"iterative proportional fitting did not reach a margin tolerance of {tol:g} in "
        f"{max_iter} iterations: the structural-zero pattern may leave the quasi-independence "
        "fit without a solution (e.g. a row whose only allowed cells have zero column "
        "totals); expected counts and residuals are approximate",
        RuntimeWarning,
        stacklevel=3,
    )
    return m, max_iter


def _design(allowed: np.ndarray) -> np.ndarray:
    """Design matrix (intercept, K-1 row, M-1 column dummies) of the allowed cells."""
    k, m = allowed.shape
    rows, cols = np.nonzero(allowed)
    x = np.zeros((rows.size, k + m - 1))
    x[:, 0] = 1.0
    x[rows > 0, rows[rows > 0]] = 1.0
    x[cols > 0, k - 1 + cols[cols > 0]] = 1.0
    return x


def hat_leverages(expected: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Leverages of the Poisson log-linear (quasi-)independence model; see :func:`table_statistics`.

    ``h = diag(W^{1/2} X (X'WX)^- X' W^{1/2})`` with ``W = diag(expected)`` over the
    allowed cells; a pseudo-inverse handles empty rows or columns. Forbidden cells get 0.
    """
    x = _design(allowed)
    w = expected[..., allowed]
    xtwx = np.einsum("ca,...c,cb->...ab", x, w, x)
    inv = np.linalg.pinv(xtwx, hermitian=True)
    h_allowed = w * np.einsum("ca,...ab,cb->...c", x, inv, x)
    h = np.zeros(expected.shape)
    h[..., allowed] = h_allowed
    return h


def _two_by_two(x: np.ndarray, r: np.ndarray, c: np.ndarray, n: np.ndarray):
    """Cells a, b, c, d of the 2 x 2 table collapsed around every cell."""
    a = x
    b = r[..., :, None] - a
    cc = c[..., None, :] - a
    d = n[..., None, None] - r[..., :, None] - c[..., None, :] + a
    return a, b, cc, d


def _cell_indices(x, r, c, n, correction: bool) -> dict[str, np.ndarray]:
    """Yule's Q, odds ratio, log odds (SE) and phi of every cell's 2 x 2 collapse."""
    a, b, cc, d = _two_by_two(x, r, c, n)
    ad, bc = a * d, b * cc
    out = {"yules_q": _safe_divide(ad - bc, ad + bc)}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["odds_ratio"] = np.where(bc > 0, ad / np.where(bc > 0, bc, 1.0),
                                     np.where(ad > 0, np.inf, np.nan))
    cells = np.stack([a, b, cc, d])
    any_zero = (cells == 0).any(axis=0)
    if correction:
        cells = cells + 0.5 * any_zero
    valid = ~((cells == 0).any(axis=0))
    safe = np.where(valid, cells, 1.0)
    out["log_odds"] = np.where(valid, np.log(safe[0]) + np.log(safe[3]) - np.log(safe[1])
                               - np.log(safe[2]), np.nan)
    out["log_odds_se"] = np.where(valid, np.sqrt((1.0 / safe).sum(axis=0)), np.nan)
    rr = r[..., :, None]
    ccol = c[..., None, :]
    nn = n[..., None, None]
    out["phi"] = _safe_divide(ad - bc, np.sqrt(rr * (nn - rr) * ccol * (nn - ccol)))
    return out


def _degrees_of_freedom(r, c, zeros: np.ndarray | None) -> np.ndarray:
    """(K' - 1)(M' - 1) - S' over non-empty rows/columns; S' = structural zeros among them."""
    kr = (r > 0).sum(-1)
    mc = (c > 0).sum(-1)
    df = np.maximum(kr - 1, 0) * np.maximum(mc - 1, 0)
    if zeros is not None:
        live = (r > 0)[..., :, None] & (c > 0)[..., None, :]
        df = df - (live & zeros).sum((-2, -1))
    return np.maximum(df, 0)


def table_arrays(
    counts: np.ndarray, structural_zeros: np.ndarray | None = None, correction: bool = False
) -> dict[str, np.ndarray]:
    """Classical statistics of count arrays ``(..., K, M)``; see :func:`table_statistics`.

    Returns a dict of arrays: the names in ``CELL_VARIABLES`` with the shape of ``counts``
    and the names in ``TABLE_VARIABLES`` with the leading shape, plus ``ipf_iterations``.
    """
    x = np.asarray(counts, dtype=float)
    if x.ndim < 2:
        raise LagnestDataError(f"a count table needs 2 dimensions, got shape {x.shape}")
    if np.any(x < 0) or np.any(~np.isfinite(x)):
        raise LagnestDataError("counts must be finite and non-negative")
    zeros = structural_zeros if structural_zeros is not None and structural_zeros.any() else None
    _check_structural_counts(x, zeros)
    r, c, n = x.sum(-1), x.sum(-2), x.sum((-2, -1))
    rr, cc, nn = r[..., :, None], c[..., None, :], n[..., None, None]
    if zeros is None:
        expected = _safe_divide(rr * cc, nn)
        expected = np.nan_to_num(expected)
        one_minus_h = (1 - _safe_divide(rr, nn)) * (1 - _safe_divide(cc, nn))
        iterations = 0
    else:
        expected, iterations = ipf_expected(x, ~zeros)
        one_minus_h = 1 - hat_leverages(expected, ~zeros)
    variance = expected * one_minus_h
    ok = (expected > 0) & (one_minus_h > 1e-10) & np.isfinite(one_minus_h)
    adj = np.full(x.shape, np.nan)
    np.divide(x - expected, np.sqrt(np.where(ok, variance, 1.0)), out=adj, where=ok)
    integral = _is_integral(x)
    out: dict[str, np.ndarray] = {
        "counts": x.astype(np.int64) if integral else x,
        "expected": expected,
        "trans_prob": _safe_divide(x, rr),
        "adj_resid": adj,
        "p_adj_resid": 2.0 * special.ndtr(-np.abs(adj)),
    }
    out.update(_cell_indices(x, r, c, n, correction))
    if zeros is not None:
        for name in ("yules_q", "odds_ratio", "log_odds", "log_odds_se", "phi"):
            out[name][..., zeros] = np.nan
    pos_e = expected > 0
    x2 = np.where(pos_e, (x - expected) ** 2 / np.where(pos_e, expected, 1.0), 0.0).sum((-2, -1))
    pos_x = (x > 0) & pos_e
    g2 = 2.0 * np.where(pos_x, x * np.log(np.where(pos_x, x, 1.0) / np.where(pos_x, expected, 1.0)),
                        0.0).sum((-2, -1))
    df = _degrees_of_freedom(r, c, zeros)
    dff = np.where(df > 0, df, np.nan)
    out.update(
        N=n.astype(np.int64) if integral else n,
        X2=x2,
        G2=g2,
        df=df,
        p_X2=_chi2_sf(x2, dff),
        p_G2=_chi2_sf(g2, dff),
        ipf_iterations=np.asarray(iterations),
    )
    return out


def _is_integral(x: np.ndarray) -> bool:
    """Whether every value is a whole number."""
    return bool(np.all(np.mod(x, 1) == 0))


# =========================================================================== labelled layer


@dataclass(frozen=True)
class _Labels:
    """Coordinates of a stack of tables: leading dims, given and target labels."""

    lead_dims: tuple[str, ...]
    lead_coords: dict[str, Sequence[Any]]
    given: Sequence[Any]
    target: Sequence[Any]


def _dataset(arrays: dict[str, np.ndarray], labels: _Labels, attrs: dict[str, Any]) -> xr.Dataset:
    """Assemble cell and table arrays into a Dataset (table stats: attrs if single table)."""
    cell_dims = (*labels.lead_dims, "given", "target")
    coords = {**labels.lead_coords, "given": list(labels.given), "target": list(labels.target)}
    data_vars = {name: (cell_dims, arrays[name], {"description": _DESCRIPTIONS[name]})
                 for name in CELL_VARIABLES}
    all_attrs = dict(attrs)
    if labels.lead_dims:
        data_vars.update({name: (labels.lead_dims, arrays[name],
                                 {"description": _DESCRIPTIONS[name]})
                          for name in TABLE_VARIABLES})
    else:
        all_attrs.update({name: _scalar(arrays[name]) for name in TABLE_VARIABLES})
    all_attrs["lagnest_version"] = __version__
    return xr.Dataset(data_vars, coords=coords, attrs=all_attrs)


def _scalar(value: np.ndarray) -> float | int:
    """A 0-d array as a Python number (ints stay ints)."""
    value = np.asarray(value)
    return int(value) if np.issubdtype(value.dtype, np.integer) else float(value)


_DESCRIPTIONS = {
    "counts": "observed lag-pair counts (rows given at t, columns target at t+lag)",
    "expected": "expected counts under (quasi-)independence",
    "trans_prob": "transitional probability p(target | given) = counts / row total",
    "adj_resid": "adjusted residual (Haberman; hat-matrix form with structural zeros)",
    "p_adj_resid": "two-sided normal p-value of the adjusted residual",
    "yules_q": "Yule's Q of the 2x2 table collapsed around the cell",
    "odds_ratio": "odds ratio ad/bc of the collapsed 2x2 table",
    "log_odds": "log odds ratio of the collapsed 2x2 table",
    "log_odds_se": "standard error of the log odds ratio",
    "phi": "phi coefficient of the collapsed 2x2 table",
    "N": "number of tallied pairs",
    "X2": "Pearson chi-square",
    "G2": "likelihood-ratio chi-square",
    "df": "degrees of freedom",
    "p_X2": "chi-square p-value of X2",
    "p_G2": "chi-square p-value of G2",
}


def _as_labelled_counts(counts: Any) -> tuple[np.ndarray, _Labels]:
    """Normalise numpy / pandas / xarray counts into an array and its labels."""
    if isinstance(counts, xr.DataArray):
        da = counts
        if not {"given", "target"} <= set(da.dims):
            if da.ndim != 2:
                raise LagnestDataError(
                    f"a DataArray of counts needs dims 'given' and 'target', got {da.dims}"
                )
            da = da.rename(dict(zip(da.dims, ("given", "target"), strict=True)))
        lead = tuple(d for d in da.dims if d not in ("given", "target"))
        da = da.transpose(*lead, "given", "target")
        coords = {d: _coord(da, d) for d in (*lead, "given", "target")}
        labels = _Labels(lead, {d: coords[d] for d in lead}, coords["given"], coords["target"])
        return np.asarray(da.values), labels
    if isinstance(counts, pd.DataFrame):
        return counts.to_numpy(), _Labels((), {}, [str(i) for i in counts.index],
                                          [str(c) for c in counts.columns])
    arr = np.asarray(counts)
    if arr.ndim != 2:
        raise LagnestDataError(f"a numpy count table must be 2-d (K x M), got shape {arr.shape}")
    return arr, _Labels((), {}, list(range(arr.shape[0])), list(range(arr.shape[1])))


def _coord(da: xr.DataArray, dim: str) -> list[Any]:
    """Coordinate values of ``dim`` (positions when it has none)."""
    return list(da[dim].values) if dim in da.coords else list(range(da.sizes[dim]))


def table_statistics(
    counts: Any, structural_zeros: Any = None, correction: bool = False
) -> xr.Dataset:
    r"""Classical lag-sequential statistics of a ready-made count table.

    Parameters
    ----------
    counts : array-like, pandas.DataFrame or xarray.DataArray
        A K x M table (rows given, columns target). A DataArray may carry leading dims
        (e.g. ``unit``) before ``given`` and ``target``; each table is analysed separately.
    structural_zeros : None, "diagonal", bool array or list of (given, target) pairs
        Cells that cannot occur. Expected counts then come from quasi-independence.
    correction : bool, default False
        Add 0.5 to all four cells of a collapsed 2 x 2 table that has a zero cell, for
        ``log_odds`` and ``log_odds_se`` only (Yule's Q and the odds ratio stay raw).

    Returns
    -------
    xarray.Dataset
        Variables ``counts``, ``expected``, ``trans_prob``, ``adj_resid``, ``p_adj_resid``,
        ``yules_q``, ``odds_ratio``, ``log_odds``, ``log_odds_se``, ``phi`` on
        ``(..., given, target)``; attrs ``N``, ``X2``, ``G2``, ``df``, ``p_X2``, ``p_G2``
        for a single table, or variables over the leading dims otherwise.

    See Also
    --------
    lag_table : the same statistics from a :class:`~lagnest.data.sequences.Sequences`.

    Notes
    -----
    With row sums :math:`r_i`, column sums :math:`c_j` and total :math:`N`:

    .. math::

        e_{ij} = r_i c_j / N, \qquad
        z_{ij} = \frac{x_{ij} - e_{ij}}{\sqrt{e_{ij}(1 - r_i/N)(1 - c_j/N)}}

    :math:`X^2 = \sum (x-e)^2/e`, :math:`G^2 = 2\sum_{x>0} x \ln(x/e)`. For the 2 x 2
    table collapsed around cell (i, j), :math:`a = x_{ij}`, :math:`b = r_i - a`,
    :math:`c = c_j - a`, :math:`d = N - r_i - c_j + a`: :math:`OR = ad/bc`,
    :math:`Q = (ad - bc)/(ad + bc) = (OR - 1)/(OR + 1)`, SE of log OR
    :math:`\sqrt{1/a + 1/b + 1/c + 1/d}`, and
    :math:`\phi = (ad - bc)/\sqrt{r_i (N - r_i) c_j (N - c_j)}`, so that
    :math:`z_{ij} = \phi\sqrt{N}`.

    With structural zeros, :math:`e` is the maximum-likelihood fit of the
    quasi-independence model (iterative proportional fitting over the allowed cells until
    every margin matches to ``1e-13 N``) and :math:`z = (x - e)/\sqrt{e(1 - h)}` with
    :math:`h` the leverages of the Poisson log-linear model with row and column effects
    restricted to the allowed cells, :math:`h = \mathrm{diag}(W^{1/2}X(X'WX)^{-}X'W^{1/2})`,
    :math:`W = \mathrm{diag}(e)` (Christensen 1997). Without structural zeros the
    two forms coincide.

    ``df`` is :math:`(K' - 1)(M' - 1) - S'`, where :math:`K'` and :math:`M'` count the
    rows and columns with a non-zero total and :math:`S'` the structural zeros among
    them; with no empty row or column this is the textbook :math:`(K-1)(M-1) - S`.
    p-values are NaN when ``df`` is 0.

    NaN marks undefined values: ``trans_prob`` of an empty row; ``adj_resid`` where
    :math:`e = 0` or :math:`1 - h = 0` (a row or column holding all of N); Q and phi when
    their denominators vanish; ``log_odds`` (and SE) when a collapsed cell is 0 and
    ``correction`` is False; every 2 x 2 index in a structural-zero cell.

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.
    .. [2] Haberman, S. J. (1973). The analysis of residuals in cross-classified tables.
       *Biometrics, 29*, 205-220.
    .. [3] Christensen, R. (1997). *Log-linear models and logistic regression* (2nd ed.).
       Springer.

    Examples
    --------
    >>> import numpy as np
    >>> ds = table_statistics(np.array([[279, 73, 225], [165, 47, 191]]))
    >>> round(ds.attrs["X2"], 4), ds.attrs["df"]
    (7.0095, 2)
    >>> ds.adj_resid.values.round(3)[0]
    array([ 2.293,  0.465, -2.618])
    """
    arr, labels = _as_labelled_counts(counts)
    return labelled_statistics(arr, labels, structural_zeros, correction)


def labelled_statistics(
    counts: np.ndarray,
    labels: _Labels,
    structural_zeros: Any = None,
    correction: bool = False,
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """The statistics of a raw count array with its labels, as :func:`table_statistics`.

    The one assembly path of :func:`table_statistics` and of ``lag_table``'s single-table
    case (which skips building a labelled array of counts first); ``attrs`` (provenance)
    are added to the Dataset's own.
    """
    zeros = structural_zero_mask(structural_zeros, counts.shape[-2:], labels.given,
                                 labels.target)
    arrays = table_arrays(counts, zeros, correction)
    return _dataset(arrays, labels, {**_table_attrs(zeros, correction, arrays), **(attrs or {})})


def _table_attrs(zeros: np.ndarray | None, correction: bool, arrays: dict) -> dict[str, Any]:
    """Attrs describing how the statistics were computed."""
    attrs: dict[str, Any] = {
        "n_structural_zeros": int(0 if zeros is None else zeros.sum()),
        "log_odds_correction": int(correction),
    }
    if zeros is not None and zeros.any():
        attrs["ipf_iterations"] = int(arrays["ipf_iterations"])
    return attrs


def _homogeneity_arrays(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row G2 and df of the homogeneity test for unit-first counts ``(U, ..., K, M)``."""
    pooled = x.sum(0)
    p_unit = _safe_divide(x, x.sum(-1, keepdims=True))
    p_pool = _safe_divide(pooled, pooled.sum(-1, keepdims=True))
    ratio = np.where(x > 0, p_unit / np.where(x > 0, p_pool, 1.0), 1.0)
    g2_row = 2.0 * (x * np.log(ratio)).sum(axis=(0, -1))
    units_i = (x.sum(-1) > 0).sum(0)
    targets_i = (pooled > 0).sum(-1)
    df_row = np.maximum(units_i - 1, 0) * np.maximum(targets_i - 1, 0)
    return g2_row, df_row


def lift(table: xr.Dataset) -> xr.DataArray:
    """Lift of every cell of a lag table, p(j | i) / p(j) (1 = independence).

    The transitional probability over the target's share of all pairs.

    Parameters
    ----------
    table : xarray.Dataset
        A lag table with ``counts`` and ``trans_prob`` (:func:`lagnest.lag_table`).

    Returns
    -------
    xarray.DataArray
        ``lift`` on the table's dims; NaN where the target never occurs.
    """
    counts = table["counts"]
    share = counts.sum("given") / counts.sum(("given", "target"))
    return (table["trans_prob"] / share.where(share > 0)).rename("lift")
