"""Operating characteristics: what a method concludes, study after simulated study.

:func:`operating_characteristics` simulates whole studies with known truth
(:func:`lagnest.simulate.thesis_like` under named *scenarios*, for several *designs*),
fits every *method* to the same studies, and records each slope's posterior (or
confidence) interval beside its true value. :class:`OperatingCharacteristics` turns the
records into the rates a methods reviewer asks for, each with its Monte Carlo standard
error: coverage (of zero and of non-zero truths apart), correct-sign power, wrong-sign
(type S) and exaggeration (type M) rates, false positives per null slope and per study
(family-wise), bias and interval width, and how many fits failed their diagnostics.

A *method* is either a callable ``seqs -> BayesianModel`` (a lagnest model, fitted with
the run's sampler settings; its ``beta_typical`` is read) or an object with an
``estimate(seqs, seed, ci_prob) -> dict`` method (an anchor outside lagnest, e.g. a
maximum-likelihood fit; see ``benchmarks/operating_characteristics.py``). Intervals can be
recorded at more than one probability (``extra_ci_probs``): the rates at each come from
the same fits. The fits run on
:func:`lagnest.calibration.engine.run_tasks` (local processes or dask, resumable).
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._summaries import CI_PROB, ResultSummary
from lagnest.calibration import engine
from lagnest.calibration.sbc import _fit_quietly
from lagnest.models._fit import DEFAULT_THRESHOLDS, compute_diagnostics, package_versions

__all__ = ["SCENARIOS", "OperatingCharacteristics", "design_label", "operating_characteristics",
           "simulate_study", "study_seed"]

#: Scenarios of the issue that chose lagnest's defaults (overrides of ``thesis_like``).
#: ``null``: no mindfulness effect; ``one_large``: MIA4 -> confrontation of -1.2 alone;
#: ``thesis``: the simulator's sparse mixed-sign effects (MIA1 -> withdrawal -0.5,
#: MIA2 -> confrontation +0.4, MIA4 -> confrontation -0.8); ``dense_small``: every MIA
#: indicator acts on both families with log odds ratios of +-0.25; ``confounded_null``: no
#: effect, but ruptures raise the next segment's indicators (+0.8) and a latent session
#: state raises both indicators and ruptures (SD 0.6); ``thesis_cooccurring`` /
#: ``thesis_exclusive``: the thesis effects with withdrawal and confrontation co-occurring
#: within a segment more (log odds ratio +1) or less (-1) often than independence implies
#: (the truths against which ``combine``'s shrunk interaction is tested);
#: ``thesis_homogeneous``: the thesis truth with no dyad or session spread in the rupture
#: rates.
SCENARIOS: dict[str, dict[str, Any]] = {
    "null": {"rupture_effects": ()},
    "one_large": {"rupture_effects": (("MIA4", "confrontation", 1, -1.2),)},
    "thesis": {},
    "dense_small": {"rupture_effects": tuple(
        (f"MIA{k}", family, 1, 0.25 * (1 if (k + j) % 2 else -1))
        for k in range(1, 9) for j, family in enumerate(("withdrawal", "confrontation")))},
    "confounded_null": {"rupture_effects": (), "rupture_to_mia": 0.8,
                        "session_confounder_sd": 0.6},
    "thesis_cooccurring": {"co_occurrence": 1.0},
    "thesis_exclusive": {"co_occurrence": -1.0},
    "thesis_homogeneous": {"dyad_sd_withdrawal": 0.0, "dyad_sd_confrontation": 0.0,
                           "session_sd": 0.0},
}


def design_label(design: Sequence[int]) -> str:
    """``"6x8x10"`` for (dyads, sessions, segments)."""
    return "x".join(str(int(v)) for v in design)


def _overrides(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """Scenario overrides with rupture effects as :class:`~lagnest.simulate.LagEffect`."""
    from lagnest.simulate import LagEffect

    out = dict(scenario)
    if "rupture_effects" in out:
        out["rupture_effects"] = tuple(e if isinstance(e, LagEffect) else LagEffect(*e)
                                       for e in out["rupture_effects"])
    return out


def study_seed(seed: int, scenario_index: int, design: Sequence[int], study: int) -> int:
    """Seed of study ``study`` of a run's ``scenario_index``-th scenario at ``design``.

    From the design itself, not its position in the run: adding designs or studies to a
    run keeps every study's corpus, and every method of the run sees the same studies.
    """
    return int(np.random.SeedSequence([int(seed), 7001, int(scenario_index),
                                       *(int(v) for v in design), int(study)])
               .generate_state(1)[0])


def simulate_study(scenario: Mapping[str, Any], design: Sequence[int],
                   seed: int) -> tuple[Any, Any]:
    """One study: a thesis-like corpus of ``design`` under ``scenario``.

    Parameters
    ----------
    scenario : mapping
        Overrides of :func:`lagnest.simulate.thesis_like` (a value of :data:`SCENARIOS`).
    design : sequence of int
        Dyads, sessions per dyad, segments per session.
    seed : int
        Seed of the simulation.

    Returns
    -------
    (Sequences, Truth)
        As :func:`lagnest.simulate.thesis_like` returns them.
    """
    from lagnest.simulate import thesis_like

    dyads, sessions, segments = (int(v) for v in design)
    return thesis_like(seed=seed, n_dyads=dyads, sessions_per_dyad=(sessions, sessions),
                       segments_per_session=(segments, segments), **_overrides(scenario))


def _summaries(values: np.ndarray, ci_prob: float,
               extra_ci_probs: Sequence[float] = ()) -> dict[str, Any]:
    """Mean, median and central interval of draws ``(S, P)`` (and at ``extra_ci_probs``)."""
    alpha = (1 - ci_prob) / 2
    lower, median, upper = np.quantile(values, [alpha, 0.5, 1 - alpha], axis=0)
    out: dict[str, Any] = {"mean": values.mean(axis=0).tolist(), "median": median.tolist(),
                           "lower": lower.tolist(), "upper": upper.tolist()}
    if extra_ci_probs:
        tails = [(1 - p) / 2 for p in extra_ci_probs]
        out["extra_lower"] = np.quantile(values, tails, axis=0).tolist()
        out["extra_upper"] = np.quantile(values, [1 - a for a in tails], axis=0).tolist()
    return out


def _fit_method(method: Any, seqs: Any, seed: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Intervals of the slopes and diagnostics of one method on one study."""
    ci_prob = payload["ci_prob"]
    extra = tuple(payload.get("extra_ci_probs", ()))
    if hasattr(method, "estimate"):
        if extra:  # such an anchor also returns extra_lower / extra_upper, one row per level
            return method.estimate(seqs, seed, ci_prob, extra_ci_probs=extra)
        return method.estimate(seqs, seed, ci_prob)
    model = method(seqs)
    result, caught = _fit_quietly(model, seed=seed, **payload["sampler"])
    draws = result.posterior["beta_typical"]
    names = [str(v) for v in draws["feature"].values]
    cats = [str(v) for v in draws["category"].values]
    flat = draws.transpose("chain", "draw", "feature", "category").values.reshape(
        -1, len(names) * len(cats))
    labels = [f"{f}|{c}" for f in names for c in cats]
    # the verdict on the slopes reported (a scale elsewhere in the model may lag behind
    # without making these intervals wrong); divergences concern the whole fit
    d = compute_diagnostics(result.sampled, ["beta_typical"])
    ess = min(d.ess_bulk_min, d.ess_tail_min)
    limits = d.thresholds
    failed = (d.rhat_max > limits["rhat"] or ess < limits["ess_per_chain"] * d.n_chains
              or d.n_divergent > limits["divergences"])
    return {
        "labels": labels,
        **_summaries(flat, ci_prob, extra),
        "rhat_max": float(d.rhat_max),
        "ess_min": float(ess),
        "n_divergent": int(d.n_divergent),
        "failed": bool(failed),
        "warnings": caught,
    }


