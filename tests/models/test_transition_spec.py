"""Specification, data and graph of TransitionModel (no sampling)."""

import numpy as np
import pytest

from lagnest import Sequences
from lagnest.classical.lagtable import count_table
from lagnest.errors import LagnestDataError
from lagnest.models import TransitionModel
from lagnest.models.basis import helmert, masked_softmax, zero_sum_basis


@pytest.fixture
def seqs():
    return Sequences.from_sequences(
        {
            "code": [list("abcabcab"), list("acbacb"), list("abab")],
            "flag": [[0, 1, 0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 0, 0], [0, 0, 1, 1]],
        },
        dyads=["d1", "d1", "d2"],
    )


def test_constructor_stores_configuration_only(seqs):
    m = TransitionModel(seqs, "code", "code", pooling="dyad")
    assert not m.built
    assert m._data is None
    assert m.spec == {
        "given": "code", "target": "code", "lag": 1, "pooling": "dyad",
        "deviations": "shared+row", "parameterization": "auto",
        "structural_zeros": None, "per_segment": False,
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"given": "nope"}, "given: unknown .*'nope'"),
        ({"target": "zzz"}, "target: unknown .*'zzz'"),
        ({"pooling": "session"}, "pooling must be one of"),
        ({"lag": 1.5}, "lag must be an integer"),
        ({"given": ["a", "b"]}, "one stream or code"),
        ({"structural_zeros": "upper"}, "structural_zeros"),
        ({"deviations": "shared"}, "deviations must be one of"),
        ({"parameterization": "mixed"}, "parameterization must be one of"),
        ({"lag": -1}, "lag must be >= 0"),
        ({"lag": 0}, "same stream"),
        ({"given": "flag", "target": "flag", "lag": 0}, "same stream"),
        ({"priors": {"sigma_dyad": {"sigma": -1}}}, "positive"),
    ],
)
def test_constructor_validates(seqs, kwargs, match):
    args = {"given": "code", "target": "code", **kwargs}
    with pytest.raises(LagnestDataError, match=match):
        TransitionModel(seqs, **args)


def test_codes_and_indicators_are_accepted(seqs):
    m = TransitionModel(seqs, "flag", "a")
    assert m.data.given_labels == ("not flag", "flag")
    assert m.data.target_labels == ("not a", "a")


def test_counts_are_the_per_session_lag_tables(seqs):
    m = TransitionModel(seqs, "flag", "code", lag=2)
    expected = count_table(seqs, "flag", "code", lag=2, by="session")
    np.testing.assert_array_equal(m.data.counts, expected.values)
    assert m.coords["session"] == list(seqs.session_labels)
    assert m.coords["dyad"] == ["d1", "d2"]


def test_segment_pairs_aggregate_to_the_counts(seqs):
    m = TransitionModel(seqs, "code", "flag", lag=1)
    pairs = TransitionModel(seqs, "code", "flag", lag=1, per_segment=True).data.pairs
    counts = np.zeros_like(m.data.counts)
    np.add.at(counts, (pairs[:, 0], pairs[:, 1], pairs[:, 2]), 1)
    np.testing.assert_array_equal(counts, m.data.counts)


def test_config_id_tracks_spec_priors_and_data(seqs):
    a = TransitionModel(seqs, "code", "code")
    assert a.id == TransitionModel(seqs, "code", "code").id
    assert a.id != TransitionModel(seqs, "code", "code", pooling="dyad").id
    assert a.id != TransitionModel(seqs, "code", "code", priors={"alpha": {"sigma": 1}}).id
    other = Sequences.from_sequences({"code": [list("abcabcab"), list("acbacb"), list("abba")]},
                                     dyads=["d1", "d1", "d2"])
    assert a.id != TransitionModel(other, "code", "code").id


def test_zero_sum_basis_is_orthonormal_and_respects_structural_zeros():
    allowed = np.array([[False, True, True, True], [True, True, False, True]])
    w = zero_sum_basis(allowed)
    assert w.shape == (4, 8)
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-12)
    cells = (np.random.default_rng(0).normal(size=(50, 4)) @ w).reshape(50, 2, 4)
    np.testing.assert_allclose(cells.sum(-1), 0, atol=1e-12)
    assert np.all(cells[:, ~allowed] == 0)
    h = helmert(6)
    np.testing.assert_allclose(h.T @ h, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(h.sum(0), 0, atol=1e-12)


def test_structural_zeros(seqs):
    m = TransitionModel(seqs, "code", "code", structural_zeros="diagonal")
    assert not m.data.allowed.diagonal().any()
    m = TransitionModel(seqs, "code", "code", structural_zeros=[("a", "b")])
    with pytest.raises(LagnestDataError, match="'a' -> 'b'"):
        _ = m.data
    mask = np.zeros((3, 3), dtype=bool)
    mask[0, 0] = True
    assert TransitionModel(seqs, "code", "code", structural_zeros=mask).spec[
        "structural_zeros"][0] == [True, False, False]


@pytest.mark.parametrize("pooling", ["dyad/session", "dyad", "none", "complete"])
@pytest.mark.parametrize("per_segment", [False, True])
@pytest.mark.parametrize("deviations", ["shared+row", "row"])
@pytest.mark.parametrize("parameterization", ["centered", "noncentered"])
def test_graph_builds(seqs, pooling, per_segment, deviations, parameterization):
    m = TransitionModel(seqs, "code", "code", pooling=pooling, structural_zeros="diagonal",
                        per_segment=per_segment, deviations=deviations,
                        parameterization=parameterization)
    model = m.build()
    assert m.built and m.build() is model
    assert "logit_session" in model.named_vars
    assert ("logit_typical" in model.named_vars) == (pooling != "none")
    assert ("sigma_dyad" in model.named_vars) == (
        deviations == "shared+row" and pooling in ("dyad/session", "dyad"))
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))


