"""Sequential statistics of code arrays, for observed data and batches of replicates.

The array layer beneath the predictive checks (:mod:`lagnest.checks.ppc`): every function takes
code arrays ``(D, n_segments)`` (D = 1 for observed data) and the encoded nesting arrays
of :class:`lagnest.data.sequences.Encoded`, counts with the kernels of :mod:`lagnest.kernels`
and computes the table statistics with :mod:`lagnest.classical.lagtable`, so a statistic of a
replicate is computed exactly as :func:`lagnest.classical.lagtable.lag_table` computes it on data.

:func:`sequence_statistics` computes a named set of statistics (see :data:`STATISTICS`)
and returns an :class:`xarray.Dataset` with a leading ``draw`` dim;
:func:`not_computable` says which of them a corpus cannot give (its layout fixes them, or
leaves them undefined), and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import xarray as xr

from lagnest import kernels
from lagnest._lang import translate
from lagnest.classical.statistics import _homogeneity_arrays, _safe_divide, table_arrays
from lagnest.errors import LagnestDataError

__all__ = [
    "DEFAULT_STATISTICS",
    "STATISTICS",
    "conditional_independence_g2",
    "not_computable",
    "paired_targets",
    "sequence_statistics",
]


class Nesting(Protocol):
    """The encoded nesting arrays (:class:`lagnest.data.sequences.Encoded` satisfies it)."""

    session_offsets: np.ndarray
    block_offsets: np.ndarray
    block_session: np.ndarray
    session_dyad: np.ndarray


@dataclass(frozen=True)
class _Spec:
    """A statistic: one-line description, dims after ``draw``, whether it has a df."""

    description: str
    dims: tuple[str, ...]
    group: str
    has_df: bool = False


_CELL = ("given", "target")
_SPECS: dict[str, _Spec] = {
    "counts": _Spec("pooled lag-pair counts per cell", _CELL, "pooled"),
    "adj_resid": _Spec("adjusted residual per cell of the pooled lag table", _CELL, "pooled"),
    "yules_q": _Spec("Yule's Q per cell of the pooled lag table", _CELL, "pooled"),
    "adj_resid_dyad": _Spec("adjusted residual per cell of each dyad's lag table",
                            ("dyad", *_CELL), "dyad"),
    "yules_q_dyad": _Spec("Yule's Q per cell of each dyad's lag table", ("dyad", *_CELL),
                          "dyad"),
    "G2": _Spec("likelihood-ratio chi-square of independence of the pooled lag table", (),
                "pooled", has_df=True),
    "homogeneity_dyads": _Spec("homogeneity G2 of the transitional probabilities across "
                               "dyads", (), "dyad", has_df=True),
    "homogeneity_sessions": _Spec("homogeneity G2 across sessions within dyads, summed over "
                                  "dyads", (), "session", has_df=True),
    "rate_sd": _Spec("SD across sessions of the per-session rate of each target code",
                     ("code",), "runs"),
    "n_runs": _Spec("number of runs of each target code", ("code",), "runs"),
    "run_mean": _Spec("mean run length of each target code", ("code",), "runs"),
    "run_longest": _Spec("longest run of each target code", ("code",), "runs"),
    "sessions_without": _Spec("number of coded sessions in which a target code never occurs",
                              ("code",), "runs"),
    "second_order_G2": _Spec("G2 of x[t+2lag] independent of x[t] given x[t+lag] (is first "
                             "order enough?)", (), "triples", has_df=True),
}

#: Registry of statistic names -> one-line description (the names ``stats=`` accepts).
STATISTICS: dict[str, str] = {name: spec.description for name, spec in _SPECS.items()}
#: Statistics computed when ``stats`` is None: all of them.
DEFAULT_STATISTICS: tuple[str, ...] = tuple(_SPECS)


# =========================================================================== helpers


def paired_targets(given: np.ndarray, target: np.ndarray, block_offsets: np.ndarray,
                   lag: int = 1) -> np.ndarray:
    """The observed target as :func:`lagnest.kernels.simulate_given` replicates it.

    Parameters
    ----------
    given, target : ndarray of int, shape (n_segments,)
        Observed codes, negative = uncoded.
    block_offsets : ndarray of int
        Blocks.
    lag : int, default 1
        Lag of the pairs.

    Returns
    -------
    ndarray of int64, shape (n_segments,)
        ``target`` where it is the target of a lag pair inside one block whose given code
        is coded, -1 elsewhere: compute observed statistics on this array when the
        replicates come from :func:`~lagnest.kernels.simulate_given`.

    Examples
    --------
    >>> import numpy as np
    >>> paired_targets(np.array([0, 1, -1, 0]), np.array([1, 1, 0, 1]), np.array([0, 4]))
    array([-1,  1,  0, -1])
    """
    given = kernels.as_codes("given", given)
    target = kernels.as_codes("target", target)
    if given.shape != target.shape:
        raise LagnestDataError(f"given and target differ in length: {given.size} vs "
                               f"{target.size}")
    offsets = kernels.check_blocks(block_offsets, given.shape[0])
    t = kernels.lag_pair_starts(offsets, int(lag))
    t = t[given[t] >= 0]
    out = np.full(target.shape[0], -1, dtype=np.int64)
    out[t + lag] = target[t + lag]
    return np.where(out >= 0, out, -1)


def conditional_independence_g2(triples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""G2 and df of conditional independence of the first and third code given the second.

    Parameters
    ----------
    triples : ndarray, shape (..., K, K, K)
        Counts :math:`n_{ijk}` of ``(x_t, x_{t+1}, x_{t+2})`` (see
        :func:`lagnest.kernels.triple_counts`).

    Returns
    -------
    G2 : ndarray of float, shape (...)
    df : ndarray of int64, shape (...)

    Notes
    -----
    .. math::

        G^2 = 2 \sum_{ijk} n_{ijk} \ln\frac{n_{ijk}\, n_{\cdot j \cdot}}
        {n_{ij\cdot}\, n_{\cdot jk}},
        \qquad df = \sum_j (I_j - 1)(K_j - 1)

    i.e. the sum over the middle code j of the independence G2 of the slice table
    :math:`n_{\cdot j \cdot}` (rows :math:`x_t`, columns :math:`x_{t+2}`), computed by
    :func:`~lagnest.classical.statistics.table_arrays`; :math:`I_j` and :math:`K_j` count the
    non-empty rows and columns of slice j, so df is :math:`K(K-1)^2` when no margin is empty. Under
    a first-order chain G2 is asymptotically chi-square with df degrees of freedom.
    """
    x = np.asarray(triples)
    slices = np.moveaxis(x, -2, -3)  # (..., j, i, k)
    arrays = table_arrays(slices)
    return arrays["G2"].sum(-1), arrays["df"].sum(-1).astype(np.int64)


