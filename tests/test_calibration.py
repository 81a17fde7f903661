"""Calibration: rank statistics, coverage, the execution engine (local, dask, resume)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from lagnest import calibration
from lagnest.calibration import engine
from lagnest.calibration.design import DesignAnalysis
from lagnest.calibration.sbc import (
    QUANTILES,
    CalibrationResult,
    bin_edges,
    calibration_vars,
    thinned_ranks,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = {"draws": 60, "tune": 60, "chains": 2, "n_rank_draws": 19, "progress": False}

# A tiny TransitionModel built the same way in this process and in a subprocess.
MODEL_CODE = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from tests.models.conftest import simulate_markov
    from lagnest.models import TransitionModel

    def tiny_model():
        seqs, _ = simulate_markov(1, codes=("a", "b"), n_dyads=3, sessions_per_dyad=2,
                                  segments=20)
        return TransitionModel(seqs, "code", "code")
    """
).format(root=str(ROOT))


def tiny_model():
    namespace: dict = {}
    exec(MODEL_CODE, namespace)
    return namespace["tiny_model"]()


# =========================================================================== statistics


def test_uniform_ranks_give_uniform_p_values():
    rng = np.random.default_rng(1)
    ranks = rng.integers(0, 100, size=(200, 400))  # 400 parameters, uniform on 0..99
    out = calibration.uniformity_test(ranks, n_rank_draws=99, seed=3)
    assert out.attrs["bins"] == 20  # 100 rank values, >= 10 expected per bin
    for name in ("chi2_p", "ks_p"):
        p = out[name].values
        assert 0.02 <= (p < 0.05).mean() <= 0.09
        assert stats.kstest(p, "uniform").pvalue > 0.001
    assert out.attrs["overall_p"] > 0.01


def test_skewed_and_overdispersed_ranks_are_rejected():
    rng = np.random.default_rng(2)
    n = 200
    # posterior shifted: truth tends to sit above most draws
    skewed = np.maximum(rng.integers(0, 100, n), rng.integers(0, 100, n))
    # posterior too narrow: ranks pile up at both ends
    u_shaped = np.where(rng.random(n) < 0.5, rng.integers(0, 15, n), rng.integers(85, 100, n))
    uniform = rng.integers(0, 100, n)
    ranks = xr.DataArray(np.stack([skewed, u_shaped, uniform], axis=1),
                         dims=("simulation", "parameter"),
                         coords={"parameter": ["skewed", "u", "uniform"]})
    out = calibration.uniformity_test(ranks, n_rank_draws=99)
    assert out["chi2_p"].sel(parameter="skewed") < 1e-6
    assert out["chi2_p"].sel(parameter="u") < 1e-6
    assert out["ks_p"].sel(parameter="skewed") < 1e-6
    assert out["chi2_p"].sel(parameter="uniform") > 0.01
    assert out.attrs["overall_p"] == pytest.approx(
        min(1.0, 3 * float(out["chi2_p"].min())))


def test_chi_square_matches_a_hand_computation():
    ranks = np.array([0, 0, 1, 3, 3, 3, 2, 1])[:, None]  # 4 values, 2 bins {0,1}, {2,3}
    out = calibration.uniformity_test(ranks, n_rank_draws=3, bins=2)
    # bin counts 4 and 4 -> chi2 0; with 4 bins: counts 2, 2, 1, 3, expected 2
    assert float(out["chi2"][0]) == 0.0
    out4 = calibration.uniformity_test(ranks, n_rank_draws=3, bins=4)
    assert float(out4["chi2"][0]) == pytest.approx((0 + 0 + 1 + 1) / 2)
    assert float(out4["chi2_p"][0]) == pytest.approx(stats.chi2.sf(1.0, 3))
    with pytest.raises(ValueError, match="ranks must lie"):
        calibration.uniformity_test(np.array([[4]]), n_rank_draws=3)


