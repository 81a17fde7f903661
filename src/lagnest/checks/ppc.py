r"""Posterior and prior predictive checks on the sequential statistics the field trusts.

A check draws parameter values from a fit (posterior) or from the priors, replicates the
data with the model's generative machinery, and compares statistics of the data with their
replicated distribution: adjusted residuals and Yule's Q per cell (pooled and per dyad),
G², homogeneity G² across dyads and across sessions within dyads, the spread of
per-session rates, run lengths, sessions without a code, and the second-order table ("is
first order enough?"). Statistics are computed by :func:`lagnest.checks.sequence_stats.
sequence_statistics` with the same kernels as :func:`lagnest.classical.lagtable.lag_table`.

How each model replicates:

* :class:`~lagnest.models.TransitionModel` with the same given and target (a model of a
  stream's own history): fully generative, a Markov chain of order ``lag`` per block,
  started from each block's observed first codes
  (:func:`lagnest.kernels.simulate_chains`). Otherwise one step ahead: each target is
  drawn given the observed given code (:func:`lagnest.kernels.simulate_given`).
* :class:`~lagnest.models.LaggedRegression` with ``history=True``: fully generative in
  the target's own past (:func:`lagnest.kernels.simulate_history`), the other predictors
  held at their observed values; one step ahead when the target's past also enters
  through an interaction or a random slope, or without history.
* :class:`~lagnest.models.SessionImpactModel`: the model's ``simulate`` hook draws every
  session's outcomes; the statistics are those of :data:`SESSION_STATISTICS`.

Posterior predictive p-values (``ppp``; prior predictive for a prior check) are mid-p
upper tails, :math:`\mathrm{ppp} = P(T^{rep} > T) + P(T^{rep} = T)/2`, and the two-sided
:math:`2\min(\mathrm{ppp}, 1 - \mathrm{ppp})` (``ppp_two_sided``); a statistic is *flagged*
when the two-sided value is below ``alpha``. They are never called "p", which is kept for
classical p-values. Checks work on results loaded from disk (the replication arrays are in
the result's ``fit_data``).

A statistic the corpus cannot give is left out of the check, with a note saying which and
why (:func:`lagnest.checks.sequence_stats.not_computable`, :func:`session_not_computable`):
session homogeneity when every dyad has one session, dyad homogeneity with a single dyad,
the second-order table when sessions are too short, ... Such a statistic would equal its
every replicate (ppp 0.5, two-sided 1) and pass a check that checked nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from lagnest import _hooks, kernels
from lagnest._lang import group_word, translate
from lagnest._summaries import CI_PROB, column_lines, format_table, wrap
from lagnest.checks.sequence_stats import (
    DEFAULT_STATISTICS,
    STATISTICS,
    not_computable,
    paired_targets,
    sequence_statistics,
)
from lagnest.errors import LagnestDataError
from lagnest.models.base import BayesianModel
from lagnest.models.basis import masked_softmax, softmax
from lagnest.models.result import FitResult, per_draw

__all__ = [
    "SESSION_STATISTICS",
    "STATISTICS",
    "FlaggedTable",
    "PredictiveCheck",
    "check",
    "prior_predictive_check",
    "session_not_computable",
    "session_statistics",
]


#: What each column of :meth:`PredictiveCheck.summary` is (printed below its tables).
COLUMNS = {
    "observed": "the statistic of the data",
    "replicated_mean": "mean of the statistic over the replicates",
    "replicated_lower, replicated_upper": "central 95% interval of the replicates",
    "ppp": "predictive p-value, upper tail: P(T_rep > T) + P(T_rep = T) / 2",
    "ppp_two_sided": "two-sided predictive p-value, 2 min(ppp, 1 - ppp); flagged below alpha",
}


#: Columns of :meth:`PredictiveCheck.summary`.
_SUMMARY_COLUMNS = ["statistic", "element", "observed", "replicated_mean", "replicated_lower",
                    "replicated_upper", "ppp", "ppp_two_sided", "flag"]


def _check_table(rows: pd.DataFrame, columns: Sequence[str]) -> str:
    """Rows of a check's summary as text, indexed by statistic (and element)."""
    keys = ["statistic"] + (["element"] if "element" in columns else [])
    frame = rows.set_index(keys)[[c for c in columns if c not in keys]]
    return format_table(frame)


