"""Design of a lagged regression: predictor terms -> sources, features and columns.

A *term* is what the user writes: an indicator code (``"MIA4"``), an indicator stream
(``"mia"`` -> MIA1..MIA8), a categorical stream (``"rupture"``, dummy-coded against its
first code), one code of a categorical stream (``"withdrawal"``), a stream-qualified code
(``"p_vocal:silent"``, needed when two streams share a label), or an interaction of those
joined by ``":"`` (``"MIA4:withdrawal"``; a ``stream:code`` pair stays one part). Each
term becomes one *feature* (a 0/1 column) per lag and level. A *source* is a categorical
spec read once by the pattern kernel (:func:`lagnest.classical.patterns.pattern_counts`), named by
its short label (the bare code unless two streams share it); a feature is the product of
indicators ``source code == level`` at one lag. Session and dyad covariates are further columns.

Everything here is NumPy on labels and codes; the model builds its graph from the
resulting arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, product
from typing import Any

import numpy as np
import pandas as pd

from lagnest.errors import LagnestDataError

__all__ = ["Feature", "design_columns", "history_lags", "lag_suffix", "pattern_lags",
           "resolve_terms", "split_term", "standardise_covariates"]


def lag_suffix(lag: int) -> str:
    """``"[t]"`` for lag 0, ``"[t-2]"`` for lag 2."""
    return "[t]" if lag == 0 else f"[t-{lag}]"


@dataclass(frozen=True)
class Feature:
    """One design column.

    Attributes
    ----------
    name : str
        Label, e.g. ``"MIA4[t-1]"`` or ``"rupture=withdrawal[t-1]"``.
    kind : {"sequence", "session", "dyad"}
        Where its values come from.
    term : str
        The user's term (or covariate name) that produced it.
    lag_index : int
        Position of its lag in the model's lags (-1 for covariates).
    factors : tuple of (int, int)
        ``(source index, level)`` pairs whose indicators multiply (sequence features).
    group : str
        Shrinkage group (an indicator stream at one lag), "" for none.
    history : bool
        Whether the column is the target's own past (``history=True``).
    """

    name: str
    kind: str
    term: str
    lag_index: int = -1
    factors: tuple[tuple[int, int], ...] = ()
    group: str = ""
    history: bool = False

    @property
    def is_interaction(self) -> bool:
        """Whether the feature multiplies several indicators."""
        return len(self.factors) > 1


def _resolve(seqs: Any, part: str) -> Any:
    """``seqs.resolve_code(part)`` with the error naming the predictor."""
    try:
        return seqs.resolve_code(part)
    except LagnestDataError as err:
        raise LagnestDataError(f"predictor {part!r}: {err}") from None


def _alternatives(seqs: Any, part: str, sources: list[str]) -> tuple[list[list[tuple]], str]:
    """Resolve one part of a term into lists of (source, level, label) and a group name."""
    def source(spec: str) -> int:
        if spec not in sources:
            sources.append(spec)
        return sources.index(spec)

    ref = _resolve(seqs, part)
    if ref.is_set:  # a whole indicator stream: one column per indicator, one group
        _, names = seqs.indicator_matrix(ref.stream)
        refs = [seqs.resolve_code(f"{ref.stream}:{n}") for n in names]
        return [[(source(r.label), 1, r.label)] for r in refs], ref.label
    codes = seqs.streams[ref.stream].codes
    if ref.code is None:  # a categorical stream, dummy-coded against its first code
        idx = source(ref.stream)
        return [[(idx, j, f"{ref.label}={c}")] for j, c in enumerate(codes) if j > 0], ""
    if ref.kind == "categorical":  # one code of a categorical stream: that level
        return [[(source(ref.stream), ref.index, f"{ref.stream}={ref.code}")]], ""
    return [[(source(ref.label), 1, ref.label)]], ""  # an indicator code


def split_term(seqs: Any, term: str) -> list[str]:
    """Parts of an interaction term; ``stream:code`` pairs stay together.

    ``"MIA4:withdrawal"`` is an interaction of two parts; ``"p_vocal:silent"`` is one
    stream-qualified code (``p_vocal`` is a stream and ``silent`` one of its codes);
    ``"p_vocal:silent:t_vocal:verbal"`` interacts two qualified codes.
    """
    tokens = [t.strip() for t in term.split(":")]
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        stream = seqs.streams.get(tokens[i])
        if stream is not None and i + 1 < len(tokens) and tokens[i + 1] in stream.codes:
            parts.append(f"{tokens[i]}:{tokens[i + 1]}")
            i += 2
        else:
            parts.append(tokens[i])
            i += 1
    return parts


def history_lags(lags: Sequence[int]) -> tuple[int, ...]:
    """Lags of the target's own past: every lag from 1 to ``max(lags)`` (at least 1).

    The history must cover every lag up to the longest one: with ``lags=[2]`` alone the
    state at t-1, which carries most of the target's persistence, would be left out and
    its effect would load on whatever predictor at t-2 correlates with it.
    """
    return tuple(range(1, max(max(lags, default=1), 1) + 1))


def pattern_lags(lags: Sequence[int], history: bool) -> tuple[int, ...]:
    """Lags of the pattern table: the predictors' ``lags``, then any history lag not in them."""
    extra = [lag for lag in history_lags(lags) if lag not in lags] if history else []
    return (*(int(lag) for lag in lags), *extra)


