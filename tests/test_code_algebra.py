"""Code algebra (issue 21, item 4): the parser, every operator, chain, uncoded, errors, uses."""

from __future__ import annotations

import ast
import builtins
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lagnest as ln
from lagnest.classical.lagtable import lag_table
from lagnest.data import algebra
from lagnest.data.algebra import evaluate, parse, to_text
from lagnest.errors import LagnestDataError

# ------------------------------------------------------------------ parser


@pytest.mark.parametrize(("text", "tree"), [
    ("a or b and c", "(a or (b and c))"),
    ("a and b or c", "((a and b) or c)"),
    ("not a and b", "((not a) and b)"),
    ("not a or not b and c", "((not a) or ((not b) and c))"),
    ("not (a or b)", "(not (a or b))"),
    ("(a or b) and c", "((a or b) and c)"),
    ("a and (b or c) and not not d", "(a and (b or c) and (not (not d)))"),
    ("a or b or c", "(a or b or c)"),
    ("((a))", "a"),
    ("lump(a, b, c) and not d", "((a or b or c) and (not d))"),
    ("lump(a)", "a"),
    ("chain(a, b)", "chain(a, b, within=1)"),
    ("chain(a or b, not c, within=2)", "chain((a or b), (not c), within=2)"),
    ("rupture=withdrawal or t_vocal:silent", "(rupture:withdrawal or t_vocal:silent)"),
    ("'or' and \"two words\"", "('or' and 'two words')"),
    ("MIA2 and not MIA4", "(MIA2 and (not MIA4))"),
])
def test_precedence_and_parentheses(text, tree):
    assert to_text(parse(text)) == tree


def test_tree_nodes_and_positions():
    node = parse("MIA2 and not MIA4")
    assert node == algebra.And((algebra.Name("MIA2", 1), algebra.Not(algebra.Name("MIA4", 14),
                                                                       10)), 1)
    assert [n.name for n in algebra.names(parse("chain(a, b or c) and a"))] == ["a", "b", "c",
                                                                               "a"]


# ------------------------------------------------------------------ operators on arrays

A = np.array([1, 1, 0, 0, -1, 1, -1, 0], dtype=np.int8)
B = np.array([1, 0, 1, 0, 1, -1, -1, -1], dtype=np.int8)
C = np.array([0, 1, 1, 1, 0, 0, 0, 0], dtype=np.int8)
ONE_BLOCK = np.array([0, 8])


def run(text, offsets=ONE_BLOCK, **arrays):
    env = {"a": A, "b": B, "c": C, **arrays}
    return evaluate(parse(text), lambda name: env[name.name], offsets).tolist()


@pytest.mark.parametrize(("text", "expected"), [
    ("a", [1, 1, 0, 0, -1, 1, -1, 0]),
    ("not a", [0, 0, 1, 1, -1, 0, -1, 1]),
    ("a and b", [1, 0, 0, 0, -1, -1, -1, -1]),
    ("a or b", [1, 1, 1, 0, -1, -1, -1, -1]),
    ("a and c", [0, 1, 0, 0, -1, 0, -1, 0]),
    ("a or c", [1, 1, 1, 1, -1, 1, -1, 0]),
    ("lump(a, c)", [1, 1, 1, 1, -1, 1, -1, 0]),
    ("a and not c", [1, 0, 0, 0, -1, 1, -1, 0]),
    ("not (a or c)", [0, 0, 0, 0, -1, 0, -1, 1]),
    ("c or a and not c", [1, 1, 1, 1, -1, 1, -1, 0]),
])
def test_each_operator_by_hand(text, expected):
    # the uncoded rule: -1 wherever any operand read at the segment is -1
    assert run(text) == expected


