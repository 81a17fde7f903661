r"""Agreement of more than two coders, and of ratings.

Fleiss' kappa (Fleiss 1971) for N subjects each coded by the same number of coders into K
categories, with the standard errors under :math:`\kappa = 0` of Fleiss, Nee & Landis
(1979); Krippendorff's alpha (Krippendorff 2004, 2011) for any number of coders, missing
values and the nominal, ordinal, interval or ratio metric, with a seeded bootstrap of units
(or of clusters of units); the intraclass correlations of Shrout & Fleiss (1979) with
their F tests and confidence intervals; and :func:`coder_agreement`, which aligns several
codings of the same sessions and reports these statistics per stream, code, indicator and
rating, with Light's mean pairwise kappa (time-unit kappa with a tolerance, as
:func:`~lagnest.classical.agreement.agreement` tallies a pair, for every pair of coders;
:func:`pairwise_agreement` gives each pair's). See ``docs/agreement.md``, "Several coders
and ratings".

Two layers, as in :mod:`lagnest.classical.agreement`:

1. :func:`fleiss_arrays`, :func:`alpha_arrays` and :func:`icc_arrays` work on NumPy
   arrays (a subjects x categories count table, a coders x units code matrix, a complete
   targets x judges rating matrix) and return plain arrays;
2. :func:`fleiss_kappa`, :func:`krippendorff_alpha` and :func:`icc` take a table of codes
   or ratings (array-like, :class:`pandas.DataFrame` or 2-d :class:`xarray.DataArray`) and
   return a labelled :class:`xarray.Dataset`; :func:`coder_agreement` takes several
   :class:`~lagnest.data.sequences.Sequences`.

Layouts follow each statistic's literature: Fleiss' kappa and the ICCs take one row per
subject (target) and one column per coder (judge); Krippendorff's alpha takes his
*reliability data*, one row per coder and one column per unit.
"""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse, special
from scipy import stats as sps

from lagnest._version import __version__
from lagnest.classical.agreement import _DESCRIPTIONS as _PAIR_DESCRIPTIONS
from lagnest.classical.agreement import (
    STAT_VARIABLES,
    UNCODED_LABEL,
    _align_order,
    _check_options,
    _collapse,
    _from_codings,
    _segment_numbers,
    _tally,
    _window_keys,
    kappa_arrays,
)
from lagnest.classical.statistics import _safe_divide
from lagnest.data._streams import natural_key
from lagnest.errors import DataProblem, LagnestDataError, LimitError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = [
    "ALPHA_LEVELS",
    "CODER_VARIABLES",
    "ICC_KINDS",
    "MAX_VALUES",
    "alpha_arrays",
    "coder_agreement",
    "fleiss_arrays",
    "fleiss_kappa",
    "icc",
    "icc_arrays",
    "krippendorff_alpha",
    "pairwise_agreement",
]

#: Levels of measurement (difference functions) of Krippendorff's alpha.
ALPHA_LEVELS = ("nominal", "ordinal", "interval", "ratio")
#: The intraclass correlations of Shrout & Fleiss (1979), in output order.
ICC_KINDS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
#: Most distinct values Krippendorff's alpha accepts (its matrices are values x values).
MAX_VALUES = 2000

#: McGraw & Wong (1996) names of the Shrout & Fleiss ICCs computed the same way.
_ICC_ALIASES = {
    "ICC(A,1)": "ICC(2,1)",
    "ICC(C,1)": "ICC(3,1)",
    "ICC(A,k)": "ICC(2,k)",
    "ICC(C,k)": "ICC(3,k)",
}
_UNCODED = ("exclude", "category")
#: Array elements one bootstrap chunk may hold (replicates x pairs or values^2).
_CHUNK_ELEMENTS = 4_000_000

_DESCRIPTIONS = {
    "counts": "number of coders who assigned each code to each subject (n_ij)",
    "proportion": "share of all assignments that went to each code (p_j)",
    "kappa": "Fleiss' kappa of each code against all others (kappa_j)",
    "se0": "standard error of kappa_j under H0: kappa_j = 0 (Fleiss, Nee & Landis 1979)",
    "z": "kappa_j / se0",
    "p": "two-sided normal p-value of z",
    "agreement": "proportion of agreeing coder pairs for each subject (P_i)",
    "coincidences": "coincidence matrix o_ck (pairs of values within units, weighted 1/(m_u-1))",
    "expected": "coincidences expected by chance, e_ck = n_c (n_k - [c = k]) / (n - 1)",
    "delta": "squared difference delta^2_ck of the chosen metric",
    "alpha_boot": "Krippendorff's alpha of each bootstrap resample of units (or clusters)",
    "icc": "intraclass correlation (Shrout & Fleiss 1979)",
    "F": "F statistic of H0: ICC = 0",
    "df1": "numerator degrees of freedom of F",
    "df2": "denominator degrees of freedom of F",
    "ci_low": "lower confidence limit (Shrout & Fleiss 1979; McGraw & Wong 1996)",
    "ci_high": "upper confidence limit",
}


# =========================================================================== input tables


def _check_ci_prob(ci_prob: Any) -> float:
    """Validate a coverage probability."""
    if not isinstance(ci_prob, numbers.Real) or not 0 < ci_prob < 1:
        raise LagnestDataError(
            DataProblem("bad ci_prob", value=ci_prob, expected="0 < ci_prob < 1")
        )
    return float(ci_prob)


