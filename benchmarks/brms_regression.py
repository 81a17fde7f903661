"""Independent-engine check of ``LaggedRegression``: the same model in brms (Stan).

Does lagnest compute the posterior of the model it claims? The model is fitted on the
example corpus by lagnest (PyMC) and, written independently from the per-segment data, by
brms (Stan's NUTS via rstan), with the same likelihood and the same priors; the posterior
mean and SD of every population parameter are compared.

Model (``lagnest.datasets.load_example()``)::

    LaggedRegression(seqs, "rupture", ["mia"], center=None, shrinkage="none",
                     initial_state=False)

a multinomial logit of ``rupture`` (reference ``none``; categories withdrawal,
confrontation, both) on the rupture state at t-1 (3 dummies) and MIA1..MIA8 at t-1 (0/1),
11 columns, with per-category intercepts and independent dyad and session-within-dyad
random intercepts per category. Priors (named in ``MODEL_ARGS``, as the R script writes
them): intercepts Normal(0, 1.5); MIA slopes Normal(0, 1) (``beta``; the library default
was this when the comparison was run, Normal(0, 1.5) since); history slopes Normal(0, 1.5)
(``history``); ``sigma_dyad``, ``sigma_session`` HalfNormal(0.5) per category.

The brms side (``benchmarks/brms_regression.R``) fits ``categorical(refcat = "none")``
with one formula per category, ``mu<cat> ~ 0 + Intercept + <11 columns> + (1 | dyad) +
(1 | dyad:session)`` (no shared group ID, so no correlation across categories, and the
intercept is the linear predictor at all columns 0, not brms's centred intercept).

Steps (each writes into ``--workdir``, outside the repository)::

    .venv/bin/python benchmarks/brms_regression.py --export      # per-segment CSV
    Rscript benchmarks/brms_regression.R /tmp/lagnest_brms       # brms draws
    .venv/bin/python benchmarks/brms_regression.py --compare     # lagnest fit + table

or all three in one call (the form for ``benchmarks/run_all.py``)::

    .venv/bin/python benchmarks/brms_regression.py --all

``--compare`` writes ``benchmarks/results/brms_regression.{md,json}`` (``--out``). Besides the
posterior moments it checks the likelihood exactly: for a subset of brms's draws (all
parameters, including every dyad and session intercept), lagnest's own logits
(``LaggedRegression.row_logits``) give the per-segment log-likelihood, compared with
brms's ``log_lik`` of the same draws.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import lagnest as ln
from lagnest.models import LaggedRegression
from lagnest.models._fit import package_versions

RESULTS = Path(__file__).parent / "results"
DEFAULT_WORKDIR = Path("/tmp/lagnest_brms")
#: Every prior is named, as ``brms_regression.R`` writes them: a later change of a library
#: default (the MIA slopes' went from Normal(0, 1) to Normal(0, 1.5) after this comparison
#: was run) must not make the two engines fit different models.
MODEL_ARGS: dict[str, Any] = {"target": "rupture", "predictors": ["mia"], "center": None,
                              "shrinkage": "none", "initial_state": False,
                              "priors": {"intercept": {"sigma": 1.5}, "beta": {"sigma": 1.0},
                                         "history": {"sigma": 1.5},
                                         "sigma_dyad": {"sigma": 0.5},
                                         "sigma_session": {"sigma": 0.5}}}
#: Posterior differences larger than this many lagnest posterior SDs fail the check.
TOLERANCE = 0.1
DATA_CSV = "brms_regression_data.csv"
DRAWS_CSV = "brms_draws.csv"
LOGLIK_CSV = "brms_loglik.csv"
INFO_JSON = "brms_info.json"


# =========================================================================== model, data


def build_model() -> LaggedRegression:
    """The compared model on the example corpus."""
    seqs = ln.datasets.load_example()
    return LaggedRegression(seqs, **MODEL_ARGS)


def column_name(feature: str) -> str:
    """A syntactic R name for a design column (``rupture=withdrawal[t-1]`` -> ``hist_withdrawal``).

    History columns (the target's own past) get the prefix ``hist_``, which the R script
    uses to give them the ``history`` prior; the others keep their code (``MIA1``).
    """
    base = feature.split("[")[0]
    if "=" in base:
        return "hist_" + base.split("=", 1)[1]
    return base


def segment_frame(model: LaggedRegression) -> pd.DataFrame:
    """One row per fitted segment: dyad, session, target label and the 11 design columns."""
    d = model.data
    t = d.table
    rows = np.asarray(t.segment_row)
    fitted = np.flatnonzero(rows >= 0)
    r = rows[fitted]
    session = np.asarray(t.row_session)[r]
    dyad = np.asarray(t.session_dyad)[session]
    target = np.asarray(d.segments.target)[fitted]
    labels = np.asarray(d.target_labels, dtype=object)
    frame = pd.DataFrame({
        "segment": fitted,
        "dyad": np.asarray(t.dyad_labels, dtype=object)[dyad],
        "session": np.asarray(t.session_labels, dtype=object)[session],
        "y": labels[target],
    })
    names = [column_name(f) for f in d.feature_names]
    if len(set(names)) != len(names):
        raise RuntimeError(f"design column names collide: {names}")
    for j, name in enumerate(names):
        col = d.design[r, j]
        frame[name] = col.astype(int) if np.all(col == np.round(col)) else col
    # the frame must give back the model's sufficient statistics
    counts = np.zeros_like(t.counts)
    np.add.at(counts, (r, target), 1)
    if not np.array_equal(counts, t.counts):
        raise RuntimeError("per-segment frame does not reproduce the model's counts")
    return frame


def export(args: argparse.Namespace) -> None:
    """Write the per-segment CSV for brms."""
    model = build_model()
    frame = segment_frame(model)
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / DATA_CSV
    frame.to_csv(path, index=False)
    y = frame["y"].value_counts().reindex(model.data.target_labels).fillna(0).astype(int)
    print(f"wrote {path}: {len(frame)} segments, {frame['session'].nunique()} sessions, "
          f"{frame['dyad'].nunique()} dyads; y counts {y.to_dict()}; columns "
          f"{list(frame.columns[4:])}")


# =========================================================================== comparison


def mcse_mean(x: np.ndarray) -> tuple[float, float]:
    """(bulk ESS, Monte Carlo SE of the mean) of draws ``(chain, draw)``."""
    import arviz as az

    ess = float(az.ess(x, method="mean"))
    return ess, float(np.std(x, ddof=1) / math.sqrt(ess))


def quantile_diffs(x: np.ndarray, y: np.ndarray, sd: float) -> dict[str, float]:
    """Differences of the 5% and 95% quantiles in units of ``sd``, and their z (MCSE)."""
    import arviz as az

    out = {}
    for q in (0.05, 0.95):
        diff = float(np.quantile(x, q) - np.quantile(y, q))
        se = math.hypot(float(az.mcse(x, method="quantile", prob=q)),
                        float(az.mcse(y, method="quantile", prob=q)))
        out[f"q{round(q * 100):02d}_diff_in_sd"] = diff / sd
        out[f"q{round(q * 100):02d}_z_mcse"] = diff / se
    return out


def lagnest_draws(result: Any, model: LaggedRegression) -> dict[str, np.ndarray]:
    """Draws ``(chain, draw)`` of every compared parameter, keyed by the comparison label."""
    post = result.posterior
    cats = list(model.data.target_labels[1:])
    out: dict[str, np.ndarray] = {}
    for k in cats:
        out[f"intercept_typical[{k}]"] = post["intercept_typical"].sel(category=k).values
    for f in model.data.feature_names:
        for k in cats:
            out[f"beta_typical[{f}, {k}]"] = (
                post["beta_typical"].sel(feature=f, category=k).values)
    for level in ("dyad", "session"):
        for k in cats:
            out[f"sigma_{level}[{k}]"] = post[f"sigma_{level}"].sel(category=k).values
    return out


def brms_names(model: LaggedRegression) -> dict[str, str]:
    """brms's variable of each comparison label."""
    cats = list(model.data.target_labels[1:])
    names = {}
    for k in cats:
        names[f"intercept_typical[{k}]"] = f"b_mu{k}_Intercept"
        names[f"sigma_dyad[{k}]"] = f"sd_dyad__mu{k}_Intercept"
        names[f"sigma_session[{k}]"] = f"sd_dyad:session__mu{k}_Intercept"
    for f in model.data.feature_names:
        for k in cats:
            names[f"beta_typical[{f}, {k}]"] = f"b_mu{k}_{column_name(f)}"
    return names


def group_of(label: str) -> str:
    """Parameter group of a comparison label."""
    if label.startswith("intercept"):
        return "intercepts"
    if label.startswith("sigma_dyad"):
        return "sigma_dyad"
    if label.startswith("sigma_session"):
        return "sigma_session"
    return "history slopes" if "rupture=" in label else "MIA slopes"


def as_chains(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A brms draws column as ``(chain, draw)``."""
    chains = sorted(frame[".chain"].unique())
    return np.stack([frame.loc[frame[".chain"] == c, column].to_numpy() for c in chains])


def loglik_check(model: LaggedRegression, draws: pd.DataFrame,
                 loglik: pd.DataFrame) -> dict[str, Any]:
    """lagnest's per-segment log-likelihood at brms's draws against brms's ``log_lik``.

    brms's draws give every parameter of the linear predictor: ``b_mu<k>_*`` and the group
    intercepts ``r_dyad__mu<k>[<dyad>,Intercept]``, ``r_dyad:session__mu<k>[<dyad>_<session>,
    Intercept]``. They are mapped to lagnest's ``beta`` ``(P, K - 1)`` and
    ``intercept_session`` ``(S, K - 1)`` and passed to ``LaggedRegression.row_logits``.
    """
    d = model.data
    t = d.table
    cats = list(d.target_labels[1:])
    features = d.feature_names
    rows = np.asarray(t.segment_row)
    fitted = np.flatnonzero(rows >= 0)
    target = np.asarray(d.segments.target)[fitted]
    sessions = list(t.session_labels)
    dyads = list(t.dyad_labels)
    session_dyad = np.asarray(t.session_dyad)
    draw_ids = loglik[".draw"].to_numpy()
    by_draw = draws.set_index(".draw")
    seg_cols = [c for c in loglik.columns if c.startswith("seg_")]
    brms_seg = loglik[seg_cols].to_numpy()
    # brms's data rows are the CSV's rows, one per fitted segment in segment order
    if len(seg_cols) != fitted.size:
        raise RuntimeError(f"brms log_lik has {len(seg_cols)} columns, {fitted.size} segments")
    ours = np.empty_like(brms_seg)
    for i, draw in enumerate(draw_ids):
        row = by_draw.loc[draw]
        beta = np.array([[row[f"b_mu{k}_{column_name(f)}"] for k in cats] for f in features])
        alpha = np.array([row[f"b_mu{k}_Intercept"] for k in cats])
        a = np.array([[row[f"r_dyad__mu{k}[{dy},Intercept]"] for k in cats] for dy in dyads])
        c = np.array([[row[f"r_dyad:session__mu{k}[{dyads[session_dyad[s]]}_{lab},Intercept]"]
                       for k in cats] for s, lab in enumerate(sessions)])
        intercept_session = alpha[None] + a[session_dyad] + c
        logits = model.row_logits({"beta": beta, "intercept_session": intercept_session})
        seg_logits = logits[rows[fitted]]
        m = seg_logits.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(seg_logits - m).sum(axis=1, keepdims=True)))[:, 0]
        ours[i] = seg_logits[np.arange(fitted.size), target] - lse
    diff = np.abs(ours - brms_seg)
    return {
        "draws_checked": int(draw_ids.size),
        "segments": int(fitted.size),
        "max_abs_diff_per_segment": float(diff.max()),
        "max_abs_diff_total": float(np.abs(ours.sum(axis=1) - brms_seg.sum(axis=1)).max()),
        "total_loglik_range": [float(ours.sum(axis=1).min()), float(ours.sum(axis=1).max())],
    }


def fit_lagnest(model: LaggedRegression, args: argparse.Namespace) -> tuple[Any, float]:
    """The lagnest fit and its wall time."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(draws=args.draws, tune=args.tune, chains=args.chains,
                           seed=args.seed, cores=args.cores, warn=False)
    return result, time.perf_counter() - t0


def lagnest_diagnostics(result: Any, wall: float) -> dict[str, Any]:
    """Diagnostics and timings of the lagnest fit (its diagnostic variables)."""
    d = result.diagnostics
    info = result.config["sampler"]
    return {
        "rhat_max": float(d.rhat_max),
        "ess_bulk_min": float(d.ess_bulk_min),
        "ess_tail_min": float(d.ess_tail_min),
        "divergences": int(d.n_divergent),
        "treedepth_hits": int(d.n_max_treedepth),
        "bfmi_min": float(d.bfmi_min),
        "failures": list(d.failures),
        "compile_seconds": float(info["compile_seconds"]),
        "sampling_seconds": float(info["sampling_seconds"]),
        "wall_seconds": wall,
        "target_accept": float(info["target_accept"]),
        "parameterization": result.structure.parameterization if result.structure else None,
    }


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Fit lagnest, read brms's draws, compare; returns the JSON document."""
    import arviz as az

    info = json.loads((args.workdir / INFO_JSON).read_text())
    draws = pd.read_csv(args.workdir / DRAWS_CSV)
    loglik = pd.read_csv(args.workdir / LOGLIK_CSV)
    fitted_with = {k: info["settings"][k] for k in ("seed", "chains", "draws", "warmup")}
    wanted = {"seed": args.seed, "chains": args.chains, "draws": args.draws,
              "warmup": args.tune}
    if fitted_with != wanted:
        raise SystemExit(f"brms ran with {fitted_with}, this comparison asks {wanted}: rerun "
                         "the R script with these settings (or --all)")
    model = build_model()
    # the data brms fitted must be this model's
    frame = segment_frame(model)
    fitted_frame = pd.read_csv(args.workdir / DATA_CSV)
    if not frame.astype(str).equals(fitted_frame.astype(str)):
        raise RuntimeError("the CSV brms fitted is not this model's per-segment frame")
    load_start = os.getloadavg()
    result, wall = fit_lagnest(model, args)
    ours = lagnest_draws(result, model)
    names = brms_names(model)
    params = []
    for label, x in ours.items():
        y = as_chains(draws, names[label])
        ess_l, mcse_l = mcse_mean(x)
        ess_b, mcse_b = mcse_mean(y)
        sd_l = float(np.std(x, ddof=1))
        diff = float(np.mean(x) - np.mean(y))
        params.append({
            "parameter": label,
            "brms": names[label],
            "group": group_of(label),
            "lagnest_mean": float(np.mean(x)),
            "lagnest_sd": sd_l,
            "brms_mean": float(np.mean(y)),
            "brms_sd": float(np.std(y, ddof=1)),
            "diff_in_sd": diff / sd_l,
            "z_mcse": diff / math.hypot(mcse_l, mcse_b),
            "sd_ratio": float(np.std(y, ddof=1)) / sd_l,
            "lagnest_ess_bulk": float(az.ess(x, method="bulk")),
            "brms_ess_bulk": float(az.ess(y, method="bulk")),
            "lagnest_rhat": float(az.rhat(x)),
            "brms_rhat": float(az.rhat(y)),
            "mcse_diff_in_sd": math.hypot(mcse_l, mcse_b) / sd_l,
            **quantile_diffs(x, y, sd_l),
            "lagnest_ess_mean": ess_l,
            "brms_ess_mean": ess_b,
        })
    table = pd.DataFrame(params)
    groups = {}
    for g, sub in table.groupby("group", sort=False):
        worst = sub.loc[sub["diff_in_sd"].abs().idxmax()]
        groups[g] = {
            "n": len(sub),
            "max_abs_diff_in_sd": float(sub["diff_in_sd"].abs().max()),
            "worst": str(worst["parameter"]),
            "max_abs_z_mcse": float(sub["z_mcse"].abs().max()),
            "sd_ratio_range": [float(sub["sd_ratio"].min()), float(sub["sd_ratio"].max())],
            "max_abs_quantile_diff_in_sd": float(
                sub[["q05_diff_in_sd", "q95_diff_in_sd"]].abs().to_numpy().max()),
            "max_abs_quantile_z_mcse": float(
                sub[["q05_z_mcse", "q95_z_mcse"]].abs().to_numpy().max()),
        }
    worst = table.loc[table["diff_in_sd"].abs().idxmax()]
    ll = loglik_check(model, draws, loglik)
    doc = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "model": {"class": "LaggedRegression", "args": MODEL_ARGS,
                  "corpus": "lagnest.datasets.load_example()",
                  "features": model.data.feature_names,
                  "categories": list(model.data.target_labels),
                  "segments": len(frame), "sessions": int(frame["session"].nunique()),
                  "dyads": int(frame["dyad"].nunique()),
                  "priors": {k: v.to_dict() for k, v in sorted(model._priors.items())
                             if k in ("intercept", "beta", "history", "sigma_dyad",
                                      "sigma_session")}},
        "settings": {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                     "seed": args.seed, "cores": args.cores},
        "tolerance_sd": TOLERANCE,
        "max_abs_diff_in_sd": float(abs(worst["diff_in_sd"])),
        "worst_parameter": str(worst["parameter"]),
        "max_abs_z_mcse": float(table["z_mcse"].abs().max()),
        "rms_z_mcse": float(np.sqrt((table["z_mcse"] ** 2).mean())),
        "passed": bool(table["diff_in_sd"].abs().max() <= TOLERANCE),
        "groups": groups,
        "loglik_check": ll,
        "lagnest": {"diagnostics": lagnest_diagnostics(result, wall),
                    "versions": package_versions()},
        "brms": info,
        "machine": platform.platform(),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "commands": COMMANDS,
        "this_command": args.command,
        "parameters": params,
    }
    return doc


