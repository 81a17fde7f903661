"""Wampold's tests of dominance (asymmetry in predictability), with O'Connor's conventions.

Parallel dominance compares i -> j with j -> i (is B's behaviour more predictable from
A's than A's from B's?), nonparallel dominance compares i -> j with k -> l; both after
Wampold (1984, 1989) as O'Connor's LagSeq programs and their R port ``LagSequential``
compute them: the case type, the transformed kappa, its z and p.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import special

from lagnest._version import __version__
from lagnest.classical.lagtable import _units, count_table
from lagnest.classical.statistics import _safe_divide, _scalar
from lagnest.classical.wampold import _block_end_codes
from lagnest.errors import LagnestDataError

if TYPE_CHECKING:
    from lagnest.data.sequences import Sequences

__all__ = [
    "DOMINANCE_CASES",
    "dominance_arrays",
    "dominance_table",
    "dominance_test",
    "nonparallel_dominance_arrays",
]

#: Wampold's (1989) case types: the direction of the two transitions compared
#: (``{0}`` -> ``{1}`` and ``{2}`` -> ``{3}``; for parallel dominance j -> i).
DOMINANCE_CASES = {
    -1: "undefined (a code never occurs)",
    0: "{0} -> {1} occurs exactly as often as expected",
    1: "{0} increases {1} and {2} increases {3}",
    2: "{0} decreases {1} and {2} decreases {3}",
    3: "{0} increases {1} and {2} decreases {3}",
    4: "{0} decreases {1} and {2} increases {3}",
}
_KINDS = ("parallel", "nonparallel")


# =========================================================================== array layer


def _case_types(f1: np.ndarray, e1: np.ndarray, f2: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """Wampold's case of two transitions (observed f, expected e), as O'Connor decides it.

    Case 0 when the first transition is exactly at its expectation; otherwise its direction
    and the second's, a second transition exactly at its expectation counting as opposite.
    """
    up = np.where(f2 <= e2, 3, 1)
    down = np.where(f2 >= e2, 4, 2)
    return np.where(f1 > e1, up, np.where(f1 < e1, down, 0))


def _z_and_p(obs, ett, var, kappa, case, defined, tails) -> dict[str, np.ndarray]:
    """The z of a dominance count (signed by kappa, as O'Connor prints it) and its p."""
    raw = _safe_divide(obs - ett, np.sqrt(np.where(var > 0, var, np.nan)))
    sign = np.where(case > 0, np.sign(kappa), 0.0)
    nan = np.nan
    return {"dom_counts": np.where(defined, obs, nan),
            "dom_expected": np.where(defined, ett, nan),
            "dom_variance": np.where(defined, var, nan),
            "case": np.where(defined, case, -1).astype(np.int64),
            "kappa": np.where(defined, kappa, nan) + 0.0,  # + 0.0: no -0 in printouts
            "z": np.where(defined, raw * sign, nan) + 0.0,
            "p": np.where(defined, tails * special.ndtr(-np.abs(raw)), nan)}


def dominance_arrays(
    freqs: np.ndarray, code_freqs: np.ndarray, n: Any, tails: int = 1
) -> dict[str, np.ndarray]:
    """Parallel dominance of every cell of ``(..., K, K)`` tables; see :func:`dominance_table`.

    ``code_freqs`` ``(..., K)`` are the code frequencies :math:`n_i` and ``n`` ``(...)``
    the number of events; returns ``expected`` and the dominance arrays (``dom_counts``,
    ``dom_expected``, ``dom_variance``, ``case``, ``kappa``, ``z``, ``p``) on the shape of
    ``freqs``, cell (i, j) comparing i -> j with j -> i.
    """
    f = np.asarray(freqs, dtype=float)
    nr = np.asarray(code_freqs, dtype=float)
    n = np.asarray(n, dtype=float)[..., None, None]
    ni, nj = nr[..., :, None], nr[..., None, :]
    prow = _safe_divide(nr, nr.sum(-1, keepdims=True))[..., None, :]
    defined = (ni > 0) & (nj > 0)
    ft = np.swapaxes(f, -1, -2)
    e = ni * nj / n
    low = np.minimum(ni, nj)
    case = _case_types(f, e, ft, e)
    diff, total = f - ft, f + ft - 2 * e
    up3 = _safe_divide(total, low - e)
    down4 = _safe_divide(total, -e)
    kappa = np.select(
        [case == 1, case == 2, case == 3, case == 4],
        [_safe_divide(diff, low - e), _safe_divide(diff, -e),
         np.where(up3 < 0, _safe_divide(total, e), up3),
         np.where(down4 < 0, _safe_divide(total, e - low), down4)],
        0.0)
    gap = _safe_divide(f / np.where(ni > 0, ni, np.nan) - prow, prow)
    gap_t = np.swapaxes(gap, -1, -2)
    same = ((gap >= 0) & (gap_t >= 0)) | ((gap <= 0) & (gap_t <= 0))
    obs = np.where(same, diff, f + ft)
    ett = np.where(same, 0.0, 2 * ni * nj / n)
    var = np.where(same, 2 * ni * nj * (n - ni - nj + 1) / (n * (n - 1)),
                   2 * ni * nj * (ni * nj + (n - ni) * (n - nj) - n) / (n**2 * (n - 1)))
    out = {"expected": np.where(defined, e, np.nan)}
    out.update(_z_and_p(obs, ett, var, kappa, case, defined, tails))
    return out


def nonparallel_dominance_arrays(
    freqs: np.ndarray,
    code_freqs: np.ndarray,
    n: Any,
    first: tuple[int, int],
    second: tuple[int, int],
    tails: int = 1,
) -> dict[str, np.ndarray]:
    """Nonparallel dominance of ``first`` (i, j) over ``second`` (k, l) in ``(..., K, K)``.

    Arguments as in :func:`dominance_arrays`; returns ``expected`` ``(..., 2)`` (of the
    two transitions) and the dominance values on the leading shape. See
    :func:`dominance_test` for the formulas.
    """
    f = np.asarray(freqs, dtype=float)
    nr = np.asarray(code_freqs, dtype=float)
    n = np.asarray(n, dtype=float)
    (i, j), (k, h) = first, second
    f1, f2 = f[..., i, j], f[..., k, h]
    ni, nj, nk, nl = nr[..., i], nr[..., j], nr[..., k], nr[..., h]
    total = nr.sum(-1)
    pj, pl = _safe_divide(nj, total), _safe_divide(nl, total)
    defined = (ni > 0) & (nj > 0) & (nk > 0) & (nl > 0)
    e1, e2 = ni * nj / n, nk * nl / n
    prod = ni * nj * nk * nl / n
    max1, max2 = nk * nl * np.minimum(ni, nj) - prod, ni * nj * np.minimum(nk, nl) - prod
    case = _case_types(f1, e1, f2, e2)
    diff = nk * nl * f1 - ni * nj * f2
    total2 = nk * nl * f1 + ni * nj * f2 - 2 * prod
    k1 = _safe_divide(diff, max1)
    k3 = _safe_divide(total2, max1)
    k4 = _safe_divide(total2, -prod)
    # Case 3 switches denominators when kappa == 0, case 1 and 4 when kappa < 0: both as
    # in LagSequential 0.1.1 (paradom switches case 3 when kappa < 0).
    kappa = np.select(
        [case == 1, case == 2, case == 3, case == 4],
        [np.where(k1 < 0, _safe_divide(diff, max2), k1), _safe_divide(diff, -prod),
         np.where(k3 == 0, _safe_divide(total2, prod), k3),
         np.where(k4 < 0, _safe_divide(total2, prod - ni * nj * np.minimum(nk, nl)), k4)],
        0.0)
    gap1 = _safe_divide(_safe_divide(f1, ni) - pj, pj)
    gap2 = _safe_divide(_safe_divide(f2, nk) - pl, pl)
    same = ((gap1 >= 0) & (gap2 >= 0)) | ((gap1 <= 0) & (gap2 <= 0))
    obs = np.where(same, diff, nk * nl * f1 + ni * nj * f2)
    ett = np.where(same, 0.0, 2 * prod)
    four = ni * nj * nk * nl
    var_same = four * (n * ni * nj + n * nk * nl - ni * nj * nk - ni * nj * nl - ni * nk * nl
                       - nj * nk * nl) / (n * (n - 1))
    var_diff = four * (4 * four + n**2 * ni * nj + n**2 * nk * nl - n * ni * nj * nk
                       - n * ni * nj * nl - n * ni * nk * nl - n * nj * nk * nl) / (n**2 * (n - 1))
    var = np.where(same, var_same, var_diff)
    out = {"expected": np.stack([np.where(defined, e1, np.nan), np.where(defined, e2, np.nan)],
                                axis=-1)}
    out.update(_z_and_p(obs, ett, var, kappa, case, defined, tails))
    return out


# =========================================================================== labelled layer


def _check_tails(tails: Any) -> int:
    """Validate ``tails``."""
    if tails not in (1, 2) or isinstance(tails, bool):
        raise LagnestDataError(f"tails must be 1 or 2, got {tails!r}")
    return int(tails)


_DOMINANCE_VARIABLES = ("dom_counts", "dom_expected", "dom_variance", "case", "kappa", "z", "p")


def dominance_table(counts: Any, code_freqs: Any = None, tails: int = 1) -> xr.Dataset:
    r"""Parallel dominance of every pair of codes of a square lag table.

    Parameters
    ----------
    counts : array-like or xarray.DataArray, shape (K, K)
        Lag table of one stream (rows given, columns target, the same codes).
    code_freqs : array-like, shape (K,), optional
        Code frequencies :math:`n_i`; default, as O'Connor's programs do for a
        frequency-matrix input, the row totals with :math:`n = N + 1`.
    tails : {1, 2}, default 1
        p-values are ``tails * (1 - Phi(|z|))`` (O'Connor's default is one-tailed).

    Returns
    -------
    xarray.Dataset
        On ``(given, target)``, cell (i, j) comparing i -> j with j -> i: ``counts``,
        ``expected``, ``dom_counts``, ``dom_expected``, ``dom_variance``, ``case``,
        ``kappa``, ``z``, ``p``; ``code_freqs`` on ``given``; attrs ``n``, ``tails``,
        ``kind``. The diagonal is trivial (kappa 0, z 0).

    See Also
    --------
    dominance_test : parallel or nonparallel dominance of codes of a
        :class:`~lagnest.data.sequences.Sequences` (formulas in its Notes).

    Examples
    --------
    >>> import numpy as np
    >>> ds = dominance_table(np.array([[2, 9], [3, 6]]), code_freqs=[11, 10])
    >>> ds.case.values
    array([[2, 3],
           [4, 1]])
    >>> round(float(ds.kappa[0, 1]), 4), round(float(ds.z[0, 1]), 4)
    (0.32, 0.684)
    """
    tails = _check_tails(tails)
    if isinstance(counts, xr.DataArray):
        labels = [list(counts[d].values) if d in counts.coords else list(range(s))
                  for d, s in zip(counts.dims, counts.shape, strict=True)]
        f = np.asarray(counts.values)
    else:
        f = np.asarray(counts)
        labels = [list(range(s)) for s in f.shape]
    if f.ndim != 2 or f.shape[0] != f.shape[1]:
        raise LagnestDataError(f"dominance needs a square K x K table, got shape {f.shape}")
    if np.any(f < 0) or not np.all(np.isfinite(f)):
        raise LagnestDataError("counts must be finite and non-negative")
    if code_freqs is None:
        nr = f.sum(1).astype(float)
        n = nr.sum() + 1
    else:
        nr = np.asarray(code_freqs, dtype=float)
        if nr.shape != (f.shape[0],) or np.any(nr < 0):
            raise LagnestDataError(f"code_freqs must be {f.shape[0]} non-negative numbers, "
                                   f"got {code_freqs!r}")
        n = nr.sum()
    arrays = dominance_arrays(f, nr, n, tails)
    dims = ("given", "target")
    ds = xr.Dataset({"counts": (dims, f), **{k: (dims, v) for k, v in arrays.items()}},
                    coords={"given": labels[0], "target": labels[1]})
    ds["code_freqs"] = ("given", nr)
    ds.attrs.update(n=float(n), tails=tails, kind="parallel", lagnest_version=__version__)
    return ds


def _categorical_code(seqs: Sequences, spec: Any) -> tuple[str, int, str]:
    """(stream, code index, label) of a code of a categorical stream."""
    if not isinstance(spec, str):
        raise LagnestDataError(f"a code must be a string such as 'withdrawal' or "
                               f"'stream:code', got {spec!r}")
    ref = seqs.resolve_code(spec)
    if ref.kind != "categorical" or ref.code is None:
        raise LagnestDataError(f"dominance compares codes of one categorical stream; {spec!r} "
                               f"names {'a stream' if ref.code is None else 'an indicator'}")
    return ref.stream, int(ref.index), ref.label


def _transitions(kind: str, a: Any, b: Any) -> list[tuple[Any, Any]]:
    """The two (given, target) transitions compared."""
    if kind not in _KINDS:
        raise LagnestDataError(f"kind must be one of {_KINDS}, got {kind!r}")
    if kind == "parallel":
        if not isinstance(a, str) or not isinstance(b, str):
            raise LagnestDataError(f"parallel dominance compares two codes a -> b and b -> a; "
                                   f"give two codes, got a={a!r}, b={b!r}")
        return [(a, b), (b, a)]
    pairs = []
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
            raise LagnestDataError(f"nonparallel dominance compares two transitions; {name} "
                                   f"must be a (given, target) pair of codes, got {value!r}")
        pairs.append(tuple(value))
    return pairs


def _code_freqs(seqs: Sequences, stream: str, counts: np.ndarray, by: str | None) -> np.ndarray:
    """:math:`n_i`: row totals plus the blocks ending in code i, per unit (see wampold_kappa)."""
    codes = np.asarray(seqs.categorical(stream)[0])
    k = counts.shape[-1]
    offsets = seqs.encoded.block_offsets
    if by is None:
        return counts.sum(-1) + _block_end_codes(codes, offsets, k)
    block_unit, labels = _units(seqs, by)
    segment_unit = np.repeat(block_unit, np.diff(np.asarray(offsets)))
    ends = [_block_end_codes(np.where(segment_unit == u, codes, -1), offsets, k)
            for u in range(len(labels))]
    return counts.sum(-1) + np.stack(ends)


def dominance_test(
    seqs: Sequences,
    a: Any,
    b: Any,
    lag: int = 1,
    kind: str = "parallel",
    by: str | None = None,
    tails: int = 1,
) -> xr.Dataset:
    r"""Wampold's test of dominance: which of two transitions is the more predictable.

    Parameters
    ----------
    seqs : Sequences
        The data: one categorical stream holding both partners' codes (e.g. therapist and
        patient behaviours coded in one sequence of events).
    a, b : str, or (str, str)
        Parallel: two codes A and B (A -> B is compared with B -> A). Nonparallel: two
        transitions ``a = (i, j)`` and ``b = (k, l)`` (i -> j is compared with k -> l).
        Codes are those of one categorical stream (``"stream:code"`` where ambiguous).
    lag : int, default 1
        Lag of the transitions.
    kind : {"parallel", "nonparallel"}, default "parallel"
        The test.
    by : {None, "session", "dyad"}
        One test per session or dyad along ``unit`` (default: the pooled table).
    tails : {1, 2}, default 1
        p-values are ``tails * (1 - Phi(|z|))`` (O'Connor's default is one-tailed).

    Returns
    -------
    xarray.Dataset
        On ``transition`` (the two transitions compared, with coordinates ``given`` and
        ``target``): ``counts``, ``expected``, ``given_freq`` and ``target_freq``
        (:math:`n_i`, :math:`n_j`). ``case``, ``kappa``, ``z``, ``p``, ``dom_counts``,
        ``dom_expected``, ``dom_variance`` are attrs (with ``case_description``), or
        variables over ``unit`` with ``by``; attrs also ``kind``, ``stream``, ``lag``,
        ``n`` (or a variable over ``unit``), ``tails``. A positive kappa says the first
        transition dominates: A's influence on B (or i's on j) is the stronger; ``p`` says
        how surely (the sign of ``z`` is not the direction, see Notes).

    Raises
    ------
    LagnestDataError
        For an unknown ``kind``, codes that are not codes of one categorical stream, or
        ``a``/``b`` of the wrong form for ``kind``.

    See Also
    --------
    dominance_table : parallel dominance of every pair of codes of a lag table.
    lagnest.wampold_kappa : Wampold's kappa of single transitions.

    Notes
    -----
    As in O'Connor's programs (the R port ``LagSequential`` 0.1.1, ``paradom`` and
    ``nonparadom``), after Wampold (1984, 1989). With :math:`n` events, code frequencies
    :math:`n_i` (the row totals plus one per block ending in code i, so :math:`n = N + 1`
    for one sequence, as in :func:`lagnest.wampold_kappa`), lag counts :math:`f_{ij}` and
    :math:`e_{ij} = n_i n_j / n`:

    *Case type* (Wampold 1989) of the transitions i -> j and k -> l (parallel:
    k -> l = j -> i): 1 when both occur more often than expected (i increases j and k
    increases l), 2 when both occur less often, 3 when i -> j is above and k -> l at or
    below its expectation, 4 when i -> j is below and k -> l at or above; 0 when
    :math:`f_{ij} = e_{ij}` exactly.

    *Parallel dominance* with :math:`m = \min(n_i, n_j)`, :math:`e = e_{ij} = e_{ji}`:

    .. math::

        \kappa = \begin{cases}
        (f_{ij} - f_{ji}) / (m - e) & \text{case 1} \\
        (f_{ij} - f_{ji}) / (-e) & \text{case 2} \\
        (f_{ij} + f_{ji} - 2e) / (m - e), \text{ or } / e \text{ if negative} & \text{case 3} \\
        (f_{ij} + f_{ji} - 2e) / (-e), \text{ or } / (e - m) \text{ if negative}
        & \text{case 4}
        \end{cases}

    The z test uses the direction of the two deviations :math:`f_{ij} - e_{ij}` and
    :math:`f_{ji} - e_{ji}` (through :math:`(f_{ij}/n_i - p_j)/p_j`, :math:`p_j = n_j /
    \sum n`): in the same direction, :math:`D = f_{ij} - f_{ji}` with mean 0 and
    :math:`\sigma^2 = 2 n_i n_j (n - n_i - n_j + 1) / (n(n-1))`; in opposite directions,
    :math:`D = f_{ij} + f_{ji}` with mean :math:`2 n_i n_j / n` and
    :math:`\sigma^2 = 2 n_i n_j (n_i n_j + (n - n_i)(n - n_j) - n) / (n^2 (n-1))`
    (Wampold & Margolin 1982).

    *Nonparallel dominance*, with :math:`\Pi = n_i n_j n_k n_l / n`: in cases 1 and 2
    :math:`D = n_k n_l f_{ij} - n_i n_j f_{kl}` (mean 0), in cases 3 and 4
    :math:`D = n_k n_l f_{ij} + n_i n_j f_{kl}` (mean :math:`2\Pi`), and

    .. math::

        \kappa = \begin{cases}
        D / (n_k n_l m_{ij} - \Pi), \text{ or } D / (n_i n_j m_{kl} - \Pi)
        \text{ if negative} & \text{case 1} \\
        D / (-\Pi) & \text{case 2} \\
        (D - 2\Pi) / (n_k n_l m_{ij} - \Pi) & \text{case 3} \\
        (D - 2\Pi) / (-\Pi), \text{ or } (D - 2\Pi) / (\Pi - n_i n_j m_{kl})
        \text{ if negative} & \text{case 4}
        \end{cases}

    with :math:`m_{ij} = \min(n_i, n_j)`; the z test again takes :math:`D` by the
    directions of the two deviations, with variance
    :math:`n_i n_j n_k n_l (n n_i n_j + n n_k n_l - n_i n_j n_k - n_i n_j n_l - n_i n_k n_l
    - n_j n_k n_l) / (n(n-1))` in the same direction and
    :math:`n_i n_j n_k n_l (4 n_i n_j n_k n_l + n^2 n_i n_j + n^2 n_k n_l - n n_i n_j n_k
    - n n_i n_j n_l - n n_i n_k n_l - n n_j n_k n_l) / (n^2 (n-1))` otherwise.

    As O'Connor prints them, ``z`` is :math:`(D - E[D])/\sigma` times the sign of kappa,
    and :math:`p = \text{tails}\,(1 - \Phi(|z|))`. So z is :math:`+|z|` in cases 1 and 3,
    where kappa has the sign of :math:`D - E[D]`, and :math:`-|z|` in cases 2 and 4, where
    kappa divides it by a negative number: the sign of z is not the direction of
    dominance (read that from kappa). In case 0, z is 0 but p is that of D, so it can be
    small. Two more details follow the R code: the case-3 nonparallel kappa keeps its
    first denominator when negative (``nonparadom`` switches when kappa is exactly 0,
    ``paradom`` when it is negative), and when a deviation is exactly 0 the direction test
    of z (:math:`\ge 0`, :math:`\le 0`) can take the same-direction branch while the case
    type is 3 or 4 (HNeu -> HPos in LagSequential's example). Undefined values (a code
    that never occurs) are NaN with case -1, where O'Connor prints -9999.

    References
    ----------
    .. [1] Wampold, B. E. (1984). Tests of dominance in sequential categorical data.
       *Psychological Bulletin, 96*, 424-429.
    .. [2] Wampold, B. E. (1989). Kappa as a measure of pattern in sequential data.
       *Quality & Quantity, 23*, 171-187.
    .. [3] Wampold, B. E., & Margolin, G. (1982). Nonparametric strategies to test the
       independence of behavioral states in sequential data. *Psychological Bulletin,
       92*, 755-765.
    .. [4] O'Connor, B. P. (1999). Simple and flexible SAS and SPSS programs for analyzing
       lag-sequential categorical data. *Behavior Research Methods, Instruments, &
       Computers, 31*, 718-726.

    Examples
    --------
    >>> from lagnest.data.sequences import Sequences
    >>> seqs = Sequences.from_sequences({"act": [list("abcbabcbcbacbabcab")]})
    >>> res = dominance_test(seqs, "a", "b")
    >>> res.attrs["case_description"]
    'a increases b and b increases a'
    >>> res.attrs["case"], round(res.attrs["kappa"], 4), round(res.attrs["z"], 4)
    (1, 0.36, 0.7984)
    """
    tails = _check_tails(tails)
    transitions = _transitions(kind, a, b)
    resolved = [[_categorical_code(seqs, code) for code in pair] for pair in transitions]
    streams = {code[0] for pair in resolved for code in pair}
    if len(streams) > 1:
        raise LagnestDataError(f"dominance compares codes of one stream; {a!r} and {b!r} "
                               f"belong to the streams {sorted(streams)}")
    stream = streams.pop()
    table = count_table(seqs, stream, stream, lag=lag, by=by)
    f = table.values
    nr = _code_freqs(seqs, stream, f, by)
    n = nr.sum(-1)
    (i, j), (k, h) = [[code[1] for code in pair] for pair in resolved]
    if kind == "parallel":
        full = dominance_arrays(f, nr, n, tails)
        stats = {name: full[name][..., i, j] for name in _DOMINANCE_VARIABLES}
        expected = np.stack([full["expected"][..., i, j], full["expected"][..., j, i]], -1)
    else:
        stats = nonparallel_dominance_arrays(f, nr, n, (i, j), (k, h), tails)
        expected = stats.pop("expected")
    lead = ("unit",) if by is not None else ()
    coords: dict[str, Any] = {"unit": list(table["unit"].values)} if by is not None else {}
    names = [[code[2] for code in pair] for pair in resolved]
    coords["transition"] = [f"{g} -> {t}" for g, t in names]
    coords["given"] = ("transition", [g for g, _ in names])
    coords["target"] = ("transition", [t for _, t in names])
    dims = (*lead, "transition")
    ds = xr.Dataset({
        "counts": (dims, np.stack([f[..., i, j], f[..., k, h]], -1)),
        "expected": (dims, expected),
        "given_freq": (dims, np.stack([nr[..., i], nr[..., k]], -1)),
        "target_freq": (dims, np.stack([nr[..., j], nr[..., h]], -1)),
    }, coords=coords)
    if by is None:
        ds.attrs.update({name: _scalar(stats[name]) for name in _DOMINANCE_VARIABLES})
        words = [*names[0], *names[1]]
        ds.attrs["case_description"] = DOMINANCE_CASES[int(stats["case"])].format(*words)
        ds.attrs["n"] = float(n)
    else:
        for name in _DOMINANCE_VARIABLES:
            ds[name] = (lead, stats[name])
        ds["n"] = (lead, n.astype(float))
    ds.attrs.update(kind=kind, stream=stream, lag=int(lag), by=by or "none", tails=tails,
                    lagnest_version=__version__)
    return ds