def _is_number(value: Any) -> bool:
    """A real number that is not a boolean."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _as_table(data: Any, what: str, rows: str, columns: str) -> tuple[np.ndarray, list, list]:
    """A 2-d table -> (values, row labels, column labels).

    ``values`` is int64 (whole numbers, nothing missing), float (numbers, NaN = missing) or
    object (anything else; None, NaN and pandas.NA are missing).
    """
    if isinstance(data, xr.DataArray):
        if data.ndim != 2:
            raise LagnestDataError(f"{what}: expected a 2-d table ({rows} x {columns}), got "
                                   f"dims {data.dims}")
        data = data.to_pandas()
    if isinstance(data, pd.DataFrame):
        row_labels, col_labels = list(data.index), list(data.columns)
        values = data.to_numpy(dtype=object)
    else:
        values = data if isinstance(data, np.ndarray) else np.array(data, dtype=object)
        if values.ndim != 2:
            raise LagnestDataError(
                f"{what}: expected a 2-d table ({rows} x {columns}) with one value per cell, "
                f"got shape {values.shape}"
            )
        row_labels, col_labels = list(range(values.shape[0])), list(range(values.shape[1]))
    if values.dtype.kind in "iu":
        return values.astype(np.int64), row_labels, col_labels
    if values.dtype.kind == "f":
        return values.astype(float), row_labels, col_labels
    values = values.astype(object)
    missing = _missing(values)
    if all(_is_number(v) for v in values[~missing]):
        numeric = np.full(values.shape, np.nan)
        numeric[~missing] = [float(v) for v in values[~missing]]
        if not missing.any() and all(isinstance(v, numbers.Integral)
                                     for v in values.ravel()):
            return numeric.astype(np.int64), row_labels, col_labels
        return numeric, row_labels, col_labels
    return values, row_labels, col_labels


def _missing(values: np.ndarray) -> np.ndarray:
    """Missing cells: NaN, None, pandas.NA."""
    if values.dtype == object:
        return np.asarray(pd.isna(values), dtype=bool)
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.zeros(values.shape, dtype=bool)


def _numbers(values: np.ndarray, missing: np.ndarray, what: str, level: str,
             rows: str, columns: str) -> np.ndarray:
    """Float array of a numeric table (NaN where missing); names the first non-numbers."""
    if values.dtype != object:
        out = values.astype(float)
    else:
        bad = [(i, j) for i, j in zip(*np.nonzero(~missing), strict=True)
               if not _is_number(values[i, j])]
        if bad:
            shown = ", ".join(f"{values[i, j]!r} ({rows} {i}, {columns} {j})" for i, j in bad[:3])
            raise LagnestDataError(
                f"{what}: {level} data must be numbers; got {shown}"
                + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
                + " (expected ints or floats, missing values as NaN or None; recode labels "
                "as numbers, or use level='nominal')"
            )
        out = np.full(values.shape, np.nan)
        out[~missing] = [float(v) for v in values[~missing]]
    if np.isinf(out).any():
        raise LagnestDataError(f"{what}: infinite values (expected finite numbers)")
    return out


def _sorted_labels(uniques: Sequence[Any]) -> list:
    """Numbers in numeric order, anything else in natural order of its text."""
    if all(_is_number(u) for u in uniques):
        return sorted(uniques)
    return sorted(uniques, key=lambda u: natural_key(str(u)))


def _codes(values: np.ndarray, missing: np.ndarray, categories: Sequence[Any] | None,
           what: str) -> tuple[np.ndarray, list]:
    """Integer codes (``-1`` = missing) of a table of labels, and the labels in order."""
    codes = np.full(values.shape, -1, dtype=np.int64)
    present = values[~missing]
    if categories is not None:
        labels = list(categories)
        if len(set(labels)) != len(labels):
            raise LagnestDataError(f"{what}: categories {labels} repeat a label (expected "
                                   "distinct labels)")
        index = {c: i for i, c in enumerate(labels)}
        unknown = list(dict.fromkeys(v for v in present if v not in index))
        if unknown:
            raise LagnestDataError(
                f"{what}: codes {unknown[:10]} are not among the categories {labels} "
                "(expected every code in `categories`, or categories=None)"
            )
        codes[~missing] = [index[v] for v in present]
        return codes, labels
    if values.dtype != object:
        labels_arr, inverse = np.unique(present, return_inverse=True)
        labels = [v.item() for v in labels_arr]
        codes[~missing] = inverse
        return codes, labels
    found, uniques = pd.factorize(pd.Series(present, dtype=object), sort=False)
    labels = _sorted_labels(list(uniques))
    order = {u: i for i, u in enumerate(labels)}
    remap = np.array([order[u] for u in uniques], dtype=np.int64)
    codes[~missing] = remap[found] if found.size else found
    return codes, labels


def _check_shape(shape: tuple[int, ...], what: str, rows: str, columns: str,
                 coders_axis: int) -> None:
    """At least one unit and two coders."""
    coders, units = shape[coders_axis], shape[1 - coders_axis]
    coder, unit = (rows, columns)[coders_axis], (rows, columns)[1 - coders_axis]
    where = ("row", "column")[coders_axis]
    if units == 0:
        raise LagnestDataError(f"{what}: no {unit}s (expected a {rows} x {columns} table "
                               f"with at least one {unit})")
    if coders < 2:
        raise LagnestDataError(
            f"{what}: {coders} {coder}{'' if coders == 1 else 's'}; agreement needs at least "
            f"two (expected one {where} per {coder}, i.e. a {rows} x {columns} table)"
        )


# =========================================================================== Fleiss' kappa


def fleiss_arrays(counts: Any) -> dict[str, Any]:
    r"""Fleiss' kappa of a subjects x categories table of counts.

    Parameters
    ----------
    counts : array-like, shape (N, K)
        ``counts[i, j]``: how many coders assigned subject i to category j; every row sums
        to the same number of coders n >= 2.

    Returns
    -------
    dict
        Overall ``kappa``, ``se0``, ``z``, ``p``, ``p_o`` (mean agreement
        :math:`\bar P`), ``p_e``, ``n_subjects``, ``n_coders`` (floats); per category
        (shape ``(K,)``) ``proportion``, ``kappa_code``, ``se0_code``, ``z_code``,
        ``p_code``; per subject ``agreement`` (:math:`P_i`, shape ``(N,)``). NaN where a
        statistic is undefined (no subjects; :math:`P_e = 1`; a category no one or everyone
        used).

    Notes
    -----
    Formulas: :func:`fleiss_kappa`.
    """
    x = np.asarray(counts, dtype=float)
    if x.ndim != 2:
        raise LagnestDataError(f"a Fleiss count table must be 2-d (subjects x categories), got "
                               f"shape {x.shape}")
    if np.any(x < 0) or not np.all(np.isfinite(x)) or np.any(np.mod(x, 1) != 0):
        raise LagnestDataError("Fleiss counts must be whole numbers >= 0")
    n_sub, _ = x.shape
    per = x.sum(1)
    if n_sub and np.any(per != per[0]):
        bad = np.flatnonzero(per != per[0])[:5]
        raise LagnestDataError(
            DataProblem(
                f"Fleiss' kappa needs the same number of coders for every subject; subject 0 "
                f"has {per[0]:g}, subjects {bad.tolist()} have {per[bad].tolist()}",
                expected="equal row sums (use krippendorff_alpha for unequal numbers of codes)",
            )
        )
    n = float(per[0]) if n_sub else 0.0
    if n_sub and n < 2:
        raise LagnestDataError(f"Fleiss' kappa needs at least two coders per subject, got {n:g}")
    total = n_sub * n
    pairs = total * (n - 1)
    prop = _safe_divide(x.sum(0), total)
    pq = prop * (1 - prop)
    agreement = _safe_divide((x * (x - 1)).sum(1), n * (n - 1)) if n_sub else np.zeros(0)
    p_o = float(agreement.mean()) if n_sub else np.nan
    p_e = float((prop**2).sum()) if n_sub else np.nan
    kappa = float(_safe_divide(p_o - p_e, 1 - p_e))
    spq = float(pq.sum())
    var0 = _safe_divide(2 * (spq**2 - (pq * (1 - 2 * prop)).sum()), spq**2 * pairs)
    se0 = float(np.sqrt(np.clip(var0, 0, None)))
    z = float(_safe_divide(kappa, se0))
    kappa_code = 1 - _safe_divide((x * (n - x)).sum(0), pairs * pq)
    se0_code = np.full(prop.shape, float(np.sqrt(_safe_divide(2.0, pairs))))
    z_code = _safe_divide(kappa_code, se0_code)
    return {
        "kappa": kappa,
        "se0": se0,
        "z": z,
        "p": float(2 * special.ndtr(-abs(z))) if not np.isnan(z) else np.nan,
        "p_o": p_o,
        "p_e": p_e,
        "n_subjects": float(n_sub),
        "n_coders": n,
        "proportion": prop,
        "kappa_code": kappa_code,
        "se0_code": se0_code,
        "z_code": z_code,
        "p_code": 2 * special.ndtr(-np.abs(z_code)),
        "agreement": agreement,
    }


def fleiss_kappa(ratings: Any, categories: Sequence[Any] | None = None) -> xr.Dataset:
    r"""Fleiss' kappa for subjects each coded by the same number of coders.

    Parameters
    ----------
    ratings : array-like, pandas.DataFrame or xarray.DataArray, shape (N, n)
        One row per subject (segment), one column per coder, each cell a code (any labels:
        strings, integers). Labels of a DataFrame's index name the subjects. Every subject
        needs a code from every column: a missing cell (NaN, None) is an error, because
        Fleiss' kappa assumes the same number of coders per subject (use
        :func:`krippendorff_alpha`, which allows missing codes, or drop the subject). The
        coders need not be the same people for every subject.
    categories : sequence, optional
        All K categories, in output order; a category no one used gets a count of 0 (and a
        NaN per-category kappa). Default: the codes found, numbers in numeric order,
        other labels in natural order.

    Returns
    -------
    xarray.Dataset
        ``counts`` (``n_ij``) on ``(subject, code)``; per code ``proportion``
        (:math:`p_j`), ``kappa`` (:math:`\kappa_j`), ``se0``, ``z``, ``p``; per subject
        ``agreement`` (:math:`P_i`). Attrs: the overall ``kappa``, ``se0``, ``z``, ``p``,
        ``p_o`` (:math:`\bar P`), ``p_e`` (:math:`\bar P_e`), and ``n_subjects``,
        ``n_coders``, ``n_categories``.

    Raises
    ------
    LagnestDataError
        No subjects, fewer than two coders, a missing code, or a code not in
        ``categories``.

    Notes
    -----
    With :math:`n_{ij}` the number of the :math:`n` coders who put subject :math:`i` (of
    :math:`N`) in category :math:`j`, :math:`p_j = \sum_i n_{ij}/(Nn)`,
    :math:`q_j = 1 - p_j` (Fleiss 1971):

    .. math::

        P_i = \frac{\sum_j n_{ij}(n_{ij} - 1)}{n(n-1)},\quad
        \bar P = \frac{1}{N}\sum_i P_i,\quad \bar P_e = \sum_j p_j^2,\quad
        \kappa = \frac{\bar P - \bar P_e}{1 - \bar P_e},\quad
        \kappa_j = 1 - \frac{\sum_i n_{ij}(n - n_{ij})}{N n (n-1)\, p_j q_j}.

    :math:`\kappa_j` is the kappa of category j against all others collapsed, and
    :math:`\kappa = \sum_j p_j q_j \kappa_j / \sum_j p_j q_j`. With two coders
    :math:`\kappa` is Scott's pi. Under :math:`H_0: \kappa = 0` (Fleiss, Nee & Landis
    1979)

    .. math::

        \mathrm{se}_0(\kappa) = \frac{\sqrt{2}\,\sqrt{(\sum_j p_j q_j)^2
        - \sum_j p_j q_j (q_j - p_j)}}{\sum_j p_j q_j \sqrt{N n (n-1)}},\quad
        \mathrm{se}_0(\kappa_j) = \sqrt{\frac{2}{N n (n-1)}},

    :math:`z = \kappa/\mathrm{se}_0` and the two-sided normal p-value (the test of R's
    ``irr::kappam.fleiss``). These standard errors hold only under :math:`H_0`; they do
    not give a confidence interval for :math:`\kappa` (Fleiss 1971's variance for that was
    corrected by Fleiss, Nee & Landis 1979; a bootstrap of subjects is the usual interval).

    References
    ----------
    .. [1] Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
       *Psychological Bulletin, 76*, 378-382.
    .. [2] Fleiss, J. L., Nee, J. C. M., & Landis, J. R. (1979). Large sample variance of
       kappa in the case of different sets of raters. *Psychological Bulletin, 86*,
       974-977.

    Examples
    --------
    >>> ds = fleiss_kappa([["a", "a", "a"], ["a", "b", "b"], ["b", "b", "b"], ["a", "a", "b"]])
    >>> ds.counts.values
    array([[3, 0],
           [1, 2],
           [0, 3],
           [2, 1]])
    >>> round(ds.attrs["kappa"], 4), round(ds.attrs["p_o"], 4), ds.attrs["p_e"]
    (0.3333, 0.6667, 0.5)
    """
    what = "fleiss_kappa"
    values, subjects, _ = _as_table(ratings, what, "subject", "coder")
    _check_shape(values.shape, what, "subject", "coder", coders_axis=1)
    missing = _missing(values)
    if missing.any():
        rows = np.flatnonzero(missing.any(1))
        shown = ", ".join(f"{subjects[i]!r} ({int((~missing[i]).sum())} of "
                          f"{values.shape[1]})" for i in rows[:5])
        raise LagnestDataError(
            DataProblem(
                f"{what}: {rows.size} subject{'s' if rows.size > 1 else ''} without a code "
                f"from every coder: {shown}" + (" ..." if rows.size > 5 else ""),
                expected="a code from each of the n coders for every subject (Fleiss' kappa "
                "assumes n codes per subject); drop those subjects, or use krippendorff_alpha, "
                "which allows missing codes",
            )
        )
    codes, labels = _codes(values, missing, categories, what)
    k = len(labels)
    n_sub = values.shape[0]
    flat = (np.arange(n_sub)[:, None] * k + codes).ravel()
    counts = np.bincount(flat, minlength=n_sub * k).reshape(n_sub, k)
    arrays = fleiss_arrays(counts)
    ds = xr.Dataset(
        {
            "counts": (("subject", "code"), counts.astype(np.int64)),
            "proportion": ("code", arrays["proportion"]),
            "kappa": ("code", arrays["kappa_code"]),
            "se0": ("code", arrays["se0_code"]),
            "z": ("code", arrays["z_code"]),
            "p": ("code", arrays["p_code"]),
            "agreement": ("subject", arrays["agreement"]),
        },
        coords={"subject": subjects, "code": labels},
    )
    ds.attrs.update({name: arrays[name] for name in ("kappa", "se0", "z", "p", "p_o", "p_e")})
    ds.attrs.update(n_subjects=int(n_sub), n_coders=int(values.shape[1]), n_categories=k,
                    lagnest_version=__version__)
    _describe(ds)
    return ds


def _describe(ds: xr.Dataset) -> None:
    """Attach the standard descriptions to the variables of ``ds``."""
    for name, text in _DESCRIPTIONS.items():
        if name in ds.data_vars:
            ds[name].attrs["description"] = text


# =========================================================================== Krippendorff


def _pairs(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Ordered pairs of values within units: unit, the two value indices, 1 / (m_u - 1).

    ``codes`` is (coders, units) of value indices, ``-1`` = missing. Only units with at
    least two values (pairable units) give pairs.
    """
    present = codes >= 0
    m = present.sum(0)
    unit, first, second = [], [], []
    for i in range(codes.shape[0]):
        for j in range(codes.shape[0]):
            if i != j:
                u = np.flatnonzero(present[i] & present[j])
                unit.append(u)
                first.append(codes[i, u])
                second.append(codes[j, u])
    unit_a = np.concatenate(unit) if unit else np.zeros(0, np.int64)
    return {
        "unit": unit_a,
        "c": np.concatenate(first) if first else np.zeros(0, np.int64),
        "k": np.concatenate(second) if second else np.zeros(0, np.int64),
        "inv": 1.0 / np.maximum(m[unit_a] - 1, 1),
        "pairable": m >= 2,
        "m": m,
    }


