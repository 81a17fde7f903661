"""Benchmark: LaggedRegression (rupture on the eight MIA indicators) from 10^3 to 10^6 segments.

The model of the study's first question, ``LaggedRegression(seqs, target="rupture",
predictors=["mia"], center="dyad")`` (defaults otherwise: the rupture state at t-1 enters
as history, dyad and session intercepts, a common shrinkage scale for the MIA slopes), on
``lagnest.simulate.thesis_like`` corpora with a fixed design of 6 dyads x 10 sessions and
longer sessions for more segments, so the model's parameters stay the same and only the
data per group grow.

Each fit runs in its own child process with a time budget (``--timeout``) and records
compile and sampling seconds separately (``result.config["sampler"]``), gradient
evaluations (sum of ``n_steps`` over chains, tuning and draws), microseconds per
gradient, the smallest bulk ESS of the population parameters (``intercept_typical``,
``beta_typical``), ESS/s, R-hat, divergences, the parameterisation the model chose
and the number of pattern rows R (the likelihood's size).

Compile caches: every (model, size) gets fresh, empty PyTensor and numba cache
directories (``PYTENSOR_FLAGS=base_compiledir=...``, ``NUMBA_CACHE_DIR``); repeat 1 starts
cold, repeat 2 reuses what repeat 1 wrote (warm). ``--cache user`` uses the user's
caches instead (state not controlled).

Baselines at 10^3 and 10^4 segments (fitted once each unless ``--baseline-repeats``):
the same model as a Categorical per segment (``per_segment=True``) and Bambi's
``rupture ~ <the 11 design columns> + (1|dyad) + (1|dyad:session)``
(``family="categorical"``) on a per-segment frame built from the model's own design
(``model.data.design[model.data.segment_rows]``), so both see identical predictors.
Bambi's priors are its defaults (no shrinkage across the MIA slopes; reference-category
logits like ours).

Run: ``.venv/bin/python benchmarks/bench_regression.py`` (``--quick`` for a smoke run).
Writes ``benchmarks/results/regression.json`` and ``benchmarks/results/regression.md``;
rows of the same (model, sampler, segments, repeat) are replaced, others kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_models import (
    _csv,
    _fmt,
    ess_min,
    keep_warmup,
    load_previous,
    run_in_child,
    sampler_work,
)

from lagnest import simulate
from lagnest.models import LaggedRegression
from lagnest.models._fit import package_versions

RESULTS = Path(__file__).parent / "results"
MODELS = ("aggregated", "per_segment", "bambi")
KEY = ("model", "sampler", "segments", "repeat")
N_DYADS, SESSIONS_PER_DYAD = 6, 10
POPULATION = ["intercept_typical", "beta_typical"]
FLAT = 1.5
BAMBI_TARGET = 20.0


def corpus(size: int, seed: int = 0):
    """Thesis-like corpus of about ``size`` segments: 6 dyads x 10 sessions of L segments."""
    length = max(math.ceil(size / (N_DYADS * SESSIONS_PER_DYAD)), 2)
    seqs, _ = simulate.thesis_like(seed=seed, n_dyads=N_DYADS,
                                   sessions_per_dyad=(SESSIONS_PER_DYAD, SESSIONS_PER_DYAD),
                                   segments_per_session=(length, length))
    return seqs


def make_model(seqs, per_segment: bool = False) -> LaggedRegression:
    """The benchmarked model."""
    return LaggedRegression(seqs, target="rupture", predictors=["mia"], center="dyad",
                            per_segment=per_segment)


def segment_frame(seqs, model: LaggedRegression) -> tuple[pd.DataFrame, list[str]]:
    """One row per fitted segment: target, the model's design columns, dyad, session."""
    d = model.data
    t = d.table
    codes, labels = seqs.categorical(t.target)
    valid = np.asarray(t.segment_row) >= 0
    rows = d.segment_rows
    target = np.asarray(codes)[valid]
    recount = np.zeros_like(t.counts)
    np.add.at(recount, (rows, target), 1)
    if not np.array_equal(recount, t.counts):  # segment order and targets line up
        raise AssertionError("per-segment frame does not reproduce the pattern counts")
    names = [re.sub(r"\W+", "_", n).strip("_") for n in d.feature_names]
    frame = pd.DataFrame(d.design[rows], columns=names)
    frame["rupture"] = pd.Categorical.from_codes(target, categories=labels)
    session = t.row_session[rows]
    frame["dyad"] = pd.Categorical(np.asarray(t.dyad_labels)[t.session_dyad[session]])
    frame["session"] = pd.Categorical(np.asarray(t.session_labels)[session])
    return frame, names