def test_data_are_pm_data_so_a_new_dataset_reuses_the_graph(seqs):
    import pymc as pm

    m = TransitionModel(seqs, "code", "code")
    model = m.build()
    assert "counts" in model.named_vars and isinstance(
        model["counts"], pm.model.core.SharedVariable if hasattr(pm.model.core, "SharedVariable")
        else type(model["counts"]))
    logp = model.compile_logp(vars=[model["y"]])
    point = model.initial_point()
    before = logp(point)
    other = m.simulate({"logit_session": np.zeros(m.data.counts.shape)},
                       np.random.default_rng(0))["counts"]
    pm.set_data({"counts": other}, model=model)
    after = logp(point)
    # at all-zero logits every cell has p = 1/3: logp = sum multinomial coefficients + n log(1/3)
    from scipy.stats import multinomial

    expected = sum(
        multinomial.logpmf(row, row.sum(), np.full(3, 1 / 3)) for row in other.reshape(-1, 3)
    )
    assert after == pytest.approx(expected)
    assert before != after


def test_simulate_keeps_the_design_row_totals(seqs):
    m = TransitionModel(seqs, "code", "code")
    rng = np.random.default_rng(3)
    logits = rng.normal(size=m.data.counts.shape)
    sim = m.simulate({"logit_session": logits}, rng)["counts"]
    np.testing.assert_array_equal(sim.sum(-1), m.data.counts.sum(-1))
    # many draws: frequencies approach the probabilities (independent check by scipy's softmax)
    from scipy.special import softmax

    big = sum(m.simulate({"logit_session": logits}, rng)["counts"] for _ in range(3000))
    n = big.sum(-1, keepdims=True)
    p = softmax(logits, axis=-1)
    rows = n[..., 0] > 0
    np.testing.assert_allclose((big / np.maximum(n, 1))[rows], p[rows], atol=0.03)
    seg = TransitionModel(seqs, "code", "code", per_segment=True)
    y = seg.simulate({"logit_session": logits}, np.random.default_rng(1))["pair_target"]
    assert y.shape == (seg.data.pairs.shape[0],) and y.max() < 3


def test_masked_softmax_puts_structural_zeros_at_zero():
    allowed = np.array([[False, True, True]])
    p = masked_softmax(np.array([[5.0, 0.0, 0.0]]), allowed)
    np.testing.assert_allclose(p, [[0.0, 0.5, 0.5]])


def test_auto_parameterization_follows_the_data():
    """Sparse sessions: non-centred; data-rich sessions that truly differ: centred."""
    from .conftest import simulate_markov

    sparse, _ = simulate_markov(1, n_dyads=4, sessions_per_dyad=3, segments=10,
                                sigma_dyad=0.5, sigma_session=0.5)
    m = TransitionModel(sparse, "code", "code")
    assert set(m.structure.parameterization.values()) == {"noncentered"}
    rich, _ = simulate_markov(1, n_dyads=4, sessions_per_dyad=3, segments=3000,
                              sigma_dyad=0.8, sigma_session=0.8)
    m = TransitionModel(rich, "code", "code")
    assert m.structure.parameterization["session"] == "centered"
    flat, _ = simulate_markov(1, n_dyads=4, sessions_per_dyad=3, segments=3000,
                              sigma_dyad=0.0, sigma_session=0.0)
    m = TransitionModel(flat, "code", "code")
    assert m.structure.parameterization["session"] == "noncentered"


def test_logp_and_gradient_finite_with_structural_zeros(seqs):
    model = TransitionModel(seqs, "code", "code", structural_zeros="diagonal").build()
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))


def test_aggregated_and_per_segment_logp_differ_by_a_constant(seqs):
    """Multinomial on counts = Categorical on pairs + the multinomial coefficient."""
    a = TransitionModel(seqs, "code", "code").build()
    b = TransitionModel(seqs, "code", "code", per_segment=True).build()
    fa, fb = a.compile_logp(), b.compile_logp()
    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(4):
        point = {k: rng.normal(size=np.shape(v)) for k, v in a.initial_point().items()}
        diffs.append(fa(point) - fb(point))
    np.testing.assert_allclose(diffs, diffs[0], rtol=0, atol=1e-9)
