"""Design analysis: how many dyads and sessions a lagged effect needs.

:func:`design_analysis` simulates whole corpora with :func:`lagnest.simulate.thesis_like`
for each design (dyads x sessions x segments), fits a model to each (by default the
``mia_to_rupture`` regression), and records the posterior interval of one lagged effect:
its width and whether it excludes zero. :class:`DesignAnalysis` summarises the
distributions per design, plots them against the number of dyads and writes a sentence
for a grant proposal. The fits run through :func:`lagnest.calibration.engine.run_tasks`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from lagnest import _hooks
from lagnest._summaries import CI_PROB

__all__ = ["DEFAULT_EFFECT", "DesignAnalysis", "default_model", "design_analysis"]

#: The effect analysed by default: the simulator's MIA4 at t-1 -> confrontation.
DEFAULT_EFFECT = ("MIA4", "confrontation", 1)

_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()


def default_model(seqs: Any) -> Any:
    """The ``mia_to_rupture`` regression: rupture on the MIA indicators at t-1, by dyad."""
    from lagnest.models import LaggedRegression

    return LaggedRegression(seqs, "rupture", ["mia"], center="dyad")


def _effects(effect: Any) -> tuple[Any, float]:
    """The simulator's rupture effects with ``effect`` applied, and the effect's size."""
    from lagnest.simulate import LagEffect, thesis_like_params

    base = thesis_like_params().ruptures.rupture_effects
    given, target, lag = DEFAULT_EFFECT
    if isinstance(effect, LagEffect):
        new = effect
    else:
        current = next(e for e in base if (e.given, e.target, e.lag) == DEFAULT_EFFECT)
        size = current.log_odds if effect is None else float(effect)
        new = LagEffect(given, target, lag, size)
    same = [e for e in base if (e.given, e.target, e.lag) != (new.given, new.target, new.lag)]
    return (*same, new), new


@dataclass(frozen=True, eq=False)
class DesignAnalysis:
    """Result of :func:`design_analysis`.

    Printing it shows :meth:`summary`'s main columns (no line wider than 100 columns),
    what each is, and :meth:`sentence`.

    Attributes
    ----------
    data : xarray.Dataset
        Dims ``dyads``, ``sessions``, ``segments``, ``replicate``: ``ok`` (the fit ran; a
        corpus where the predictor never varies cannot be fitted), ``mean``, ``lower``,
        ``upper`` (central ``ci_prob`` interval of the effect), ``width``,
        ``excludes_zero`` (the interval excludes 0 *on the side of the simulated effect*:
        a wrong-sign exclusion is no detection), ``null_slopes`` and ``null_excluding``
        (the predictor slopes whose true value is 0, and how many of their intervals
        exclude 0), ``failed`` (the fit failed its diagnostics on the slopes),
        ``rhat_max``, ``n_divergent``, ``seconds``. ``attrs``: the effect (``given``,
        ``target``, ``lag``, ``log_odds``), the model column and category, ``ci_prob``
        and the provenance as JSON.
    """

    data: xr.Dataset

    @property
    def effect(self) -> dict[str, Any]:
        """The simulated effect: ``given``, ``target``, ``lag``, ``log_odds``."""
        return json.loads(self.data.attrs["effect"])

    @property
    def ci_prob(self) -> float:
        """Probability of the recorded intervals."""
        return float(self.data.attrs["ci_prob"])

    def summary(self) -> pd.DataFrame:
        """One row per design.

        Returns
        -------
        pandas.DataFrame
            Index ``(dyads, sessions, segments)``; columns ``n`` (simulations),
            ``n_failed`` (corpora that could not be fitted, counted as not excluding
            zero), ``p_exclude`` (share of simulations whose interval excludes zero on
            the side of the simulated effect) with its 95% Clopper-Pearson interval
            ``p_lower``, ``p_upper``, ``width_median``, ``width_q25``, ``width_q75``,
            ``mean_estimate``, ``bias`` (mean estimate minus the simulated log odds
            ratio), ``fpr_null`` (share of the null slopes' intervals that exclude 0:
            the false positives the same studies give), ``failed_fits`` (fits failing
            their diagnostics, counted, not dropped), ``divergent_fits``.
        """
        ds = self.data
        rows = []
        for d, s, t in itertools.product(ds["dyads"].values, ds["sessions"].values,
                                         ds["segments"].values):
            one = ds.sel(dyads=d, sessions=s, segments=t)
            n = one.sizes["replicate"]
            hits = int(one["excludes_zero"].sum())
            ci = stats.binomtest(hits, n).proportion_ci(0.95, method="exact")
            width = one["width"].values[one["ok"].values]
            est = one["mean"].values[one["ok"].values]
            q = np.quantile(width, [0.25, 0.5, 0.75]) if width.size else [np.nan] * 3
            rows.append({
                "dyads": int(d), "sessions": int(s), "segments": int(t), "n": n,
                "n_failed": int((~one["ok"]).sum()), "p_exclude": hits / n,
                "p_lower": ci.low, "p_upper": ci.high,
                "width_median": q[1], "width_q25": q[0], "width_q75": q[2],
                "mean_estimate": float(est.mean()) if est.size else np.nan,
                "bias": float(est.mean()) - self.effect["log_odds"] if est.size else np.nan,
                "fpr_null": (float(one["null_excluding"].sum() / one["null_slopes"].sum())
                             if one["null_slopes"].sum() else np.nan),
                "failed_fits": int(one["failed"].sum()) if "failed" in one else 0,
                "divergent_fits": int((one["n_divergent"] > 0).sum()),
            })
        return pd.DataFrame(rows).set_index(["dyads", "sessions", "segments"])

    def smallest_design(self, power: float = 0.8) -> tuple[int, int, int] | None:
        """The design with the fewest sessions in all (then dyads) reaching ``power``."""
        table = self.summary().reset_index()
        ok = table[table["p_exclude"] >= power]
        if ok.empty:
            return None
        ok = ok.assign(total=ok["dyads"] * ok["sessions"] * ok["segments"])
        row = ok.sort_values(["total", "dyads"]).iloc[0]
        return int(row["dyads"]), int(row["sessions"]), int(row["segments"])

    def sentence(self, power: float = 0.8) -> str:
        """A sentence for a grant proposal: the smallest design detecting the effect.

        Parameters
        ----------
        power : float, default 0.8
            Required share of simulated studies whose interval excludes zero.

        Returns
        -------
        str
        """
        table = self.summary()
        e = self.effect
        pct = f"{self.ci_prob:.0%}"
        what = (f"a {e['given']} -> {e['target']} effect (lag {e['lag']}) of log odds ratio "
                f"{e['log_odds']:g}")
        design = self.smallest_design(power)
        if design is None:
            best = table["p_exclude"].idxmax()
            row = table.loc[best]
            return (
                f"None of the simulated designs detects {what} with probability {power:.0%}: "
                f"the best, {self._design_text(best)}, gives a {pct} interval excluding 0 in "
                f"{row['p_exclude']:.0%} of simulated studies (n = {int(row['n'])}, 95% CI "
                f"{row['p_lower']:.0%}-{row['p_upper']:.0%}); the median {pct} interval "
                f"width is {row['width_median']:.2f}."
            )
        row = table.loc[design]
        return (
            f"With {self._design_text(design)}, {what} is credibly non-zero ({pct} interval "
            f"excluding 0) in {row['p_exclude']:.0%} of simulated studies (n = {int(row['n'])}, "
            f"95% CI {row['p_lower']:.0%}-{row['p_upper']:.0%}); the median {pct} interval "
            f"width is {row['width_median']:.2f} (interquartile range "
            f"{row['width_q25']:.2f}-{row['width_q75']:.2f})."
        )

    def _design_text(self, design: tuple[int, int, int]) -> str:
        d, s, t = design
        unit = self.data.attrs.get("unit", "segment")
        count = _WORDS[t] if t < len(_WORDS) else str(t)
        return f"{d} dyads of {s} sessions of {count} {unit}s"

    def __str__(self) -> str:
        from lagnest._summaries import column_lines, format_table, wrap

        table = self.summary()
        e = self.effect
        pct = f"{self.ci_prob:.0%}"
        shown = ["n", "n_failed", "p_exclude", "p_lower", "p_upper", "width_median", "bias",
                 "fpr_null"]
        lines = [wrap(f"Design analysis of {e['given']} -> {e['target']} (lag {e['lag']}, log "
                      f"odds ratio {e['log_odds']:g}): {len(table)} designs, {pct} "
                      "intervals"),
                 "", format_table(table[shown], float_format="{:.2f}"), "", "Columns:"]
        lines += column_lines({
            "n, n_failed": "simulated studies; corpora that could not be fitted (counted as "
                           "not excluding 0)",
            "p_exclude": f"share of studies whose {pct} interval excludes 0 on the side of "
                         "the effect (detection)",
            "p_lower, p_upper": "its 95% Clopper-Pearson interval",
            "width_median": f"median width of the {pct} interval",
            "bias": "mean estimate minus the simulated log odds ratio",
            "fpr_null": "share of the null slopes' intervals excluding 0 (false positives)",
        })
        lines += ["", wrap(self.sentence(), indent="")]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def plot(self) -> Any:
        """Interval width and probability of excluding zero against the number of dyads.

        Drawn by :func:`lagnest.viz.plots.design_figure` from :meth:`summary`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return _hooks.DESIGN_FIGURE(self)


