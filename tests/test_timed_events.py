"""Timed events as time: TimedEvents, time-unit tables, GSEQ windows, the event permutation test.

Reference numbers come from hand computation (the worked example of docs/timed_events.md),
from ``lag_table`` on the events cut into segments (the segmented route, an independent
path through ``segment_events`` and ``Sequences``), from a per-unit Python oracle of the
windows, and from scipy.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import lagnest as ln
from lagnest import LagnestDataError, TimedEvents, TimeWindow, timed_permutation_test, timed_table
from lagnest.classical.statistics import CELL_VARIABLES, TABLE_VARIABLES
from lagnest.io.sdis import parse_sdis

DATA = Path(__file__).parent / "data"


# --------------------------------------------------------------------------- the worked example
def worked_example() -> TimedEvents:
    """docs/timed_events.md: one 10 s session, A at 0-2 and 5-6, B at 2-4 and 6-9."""
    frame = pd.DataFrame({"session": ["s1"] * 4, "code": ["A", "B", "A", "B"],
                          "onset": [0, 2, 5, 6], "offset": [2, 4, 6, 9]})
    return TimedEvents.from_frame(frame, session_end={"s1": 10})


# Units 0..9: A in 0, 1, 5; B in 2, 3, 6, 7, 8 (worked out in docs/timed_events.md).
HAND = {
    "lag 0": ({}, [[2, 5], [3, 0]]),
    "lag 1 s": ({"lag_seconds": 1}, [[3, 3], [1, 2]]),
    "(A+1, (A+2": ({"window": "(A+1, (A+2"}, [[4, 2], [1, 3]]),
    "(A, A)+1": ({"window": "(A, A)+1"}, [[2, 3], [3, 2]]),
    "window 2 s": ({"window_seconds": 2}, [[5, 4], [1, 3]]),
    "onsets of B": ({"window": "(A+1, (A+2", "target_onsets": True}, [[6, 0], [2, 2]]),
}


@pytest.mark.parametrize("name", list(HAND))
def test_worked_example_gives_the_hand_tallies(name):
    kwargs, counts = HAND[name]
    ds = timed_table(worked_example(), "A", "B", **kwargs)
    np.testing.assert_array_equal(ds.counts.values, counts)


def test_worked_example_statistics_by_hand():
    ds = timed_table(worked_example(), "A", "B", window="(A+1, (A+2")
    cell = {"given": "(A+1, (A+2", "target": "B"}
    assert list(ds.given.values) == ["not (A+1, (A+2", "(A+1, (A+2"]
    # a = 3, b = 1, c = 2, d = 4: Q = (12 - 2) / (12 + 2); e = 4 * 5 / 10 = 2;
    # z = (3 - 2) / sqrt(2 * (1 - 4/10) * (1 - 5/10)) = 1 / sqrt(0.6)
    assert float(ds.yules_q.sel(**cell)) == pytest.approx(10 / 14)
    assert float(ds.odds_ratio.sel(**cell)) == pytest.approx(6.0)
    assert float(ds.expected.sel(**cell)) == pytest.approx(2.0)
    assert float(ds.adj_resid.sel(**cell)) == pytest.approx(1 / math.sqrt(0.6))
    assert ds.attrs["N"] == 10
    assert ds.attrs["time_window"] == "(A+1, (A+2"
    assert ds.attrs["tally"] == "time units"


def test_chi_square_matches_scipy():
    ds = timed_table(worked_example(), "A", "B", lag_seconds=1)
    chi2, p, dof, expected = stats.chi2_contingency(ds.counts.values, correction=False)
    assert ds.attrs["X2"] == pytest.approx(chi2)
    assert ds.attrs["p_X2"] == pytest.approx(p)
    assert ds.attrs["df"] == dof
    np.testing.assert_allclose(ds.expected.values, expected)


def test_half_second_resolution_doubles_the_units():
    ds = timed_table(worked_example(), "A", "B", resolution=0.5)
    np.testing.assert_array_equal(ds.counts.values, 2 * np.array([[2, 5], [3, 0]]))


# --------------------------------------------------------------------------- TimeWindow
@pytest.mark.parametrize(("text", "window", "label"), [
    ("(A", TimeWindow("onset", 0, "onset", 0), "(A"),
    ("A)", TimeWindow("offset", 0, "offset", 0), "A)"),
    ("A", TimeWindow(), "(A, A)"),
    ("(A-3", TimeWindow("onset", -3, "onset", -3), "(A-3"),
    ("(A+1, (A+5", TimeWindow("onset", 1, "onset", 5), "(A+1, (A+5"),
    (" (A , A)+2.5", TimeWindow("onset", 0, "offset", 2.5), "(A, A)+2.5"),
])
def test_window_notation_round_trips(text, window, label):
    assert TimeWindow.parse(text, "A") == window
    assert window.label("A") == label
    assert TimeWindow.parse(label, "A") == window


@pytest.mark.parametrize(("text", "message"), [
    ("(B+1", "bad window point"),
    ("(A+x", "bad window shift"),
    ("(A, (A+1, (A+2", "at most two points"),
])
def test_bad_window_notation_names_the_expected_form(text, message):
    with pytest.raises(LagnestDataError, match=message) as err:
        TimeWindow.parse(text, "A")
    assert "expected" in str(err.value)


def test_window_spelled_with_the_qualified_code():
    ev = ln.read_sdis(DATA / "timed_sets.sds", as_events=True)
    a = timed_table(ev, "speaker:T", "pos", window="(speaker:T+1, (speaker:T+3")
    b = timed_table(ev, "T", "pos", window="(T+1, (T+3")
    np.testing.assert_array_equal(a.counts.values, b.counts.values)


# --------------------------------------------------------------------------- property
@st.composite
def timed_corpora(draw):
    """Integer-second events of codes A and B (and uncoded intervals) in 1-3 sessions."""
    n_sessions = draw(st.integers(1, 3))
    rows = []
    ends = []
    for s in range(n_sessions):
        end = draw(st.integers(0, 24))
        ends.append(end)
        for _ in range(draw(st.integers(0, 7))):
            onset = draw(st.integers(0, end))
            offset = min(end, onset + draw(st.integers(0, 5)))
            kind = draw(st.sampled_from([0, 0, 1, 1, 2]))  # 2: an uncoded interval
            rows.append((s, -1 if kind == 2 else 0, -1 if kind == 2 else kind, onset, offset,
                         draw(st.booleans()) and draw(st.booleans())))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    return TimedEvents(np.array(cols[0], np.int64), np.array(cols[1], np.int64),
                       np.array(cols[2], np.int64), np.array(cols[3], float),
                       np.array(cols[4], float), [f"s{i}" for i in range(n_sessions)],
                       [f"d{i // 2}" for i in range(n_sessions)], ["code"], [("A", "B")],
                       breaks=np.array(cols[5], bool), session_end=np.array(ends, float))


def assert_same_table(a, b):
    np.testing.assert_array_equal(a.counts.values, b.counts.values)
    for name in CELL_VARIABLES:
        np.testing.assert_allclose(a[name].values, b[name].values, equal_nan=True, err_msg=name)
    for name in TABLE_VARIABLES:
        left = a[name].values if name in a.data_vars else a.attrs[name]
        right = b[name].values if name in b.data_vars else b.attrs[name]
        np.testing.assert_allclose(left, right, equal_nan=True, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(ev=timed_corpora(), resolution=st.sampled_from([1.0, 0.5, 2.0]),
       lag=st.integers(-2, 3), window=st.integers(1, 4),
       by=st.sampled_from([None, "session", "dyad"]))
def test_time_units_equal_one_resolution_segments(ev, resolution, lag, window, by):
    """Time units of r s == segments of r s: ``lag_table(seqs, lag=L)`` on
    ``ev.to_sequences(r)`` equals ``timed_table(ev, lag_seconds=L r)``, and
    ``lag_table(seqs, window=w)`` equals ``timed_table(ev, window_seconds=w r)``: the unit
    states, blocks (sessions, breaks), uncoded units, tallies and statistics."""
    seqs = ev.to_sequences(resolution)
    assert_same_table(timed_table(ev, "A", "B", resolution=resolution,
                                  lag_seconds=lag * resolution, by=by),
                      ln.lag_table(seqs, "A", "B", lag=lag, by=by))
    assert_same_table(timed_table(ev, "A", "B", resolution=resolution,
                                  window_seconds=window * resolution, by=by),
                      ln.lag_table(seqs, "A", "B", window=window, by=by))


def window_oracle(ev: TimedEvents, anchors, shifts) -> np.ndarray:
    """Lag-0 table of a GSEQ window of A against B, unit by unit in Python (1 s units).

    With integer times an event [on, off) covers units on..off-1 (a momentary one: on);
    its onset unit is on, its offset unit the last unit it covers.
    """
    out = np.zeros((2, 2), np.int64)
    for s in range(ev.n_sessions):
        n = max(1, math.ceil(ev.session_end[s]))
        mine = ev.session == s
        n = max([n] + [int(o) + 1 for o in ev.onset[mine]])
        a_state, b_state, blank = np.zeros(n, int), np.zeros(n, int), np.zeros(n, bool)
        for st_, c, on, off in zip(ev.stream[mine], ev.code[mine], ev.onset[mine],
                                   ev.offset[mine], strict=True):
            units = list(range(int(on), max(int(off), int(on) + 1)))
            if st_ < 0:
                blank[units] = True
            elif c == 1:
                b_state[units] = 1
            else:
                ends = {0: units[0], 1: units[-1]}
                lo = max(0, ends[anchors[0]] + shifts[0])
                hi = min(n - 1, ends[anchors[1]] + shifts[1])
                if hi >= lo:
                    a_state[lo:hi + 1] = 1
        for t in range(n):
            if not blank[t]:
                out[a_state[t], b_state[t]] += 1
    return out


@settings(max_examples=60, deadline=None)
@given(ev=timed_corpora(), anchors=st.tuples(st.integers(0, 1), st.integers(0, 1)),
       shifts=st.tuples(st.integers(-3, 3), st.integers(-3, 6)))
def test_gseq_windows_match_a_unit_by_unit_oracle(ev, anchors, shifts):
    names = ("onset", "offset")
    window = TimeWindow(names[anchors[0]], shifts[0], names[anchors[1]], shifts[1])
    ds = timed_table(ev, "A", "B", window=window)
    np.testing.assert_array_equal(ds.counts.values, window_oracle(ev, anchors, shifts))
    again = timed_table(ev, "A", "B", window=window.label("A"))
    np.testing.assert_array_equal(again.counts.values, ds.counts.values)


# --------------------------------------------------------------------------- permutation test
def null_events(seed: int = 3, n_sessions: int = 4, length: int = 300) -> TimedEvents:
    """A and B placed independently: bouts of 1-6 s with gaps of 1-12 s."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sessions):
        for code in (0, 1):
            t = int(rng.integers(0, 10))
            while True:
                d = int(rng.integers(1, 7))
                if t + d > length:
                    break
                rows.append((s, code, t, t + d))
                t += d + int(rng.integers(1, 13))
    frame = pd.DataFrame(rows, columns=["session", "code", "onset", "offset"])
    frame["code"] = np.array(["A", "B"])[frame["code"]]
    return TimedEvents.from_frame(frame, session_end={s: length for s in range(n_sessions)})


