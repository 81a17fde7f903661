"""The classical analyses on the command line: timed, dominance, stationarity, agreement.

Each command is checked twice: its ``--json`` equals the library call it wraps, and at
least one printed number equals a value found without lagnest (a hand tally, a formula
written out here, or a published value of another program).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import lagnest as ln
from lagnest.classical.dominance import dominance_test
from lagnest.classical.multirater import coder_agreement
from lagnest.classical.stationarity import stationarity_test
from lagnest.classical.timed import timed_permutation_test, timed_table
from tests.cli_helpers import fails, run
from tests.test_dominance import LABELS, WAMPOLD_1984
from tests.test_stationarity import SEQGROUPS, SEQGROUPS_G2

DATA = Path(__file__).parent / "data"
#: docs/timed_events.md's worked example as an SDIS Timed file: one session of 10 s,
#: A from 0 to 2 s and 5 to 6 s, B from 2 to 4 s and 6 to 9 s.
WORKED = "Timed ($c = A B);\n<s1> A,0-2 B,2-4 A,5-6 B,6-9 ,10 /\n"


def _json_out(capsys, argv: list[str]) -> dict:
    """Run ``argv`` (with ``--json``) and parse what it printed."""
    assert run([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _text_out(capsys, argv: list[str]) -> str:
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100, out
    return out


def _same(data: dict, ds) -> None:
    """The JSON of a Dataset holds the Dataset's values and scalar attrs (inf, NaN: null)."""
    assert data["dims"] == {str(k): int(v) for k, v in ds.sizes.items()}
    for name, var in ds.data_vars.items():
        got = np.array(data["variables"][name]["values"], dtype=float)
        want = var.values.astype(float)
        want[~np.isfinite(want)] = np.nan
        np.testing.assert_allclose(got, want, equal_nan=True, err_msg=name)
    for name, value in ds.attrs.items():
        if isinstance(value, float) and not math.isfinite(value):
            assert data["attrs"][name] is None
        elif isinstance(value, int | float | str):
            assert data["attrs"][name] == pytest.approx(value) if isinstance(value, float) \
                else data["attrs"][name] == value, name


# --------------------------------------------------------------------------- timed
@pytest.fixture
def worked(tmp_path) -> Path:
    path = tmp_path / "worked.sds"
    path.write_text(WORKED)
    return path


@pytest.mark.parametrize(("options", "table"), [
    # the hand tallies of docs/timed_events.md, "A worked example, checked by hand"
    ([], [[2, 5], [3, 0]]),
    (["--lag-seconds", "1"], [[3, 3], [1, 2]]),
    (["--window", "(A+1, (A+2"], [[4, 2], [1, 3]]),
    (["--window", "(A, A)+1"], [[2, 3], [3, 2]]),
    (["--window-seconds", "2"], [[5, 4], [1, 3]]),
    (["--window", "(A+1, (A+2", "--target-onsets"], [[6, 0], [2, 2]]),
])
def test_timed_tallies_the_worked_example_by_hand(capsys, worked, options, table):
    argv = ["timed", str(worked), "--given", "A", "--target", "B", *options]
    data = _json_out(capsys, argv)
    assert data["variables"]["counts"]["values"] == table
    window = options[options.index("--window") + 1] if "--window" in options else None
    seconds = {"lag_seconds": None, "window_seconds": None}
    for flag, key in (("--lag-seconds", "lag_seconds"), ("--window-seconds", "window_seconds")):
        if flag in options:
            seconds[key] = float(options[options.index(flag) + 1])
    events = ln.read_sdis(worked, as_events=True)
    _same(data, timed_table(events, "A", "B", window=window,
                            target_onsets="--target-onsets" in options, **seconds))


def test_timed_prints_the_table_and_its_units(capsys, worked):
    out = _text_out(capsys, ["timed", str(worked), "--given", "A", "--target", "B",
                             "--window", "(A+1, (A+2"])
    # (W, B) = 3 of 10 units; adjusted residual 1/sqrt(0.6) = 1.291 (docs/timed_events.md)
    assert "N = 10" in out and "3 (1.29)" in out
    assert "time units of 1 s; lag 0 s; given: the window (A+1, (A+2 of A" in out


def test_timed_reads_an_sdis_timed_file_by_hand(capsys):
    # timed_sets.sds: T 0-10 and 25-30, pos 5-12 in a session of 30 s. Units of 1 s: T holds
    # 15 units (0-9, 25-29), pos 7 (5-11); both: 5-9 = 5; pos without T: 10, 11 = 2.
    data = _json_out(capsys, ["timed", str(DATA / "timed_sets.sds"), "--given", "T",
                              "--target", "pos"])
    assert data["variables"]["counts"]["values"] == [[13, 2], [10, 5]]
    assert data["attrs"]["N"] == 30


