"""Observer agreement: published kappas, statsmodels as oracle, tolerance by hand and by loops."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa

from lagnest import datasets
from lagnest.classical.agreement import STAT_VARIABLES, UNCODED_LABEL, agreement, kappa_table
from lagnest.data.sequences import Sequences
from lagnest.errors import LagnestDataError

CODES = ["a", "b", "c"]


def coding(sessions: dict[str, list], segments: dict[str, list[int]] | None = None,
           column: str = "code", codes: list[str] | None = CODES) -> Sequences:
    """A one-stream coding from {session: [code or None, ...]} (segment numbers optional)."""
    rows = []
    for s, values in sessions.items():
        numbers = (segments or {}).get(s, list(range(1, len(values) + 1)))
        for t, v in zip(numbers, values, strict=True):
            rows.append({"dyad": s, "session": s, "segment": t, column: v})
    frame = pd.DataFrame(rows)
    if frame[column].map(lambda v: isinstance(v, str)).any():
        frame[column] = frame[column].astype("string")
        return Sequences.from_frame(frame, codes={column: codes} if codes else None)
    frame[column] = frame[column].astype("Int64")
    return Sequences.from_frame(frame)


# ============================================================ published worked examples


def test_sas_printout_of_statsmodels_table10():
    # SAS PROC FREQ printout stored in statsmodels' test_inter_rater.py (UnweightedCohens):
    # Kappa 0.4842, ASE 0.1380, 95% CL 0.2137-0.7547; ASE under H0 0.1484, Z 3.2626,
    # two-sided Pr > |Z| 0.0011.
    ds = kappa_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    got = [ds.attrs[k] for k in ("kappa", "se", "ci_low", "ci_high", "se0", "z", "p")]
    np.testing.assert_allclose(got, [0.4842, 0.1380, 0.2137, 0.7547, 0.1484, 3.2626, 0.0011],
                               atol=5e-5)


def test_sas_skin_condition_agreement_study():
    # SAS/STAT PROC FREQ "Getting Started: Agreement Study": two dermatologists rate 88
    # patients terrible/poor/marginal/clear. Printed: Simple Kappa 0.3449, ASE 0.0724,
    # 95% confidence limits 0.2030 and 0.4868.
    skin = pd.DataFrame(
        [[10, 4, 1, 0], [5, 10, 12, 2], [2, 4, 12, 5], [0, 2, 6, 13]],
        index=["terrible", "poor", "marginal", "clear"],
        columns=["terrible", "poor", "marginal", "clear"],
    )
    ds = kappa_table(skin)
    got = [ds.attrs[k] for k in ("kappa", "se", "ci_low", "ci_high")]
    np.testing.assert_allclose(got, [0.3449, 0.0724, 0.2030, 0.4868], atol=5e-5)
    assert ds.attrs["n"] == 88
    assert list(ds.coder_a.values) == list(skin.index)


def test_same_table_through_sequences():
    # The table10 cells as 19 coded segments of one session give the same printout.
    cells = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
    a, b = [], []
    for i, row in enumerate(cells):
        for j, n in enumerate(row):
            a += [CODES[i]] * n
            b += [CODES[j]] * n
    ds = agreement(coding({"s": a}), coding({"s": b}), "code")
    np.testing.assert_array_equal(ds.counts.values, cells)
    assert ds.attrs["kappa"] == pytest.approx(0.4842, abs=5e-5)
    assert ds.attrs["se"] == pytest.approx(0.1380, abs=5e-5)


# ============================================================ statsmodels as oracle

pair_lists = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([*CODES, None]), min_size=n, max_size=n),
        st.lists(st.sampled_from([*CODES, None]), min_size=n, max_size=n),
    )
)


def _statsmodels(table: np.ndarray):
    with warnings.catch_warnings():  # statsmodels divides 0/0 for z when se0 = 0
        warnings.simplefilter("ignore", RuntimeWarning)
        res = cohens_kappa(np.asarray(table, float))
    return [res.kappa, res.std_kappa, res.std_kappa0, res.z_value, res.pvalue_two_sided]


@settings(max_examples=60)
@given(pair_lists)
def test_kappa_and_se_equal_statsmodels(pair):
    a, b = pair
    a[0] = b[0] = "a"
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    table = np.zeros((3, 3))
    for x, y in pairs:
        table[CODES.index(x), CODES.index(y)] += 1
    ds = agreement(coding({"s": a}), coding({"s": b}), "code")
    np.testing.assert_array_equal(ds.counts.values, table)
    assert ds.attrs["n_excluded"] == len(a) - len(pairs)
    ours = [ds.attrs[k] for k in ("kappa", "se", "se0", "z", "p")]
    if np.isclose(ds.attrs["p_e"], 1.0):  # one code throughout: kappa undefined
        assert np.isnan(ds.attrs["kappa"])
        return
    ref = _statsmodels(table)
    assert ours[0] == pytest.approx(ref[0], rel=1e-9, abs=1e-12)
    # a variance that is 0 in exact arithmetic can come out as +-1e-16: statsmodels then
    # gives its root as NaN or ~1e-8, lagnest clips it at 0
    np.testing.assert_allclose(ours[1:3], np.nan_to_num(ref[1:3]), rtol=1e-9, atol=1e-7)
    if ref[2] > 1e-6:
        np.testing.assert_allclose(ours[3:], ref[3:], rtol=1e-9, atol=1e-12)
    # per code: each code against the others, checked on an independently built 2 x 2
    per = agreement(coding({"s": a}), coding({"s": b}), "code", per_code=True)
    for code in CODES:
        two = np.zeros((2, 2))
        for x, y in pairs:
            two[int(x == code), int(y == code)] += 1
        np.testing.assert_array_equal(per.counts.sel(code=code).values, two)
        p_e = (two.sum(1) * two.sum(0)).sum() / two.sum() ** 2
        if not np.isclose(p_e, 1.0):
            np.testing.assert_allclose(float(per.kappa.sel(code=code)), _statsmodels(two)[0],
                                       rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(float(per.se.sel(code=code)),
                                       np.nan_to_num(_statsmodels(two)[1]), rtol=1e-9,
                                       atol=1e-7)


def test_uncoded_as_category():
    a = ["a", None, "b", "b", None]
    b = ["a", "a", None, "b", None]
    ds = agreement(coding({"s": a}), coding({"s": b}), "code", uncoded="category")
    assert list(ds.coder_a.values) == [*CODES, UNCODED_LABEL]
    expected = np.zeros((4, 4), int)
    for x, y in zip(a, b, strict=True):
        i = 3 if x is None else CODES.index(x)
        j = 3 if y is None else CODES.index(y)
        expected[i, j] += 1
    np.testing.assert_array_equal(ds.counts.values, expected)
    assert ds.attrs["n"] == 5 and ds.attrs["n_excluded"] == 0
    assert ds.attrs["kappa"] == pytest.approx(_statsmodels(expected)[0])
    excluded = agreement(coding({"s": a}), coding({"s": b}), "code")
    assert excluded.attrs["n"] == 2 and excluded.attrs["n_excluded"] == 3


def test_codes_are_the_union_of_both_codings():
    a = coding({"s": ["x", "y", "x"]}, codes=None)
    b = coding({"s": ["x", "z", "x"]}, codes=None)
    ds = agreement(a, b, "code")
    assert list(ds.coder_a.values) == ["x", "y", "z"]
    np.testing.assert_array_equal(ds.counts.values, [[2, 0, 0], [0, 0, 1], [0, 0, 0]])


def test_indicator_stream_per_code_and_pooled():
    fa = pd.DataFrame({"dyad": "d", "session": "s", "segment": range(1, 7),
                       "m1": [1, 0, 1, 1, 0, 0], "m2": [0, 0, 1, 1, 1, 0]})
    fb = fa.assign(m1=[1, 0, 0, 1, 0, 1], m2=[0, 1, 1, 1, 1, 0])
    a = Sequences.from_sequences({"m1": [list(fa.m1)], "m2": [list(fa.m2)]})
    b = Sequences.from_sequences({"m1": [list(fb.m1)], "m2": [list(fb.m2)]})
    per = agreement(a, b, ["m1", "m2"], per_code=True)
    assert list(per.code.values) == ["m1", "m2"]
    assert list(per.coder_a.values) == ["absent", "present"]
    tables = {}
    for name in ["m1", "m2"]:
        two = np.zeros((2, 2))
        for x, y in zip(fa[name], fb[name], strict=True):
            two[x, y] += 1
        tables[name] = two
        np.testing.assert_array_equal(per.counts.sel(code=name).values, two)
        assert float(per.kappa.sel(code=name)) == pytest.approx(_statsmodels(two)[0])
    pooled = agreement(a, b, ["m1", "m2"])
    np.testing.assert_array_equal(pooled.counts.values, tables["m1"] + tables["m2"])
    assert pooled.attrs["summary"] == "pooled kappa"
    assert pooled.attrs["kappa"] == pytest.approx(_statsmodels(tables["m1"] + tables["m2"])[0])
    assert np.isnan(pooled.attrs["se"]) and np.isnan(pooled.attrs["p"])


def test_indicator_stream_by_name():
    frame = pd.DataFrame({"dyad": "d", "session": "s", "segment": [1, 2, 3, 4],
                          "MIA1": [1, 0, 1, 0], "MIA2": [0, 0, 1, 1]})
    book_free = Sequences.from_frame(frame)
    other = Sequences.from_frame(frame.assign(MIA2=[0, 1, 1, 1]))
    streams = [n for n, s in book_free.streams.items() if s.kind == "indicator"]
    per = agreement(book_free, other, streams[0], per_code=True)
    assert per.attrs["kind"] == "indicator"
    assert per.sizes["coder_a"] == 2


def test_tidy_frames():
    a = coding({"s": ["a", "b", "a", "c"]})
    b = coding({"s": ["a", "b", "b", "c"]})
    frame = agreement(a, b, "code").to_dataframe()
    assert list(frame.index.names) == ["coder_a", "coder_b"]
    assert list(frame.columns) == ["counts", "expected"]
    assert len(frame) == 9 and frame["counts"].sum() == 4
    per = agreement(a, b, "code", per_code=True)
    table = per[list(STAT_VARIABLES)].to_dataframe()
    assert list(table.index) == CODES and list(table.columns) == list(STAT_VARIABLES)
    assert list(per.to_dataframe().index.names) == ["code", "coder_a", "coder_b"]


# ============================================================ alignment


def test_alignment_ignores_session_order():
    a = coding({"s1": ["a", "b"], "s2": ["c", "a", "b"]})
    b = coding({"s2": ["c", "b", "b"], "s1": ["a", "a"]})
    ds = agreement(a, b, "code")
    expected = Counter([("a", "a"), ("b", "a"), ("c", "c"), ("a", "b"), ("b", "b")])
    for (x, y), n in expected.items():
        assert int(ds.counts.sel(coder_a=x, coder_b=y)) == n


def test_missing_session_is_named():
    a = coding({"s1": ["a"], "s2": ["b"]})
    b = coding({"s1": ["a"], "s3": ["b"]})
    with pytest.raises(LagnestDataError) as err:
        agreement(a, b, "code")
    text = str(err.value)
    assert "session 's2' is coded by coder_a but not by coder_b" in text
    assert "session 's3' is coded by coder_b but not by coder_a" in text


def test_missing_segment_is_named():
    a = coding({"s1": ["a", "b", "a"]}, {"s1": [1, 2, 3]})
    b = coding({"s1": ["a", "b", "a"]}, {"s1": [1, 2, 4]})
    with pytest.raises(LagnestDataError) as err:
        agreement(a, b, "code")
    text = str(err.value)
    assert "session 's1', segment 3 is coded by coder_a" in text
    assert "session 's1', segment 4 is coded by coder_b" in text


def test_bad_arguments():
    a = coding({"s": ["a", "b"]})
    with pytest.raises(LagnestDataError, match="tolerance"):
        agreement(a, a, "code", tolerance=-1)
    with pytest.raises(LagnestDataError, match="tolerance"):
        agreement(a, a, "code", tolerance=1.5)
    with pytest.raises(LagnestDataError, match="reference"):
        agreement(a, a, "code", reference="c")
    with pytest.raises(LagnestDataError, match="uncoded"):
        agreement(a, a, "code", uncoded="drop")
    with pytest.raises(LagnestDataError, match="name the stream"):
        agreement(a, a)
    with pytest.raises(LagnestDataError, match="both be Sequences"):
        agreement(a, pd.DataFrame(), "code")
    with pytest.raises(LagnestDataError, match="unknown stream"):
        agreement(a, a, "nope")
    ind = Sequences.from_sequences({"code": [[0, 1]]})
    with pytest.raises(LagnestDataError, match="categorical in coder_a but indicator"):
        agreement(a, ind, "code")


# ============================================================ tolerance


def test_tolerance_by_hand():
    # session s1 (rows: coder A):
    #   unit  0 1 2 3 4 5 6 7
    #   A     a a b b c c a b
    #   B     a b b c c c a c
    # tolerance 0: agreements at 0 2 4 5 6 -> p_o 5/8.
    # tolerance 1, reference A: unit 1 (A a): B has a at unit 0 -> agreement on a;
    #   unit 3 (A b): B has b at unit 2 -> agreement on b; unit 7 (A b): B holds a, c at
    #   6-7 -> (b, c). Matrix aa 3, bb 2, bc 1, cc 2; rows a 3, b 3, c 2; columns a 3, b 2,
    #   c 3; p_e = (9 + 6 + 6)/64; kappa = (56 - 21)/(64 - 21) = 35/43.
    # reference B: unit 1 (B b): A has b at 2 -> bb; unit 3 (B c): A has c at 4 -> cc;
    #   unit 7 (B c): A holds a, b at 6-7 -> (b, c).
    # session s2 starts with B = b: a window must not reach from s1's unit 7 into it.
    a = coding({"s1": list("aabbccab"), "s2": list("cc")})
    b = coding({"s1": list("abbcccac"), "s2": list("bc")})
    s1 = {"s1": list("aabbccab")}
    plain = agreement(coding(s1), coding({"s1": list("abbcccac")}), "code")
    assert plain.attrs["p_o"] == pytest.approx(5 / 8)
    tol_a = agreement(coding(s1), coding({"s1": list("abbcccac")}), "code", tolerance=1)
    np.testing.assert_array_equal(tol_a.counts.values, [[3, 0, 0], [0, 2, 1], [0, 0, 2]])
    assert tol_a.attrs["kappa"] == pytest.approx(35 / 43)
    assert tol_a.attrs["p_o"] == pytest.approx(7 / 8)
    tol_b = agreement(coding(s1), coding({"s1": list("abbcccac")}), "code", tolerance=1,
                      reference="b")
    np.testing.assert_array_equal(tol_b.counts.values, [[2, 0, 0], [0, 2, 1], [0, 0, 3]])
    both = agreement(coding(s1), coding({"s1": list("abbcccac")}), "code", tolerance=1,
                     reference="both")
    np.testing.assert_allclose(both.counts.values, [[2.5, 0, 0], [0, 2, 1], [0, 0, 2.5]])
    assert both.attrs["n"] == 8
    # two sessions: s2 unit 0 (A c, B b) is rescued by B's c at unit 1; s1 unit 7 is not
    # rescued by s2's leading b.
    two = agreement(a, b, "code", tolerance=1)
    np.testing.assert_array_equal(two.counts.values, [[3, 0, 0], [0, 2, 1], [0, 0, 4]])
    # however wide the window, it stays inside its session
    a = coding({"s1": ["b"], "s2": ["a", "a"]})
    b = coding({"s1": ["c"], "s2": ["b", "b"]})
    wide = agreement(a, b, "code", tolerance=50, reference="both")
    np.testing.assert_array_equal(wide.counts.values, [[0, 2, 0], [0, 0, 1], [0, 0, 0]])


def test_tolerance_counts_segment_numbers_not_positions():
    # A gap of 10 segment numbers separates unit 2 from its only possible match.
    a = coding({"s": ["a", "b"]}, {"s": [1, 12]})
    b = coding({"s": ["b", "a"]}, {"s": [1, 12]})
    assert agreement(a, b, "code", tolerance=1).attrs["p_o"] == 0
    assert agreement(a, b, "code", tolerance=11).attrs["p_o"] == 1


def naive_tolerance_tally(a: dict, b: dict, tolerance: int, reference: str) -> Counter:
    """Loop over (session, segment) keys; ``a``/``b`` map keys to codes or None."""
    out: Counter = Counter()

    def holds(record, session, t, code):
        return any(record.get((session, u)) == code
                   for u in range(t - tolerance, t + tolerance + 1))

    sides = ("a", "b") if reference == "both" else (reference,)
    for (s, t), x in a.items():
        y = b[(s, t)]
        if x is None or y is None:
            continue
        for side in sides:
            w = 1 / len(sides)
            if side == "a":
                out[(x, x) if holds(b, s, t, x) else (x, y)] += w
            else:
                out[(y, y) if holds(a, s, t, y) else (x, y)] += w
    return out


@st.composite
def two_codings(draw):
    """Two codings of the same sessions (gaps in segment numbers, uncoded segments)."""
    sessions, numbers, codes_b = {}, {}, {}
    for s in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 12))
        numbers[f"s{s}"] = sorted(draw(st.sets(st.integers(1, 25), min_size=n, max_size=n)))
        sessions[f"s{s}"] = draw(st.lists(st.sampled_from([*CODES, None]), min_size=n,
                                          max_size=n))
        codes_b[f"s{s}"] = draw(st.lists(st.sampled_from([*CODES, None]), min_size=n,
                                         max_size=n))
    first = next(iter(sessions))
    sessions[first][0] = codes_b[first][0] = "a"
    return sessions, codes_b, numbers


@settings(max_examples=60)
@given(two_codings(), st.integers(0, 4), st.sampled_from(["a", "b", "both"]))
def test_tolerance_equals_naive_loops(data, tolerance, reference):
    sa, sb, numbers = data
    ds = agreement(coding(sa, numbers), coding(sb, numbers), "code", tolerance=tolerance,
                   reference=reference)
    flat = {who: {(s, t): v for s in src for t, v in zip(numbers[s], src[s], strict=True)}
            for who, src in (("a", sa), ("b", sb))}
    expected = naive_tolerance_tally(flat["a"], flat["b"], tolerance, reference)
    for x in CODES:
        for y in CODES:
            assert float(ds.counts.sel(coder_a=x, coder_b=y)) == pytest.approx(
                expected.get((x, y), 0.0))


@settings(max_examples=40)
@given(two_codings(), st.sampled_from(["a", "b", "both"]), st.booleans())
def test_tolerance_properties(data, reference, category):
    sa, sb, numbers = data
    a, b = coding(sa, numbers), coding(sb, numbers)
    uncoded = "category" if category else "exclude"
    plain = agreement(a, b, "code", uncoded=uncoded)
    previous = -1.0
    for tolerance in range(0, 5):
        ds = agreement(a, b, "code", tolerance=tolerance, reference=reference,
                       uncoded=uncoded)
        if tolerance == 0:  # tolerance 0 is plain time-unit kappa, whatever the reference
            np.testing.assert_array_equal(ds.counts.values, plain.counts.values)
            for name in STAT_VARIABLES:
                np.testing.assert_equal(ds.attrs[name], plain.attrs[name])
        assert ds.attrs["p_o"] >= previous - 1e-12  # monotone in the tolerance
        assert ds.attrs["n"] == plain.attrs["n"]
        previous = ds.attrs["p_o"]
    # swapping the coders transposes the matrix and swaps the reference
    swap = {"a": "b", "b": "a", "both": "both"}[reference]
    forward = agreement(a, b, "code", tolerance=2, reference=reference, uncoded=uncoded)
    backward = agreement(b, a, "code", tolerance=2, reference=swap, uncoded=uncoded)
    np.testing.assert_allclose(forward.counts.values, backward.counts.values.T)


@settings(max_examples=30)
@given(st.integers(1, 30).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(0, 1), min_size=2, max_size=2), min_size=n, max_size=n),
    st.lists(st.lists(st.integers(0, 1), min_size=2, max_size=2), min_size=n, max_size=n))))
def test_indicator_tolerance_monotone_and_plain_at_zero(pair):
    xa, xb = (np.asarray(x) for x in pair)
    a = Sequences.from_sequences({"m1": [list(xa[:, 0])], "m2": [list(xa[:, 1])]})
    b = Sequences.from_sequences({"m1": [list(xb[:, 0])], "m2": [list(xb[:, 1])]})
    previous = np.full(2, -1.0)
    for tolerance in range(4):
        per = agreement(a, b, ["m1", "m2"], per_code=True, tolerance=tolerance)
        if tolerance == 0:
            for p, name in enumerate(["m1", "m2"]):
                two = np.zeros((2, 2))
                np.add.at(two, (xa[:, p], xb[:, p]), 1)
                np.testing.assert_array_equal(per.counts.sel(code=name).values, two)
        assert np.all(per.p_o.values >= previous - 1e-12)
        previous = per.p_o.values


# ============================================================ timed events


def events(rows):
    return pd.DataFrame(rows, columns=["session", "code", "onset", "offset"])


def test_events_to_time_units_by_hand():
    # unit 1 s: A x 0-2.4 (midpoints 0.5, 1.5), y 2.4-5 (2.5, 3.5, 4.5) -> x x y y y;
    # B x 0-3, y 3-4.5, then nothing -> x x x y (4.5 is not covered: 4-5 uncoded).
    a = events([("s", "x", 0, 2.4), ("s", "y", 2.4, 5)])
    b = events([("s", "x", 0, 3), ("s", "y", 3, 4.5)])
    ds = agreement(a, b)
    np.testing.assert_array_equal(ds.counts.values, [[2, 0], [1, 1]])
    assert ds.attrs["n_units"] == 5 and ds.attrs["n_excluded"] == 1
    assert ds.attrs["unit"] == 1.0
    # unit 2 (B's y at 3 s is A's y within 1 unit)
    tol = agreement(a, b, tolerance=1)
    np.testing.assert_array_equal(tol.counts.values, [[2, 0], [0, 2]])
    cat = agreement(a, b, uncoded="category")
    assert list(cat.coder_b.values) == ["x", "y", UNCODED_LABEL]
    assert int(cat.counts.sel(coder_a="y", coder_b=UNCODED_LABEL)) == 1


def test_events_equal_the_same_units_as_sequences():
    a = events([("s1", "x", 0, 3), ("s1", "y", 3, 6), ("s2", "y", 1, 4)])
    b = events([("s1", "x", 0, 2), ("s1", "y", 2, 6), ("s2", "x", 0, 2), ("s2", "y", 2, 4)])
    units_a = {"s1": list("xxxyyy"), "s2": [None, "y", "y", "y"]}
    units_b = {"s1": list("xxyyyy"), "s2": list("xxyy")}
    for tolerance in (0, 1, 2):
        from_events = agreement(a, b, tolerance=tolerance, uncoded="category")
        from_units = agreement(coding(units_a, codes=["x", "y"]),
                               coding(units_b, codes=["x", "y"]), "code",
                               tolerance=tolerance, uncoded="category")
        np.testing.assert_array_equal(from_events.counts.values, from_units.counts.values)


def test_events_stream_column_and_unit():
    a = events([("s", "x", 0, 1), ("s", "y", 1, 2)]).assign(stream=["p", "p"])
    extra = pd.DataFrame([{"session": "s", "code": "q", "onset": 0, "offset": 2,
                           "stream": "t"}])
    a = pd.concat([a, extra], ignore_index=True)
    b = a.copy()
    with pytest.raises(LagnestDataError, match="name one as `stream`"):
        agreement(a, b)
    ds = agreement(a, b, "p", unit=0.5)
    assert ds.attrs["n_units"] == 4 and ds.attrs["kappa"] == 1.0
    assert list(ds.coder_a.values) == ["x", "y"]


def test_event_errors_are_located():
    good = events([("s", "x", 0, 2)])
    with pytest.raises(LagnestDataError) as err:
        agreement(good, events([("s", "x", 0, 2), ("s", "y", 3, 3)]))
    assert "row 2, column 'offset'" in str(err.value) and "coder_b" in str(err.value)
    with pytest.raises(LagnestDataError) as err:
        agreement(events([("s", "x", 0, 2), ("s", "y", "soon", 4)]), good)
    assert "row 2, column 'onset'" in str(err.value) and "coder_a" in str(err.value)
    with pytest.raises(LagnestDataError, match="overlapping states in session 's'"):
        agreement(events([("s", "x", 0, 2), ("s", "y", 1, 3)]), good)
    with pytest.raises(LagnestDataError, match="covers no time-unit midpoint"):
        agreement(events([("s", "x", 0, 2), ("s", "y", 2.6, 3.4)]), good)
    with pytest.raises(LagnestDataError, match="session 't' is coded by coder_b"):
        agreement(good, events([("s", "x", 0, 2), ("t", "x", 0, 2)]))
    with pytest.raises(LagnestDataError, match="no column 'offset'"):
        agreement(good, good.drop(columns="offset"))
    with pytest.raises(LagnestDataError, match="time unit"):
        agreement(good, good, unit=0)


def test_example_corpus_against_itself_and_a_perturbed_copy():
    seqs = datasets.load_example()
    for name, info in seqs.streams.items():
        ds = agreement(seqs, seqs, name, per_code=info.kind == "indicator")
        kappa = ds.kappa.values if "kappa" in ds else np.array([ds.attrs["kappa"]])
        # a code nobody used has p_e = 1 and an undefined kappa; every other kappa is 1
        assert np.all(np.isclose(kappa, 1) | np.isnan(kappa)), name
    # a second coder who moves every 10th coded segment of `rupture` to the next code
    values, labels = seqs.categorical("rupture")
    values = np.asarray(values)
    changed = values.copy()
    picks = np.flatnonzero(changed >= 0)[::10]
    changed[picks] = (changed[picks] + 1) % len(labels)
    table = np.zeros((len(labels), len(labels)))
    ok = values >= 0
    np.add.at(table, (values[ok], changed[ok]), 1)
    cuts = np.cumsum(np.diff(seqs.encoded.session_offsets))[:-1]

    def as_coding(v):
        lists = [[labels[x] if x >= 0 else None for x in s] for s in np.split(v, cuts)]
        return Sequences.from_sequences({"r": lists}, sessions=list(seqs.session_labels),
                                        codes={"r": list(labels)})

    ds = agreement(as_coding(values), as_coding(changed), "r")
    np.testing.assert_array_equal(ds.counts.values, table)
    assert ds.attrs["kappa"] == pytest.approx(_statsmodels(table)[0])
    assert ds.attrs["kappa"] < 1