def _group_sum(x: np.ndarray, groups: np.ndarray, n_groups: int, axis: int) -> np.ndarray:
    """Sum ``x`` over ``axis`` within groups (``groups[i]`` = group of entry i)."""
    onehot = np.zeros((groups.size, n_groups), dtype=x.dtype)
    onehot[np.arange(groups.size), groups] = 1
    moved = np.moveaxis(x, axis, -1) @ onehot
    return np.moveaxis(moved, -1, axis)


def _sd_over_sessions(rates: np.ndarray) -> np.ndarray:
    """Sample SD (ddof 1) over axis 1 ignoring NaN; NaN with fewer than two values."""
    valid = ~np.isnan(rates)
    m = valid.sum(1)
    filled = np.where(valid, rates, 0.0)
    mean = _safe_divide(filled.sum(1), m)
    dev = np.where(valid, rates - mean[:, None, :], 0.0)
    var = _safe_divide((dev ** 2).sum(1), m - 1)
    return np.sqrt(np.where(m > 1, var, np.nan))


# =========================================================================== computation


@dataclass
class _Batch:
    """Validated inputs of one :func:`sequence_statistics` call."""

    codes: np.ndarray
    given: np.ndarray
    shared_given: bool
    nest: Nesting
    n_codes: int
    n_given: int
    n_dyads: int
    lag: int

    @property
    def n_draws(self) -> int:
        """Number of code arrays D."""
        return self.codes.shape[0]