def test_timed_reads_boris_exports_and_tables_by_session(capsys):
    events = ln.read_boris(DATA / "boris_aggregated.tsv", as_events=True)
    want = timed_table(events, "therapist_talk", "patient_talk", lag_seconds=2, by="session")
    for name in ("boris_aggregated.tsv", "boris_tabular.csv"):
        data = _json_out(capsys, ["timed", str(DATA / name), "--given", "therapist_talk",
                                  "--target", "patient_talk", "--lag-seconds", "2",
                                  "--by", "session"])
        _same(data, want)
    assert data["coords"]["unit"] == ["sess1", "sess2", "pooled"]


def test_timed_permutation_test(capsys, tmp_path):
    # B always begins in the unit after A's offset unit: no shuffle of B's events puts B
    # there as often, so p = 1 / (1 + n_perm) (as in tests/test_timed_events.py)
    events, t = [], 0
    for k in range(40):  # A for 1-3 s, then B for 1-3 s, then a gap of 3-15 s
        a, b, gap = 1 + k % 3, 1 + 2 * k % 3, 3 + 7 * k % 13
        events += [f"A,{t}-{t + a}", f"B,{t + a}-{t + a + b}"]
        t += a + b + gap
    path = tmp_path / "linked.sds"
    path.write_text(f"Timed ($c = A B);\n<s> {' '.join(events)} ,{t} /\n")
    argv = ["timed", str(path), "--given", "A", "--target", "B", "--window", "A)+1",
            "--permutations", "199", "--seed", "3", "--alternative", "greater"]
    data = _json_out(capsys, argv)
    assert data["attrs"]["p_perm_X2"] == pytest.approx(1 / 200)
    assert data["variables"]["p_perm_adj_resid"]["values"][1][1] == pytest.approx(1 / 200)
    want = timed_permutation_test(ln.read_sdis(path, as_events=True), "A", "B",
                                  window="A)+1", n_perm=199, seed=3, alternative="greater")
    _same(data, want)
    out = _text_out(capsys, argv)
    assert "permutation test (199 shuffles, seed 3;" in out and "p(X2) = 0.0050" in out
    assert "permutation p of each cell's adjusted residual (greater):" in out


def test_bad_input_of_timed(capsys, worked, tmp_path):
    base = ["timed", str(worked), "--given", "A", "--target", "B"]
    cases = [
        (["timed", str(tmp_path / "none.sds"), "--given", "A", "--target", "B"],
         "none.sds: No such file or directory"),
        (["timed", str(DATA / "event_table.csv"), "--given", "a", "--target", "b"],
         "holds no timed events"),
        (["timed", str(DATA / "event.sds"), "--given", "a", "--target", "b"],
         "as_events needs timed data"),
        (["timed", str(worked), "--given", "C", "--target", "B"], "unknown stream or code 'C'"),
        ([*base, "--window", "(A+1,, (A+5"], "a window has at most two points"),
        ([*base, "--window", "[A+1"], "bad window point '[A+1'"),
        ([*base, "--window", "(A+x"], "bad window shift '+x'"),
        # the library's parameter names come back as the options the user typed
        ([*base, "--lag-seconds", "0.5"], "--lag-seconds is not a whole number of time units"),
        ([*base, "--lag-seconds", "1", "--window-seconds", "2"], "not both"),
        ([*base, "--lag-seconds", "20"], "no lag pairs: N = 0"),
        ([*base, "--resolution", "fast"], "expected seconds, got 'fast'"),
        ([*base, "--permutations", "9", "--by", "session"], "leave out --by or --permutations"),
        ([*base, "--permutations", "-1"], "expected an integer >= 0"),
    ]
    for argv, fragment in cases:
        line = fails(capsys, argv, fragment)
        assert "lag_seconds" not in line and "window_seconds" not in line, line


# --------------------------------------------------------------------------- dominance
@pytest.fixture
def couple(tmp_path) -> Path:
    """LagSequential's data_Wampold_1984 as a long table (stream ``act``)."""
    seqs = ln.Sequences.from_sequences({"act": [[LABELS[int(c) - 1] for c in WAMPOLD_1984]]},
                                       codes={"act": LABELS})
    path = tmp_path / "couple.csv"
    ln.write_table(seqs, path)
    return path


