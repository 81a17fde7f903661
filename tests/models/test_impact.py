"""SessionImpactModel: terms, standardisation, structure, simulate hook, fit, save/load."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import lagnest
from lagnest import LagnestDataError, Sequences
from lagnest.models import BayesianModel, ConvergenceWarning, SessionImpactModel
from lagnest.models.base import constructor_arguments
from lagnest.models.impact import mv_log_density, parse_term, session_values

SEQ = ["seq_depth", "seq_smoothness", "seq_positivity", "seq_arousal"]
THESIS_PREDICTORS = ["tms_curiosity", "tms_decentering", "session_number", "rate(rupture)",
                     "followed(rupture, resolution, 3)"]


@pytest.fixture(scope="module")
def example():
    return lagnest.datasets.load_example()


def make_corpus(n_dyads, sessions_per_dyad, seed=0, segments=8, dyad_sd=0.0,
                session_number=True):
    """Small corpus: rupture/resolution codes and session covariates (outcome has dyad
    effects of SD ``dyad_sd``)."""
    rng = np.random.default_rng(seed)
    rows, sessions = [], []
    for d in range(n_dyads):
        u = rng.normal(0.0, dyad_sd)
        for k in range(sessions_per_dyad):
            label = f"d{d + 1}-s{k + 1}"
            rupture = rng.choice(["none", "withdrawal", "confrontation"], p=[0.5, 0.35, 0.15],
                                 size=segments)
            rupture[0] = "withdrawal"  # every session has a rupture with a later segment
            resolution = rng.choice(["no_strategy", "immediate", "exploratory"], size=segments)
            rows += [{"dyad": f"d{d + 1}", "session": label, "segment": t + 1,
                      "rupture": rupture[t], "resolution": resolution[t]}
                     for t in range(segments)]
            row = {"session": label, "tms_curiosity": rng.normal(12, 3),
                   "seq_depth": u + rng.normal(), "seq_positivity": rng.normal(), "note": "x"}
            if session_number:
                row["session_number"] = k + 1
            sessions.append(row)
    return Sequences.from_frame(
        pd.DataFrame(rows), sessions=pd.DataFrame(sessions),
        codes={"rupture": ["none", "withdrawal", "confrontation"],
               "resolution": ["no_strategy", "immediate", "exploratory"]},
    )


def with_sessions(seqs, table):
    """The same segments with another session table (index session)."""
    codes = {n: list(info.codes) for n, info in seqs.streams.items() if info.kind == "categorical"}
    return Sequences.from_frame(seqs.to_frame(), codes=codes, sessions=table.drop(
        columns=["dyad", "n_segments"]).reset_index())


# ---------------------------------------------------------------- spec and validation
def test_spec_covers_the_constructor_arguments(example):
    m = SessionImpactModel(example, ["seq_depth"], ["tms_curiosity"], groups="none",
                           center="grand", residuals="normal", parameterization="centered")
    assert set(m.spec) == set(constructor_arguments(SessionImpactModel))
    assert m.spec == {"outcomes": ["seq_depth"], "predictors": ["tms_curiosity"],
                      "groups": "none", "center": "grand", "residuals": "normal",
                      "parameterization": "centered"}
    assert not m.built
    json.dumps(m.config)


def test_terms_are_normalised(example):
    m = SessionImpactModel(example, "seq_depth", ["followed( rupture ,resolution,3 )",
                                                  " rate(withdrawal)"])
    assert m.predictors == ["followed(rupture, resolution, 3)", "rate(withdrawal)"]
    assert m.outcomes == ["seq_depth"]


@pytest.mark.parametrize(
    ("outcomes", "predictors", "kwargs", "match"),
    [
        (["seq_depht"], ["tms_curiosity"], {}, r"outcomes\[0\] = 'seq_depht'.*did you mean "
                                               r"'seq_depth'"),
        (["seq_depth"], ["tms_curiosity", "dyad"], {}, r"predictors\[1\] = 'dyad'"),
        (["seq_depth"], ["rate(rupure)"], {}, r"predictors\[0\] = 'rate\(rupure\)'.*rupure"),
        (["seq_depth"], ["rate(mia)"], {}, r"'mia' is a set of indicators.*MIA1"),
        (["seq_depth"], ["mean(rupture)"], {}, r"unknown function 'mean'.*rate\(X\)"),
        (["seq_depth"], ["followed(rupture, resolution)"], {}, r"takes 3 argument"),
        (["seq_depth"], ["followed(rupture, resolution, 0)"], {}, r"window k.*positive"),
        (["seq_depth"], ["followed(rupture, resolution, x)"], {}, r"window k"),
        (["seq_depth"], ["seq_depth"], {}, r"more than once"),
        ([], ["tms_curiosity"], {}, r"outcomes is empty"),
        (["seq_depth"], [3], {}, r"predictors\[0\] must be a non-empty str"),
        (["seq_depth"], ["tms_curiosity"], {"groups": "session"}, r"groups must be one of"),
        (["seq_depth"], ["tms_curiosity"], {"center": "none"}, r"center must be one of"),
        (["seq_depth"], ["tms_curiosity"], {"residuals": "t"}, r"residuals must be one of"),
        (["seq_depth"], ["tms_curiosity"], {"priors": {"beta": {"sigma": -1}}}, r"beta"),
        (["seq_depth"], ["tms_curiosity"], {"priors": {"resid_corr": {"eta": 0}}}, r"eta"),
    ],
)
def test_constructor_validates_with_located_messages(example, outcomes, predictors, kwargs,
                                                     match):
    with pytest.raises(LagnestDataError, match=match):
        SessionImpactModel(example, outcomes, predictors, **kwargs)


def test_non_numeric_session_column_is_named():
    seqs = make_corpus(2, 3)
    with pytest.raises(LagnestDataError, match=r"'note' is not numeric"):
        SessionImpactModel(seqs, ["seq_depth"], ["note"])


# ---------------------------------------------------------------- data
def test_standardisation_matches_a_pandas_computation(example):
    m = SessionImpactModel(example, SEQ, ["tms_curiosity", "tms_decentering",
                                          "session_number"])
    d = m.data
    table = example.sessions
    y = table[SEQ]
    z = (y - y.mean()) / y.std()
    np.testing.assert_allclose(d.outcomes, z.to_numpy(), rtol=1e-12)
    x = table[["tms_curiosity", "tms_decentering", "session_number"]]
    centred = x - x.groupby(table["dyad"]).transform("mean")
    np.testing.assert_allclose(d.predictors, (centred / centred.std()).to_numpy(), atol=1e-12)
    np.testing.assert_allclose(d.outcome_sd, y.std().to_numpy())
    np.testing.assert_allclose(d.predictor_raw, x.to_numpy())
    grand = SessionImpactModel(example, SEQ, ["tms_curiosity"], center="grand").data
    xc = table["tms_curiosity"]
    np.testing.assert_allclose(grand.predictors[:, 0], ((xc - xc.mean()) / xc.std()).to_numpy())


def _naive_blocks(seqs):
    """Blocks of the corpus from its segment table (breaks and gaps in segment numbers)."""
    frame = seqs.segments
    blocks = []
    for _, rows in frame.groupby("session", sort=False):
        current, last = [], None
        for _, row in rows.iterrows():
            gap = last is not None and row["segment"] != last + 1
            if current and (gap or bool(row.get("break", False))):
                blocks.append(current)
                current = []
            current.append(row)
            last = row["segment"]
        blocks.append(current)
    return blocks


def _naive_summaries(seqs, x_stream, x_code, y_stream, y_code, k):
    """rate and followed per session by a loop over segments (independent of the kernels)."""
    def event(row, stream, code):
        value = row[stream]
        if pd.isna(value):
            return None
        return value != seqs.streams[stream].codes[0] if code is None else value == code

    rate_num, rate_den, fol_num, fol_den = {}, {}, {}, {}
    for block in _naive_blocks(seqs):
        s = block[0]["session"]
        for i, row in enumerate(block):
            e = event(row, x_stream, x_code)
            if e is None:
                continue
            rate_den[s] = rate_den.get(s, 0) + 1
            rate_num[s] = rate_num.get(s, 0) + int(e)
            if e and i + 1 < len(block):
                fol_den[s] = fol_den.get(s, 0) + 1
                later = [event(r, y_stream, y_code) for r in block[i + 1:i + 1 + k]]
                fol_num[s] = fol_num.get(s, 0) + int(any(v for v in later if v is not None))
    labels = seqs.session_labels
    rate = np.array([rate_num.get(s, 0) / rate_den[s] if rate_den.get(s) else np.nan
                     for s in labels])
    followed = np.array([fol_num.get(s, 0) / fol_den[s] if fol_den.get(s) else np.nan
                         for s in labels])
    return rate, followed


@pytest.mark.parametrize(
    ("x", "y", "k", "naive_args"),
    [
        ("rupture", "resolution", 3, ("rupture", None, "resolution", None)),
        ("withdrawal", "exploratory", 2, ("rupture", "withdrawal", "resolution", "exploratory")),
        ("confrontation", "resolution", 1, ("rupture", "confrontation", "resolution", None)),
    ],
)
def test_sequence_summaries_match_a_loop_over_segments(example, x, y, k, naive_args):
    rate, followed = _naive_summaries(example, *naive_args, k)
    np.testing.assert_allclose(session_values(example, parse_term(example, f"rate({x})")), rate)
    got = session_values(example, parse_term(example, f"followed({x}, {y}, {k})"))
    np.testing.assert_allclose(got, followed)


def test_summaries_respect_breaks_gaps_and_uncoded_segments():
    frame = pd.DataFrame({
        "dyad": ["a"] * 9,
        "session": ["s1"] * 6 + ["s2"] * 3,
        "segment": [1, 2, 3, 5, 6, 7, 1, 2, 3],
        "break": [0, 0, 1, 0, 0, 0, 0, 0, 0],
        "rupture": ["w", "none", "w", "w", None, "none", "none", "w", "none"],
        "resolution": ["no", "no", "yes", "no", "yes", "no", "no", "no", "yes"],
    })
    seqs = Sequences.from_frame(frame, codes={"rupture": ["none", "w"],
                                              "resolution": ["no", "yes"]})
    rate, followed = _naive_summaries(seqs, "rupture", None, "resolution", None, 2)
    np.testing.assert_allclose(rate, [3 / 5, 1 / 3])
    # s1: w@1 (block 1-2: no 'yes' after) no; w@3 (block {3}) no later segment; w@5 (block
    # 5-7: 'yes' at 6) yes -> 1/2; s2: w@2 followed by 'yes' at 3 -> 1/1
    np.testing.assert_allclose(followed, [1 / 2, 1.0])
    np.testing.assert_allclose(session_values(seqs, parse_term(seqs, "rate(rupture)")), rate)
    np.testing.assert_allclose(
        session_values(seqs, parse_term(seqs, "followed(rupture, resolution, 2)")), followed)


def test_session_number_is_derived_when_the_corpus_has_none():
    seqs = make_corpus(2, 3, session_number=False)
    assert "session_number" not in seqs.sessions.columns
    values = session_values(seqs, parse_term(seqs, "session_number"))
    np.testing.assert_array_equal(values, [1, 2, 3, 1, 2, 3])


def test_missing_values_drop_the_session_with_a_warning_and_a_note():
    seqs = make_corpus(3, 4, seed=1)
    table = seqs.sessions.copy()
    table.loc["d2-s3", "tms_curiosity"] = np.nan
    frame = seqs.to_frame()
    frame.loc[frame["session"] == "d3-s2", "rupture"] = "none"
    seqs = Sequences.from_frame(frame, sessions=table.drop(columns=["dyad", "n_segments"])
                                .reset_index(),
                                codes={"rupture": ["none", "withdrawal", "confrontation"]})
    assert seqs.sessions["tms_curiosity"].isna().sum() == 1
    m = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity",
                                                 "followed(rupture, resolution, 2)"])
    with pytest.warns(UserWarning, match=r"2 session\(s\) left out .*d2-s3 \(tms_curiosity"):
        d = m.data
    assert len(d.session_labels) == 10
    assert "d2-s3" not in d.session_labels and "d3-s2" not in d.session_labels
    notes = " ".join(m.structure.notes)
    assert "d3-s2 (followed(rupture, resolution, 2): no 'rupture' event" in notes
    kept = table.drop(index=["d2-s3", "d3-s2"])["seq_depth"]
    np.testing.assert_allclose(d.outcomes[:, 0], ((kept - kept.mean()) / kept.std()).to_numpy())


def test_too_few_complete_sessions_raise():
    seqs = make_corpus(1, 3)
    table = seqs.sessions.copy()
    table.loc[["d1-s1"], "seq_depth"] = np.nan
    seqs = with_sessions(seqs, table)
    with pytest.raises(LagnestDataError, match=r"only 2 of 3 sessions.*'d1-s1'"):
        _ = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity"]).data


def test_collinear_predictors_raise(example):
    with pytest.raises(LagnestDataError, match=r"collinear"):
        _ = SessionImpactModel(example, ["seq_depth"],
                               ["tms_curiosity", "tms_1", "tms_2", "tms_3", "tms_4", "tms_5",
                                "tms_6", "tms_7", "tms_8", "tms_9", "tms_10", "tms_11",
                                "tms_12", "tms_13", "tms_decentering"]).data


def test_config_id_tracks_the_session_covariates():
    seqs = make_corpus(2, 4)
    table = seqs.sessions.copy()
    table.loc["d1-s1", "seq_depth"] += 1.0
    other = with_sessions(seqs, table)
    assert other.fingerprint != seqs.fingerprint  # the fingerprint covers covariates
    a = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity"])
    b = SessionImpactModel(other, ["seq_depth"], ["tms_curiosity"])
    assert a.id != b.id
    assert a.id == SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity"]).id


# ---------------------------------------------------------------- structure
def test_single_dyad_drops_the_dyad_level():
    m = SessionImpactModel(make_corpus(1, 6), ["seq_depth"], ["tms_curiosity"])
    s = m.structure
    assert not s.dyad and s.levels == ()
    assert "only one dyad" in " ".join(s.notes)
    assert "sigma_dyad" not in m.build().named_vars


def test_one_session_per_dyad_drops_the_dyad_level():
    seqs = make_corpus(6, 1)
    with pytest.raises(LagnestDataError, match=r"within dyads.*center='grand'"):
        _ = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity"]).data
    m = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity"], center="grand")
    s = m.structure
    assert not s.dyad
    assert "every dyad has a single session" in " ".join(s.notes)
    model = m.build()
    assert "sigma_dyad" not in model.named_vars and "z_dyad" not in model.named_vars


def test_dyads_with_a_single_session_are_noted():
    seqs = make_corpus(3, 3).subset(sessions=["d1-s1", "d2-s1", "d2-s2", "d3-s1", "d3-s3"])
    s = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity"]).structure
    assert s.dyad
    assert "dyads with a single session (d1)" in " ".join(s.notes)


def test_auto_parameterization_follows_the_data(example):
    strong = make_corpus(6, 12, seed=2, dyad_sd=3.0)
    assert SessionImpactModel(strong, ["seq_depth"], ["tms_curiosity"]).structure \
        .parameterization == {"dyad": "centered"}
    # the example's seq_positivity barely varies between dyads: non-centred for the level
    m = SessionImpactModel(example, SEQ, ["tms_curiosity"])
    assert m.structure.parameterization == {"dyad": "noncentered"}
    forced = SessionImpactModel(example, SEQ, ["tms_curiosity"], parameterization="centered")
    assert forced.structure.parameterization == {"dyad": "centered"}
    assert "z_dyad" not in forced.build().named_vars


@pytest.mark.parametrize("residuals", ["student", "normal"])
@pytest.mark.parametrize("outcomes", [["seq_depth"], SEQ])
def test_graph_builds_with_finite_logp(example, residuals, outcomes):
    m = SessionImpactModel(example, outcomes, ["tms_curiosity"], residuals=residuals)
    model = m.build()
    assert ("nu" in model.named_vars) == (residuals == "student")
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def test_intercepts_only_model_builds(example):
    m = SessionImpactModel(example, ["seq_depth", "seq_arousal"], [])
    model = m.build()
    assert "beta" not in model.named_vars
    assert np.isfinite(model.compile_logp()(model.initial_point()))


# ---------------------------------------------------------------- simulate hook
def _params(rng, n_dyads, p, j, nu=None):
    a = rng.standard_normal((j, j))
    cov = a @ a.T + j * np.eye(j)
    sd = np.sqrt(np.diag(cov))
    out = {"intercept_dyad": rng.normal(0, 0.5, (n_dyads, j)),
           "beta": rng.normal(0, 0.4, (p, j)),
           "sigma_resid": sd * 0.5,
           "resid_corr": cov / np.outer(sd, sd)}
    if nu is not None:
        out["nu"] = np.float64(nu)
    return out


@pytest.mark.parametrize(("residuals", "nu"), [("normal", None), ("student", 7.0)])
def test_simulate_shapes_and_moments(example, residuals, nu):
    m = SessionImpactModel(example, SEQ[:3], ["tms_curiosity", "rate(rupture)"],
                           residuals=residuals)
    d = m.data
    rng = np.random.default_rng(5)
    params = _params(rng, len(d.dyad_labels), 2, 3, nu)
    draws = np.stack([m.simulate(params, rng)["outcomes"] for _ in range(3000)])
    assert draws.shape == (3000, *d.outcomes.shape) and draws.dtype == np.float64
    dyad = np.array([d.dyad_labels.index(x) for x in example.sessions.loc[
        list(d.session_labels), "dyad"]])
    mu = params["intercept_dyad"][dyad] + d.predictors @ params["beta"]
    resid = draws - mu
    scale = params["resid_corr"] * np.outer(params["sigma_resid"], params["sigma_resid"])
    cov = scale * (nu / (nu - 2) if nu else 1.0)
    np.testing.assert_allclose(resid.mean(axis=0), 0.0, atol=0.12)
    np.testing.assert_allclose(np.cov(resid.reshape(-1, 3).T), cov, rtol=0.04, atol=0.01)
    # each standardised marginal is t(nu) (or normal): Kolmogorov-Smirnov against scipy
    marginal = resid[:, :, 1].ravel() / params["sigma_resid"][1]
    ref = stats.t(nu).cdf if nu else stats.norm.cdf
    assert stats.kstest(marginal[::7], ref).pvalue > 1e-3


def test_observed_arrays_are_pm_data_so_a_new_dataset_reuses_the_graph(example):
    import pymc as pm

    m = SessionImpactModel(example, ["seq_depth", "seq_arousal"], ["tms_curiosity"])
    model = m.build()
    logp = model.compile_logp(vars=[model["y"]])
    point = model.initial_point()
    before = logp(point)
    new = m.simulate(_params(np.random.default_rng(1), 6, 1, 2, 9.0),
                     np.random.default_rng(2))["outcomes"]
    pm.set_data({"outcomes": new}, model=model)
    after = logp(point)
    assert after != before
    pm.set_data(m.data.observed, model=model)
    assert logp(point) == pytest.approx(before)
    assert m.build() is model
    with pytest.raises(ValueError, match=r"shape"):
        m.data.with_observed({"outcomes": new[:-1]})
    with pytest.raises(ValueError, match=r"finite"):
        m.data.with_observed({"outcomes": np.full_like(new, np.nan)})


def test_mv_log_density_matches_scipy():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 3))
    mu = rng.normal(size=(2, 5, 3))
    a = rng.normal(size=(2, 3, 3))
    cov = a @ np.swapaxes(a, -1, -2) + np.eye(3)
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    corr = cov / (sd[..., :, None] * sd[..., None, :])
    nu = np.array([3.5, 12.0])
    got_t = mv_log_density(y, mu, sd, corr, nu)
    got_n = mv_log_density(y, mu, sd, corr, None)
    for i in range(2):
        for s in range(5):
            assert got_t[i, s] == pytest.approx(
                stats.multivariate_t(mu[i, s], cov[i], df=nu[i]).logpdf(y[s]))
            assert got_n[i, s] == pytest.approx(
                stats.multivariate_normal(mu[i, s], cov[i]).logpdf(y[s]))


# ---------------------------------------------------------------- fitted results
@pytest.fixture(scope="module")
def short_fit(example):
    m = SessionImpactModel(example, ["seq_depth", "seq_positivity"],
                           ["tms_curiosity", "rate(rupture)"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = m.fit(draws=150, tune=150, chains=2, cores=1, seed=4)
    return m, res


def test_result_answers(short_fit, example):
    _, res = short_fit
    eff = res.effects()
    assert eff["mean"].dims == ("predictor", "outcome")
    beta = res.posterior["beta"]
    assert float(eff["mean"].sel(predictor="tms_curiosity", outcome="seq_depth")) == \
        pytest.approx(float(beta.sel(predictor="tms_curiosity", outcome="seq_depth").mean()))
    raw = res.effects("raw")
    table = example.sessions
    x = table["tms_curiosity"] - table.groupby("dyad")["tms_curiosity"].transform("mean")
    ratio = table["seq_positivity"].std() / x.std()
    assert float(raw["mean"].sel(predictor="tms_curiosity", outcome="seq_positivity")) == \
        pytest.approx(ratio * float(eff["mean"].sel(predictor="tms_curiosity",
                                                    outcome="seq_positivity")))
    corr = res.residual_correlation()
    np.testing.assert_allclose(np.diag(corr["mean"].values), 1.0)
    assert -1 < float(corr["mean"][0, 1]) < 1
    with pytest.raises(ValueError, match=r"scale"):
        res.effects("log")
    assert "standardised effects" in str(res)


def test_pointwise_log_likelihood_matches_pymc(short_fit):
    import pymc as pm

    m, res = short_fit
    ll = res.pointwise_log_likelihood()
    assert ll.dims == ("chain", "draw", "session")
    assert ll.sizes == {"chain": 2, "draw": 150, "session": 53}
    # a fresh graph without the explicit initial value PyMC's conversion refuses
    model = m.build_model()
    model.set_initval(model["resid_chol"], None)
    ref = pm.compute_log_likelihood(res.sampled, model=model, progressbar=False,
                                    extend_inferencedata=False)
    np.testing.assert_allclose(ll.values, np.asarray(ref["y"].values), rtol=1e-9)


def test_tree_log_likelihood_is_the_session_observation_of_loo(short_fit):
    import arviz_stats as azs

    _, res = short_fit
    ll = res.tree["log_likelihood"]["outcomes"]
    np.testing.assert_array_equal(ll.values, res.pointwise_log_likelihood().values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k on short chains
        assert azs.loo(res.tree).elpd == pytest.approx(res.loo().elpd, rel=1e-12)
    assert not any(v.startswith("z_") for v in res.tree["posterior"].data_vars)


def test_summary_sets_the_effects_beside_ols(short_fit, example):
    import statsmodels.api as sm

    _, res = short_fit
    summary = res.summary()
    table = summary.table
    assert list(table.columns) == ["mean", "sd", "lower", "upper", "P(>0)", "raw_mean", "ols",
                                   "ols_lower", "ols_upper"]
    fd = res.fit_data
    dummies = pd.get_dummies(fd["session_dyad"].values).to_numpy(dtype=float)
    for outcome in ("seq_depth", "seq_positivity"):
        ols = sm.OLS(fd["outcomes"].sel(outcome=outcome).values,
                     np.column_stack([fd["predictors"].values, dummies])).fit()
        ci = ols.conf_int(alpha=0.05)  # the default 95% intervals
        for p, name in enumerate(("tms_curiosity", "rate(rupture)")):
            row = table.loc[(outcome, name)]
            assert row["ols"] == pytest.approx(ols.params[p])
            assert row["ols_lower"] == pytest.approx(ci[p, 0])
            assert row["ols_upper"] == pytest.approx(ci[p, 1])
    text = str(summary)
    assert all(len(line) <= 100 for line in text.splitlines())
    words = " ".join(text.split())  # printed lines wrap at 100 columns
    assert "dyad fixed effects" in words and "grouping levels: dyad" in words
    assert summary.extra["residual_correlation"].shape == (2, 2)
    assert table.index.names == ["outcome", "predictor"]


def test_save_load_round_trip_and_rebuild(short_fit, example, tmp_path):
    m, res = short_fit
    path = res.save(tmp_path / "impact.nc")
    back = lagnest.load(path, model=m)
    assert type(back) is type(res)
    assert back.id == res.id and back.config == json.loads(json.dumps(res.config))
    xr.testing.assert_allclose(back.posterior["beta"], res.posterior["beta"])
    assert back.summary().table.equals(res.summary().table)
    assert BayesianModel.from_config(res.config, example).id == res.id
    detached = BayesianModel.from_result(back)
    assert detached.id == res.id
    np.testing.assert_array_equal(detached.data.outcomes, m.data.outcomes)
    assert detached.data.session_dyad.tolist() == m.data.session_dyad.tolist()
    assert detached.structure == m.structure
    draw = back.posterior.isel(chain=0, draw=0)
    sim = detached.simulate(draw, np.random.default_rng(0))
    assert sim["outcomes"].shape == m.data.outcomes.shape


def test_refit_on_simulated_data_reuses_the_graph(short_fit):
    m, res = short_fit
    model = m.build()
    sim = m.simulate(res.posterior.isel(chain=0, draw=0), np.random.default_rng(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = m.fit(draws=50, tune=50, chains=2, cores=1, seed=2, observed=sim)
    assert m.build() is model
    np.testing.assert_array_equal(again.fit_data["outcomes"].values, sim["outcomes"])
    assert again.config["simulated"] and again.config["data_fingerprint"] is None
    np.testing.assert_array_equal(model["outcomes"].get_value(), m.data.outcomes)


def test_prior_predictive_shows_the_prior_effects(example):
    m = SessionImpactModel(example, ["seq_depth", "seq_positivity"], ["tms_curiosity"])
    prior = m.prior_predictive(draws=2000, seed=1)
    eff = prior.effects()
    np.testing.assert_allclose(eff["sd"].values, 0.5, rtol=0.08)
    assert float(prior.residual_correlation()["sd"][0, 1]) > 0.2


# ---------------------------------------------------------------- slow
@pytest.mark.slow
def test_recovery_from_the_models_own_simulate_hook(example):
    m = SessionImpactModel(example, ["seq_depth", "seq_positivity"],
                           ["tms_curiosity", "tms_decentering", "session_number"])
    d = m.data
    truth = {
        "intercept_dyad": np.random.default_rng(0).normal(0, 0.4, (6, 2)),
        "beta": np.array([[0.4, 0.0], [-0.3, 0.2], [0.0, -0.25]]),
        "sigma_resid": np.array([0.8, 0.7]),
        "resid_corr": np.array([[1.0, 0.3], [0.3, 1.0]]),
        "nu": np.float64(10.0),
    }
    rng = np.random.default_rng(123)
    covered = []
    for i in range(10):
        sim = m.simulate(truth, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = m.fit(draws=500, tune=500, chains=2, cores=1, seed=100 + i, observed=sim)
        eff = res.effects(ci_prob=0.9)
        covered.append((eff["lower"].values <= truth["beta"])
                       & (truth["beta"] <= eff["upper"].values))
    rate = float(np.mean(covered))
    print(f"90% interval coverage of {np.size(covered)} slopes over 10 fits: {rate:.3f}")
    assert d.predictors.shape == (53, 3)
    assert 0.75 <= rate <= 0.99


@pytest.mark.slow
def test_example_corpus_fits_with_the_defaults(example):
    m = SessionImpactModel(example, SEQ, THESIS_PREDICTORS)
    with pytest.warns(UserWarning, match=r"D6-S01"):
        _ = m.data
    res = m.fit(draws=1000, tune=1000, chains=4, cores=1, seed=2026)
    diag = res.diagnostics
    assert diag.n_divergent == 0, str(diag)
    assert diag.rhat_max <= 1.01, str(diag)
    assert diag.ess_bulk_min >= 400 and diag.ess_tail_min >= 400, str(diag)
    assert res.structure.dyad


def test_calibration_ranks_each_residual_correlation_once(example):
    """The mirror cell of the symmetric residual correlation matrix and its constant
    diagonal are left out of the ranked cells; every other cell stays."""
    from lagnest.calibration.sbc import _prepare, calibration_vars

    m = SessionImpactModel(example, SEQ[:3], ["tms_curiosity"])
    _, keep, labels, prior = _prepare(m, seed=1)
    corr = [lab for lab in labels if lab.startswith("resid_corr")]
    assert len(corr) == 3  # 3 x 3 matrix: the three cells above (or below) the diagonal
    pairs = {frozenset(lab[len("resid_corr["):-1].split(", ")) for lab in corr}
    assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    sizes = {n: int(np.prod(prior[n].shape[2:])) for n in calibration_vars(m)}
    assert keep.sum() == len(labels) == sum(sizes.values()) - 6  # 3 diagonal + 3 mirrors
