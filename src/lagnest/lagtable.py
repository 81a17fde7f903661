"""Classical lag-sequential statistics, returned as labelled ``xarray`` objects.

Three layers, as in arviz-stats:

1. :func:`table_arrays` works on NumPy count arrays ``(..., K, M)`` (any leading dims,
   e.g. unit, indicator or permutation) and returns plain arrays;
2. :func:`table_statistics` labels them as an :class:`xarray.Dataset`
   (input: NumPy, pandas or xarray);
3. :func:`lag_table`, :func:`count_table`, :func:`per_unit_indices` and
   :func:`homogeneity_test` take a :class:`~lagnest.sequences.Sequences` and call the
   kernels of :mod:`lagnest.kernels`.

Rows are the *given* code at segment t, columns the *target* code at t + lag (see
``REFERENCE.md``). Undefined statistics (zero margins, structural zeros, zero cells of the
2 x 2 collapse without correction) are NaN, never an error or ``inf`` (except the odds
ratio, whose limit ``inf`` is meaningful when ``b c = 0 < a d``).
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

from lagnest import kernels
from lagnest._render import format_lag_table
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.sequences import Sequences

__all__ = [
    "count_table",
    "format_lag_table",
    "homogeneity_test",
    "lag_pairs",
    "lag_table",
    "per_unit_indices",
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
#: Label of the pooled entry along ``unit``.
POOLED = "pooled"
#: Coordinates of an indicator used as a given (or target) code.
INDICATOR_LEVELS = ("absent", "present")

_BY = {None, "session", "dyad"}


def _version() -> str:
    """Installed lagnest version (for provenance attrs)."""
    try:
        from importlib.metadata import version

        return version("lagnest")
    except Exception:  # pragma: no cover - only without installed metadata
        return "unknown"


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
    data_vars = {name: (cell_dims, arrays[name]) for name in CELL_VARIABLES}
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(attrs)
    if labels.lead_dims:
        for name in TABLE_VARIABLES:
            ds[name] = (labels.lead_dims, arrays[name])
    else:
        ds.attrs.update({name: _scalar(arrays[name]) for name in TABLE_VARIABLES})
    ds.attrs["lagnest_version"] = _version()
    _describe(ds)
    return ds


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


def _describe(ds: xr.Dataset) -> None:
    """Attach a one-line description to every known variable."""
    for name, text in _DESCRIPTIONS.items():
        if name in ds.data_vars:
            ds[name].attrs["description"] = text


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
    lag_table : the same statistics from a :class:`~lagnest.sequences.Sequences`.

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
    zeros = structural_zero_mask(structural_zeros, arr.shape[-2:], labels.given, labels.target)
    arrays = table_arrays(arr, zeros, correction)
    return _dataset(arrays, labels, _table_attrs(zeros, correction, arrays))


def _table_attrs(zeros: np.ndarray | None, correction: bool, arrays: dict) -> dict[str, Any]:
    """Attrs describing how the statistics were computed."""
    attrs: dict[str, Any] = {
        "n_structural_zeros": int(0 if zeros is None else zeros.sum()),
        "log_odds_correction": int(correction),
    }
    if zeros is not None and zeros.any():
        attrs["ipf_iterations"] = int(arrays["ipf_iterations"])
    return attrs


# =========================================================================== Sequences layer


@dataclass(frozen=True)
class _Stream:
    """A resolved given/target spec: codes (1-d) or an indicator set (2-d)."""

    spec: Any
    values: np.ndarray
    labels: tuple[str, ...]
    names: tuple[str, ...] | None = None

    @property
    def is_set(self) -> bool:
        """Whether this is an indicator set (one table per indicator)."""
        return self.names is not None


def _resolve(seqs: Sequences, spec: Any) -> _Stream:
    """Resolve a given/target spec through the Sequences (which raises on unknown specs)."""
    if seqs.is_indicator_set(spec):
        matrix, names = seqs.indicator_matrix(spec)
        return _Stream(spec, matrix, INDICATOR_LEVELS, tuple(names))
    codes, labels = seqs.categorical(spec)
    return _Stream(spec, codes, tuple(labels))


def _spec_name(spec: Any) -> str:
    """Readable name of a spec for attrs."""
    return ",".join(map(str, spec)) if isinstance(spec, list | tuple) else str(spec)


def _units(seqs: Sequences, by: str | None) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Block-to-unit map and unit labels for ``by``."""
    if by not in _BY:
        raise LagnestDataError(f"by must be None, 'session' or 'dyad', got {by!r}")
    enc = seqs.encoded
    if by is None:
        return None, ()
    if by == "session":
        return np.asarray(enc.block_session), tuple(seqs.session_labels)
    return np.asarray(enc.session_dyad)[enc.block_session], tuple(seqs.dyad_labels)