class FlaggedTable(pd.DataFrame):
    """The flagged rows of a check (:meth:`PredictiveCheck.flagged`).

    A :class:`pandas.DataFrame` in every respect (``.empty``, ``len``, indexing,
    ``to_dict``), which prints as "none flagged" when it is empty and otherwise as a
    table no wider than 100 columns (every column but ``ppp`` and ``flag``).
    ``attrs["alpha"]`` is the level it was flagged at.
    """

    @property
    def _constructor(self) -> type[FlaggedTable]:
        return FlaggedTable

    def _heading(self) -> str:
        alpha = self.attrs.get("alpha", 0.01)
        group = self.attrs.get("group", "posterior")
        what = f"at two-sided {group} predictive p (ppp) < {alpha:g}"
        return f"none flagged {what}" if self.empty else f"{len(self)} flagged {what}:"

    def __repr__(self) -> str:
        if self.empty or "statistic" not in self.columns:
            return self._heading() if self.empty else super().__repr__()
        shown = [c for c in self.columns if c not in ("flag", "ppp")]  # fits 100 columns
        return self._heading() + "\n" + _check_table(pd.DataFrame(self), shown)

    def __str__(self) -> str:
        return self.__repr__()

    def _repr_html_(self) -> str | None:
        if self.empty:
            from html import escape

            return f"<p>{escape(self._heading())}</p>"
        return super()._repr_html_()