def test_permutation_test_is_seeded_and_reports_the_observed_table():
    ev = null_events()
    a = timed_permutation_test(ev, "A", "B", n_perm=199, seed=5)
    b = timed_permutation_test(ev, "A", "B", n_perm=199, seed=5)
    c = timed_permutation_test(ev, "A", "B", n_perm=199, seed=6)
    np.testing.assert_array_equal(a.p_perm_adj_resid.values, b.p_perm_adj_resid.values)
    np.testing.assert_array_equal(a.perm_mean_counts.values, b.perm_mean_counts.values)
    assert a.attrs["p_perm_X2"] == b.attrs["p_perm_X2"]
    assert not np.array_equal(a.perm_mean_counts.values, c.perm_mean_counts.values)
    np.testing.assert_array_equal(a.counts.values, timed_table(ev, "A", "B").counts.values)
    assert a.attrs["n_perm"] == 199 and a.attrs["seed"] == 5
    assert "durations kept" in a.attrs["shuffle"]


def _permuted(ev: TimedEvents, n_perm: int, onsets: bool = False) -> np.ndarray:
    offsets, first, stop, _ = ln.kernels.time_units(ev.session, ev.onset, ev.offset,
                                                    ev.session_start, ev.session_end, 1.0)
    a, b = ev.code_mask("A"), ev.code_mask("B")
    given = ln.kernels.unit_states(first[a], stop[a], int(offsets[-1]))
    blocks, _ = ln.kernels.unit_blocks(offsets, np.zeros(0, np.int64))
    return ln.kernels.permuted_timed_tables(
        given, np.zeros(offsets[-1], bool), blocks, offsets, 1.0, ev.session[b], ev.onset[b],
        ev.offset[b], ev.session_start, ev.session_end, ln.kernels.permutation_seeds(1, n_perm),
        onsets=onsets)


