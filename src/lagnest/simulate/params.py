"""Parameters of the generative model: frozen dataclasses with documented defaults.

Every effect and rate of :func:`lagnest.simulate.simulate` is a field here. Defaults follow
the plausible magnitudes of ``DOMAIN.md`` (5-minute segments); the presets in
:mod:`lagnest.simulate` change only what differs (``turns``, ``null``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RUPTURE_TARGETS = ("withdrawal", "confrontation")


@functools.cache
def _float_fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, holds a tuple) of the fields of ``cls`` annotated ``float`` or a float tuple."""
    out = []
    for name, hint in typing.get_type_hints(cls).items():
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if hint is float:
            out.append((name, False))
        elif typing.get_origin(hint) is tuple and args and all(a is float for a in args):
            out.append((name, True))
    return tuple(out)


def _check_numbers(params: Any) -> None:
    """Raise when a ``float`` field (or float tuple) of ``params`` holds a non-number.

    A string or null from a truth file, a bool, NaN or infinity: the field, the class and
    the value are named.
    """
    for name, many in _float_fields(type(params)):
        value = getattr(params, name)
        if many and not isinstance(value, tuple | list):
            values: Any = None  # a scalar where a tuple belongs
        else:
            values = value if many else (value,)
        if values is None or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                for v in values):
            kind = "a tuple of finite numbers" if many else "a finite number"
            raise ValueError(f"{type(params).__name__}: {name} must be {kind}, got {value!r}")


def _check_probabilities(name: str, values: tuple[float, ...]) -> None:
    """Raise when any value is outside (0, 1)."""
    bad = [v for v in values if not 0 < v < 1]
    if bad:
        raise ValueError(f"{name} must be probabilities in (0, 1), got {bad}")


@dataclass(frozen=True)
class LagEffect:
    """Effect of a mindfulness-in-action indicator at ``t - lag`` on an outcome at ``t``.

    Parameters
    ----------
    given : str
        An indicator code of the ``mia`` stream, e.g. ``"MIA4"``.
    target : str
        ``"withdrawal"`` or ``"confrontation"`` (rupture effects) or the name of a strategy
        family (``"immediate"``, ``"exploratory"``, ``"other"``) for strategy effects.
    lag : int
        Segments between the indicator and the outcome (0 = same segment).
    log_odds : float
        Change of the outcome's log odds when the indicator is present (centred: see
        Notes of :class:`Ruptures`).
    """

    given: str
    target: str
    lag: int
    log_odds: float

    def __post_init__(self) -> None:
        _check_numbers(self)
        if self.lag < 0:
            raise ValueError(f"LagEffect {self.given}->{self.target}: lag {self.lag} < 0")


@dataclass(frozen=True)
class Design:
    """How many dyads, sessions and segments.

    Parameters
    ----------
    n_dyads : int, default 6
        Therapist-patient dyads (the thesis had 6).
    sessions_per_dyad : (int, int), default (6, 10)
        Inclusive range; each dyad draws its number of sessions uniformly.
    segments_per_session : (int, int), default (10, 10)
        Inclusive range; ten 5-minute segments make a 50-minute session.
    unit : str, default "5-minute segment"
        What a segment is (documentation only).
    """

    n_dyads: int = 6
    sessions_per_dyad: tuple[int, int] = (6, 10)
    segments_per_session: tuple[int, int] = (10, 10)
    unit: str = "5-minute segment"

    def __post_init__(self) -> None:
        _check_numbers(self)
        if self.n_dyads < 1:
            raise ValueError(f"n_dyads must be >= 1, got {self.n_dyads}")
        for name in ("sessions_per_dyad", "segments_per_session"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"{name} must be (lo, hi) with 1 <= lo <= hi, got {(lo, hi)}")


