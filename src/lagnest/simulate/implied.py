"""The simulator's effects stated as the parameters of lagnest's rupture regression.

The simulator draws withdrawal W_t and confrontation C_t given everything else, with::

    logit P(F_t = 1) = e_F = c_F + u_dF + v_s + z_s + sum_k beta_Fk MIA_k[t - lag_k]
                             + rho_F F_{t-1}

(``c_F`` collects the centring constants) and their log odds ratio within the segment
``g`` (``co_occurrence``, 0 by default: independent events), so that exactly
``log P(withdrawal) / P(none) = e_W``, ``log P(confrontation) / P(none) = e_C`` and
``log P(both) / P(none) = e_W + e_C + g``: a multinomial logit of the form of
``LaggedRegression(target="rupture")`` (reference ``none``), whose ``both`` logit is the
sum of the other two plus the constant ``g`` (an intercept, not a slope). The state at
t - 1 fixes W_{t-1} (withdrawal or both) and C_{t-1} (confrontation or both), so every
slope of the regression has a true value: the mindfulness indicators' log odds ratios per
category and the persistence of each state.
They are conditional effects (given the dyad and session deviations), the same in every
dyad and session, whatever the confounding switches of the simulator do to the
predictors (``rupture_to_mia``, ``session_confounder_sd``). Intercepts and group scales
depend on the design and are not stated here.
"""

from __future__ import annotations

from collections.abc import Sequence

from lagnest.simulate.params import RUPTURE_TARGETS, SimulationParams

__all__ = ["RUPTURE_CATEGORIES", "rupture_slopes"]

#: The non-reference categories of the derived ``rupture`` stream, in codebook order.
RUPTURE_CATEGORIES = ("withdrawal", "confrontation", "both")


def _family_slopes(params: SimulationParams, name: str) -> dict[str, float] | None:
    """Per-family effects ``{"withdrawal": b_W, "confrontation": b_C}`` of one column.

    ``name`` is a column label of the regression (``"MIA4[t-1]"``,
    ``"rupture=withdrawal[t-1]"``); None when the simulator says nothing about it.
    """
    r = params.ruptures
    if "[t-" not in name or not name.endswith("]"):
        return None
    stem, lag_text = name[:-1].rsplit("[t-", 1)
    if not lag_text.isdigit():
        return None
    lag = int(lag_text)
    out = {f: 0.0 for f in RUPTURE_TARGETS}
    if stem.startswith("rupture="):
        state = stem.split("=", 1)[1]
        if state not in RUPTURE_CATEGORIES:
            return None
        if lag == 1:
            for f in RUPTURE_TARGETS:
                if state in (f, "both"):
                    out[f] = r.persistence(f)
        return out
    if stem not in {f"MIA{k + 1}" for k in range(len(params.mindfulness.mia_prevalence))}:
        return None
    for e in r.rupture_effects:
        if e.given == stem and e.lag == lag:
            out[e.target] += e.log_odds
    return out


def rupture_slopes(params: SimulationParams,
                   feature_names: Sequence[str]) -> dict[tuple[str, str], float]:
    """True slopes of ``LaggedRegression(target="rupture")`` under the simulator.

    Parameters
    ----------
    params : SimulationParams
        The simulator's parameters (``rupture_state_effect`` must be 0: the regression
        has no state-mindfulness covariate).
    feature_names : sequence of str
        Column labels of the regression (``model.data.feature_names``).

    Returns
    -------
    dict
        ``{(column, category): log odds ratio}`` for every column the simulator
        determines: the MIA indicators and the rupture state at any lag (0 where the
        simulator has no such effect; persistence acts at lag 1 only). Other columns
        (covariates, initial states, Mundlak means) are left out.

    Examples
    --------
    >>> from lagnest.simulate import thesis_like_params
    >>> truth = rupture_slopes(thesis_like_params(), ["MIA4[t-1]", "rupture=both[t-1]"])
    >>> truth[("MIA4[t-1]", "confrontation")], truth[("MIA4[t-1]", "both")]
    (-0.8, -0.8)
    >>> truth[("rupture=both[t-1]", "both")]
    1.6
    """
    if params.ruptures.rupture_state_effect != 0:
        raise ValueError("the regression has no state-mindfulness covariate: the simulator's "
                         "rupture_state_effect must be 0 for its slopes to be stated")
    out: dict[tuple[str, str], float] = {}
    for name in feature_names:
        fam = _family_slopes(params, name)
        if fam is None:
            continue
        w, c = fam["withdrawal"], fam["confrontation"]
        for category, value in zip(RUPTURE_CATEGORIES, (w, c, w + c), strict=True):
            out[(name, category)] = float(value)
    return out