def _session_tables(b: _Batch) -> np.ndarray:
    """Per-session lag tables ``(D, S, K, M)`` from :func:`lagnest.kernels.lag_counts`."""
    n_sessions = b.nest.session_offsets.size - 1
    out = np.empty((b.n_draws, n_sessions, b.n_given, b.n_codes), dtype=np.int64)
    for d in range(b.n_draws):
        g = b.given[0] if b.shared_given else b.given[d]
        out[d] = kernels.lag_counts(g, b.codes[d], b.nest.block_offsets, b.nest.block_session,
                                    b.n_given, b.n_codes, n_sessions, b.lag)
    return out


def _pooled_stats(b: _Batch, cache: dict) -> dict[str, Any]:
    """Counts, cell statistics and G2 of the pooled table."""
    pooled = cache["sessions"].sum(1)
    arrays = table_arrays(pooled)
    return {"counts": pooled, "adj_resid": arrays["adj_resid"], "yules_q": arrays["yules_q"],
            "G2": (arrays["G2"], arrays["df"])}


def _dyad_stats(b: _Batch, cache: dict) -> dict[str, Any]:
    """Cell statistics per dyad and the homogeneity G2 across dyads."""
    dyads = _group_sum(cache["sessions"], b.nest.session_dyad, b.n_dyads, axis=1)
    arrays = table_arrays(dyads)
    g2_row, df_row = _homogeneity_arrays(np.moveaxis(dyads, 1, 0).astype(float))
    return {"adj_resid_dyad": arrays["adj_resid"], "yules_q_dyad": arrays["yules_q"],
            "homogeneity_dyads": (g2_row.sum(-1), df_row.sum(-1))}


def _session_stats(b: _Batch, cache: dict) -> dict[str, Any]:
    """Homogeneity G2 across the sessions of each dyad, summed over dyads."""
    sessions = cache["sessions"]
    g2 = np.zeros(b.n_draws)
    df = np.zeros(b.n_draws, dtype=np.int64)
    for y in range(b.n_dyads):
        mine = np.flatnonzero(b.nest.session_dyad == y)
        if mine.size < 2:
            continue
        g2_row, df_row = _homogeneity_arrays(np.moveaxis(sessions[:, mine], 1, 0).astype(float))
        g2 += g2_row.sum(-1)
        df += df_row.sum(-1)
    return {"homogeneity_sessions": (g2, df)}


def _run_stats(b: _Batch, cache: dict) -> dict[str, Any]:
    """Run lengths, per-session rates and absent sessions of every target code."""
    n_sessions = b.nest.session_offsets.size - 1
    n_runs, n_in, longest = kernels.run_lengths(b.codes, b.nest.block_offsets, b.n_codes,
                                                b.nest.block_session, n_sessions)
    coded = n_in.sum(-1, keepdims=True)  # (D, S, 1): coded segments per session
    rates = _safe_divide(n_in, coded)
    runs = n_runs.sum(1)
    return {
        "rate_sd": _sd_over_sessions(rates),
        "n_runs": runs,
        "run_mean": _safe_divide(n_in.sum(1), runs),
        "run_longest": longest.max(1, initial=0),
        "sessions_without": ((n_in == 0) & (coded > 0)).sum(1),
    }


def _triple_stats(b: _Batch, cache: dict) -> dict[str, Any]:
    """Second-order check from the pooled triple counts of the target codes."""
    triples = kernels.triple_counts(b.codes, b.nest.block_offsets, b.n_codes, lag=b.lag)[:, 0]
    return {"second_order_G2": conditional_independence_g2(triples)}


_GROUPS: dict[str, Callable[[_Batch, dict], dict[str, Any]]] = {
    "pooled": _pooled_stats,
    "dyad": _dyad_stats,
    "session": _session_stats,
    "runs": _run_stats,
    "triples": _triple_stats,
}
_NEEDS_TABLES = {"pooled", "dyad", "session"}


# =========================================================================== entry point