@dataclass(frozen=True)
class PredictiveCheck:
    """Observed statistics, their replicated distributions and predictive p-values (ppp).

    Printing it shows the whole-corpus statistics, how many values are flagged and
    which, no line wider than 100 columns.

    Attributes
    ----------
    observed : xarray.Dataset
        Statistics of the data.
    replicated : xarray.Dataset
        The same statistics of every replicate (leading ``draw`` dim).
    p_values : xarray.Dataset
        Mid-p upper-tail predictive p-values (ppp), one per observed value.
    group : {"posterior", "prior"}
        Where the parameter draws came from.
    replication : str
        How the data were replicated (see the module docstring).
    model : str
        The model name.
    notes : tuple of str
        What to know when reading the check, among them one sentence per statistic left
        out because the corpus cannot give it.
    omitted : dict of str to str
        The statistics left out (name to why): they are in none of the datasets.
    """

    observed: xr.Dataset
    replicated: xr.Dataset
    p_values: xr.Dataset
    group: str
    replication: str
    model: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    omitted: dict[str, str] = field(default_factory=dict)

    @property
    def statistics(self) -> list[str]:
        """Names of the statistics checked."""
        return list(self.p_values.data_vars)

    def two_sided(self) -> xr.Dataset:
        """Two-sided predictive p-values, ``2 min(ppp, 1 - ppp)``."""
        return self.p_values.map(lambda p: 2 * np.minimum(p, 1 - p))

    def summary(self, alpha: float = 0.01, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """One row per statistic and element: observed, replicated interval, ppp.

        Parameters
        ----------
        alpha : float, default 0.01
            Two-sided level at which a statistic is flagged.
        ci_prob : float, default 0.95
            Central interval of the replicated values.

        Returns
        -------
        pandas.DataFrame
            Columns ``statistic``, ``element``, ``observed``, ``replicated_mean``,
            ``replicated_lower``, ``replicated_upper``, ``ppp`` (the upper-tail predictive
            p-value), ``ppp_two_sided`` (``2 min(ppp, 1 - ppp)``), ``flag``.
        """
        lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
        rows = []
        two = self.two_sided()
        for name in self.statistics:
            obs = self.observed[name]
            rep = self.replicated[name]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                # a statistic undefined in every replicate (e.g. Yule's Q of a dyad
                # without pairs) stays NaN without numpy's all-NaN warnings
                warnings.filterwarnings("ignore", "All-NaN slice|Mean of empty slice",
                                        RuntimeWarning)
                q = rep.quantile([lo, hi], dim="draw", skipna=True)
                mean = rep.mean("draw", skipna=True)
            dims = obs.dims  # every array below in the observed value's order of dims
            values = {
                "observed": obs.values,
                "replicated_mean": mean.transpose(*dims).values,
                "replicated_lower": q.isel(quantile=0).transpose(*dims).values,
                "replicated_upper": q.isel(quantile=1).transpose(*dims).values,
                "ppp": self.p_values[name].transpose(*dims).values,
                "ppp_two_sided": two[name].transpose(*dims).values,
            }
            labels = [obs[d].values for d in dims]
            for index in np.ndindex(obs.shape):
                row = {"statistic": name, "element": ", ".join(
                    f"{d}={lab[i]}" for d, lab, i in zip(dims, labels, index, strict=True))}
                row.update({key: float(v[index]) for key, v in values.items()})
                row["flag"] = bool(row["ppp_two_sided"] < alpha)
                rows.append(row)
        out = pd.DataFrame(rows, columns=_SUMMARY_COLUMNS)
        out.attrs["omitted"] = dict(self.omitted)
        return out

    def flagged(self, alpha: float = 0.01) -> FlaggedTable:
        """The rows of :meth:`summary` whose two-sided ppp is below ``alpha``.

        Returns
        -------
        FlaggedTable
            A DataFrame (``.empty`` when nothing is flagged) that prints "none flagged"
            when empty.
        """
        table = self.summary(alpha)
        out = FlaggedTable(table[table["flag"]].reset_index(drop=True))
        out.attrs = {"alpha": alpha, "group": self.group}
        return out

    def arviz_groups(self) -> dict[str, xr.Dataset]:
        """The check in ArviZ's layout: replicated and observed statistics.

        Returns
        -------
        dict of str to xarray.Dataset
            ``posterior_predictive`` (``prior_predictive`` for a prior check): every
            checked statistic of every replicate, dims ``(chain, draw, ...)`` with one
            chain; ``observed_data``: the same statistics of the data. Degrees of freedom
            and statistics left out are in neither (no group when none is checked). The
            replicates are numbered 0..n-1: they come from ``n_draws`` draws spread over
            every chain and are not aligned with the posterior's (chain, draw), so do not
            pair them with ``log_likelihood`` (as ``loo_pit`` would).
        """
        names = self.statistics
        if not names:  # every statistic left out on this corpus
            return {}
        replicated = self.replicated[names].expand_dims(chain=[0]).transpose("chain", "draw", ...)
        replicated = replicated.assign_coords(draw=np.arange(replicated.sizes["draw"]))
        return {f"{self.group}_predictive": replicated, "observed_data": self.observed[names]}

    def to_arviz(self) -> xr.DataTree:
        """The check as an ArviZ DataTree (the groups of :meth:`arviz_groups`).

        ``arviz_plots.plot_ppc_dist(check.to_arviz(), group=...)`` draws each statistic's
        replicated distribution with its observed value (``group="prior_predictive"`` for
        a prior check). ``result.ppc()`` also adds these groups to ``result.tree``.
        """
        tree = xr.DataTree.from_dict(self.arviz_groups())
        tree.attrs.update({"lagnest_model": self.model, "lagnest_replication": self.replication})
        return tree

    def plot(self, stats: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """One panel per statistic with the observed value marked (see ``plots.ppc_panels``)."""
        # the figures sit above the checks and fill this slot (lagnest._hooks)
        return _hooks.PPC_FIGURE(self, stats=stats, **kwargs)

    def counts(self, alpha: float = 0.01) -> tuple[int, int, int]:
        """Values flagged, values checked (a defined ppp) and values undefined (NaN ppp)."""
        table = self.summary(alpha)
        checked = table["ppp_two_sided"].notna()
        return int(table["flag"].sum()), int(checked.sum()), int((~checked).sum())

    def headline(self, alpha: float = 0.01, lang: str = "en") -> str:
        """One sentence: how many values were checked and flagged, and what was not.

        ``lang="es"`` says it in Spanish.
        """
        flagged, checked, undefined = self.counts(alpha)
        text = translate("check.headline", lang, flagged=flagged, checked=checked,
                         group=self.group, group_es=group_word(self.group, lang),
                         alpha=f"{alpha:g}")
        if undefined:
            text += translate("check.undefined", lang, n=undefined)
        if self.omitted:
            text += translate("check.not_checked", lang, names=", ".join(self.omitted))
        return text

    def __str__(self) -> str:
        table = self.summary()
        scalar = table[table["element"] == ""]
        flagged = table[table["flag"]]
        lines = [wrap(f"{self.group.capitalize()} predictive check of {self.model} "
                      f"({self.replicated.sizes.get('draw', 0)} replicates; "
                      f"{self.replication})")]
        if len(scalar):
            lines += ["", _check_table(scalar, ["statistic", "observed", "replicated_mean",
                                                "replicated_lower", "replicated_upper",
                                                "ppp_two_sided"])]
        lines += ["", wrap(self.headline() + (":" if len(flagged) else ""))]
        if len(flagged):
            lines.append(_check_table(flagged, ["statistic", "element", "observed",
                                                "replicated_mean", "ppp_two_sided"]))
        if self.notes:
            lines += ["", "Notes:", *(wrap("  " + n, indent="    ") for n in self.notes)]
        lines += ["", "Columns:"]
        lines += column_lines({k: v for k, v in COLUMNS.items() if k != "ppp"})
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


# =========================================================================== replication


@dataclass(frozen=True)
class _Replicates:
    """Replicated and observed statistics of one model kind."""

    observed: xr.Dataset
    replicated: xr.Dataset
    replication: str
    notes: tuple[str, ...] = ()
    omitted: dict[str, str] = field(default_factory=dict)


def _need_segments(model: BayesianModel) -> Any:
    """The model's segment codes, or a clear error for results saved without them."""
    segments = getattr(model.data, "segments", None)
    if segments is None:
        raise LagnestDataError(
            "this result was saved without segment codes (an older lagnest): rebuild the "
            "model on its corpus, BayesianModel.from_result(result, seqs), and check again"
        )
    return segments


def _sequence_checks(codes: np.ndarray, observed: np.ndarray, segments: Any, n_codes: int,
                     stats: Sequence[str] | None, **kwargs: Any,
                     ) -> tuple[xr.Dataset, xr.Dataset, dict[str, str]]:
    """Statistics of the replicates and of the data (draw dim dropped), and those left out.

    Statistics the data cannot give (:func:`~lagnest.checks.sequence_stats.not_computable`)
    are computed for neither and returned with the reason.
    """
    obs_kwargs = dict(kwargs)
    if obs_kwargs.get("given") is not None and np.ndim(obs_kwargs["given"]) == 2:
        obs_kwargs["given"] = obs_kwargs["given"][0]
    names = list(DEFAULT_STATISTICS if stats is None else stats)
    omitted = not_computable(observed[None], segments, n_codes, names,
                             given=obs_kwargs.get("given"), n_given=obs_kwargs.get("n_given"),
                             lag=obs_kwargs.get("lag", 1))
    names = [n for n in names if n not in omitted]
    rep = sequence_statistics(codes, segments, n_codes, names, **kwargs)
    obs = sequence_statistics(observed[None], segments, n_codes, names, **obs_kwargs)
    return rep, obs.isel(draw=0, drop=True), omitted


def _replicate_transition(model: Any, draws: xr.Dataset, seed: int,
                          stats: Sequence[str] | None) -> _Replicates:
    """Transition models: Markov chains (own history) or one step ahead."""
    d = model.data
    seg = _need_segments(model)
    spec = model.spec
    lag = int(spec["lag"])
    logits = draws["logit_session"].transpose("sample", "session", "given", "target").values
    probs = masked_softmax(logits, d.allowed)
    seeds = kernels.replicate_seeds(seed, probs.shape[0])
    labels = {"labels": list(d.target_labels), "given_labels": list(d.given_labels),
              "dyad_labels": list(d.dyad_labels), "lag": lag}
    if seg.given is None:
        codes = kernels.simulate_chains(seg.target, probs, seg.block_offsets, seg.block_session,
                                        seeds, lag=lag)
        rep, obs, omitted = _sequence_checks(codes, np.asarray(seg.target), seg,
                                             len(d.target_labels), stats, **labels)
        how = f"fully generative: Markov chain of order {lag} from each block's first codes"
    else:
        codes = kernels.simulate_given(seg.given, probs, seg.block_offsets, seg.block_session,
                                       seeds, lag=lag, target=seg.target)
        observed = paired_targets(seg.given, seg.target, seg.block_offsets, lag)
        rep, obs, omitted = _sequence_checks(codes, observed, seg, len(d.target_labels),
                                             stats, given=np.asarray(seg.given),
                                             n_given=len(d.given_labels), **labels)
        how = "one step ahead: each target drawn given the observed given code"
    return _Replicates(obs, rep, how, omitted=omitted)


def _history_columns(model: Any) -> tuple[int, list[int], bool]:
    """Index of the target source, the history columns, and whether replay is generative."""
    d = model.data
    t = d.table
    if t.target not in t.predictors:
        return -1, [], False
    source = t.predictors.index(t.target)
    pure = [j for j, f in enumerate(d.features)
            if f.kind == "sequence" and len(f.factors) == 1 and f.factors[0][0] == source]
    mixed = [j for j, f in enumerate(d.features)
             if f.kind == "sequence" and len(f.factors) > 1
             and any(s == source for s, _ in f.factors)]
    slopes = set(model._slope_index(d).tolist())
    generative = bool(pure) and not mixed and not (slopes & set(pure))
    return source, pure, generative


def _replicate_regression(model: Any, draws: xr.Dataset, seed: int,
                          stats: Sequence[str] | None) -> _Replicates:
    """Lagged regressions: generative in the target's own past, or one step ahead."""
    d = model.data
    t = d.table
    seg = _need_segments(model)
    n_draws = draws.sizes["sample"]
    k = len(d.target_labels)
    source, history, generative = _history_columns(model)
    labels = {"labels": list(d.target_labels), "given_labels": list(d.target_labels),
              "dyad_labels": list(t.dyad_labels)}
    valid_rows = np.asarray(t.segment_row)
    notes: tuple[str, ...] = ()
    if generative:
        lags = [lag for lag in t.lags if lag >= 1]
        seq_index = [j for j, f in enumerate(d.features) if f.kind == "sequence"]
        base_design = d.design.copy()
        for j in history:
            base_design[:, j] = -d.centres[t.row_session, seq_index.index(j)]
        base = np.empty((n_draws, t.n_rows, k))
        hist = np.zeros((n_draws, len(lags), k, k))
        for s, params in enumerate(per_draw(draws)):
            base[s] = model.row_logits(params, base_design)
            for j in history:
                f = d.features[j]
                level = f.factors[0][1]
                hist[s, lags.index(t.lags[f.lag_index]), level, 1:] = params["beta"][j]
        codes = kernels.simulate_history(seg.target, valid_rows, base, hist, np.array(lags),
                                         seg.block_offsets, kernels.replicate_seeds(seed,
                                                                                    n_draws))
        rep, obs, omitted = _sequence_checks(codes, np.asarray(seg.target), seg, k, stats,
                                             lag=min(lags), **labels)
        how = ("fully generative in the target's own past (lags "
               f"{lags}), other predictors at their observed values")
        return _Replicates(obs, rep, how, omitted=omitted)
    rng = np.random.default_rng([seed, 7])
    rows = valid_rows[valid_rows >= 0]
    where = np.flatnonzero(valid_rows >= 0)
    codes = np.full((n_draws, valid_rows.size), -1, dtype=np.int16)
    for s, params in enumerate(per_draw(draws)):
        p = softmax(model.row_logits(params))[rows]
        u = rng.random(rows.size)[:, None]
        codes[s, where] = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), k - 1)
    observed = np.where(valid_rows >= 0, seg.target, -1)
    lag = min([lag for lag in t.lags if lag >= 1], default=1)
    rep, obs, omitted = _sequence_checks(codes, observed, seg, k, stats,
                                         given=np.asarray(seg.target), n_given=k, lag=lag,
                                         **labels)
    if source >= 0:
        notes = ("the target's past enters through an interaction or a random slope: "
                 "replicated one step ahead",)
    how = "one step ahead: each target drawn given its observed predictors"
    return _Replicates(obs, rep, how, notes, omitted)


