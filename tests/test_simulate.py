import numpy as np
import pandas as pd
import pytest

from lagnest import simulate
from lagnest.io.table import write_table
from lagnest.simulate import LagEffect, SimulationParams, Truth


# ---------------------------------------------------------------------- helpers (numpy only)
def lag_table(seqs, given, target, lag=1, n_groups=1):
    """Pooled lag table(s): given at t, target at t + lag, pairs within sessions.

    With ``n_groups > 1``, one table per group of sessions (session index modulo n_groups).
    """
    g, g_labels = seqs.categorical(given)
    t, t_labels = seqs.categorical(target)
    session = seqs.encoded.segment_session
    same = session[:-lag] == session[lag:]
    a, b, grp = g[:-lag][same], t[lag:][same], session[:-lag][same] % n_groups
    ok = (a >= 0) & (b >= 0)
    k, m = len(g_labels), len(t_labels)
    cells = (grp[ok] * k + a[ok]) * m + b[ok]
    tables = np.bincount(cells, minlength=n_groups * k * m).reshape(n_groups, k, m)
    return tables[0] if n_groups == 1 else tables


def adjusted_residuals(x):
    n = x.sum()
    r = x.sum(axis=1, keepdims=True)
    c = x.sum(axis=0, keepdims=True)
    e = r * c / n
    with np.errstate(invalid="ignore", divide="ignore"):  # empty rows or columns
        return (x - e) / np.sqrt(e * (1 - r / n) * (1 - c / n)), e


def log_odds(x):
    (d, c), (b, a) = x  # rows: given absent/present; cols: target absent/present
    return np.log(a * d / (b * c)), np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)


def rupture_family(seqs, family):
    codes, labels = seqs.categorical("rupture")
    return np.isin(codes, [labels.index(family), labels.index("both")])


@pytest.fixture(scope="module")
def big():
    """A large thesis-like corpus with default effects (60,000 segments)."""
    return simulate.thesis_like(seed=7, n_dyads=300, sessions_per_dyad=(20, 20))


# ---------------------------------------------------------------------- shape and API
def test_thesis_like_shape_and_codebook():
    seqs, truth = simulate.thesis_like(seed=0)
    assert seqs.dyad_labels == ("D1", "D2", "D3", "D4", "D5", "D6")
    per_dyad = seqs.dyads["n_sessions"]
    assert per_dyad.between(6, 10).all()
    assert (seqs.sessions["n_segments"] == 10).all()
    assert seqs.session_labels[0] == "D1-S01"
    assert seqs.codebook.name == simulate.CODEBOOK
    assert {"rupture", "resolution", "mia", "rupture_markers"} <= set(seqs.streams)
    sessions = seqs.sessions
    tms = [f"tms_{i}" for i in range(1, 14)]
    seq = [f"seq_{i}" for i in range(1, 22)]
    assert sessions[tms].isin(range(5)).all().all()
    assert sessions[seq].isin(range(1, 8)).all().all()
    for col in ("rrs_rupture_significance", "rrs_therapist_contribution"):
        assert sessions[col].between(1, 5).all()
    curiosity = ["tms_3", "tms_5", "tms_6", "tms_10", "tms_12", "tms_13"]
    assert sessions["tms_curiosity"].equals(sessions[curiosity].sum(axis=1).astype(float))
    assert (sessions["session_number"] == truth.sessions["session_number"]).all()
    assert "therapist_trait_mindfulness" in seqs.dyads
    sig = seqs.rating("significance")
    rupture = seqs.categorical("rupture")[0] > 0
    assert np.isnan(sig[~rupture]).all() and np.isin(sig[rupture], [1, 2, 3, 4, 5]).all()
    assert len(truth.segments) == seqs.n_segments


def test_turns_preset_has_about_300_turns_per_session():
    seqs, truth = simulate.turns(seed=1, n_dyads=2, sessions_per_dyad=(2, 2))
    assert seqs.sessions["n_segments"].between(280, 320).all()
    assert truth.params.design.unit == "speaking turn"


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path):
    paths = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        seqs, truth = simulate.thesis_like(seed=seed)
        write_table(seqs, tmp_path / f"{name}.csv", sessions=tmp_path / f"{name}_s.csv")
        truth.to_json(tmp_path / f"{name}.json")
        paths.append([tmp_path / f"{name}{suffix}" for suffix in (".csv", "_s.csv", ".json")])
    same = [p.read_bytes() == q.read_bytes() for p, q in zip(paths[0], paths[1], strict=True)]
    other = [p.read_bytes() == q.read_bytes() for p, q in zip(paths[0], paths[2], strict=True)]
    assert all(same) and not any(other)