def _oc_task(payload: Mapping[str, Any], key: tuple[int, ...],
             ss: np.random.SeedSequence) -> dict[str, Any]:
    """Simulate study ``key`` (the same for every method) and fit one method to it."""
    from lagnest.errors import LagnestDataError
    from lagnest.simulate.implied import rupture_slopes

    start = time.perf_counter()
    m, s, d, r = key
    scenario = payload["scenarios"][s]
    design = payload["designs"][d]
    fit_seed = int(ss.generate_state(1)[0])  # (the fit's seed comes from the task key)
    seqs, truth = simulate_study(scenario[1], design,
                                 study_seed(payload["seed"], s, design, r))
    try:
        out = _fit_method(payload["methods"][m][1], seqs, fit_seed, payload)
    except LagnestDataError as err:  # e.g. a predictor that never occurs in a small study
        return {"ok": False, "error": str(err)[:500], "seconds": time.perf_counter() - start}
    names = sorted({lab.split("|")[0] for lab in out["labels"]})
    true = rupture_slopes(truth.params, names)
    out["truth"] = [true.get(tuple(lab.split("|")), None) for lab in out["labels"]]
    out.update(ok=True, seconds=time.perf_counter() - start)
    return out


@dataclass(frozen=True, eq=False)
class OperatingCharacteristics:
    """Result of :func:`operating_characteristics`.

    Attributes
    ----------
    data : xarray.Dataset
        Dims ``estimator`` (the methods), ``scenario``, ``design`` (``"6x8x10"``), ``study`` and
        ``parameter`` (``"MIA4[t-1]|confrontation"``): ``truth``, ``mean``, ``median``,
        ``lower``, ``upper`` (NaN where a method reports no such parameter or a fit did
        not run), and per fit ``ok`` (the fit ran), ``failed`` (it ran but failed its
        diagnostics on the reported slopes), ``rhat_max``, ``ess_min``, ``n_divergent``,
        ``seconds``, and ``run`` (the study exists: designs may have fewer studies than
        the largest). ``attrs`` hold ``ci_prob`` and the provenance as JSON. A run with
        ``extra_ci_probs`` also holds ``lower_at`` and ``upper_at``, with a dim
        ``extra_ci_prob``: the same fits' intervals at those probabilities.
    """

    data: xr.Dataset

    @property
    def ci_prob(self) -> float:
        """Probability of the main recorded intervals (``lower``, ``upper``)."""
        return float(self.data.attrs["ci_prob"])

    @property
    def ci_probs(self) -> tuple[float, ...]:
        """Every probability at which intervals were recorded, the main one first."""
        extra = self.data["extra_ci_prob"].values if "extra_ci_prob" in self.data.dims else []
        return (self.ci_prob, *(float(p) for p in extra))

    def _intervals(self, ci_prob: float | None) -> xr.Dataset:
        """The interval records, with ``lower`` and ``upper`` at ``ci_prob`` (None: main)."""
        ds = self.data[["truth", "mean", "median", "lower", "upper"]]
        if ci_prob is None or np.isclose(ci_prob, self.ci_prob):
            return ds
        extra = list(self.ci_probs[1:])
        match = [p for p in extra if np.isclose(p, ci_prob)]
        if not match:
            raise ValueError(f"no intervals at ci_prob={ci_prob}: this run recorded "
                             f"{list(self.ci_probs)}")
        level = {"extra_ci_prob": match[0]}
        return ds.assign(lower=self.data["lower_at"].sel(level, drop=True),
                         upper=self.data["upper_at"].sel(level, drop=True))

    def records(self, passed_only: bool = False, ci_prob: float | None = None) -> pd.DataFrame:
        """One row per (estimator, scenario, design, study, parameter) with a known truth.

        Parameters
        ----------
        passed_only : bool, default False
            Keep only fits that passed their diagnostics (by default every fit that ran
            counts, failed ones included: hiding them would flatter the method).
        ci_prob : float, optional
            Read the intervals at this probability (one of :attr:`ci_probs`); default the
            main one.

        Returns
        -------
        pandas.DataFrame
            Columns ``truth``, ``mean``, ``median``, ``lower``, ``upper``, ``failed``,
            ``kind`` (``"history"`` for the target's own past, else ``"predictor"``) and
            the flags ``covered``, ``excludes_zero``, ``correct_sign``, ``wrong_sign``.
        """
        ds = self.data
        frame = self._intervals(ci_prob).to_dataframe().reset_index()
        fits = ds[["ok", "failed"]].to_dataframe().reset_index()
        frame = frame.merge(fits, on=["estimator", "scenario", "design", "study"])
        frame = frame[frame["ok"] & frame["truth"].notna() & frame["mean"].notna()]
        if passed_only:
            frame = frame[~frame["failed"]]
        frame = frame.assign(kind=frame["parameter"].map(_kind))
        excludes = (frame["lower"] > 0) | (frame["upper"] < 0)
        sign = np.sign(frame["truth"])
        return frame.assign(
            covered=(frame["lower"] <= frame["truth"]) & (frame["truth"] <= frame["upper"]),
            excludes_zero=excludes,
            correct_sign=excludes & (np.sign(frame["mean"]) == sign) & (sign != 0),
            wrong_sign=excludes & (np.sign(frame["mean"]) == -sign) & (sign != 0),
        ).drop(columns="ok")

    def summary(self, by: str = "kind", passed_only: bool = False,
                ci_prob: float | None = None) -> pd.DataFrame:
        r"""The operating characteristics per method, scenario, design and ``by``.

        Parameters
        ----------
        by : {"kind", "parameter"}
            Pool the slopes of a kind (predictors, history) or report each parameter.
        passed_only, ci_prob
            See :meth:`records`.

        Returns
        -------
        pandas.DataFrame
            Columns (each rate with its Monte Carlo SE ``<rate>_se``): ``studies``,
            ``failed_fits``, ``errors`` (studies a method could not fit),
            ``coverage_nonzero`` and ``coverage_zero``, ``power`` (share of non-zero
            truths whose interval excludes 0 with the right sign), ``type_s`` (excludes 0
            with the wrong sign), ``type_m`` (mean of the ratio of the absolute estimate to
            the absolute truth over the correct-sign detections), ``fpr`` (share of zero
            truths whose interval
            excludes 0), ``fwer`` (share of studies where any zero-truth slope of the
            group excludes 0), ``bias`` (mean of posterior mean minus truth, non-zero
            truths; ``bias_zero`` for zero truths), ``width`` (median interval width).

        Notes
        -----
        Slopes of one study are not independent, so every SE is the cluster (study)
        SE of a ratio: :math:`\sqrt{\sum_i (h_i - r n_i)^2} / \sum_i n_i` over the
        studies i with :math:`h_i` hits among :math:`n_i` slopes (the binomial SE when
        every :math:`n_i = 1`).
        """
        if by not in ("kind", "parameter"):
            raise ValueError(f"by must be 'kind' or 'parameter', got {by!r}")
        rec = self.records(passed_only, ci_prob)
        keys = ["estimator", "scenario", "design", by]
        fits = self.data[["ok", "failed", "run"]].to_dataframe().reset_index()
        fits = fits[fits["run"]]  # designs with fewer studies than the largest
        rows = []
        for group, part in rec.groupby(keys, sort=False):
            row = dict(zip(keys, group, strict=True))
            fit = fits[(fits["estimator"] == row["estimator"])
                       & (fits["scenario"] == row["scenario"])
                       & (fits["design"] == row["design"])]
            row["studies"] = len(fit)
            row["errors"] = int((~fit["ok"]).sum())
            row["failed_fits"] = int((fit["ok"] & fit["failed"]).sum())
            nonzero, zero = part[part["truth"] != 0], part[part["truth"] == 0]
            for name, sub, flag in (("coverage_nonzero", nonzero, "covered"),
                                    ("coverage_zero", zero, "covered"),
                                    ("power", nonzero, "correct_sign"),
                                    ("type_s", nonzero, "wrong_sign"),
                                    ("fpr", zero, "excludes_zero")):
                row[name], row[f"{name}_se"] = _cluster_rate(sub, flag)
            hits = nonzero[nonzero["correct_sign"]]
            ratio = (hits["mean"] / hits["truth"]).abs()
            row["type_m"] = float(ratio.mean()) if len(ratio) else np.nan
            row["type_m_se"] = (float(ratio.std(ddof=1) / np.sqrt(len(ratio)))
                                if len(ratio) > 1 else np.nan)
            if len(zero):
                any_hit = zero.groupby("study")["excludes_zero"].any()
                p = float(any_hit.mean())
                row["fwer"], row["fwer_se"] = p, float(np.sqrt(p * (1 - p) / len(any_hit)))
            else:
                row["fwer"] = row["fwer_se"] = np.nan
            for name, sub in (("bias", nonzero), ("bias_zero", zero)):
                err = sub["mean"] - sub["truth"]
                per_study = err.groupby(sub["study"]).mean()
                row[name] = float(err.mean()) if len(err) else np.nan
                row[f"{name}_se"] = (float(per_study.std(ddof=1) / np.sqrt(len(per_study)))
                                     if len(per_study) > 1 else np.nan)
            row["width"] = float((part["upper"] - part["lower"]).median())
            rows.append(row)
        return pd.DataFrame(rows).set_index(keys)

    def save(self, path: Any) -> Any:
        """Write the result as NetCDF (atomically); read it back with :meth:`load`."""
        from lagnest._files import atomic_write

        atomic_write(path, lambda tmp: self.data.to_netcdf(tmp, engine="h5netcdf"))
        return path

    def _summary_print(self) -> ResultSummary:
        """The print: what was run, how the fits went, the main rates per group."""
        ds = self.data
        pct = f"{self.ci_prob:.0%}"
        names = {dim: [str(v) for v in ds[dim].values] for dim in ("estimator", "scenario",
                                                                    "design")}
        ran, ok, failed = (ds[v].values for v in ("run", "ok", "failed"))
        n_run = int(ran.sum())

        def some(values: list[str], word: str) -> str:
            return f"{len(values)} {word}{'' if len(values) == 1 else 's'} ({', '.join(values)})"

        title = (f"Operating characteristics of {some(names['estimator'], 'estimator')}: "
                 f"{some(names['scenario'], 'scenario')}, {some(names['design'], 'design')} "
                 f"of dyads x sessions x segments; {n_run} fits of simulated studies, {pct} "
                 "intervals")
        lines = [f"Fits: {int((ok & failed).sum())} of {n_run} failed their diagnostics on the "
                 "reported slopes (kept and counted); "
                 f"{int((ran & ~ok).sum())} could not be fitted (errors)."]
        # printed name: (.summary() column, what it is); short names keep one block of 100
        shown = {
            "studies": ("studies", "simulated studies the estimator ran"),
            "failed": ("failed_fits", "of which failed their diagnostics (counted in the "
                                      "rates)"),
            "cover": ("coverage_nonzero", f"share of the non-zero true slopes inside their "
                                          f"{pct} interval"),
            "cover_0": ("coverage_zero", f"share of the zero true slopes inside their {pct} "
                                         "interval"),
            "power": ("power", "share of the non-zero truths detected with the right sign "
                               "(interval excludes 0)"),
            "type_s": ("type_s", "share of the non-zero truths detected with the wrong sign"),
            "fpr": ("fpr", "share of the zero truths whose interval excludes 0 (false "
                           "positive rate)"),
            "width": ("width", "median interval width"),
        }
        columns = {k: (what if k == column else f"{what}; .summary() column {column}")
                   for k, (column, what) in shown.items()}
        blanks = dict.fromkeys(("cover", "power", "type_s"),
                               "no non-zero truth in that group (a null scenario)")
        blanks |= dict.fromkeys(("cover_0", "fpr"), "no zero truth in that group")
        if ok.any():
            table = self.summary()
            constant = [k for k in ("scenario", "design") if len(names[k]) == 1]
            table = table.droplevel(constant) if constant else table
            table = table[[column for column, _ in shown.values()]].set_axis(list(shown),
                                                                             axis=1)
            rates = table.columns.drop(["studies", "failed"])
            table[rates] = table[rates].astype(float).round(2) + 0.0  # never -0.00
        else:
            table = pd.DataFrame(columns=list(shown), index=pd.Index([], name="estimator"))
            lines.append("No fit ran: no rates to report.")
        more = ('Every rate with its Monte Carlo SE, errors, type_m, fwer and bias: .summary() '
                '(by="parameter" per slope); every interval: .records(); every fit: .data.')
        if len(self.ci_probs) > 1:
            also = ", ".join(f"{p:.0%}" for p in self.ci_probs[1:])
            more += (f" The same fits' intervals at {also} too: .summary(ci_prob=...), "
                     ".records(ci_prob=...).")
        return ResultSummary(title, table, lines=tuple(lines), float_format="{:.2f}",
                             columns=columns, blanks=blanks, notes=(more,))

    def __repr__(self) -> str:
        return str(self._summary_print())

    def _repr_html_(self) -> str:
        return self._summary_print()._repr_html_()

    @classmethod
    def load(cls, path: Any) -> OperatingCharacteristics:
        """Read a result written by :meth:`save`."""
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
        if "method" in ds.dims:  # written before the dim was renamed (xarray's sel keyword)
            ds = ds.rename({"method": "estimator"})
        return cls(ds)


