"""Operating characteristics: the simulator's implied truth and the rates' arithmetic."""

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import lagnest as ln
from lagnest._summaries import CI_PROB
from lagnest.calibration.operating import (
    SCENARIOS,
    OperatingCharacteristics,
    operating_characteristics,
)
from lagnest.simulate import thesis_like_params
from lagnest.simulate.implied import rupture_slopes


def _lag1_frame(seqs):
    """Per-segment lag-1 design written here (not lagnest's kernels): y and columns."""
    y, _ = seqs.categorical("rupture")
    mia, names = seqs.indicator_matrix("mia")
    offsets = np.asarray(seqs.encoded.session_offsets)
    t = np.concatenate([np.arange(a + 1, b) for a, b in itertools.pairwise(offsets)])
    prev = np.asarray(y)[t - 1]
    cols = {f"rupture={c}[t-1]": (prev == k).astype(float)
            for k, c in ((1, "withdrawal"), (2, "confrontation"), (3, "both"))}
    cols.update({f"{n}[t-1]": np.asarray(mia)[t - 1, j].astype(float)
                 for j, n in enumerate(names)})
    return np.asarray(y)[t], pd.DataFrame(cols)


@pytest.mark.slow
@pytest.mark.parametrize(("feedback", "co_occurrence"), [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
def test_implied_slopes_match_maximum_likelihood_on_a_large_corpus(feedback, co_occurrence):
    """statsmodels' MNLogit, an independent oracle, recovers the stated slopes.

    No group variation, so the pooled multinomial logit is the true model; with the
    rupture -> MIA feedback the slopes are unchanged (they are conditional effects), and so
    they are with withdrawal and confrontation co-occurring beyond independence, which
    only the ``both`` intercept carries: its excess over the two others' is the log odds
    ratio ``co_occurrence``.
    """
    import statsmodels.api as sm

    params = thesis_like_params(n_dyads=150, sessions_per_dyad=(10, 10),
                                segments_per_session=(60, 60), dyad_sd_withdrawal=0.0,
                                dyad_sd_confrontation=0.0, session_sd=0.0,
                                rupture_to_mia=feedback, co_occurrence=co_occurrence)
    seqs, truth = ln.simulate.simulate(params, seed=5)
    y, x = _lag1_frame(seqs)
    res = sm.MNLogit(y, sm.add_constant(x)).fit(disp=0, method="newton", maxiter=100)
    stated = rupture_slopes(truth.params, list(x.columns))
    est, se = np.asarray(res.params)[1:], np.asarray(res.bse)[1:]
    cats = ("withdrawal", "confrontation", "both")
    z = [(est[j, k] - stated[(name, cat)]) / se[j, k]
         for j, name in enumerate(x.columns) for k, cat in enumerate(cats)]
    assert np.max(np.abs(z)) < 4.0  # 33 coefficients: |z| < 4 unless the truth is wrong
    assert stated[("MIA4[t-1]", "both")] == -0.8
    assert stated[("rupture=both[t-1]", "both")] == pytest.approx(1.6)
    contrast = np.array([-1.0, -1.0, 1.0])  # both - withdrawal - confrontation
    const = np.asarray(res.params)[0]
    cov = np.asarray(res.cov_params())
    n_par = len(x.columns) + 1
    idx = [k * n_par for k in range(3)]  # the constants in statsmodels' stacked order
    sd = float(np.sqrt(contrast @ cov[np.ix_(idx, idx)] @ contrast))
    assert abs(float(contrast @ const) - co_occurrence) < 4 * sd


def test_co_occurrence_zero_is_the_independent_simulator_and_shifts_only_both():
    a, _ = ln.simulate.thesis_like(seed=4)
    b, _ = ln.simulate.thesis_like(seed=4, co_occurrence=0.0)
    assert a == b
    c, _ = ln.simulate.thesis_like(seed=4, co_occurrence=1.5)
    assert c != a
    for bad in (float("nan"), "high", None):
        with pytest.raises(ValueError, match="co_occurrence must be a finite number"):
            thesis_like_params(co_occurrence=bad)


def test_implied_slopes_refuse_a_state_effect_and_skip_other_columns():
    assert rupture_slopes(thesis_like_params(), ["MIA4[t-1] session mean", "x"]) == {}
    assert rupture_slopes(thesis_like_params(), ["MIA1[t-2]"])[("MIA1[t-2]", "withdrawal")] == 0
    with pytest.raises(ValueError, match="rupture_state_effect"):
        rupture_slopes(thesis_like_params(rupture_state_effect=0.3), ["MIA4[t-1]"])


def test_confounding_switches_leave_a_corpus_without_them_unchanged():
    a, _ = ln.simulate.thesis_like(seed=4)
    b, _ = ln.simulate.thesis_like(seed=4, rupture_to_mia=0.0, session_confounder_sd=0.0)
    assert a == b
    c, truth = ln.simulate.thesis_like(seed=4, rupture_to_mia=2.0, session_confounder_sd=1.0)
    assert c != a
    assert truth.sessions["session_confounder"].std() > 0.3


def test_rupture_feedback_raises_mindfulness_after_ruptures():
    seqs, _ = ln.simulate.thesis_like(seed=2, n_dyads=40, rupture_to_mia=2.0,
                                      rupture_effects=())
    _y, _x = _lag1_frame(seqs)
    # MIA at t-1 is more common after a rupture at t-2: look one step further back
    mia, _ = seqs.indicator_matrix("mia")
    rup, _ = seqs.categorical("rupture")
    offsets = np.asarray(seqs.encoded.session_offsets)
    t = np.concatenate([np.arange(a + 1, b) for a, b in itertools.pairwise(offsets)])
    after = np.asarray(rup)[t - 1] > 0
    share = np.asarray(mia)[t].mean(axis=1)
    assert share[after].mean() > share[~after].mean() + 0.1


@dataclass(frozen=True)
class FixedAnchor:
    """An anchor whose intervals are the truth shifted by ``shift``, half-width ``half``."""

    shift: float
    half: float

    def estimate(self, seqs, seed, ci_prob):
        names = ["MIA1[t-1]", "MIA4[t-1]", "MIA5[t-1]"]
        truth = rupture_slopes(SCENARIO_PARAMS, names)
        labels = [f"{n}|{c}" for n in names for c in ("withdrawal", "confrontation", "both")]
        values = np.array([truth[tuple(lab.split("|"))] for lab in labels]) + self.shift
        return {"labels": labels, "mean": values.tolist(), "median": values.tolist(),
                "lower": (values - self.half).tolist(), "upper": (values + self.half).tolist(),
                "rhat_max": 1.0, "ess_min": 1000.0, "n_divergent": 0,
                "failed": seed % 2 == 0}


SCENARIO_PARAMS = thesis_like_params()


def test_rates_follow_their_definitions_on_known_intervals():
    oc = operating_characteristics(
        {"exact": FixedAnchor(0.0, 0.3), "shifted": FixedAnchor(0.45, 0.3)},
        scenarios={"thesis": {}}, designs=[(2, 2, 5)], n_studies=3, seed=1, n_jobs=1,
        progress=False)
    table = oc.summary()
    # the tool reads intervals at the level every fit's summary prints unless told
    assert oc.ci_prob == CI_PROB == 0.95
    exact = table.loc[("exact", "thesis", "2x2x5", "predictor")]
    # truths: MIA1 -> withdrawal -0.5 and both -0.5, MIA4 -> confrontation/both -0.8; the
    # other five of the nine slopes are 0
    assert exact["coverage_nonzero"] == 1.0 and exact["coverage_zero"] == 1.0
    assert exact["power"] == 1.0 and exact["fpr"] == 0.0 and exact["type_m"] == 1.0
    assert exact["bias"] == 0.0 and exact["width"] == pytest.approx(0.6)
    shifted = table.loc[("shifted", "thesis", "2x2x5", "predictor")]
    # shifted by +0.45 with half-width 0.3, no interval covers its truth: a zero truth
    # gives [0.15, 0.75] (a false positive), -0.5 gives [-0.35, 0.25] (holds 0: no
    # detection), -0.8 gives [-0.65, -0.05] (a correct-sign detection, estimate -0.35)
    assert shifted["coverage_nonzero"] == 0.0 and shifted["coverage_zero"] == 0.0
    assert shifted["fpr"] == 1.0 and shifted["fwer"] == 1.0
    assert shifted["power"] == pytest.approx(2 / 4)
    assert shifted["type_m"] == pytest.approx(0.35 / 0.8)
    assert shifted["bias"] == pytest.approx(0.45)
    assert exact["studies"] == 3
    failed = oc.data["failed"].sel(estimator="exact").values.ravel()
    assert exact["failed_fits"] == int(failed.sum())


def test_cluster_se_is_binomial_with_one_slope_per_study():
    from lagnest.calibration.operating import _cluster_rate

    part = pd.DataFrame({"study": np.arange(50), "hit": np.arange(50) < 20})
    rate, se = _cluster_rate(part, "hit")
    assert rate == 0.4 and se == pytest.approx(np.sqrt(0.4 * 0.6 / 50))


def test_result_round_trips(tmp_path):
    oc = operating_characteristics({"exact": FixedAnchor(0.0, 0.3)}, scenarios=["null"],
                                   designs=[(2, 2, 5)], n_studies=2, n_jobs=1,
                                   progress=False)
    back = OperatingCharacteristics.load(oc.save(tmp_path / "oc.nc"))
    pd.testing.assert_frame_equal(back.summary(), oc.summary())


def test_unknown_scenario_is_refused():
    with pytest.raises(ValueError, match="unknown scenarios"):
        operating_characteristics({}, scenarios=["nope"])
    assert set(SCENARIOS) >= {"null", "one_large", "thesis", "dense_small", "confounded_null"}


def test_studies_by_method_runs_more_studies_of_one_method_on_the_same_studies(tmp_path):
    methods = {"exact": FixedAnchor(0.0, 0.3), "shifted": FixedAnchor(0.45, 0.3)}
    first = operating_characteristics(methods, scenarios=["null"], designs=[(2, 2, 5)],
                                      n_studies=2, seed=3, n_jobs=1, progress=False,
                                      path=tmp_path / "run")
    more = operating_characteristics(methods, scenarios=["null"], designs=[(2, 2, 5)],
                                     n_studies=2, seed=3, n_jobs=1, progress=False,
                                     path=tmp_path / "run", studies_by_method={"exact": 5})
    table = more.summary()
    assert table.loc[("exact", "null", "2x2x5", "predictor"), "studies"] == 5
    assert table.loc[("shifted", "null", "2x2x5", "predictor"), "studies"] == 2
    assert sorted(more.data.attrs) == sorted(first.data.attrs)  # resumed: same run
    assert len(list((tmp_path / "run").glob("task-*.json"))) == 5 + 2
    np.testing.assert_array_equal(  # study r is the same study for both runs
        more.data["truth"].sel(estimator="shifted", study=[0, 1]).values,
        first.data["truth"].sel(estimator="shifted").values)
    with pytest.raises(ValueError, match="unknown methods"):
        operating_characteristics(methods, scenarios=["null"], designs=[(2, 2, 5)],
                                  n_studies=1, studies_by_method={"nope": 3})


@dataclass(frozen=True)
class LevelAnchor:
    """Normal intervals around the truth with SD ``sd``, at any probability (exact rates)."""

    sd: float

    def _bounds(self, values, p):
        from scipy.stats import norm

        z = norm.ppf(0.5 + p / 2)
        return (values - z * self.sd).tolist(), (values + z * self.sd).tolist()

    def estimate(self, seqs, seed, ci_prob, extra_ci_probs=()):
        names = ["MIA1[t-1]", "MIA4[t-1]", "MIA5[t-1]"]
        truth = rupture_slopes(SCENARIO_PARAMS, names)
        labels = [f"{n}|{c}" for n in names for c in ("withdrawal", "confrontation", "both")]
        values = np.array([truth[tuple(lab.split("|"))] for lab in labels])
        lower, upper = self._bounds(values, ci_prob)
        extra = [self._bounds(values, p) for p in extra_ci_probs]
        return {"labels": labels, "mean": values.tolist(), "median": values.tolist(),
                "lower": lower, "upper": upper, "extra_lower": [lo for lo, _ in extra],
                "extra_upper": [hi for _, hi in extra], "rhat_max": 1.0, "ess_min": 1000.0,
                "n_divergent": 0, "failed": False}


def test_intervals_at_several_probabilities_from_the_same_fits(tmp_path):
    # half-widths at 90% and 95%: 1.645 sd and 1.960 sd; with sd 0.45 the 90% interval of
    # the -0.8 truths excludes zero (0.80 > 0.74) and the 95% one does not (0.80 < 0.88)
    oc = operating_characteristics({"normal": LevelAnchor(0.45)}, scenarios={"thesis": {}},
                                   designs=[(2, 2, 5)], n_studies=2, seed=1, n_jobs=1,
                                   progress=False, ci_prob=0.9, extra_ci_probs=(0.95, 0.5))
    assert oc.ci_probs == (0.9, 0.95, 0.5)
    key = ("normal", "thesis", "2x2x5", "predictor")
    at90, at95 = oc.summary().loc[key], oc.summary(ci_prob=0.95).loc[key]
    assert at90["width"] == pytest.approx(2 * 1.6449 * 0.45, abs=1e-3)
    assert at95["width"] == pytest.approx(2 * 1.9600 * 0.45, abs=1e-3)
    # non-zero truths: -0.5 twice (never detected) and -0.8 twice per study
    assert at90["power"] == pytest.approx(2 / 4) and at95["power"] == 0.0
    rec = oc.records(ci_prob=0.5)
    np.testing.assert_allclose(rec["upper"] - rec["lower"], 2 * 0.67449 * 0.45, atol=1e-4)
    with pytest.raises(ValueError, match=r"no intervals at ci_prob=0\.8"):
        oc.summary(ci_prob=0.8)
    back = OperatingCharacteristics.load(oc.save(tmp_path / "oc.nc"))
    pd.testing.assert_frame_equal(back.summary(ci_prob=0.95), oc.summary(ci_prob=0.95))
    assert "95%, 50% too" in repr(oc)
    with pytest.raises(ValueError, match="repeat a probability"):
        operating_characteristics({"normal": LevelAnchor(0.45)}, scenarios=["null"],
                                  extra_ci_probs=(0.95,))  # the default level again


def test_a_changed_library_default_is_another_run(monkeypatch):
    # a run id hashes what a method is; for a lagnest model that includes the defaults it
    # relies on, so a run recorded under one default prior is not resumed under another
    from lagnest.calibration.operating import _describe, lagnest_method
    from lagnest.models import LaggedRegression
    from lagnest.models.priors import Prior

    method = lagnest_method(center="dyad")
    before = _describe(method)
    assert before == _describe(lagnest_method(center="dyad"))
    assert before != _describe(lagnest_method(center="session"))
    monkeypatch.setattr(LaggedRegression, "default_priors",
                        {**LaggedRegression.default_priors,
                         "beta": Prior("Normal", {"sigma": 1.0})})
    assert _describe(method) != before


def test_a_model_function_is_described_alike_in_every_process():
    # design_analysis's default model is a plain function: its description (part of the run
    # id) once held its memory address, so no other process could resume its run
    import subprocess
    import sys

    from lagnest.calibration.design import default_model
    from lagnest.calibration.operating import _describe

    code = ("from lagnest.calibration.design import default_model; "
            "from lagnest.calibration.operating import _describe; "
            "print(_describe(default_model))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert other == _describe(default_model)
    assert " at 0x" not in other
    # two factories with other code or other captured values are other methods
    sigma = 1.0
    first = _describe(lambda s: ln.LaggedRegression(s, "rupture", ["mia"], center="dyad"))
    second = _describe(lambda s: ln.LaggedRegression(s, "rupture", ["mia"], center="session"))
    closing = _describe(lambda s: ln.LaggedRegression(s, "rupture", ["mia"],
                                                       priors={"beta": {"sigma": sigma}}))
    sigma = 2.0
    closing_later = _describe(lambda s: ln.LaggedRegression(s, "rupture", ["mia"],
                                                             priors={"beta": {"sigma": sigma}}))
    assert len({first, second, closing, closing_later}) == 4