def test_shuffles_keep_durations_and_the_number_of_events():
    ev = null_events(n_sessions=2, length=120)
    b = ev.code_mask("B")
    tables = _permuted(ev, 300)
    # integer bouts and gaps at 1 s: each event covers exactly its duration in units, so
    # the units holding B (the column total) are the total duration, in every permutation
    assert (tables[:, :, 1].sum(axis=1) == (ev.offset[b] - ev.onset[b]).sum()).all()
    assert (tables.sum(axis=(1, 2)) == int(ev.session_end.sum())).all()
    onsets = _permuted(ev, 300, onsets=True)
    assert (onsets[:, :, 1].sum(axis=1) == b.sum()).all()  # one onset unit per event
    assert len(set(tables[:, 1, 1].tolist())) > 10  # the events did move


def test_permutation_p_values_are_sane():
    ev = null_events()
    null = timed_permutation_test(ev, "A", "B", n_perm=499, seed=2)
    assert 0.05 < null.attrs["p_perm_X2"] <= 1
    assert np.all((null.p_perm_adj_resid.values > 0) & (null.p_perm_adj_resid.values <= 1))
    # B always starts when A ends: the unit after A's offset unit holds B
    rng = np.random.default_rng(0)
    rows, t = [], 0
    while t < 380:
        a, b = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        rows += [("s", "A", t, t + a), ("s", "B", t + a, t + a + b)]
        t += a + b + int(rng.integers(3, 16))
    linked = TimedEvents.from_frame(pd.DataFrame(rows, columns=["session", "code", "onset",
                                                                "offset"]))
    res = timed_permutation_test(linked, "A", "B", window="A)+1", n_perm=199, seed=0,
                                 alternative="greater")
    assert float(res.p_perm_adj_resid.sel(given="A)+1", target="B")) == pytest.approx(1 / 200)
    assert res.attrs["p_perm_X2"] == pytest.approx(1 / 200)