def test_params_replace_validation():
    p = SimulationParams().replace(n_dyads=3, ruptures={"session_sd": 0.0})
    assert p.design.n_dyads == 3 and p.ruptures.session_sd == 0.0
    assert p.ruptures.withdrawal_rate == SimulationParams().ruptures.withdrawal_rate
    with pytest.raises(TypeError, match="unknown simulation parameter"):
        SimulationParams().replace(n_dyad=3)
    with pytest.raises(ValueError, match="probabilities"):
        SimulationParams().replace(withdrawal_rate=1.5)
    with pytest.raises(ValueError, match="target"):
        SimulationParams().replace(rupture_effects=(LagEffect("MIA1", "immediate", 1, 1.0),))
    with pytest.raises(ValueError, match="unknown codes"):
        simulate.thesis_like(rupture_effects=(LagEffect("MIA9", "withdrawal", 1, 1.0),))


def test_truth_json_round_trip(tmp_path):
    _, truth = simulate.turns(seed=2, n_dyads=1, sessions_per_dyad=(1, 1))
    back = Truth.from_json(truth.to_json(tmp_path / "t.json"))
    assert back == truth
    assert Truth.from_json(tmp_path / "t.json") == truth
    assert back.params == truth.params
    pd.testing.assert_frame_equal(back.sessions, truth.sessions, check_dtype=False)
    pd.testing.assert_frame_equal(back.segments, truth.segments, check_dtype=False)
    assert b"NaN" not in (tmp_path / "t.json").read_bytes()


# ---------------------------------------------------------------------- convergence
def test_dyad_rupture_rates_converge_to_parameters():
    seqs, truth = simulate.thesis_like(
        seed=11,
        sessions_per_dyad=(300, 300),
        session_sd=0.0,
        persistence_withdrawal=0.0,
        persistence_confrontation=0.0,
        rupture_effects=(),
    )
    dyad = seqs.encoded.session_dyad[seqs.encoded.segment_session]
    for family in ("withdrawal", "confrontation"):
        present = rupture_family(seqs, family)
        rate = np.bincount(dyad, weights=present) / np.bincount(dyad)
        p = truth.dyads[f"{family}_rate"].to_numpy()
        se = np.sqrt(p * (1 - p) / np.bincount(dyad))
        assert np.all(np.abs(rate - p) < 4 * se), (family, rate, p)
    assert truth.dyads["withdrawal_rate"].std() > 0.03  # between-dyad differences exist


def test_dyad_rates_match_latent_probabilities_with_all_effects(big):
    seqs, truth = big
    dyad = seqs.encoded.session_dyad[seqs.encoded.segment_session]
    present = rupture_family(seqs, "withdrawal")
    expected = np.bincount(dyad, weights=truth.segments["p_withdrawal"].to_numpy())
    observed = np.bincount(dyad, weights=present)
    # the sum of Bernoulli(p_t) draws: variance sum p(1-p), inflated for persistence
    p = truth.segments["p_withdrawal"].to_numpy()
    sd = np.sqrt(np.bincount(dyad, weights=p * (1 - p)))
    z = (observed - expected) / sd
    assert abs(z.mean()) < 0.3 and z.std() < 1.6
    overall = present.mean()
    assert 0.2 < overall < 0.35  # DOMAIN.md: withdrawal in ~20-35% of segments
    assert 0.05 < rupture_family(seqs, "confrontation").mean() < 0.12


