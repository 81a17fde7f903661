"""LaggedRegression: terms, design, sufficient statistics, graph and generative hook."""

import numpy as np
import pandas as pd
import pytest

import lagnest as ln
from lagnest import Sequences
from lagnest.classical.lagtable import lag_table
from lagnest.errors import LagnestDataError
from lagnest.models import LaggedRegression


@pytest.fixture(scope="module")
def seqs():
    rng = np.random.default_rng(4)
    sessions, dyads, flags, other = [], [], [], []
    for d in range(3):
        for _ in range(3):
            n = 25
            sessions.append(list(rng.choice(list("xyz"), size=n, p=[0.5, 0.3, 0.2])))
            flags.append(list(rng.integers(0, 2, size=n)))
            other.append(list(rng.integers(0, 2, size=n)))
            dyads.append(f"d{d + 1}")
    return Sequences.from_sequences({"state": sessions, "f1": flags, "f2": other}, dyads=dyads)


@pytest.fixture(scope="module")
def example():
    return ln.datasets.load_example()


def _segment_frame(seqs, lags):
    """Independent per-segment frame: target and predictors at t - lag, valid rows only."""
    state = pd.Series(seqs.categorical("state")[0])
    f1 = pd.Series(seqs.categorical("f1")[0])
    f2 = pd.Series(seqs.categorical("f2")[0])
    session = pd.Series(seqs.encoded.segment_session)
    frame = pd.DataFrame({"session": session, "y": state})
    valid = pd.Series(True, index=frame.index)
    for lag in lags:
        same = session.shift(lag) == session  # no breaks in this corpus
        valid &= same
        frame[f"state{lag}"] = state.shift(lag)
        frame[f"f1_{lag}"] = f1.shift(lag)
        frame[f"f2_{lag}"] = f2.shift(lag)
    frame["dyad"] = np.asarray(seqs.encoded.session_dyad)[session]
    return frame[valid].reset_index(drop=True)


def test_terms_expand_as_documented(example):
    m = LaggedRegression(example, "rupture", ["mia", "MIA4:withdrawal", "resolution"],
                         lags=(1, 2))
    names = m.data.feature_names
    assert names[:3] == ["rupture=withdrawal[t-1]", "rupture=confrontation[t-1]",
                         "rupture=both[t-1]"]
    assert "MIA1[t-1]" in names and "MIA8[t-2]" in names
    assert "MIA4:rupture=withdrawal[t-1]" in names
    assert "resolution=immediate[t-2]" in names and "resolution=no_strategy[t-1]" not in names
    groups = {f.group for f in m.data.features if f.group}
    assert groups == {"mia[t-1]", "mia[t-2]"}
    assert m.spec["predictors"] == ["mia", "MIA4:withdrawal", "resolution"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"predictors": ["nope"]}, "predictor 'nope'"),
        ({"target": "nope"}, "target: "),
        ({"lags": [-1]}, "lags must be distinct integers >= 0"),
        ({"lags": [1, 1]}, "lags must be distinct"),
        ({"lags": "1"}, "lags must be a list of int"),
        ({"pooling": "none"}, "pooling must be one of"),
        ({"shrinkage": "lasso"}, "shrinkage must be one of"),
        ({"center": "grand"}, "center must be one of"),
        ({"reference": "nope"}, "reference .nope. is not a code"),
        ({"shrinkage_groups": "mine"}, "shrinkage_groups must be one of"),
        ({"nonzero_guess": 0}, "nonzero_guess must be a number > 0"),
        ({"predictors": ["y"]}, "same column twice"),
        ({"predictors": ["f1", "state"], "lags": [0, 1], "history": False},
         "lag 0 is the target itself"),
        ({"predictors": ["f1", "z"], "lags": [0]}, "lag 0 is the target itself"),
        ({"predictors": [], "history": False}, "no predictors"),
    ],
)
def test_constructor_validates(seqs, kwargs, match):
    args = {"target": "state", "predictors": ["f1"], **kwargs}
    with pytest.raises(LagnestDataError, match=match):
        LaggedRegression(seqs, **args)


