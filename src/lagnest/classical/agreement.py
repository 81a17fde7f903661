r"""Observer agreement between two codings of the same sessions.

Cohen's kappa with its large-sample standard error (Fleiss, Cohen & Everitt 1969), for a
categorical stream (one K x K agreement matrix), per code (each code collapsed against the
others) and for indicator streams (presence/absence per indicator, summarised by the pooled
kappa), and time-unit kappa with a tolerance window (Bakeman, Quera & Gnisci 2009) when the
segments are time units or when the codings are timed events. See ``docs/agreement.md``.

Two layers, as in :mod:`lagnest.classical.lagtable`:

1. :func:`kappa_arrays` works on NumPy agreement matrices ``(..., K, K)`` and returns plain
   arrays; :func:`kappa_table` labels them as an :class:`xarray.Dataset`;
2. :func:`agreement` takes two codings (two :class:`~lagnest.data.sequences.Sequences`, or two
   frames of timed events), aligns them, tallies the agreement matrix and labels it.

Rows of every agreement matrix are coder A's codes (dim ``coder_a``), columns coder B's
(dim ``coder_b``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from lagnest._version import __version__
from lagnest.classical.statistics import _safe_divide
from lagnest.data._streams import natural_key
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = ["STAT_VARIABLES", "UNCODED_LABEL", "agreement", "kappa_arrays", "kappa_table"]

#: Statistics with one value per agreement matrix, in output order.
STAT_VARIABLES = (
    "kappa",
    "se",
    "se0",
    "ci_low",
    "ci_high",
    "z",
    "p",
    "p_o",
    "p_e",
    "kappa_max",
    "n",
)
#: Label of the uncoded category when ``uncoded="category"``.
UNCODED_LABEL = "(uncoded)"
#: Levels of a presence/absence (2 x 2) agreement matrix.
LEVELS = ("absent", "present")
#: Event-frame columns in order: session, code, onset, offset.
EVENT_COLUMNS = ("session", "code", "onset", "offset")

_REFERENCES = ("a", "b", "both")
_UNCODED = ("exclude", "category")
_EPS = 1e-9

_DESCRIPTIONS = {
    "counts": "agreement matrix: tallies of (coder A's code, coder B's code)",
    "expected": "tallies expected by chance from the margins (row total x column total / n)",
    "kappa": "Cohen's kappa (p_o - p_e) / (1 - p_e)",
    "se": "large-sample standard error of kappa (Fleiss, Cohen & Everitt 1969)",
    "se0": "standard error of kappa under H0: kappa = 0 (for z and p)",
    "ci_low": "lower confidence limit kappa - z_(1+ci_prob)/2 * se",
    "ci_high": "upper confidence limit kappa + z_(1+ci_prob)/2 * se",
    "z": "kappa / se0",
    "p": "two-sided normal p-value of z",
    "p_o": "observed proportion of agreement",
    "p_e": "proportion of agreement expected by chance",
    "kappa_max": "largest kappa the margins allow (Cohen 1960)",
    "n": "number of tallies (time units or segments)",
}


# =========================================================================== array layer


def kappa_arrays(counts: Any, ci_prob: float = 0.95) -> dict[str, np.ndarray]:
    r"""Cohen's kappa and its standard errors for a stack of K x K agreement matrices.

    Parameters
    ----------
    counts : array-like, shape (..., K, K)
        Agreement matrices (rows coder A, columns coder B); any leading dims.
    ci_prob : float, default 0.95
        Coverage of the normal confidence interval.

    Returns
    -------
    dict of str to ndarray
        ``kappa``, ``se``, ``se0``, ``ci_low``, ``ci_high``, ``z``, ``p``, ``p_o``,
        ``p_e``, ``kappa_max``, ``n`` (shape ``...``) and ``expected`` (shape
        ``(..., K, K)``). NaN where a statistic is undefined (``n = 0``, or ``p_e = 1``:
        both coders used one and the same code throughout).

    Notes
    -----
    See :func:`kappa_table` for the formulas.
    """
    if not 0 < ci_prob < 1:
        raise LagnestDataError(
            DataProblem("bad ci_prob", value=ci_prob, expected="0 < ci_prob < 1")
        )
    x = np.asarray(counts, dtype=float)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise LagnestDataError(f"an agreement matrix must be square (K x K), got shape {x.shape}")
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise LagnestDataError("agreement counts must be finite and non-negative")
    n = x.sum((-2, -1))
    p = _safe_divide(x, n[..., None, None])
    r, c = p.sum(-1), p.sum(-2)
    diag = np.diagonal(p, axis1=-2, axis2=-1)
    p_o, p_e = diag.sum(-1), (r * c).sum(-1)
    kappa = _safe_divide(p_o - p_e, 1 - p_e)
    q = (1 - kappa)[..., None]
    term_a = (diag * (1 - (r + c) * q) ** 2).sum(-1)
    off = p * (1 - np.eye(x.shape[-1]))
    term_b = (1 - kappa) ** 2 * (off * (c[..., :, None] + r[..., None, :]) ** 2).sum((-2, -1))
    term_c = (kappa - p_e * (1 - kappa)) ** 2
    den = n * (1 - p_e) ** 2
    se = np.sqrt(np.clip(_safe_divide(term_a + term_b - term_c, den), 0, None))
    se0 = np.sqrt(np.clip(_safe_divide(p_e + p_e**2 - (r * c * (r + c)).sum(-1), den), 0, None))
    z = _safe_divide(kappa, se0)
    half = special.ndtri(0.5 + ci_prob / 2) * se
    return {
        "kappa": kappa,
        "se": se,
        "se0": se0,
        "ci_low": kappa - half,
        "ci_high": kappa + half,
        "z": z,
        "p": 2 * special.ndtr(-np.abs(z)),
        "p_o": p_o,
        "p_e": p_e,
        "kappa_max": _safe_divide(np.minimum(r, c).sum(-1) - p_e, 1 - p_e),
        "n": n,
        "expected": r[..., :, None] * c[..., None, :] * n[..., None, None],
    }


def _dataset(
    counts: np.ndarray,
    levels: Sequence[str],
    ci_prob: float,
    attrs: dict[str, Any],
    codes: Sequence[str] | None = None,
) -> xr.Dataset:
    """Label one agreement matrix (stats in attrs) or a stack along ``code`` (stats vars)."""
    arrays = kappa_arrays(counts, ci_prob)
    lead = () if codes is None else ("code",)
    dims = (*lead, "coder_a", "coder_b")
    coords: dict[str, Any] = {"coder_a": list(levels), "coder_b": list(levels)}
    if codes is not None:
        coords = {"code": list(codes), **coords}
    integral = bool(np.all(np.mod(counts, 1) == 0))
    ds = xr.Dataset(
        {
            "counts": (dims, counts.astype(np.int64) if integral else counts.astype(float)),
            "expected": (dims, arrays["expected"]),
        },
        coords=coords,
    )
    if codes is None:
        ds.attrs.update({name: float(arrays[name]) for name in STAT_VARIABLES})
    else:
        for name in STAT_VARIABLES:
            ds[name] = (lead, arrays[name])
    ds.attrs.update(attrs)
    ds.attrs.update(ci_prob=float(ci_prob), lagnest_version=__version__)
    for name, text in _DESCRIPTIONS.items():
        if name in ds.data_vars:
            ds[name].attrs["description"] = text
    return ds


def kappa_table(counts: Any, ci_prob: float = 0.95) -> xr.Dataset:
    r"""Cohen's kappa of a ready-made agreement matrix, as a labelled Dataset.

    Parameters
    ----------
    counts : array-like, pandas.DataFrame or xarray.DataArray, shape (K, K)
        Tallies of (coder A's code, coder B's code); rows coder A. Labels come from the
        DataFrame index or the DataArray coordinates, else positions.
    ci_prob : float, default 0.95
        Coverage of the normal confidence interval.

    Returns
    -------
    xarray.Dataset
        ``counts`` and ``expected`` on ``(coder_a, coder_b)``; attrs ``kappa``, ``se``,
        ``se0``, ``ci_low``, ``ci_high``, ``z``, ``p``, ``p_o``, ``p_e``, ``kappa_max``,
        ``n``, ``ci_prob``.

    Notes
    -----
    With :math:`p_{ij}` the proportion of tallies in cell (i, j), margins
    :math:`p_{i+}` (coder A) and :math:`p_{+j}` (coder B) and :math:`n` tallies:

    .. math::

        p_o = \sum_i p_{ii},\quad p_e = \sum_i p_{i+} p_{+i},\quad
        \kappa = \frac{p_o - p_e}{1 - p_e}

    The large-sample variance of Fleiss, Cohen & Everitt (1969):

    .. math::

        \widehat{\mathrm{var}}(\kappa) = \frac{
            \sum_i p_{ii}\,[1 - (p_{i+} + p_{+i})(1 - \kappa)]^2
            + (1 - \kappa)^2 \sum_{i \ne j} p_{ij} (p_{+i} + p_{j+})^2
            - [\kappa - p_e (1 - \kappa)]^2}{n (1 - p_e)^2}

    gives ``se`` and the confidence interval :math:`\kappa \pm z_{(1+c)/2}\,se`; under
    :math:`H_0: \kappa = 0`,

    .. math::

        \widehat{\mathrm{var}}_0(\kappa) = \frac{p_e + p_e^2 - \sum_i p_{i+} p_{+i}
        (p_{i+} + p_{+i})}{n (1 - p_e)^2}

    gives ``se0``, :math:`z = \kappa / se_0` and the two-sided p-value. These are the
    formulas of SAS PROC FREQ (AGREE) and ``statsmodels.stats.inter_rater.cohens_kappa``.
    :math:`\kappa_{max} = (\sum_i \min(p_{i+}, p_{+i}) - p_e)/(1 - p_e)` is the largest
    kappa the two coders' margins allow (Cohen 1960).

    References
    ----------
    .. [1] Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
       Psychological Measurement, 20*, 37-46.
    .. [2] Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors
       of kappa and weighted kappa. *Psychological Bulletin, 72*, 323-327.

    Examples
    --------
    >>> ds = kappa_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    >>> round(ds.attrs["kappa"], 4), round(ds.attrs["se"], 4), round(ds.attrs["se0"], 4)
    (0.4842, 0.138, 0.1484)
    """
    if isinstance(counts, xr.DataArray):
        if counts.ndim != 2:
            raise LagnestDataError(f"an agreement matrix must be 2-d, got dims {counts.dims}")
        dim = counts.dims[0]
        rows = counts[dim].values if dim in counts.coords else range(counts.shape[0])
        levels, x = [str(v) for v in rows], counts.values
    elif isinstance(counts, pd.DataFrame):
        levels, x = [str(i) for i in counts.index], counts.to_numpy()
    else:
        x = np.asarray(counts)
        levels = [str(i) for i in range(x.shape[0])] if x.ndim == 2 else []
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise LagnestDataError(f"an agreement matrix must be 2-d (K x K), got shape {x.shape}")
    return _dataset(x, levels, ci_prob, {})


# =========================================================================== tallies


@dataclass(frozen=True)
class _Coding:
    """Two aligned codings: code arrays (``-1`` = uncoded), labels and unit positions.

    ``a`` and ``b`` are ``(n,)`` for a categorical coding and ``(n, P)`` for indicators;
    ``position`` is the unit's number inside its session (segment number or time unit),
    ``session`` its session index; units are sorted by (session, position).
    """

    kind: str
    a: np.ndarray
    b: np.ndarray
    labels: tuple[str, ...]
    session: np.ndarray
    position: np.ndarray


def _window_keys(session: np.ndarray, position: np.ndarray, tolerance: int) -> np.ndarray:
    """Increasing int64 keys: positions within a session, sessions more than ``tolerance`` apart."""
    if position.size == 0:
        return position.astype(np.int64)
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    low = np.minimum.reduceat(position, starts)
    span = np.maximum.reduceat(position, starts) - low + 1 + tolerance
    base = np.r_[0, np.cumsum(span)[:-1]]
    counts = np.diff(np.r_[starts, position.size])
    return (position - np.repeat(low - base, counts)).astype(np.int64)


def _window_hits(x: np.ndarray, y: np.ndarray, keys: np.ndarray, tolerance: int,
                 n_codes: int) -> np.ndarray:
    """Whether ``y`` holds code ``x[t]`` at a unit whose key is within ``tolerance`` of t's."""
    if tolerance == 0:
        return (x == y) & (x >= 0)
    lo = np.searchsorted(keys, keys - tolerance, side="left")
    hi = np.searchsorted(keys, keys + tolerance, side="right")
    hits = np.zeros(x.size, dtype=bool)
    for k in range(n_codes):
        where = np.flatnonzero(x == k)
        if where.size:
            cum = np.r_[0, np.cumsum(y == k)]
            hits[where] = cum[hi[where]] > cum[lo[where]]
    return hits


