"""A corpus whose streams share code labels reads as it comes; its lag tables match a count
done here in pure Python.

Shaped like a public psychotherapy corpus: ten patient-therapist couples, one session each,
900 one-second segments, four streams; patient and therapist voice streams both hold
``silent``/``verbal`` and the gaze streams both hold ``at``/``away``. R's ``NA`` marks an
uncoded second.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import lagnest as ln

STREAMS = {
    "p_voice": ("silent", "verbal"),
    "t_voice": ("silent", "verbal"),
    "p_gaze": ("at", "away"),
    "t_gaze": ("at", "away"),
}
N_COUPLES, SECONDS = 10, 900


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[pd.DataFrame, ln.Sequences]:
    rng = np.random.default_rng(12)
    rows = []
    for c in range(N_COUPLES):
        state = {name: 0 for name in STREAMS}
        for t in range(1, SECONDS + 1):
            row = {"couple": f"c{c + 1:02d}", "session": 1, "second": t}
            for name, codes in STREAMS.items():
                if rng.random() < 0.1:  # runs: switch state now and then
                    state[name] = 1 - state[name]
                row[name] = "NA" if rng.random() < 0.02 else codes[state[name]]
            rows.append(row)
    frame = pd.DataFrame(rows)
    path = tmp_path_factory.mktemp("shared") / "couples.csv"
    frame.to_csv(path, index=False)  # written by pandas, not by lagnest
    seqs = ln.read_table(path, dyad="couple", segment="second", nested_sessions=True)
    return frame, seqs


def python_counts(frame: pd.DataFrame, given: str, target: str, lag: int = 1) -> Counter:
    """(given code, target code) pairs at lag within each session, uncoded skipped."""
    out: Counter = Counter()
    for _, grp in frame.groupby(["couple", "session"], sort=False):
        grp = grp.sort_values("second")
        g, t = grp[given].tolist(), grp[target].tolist()
        for i in range(len(g) - lag):
            if g[i] != "NA" and t[i + lag] != "NA":
                out[(g[i], t[i + lag])] += 1
    return out


def test_reads_as_it_comes(corpus):
    frame, seqs = corpus
    assert (seqs.n_dyads, seqs.n_sessions, seqs.n_segments) == (10, 10, 9000)
    assert {n: s.codes for n, s in seqs.streams.items()} == {
        "p_voice": ("silent", "verbal"),
        "t_voice": ("silent", "verbal"),
        "p_gaze": ("at", "away"),
        "t_gaze": ("at", "away"),
    }
    assert seqs.session_labels[0] == "c01-1"
    codes, _ = seqs.categorical("p_voice")
    assert int((codes < 0).sum()) == int((frame["p_voice"] == "NA").sum())


@pytest.mark.parametrize("given, target", list(itertools.permutations(STREAMS, 2))[:6])
def test_stream_tables_equal_an_independent_count(corpus, given, target):
    frame, seqs = corpus
    table = ln.lag_table(seqs, given=given, target=target, lag=1)
    expected = python_counts(frame, given, target)
    for g, t in itertools.product(STREAMS[given], STREAMS[target]):
        assert int(table["counts"].sel(given=g, target=t)) == expected[(g, t)]
    assert table.attrs["N"] == sum(expected.values())


def test_qualified_codes_equal_an_independent_count(corpus):
    frame, seqs = corpus
    table = ln.lag_table(seqs, given="p_voice:silent", target="t_voice:verbal", lag=2)
    assert list(table.given.values) == ["not p_voice:silent", "p_voice:silent"]
    assert list(table.target.values) == ["not t_voice:verbal", "t_voice:verbal"]
    expected = python_counts(frame, "p_voice", "t_voice", lag=2)
    silent_verbal = expected[("silent", "verbal")]
    other = sum(v for (g, t), v in expected.items() if g != "silent" and t == "verbal")
    assert int(table["counts"].sel(given="p_voice:silent", target="t_voice:verbal")) == (
        silent_verbal
    )
    assert int(table["counts"].sel(given="not p_voice:silent", target="t_voice:verbal")) == other


def test_ambiguous_bare_code_lists_the_qualified_choices(corpus):
    _, seqs = corpus
    with pytest.raises(ln.LagnestDataError) as info:
        ln.lag_table(seqs, given="silent", target="t_gaze")
    assert "'p_voice:silent', 't_voice:silent'" in str(info.value)


def test_indicator_set_of_qualified_codes(corpus):
    frame, seqs = corpus
    table = ln.count_table(seqs, given=["p_voice:verbal", "t_voice:verbal"], target="p_gaze")
    assert list(table.indicator.values) == ["p_voice:verbal", "t_voice:verbal"]
    expected = python_counts(frame, "t_voice", "p_gaze")
    present = int(table.sel(indicator="t_voice:verbal", given="present", target="away"))
    assert present == expected[("verbal", "away")]