#: Statistics of session outcomes (name -> description), for session-level models.
SESSION_STATISTICS: dict[str, str] = {
    "mean": "mean of each standardised outcome over sessions",
    "sd": "SD of each standardised outcome over sessions",
    "min": "smallest value of each standardised outcome",
    "max": "largest value of each standardised outcome",
    "dyad_sd": "SD of the dyads' mean outcomes (between-dyad spread)",
    "within_dyad_sd": "pooled within-dyad SD of each outcome",
    "correlation": "correlation between each pair of outcomes over sessions",
}


def session_statistics(outcomes: np.ndarray, session_dyad: np.ndarray, n_dyads: int,
                       names: Sequence[str], stats: Sequence[str] | None = None) -> xr.Dataset:
    """Statistics of session outcome arrays ``(D, N, J)`` (see :data:`SESSION_STATISTICS`).

    Parameters
    ----------
    outcomes : ndarray, shape (D, N, J)
        Outcomes of N sessions, J outcomes, D replicates (D = 1 for the data).
    session_dyad : ndarray of int, shape (N,)
        Dyad of each session.
    n_dyads : int
        Number of dyads.
    names : sequence of str
        Outcome names.
    stats : sequence of str, optional
        Names from :data:`SESSION_STATISTICS` (default all).

    Returns
    -------
    xarray.Dataset
        One variable per statistic, dims ``(draw, outcome)`` or ``(draw, outcome,
        outcome2)`` for correlations.
    """
    chosen = list(SESSION_STATISTICS if stats is None else stats)
    unknown = [n for n in chosen if n not in SESSION_STATISTICS]
    if unknown:
        raise LagnestDataError(f"unknown statistic(s) {unknown}; known: "
                               f"{list(SESSION_STATISTICS)}")
    y = np.asarray(outcomes, dtype=float)
    onehot = np.eye(n_dyads)[np.asarray(session_dyad)]  # (N, G)
    size = onehot.sum(0)
    dyad_mean = np.einsum("dnj,ng->dgj", y, onehot) / np.where(size > 0, size, 1)[None, :,
                                                                                    None]
    used = size > 0
    within = y - np.einsum("dgj,ng->dnj", dyad_mean, onehot)
    dof = max(y.shape[1] - int(used.sum()), 1)
    values = {
        "mean": y.mean(axis=1), "sd": y.std(axis=1, ddof=1),
        "min": y.min(axis=1), "max": y.max(axis=1),
        "dyad_sd": dyad_mean[:, used].std(axis=1, ddof=1) if used.sum() > 1
        else np.full(y.shape[::2], np.nan),
        "within_dyad_sd": np.sqrt((within**2).sum(axis=1) / dof),
    }
    data = {}
    for name in chosen:
        if name == "correlation":
            centred = y - y.mean(axis=1, keepdims=True)
            cov = np.einsum("dnj,dnk->djk", centred, centred)
            sd = np.sqrt(np.einsum("djj->dj", cov))
            data[name] = (("draw", "outcome", "outcome2"), cov / (sd[:, :, None] * sd[:, None]))
        else:
            data[name] = (("draw", "outcome"), values[name])
    ds = xr.Dataset(data, coords={"draw": np.arange(y.shape[0]), "outcome": list(names),
                                  "outcome2": list(names)})
    for name in chosen:
        ds[name].attrs = {"description": SESSION_STATISTICS[name], "statistic": name,
                          "kind": "statistic"}
    return ds


