"""Figures of a hidden Markov model: emission profiles and a session's decoded states.

Both draw numbers a :class:`~lagnest.models.hmm.HMMResult` computes (posterior medians
and intervals of the emission probabilities; posterior state probabilities from the
forward-backward kernel and the Viterbi path); nothing is estimated here.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from lagnest._lang import check_lang, code_label, translate
from lagnest._summaries import CI_PROB
from lagnest.viz.plots._common import _pyplot

__all__ = ["EmissionProfiles", "StateSequence", "hmm_emissions", "hmm_state_sequence"]

EmissionProfiles = namedtuple("EmissionProfiles", ["figure", "axes"])
StateSequence = namedtuple("StateSequence", ["figure", "axes"])


def hmm_emissions(result: Any, ci_prob: float = CI_PROB, *, lang: str = "en",
                  codebook: Any = None) -> EmissionProfiles:
    """Emission probabilities of every channel per state, with intervals.

    One panel per emitted channel (a categorical stream, or the codes of an indicator
    stream together); bars are posterior medians of the typical dyad, whiskers the
    central ``ci_prob`` interval.

    Parameters
    ----------
    result : HMMResult
    ci_prob : float, default 0.95
    lang : {"en", "es"}, default "en"
        Language of titles, labels and legend; in Spanish, codes and streams show their
        codebook labels (``codebook``).
    codebook : Codebook, optional

    Returns
    -------
    EmissionProfiles
        ``figure`` and ``axes``.
    """
    lang = check_lang(lang)
    plt = _pyplot()
    data = result._model.data
    k = result._model.spec["n_states"]
    groups: dict[str, list[int]] = {}
    for c, name in enumerate(data.channels):
        groups.setdefault(name.split(":")[0] if ":" in name else name, []).append(c)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.4),
                             layout="constrained", squeeze=False)
    width = 0.8 / k
    for ax, (stream, channels) in zip(axes[0], groups.items(), strict=True):
        labels, medians, lowers, uppers = [], [], [], []
        for c in channels:
            summary = result.emission_probs(c, ci_prob)
            codes = list(summary["median"].coords[f"code_{c}"].values)
            shown = codes if len(channels) == 1 else codes[-1:]  # an indicator: "present"
            for code in shown:
                shown_code = code if len(channels) == 1 else data.channels[c].split(":")[1]
                labels.append(code_label(shown_code, lang, codebook))
                cell = {f"code_{c}": code}
                medians.append(summary["median"].sel(cell).values)
                lowers.append(summary["lower"].sel(cell).values)
                uppers.append(summary["upper"].sel(cell).values)
        med, lo, hi = (np.array(v).T for v in (medians, lowers, uppers))  # (K, codes)
        x = np.arange(len(labels))
        for s in range(k):
            ax.bar(x + (s - (k - 1) / 2) * width, med[s], width, color=f"C{s}",
                   yerr=[med[s] - lo[s], hi[s] - med[s]], capsize=2,
                   label=translate("hmmfig.state", lang, state=s + 1))
        ax.set_xticks(x, labels, rotation=45 if len(labels) > 5 else 0, ha="right"
                      if len(labels) > 5 else "center")
        ax.set(title=code_label(stream, lang, codebook),
               ylabel=translate("hmmfig.emission", lang), ylim=(0, 1))
    axes[0][0].legend(fontsize=8)
    fig.suptitle(translate("hmmfig.profiles", lang, pct=f"{ci_prob:.0%}"), fontsize=10)
    return EmissionProfiles(fig, axes[0])


def hmm_state_sequence(result: Any, session: int | str = 0, max_draws: int = 200, *,
                       lang: str = "en", codebook: Any = None) -> StateSequence:
    """A session's decoded states drawn over its coded streams.

    Top: the posterior probability of each state per segment (forward-backward, averaged
    over posterior draws) as stacked areas, with the Viterbi path as a line. Below: one
    row per emitted channel, its code per segment as a coloured cell (uncoded blank).

    Parameters
    ----------
    result : HMMResult
    session : int or str, default 0
        Position or label of the session.
    max_draws : int, default 200
        Posterior draws averaged for the state probabilities.
    lang : {"en", "es"}, default "en"
        Language of titles, labels and legend (streams by their codebook labels).
    codebook : Codebook, optional

    Returns
    -------
    StateSequence
        ``figure`` and ``axes`` (states panel, codes panel).
    """
    lang = check_lang(lang)
    plt = _pyplot()
    data = result._model.data
    labels = list(data.session_labels)
    s = labels.index(session) if isinstance(session, str) else int(session)
    blocks = np.flatnonzero(data.block_session == s)
    start, end = int(data.block_offsets[blocks[0]]), int(data.block_offsets[blocks[-1] + 1])
    probs = result.state_probabilities(max_draws).values[start:end]
    path = result.viterbi().values[start:end]
    codes = data.codes[start:end]
    k = probs.shape[1]
    fig, (ax_s, ax_c) = plt.subplots(2, 1, figsize=(9, 2.2 + 0.3 * codes.shape[1]),
                                     sharex=True, layout="constrained",
                                     gridspec_kw={"height_ratios": [2, max(codes.shape[1], 1)]})
    t = np.arange(start, end) - start + 1
    ax_s.stackplot(t, probs.T, colors=[f"C{i}" for i in range(k)], alpha=0.6,
                   labels=[translate("hmmfig.state", lang, state=i + 1) for i in range(k)])
    ax_s.plot(t, (path - 1) / max(k - 1, 1), color="black", lw=1.2, drawstyle="steps-mid",
              label=translate("hmmfig.path", lang))
    ax_s.set(ylim=(0, 1), ylabel=translate("hmmfig.p_state", lang),
             title=translate("hmmfig.session", lang, session=labels[s]))
    ax_s.legend(fontsize=7, ncol=k + 1, loc="upper right")
    grid = np.where(codes >= 0, codes.astype(float), np.nan).T
    ax_c.imshow(grid, aspect="auto", interpolation="nearest", cmap="tab10",
                extent=(t[0] - 0.5, t[-1] + 0.5, codes.shape[1] - 0.5, -0.5))
    ax_c.set_yticks(range(codes.shape[1]),
                    [code_label(c, lang, codebook) for c in data.channels], fontsize=8)
    ax_c.set_xlabel(translate("hmmfig.segment", lang))
    return StateSequence(fig, (ax_s, ax_c))
