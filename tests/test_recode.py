"""``Sequences.recode``: GSEQ's recode, codes of a categorical stream merged (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lagnest as ln
from lagnest.errors import LagnestDataError

CODES = ["a", "b", "c", "d"]


@st.composite
def corpora(draw):
    n_sessions = draw(st.integers(1, 4))
    sessions = [draw(st.lists(st.sampled_from([*CODES, None]), min_size=2, max_size=12))
                for _ in range(n_sessions)]
    merged = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True))
    return sessions, merged


@settings(max_examples=60, deadline=None)
@given(corpora())
def test_recoded_lag_table_is_the_original_summed_over_the_group(case):
    """Merging codes merges the rows and columns of the lag table (counts add)."""
    sessions, merged = case
    seqs = ln.Sequences.from_sequences({"code": sessions}, codes={"code": CODES})
    recoded = seqs.recode("code", {"m": merged})
    before = ln.lag_table(seqs, "code", "code")["counts"].to_pandas()
    after = ln.lag_table(recoded, "code_recoded", "code_recoded")["counts"].to_pandas()
    group = {c: ("m" if c in merged else c) for c in CODES}
    expected = before.T.groupby(group).sum().T.groupby(group).sum()
    assert sorted(after.index) == sorted(expected.index)
    np.testing.assert_array_equal(after.loc[expected.index, expected.columns].to_numpy(),
                                  expected.to_numpy())
    # uncoded segments stay uncoded, coded ones keep their place
    old, _ = seqs.categorical("code")
    new, labels = recoded.categorical("code_recoded")
    np.testing.assert_array_equal(np.asarray(new) < 0, np.asarray(old) < 0)
    assert labels == tuple(dict.fromkeys(group[c] for c in CODES))


def test_recode_of_the_example_keeps_other_streams_and_names_the_stream():
    seqs = ln.datasets.load_example()
    new = seqs.recode("rupture", {"ruptured": ["withdrawal", "confrontation", "both"]},
                      name="any_rupture")
    values, codes = new.categorical("any_rupture")
    old, old_codes = seqs.categorical("rupture")
    assert codes == ("none", "ruptured")
    np.testing.assert_array_equal(np.asarray(values) == 1,
                                  np.isin(np.asarray(old), [1, 2, 3]))
    assert new.categorical("rupture")[1] == old_codes


@pytest.mark.parametrize(("stream", "groups", "name", "fragment"), [
    ("mia", {"x": ["MIA1"]}, None, "not a categorical stream"),
    ("rupture", {"x": ["nope"]}, None, "'nope' (group 'x') is not a code of 'rupture'"),
    ("rupture", {"x": ["both"], "y": ["both"]}, None, "'both' is in two groups"),
    ("rupture", {"x": "both"}, None, "must list old codes"),
    ("rupture", {}, None, "groups must map"),
    ("rupture", {"x": ["both"]}, "MIA4", "must be one word naming no stream or code"),
])
def test_bad_recodes_say_what_was_expected(stream, groups, name, fragment):
    seqs = ln.datasets.load_example()
    with pytest.raises(LagnestDataError, match="recode") as err:
        seqs.recode(stream, groups, name=name)
    assert fragment in str(err.value)