def test_dominance_equals_lagsequential(capsys, couple):
    # nonparadom(data_Wampold_1984, i = 6, j = 1, k = 3, L = 4): kappa 0.628571428571,
    # z 2.4847741475, p 0.00648168250741 (R 4.2.2; tests/test_dominance.py)
    argv = ["dominance", str(couple), "--kind", "nonparallel", "--a", "WNeg", "HPos",
            "--b", "HNeg", "WPos"]
    data = _json_out(capsys, argv)
    got = [data["attrs"][k] for k in ("case", "kappa", "z", "p")]
    np.testing.assert_allclose(got, [1, 0.628571428571, 2.4847741475, 0.00648168250741],
                               rtol=1e-9)
    seqs = ln.read_table(couple)
    _same(data, dominance_test(seqs, ("WNeg", "HPos"), ("HNeg", "WPos"), kind="nonparallel"))
    out = _text_out(capsys, argv)
    assert "case 1: WNeg increases HPos and HNeg increases WPos" in out
    assert "kappa = 0.629, z = 2.485, p = 0.0065" in out
    # paradom's example prints HNeu -> HPos: case 4, kappa 0.75, z -2.58 (rounded)
    out = _text_out(capsys, ["dominance", str(couple), "--a", "HNeu", "--b", "HPos"])
    assert "case 4: HNeu decreases HPos and HPos increases HNeu" in out
    assert "kappa = 0.750, z = -2.579" in out


def test_dominance_by_dyad_on_the_example(capsys):
    argv = ["dominance", "--a", "withdrawal", "--b", "confrontation", "--by", "dyad",
            "--tails", "2"]
    data = _json_out(capsys, argv)
    want = dominance_test(ln.datasets.load_example(), "withdrawal", "confrontation",
                          by="dyad", tails=2)
    _same(data, want)
    out = _text_out(capsys, argv)
    assert "(p two-tailed)" in out and "D6" in out


def test_bad_input_of_dominance(capsys, couple):
    cases = [
        (["dominance", "--a", "withdrawal", "--b", "MIA4"], "'MIA4' names an indicator"),
        (["dominance", "--a", "withdrawal", "--b", "nothing"], "unknown stream or code"),
        (["dominance", "--a", "withdrawal", "none", "--b", "confrontation"],
         "parallel dominance compares two codes"),
        (["dominance", "--kind", "nonparallel", "--a", "withdrawal", "--b", "none"],
         "a must be a (given, target) pair of codes"),
        (["dominance", "--a", "withdrawal", "--b", "none", "--tails", "3"], "invalid choice"),
        (["dominance", str(couple.with_name("none.csv")), "--a", "HPos", "--b", "WPos"],
         "none.csv: No such file or directory"),
    ]
    for argv, fragment in cases:
        fails(capsys, argv, fragment)


# --------------------------------------------------------------------------- stationarity
def test_stationarity_by_hand(capsys, tmp_path):
    # two sessions "aabbaabb" + "abababab"; halves by the given segment's position
    seqs = ln.Sequences.from_sequences({"code": [list("aabbaabbabababab")] * 2})
    path = tmp_path / "halves.csv"
    ln.write_table(seqs, path)
    argv = ["stationarity", str(path), "--given", "code", "--target", "code"]
    data = _json_out(capsys, argv)
    # pairs of the first half (both sessions): a->a 4, a->b 4, b->a 4, b->b 4; of the
    # second: a->b 8, b->a 6. G2 = 2 sum x ln(p_part / p_pooled), df = 2 (one per row)
    parts = np.array([[[4, 4], [4, 4]], [[0, 8], [6, 0]]], dtype=float)
    assert data["variables"]["counts"]["values"] == parts.astype(int).tolist()
    pooled = parts.sum(0)
    part_p = parts / parts.sum(-1, keepdims=True)
    pooled_p = pooled / pooled.sum(-1, keepdims=True)
    cells = parts > 0
    g2 = 2 * np.sum(parts[cells] * np.log(part_p[cells] / np.broadcast_to(pooled_p,
                                                                           parts.shape)[cells]))
    assert data["attrs"]["G2"] == pytest.approx(g2) and data["attrs"]["df"] == 2
    assert round(g2, 3) == 12.566  # stationarity_test's docstring example
    _same(data, stationarity_test(ln.read_table(path), "code", "code"))
    out = _text_out(capsys, argv)
    assert "G2 = 12.57 (df 2, p = 0.0019)" in out
    assert "first half" in out and "second half" in out