def test_unknown_random_slope_and_covariate_fail_with_the_choices(example):
    m = LaggedRegression(example, "rupture", ["MIA4"], random_slopes=["MIA9"])
    with pytest.raises(LagnestDataError, match=r"random slope 'MIA9'.*MIA4\[t-1\]"):
        _ = m.data
    m = LaggedRegression(example, "rupture", ["MIA4"], session_covariates=["tms_nope"])
    with pytest.raises(LagnestDataError, match=r"unknown session covariate 'tms_nope'.*"
                                               r"tms_curiosity"):
        _ = m.data


@pytest.mark.parametrize("lags", [(1,), (1, 2), (0, 1)])
def test_counts_and_design_equal_an_independent_pandas_computation(seqs, lags):
    m = LaggedRegression(seqs, "state", ["f1", "f2:f1"], lags=lags, center="dyad")
    d = m.data
    frame = _segment_frame(seqs, lags)
    assert d.table.n_valid == len(frame)
    cols = {}
    for lag in lags:
        cols[f"state=y[t-{lag}]" if lag else "state=y[t]"] = (frame[f"state{lag}"] == 1) * 1.0
        cols[f"state=z[t-{lag}]" if lag else "state=z[t]"] = (frame[f"state{lag}"] == 2) * 1.0
        suffix = f"[t-{lag}]" if lag else "[t]"
        cols[f"f1{suffix}"] = (frame[f"f1_{lag}"] == 1) * 1.0
        cols[f"f2:f1{suffix}"] = ((frame[f"f2_{lag}"] == 1) & (frame[f"f1_{lag}"] == 1)) * 1.0
    if 0 in lags:  # the target's own state at lag 0 is not a predictor
        cols = {k: v for k, v in cols.items() if not k.startswith("state=") or "[t]" not in k}
    raw = pd.DataFrame(cols)
    # the predictors are centred within dyad; the target's own past never is
    centred = raw - raw.groupby(frame["dyad"]).transform("mean")
    history = [c for c in raw.columns if c.startswith("state=")]
    centred[history] = raw[history]
    # expand the model's rows back to segments through segment_row
    rows = d.segment_rows
    design = pd.DataFrame(d.design[rows], columns=d.feature_names)
    for name in raw.columns:
        np.testing.assert_allclose(design[name].to_numpy(), centred[name].to_numpy(),
                                   atol=1e-12, err_msg=name)
    counts = np.zeros_like(d.counts)
    np.add.at(counts, (rows, frame["y"].to_numpy()), 1)
    np.testing.assert_array_equal(counts, d.counts)


def test_covariates_are_standardised_per_session_and_dyad(example):
    m = LaggedRegression(example, "rupture", ["MIA4"],
                         session_covariates=["tms_decentering"],
                         dyad_covariates=["therapist_trait_mindfulness"])
    d = m.data
    sessions = example.sessions["tms_decentering"]
    z = (sessions - sessions.mean()) / sessions.std(ddof=0)
    col = d.feature_names.index("tms_decentering")
    np.testing.assert_allclose(d.design[:, col], z.to_numpy()[d.table.row_session])
    dyads = example.dyads["therapist_trait_mindfulness"]
    zd = ((dyads - dyads.mean()) / dyads.std(ddof=0)).to_numpy()
    col = d.feature_names.index("therapist_trait_mindfulness")
    np.testing.assert_allclose(d.design[:, col], zd[d.table.row_dyad])