def resolve_terms(
    seqs: Any,
    terms: Sequence[str],
    lags: Sequence[int],
    target: str,
    history: bool,
) -> tuple[list[str], list[Feature]]:
    """Sources for the pattern kernel and the sequence features of the terms.

    Parameters
    ----------
    seqs : Sequences
        The corpus (used to resolve names only).
    terms : sequence of str
        The predictor terms (see module docstring).
    lags : sequence of int
        The predictors' lags; every term enters once per lag.
    target : str
        The target spec (no predictor may read it at lag 0).
    history : bool
        Enter the target as a categorical term at every lag of :func:`history_lags`
        (its own past, 1 to ``max(lags)``).

    Returns
    -------
    sources : list of str
        Distinct categorical specs, in order of first use.
    features : list of Feature
        One per term, level and lag (history first). ``lag_index`` indexes
        :func:`pattern_lags`.
    """
    sources: list[str] = []
    resolved: list[tuple[str, list[list[tuple]], str]] = []
    if history:  # the target's own codes, as the target reads them, dummy-coded
        _, labels = seqs.categorical(target)
        sources.append(target)
        resolved.append((target, [[(0, j, f"{target}={c}")] for j, c in enumerate(labels)
                                  if j > 0], ""))
    seen: set[str] = {target} if history else set()
    for term in terms:
        if not isinstance(term, str) or not term.strip():
            raise LagnestDataError(f"a predictor must be a non-empty string, got {term!r}")
        if term in seen:
            continue
        seen.add(term)
        parts = split_term(seqs, term)
        options = []
        group = ""
        for part in parts:
            alts, part_group = _alternatives(seqs, part, sources)
            options.append(alts)
            group = part_group if len(parts) == 1 else ""
        combos = [list(chain.from_iterable(combo)) for combo in product(*options)]
        resolved.append((term, combos, group))
    features: list[Feature] = []
    target_stream = seqs.resolve_code(target).stream
    reads_target = {i for i, src in enumerate(sources)
                    if seqs.resolve_code(src).stream == target_stream}
    all_lags = pattern_lags(lags, history)
    if history:
        _, combos, _ = resolved.pop(0)
        for lag in history_lags(lags):
            for combo in combos:
                (s, level, label), = combo
                features.append(Feature(label + lag_suffix(lag), "sequence", target,
                                        all_lags.index(lag), ((s, level),), "", True))
    for lag_index, lag in enumerate(lags):
        for term, combos, group in resolved:
            for combo in combos:
                if lag == 0 and any(s in reads_target for s, _, _ in combo):
                    raise LagnestDataError(
                        f"predictor {term!r} at lag 0 is the target itself; use it at lags "
                        ">= 1 (history=True already does)"
                    )
                factors = tuple(sorted({(s, level) for s, level, _ in combo}))
                if len({s for s, _ in factors}) < len(factors):
                    continue  # two levels of one source never co-occur: an empty column
                label = ":".join(lbl for _, _, lbl in combo) + lag_suffix(lag)
                features.append(Feature(label, "sequence", term, lag_index, factors,
                                        f"{group}{lag_suffix(lag)}" if group else ""))
    names = [f.name for f in features]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LagnestDataError(
            f"predictors produce the same column twice ({', '.join(dupes)}): list each "
            "predictor once (the target's own past enters by default with history=True)"
        )
    return sources, features


def design_columns(patterns: np.ndarray, features: Sequence[Feature]) -> np.ndarray:
    """0/1 columns of the sequence features for rows of codes.

    Parameters
    ----------
    patterns : ndarray of int, shape (R, n_lags, F)
        Source codes of each row at each lag (as in
        :class:`lagnest.classical.patterns.PatternTable`).
    features : sequence of Feature
        Sequence features (covariate features are ignored).

    Returns
    -------
    ndarray of float64, shape (R, n_sequence_features)
    """
    seq = [f for f in features if f.kind == "sequence"]
    out = np.ones((patterns.shape[0], len(seq)))
    for j, feature in enumerate(seq):
        for source, level in feature.factors:
            out[:, j] *= patterns[:, feature.lag_index, source] == level
    return out


def standardise_covariates(frame: pd.DataFrame, names: Sequence[str], what: str,
                           index_labels: Sequence[str], scale: np.ndarray | None = None,
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Numeric columns z-scored over the rows (or with a given mean/SD ``scale``).

    Raise naming missing or non-numeric values.
    """
    out = np.zeros((len(index_labels), len(names)))
    result = np.zeros((2, len(names)))
    for j, name in enumerate(names):
        if name not in frame.columns:
            available = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
            raise LagnestDataError(
                f"unknown {what} covariate {name!r}; numeric {what} columns: {available}"
            )
        values = pd.to_numeric(frame[name].reindex(index_labels), errors="coerce")
        bad = values[values.isna()]
        if len(bad):
            raise LagnestDataError(
                f"{what} covariate {name!r} is missing or not numeric for {what}s "
                f"{list(bad.index)[:5]}{' ...' if len(bad) > 5 else ''}; the model needs a "
                "value for every one"
            )
        v = values.to_numpy(dtype=float)
        if scale is not None:
            out[:, j] = (v - scale[0, j]) / scale[1, j]
            continue
        sd = v.std()
        if not sd > 0:
            raise LagnestDataError(f"{what} covariate {name!r} is constant: it cannot be used")
        out[:, j] = (v - v.mean()) / sd
        result[:, j] = (v.mean(), sd)
    return out, (scale if scale is not None else result)
