"""The generative steps of :func:`lagnest.simulate.simulate` (arrays in, arrays out).

Segment-level quantities live in padded ``(n_sessions, T_max)`` arrays (``valid`` marks the
real segments) so that every step is vectorised across sessions; only the rupture chain
with persistence loops over segment positions. See the public docstring for the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import expit, logit

from lagnest.data.codebook import Codebook, Questionnaire
from lagnest.simulate.params import (
    RUPTURE_TARGETS,
    Design,
    LagEffect,
    Mindfulness,
    Outcomes,
    Resolution,
    Ruptures,
    SimulationParams,
)

SEQ_SUBSCALES = ("depth", "smoothness", "positivity", "arousal")
RRS_COLUMNS = ("rrs_rupture_significance", "rrs_therapist_contribution", "rrs_resolution_extent")


@dataclass(frozen=True)
class Layout:
    """Nesting of a draw: dyad of each session, session numbers, lengths, padded mask."""

    n_dyads: int
    session_dyad: np.ndarray
    session_number: np.ndarray
    lengths: np.ndarray

    @cached_property
    def valid(self) -> np.ndarray:
        """``(n_sessions, T_max)`` mask of real segments."""
        return np.arange(self.lengths.max())[None, :] < self.lengths[:, None]


@dataclass(frozen=True)
class Draw:
    """Everything one simulation produced (padded segment arrays, per-session values)."""

    layout: Layout
    dyads: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    segments: dict[str, np.ndarray]
    mia: np.ndarray
    markers: np.ndarray
    strategies: np.ndarray
    significance: np.ndarray
    items: dict[str, np.ndarray]


# ---------------------------------------------------------------------- layout and levels
def draw_layout(design: Design, rng: np.random.Generator) -> Layout:
    """Sessions per dyad and segments per session, uniform on their inclusive ranges."""
    lo, hi = design.sessions_per_dyad
    per_dyad = rng.integers(lo, hi + 1, size=design.n_dyads)
    session_dyad = np.repeat(np.arange(design.n_dyads), per_dyad)
    starts = np.repeat(np.cumsum(per_dyad) - per_dyad, per_dyad)
    session_number = np.arange(session_dyad.size) - starts + 1
    lo, hi = design.segments_per_session
    lengths = rng.integers(lo, hi + 1, size=session_dyad.size)
    return Layout(design.n_dyads, session_dyad, session_number, lengths)


def draw_dyads(params: SimulationParams, n_dyads: int, rng: np.random.Generator) -> dict:
    """Trait mindfulness, rupture baselines (correlated logits) and SEQ dyad offsets."""
    r = params.ruptures
    z = rng.standard_normal((3, n_dyads))
    rho = r.dyad_correlation
    out = {
        "trait_mindfulness": z[0],
        "withdrawal_logit": logit(r.withdrawal_rate) + r.dyad_sd_withdrawal * z[1],
        "confrontation_logit": logit(r.confrontation_rate)
        + r.dyad_sd_confrontation * (rho * z[1] + np.sqrt(1 - rho**2) * z[2]),
    }
    o = params.outcomes
    seq = rng.standard_normal((len(SEQ_SUBSCALES), n_dyads))
    for name, row in zip(SEQ_SUBSCALES, seq, strict=True):
        out[f"seq_{name}_dyad"] = o.seq_sd * np.sqrt(o.seq_dyad_share) * row
    return out


def draw_state(
    m: Mindfulness, layout: Layout, trait: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """State mindfulness around the trait, and the latent TMS subscale scores."""
    e = rng.standard_normal((3, layout.session_dyad.size))
    lam = m.state_trait_loading
    state = (
        lam * trait[layout.session_dyad]
        + np.sqrt(1 - lam**2) * e[0]
        + m.state_trend * (layout.session_number - 1)
    )
    sl = m.subscale_loading
    return {
        "state_mindfulness": state,
        "curiosity_latent": sl * state + np.sqrt(1 - sl**2) * e[1],
        "decentering_latent": sl * state + np.sqrt(1 - sl**2) * e[2],
    }


def draw_questionnaire(
    q: Questionnaire,
    latents: dict[str, np.ndarray],
    mean: float,
    loading: float,
    noise_sd: float,
    rng: np.random.Generator,
    default: str,
) -> dict[str, np.ndarray]:
    """Integer item responses: ``round(mean + loading * latent + noise)`` clipped, reversed.

    ``latents`` maps subscale names to per-session latent scores on the item scale's units
    (``mean`` and ``loading`` turn them into points); items in no subscale follow
    ``latents[default]``. Reverse-keyed items are stored as ``min + max - x``.
    """
    owner = {i: sub for sub, idx in q.subscales.items() for i in idx}
    n = next(iter(latents.values())).size
    noise = rng.standard_normal((q.n_items, n))
    out = {}
    for i, col in enumerate(q.item_columns, start=1):
        latent = latents[owner.get(i, default)]
        keyed = np.clip(np.rint(mean + loading * latent + noise_sd * noise[i - 1]), q.min, q.max)
        out[col] = (q.min + q.max - keyed if i in q.reverse else keyed).astype(np.int64)
    return out


# ---------------------------------------------------------------------- segment level
def _ar1(innovations: np.ndarray, phi: float) -> np.ndarray:
    """AR(1) filter along axis 1: ``x[:, t] = phi * x[:, t - 1] + e[:, t]``."""
    out = innovations.copy()
    for t in range(1, out.shape[1]):
        out[:, t] += phi * out[:, t - 1]
    return out


def draw_mia(
    m: Mindfulness, layout: Layout, state: np.ndarray, confounder: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latent mindful presence (AR(1) across segments) and the indicators' draws.

    Returns the session means of the presence, the presence ``(S, T)`` (shifted by the
    latent session state ``confounder`` ``(S,)``), and the log odds ``(S, T, K)`` and
    uniforms ``(S, T, K)`` of the indicators: indicator k is present at t when
    ``u < expit(eta)``, plus any feedback from ruptures (:func:`draw_ruptures`).
    """
    n_sessions, t_max = layout.lengths.size, int(layout.lengths.max())
    phi = m.mia_autocorrelation
    innovations = rng.standard_normal((n_sessions, t_max))
    innovations[:, 1:] *= np.sqrt(1 - phi**2)
    mean = m.mia_state_effect * state
    presence = _ar1(innovations, phi) + mean[:, None] + confounder[:, None]
    prevalence = np.asarray(m.mia_prevalence)
    eta = logit(prevalence)[None, None, :] + m.mia_loading * presence[:, :, None]
    u = rng.random(eta.shape)
    return mean, presence, eta, u