def session_not_computable(session_dyad: np.ndarray, n_outcomes: int,
                           stats: Sequence[str] | None = None) -> dict[str, str]:
    """The session statistics a corpus cannot give (name to why).

    ``sd`` needs two sessions, ``dyad_sd`` two dyads with sessions, ``within_dyad_sd`` a
    dyad with two sessions (with one session per dyad it is 0 in the data and in every
    replicate), ``correlation`` two outcomes (an outcome's correlation with itself is 1).

    Parameters
    ----------
    session_dyad : ndarray of int, shape (N,)
        Dyad of each session in the likelihood.
    n_outcomes : int
        Number of outcomes J.
    stats : sequence of str, optional
        Names from :data:`SESSION_STATISTICS` (default all).

    Returns
    -------
    dict of str to str
    """
    chosen = list(SESSION_STATISTICS if stats is None else stats)
    dyad = np.asarray(session_dyad, dtype=np.int64)
    per_dyad = np.bincount(dyad) if dyad.size else np.zeros(0, dtype=np.int64)
    cannot = {"sd": dyad.size < 2, "dyad_sd": (per_dyad > 0).sum() < 2,
              "within_dyad_sd": per_dyad.max(initial=0) < 2, "correlation": n_outcomes < 2}
    return {name: translate(f"omit.{name}", "en") for name in chosen if cannot.get(name)}


