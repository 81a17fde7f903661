"""Recovery of ``LaggedRegression``: do 90% intervals cover known effects 85-95% of the time?

Model throughout: ``LaggedRegression(seqs, "rupture", ["mia"], center="dyad")`` with its
default priors (rupture at t, reference ``none``, on its own state and MIA1..MIA8 at t - 1,
indicators centred within dyad, dyad and session-within-dyad intercepts per category).
Intervals are central (equal-tailed) 90% intervals. Three studies, each of ``--n-fits``
fits; fit ``i`` of a study draws its seeds from ``SeedSequence([run_seed, study, i])``.

1. **own** (simulation-based, SBC-like). One thesis-like design,
   ``lagnest.simulate.thesis_like(seed=design_seed)`` (6 dyads, 6-10 sessions of 10
   segments). For each fit: one draw of every variable from the model's prior
   (``model.prior_predictive(draws=1, seed=...)``), counts simulated from it over the
   design with ``model.simulate`` (each (session, predictor pattern) row keeps its total
   and its predictors, so the rupture state at t - 1 is the corpus's: the likelihood is
   conditional on the predictors), and a fit of the same model object on them
   (``model.fit(observed=...)``: same graph, not rebuilt). Checked: population intercepts
   (3), population slopes (11 columns x 3 categories), the scales ``sigma_dyad``,
   ``sigma_session`` and ``tau`` (3 each): 45 values per fit. With the truth drawn from the
   prior the expected coverage is exactly 90%. Prior draws can make a category (nearly)
   absent; such data are kept and counted.

2. **simulator**. Corpora from ``lagnest.simulate.thesis_like(seed=i)``, i = 0, 1, ...;
   one model per corpus (the design changes). The simulator's truth, stated in this
   model's parameters:

   The simulator draws withdrawal W_t and confrontation C_t as two *independent* Bernoulli
   events given everything else (``simulate/_engine.py: draw_ruptures``), with
   ``logit P(F_t = 1) = e_F = logit(rate_F) + u_dF + v_s + sum_k beta_Fk (MIA_k[t-1] -
   prev_k) + rho_F (F_{t-1} - rate_F)`` for F in {W, C}; ``u_d`` bivariate normal, ``v_s``
   shared by both families. The derived ``rupture`` is none = (0,0), withdrawal = (1,0),
   confrontation = (0,1), both = (1,1). Independence gives
   ``P(none) = 1/((1+e^eW)(1+e^eC))`` and hence exactly
   ``log P(withdrawal)/P(none) = e_W``, ``log P(confrontation)/P(none) = e_C``,
   ``log P(both)/P(none) = e_W + e_C``: a multinomial logit of the model's form, with the
   "both" logit constrained to the sum (the model leaves it free, which is not a
   misspecification, only a redundancy). The state at t - 1 fixes W_{t-1} and C_{t-1}
   (W_{t-1} = [withdrawal or both at t-1]), so the true slopes (log odds ratios against
   ``none``) are, per category (withdrawal, confrontation, both):

   - ``MIA_k[t-1]``: (beta_Wk, beta_Ck, beta_Wk + beta_Ck): MIA1 (-0.5, 0, -0.5),
     MIA2 (0, 0.4, 0.4), MIA4 (0, -0.8, -0.8), the other five (0, 0, 0);
   - ``rupture=withdrawal[t-1]``: (rho_W, 0, rho_W) = (0.8, 0, 0.8);
     ``rupture=confrontation[t-1]``: (0, rho_C, rho_C) = (0, 0.8, 0.8);
     ``rupture=both[t-1]``: (rho_W, rho_C, rho_W + rho_C) = (0.8, 0.8, 1.6).

   These hold for every dyad and session (conditional effects; the MIA process does not
   depend on ruptures, and the state-mindfulness effect on ruptures is 0, so nothing
   confounds them), and centring within dyad moves only intercepts. The derivation is
   checked twice (``--study derivation``, ``derivation_check`` in the results): the
   derived logits, with the dyad and session deviations from the simulator's ``Truth``,
   equal the logits of the probabilities the simulator used (``truth.segments``) on every
   segment of a 100-dyad corpus; and an independent oracle, ``statsmodels`` ``MNLogit`` on
   the per-segment design of a 10^6-segment corpus without group variation
   (``dyad_sd_* = session_sd = 0``), recovers the derived coefficients.

   Group level: the session deviation ``v_s`` enters W and C alike, so the model's
   session scales are exactly ``session_sd x (1, 1, 2)`` = (0.3, 0.3, 0.6) (its session
   deviations are independent across categories where the truth's are perfectly
   correlated: a misspecification of their correlation, not of their scales). A dyad's
   intercept in the model's (centred) parameterisation is
   ``a_k + u_dk + sum_j B_jk xbar_dj`` (a: the uncentred intercepts, B: the slopes above,
   xbar_d: the dyad's means of the 11 columns over its fitted segments, u_d,both =
   u_dW + u_dC), so the implied population intercept and ``sigma_dyad`` are the mean and
   SD of that quantity over dyads of the thesis design, computed here over 20,000 simulated
   dyads (``implied_truth``). These depend on the design and on the normal approximation of
   a non-normal dyad distribution, so they are reported apart from the slopes.

3. **null**. Corpora from ``lagnest.simulate.null(seed=i)`` (no lagged effects, no
   persistence, no group variation): the share of the 8 MIA slopes x 3 categories whose
   90% interval contains 0 (target >= 85%), and the share of fits in which any of the 24
   excludes 0. The history slopes (truth 0 as well) are reported beside them.

Every fit's diagnostics (R-hat over the model's diagnostic variables, divergences, ESS) are
recorded; coverage is reported over all fits and over the fits without R-hat > 1.01 or
divergences. Binomial SEs treat the intervals as independent; intervals of one fit are
correlated, so a between-fit SE (SD of the per-fit coverage / sqrt(fits)) is given too.

Run (each study in its own process, one core per fit; results merge into one file, and a
run with ``--start N`` adds fits N, N+1, ... to a study with the same settings)::

    NUMBA_NUM_THREADS=1 nohup .venv/bin/python benchmarks/recovery_regression.py \\
        --study own > /tmp/rr_own.log 2>&1 &
    NUMBA_NUM_THREADS=1 nohup .venv/bin/python benchmarks/recovery_regression.py \\
        --study simulator > /tmp/rr_sim.log 2>&1 &
    NUMBA_NUM_THREADS=1 nohup .venv/bin/python benchmarks/recovery_regression.py \\
        --study null > /tmp/rr_null.log 2>&1 &
    .venv/bin/python benchmarks/recovery_regression.py --study derivation

Writes ``benchmarks/results/recovery_regression.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import math
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from scipy.special import logit

import lagnest as ln
from lagnest._summaries import summarise
from lagnest.errors import LagnestDataError
from lagnest.models import LaggedRegression
from lagnest.models._fit import package_versions
from lagnest.simulate import SimulationParams

RESULTS = Path(__file__).parent / "results"
STUDIES = {"own": 1, "simulator": 2, "null": 3}
MODEL_ARGS: dict[str, Any] = {"target": "rupture", "predictors": ["mia"], "center": "dyad"}
CATEGORIES = ("withdrawal", "confrontation", "both")
FAMILIES = ("withdrawal", "confrontation")  # the simulator's two binary processes
CHECKED = ("intercept_typical", "beta_typical", "sigma_dyad", "sigma_session", "tau")


# =========================================================================== seeds, fits


def seeds(run_seed: int, study: str, index: int, n: int = 3) -> list[int]:
    """``n`` independent seeds of fit ``index`` of ``study``."""
    state = np.random.SeedSequence([run_seed, STUDIES[study], index]).generate_state(n)
    return [int(s) for s in state]


def flatten(name: str, da: xr.DataArray) -> dict[str, float]:
    """``{"name[coord, coord]": value}`` for every cell of ``da``."""
    if not da.dims:
        return {name: float(da)}
    series = da.to_series()
    out = {}
    for key, value in series.items():
        parts = key if isinstance(key, tuple) else (key,)
        out[f"{name}[{', '.join(str(p) for p in parts)}]"] = float(value)
    return out


def intervals(result: Any, names: tuple[str, ...], ci_prob: float) -> dict[str, list[float]]:
    """``{label: [lower, upper, mean]}`` of the named posterior variables."""
    out: dict[str, list[float]] = {}
    for name in names:
        if name not in result.draws:
            continue
        s = summarise(result.draws[name], ci_prob)
        lo, hi, mean = (flatten(name, s[v]) for v in ("lower", "upper", "mean"))
        out.update({k: [lo[k], hi[k], mean[k]] for k in lo})
    return out


def fit(model: LaggedRegression, args: argparse.Namespace, seed: int,
        observed: dict[str, np.ndarray] | None = None) -> Any:
    """One fit with the study's sampler settings (warnings recorded, not raised)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(draws=args.draws, tune=args.tune, chains=args.chains,
                         cores=args.cores, seed=seed, observed=observed, warn=False)