def test_permutation_test_refuses_overlapping_target_events():
    frame = pd.DataFrame({"session": "s", "code": ["A", "B", "B"], "onset": [0, 1, 2],
                          "offset": [1, 4, 5]})
    with pytest.raises(LagnestDataError, match="overlap"):
        timed_permutation_test(TimedEvents.from_frame(frame), "A", "B", n_perm=9)


# --------------------------------------------------------------------------- readers
def test_read_sdis_timed_as_events():
    ev = ln.read_sdis(DATA / "timed_sets.sds", as_events=True)
    assert isinstance(ev, TimedEvents)
    assert ev.streams == ("speaker", "affect")
    assert ev.codes == (("T", "P"), ("pos", "neg"))
    frame = ev.to_frame()
    assert list(zip(frame.code, frame.onset, frame.offset, strict=True)) == [
        ("T", 0, 10), ("pos", 5, 12), ("P", 10, 25), ("neg", 20, 20), ("T", 25, 30)]
    assert ev.session_end.tolist() == [30.0]
    assert ev.to_sequences(5) == ln.read_sdis(DATA / "timed_sets.sds", segment_seconds=5)


def test_read_sdis_state_as_events():
    ev = ln.read_sdis(DATA / "state.sds", as_events=True)
    frame = ev.to_frame()
    assert list(zip(frame.stream, frame.code, frame.onset, frame.offset, strict=True)) == [
        ("speaker", "T", 0, 10), ("affect", "pos", 0, 15), ("speaker", "P", 10, 15),
        ("affect", "neg", 15, 20), ("speaker", "T", 15, 30), ("affect", "pos", 20, 30)]
    assert ev.to_sequences(2) == ln.read_sdis(DATA / "state.sds", segment_seconds=2)


def test_uncoded_intervals_and_breaks_survive_as_events():
    text = "Timed;\n<s> a,0-5 b,5-9 ; a,9-10 UNCODED,3-6 ,12 /\n"
    ev = parse_sdis(text, as_events=True)
    frame = ev.to_frame()
    assert frame.loc[frame.stream == "(uncoded)", ["onset", "offset"]].values.tolist() == [
        [3, 6]]
    assert frame["break"].tolist() == [False, False, False, True]  # ; before a,9-10
    assert ev.to_sequences(1) == parse_sdis(text, segment_seconds=1)
    ds = timed_table(ev, "a", "b")
    assert ds.attrs["N"] == 12 - 3  # units 3, 4, 5 are uncoded