def test_chain_within_1_and_2_by_hand():
    w = np.array([1, 0, 0, 1, 0, 0, 0, 1], dtype=np.int8)
    c = np.array([0, 1, 1, 0, 0, 1, 1, 0], dtype=np.int8)
    # within=1: c at t right after w at t-1
    assert run("chain(w, c)", w=w, c=c) == [0, 1, 0, 0, 0, 0, 0, 0]
    assert run("chain(w, c, within=1)", w=w, c=c) == [0, 1, 0, 0, 0, 0, 0, 0]
    # within=2: w at t-1 or t-2
    assert run("chain(w, c, within=2)", w=w, c=c) == [0, 1, 1, 0, 0, 1, 0, 0]
    assert run("chain(w, c, within=3)", w=w, c=c) == [0, 1, 1, 0, 0, 1, 1, 0]
    # the same segment is not "followed by"
    assert run("chain(w, w, within=1)", w=w) == [0, 0, 0, 0, 0, 0, 0, 0]


def test_chain_never_crosses_a_block():
    w = np.array([1, 0, 1, 1, 0, 1, 0, 0], dtype=np.int8)
    c = np.array([0, 1, 1, 1, 1, 1, 1, 1], dtype=np.int8)
    # blocks [0, 3), [3, 5), [5, 8): a session or a break starts at 3 and at 5
    blocks = np.array([0, 3, 5, 8])
    assert run("chain(w, c, within=1)", blocks, w=w, c=c) == [0, 1, 0, 0, 1, 0, 1, 0]
    assert run("chain(w, c, within=2)", blocks, w=w, c=c) == [0, 1, 1, 0, 1, 0, 1, 1]
    assert run("chain(w, c, within=2)", ONE_BLOCK, w=w, c=c) == [0, 1, 1, 1, 1, 1, 1, 1]


def test_chain_uncoded_rule():
    w = np.array([1, -1, 0, 0, 1, 0], dtype=np.int8)
    c = np.array([0, 1, 1, 1, -1, 1], dtype=np.int8)
    # t=1 reads w[0]=1 (and c[1]); t=2 reads w[1]=-1 -> -1; t=3 reads w[1], w[2] -> -1
    # t=4: c uncoded -> -1; t=5 reads w[3], w[4]=1 -> 1
    assert run("chain(w, c, within=2)", np.array([0, 6]), w=w, c=c) == [0, 1, -1, -1, -1, 1]
    # across a block start nothing is read: t=2 starts a block, so w[1] is not read there
    assert run("chain(w, c, within=2)", np.array([0, 2, 6]), w=w, c=c) == [0, 1, 0, 0, -1, 1]


def brute_chain(first, then, within, offsets):
    out = []
    block = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    for t in range(len(then)):
        window = [s for s in range(max(t - within, 0), t) if block[s] == block[t]]
        if then[t] < 0 or any(first[s] < 0 for s in window):
            out.append(-1)
        else:
            out.append(int(then[t] == 1 and any(first[s] == 1 for s in window)))
    return out


codes = st.sampled_from([-1, 0, 1, 0, 1])


@st.composite
def arrays_and_blocks(draw):
    n = draw(st.integers(1, 30))
    a = np.array(draw(st.lists(codes, min_size=n, max_size=n)), dtype=np.int8)
    b = np.array(draw(st.lists(codes, min_size=n, max_size=n)), dtype=np.int8)
    starts = draw(st.sets(st.integers(1, n - 1), max_size=n - 1)) if n > 1 else set()
    offsets = np.array([0, *sorted(starts), n])
    return a, b, offsets


@settings(max_examples=200, deadline=None)
@given(arrays_and_blocks(), st.integers(1, 6))
def test_chain_equals_a_brute_force_scan(data, within):
    a, b, offsets = data
    got = run(f"chain(a, b, within={within})", offsets, a=a, b=b)
    assert got == brute_chain(a, b, within, offsets)


@settings(max_examples=200, deadline=None)
@given(arrays_and_blocks())
def test_de_morgan_and_idempotence(data):
    a, b, offsets = data
    env = {"a": a, "b": b}
    for left, right in [("a and b", "not (not a or not b)"),
                        ("a or b", "not (not a and not b)"),
                        ("a or a", "a"), ("a and a", "a"), ("not not a", "a"),
                        ("a and b", "b and a"), ("lump(a, b)", "a or b"),
                        ("a and (b or a)", "a and (a or b)")]:
        assert run(left, offsets, **env) == run(right, offsets, **env), (left, right)