def test_classical_columns_are_the_lag_table_cells(example):
    m = LaggedRegression(example, "rupture", ["MIA4", "resolution"])
    d = m.data
    tab = lag_table(example, "MIA4", "rupture", lag=1)
    j = d.feature_names.index("MIA4[t-1]")
    np.testing.assert_allclose(d.classical[0, j], tab["adj_resid"].values[1])
    np.testing.assert_allclose(d.classical[1, j], tab["yules_q"].values[1])
    tab = lag_table(example, "resolution", "rupture", lag=1)
    j = d.feature_names.index("resolution=exploratory[t-1]")
    np.testing.assert_allclose(d.classical[0, j], tab["adj_resid"].sel(given="exploratory"))


def _pairs_counted_by_hand(example: Sequences) -> dict[tuple[str, str], int]:
    """(feature, category) -> lag pairs, from the segment table with pandas alone.

    The rupture state is read from the 3RS markers as the codebook defines it (any W
    marker: withdrawal, any C marker: confrontation, both: both), the pair from the
    previous segment of the same session (the example corpus has no breaks).
    """
    frame = example.to_frame()
    markers = [f"{f}{i}" for f in "WC" for i in range(1, 8)]
    assert not example.breaks.any() and not frame[[*markers, "MIA4"]].isna().any().any()
    w = frame[markers[:7]].astype(bool).any(axis=1)
    c = frame[markers[7:]].astype(bool).any(axis=1)
    rupture = pd.Series(np.select([w & c, w, c], ["both", "withdrawal", "confrontation"],
                                  "none"), index=frame.index)
    previous = frame.groupby("session", sort=False)
    prev_mia4 = previous["MIA4"].shift(1)
    prev_rupture = rupture.groupby(frame["session"], sort=False).shift(1)
    counts = {}
    for category in ("withdrawal", "confrontation", "both"):
        counts["MIA4[t-1]", category] = int(((prev_mia4 == 1) & (rupture == category)).sum())
        for state in ("withdrawal", "confrontation", "both"):
            counts[f"rupture={state}[t-1]", category] = int(
                ((prev_rupture == state) & (rupture == category)).sum())
    return counts


def test_summary_counts_the_lag_pairs_of_each_cell_and_names_the_sparse_ones(example):
    """``n_pairs`` is the cell's count of lag pairs (checked by hand with pandas); the
    summary says how many odds ratios rest on fewer than SPARSE_CELL_PAIRS of them."""
    from lagnest.models.regression import SPARSE_CELL_PAIRS

    m = LaggedRegression(example, "rupture", ["MIA4"], pooling="dyad")
    d = m.data
    expected = _pairs_counted_by_hand(example)
    for (feature, category), n in expected.items():
        j, k = d.feature_names.index(feature), d.target_labels.index(category)
        assert d.classical[2, j, k] == n, (feature, category)
    # the summary reads them from the data alone: a result of prior draws is enough
    summary = m.prior_predictive(draws=50, seed=1).summary(marginal=False)
    shown = summary.table["n_pairs"]
    for key, n in expected.items():
        assert shown[key] == n, key
    sparse = sum(n < SPARSE_CELL_PAIRS for n in expected.values())
    assert sparse > 0  # the example's rare cells (e.g. both -> both)
    text = " ".join(str(summary).split())
    assert f"{sparse} odds ratios rest on fewer than {SPARSE_CELL_PAIRS} lag pairs" in text
    assert "n_pairs" in summary.shown


def test_a_result_saved_before_the_cell_counts_loads_with_them_unknown(example):
    import xarray as xr

    from lagnest.models.regression import CLASSICAL_STATS, _classical_stats

    d = LaggedRegression(example, "rupture", ["MIA4"], pooling="dyad").data
    stored = d.to_dataset()["classical"]
    assert list(stored["classical_stat"].values) == list(CLASSICAL_STATS)
    old = stored.sel(classical_stat=["adj_resid", "yules_q"])  # as saved until now
    back = _classical_stats(xr.DataArray(old.values, dims=old.dims, coords=old.coords))
    np.testing.assert_array_equal(back[:2], d.classical[:2])
    assert np.isnan(back[2]).all()


