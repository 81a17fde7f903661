"""Which grouping levels a corpus can identify, and how each level is parameterised.

Every model checks its grouping against the data before building (:func:`check_grouping`):
with a single dyad the dyad level is not estimable, and when every dyad has a single
session the session and dyad deviations cannot be told apart. The model then drops or
merges that level and records why in :class:`GroupStructure`, which its summary prints.

:func:`choose_parameterization` picks the centred or non-centred form of a level's
deviations from how much data each group carries (Betancourt & Girolami 2015).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lagnest._lang import translate

__all__ = [
    "GroupStructure",
    "check_grouping",
    "choose_parameterization",
    "deviation_sd_estimate",
]

#: Information x plausible-small variance above which a level is sampled centred: the
#: data must outweigh the hierarchy four times over (posterior SD of a group's deviation at
#: most half the lowered scale). At 1.0 a public corpus of 10 dyads x 900 one-second
#: segments (a rare category, p = 0.075) was sampled centred and diverged (10-13 of 4000
#: draws) where the non-centred form had none.
CENTRED_ABOVE = 4.0


@dataclass(frozen=True)
class GroupStructure:
    """Grouping levels used by a fit, why, and their parameterisation.

    Everything a user reads about a fit (headers, ``levels``, reports, predictive checks)
    follows this structure, not the ``pooling`` asked for: a level merged or dropped here
    is not offered by the result's answers.

    Attributes
    ----------
    dyad, session : bool
        Whether the dyad / session-within-dyad level is modelled.
    notes : tuple of str
        Sentences saying what was dropped or merged and why (empty when nothing was).
    parameterization : dict
        Level name to ``"centered"`` or ``"noncentered"``.
    removed : dict
        Levels asked for but not fitted, to a short reason (``{"session": "merged: every
        dyad has one session"}``); empty when every requested level was fitted.
    """

    dyad: bool
    session: bool
    notes: tuple[str, ...] = ()
    parameterization: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)

    @property
    def levels(self) -> tuple[str, ...]:
        """Modelled grouping levels, outermost first."""
        return tuple(name for name, on in (("dyad", self.dyad), ("session", self.session)) if on)

    def levels_text(self, lang: str = "en") -> str:
        """The levels fitted, in words, with what was merged or dropped and why.

        E.g. ``"dyad and session"``, ``"dyad (the session level merged: every dyad has one
        session)"``, ``"none"``. ``lang="es"`` names the levels in Spanish (the reasons
        stay as recorded).
        """
        names = [translate(f"level.{level}", lang) for level in self.levels]
        text = translate("and", lang).join(names) or translate("none", lang)
        if lang == "en":
            why = [f"the {level} level {reason}" for level, reason in self.removed.items()]
        else:
            why = [f"{translate(f'level.{level}', lang)}: {reason}"
                   for level, reason in self.removed.items()]
        if why:
            return f"{text} ({'; '.join(why)})"
        if not self.levels and not self.notes:
            return translate("levels.pooled", lang)
        return text

    def new_groups(self, lang: str = "en") -> str:
        """What a population answer averages over: ``"new dyads and sessions"``, ... or ""."""
        key = {("dyad", "session"): "groups.both", ("dyad",): "groups.dyad",
               ("session",): "groups.session"}.get(self.levels)
        return translate(key, lang) if key else ""

    def why(self, level: str) -> str:
        """Why ``level`` is not fitted: the notes about it (or its short reason)."""
        notes = [n for n in self.notes if f"{level} level" in n]
        if notes:
            return "; ".join(notes)
        if level in self.removed:
            return f"the {level} level {self.removed[level]}"
        return f"the {level} level is not part of this fit"

    def describe(self) -> str:
        """One line: the levels fitted and their parameterisation."""
        return "; ".join(self._level_lines())

    def lines(self, lang: str = "en") -> list[str]:
        """Header lines of a summary: the levels fitted, their parameterisation, the notes."""
        note = translate("head.note", lang)
        return self._level_lines(lang) + [f"{note}{n}" for n in self.notes]

    def _level_lines(self, lang: str = "en") -> list[str]:
        out = [translate("head.levels", lang) + self.levels_text(lang)]
        forms = [f"{name} {form}" if lang == "en" else
                 f"{_level_name(name, lang)} {_form_name(form, lang)}"
                 for name, form in self.parameterization.items()]
        if forms:
            out.append(translate("head.param", lang) + ", ".join(forms))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "dyad": self.dyad,
            "session": self.session,
            "notes": list(self.notes),
            "parameterization": dict(self.parameterization),
            "removed": dict(self.removed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupStructure:
        """Inverse of :meth:`to_dict` (results saved before ``removed`` have none)."""
        return cls(
            bool(data["dyad"]),
            bool(data["session"]),
            tuple(data.get("notes", ())),
            dict(data.get("parameterization", {})),
            dict(data.get("removed", {})),
        )


def check_grouping(
    session_dyad: np.ndarray,
    dyad_labels: tuple[str, ...] | list[str],
    session_has_data: np.ndarray,
    want_dyad: bool,
    want_session: bool,
) -> GroupStructure:
    """Decide which of the requested levels the data can identify.

    Parameters
    ----------
    session_dyad : ndarray of int, shape (n_sessions,)
        Dyad index of each session.
    dyad_labels : sequence of str
        Dyad labels (for the notes).
    session_has_data : ndarray of bool, shape (n_sessions,)
        Sessions that contribute observations to the likelihood.
    want_dyad, want_session : bool
        Levels the user asked for.

    Returns
    -------
    GroupStructure
        ``dyad`` is dropped when fewer than two dyads have data; ``session`` is merged
        into ``dyad`` when no dyad has two sessions with data (with a single dyad, the
        sessions stay as the only grouping level). Each change adds a note and an entry
        of ``removed``.
    """
    session_dyad = np.asarray(session_dyad, dtype=np.int64)
    has = np.asarray(session_has_data, dtype=bool)
    per_dyad = np.bincount(session_dyad[has], minlength=len(dyad_labels))
    dyads_with_data = np.flatnonzero(per_dyad > 0)
    dyad, session = want_dyad, want_session
    notes: list[str] = []
    removed: dict[str, str] = {}
    if want_dyad and dyads_with_data.size < 2:
        dyad = False
        removed["dyad"] = ("dropped: only one dyad has data" if dyads_with_data.size
                           else "dropped: no dyad has data")
        which = ", ".join(dyad_labels[i] for i in dyads_with_data) or "none"
        notes.append(
            f"only one dyad has data ({which}): the dyad level is not estimable and was "
            "dropped, so sessions vary around this dyad's mean"
        )
    if want_session and dyad and per_dyad.max(initial=0) < 2:
        session = False
        removed["session"] = "merged: every dyad has one session"
        notes.append(
            "every dyad has a single session with data: session and dyad deviations cannot "
            "be told apart, so the session level was merged into the dyad level"
        )
    if want_session and session and not dyad and has.sum() < 2:
        session = False
        removed["session"] = "dropped: a single session has data"
        notes.append("a single session has data: the session level is not estimable and "
                     "was dropped, so no grouping level is left")
    if dyad and session:
        single = [dyad_labels[i] for i in dyads_with_data if per_dyad[i] == 1]
        if single:
            shown = ", ".join(single[:5]) + (f" and {len(single) - 5} more" if len(single) > 5
                                             else "")
            notes.append(
                f"dyads with a single session ({shown}) separate their session and dyad "
                "deviations only through the other dyads"
            )
    return GroupStructure(dyad, session, tuple(notes), removed=removed)


def deviation_sd_estimate(
    counts: np.ndarray, parent: np.ndarray, rotation: np.ndarray | None = None
) -> float | np.ndarray:
    r"""Moment estimate of the SD of group logits around their parent's (for the choice).

    Parameters
    ----------
    counts : ndarray, shape (G, K, M)
        Counts per group, row and outcome category.
    parent : ndarray of int, shape (G,)
        Parent of each group (e.g. the dyad of each session; all 0 for dyads).
    rotation : ndarray, shape (K, K), optional
        Orthonormal rotation across the K rows (e.g. row mean and row contrasts): then
        one SD per rotated row component is returned.

    Returns
    -------
    float or ndarray of shape (K,)
        :math:`\hat\sigma = \sqrt{\max(0, \overline{(l_g - l_p)^2} - \bar v)}` with
        :math:`l` the row-centred empirical logits ``log(count + 0.5)`` of a group and of
        its parent (rotated across rows when ``rotation`` is given), and
        :math:`v = 1/(count + 0.5)` their approximate sampling variance, averaged over
        the cells of non-empty rows (of groups whose rows all have data, with a rotation).
        A rough, cheap estimate: it only decides how the sampler sees a level, never what
        is estimated.
    """
    counts = np.asarray(counts, dtype=float)
    parent = np.asarray(parent, dtype=np.int64)
    totals = np.zeros((parent.max(initial=0) + 1, *counts.shape[1:]))
    np.add.at(totals, parent, counts)

    def centred(x: np.ndarray) -> np.ndarray:
        logx = np.log(x + 0.5)
        return logx - logx.mean(axis=-1, keepdims=True)

    diff = centred(counts) - centred(totals)[parent]
    noise = 1.0 / (counts + 0.5)
    rows = counts.sum(axis=-1) > 0
    if rotation is None:
        if not rows.any():
            return 0.0
        return float(np.sqrt(max(0.0, float(np.mean(diff[rows] ** 2) - np.mean(noise[rows])))))
    full = rows.all(axis=1)
    if not full.any():
        return np.zeros(counts.shape[1])
    rotated = np.einsum("ik,gim->gkm", rotation, diff[full])  # (G, K, M)
    var = np.mean(rotated**2, axis=(0, 2)) - float(np.mean(noise[full]))
    return np.sqrt(np.maximum(var, 0.0))


def choose_parameterization(
    observations: np.ndarray, deviation_sd: float, outcome_variance: float, n_groups: int
) -> str:
    r"""``"centered"`` when the groups of a level are data-rich, else ``"noncentered"``.

    Parameters
    ----------
    observations : ndarray
        Observations per group of the level (e.g. lag pairs per session and given code).
        Groups without data are ignored.
    deviation_sd : float
        Typical size of a deviation of the level (e.g. :func:`deviation_sd_estimate`).
    outcome_variance : float
        Fisher information of one observation about one deviation on the logit scale
        (about ``p (1 - p)`` for a category of probability p: pass the rarest category's).
    n_groups : int
        Number of groups of the level (few groups leave small scales plausible).

    Returns
    -------
    str

    Notes
    -----
    With :math:`n` observations in a group, the likelihood's precision about its deviation
    is about :math:`n v` and the hierarchy's is :math:`1/\sigma^2`. When the data dominate
    for every plausible :math:`\sigma`, the centred form has the better geometry; when the
    hierarchy can dominate (small :math:`\sigma`), the non-centred form avoids the funnel.
    :math:`\sigma` is estimated from the data, not taken from the prior (a level whose
    groups barely differ stays non-centred however much data each group has), and lowered
    to a plausible small value given G groups, :math:`\hat\sigma (1 - 2/\sqrt{2(G-1)})`
    (two standard errors of an SD estimated from G values). The level is centred when the
    median group has :math:`n v \sigma_{low}^2 > 4` (:data:`CENTRED_ABOVE`): the data
    must dominate clearly, since a centred level whose scale's posterior reaches small
    values diverges.
    """
    obs = np.asarray(observations, dtype=float)
    obs = obs[obs > 0]
    if obs.size == 0 or n_groups < 2:
        return "noncentered"
    low = float(deviation_sd) * max(0.0, 1.0 - 2.0 / np.sqrt(2.0 * (n_groups - 1)))
    score = float(np.median(obs)) * float(outcome_variance) * low**2
    return "centered" if score > CENTRED_ABOVE else "noncentered"


def _level_name(name: str, lang: str) -> str:
    """A grouping level's name in ``lang`` (other names, e.g. ``dyad_rows``, unchanged)."""
    return translate(f"level.{name}", lang) if name in ("dyad", "session") else name


def _form_name(form: str, lang: str) -> str:
    """``centered`` / ``noncentered`` in ``lang``."""
    return translate(f"form.{form}", lang) if form in ("centered", "noncentered") else form
