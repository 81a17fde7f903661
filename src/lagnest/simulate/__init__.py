"""Generative model of therapy sessions: dyad > session > segment.

:func:`simulate` draws a corpus and returns it as a :class:`~lagnest.Sequences` (codebook
``"3rs_2015+mia+tms+seq"``) with a :class:`Truth` holding every parameter and latent value
used. Presets: :func:`thesis_like` (6 dyads, 6-10 sessions, ten 5-minute segments),
:func:`turns` (speaking turns, ~300 per session) and :func:`null` (no sequential
dependence, for type-I error checks).

Examples
--------
>>> from lagnest import simulate
>>> seqs, truth = simulate.thesis_like(seed=0)
>>> seqs.n_dyads
6
>>> big, _ = simulate.thesis_like(seed=1, n_dyads=60, sessions_per_dyad=(20, 20))
>>> big.n_segments
12000
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from lagnest.data.codebook import Codebook, load_codebook
from lagnest.data.sequences import Sequences, StreamData
from lagnest.simulate._engine import Draw, run
from lagnest.simulate.params import (
    RUPTURE_TARGETS,
    Design,
    LagEffect,
    Mindfulness,
    Outcomes,
    Resolution,
    Ruptures,
    SimulationParams,
    StrategyFamily,
)
from lagnest.simulate.truth import Truth

__all__ = [
    "CODEBOOK",
    "PRESETS",
    "Design",
    "LagEffect",
    "Mindfulness",
    "Outcomes",
    "Resolution",
    "Ruptures",
    "SimulationParams",
    "StrategyFamily",
    "Truth",
    "null",
    "null_params",
    "simulate",
    "thesis_like",
    "thesis_like_params",
    "turns",
    "turns_params",
]

CODEBOOK = "3rs_2015+mia+tms+seq"
TRAIT_COLUMN = "therapist_trait_mindfulness"


def simulate(
    params: SimulationParams | None = None, seed: int | None = 0
) -> tuple[Sequences, Truth]:
    """Simulate coded therapy sessions nested in dyad > session > segment.

    Parameters
    ----------
    params : SimulationParams, optional
        Every rate and effect (default: :class:`SimulationParams` defaults, thesis-like).
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same corpus.

    Returns
    -------
    seqs : Sequences
        Streams ``rupture_markers`` (W1-W7, C1-C7), ``resolution_strategies`` (R0-R10) and
        ``mia`` (MIA1-MIA8), derived ``rupture`` and ``resolution``, rating
        ``significance``; session covariates ``session_number``, ``tms_1..13``,
        ``seq_1..21`` (subscales scored by the codebook) and the ``rrs_*`` globals; dyad
        attribute ``therapist_trait_mindfulness``. Dyads are ``"D1"``, ``"D2"``, ...;
        sessions ``"D1-S01"``, ...
    truth : Truth
        Parameters, latent values per dyad, session and segment, and the implied true
        transition probabilities.

    Notes
    -----
    *Dyad*: therapist trait mindfulness ``tau_d ~ N(0, 1)``; rupture baselines
    ``logit(rate_f) + u_fd`` with ``u_d`` bivariate normal (SDs ``dyad_sd_*``, correlation
    ``dyad_correlation``).

    *Session*: state mindfulness ``m_s = l tau_d + sqrt(1 - l^2) e_s (+ trend)``; latent TMS
    curiosity/decentering load on it and yield 0-4 items (subscales are the codebook's
    sums). Session deviation ``v_s`` of rupture log odds.

    *Segment*: latent mindful presence, AR(1) with autocorrelation ``phi`` around
    ``mia_state_effect * m_s``; MIA_k present with probability
    ``expit(logit(prev_k) + loading * presence)`` (co-occurring and persistent). Withdrawal
    and confrontation events follow the logistic model of :class:`Ruptures` (MIA effects
    at ``t - lag``, dyad and session baselines, persistence), each event gets markers and
    a 1-5 significance. Strategy families (:class:`Resolution`) follow ruptures at lag 0
    and 1, with weak MIA effects.

    *Outcomes*: SEQ true scores with a dyad share and standardised state effects
    (positivity, arousal) and a smoothness penalty for unresolved confrontations; 1-7
    items; 3RS globals (:class:`Outcomes`).

    The draw is vectorised across sessions (only the persistence chain loops over segment
    positions): the model draws 10^6 segments in about a second; validating them into a
    `Sequences` and building the truth frames take a few seconds more
    (``benchmarks/bench_simulate.py``).

    Examples
    --------
    >>> from lagnest.simulate import SimulationParams, simulate
    >>> seqs, truth = simulate(SimulationParams().replace(n_dyads=3), seed=2)
    >>> seqs.n_dyads, list(truth.dyads.index)
    (3, ['D1', 'D2', 'D3'])
    """
    params = params if params is not None else SimulationParams()
    book = _codebook()
    draw = run(params, book, seed)
    labels = _labels(draw)
    seqs = _sequences(draw, book, labels)
    truth = Truth(
        params=params,
        seed=None if seed is None else int(seed),
        codebook=CODEBOOK,
        dyads=_dyad_frame(draw, labels),
        sessions=_session_frame(draw, labels),
        segments=_segment_frame(draw, labels),
        transition_probs=transition_probs(params, draw.dyads, labels[0], book.streams["mia"].codes),
    )
    return seqs, truth


# ---------------------------------------------------------------------- presets
def thesis_like_params(**overrides: Any) -> SimulationParams:
    """Parameters of :func:`thesis_like` (the defaults), with ``overrides``.

    Parameters
    ----------
    **overrides
        See :meth:`SimulationParams.replace`.

    Returns
    -------
    SimulationParams
    """
    return SimulationParams().replace(**overrides)


def turns_params(**overrides: Any) -> SimulationParams:
    """Parameters of :func:`turns`, with ``overrides``.

    Parameters
    ----------
    **overrides
        See :meth:`SimulationParams.replace`.

    Returns
    -------
    SimulationParams

    Notes
    -----
    Segments are speaking turns (280-320 per session). Rates per turn are lower
    (withdrawal .05, confrontation .012, strategies .008/.004/.0015) and episodes span
    several turns (persistence 2.0, presence autocorrelation .95); MIA prevalences are
    60% of the 5-minute values because a turn shows less behaviour.
    """
    base = SimulationParams()
    families = tuple(
        dataclasses.replace(f, rate=r)
        for f, r in zip(base.resolution.families, (0.008, 0.004, 0.0015), strict=True)
    )
    params = base.replace(
        design=Design(6, (6, 10), (280, 320), "speaking turn"),
        mia_prevalence=tuple(0.6 * p for p in base.mindfulness.mia_prevalence),
        mia_autocorrelation=0.95,
        withdrawal_rate=0.05,
        confrontation_rate=0.012,
        persistence_withdrawal=2.0,
        persistence_confrontation=2.0,
        families=families,
    )
    return params.replace(**overrides)


def null_params(base: str = "thesis", **overrides: Any) -> SimulationParams:
    """Parameters of :func:`null`: ``base`` preset with every dependence switched off.

    Parameters
    ----------
    base : {"thesis", "turns"}
        Preset whose design and rates are kept.
    **overrides
        See :meth:`SimulationParams.replace` (applied last).

    Returns
    -------
    SimulationParams

    Notes
    -----
    No between-dyad or between-session differences in rupture rates, no persistence, no
    MIA effects, strategies unrelated to ruptures, MIA presence independent across
    segments and of state mindfulness, no effects on SEQ or 3RS globals. Every stream is
    then i.i.d. across segments (MIA indicators still co-occur within a segment), so lag
    tables at lag >= 1 have independent rows and columns, pooled or not.
    """
    p = PRESETS[base]()
    families = tuple(
        dataclasses.replace(f, after_rupture=0.0, after_rupture_lag1=0.0)
        for f in p.resolution.families
    )
    return p.replace(
        dyad_sd_withdrawal=0.0,
        dyad_sd_confrontation=0.0,
        session_sd=0.0,
        persistence_withdrawal=0.0,
        persistence_confrontation=0.0,
        rupture_state_effect=0.0,
        rupture_effects=(),
        mia_autocorrelation=0.0,
        mia_state_effect=0.0,
        state_trend=0.0,
        families=families,
        strategy_effects=(),
        seq_state_effects=(0.0, 0.0, 0.0, 0.0),
        unresolved_confrontation_effect=0.0,
        contribution_state_effect=0.0,
    ).replace(**overrides)


PRESETS: dict[str, Callable[..., SimulationParams]] = {
    "thesis": thesis_like_params,
    "turns": turns_params,
    "null": null_params,
}


def thesis_like(seed: int | None = 0, **overrides: Any) -> tuple[Sequences, Truth]:
    """A corpus like the founding thesis: 6 dyads, 6-10 sessions, ten 5-minute segments.

    Parameters
    ----------
    seed : int or None, default 0
    **overrides
        Parameter changes, e.g. ``n_dyads=100``; see :meth:`SimulationParams.replace`.

    Returns
    -------
    seqs : Sequences
    truth : Truth

    Examples
    --------
    >>> from lagnest import simulate
    >>> seqs, truth = simulate.thesis_like(seed=0)
    >>> sorted(seqs.streams)[:3]
    ['mia', 'resolution', 'resolution_strategies']
    """
    return simulate(thesis_like_params(**overrides), seed)


def turns(seed: int | None = 0, **overrides: Any) -> tuple[Sequences, Truth]:
    """A turn-coded corpus: 6 dyads, 6-10 sessions, ~300 speaking turns per session.

    Parameters
    ----------
    seed : int or None, default 0
    **overrides
        See :func:`turns_params`.

    Returns
    -------
    seqs : Sequences
    truth : Truth

    Examples
    --------
    >>> from lagnest import simulate
    >>> seqs, _ = simulate.turns(seed=0, n_dyads=1, sessions_per_dyad=(1, 1))
    >>> 280 <= seqs.n_segments <= 320
    True
    """
    return simulate(turns_params(**overrides), seed)


def null(seed: int | None = 0, base: str = "thesis", **overrides: Any) -> tuple[Sequences, Truth]:
    """A corpus without sequential dependence, for type-I error checks.

    Parameters
    ----------
    seed : int or None, default 0
    base : {"thesis", "turns"}
        Design and rates to keep.
    **overrides
        See :func:`null_params`.

    Returns
    -------
    seqs : Sequences
    truth : Truth

    Examples
    --------
    >>> from lagnest import simulate
    >>> seqs, truth = simulate.null(seed=0)
    >>> truth.params.ruptures.rupture_effects
    ()
    """
    return simulate(null_params(base, **overrides), seed)


# ---------------------------------------------------------------------- assembly
@functools.cache
def _codebook() -> Codebook:
    """The simulation codebook, loaded once (codebooks are immutable)."""
    return load_codebook(CODEBOOK)


def _labels(draw: Draw) -> tuple[list[str], list[str]]:
    """Dyad labels ``D1..`` and globally unique session labels ``D1-S01..``."""
    layout = draw.layout
    dyads = [f"D{i + 1}" for i in range(layout.n_dyads)]
    width = max(2, len(str(int(layout.session_number.max()))))
    sessions = [
        f"{dyads[d]}-S{n:0{width}d}"
        for d, n in zip(layout.session_dyad.tolist(), layout.session_number.tolist(), strict=True)
    ]
    return dyads, sessions


def _sequences(draw: Draw, book: Codebook, labels: tuple[list[str], list[str]]) -> Sequences:
    """Flatten the padded arrays into a validated `Sequences`."""
    dyads, sessions = labels
    layout = draw.layout
    valid = layout.valid
    lengths = layout.lengths
    streams = {
        name: StreamData("indicator", book.streams[name].codes, values[valid])
        for name, values in (
            ("rupture_markers", draw.markers),
            ("resolution_strategies", draw.strategies),
            ("mia", draw.mia),
        )
    }
    covariates = pd.DataFrame(
        {"session_number": layout.session_number, **draw.items},
        index=pd.Index(sessions, name="session"),
    )
    attributes = pd.DataFrame(
        {TRAIT_COLUMN: np.round(draw.dyads["trait_mindfulness"], 2)},
        index=pd.Index(dyads, name="dyad"),
    )
    return Sequences.from_arrays(
        sessions=sessions,
        dyads=[dyads[d] for d in layout.session_dyad],
        lengths=lengths,
        streams=streams,
        segment_numbers=segment_numbers(lengths),
        ratings={"significance": draw.significance[valid]},
        session_covariates=covariates,
        dyad_attributes=attributes,
        codebook=book,
    )


def _dyad_frame(draw: Draw, labels: tuple[list[str], list[str]]) -> pd.DataFrame:
    """Truth per dyad."""
    frame = pd.DataFrame(draw.dyads, index=pd.Index(labels[0], name="dyad"))
    for family in RUPTURE_TARGETS:
        frame[f"{family}_rate"] = expit(frame[f"{family}_logit"])
    return frame


def _session_frame(draw: Draw, labels: tuple[list[str], list[str]]) -> pd.DataFrame:
    """Truth per session."""
    dyads, sessions = labels
    layout = draw.layout
    head = {
        "dyad": [dyads[d] for d in layout.session_dyad],
        "session_number": layout.session_number,
    }
    return pd.DataFrame({**head, **draw.sessions}, index=pd.Index(sessions, name="session"))


def segment_numbers(lengths: np.ndarray) -> np.ndarray:
    """Segment numbers ``1..T`` of each session, concatenated."""
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum())) - offsets + 1


def _segment_frame(draw: Draw, labels: tuple[list[str], list[str]]) -> pd.DataFrame:
    """Truth per segment: latent presence and the probabilities used."""
    lengths = draw.layout.lengths
    valid = draw.layout.valid
    session = np.repeat(np.asarray(labels[1], dtype=object), lengths)
    frame = pd.DataFrame({"session": session, "segment": segment_numbers(lengths)})
    for name, values in draw.segments.items():
        frame[name] = values[valid]
    return frame


def transition_probs(
    params: SimulationParams,
    dyads: dict[str, np.ndarray],
    dyad_labels: list[str],
    mia_codes: tuple[str, ...],
) -> pd.DataFrame:
    """True conditional probabilities implied by each sequential effect.

    Parameters
    ----------
    params : SimulationParams
    dyads : dict of str to array
        Per-dyad latent values (``withdrawal_logit``, ``confrontation_logit``).
    dyad_labels : list of str
    mia_codes : tuple of str
        Codes of the ``mia`` stream, in the order of ``mia_prevalence``.

    Returns
    -------
    DataFrame
        See :attr:`Truth.transition_probs`.
    """
    r = params.ruptures
    prevalence = dict(zip(mia_codes, params.mindfulness.mia_prevalence, strict=True))
    rows = []
    units = [("population", {f: logit(r.rate(f)) for f in RUPTURE_TARGETS})] + [
        (lab, {f: dyads[f"{f}_logit"][i] for f in RUPTURE_TARGETS})
        for i, lab in enumerate(dyad_labels)
    ]
    for unit, base in units:
        for e in r.rupture_effects:
            c = prevalence[e.given]
            rows.append((unit, e.given, e.target, e.lag, base[e.target], -c, e.log_odds))
        for f in RUPTURE_TARGETS:
            rows.append((unit, f, f, 1, base[f], -r.rate(f), r.persistence(f)))
    for fam in params.resolution.families:
        b = logit(fam.rate)
        rows.append(("population", "rupture", fam.name, 0, b, 0.0, fam.after_rupture))
        rows.append(("population", "rupture", fam.name, 1, b, 0.0, fam.after_rupture_lag1))
        for e in params.resolution.strategy_effects:
            if e.target == fam.name:
                c = prevalence[e.given]
                rows.append(("population", e.given, e.target, e.lag, b, -c, e.log_odds))
    frame = pd.DataFrame(
        rows, columns=["unit", "given", "target", "lag", "base", "centre", "log_odds_ratio"]
    )
    frame["p_absent"] = expit(frame["base"] + frame["log_odds_ratio"] * frame["centre"])
    frame["p_present"] = expit(frame["base"] + frame["log_odds_ratio"] * (1 + frame["centre"]))
    return frame[["unit", "given", "target", "lag", "p_absent", "p_present", "log_odds_ratio"]]