@pytest.mark.parametrize("pooling", ["dyad/session", "dyad", "complete"])
@pytest.mark.parametrize("shrinkage", ["common", "horseshoe", "none"])
def test_graph_builds_with_finite_logp(example, pooling, shrinkage):
    slopes = ["MIA4"] if pooling != "complete" else []
    m = LaggedRegression(example, "rupture", ["mia"], pooling=pooling, shrinkage=shrinkage,
                         random_slopes=slopes, center="dyad")
    model = m.build()
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    assert ("sigma_session" in model.named_vars) == (pooling == "dyad/session")
    assert ("beta_dyad" in model.named_vars) == bool(slopes)


def test_aggregated_and_per_segment_logp_differ_by_a_constant(seqs):
    a = LaggedRegression(seqs, "state", ["f1"], random_slopes=["f1"]).build()
    b = LaggedRegression(seqs, "state", ["f1"], random_slopes=["f1"], per_segment=True).build()
    fa, fb = a.compile_logp(), b.compile_logp()
    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(4):
        point = {k: rng.normal(size=np.shape(v)) for k, v in a.initial_point().items()}
        diffs.append(fa(point) - fb(point))
    np.testing.assert_allclose(diffs, diffs[0], rtol=0, atol=1e-8)


def test_simulate_keeps_row_totals_and_matches_the_probabilities(seqs):
    m = LaggedRegression(seqs, "state", ["f1"])
    d = m.data
    rng = np.random.default_rng(0)
    k1 = len(d.target_labels) - 1
    params = {"beta": rng.normal(0, 0.5, (len(d.features), k1)),
              "intercept_session": rng.normal(0, 0.5, (len(d.table.session_labels), k1))}
    sim = m.simulate(params, rng)["counts"]
    np.testing.assert_array_equal(sim.sum(1), d.counts.sum(1))
    total = sum(m.simulate(params, rng)["counts"] for _ in range(4000))
    # independent probabilities: softmax of [0, intercept + x beta] written out here
    eta = params["intercept_session"][d.table.row_session] + d.design @ params["beta"]
    expo = np.exp(np.concatenate([np.zeros((eta.shape[0], 1)), eta], axis=1))
    p = expo / expo.sum(1, keepdims=True)
    np.testing.assert_allclose(total / total.sum(1, keepdims=True), p, atol=0.03)


def test_single_dyad_and_one_session_per_dyad_structures():
    rng = np.random.default_rng(2)
    one = Sequences.from_sequences(
        {"state": [list(rng.choice(list("ab"), 30)) for _ in range(3)],
         "f1": [list(rng.integers(0, 2, 30)) for _ in range(3)]},
        dyads=["d1", "d1", "d1"])
    s = LaggedRegression(one, "state", ["f1"]).structure
    assert not s.dyad and s.session and "only one dyad" in s.notes[0]
    per = Sequences.from_sequences(
        {"state": [list(rng.choice(list("ab"), 30)) for _ in range(4)],
         "f1": [list(rng.integers(0, 2, 30)) for _ in range(4)]},
        dyads=["d1", "d2", "d3", "d4"])
    s = LaggedRegression(per, "state", ["f1"]).structure
    assert s.dyad and not s.session and "single session" in s.notes[0]
    with pytest.raises(LagnestDataError, match="random slopes by dyad need the dyad level"):
        _ = LaggedRegression(one, "state", ["f1"], random_slopes=["f1"]).structure


def test_constant_column_is_refused():
    seqs = Sequences.from_sequences(
        {"state": [list("abab"), list("abba")], "f1": [[0, 0, 0, 0], [0, 0, 0, 0]]},
        dyads=["d1", "d2"])
    with pytest.raises(LagnestDataError, match="single value"):
        _ = LaggedRegression(seqs, "state", ["f1"]).data