def _replicate_sessions(model: Any, draws: xr.Dataset, seed: int,
                        stats: Sequence[str] | None) -> _Replicates:
    """Session-level models: outcomes of every session from the ``simulate`` hook."""
    d = model.data
    names = list(SESSION_STATISTICS if stats is None else stats)
    unknown = [n for n in names if n not in SESSION_STATISTICS]
    if unknown:
        raise LagnestDataError(f"unknown statistic(s) {unknown}; known: "
                               f"{list(SESSION_STATISTICS)}")
    omitted = session_not_computable(d.session_dyad, len(d.outcome_names), names)
    names = [n for n in names if n not in omitted]
    rng = np.random.default_rng([seed, 11])
    reps = np.stack([model.simulate(params, rng)["outcomes"] for params in per_draw(draws)])
    args = (d.session_dyad, len(d.dyad_labels), list(d.outcome_names), names)
    rep = session_statistics(reps, *args)
    obs = session_statistics(np.asarray(d.outcomes)[None], *args).isel(draw=0, drop=True)
    return _Replicates(obs, rep, "every session's outcomes drawn from the model "
                                 "(standardised scale)", omitted=omitted)


def _replicate_hmm(model: Any, draws: xr.Dataset, seed: int,
                   stats: Sequence[str] | None) -> _Replicates:
    """Hidden Markov models: states drawn along every chain, then each state's codes.

    The sequence statistics are those of the first emission channel (the first stream, or
    its first code for an indicator stream); uncoded segments stay uncoded.
    """
    d = model.data
    rng = np.random.default_rng([seed, 13])
    reps = np.stack([model.simulate(params, rng)["codes"][:, 0]
                     for params in per_draw(draws)])
    lengths = np.bincount(d.block_session, weights=np.diff(d.block_offsets),
                          minlength=len(d.session_labels)).astype(np.int64)
    nesting = SimpleNamespace(session_offsets=np.concatenate([[0], np.cumsum(lengths)]),
                              block_offsets=d.block_offsets, block_session=d.block_session,
                              session_dyad=d.session_dyad)
    codes = list(d.channel_labels[0])
    labels = {"labels": codes, "given_labels": codes, "dyad_labels": list(d.dyad_labels)}
    rep, obs, omitted = _sequence_checks(reps, np.asarray(d.codes[:, 0], dtype=np.int64),
                                         nesting, len(codes), stats, **labels)
    how = (f"fully generative: hidden states drawn along every chain, then the codes of "
           f"channel {d.channels[0]!r} from each state's emission probabilities")
    return _Replicates(obs, rep, how, omitted=omitted)