@dataclass(frozen=True)
class Mindfulness:
    """Therapist trait and state mindfulness, the TMS items and the MIA process.

    Parameters
    ----------
    state_trait_loading : float, default 0.6
        State mindfulness (standardised) is ``loading * trait + sqrt(1 - loading^2) * noise``,
        so trait explains 36% of session-to-session variance.
    state_trend : float, default 0.0
        Change of state mindfulness (SD units) per session number (optional session effect).
    subscale_loading : float, default 0.8
        Loading of the latent TMS curiosity and decentering scores on state mindfulness.
    tms_item_mean : float, default 2.4
        Mean item response (0-4 scale) at average state mindfulness.
    tms_item_loading : float, default 0.7
        Item response points per SD of the item's subscale latent score.
    tms_item_sd : float, default 0.6
        Item-specific noise (response points) before rounding to 0..4.
    mia_prevalence : tuple of 8 float
        Probability of MIA1..MIA8 in a segment at average presence (latent 0). Default
        ``(.60, .25, .45, .35, .40, .20, .50, .30)``: attunement and warmth common,
        metacommunication and decentering rarer.
    mia_loading : float, default 1.0
        Log-odds of every indicator per SD of the latent mindful presence: indicators
        co-occur because they share it.
    mia_state_effect : float, default 0.5
        Session mean of the latent presence per SD of state mindfulness.
    mia_autocorrelation : float, default 0.6
        Lag-1 autocorrelation of the latent presence across segments (AR(1)): indicators
        persist.
    """

    state_trait_loading: float = 0.6
    state_trend: float = 0.0
    subscale_loading: float = 0.8
    tms_item_mean: float = 2.4
    tms_item_loading: float = 0.7
    tms_item_sd: float = 0.6
    mia_prevalence: tuple[float, ...] = (0.60, 0.25, 0.45, 0.35, 0.40, 0.20, 0.50, 0.30)
    mia_loading: float = 1.0
    mia_state_effect: float = 0.5
    mia_autocorrelation: float = 0.6

    def __post_init__(self) -> None:
        _check_numbers(self)
        for name in ("state_trait_loading", "subscale_loading"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not -1 < self.mia_autocorrelation < 1:
            raise ValueError(
                f"mia_autocorrelation must be in (-1, 1), got {self.mia_autocorrelation}"
            )
        _check_probabilities("mia_prevalence", self.mia_prevalence)


@dataclass(frozen=True)
class Ruptures:
    """Patient rupture markers (3RS W1-W7, C1-C7) and their significance ratings.

    Parameters
    ----------
    withdrawal_rate : float, default 0.25
        Probability of a withdrawal marker for a typical dyad and session (dyad and session
        deviations 0, previous segment at its average). Between-dyad spread and persistence
        raise the corpus-wide share to about .29 (DOMAIN.md: 20-35% of 5-minute segments).
    confrontation_rate : float, default 0.07
        The same for confrontation; corpus-wide share about .10 (DOMAIN.md: 5-12%).
    dyad_sd_withdrawal, dyad_sd_confrontation : float, default 0.6, 0.7
        SD of the dyad baselines on the logit scale: strong between-dyad differences
        (withdrawal in roughly 17-40% of segments across the middle 95% of dyads).
    dyad_correlation : float, default 0.3
        Correlation of a dyad's withdrawal and confrontation baselines.
    session_sd : float, default 0.3
        SD of session deviations (logit scale, shared by both families).
    persistence_withdrawal, persistence_confrontation : float, default 0.8
        Log odds added when the same family was present at ``t - 1`` (episodes span segments).
    rupture_state_effect : float, default 0.0
        Log odds per SD of state mindfulness (the thesis found none).
    rupture_to_mia : float, default 0.0
        Feedback from ruptures to mindfulness: log odds added to every MIA indicator at
        ``t + 1`` when the segment ``t`` held a rupture (withdrawal or confrontation). With
        it, MIA at ``t`` carries information about the rupture process (its past, and the
        session's rupture level) even when no MIA effect exists: the confounding that a
        model's history terms and group intercepts must absorb.
    session_confounder_sd : float, default 0.0
        SD of a latent session state (a "difficult session") that raises both the MIA
        presence (in SD units of the latent presence) and both rupture logits by the same
        amount. Sessions with more ruptures then also show more mindfulness indicators,
        whatever the MIA effects: between-session confounding.
    co_occurrence : float, default 0.0
        Log odds ratio of withdrawal and confrontation within a segment, given everything
        else: 0 draws the two families independently; positive values make segments with
        both more frequent than independence implies (an intense rupture shows markers of
        both kinds), negative values rarer. The log odds of the segment's four states
        against none are ``e_W``, ``e_C`` and ``e_W + e_C + co_occurrence``: the
        multinomial logit of a rupture regression, whose ``both`` intercept carries it.
    rupture_effects : tuple of LagEffect
        MIA effects; default MIA4 (non-reactivity) at ``t - 1`` lowers confrontation
        (-0.8), MIA1 (attunement) at ``t - 1`` lowers withdrawal (-0.5) and MIA2
        (metacommunication) at ``t - 1`` raises confrontation (+0.4).
    withdrawal_weights, confrontation_weights : tuple of 7 float
        Relative frequency of each marker (W1..W7, C1..C7) as the segment's main marker.
    extra_marker_prob : float, default 0.05
        Probability of each further marker of the same family in a segment with a rupture.
    significance_withdrawal, significance_confrontation : float, default 2.3, 3.1
        Mean 1-5 significance of a segment with withdrawal or confrontation markers
        (confrontation is rated more significant); a segment with both gets the larger
        plus 0.5.
    significance_sd : float, default 0.8
        Rater noise before rounding to 1..5.

    Notes
    -----
    The log odds of family ``f`` in segment ``t`` of session ``s`` of dyad ``d`` is::

        logit(rate_f) + u_fd + v_s + state_effect * state_s
            + sum_k beta_k * (MIA_k[t - lag_k] - prevalence_k)
            + persistence_f * (F[t - 1] - rate_f) + z_s

    with ``z_s`` the latent session state (``session_confounder_sd``; it also shifts the MIA
    presence of the session), and MIA indicators at ``t`` drawn with ``rupture_to_mia``
    added to their log odds after a rupture at ``t - 1``.
    Effects are centred on the nominal prevalences, so ``expit(logit(rate_f) + u_fd)`` is
    close to dyad ``d``'s rate (exactly so without persistence and session spread). Terms whose lag
    reaches before the session's first segment are 0. A segment with a rupture gets one
    main marker drawn by the weights plus extra markers.
    """

    withdrawal_rate: float = 0.25
    confrontation_rate: float = 0.07
    dyad_sd_withdrawal: float = 0.6
    dyad_sd_confrontation: float = 0.7
    dyad_correlation: float = 0.3
    session_sd: float = 0.3
    persistence_withdrawal: float = 0.8
    persistence_confrontation: float = 0.8
    rupture_state_effect: float = 0.0
    rupture_to_mia: float = 0.0
    session_confounder_sd: float = 0.0
    co_occurrence: float = 0.0
    rupture_effects: tuple[LagEffect, ...] = (
        LagEffect("MIA4", "confrontation", 1, -0.8),
        LagEffect("MIA1", "withdrawal", 1, -0.5),
        LagEffect("MIA2", "confrontation", 1, 0.4),
    )
    withdrawal_weights: tuple[float, ...] = (0.10, 0.22, 0.15, 0.22, 0.10, 0.11, 0.10)
    confrontation_weights: tuple[float, ...] = (0.12, 0.25, 0.15, 0.05, 0.15, 0.18, 0.10)
    extra_marker_prob: float = 0.05
    significance_withdrawal: float = 2.3
    significance_confrontation: float = 3.1
    significance_sd: float = 0.8

    def __post_init__(self) -> None:
        _check_numbers(self)
        _check_probabilities("rupture rates", (self.withdrawal_rate, self.confrontation_rate))
        if self.session_confounder_sd < 0:
            raise ValueError(
                f"session_confounder_sd must be >= 0, got {self.session_confounder_sd}")
        if not -1 <= self.dyad_correlation <= 1:
            raise ValueError(f"dyad_correlation must be in [-1, 1], got {self.dyad_correlation}")
        for e in self.rupture_effects:
            if e.target not in RUPTURE_TARGETS:
                raise ValueError(
                    f"rupture effect {e.given}->{e.target}: target must be one of {RUPTURE_TARGETS}"
                )

    def rate(self, family: str) -> float:
        """Nominal rate of ``"withdrawal"`` or ``"confrontation"``."""
        return getattr(self, f"{family}_rate")

    def persistence(self, family: str) -> float:
        """Persistence log odds of ``"withdrawal"`` or ``"confrontation"``."""
        return getattr(self, f"persistence_{family}")


@dataclass(frozen=True)
class StrategyFamily:
    """A family of resolution strategies (3RS R-codes) and when it occurs.

    Parameters
    ----------
    name : str
        ``"immediate"``, ``"exploratory"`` or ``"other"``.
    codes : tuple of str
        Its strategy codes.
    weights : tuple of float
        Relative frequency of each code as the segment's main strategy.
    rate : float
        Probability in a segment without a rupture at ``t`` or ``t - 1``.
    after_rupture : float
        Log odds added when a rupture is present in the same segment (lag 0).
    after_rupture_lag1 : float
        Log odds added when a rupture was present in the previous segment (lag 1).
    """

    name: str
    codes: tuple[str, ...]
    weights: tuple[float, ...]
    rate: float
    after_rupture: float
    after_rupture_lag1: float

    def __post_init__(self) -> None:
        _check_numbers(self)
        if len(self.codes) != len(self.weights) or not self.codes:
            raise ValueError(f"strategy family {self.name!r}: one weight per code needed")
        _check_probabilities(f"rate of strategy family {self.name!r}", (self.rate,))


@dataclass(frozen=True)
class Resolution:
    """Therapist resolution strategies following ruptures.

    Parameters
    ----------
    families : tuple of StrategyFamily
        Default: immediate (R1, R2, R3, R10; rate .03, +2.5 after a rupture at lag 0,
        +1.5 at lag 1), exploratory (R4-R8; rate .012, +2.4 and +1.4, so that immediate
        strategies occur in about twice as many segments: DOMAIN.md) and other (R9, R0;
        rate .005, +1.5 and +1.0).
    extra_strategy_prob : float, default 0.05
        Probability of each further code of the family in a segment where it occurs.
    strategy_effects : tuple of LagEffect
        Weak MIA effects (thesis: resolution was hard to predict): MIA2 at ``t`` raises
        exploratory strategies (+0.3), MIA4 at ``t`` raises immediate ones (+0.2).

    Notes
    -----
    Families occur independently given ruptures and MIA indicators; a segment can hold
    several (the derived ``resolution`` stream calls that ``mixed``). MIA effects are
    centred on the nominal MIA prevalences, as for ruptures.
    """

    families: tuple[StrategyFamily, ...] = (
        StrategyFamily(
            "immediate", ("R1", "R2", "R3", "R10"), (0.3, 0.2, 0.25, 0.25), 0.03, 2.5, 1.5
        ),
        StrategyFamily(
            "exploratory",
            ("R4", "R5", "R6", "R7", "R8"),
            (0.35, 0.15, 0.1, 0.15, 0.25),
            0.012,
            2.4,
            1.4,
        ),
        StrategyFamily("other", ("R9", "R0"), (0.6, 0.4), 0.005, 1.5, 1.0),
    )
    extra_strategy_prob: float = 0.05
    strategy_effects: tuple[LagEffect, ...] = (
        LagEffect("MIA2", "exploratory", 0, 0.3),
        LagEffect("MIA4", "immediate", 0, 0.2),
    )

    def __post_init__(self) -> None:
        _check_numbers(self)
        names = [f.name for f in self.families]
        for e in self.strategy_effects:
            if e.target not in names:
                raise ValueError(
                    f"strategy effect {e.given}->{e.target}: target must be one of {names}"
                )


@dataclass(frozen=True)
class Outcomes:
    """Session outcomes: SEQ items (1-7) and 3RS session globals (1-5).

    Parameters
    ----------
    seq_means : tuple of 4 float, default (5.2, 4.7, 5.0, 3.7)
        Means of depth, smoothness, positivity and arousal (DOMAIN.md).
    seq_sd : float, default 1.0
        SD of each subscale's true score across sessions.
    seq_dyad_share : float, default 0.25
        Share of that variance between dyads.
    seq_state_effects : tuple of 4 float, default (0.0, 0.0, 0.3, -0.2)
        Standardised effects of state mindfulness on depth, smoothness, positivity and
        arousal: post-session mood depends on it, the session evaluation does not (the
        thesis's pattern; the arousal sign, a calmer patient, is a choice).
    unresolved_confrontation_effect : float, default -0.25
        Smoothness points per confrontation segment without a strategy at ``t`` or ``t + 1``.
    seq_item_sd : float, default 0.7
        Item noise (points) before rounding to 1..7.
    contribution_state_effect : float, default -0.3
        Effect of state mindfulness (points per SD) on the therapist-contribution global.
    rrs_sd : float, default 0.5
        Rater noise of the 3RS globals before rounding to 1..5.

    Notes
    -----
    Item ``i`` of subscale ``j`` is ``round(true_j + noise)`` clipped to 1..7, stored as
    ``8 - x`` when reverse-keyed; items in no subscale (SEQ 11) follow depth. 3RS globals:
    overall significance = mean significance of rupture segments + 0.3 log(1 + n) + noise
    (1 without ruptures); therapist contribution = 1.8 + 0.15 per confrontation segment +
    ``contribution_state_effect * state`` + noise (1 without ruptures); resolution extent =
    1 + 4 x share of rupture segments followed by a strategy at ``t`` or ``t + 1`` + noise
    (missing without ruptures).
    """

    seq_means: tuple[float, ...] = (5.2, 4.7, 5.0, 3.7)
    seq_sd: float = 1.0
    seq_dyad_share: float = 0.25
    seq_state_effects: tuple[float, ...] = (0.0, 0.0, 0.3, -0.2)
    unresolved_confrontation_effect: float = -0.25
    seq_item_sd: float = 0.7
    contribution_state_effect: float = -0.3
    rrs_sd: float = 0.5

    def __post_init__(self) -> None:
        _check_numbers(self)
        if len(self.seq_means) != 4 or len(self.seq_state_effects) != 4:
            raise ValueError(
                "seq_means and seq_state_effects need 4 values (depth, smoothness, "
                "positivity, arousal)"
            )
        left = 1 - self.seq_dyad_share - max(b * b for b in self.seq_state_effects)
        if not 0 <= self.seq_dyad_share < 1 or left < 0:
            raise ValueError("seq_dyad_share + state effect^2 must stay below 1")


@dataclass(frozen=True)
class SimulationParams:
    """All parameters of :func:`lagnest.simulate.simulate`, by level.

    Parameters
    ----------
    design : Design
    mindfulness : Mindfulness
    ruptures : Ruptures
    resolution : Resolution
    outcomes : Outcomes

    Examples
    --------
    >>> from lagnest.simulate import SimulationParams
    >>> p = SimulationParams().replace(n_dyads=20, persistence_withdrawal=0.0)
    >>> p.design.n_dyads, p.ruptures.persistence_withdrawal
    (20, 0.0)
    """

    design: Design = field(default_factory=Design)
    mindfulness: Mindfulness = field(default_factory=Mindfulness)
    ruptures: Ruptures = field(default_factory=Ruptures)
    resolution: Resolution = field(default_factory=Resolution)
    outcomes: Outcomes = field(default_factory=Outcomes)

    def replace(self, **overrides: Any) -> SimulationParams:
        """Return a copy with fields replaced.

        Parameters
        ----------
        **overrides
            A section name (``design=Design(...)`` or ``design={"n_dyads": 20}``) or any field
            of a section by its (unique) name (``n_dyads=20``).

        Returns
        -------
        SimulationParams
        """
        sections = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        owner = {f.name: name for name, sec in sections.items() for f in dataclasses.fields(sec)}
        changes: dict[str, dict[str, Any]] = {name: {} for name in sections}
        for key, value in overrides.items():
            if key in sections:
                if isinstance(value, Mapping):
                    changes[key].update(value)
                else:
                    sections[key] = value
            elif key in owner:
                changes[owner[key]][key] = value
            else:
                raise TypeError(
                    f"unknown simulation parameter {key!r}; expected a section "
                    f"({', '.join(sections)}) or one of {sorted(owner)}"
                )
        return SimulationParams(
            **{name: dataclasses.replace(sec, **changes[name]) for name, sec in sections.items()}
        )

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (JSON-ready) of every parameter."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimulationParams:
        """Inverse of :meth:`to_dict`."""
        return _from_plain(cls, data)


def _from_plain(tp: Any, value: Any) -> Any:
    """Rebuild a (nested) dataclass or tuple of type ``tp`` from JSON-ready data."""
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{k: _from_plain(hints[k], v) for k, v in value.items()})
    origin = typing.get_origin(tp)
    if origin is tuple and isinstance(value, list | tuple):  # (else the class names it)
        args = typing.get_args(tp)
        inner = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if inner is not None:
            return tuple(_from_plain(inner, v) for v in value)
        return tuple(_from_plain(a, v) for a, v in zip(args, value, strict=True))
    return value