@settings(max_examples=100, deadline=None)
@given(arrays_and_blocks())
def test_uncoded_exactly_where_an_operand_is(data):
    a, b, offsets = data
    got = np.array(run("a and not b or b", offsets, a=a, b=b))
    np.testing.assert_array_equal(got < 0, (a < 0) | (b < 0))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(("text", "message"), [
    ("MIA2 and (not MIA4", "expected ')' at position 19 of 'MIA2 and (not MIA4', found the "
                           "end (the '(' at position 10 is not closed)"),
    ("a or", "expected a code name, 'not' or '(' at position 5 of 'a or'"),
    ("a b", "expected 'and', 'or' or the end at position 3 of 'a b', found 'b'"),
    ("(a))", "at position 4 of '(a))', found ')' (no '(' is open)"),
    ("a & b", "unexpected character '&' at position 3 of 'a & b'"),
    ("a and 'b", "unterminated quoted name at position 7"),
    ("chain(a)", "expected ',' and the code that follows in chain( at position 8"),
    ("chain(a, b, 2)", "expected 'within=' in chain( at position 13"),
    ("chain(a, b, within=0)", "after 'within=' at position 20"),
    ("chain(a, b, within=x)", "after 'within=' at position 20"),
    ("chain(a, b", "expected ', within=k' or ')' to close chain( at position 11"),
    ("not", "expected a code name, 'not' or '(' at position 4 of 'not', found the end"),
    ("and a", "expected a code name, 'not' or '(' at position 1"),
    ("x=", "expected a code of stream 'x' after '=' at position 3"),
    ("foo(a)", "unknown function 'foo' at position 1"),
])
def test_parse_errors_name_the_position(text, message):
    with pytest.raises(LagnestDataError) as err:
        parse(text)
    assert message in str(err.value)