def _tally(a: np.ndarray, b: np.ndarray, keys: np.ndarray, n_codes: int, tolerance: int,
           reference: str) -> np.ndarray:
    """K x K agreement matrix of two code arrays (``-1`` units are dropped).

    Reference A: unit t is an agreement on ``a[t]`` if B holds ``a[t]`` within
    ``tolerance`` units of t; otherwise it is tallied at ``(a[t], b[t])``. Reference B
    mirrors it; ``"both"`` tallies each unit twice with weight 1/2.
    """
    keep = (a >= 0) & (b >= 0)
    out = np.zeros((n_codes, n_codes))
    sides = ("a", "b") if reference == "both" else (reference,)
    weight = 1.0 / len(sides)
    for side in sides:
        if side == "a":
            hits = _window_hits(a, b, keys, tolerance, n_codes)
            row, col = a, np.where(hits, a, b)
        else:
            hits = _window_hits(b, a, keys, tolerance, n_codes)
            row, col = np.where(hits, b, a), b
        flat = (row * n_codes + col)[keep]
        out += weight * np.bincount(flat, minlength=n_codes * n_codes).reshape(n_codes, n_codes)
    return out


def _with_uncoded(values: np.ndarray, n_codes: int, uncoded: str) -> np.ndarray:
    """Map ``-1`` to an extra code ``n_codes`` when uncoded segments form a category."""
    if uncoded == "category":
        return np.where(values < 0, n_codes, values)
    return values