def run_brms(args: argparse.Namespace) -> None:
    """Run ``brms_regression.R`` on the work folder with the same sampler settings."""
    import shutil
    import subprocess

    rscript = shutil.which("Rscript")
    if rscript is None:
        raise SystemExit("Rscript not found: apt-get install -y r-cran-brms libboost-dev")
    cores = args.cores if args.cores is not None else min(args.chains, os.cpu_count() or 1)
    cmd = [rscript, str(Path(__file__).with_suffix(".R")), str(args.workdir), str(args.seed),
           str(args.chains), str(args.draws), str(args.tune), str(cores)]
    print("running", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


COMMANDS = [
    "apt-get update && apt-get install -y r-cran-brms libboost-dev  # R 4.2, brms, rstan",
    ".venv/bin/python benchmarks/brms_regression.py --export",
    "Rscript benchmarks/brms_regression.R /tmp/lagnest_brms",
    ".venv/bin/python benchmarks/brms_regression.py --compare",
]


# =========================================================================== report


def _f(x: float, nd: int = 3) -> str:
    return f"{x:.{nd}f}"


def report(doc: dict[str, Any]) -> str:
    """Markdown of a comparison document."""
    b = doc["brms"]
    ld = doc["lagnest"]["diagnostics"]
    bd = b["diagnostics"]
    s = doc["settings"]
    m = doc["model"]
    lines = [
        "# LaggedRegression against brms (Stan): the same model in two engines",
        "",
        f"Run {doc['date']} on {doc['machine']} (2 cores, shared: load average "
        f"{', '.join(f'{x:.2f}' for x in doc['load_average']['start'])} at the lagnest fit's "
        "start).",
        "",
        "Model: `LaggedRegression(seqs, \"rupture\", [\"mia\"], center=None, "
        "shrinkage=\"none\", initial_state=False)` on `lagnest.datasets.load_example()` "
        f"({m['segments']} fitted segments, {m['sessions']} sessions, {m['dyads']} dyads): "
        "multinomial logit of rupture (reference `none`) on the rupture state and MIA1..MIA8 "
        "at t-1, per-category intercepts, independent dyad and session-within-dyad "
        "intercepts per category. Priors: intercepts Normal(0, 1.5), MIA slopes Normal(0, 1), "
        "history slopes Normal(0, 1.5), sigma_dyad and sigma_session HalfNormal(0.5).",
        "",
        "brms: `categorical(refcat = \"none\")`, one formula per category "
        "`mu<k> ~ 0 + Intercept + hist_withdrawal + hist_confrontation + hist_both + "
        "MIA1 + ... + MIA8 + (1 | dyad) + (1 | dyad:session)` (no shared group ID: the "
        "categories' group intercepts are independent, as in lagnest; `0 + Intercept` puts "
        "the intercept prior on the intercept at all columns 0, not on brms's centred "
        "intercept); priors `normal(0, 1.5)` on `b` coef `Intercept` and the `hist_*` "
        "coefs, `normal(0, 1)` on the MIA coefs, `normal(0, 0.5)` on class `sd` "
        "(half-normal: sd >= 0), per dpar. "
        f"Both: {s['chains']} chains x {s['draws']} draws after {s['tune']} warm-up, seed "
        f"{s['seed']}.",
        "",
        "## Commands",
        "",
        "From the repository root (the work folder `/tmp/lagnest_brms` holds the CSV, brms's "
        "draws and log-likelihood, its Stan code and a JSON of its diagnostics):",
        "",
        *[f"    {c}" for c in doc["commands"]],
        "",
        "or the three steps in one call: `.venv/bin/python benchmarks/brms_regression.py "
        f"--all`. This run: `{doc['this_command']}`.",
        "",
        "## Result",
        "",
        f"**Max |difference of posterior means| / lagnest posterior SD: "
        f"{doc['max_abs_diff_in_sd']:.3f}** ({doc['worst_parameter']}); target <= "
        f"{doc['tolerance_sd']} for every one of the {len(doc['parameters'])} parameters: "
        f"**{'met' if doc['passed'] else 'NOT met'}**. Largest |z| of a difference against "
        f"the two fits' Monte Carlo SE of the mean: {doc['max_abs_z_mcse']:.2f} (root mean "
        f"square over the {len(doc['parameters'])}: {doc['rms_z_mcse']:.2f}; pure Monte Carlo "
        "error gives about 1, and a max near 2.5 over 42 values).",
        "",
        "| group | n | max abs diff of means / sd | at | max abs z (MCSE) | brms sd / "
        "lagnest sd | max abs diff of 5% or 95% quantile / sd | max abs z of these (MCSE) |",
        "|---|---:|---:|---|---:|---|---:|---:|",
    ]
    for g, v in doc["groups"].items():
        lines.append(f"| {g} | {v['n']} | {v['max_abs_diff_in_sd']:.3f} | {v['worst']} | "
                     f"{v['max_abs_z_mcse']:.2f} | {v['sd_ratio_range'][0]:.3f}-"
                     f"{v['sd_ratio_range'][1]:.3f} | "
                     f"{v['max_abs_quantile_diff_in_sd']:.3f} | "
                     f"{v['max_abs_quantile_z_mcse']:.2f} |")
    ll = doc["loglik_check"]
    lines += [
        "",
        "The tolerance applies to the means. The tail quantiles are shown for the shape "
        "(the scales' posteriors are skewed); their Monte Carlo error is 2-3 times the "
        "mean's (tail ESS), so their differences are judged by their z.",
        "",
        f"Likelihood check: at {ll['draws_checked']} of brms's draws (every parameter, "
        "dyad and session intercepts included), lagnest's logits (`row_logits`) give "
        f"per-segment log-likelihoods within {ll['max_abs_diff_per_segment']:.1e} of brms's "
        f"`log_lik` (total over {ll['segments']} segments within "
        f"{ll['max_abs_diff_total']:.1e}; totals {ll['total_loglik_range'][0]:.1f} to "
        f"{ll['total_loglik_range'][1]:.1f}).",
        "",
        "## Diagnostics and run times",
        "",
        "| engine | R-hat max | bulk ESS min | tail ESS min | divergences | max tree depth "
        "hits | compile s | sampling wall s (warm-up + draws) | total wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| lagnest (PyMC NUTS, target_accept {ld['target_accept']}) | {ld['rhat_max']:.3f} | "
        f"{ld['ess_bulk_min']:.0f} | {ld['ess_tail_min']:.0f} | {ld['divergences']} | "
        f"{ld['treedepth_hits']} | {ld['compile_seconds']:.1f} | "
        f"{ld['sampling_seconds']:.1f} | {ld['wall_seconds']:.1f} |",
        f"| brms (rstan NUTS, adapt_delta {b['settings']['adapt_delta']}) | "
        f"{bd['rhat_max']:.3f} | {bd['ess_bulk_min']:.0f} | {bd['ess_tail_min']:.0f} | "
        f"{bd['divergences']} | {bd['treedepth_hits']} | {b['timing']['compile_seconds']:.1f} | "
        f"{b['timing']['sampling_wall_seconds']:.1f} | {b['timing']['wall_seconds']:.1f} |",
        "",
        f"lagnest's diagnostics cover its diagnostic variables (population effects, scales, "
        f"dyad and session intercepts; parameterisation {ld['parameterization']}); brms's "
        "cover every `b_`, `sd_` and `r_` variable. Both ran their chains on "
        f"{b['settings']['cores']} cores. lagnest: compile = the `pm.sample` call minus "
        "PyMC's `sampling_time` (PyTensor/numba caches as found on the machine), total = the "
        "`fit` call. brms: compile = `brm(chains = 0)` (Stan to C++ to a shared object), "
        "sampling = the `update(recompile = FALSE)` call; rstan's per-chain times (warm-up + "
        f"draws) sum to {b['timing']['sampling_seconds']:.1f} s. The machine was shared with "
        "another benchmark (load average above 2 on 2 cores), so the times are indicative "
        "only; they are not a speed comparison of the engines.",
        "",
        "## Versions",
        "",
        "lagnest side: " + ", ".join(f"{k} {v}" for k, v in
                                     sorted(doc["lagnest"]["versions"].items())) + ".",
        "",
        "brms side: " + ", ".join(f"{k} {v}" for k, v in sorted(b["versions"].items()))
        + f". Boost headers: {b.get('boost_lib', '?')}.",
        "",
        "## Every parameter",
        "",
        "diff / sd = (lagnest mean - brms mean) / lagnest posterior SD; z = the difference "
        "over its Monte Carlo SE (both fits' MCSE of the mean); ESS = bulk ESS.",
        "",
        "| parameter | lagnest mean | lagnest sd | brms mean | brms sd | diff / sd | z | "
        "sd ratio | q05 diff / sd | q95 diff / sd | ESS lagnest | ESS brms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in doc["parameters"]:
        lines.append(
            f"| {p['parameter']} | {_f(p['lagnest_mean'])} | {_f(p['lagnest_sd'])} | "
            f"{_f(p['brms_mean'])} | {_f(p['brms_sd'])} | {p['diff_in_sd']:+.3f} | "
            f"{p['z_mcse']:+.2f} | {p['sd_ratio']:.3f} | {p['q05_diff_in_sd']:+.3f} | "
            f"{p['q95_diff_in_sd']:+.3f} | {p['lagnest_ess_bulk']:.0f} | "
            f"{p['brms_ess_bulk']:.0f} |")
    lines += ["", "brms priors as fitted (`prior_summary`, non-flat rows):", ""]
    lines += [f"    {row}" for row in b.get("prior_summary", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--export", action="store_true", help="write the per-segment CSV")
    what.add_argument("--compare", action="store_true",
                      help="fit lagnest, compare with brms's draws, write the results")
    what.add_argument("--all", action="store_true",
                      help="--export, then the R script (Rscript), then --compare")
    p.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--cores", type=int, default=None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS,
                   help="folder of brms_regression.{md,json}")
    args = p.parse_args(argv)
    args.command = " ".join([".venv/bin/python benchmarks/brms_regression.py",
                             *(sys.argv[1:] if argv is None else argv)])
    if args.export or args.all:
        export(args)
        if args.export:
            return 0
    if args.all:
        run_brms(args)
    doc = compare(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "brms_regression.json").write_text(json.dumps(doc, indent=1) + "\n")
    (args.out / "brms_regression.md").write_text(report(doc))
    print(report(doc).split("## Diagnostics")[0])
    return 0 if doc["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