def test_stream_qualified_codes_and_interactions_of_them():
    rng = np.random.default_rng(0)
    p = [list(rng.choice(["silent", "verbal"], 40)) for _ in range(4)]
    t = [list(rng.choice(["silent", "verbal", "gesture"], 40)) for _ in range(4)]
    seqs = Sequences.from_sequences({"p_vocal": p, "t_vocal": t},
                                    dyads=["d1", "d1", "d2", "d2"])
    with pytest.raises(LagnestDataError, match=r"p_vocal:silent.*t_vocal:silent|"
                                                r"t_vocal:silent.*p_vocal:silent"):
        LaggedRegression(seqs, "p_vocal", ["silent"])
    m = LaggedRegression(seqs, "p_vocal", ["t_vocal:silent", "t_vocal:gesture:p_vocal:verbal"],
                          center=None)
    names = m.data.feature_names
    assert "t_vocal=silent[t-1]" in names
    assert "t_vocal=gesture:p_vocal=verbal[t-1]" in names
    t_codes, t_labels = seqs.categorical("t_vocal")
    p_codes, p_labels = seqs.categorical("p_vocal")
    rows = m.data.segment_rows
    j = names.index("t_vocal=gesture:p_vocal=verbal[t-1]")
    valid = np.flatnonzero(np.asarray(m.data.table.segment_row) >= 0)
    expected = ((t_codes[valid - 1] == t_labels.index("gesture"))
                & (p_codes[valid - 1] == p_labels.index("verbal"))).astype(float)
    np.testing.assert_array_equal(m.data.design[rows, j], expected)


@pytest.mark.parametrize(("lags", "history_lags"), [((2,), (1, 2)), ((0,), (1,)),
                                                    ((0, 3), (1, 2, 3))])
def test_the_targets_past_enters_at_every_lag_up_to_the_longest(seqs, lags, history_lags):
    m = LaggedRegression(seqs, "state", ["f1"], lags=lags, center="dyad")
    d = m.data
    history = [f.name for f in d.features if f.history]
    assert history == [f"state={c}[t-{lag}]" for lag in history_lags for c in ("y", "z")]
    assert [f.name for f in d.features if f.kind == "sequence" and not f.history] == [
        f"f1{'[t]' if lag == 0 else f'[t-{lag}]'}" for lag in lags]
    # the history columns are 0/1 (never centred), the predictor's are centred
    j = [f.history for f in d.features]
    assert set(np.unique(d.design[:, j])) <= {0.0, 1.0}
    own = [f.name.startswith("f1") for f in d.features]
    assert not set(np.unique(d.design[:, own])) <= {0.0, 1.0}


def test_initial_states_are_each_sessions_first_codes(seqs):
    m = LaggedRegression(seqs, "state", ["f1"], center="dyad", reference="x")
    d = m.data
    state = seqs.categorical("state")[0]
    first = state[np.asarray(seqs.encoded.session_offsets)[:-1]]
    labels = seqs.categorical("state")[1]
    names = [f.name for f in d.features if f.kind == "initial"]
    assert names == ["state=y[first segment]", "state=z[first segment]"]
    cov = {f.name: j for j, f in enumerate(f for f in d.features if f.kind != "sequence")}
    for code in ("y", "z"):
        expected = (first == labels.index(code)).astype(float)
        np.testing.assert_array_equal(d.covariates[:, cov[f"state={code}[first segment]"]],
                                      expected)
    off = LaggedRegression(seqs, "state", ["f1"], initial_state=False)
    assert not [f for f in off.data.features if f.kind == "initial"]


def test_reference_reorders_the_target_and_the_history(seqs):
    m = LaggedRegression(seqs, "state", ["f1"], reference="z")
    d = m.data
    assert d.target_labels == ("z", "x", "y")
    valid = np.asarray(d.table.segment_row) >= 0
    counts = np.bincount(seqs.categorical("state")[0][valid], minlength=3)
    assert d.counts.sum(axis=0).tolist() == counts[[2, 0, 1]].tolist()
    assert [f.name for f in d.features if f.history] == ["state=x[t-1]", "state=y[t-1]"]
    # without a codebook the default reference is the most frequent code
    frequent = ["x", "y", "z"][int(np.argmax(np.bincount(seqs.categorical("state")[0])))]
    assert LaggedRegression(seqs, "state", ["f1"]).spec["reference"] == frequent


