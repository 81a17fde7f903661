"""Shared by the SBC benchmarks: run, time, summarise and write results (JSON + md + png)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from lagnest import calibration

RESULTS = Path(__file__).parent / "results"
RUNS = Path(__file__).parent / ".runs"


def run_sbc(model, name, n, seed, sampler, n_jobs=2, client=None):
    """One resumable SBC run; returns (result, wall seconds of this call)."""
    t0 = time.perf_counter()
    res = calibration.sbc(model, n=n, seed=seed, n_jobs=n_jobs, client=client,
                          path=RUNS / name, progress=False, **sampler)
    return res, time.perf_counter() - t0


def throughput(res, wall, workers):
    """Fits computed by this call, its wall time and the rate (the results' ``throughput``)."""
    computed = len(res.run_info["computed"])
    per_fit = wall / computed if computed else None
    return {"fits_computed_this_call": computed, "wall_seconds": wall,
            "wall_seconds_per_fit": per_fit, "workers": workers,
            "fits_per_10_min": 600 / per_fit if per_fit else None}


def dask_speedup(model, n, seed, sampler):
    """Wall time of the same SBC batch on LocalClusters of 1 and 2 worker processes."""
    from distributed import Client, LocalCluster

    out: dict = {"n": n}
    ranks = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: None)  # workers up
            t0 = time.perf_counter()
            res = calibration.sbc(model, n=n, seed=seed, client=client, progress=False,
                                  **sampler)
            out[workers] = {"wall_seconds": time.perf_counter() - t0,
                            "fit_seconds_median": float(np.median(res.data["seconds"]))}
        ranks[workers] = res.ranks.values
    out["speedup"] = out[1]["wall_seconds"] / out[2]["wall_seconds"]
    out["same_ranks"] = bool(np.array_equal(ranks[1], ranks[2]))
    return out


def _converged_part(res):
    """Uniformity and coverage over the fits that passed on the ranked variables."""
    ok = res.converged().values
    if ok.sum() < 20 or ok.all():
        return {"converged_fits": int(ok.sum())}
    sub = res.select(ok)
    uni = sub.uniformity()
    return {"converged_fits": int(ok.sum()),
            "converged_overall_p_bonferroni_chi2": uni.attrs["overall_p"],
            "converged_overall_p_bonferroni_ks": uni.attrs["overall_ks_p"],
            "converged_coverage90_overall": sub.coverage(0.9).attrs["overall"]}


def summarise(res, wall, extra):
    """Numbers of an SBC result, JSON-ready."""
    uni = res.uniformity()
    cov90 = res.coverage(0.9)
    secs = res.data["seconds"].values
    data = res.data
    return {
        "n": res.n,
        "n_rank_draws": res.n_rank_draws,
        "bins": uni.attrs["bins"],
        "overall_p_bonferroni_chi2": uni.attrs["overall_p"],
        "overall_p_bonferroni_ks": uni.attrs["overall_ks_p"],
        "parameters": {
            str(p): {
                "chi2": float(uni["chi2"].sel(parameter=p)),
                "df": int(uni["chi2_df"].sel(parameter=p)),
                "chi2_p": float(uni["chi2_p"].sel(parameter=p)),
                "ks": float(uni["ks"].sel(parameter=p)),
                "ks_p": float(uni["ks_p"].sel(parameter=p)),
                "coverage90": float(cov90["coverage"].sel(parameter=p)),
            }
            for p in uni["parameter"].values
        },
        "coverage90_overall": cov90.attrs["overall"],
        "coverage50_overall": res.coverage(0.5).attrs["overall"],
        "fits_with_divergences": int((data["n_divergent"] > 0).sum()),
        "rhat_max_median": float(np.median(data["rhat_max"])),
        "fits_rhat_over_1.01": int((data["rhat_max"] > 1.01).sum()),
        "fits_failing_on_ranked_variables": int((~res.converged()).sum()),
        "ranked_rhat_max_median": float(np.median(data["rhat_max_ranked"])),
        **_converged_part(res),
        "fit_seconds_median": float(np.median(secs)),
        "compile_seconds_median": float(np.median(data["compile_seconds"])),
        "sampling_seconds_median": float(np.median(data["sampling_seconds"])),
        "run_wall_seconds_this_call": wall,
        "run_info": {k: v for k, v in res.run_info.items() if k in ("backend", "n_workers")}
        | {"computed": len(res.run_info["computed"]), "resumed": len(res.run_info["resumed"])},
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                    "python": platform.python_version()},
        **extra,
    }


def write(name, summary, res, title, command):
    """results/<name>.json, .md, and the two figures."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=2, default=float))
    fig = res.plot()
    fig.savefig(RESULTS / f"{name}_ranks.png", dpi=110)
    fig = res.plot_ecdf()
    fig.savefig(RESULTS / f"{name}_ecdf.png", dpi=110)
    lines = [f"# {title}", "", f"Command: `{command}`", "",
             f"{summary['n']} simulations, ranks among {summary['n_rank_draws']} thinned "
             f"draws, chi-square over {summary['bins']} equal-probability bins; overall "
             f"(Bonferroni min-p) chi-square p = {summary['overall_p_bonferroni_chi2']:.3f}, "
             f"KS p = {summary['overall_p_bonferroni_ks']:.3f}. 90% interval coverage "
             f"{summary['coverage90_overall']:.3f} (50%: {summary['coverage50_overall']:.3f}).",
             "", "| parameter | chi2 (df) | p | KS | p | 90% coverage |",
             "|---|---:|---:|---:|---:|---:|"]
    for p, v in summary["parameters"].items():
        lines.append(f"| {p} | {v['chi2']:.1f} ({v['df']}) | {v['chi2_p']:.3f} | "
                     f"{v['ks']:.3f} | {v['ks_p']:.3f} | {v['coverage90']:.3f} |")
    lines += ["", f"Fits with divergences: {summary['fits_with_divergences']}; fits with "
              f"R-hat > 1.01: {summary['fits_rhat_over_1.01']}; median seconds per fit "
              f"(in its worker, incl. prior draw): {summary['fit_seconds_median']:.1f} "
              f"(compile {summary['compile_seconds_median']:.1f}, sampling "
              f"{summary['sampling_seconds_median']:.1f}).",
              "", f"Fits failing the diagnostics on the ranked variables (R-hat > 1.01, bulk "
              f"or tail ESS < 100 per chain, or a divergence): "
              f"{summary['fits_failing_on_ranked_variables']} of {summary['n']} (median "
              f"R-hat over the ranked variables {summary['ranked_rhat_max_median']:.4f}); "
              "every rate above counts them."]
    if "converged_overall_p_bonferroni_chi2" in summary:
        lines += ["", f"Over the {summary['converged_fits']} fits that passed: uniformity "
                  f"p (Bonferroni) chi-square {summary['converged_overall_p_bonferroni_chi2']:.3f},"
                  f" KS {summary['converged_overall_p_bonferroni_ks']:.3f}; 90% coverage "
                  f"{summary['converged_coverage90_overall']:.3f}."]
    for key in ("throughput", "dask"):
        if key in summary:
            lines += ["", f"{key}: `{json.dumps(summary[key], default=float)}`"]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
