"""Specification, data and graph of TransitionModel (no sampling)."""

import numpy as np
import pytest

from lagnest import Sequences
from lagnest.errors import LagnestDataError
from lagnest.lagtable import count_table
from lagnest.models import TransitionModel
from lagnest.models.transition import _helmert, zero_sum_basis


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
        "structural_zeros": None, "per_segment": False,
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"given": "nope"}, "unknown given 'nope'"),
        ({"target": "zzz"}, "unknown target"),
        ({"pooling": "session"}, "pooling must be one of"),
        ({"lag": 1.5}, "lag must be an integer"),
        ({"given": ["a", "b"]}, "one stream or code"),
        ({"structural_zeros": "upper"}, "structural_zeros"),
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
    pairs = m._segment_pairs()
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
    h = _helmert(6)
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
def test_graph_builds(seqs, pooling, per_segment):
    m = TransitionModel(seqs, "code", "code", pooling=pooling, structural_zeros="diagonal",
                        per_segment=per_segment)
    model = m.build()
    assert m.built and m.build() is model
    assert "logit_session" in model.named_vars
    assert ("logit_population" in model.named_vars) == (pooling != "none")


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