def test_codebook_order_gives_the_default_reference(example):
    assert LaggedRegression(example, "rupture", ["MIA4"]).spec["reference"] == "none"


@pytest.mark.parametrize("center", ["session", "dyad"])
def test_centring_makes_each_groups_weighted_mean_zero(seqs, center):
    m = LaggedRegression(seqs, "state", ["f1"], center=center)
    d = m.data
    j = d.feature_names.index("f1[t-1]")
    t = d.table
    group = t.row_session if center == "session" else t.row_dyad
    w = t.counts.sum(axis=1)
    sums = np.bincount(group, weights=w * d.design[:, j])
    np.testing.assert_allclose(sums, 0.0, atol=1e-9)


def test_mundlak_adds_session_and_dyad_means(seqs):
    m = LaggedRegression(seqs, "state", ["f1"], center="mundlak")
    d = m.data
    names = [f.name for f in d.features if f.kind == "mundlak"]
    assert names == ["f1[t-1] session mean", "f1[t-1] dyad mean"]
    frame = _segment_frame(seqs, (1,))
    expected = frame.groupby("session")["f1_1"].mean().to_numpy()
    cov = [f.name for f in d.features if f.kind != "sequence"]
    np.testing.assert_allclose(d.covariates[:, cov.index("f1[t-1] session mean")], expected)


@pytest.mark.parametrize("shrinkage", ["common", "horseshoe", "r2d2"])
def test_the_prior_does_not_depend_on_how_predictors_are_written(example, shrinkage):
    stream = LaggedRegression(example, "rupture", ["mia"], shrinkage=shrinkage)
    codes = LaggedRegression(example, "rupture", [f"MIA{k}" for k in range(1, 9)],
                             shrinkage=shrinkage)
    assert stream._groups(stream.data) == codes._groups(codes.data)
    assert set(stream._groups(stream.data)) == {"", "predictors"}
    by_stream = LaggedRegression(example, "rupture", ["mia"], shrinkage=shrinkage,
                                 shrinkage_groups="stream")
    assert set(by_stream._groups(by_stream.data)) == {"", "mia[t-1]"}
    a, b = stream.build(), codes.build()
    point = a.initial_point()
    assert a.compile_logp()(point) == pytest.approx(b.compile_logp()(point))


def _nonverbal_shaped(seed=0):
    """10 dyads x 1 session x 900 one-second segments; streams that share labels.

    The shape of the public nonverbal corpus of mHMMbayes (patient and therapist
    vocalising, 3 codes with a rare one, and looking, 2 codes), simulated here: the
    corpus itself is GPL-3 and not shipped with lagnest.
    """
    rng = np.random.default_rng(seed)
    voc, look = ["silent", "speaking", "backchannel"], ["away", "looking"]
    streams = {name: [] for name in ("p_vocalizing", "t_vocalizing", "p_looking", "t_looking")}
    for _ in range(10):
        base = np.log([0.39, 0.54, 0.075]) + rng.normal(0, 0.4, 3)
        p = np.exp(base) / np.exp(base).sum()
        for name in streams:
            codes = voc if "vocal" in name else look
            probs = p if name == "p_vocalizing" else np.full(len(codes), 1 / len(codes))
            streams[name].append(list(rng.choice(codes, size=900, p=probs)))
    return Sequences.from_sequences(
        streams, dyads=[f"N{i + 1}" for i in range(10)],
        codes={"p_vocalizing": voc, "t_vocalizing": voc, "p_looking": look,
               "t_looking": look})