def _fixed_delta(level: str, values: np.ndarray) -> np.ndarray | None:
    """The squared differences (values x values) of a metric that ignores the margins."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ratio":
        total = values[:, None] + values[None, :]
        ratio = _safe_divide(values[:, None] - values[None, :], total)
        return np.where(total != 0, ratio, 0.0) ** 2
    return None


def _ordinal_delta(margins: np.ndarray, c: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal squared differences of ranks ``c``, ``k`` (any shapes).

    ``margins`` is (b, V): b sets of value totals :math:`n_g`; the result is
    ``(b, *broadcast(c, k).shape)``.
    """
    cum = np.cumsum(margins, axis=1)
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    between = cum[:, hi] - cum[:, lo] + margins[:, lo]
    return (between - (margins[:, c] + margins[:, k]) / 2) ** 2


def _alpha_weighted(pair_weight: np.ndarray, pairs: dict[str, np.ndarray], level: str,
                    values: np.ndarray, delta: np.ndarray | None) -> dict[str, np.ndarray]:
    """Alpha of ``b`` weightings of the pairs: ``pair_weight`` is (b, P)."""
    c, k = pairs["c"], pairs["k"]
    n_val = values.size
    onehot = sparse.csr_matrix((np.ones(c.size), (np.arange(c.size), c)),
                               shape=(c.size, n_val))
    margins = np.asarray(onehot.T @ pair_weight.T).T.reshape(pair_weight.shape[0], n_val)
    n = margins.sum(1)
    if level == "ordinal":
        d_pair = _ordinal_delta(margins, c, k)
        observed = (pair_weight * d_pair).sum(1)
        idx = np.arange(n_val)
        full = _ordinal_delta(margins, idx[:, None], idx[None, :])
        expected = np.einsum("bc,bck,bk->b", margins, full, margins)
    else:
        assert delta is not None
        observed = pair_weight @ delta[c, k] if c.size else np.zeros(pair_weight.shape[0])
        if level == "nominal":
            expected = n**2 - (margins**2).sum(1)
        elif level == "interval":
            centred = values - values.mean() if n_val else values
            s1, s2 = margins @ centred, margins @ centred**2
            expected = np.clip(2 * (n * s2 - s1**2), 0, None)
        else:
            expected = ((margins @ delta) * margins).sum(1)
    alpha = 1 - _safe_divide((n - 1) * observed, expected)
    # one value throughout: D_e = 0 exactly, whatever the rounding of the sums above
    alpha = np.where((margins > 0).sum(1) >= 2, alpha, np.nan)
    return {"alpha": alpha, "observed": observed, "expected": expected, "n": n,
            "margins": margins}