def _collapse(matrix: np.ndarray) -> np.ndarray:
    """K x K -> (K, 2, 2): each code against all others (levels absent, present)."""
    n = matrix.sum()
    hit = np.diag(matrix)
    r, c = matrix.sum(1), matrix.sum(0)
    out = np.empty((matrix.shape[0], 2, 2))
    out[:, 1, 1] = hit
    out[:, 1, 0] = r - hit
    out[:, 0, 1] = c - hit
    out[:, 0, 0] = n - r - c + hit
    return out


# =========================================================================== alignment


def _stream_kind(seqs: Sequences, spec: Any) -> str:
    """``indicator`` for an indicator stream or a list of codes, else ``categorical``."""
    if isinstance(spec, list | tuple):
        return "indicator"
    info = seqs.streams.get(spec) if isinstance(spec, str) else None
    return "indicator" if info is not None and info.kind == "indicator" else "categorical"


def _values(seqs: Sequences, spec: Any, kind: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Code array and labels of ``spec`` in one coding."""
    if kind == "indicator":
        matrix, names = seqs.indicator_matrix(spec)
        return np.asarray(matrix, dtype=np.int64), tuple(names)
    codes, labels = seqs.categorical(spec)
    return np.asarray(codes, dtype=np.int64), tuple(labels)


def _segment_numbers(seqs: Sequences) -> np.ndarray:
    """Segment numbers in storage order (sorted within each session)."""
    return np.asarray(seqs._segment_numbers, dtype=np.int64)


def _align_order(a: Sequences, b: Sequences,
                 names: tuple[str, str] = ("coder_a", "coder_b")) -> np.ndarray:
    """Index into coder B's segments that lines them up with coder A's (session, segment).

    Raises a :class:`LagnestDataError` naming every session that only one coding has and,
    per session, the segments that only one coding has; ``names`` are the two codings'
    names in those messages (:func:`_from_codings` aligns each coding to the first).
    """
    name_a, name_b = names
    problems = ProblemCollector()
    only_a = [s for s in a.session_labels if s not in set(b.session_labels)]
    only_b = [s for s in b.session_labels if s not in set(a.session_labels)]
    for label, who, other in [(s, name_a, name_b) for s in only_a] + [
        (s, name_b, name_a) for s in only_b
    ]:
        problems.add(
            f"session {label!r} is coded by {who} but not by {other}",
            expected="both codings of the same sessions",
        )
    problems.raise_if_any()
    off_a, off_b = a.encoded.session_offsets, b.encoded.session_offsets
    num_a, num_b = _segment_numbers(a), _segment_numbers(b)
    where_b = {s: i for i, s in enumerate(b.session_labels)}
    pieces = []
    for i, label in enumerate(a.session_labels):
        j = where_b[label]
        seg_a, seg_b = num_a[off_a[i]:off_a[i + 1]], num_b[off_b[j]:off_b[j + 1]]
        if seg_a.size == seg_b.size and np.array_equal(seg_a, seg_b):
            pieces.append(np.arange(off_b[j], off_b[j + 1]))
            continue
        for who, mine, theirs in ((name_a, seg_a, seg_b), (name_b, seg_b, seg_a)):
            extra = np.setdiff1d(mine, theirs)
            for t in extra[:10]:
                problems.add(
                    f"session {label!r}, segment {int(t)} is coded by {who} but not by the "
                    "other coder",
                    expected="the same segments in both codings",
                )
            if extra.size > 10:
                problems.add(f"session {label!r}: {extra.size - 10} more segments only {who} has")
    problems.raise_if_any()
    return np.concatenate(pieces) if pieces else np.zeros(0, np.int64)


def _merge_labels(la: Sequence[str], lb: Sequence[str]) -> tuple[str, ...]:
    """Coder A's labels, then coder B's labels A lacks."""
    return tuple(dict.fromkeys([*la, *lb]))


def _recode(values: np.ndarray, own: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Re-index codes ``0..len(own)-1`` into ``labels`` (``-1`` stays)."""
    lookup = np.array([list(labels).index(c) for c in own] + [-1], dtype=np.int64)
    return lookup[values]


@dataclass(frozen=True)
class _Codings:
    """Any number of aligned codings: ``values[i]`` is coding i's code array.

    As :class:`_Coding` (``(n,)`` or ``(n, P)`` arrays, ``-1`` = uncoded), with one array
    per coding in the order of ``names``; units are the first coding's segments.
    """

    kind: str
    names: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    labels: tuple[str, ...]
    session: np.ndarray
    position: np.ndarray


def _from_codings(codings: Mapping[str, Sequences], stream: Any) -> _Codings:
    """Align `Sequences` on (session, segment) to the first one and resolve ``stream`` in each.

    Every coding must hold the first one's sessions and, in each, its segments
    (:func:`_align_order`, checked pair by pair with the first coding); a stream must be of
    one kind in all codings, an indicator stream must have the same codes in all. The codes
    of a categorical stream are the union: the first coding's, then codes only later
    codings used, in order. With two codings named ``coder_a`` and ``coder_b`` the checks
    and messages are those of :func:`agreement`.
    """
    names, seqs = tuple(codings), tuple(codings.values())
    first = seqs[0]
    kind = _stream_kind(first, stream)
    every = "both codings" if len(seqs) == 2 else "every coding"
    for name, other in zip(names[1:], seqs[1:], strict=True):
        other_kind = _stream_kind(other, stream)
        if other_kind != kind:
            raise LagnestDataError(
                f"stream {stream!r} is {kind} in {names[0]} but {other_kind} in {name}; "
                f"expected the same kind in {every}"
            )
    orders = [_align_order(first, other, (names[0], name))
              for name, other in zip(names[1:], seqs[1:], strict=True)]
    raw = [_values(s, stream, kind) for s in seqs]
    values = [raw[0][0]] + [v[order] for (v, _), order in zip(raw[1:], orders, strict=True)]
    if kind == "indicator":
        for name, (_, own) in zip(names[1:], raw[1:], strict=True):
            if own != raw[0][1]:
                raise LagnestDataError(
                    f"indicator stream {stream!r} has codes {list(raw[0][1])} in {names[0]} "
                    f"but {list(own)} in {name}; expected the same indicator codes in {every}"
                )
        labels = raw[0][1]
    else:
        labels = raw[0][1]
        for _, own in raw[1:]:
            labels = _merge_labels(labels, own)
        values = [_recode(v, own, labels) for v, (_, own) in zip(values, raw, strict=True)]
    return _Codings(kind, names, tuple(values), tuple(labels),
                    np.asarray(first.encoded.segment_session), _segment_numbers(first))


def _from_sequences(a: Sequences, b: Sequences, stream: Any) -> _Coding:
    """Align two `Sequences` on (session, segment) and resolve ``stream`` in both."""
    c = _from_codings({"coder_a": a, "coder_b": b}, stream)
    return _Coding(c.kind, c.values[0], c.values[1], c.labels, c.session, c.position)


# =========================================================================== timed events


def _event_frame(frame: pd.DataFrame, who: str, stream: Any, problems: ProblemCollector
                 ) -> pd.DataFrame | None:
    """Validated events of one coder: session, code (str), onset, offset (float), row."""
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        problems.add(
            f"{who}: the events table has no column {missing[0]!r}",
            expected=f"columns {list(EVENT_COLUMNS)} (and optionally 'stream')",
        )
        return None
    rows = np.arange(1, len(frame) + 1)
    if "stream" in frame.columns:
        names = frame["stream"].astype("string").dropna().unique().tolist()
        if stream is None and len(names) > 1:
            problems.add(f"{who}: the events table holds streams {names}; name one as `stream`")
            return None
        if stream is not None:
            keep = (frame["stream"].astype("string") == str(stream)).fillna(False).to_numpy(bool)
            frame, rows = frame.loc[keep], rows[keep]
    onset = pd.to_numeric(frame["onset"], errors="coerce").to_numpy(float)
    offset = pd.to_numeric(frame["offset"], errors="coerce").to_numpy(float)
    session = frame["session"]
    code = frame["code"]
    bad = {
        "session": session.isna().to_numpy(),
        "code": code.isna().to_numpy(),
        "onset": ~np.isfinite(onset) | (onset < 0),
        "offset": ~np.isfinite(offset) | (offset <= onset),
    }
    expected = {
        "session": "a session label",
        "code": "a code label",
        "onset": "a time in seconds >= 0",
        "offset": "a time in seconds after the onset (time-unit agreement needs states)",
    }
    for column, mask in bad.items():
        for i in np.flatnonzero(mask)[:20]:
            problems.add(
                f"{who}: bad {column}",
                row=int(rows[i]),
                column=column,
                value=frame[column].iloc[i],
                expected=expected[column],
            )
    if any(mask.any() for mask in bad.values()):
        return None
    return pd.DataFrame(
        {
            "session": [str(s) for s in session],
            "code": [str(c) for c in code],
            "onset": onset,
            "offset": offset,
            "row": rows,
        }
    )


def _check_events(events: pd.DataFrame, who: str, unit: float, problems: ProblemCollector,
                  first: np.ndarray, stop: np.ndarray) -> None:
    """Overlapping states and states that cover no unit midpoint are problems."""
    ordered = events.assign(first=first, stop=stop).sort_values(
        ["session", "onset", "offset"], kind="stable")
    same = ordered["session"].to_numpy()[1:] == ordered["session"].to_numpy()[:-1]
    overlap = same & (ordered["onset"].to_numpy()[1:] < ordered["offset"].to_numpy()[:-1] - _EPS)
    for i in np.flatnonzero(overlap)[:20]:
        prev, nxt = ordered.iloc[i], ordered.iloc[i + 1]
        problems.add(
            f"{who}: overlapping states in session {nxt['session']!r}: {prev['code']!r} "
            f"{prev['onset']:g}-{prev['offset']:g} and {nxt['code']!r} "
            f"{nxt['onset']:g}-{nxt['offset']:g}",
            row=int(nxt["row"]),
            value=nxt["code"],
            expected="states that do not overlap (one code per time unit)",
        )
    for i in np.flatnonzero(stop <= first)[:20]:
        e = events.iloc[i]
        problems.add(
            f"{who}: state {e['code']!r} {e['onset']:g}-{e['offset']:g} in session "
            f"{e['session']!r} covers no time-unit midpoint at unit = {unit:g} s",
            row=int(e["row"]),
            column="offset",
            value=float(e["offset"]),
            expected="a smaller `unit`, or a longer state",
        )


def _unit_range(events: pd.DataFrame, unit: float) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last time unit whose midpoint a state covers (half-open)."""
    first = np.ceil(events["onset"].to_numpy() / unit - 0.5 - _EPS).astype(np.int64)
    stop = np.ceil(events["offset"].to_numpy() / unit - 0.5 - _EPS).astype(np.int64)
    return np.maximum(first, 0), stop


def _from_events(a: pd.DataFrame, b: pd.DataFrame, stream: Any, unit: float) -> _Coding:
    """Two event tables -> time units ``[k u, (k + 1) u)`` from time 0, one code per unit."""
    if not (isinstance(unit, int | float) and math.isfinite(unit) and unit > 0):
        raise LagnestDataError(DataProblem("bad time unit", value=unit, expected="seconds > 0"))
    problems = ProblemCollector()
    ev = {who: _event_frame(f, who, stream, problems)
          for who, f in (("coder_a", a), ("coder_b", b))}
    problems.raise_if_any()
    ranges = {who: _unit_range(e, unit) for who, e in ev.items()}
    for who, e in ev.items():
        _check_events(e, who, unit, problems, *ranges[who])
    sessions = {who: list(dict.fromkeys(e["session"])) for who, e in ev.items()}
    for who, other in (("coder_a", "coder_b"), ("coder_b", "coder_a")):
        for s in sessions[who]:
            if s not in set(sessions[other]):
                problems.add(
                    f"session {s!r} is coded by {who} but not by {other}",
                    expected="both codings of the same sessions",
                )
    problems.raise_if_any()
    labels = tuple(sorted(set(ev["coder_a"]["code"]) | set(ev["coder_b"]["code"]),
                          key=natural_key))
    order = sessions["coder_a"]
    index = {s: i for i, s in enumerate(order)}
    n_units = np.zeros(len(order), np.int64)
    for who, e in ev.items():
        np.maximum.at(n_units, e["session"].map(index).to_numpy(), ranges[who][1])
    offsets = np.r_[0, np.cumsum(n_units)]
    code_of = {c: i for i, c in enumerate(labels)}
    values = {}
    for who, e in ev.items():
        first, stop = ranges[who]
        lengths = np.maximum(stop - first, 0)
        start = offsets[e["session"].map(index).to_numpy()] + first
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        v = np.full(int(offsets[-1]), -1, np.int64)
        v[np.repeat(start, lengths) + within] = np.repeat(e["code"].map(code_of).to_numpy(),
                                                          lengths)
        values[who] = v
    session = np.repeat(np.arange(len(order), dtype=np.int64), n_units)
    position = np.arange(int(offsets[-1]), dtype=np.int64) - np.repeat(offsets[:-1], n_units)
    return _Coding("categorical", values["coder_a"], values["coder_b"], labels, session,
                   position)


# =========================================================================== public


def _check_options(tolerance: Any, reference: str, uncoded: str) -> int:
    """Validate the tallying options; return the tolerance as an int."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | np.integer) or tolerance < 0:
        raise LagnestDataError(
            DataProblem("bad tolerance", value=tolerance, expected="a whole number of units >= 0")
        )
    if reference not in _REFERENCES:
        raise LagnestDataError(DataProblem("bad reference", value=reference,
                                           expected="'a', 'b' or 'both'"))
    if uncoded not in _UNCODED:
        raise LagnestDataError(DataProblem("bad uncoded option", value=uncoded,
                                           expected="'exclude' or 'category'"))
    return int(tolerance)


def agreement(
    coder_a: Sequences | pd.DataFrame,
    coder_b: Sequences | pd.DataFrame,
    stream: Any = None,
    *,
    per_code: bool = False,
    tolerance: int = 0,
    reference: str = "a",
    uncoded: str = "exclude",
    unit: float = 1.0,
    ci_prob: float = 0.95,
) -> xr.Dataset:
    r"""Observer agreement of two codings of the same sessions: Cohen's kappa and its SE.

    Parameters
    ----------
    coder_a, coder_b : Sequences or pandas.DataFrame
        The two codings. Two `Sequences` are aligned by (session label, segment number);
        both must hold the same sessions and, in each, the same segments. Two DataFrames
        are timed events, one row per state with columns ``session``, ``code``, ``onset``
        and ``offset`` (seconds; optionally ``stream`` to select rows): each session's time
        from 0 is cut into units of ``unit`` seconds, and a unit takes the code of the
        state covering its midpoint (see Notes).
    stream : str or list of str
        With `Sequences`: a categorical stream (its K codes), an indicator stream or a list
        of indicator codes (presence/absence of each), or one code (its presence/absence,
        see :meth:`Sequences.categorical`). With event tables: the ``stream`` value to keep
        (needed only when the tables have a ``stream`` column holding several).
    per_code : bool, default False
        False: one agreement matrix (K x K for a categorical stream; for an indicator set,
        the pooled 2 x 2 matrix, the sum of the per-indicator matrices). True: one
        presence/absence (2 x 2) matrix per code along dim ``code``: each code of a
        categorical stream collapsed against the others, or each indicator.
    tolerance : int, default 0
        Time-unit kappa with tolerance (Bakeman, Quera & Gnisci 2009): a unit on which the
        coders disagree counts as an agreement on the reference coder's code when the other
        coder assigned that code to a unit at most ``tolerance`` units away in the same
        session (segment numbers are the units). 0 gives plain (time-unit) kappa.
    reference : {"a", "b", "both"}, default "a"
        Whose code is looked for in the other's record when ``tolerance > 0``. ``"a"``
        follows GSEQ's description (the second coder must agree with the first within the
        tolerance); ``"both"`` tallies every unit twice with weight 1/2, once with each
        coder as reference, so the result does not depend on which coder is called A.
    uncoded : {"exclude", "category"}, default "exclude"
        ``"exclude"``: a unit that either coder left uncoded is left out of the tallies
        (pairwise deletion; ``n_excluded`` counts them). ``"category"``: uncoded is one more
        code, labelled ``"(uncoded)"``, so coding one coder omitted is a disagreement.
    unit : float, default 1.0
        Length in seconds of a time unit, for event tables only.
    ci_prob : float, default 0.95
        Coverage of the confidence interval.

    Returns
    -------
    xarray.Dataset
        ``per_code=False``: ``counts`` (the agreement matrix; float when
        ``reference="both"`` halves tallies) and ``expected`` on ``(coder_a, coder_b)``
        with the code labels as coordinates; attrs ``kappa``, ``se``, ``se0``,
        ``ci_low``, ``ci_high``, ``z``, ``p``, ``p_o``, ``p_e``, ``kappa_max``, ``n``.
        ``per_code=True``: ``counts`` and ``expected`` on ``(code, coder_a, coder_b)`` with
        levels ``absent``/``present`` (plus ``(uncoded)`` for indicators with
        ``uncoded="category"``), and the same statistics as variables on ``code``
        (``ds[list(STAT_VARIABLES)].to_dataframe()`` is the per-code table). Attrs also
        record ``stream``, ``kind``, ``summary`` (``"kappa"``, ``"pooled kappa"`` or
        ``"per code"``), ``tolerance``, ``reference``, ``uncoded``, ``n_units``,
        ``n_excluded``, ``unit`` (``"segment"`` or seconds) and ``ci_prob``.
        ``ds.to_dataframe()`` gives one row per cell.

    Raises
    ------
    LagnestDataError
        Sessions or segments that only one coding has (each named), a stream of different
        kind or indicator codes in the two codings, malformed event rows (row and column
        named), overlapping states, or bad options.

    Notes
    -----
    Formulas: :func:`kappa_table`. The pooled kappa of an indicator set (de Vries et al.
    2008) is the kappa of the summed 2 x 2 matrices; its tallies (units x indicators) are
    not independent, so its ``se``, ``se0``, ``ci_low``, ``ci_high``, ``z`` and ``p`` are
    NaN. The standard errors of time-unit kappa treat units as independent, which
    successive time units are not: read them as optimistic. With ``per_code=True`` and a
    tolerance, a categorical stream's per-code matrices are collapsed from the K x K
    tolerance-tallied matrix; an indicator's matrix is tallied on its presence/absence
    codes with the same rule (absence is a code too).

    Event tables: session time runs from 0 to the last offset of either coder; a state
    ``[onset, offset)`` holds unit k when it covers the unit's midpoint
    :math:`(k + 1/2)u` (its times rounded to the nearest unit boundary); units no state
    covers are uncoded. States of one coder may not overlap, and a state too short to
    cover a midpoint is an error (choose a smaller ``unit``). For presence/absence of
    co-occurring behaviors, read each coding with ``read_boris(path, segment_seconds=u)``
    (or ``read_sdis``) and pass the two `Sequences`: their segments are time units.

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.
    .. [2] Bakeman, R., Quera, V., & Gnisci, A. (2009). Observer agreement for timed-event
       sequential data: A comparison of time-based and event-based algorithms. *Behavior
       Research Methods, 41*, 137-147.
    .. [3] de Vries, H., Elliott, M. N., Kanouse, D. E., & Teleki, S. S. (2008). Using
       pooled kappa to summarize interrater agreement across many items. *Field Methods,
       20*, 272-282.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> a = Sequences.from_sequences({"code": [list("aabba")]})
    >>> b = Sequences.from_sequences({"code": [list("abbba")]})
    >>> ds = agreement(a, b, "code")
    >>> ds.counts.values
    array([[2, 1],
           [0, 2]])
    >>> round(ds.attrs["kappa"], 4)
    0.6154
    >>> agreement(a, b, "code", tolerance=1).attrs["p_o"]
    1.0
    """
    tolerance = _check_options(tolerance, reference, uncoded)
    from lagnest.data.sequences import Sequences

    if isinstance(coder_a, Sequences) and isinstance(coder_b, Sequences):
        if stream is None:
            raise LagnestDataError(
                "name the stream to compare: expected one of "
                f"{list(coder_a.streams)} (or an indicator code or a list of them)"
            )
        coding = _from_sequences(coder_a, coder_b, stream)
        unit_attr: Any = "segment"
    elif isinstance(coder_a, pd.DataFrame) and isinstance(coder_b, pd.DataFrame):
        coding = _from_events(coder_a, coder_b, stream, unit)
        unit_attr = float(unit)
    else:
        raise LagnestDataError(
            f"coder_a and coder_b must both be Sequences or both event DataFrames; got "
            f"{type(coder_a).__name__} and {type(coder_b).__name__}"
        )
    keys = _window_keys(coding.session, coding.position, tolerance)
    extra = (UNCODED_LABEL,) if uncoded == "category" else ()
    if UNCODED_LABEL in coding.labels and extra:
        raise LagnestDataError(f"a code is labelled {UNCODED_LABEL!r}; rename it or use "
                               "uncoded='exclude'")
    if coding.kind == "categorical":
        k = len(coding.labels)
        a, b = _with_uncoded(coding.a, k, uncoded), _with_uncoded(coding.b, k, uncoded)
        matrix = _tally(a, b, keys, k + len(extra), tolerance, reference)
        excluded = int(((a < 0) | (b < 0)).sum())
        labels = (*coding.labels, *extra)
        if per_code:
            counts, levels, codes, summary = _collapse(matrix), LEVELS, labels, "per code"
        else:
            counts, levels, codes, summary = matrix, labels, None, "kappa"
    else:
        a = _with_uncoded(coding.a, 2, uncoded)
        b = _with_uncoded(coding.b, 2, uncoded)
        size = 2 + len(extra)
        stack = np.stack([_tally(a[:, p], b[:, p], keys, size, tolerance, reference)
                          for p in range(a.shape[1])]) if a.shape[1] else np.zeros((0, 2, 2))
        excluded = int(((a < 0) | (b < 0)).sum())
        levels = (*LEVELS, *extra)
        if per_code:
            counts, codes, summary = stack, coding.labels, "per code"
        else:
            counts, codes, summary = stack.sum(0), None, "pooled kappa"
    attrs = {
        "stream": ",".join(map(str, stream)) if isinstance(stream, list | tuple) else
        str(stream),
        "kind": coding.kind,
        "summary": summary,
        "tolerance": tolerance,
        "reference": reference,
        "uncoded": uncoded,
        "n_units": int(coding.session.size),
        "n_excluded": excluded,
        "unit": unit_attr,
    }
    ds = _dataset(np.asarray(counts, dtype=float), levels, ci_prob, attrs, codes)
    if summary == "pooled kappa":
        for name in ("se", "se0", "ci_low", "ci_high", "z", "p"):
            ds.attrs[name] = float("nan")
    return ds