def run_lagnest(seqs, per_segment: bool, sampler: str, settings: dict) -> dict:
    """Build and fit the model; timings, sampler work and diagnostics."""
    t0 = time.perf_counter()
    model = make_model(seqs, per_segment)
    model.data  # noqa: B018  (pattern counts and design, timed apart from the graph)
    t1 = time.perf_counter()
    model.build()
    t2 = time.perf_counter()
    with warnings.catch_warnings(), keep_warmup():
        warnings.simplefilter("ignore")
        res = model.fit(sampler=sampler, warn=False, **settings)
    info = res.config["sampler"]
    ess = ess_min(res.sampled, POPULATION)
    table = res.diagnostics.table
    population = table["parameter"].str.startswith(tuple(POPULATION))
    return {
        "data_seconds": t1 - t0,
        "build_seconds": t2 - t1,
        "compile_seconds": info["compile_seconds"],
        "sampling_seconds": info["sampling_seconds"],
        "rows": int(model.data.table.n_rows),
        "likelihood_rows": int(model.data.table.n_valid if per_segment
                               else model.data.table.n_rows),
        "fitted_segments": int(model.data.table.n_valid),
        "parameterization": dict(model.structure.parameterization),
        "ess_bulk_min_population": ess,
        "ess_tail_min_population": float(table.loc[population, "ess_tail"].min()),
        "rhat_max_population": float(table.loc[population, "rhat"].max()),
        "rhat_max": res.diagnostics.rhat_max,
        "divergences": res.diagnostics.n_divergent,
        "ess_per_second": ess / info["sampling_seconds"],
        "ess_per_second_total": ess / (t2 - t1 + info["compile_seconds"]
                                       + info["sampling_seconds"]),
        **sampler_work(res.sampled, info["sampling_seconds"]),
    }


def run_bambi(seqs, settings: dict) -> dict:
    """Bambi's per-segment categorical model on the same design columns."""
    import arviz as az
    import bambi as bmb

    t0 = time.perf_counter()
    lagged = make_model(seqs)
    frame, names = segment_frame(seqs, lagged)
    t1 = time.perf_counter()
    formula = f"rupture ~ {' + '.join(names)} + (1|dyad) + (1|dyad:session)"
    model = bmb.Model(formula, frame, family="categorical")
    model.build()
    t2 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = model.fit(
            draws=settings["draws"], tune=settings["tune"], chains=settings["chains"],
            cores=settings.get("cores"), random_seed=settings["seed"],
            inference_method="pymc", progressbar=False,
            target_accept=settings["target_accept"], discard_tuned_samples=False,
        )
    total = time.perf_counter() - t2
    sampling = float(tree["posterior"].attrs.get("sampling_time", total))
    common = ["Intercept", *names]
    ess = ess_min(tree, common)
    post = tree["posterior"].to_dataset()[common]
    rhat = az.rhat(post)
    ess_tail = az.ess(post, method="tail")
    return {
        "data_seconds": t1 - t0,
        "build_seconds": t2 - t1,
        "compile_seconds": max(total - sampling, 0.0),
        "sampling_seconds": sampling,
        "rows": int(lagged.data.table.n_rows),
        "likelihood_rows": len(frame),
        "fitted_segments": len(frame),
        "formula": formula,
        "ess_bulk_min_population": ess,
        "ess_tail_min_population": float(min(np.nanmin(np.asarray(ess_tail[n]))
                                             for n in common)),
        "rhat_max_population": float(max(np.nanmax(np.asarray(rhat[n])) for n in common)),
        "divergences": int(tree["sample_stats"]["diverging"].values.sum()),
        "ess_per_second": ess / sampling,
        "ess_per_second_total": ess / (t2 - t1 + total),
        **sampler_work(tree, sampling),
    }