def _bootstrap(pairs: dict[str, np.ndarray], level: str, values: np.ndarray,
               delta: np.ndarray | None, clusters: np.ndarray, n_boot: int,
               seed: Any) -> np.ndarray:
    """Alpha of ``n_boot`` resamples of the clusters holding pairable units."""
    rng = np.random.default_rng(seed)
    pairable = np.flatnonzero(pairs["pairable"])
    if not pairable.size:
        return np.full(n_boot, np.nan)
    groups, group_of = np.unique(clusters[pairable], return_inverse=True)
    n_groups = groups.size
    unit_group = np.zeros(clusters.size, np.int64)
    unit_group[pairable] = group_of
    pair_group = unit_group[pairs["unit"]]
    size = pairs["c"].size + (values.size**2 if level == "ordinal" else values.size) + n_groups
    chunk = max(1, min(n_boot, _CHUNK_ELEMENTS // max(size, 1)))
    draws = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        pick = rng.integers(0, n_groups, size=(b, n_groups))
        counts = np.bincount((pick + n_groups * np.arange(b)[:, None]).ravel(),
                             minlength=b * n_groups).reshape(b, n_groups)
        weight = counts[:, pair_group] * pairs["inv"]
        draws[start:start + b] = _alpha_weighted(weight, pairs, level, values, delta)["alpha"]
    return draws


def alpha_arrays(codes: Any, values: Any, level: str = "nominal") -> dict[str, Any]:
    r"""Krippendorff's alpha of a coders x units matrix of value indices.

    Parameters
    ----------
    codes : array-like of int, shape (coders, units)
        Index into ``values`` of the value each coder assigned to each unit; ``-1`` =
        missing.
    values : array-like, shape (V,)
        The distinct values in increasing order (numbers; for ``"nominal"`` only their
        count matters).
    level : {"nominal", "ordinal", "interval", "ratio"}

    Returns
    -------
    dict
        ``alpha``, ``d_o``, ``d_e``, ``n`` (pairable values), ``n_units`` (pairable units)
        as floats, and the ``coincidences``, ``expected`` and ``delta`` matrices
        (V x V). ``alpha`` is NaN when no unit has two values or when :math:`D_e = 0`
        (every pairable value the same).

    Notes
    -----
    Formulas: :func:`krippendorff_alpha`.
    """
    core = _alpha_core(codes, values, level)
    return {name: value for name, value in core.items() if not name.startswith("_")}


def _alpha_core(codes: Any, values: Any, level: str) -> dict[str, Any]:
    """:func:`alpha_arrays` plus the pairs and numeric values the bootstrap reuses."""
    if level not in ALPHA_LEVELS:
        raise LagnestDataError(DataProblem("bad level", value=level,
                                           expected=f"one of {list(ALPHA_LEVELS)}"))
    x = np.asarray(codes, dtype=np.int64)
    vals = np.asarray(values, dtype=float) if level != "nominal" else \
        np.arange(len(values), dtype=float)
    if x.ndim != 2:
        raise LagnestDataError(f"reliability data must be 2-d (coders x units), got {x.shape}")
    if x.size and (x.min() < -1 or x.max() >= vals.size):
        raise LagnestDataError(f"value indices must be -1 (missing) or 0..{vals.size - 1}")
    if level == "ratio" and np.any(vals < 0):
        raise LagnestDataError("ratio data must be >= 0 (a ratio scale has its zero at 0)")
    pairs = _pairs(x)
    delta = _fixed_delta(level, vals)
    res = _alpha_weighted(pairs["inv"][None, :], pairs, level, vals, delta)
    n_val = vals.size
    o = np.bincount(pairs["c"] * n_val + pairs["k"], weights=pairs["inv"],
                    minlength=n_val * n_val).reshape(n_val, n_val)
    margins, n = o.sum(1), float(res["n"][0])
    expected = _safe_divide(margins[:, None] * (margins[None, :] - np.eye(n_val)), n - 1)
    if delta is None:
        idx = np.arange(n_val)
        delta = _ordinal_delta(margins[None, :], idx[:, None], idx[None, :])[0]
    return {
        "alpha": float(res["alpha"][0]),
        "d_o": float(_safe_divide(res["observed"][0], n)),
        "d_e": float(_safe_divide(res["expected"][0], n * (n - 1))),
        "n": n,
        "n_units": float(pairs["pairable"].sum()),
        "coincidences": o,
        "expected": expected,
        "delta": delta,
        "_pairs": pairs,
        "_values": vals,
    }


def _alpha_input(data: Any, level: str, what: str) -> tuple[np.ndarray, list, list, list]:
    """Reliability data -> (value indices, values, coder labels, unit labels)."""
    if level not in ALPHA_LEVELS:
        raise LagnestDataError(DataProblem("bad level", value=level,
                                           expected=f"one of {list(ALPHA_LEVELS)}"))
    values, coders, units = _as_table(data, what, "coder", "unit")
    _check_shape(values.shape, what, "coder", "unit", coders_axis=0)
    missing = _missing(values)
    if level != "nominal":
        nums = _numbers(values, missing, what, level, "coder", "unit")
        if level == "ratio" and np.any(nums[~missing] < 0):
            raise LagnestDataError(f"{what}: ratio data must be >= 0 (got "
                                   f"{nums[~missing].min():g}); use level='interval'")
        values = nums
    codes, labels = _codes(values, missing, None, what)
    if len(labels) > MAX_VALUES:
        raise LimitError(
            f"{what}: {len(labels):,} distinct values; at most MAX_VALUES = {MAX_VALUES:,} "
            "(the coincidence matrix is values x values): round the values to a coarser "
            "scale"
        )
    return codes, labels, coders, units


def krippendorff_alpha(
    data: Any,
    level: str = "nominal",
    *,
    n_boot: int = 0,
    seed: Any = None,
    ci_prob: float = 0.95,
    clusters: Sequence[Any] | None = None,
) -> xr.Dataset:
    r"""Krippendorff's alpha for any number of coders, with missing values.

    Parameters
    ----------
    data : array-like, pandas.DataFrame or xarray.DataArray, shape (coders, units)
        Krippendorff's reliability data: **one row per coder, one column per unit**
        (the transpose of :func:`fleiss_kappa`'s layout), each cell the value that coder
        assigned to that unit; missing values (NaN, None) are allowed anywhere. A
        DataFrame's index names the coders and its columns the units.
    level : {"nominal", "ordinal", "interval", "ratio"}, default "nominal"
        Level of measurement, i.e. the difference function :math:`\delta^2_{ck}` (Notes).
        ``"nominal"`` accepts any labels; the others need numbers (ordinal: their order is
        the rank order), ratio ones >= 0.
    n_boot : int, default 0
        Bootstrap resamples for a percentile confidence interval (0: none). Units are
        resampled with replacement, as many as there are pairable units (those with at
        least two values), and alpha is recomputed; with ``clusters``, whole clusters are
        resampled instead (Notes).
    seed : int or numpy.random.SeedSequence, optional
        Seed of :func:`numpy.random.default_rng` for the bootstrap; the same seed gives the
        same resamples and numbers.
    ci_prob : float, default 0.95
        Coverage of the bootstrap interval.
    clusters : sequence, optional
        One label per unit (column): the bootstrap resamples the clusters holding pairable
        units, keeping each cluster's units together (e.g. the session of each segment,
        whose codes are not independent). Default: every unit its own cluster.

    Returns
    -------
    xarray.Dataset
        ``coincidences`` (:math:`o_{ck}`), ``expected`` (:math:`e_{ck}`) and ``delta``
        (:math:`\delta^2_{ck}`) on ``(value_c, value_k)`` with the distinct values as
        coordinates; with ``n_boot``, ``alpha_boot`` on ``draw``. Attrs: ``alpha``,
        ``d_o``, ``d_e``, ``level``, ``n`` (pairable values), ``n_units`` (pairable
        units), ``n_units_total``, ``n_coders``, ``ci_low``, ``ci_high`` (NaN without a
        bootstrap), ``n_boot``, ``n_boot_undefined`` (resamples whose alpha is undefined,
        left out of the interval), ``bootstrap`` (``"units"`` or ``"clusters"``),
        ``ci_prob``, and ``seed`` when given as an int.

    Raises
    ------
    LagnestDataError
        No units, fewer than two coders, non-numbers for an ordinal, interval or ratio
        level, negative ratio data, bad options. `LimitError` when there are more than
        :data:`MAX_VALUES` distinct values.

    Notes
    -----
    Units with fewer than two values are not pairable and are left out. A unit :math:`u`
    with :math:`m_u \ge 2` values adds each ordered pair of its values (coders
    :math:`i \ne j`) to the coincidence matrix with weight :math:`1/(m_u - 1)`, so that
    :math:`o_{ck} = \sum_u \#\{(i, j): v_{iu} = c, v_{ju} = k\}/(m_u - 1)`; its margins are
    :math:`n_c = \sum_k o_{ck}` and :math:`n = \sum_c n_c`, the number of pairable values.
    Then (Krippendorff 2011)

    .. math::

        D_o = \frac{1}{n}\sum_{c,k} o_{ck}\,\delta^2_{ck},\quad
        D_e = \frac{1}{n(n-1)}\sum_{c,k} n_c n_k\,\delta^2_{ck},\quad
        \alpha = 1 - \frac{D_o}{D_e},

    with :math:`\delta^2_{ck} = [c \ne k]` (nominal), :math:`(c - k)^2` (interval),
    :math:`((c - k)/(c + k))^2` (ratio), and for ordinal data, with values ranked
    :math:`c \le k`, :math:`(\sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2`. Alpha is NaN when no
    unit is pairable or :math:`D_e = 0`. With two coders and no missing values,
    nominal alpha is Scott's pi corrected for the sample size:
    :math:`\alpha = 1 - (1 - \pi)(n - 1)/n`; more generally, for complete data it is
    :math:`1 - (1 - \kappa_F)(n - 1)/n` with :math:`\kappa_F` Fleiss' kappa.

    The bootstrap is a nonparametric bootstrap of units (Zapf et al. 2016), not
    Krippendorff's own algorithm (Hayes & Krippendorff 2007), which resamples pairs of
    values: ``ci_low`` and ``ci_high`` are the :math:`(1 \mp c)/2` quantiles of the
    resampled alphas. The units resampled are the clusters of ``clusters`` when given.
    Resamples in which alpha is undefined (all values equal) are counted in
    ``n_boot_undefined`` and left out.

    References
    ----------
    .. [1] Krippendorff, K. (2004). *Content analysis: An introduction to its methodology*
       (2nd ed.). Sage.
    .. [2] Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. University
       of Pennsylvania, Annenberg School for Communication, departmental paper 43.
    .. [3] Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard
       reliability measure for coding data. *Communication Methods and Measures, 1*,
       77-89.
    .. [4] Zapf, A., Castell, S., Morawietz, L., & Karch, A. (2016). Measuring inter-rater
       reliability for nominal data - which coefficients and confidence intervals are
       appropriate? *BMC Medical Research Methodology, 16*, 93.

    Examples
    --------
    Krippendorff's (2011) example: 4 coders, 12 units, values 1-5, missing values as NaN.

    >>> nan = float("nan")
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(krippendorff_alpha(data).attrs["alpha"], 3)
    0.743
    >>> round(krippendorff_alpha(data, "interval").attrs["alpha"], 3)
    0.849
    >>> ds = krippendorff_alpha(data, "ordinal", n_boot=200, seed=1)
    >>> round(ds.attrs["alpha"], 3), ds.attrs["n_units"]
    (0.815, 11)
    """
    what = "krippendorff_alpha"
    ci_prob = _check_ci_prob(ci_prob)
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 0:
        raise LagnestDataError(DataProblem("bad n_boot", value=n_boot,
                                           expected="a whole number of resamples >= 0"))
    codes, labels, coders, units = _alpha_input(data, level, what)
    if clusters is not None:
        groups = np.asarray(pd.factorize(pd.Series(list(clusters), dtype=object))[0])
        if groups.size != codes.shape[1]:
            raise LagnestDataError(
                f"{what}: {groups.size} cluster labels for {codes.shape[1]} units (expected "
                "one cluster label per unit, i.e. per column)"
            )
        if np.any(groups < 0):
            raise LagnestDataError(f"{what}: missing cluster labels (expected one per unit)")
    else:
        groups = np.arange(codes.shape[1])
    arrays = _alpha_core(codes, labels, level)
    return _alpha_dataset(arrays, labels, level, int(n_boot), seed, ci_prob, groups,
                          clusters is not None, len(coders), len(units))


def _alpha_dataset(arrays: dict[str, Any], labels: list, level: str, n_boot: int, seed: Any,
                   ci_prob: float, groups: np.ndarray, clustered: bool, n_coders: int,
                   n_units_total: int) -> xr.Dataset:
    """Label :func:`alpha_arrays` (and run the bootstrap)."""
    dims = ("value_c", "value_k")
    ds = xr.Dataset(
        {
            "coincidences": (dims, arrays["coincidences"]),
            "expected": (dims, arrays["expected"]),
            "delta": (dims, arrays["delta"]),
        },
        coords={"value_c": labels, "value_k": labels},
    )
    low = high = np.nan
    undefined = 0
    if n_boot:
        draws = _bootstrap(arrays["_pairs"], level, arrays["_values"],
                           _fixed_delta(level, arrays["_values"]), groups, n_boot, seed)
        ds["alpha_boot"] = ("draw", draws)
        ok = draws[np.isfinite(draws)]
        undefined = int(n_boot - ok.size)
        if ok.size:
            low, high = (float(q) for q in np.quantile(ok, [(1 - ci_prob) / 2,
                                                            (1 + ci_prob) / 2]))
    ds.attrs.update(
        alpha=arrays["alpha"],
        d_o=arrays["d_o"],
        d_e=arrays["d_e"],
        level=level,
        n=int(arrays["n"]),
        n_units=int(arrays["n_units"]),
        n_units_total=int(n_units_total),
        n_coders=int(n_coders),
        ci_low=low,
        ci_high=high,
        n_boot=int(n_boot),
        n_boot_undefined=undefined,
        bootstrap="clusters" if clustered else "units",
        ci_prob=ci_prob,
        lagnest_version=__version__,
    )
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        ds.attrs["seed"] = int(seed)
    _describe(ds)
    return ds


# =========================================================================== ICC


def icc_arrays(ratings: Any, ci_prob: float = 0.95) -> dict[str, Any]:
    r"""The six intraclass correlations of a complete targets x judges matrix.

    Parameters
    ----------
    ratings : array-like of float, shape (n, k)
        One row per target, one column per judge; no missing values; n >= 2, k >= 2.
    ci_prob : float, default 0.95
        Coverage of the confidence intervals.

    Returns
    -------
    dict
        ``icc``, ``F``, ``df1``, ``df2``, ``p``, ``ci_low``, ``ci_high`` (each shape (6,),
        in the order of :data:`ICC_KINDS`), the mean squares ``bms``, ``wms``, ``jms``,
        ``ems`` and ``n``, ``k``.

    Notes
    -----
    Formulas: :func:`icc`.
    """
    ci_prob = _check_ci_prob(ci_prob)
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise LagnestDataError(f"ICCs need a targets x judges matrix with at least 2 targets "
                               f"and 2 judges, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise LagnestDataError("ICCs need every target rated by every judge (finite values)")
    n, k = x.shape
    grand = x.mean()
    ss_total = ((x - grand) ** 2).sum()
    ss_rows = k * ((x.mean(1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(0) - grand) ** 2).sum()
    ss_err = max(ss_total - ss_rows - ss_cols, 0.0)
    df_b, df_w, df_j, df_e = n - 1, n * (k - 1), k - 1, (n - 1) * (k - 1)
    bms, wms = ss_rows / df_b, (ss_total - ss_rows) / df_w
    jms, ems = ss_cols / df_j, ss_err / df_e

    def ratio(num: Any, den: Any) -> float:
        return float(_safe_divide(num, den))

    q = 1 - (1 - ci_prob) / 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        icc1 = ratio(bms - wms, bms + (k - 1) * wms)
        icc2 = ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n)
        icc3 = ratio(bms - ems, bms + (k - 1) * ems)
        icc1k = ratio(bms - wms, bms)
        icc2k = ratio(bms - ems, bms + (jms - ems) / n)
        icc3k = ratio(bms - ems, bms)
        f1, f3 = ratio(bms, wms), ratio(bms, ems)
        p1 = float(sps.f.sf(f1, df_b, df_w)) if not np.isnan(f1) else np.nan
        p3 = float(sps.f.sf(f3, df_b, df_e)) if not np.isnan(f3) else np.nan
        f1l, f1u = f1 / sps.f.ppf(q, df_b, df_w), f1 * sps.f.ppf(q, df_w, df_b)
        f3l, f3u = f3 / sps.f.ppf(q, df_b, df_e), f3 * sps.f.ppf(q, df_e, df_b)
        # ICC(2,1): Satterthwaite's df (Shrout & Fleiss 1979, Table 4)
        fj = ratio(jms, ems)
        base = n * (1 + (k - 1) * icc2) - k * icc2
        v = ratio(df_e * (k * icc2 * fj + base) ** 2, df_b * k**2 * icc2**2 * fj**2 + base**2)
        ok = np.isfinite(v) and v > 0
        f2u = float(sps.f.ppf(q, df_b, v)) if ok else np.nan
        f2l = float(sps.f.ppf(q, v, df_b)) if ok else np.nan
        den = k * jms + (k * n - k - n) * ems
        l2 = ratio(n * (bms - f2u * ems), f2u * den + n * bms)
        u2 = ratio(n * (f2l * bms - ems), den + n * f2l * bms)
        low = np.array([
            ratio(f1l - 1, f1l + k - 1), l2, ratio(f3l - 1, f3l + k - 1),
            1 - ratio(1, f1l), ratio(k * l2, 1 + (k - 1) * l2), 1 - ratio(1, f3l),
        ])
        high = np.array([
            ratio(f1u - 1, f1u + k - 1), u2, ratio(f3u - 1, f3u + k - 1),
            1 - ratio(1, f1u), ratio(k * u2, 1 + (k - 1) * u2), 1 - ratio(1, f3u),
        ])
    return {
        "icc": np.array([icc1, icc2, icc3, icc1k, icc2k, icc3k]),
        "F": np.array([f1, f3, f3, f1, f3, f3]),
        "df1": np.full(6, float(df_b)),
        "df2": np.array([df_w, df_e, df_e, df_w, df_e, df_e], dtype=float),
        "p": np.array([p1, p3, p3, p1, p3, p3]),
        "ci_low": low,
        "ci_high": high,
        "bms": float(bms), "wms": float(wms), "jms": float(jms), "ems": float(ems),
        "n": n, "k": k,
    }


def _icc_kinds(kind: Any, k: int | None) -> list[str]:
    """Canonical names (:data:`ICC_KINDS`) of ``kind`` (None: all six); k = judges."""
    if kind is None:
        return list(ICC_KINDS)
    out = []
    for name in [kind] if isinstance(kind, str) else list(kind):
        found = re.fullmatch(r"icc\(([123ac]),(k|\d+)\)", str(name).replace(" ", "").lower())
        text = None
        if found:
            model, size = found.groups()
            if size not in ("1", "k") and k is not None and int(size) == k:
                size = "k"
            text = _ICC_ALIASES.get(f"ICC({model.upper()},{size})",
                                    f"ICC({model.upper()},{size})")
        if text not in ICC_KINDS:
            raise LagnestDataError(
                DataProblem("unknown ICC kind", value=name,
                            expected=f"one of {list(ICC_KINDS)} (k: the number of judges), or "
                            "McGraw & Wong's ICC(A,1), ICC(C,1), ICC(A,k), ICC(C,k)")
            )
        out.append(text)
    return list(dict.fromkeys(out))


def icc(ratings: Any, kind: Any = None, *, ci_prob: float = 0.95) -> xr.Dataset:
    r"""Intraclass correlations of Shrout & Fleiss (1979), with F tests and intervals.

    Parameters
    ----------
    ratings : array-like, pandas.DataFrame or xarray.DataArray, shape (n, k)
        One row per target (segment, session, ...), one column per judge (coder), each cell
        a number. Every target needs a rating from every judge (the two-way ANOVA is
        balanced): a missing value is an error naming the targets (drop them, or use
        ``krippendorff_alpha(ratings.T, "interval")``, which allows missing values).
    kind : str or list of str, optional
        Which ICCs: any of :data:`ICC_KINDS` (``"ICC(2,1)"``, ...; ``"ICC(2,4)"`` with 4
        judges means ``"ICC(2,k)"``), or McGraw & Wong's ``"ICC(A,1)"`` (= ICC(2,1)),
        ``"ICC(C,1)"`` (= ICC(3,1)), ``"ICC(A,k)"``, ``"ICC(C,k)"``. Default: all six.
    ci_prob : float, default 0.95
        Coverage of the confidence intervals.

    Returns
    -------
    xarray.Dataset
        On dim ``kind`` (the canonical names): ``icc``, ``F``, ``df1``, ``df2``, ``p``
        (the F test of ICC = 0), ``ci_low``, ``ci_high``. Attrs: the mean squares ``bms``
        (between targets), ``wms`` (within targets), ``jms`` (between judges), ``ems``
        (residual), ``n_targets``, ``n_judges``, ``ci_prob``.

    Raises
    ------
    LagnestDataError
        Fewer than two targets or judges, missing or non-numeric ratings, an unknown kind.

    Notes
    -----
    From the two-way ANOVA of n targets by k judges (Shrout & Fleiss 1979):

    .. math::

        \mathrm{ICC}(1,1) = \frac{BMS - WMS}{BMS + (k-1)WMS},\quad
        \mathrm{ICC}(2,1) = \frac{BMS - EMS}{BMS + (k-1)EMS + k(JMS - EMS)/n},

    .. math::

        \mathrm{ICC}(3,1) = \frac{BMS - EMS}{BMS + (k-1)EMS},\quad
        \mathrm{ICC}(1,k) = \frac{BMS - WMS}{BMS},\quad
        \mathrm{ICC}(2,k) = \frac{BMS - EMS}{BMS + (JMS - EMS)/n},\quad
        \mathrm{ICC}(3,k) = \frac{BMS - EMS}{BMS}.

    ICC(1,·): each target rated by different judges (one-way random model); ICC(2,·):
    the judges a random sample, absolute agreement (McGraw & Wong's ICC(A,·)); ICC(3,·):
    these judges only, consistency (ICC(C,·)); ·,1: one judge's rating, ·,k: the mean of
    k judges. The F tests of ICC = 0 use :math:`F = BMS/WMS` on
    :math:`(n-1, n(k-1))` df for ICC(1,·) and :math:`F = BMS/EMS` on
    :math:`(n-1, (n-1)(k-1))` df otherwise. Confidence intervals: Shrout & Fleiss (1979),
    Table 4, exact F-based for ICC(1,·) and ICC(3,·) and with Satterthwaite's df for
    ICC(2,1); ICC(2,k) takes the Spearman-Brown transform of ICC(2,1)'s limits, which is
    McGraw & Wong's (1996) interval for ICC(A,k). These are the formulas of R's
    ``psych::ICC`` and ``pingouin.intraclass_corr``.

    References
    ----------
    .. [1] Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing
       rater reliability. *Psychological Bulletin, 86*, 420-428.
    .. [2] McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
       correlation coefficients. *Psychological Methods, 1*, 30-46.

    Examples
    --------
    Shrout & Fleiss's (1979) Table 2: 6 targets, 4 judges.

    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> ds = icc(sf)
    >>> ds.icc.round(2).values
    array([0.17, 0.29, 0.71, 0.44, 0.62, 0.91])
    >>> round(float(icc(sf, "ICC(3,1)").ci_low[0]), 3)
    0.342
    """
    what = "icc"
    ci_prob = _check_ci_prob(ci_prob)
    values, targets, _ = _as_table(ratings, what, "target", "judge")
    _check_shape(values.shape, what, "target", "judge", coders_axis=1)
    if values.shape[0] < 2:
        raise LagnestDataError(f"{what}: 1 target; ICCs need at least two targets")
    missing = _missing(values)
    nums = _numbers(values, missing, what, "rating", "target", "judge")
    if missing.any():
        rows = np.flatnonzero(missing.any(1))
        raise LagnestDataError(
            DataProblem(
                f"{what}: {rows.size} target{'s' if rows.size > 1 else ''} not rated by every "
                f"judge: {[targets[i] for i in rows[:10]]}" + (" ..." if rows.size > 10 else ""),
                expected="a rating from every judge for every target; drop those targets, or "
                "use krippendorff_alpha(level='interval'), which allows missing ratings",
            )
        )
    kinds = _icc_kinds(kind, values.shape[1])
    arrays = icc_arrays(nums, ci_prob)
    pick = [ICC_KINDS.index(name) for name in kinds]
    ds = xr.Dataset(
        {name: ("kind", arrays[name][pick])
         for name in ("icc", "F", "df1", "df2", "p", "ci_low", "ci_high")},
        coords={"kind": kinds},
    )
    ds.attrs.update(
        bms=arrays["bms"], wms=arrays["wms"], jms=arrays["jms"], ems=arrays["ems"],
        n_targets=int(arrays["n"]), n_judges=int(arrays["k"]), ci_prob=ci_prob,
        lagnest_version=__version__,
    )
    _describe(ds)
    return ds


# =========================================================================== codings


#: Statistics of :func:`coder_agreement`, one value per row, in output order.
CODER_VARIABLES = (
    "fleiss_kappa",
    "fleiss_se0",
    "fleiss_z",
    "fleiss_p",
    "p_o",
    "p_e",
    "pairwise_kappa",
    "pairwise_p_o",
    "alpha_nominal",
    "alpha_ordinal",
    "alpha_interval",
    "alpha_ci_low",
    "alpha_ci_high",
    "icc",
    "icc_ci_low",
    "icc_ci_high",
    "icc_p",
    "n_complete",
    "n_pairable",
)

_CODER_DESCRIPTIONS = {
    "fleiss_kappa": "Fleiss' kappa over the segments every coder coded",
    "fleiss_se0": "standard error of Fleiss' kappa under H0: kappa = 0",
    "fleiss_z": "fleiss_kappa / fleiss_se0",
    "fleiss_p": "two-sided normal p-value of fleiss_z",
    "p_o": "Fleiss' mean observed agreement (P-bar)",
    "p_e": "Fleiss' chance agreement (P-bar_e)",
    "pairwise_kappa": "Light's kappa: mean over coder pairs of Cohen's kappa, with the "
    "tolerance of attrs tolerance (pairwise_agreement gives each pair's)",
    "pairwise_p_o": "mean over coder pairs of the observed proportion of agreement, with the "
    "tolerance of attrs tolerance",
    "alpha_nominal": "Krippendorff's alpha, nominal, over segments coded by two or more coders",
    "alpha_ordinal": "Krippendorff's alpha, ordinal, over segments rated by two or more coders",
    "alpha_interval": "Krippendorff's alpha, interval, over segments rated by two or more coders",
    "alpha_ci_low": "lower bootstrap limit of the row's nominal (codes) or interval (ratings) "
    "alpha (sessions resampled)",
    "alpha_ci_high": "upper bootstrap limit of the row's nominal (codes) or interval "
    "(ratings) alpha (sessions resampled)",
    "icc": "intraclass correlation (attrs icc_kind) over segments every coder rated",
    "icc_ci_low": "lower confidence limit of icc",
    "icc_ci_high": "upper confidence limit of icc",
    "icc_p": "p-value of the F test of ICC = 0",
    "n_complete": "segments coded (rated) by every coder: the units of Fleiss' kappa and ICC",
    "n_pairable": "segments coded (rated) by at least two coders: the units of alpha",
}


def _code_row(x: np.ndarray, n_labels: int, session: np.ndarray, n_boot: int, seed: Any,
              ci_prob: float) -> dict[str, float]:
    """Fleiss' kappa and nominal alpha of a (segments, coders) code matrix (-1 uncoded)."""
    out = dict.fromkeys(CODER_VARIABLES, np.nan)
    complete = (x >= 0).all(1)
    n_complete = int(complete.sum())
    if n_complete:
        rows = x[complete]
        flat = (np.arange(n_complete)[:, None] * n_labels + rows).ravel()
        counts = np.bincount(flat, minlength=n_complete * n_labels).reshape(n_complete,
                                                                           n_labels)
        f = fleiss_arrays(counts)
        out.update(fleiss_kappa=f["kappa"], fleiss_se0=f["se0"], fleiss_z=f["z"],
                   fleiss_p=f["p"], p_o=f["p_o"], p_e=f["p_e"])
    arrays = _alpha_core(x.T, np.arange(n_labels), "nominal")
    out["alpha_nominal"] = arrays["alpha"]
    out.update(_alpha_interval(arrays, "nominal", session, n_boot, seed, ci_prob))
    out.update(n_complete=float(n_complete), n_pairable=arrays["n_units"])
    return out


def _coder_pairs(n_coders: int) -> list[tuple[int, int]]:
    """Every pair (i, j), i < j, of coder positions, in order (1-2, 1-3, ..., 2-3, ...)."""
    return list(itertools.combinations(range(n_coders), 2))


def _pair_matrices(x: np.ndarray, n_labels: int, keys: np.ndarray, tolerance: int,
                   reference: str) -> np.ndarray:
    """(pairs, K, K) agreement matrices of every pair of columns of a code matrix.

    ``x`` is (segments, coders) of code indices (``-1`` uncoded); the pair (i, j) is
    tallied by :func:`lagnest.classical.agreement._tally`, the tolerance rule of
    :func:`~lagnest.classical.agreement.agreement`, with coder i as coder A.
    """
    pairs = _coder_pairs(x.shape[1])
    if not pairs:
        return np.zeros((0, n_labels, n_labels))
    return np.stack([_tally(x[:, i], x[:, j], keys, n_labels, tolerance, reference)
                     for i, j in pairs])


def _pairwise_row(matrices: np.ndarray) -> dict[str, float]:
    """Light's kappa and the mean pairwise observed agreement of (pairs, K, K) matrices."""
    arrays = kappa_arrays(matrices)
    return {"pairwise_kappa": float(np.mean(arrays["kappa"])),
            "pairwise_p_o": float(np.mean(arrays["p_o"]))}


def _alpha_interval(arrays: dict[str, Any], level: str, session: np.ndarray, n_boot: int,
                    seed: Any, ci_prob: float) -> dict[str, float]:
    """Bootstrap limits of an alpha, resampling sessions."""
    if not n_boot or not arrays["n_units"]:
        return {}
    draws = _bootstrap(arrays["_pairs"], level, arrays["_values"],
                       _fixed_delta(level, arrays["_values"]), session, n_boot, seed)
    ok = draws[np.isfinite(draws)]
    if not ok.size:
        return {}
    low, high = np.quantile(ok, [(1 - ci_prob) / 2, (1 + ci_prob) / 2])
    return {"alpha_ci_low": float(low), "alpha_ci_high": float(high)}


def _rating_row(r: np.ndarray, session: np.ndarray, kind: str, n_boot: int, seed: Any,
                ci_prob: float, what: str) -> dict[str, float]:
    """ICC, ordinal and interval alpha of a (segments, coders) rating matrix (NaN = not rated)."""
    out = dict.fromkeys(CODER_VARIABLES, np.nan)
    missing = np.isnan(r)
    complete = ~missing.any(1)
    n_complete = int(complete.sum())
    if n_complete >= 2:
        arrays = icc_arrays(r[complete], ci_prob)
        i = ICC_KINDS.index(kind)
        out.update(icc=arrays["icc"][i], icc_ci_low=arrays["ci_low"][i],
                   icc_ci_high=arrays["ci_high"][i], icc_p=arrays["p"][i])
    codes, labels = _codes(r, missing, None, what)
    if len(labels) > MAX_VALUES:
        raise LimitError(f"{what}: {len(labels):,} distinct values; at most MAX_VALUES = "
                         f"{MAX_VALUES:,} for Krippendorff's alpha (round the ratings)")
    out["alpha_ordinal"] = _alpha_core(codes.T, labels, "ordinal")["alpha"]
    alpha = _alpha_core(codes.T, labels, "interval")
    out["alpha_interval"] = alpha["alpha"]
    out.update(_alpha_interval(alpha, "interval", session, n_boot, seed, ci_prob))
    out.update(n_complete=float(n_complete), n_pairable=alpha["n_units"])
    return out


def _aligned_rating(codings: Mapping[str, Sequences], name: str) -> np.ndarray:
    """(segments, coders) matrix of rating ``name``, aligned to the first coding."""
    names, seqs = list(codings), list(codings.values())
    lacking = [who for who, s in zip(names, seqs, strict=True) if name not in s.rating_names]
    if lacking:
        raise LagnestDataError(
            f"rating {name!r} is missing from {', '.join(lacking)} (expected the rating in "
            "every coding)"
        )
    columns = [np.asarray(seqs[0].rating(name), dtype=float)]
    for who, other in zip(names[1:], seqs[1:], strict=True):
        order = _align_order(seqs[0], other, (names[0], who))
        columns.append(np.asarray(other.rating(name), dtype=float)[order])
    return np.stack(columns, axis=1)


def _check_codings(codings: Any, what: str) -> dict[str, Sequences]:
    """Two or more `Sequences` by coder name, names as str."""
    from lagnest.data.sequences import Sequences

    if not isinstance(codings, Mapping) or len(codings) < 2:
        raise LagnestDataError(
            f"{what}: expected a mapping of two or more coder names to Sequences, got "
            f"{type(codings).__name__}" + (f" with {len(codings)}" if isinstance(codings, Mapping)
                                           else "")
        )
    bad = [str(name) for name, s in codings.items() if not isinstance(s, Sequences)]
    if bad:
        raise LagnestDataError(f"{what}: the codings of {bad} are not Sequences (expected a "
                               "Sequences per coder, e.g. from lagnest.read_table)")
    return {str(name): s for name, s in codings.items()}


def _row_names(first: Sequences, stream: Any, ratings: bool) -> list[Any]:
    """What to compare: ``stream`` as a list, by default every stream (and rating)."""
    if stream is None:
        return [*first.streams, *(first.rating_names if ratings else ())]
    if isinstance(stream, str):
        return [stream]
    return list(stream)


def _is_rating(first: Sequences, name: Any) -> bool:
    """Whether ``name`` is a rating of the first coding (and not a stream)."""
    return isinstance(name, str) and name in first.rating_names and name not in first.streams


#: Where the pairwise tallies of a row are made: key of each segment's tolerance window,
#: the tolerance and the reference (see :func:`_pair_matrices`).
_Tally = tuple[np.ndarray, int, str]


def _code_rows(codings: Mapping[str, Sequences], name: Any, uncoded: str, per_code: bool,
               tally: _Tally) -> Iterator[tuple[str, str, str, np.ndarray, int, np.ndarray]]:
    """Rows of one stream or code: (label, kind, parent, codes, K, pairwise matrices).

    ``codes`` is (segments, coders) of indices into the row's K labels, ``-1`` uncoded
    (none with ``uncoded="category"``, where uncoded is code K - 1 of a categorical stream
    and 2 of an indicator); the pairwise matrices are (pairs, K, K), each pair tallied by
    :func:`_pair_matrices`. A code of a categorical stream gets the code against all
    others collapsed from the stream's matrices (tallied once), as
    :func:`~lagnest.classical.agreement.agreement` does with ``per_code=True``: under a
    tolerance, tallying the code's own present/absent array would let an absence match
    within the window too.
    """
    first = next(iter(codings.values()))
    coding = _from_codings(codings, name)
    if coding.kind == "indicator":
        matrix = np.stack(coding.values, axis=1)  # (segments, coders, indicators)
        if uncoded == "category":
            matrix = np.where(matrix < 0, 2, matrix)
        k = 2 + (uncoded == "category")
        for p, code in enumerate(coding.labels):
            yield (code, "indicator", first.resolve_code(code).stream, matrix[:, :, p], k,
                   _pair_matrices(matrix[:, :, p], k, *tally))
        return
    x = np.stack(coding.values, axis=1)
    codes = list(coding.labels)
    if uncoded == "category":
        x = np.where(x < 0, len(codes), x)
        codes.append(UNCODED_LABEL)
    is_stream = isinstance(name, str) and name in first.streams
    pairs = _pair_matrices(x, len(codes), *tally)
    yield (str(name), "categorical" if is_stream else "code", first.resolve_code(name).stream,
           x, len(codes), pairs)
    if per_code and is_stream:
        collapsed_pairs = (np.stack([_collapse(m) for m in pairs]) if len(pairs)
                           else np.zeros((0, len(codes), 2, 2)))
        for j, code in enumerate(codes):
            collapsed = np.where(x < 0, -1, (x == j).astype(np.int64))
            yield f"{name}:{code}", "code", str(name), collapsed, 2, collapsed_pairs[:, j]


def _check_unique(labels: list[str], what: str) -> None:
    """Each row label once."""
    if len(set(labels)) != len(labels):
        repeated = sorted({lab for lab in labels if labels.count(lab) > 1})
        raise LagnestDataError(f"{what}: rows {repeated} would appear twice (expected each "
                               "stream, code or rating once in `stream`)")


def coder_agreement(
    codings: Mapping[str, Sequences],
    stream: Any = None,
    *,
    per_code: bool = True,
    uncoded: str = "exclude",
    tolerance: int = 0,
    reference: str = "a",
    icc_kind: str = "ICC(2,1)",
    n_boot: int = 0,
    seed: Any = None,
    ci_prob: float = 0.95,
) -> xr.Dataset:
    r"""Agreement of several codings of the same sessions, per stream, code and rating.

    Parameters
    ----------
    codings : mapping of str to Sequences
        Two or more codings of the same sessions, by coder name (``{"ana": a, "ben": b,
        "eva": c}``). They are aligned on (session label, segment number) to the first
        coding: every coding must hold the same sessions and, in each, the same segments,
        else `LagnestDataError` names the coder, session and segments.
    stream : str or list of str, optional
        What to compare: a categorical stream, an indicator stream (each of its indicators
        is one row), a code (``"withdrawal"``, an indicator code ``"MIA4"``: present or
        absent), a rating (``Sequences.rating_names``), or a list of these. Default: every
        stream of the first coding, then every rating.
    per_code : bool, default True
        Add one row per code of each categorical stream, the code against all others
        collapsed (as ``agreement(..., per_code=True)``).
    uncoded : {"exclude", "category"}, default "exclude"
        For codes: ``"exclude"`` treats a segment a coder left uncoded as that coder's
        missing value; ``"category"`` makes uncoded one more code, ``"(uncoded)"``, so
        every segment is coded by everyone. Ratings not given are always missing.
    tolerance : int, default 0
        For ``pairwise_kappa`` and ``pairwise_p_o``: time-unit agreement with a tolerance
        of this many segments, the rule of :func:`~lagnest.classical.agreement.agreement`
        applied to every pair of coders (see Notes). 0: exact agreement.
    reference : {"a", "b", "both"}, default "a"
        Whose code is looked for in the other's record when ``tolerance > 0``, for each
        pair (i, j) of coders with i before j in ``codings`` as coders A and B of
        :func:`~lagnest.classical.agreement.agreement`. ``"both"`` does not depend on the
        order of the coders.
    icc_kind : str, default "ICC(2,1)"
        The intraclass correlation reported for ratings (see :func:`icc`): by default one
        coder's rating, coders a random sample, absolute agreement.
    n_boot : int, default 0
        Bootstrap resamples of sessions for each row's alpha interval (0: none).
    seed : int, optional
        Seed of the bootstrap; every row starts from it, so a row's interval does not
        depend on which other rows are computed.
    ci_prob : float, default 0.95
        Coverage of the alpha and ICC intervals.

    Returns
    -------
    xarray.Dataset
        One row per compared variable along dim ``stream``, whose labels are specs one
        can pass on (to :func:`~lagnest.classical.agreement.agreement` for a pair of
        coders), except the ``stream:(uncoded)`` rows: a stream's name, ``stream:code``
        for the per-code rows, an indicator's code, a rating's name. Coords ``kind``
        (``"categorical"``, ``"code"``, ``"indicator"``, ``"rating"``) and ``parent``
        (the stream or rating the row belongs to). Variables :data:`CODER_VARIABLES`:
        for codes ``fleiss_kappa``, ``fleiss_se0``, ``fleiss_z``, ``fleiss_p``, ``p_o``,
        ``p_e``, ``pairwise_kappa``, ``pairwise_p_o`` and ``alpha_nominal``; for ratings
        ``icc``, ``icc_ci_low``, ``icc_ci_high``, ``icc_p``, ``alpha_ordinal`` and
        ``alpha_interval`` (NaN where not computed or undefined); ``alpha_ci_low``,
        ``alpha_ci_high`` (the row's nominal or interval alpha; with ``n_boot``),
        ``n_complete``, ``n_pairable``. Attrs ``coders``, ``n_coders``, ``n_segments``,
        ``n_sessions``, ``uncoded``, ``tolerance``, ``reference``, ``icc_kind``,
        ``n_boot``, ``bootstrap``, ``ci_prob``, and ``seed`` when given as an int.
        ``ds.to_dataframe()`` is one row per compared variable.

    Raises
    ------
    LagnestDataError
        Fewer than two codings, codings that are not `Sequences`, unaligned codings, a
        stream of different kinds or indicator codes in different codings, an unknown
        stream or rating, bad options.

    See Also
    --------
    pairwise_agreement : the Cohen's kappa of each pair of coders behind ``pairwise_kappa``.

    Notes
    -----
    Uncoded segments are missing values, handled per statistic: Fleiss' kappa and the ICC
    need every coder's value, so they use the segments every coder coded (rated),
    ``n_complete``; Krippendorff's alpha uses every segment that at least two coders coded
    (``n_pairable``), the others' values included; each pair's kappa uses the segments
    both coders of the pair coded. With ``uncoded="category"`` every segment is complete
    for codes. Segments a coding lacks altogether are an error, not missing values: the
    codings must segment the sessions the same way.

    ``pairwise_kappa`` is Light's (1971) kappa, the mean over the
    :math:`m(m - 1)/2` pairs of :math:`m` coders of Cohen's kappa :math:`\kappa_{ij}`,
    each tallied as ``agreement(coding_i, coding_j, row, tolerance=tolerance,
    reference=reference)`` tallies it (time-unit kappa with tolerance, Bakeman, Quera &
    Gnisci 2009); ``pairwise_p_o`` is the mean of the pairs' :math:`p_{o,ij}`:

    .. math::

        \bar\kappa = \frac{2}{m(m-1)} \sum_{i<j} \kappa_{ij}, \qquad
        \bar p_o = \frac{2}{m(m-1)} \sum_{i<j} p_{o,ij}

    (NaN when a pair's kappa is undefined). Without tolerance and with every segment
    coded by everyone, :math:`\bar p_o` is Fleiss' :math:`\bar P` (``p_o``), and with two
    coders :math:`\bar\kappa` is :func:`~lagnest.classical.agreement.agreement`'s kappa.
    The tolerance counts segment numbers, so it is in time units when segments are.

    The standard errors and intervals treat segments as independent units, except the
    bootstrap, which resamples whole sessions (:func:`krippendorff_alpha` with the
    sessions as ``clusters``): successive segments of a session are not independent, so
    read ``fleiss_se0`` and the ICC interval as optimistic.

    References
    ----------
    .. [1] Light, R. J. (1971). Measures of response agreement for qualitative data: Some
       generalizations and alternatives. *Psychological Bulletin, 76*, 365-377.
    .. [2] Bakeman, R., Quera, V., & Gnisci, A. (2009). Observer agreement for timed-event
       sequential data: A comparison of time-based and event-based algorithms. *Behavior
       Research Methods, 41*, 137-147.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> codings = {name: Sequences.from_sequences({"code": [list(text)]})
    ...            for name, text in [("a", "aabbacab"), ("b", "aabbacbb"), ("c", "abbbacab")]}
    >>> ds = coder_agreement(codings, "code")
    >>> ds.stream.values.tolist()
    ['code', 'code:a', 'code:b', 'code:c']
    >>> round(float(ds.fleiss_kappa.sel(stream="code")), 4)
    0.7225
    >>> round(float(coder_agreement(codings, "code", tolerance=1).pairwise_p_o[0]), 4)
    0.9583
    """
    what = "coder_agreement"
    codings = _check_codings(codings, what)
    tolerance = _check_options(tolerance, reference, uncoded)
    ci_prob = _check_ci_prob(ci_prob)
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 0:
        raise LagnestDataError(DataProblem("bad n_boot", value=n_boot,
                                           expected="a whole number of resamples >= 0"))
    kinds = _icc_kinds(icc_kind, len(codings))
    if len(kinds) != 1:
        raise LagnestDataError(DataProblem("bad icc_kind", value=icc_kind,
                                           expected="one ICC kind"))
    first = next(iter(codings.values()))
    session = np.asarray(first.encoded.segment_session)
    tally = (_window_keys(session, _segment_numbers(first), tolerance), tolerance, reference)
    labels: list[str] = []
    row_kind: list[str] = []
    parent: list[str] = []
    results: list[dict[str, float]] = []
    for name in _row_names(first, stream, ratings=True):
        if _is_rating(first, name):
            r = _aligned_rating(codings, name)
            labels.append(name)
            row_kind.append("rating")
            parent.append(name)
            results.append(_rating_row(r, session, kinds[0], n_boot, seed, ci_prob,
                                       f"rating {name!r}"))
            continue
        for label, kind, of, x, n_labels, pairs in _code_rows(codings, name, uncoded,
                                                             per_code, tally):
            labels.append(label)
            row_kind.append(kind)
            parent.append(of)
            results.append(_code_row(x, n_labels, session, n_boot, seed, ci_prob)
                           | _pairwise_row(pairs))
    _check_unique(labels, what)
    ds = xr.Dataset(
        {var: ("stream", np.array([r[var] for r in results], dtype=float))
         for var in CODER_VARIABLES},
        coords={"stream": labels, "kind": ("stream", row_kind), "parent": ("stream", parent)},
    )
    for var in ("n_complete", "n_pairable"):
        ds[var] = ds[var].astype(np.int64)
    for var, text in _CODER_DESCRIPTIONS.items():
        ds[var].attrs["description"] = text
    ds.attrs.update(
        coders=list(codings),
        n_coders=len(codings),
        n_segments=int(first.n_segments),
        n_sessions=int(first.n_sessions),
        uncoded=uncoded,
        tolerance=tolerance,
        reference=reference,
        icc_kind=kinds[0],
        n_boot=int(n_boot),
        bootstrap="sessions",
        ci_prob=ci_prob,
        lagnest_version=__version__,
    )
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        ds.attrs["seed"] = int(seed)
    return ds


def pairwise_agreement(
    codings: Mapping[str, Sequences],
    stream: Any = None,
    *,
    per_code: bool = True,
    uncoded: str = "exclude",
    tolerance: int = 0,
    reference: str = "a",
    ci_prob: float = 0.95,
) -> xr.Dataset:
    r"""Cohen's kappa of every pair of several codings, with a tolerance, and their mean.

    The per-pair table behind :func:`coder_agreement`'s ``pairwise_kappa`` (Light's
    kappa) and ``pairwise_p_o``: for each row (stream, code or indicator) and each pair
    of coders, the statistics :func:`~lagnest.classical.agreement.agreement` gives that
    pair, with the same tolerance rule.

    Parameters
    ----------
    codings : mapping of str to Sequences
        Two or more codings of the same sessions, by coder name, aligned as in
        :func:`coder_agreement`.
    stream : str or list of str, optional
        A categorical stream, an indicator stream, a code, or a list of these (not
        ratings). Default: every stream of the first coding.
    per_code : bool, default True
        Add one row per code of each categorical stream, the code against all others.
    uncoded : {"exclude", "category"}, default "exclude"
        ``"exclude"``: a pair's kappa leaves out the segments either coder of the pair
        left uncoded; ``"category"``: uncoded is one more code, ``"(uncoded)"``.
    tolerance : int, default 0
        Time-unit kappa with a tolerance of this many segments (see
        :func:`~lagnest.classical.agreement.agreement`); 0: exact agreement.
    reference : {"a", "b", "both"}, default "a"
        Whose code is looked for when ``tolerance > 0``: in the pair (i, j), coder i (the
        earlier in ``codings``) is coder A.
    ci_prob : float, default 0.95
        Coverage of each pair's confidence interval.

    Returns
    -------
    xarray.Dataset
        Variables :data:`~lagnest.classical.agreement.STAT_VARIABLES` (``kappa``, ``se``,
        ``se0``, ``ci_low``, ``ci_high``, ``z``, ``p``, ``p_o``, ``p_e``, ``kappa_max``,
        ``n``) on ``(stream, pair)``, and their means over pairs ``pairwise_kappa`` and
        ``pairwise_p_o`` on ``stream``. Coords ``stream``, ``kind`` and ``parent`` as in
        :func:`coder_agreement`; ``pair`` (labels ``"A|B"``), ``coder_a`` and ``coder_b``
        on ``pair``. Attrs ``coders``, ``n_coders``, ``tolerance``, ``reference``,
        ``uncoded``, ``ci_prob``.

    Raises
    ------
    LagnestDataError
        As :func:`coder_agreement`; also a rating named in ``stream``.

    Notes
    -----
    Formulas: :func:`coder_agreement` (Light's kappa) and
    :func:`~lagnest.classical.agreement.kappa_table` (each pair's kappa and standard
    errors, which treat segments as independent). For a pair's agreement matrix, call
    ``agreement(codings[i], codings[j], row, tolerance=..., reference=...)``.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> codings = {name: Sequences.from_sequences({"code": [list(text)]})
    ...            for name, text in [("a", "aaabbb"), ("b", "aabbbb"), ("c", "aaaabb")]}
    >>> ds = pairwise_agreement(codings, "code", per_code=False, tolerance=1)
    >>> ds.kappa.sel(stream="code").round(4).values.tolist()
    [1.0, 1.0, 0.6667]
    >>> round(float(ds.pairwise_kappa[0]), 4)
    0.8889
    """
    what = "pairwise_agreement"
    codings = _check_codings(codings, what)
    tolerance = _check_options(tolerance, reference, uncoded)
    ci_prob = _check_ci_prob(ci_prob)
    first = next(iter(codings.values()))
    tally = (_window_keys(np.asarray(first.encoded.segment_session), _segment_numbers(first),
                          tolerance), tolerance, reference)
    labels: list[str] = []
    row_kind: list[str] = []
    parent: list[str] = []
    stats: list[dict[str, np.ndarray]] = []
    for name in _row_names(first, stream, ratings=False):
        if _is_rating(first, name):
            raise LagnestDataError(f"{what}: {name!r} is a rating; pairwise kappa compares "
                                   "codes (use coder_agreement or icc for ratings)")
        for label, kind, of, _, _, pairs in _code_rows(codings, name, uncoded, per_code,
                                                       tally):
            labels.append(label)
            row_kind.append(kind)
            parent.append(of)
            stats.append(kappa_arrays(pairs, ci_prob))
    _check_unique(labels, what)
    coders = list(codings)
    pairs = _coder_pairs(len(coders))
    shape = (len(labels), len(pairs))
    data = {var: (("stream", "pair"),
                  np.array([s[var] for s in stats], dtype=float).reshape(shape))
            for var in STAT_VARIABLES}
    ds = xr.Dataset(
        data,
        coords={
            "stream": labels,
            "kind": ("stream", row_kind),
            "parent": ("stream", parent),
            "pair": [f"{coders[i]}|{coders[j]}" for i, j in pairs],
            "coder_a": ("pair", [coders[i] for i, _ in pairs]),
            "coder_b": ("pair", [coders[j] for _, j in pairs]),
        },
    )
    ds["pairwise_kappa"] = ds["kappa"].mean("pair", skipna=False)
    ds["pairwise_p_o"] = ds["p_o"].mean("pair", skipna=False)
    for var in ("pairwise_kappa", "pairwise_p_o"):
        ds[var].attrs["description"] = _CODER_DESCRIPTIONS[var]
    for var in STAT_VARIABLES:
        ds[var].attrs["description"] = f"each pair's {_PAIR_DESCRIPTIONS[var]}"
    ds.attrs.update(
        coders=coders,
        n_coders=len(coders),
        tolerance=tolerance,
        reference=reference,
        uncoded=uncoded,
        unit="segment",
        ci_prob=ci_prob,
        lagnest_version=__version__,
    )
    return ds
