"""How many hidden states? Leave-one-session-out elpd beside AIC and BIC.

:func:`compare_states` fits a :class:`~lagnest.models.hmm.HiddenMarkovModel` for each
number of states and scores every fit by its leave-one-session-out expected log
predictive density (PSIS, :meth:`~lagnest.models.hmm.HMMResult.loo`), with the standard
error of the differences from the sessions, and prints beside it the AIC and BIC a user of
mHMMbayes would compute (:meth:`~lagnest.models.hmm.HMMResult.information_criteria`).
Fits that fail their diagnostics, and sessions whose Pareto k is too high for PSIS, are
reported, not hidden: their elpd is not to be trusted.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lagnest._summaries import WIDTH, column_lines, wrap

__all__ = ["StateComparison", "compare_states"]

#: What each column of :attr:`StateComparison.table` is.
COLUMNS = {
    "elpd": "leave-one-session-out expected log predictive density (PSIS); higher is better",
    "se": "its standard error over sessions",
    "elpd_diff": "this K's elpd minus the best K's (0 for the best, negative otherwise)",
    "dse": "standard error of that difference (paired over sessions)",
    "p_loo": "effective number of parameters",
    "k_high": "sessions whose Pareto k exceeds the PSIS threshold (their elpd is unreliable)",
    "aic, bic": "at the posterior medians (lower is better); ignore the uncertainty",
    "converged": "whether the fit passed every diagnostic (R-hat, ESS, divergences, labels)",
}


@dataclass(frozen=True)
class StateComparison:
    """Fits for several numbers of states and how well each predicts a new session.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per number of states (index ``n_states``), columns of :data:`COLUMNS`.
    results : dict of int to HMMResult
        The fits.
    loos : dict of int to ELPDData
        Their leave-one-session-out estimates.
    """

    table: pd.DataFrame
    results: Mapping[int, Any] = field(repr=False)
    loos: Mapping[int, Any] = field(repr=False)

    def _candidates(self) -> pd.DataFrame:
        """The rows of the converged fits (all rows when none converged)."""
        ok = self.table[self.table["converged"]]
        return ok if len(ok) else self.table

    @property
    def best(self) -> int:
        """The number of states with the highest elpd among the converged fits."""
        return int(self._candidates()["elpd"].idxmax())

    def parsimonious(self, n_se: float = 2.0) -> int:
        """The fewest states whose elpd is within ``n_se`` standard errors of the best.

        Among the converged fits (all fits when none converged): the smallest K with
        ``elpd_best - elpd_K <= n_se * dse_K`` (``dse`` paired over sessions, against the
        best K of the table). Extra states that predict new sessions no better than the
        noise of the comparison are not taken: the highest elpd (:attr:`best`) picks a
        larger K than the truth when the difference is small.

        Parameters
        ----------
        n_se : float, default 2.0

        Returns
        -------
        int
        """
        pool = self._candidates()
        top = float(pool["elpd"].max())
        for k in sorted(pool.index):
            if top - float(pool.loc[k, "elpd"]) <= n_se * float(pool.loc[k, "dse"]):
                return int(k)
        return int(pool["elpd"].idxmax())

    def __str__(self) -> str:
        shown = self.table.copy()
        for col in ("elpd", "se", "elpd_diff", "dse", "p_loo", "aic", "bic"):
            shown[col] = shown[col].round(1)
        lines = [wrap("Number of hidden states: leave-one-session-out elpd (PSIS) beside "
                      "AIC and BIC", WIDTH), "", shown.to_string(), "",
                 wrap(f"Highest elpd among converged fits: K = {self.best}; fewest states "
                      f"within 2 dse of it: K = {self.parsimonious()}. A difference smaller "
                      "than about 2 dse does not separate two K.", WIDTH),
                 ]
        high = self.table[self.table["k_high"] > 0]
        if len(high):
            lines.append(wrap(
                "PSIS is unreliable for some sessions (k_high) at K = "
                + ", ".join(str(k) for k in high.index) + ": refit without those sessions, "
                "or read their elpd as approximate.", WIDTH))
        lines += ["", "Columns:"]
        lines += column_lines(COLUMNS)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table.to_html()


def compare_states(
    seqs: Any,
    emissions: Sequence[str],
    n_states: Sequence[int] = (2, 3, 4),
    fit_kwargs: Mapping[str, Any] | None = None,
    **model_kwargs: Any,
) -> StateComparison:
    """Fit one hidden Markov model per number of states and compare them.

    Parameters
    ----------
    seqs : Sequences
        The data.
    emissions : sequence of str
        Emitted streams (as :class:`~lagnest.models.hmm.HiddenMarkovModel`).
    n_states : sequence of int, default (2, 3, 4)
        The numbers of states to fit (each >= 2, distinct).
    fit_kwargs : mapping, optional
        Passed to every ``fit`` (e.g. ``{"seed": 1, "draws": 1000}``); the seed of K is
        ``seed + K`` so the fits are reproducible and not identical.
    **model_kwargs
        Other arguments of the model (``transition_predictors``, ``order_by``, ...).

    Returns
    -------
    StateComparison

    Notes
    -----
    The sessions are the units: a segment of a hidden Markov model is not exchangeable
    (its state depends on its neighbours), so leaving one segment out would score
    interpolation, not prediction. The differences' standard errors come from the
    sessions (paired), as :func:`arviz_stats.compare` computes them.

    Examples
    --------
    >>> import lagnest as ln  # doctest: +SKIP
    >>> comp = ln.compare_states(seqs, ["rupture"], n_states=(2, 3),  # doctest: +SKIP
    ...                          fit_kwargs={"seed": 1})
    >>> print(comp)  # doctest: +SKIP
    """
    import arviz_stats

    from lagnest.models.hmm import HiddenMarkovModel

    ks = [int(k) for k in n_states]
    if not ks or len(set(ks)) != len(ks) or min(ks) < 2:
        raise ValueError(f"n_states must be distinct integers >= 2, got {list(n_states)!r}")
    options = dict(fit_kwargs or {})
    base_seed = options.pop("seed", 0)
    results, loos, rows = {}, {}, {}
    for k in ks:
        res = HiddenMarkovModel(seqs, emissions, k, **model_kwargs).fit(
            seed=None if base_seed is None else int(base_seed) + k, **options)
        with warnings.catch_warnings():  # reported per K in the k_high column
            warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto")
            loo = res.loo()
        ic = res.information_criteria()
        labels_ok = bool(res.label_check()["agree"].all())
        diag_ok = res.diagnostics is None or res.diagnostics.ok
        results[k], loos[k] = res, loo
        rows[k] = {"p_loo": float(loo.p),
                   "k_high": int((np.asarray(loo.pareto_k) > loo.good_k).sum()),
                   "aic": ic["aic"], "bic": ic["bic"], "converged": diag_ok and labels_ok}
    cmp = arviz_stats.compare({str(k): loos[k] for k in ks}, round_to="none")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "n_states"
    table["elpd"] = [float(cmp.loc[str(k), "elpd"]) for k in ks]
    table["se"] = [float(cmp.loc[str(k), "se"]) for k in ks]
    table["elpd_diff"] = [float(cmp.loc[str(k), "elpd_diff"]) for k in ks]
    table["dse"] = [float(cmp.loc[str(k), "dse"]) for k in ks]
    table = table[["elpd", "se", "elpd_diff", "dse", "p_loo", "k_high", "aic", "bic",
                   "converged"]]
    return StateComparison(table, results, loos)