def _cluster_rate(part: pd.DataFrame, flag: str) -> tuple[float, float]:
    """Share of rows with ``flag`` and its cluster (study) SE."""
    if part.empty:
        return np.nan, np.nan
    per = part.groupby("study")[flag].agg(["sum", "count"])
    rate = float(per["sum"].sum() / per["count"].sum())
    resid = per["sum"] - rate * per["count"]
    se = float(np.sqrt((resid**2).sum()) / per["count"].sum())
    return rate, se


def operating_characteristics(
    methods: Mapping[str, Any],
    scenarios: Mapping[str, Mapping[str, Any]] | Sequence[str] = ("null", "thesis"),
    designs: Sequence[Sequence[int]] = ((6, 8, 10),),
    n_studies: int | Mapping[str, int] = 100,
    seed: int = 0,
    *,
    studies_by_method: Mapping[str, int] | None = None,
    ci_prob: float = CI_PROB,
    extra_ci_probs: Sequence[float] = (),
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
    sampler: str = "pymc",
    target_accept: float | None = None,
    client: Any = None,
    n_jobs: int | None = None,
    path: Any = None,
    progress: bool = True,
) -> OperatingCharacteristics:
    """Fit every method to the same simulated studies; record the slopes' intervals.

    Parameters
    ----------
    methods : mapping of str to method
        Name to a callable ``seqs -> BayesianModel`` (a lagnest model whose
        ``beta_typical`` slopes are reported; picklable, cloudpickle handles lambdas)
        or to an anchor object with ``estimate(seqs, seed, ci_prob) -> dict`` returning
        ``labels`` (``"column|category"``), ``mean``, ``median``, ``lower``, ``upper``,
        ``rhat_max``, ``ess_min``, ``n_divergent`` and ``failed``.
    scenarios : mapping or sequence of str
        Name to overrides of :func:`lagnest.simulate.thesis_like_params` (rupture effects
        as ``LagEffect`` or ``(given, target, lag, log_odds)`` tuples), or names of
        :data:`SCENARIOS`.
    designs : sequence of (dyads, sessions, segments)
        Study designs; every session has the same number of segments.
    n_studies : int or mapping of design label to int, default 100
        Studies per scenario and design (e.g. ``{"6x8x10": 100, "20x8x10": 50}``).
    studies_by_method : mapping of method name to int, optional
        Studies per scenario and design for the named methods instead of ``n_studies``
        (e.g. more studies for the candidate that became the default, fewer for a slow
        anchor). Study r is the same simulated study for every method that runs it, and
        each method's rates count the studies it ran.
    seed : int, default 0
        Run seed. Study r of (scenario, design) is simulated from its own seed (the same
        for every method, so methods are compared on the same studies); each fit's seed
        comes from the task key.
    ci_prob : float, default 0.95
        Probability of the central intervals (lagnest's default, ``CI_PROB``, the level
        of every fit's summary).
    extra_ci_probs : sequence of float, default ()
        Further probabilities at which every fit's intervals are recorded as well (e.g.
        ``(0.95,)``), so that the rates can be read at each from the same fits
        (``summary(ci_prob=0.95)``). An anchor then receives them as
        ``estimate(..., extra_ci_probs=...)`` and returns ``extra_lower`` and
        ``extra_upper`` (one list per probability).
    draws, tune, chains, sampler, target_accept
        Sampler settings of the lagnest fits.
    client, n_jobs, path, progress
        As in :func:`lagnest.calibration.sbc` (``path=`` resumes an interrupted run).

    Returns
    -------
    OperatingCharacteristics

    Notes
    -----
    Truths come from :func:`lagnest.simulate.implied.rupture_slopes`: the lagged MIA
    effects and the persistence of each rupture state in the parameters of the rupture
    regression (reference ``none``), exact for the simulator's generative model. A fit
    that fails its diagnostics on the reported slopes (R-hat, bulk and tail ESS,
    divergences) is kept and counted (``failed_fits``); a study a method cannot fit at
    all (e.g. a predictor that never occurs) is counted in ``errors``.
    """
    extra = tuple(float(p) for p in extra_ci_probs)
    for p in (ci_prob, *extra):
        if not 0 < p < 1:
            raise ValueError(f"ci_prob must be in (0, 1), got {p}")
    if any(np.isclose(p, ci_prob) for p in extra) or len(set(extra)) < len(extra):
        raise ValueError(f"extra_ci_probs {list(extra)} repeat a probability (ci_prob "
                         f"{ci_prob})")
    if isinstance(scenarios, Mapping):
        named = [(str(k), dict(v)) for k, v in scenarios.items()]
    else:
        unknown = [s for s in scenarios if s not in SCENARIOS]
        if unknown:
            raise ValueError(f"unknown scenarios {unknown}; known: {sorted(SCENARIOS)}")
        named = [(s, SCENARIOS[s]) for s in scenarios]
    designs = [tuple(int(v) for v in d) for d in designs]
    labels = [design_label(d) for d in designs]
    counts = ({lab: int(n_studies) for lab in labels} if isinstance(n_studies, int)
              else {lab: int(n_studies[lab]) for lab in labels})
    method_items = list(methods.items())
    by_method = dict(studies_by_method or {})
    unknown = [name for name in by_method if name not in methods]
    if unknown:
        raise ValueError(f"studies_by_method names unknown methods {unknown}; methods: "
                         f"{list(methods)}")

    def n_of(m: int, d: int) -> int:
        return int(by_method.get(method_items[m][0], counts[labels[d]]))

    n_max = max(n_of(m, d) for m in range(len(method_items)) for d in range(len(labels)))
    # study-major order: an interrupted run has every method on the same first studies
    keys = [(m, s, d, r) for r in range(n_max)
            for m, s, d in itertools.product(range(len(method_items)), range(len(named)),
                                             range(len(designs)))
            if r < n_of(m, d)]
    options = {"draws": int(draws), "tune": int(tune), "chains": int(chains),
               "sampler": sampler, "target_accept": target_accept}
    run_config = {"kind": "operating_characteristics", "seed": int(seed), "ci_prob": ci_prob,
                  "sampler": options, "designs": labels,
                  "methods": [name for name, _ in method_items],
                  "method_settings": [_describe(method) for _, method in method_items],
                  "scenarios": {name: repr(sorted(ov.items())) for name, ov in named}}
    payload = {"methods": method_items, "scenarios": named, "designs": designs,
               "seed": int(seed), "ci_prob": ci_prob, "sampler": options,
               "extra_ci_probs": extra}
    if extra:  # (absent otherwise: the runs recorded before the option keep their id)
        run_config["extra_ci_probs"] = list(extra)
    results, info = engine.run_tasks(_oc_task, payload, keys, seed=seed, config=run_config,
                                     path=path, client=client, n_jobs=n_jobs,
                                     progress=progress, desc="operating characteristics")
    return _assemble(results, method_items, named, labels, n_max, run_config, info)