def _raw_counts(seqs: Sequences, g: _Stream, t: _Stream, lag: int, by: str | None,
                window: int | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Kernel counts ``(n_units, [P,] K, M)`` and the unit labels."""
    block_unit, unit_labels = _units(seqs, by)
    n_units = max(len(unit_labels), 1)
    offsets = seqs.encoded.block_offsets
    if g.is_set and t.is_set:
        raise LagnestDataError("only one of given and target may be a set of indicators")
    if g.is_set:
        out = kernels.set_lag_counts(g.values, t.values, offsets, block_unit, len(t.labels),
                                     n_units, lag, window)
    elif t.is_set:
        if window is not None:
            raise LagnestDataError("a window needs a categorical target, not an indicator set")
        swapped = kernels.set_lag_counts(t.values, g.values, offsets, block_unit,
                                         len(g.labels), n_units, -lag)
        out = np.ascontiguousarray(np.swapaxes(swapped, -1, -2))
    else:
        out = kernels.lag_counts(g.values, t.values, offsets, block_unit, len(g.labels),
                                 len(t.labels), n_units, lag, window)
    return out, unit_labels


def _count_labels(g: _Stream, t: _Stream, unit_labels: Sequence[str]) -> _Labels:
    """Labels of a raw count array."""
    lead: list[str] = []
    coords: dict[str, Sequence[Any]] = {}
    if unit_labels:
        lead.append("unit")
        coords["unit"] = list(unit_labels)
    names = g.names if g.is_set else t.names
    if names is not None:
        lead.append("indicator")
        coords["indicator"] = list(names)
    return _Labels(tuple(lead), coords, g.labels, t.labels)


def _lag_attrs(g: _Stream, t: _Stream, lag: int, by: str | None, window: int | None) -> dict:
    """Provenance attrs of a lag table."""
    return {
        "given": _spec_name(g.spec),
        "target": _spec_name(t.spec),
        "lag": int(lag),
        "window": 0 if window is None else int(window),
        "by": by or "none",
    }


def lag_pairs(
    seqs: Sequences, given: Any, target: Any, lag: int = 1, return_segment: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """One row ``(session, given code, target code)`` per coded lag pair, in segment order.

    The per-segment counterpart of :func:`count_table` (same pairs: within blocks, uncoded
    segments skipped); summing its rows per session gives ``count_table(..., by="session")``.

    Parameters
    ----------
    seqs : Sequences
    given, target : str
        Categorical stream names or single codes (see :meth:`Sequences.categorical`).
    lag : int, default 1
    return_segment : bool, default False
        Also return the position of each pair's target segment (t + lag) in the corpus.

    Returns
    -------
    ndarray of int64, shape (n_pairs, 3)
        The pairs; with ``return_segment`` a tuple ``(pairs, segment)`` where ``segment``
        (int64, shape (n_pairs,), increasing) indexes the segments of ``seqs``.
    """
    g, _ = seqs.categorical(given)
    h, _ = seqs.categorical(target)
    t = kernels.lag_pair_starts(seqs.encoded.block_offsets, int(lag))
    t = t[(g[t] >= 0) & (h[t + lag] >= 0)]
    session = seqs.encoded.segment_session[t]
    pairs = np.stack([session, g[t], h[t + lag]], axis=1).astype(np.int64)
    if return_segment:
        return pairs, (t + lag).astype(np.int64)
    return pairs


def count_table(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str | None = None,
    window: int | None = None,
) -> xr.DataArray:
    r"""Lag-pair counts as a labelled array (the sufficient statistics of the models).

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target : str or list of str
        Stream names or codes (see :meth:`Sequences.categorical`); one of them may be a set
        of indicators (see :meth:`Sequences.is_indicator_set`), giving one 2-row (or
        2-column) table per indicator along ``indicator``.
    lag : int, default 1
        Pairs (t, t + lag); 0 = co-occurrence, negative = backwards.
    by : {None, "session", "dyad"}
        Add a ``unit`` dim with one table per session or dyad (no pooled entry).
    window : int, optional
        Count targets anywhere in t+1..t+window, each distinct target code once per given
        segment (see :func:`lagnest.kernels.lag_counts`).

    Returns
    -------
    xarray.DataArray
        int64 counts on ``([unit,] [indicator,] given, target)``.

    Notes
    -----
    Pairs never cross a session boundary or a break, and a pair with an uncoded segment
    is skipped, so the pooled :math:`N = \sum_b (T_b - L)` over blocks b when every
    segment is coded.

    Examples
    --------
    >>> from lagnest.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab")]})
    >>> count_table(seqs, "code", "code").values
    array([[0, 2],
           [1, 0]])
    """
    lag, window = _normalise_lag(lag, window)
    g, t = _resolve(seqs, given), _resolve(seqs, target)
    raw, unit_labels = _raw_counts(seqs, g, t, lag, by, window)
    labels = _count_labels(g, t, unit_labels)
    if not unit_labels:
        raw = raw[0]
    dims = (*labels.lead_dims, "given", "target")
    coords = {**labels.lead_coords, "given": list(g.labels), "target": list(t.labels)}
    return xr.DataArray(raw, dims=dims, coords=coords, name="counts",
                        attrs=_lag_attrs(g, t, lag, by, window))


def _normalise_lag(lag: int, window: int | None) -> tuple[int, int | None]:
    """Validate lag/window as the kernels do; return window as None when unused."""
    lag, w = kernels._check_lag(lag, window)
    return lag, (w or None)


def lag_table(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str | None = None,
    structural_zeros: Any = None,
    window: int | None = None,
    correction: bool = False,
) -> xr.Dataset:
    r"""Lag table with the classical lag-sequential statistics.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target : str or list of str
        Given (row, at t) and target (column, at t + lag) streams or codes; one may be an
        indicator set (one table per indicator along ``indicator``).
    lag : int, default 1
        0 = co-occurrence in one segment; negative lags look backwards.
    by : {None, "session", "dyad"}
        Per-unit tables along ``unit``; the last ``unit`` entry, labelled ``"pooled"``,
        is the pooled table over all units (coordinate ``is_pooled`` marks it). Select
        units with ``ds.drop_sel(unit="pooled")`` before summing over ``unit``.
    structural_zeros : None, "diagonal", bool mask or list of (given, target) pairs
        Cells that cannot occur (e.g. ``"diagonal"`` when a code cannot repeat).
    window : int, optional
        Count targets anywhere in t+1..t+window instead of at t + lag; each distinct
        target code counts once per given segment.
    correction : bool, default False
        +0.5 correction of ``log_odds`` / ``log_odds_se`` when a collapsed cell is 0.

    Returns
    -------
    xarray.Dataset
        Cell variables ``counts``, ``expected``, ``trans_prob``, ``adj_resid``,
        ``p_adj_resid``, ``yules_q``, ``odds_ratio``, ``log_odds``, ``log_odds_se``,
        ``phi`` on ``([unit,] [indicator,] given, target)``. Table statistics ``N``,
        ``X2``, ``G2``, ``df``, ``p_X2``, ``p_G2`` are attrs for one table; with a
        ``unit`` or ``indicator`` dim they are variables over those dims, and (one
        indicator) the attrs hold the pooled values. Attrs also record ``given``,
        ``target``, ``lag``, ``window``, ``by`` and ``lagnest_version``.
        ``ds.lagnest.text()`` renders it; ``ds.to_dataframe()`` gives a tidy frame.

    See Also
    --------
    table_statistics : the statistics and their formulas (Notes).
    count_table : counts only.
    lagnest.permutation.permutation_test : permutation p-values.

    Notes
    -----
    Tallies never cross a session boundary or a break and skip uncoded segments; the
    pooled :math:`N = \sum_s (T_s - L)` over coded pairs. See :func:`table_statistics`
    for the statistics.

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.

    Examples
    --------
    >>> from lagnest.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("ababababa")]})
    >>> tab = lag_table(seqs, "code", "code")
    >>> tab.adj_resid.values.round(6)
    array([[-2.828427,  2.828427],
           [ 2.828427, -2.828427]])
    """
    counts = count_table(seqs, given, target, lag=lag, by=by, window=window)
    if by is not None:
        counts = _with_pooled(counts)
    zeros = structural_zero_mask(structural_zeros, counts.shape[-2:],
                                 list(counts.given.values), list(counts.target.values))
    ds = table_statistics(counts, structural_zeros=zeros, correction=correction)
    ds.attrs.update(counts.attrs)
    if by is not None:
        ds = ds.assign_coords(is_pooled=("unit", counts["is_pooled"].values))
    if by is not None and "indicator" not in ds.dims:
        pooled = ds.sel(unit=POOLED)
        ds.attrs.update({name: _scalar(pooled[name].values) for name in TABLE_VARIABLES})
    return ds


def _with_pooled(counts: xr.DataArray) -> xr.DataArray:
    """Append the pooled table as unit ``"pooled"`` with an ``is_pooled`` coordinate."""
    pooled = counts.sum("unit").expand_dims(unit=[POOLED])
    both = xr.concat([counts, pooled], dim="unit")
    both = both.assign_coords(is_pooled=("unit", [False] * counts.sizes["unit"] + [True]))
    both.attrs = counts.attrs
    return both


def per_unit_indices(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str = "session",
    correction: bool = False,
) -> pd.DataFrame:
    """Tidy frame of per-unit sequential indices (Yule's Q, log odds, adjusted residual).

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target, lag
        As in :func:`lag_table`.
    by : {"session", "dyad"}, default "session"
        The unit.
    correction : bool, default False
        +0.5 on all four collapsed cells when one is 0 (``log_odds``, ``log_odds_se``).

    Returns
    -------
    pandas.DataFrame
        One row per unit and cell: ``unit``, [``indicator``,] ``given``, ``target``,
        ``counts``, ``expected``, ``trans_prob``, ``adj_resid``, ``yules_q``,
        ``odds_ratio``, ``log_odds``, ``log_odds_se``, ``phi``, ``N`` (unit's pairs).
        The pooled table is not included.

    Examples
    --------
    >>> from lagnest.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab"), list("aabb")]})
    >>> per_unit_indices(seqs, "code", "code").shape
    (8, 13)
    """
    if by not in ("session", "dyad"):
        raise LagnestDataError(f"by must be 'session' or 'dyad', got {by!r}")
    ds = lag_table(seqs, given, target, lag=lag, by=by, correction=correction)
    ds = ds.drop_sel(unit=POOLED).drop_vars("is_pooled")
    names = ["counts", "expected", "trans_prob", "adj_resid", "yules_q", "odds_ratio",
             "log_odds", "log_odds_se", "phi"]
    frame = ds[names].to_dataframe().reset_index()
    n = ds["N"].to_dataframe().reset_index()
    return frame.merge(n, on=[d for d in ds["N"].dims])


def homogeneity_test(
    seqs: Sequences, given: Any, target: Any, lag: int = 1, by: str = "dyad"
) -> xr.Dataset:
    r"""Likelihood-ratio test that the transitional probabilities are equal across units.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target, lag
        As in :func:`lag_table`.
    by : {"dyad", "session"}, default "dyad"
        The units compared.

    Returns
    -------
    xarray.Dataset
        Variables ``G2_given`` and ``df_given`` (each given row's contribution) on
        ``([indicator,] given)``; ``G2``, ``df``, ``p`` as attrs (or variables over
        ``indicator`` for an indicator set); attrs ``by`` and ``n_units``.

    Notes
    -----
    .. math::

        G^2_H = 2 \sum_u \sum_{i,j} x^u_{ij}
        \ln\frac{x^u_{ij}/r^u_i}{x_{ij}/r_i}

    where :math:`x = \sum_u x^u` is the pooled table. For each given row i the test is a
    test of independence in the :math:`U_i \times M_i` table of units by targets, where
    :math:`U_i` counts the units whose row i is non-empty and :math:`M_i` the targets with
    a non-zero pooled count in row i (structural zeros and unobserved targets drop out):

    .. math:: df = \sum_i (U_i - 1)(M_i - 1),

    which is :math:`K(M-1)(U-1)` when no row, unit-row or pooled cell is empty. p is the
    chi-square upper tail (NaN when df is 0).

    Examples
    --------
    >>> from lagnest.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abababab"), list("aabbaabb")]})
    >>> res = homogeneity_test(seqs, "code", "code", by="session")
    >>> res.attrs["df"]
    2
    """
    if by not in ("session", "dyad"):
        raise LagnestDataError(f"by must be 'session' or 'dyad', got {by!r}")
    counts = count_table(seqs, given, target, lag=lag, by=by)
    g2_row, df_row = _homogeneity_arrays(counts.values.astype(float))
    lead = tuple(d for d in counts.dims if d not in ("unit", "given", "target"))
    coords = {d: counts[d].values for d in (*lead, "given")}
    ds = xr.Dataset({"G2_given": ((*lead, "given"), g2_row),
                     "df_given": ((*lead, "given"), df_row)}, coords=coords)
    g2, df = g2_row.sum(-1), df_row.sum(-1)
    p = _chi2_sf(g2, df)
    if lead:
        ds["G2"], ds["df"], ds["p"] = (lead, g2), (lead, df), (lead, p)
    else:
        ds.attrs.update(G2=float(g2), df=int(df), p=float(p))
    ds.attrs.update({k: v for k, v in counts.attrs.items() if k != "by"})
    ds.attrs.update(by=by, n_units=int(counts.sizes["unit"]), lagnest_version=_version())
    return ds


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


# =========================================================================== pattern tables

#: Kind recorded in the attrs of :meth:`PatternTable.to_dataset`.
PATTERN_TABLE_KIND = "lagnest.PatternTable"
_PATTERN_VARIABLES = ("counts", "patterns", "row_session", "segment_row", "predictor_levels",
                      "n_levels", "session_dyad")


def _readonly(array: Any, dtype: Any = None) -> np.ndarray:
    """A contiguous read-only copy."""
    out = np.array(array, dtype=dtype, copy=True, order="C")
    out.flags.writeable = False
    return out


def _str_tuple(values: Any) -> tuple[str, ...]:
    """Labels as a tuple of str (NetCDF may hand back bytes or object arrays)."""
    items = np.asarray(values).tolist()
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in items)


@dataclass(frozen=True, eq=False)
class PatternTable:
    """Counts per (session, predictor pattern, target code): see :func:`pattern_counts`.

    Attributes
    ----------
    counts : ndarray of int64, shape (R, M)
        Valid target segments of each row, per target code.
    patterns : ndarray of int, shape (R, n_lags, F)
        Predictor codes of each row: ``patterns[r, j, f]`` is predictor f at ``u - lags[j]``
        (the smallest signed dtype holding the codes).
    row_session : ndarray of int64, shape (R,)
        Session index of each row; rows are sorted by session, then pattern.
    segment_row : ndarray of int64, shape (n_segments,)
        Row of each target segment, -1 when it is not a valid target segment.
    target : str
        The target spec.
    target_labels : tuple of str
        The M target codes.
    predictors : tuple of str
        The F predictor specs.
    predictor_labels : tuple of tuple of str
        The codes of each predictor.
    lags : tuple of int
        The lags, in the order of the ``lag`` axis.
    session_labels, dyad_labels : tuple of str
        Labels of the sessions and dyads.
    session_dyad : ndarray of int64, shape (n_sessions,)
        Dyad index of each session.
    """

    counts: np.ndarray
    patterns: np.ndarray
    row_session: np.ndarray
    segment_row: np.ndarray
    target: str
    target_labels: tuple[str, ...]
    predictors: tuple[str, ...]
    predictor_labels: tuple[tuple[str, ...], ...]
    lags: tuple[int, ...]
    session_labels: tuple[str, ...]
    session_dyad: np.ndarray
    dyad_labels: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """Number of rows R (distinct session and pattern)."""
        return int(self.counts.shape[0])

    @property
    def n_valid(self) -> int:
        """Number of valid target segments N (the sum of ``counts``)."""
        return int(self.counts.sum())

    @property
    def row_dyad(self) -> np.ndarray:
        """Dyad index of each row, ``(R,)``."""
        return self.session_dyad[self.row_session]

    @property
    def radices(self) -> tuple[int, ...]:
        """Number of levels of each predictor."""
        return tuple(len(labels) for labels in self.predictor_labels)

    def to_dataset(self) -> xr.Dataset:
        """Labelled copy as an :class:`xarray.Dataset` that NetCDF (h5netcdf) can store.

        Returns
        -------
        xarray.Dataset
            ``counts (row, target)``, ``patterns (row, lag, predictor)``, ``row_session
            (row)``, ``segment_row (segment)``, ``predictor_levels (predictor, level)``
            (codes padded with ``""``), ``n_levels (predictor)`` and ``session_dyad
            (session)``; coordinates ``target``, ``lag``, ``predictor``, ``session`` and
            ``dyad`` carry the labels; attrs ``kind``, ``target`` and ``lagnest_version``.
            :meth:`from_dataset` inverts it.
        """
        width = max((len(labels) for labels in self.predictor_labels), default=0)
        levels = np.full((len(self.predictors), width), "", dtype=object)
        for f, labels in enumerate(self.predictor_labels):
            levels[f, : len(labels)] = labels
        coords = {
            "row": np.arange(self.n_rows, dtype=np.int64),
            "target": np.asarray(self.target_labels, dtype=str),
            "lag": np.asarray(self.lags, dtype=np.int64),
            "predictor": np.asarray(self.predictors, dtype=str),
            "session": np.asarray(self.session_labels, dtype=str),
            "dyad": np.asarray(self.dyad_labels, dtype=str),
        }
        data = {
            "counts": (("row", "target"), self.counts),
            "patterns": (("row", "lag", "predictor"), self.patterns),
            "row_session": (("row",), self.row_session),
            "segment_row": (("segment",), self.segment_row),
            "predictor_levels": (("predictor", "level"), levels.astype(str)),
            "n_levels": (("predictor",), np.asarray(self.radices, dtype=np.int64)),
            "session_dyad": (("session",), self.session_dyad),
        }
        attrs = {"kind": PATTERN_TABLE_KIND, "target": self.target,
                 "lagnest_version": _version()}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> PatternTable:
        """Rebuild a table from :meth:`to_dataset` output (e.g. read back from NetCDF).

        Parameters
        ----------
        ds : xarray.Dataset
            A dataset written by :meth:`to_dataset`.

        Returns
        -------
        PatternTable

        Raises
        ------
        LagnestDataError
            When ``ds`` is not a pattern table.
        """
        missing = [v for v in _PATTERN_VARIABLES if v not in ds.variables]
        if ds.attrs.get("kind") != PATTERN_TABLE_KIND or missing:
            raise LagnestDataError(
                f"not a pattern table: expected attrs kind={PATTERN_TABLE_KIND!r} and "
                f"variables {list(_PATTERN_VARIABLES)}; missing {missing or 'the kind attr'}"
            )
        levels = np.asarray(ds["predictor_levels"].values)
        n_levels = np.asarray(ds["n_levels"].values).tolist()
        predictor_labels = tuple(_str_tuple(levels[f, :n]) for f, n in enumerate(n_levels))
        return cls(
            counts=_readonly(ds["counts"].transpose("row", "target").values, np.int64),
            patterns=_readonly(ds["patterns"].transpose("row", "lag", "predictor").values),
            row_session=_readonly(ds["row_session"].values, np.int64),
            segment_row=_readonly(ds["segment_row"].values, np.int64),
            target=str(ds.attrs["target"]),
            target_labels=_str_tuple(ds["target"].values),
            predictors=_str_tuple(ds["predictor"].values),
            predictor_labels=predictor_labels,
            lags=tuple(int(v) for v in np.asarray(ds["lag"].values).tolist()),
            session_labels=_str_tuple(ds["session"].values),
            session_dyad=_readonly(ds["session_dyad"].values, np.int64),
            dyad_labels=_str_tuple(ds["dyad"].values),
        )


def _pattern_specs(predictors: Any) -> tuple[str, ...]:
    """Predictor specs as a tuple of distinct names (a single str is one predictor)."""
    specs = (predictors,) if isinstance(predictors, str) else tuple(predictors)
    repeated = sorted({p for p in specs if specs.count(p) > 1}, key=str)
    if repeated:
        raise LagnestDataError(f"predictors must be distinct; repeated: {repeated}")
    return specs


def pattern_counts(
    seqs: Sequences,
    target: str,
    predictors: Sequence[str] | str,
    lags: Sequence[int] | int = (1,),
) -> PatternTable:
    r"""Counts of a target per session and pattern of lagged predictors.

    The sufficient statistics of a multinomial-logit regression of the target at segment
    u on the predictors at ``u - L`` for every lag L.

    Parameters
    ----------
    seqs : Sequences
        The data.
    target : str
        Categorical spec of the target (see :meth:`Sequences.categorical`): a categorical
        stream (its M codes), an indicator code (``"MIA4"``: ``("not MIA4", "MIA4")``) or a
        code of a categorical stream (0/1).
    predictors : sequence of str
        Distinct categorical specs, as ``target``; may be empty (F = 0). Expand an
        indicator stream into its codes first (``seqs.indicator_matrix("mia")[1]``).
    lags : sequence of int or int, default (1,)
        Distinct lags >= 0; 0 = the target's own segment (co-occurrence).

    Returns
    -------
    PatternTable
        ``counts (R, M)``, ``patterns (R, n_lags, F)``, ``row_session (R,)``,
        ``segment_row (n_segments,)`` and the labels; ``.to_dataset()`` labels it.

    Raises
    ------
    LagnestDataError
        On an unknown or indicator-set spec, repeated predictors, a negative, repeated or
        missing lag, or more possible patterns than a 64-bit key holds.

    See Also
    --------
    count_table : one predictor, one lag, as a K x M table per unit.
    lagnest.kernels.pattern_keys : the rule and the key, on arrays.

    Notes
    -----
    Target segment u is *valid* iff its target is coded and, for every lag L, ``u - L``
    lies in u's block (pairs never cross a session start or a break, as in
    :func:`count_table`) and every predictor is coded at ``u - L``. A block of length T
    thus offers at most :math:`\max(T - \max_L L, 0)` target segments, and an uncoded
    predictor anywhere in the window drops the segment.

    Each valid segment adds 1 to ``counts[r, target[u]]`` of the row r of its session and
    pattern (the predictor codes at ``u - lags[j]`` for every j). Rows are the distinct
    (session, pattern) pairs that occur, sorted by session, then pattern
    (lexicographically, first lag and first predictor most significant), so
    ``counts.sum()`` is N, the number of valid target segments, and ``segment_row`` maps
    each valid segment to its row (-1 otherwise). With no predictors each session with a
    valid segment has one row.

    Examples
    --------
    >>> from lagnest.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab"), list("aa")]})
    >>> tab = pattern_counts(seqs, "code", ["code"], lags=[1])
    >>> tab.counts.tolist(), tab.patterns[:, 0, 0].tolist(), tab.row_session.tolist()
    ([[0, 2], [1, 0], [1, 0]], [0, 1, 0], [0, 0, 1])
    >>> tab.segment_row.tolist()
    [-1, 0, 1, 0, -1, 2]
    """
    lag_array = kernels.check_pattern_lags(lags)
    specs = _pattern_specs(predictors)
    h, target_labels = seqs.categorical(target)
    resolved = [seqs.categorical(spec) for spec in specs]
    predictor_labels = tuple(tuple(labels) for _, labels in resolved)
    radices = np.asarray([len(labels) for labels in predictor_labels], dtype=np.int64)
    kernels.check_pattern_radices(radices, lag_array.size)
    enc = seqs.encoded
    codes = np.empty((h.shape[0], len(specs)), dtype=kernels.pattern_code_dtype(radices))
    for f, (values, _) in enumerate(resolved):
        codes[:, f] = values
    keys = kernels.pattern_keys(codes, radices, h, enc.block_offsets, lag_array)
    row_session, row_key, counts, segment_row = kernels.pattern_rows(
        keys, h, enc.session_offsets, len(target_labels))
    patterns = kernels.decode_pattern_keys(row_key, radices, lag_array.size)
    for arr in (counts, patterns, row_session, segment_row):
        arr.flags.writeable = False
    return PatternTable(
        counts=counts,
        patterns=patterns,
        row_session=row_session,
        segment_row=segment_row,
        target=str(target),
        target_labels=tuple(target_labels),
        predictors=tuple(str(s) for s in specs),
        predictor_labels=predictor_labels,
        lags=tuple(int(v) for v in lag_array),
        session_labels=tuple(seqs.session_labels),
        session_dyad=_readonly(enc.session_dyad, np.int64),
        dyad_labels=tuple(seqs.dyad_labels),
    )


__all__ += ["PatternTable", "pattern_counts"]