def test_bin_edges_are_equal_probability_by_default():
    edges = bin_edges(99, 200)
    widths = np.diff(edges)
    assert len(widths) == 20 and set(widths) == {5.0}
    assert len(np.diff(bin_edges(99, 50))) == 5


def test_thinned_ranks_match_a_loop():
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(1000, 3))
    draws[:, 2] = np.round(draws[:, 2])  # ties
    truth = np.array([0.3, -1.0, 0.0])
    ranks = thinned_ranks(draws, truth, 99, np.random.default_rng(4))
    index = [round(i * 999 / 98) for i in range(99)]
    for j in range(2):
        assert ranks[j] == sum(draws[i, j] < truth[j] for i in index)
    below = sum(draws[i, 2] < 0 for i in index)
    ties = sum(draws[i, 2] == 0 for i in index)
    assert below <= ranks[2] <= below + ties


def _synthetic_result(truth, lower, upper, mean):
    n, p = truth.shape
    q = np.zeros((n, p, len(QUANTILES)))
    q[..., QUANTILES.index(0.05)] = lower
    q[..., QUANTILES.index(0.95)] = upper
    q[..., QUANTILES.index(0.25)] = -np.inf  # 50% interval never covers
    q[..., QUANTILES.index(0.75)] = -np.inf
    ds = xr.Dataset(
        {"truth": (("simulation", "parameter"), truth),
         "mean": (("simulation", "parameter"), mean),
         "quantiles": (("simulation", "parameter", "quantile"), q)},
        coords={"parameter": ["x", "y"], "quantile": list(QUANTILES)},
    )
    return CalibrationResult(ds)


def test_coverage_and_bias_on_a_synthetic_example():
    truth = np.zeros((10, 2))
    lower = np.full((10, 2), -1.0)
    upper = np.full((10, 2), 1.0)
    lower[:3, 0] = 0.5  # x: 3 of 10 intervals miss
    upper[9, 1] = 0.0  # y: truth on the boundary counts as inside
    mean = np.tile([0.2, -0.1], (10, 1))
    res = _synthetic_result(truth, lower, upper, mean)
    cov = res.coverage(0.9)
    assert float(cov["coverage"].sel(parameter="x")) == 0.7
    assert float(cov["coverage"].sel(parameter="y")) == 1.0
    assert cov.attrs["overall"] == pytest.approx(17 / 20)
    assert float(cov["se"].sel(parameter="x")) == pytest.approx(np.sqrt(0.7 * 0.3 / 10))
    assert float(res.coverage(0.5)["coverage"].sel(parameter="x")) == 0.0
    bias = res.bias()
    assert float(bias["bias"].sel(parameter="x")) == pytest.approx(0.2)
    assert float(bias["rmse"].sel(parameter="y")) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="ci_prob must be one of"):
        res.coverage(0.89)