def _kind(label: str) -> str:
    """``"history"`` for the rupture's own past (``"rupture=...|..."``), else "predictor"."""
    return "history" if label.startswith("rupture=") else "predictor"


def _describe(method: Any) -> str:
    """What a method is (part of the run id: other settings under one name are another run).

    An anchor (an object with ``estimate``) is its ``repr``. A model factory is its
    arguments (a :func:`lagnest_method`) or its code (another function: module, name, a
    digest of its bytecode and constants, and the simple values it closes over; never a
    memory address, which differs in every process and would make a run impossible to
    resume), together with the library defaults a LaggedRegression built by it relies on
    (the model's argument defaults and default priors): a run recorded under one default is
    not resumed with fits under another after an upgrade changed it.
    """
    if hasattr(method, "estimate"):
        return repr(method)
    from lagnest.models import LaggedRegression

    args = getattr(method, "args", None)
    what: dict[str, Any] = ({"arguments": args[0]} if args  # a lagnest_method partial
                            else {"function": _function_identity(method)})
    signature = inspect.signature(LaggedRegression.__init__).parameters.values()
    what["defaults"] = {p.name: p.default for p in signature
                        if p.default is not inspect.Parameter.empty}
    what["default_priors"] = {name: repr(prior) for name, prior in
                              LaggedRegression.default_priors.items()}
    return json.dumps(what, sort_keys=True, default=str)