@pytest.fixture
def no_eval(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval, exec or compile was called")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)


@pytest.mark.parametrize("text", [
    "__import__('os')",
    "__import__('os').system('true')",
    "open('/etc/passwd')",
    "[x for x in a]",
    "lambda: 1",
    "a; b",
    "a\nimport os",
    "1 + 1",
    "a or b if c else d",
])
def test_no_eval_python_is_a_parse_error(no_eval, text):
    with pytest.raises(LagnestDataError, match="at position"):
        parse(text)


def test_no_eval_in_the_module():
    tree = ast.parse(Path(algebra.__file__).read_text(encoding="utf-8"))
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__", "getattr"}


def test_no_eval_a_dotted_word_is_only_a_code_name(no_eval):
    assert parse("a.__class__") == algebra.Name("a.__class__", 1)


def test_a_dotted_word_is_an_unknown_code():
    with pytest.raises(LagnestDataError) as err:
        corpus().with_codes({"q": "a.__class__"})
    assert "'a.__class__' at position 1 of 'a.__class__' is not a known code" in str(err.value)


def test_hostile_sizes_get_located_errors():
    with pytest.raises(LagnestDataError, match="nesting deeper than 100 levels at position 101"):
        parse("(" * 4000 + "a" + ")" * 4000)
    with pytest.raises(LagnestDataError, match="nesting deeper"):
        parse("not " * 2000 + "a")
    with pytest.raises(LagnestDataError, match="at most 10000"):
        parse("a or " * 3000 + "a")
    with pytest.raises(LagnestDataError, match=r"position 1501 of the 1501-character"):
        parse("a or " * 300 + "&")
    with pytest.raises(LagnestDataError, match="empty code expression"):
        parse("   ")
    with pytest.raises(LagnestDataError, match="must be a string"):
        parse(None)
    with pytest.raises(LagnestDataError, match="after 'within='"):
        parse("chain(a, b, within=" + "9" * 5000 + ")")


# ------------------------------------------------------------------ on a Sequences


def corpus():
    """Two sessions; session s1 has a break before its 5th segment (index 4)."""
    return ln.Sequences.from_sequences(
        {
            "rupture": [["none", "withdrawal", "confrontation", "withdrawal", "confrontation",
                         None, "withdrawal"],
                        ["confrontation", "withdrawal", "none", "confrontation"]],
            "MIA2": [[1, 1, 0, 1, 0, 1, 1], [0, 1, 1, None]],
            "MIA4": [[0, 1, 1, 0, 0, 0, 1], [1, 0, 0, 0]],
            "p_vocal": [["silent", "verbal", "silent", "silent", "verbal", "verbal", "silent"],
                        ["verbal", "silent", "silent", "verbal"]],
            "t_vocal": [["verbal", "silent", "silent", "verbal", "silent", "verbal", "verbal"],
                        ["silent", "silent", "verbal", "verbal"]],
        },
        dyads=["d1", "d1"],
        breaks=[[4], []],
    )


def test_with_codes_values_by_hand():
    seqs = corpus()
    new = seqs.with_codes({
        "mia2_not4": "MIA2 and not MIA4",
        "w_then_c": "chain(withdrawal, confrontation, within=2)",
        "rupt": "lump(rupture:withdrawal, rupture=confrontation)",
        "quiet": "p_vocal:silent and t_vocal=silent",
        "mixed": "rupt and not mia2_not4",  # an earlier new code, by its bare name
        "mixed2": "derived:rupt and not derived=mia2_not4",
    })
    assert new.streams["derived"].kind == "indicator"
    assert new.streams["derived"].codes == ("mia2_not4", "w_then_c", "rupt", "quiet", "mixed",
                                            "mixed2")
    values = {c: new.categorical(c)[0].tolist() for c in new.streams["derived"].codes}
    #                       s1: 0  1  2  3 |brk 4  5  6     s2: 0  1  2  3
    assert values["mia2_not4"] == [1, 0, 0, 1, 0, 1, 0, 0, 1, 1, -1]
    # s1 t=6 reads withdrawal at t=5, uncoded: uncoded although confrontation is absent
    assert values["w_then_c"] == [0, 0, 1, 0, 0, -1, -1, 0, 0, 0, 1]
    assert values["rupt"] == [0, 1, 1, 1, 1, -1, 1, 1, 1, 0, 1]
    assert values["quiet"] == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    assert values["mixed"] == [0, 1, 1, 0, 1, -1, 1, 1, 0, 0, -1]
    assert values["mixed2"] == values["mixed"]
    # nothing else changed; the old object neither
    assert "derived" not in seqs.streams
    np.testing.assert_array_equal(new.categorical("rupture")[0], seqs.categorical("rupture")[0])
    # a second call adds to the stream
    more = new.with_codes({"again": "not rupt"})
    assert more.streams["derived"].codes[-1] == "again"
    assert more.categorical("again")[0].tolist() == [1, 0, 0, 0, 0, -1, 0, 0, 0, 1, 0]


def test_lag_table_of_a_derived_code_equals_counts_by_hand():
    new = corpus().with_codes({"w_then_c": "chain(withdrawal, confrontation, within=2)",
                               "mia2_not4": "MIA2 and not MIA4"})
    given_, target = new.categorical("w_then_c")[0], new.categorical("mia2_not4")[0]
    blocks = new.encoded.block_offsets
    expected = np.zeros((2, 2), dtype=np.int64)
    for lo, hi in itertools.pairwise(blocks):
        for t in range(lo, hi - 1):
            if given_[t] >= 0 and target[t + 1] >= 0:
                expected[given_[t], target[t + 1]] += 1
    ds = lag_table(new, "w_then_c", "mia2_not4", lag=1)
    np.testing.assert_array_equal(ds["counts"].values, expected)
    assert list(ds["given"].values) == ["not w_then_c", "w_then_c"]
    assert expected.sum() > 0 and expected[1].sum() > 0
    # and as a target of a categorical given
    ds = lag_table(new, "rupture", "derived:w_then_c", lag=1)
    assert int(ds["counts"].sum()) > 0


def test_permutation_test_takes_a_derived_code():
    new = corpus().with_codes({"rupt": "withdrawal or confrontation"})
    ds = ln.permutation_test(new, "rupt", "MIA4", n_perm=20, seed=1)
    assert "counts" in ds


def test_lagged_regression_builds_with_derived_codes():
    seqs = ln.datasets.load_example()
    seqs = seqs.subset(dyads=seqs.dyad_labels[:2])
    new = seqs.with_codes({"mia2_not4": "MIA2 and not MIA4",
                           "w_then_c": "chain(withdrawal, confrontation, within=2)",
                           "marker": "W1 or W2 or C1"})
    model = ln.LaggedRegression(new, "rupture", ["w_then_c", "mia2_not4", "marker"])
    assert {"w_then_c[t-1]", "mia2_not4[t-1]", "marker[t-1]"} <= set(model.coords["feature"])
    model.build()  # the graph is built, nothing is fitted
    target = ln.LaggedRegression(new, "marker", ["MIA4"])
    assert target.coords["category"] == ["marker"]


@pytest.mark.parametrize(("definitions", "message"), [
    ({"q": "withdrawal or nonsense"}, "new code 'q': 'nonsense' at position 15 of "
                                      "'withdrawal or nonsense' is not a known code; known "
                                      "codes: confrontation, none, withdrawal"),
    ({"q": "silent"}, "'silent' at position 1 of 'silent': code 'silent' is in several streams"),
    ({"q": "rupture"}, "is a whole categorical stream; name one of its codes (confrontation, "
                       "none, withdrawal), or lump several"),
    ({"q": "MIA2 and (not MIA4"}, "new code 'q': expected ')' at position 19 of "
                                  "'MIA2 and (not MIA4'"),
    ({"q": "__import__('os')"}, "new code 'q': unknown function '__import__' at position 1"),
    ({"MIA2": "MIA4"}, "new code name 'MIA2' names a stream or code already"),
    ({"or": "MIA4"}, "new code name 'or': expected one word"),
    ({"two words": "MIA4"}, "new code name 'two words'"),
    ({"a:b": "MIA4"}, "new code name 'a:b'"),
    ({"q": 3}, "must be a string"),
    ({}, "non-empty mapping"),
])
def test_with_codes_errors(definitions, message):
    with pytest.raises(LagnestDataError) as err:
        corpus().with_codes(definitions)
    assert message in str(err.value)


def test_with_codes_stream_argument():
    seqs = corpus()
    assert "mine" in seqs.with_codes({"q": "MIA2"}, stream="mine").streams
    with pytest.raises(LagnestDataError, match="is a categorical stream"):
        seqs.with_codes({"q": "MIA2"}, stream="rupture")
    with pytest.raises(LagnestDataError, match="is a code already"):
        seqs.with_codes({"q": "MIA2"}, stream="withdrawal")
    with pytest.raises(LagnestDataError, match="one word"):
        seqs.with_codes({"q": "MIA2"}, stream="a b")


def test_cli_table_with_a_code_made_from_codes(capsys):
    from lagnest.cli import main

    argv = ["table", "--given", "w_then_c", "--target", "mia2_not4",
            "--code", "w_then_c=chain(withdrawal, confrontation, within=2)",
            "--code", "mia2_not4=MIA2 and not MIA4", "--json"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    seqs = ln.datasets.load_example().with_codes(
        {"w_then_c": "chain(withdrawal, confrontation, within=2)",
         "mia2_not4": "MIA2 and not MIA4"})
    counts = lag_table(seqs, "w_then_c", "mia2_not4")["counts"].values
    assert str(int(counts[1, 1])) in out and "w_then_c" in out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--code", "x=MIA2 and (MIA4"], "expected ')' at position 15 of 'MIA2 and (MIA4'"),
    (["--code", "MIA2 or MIA4"], "--code 'MIA2 or MIA4' is malformed"),
    (["--code", "x=MIA2", "--code", "x=MIA4"], "--code 'x' is given twice"),
])
def test_cli_bad_code_is_one_line(capsys, argv, fragment):
    from .cli_helpers import fails

    fails(capsys, ["table", "--given", "MIA4", "--target", "rupture", *argv], fragment)