def lag_term(
    indicators: np.ndarray,
    codes: tuple[str, ...],
    prevalence: np.ndarray,
    effects: tuple[LagEffect, ...],
    target: str,
) -> np.ndarray:
    """Sum of centred MIA effects on ``target``: ``beta * (X[t - lag] - prevalence)``."""
    term = np.zeros(indicators.shape[:2])
    for e in effects:
        if e.target != target or e.lag >= term.shape[1]:
            continue
        dev = indicators[:, :, codes.index(e.given)] - prevalence[codes.index(e.given)]
        term[:, e.lag :] += e.log_odds * dev[:, : dev.shape[1] - e.lag]
    return term


def draw_codes(
    events: np.ndarray, weights: tuple[float, ...], extra_prob: float, rng: np.random.Generator
) -> np.ndarray:
    """Codes of a family where it occurs: one main code by ``weights`` plus extras.

    Returns an int8 array of shape ``events.shape + (len(weights),)``.
    """
    k = len(weights)
    out = np.zeros((events.size, k), dtype=np.int8)
    where = np.flatnonzero(events.ravel())
    w = np.asarray(weights, dtype=float)
    main = rng.choice(k, size=where.size, p=w / w.sum())
    out[where] = rng.random((where.size, k)) < extra_prob
    out[where, main] = 1
    return out.reshape(*events.shape, k)


