"""Stationarity of transitional probabilities over a session or over the course of therapy.

The likelihood-ratio test that the transitional probabilities p(target | given) are the
same in every part of the data: the first and second half (or terciles) of every
session, or the early and late sessions of every dyad. It is the homogeneity test of
:func:`lagnest.classical.lagtable.homogeneity_test` with the parts in the place of the
units, and shares its code; an optional permutation p-value shuffles the part labels
where they are exchangeable under the null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._version import __version__
from lagnest._warnings import warn_user
from lagnest.classical.lagtable import (
    _count_labels,
    _homogeneity_dataset,
    _lag_attrs,
    _normalise_lag,
    _raw_counts,
    _resolve,
    _Stream,
    lag_pairs,
)
from lagnest.classical.permutation import CHUNK_SIZE, _extreme
from lagnest.classical.statistics import (
    _check_structural_counts,
    _homogeneity_arrays,
    _safe_divide,
    structural_zero_mask,
)
from lagnest.errors import LagnestDataError, LagnestDataWarning

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = ["STATIONARITY_SPLITS", "stationarity_arrays", "stationarity_test"]

#: The splits of :func:`stationarity_test`: within every session by the position of the
#: given segment (``"half"``, ``"tercile"``, ``"position"``), or every dyad's sessions in
#: their order (``"session_order"``).
STATIONARITY_SPLITS = ("half", "tercile", "position", "session_order")
_WITHIN_SESSION = {"half": 2, "tercile": 3, "position": None}
#: Permuted labels held in memory at once (rows x permuted items), bounding a chunk.
_MAX_CHUNK_ITEMS = 4_000_000


# =========================================================================== array layer


def stationarity_arrays(counts: np.ndarray) -> dict[str, np.ndarray]:
    """G2, df and the tables under the null of part-first counts ``(P, ..., K, M)``.

    The array layer of :func:`stationarity_test`: per-row ``G2_given`` and ``df_given``
    (from the homogeneity test's shared code), their sums ``G2`` and ``df``, and per part
    ``trans_prob`` and ``expected`` (the part's row totals times the pooled transitional
    probabilities, the fit of the null model).

    Examples
    --------
    >>> import numpy as np
    >>> parts = np.array([[[8, 2], [3, 7]], [[2, 8], [3, 7]]])
    >>> out = stationarity_arrays(parts)
    >>> round(float(out["G2"]), 4), int(out["df"])
    (7.7098, 2)
    """
    x = np.asarray(counts, dtype=float)
    if x.ndim < 3:
        raise LagnestDataError(f"stationarity needs part-first counts (P, ..., K, M), got "
                               f"shape {x.shape}")
    g2_row, df_row = _homogeneity_arrays(x)
    pooled = x.sum(0)
    rows = x.sum(-1, keepdims=True)
    return {
        "G2_given": g2_row,
        "df_given": df_row,
        "G2": g2_row.sum(-1),
        "df": df_row.sum(-1),
        "trans_prob": _safe_divide(x, rows),
        "expected": np.nan_to_num(rows * _safe_divide(pooled, pooled.sum(-1, keepdims=True))),
    }


def _g2(tables: np.ndarray) -> np.ndarray:
    """Homogeneity G2 of a batch of part tables ``(n, P, ..., K, M)`` -> ``(n, ...)``."""
    g2_row, _ = _homogeneity_arrays(np.moveaxis(tables, 1, 0).astype(float))
    return g2_row.sum(-1)


def _shuffle_within(strata: np.ndarray, labels: np.ndarray, n: int,
                    rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of ``labels`` permuted within each stratum (``strata`` sorted, dense ints).

    Random keys in ``[s, s + 0.5)`` sort every stratum's items among themselves, so each
    row is a uniformly random permutation within every stratum.
    """
    keys = strata[None, :] + 0.5 * rng.random((n, strata.size))
    return labels[np.argsort(keys, axis=1, kind="stable")]


def _dense(values: np.ndarray) -> np.ndarray:
    """Sorted integer keys renumbered 0, 1, ... (float, for the random sort keys)."""
    return np.unique(values, return_inverse=True)[1].astype(float)


def _permuted_pair_g2(part: np.ndarray, stratum: np.ndarray, cell: np.ndarray, n_parts: int,
                      shape: tuple[int, int], n_perm: int, rng: np.random.Generator):
    """Yield G2 of part tables with the part labels of the lag pairs shuffled per stratum.

    ``cell`` is each pair's flat (given, target) cell of a table of ``shape``; pairs of a
    stratum whose labels are all equal keep them, so they are counted once.
    """
    n_cells = shape[0] * shape[1]
    order = np.lexsort((part, stratum))
    part, stratum, cell = part[order], stratum[order], cell[order]
    starts = np.flatnonzero(np.r_[True, stratum[1:] != stratum[:-1]]) if part.size else \
        np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, part.size])
    mixed = np.zeros(part.size, dtype=bool)
    if part.size:
        mixed = np.repeat(np.minimum.reduceat(part, starts) != np.maximum.reduceat(part, starts),
                          sizes)
    fixed = np.bincount(part[~mixed] * n_cells + cell[~mixed], minlength=n_parts * n_cells)
    part, cell, keys = part[mixed], cell[mixed], _dense(stratum[mixed])
    rows = max(1, min(CHUNK_SIZE, _MAX_CHUNK_ITEMS // max(part.size, 1)))
    for start in range(0, n_perm, rows):
        m = min(rows, n_perm - start)
        moved = _shuffle_within(keys, part, m, rng)
        flat = (np.arange(m)[:, None] * n_parts + moved) * n_cells + cell[None, :]
        tables = np.bincount(flat.ravel(), minlength=m * n_parts * n_cells)
        tables = tables.reshape(m, n_parts * n_cells) + fixed
        yield _g2(tables.reshape(m, n_parts, *shape))


def _permuted_session_g2(session_tables: np.ndarray, session_part: np.ndarray,
                         session_dyad: np.ndarray, n_parts: int, n_perm: int,
                         rng: np.random.Generator):
    """Yield G2 of part tables with the part labels of whole sessions shuffled per dyad."""
    used = session_part >= 0
    tables, part, dyad = session_tables[used], session_part[used], session_dyad[used]
    order = np.lexsort((part, dyad))
    tables, part, keys = tables[order].astype(float), part[order], _dense(dyad[order])
    rows = max(1, min(CHUNK_SIZE, _MAX_CHUNK_ITEMS // max(part.size * n_parts, 1)))
    for start in range(0, n_perm, rows):
        m = min(rows, n_perm - start)
        moved = _shuffle_within(keys, part, m, rng)
        parts = [np.tensordot((moved == p).astype(float), tables, axes=(1, 0))
                 for p in range(n_parts)]
        yield _g2(np.stack(parts, axis=1))


# =========================================================================== Sequences layer


def _check_split(by: Any, n_parts: Any, order: Any) -> int:
    """Validate ``by``, ``n_parts`` and ``order``; return the number of parts."""
    if by not in STATIONARITY_SPLITS:
        raise LagnestDataError(f"by must be one of {STATIONARITY_SPLITS}, got {by!r}")
    if order is not None and by != "session_order":
        raise LagnestDataError(f"order orders the sessions of by='session_order'; with "
                               f"by={by!r} give order=None, got {order!r}")
    fixed = _WITHIN_SESSION.get(by)
    if fixed is not None:
        if n_parts is not None and n_parts != fixed:
            raise LagnestDataError(f"by={by!r} splits into {fixed} parts; got n_parts="
                                   f"{n_parts!r} (use by='position' for another number)")
        return fixed
    if n_parts is None:
        if by == "position":
            raise LagnestDataError("by='position' needs n_parts, the number of parts of "
                                   "every session (an integer >= 2)")
        return 2
    if isinstance(n_parts, bool) or not isinstance(n_parts, int | np.integer) or n_parts < 2:
        raise LagnestDataError(f"n_parts must be an integer >= 2, got {n_parts!r}")
    return int(n_parts)


def _position_parts(seqs: Sequences, n_parts: int) -> np.ndarray:
    """Part of every segment: ``floor(P t / T_s)`` for position t in a session of T_s."""
    enc = seqs.encoded
    session = enc.segment_session
    starts = np.asarray(enc.session_offsets[:-1])
    lengths = np.diff(np.asarray(enc.session_offsets))
    position = np.arange(session.size, dtype=np.int64) - starts[session]
    return (n_parts * position) // lengths[session]


def _session_ranks(seqs: Sequences, order: str | None) -> np.ndarray:
    """Rank of every session among its dyad's sessions (by ``order``, then storage)."""
    enc = seqs.encoded
    dyad = np.asarray(enc.session_dyad)
    index = np.arange(dyad.size)
    if order is None:
        key = index.astype(float)
    else:
        frame = seqs.sessions
        if order not in frame.columns:
            raise LagnestDataError(f"order {order!r} is not a session covariate; expected one "
                                   f"of {list(frame.columns)}")
        key = pd.to_numeric(frame[order], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(key))
        if bad.size:
            s = seqs.session_labels[bad[0]]
            raise LagnestDataError(f"order {order!r} must be a number for every session; "
                                   f"session {s!r} has {frame[order].iloc[bad[0]]!r}")
    ranked = np.lexsort((index, key, dyad))
    first = np.searchsorted(dyad[ranked], dyad[ranked])
    rank = np.empty(dyad.size, dtype=np.int64)
    rank[ranked] = np.arange(dyad.size) - first
    return rank


def _session_parts(seqs: Sequences, n_parts: int, order: str | None) -> tuple[np.ndarray, int]:
    """Part of every session (-1: its dyad has fewer sessions than parts) and how many."""
    dyad = np.asarray(seqs.encoded.session_dyad)
    size = np.bincount(dyad, minlength=seqs.n_dyads)[dyad]
    part = (n_parts * _session_ranks(seqs, order)) // size
    short = size < n_parts
    part[short] = -1
    if short.all():
        raise LagnestDataError(f"by='session_order' with {n_parts} parts needs a dyad with at "
                               f"least {n_parts} sessions; the most sessions of a dyad is "
                               f"{int(size.max(initial=0))}")
    if short.any():
        names = sorted({seqs.dyad_labels[d] for d in dyad[short]})
        warn_user(f"stationarity over sessions leaves out {int(short.sum())} sessions of "
                  f"{len(names)} dyads with fewer than {n_parts} sessions ({names[:5]})",
                  LagnestDataWarning)
    return part, int(short.sum())


def _part_labels(by: str, n_parts: int) -> list[str]:
    """Readable labels of the parts."""
    if by == "session_order":
        words = {2: ["early", "late"], 3: ["early", "middle", "late"]}
        return words.get(n_parts, [f"sessions {p + 1}/{n_parts}" for p in range(n_parts)])
    words = {2: ["first half", "second half"], 3: ["first third", "middle third", "last third"]}
    return words.get(n_parts, [f"part {p + 1}/{n_parts}" for p in range(n_parts)])


def _part_counts(seqs: Sequences, g: _Stream, t: _Stream, lag: int,
                 segment_part: np.ndarray, n_parts: int) -> np.ndarray:
    """Counts ``(P, [indicator,] K, M)``: the counting kernel on the given codes of each part.

    A pair belongs to the part of its given segment, so the given codes outside part p are
    set to uncoded and the ordinary pooled count (pairs inside blocks) runs once per part.
    """
    out = []
    for p in range(n_parts):
        inside = segment_part == p
        mask = inside[:, None] if g.values.ndim == 2 else inside
        values = np.where(mask, g.values, np.asarray(-1, dtype=g.values.dtype))
        raw, _ = _raw_counts(seqs, _Stream(g.spec, values, g.labels, g.names), t, lag, None,
                             None)
        out.append(raw[0])
    return np.stack(out)


def _check_n_perm(n_perm: Any) -> int:
    """Validate the number of permutations (0 = none)."""
    if isinstance(n_perm, bool) or not isinstance(n_perm, int | np.integer) or n_perm < 0:
        raise LagnestDataError(f"n_perm must be a non-negative integer (0 = no permutation "
                               f"test), got {n_perm!r}")
    return int(n_perm)


def stationarity_test(
    seqs: Sequences,
    given: Any,
    target: Any,
    lag: int = 1,
    by: str = "half",
    n_parts: int | None = None,
    order: str | None = None,
    structural_zeros: Any = None,
    n_perm: int = 0,
    seed: int | None = 0,
) -> xr.Dataset:
    r"""Likelihood-ratio test that the transitional probabilities do not change over time.

    Splits the lag pairs into parts, within every session (its first and second half) or
    over the therapy (every dyad's early and late sessions), and tests that
    p(target | given) is the same in every part.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given, target, lag
        As in :func:`lagnest.lag_table` (one of given and target may be an indicator set).
    by : {"half", "tercile", "position", "session_order"}, default "half"
        ``"half"`` / ``"tercile"``: the first and second half (or thirds) of every session,
        a pair belonging to the part of its given segment; ``"position"``: ``n_parts``
        equal parts of every session; ``"session_order"``: every dyad's sessions in order,
        cut into ``n_parts`` (default 2: early and late sessions).
    n_parts : int, optional
        Number of parts for ``"position"`` (required) and ``"session_order"``.
    order : str, optional
        With ``"session_order"``: a numeric session covariate (e.g. ``"session_number"``)
        that orders each dyad's sessions; default the order in which they are stored.
    structural_zeros : None, "diagonal", bool mask or list of (given, target) pairs
        Cells that cannot occur: checked against the counts; they hold no count in any
        part, so they drop out of G2 and df (see Notes) and no permutation fills them.
    n_perm : int, default 0
        Permutations for ``p_perm`` (0: none; see Notes for the null).
    seed : int or None, default 0
        Seed of the permutations (the same seed gives the same ``p_perm``).

    Returns
    -------
    xarray.Dataset
        On ``(part, [indicator,] given, target)``: ``counts``, ``trans_prob`` and
        ``expected`` (the part's row totals times the pooled transitional probabilities);
        ``N`` per part; ``G2_given`` and ``df_given`` (each given row's contribution) on
        ``([indicator,] given)``. ``G2``, ``df``, ``p`` (and ``p_perm``) are attrs, or
        variables over ``indicator`` for an indicator set. Attrs also record ``by``,
        ``n_parts``, ``order``, ``sessions_left_out``, ``n_structural_zeros``, ``given``,
        ``target``, ``lag`` and, with permutations, ``n_perm``, ``seed`` and ``null``.

    Raises
    ------
    LagnestDataError
        For an unknown ``by``, a bad ``n_parts`` / ``order`` / ``n_perm``, counts in a
        structural zero, no dyad with ``n_parts`` sessions, or a permutation over
        within-session parts with an indicator set.

    See Also
    --------
    lagnest.homogeneity_test : the same statistic across dyads or sessions.

    Notes
    -----
    With :math:`x^p_{ij}` the counts of part p (pairs whose given segment lies in part p),
    :math:`r^p_i` its row totals and :math:`x = \sum_p x^p` the pooled table,

    .. math::

        G^2_S = 2 \sum_p \sum_{i,j} x^p_{ij}
        \ln\frac{x^p_{ij}/r^p_i}{x_{ij}/r_i},
        \qquad df = \sum_i (P_i - 1)(M_i - 1),

    the homogeneity statistic of :func:`lagnest.homogeneity_test` with the parts as units:
    the deviance of the log-linear model [part x given][given x target] of the
    part x given x target table, i.e. of first-order transitions whose probabilities do
    not depend on the part (Anderson & Goodman 1957; Bishop, Fienberg & Holland 1975).
    :math:`P_i` counts the parts whose row i is not empty and :math:`M_i` the targets with
    a non-zero pooled count in row i, so structural zeros (and unobserved transitions)
    drop out of df; p is the chi-square upper tail (NaN when df is 0).

    The segment at position t (0-based) of a session of :math:`T_s` segments lies in part
    :math:`\lfloor P t / T_s \rfloor`; with ``"session_order"`` the session of rank r
    among its dyad's :math:`S_d` sessions lies in part :math:`\lfloor P r / S_d \rfloor`
    (an odd middle session joins the earlier part), and dyads with fewer than P sessions
    are left out with a warning. Pairs never cross a session boundary or a break.

    The chi-square test compares pooled parts. When dyads or sessions differ in their
    transitional probabilities and contribute unequally to the parts (dyads with more
    sessions, a given code that becomes more frequent late in the session), that
    heterogeneity can look like non-stationarity; the permutation test is protected.
    With ``n_perm > 0``, :math:`p_{perm} = (1 + B)/(1 + n_{perm})`, B counting permuted
    G2 at least the observed one, under a null in which the part labels are exchangeable:

    * ``"session_order"``: whole sessions' part labels are permuted within each dyad
      (each dyad keeps its number of sessions per part). Under the null that the order of
      a dyad's sessions carries no information about their transitions, the sessions of a
      dyad are exchangeable, whatever the dependence inside a session and however the
      dyads differ: an exact (Monte Carlo) conditional test. A dyad of S sessions has only
      :math:`\binom{S}{S/2}` distinct splits, which bounds how small p can get.
    * within sessions: the part labels of the lag pairs are permuted among the pairs of
      one session with the same given code, which keeps every session's lag table and
      every (session, part) row total. The targets of a session's pairs with given code
      i are then exchangeable across the parts, the product-multinomial null under which
      G2 is chi-square: the test conditions on each session's own transitional structure
      (heterogeneity between sessions cannot reject it) and tests stationarity only, not
      sequential independence. Shuffling the segments of a session (as
      :func:`lagnest.permutation_test` does) would test independence and stationarity
      jointly, and a parametric bootstrap from the pooled chain would need a model for
      the given codes too. For one stream at lag 1 the pairs overlap (a pair's target is
      the next pair's given), so the exchangeability is the large-sample one of
      Anderson & Goodman (1957), the same approximation as the chi-square test.

    References
    ----------
    .. [1] Anderson, T. W., & Goodman, L. A. (1957). Statistical inference about Markov
       chains. *The Annals of Mathematical Statistics, 28*, 89-110.
    .. [2] Bishop, Y. M. M., Fienberg, S. E., & Holland, P. W. (1975). *Discrete
       multivariate analysis*. MIT Press.
    .. [3] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.
    .. [4] Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero.
       *Statistical Applications in Genetics and Molecular Biology, 9*\ (1).

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("aabbaabbabababab")] * 2})
    >>> res = stationarity_test(seqs, "code", "code", by="half")
    >>> res.trans_prob.sel(given="a").values
    array([[0.5, 0.5],
           [0. , 1. ]])
    >>> round(res.attrs["G2"], 3), res.attrs["df"]
    (12.566, 2)
    """
    n_parts = _check_split(by, n_parts, order)
    n_perm = _check_n_perm(n_perm)
    lag, _ = _normalise_lag(lag, None)
    g, t = _resolve(seqs, given), _resolve(seqs, target)
    if g.is_set and t.is_set:
        raise LagnestDataError("only one of given and target may be a set of indicators")
    within = by != "session_order"
    if within:
        segment_part, session_part, left_out = _position_parts(seqs, n_parts), None, 0
    else:
        session_part, left_out = _session_parts(seqs, n_parts, order)
        segment_part = session_part[seqs.encoded.segment_session]
    raw = _part_counts(seqs, g, t, lag, segment_part, n_parts)
    zeros = structural_zero_mask(structural_zeros, raw.shape[-2:], g.labels, t.labels)
    _check_structural_counts(raw, zeros)
    labels = _count_labels(g, t, ())
    dims = ("part", *labels.lead_dims, "given", "target")
    coords = {"part": _part_labels(by, n_parts), **labels.lead_coords,
              "given": list(g.labels), "target": list(t.labels)}
    counts = xr.DataArray(raw, dims=dims, coords=coords, name="counts")
    arrays = stationarity_arrays(raw)
    ds = xr.Dataset({"counts": counts, "trans_prob": (dims, arrays["trans_prob"]),
                     "expected": (dims, arrays["expected"]),
                     "N": (dims[:-2], raw.sum((-2, -1)))}, coords=coords)
    homogeneity = _homogeneity_dataset(counts, "part")
    ds = ds.merge(homogeneity)
    ds.attrs.update(homogeneity.attrs)
    ds.attrs.update(_lag_attrs(g, t, lag, None, None))
    ds.attrs.update(by=by, n_parts=n_parts, order=order or "storage",
                    sessions_left_out=left_out,
                    n_structural_zeros=int(0 if zeros is None else zeros.sum()),
                    lagnest_version=__version__)
    if n_perm:
        rng = np.random.default_rng(seed)
        if within:
            if g.is_set or t.is_set:
                raise LagnestDataError(
                    "the within-session permutation test takes one categorical given and "
                    "target; test each indicator of a set separately (or use n_perm=0)")
            draws = _within_session_draws(seqs, given, target, lag, segment_part, n_parts,
                                          len(g.labels), len(t.labels), n_perm, rng)
            null = "pair part labels permuted within (session, given code)"
        else:
            session_tables, _ = _raw_counts(seqs, g, t, lag, "session", None)
            draws = _permuted_session_g2(session_tables, session_part,
                                         np.asarray(seqs.encoded.session_dyad), n_parts,
                                         n_perm, rng)
            null = "session part labels permuted within dyad"
        observed = arrays["G2"]
        hits = sum(_extreme(perm, observed, "greater") for perm in draws)
        p_perm = (1.0 + hits) / (1.0 + n_perm)
        if np.ndim(p_perm):
            ds["p_perm"] = (labels.lead_dims, p_perm)
        else:
            ds.attrs["p_perm"] = float(p_perm)
        ds.attrs.update(n_perm=n_perm, seed=-1 if seed is None else int(seed), null=null)
    return ds


def _within_session_draws(seqs, given, target, lag, segment_part, n_parts, n_given, n_target,
                          n_perm, rng):
    """Permuted G2 of within-session parts (pairs' part labels shuffled per stratum)."""
    pairs, segment = lag_pairs(seqs, given, target, lag=lag, return_segment=True)
    part = segment_part[segment - lag]
    stratum = pairs[:, 0] * n_given + pairs[:, 1]
    cell = pairs[:, 1] * n_target + pairs[:, 2]
    yield from _permuted_pair_g2(part, stratum, cell, n_parts, (n_given, n_target), n_perm, rng)