def _check_batch(codes, nest: Nesting, n_codes: int, given, n_given, lag: int) -> _Batch:
    """Validate the inputs of :func:`sequence_statistics`."""
    codes = np.asarray(codes) if not isinstance(codes, np.ndarray) else codes
    rows, _ = kernels.replicate_rows(codes)
    offsets = kernels.check_blocks(nest.block_offsets, rows.shape[1])
    sessions = kernels.as_index("session_offsets", nest.session_offsets)
    if sessions.size < 2 or sessions[0] != 0 or sessions[-1] != rows.shape[1]:
        raise LagnestDataError(
            f"session_offsets must start at 0 and end at the number of segments "
            f"({rows.shape[1]})")
    kernels.check_units(nest.block_session, offsets.size - 1, sessions.size - 1)
    dyad = kernels.as_index("session_dyad", nest.session_dyad)
    if dyad.size != sessions.size - 1 or (dyad.size and dyad.min() < 0):
        raise LagnestDataError(f"session_dyad must hold one dyad index >= 0 per session "
                               f"({sessions.size - 1})")
    lag, _ = kernels.check_lag(lag, None)
    if lag < 1:
        raise LagnestDataError(f"sequence statistics need lag >= 1, got {lag}")
    if given is None:
        g, shared, n_g = rows, False, int(n_codes)
    else:
        if n_given is None:
            raise LagnestDataError("n_given is required when given codes are passed")
        g, shared = kernels.replicate_rows(given)
        shared = shared or g.shape[0] == 1
        n_g = int(n_given)
        if g.shape[1] != rows.shape[1] or not (shared or g.shape[0] == rows.shape[0]):
            raise LagnestDataError(f"given must have shape ({rows.shape[1]},) or "
                                   f"{rows.shape}, got {g.shape}")
    return _Batch(rows, g, shared, nest, int(n_codes), n_g, int(dyad.max(initial=-1)) + 1, lag)


def sequence_statistics(
    codes: np.ndarray,
    nesting: Nesting,
    n_codes: int,
    stats: Sequence[str] | None = None,
    *,
    given: np.ndarray | None = None,
    n_given: int | None = None,
    lag: int = 1,
    labels: Sequence[Any] | None = None,
    given_labels: Sequence[Any] | None = None,
    dyad_labels: Sequence[Any] | None = None,
) -> xr.Dataset:
    """Named sequential statistics of a batch of code arrays.

    Parameters
    ----------
    codes : ndarray of int, shape (D, n_segments) or (n_segments,)
        Target codes ``0..n_codes-1`` (negative = uncoded): replicates, or the observed
        array (one row). Compare like with like: with replicates from
        :func:`lagnest.kernels.simulate_given`, pass the observed target through
        :func:`paired_targets` first.
    nesting : Encoded
        ``session_offsets``, ``block_offsets``, ``block_session``, ``session_dyad``
        (e.g. ``seqs.encoded``).
    n_codes : int
        Number of target codes M.
    stats : sequence of str, optional
        Names from :data:`STATISTICS`; default all.
    given : ndarray of int, shape (n_segments,) or (D, n_segments), optional
        Given codes of the lag tables (one array shared by every draw, or one per draw);
        None = ``codes`` itself (a stream's own history).
    n_given : int, optional
        Number of given codes K; required with ``given``.
    lag : int, default 1
        Lag of the tables (pairs ``(t, t + lag)``) and spacing of the second-order triples.
    labels, given_labels, dyad_labels : sequence, optional
        Coordinates of ``target``/``code``, ``given`` and ``dyad`` (default positions).

    Returns
    -------
    xarray.Dataset
        One variable per statistic with dims ``("draw", *dims)``, where dims are
        ``(given, target)`` for ``counts``, ``adj_resid``, ``yules_q``;
        ``(dyad, given, target)`` for ``adj_resid_dyad``, ``yules_q_dyad``; ``(code,)``
        for ``rate_sd``, ``n_runs``, ``run_mean``, ``run_longest``, ``sessions_without``;
        none for ``G2``, ``homogeneity_dyads``, ``homogeneity_sessions`` and
        ``second_order_G2``, which come with an int64 ``<name>_df`` variable. Each
        variable has attrs ``description``, ``statistic`` (its registry name) and
        ``kind`` (``"statistic"``, or ``"df"`` for degrees of freedom, which are not
        statistics to check). Undefined values (empty margins, no runs) are NaN.

    Notes
    -----
    * Tables count pairs with :func:`lagnest.kernels.lag_counts` per session (pairs stay
      inside blocks, uncoded segments are skipped) and their statistics come from
      :func:`~lagnest.classical.statistics.table_arrays`, as in :func:`lagnest.lag_table`.
    * ``homogeneity_dyads`` is the G2 of :func:`lagnest.classical.lagtable.homogeneity_test` with
      ``by="dyad"``; ``homogeneity_sessions`` sums, over dyads, the homogeneity G2 of the
      dyad's sessions (df likewise; dyads with one session add 0).
    * Runs (:func:`lagnest.kernels.run_lengths`) end at an uncoded segment or a block end.
      The rate of a code in a session is its occurrences over the session's coded
      segments; ``rate_sd`` is the sample SD (ddof 1) over sessions with a coded segment
      and ``sessions_without`` counts those sessions without the code.
    * ``second_order_G2`` is :func:`conditional_independence_g2` of
      :func:`lagnest.kernels.triple_counts` of ``codes`` (pooled over blocks).

    Examples
    --------
    >>> import numpy as np
    >>> from lagnest.data.sequences import Encoded
    >>> nest = Encoded(np.array([0, 4, 8]), np.array([0, 4, 8]), np.array([0, 1]),
    ...                np.array([0, 0]))
    >>> ds = sequence_statistics(np.array([0, 1, 0, 1, 0, 0, 1, 1]), nest, 2,
    ...                          ["n_runs", "G2"])
    >>> ds["n_runs"].values, ds["G2_df"].values
    (array([[3, 3]]), array([1]))
    """
    names = list(DEFAULT_STATISTICS if stats is None else stats)
    unknown = [n for n in names if n not in _SPECS]
    if unknown:
        raise LagnestDataError(f"unknown statistic(s) {unknown}; known: {list(_SPECS)}")
    batch = _check_batch(codes, nesting, n_codes, given, n_given, lag)
    groups = list(dict.fromkeys(_SPECS[n].group for n in names))
    cache: dict[str, Any] = {}
    if _NEEDS_TABLES & set(groups):
        cache["sessions"] = _session_tables(batch)
    values: dict[str, Any] = {}
    for group in groups:
        values.update(_GROUPS[group](batch, cache))
    coords = {
        "draw": np.arange(batch.n_draws),
        "given": list(given_labels) if given_labels is not None else np.arange(batch.n_given),
        "target": list(labels) if labels is not None else np.arange(batch.n_codes),
        "code": list(labels) if labels is not None else np.arange(batch.n_codes),
        "dyad": list(dyad_labels) if dyad_labels is not None else np.arange(batch.n_dyads),
    }
    return _assemble(names, values, coords, batch.lag)