def test_lag1_effect_recovered_by_classical_log_odds():
    effect = LagEffect("MIA4", "confrontation", 1, -0.8)
    seqs, truth = simulate.thesis_like(
        seed=3,
        n_dyads=200,
        sessions_per_dyad=(50, 50),
        dyad_sd_confrontation=0.0,
        session_sd=0.0,
        persistence_confrontation=0.0,
        rupture_effects=(effect,),
    )
    x = lag_table(seqs, "MIA4", "confrontation")
    x[:, 1] += lag_table(seqs, "MIA4", "both")[:, 1]
    x[:, 0] -= lag_table(seqs, "MIA4", "both")[:, 1]
    est, se = log_odds(x)
    assert abs(est - effect.log_odds) < 2.5 * se, (est, se)
    assert se < 0.05
    row = truth.transition_probs.query("unit == 'population' and given == 'MIA4'").iloc[0]
    assert row["log_odds_ratio"] == effect.log_odds
    for present, p in ((1, row["p_present"]), (0, row["p_absent"])):
        n = x[present].sum()
        assert abs(x[present, 1] / n - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_null_preset_gives_standard_normal_adjusted_residuals():
    # 30 independent groups of sessions, each giving its own lag tables
    seqs, _ = simulate.null(
        seed=0, n_dyads=5, sessions_per_dyad=(150, 150), segments_per_session=(40, 40)
    )
    z_all = []
    for given, target in (("rupture", "rupture"), ("MIA4", "rupture"), ("rupture", "resolution")):
        for x in lag_table(seqs, given, target, n_groups=30):
            z, e = adjusted_residuals(x.astype(float))
            z_all.append(z[e >= 5])
    z = np.concatenate(z_all)
    assert z.size > 600
    assert abs(z.mean()) < 0.1
    assert 0.9 < z.std() < 1.1


def test_default_preset_is_sequential(big):
    seqs, _ = big
    z, _ = adjusted_residuals(lag_table(seqs, "rupture", "rupture").astype(float))
    assert z[1, 1] > 5  # withdrawal persists
    z, _ = adjusted_residuals(lag_table(seqs, "rupture", "resolution").astype(float))
    assert z[0, 0] > 5  # no rupture -> no strategy


def test_mia_indicators_cooccur_and_persist(big):
    seqs, _ = big
    mia, codes = seqs.indicator_matrix("mia")
    corr = np.corrcoef(mia.T.astype(float))
    assert (corr[np.triu_indices(len(codes), 1)] > 0.05).all()
    x = lag_table(seqs, "MIA1", "MIA1")
    assert log_odds(x)[0] > 0.3
    null_seqs, _ = simulate.null(seed=7, n_dyads=300, sessions_per_dyad=(20, 20))
    est, se = log_odds(lag_table(null_seqs, "MIA1", "MIA1"))
    assert abs(est) < 3 * se


def test_immediate_strategies_about_twice_exploratory(big):
    seqs, _ = big
    codes, labels = seqs.categorical("resolution")
    counts = np.bincount(codes, minlength=len(labels))
    immediate = counts[labels.index("immediate")] + counts[labels.index("mixed")]
    exploratory = counts[labels.index("exploratory")] + counts[labels.index("mixed")]
    assert 1.6 < immediate / exploratory < 2.5


def test_session_outcomes_follow_the_thesis_pattern(big):
    seqs, truth = big
    sessions = seqs.sessions
    state = truth.sessions["state_mindfulness"]
    means = {"depth": 5.2, "smoothness": 4.7, "positivity": 5.0, "arousal": 3.7}
    for name, mean in means.items():
        col = sessions[f"seq_{name}"]
        assert abs(col.mean() - mean) < 0.2, name
        assert 0.8 < col.std() < 1.2, name
    r = {name: np.corrcoef(state, sessions[f"seq_{name}"])[0, 1] for name in means}
    assert 0.2 < r["positivity"] < 0.4
    assert r["arousal"] < -0.1
    assert abs(r["depth"]) < 0.06 and abs(r["smoothness"]) < 0.06
    unresolved = truth.sessions["n_unresolved_confrontation"]
    slope = np.polyfit(unresolved, truth.sessions["seq_smoothness_true"], 1)[0]
    assert slope < -0.1
    assert np.corrcoef(state, sessions["tms_decentering"])[0, 1] > 0.5


def test_null_params_switch_off_every_dependence():
    p = simulate.null_params()
    assert p.ruptures.rupture_effects == () and p.resolution.strategy_effects == ()
    assert all(f.after_rupture == 0 == f.after_rupture_lag1 for f in p.resolution.families)
    assert p.mindfulness.mia_autocorrelation == 0
    assert simulate.null_params("turns").design.unit == "speaking turn"


def test_numpy_helpers_agree_with_lagnest_lag_table():
    from lagnest.classical import lagtable
    seqs, _ = simulate.thesis_like(seed=0)
    for given, target in (("MIA4", "rupture"), ("rupture", "resolution")):
        x = lag_table(seqs, given, target)
        ds = lagtable.lag_table(seqs, given=given, target=target, lag=1)
        np.testing.assert_array_equal(ds["counts"].to_numpy(), x)
        z, _ = adjusted_residuals(x.astype(float))
        np.testing.assert_allclose(ds["adj_resid"].to_numpy(), z, equal_nan=True)


@pytest.mark.parametrize(("section", "name", "value", "expected"), [
    ("ruptures", "rupture_to_mia", "0.5", "a finite number"),
    ("ruptures", "persistence_withdrawal", None, "a finite number"),
    ("mindfulness", "mia_loading", True, "a finite number"),
    ("outcomes", "rrs_sd", float("nan"), "a finite number"),
    ("mindfulness", "mia_prevalence", 0.3, "a tuple of finite numbers"),
])
def test_a_truth_file_with_a_non_number_in_a_float_field_is_refused_by_name(
        section, name, value, expected):
    data = SimulationParams().to_dict()
    data[section][name] = value
    with pytest.raises(ValueError, match=rf"{name} must be {expected}, got {value!r}"):
        SimulationParams.from_dict(data)
    # numbers of any kind stay accepted (a numpy float, an int for a float field)
    data[section][name] = SimulationParams().to_dict()[section][name]
    assert SimulationParams.from_dict(data) == SimulationParams()
    assert SimulationParams().replace(rrs_sd=np.float64(0.5), session_sd=1).ruptures.session_sd == 1