def test_stationarity_over_therapy_equals_lagsequential(capsys, tmp_path):
    # seqgroups(data_seqgroups_strings): G2 = 91.6840219121282 (R; tests/test_stationarity.py)
    seqs = ln.Sequences.from_sequences({"code": [s.split() for s in SEQGROUPS]},
                                       dyads=["d1"] * 3)
    path = tmp_path / "seqgroups.csv"
    ln.write_table(seqs, path)
    argv = ["stationarity", str(path), "--given", "code", "--target", "code",
            "--by", "session_order", "--n-parts", "3", "--permutations", "19", "--seed", "2"]
    data = _json_out(capsys, argv)
    assert data["attrs"]["G2"] == pytest.approx(SEQGROUPS_G2, abs=1e-9)
    _same(data, stationarity_test(ln.read_table(path), "code", "code", by="session_order",
                                  n_parts=3, n_perm=19, seed=2))
    out = _text_out(capsys, argv)
    assert "G2 = 91.68 (df 52" in out and "permutation test: 19 permutations, seed 2" in out


def test_stationarity_of_an_indicator_set(capsys):
    argv = ["stationarity", "--given", "mia", "--target", "rupture", "--by", "tercile"]
    data = _json_out(capsys, argv)
    _same(data, stationarity_test(ln.datasets.load_example(), "mia", "rupture", by="tercile"))
    out = _text_out(capsys, argv)
    assert "indicator" in out and "MIA8" in out and "middle third" in out


def test_bad_input_of_stationarity(capsys):
    base = ["stationarity", "--given", "MIA4", "--target", "rupture"]
    cases = [
        ([*base, "--by", "position"], "needs --n-parts"),
        ([*base, "--by", "weekday"], "invalid choice: 'weekday'"),
        ([*base, "--by", "session_order", "--order", "nope"], "'nope' is not a session covariate"),
        (["stationarity", "--given", "MIA9", "--target", "rupture"], "unknown stream or code"),
        (["stationarity", "--given", "mia", "--target", "rupture", "--permutations", "9"],
         "test each indicator of a set separately"),
        ([*base, "--permutations", "-1"], "expected an integer >= 0"),
    ]
    for argv, fragment in cases:
        fails(capsys, argv, fragment)


# --------------------------------------------------------------------------- agreement
def _codings(tmp_path: Path, texts: dict[str, str]) -> list[str]:
    """One long table per coder, one session each, stream ``code``."""
    paths = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.csv"
        ln.write_table(ln.Sequences.from_sequences({"code": [list(text)]}), path)
        paths.append(str(path))
    return paths