def design_analysis(
    effect: Any = None,
    dyads: Sequence[int] = (4, 6, 10, 20),
    sessions: Sequence[int] = (4, 8, 12),
    segments: int | Sequence[int] = 10,
    n_sim: int = 100,
    seed: int = 0,
    *,
    model: Callable[[Any], Any] | None = None,
    target: tuple[str, str] | None = None,
    simulator: dict[str, Any] | None = None,
    ci_prob: float = CI_PROB,
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
    sampler: str = "pymc",
    target_accept: float | None = None,
    client: Any = None,
    n_jobs: int | None = None,
    path: Any = None,
    progress: bool = True,
) -> DesignAnalysis:
    """Precision and detection probability of a lagged effect for candidate designs.

    Parameters
    ----------
    effect : float or lagnest.simulate.LagEffect, optional
        The simulated effect: a log odds ratio for the simulator's MIA4 (t-1) ->
        confrontation effect (default: the simulator's own, -0.8), or a ``LagEffect``
        replacing (or adding) the simulator's effect of the same given, target and lag.
    dyads, sessions : sequence of int
        Numbers of dyads, and of sessions per dyad, to cross.
    segments : int or sequence of int, default 10
        Segments per session (ten 5-minute segments in the thesis-like design).
    n_sim : int, default 100
        Simulated studies per design.
    seed : int, default 0
        Run seed; study r of design (D, S, T) simulates its corpus from a seed of
        ``(seed, D, S, T, r)``, so adding designs or studies keeps every corpus; the fit's
        seed comes from the study's position in the run (as in
        :func:`~lagnest.calibration.operating_characteristics`, which runs the fits).
    model : callable, optional
        ``model(seqs) -> BayesianModel`` (default :func:`default_model`); it must be
        picklable for worker processes (cloudpickle handles lambdas).
    target : (str, str), optional
        The ``(feature, category)`` of ``beta_typical`` recording the effect, e.g.
        ``("MIA4[t-1]", "confrontation")`` (default: from ``effect``).
    simulator : dict, optional
        Other overrides of :func:`lagnest.simulate.thesis_like_params`.
    ci_prob : float, default 0.95
        Probability of the central interval (lagnest's default, ``CI_PROB``: the
        intervals a fit's summary prints; the runs recorded before 0.1's 95% default used
        0.9).
    draws, tune, chains, sampler, target_accept, client, n_jobs, path, progress
        As in :func:`lagnest.calibration.sbc`.

    Returns
    -------
    DesignAnalysis
        Per-design distributions, ``summary()``, ``plot()``, ``sentence(power)``.

    Notes
    -----
    Every study simulates a new corpus; the design enters the graph as data, so studies
    of one design reuse its compiled code. A corpus the model refuses (e.g. the predictor
    never occurs) counts as a study whose interval does not exclude zero, and
    ``summary()`` reports how many. Only an exclusion on the side of the simulated effect
    counts as a detection; the same studies' null slopes (the other predictors' slopes
    whose true value is 0) give the false-positive rate beside it (``fpr_null``).
    """
    from lagnest.calibration.operating import operating_characteristics

    if isinstance(model, type):  # a class needs its constructor's arguments, not only seqs
        raise TypeError(
            f"model must be a callable seqs -> model, e.g. model=lambda seqs: "
            f"{model.__name__}(seqs, ...), not the class")
    if not 0 < ci_prob < 1:
        raise ValueError(f"ci_prob must be in (0, 1), got {ci_prob}")
    rupture_effects, new = _effects(effect)
    if target is None:
        target = (f"{new.given}[t-{new.lag}]", new.target)
    overrides = {**(simulator or {}), "rupture_effects": rupture_effects}
    segs = [int(segments)] if np.isscalar(segments) else [int(t) for t in segments]
    grid = [(int(d), int(s), t) for d in dyads for s in sessions for t in segs]
    factory = model if model is not None else default_model
    oc = operating_characteristics(
        {"model": factory}, {"design": overrides}, grid, int(n_sim), seed, ci_prob=ci_prob,
        draws=draws, tune=tune, chains=chains, sampler=sampler, target_accept=target_accept,
        client=client, n_jobs=n_jobs, path=path, progress=progress)
    return _from_operating(oc, dyads, sessions, segs, dataclasses.asdict(new), tuple(target))