def test_design_summary_and_sentence_on_synthetic_results():
    dims = ("dyads", "sessions", "segments", "replicate")
    rng = np.random.default_rng(0)
    shape = (2, 1, 1, 10)
    lower = rng.uniform(-2, -1, shape)
    upper = lower + 0.8
    upper[0, 0, 0, :6] = 0.5  # 6 dyads: 4 of 10 exclude zero
    upper[1, 0, 0, :1] = 0.5  # 10 dyads: 9 of 10 exclude zero
    ds = xr.Dataset(
        {"lower": (dims, lower), "upper": (dims, upper), "mean": (dims, (lower + upper) / 2),
         "n_divergent": (dims, np.zeros(shape)), "ok": (dims, np.ones(shape, dtype=bool))},
        coords={"dyads": [6, 10], "sessions": [8], "segments": [10], "replicate": range(10)},
    )
    ds["width"] = ds["upper"] - ds["lower"]
    ds["excludes_zero"] = (ds["lower"] > 0) | (ds["upper"] < 0)
    ds["null_slopes"] = (dims, np.full(shape, 20.0))
    ds["null_excluding"] = (dims, np.ones(shape))
    ds.attrs.update({"effect": json.dumps({"given": "MIA4", "target": "confrontation",
                                           "lag": 1, "log_odds": -0.8}),
                     "ci_prob": 0.9, "unit": "5-minute segment"})
    da = DesignAnalysis(ds)
    table = da.summary()
    assert table.loc[(6, 8, 10), "p_exclude"] == 0.4
    assert table.loc[(10, 8, 10), "p_exclude"] == 0.9
    ci = stats.binomtest(9, 10).proportion_ci(0.95, method="exact")
    assert table.loc[(10, 8, 10), "p_lower"] == pytest.approx(ci.low)
    assert da.smallest_design(0.8) == (10, 8, 10)
    assert table.loc[(6, 8, 10), "fpr_null"] == pytest.approx(0.05)
    text = da.sentence(0.8)
    assert text.startswith("With 10 dyads of 8 sessions of ten 5-minute segments, a MIA4 -> "
                           "confrontation effect (lag 1) of log odds ratio -0.8 is credibly")
    assert "in 90% of simulated studies (n = 10" in text
    assert "None of the simulated designs" in da.sentence(0.95)
    # printed: the main columns, a line per column, the sentence; no line over 100
    printed = str(da)
    assert repr(da) == printed
    assert all(len(line) <= 100 for line in printed.splitlines()), printed
    assert "p_exclude" in printed and "Columns:" in printed
    assert " ".join(da.sentence().split()) in " ".join(printed.split())


def test_design_figure_has_whole_number_dyad_ticks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import lagnest  # noqa: F401  (fills the figure slot)

    dims = ("dyads", "sessions", "segments", "replicate")
    shape = (3, 1, 1, 4)
    lower = np.linspace(-2.0, 0.5, 12).reshape(shape)
    ds = xr.Dataset(
        {"lower": (dims, lower), "upper": (dims, lower + 1.0), "mean": (dims, lower + 0.5),
         "n_divergent": (dims, np.zeros(shape)), "ok": (dims, np.ones(shape, dtype=bool)),
         "null_slopes": (dims, np.full(shape, 5.0)), "null_excluding": (dims, np.zeros(shape))},
        coords={"dyads": [3, 4, 5], "sessions": [6], "segments": [10], "replicate": range(4)},
    )
    ds["width"] = ds["upper"] - ds["lower"]
    ds["excludes_zero"] = (ds["lower"] > 0) | (ds["upper"] < 0)
    ds.attrs.update({"effect": json.dumps({"given": "MIA4", "target": "confrontation",
                                           "lag": 1, "log_odds": -0.8}), "ci_prob": 0.9})
    fig = DesignAnalysis(ds).plot()
    fig.canvas.draw()
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert all("." not in label for label in labels), labels
    plt.close(fig)


def test_a_model_without_calibration_vars_is_refused():
    class NoVars:
        pass

    with pytest.raises(TypeError, match="declares no calibration_vars"):
        calibration_vars(NoVars())