def test_auto_samples_a_corpus_of_the_nonverbal_shape_non_centred(monkeypatch):
    """10 dyads of 900 segments with a 7.5% category: the dyad level is non-centred.

    On the public corpus of this shape (rule score 1.37) the centred form, chosen by the
    rule when its threshold was 1, gave 10-13 divergent transitions of 4000 draws; the
    non-centred form none.
    """
    import lagnest.models.structure as structure

    seqs = _nonverbal_shaped()
    m = LaggedRegression(seqs, "p_vocalizing", ["t_vocalizing", "t_looking"], lags=[1])
    assert m.structure.levels == ("dyad",)  # one session per dyad: merged
    assert m.structure.parameterization == {"dyad": "noncentered"}
    monkeypatch.setattr(structure, "CENTRED_ABOVE", 1.0)  # the former threshold
    m = LaggedRegression(seqs, "p_vocalizing", ["t_vocalizing", "t_looking"], lags=[1])
    assert m.structure.parameterization == {"dyad": "centered"}


def test_divergence_advice_names_the_parameterization_to_try(example):
    from lagnest.models._fit import Diagnostics

    diag = Diagnostics(table=pd.DataFrame(), rhat_max=1.0, ess_bulk_min=1e3, ess_tail_min=1e3,
                       n_divergent=5, n_max_treedepth=0, bfmi_min=1.0, n_chains=4,
                       n_draws=4000, failures=("5 divergent transitions",))
    m = LaggedRegression(example, "rupture", ["MIA4"], parameterization="centered")
    assert "parameterization='noncentered'" in m.fit_advice(diag)
    assert "as asked" in m.fit_advice(diag)
    m = LaggedRegression(example, "rupture", ["MIA4"], parameterization="noncentered")
    assert "parameterization='centered'" in m.fit_advice(diag)
    clean = Diagnostics(table=pd.DataFrame(), rhat_max=1.0, ess_bulk_min=1e3,
                        ess_tail_min=1e3, n_divergent=0, n_max_treedepth=0, bfmi_min=1.0,
                        n_chains=4, n_draws=4000)
    assert m.fit_advice(clean) == ""


def test_combined_category_adds_its_components(example):
    m = LaggedRegression(example, "rupture", ["MIA4"],
                         combine={"both": ["withdrawal", "confrontation"]}, shrinkage="none")
    prior = m.prior_predictive(draws=400, seed=3).draws
    own, beta = prior["beta_own"], prior["beta"]
    # the past: the state both at t - 1 (and in the first segment) is withdrawal and
    # confrontation at once, plus an interaction of its own under the tighter prior
    for suffix in ("[t-1]", "[first segment]"):
        whole, w, c = (f"rupture={s}{suffix}" for s in ("both", "withdrawal", "confrontation"))
        by_rows = own.sel(feature=whole) + own.sel(feature=w) + own.sel(feature=c)
        np.testing.assert_allclose(beta.sel(feature=whole, category="withdrawal"),
                                   by_rows.sel(category="withdrawal"), atol=1e-12)
        assert 0.4 < float(own.sel(feature=whole).std()) < 0.6  # interaction Normal(0, 0.5)
        assert 1.3 < float(own.sel(feature=w, category="withdrawal").std()) < 1.7  # history
    own = own.sel(feature=[f for f in own["feature"].values if "=both" not in f])
    beta = beta.sel(feature=own["feature"].values)
    # the outcome: both's log odds are the sum of its components' plus its own
    np.testing.assert_allclose(
        beta.sel(category="both"),
        own.sel(category="withdrawal") + own.sel(category="confrontation")
        + own.sel(category="both"), atol=1e-12)
    np.testing.assert_allclose(beta.sel(category="withdrawal"),
                               own.sel(category="withdrawal"), atol=1e-12)
    for bad in ({"both": ["withdrawal"]}, {"none": ["withdrawal", "confrontation"]},
                {"both": ["withdrawal", "none"]}):
        with pytest.raises(LagnestDataError, match="combine"):
            LaggedRegression(example, "rupture", ["MIA4"], combine=bad)