def _best_us(fn, args, n: int = 30, reps: int = 3) -> float:
    """Best mean microseconds per call of ``fn(*args)`` over ``reps`` blocks of ``n``."""
    fn(*args)
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(*args)
        best = min(best, (time.perf_counter() - t0) / n)
    return 1e6 * best


def gradient_cost(seqs) -> dict:
    """Microseconds per log-density + gradient evaluation, the model's and what-if ones.

    ``model``: the graph the sampler runs (from 2026-11-30 23:00 UTC the likelihood is
    one numba kernel, :class:`lagnest.models.likelihood.MultinomialLogitRows`: gathers, log-softmax
    and the gradient's scatter in one call, exponentials vectorised). What-if likelihoods
    written in PyTensor, same priors and the same posterior (their gradients are checked
    against the model's at a random point): ``log_softmax``: ``sum(counts *
    log_softmax(logits))`` with the linear predictor over the R rows; ``distinct_rows``:
    that, with the linear predictor computed once per distinct design row and gathered to
    the R rows (the model's graph before the kernel); ``sufficient``: the linear part from
    sufficient statistics (counts per session and X^T Y), ``- sum_r n_r logsumexp(eta_r)``
    per row. One process, one thread per call, at the model's initial point.
    """
    import pytensor
    import pytensor.tensor as pt

    model = make_model(seqs)
    d = model.data
    t = d.table
    pm_model = model.build()
    values = pm_model.value_vars
    point = pm_model.initial_point()
    rng = np.random.default_rng(0)
    args = [np.asarray(point[v.name]) + 0.1 * rng.standard_normal(np.shape(point[v.name]))
            for v in values]
    prior = pm_model.logp(vars=pm_model.free_RVs)
    session_icpt, beta = pm_model.replace_rvs_by_values(
        [pm_model["intercept_session"], pm_model["beta"]])
    counts = np.asarray(t.counts, dtype=float)
    distinct, inverse = np.unique(d.design, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    per_session = np.zeros((len(t.session_labels), counts.shape[1]))
    np.add.at(per_session, t.row_session, counts)
    xty = d.design.T @ counts[:, 1:]

    def with_reference(eta):
        return pt.concatenate([pt.zeros((eta.shape[0], 1)), eta], axis=1)

    def log_softmax_lik(eta):
        return (counts * pt.special.log_softmax(with_reference(eta), axis=1)).sum()

    eta_rows = session_icpt[t.row_session] + pt.dot(pt.as_tensor(d.design), beta)
    eta_distinct = session_icpt[t.row_session] + pt.dot(pt.as_tensor(distinct), beta)[inverse]
    graphs = {
        "model": pm_model.logp(),
        "log_softmax": prior + log_softmax_lik(eta_rows),
        "distinct_rows": prior + log_softmax_lik(eta_distinct),
        "sufficient": prior + (per_session[:, 1:] * session_icpt).sum() + (xty * beta).sum()
        - (counts.sum(axis=1) * pt.logsumexp(with_reference(eta_distinct), axis=1)).sum(),
    }
    out: dict = {"rows": int(t.n_rows), "distinct_design_rows": len(distinct)}
    reference = None
    for name, logp in graphs.items():
        fn = pytensor.function(values, [logp, *pt.grad(logp, values)], mode="NUMBA",
                               on_unused_input="ignore")
        grads = np.concatenate([np.ravel(g) for g in fn(*args)[1:]])
        if reference is None:
            reference = grads
        elif not np.allclose(grads, reference, rtol=1e-6, atol=1e-6 * np.abs(reference).max()):
            raise AssertionError(f"what-if likelihood {name!r} has another gradient")
        out[f"us_{name}"] = _best_us(fn, args)
    return out


def run_one(spec: dict) -> dict:
    """One fit (in the worker process): simulate, fit, measure."""
    t0 = time.perf_counter()
    seqs = corpus(spec["size"])
    if spec["model"] == "gradient_cost":
        return {"segments": spec["segments"], "blas_threads": spec["blas_threads"],
                **gradient_cost(seqs)}
    row = {k: spec[k] for k in ("model", "sampler", "segments", "repeat", "cache")}
    row["simulate_seconds"] = time.perf_counter() - t0
    if spec["model"] == "bambi":
        row |= run_bambi(seqs, spec["settings"])
    else:
        row |= run_lagnest(seqs, spec["model"] == "per_segment", spec["sampler"],
                           spec["settings"])
    return row


# ============================================================================ reporting


def _ok(rows, model, sampler="pymc", segments=None, repeat=None):
    return [r for r in rows if r["model"] == model and r["sampler"] == sampler
            and "error" not in r and (segments is None or r["segments"] == segments)
            and (repeat is None or r["repeat"] == repeat)]


def _series(values, spec=".1f"):
    return " / ".join(format(v, spec) for v in values)


def _ratio(values):
    return max(values) / min(values)


def _flat(values):
    return "flat" if _ratio(values) <= FLAT else "NOT flat"


def findings(rows: list[dict]) -> list[str]:
    """Plain statements: flatness across sizes, where the time goes, ESS/s ratios."""
    lines = []
    sizes = sorted({r["segments"] for r in _ok(rows, "aggregated")})
    for repeat in sorted({r["repeat"] for r in _ok(rows, "aggregated")}):
        agg = [_ok(rows, "aggregated", segments=s, repeat=repeat) for s in sizes]
        agg = [a[0] for a in agg if a]
        if len(agg) < 2:
            continue
        comp = [r["compile_seconds"] for r in agg]
        samp = [r["sampling_seconds"] for r in agg]
        tot = [c + s for c, s in zip(comp, samp, strict=True)]
        line = (
            f"- **aggregated, repeat {repeat} ({agg[0].get('cache', '?')} cache)**, "
            f"{_series([r['segments'] for r in agg], ',d')} segments: compile "
            f"{_series(comp)} s (max/min {_ratio(comp):.2f}x, {_flat(comp)} within {FLAT}x); "
            f"sampling {_series(samp)} s ({_ratio(samp):.2f}x, {_flat(samp)}); "
            f"compile+sampling {_series(tot)} s ({_ratio(tot):.2f}x, {_flat(tot)})."
        )
        if all("chain_seconds_cpu" in r for r in agg):
            cpu = [r["chain_seconds_cpu"] for r in agg]
            line += (f" CPU seconds per chain in the sampler {_series(cpu)} "
                     f"({_ratio(cpu):.2f}x, {_flat(cpu)}).")
        if all("grad_evals" in r for r in agg):
            grads = [r["grad_evals"] for r in agg]
            us = [r.get("us_per_grad_chain_cpu", r["us_per_grad"]) for r in agg]
            rows_r = [r["rows"] for r in agg]
            line += (
                f" Sampling time = gradients x cost: gradient evaluations "
                f"{_series(grads, ',d')} ({_ratio(grads):.2f}x); CPU us/gradient per chain "
                f"{_series(us)} ({_ratio(us):.1f}x) with pattern rows R {_series(rows_r, ',d')} "
                f"({_ratio(rows_r):.1f}x)."
            )
        lines.append(line)
    for base in ("bambi", "per_segment"):
        for b in _ok(rows, base):
            a = _ok(rows, "aggregated", segments=b["segments"])
            if not a:
                continue
            a_ess = [r["ess_per_second"] for r in a]
            a_tot = [r["ess_per_second_total"] for r in a]
            ratio = [x / b["ess_per_second"] for x in a_ess]
            total = [x / b["ess_per_second_total"] for x in a_tot]
            label = "Bambi" if base == "bambi" else "per-segment LaggedRegression"
            target = (f" ({'meets' if min(ratio) >= BAMBI_TARGET else 'misses'} the "
                      f">= {BAMBI_TARGET:.0f}x target)") if base == "bambi" else ""
            line = (
                f"- ESS/s at {b['segments']:,} segments, aggregated vs {label} (repeat "
                f"{b['repeat']}): {_series(a_ess)} vs {b['ess_per_second']:.2f} = "
                f"**{_series(ratio)}x** on sampling time (aggregated repeats "
                f"{'/'.join(str(r['repeat']) for r in a)}){target}; "
                f"{_series(total)}x counting build+compile"
            )
            if all("chain_seconds_cpu" in r for r in [*a, b]):
                cpu = [(r["ess_bulk_min_population"] / r["chain_seconds_cpu"])
                       / (b["ess_bulk_min_population"] / b["chain_seconds_cpu"]) for r in a]
                line += f"; {_series(cpu)}x on the chains' CPU seconds"
            lines.append(line + ".")
    return lines


COSTS = ("model", "log_softmax", "distinct_rows", "sufficient")


def cost_table(costs: list[dict]) -> list[str]:
    """Markdown table of the gradient-cost measurements (see :func:`gradient_cost`)."""
    if not costs:
        return []
    lines = [
        "## Cost of one log-density + gradient evaluation",
        "",
        "Microseconds per call of the compiled log-density and gradient (numba backend, best "
        "of 3 x 30 calls, one process, at a jittered initial point), for the model's graph "
        "and what-if likelihoods written in PyTensor with the same priors and gradient "
        "(checked): `log_softmax` = sum(counts * log_softmax(logits)), linear predictor "
        "per row; `distinct_rows` = that, with the linear predictor computed per distinct "
        "design row and gathered (the model's graph until 2026-11-30); `sufficient` = "
        "linear part from sufficient statistics, only n_r logsumexp per row. `model` is "
        "the fused numba likelihood (`MultinomialLogitRows`) in runs from 2026-11-30 "
        "23:00 UTC; rows measured before show the graph of their time. "
        "BLAS threads = OPENBLAS/OMP/MKL_NUM_THREADS.",
        "",
        "| segments | BLAS threads | R | distinct design rows | "
        + " | ".join(f"us {c}" for c in COSTS) + " | load |",
        "|---:|---|---:|---:|" + "---:|" * len(COSTS) + "---:|",
    ]
    for c in costs:
        if "error" in c:
            lines.append(f"| {c['segments']:,} | {c['blas_threads']} | | | "
                         + "| " * len(COSTS) + f"{c['error']} |")
            continue
        lines.append(
            f"| {c['segments']:,} | {c['blas_threads']} | {c['rows']:,} | "
            f"{c['distinct_design_rows']:,} | "
            + " | ".join(f"{c[f'us_{n}']:,.0f}" for n in COSTS)
            + f" | {_fmt(c.get('loadavg_before'), '.1f')} |"
        )
    return [*lines, ""]


def markdown(rows: list[dict], meta: dict, runs: dict, costs: list[dict]) -> str:
    """The results table, findings and run provenance."""
    lines = [
        "# LaggedRegression benchmark (rupture on the eight MIA indicators)",
        "",
        f"Command: `{meta.get('command', '')}`",
        "",
        f"Corpus: `lagnest.simulate.thesis_like(seed=0)`, {N_DYADS} dyads x "
        f"{SESSIONS_PER_DYAD} sessions, L segments per session. Model: "
        "`LaggedRegression(seqs, target='rupture', predictors=['mia'], center='dyad')` (11 "
        "columns: 3 history dummies + MIA1..MIA8 at t-1; K = 4). "
        f"Settings: {meta['settings']}; per-fit budget {meta.get('timeout', '?')} s; machine "
        f"{meta['machine']} ({meta['cpus']} CPUs, shared); load average (1/5/15 min) at start "
        f"{meta.get('loadavg_start', '?')}, at end {meta.get('loadavg_end', '?')}.",
        "",
        "R = pattern rows (session x predictor pattern: the aggregated likelihood's rows); "
        "lik. rows = rows of the likelihood actually fitted (R, or segments for the "
        "per-segment models). Compile s = the `pm.sample` call minus the sampler's "
        "`sampling_time` (compile/JIT, initialisation, trace conversion); build s = the "
        "PyMC graph. Cache: cold = fresh empty PyTensor/numba cache dirs, warm = the dirs "
        "the cold repeat filled. ESS = smallest bulk ESS of `intercept_typical` and "
        "`beta_typical` (Bambi: `Intercept` and the 11 slopes); ESS/s on sampling time. "
        "Chain CPU s = CPU time of a chain's process inside its NUTS steps (`process_time_diff`, "
        "tuning + draws, mean over chains): less sensitive to other jobs than wall time. "
        "Grad evals = sum of `n_steps` over chains, tuning and draws; us/grad wall / CPU = "
        "time in each chain's NUTS steps (`perf_counter_diff` / `process_time_diff`) / "
        "gradient evaluations. R-hat pop "
        "= max over the population parameters; R-hat all = over every diagnosed variable.",
        "",
        "| model | segments | rep | cache | R | lik. rows | param. | compile s | sampling s "
        "| chain CPU s | grad evals | us/grad wall | us/grad CPU | ESS | ESS/s | R-hat pop "
        "| R-hat all | div. | load | note |",
        "|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---:|---:|---|",
    ]
    for r in rows:
        head = (f"| {r['model']} | {r['segments']:,} | {r['repeat']} | {r.get('cache', '')} | ")
        if "error" in r:
            lines.append(head + f"{_fmt(r.get('rows'), ',d')} | | | | | | | | | | | | | | "
                         f"{_fmt(r.get('loadavg_before'), '.1f')} | {r['error']} |")
            continue
        param = "/".join(v[0] for v in r.get("parameterization", {}).values()) or "-"
        lines.append(
            head + f"{r['rows']:,} | {r.get('likelihood_rows', r['rows']):,} | {param} | "
            f"{r['compile_seconds']:.1f} | "
            f"{r['sampling_seconds']:.1f} | {_fmt(r.get('chain_seconds_cpu'), '.1f', '-')} | "
            f"{_fmt(r.get('grad_evals'), ',d', '-')} | "
            f"{_fmt(r.get('us_per_grad_chain'), '.0f', '-')} | "
            f"{_fmt(r.get('us_per_grad_chain_cpu'), '.0f', '-')} | "
            f"{r['ess_bulk_min_population']:.0f} | {r['ess_per_second']:.2f} | "
            f"{_fmt(r.get('rhat_max_population'), '.3f', '-')} | "
            f"{_fmt(r.get('rhat_max'), '.3f', '-')} | {r['divergences']} | "
            f"{_fmt(r.get('loadavg_before'), '.1f')} | {r.get('note', '')} |"
        )
    lines += ["", "param.: parameterisation of the dyad/session intercepts (c = centred, "
              "n = non-centred), as `model.structure.parameterization` chose it.",
              "", "## Findings", ""] + (findings(rows) or ["(not enough rows)"])
    lines += ["", *cost_table(costs)]
    lines += ["", "## Runs", ""]
    for run_id, m in sorted(runs.items()):
        lines.append(f"- {run_id}: settings {m.get('settings')}, load average at start "
                     f"{m.get('loadavg_start', '?')}, at end {m.get('loadavg_end', '?')}"
                     + (f"; command `{m['command']}`" if m.get("command") else ""))
    return "\n".join(lines) + "\n"


def _sort_key(r):
    return (r["segments"], MODELS.index(r["model"]) if r["model"] in MODELS else 9,
            r["repeat"])


def write(rows: list[dict], meta: dict, runs: dict, out: Path, costs: list[dict]) -> None:
    """Write ``out.json`` and ``out.md``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=_sort_key)
    costs = sorted(costs, key=lambda c: (c["segments"], str(c["blas_threads"])))
    out.with_suffix(".json").write_text(json.dumps(
        {"meta": meta, "runs": runs, "rows": rows, "gradient_cost": costs}, indent=1))
    out.with_suffix(".md").write_text(markdown(rows, meta, runs, costs))


def _merge(old: list[dict], new: list[dict], key=KEY) -> list[dict]:
    keys = {tuple(r[k] for k in key) for r in new}
    return [r for r in old if tuple(r[k] for k in key) not in keys] + new


def _merge_costs(old: list[dict], new: list[dict]) -> list[dict]:
    return _merge(old, new, ("segments", "blas_threads"))


def _previous_costs(path: Path) -> list[dict]:
    return json.loads(path.read_text()).get("gradient_cost", []) if path.exists() else []


def _env(cache_dir: Path | None, blas_threads: str) -> dict:
    """Environment of a child: its compile caches, BLAS threads, one numba thread."""
    env = {"NUMBA_NUM_THREADS": "1"}
    if cache_dir is not None:
        env |= {"PYTENSOR_FLAGS": f"base_compiledir={cache_dir / 'pytensor'}",
                "NUMBA_CACHE_DIR": str(cache_dir / "numba")}
    if blas_threads != "default":
        env |= {name: str(blas_threads)
                for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of " + ",".join(MODELS))
    parser.add_argument("--sizes", default="1000,10000,100000,1000000",
                        help="comma-separated numbers of segments")
    parser.add_argument("--repeats", type=int, default=2,
                        help="fits per size of the aggregated model (1st cold, then warm)")
    parser.add_argument("--baseline-repeats", type=int, default=1,
                        help="fits per size of the per-segment and Bambi baselines")
    parser.add_argument("--baseline-max", type=int, default=10_000,
                        help="largest size fitted with the per-segment model")
    parser.add_argument("--bambi-sizes", default="10000",
                        help="sizes fitted with Bambi (comma-separated)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="per-fit budget in seconds, whole child process (0 = none)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--target-accept", type=float, default=0.9)
    parser.add_argument("--cache", choices=("fresh", "user"), default="fresh",
                        help="fresh: empty compile caches per (model, size); user: yours")
    parser.add_argument("--blas-threads", default="1",
                        help="OPENBLAS/OMP/MKL_NUM_THREADS of the fits ('default': unset)")
    parser.add_argument("--gradient-cost", default="1,default",
                        help="BLAS thread settings of the gradient-cost measurements per "
                             "size (comma-separated; empty: skip them)")
    parser.add_argument("--no-merge", action="store_true",
                        help="overwrite the results file instead of merging into it")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10^3 segments, 100 + 100 draws, no Bambi")
    parser.add_argument("--out", default=str(RESULTS / "regression"))
    parser.add_argument("--report", action="store_true",
                        help="only rewrite the .md from the existing .json (no fits)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.report:
        data = json.loads(Path(args.out).with_suffix(".json").read_text())
        write(data["rows"], data["meta"], data.get("runs", {}), Path(args.out),
              data.get("gradient_cost", []))
        print(Path(args.out).with_suffix(".md").read_text())
        return 0

    if args.worker:  # child process: one fit
        spec = json.loads(args.worker)
        row = run_one(spec)
        Path(spec["out"]).write_text(json.dumps(row))
        return 0

    models = _csv(args.models)
    bad = set(models) - set(MODELS)
    if bad:
        parser.error(f"unknown models {sorted(bad)}; choose from {MODELS}")
    sizes = _csv(args.sizes, int)
    bambi_sizes = _csv(args.bambi_sizes, int)
    if args.quick:
        sizes, bambi_sizes, args.draws, args.tune = [1_000], [], 100, 100
    if "bambi" in models and bambi_sizes and importlib.util.find_spec("bambi") is None:
        print("bambi is not installed (it comes with the `bench` extra): its fits are skipped",
              file=sys.stderr, flush=True)
        bambi_sizes = []
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                "cores": min(args.chains, os.cpu_count() or 1), "seed": 1,
                "target_accept": args.target_accept}
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    meta = {
        "settings": settings,
        "timeout": args.timeout,
        "cache": args.cache,
        "blas_threads": args.blas_threads,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "versions": package_versions(),
        "created": created,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "command": ".venv/bin/python benchmarks/bench_regression.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
    }
    out = Path(args.out)
    old_rows, runs = ([], {}) if args.no_merge else load_previous(out.with_suffix(".json"))
    old_costs = [] if args.no_merge else _previous_costs(out.with_suffix(".json"))
    runs[created] = meta
    rows: list[dict] = []
    costs: list[dict] = []
    cost_dir = Path(tempfile.mkdtemp(prefix="bench_regression_cost_"))
    for size in sizes:
        segments = corpus(size).n_segments
        for blas in _csv(args.gradient_cost):
            print(f"gradient cost {segments:>8,d} segments, BLAS threads {blas} ...", flush=True)
            spec = {"model": "gradient_cost", "size": size, "segments": segments,
                    "blas_threads": blas}
            env = _env(cost_dir if args.cache == "fresh" else None, blas)
            cost = run_in_child(Path(__file__), spec, args.timeout,
                                {"segments": segments, "blas_threads": blas}, env)
            cost |= {"run": created, "loadavg_before": round(os.getloadavg()[0], 2)}
            print("   ", cost, flush=True)
            costs.append(cost)
            write(_merge(old_rows, rows), meta, runs, out, _merge_costs(old_costs, costs))
        jobs = []
        for model in models:
            if model == "aggregated":
                jobs += [(model, args.repeats)]
            elif model == "per_segment" and size <= args.baseline_max:
                jobs += [(model, args.baseline_repeats)]
            elif model == "bambi" and size in bambi_sizes:
                jobs += [(model, args.baseline_repeats)]
        for model, repeats in jobs:
            cache_dir = Path(tempfile.mkdtemp(prefix=f"bench_regression_{model}_{size}_"))
            env = _env(cache_dir if args.cache == "fresh" else None, args.blas_threads)
            for repeat in range(1, repeats + 1):
                cache = ("cold" if repeat == 1 else "warm") if args.cache == "fresh" else "user"
                load = round(os.getloadavg()[0], 2)
                print(f"{model:12s} {segments:>8,d} segments repeat {repeat} ({cache} cache, "
                      f"load {load}) ...", flush=True)
                spec = {"model": model, "sampler": "pymc", "size": size, "segments": segments,
                        "repeat": repeat, "cache": cache, "settings": settings}
                base = {k: spec[k] for k in ("model", "sampler", "segments", "repeat", "cache")}
                row = run_in_child(Path(__file__), spec, args.timeout, base, env)
                row |= {"run": created, "loadavg_before": load}
                print("   ", {k: (round(v, 3) if isinstance(v, float) else v)
                              for k, v in row.items()}, flush=True)
                rows.append(row)
                # after every fit: a long run keeps its rows
                write(_merge(old_rows, rows), meta, runs, out, _merge_costs(old_costs, costs))
            shutil.rmtree(cache_dir, ignore_errors=True)
    shutil.rmtree(cost_dir, ignore_errors=True)
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    write(_merge(old_rows, rows), meta, runs, out, _merge_costs(old_costs, costs))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