def test_importing_calibration_does_not_import_dask():
    code = "import sys, lagnest; lagnest.calibration.sbc; print('distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_task_seeds_depend_on_run_seed_and_key_only():
    a = engine.task_seed(3, (7,)).generate_state(2)
    b = engine.task_seed(3, (7,)).generate_state(2)
    c = engine.task_seed(3, (8,)).generate_state(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def toy_task(payload, key, ss):
    """A task without a model: a seeded draw, its key, the payload and the process."""
    return {"x": float(np.random.default_rng(ss).random()), "key": list(key),
            "a": payload["a"], "pid": os.getpid()}


@pytest.mark.slow
def test_engine_processes_match_in_process_and_resume(tmp_path):
    keys = [(i,) for i in range(6)]
    warmed = []
    config = {"what": "toy"}
    seq, info1 = engine.run_tasks(toy_task, {"a": 1}, keys, seed=4, config=config, n_jobs=1,
                                  progress=False, warm=lambda: warmed.append(1))
    assert info1["backend"] == "in-process" and warmed == []  # no workers, no warm-up
    par, info2 = engine.run_tasks(toy_task, {"a": 1}, keys, seed=4, config=config, n_jobs=2,
                                  path=tmp_path, progress=False,
                                  warm=lambda: warmed.append(1))
    assert info2["backend"] == "processes" and warmed == [1]
    assert {k: v["x"] for k, v in par.items()} == {k: v["x"] for k, v in seq.items()}
    assert {v["pid"] for v in par.values()} != {os.getpid()}
    assert all(v["a"] == 1 and tuple(v["key"]) == k for k, v in par.items())
    again, info3 = engine.run_tasks(toy_task, {"a": 1}, [*keys, (6,)], seed=4, config=config,
                                    n_jobs=2, path=tmp_path, progress=False,
                                    warm=lambda: warmed.append(1))
    assert info3["computed"] == [(6,)] and info3["resumed"] == keys
    assert again[(3,)] == par[(3,)]
    with pytest.raises(engine.RunMismatchError):
        engine.run_tasks(toy_task, {"a": 1}, keys, seed=5, config={"what": "other"},
                         n_jobs=1, path=tmp_path, progress=False)


def sleepy_task(payload, key, ss):
    """A task that announces its process and then outlasts any test."""
    Path(payload["folder"], f"{os.getpid()}.pid").write_text("")
    time.sleep(600)
    return {}


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs, by ``ps`` (a zombie, left for an init that does not reap
    it, does not)."""
    out = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True,
                         text=True)
    return bool(out.stdout.strip()) and not out.stdout.strip().startswith("Z")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and ps")
def test_workers_end_when_the_driver_is_killed(tmp_path):
    """A driver killed outright (SIGKILL: no cleanup runs) leaves no worker fitting on."""
    driver = (
        "import sys; sys.path.insert(0, sys.argv[2])\n"
        "from test_calibration import sleepy_task\n"
        "from lagnest.calibration import engine\n"
        "if __name__ == '__main__':\n"
        "    engine.run_tasks(sleepy_task, {'folder': sys.argv[1]}, [(0,), (1,)], seed=1,\n"
        "                     config={'what': 'sleepy'}, n_jobs=2, progress=False)\n"
    )
    script = tmp_path / "driver.py"
    script.write_text(driver)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path),
                             str(Path(__file__).parent)])
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [int(f.stem) for f in tmp_path.glob("*.pid")]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30 * engine.DRIVER_CHECK_SECONDS
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # a failing run must not leave them sleeping
        os.kill(pid, 9)
    assert not left


@pytest.mark.slow
def test_quick_mode_runs_the_tasks_in_this_process_unless_workers_are_asked_for(monkeypatch):
    keys = [(i,) for i in range(3)]
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    quick, info = engine.run_tasks(toy_task, {"a": 1}, keys, seed=4, config={"what": "toy"},
                                   progress=False)
    assert info["backend"] == "in-process" and info["n_workers"] == 1
    assert {v["pid"] for v in quick.values()} == {os.getpid()}
    asked, info = engine.run_tasks(toy_task, {"a": 1}, keys, seed=4, config={"what": "toy"},
                                   n_jobs=2, progress=False)
    assert info["backend"] == "processes" and info["n_workers"] == 2
    assert os.getpid() not in {v["pid"] for v in asked.values()}
    assert {k: v["x"] for k, v in asked.items()} == {k: v["x"] for k, v in quick.items()}


# =========================================================================== fitting


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def local_sbc(model):
    return calibration.sbc(model, n=4, seed=5, n_jobs=1, **TINY)


@pytest.mark.slow
def test_sbc_result_layout(model, local_sbc):
    res = local_sbc
    assert model.calibration_vars == ("logit_typical", "sigma_dyad", "sigma_dyad_row",
                                      "sigma_session", "sigma_session_row")
    labels = list(res.ranks["parameter"].values)
    assert labels[:4] == ["logit_typical[a, a]", "logit_typical[a, b]",
                          "logit_typical[b, a]", "logit_typical[b, b]"]
    assert res.ranks.dims == ("simulation", "parameter") and res.n == 4
    assert res.ranks.min() >= 0 and res.ranks.max() <= 19
    # two targets per row, zero-sum: the row's two logits are mirror images
    np.testing.assert_allclose(res.truth.sel(parameter="logit_typical[a, a]"),
                               -res.truth.sel(parameter="logit_typical[a, b]"))
    assert res.config["model_id"] == model.id and res.run_info["backend"] == "in-process"
    assert set(res.uniformity().data_vars) >= {"chi2", "chi2_p", "ks", "ks_p"}
    assert np.all(res.data["rhat_max"] > 0.9)


@pytest.mark.slow
def test_sbc_same_ranks_locally_and_on_a_dask_local_cluster(model, local_sbc):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = calibration.sbc(model, n=4, seed=5, client=client, **TINY)
    assert remote.run_info["backend"] == "dask" and remote.run_info["n_workers"] == 2
    xr.testing.assert_equal(remote.ranks, local_sbc.ranks)
    xr.testing.assert_equal(remote.truth, local_sbc.truth)
    # posterior means agree to rounding: a worker process may order floating-point sums
    # differently (seen on the CI machine, and with a graph compiled cold in one process
    # and read from the cache in another: relative differences below 1e-6)
    xr.testing.assert_allclose(remote.data["mean"], local_sbc.data["mean"], rtol=1e-6)


@pytest.mark.slow
def test_interrupted_run_resumes_without_refitting(model, tmp_path):
    path = tmp_path / "run"
    script = tmp_path / "run_sbc.py"
    script.write_text(MODEL_CODE + textwrap.dedent(f"""
        from lagnest import calibration
        calibration.sbc(tiny_model(), n=6, seed=9, n_jobs=1, path={str(path)!r}, **{TINY!r})
    """))
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 400
        while len(list(path.glob("task-*.json"))) < 2:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no task finished in time"
            time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    finished = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in path.glob("task-*")}
    assert 2 <= len(finished) < 6
    assert not list(path.glob(".task-*"))  # no half-written file left behind
    res = calibration.sbc(model, n=6, seed=9, n_jobs=1, path=path, **TINY)
    done = sorted(int(name[5:10]) for name in finished)
    assert [k[0] for k in res.run_info["resumed"]] == done
    assert sorted(k[0] for k in res.run_info["computed"]) == sorted(set(range(6)) - set(done))
    for name, (mtime, content) in finished.items():
        assert (path / name).stat().st_mtime_ns == mtime
        assert (path / name).read_bytes() == content
    assert len(list(path.glob("task-*.json"))) == 6
    first = json.loads((path / sorted(finished)[0]).read_text())["result"]
    np.testing.assert_array_equal(res.ranks.sel(simulation=done[0]).values, first["ranks"])
    # another run (other seed) refuses the folder instead of mixing results
    with pytest.raises(calibration.RunMismatchError, match="another run"):
        calibration.sbc(model, n=6, seed=10, n_jobs=1, path=path, **TINY)
    # and so does the same run with chains started by another method
    model.start_method = "another start"
    try:
        with pytest.raises(calibration.RunMismatchError, match="another run"):
            calibration.sbc(model, n=6, seed=9, n_jobs=1, path=path, **TINY)
    finally:
        del model.start_method


@pytest.mark.slow
def test_recovery_reports_coverage_and_bias(model):
    truth = model.prior_predictive(draws=1, seed=4).draws.isel(chain=0, draw=0)
    res = calibration.recovery(model, truth=truth, n=2, seed=1, n_jobs=1, draws=60, tune=60,
                               chains=2, progress=False)
    assert isinstance(res, calibration.RecoveryResult) and "ranks" not in res.data
    for s in range(2):  # every simulation was fitted against the same truth
        np.testing.assert_allclose(res.truth.isel(simulation=s),
                                   res.truth.isel(simulation=0))
    assert float(res.truth.sel(parameter="sigma_dyad")[0]) == pytest.approx(
        float(truth["sigma_dyad"]))
    assert res.coverage(0.9)["coverage"].sizes["parameter"] == res.truth.sizes["parameter"]
    with pytest.raises(ValueError, match="lacks the calibration variable"):
        calibration.recovery(model, truth={}, n=1, n_jobs=1, progress=False)


@pytest.mark.slow
def test_design_analysis_runs_on_small_designs(tmp_path):
    res = calibration.design_analysis(effect=-1.5, dyads=[3], sessions=[3], segments=8,
                                      n_sim=2, seed=1, n_jobs=1, draws=60, tune=60, chains=2,
                                      progress=False, path=tmp_path / "design")
    assert res.effect == {"given": "MIA4", "target": "confrontation", "lag": 1,
                          "log_odds": -1.5}
    ds = res.data
    assert ds["width"].dims == ("dyads", "sessions", "segments", "replicate")
    assert ds["ok"].all()
    assert bool((ds["width"] > 0).all())
    assert len(list((tmp_path / "design").glob("task-*.json"))) == 2
    assert "dyads of 3 sessions of eight 5-minute segments" in res.sentence(0.0)
    # 24 MIA slopes; MIA1, MIA2 and MIA4 act on one family each (and so on "both"): 18 null
    assert (ds["null_slopes"] == 18).all() and (ds["null_excluding"] <= 18).all()
    table = res.summary()
    assert 0 <= table["fpr_null"].iloc[0] <= 1 and table["failed_fits"].iloc[0] <= 2


def _synthetic_sbc(ranks, n_rank_draws):
    p = ranks.shape[1]
    ds = xr.Dataset({"ranks": (("simulation", "parameter"), ranks)},
                    coords={"parameter": [f"p{j}" for j in range(p)]})
    ds.attrs.update({"lagnest_calibration": json.dumps({"seed": 1}),
                     "n_rank_draws": n_rank_draws})
    return calibration.SBCResult(ds)


def test_rank_histograms_and_ecdf_plots_draw_the_ranks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(5)
    ranks = rng.integers(0, 20, size=(100, 3))
    res = _synthetic_sbc(ranks, 19)
    fig = res.plot(bins=4)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    for j, ax in enumerate(axes):
        drawn = ax.patches[0].get_data().values
        np.testing.assert_array_equal(drawn, np.histogram(ranks[:, j], bins=[0, 5, 10, 15, 20])[0])
    plt.close(fig)
    fig = res.plot_ecdf(n_simulations=200)
    line = fig.axes[0].lines[0]
    x, y = line.get_data()
    assert x[0] == 0 and x[-1] == 1 and y[-1] == 0  # ECDF minus uniform CDF ends at 0
    plt.close(fig)


def test_converged_fits_are_judged_on_the_ranked_variables():
    ranks = np.arange(12).reshape(4, 3) % 5
    res = _synthetic_sbc(ranks, 4)
    data = res.data.assign(
        rhat_max_ranked=("simulation", [1.005, 1.02, 1.0, 1.009]),
        ess_min_ranked=("simulation", [900.0, 900.0, 150.0, 500.0]),
        n_divergent=("simulation", [0, 0, 0, 1]),
        rhat_max=("simulation", [1.2, 1.0, 1.0, 1.0]))  # other variables do not count
    data.attrs["lagnest_calibration"] = json.dumps({"seed": 1, "sampler": {"chains": 4}})
    res = calibration.SBCResult(data)
    # 4 chains: ESS at least 400; no divergence; R-hat at most 1.01
    assert res.converged().values.tolist() == [True, False, False, False]
    assert res.select(res.converged()).n == 1