def diagnostics(result: Any) -> dict[str, Any]:
    """The fit's diagnostics and timings, JSON-ready."""
    d = result.diagnostics
    info = result.config["sampler"]
    ess_min = d.thresholds["ess_per_chain"] * d.n_chains
    return {
        "rhat_max": round(float(d.rhat_max), 4),
        "ess_bulk_min": round(float(d.ess_bulk_min), 1),
        "ess_tail_min": round(float(d.ess_tail_min), 1),
        "divergences": int(d.n_divergent),
        "treedepth_hits": int(d.n_max_treedepth),
        "rhat_failed": bool(d.rhat_max > d.thresholds["rhat"]),
        "ess_failed": bool(min(d.ess_bulk_min, d.ess_tail_min) < ess_min),
        "compile_seconds": round(float(info["compile_seconds"]), 2),
        "sampling_seconds": round(float(info["sampling_seconds"]), 2),
    }


def record(index: int, fit_seeds: dict[str, int], truth: dict[str, float],
           result: Any, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """One fit's truth, intervals and diagnostics (per checked parameter)."""
    ci = intervals(result, CHECKED, args.ci_prob)
    params = {}
    for label, value in truth.items():
        lo, hi, mean = ci[label]
        params[label] = {"truth": round(value, 5), "lower": round(lo, 5),
                         "upper": round(hi, 5), "mean": round(mean, 5),
                         "covered": bool(lo <= value <= hi)}
    return {"index": index, "seeds": fit_seeds, **extra, "diagnostics": diagnostics(result),
            "params": params}


def category_counts(counts: np.ndarray, labels: tuple[str, ...]) -> dict[str, int]:
    """Total count of each target category."""
    return {lab: int(c) for lab, c in zip(labels, np.asarray(counts).sum(axis=0), strict=True)}


def progress(study: str, i: int, n: int, rec: dict[str, Any], t0: float) -> None:
    """One line per fit."""
    cov = [p["covered"] for p in rec["params"].values()]
    d = rec["diagnostics"]
    print(f"[{study}] fit {i + 1}/{n}: {sum(cov)}/{len(cov)} covered, R-hat {d['rhat_max']:.3f},"
          f" div {d['divergences']}, ESS {d['ess_bulk_min']:.0f}, "
          f"{time.perf_counter() - t0:.0f} s elapsed", flush=True)


# =========================================================================== study 1: own


def study_own(args: argparse.Namespace) -> dict[str, Any]:
    """Prior draw -> ``model.simulate`` -> fit on one fixed thesis-like design."""
    seqs, _ = ln.simulate.thesis_like(seed=args.design_seed)
    model = LaggedRegression(seqs, **MODEL_ARGS)
    labels = model.data.target_labels
    graph = model.build()
    fits, t0 = [], time.perf_counter()
    for i in range(args.start, args.start + args.n_fits):
        prior_seed, sim_seed, fit_seed = seeds(args.seed, "own", i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prior = model.prior_predictive(draws=1, seed=prior_seed)
        draw = prior.draws.isel(chain=0, draw=0)
        truth: dict[str, float] = {}
        for name in CHECKED:
            if name in draw:
                truth.update(flatten(name, draw[name]))
        observed = model.simulate(draw, np.random.default_rng(sim_seed))
        result = fit(model, args, fit_seed, observed)
        assert model.build() is graph  # the same graph, refitted on new counts
        rec = record(i, {"prior": prior_seed, "simulate": sim_seed, "fit": fit_seed}, truth,
                     result, args, category_counts=category_counts(observed["counts"], labels))
        fits.append(rec)
        progress("own", i - args.start, args.n_fits, rec, t0)
    return {
        "design": {"corpus": f"thesis_like(seed={args.design_seed})",
                   "segments": int(seqs.n_segments),
                   "fitted_segments": int(model.data.counts.sum()),
                   "rows": int(model.data.table.n_rows), "dyads": int(seqs.n_dyads),
                   "sessions": int(seqs.n_sessions),
                   "structure": model.structure.to_dict()},
        "fits": fits,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def degenerate_data(fits: list[dict[str, Any]], n_valid: int) -> dict[str, Any]:
    """How often prior draws gave (nearly) absent or dominant categories."""
    counts = np.array([list(f["category_counts"].values()) for f in fits])
    return {
        "fits_with_an_absent_category": int((counts == 0).any(axis=1).sum()),
        "fits_with_a_category_under_5": int((counts < 5).any(axis=1).sum()),
        "fits_with_a_category_over_95pct": int((counts > 0.95 * n_valid).any(axis=1).sum()),
        "kept": "all (the prior implies them; dropping them would bias the check)",
    }


def classify_own(label: str, truth: float) -> str:
    """Parameter class of a label in the own-hook study."""
    if label.startswith("beta_typical[rupture="):
        return "slopes: history"
    if label.startswith("beta_typical["):
        return "slopes: MIA"
    return label.split("[", 1)[0]


# =========================================================================== study 2: simulator


def true_slopes(params: SimulationParams, feature_names: list[str]) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """The simulator's effects as this model's slopes ``B (P, 3)`` and intercepts ``a (3)``.

    ``a`` is the log odds of each category against ``none`` with every column at 0
    (uncentred), at the population values of the dyad and session baselines (u = v = 0).
    See the module docstring for the derivation.
    """
    r, m = params.ruptures, params.mindfulness
    if r.rupture_state_effect != 0:
        raise ValueError("the derivation assumes no state-mindfulness effect on ruptures")
    if any(e.lag != 1 for e in r.rupture_effects):
        raise ValueError("the model has lag 1 only: every rupture effect must be at lag 1")
    mia = [f"MIA{k + 1}" for k in range(len(m.mia_prevalence))]
    family = {f: np.zeros(len(feature_names)) for f in FAMILIES}
    intercept = {}
    for f in FAMILIES:
        offset = logit(r.rate(f)) - r.persistence(f) * r.rate(f)
        for e in r.rupture_effects:
            if e.target == f:
                family[f][feature_names.index(f"{e.given}[t-1]")] += e.log_odds
                offset -= e.log_odds * m.mia_prevalence[mia.index(e.given)]
        for state in (f, "both"):  # F_{t-1} = 1 in these states
            family[f][feature_names.index(f"rupture={state}[t-1]")] = r.persistence(f)
        intercept[f] = offset
    slopes = np.stack([family["withdrawal"], family["confrontation"],
                       family["withdrawal"] + family["confrontation"]], axis=1)
    a = np.array([intercept["withdrawal"], intercept["confrontation"],
                  intercept["withdrawal"] + intercept["confrontation"]])
    return slopes, a


def lag1_design(seqs: Any) -> tuple[np.ndarray, ...]:
    """Per-segment lag-1 design (written here, not the model's kernel): y, X, dyad, session, t.

    Columns of X: rupture=withdrawal/confrontation/both at t - 1, MIA1..MIA8 at t - 1.
    Pairs (t - 1, t) inside one block only (the simulator has no uncoded segments).
    """
    y, _ = seqs.categorical("rupture")
    mia, _ = seqs.indicator_matrix("mia")
    enc = seqs.encoded
    bo = np.asarray(enc.block_offsets)
    starts, ends = bo[:-1], bo[1:]
    t = np.concatenate([np.arange(s + 1, e) for s, e in zip(starts, ends, strict=True)])
    seg_session = np.repeat(np.arange(len(enc.session_offsets) - 1),
                            np.diff(enc.session_offsets))
    prev = np.asarray(y)[t - 1]
    x = np.column_stack([(prev == k).astype(float) for k in (1, 2, 3)]
                        + [np.asarray(mia)[t - 1].astype(float)])
    dyad = np.asarray(enc.session_dyad)[seg_session[t]]
    return np.asarray(y)[t], x, dyad, seg_session[t], t


def implied_truth(params: SimulationParams, feature_names: list[str], n_dyads: int,
                  seed: int) -> dict[str, float]:
    """The simulator's truth in this model's parameters (slopes exact; see docstring)."""
    slopes, a = true_slopes(params, feature_names)
    big, truth = ln.simulate.simulate(params.replace(n_dyads=n_dyads), seed=seed)
    _, x, dyad, _, _ = lag1_design(big)
    weight = np.bincount(dyad, minlength=n_dyads).astype(float)
    centres = np.stack([np.bincount(dyad, weights=x[:, j], minlength=n_dyads)
                        for j in range(x.shape[1])], axis=1) / weight[:, None]
    r = params.ruptures
    u = np.stack([truth.dyads[f"{f}_logit"].to_numpy() - logit(r.rate(f)) for f in FAMILIES],
                 axis=1)
    u = np.column_stack([u, u.sum(axis=1)])
    dyad_intercepts = a + u + centres @ slopes
    out = {}
    for j, name in enumerate(feature_names):
        for k, cat in enumerate(CATEGORIES):
            out[f"beta_typical[{name}, {cat}]"] = float(slopes[j, k])
    for k, cat in enumerate(CATEGORIES):
        out[f"intercept_typical[{cat}]"] = float(dyad_intercepts[:, k].mean())
        out[f"sigma_dyad[{cat}]"] = float(dyad_intercepts[:, k].std())
        out[f"sigma_session[{cat}]"] = float(r.session_sd * (2.0 if cat == "both" else 1.0))
    return out


def exact_check(params: SimulationParams, feature_names: list[str], seed: int,
                n_dyads: int = 100) -> dict[str, Any]:
    """Derived logits vs the probabilities the simulator used, with group variation on.

    For every target segment of a corpus, ``a + x B + u_d + v_s`` (the derivation, with the
    dyad and session deviations from the simulator's truth) against ``logit(p_F)`` stored
    in ``truth.segments`` for both families.
    """
    slopes, a = true_slopes(params, feature_names)
    seqs, truth = ln.simulate.simulate(params.replace(n_dyads=n_dyads), seed=seed)
    _, x, dyad, session, t = lag1_design(seqs)
    r = params.ruptures
    v = truth.sessions["rupture_session_dev"].to_numpy()[session]
    out = {"segments": len(t)}
    for k, f in enumerate(FAMILIES):
        u = truth.dyads[f"{f}_logit"].to_numpy()[dyad] - logit(r.rate(f))
        derived = a[k] + x @ slopes[:, k] + u + v
        used = logit(truth.segments[f"p_{f}"].to_numpy()[t])
        out[f"max_abs_logit_difference_{f}"] = float(np.abs(derived - used).max())
    return out


def derivation_check(params: SimulationParams, feature_names: list[str], segments: int,
                     seed: int) -> dict[str, Any]:
    """Fit statsmodels' MNLogit to a large corpus without group variation (the oracle)."""
    import statsmodels.api as sm

    n_dyads = max(segments // 1000, 1)
    flat = params.replace(n_dyads=n_dyads, sessions_per_dyad=(10, 10),
                          segments_per_session=(100, 100), dyad_sd_withdrawal=0.0,
                          dyad_sd_confrontation=0.0, session_sd=0.0)
    big, _ = ln.simulate.simulate(flat, seed=seed)
    y, x, _, _, _ = lag1_design(big)
    t0 = time.perf_counter()
    res = sm.MNLogit(y, np.column_stack([np.ones(len(y)), x])).fit(disp=0, method="newton",
                                                                   maxiter=100)
    est, se = np.asarray(res.params), np.asarray(res.bse)
    slopes, a = true_slopes(flat, feature_names)
    derived = np.vstack([a, slopes])
    z = (est - derived) / se
    rows = ["intercept (uncentred)", *feature_names]
    return {
        "exact_check": exact_check(params, feature_names, seed),
        "segments_fitted": len(y),
        "seconds": round(time.perf_counter() - t0, 1),
        "max_abs_z": round(float(np.abs(z).max()), 2),
        "table": [{"column": rows[j], "category": CATEGORIES[k],
                   "derived": round(float(derived[j, k]), 4),
                   "mnlogit": round(float(est[j, k]), 4), "se": round(float(se[j, k]), 4)}
                  for j in range(len(rows)) for k in range(3)],
    }


def corpus_study(args: argparse.Namespace, study: str,
                 make: Callable[[int], tuple[Any, Any]],
                 truth_of: Callable[[list[str]], dict[str, float]]) -> dict[str, Any]:
    """Fit the model to ``args.n_fits`` corpora ``make(seed)``, seeds 0, 1, ..."""
    fits, skipped, t0 = [], [], time.perf_counter()
    corpus_seed = args.start
    while len(fits) < args.n_fits:
        seqs, _ = make(corpus_seed)
        try:
            model = LaggedRegression(seqs, **MODEL_ARGS)
            labels = model.data.target_labels
        except LagnestDataError as err:  # e.g. a state at t-1 that never occurs
            skipped.append({"corpus_seed": corpus_seed, "reason": str(err)})
            corpus_seed += 1
            continue
        (fit_seed,) = seeds(args.seed, study, corpus_seed, 1)
        result = fit(model, args, fit_seed)
        truth = truth_of(model.data.feature_names)
        rec = record(corpus_seed, {"corpus": corpus_seed, "fit": fit_seed}, truth, result, args,
                     category_counts=category_counts(model.data.counts, labels),
                     fitted_segments=int(model.data.counts.sum()))
        fits.append(rec)
        progress(study, len(fits) - 1, args.n_fits, rec, t0)
        corpus_seed += 1
    return {"fits": fits, "skipped_corpora": skipped,
            "seconds": round(time.perf_counter() - t0, 1)}


def study_simulator(args: argparse.Namespace) -> dict[str, Any]:
    """thesis_like corpora, seeds 0, 1, ...; truth from :func:`implied_truth`."""
    params = ln.simulate.thesis_like_params()
    t0 = time.perf_counter()
    names = feature_names()
    implied = implied_truth(params, names, args.implied_dyads, seed=args.seed + 11)
    setup = time.perf_counter() - t0

    def truth_of(feature_names: list[str]) -> dict[str, float]:
        if feature_names != names:
            raise RuntimeError(f"unexpected columns {feature_names}")
        return implied

    out = corpus_study(args, "simulator", lambda s: ln.simulate.thesis_like(seed=s), truth_of)
    return {"truth": implied, "truth_dyads_simulated": args.implied_dyads,
            "setup_seconds": round(setup, 1), **out}


def feature_names() -> list[str]:
    """The model's columns on a thesis-like corpus."""
    seqs, _ = ln.simulate.thesis_like(seed=0)
    return LaggedRegression(seqs, **MODEL_ARGS).data.feature_names


def check_derivation(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`derivation_check` of the thesis-like parameters, with the command that ran it."""
    t0 = time.perf_counter()
    check = derivation_check(ln.simulate.thesis_like_params(), feature_names(),
                             args.oracle_segments, seed=args.seed + 7)
    check["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    check["wall_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"[derivation] MNLogit max |z| {check['max_abs_z']} over {check['segments_fitted']} "
          f"segments; exact check {check['exact_check']}", flush=True)
    return check


def classify_simulator(label: str, truth: float) -> str:
    """Parameter class of a label in the simulator study."""
    if label.startswith("beta_typical[rupture="):
        return "slopes: history (exact)"
    if label.startswith("beta_typical["):
        return "slopes: MIA, truth 0" if truth == 0 else "slopes: MIA, truth != 0"
    if label.startswith("sigma_session"):
        return "sigma_session (exact)"
    return label.split("[", 1)[0] + " (implied)"


# =========================================================================== study 3: null


def study_null(args: argparse.Namespace) -> dict[str, Any]:
    """null corpora, seeds 0, 1, ...: every slope is 0."""
    def truth_of(feature_names: list[str]) -> dict[str, float]:
        return {f"beta_typical[{n}, {c}]": 0.0 for n in feature_names for c in CATEGORIES}

    return corpus_study(args, "null", lambda s: ln.simulate.null(seed=s), truth_of)


def classify_null(label: str, truth: float) -> str:
    """Parameter class of a label in the null study."""
    return "slopes: history" if label.startswith("beta_typical[rupture=") else "slopes: MIA"


# =========================================================================== summaries

#: Arguments that may differ between runs whose fits are merged into one study.
RUN_ONLY = ("study", "start", "n_fits", "out")
CLASSIFIERS = {"own": classify_own, "simulator": classify_simulator, "null": classify_null}
PRIMARY = {"own": None, "simulator": "slopes", "null": "slopes: MIA"}


def failed(fit_record: dict[str, Any]) -> bool:
    """R-hat above 1.01 or any divergence."""
    d = fit_record["diagnostics"]
    return bool(d["rhat_failed"] or d["divergences"] > 0)


def coverage(fits: list[dict[str, Any]], keep: Callable[[str, float], bool]) -> dict[str, Any]:
    """Coverage of the selected parameters: rate, binomial SE and between-fit SE."""
    per_fit = []
    for f in fits:
        hits = [p["covered"] for lab, p in f["params"].items() if keep(lab, p["truth"])]
        if hits:
            per_fit.append((sum(hits), len(hits)))
    if not per_fit:
        return {"fits": 0, "intervals": 0}
    covered = sum(c for c, _ in per_fit)
    n = sum(m for _, m in per_fit)
    rate = covered / n
    rates = np.array([c / m for c, m in per_fit])
    between = float(rates.std(ddof=1) / np.sqrt(len(rates))) if len(rates) > 1 else math.nan
    return {"fits": len(per_fit), "intervals": n, "covered": covered, "rate": round(rate, 4),
            "binomial_se": round(math.sqrt(rate * (1 - rate) / n), 4),
            "between_fit_se": round(between, 4)}


def summarise_study(study: str, data: dict[str, Any]) -> dict[str, Any]:
    """Coverage per parameter class and overall, with and without failed fits."""
    fits = data["fits"]
    classify = CLASSIFIERS[study]
    classes = sorted({classify(lab, p["truth"]) for f in fits for lab, p in f["params"].items()})
    ok = [f for f in fits if not failed(f)]
    primary = PRIMARY[study]

    def select(cls: str | None) -> Callable[[str, float], bool]:
        return lambda lab, truth: cls is None or classify(lab, truth).startswith(cls)

    out: dict[str, Any] = {
        "n_fits": len(fits),
        "fits_rhat_over_1.01": sum(f["diagnostics"]["rhat_failed"] for f in fits),
        "fits_with_divergences": sum(f["diagnostics"]["divergences"] > 0 for f in fits),
        "fits_ess_below_threshold": sum(f["diagnostics"]["ess_failed"] for f in fits),
        "fits_failed (rhat or divergences)": len(fits) - len(ok),
        "primary": primary or "all checked parameters",
        "coverage_all_fits": coverage(fits, select(primary)),
        "coverage_ok_fits": coverage(ok, select(primary)),
        "by_class_all_fits": {c: coverage(fits, select(c)) for c in classes},
        "by_class_ok_fits": {c: coverage(ok, select(c)) for c in classes},
        "median_fit_seconds": round(float(np.median(
            [f["diagnostics"]["compile_seconds"] + f["diagnostics"]["sampling_seconds"]
             for f in fits])), 1),
    }
    if study == "own":
        out["degenerate_data"] = degenerate_data(fits, data["design"]["fitted_segments"])
    labels = list(fits[0]["params"])
    out["by_parameter"] = {lab: round(float(np.mean([f["params"][lab]["covered"] for f in fits
                                                     if lab in f["params"]])), 3)
                           for lab in labels}
    if study == "null":
        mia = [lab for lab in labels if classify(lab, 0.0) == "slopes: MIA"]
        any_out = [any(not f["params"][lab]["covered"] for lab in mia) for f in fits]
        out["fits_any_MIA_interval_excludes_0"] = {
            "count": int(sum(any_out)), "share": round(float(np.mean(any_out)), 3),
            "binomial_se": round(float(np.sqrt(np.mean(any_out) * (1 - np.mean(any_out))
                                                / len(fits))), 3)}
    if study == "simulator":
        nonzero = [lab for lab in labels if classify(lab, fits[0]["params"][lab]["truth"])
                   == "slopes: MIA, truth != 0"]
        out["power_interval_excludes_0"] = {
            lab: round(float(np.mean([not (f["params"][lab]["lower"] <= 0
                                           <= f["params"][lab]["upper"]) for f in fits])), 3)
            for lab in nonzero}
        out["mean_posterior_mean_nonzero_slopes"] = {
            lab: round(float(np.mean([f["params"][lab]["mean"] for f in fits])), 3)
            for lab in nonzero}
    return out


# =========================================================================== output


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive lock beside ``path`` (two study processes may finish together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(entry: dict[str, Any]) -> dict[str, Any]:
    """A study written by the first version of this script (one run) in today's layout."""
    if "runs" in entry:
        return entry
    run = {"command": entry["command"], "start": 0, "n_fits": entry["settings"]["n_fits"],
           "seconds": entry["seconds"], "setup_seconds": entry.get("setup_seconds", 0.0)}
    dropped = ("command", "seconds", "setup_seconds", "degenerate_data")
    out = {k: v for k, v in entry.items() if k not in dropped}
    out["settings"] = {k: v for k, v in entry["settings"].items() if k not in RUN_ONLY}
    out["runs"] = [run]
    return out


def load(json_path: Path) -> dict[str, Any]:
    """The results file (studies in today's layout), or an empty one."""
    if not json_path.exists():
        return {"studies": {}}
    doc = json.loads(json_path.read_text())
    doc["studies"] = {k: upgrade(v) for k, v in doc["studies"].items()}
    return doc


def write(out: Path, doc: dict[str, Any]) -> None:
    """Write the JSON and the markdown (call under :func:`locked`)."""
    from lagnest._files import atomic_write

    doc["model"] = f"LaggedRegression(seqs, {MODEL_ARGS})"
    text = json.dumps(doc, indent=1) + "\n"
    atomic_write(out.with_suffix(".json"), lambda p: p.write_text(text))
    md = markdown(doc)
    atomic_write(out.with_suffix(".md"), lambda p: p.write_text(md))


def report(out: Path) -> None:
    """Recompute every study's summary from its fits; rewrite the JSON and markdown."""
    with locked(out):
        doc = load(out.with_suffix(".json"))
        for study, data in doc["studies"].items():
            data["summary"] = summarise_study(study, data)
        write(out, doc)


def save(out: Path, study: str, data: dict[str, Any], args: argparse.Namespace) -> None:
    """Merge one study into the JSON file and rewrite the markdown from all studies."""
    settings = {k: v for k, v in vars(args).items() if k not in RUN_ONLY}
    run = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "start": args.start,
           "n_fits": args.n_fits, "seconds": data["seconds"],
           "setup_seconds": data.get("setup_seconds", 0.0)}
    with locked(out):
        doc = load(out.with_suffix(".json"))
        old = doc["studies"].get(study)
        runs = [run]
        if old is not None and old["settings"] == settings:  # more fits of the same study
            by_index = {f["index"]: f for f in old["fits"]}
            by_index.update({f["index"]: f for f in data["fits"]})
            runs = [*old["runs"], run]
            skipped = {c["corpus_seed"]: c for c in
                       old.get("skipped_corpora", []) + data.get("skipped_corpora", [])}
            data = {**data, "fits": [by_index[i] for i in sorted(by_index)],
                    "skipped_corpora": [skipped[k] for k in sorted(skipped)]}
        data = {k: v for k, v in data.items() if k not in ("seconds", "setup_seconds")}
        data = {"summary": summarise_study(study, data), **data, "settings": settings,
                "runs": runs, "machine": platform.platform(), "versions": package_versions()}
        doc["studies"][study] = data
        write(out, doc)


def _cov(c: dict[str, Any]) -> str:
    """``rate (binomial SE x, between-fit SE y; covered/n)``."""
    if not c.get("intervals"):
        return "-"
    return (f"**{c['rate']:.3f}** (binomial SE {c['binomial_se']:.3f}, between-fit SE "
            f"{c['between_fit_se']:.3f}; {c['covered']}/{c['intervals']})")


TITLES = {
    "own": "1. Own generative hook (prior draw -> `model.simulate` -> fit, fixed design)",
    "simulator": "2. `lagnest.simulate.thesis_like` (truth derived from the simulator)",
    "null": "3. `lagnest.simulate.null` (every slope 0)",
}


def markdown(doc: dict[str, Any]) -> str:
    """The results as markdown (every study present in ``doc``)."""
    lines = ["# Recovery: LaggedRegression", "",
             f"Model: `{doc['model']}`, default priors; central 90% intervals.", ""]
    for study in ("own", "simulator", "null"):
        if study not in doc["studies"]:
            continue
        data = doc["studies"][study]
        s, st = data["summary"], data["settings"]
        runs = "; ".join(
            f"`{r['command']}` (fits {r['start']}..{r['start'] + r['n_fits'] - 1}, "
            f"{r['seconds'] + r['setup_seconds']:.0f} s)" for r in data["runs"])
        lines += [f"## {TITLES[study]}", "",
                  f"{s['n_fits']} fits, {st['chains']} chains x {st['draws']} draws (tune "
                  f"{st['tune']}), cores {st['cores']}, run seed {st['seed']}, median fit "
                  f"{s['median_fit_seconds']} s. Runs (wall time): {runs}.", ""]
        if study == "own":
            dd = s["degenerate_data"]
            lines += [f"Design: {data['design']['corpus']}, {data['design']['fitted_segments']} "
                      f"fitted segments in {data['design']['rows']} session x pattern rows. "
                      f"Prior draws gave data with an absent category in "
                      f"{dd['fits_with_an_absent_category']} fits, a category under 5 "
                      f"segments in {dd['fits_with_a_category_under_5']}, one category over "
                      f"95% in {dd['fits_with_a_category_over_95pct']}; all kept.", ""]
        if study == "simulator" and "derivation_check" not in doc and "derivation_check" in data:
            # results of the first runs kept the MNLogit check inside the simulator study
            chk = data["derivation_check"]
            lines += [f"Derivation check (statsmodels MNLogit, {chk['segments_fitted']:,} "
                      f"segments without group variation): max |estimate - derived| / SE = "
                      f"{chk['max_abs_z']} over {len(chk['table'])} coefficients.", ""]
        if study == "simulator" and "derivation_check" in doc:
            chk = doc["derivation_check"]
            ex = chk["exact_check"]
            worst = max(ex[f"max_abs_logit_difference_{f}"] for f in FAMILIES)
            lines += [f"Derivation check (`{chk['command']}`): statsmodels MNLogit on "
                      f"{chk['segments_fitted']:,} segments without group variation, max "
                      f"|estimate - derived| / SE = {chk['max_abs_z']} over "
                      f"{len(chk['table'])} coefficients; derived logits (with the truth's "
                      f"dyad and session deviations) against the probabilities the simulator "
                      f"used on {ex['segments']:,} segments: max |difference| "
                      f"{worst:.1e}.",
                      ""]
        if data.get("skipped_corpora"):
            lines += [f"Corpora skipped (model could not be built): "
                      f"{[c['corpus_seed'] for c in data['skipped_corpora']]}.", ""]
        lines += [f"- fits with R-hat > 1.01: {s['fits_rhat_over_1.01']}; with divergences: "
                  f"{s['fits_with_divergences']}; with bulk or tail ESS below 100/chain: "
                  f"{s['fits_ess_below_threshold']}",
                  f"- coverage of {s['primary']}, all fits: {_cov(s['coverage_all_fits'])}",
                  f"- the same without the {s['fits_failed (rhat or divergences)']} failed "
                  f"fits: {_cov(s['coverage_ok_fits'])}", ""]
        lines += ["| parameters | coverage, all fits | coverage, fits passing R-hat and "
                  "divergences |", "|---|---|---|"]
        for cls, c in s["by_class_all_fits"].items():
            lines.append(f"| {cls} | {_cov(c)} | {_cov(s['by_class_ok_fits'][cls])} |")
        lines.append("")
        if study == "null":
            a = s["fits_any_MIA_interval_excludes_0"]
            lines += [f"Fits in which any of the 24 MIA intervals excludes 0: {a['count']}/"
                      f"{s['n_fits']} = {a['share']:.2f} (SE {a['binomial_se']:.2f}).", ""]
        if study == "simulator":
            lines += ["| nonzero MIA slope | truth | mean posterior mean | coverage | "
                      "share of fits whose interval excludes 0 |", "|---|---:|---:|---:|---:|"]
            truth = data["truth"]
            for lab, power in s["power_interval_excludes_0"].items():
                lines.append(f"| {lab} | {truth[lab]:.2f} | "
                             f"{s['mean_posterior_mean_nonzero_slopes'][lab]:.2f} | "
                             f"{s['by_parameter'][lab]:.2f} | {power:.2f} |")
            lines += ["", "Implied truth of the group-level parameters: "
                      + ", ".join(f"{k} = {v:.3f}" for k, v in truth.items()
                                  if not k.startswith("beta")), ""]
    return "\n".join(lines)


# =========================================================================== main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="derivation,own,simulator,null",
                        help="comma-separated: derivation (checks of the simulator's truth), "
                        "own, simulator, null")
    parser.add_argument("--n-fits", type=int, default=50)
    parser.add_argument("--start", type=int, default=0,
                        help="index of the first fit (own) or first corpus seed; a run with "
                        "the same settings adds its fits to those already in the results")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261201, help="run seed")
    parser.add_argument("--design-seed", type=int, default=0,
                        help="thesis_like seed of the own-hook study's design")
    parser.add_argument("--ci-prob", type=float, default=0.9)
    parser.add_argument("--oracle-segments", type=int, default=1_000_000)
    parser.add_argument("--implied-dyads", type=int, default=20_000)
    parser.add_argument("--out", default=str(RESULTS / "recovery_regression"))
    parser.add_argument("--report", action="store_true",
                        help="only recompute the summaries and rewrite the markdown")
    args = parser.parse_args(argv)
    if args.report:
        report(Path(args.out))
        return 0
    runners = {"own": study_own, "simulator": study_simulator, "null": study_null}
    wanted = [s.strip() for s in args.study.split(",") if s.strip()]
    unknown = sorted(set(wanted) - {*runners, "derivation"})
    if unknown:
        parser.error(f"unknown studies {unknown}; choose from {[*runners, 'derivation']}")
    if "derivation" in wanted:
        check = check_derivation(args)
        with locked(Path(args.out)):
            doc = load(Path(args.out).with_suffix(".json"))
            doc["derivation_check"] = check
            write(Path(args.out), doc)
    for study in (s for s in wanted if s != "derivation"):
        data = runners[study](args)
        save(Path(args.out), study, data, args)
        print(json.dumps(summarise_study(study, data)["coverage_all_fits"]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