#: How each model kind replicates its data (model name -> function).
REPLICATORS: dict[str, Callable[..., _Replicates]] = {
    "TransitionModel": _replicate_transition,
    "LaggedRegression": _replicate_regression,
    "SessionImpactModel": _replicate_sessions,
    "HiddenMarkovModel": _replicate_hmm,
}


# =========================================================================== public


def _p_values(observed: xr.Dataset, replicated: xr.Dataset) -> xr.Dataset:
    """Mid-p upper tails per statistic (NaN replicates ignored, NaN where undefined)."""
    out = {}
    for name, obs in observed.data_vars.items():
        if obs.attrs.get("kind") == "df":
            continue
        rep = replicated[name]
        valid = rep.notnull()
        n = valid.sum("draw")
        above = (rep > obs).where(valid).sum("draw") + 0.5 * (rep == obs).where(valid).sum("draw")
        p = (above / n.where(n > 0)).where(obs.notnull())
        out[name] = p.assign_attrs(obs.attrs)
    return xr.Dataset(out)


def _select_draws(result: FitResult, n_draws: int) -> xr.Dataset:
    """``n_draws`` evenly spaced draws of the result's group, stacked on ``sample``."""
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    stacked = result.draws.stack(sample=("chain", "draw"))
    total = stacked.sizes["sample"]
    take = np.unique(np.linspace(0, total - 1, min(int(n_draws), total)).round().astype(int))
    return stacked.isel(sample=take)