def _assemble(names: list[str], values: dict[str, Any], coords: dict, lag: int) -> xr.Dataset:
    """Labelled Dataset of the requested statistics."""
    data: dict[str, Any] = {}
    for name in names:
        spec = _SPECS[name]
        dims = ("draw", *spec.dims)
        value = values[name]
        if spec.has_df:
            value, df = value
            data[f"{name}_df"] = xr.Variable(
                ("draw",), np.asarray(df, dtype=np.int64),
                {"description": f"degrees of freedom of {name}", "statistic": name,
                 "kind": "df"})
        data[name] = xr.Variable(dims, np.asarray(value),
                                 {"description": spec.description, "statistic": name,
                                  "kind": "statistic"})
    used = {d for v in data.values() for d in v.dims} | {"draw"}
    ds = xr.Dataset(data, coords={d: c for d, c in coords.items() if d in used})
    ds.attrs["lag"] = int(lag)
    return ds


# =========================================================================== computability

#: Why a test statistic has no degrees of freedom in the data (its value is then fixed).
_NO_DF = {name: translate(f"omit.df_{name}", "en")
          for name in ("G2", "homogeneity_dyads", "homogeneity_sessions", "second_order_G2")}


def not_computable(
    codes: np.ndarray,
    nesting: Nesting,
    n_codes: int,
    stats: Sequence[str] | None = None,
    *,
    given: np.ndarray | None = None,
    n_given: int | None = None,
    lag: int = 1,
) -> dict[str, str]:
    """The statistics a corpus cannot give, each with the reason.

    A statistic cannot be computed on a corpus when the corpus's layout fixes its value
    whatever the codes (every replicate then equals the data, and a predictive p-value
    of 1 would pass a check that checked nothing) or leaves it undefined. The conditions:

    * every table statistic (``counts``, ``adj_resid``, ``yules_q``, the per-dyad cells,
      ``G2``, both homogeneity tests): the data have lag pairs;
    * ``homogeneity_dyads``: two dyads have lag pairs;
    * ``homogeneity_sessions``: a dyad has two sessions with lag pairs (not so when every
      dyad has one session);
    * ``G2``, ``homogeneity_*``, ``second_order_G2``: degrees of freedom in the data;
      ``second_order_G2`` needs triples ``(t, t + lag, t + 2 lag)`` of coded segments in
      one block (sessions long enough);
    * ``rate_sd``: two sessions with coded segments;
    * any statistic: a defined value for at least one element.

    Parameters
    ----------
    codes : ndarray of int, shape (n_segments,) or (1, n_segments)
        The observed codes, as :func:`sequence_statistics` takes them.
    nesting, n_codes, stats, given, n_given, lag
        As in :func:`sequence_statistics`.

    Returns
    -------
    dict of str to str
        Statistic name to why it cannot be computed (empty when every one can).

    Examples
    --------
    >>> import numpy as np
    >>> from lagnest.data.sequences import Encoded
    >>> nest = Encoded(np.array([0, 4, 8]), np.array([0, 4, 8]), np.array([0, 1]),
    ...                np.array([0, 1]))
    >>> sorted(not_computable(np.array([0, 1, 0, 1, 0, 0, 1, 1]), nest, 2, ["G2",
    ...        "homogeneity_sessions"]))
    ['homogeneity_sessions']
    """
    names = list(DEFAULT_STATISTICS if stats is None else stats)
    unknown = [n for n in names if n not in _SPECS]
    if unknown:
        raise LagnestDataError(f"unknown statistic(s) {unknown}; known: {list(_SPECS)}")
    batch = _check_batch(codes, nesting, n_codes, given, n_given, lag)
    if batch.n_draws != 1:
        raise LagnestDataError(f"not_computable takes the observed codes (one array), got "
                               f"{batch.n_draws}")
    nest = batch.nest
    reasons: dict[str, str] = {}
    if any(_SPECS[n].group in _NEEDS_TABLES for n in names):
        pairs = _session_tables(batch)[0].sum(axis=(1, 2))  # lag pairs per session
        dyad = np.asarray(nest.session_dyad, dtype=np.int64)
        per_dyad = np.bincount(dyad[pairs > 0], minlength=batch.n_dyads)
        for name in names:
            if _SPECS[name].group not in _NEEDS_TABLES:
                continue
            if pairs.sum() == 0:
                reasons[name] = translate("omit.no_pairs", "en", lag=lag)
            elif name == "homogeneity_dyads" and (per_dyad > 0).sum() < 2:
                reasons[name] = translate("omit.one_dyad", "en")
            elif name == "homogeneity_sessions" and per_dyad.max(initial=0) < 2:
                reasons[name] = translate("omit.one_session", "en")
    if "rate_sd" in names:
        offsets = np.asarray(nest.session_offsets, dtype=np.int64)
        session_of = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
        coded = np.bincount(session_of[batch.codes[0] >= 0], minlength=offsets.size - 1)
        if (coded > 0).sum() < 2:
            reasons["rate_sd"] = translate("omit.rate_sd", "en")
    if "second_order_G2" in names and "second_order_G2" not in reasons:
        triples = kernels.triple_counts(batch.codes, nest.block_offsets, batch.n_codes,
                                        lag=batch.lag)
        if triples.sum() == 0:
            reasons["second_order_G2"] = translate("omit.no_triples", "en", lag=batch.lag,
                                                   lag2=2 * batch.lag)
    rest = [n for n in names if n not in reasons]
    if rest:
        ds = sequence_statistics(codes, nesting, n_codes, rest, given=given,
                                 n_given=n_given, lag=lag)
        for name in rest:
            if _SPECS[name].has_df and int(np.asarray(ds[f"{name}_df"].values).ravel()[0]) == 0:
                reasons[name] = _NO_DF[name]
            elif np.isnan(np.asarray(ds[name].values, dtype=float)).all():
                reasons[name] = translate("omit.undefined", "en")
    return {n: reasons[n] for n in names if n in reasons}