_PLAIN = (str, int, float, bool, type(None), tuple, list, dict)


def _code_digest(code: Any) -> str:
    """Digest of a code object: bytecode, names and constants (nested code recursively)."""
    consts = [_code_digest(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts]
    text = repr((code.co_code, code.co_names, consts))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _function_identity(func: Any) -> str:
    """A callable as the same text in every process (see :func:`_describe`)."""
    code = getattr(func, "__code__", None)
    if code is None:  # another callable object: its type and its plain attributes
        fields = {k: v for k, v in sorted(vars(func).items()) if isinstance(v, _PLAIN)} \
            if hasattr(func, "__dict__") else {}
        return f"{type(func).__module__}.{type(func).__qualname__} {fields!r}"
    cells = [c.cell_contents if isinstance(c.cell_contents, _PLAIN)
             else type(c.cell_contents).__qualname__ for c in (func.__closure__ or ())]
    defaults = [d if isinstance(d, _PLAIN) else type(d).__qualname__
                for d in (func.__defaults__ or ())]
    return (f"{func.__module__}.{func.__qualname__} code {_code_digest(code)} "
            f"closure {cells!r} defaults {defaults!r}")


def _assemble(results: Mapping[tuple, dict], methods: list, scenarios: list,
              labels: list[str], n_study: int, run_config: dict,
              info: dict) -> OperatingCharacteristics:
    params = sorted({lab for res in results.values() if res.get("ok")
                     for lab in res["labels"]})
    index = {p: i for i, p in enumerate(params)}
    shape = (len(methods), len(scenarios), len(labels), n_study)
    values = {f: np.full((*shape, len(params)), np.nan)
              for f in ("truth", "mean", "median", "lower", "upper")}
    extra = list(run_config.get("extra_ci_probs", []))
    at = {f: np.full((*shape, len(extra), len(params)), np.nan)
          for f in ("lower_at", "upper_at")}
    fit_fields = {f: np.full(shape, np.nan) for f in ("rhat_max", "ess_min", "n_divergent",
                                                      "seconds")}
    ok = np.zeros(shape, dtype=bool)
    failed = np.zeros(shape, dtype=bool)
    present = np.zeros(shape, dtype=bool)
    for (m, s, d, r), res in results.items():
        present[m, s, d, r] = True
        fit_fields["seconds"][m, s, d, r] = res["seconds"]
        if not res.get("ok"):
            continue
        ok[m, s, d, r] = True
        failed[m, s, d, r] = bool(res["failed"])
        for f in ("rhat_max", "ess_min", "n_divergent"):
            fit_fields[f][m, s, d, r] = res.get(f, np.nan)
        cols = [index[lab] for lab in res["labels"]]
        for f in ("mean", "median", "lower", "upper"):
            values[f][m, s, d, r, cols] = res[f]
        for f, key in (("lower_at", "extra_lower"), ("upper_at", "extra_upper")):
            for j, row in enumerate(res.get(key, [])[:len(extra)]):
                at[f][m, s, d, r, j, cols] = row
        values["truth"][m, s, d, r, cols] = [np.nan if t is None else t for t in res["truth"]]
    # "estimator", not "method": ``sel(method=...)`` is xarray's inexact-match keyword
    dims = ("estimator", "scenario", "design", "study")
    levels = {f: ((*dims, "extra_ci_prob", "parameter"), v) for f, v in at.items()} if extra else {}
    ds = xr.Dataset(
        {**{f: ((*dims, "parameter"), v) for f, v in values.items()}, **levels,
         **{f: (dims, v) for f, v in fit_fields.items()},
         "ok": (dims, ok), "failed": (dims, failed), "run": (dims, present)},
        coords={"estimator": [name for name, _ in methods],
                "scenario": [name for name, _ in scenarios], "design": labels,
                "study": np.arange(n_study), "parameter": params,
                **({"extra_ci_prob": extra} if extra else {}),
                "kind": ("parameter", [_kind(p) for p in params])},
        attrs={"ci_prob": run_config["ci_prob"],
               "thresholds": json.dumps(DEFAULT_THRESHOLDS),
               "lagnest_calibration": json.dumps({**run_config, "run_id": info["run_id"],
                                                  "versions": package_versions()})},
    )
    return OperatingCharacteristics(ds)


def lagnest_method(**kwargs: Any) -> Callable[[Any], Any]:
    """A method: ``LaggedRegression(seqs, **kwargs)`` (default: rupture on the MIA stream)."""
    from functools import partial

    return partial(_regression, {"target": "rupture", "predictors": ["mia"], **kwargs})


def _regression(kwargs: Mapping[str, Any], seqs: Any) -> Any:
    from lagnest.models import LaggedRegression

    return LaggedRegression(seqs, **kwargs)