def shift_right(x: np.ndarray, fill: float = 0) -> np.ndarray:
    """``x`` at ``t - 1`` along axis 1 (``fill`` at the first segment)."""
    out = np.full_like(x, fill)
    out[:, 1:] = x[:, :-1]
    return out


def lag_term_at(
    indicators: np.ndarray,
    t: int,
    codes: tuple[str, ...],
    prevalence: np.ndarray,
    effects: tuple[LagEffect, ...],
    target: str,
) -> np.ndarray:
    """:func:`lag_term` at segment position ``t`` only, ``(S,)``."""
    term = np.zeros(indicators.shape[0])
    for e in effects:
        if e.target != target or e.lag > t:
            continue
        k = codes.index(e.given)
        term += e.log_odds * (indicators[:, t - e.lag, k] - prevalence[k])
    return term


def draw_ruptures(
    r: Ruptures,
    layout: Layout,
    dyads: dict[str, np.ndarray],
    state: np.ndarray,
    confounder: np.ndarray,
    mia_eta: np.ndarray,
    mia_u: np.ndarray,
    mia_codes: tuple[str, ...],
    prevalence: np.ndarray,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Withdrawal and confrontation chains, drawn jointly with the MIA indicators.

    Segment by segment (vectorised over sessions): the MIA indicators at ``t`` (their log
    odds ``mia_eta`` plus ``rupture_to_mia`` after a rupture at ``t - 1``), then each
    family at ``t`` with ``logit p_t = eta_t + persistence * (event_{t-1} - rate)`` (no
    persistence term in a session's first segment). Returns events (bool) and the
    probabilities used per family, the session deviations and the indicators (int8).
    """
    session_dev = r.session_sd * rng.standard_normal(layout.lengths.size)
    base = session_dev + r.rupture_state_effect * state + confounder
    u = rng.random((len(RUPTURE_TARGETS), *mia_eta.shape[:2]))
    t_max = mia_eta.shape[1]
    mia = np.zeros(mia_eta.shape, dtype=np.int8)
    events = {f: np.zeros(mia_eta.shape[:2], dtype=bool) for f in RUPTURE_TARGETS}
    probs = {f: np.empty(mia_eta.shape[:2]) for f in RUPTURE_TARGETS}
    intercept = {f: dyads[f"{f}_logit"][layout.session_dyad] + base for f in RUPTURE_TARGETS}
    for t in range(t_max):
        eta_mia = mia_eta[:, t]
        if t and r.rupture_to_mia:
            after = events["withdrawal"][:, t - 1] | events["confrontation"][:, t - 1]
            eta_mia = eta_mia + r.rupture_to_mia * after[:, None]
        mia[:, t] = mia_u[:, t] < expit(eta_mia)
        etas = []
        for family in RUPTURE_TARGETS:
            eta = intercept[family] + lag_term_at(mia, t, mia_codes, prevalence,
                                                  r.rupture_effects, family)
            persistence, rate = r.persistence(family), r.rate(family)
            if persistence != 0:
                previous = events[family][:, t - 1] if t else np.full(eta.shape, rate)
                eta = eta + persistence * (previous - rate)
            etas.append(eta)
        _draw_pair(etas, r.co_occurrence, u[:, :, t], t, events, probs)
    return events, probs, session_dev, mia


def _draw_pair(etas: list[np.ndarray], gamma: float, u: np.ndarray, t: int,
               events: dict[str, np.ndarray], probs: dict[str, np.ndarray]) -> None:
    """Withdrawal and confrontation at ``t`` from their log odds ``etas`` (in place).

    The four states have log odds ``0, e_W, e_C, e_W + e_C + gamma`` against none:
    withdrawal is drawn from its margin and confrontation given it,
    ``expit(e_C + gamma * W)``; ``probs`` keeps each family's margin. With ``gamma`` 0 the
    margin's correction is exactly 0.0, so the draws are the independent events
    ``u < expit(e)`` bit for bit.
    """
    (w, c), (e_w, e_c) = RUPTURE_TARGETS, etas
    # margins: P(W) = expit(e_W + log(1 + e^(e_C + g)) - log(1 + e^e_C)), and alike for C
    probs[w][:, t] = expit(e_w + (np.logaddexp(0, e_c + gamma) - np.logaddexp(0, e_c)))
    probs[c][:, t] = expit(e_c + (np.logaddexp(0, e_w + gamma) - np.logaddexp(0, e_w)))
    events[w][:, t] = u[0] < probs[w][:, t]
    events[c][:, t] = u[1] < expit(e_c + gamma * events[w][:, t])


def draw_significance(
    r: Ruptures, withdrawal: np.ndarray, confrontation: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """1-5 significance of segments with a rupture (NaN elsewhere)."""
    level = np.where(withdrawal, r.significance_withdrawal, r.significance_confrontation)
    both = withdrawal & confrontation
    level = np.where(
        both, max(r.significance_withdrawal, r.significance_confrontation) + 0.5, level
    )
    noise = rng.standard_normal(withdrawal.shape)
    rating = np.clip(np.rint(level + r.significance_sd * noise), 1, 5)
    return np.where(withdrawal | confrontation, rating, np.nan)


def draw_strategies(
    res: Resolution,
    rupture: np.ndarray,
    mia: np.ndarray,
    mia_codes: tuple[str, ...],
    prevalence: np.ndarray,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Strategy families after ruptures at lag 0/1: events, probabilities and codes."""
    previous = shift_right(rupture, False)
    u = rng.random((len(res.families), *rupture.shape))
    events, probs, codes = {}, {}, {}
    for f, fam in enumerate(res.families):
        eta = (
            logit(fam.rate)
            + fam.after_rupture * rupture
            + fam.after_rupture_lag1 * previous
            + lag_term(mia, mia_codes, prevalence, res.strategy_effects, fam.name)
        )
        probs[fam.name] = expit(eta)
        events[fam.name] = u[f] < probs[fam.name]
        codes[fam.name] = draw_codes(events[fam.name], fam.weights, res.extra_strategy_prob, rng)
    return events, probs, codes


# ---------------------------------------------------------------------- session outcomes
def session_counts(
    layout: Layout, withdrawal: np.ndarray, confrontation: np.ndarray, strategy: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-session counts: ruptures, confrontations, and those left unresolved.

    A rupture segment is resolved when any strategy occurs in it or in the next segment of
    the same session.
    """
    valid = layout.valid
    following = np.zeros_like(strategy)
    following[:, :-1] = strategy[:, 1:] & valid[:, 1:]
    resolved = strategy | following
    rupture = (withdrawal | confrontation) & valid
    conf = confrontation & valid
    return {
        "n_withdrawal": (withdrawal & valid).sum(axis=1),
        "n_confrontation": conf.sum(axis=1),
        "n_rupture": rupture.sum(axis=1),
        "n_resolved": (rupture & resolved).sum(axis=1),
        "n_unresolved_confrontation": (conf & ~resolved).sum(axis=1),
    }


def seq_true_scores(
    o: Outcomes,
    layout: Layout,
    dyads: dict[str, np.ndarray],
    state: np.ndarray,
    counts: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """True SEQ subscale scores (1-7 metric): mean + dyad + state effect + residual."""
    e = rng.standard_normal((len(SEQ_SUBSCALES), layout.lengths.size))
    per10 = 10.0 / layout.lengths
    out = {}
    for j, name in enumerate(SEQ_SUBSCALES):
        beta = o.seq_state_effects[j]
        resid_sd = np.sqrt(1 - o.seq_dyad_share - beta**2)
        score = (
            o.seq_means[j]
            + dyads[f"seq_{name}_dyad"][layout.session_dyad]
            + o.seq_sd * (beta * state + resid_sd * e[j])
        )
        if name == "smoothness":
            score = (
                score
                + o.unresolved_confrontation_effect * counts["n_unresolved_confrontation"] * per10
            )
        out[f"seq_{name}_true"] = score
    return out


def draw_rrs(
    o: Outcomes,
    layout: Layout,
    state: np.ndarray,
    counts: dict[str, np.ndarray],
    significance: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """3RS session globals on 1-5 (see Notes of :class:`Outcomes`)."""
    e = o.rrs_sd * rng.standard_normal((3, layout.lengths.size))
    per10 = 10.0 / layout.lengths
    n = counts["n_rupture"]
    has = n > 0
    total_sig = np.where(np.isnan(significance), 0.0, significance).sum(axis=1)
    mean_sig = total_sig / np.maximum(n, 1)
    sig = mean_sig + 0.3 * np.log1p(n * per10) + e[0]
    contribution = (
        1.8 + 0.15 * counts["n_confrontation"] * per10 + o.contribution_state_effect * state + e[1]
    )
    extent = 1 + 4 * counts["n_resolved"] / np.maximum(n, 1) + e[2]

    def rate(x: np.ndarray, empty: float) -> np.ndarray:
        return np.where(has, np.clip(np.rint(x), 1, 5), empty)

    return dict(
        zip(
            RRS_COLUMNS,
            (rate(sig, 1.0), rate(contribution, 1.0), rate(extent, np.nan)),
            strict=True,
        )
    )


# ---------------------------------------------------------------------- the whole draw
def run(params: SimulationParams, book: Codebook, seed: int | None) -> Draw:
    """Run every level of the model with independent child streams of ``seed``."""
    rng = np.random.default_rng(seed)
    # (spawn(8)'s first seven children are spawn(7)'s: the eighth stream, the latent
    # session state, leaves every draw of a corpus without it unchanged)
    g_layout, g_dyad, g_state, g_mia, g_rupt, g_res, g_out, g_conf = rng.spawn(8)
    check_codes(params, book)
    m = params.mindfulness
    layout = draw_layout(params.design, g_layout)
    dyads = draw_dyads(params, layout.n_dyads, g_dyad)
    sessions = draw_state(m, layout, dyads["trait_mindfulness"], g_state)
    state = sessions["state_mindfulness"]
    mia_codes = book.streams["mia"].codes
    prevalence = np.asarray(m.mia_prevalence)
    r = params.ruptures
    confounder = (r.session_confounder_sd * g_conf.standard_normal(layout.lengths.size)
                  if r.session_confounder_sd else np.zeros(layout.lengths.size))
    mean, presence, mia_eta, mia_u = draw_mia(m, layout, state, confounder, g_mia)
    events, rupture_p, session_dev, mia = draw_ruptures(
        r, layout, dyads, state, confounder, mia_eta, mia_u, mia_codes, prevalence, g_rupt
    )
    markers = marker_matrix(params.ruptures, book, events, g_rupt)
    significance = draw_significance(
        params.ruptures, events["withdrawal"], events["confrontation"], g_rupt
    )
    rupture = events["withdrawal"] | events["confrontation"]
    fam_events, fam_p, fam_codes = draw_strategies(
        params.resolution, rupture, mia, mia_codes, prevalence, g_res
    )
    strategies = strategy_matrix(params.resolution, book, fam_codes, rupture.shape)
    any_strategy = np.logical_or.reduce(list(fam_events.values()))
    counts = session_counts(layout, events["withdrawal"], events["confrontation"], any_strategy)
    significance = np.where(layout.valid, significance, np.nan)
    o = params.outcomes
    seq_true = seq_true_scores(o, layout, dyads, state, counts, g_out)
    items = questionnaire_items(params, book, sessions, seq_true, g_out)
    items.update(draw_rrs(o, layout, state, counts, significance, g_out))
    sessions.update(mia_presence_mean=mean, rupture_session_dev=session_dev,
                    session_confounder=confounder, **seq_true, **counts)
    segments = {
        "mindful_presence": presence,
        **{f"p_{k}": v for k, v in rupture_p.items()},
        **{f"p_{k}": v for k, v in fam_p.items()},
    }
    return Draw(layout, dyads, sessions, segments, mia, markers, strategies, significance, items)


def check_codes(params: SimulationParams, book: Codebook) -> None:
    """Every code named by the parameters exists in the codebook, with matching lengths."""
    mia = book.streams["mia"].codes
    if len(params.mindfulness.mia_prevalence) != len(mia):
        raise ValueError(f"mia_prevalence needs {len(mia)} values, one per {mia}")
    effects = params.ruptures.rupture_effects + params.resolution.strategy_effects
    unknown = [e.given for e in effects if e.given not in mia]
    strategies = book.streams["resolution_strategies"].codes
    unknown += [c for f in params.resolution.families for c in f.codes if c not in strategies]
    if unknown:
        raise ValueError(f"unknown codes in simulation parameters: {unknown}")
    for family in RUPTURE_TARGETS:
        n = len(family_codes(book, family))
        if len(getattr(params.ruptures, f"{family}_weights")) != n:
            raise ValueError(f"{family}_weights needs {n} values")


def family_codes(book: Codebook, family: str) -> tuple[str, ...]:
    """Rupture marker codes of ``family`` in codebook order."""
    info = book.streams["rupture_markers"]
    return tuple(c for c in info.codes if info.families.get(c) == family)


def marker_matrix(
    r: Ruptures, book: Codebook, events: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """The ``rupture_markers`` indicator array ``(S, T, 14)`` in codebook order."""
    codes = book.streams["rupture_markers"].codes
    out = np.zeros((*events["withdrawal"].shape, len(codes)), dtype=np.int8)
    for family in RUPTURE_TARGETS:
        cols = [codes.index(c) for c in family_codes(book, family)]
        weights = getattr(r, f"{family}_weights")
        out[:, :, cols] = draw_codes(events[family], weights, r.extra_marker_prob, rng)
    return out


def strategy_matrix(
    res: Resolution,
    book: Codebook,
    fam_codes: dict[str, np.ndarray],
    shape: tuple[int, ...],
) -> np.ndarray:
    """The ``resolution_strategies`` indicator array ``(S, T, 11)`` in codebook order."""
    codes = book.streams["resolution_strategies"].codes
    out = np.zeros((*shape, len(codes)), dtype=np.int8)
    for fam in res.families:
        cols = [codes.index(c) for c in fam.codes]
        out[:, :, cols] |= fam_codes[fam.name]
    return out


def questionnaire_items(
    params: SimulationParams,
    book: Codebook,
    sessions: dict[str, np.ndarray],
    seq_true: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """TMS items (0-4) from the latent subscales and SEQ items (1-7) from true scores."""
    m = params.mindfulness
    tms = draw_questionnaire(
        book.questionnaires["tms"],
        {
            "curiosity": sessions["curiosity_latent"],
            "decentering": sessions["decentering_latent"],
            "state": sessions["state_mindfulness"],
        },
        m.tms_item_mean,
        m.tms_item_loading,
        m.tms_item_sd,
        rng,
        default="state",
    )
    seq = draw_questionnaire(
        book.questionnaires["seq"],
        {name: seq_true[f"seq_{name}_true"] for name in SEQ_SUBSCALES},
        0.0,
        1.0,
        params.outcomes.seq_item_sd,
        rng,
        default=SEQ_SUBSCALES[0],
    )
    return {**tms, **seq}