def check(
    result: FitResult,
    stats: Sequence[str] | None = None,
    n_draws: int = 200,
    seed: int = 0,
    model: BayesianModel | None = None,
) -> PredictiveCheck:
    """Predictive check of a fit (posterior) or of prior draws.

    Parameters
    ----------
    result : FitResult
        A posterior fit, or the output of ``model.prior_predictive()`` (group "prior"); a
        result loaded from disk works too.
    stats : sequence of str, optional
        Statistics to check (names of :data:`STATISTICS` for sequence models); default all.
    n_draws : int, default 200
        Parameter draws used (evenly spaced over the chains); one replicate each.
    seed : int, default 0
        Seed of the replication (same seed, same replicates).
    model : BayesianModel, optional
        The model (default: rebuilt from the result's stored design).

    Returns
    -------
    PredictiveCheck

    Examples
    --------
    >>> import lagnest as ln  # doctest: +SKIP
    >>> res = ln.TransitionModel(seqs, "rupture", "rupture").fit(seed=1)  # doctest: +SKIP
    >>> res.ppc(seed=2).flagged()  # doctest: +SKIP
    """
    if model is None:
        model = BayesianModel.from_result(result)
    name = result.config["model"]
    if name not in REPLICATORS:
        raise LagnestDataError(f"no predictive check for {name}; known: {sorted(REPLICATORS)}")
    draws = _select_draws(result, n_draws)
    reps = REPLICATORS[name](model, draws, int(seed), stats)
    descriptions = {**STATISTICS, **SESSION_STATISTICS}
    left_out = tuple(
        f"{stat} ({descriptions.get(stat, stat)}) is not checked: it cannot be computed on "
        f"this corpus, {why}" for stat, why in reps.omitted.items())
    return PredictiveCheck(
        observed=reps.observed,
        replicated=reps.replicated,
        p_values=_p_values(reps.observed, reps.replicated),
        group=result.group,
        replication=reps.replication,
        model=name,
        notes=left_out + tuple(reps.notes),
        omitted=dict(reps.omitted),
    )


def prior_predictive_check(
    model: BayesianModel, stats: Sequence[str] | None = None, n_draws: int = 200,
    seed: int = 0,
) -> PredictiveCheck:
    """Prior predictive check: what the priors imply for the statistics of the data.

    Parameters
    ----------
    model : BayesianModel
        The model (its priors and design).
    stats, n_draws, seed
        As in :func:`check`.

    Returns
    -------
    PredictiveCheck
        ``group="prior"``.
    """
    prior = model.prior_predictive(draws=n_draws, seed=seed)
    return check(prior, stats=stats, n_draws=n_draws, seed=seed, model=model)


_hooks.PREDICTIVE_CHECK.fill(check)
_hooks.PRIOR_PREDICTIVE_CHECK.fill(prior_predictive_check)
