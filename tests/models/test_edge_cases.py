"""What the models refuse or warn about, with the exact words users see.

Each degenerate model (negative lags, lag 0 within a stream, a target with a single code,
a given code that never occurs, constant predictor columns) ends in a
`LagnestDataError` or a warning whose text is asserted here; convergence warnings point
at the caller's line and name parameters by their labels; a fit on two cores leaks no
multiprocessing or threading warning, even with ``PYTHONWARNINGS=default``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import pytest

from lagnest import LaggedRegression, LagnestDataError, Sequences, TransitionModel
from lagnest.models import ConvergenceWarning

CODE = [["a", "b", "a", "c", "b", "a"], ["b", "a", "c", "c", "a"], ["a", "a", "b", "c"]]
OTHER = [["x", "y", "x", "y", "x", "y"], ["y", "y", "x", "x", "y"], ["x", "y", "y", "x"]]


@pytest.fixture(scope="module")
def seqs():
    return Sequences.from_sequences(
        {"code": CODE, "other": OTHER, "flat": [["k"] * len(s) for s in CODE]},
        dyads=["d1", "d1", "d2"],
        codes={"code": ["a", "b", "c", "z"]},  # z is declared but never occurs
    )


# ---------------------------------------------------------------- TransitionModel
def test_transition_refuses_a_negative_lag(seqs):
    with pytest.raises(LagnestDataError, match=re.escape(
        "lag must be >= 0, got -1; to model what precedes 'code', swap given and target "
        "and use a positive lag"
    )):
        TransitionModel(seqs, "code", "code", lag=-1)


def test_transition_refuses_lag_zero_within_one_stream(seqs):
    with pytest.raises(LagnestDataError, match=re.escape(
        "lag=0 with given 'code' and target 'code' from the same stream 'code' compares a "
        "segment's code with itself"
    )):
        TransitionModel(seqs, "code", "code", lag=0)
    TransitionModel(seqs, "code", "other", lag=0)  # two streams: co-occurrence is fine


def test_transition_refuses_a_target_with_a_single_code(seqs):
    with pytest.raises(LagnestDataError, match=re.escape(
        "target 'flat' has a single code: nothing to predict"
    )):
        TransitionModel(seqs, "code", "flat")


def test_transition_warns_at_the_callers_line_about_a_given_code_that_never_occurs(seqs):
    model = TransitionModel(seqs, "code", "other")
    with pytest.warns(UserWarning, match=re.escape(
        "given code(s) ['z'] never occur with a coded lag-1 target: their rows are "
        "estimated from the prior and the pooled rows only"
    )) as record:
        model.data  # noqa: B018 - the data (and the warning) are made on first use
    assert record[0].filename == __file__


def test_transition_refuses_a_lag_longer_than_every_session(seqs):
    model = TransitionModel(seqs, "code", "other", lag=50)
    with pytest.raises(LagnestDataError, match=re.escape(
        "no coded lag-50 pairs of 'code' -> 'other': nothing to fit"
    )):
        model.data  # noqa: B018


def test_transition_refuses_an_integer_lag_of_any_size(seqs):
    # a lag beyond int64 must be a typed error, not an overflow inside NumPy
    with pytest.raises(LagnestDataError, match="lag must lie within"):
        TransitionModel(seqs, "code", "other", lag=10**30).data  # noqa: B018


# ---------------------------------------------------------------- LaggedRegression
def test_regression_refuses_negative_or_repeated_lags(seqs):
    message = re.escape(
        "lags must be distinct integers >= 0, got [-1]; to model what precedes a code, "
        "make that code the predictor"
    )
    with pytest.raises(LagnestDataError, match=message):
        LaggedRegression(seqs, target="code", predictors=["other"], lags=[-1])
    with pytest.raises(LagnestDataError, match="lags must be distinct integers >= 0, got "
                       r"\[1, 1\]"):
        LaggedRegression(seqs, target="code", predictors=["other"], lags=[1, 1])


def test_regression_refuses_the_target_itself_at_lag_zero(seqs):
    with pytest.raises(LagnestDataError, match=re.escape(
        "predictor 'code' at lag 0 is the target itself; use it at lags >= 1 "
        "(history=True already does)"
    )):
        LaggedRegression(seqs, target="code", predictors=["code"], lags=[0], history=False)


def test_regression_refuses_a_target_with_a_single_code(seqs):
    with pytest.raises(LagnestDataError, match=re.escape(
        "target 'flat' has a single code: nothing to predict"
    )):
        LaggedRegression(seqs, target="flat", predictors=["other"])


def test_regression_refuses_constant_predictor_columns(seqs):
    model = LaggedRegression(seqs, target="other", predictors=["code"], history=False)
    with pytest.raises(LagnestDataError, match=re.escape(
        "take a single value in every fitted segment (e.g. a code that never occurs, or a "
        "centred indicator constant within every dyad): their effects are not estimable; "
        "drop them"
    )) as err:
        model.data  # noqa: B018
    assert "z" in str(err.value)  # the column of the code that never occurs


def test_regression_refuses_a_model_without_predictors(seqs):
    with pytest.raises(LagnestDataError, match=re.escape(
        "the model has no predictors (and history=False)"
    )):
        LaggedRegression(seqs, target="code", predictors=[], history=False)


# ---------------------------------------------------------------- fitting
_INDEX_ONLY = re.compile(r"\b\w+\[\d+(?:, \d+)*\]")


@pytest.mark.slow
def test_convergence_warning_points_at_the_caller_and_names_parameters_by_label(seqs):
    model = TransitionModel(seqs, "code", "other", pooling="dyad/session")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(draws=15, tune=15, chains=2, cores=1, seed=3)
    ours = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert ours, [str(w.message) for w in caught]
    message = str(ours[0].message)
    assert ours[0].filename == __file__
    assert "failed sampler diagnostics" in message
    # parameters are named by their labels (codes, dyads, sessions), not bare indices
    assert re.search(r"\[(?:a|b|c|z|x|y|d1|d2|s\d)(?:, \w+)*\]", message), message
    assert not _INDEX_ONLY.search(message), message


FIT_ON_TWO_CORES = """
import lagnest as ln
seqs = ln.datasets.load_example()
# a parallel numba kernel runs first, as in a session, so threads exist before the fit
ln.permutation_test(seqs, given="rupture", target="resolution", n_perm=100, seed=0)
model = ln.TransitionModel(seqs, given="rupture", target="resolution", pooling="dyad")
model.fit(draws=50, tune=50, chains=2, cores=2, seed=1, warn=False)
print("fitted")
"""


@pytest.mark.slow
def test_a_fit_on_two_cores_leaks_no_multiprocessing_or_thread_warning():
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", FIT_ON_TWO_CORES],
        env={**env, "PYTHONWARNINGS": "default", "NUMBA_NUM_THREADS": "2"},
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "fitted" in proc.stdout
    for needle in ("fork()", "multi-threaded", "Warning"):
        assert needle not in proc.stderr, proc.stderr[-3000:]