def test_read_boris_as_events():
    ev = ln.read_boris(DATA / "boris_aggregated.tsv", as_events=True)
    assert ev.session_labels == ("sess1", "sess2")
    assert ev.dyad_labels == ("D1",)
    frame = ev.to_frame()
    assert list(zip(frame.session, frame.code, frame.onset, frame.offset, strict=True)) == [
        ("sess1", "therapist_talk", 0, 12.5), ("sess1", "patient_talk", 10, 20),
        ("sess1", "patient_nod", 14, 14), ("sess1", "therapist_talk", 21, 29),
        ("sess2", "patient_talk", 60, 64.5), ("sess2", "therapist_talk", 65, 69)]
    assert ev.session_covariates["therapist_sex"].tolist() == ["f", "f"]
    assert ev.to_sequences(2.5) == ln.read_boris(DATA / "boris_aggregated.tsv",
                                                 segment_seconds=2.5)
    tab = ln.read_boris(DATA / "boris_tabular.csv", as_events=True)
    assert tab.to_frame().drop(columns="break").equals(frame.drop(columns="break"))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ln.read_sdis(DATA / "event.sds", as_events=True), "needs timed data"),
    (lambda: ln.read_sdis(DATA / "timed_sets.sds", as_events=True, segment_seconds=1),
     "not both"),
    (lambda: ln.read_boris(DATA / "behav_strings.txt", as_events=True), "behavioural strings"),
    (lambda: ln.read_boris(DATA / "boris_aggregated.tsv", as_events="yes"), "bad as_events"),
])
def test_reader_misuse_of_as_events(call, message):
    with pytest.raises(LagnestDataError, match=message):
        call()


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "message", "expected"), [
    ({"resolution": -1}, "bad resolution", "seconds > 0"),
    ({"resolution": 0}, "bad resolution", "seconds > 0"),
    ({"lag_seconds": 0.5}, "not a whole number of time units", "multiple of the resolution"),
    ({"window_seconds": 1.5}, "not a whole number", "multiple of the resolution"),
    ({"window_seconds": 2, "lag_seconds": 1}, "not both", "window_seconds=w alone"),
    ({"window": "(A+0.5"}, "window shift", "multiple of the resolution"),
    ({"window": "(C+1"}, "bad window point", "'(A'"),
    ({"by": "stream"}, "bad by", "'session' or 'dyad'"),
])
def test_bad_arguments_say_what_was_expected(kwargs, message, expected):
    with pytest.raises(LagnestDataError, match=message) as err:
        timed_table(worked_example(), "A", "B", **kwargs)
    assert expected in str(err.value)


def test_unknown_code_and_stream_of_several_codes():
    with pytest.raises(LagnestDataError, match=r"unknown stream or code 'C'.*expected"):
        timed_table(worked_example(), "C", "B")
    with pytest.raises(LagnestDataError, match="one code of it"):
        timed_table(worked_example(), "code", "B")
    with pytest.raises(LagnestDataError, match="need a TimedEvents"):
        timed_table(ln.Sequences.from_sequences({"code": [list("ab")]}), "a", "b")


def test_offset_before_onset_is_refused():
    frame = pd.DataFrame({"session": ["s"], "code": ["A"], "onset": [5.0], "offset": [2.0]})
    with pytest.raises(LagnestDataError, match="offset before onset") as err:
        TimedEvents.from_frame(frame)
    assert "expected offset >= onset" in str(err.value)
    with pytest.raises(LagnestDataError, match="offset before onset"):
        ln.kernels.time_units(np.zeros(1, np.int64), np.array([5.0]), np.array([2.0]),
                              np.zeros(1), np.array([5.0]), 1.0)


def test_events_outside_their_session_and_bad_times():
    args = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64))
    with pytest.raises(LagnestDataError, match="outside its session"):
        TimedEvents(*args, np.array([1.0]), np.array([4.0]), ["s"], ["d"], ["c"], [("A",)],
                    session_end=np.array([3.0]))
    with pytest.raises(LagnestDataError, match="not finite"):
        TimedEvents(*args, np.array([np.nan]), np.array([4.0]), ["s"], ["d"], ["c"], [("A",)])
    with pytest.raises(LagnestDataError, match="code out of range"):
        TimedEvents(args[0], args[1], np.array([3]), np.array([1.0]), np.array([4.0]), ["s"],
                    ["d"], ["c"], [("A",)])


def test_from_frame_checks_its_columns_and_session_ends():
    frame = pd.DataFrame({"session": ["s"], "code": ["A"], "onset": [0.0], "offset": [1.0]})
    with pytest.raises(LagnestDataError, match="missing columns"):
        TimedEvents.from_frame(frame, onset="start")
    with pytest.raises(LagnestDataError, match="does not have"):
        TimedEvents.from_frame(frame, session_end={"t": 5})
    assert TimedEvents.from_frame(frame, session_end={"s": 5}).session_end.tolist() == [5.0]


def test_too_many_time_units_is_a_limit_error():
    with pytest.raises(ln.LimitError, match="coarser resolution"):
        timed_table(worked_example(), "A", "B", resolution=1e-12)