def test_agreement_of_two_coders_by_hand(capsys, tmp_path):
    a, b = _codings(tmp_path, {"ana": "aabba", "ben": "abbba"})
    data = _json_out(capsys, ["agreement", a, b])
    code = data["streams"]["code"]
    assert code["variables"]["counts"]["values"] == [[2, 1], [0, 2]]
    # p_o = 4/5; margins A (3, 2), B (2, 3): p_e = (3*2 + 2*3) / 25; kappa = 0.6154
    p_o, p_e = 4 / 5, 12 / 25
    assert code["attrs"]["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e))
    assert data["coders"] == [a, b]
    _same(code, ln.agreement(ln.read_table(a), ln.read_table(b), "code"))
    out = _text_out(capsys, ["agreement", a, b])
    assert "0.615" in out and "agreement matrix of code:" in out
    # tolerance 1: the disagreement at segment 2 finds A's code a next to it in B's record
    tol = _json_out(capsys, ["agreement", a, b, "--tolerance", "1"])
    assert tol["streams"]["code"]["attrs"]["p_o"] == 1.0
    per = _json_out(capsys, ["agreement", a, b, "--stream", "code", "--per-code"])
    assert per["streams"]["code"]["coords"]["code"] == ["a", "b"]
    out = _text_out(capsys, ["agreement", a, b, "--per-code"])
    assert "code:a" in out and "code:b" in out


def test_agreement_of_three_coders_by_hand(capsys, tmp_path):
    texts = {"a": "aabbacab", "b": "aabbacbb", "c": "abbbacab"}
    paths = _codings(tmp_path, texts)
    data = _json_out(capsys, ["agreement", *paths, "--stream", "code"])
    # Fleiss' kappa from the subjects x categories counts, written out here
    codes = sorted(set("".join(texts.values())))
    counts = np.array([[sum(t[i] == c for t in texts.values()) for c in codes]
                       for i in range(8)], dtype=float)
    m = counts.sum(1)[0]
    p_i = ((counts * (counts - 1)).sum(1) / (m * (m - 1))).mean()
    p_j = counts.sum(0) / counts.sum()
    fleiss = (p_i - (p_j ** 2).sum()) / (1 - (p_j ** 2).sum())
    row = data["coords"]["stream"].index("code")
    assert data["variables"]["fleiss_kappa"]["values"][row] == pytest.approx(fleiss)
    assert round(fleiss, 4) == 0.7225  # coder_agreement's docstring example
    seqs = {p: ln.read_table(p) for p in paths}
    _same(data, coder_agreement(seqs, ["code"]))
    out = _text_out(capsys, ["agreement", *paths])
    assert "Agreement of 3 codings" in out and "0.723" in out and "code:c" in out
    assert "columns without a value (left out):" in out  # no ratings: no ICC


def test_agreement_of_three_coders_with_tolerance(capsys, tmp_path):
    # docs/agreement.md's worked example: B starts b one unit early, C one unit late.
    paths = _codings(tmp_path, {"A": "aaabbb", "B": "aabbbb", "C": "aaaabb"})
    data = _json_out(capsys, ["agreement", *paths, "--stream", "code", "--tolerance", "1"])
    row = data["coords"]["stream"].index("code")
    # pairs A|B and A|C agree within 1 unit (kappa 1); B|C: [[2, 0], [1, 3]], kappa 2/3
    assert data["variables"]["pairwise_kappa"]["values"][row] == pytest.approx(8 / 9)
    assert data["variables"]["pairwise_p_o"]["values"][row] == pytest.approx(17 / 18)
    assert data["attrs"]["tolerance"] == 1 and data["attrs"]["reference"] == "a"
    seqs = {p: ln.read_table(p) for p in paths}
    _same(data, coder_agreement(seqs, ["code"], tolerance=1))
    # without --tolerance: exact agreement, Light's kappa 26/45, mean p_o = Fleiss' P-bar
    exact = _json_out(capsys, ["agreement", *paths, "--stream", "code"])
    assert exact["attrs"]["tolerance"] == 0
    assert exact["variables"]["pairwise_kappa"]["values"][row] == pytest.approx(26 / 45)
    assert exact["variables"]["pairwise_p_o"]["values"][row] == pytest.approx(
        exact["variables"]["p_o"]["values"][row])
    both = _json_out(capsys, ["agreement", *paths, "--stream", "code", "--tolerance", "1",
                              "--reference", "both"])
    _same(both, coder_agreement(seqs, ["code"], tolerance=1, reference="both"))
    out = _text_out(capsys, ["agreement", *paths, "--tolerance", "1", "--no-per-code"])
    assert "tolerance 1 segments (reference a)" in out
    assert "Cohen's kappa of each pair of codings" in out
    lines = out.splitlines()
    head = next(k for k, line in enumerate(lines) if line.split()[:3] == ["stream", "pair",
                                                                             "kappa"])
    pair_rows = [line.split() for line in lines[head + 1:]]
    assert [r[-6] for r in pair_rows] == ["1-2", "1-3", "2-3"]
    assert [float(r[-5]) for r in pair_rows] == [1.0, 1.0, 0.667]
    assert "Cohen's kappa of each pair" not in _text_out(capsys, ["agreement", *paths])


def test_agreement_reads_like_table(capsys, tmp_path):
    # the reading options of `lagnest table` and --code reach every coding
    for name, text in {"a": "xxyyx", "b": "xyyyx"}.items():
        (tmp_path / f"{name}.csv").write_text(
            "dyad;session;segment;code\n" + "".join(f"d;s;{k + 1};{c}\n"
                                                   for k, c in enumerate(text)))
    paths = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    data = _json_out(capsys, ["agreement", *paths, "--sep", ";", "--stream", "code",
                              "--stream", "pair", "--code", "pair=x or y"])
    assert set(data["streams"]) == {"code", "pair"}
    assert data["streams"]["code"]["attrs"]["kappa"] == pytest.approx(8 / 13)


def test_bad_input_of_agreement(capsys, tmp_path):
    a, b, c = _codings(tmp_path, {"a": "aab", "b": "abb", "c": "bbb"})
    short = _codings(tmp_path, {"d": "ab"})[0]
    cases = [
        (["agreement", a], "give one file per coder, got 1"),
        (["agreement", a, a], "is given twice"),
        (["agreement", a, str(tmp_path / "none.csv")], "none.csv: No such file or directory"),
        (["agreement", a, b, "--stream", "nope"], "unknown stream or code 'nope'"),
        (["agreement", a, short], "segment"),
        (["agreement", a, b, "--n-boot", "9"], "--n-boot applies to three or more codings"),
        (["agreement", a, b, c, "--reference", "c"], "invalid choice: 'c'"),
        (["agreement", a, b, "--ci-prob", "2"], "bad --ci-prob"),
    ]
    for argv, fragment in cases:
        fails(capsys, argv, fragment)