def _from_operating(oc: Any, dyads: Sequence[int], sessions: Sequence[int], segs: list[int],
                    effect: dict[str, Any], target: tuple[str, str]) -> DesignAnalysis:
    """The effect's intervals and the null slopes' exclusions, by design."""
    from lagnest.simulate import thesis_like_params

    data = oc.data.isel(estimator=0, scenario=0)
    label = f"{target[0]}|{target[1]}"
    if label not in data["parameter"].values:
        raise ValueError(f"the model reports no slope {target[0]!r} for {target[1]!r}")
    truth, lower, upper = data["truth"], data["lower"], data["upper"]
    null = (truth == 0) & (data["kind"] == "predictor")
    excludes = (lower > 0) | (upper < 0)
    sign = np.sign(effect["log_odds"])
    eff = data.sel(parameter=label)
    hit = (eff["upper"] < 0) if sign < 0 else (eff["lower"] > 0) if sign > 0 else (
        (eff["lower"] > 0) | (eff["upper"] < 0))
    n_sim = data.sizes["study"]
    shape = (len(dyads), len(sessions), len(segs), n_sim)
    names = ("mean", "lower", "upper", "rhat_max", "n_divergent", "seconds",
             "null_slopes", "null_excluding")
    arrays = {f: np.full(shape, np.nan) for f in names}
    flags = {f: np.zeros(shape, dtype=bool) for f in ("ok", "failed", "excludes_zero")}
    for i, j, k in np.ndindex(shape[:3]):
        one = {"design": f"{int(dyads[i])}x{int(sessions[j])}x{segs[k]}"}
        for f in ("mean", "lower", "upper"):
            arrays[f][i, j, k] = eff[f].sel(one).values
        for f in ("rhat_max", "n_divergent", "seconds"):
            arrays[f][i, j, k] = data[f].sel(one).values
        arrays["null_slopes"][i, j, k] = null.sel(one).sum("parameter").values
        arrays["null_excluding"][i, j, k] = (excludes & null).sel(one).sum("parameter").values
        flags["ok"][i, j, k] = data["ok"].sel(one).values
        flags["failed"][i, j, k] = data["failed"].sel(one).values
        flags["excludes_zero"][i, j, k] = (hit & data["ok"]).sel(one).values
    dims = ("dyads", "sessions", "segments", "replicate")
    ds = xr.Dataset({f: (dims, v) for f, v in {**arrays, **flags}.items()},
                    coords={"dyads": list(dyads), "sessions": list(sessions), "segments": segs,
                            "replicate": np.arange(n_sim)})
    ds["width"] = ds["upper"] - ds["lower"]
    ds.attrs.update({
        "effect": json.dumps(effect),
        "ci_prob": oc.ci_prob,
        "target": json.dumps(list(target)),
        "unit": thesis_like_params().design.unit,
        "lagnest_calibration": oc.data.attrs["lagnest_calibration"],
    })
    return DesignAnalysis(ds)
