"""What a user reads follows the structure fitted (issue 22, item 4).

On a corpus with one session per dyad the models merge the session level, and with a
single dyad they drop the dyad level (:func:`lagnest.models.structure.check_grouping`):
headers, ``levels``, the answers' levels, the predictive checks and the report follow the
structure the model used, and a check statistic the corpus cannot give is left out with a
note, never shown as passing.
"""

from __future__ import annotations

import numpy as np
import pytest

import lagnest as ln
from lagnest import LaggedRegression, TransitionModel
from lagnest._summaries import WIDTH
from lagnest.checks.ppc import session_not_computable
from lagnest.checks.sequence_stats import not_computable
from lagnest.models.structure import GroupStructure, check_grouping

MERGED = "dyad (the session level merged: every dyad has one session)"
DROPPED = "session (the dyad level dropped: only one dyad has data)"


# ---------------------------------------------------------------- corpora
@pytest.fixture(scope="module")
def one_session_per_dyad():
    seqs, _ = ln.simulate.thesis_like(seed=3, sessions_per_dyad=(1, 1),
                                      segments_per_session=(40, 40))
    return seqs


@pytest.fixture(scope="module")
def one_dyad():
    seqs, _ = ln.simulate.thesis_like(seed=4, n_dyads=1, sessions_per_dyad=(5, 5),
                                      segments_per_session=(30, 30))
    return seqs


def _header_lines(text: str) -> list[str]:
    """The lines before the first table or the diagnostics."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith(("Diagnostics", "P(target", "target ")):
            break
        out.append(line)
    return out


# ---------------------------------------------------------------- the structure in words
def test_group_structure_says_what_was_fitted_and_why():
    dyads = ("d1", "d2", "d3")
    merged = check_grouping(np.array([0, 1, 2]), dyads, np.ones(3, bool), True, True)
    assert merged.levels == ("dyad",)
    assert merged.removed == {"session": "merged: every dyad has one session"}
    assert merged.levels_text() == MERGED
    assert merged.new_groups() == "new dyads"
    assert "merged into the dyad level" in merged.why("session")

    single = check_grouping(np.array([0, 0, 0]), ("d1",), np.ones(3, bool), True, True)
    assert single.levels == ("session",) and single.levels_text() == DROPPED
    assert single.new_groups() == "new sessions"
    assert "only one dyad has data (d1)" in single.why("dyad")

    alone = check_grouping(np.array([0]), ("d1",), np.ones(1, bool), True, True)
    assert alone.levels == () and alone.new_groups() == ""
    assert alone.levels_text().startswith("none (the dyad level dropped")
    assert "the session level dropped: a single session has data" in alone.levels_text()

    full = check_grouping(np.array([0, 0, 1, 1]), ("d1", "d2"), np.ones(4, bool), True, True)
    assert full.levels_text() == "dyad and session" and not full.removed
    assert full.new_groups() == "new dyads and sessions"
    assert GroupStructure(False, False).levels_text() == "none (complete pooling)"

    # JSON round trip; a structure saved before `removed` existed reads back without it
    assert GroupStructure.from_dict(merged.to_dict()) == merged
    old = {k: v for k, v in merged.to_dict().items() if k != "removed"}
    assert GroupStructure.from_dict(old).removed == {}
    lines = merged.lines()
    assert lines[0] == f"grouping levels: {MERGED}"
    assert any(line.startswith("note: every dyad has a single session") for line in lines)


def test_models_record_what_they_merged_or_dropped(one_session_per_dyad, one_dyad):
    for model in (TransitionModel(one_session_per_dyad, "rupture", "rupture"),
                  LaggedRegression(one_session_per_dyad, "rupture", ["MIA4"])):
        assert model.structure.levels == ("dyad",)
        assert model.structure.levels_text() == MERGED
    for model in (TransitionModel(one_dyad, "rupture", "rupture"),
                  LaggedRegression(one_dyad, "rupture", ["MIA4"])):
        assert model.structure.levels == ("session",)
        assert model.structure.levels_text() == DROPPED
    # a level not asked for is not "removed"
    assert TransitionModel(one_session_per_dyad, "rupture", "rupture",
                           pooling="dyad").structure.removed == {}


# ---------------------------------------------------------------- computability
def _codes(seqs, stream="rupture"):
    codes, labels = seqs.categorical(stream)
    return codes, len(labels)


def test_statistics_the_corpus_cannot_give(one_session_per_dyad, one_dyad):
    codes, k = _codes(one_session_per_dyad)
    out = not_computable(codes, one_session_per_dyad.encoded, k)
    assert list(out) == ["homogeneity_sessions"]
    assert "every dyad has one session" in out["homogeneity_sessions"]

    codes, k = _codes(one_dyad)
    out = not_computable(codes, one_dyad.encoded, k)
    assert list(out) == ["homogeneity_dyads"]
    assert "a single dyad has lag pairs" in out["homogeneity_dyads"]

    # sessions of two segments: pairs but no triple, so no second-order table
    short = ln.Sequences.from_sequences({"code": [list("ab"), list("ba"), list("aa")]},
                                        dyads=["d1", "d1", "d2"])
    codes, k = _codes(short, "code")
    out = not_computable(codes, short.encoded, k)
    assert "second_order_G2" in out and "too short" in out["second_order_G2"]
    # a single session: no spread of rates across sessions, nothing to compare
    single = ln.Sequences.from_sequences({"code": [list("abab")]}, dyads=["d1"])
    codes, k = _codes(single, "code")
    out = not_computable(codes, single.encoded, k)
    assert {"rate_sd", "homogeneity_dyads", "homogeneity_sessions"} <= set(out)
    # the whole example corpus gives every statistic
    example = ln.datasets.load_example()
    codes, k = _codes(example)
    assert not_computable(codes, example.encoded, k) == {}


def test_session_statistics_the_corpus_cannot_give():
    assert session_not_computable(np.arange(5), 2) == {
        "within_dyad_sd": "every dyad has one session: there is no spread within a dyad"}
    out = session_not_computable(np.zeros(5, dtype=int), 1)
    assert set(out) == {"dyad_sd", "correlation"}
    assert session_not_computable(np.array([0, 0, 1, 1]), 2) == {}


# ---------------------------------------------------------------- fitted results
@pytest.fixture(scope="module")
def fits(one_session_per_dyad, one_dyad):
    """Quick fits (LAGNEST_QUICK: 2 chains x 100 draws) of both models on both corpora."""
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAGNEST_QUICK", "1")
        for name, seqs in (("merged", one_session_per_dyad), ("one_dyad", one_dyad)):
            out[name, "transition"] = TransitionModel(seqs, "rupture", "rupture").fit(
                seed=1, warn=False)
            out[name, "regression"] = LaggedRegression(seqs, "rupture", ["MIA4"]).fit(
                seed=1, warn=False)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("model", ["transition", "regression"])
@pytest.mark.parametrize("corpus", ["merged", "one_dyad"])
def test_headers_say_the_levels_fitted(fits, corpus, model):
    res = fits[corpus, model]
    expected = MERGED if corpus == "merged" else DROPPED
    for text in (str(res), str(res.summary())):
        header = _header_lines(text)
        assert all(len(line) <= WIDTH for line in header), "\n".join(header)
        words = " ".join(" ".join(header).split())
        assert f"grouping levels: {expected}" in words
        assert "pooling 'dyad/session'" not in words and "pooling" not in words
        reason = "merged into the dyad level" if corpus == "merged" else "only one dyad"
        assert f"note: {res.structure.notes[0]}"[:40] in words and reason in words
        assert "new dyads and sessions" not in " ".join(text.split())
    summary = str(res.summary())
    assert all(len(line) <= WIDTH for line in summary.splitlines()), summary


@pytest.mark.slow
def test_transition_levels_follow_the_structure(fits):
    merged = fits["merged", "transition"]
    assert merged.levels == ("population", "typical", "dyad")
    with pytest.raises(ValueError, match="merged into the dyad level"):
        merged.transition_probs("session")
    assert merged.transition_probs("dyad")["mean"].dims == ("dyad", "given", "target")
    text = " ".join(str(merged).split())
    assert "P(target | given), averaged over new dyads, mean" in text
    assert "averaged over new dyads" in " ".join(str(merged.summary()).split())

    one = fits["one_dyad", "transition"]
    assert one.levels == ("population", "typical", "session")
    with pytest.raises(ValueError, match="only one dyad has data"):
        one.transition_probs("dyad")
    with pytest.raises(ValueError, match="only one dyad has data"):
        one.draws_of("lift", "dyad")
    assert "averaged over new sessions" in " ".join(str(one).split())


@pytest.mark.slow
def test_regression_levels_follow_the_structure(fits):
    merged = fits["merged", "regression"]
    assert merged.levels == ("population", "typical", "dyad")
    with pytest.raises(ValueError, match="merged into the dyad level"):
        merged.intercepts("session")
    dyad = str(merged.fit_data["dyad"].values[0])
    assert merged.predict({"MIA4": 1}, level=dyad, max_draws=50)["mean"].sizes["target"] == 4
    assert "new dyads and" in merged.odds_ratios(level="population", max_draws=20,
                                                 n_new=5).attrs["what"]
    assert "new dyads and sessions" not in " ".join(str(merged.summary(marginal=False)).split())

    one = fits["one_dyad", "regression"]
    assert one.levels == ("population", "typical", "session")
    only = str(one.fit_data["dyad"].values[0])
    with pytest.raises(ValueError, match="only one dyad has data"):
        one.predict({"MIA4": 1}, level=only, max_draws=50)
    with pytest.raises(ValueError, match="only one dyad has data"):
        one.intercepts("dyad")
    assert one.predict({"MIA4": 1}, level="population", max_draws=50)["mean"].notnull().all()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["transition", "regression"])
def test_checks_leave_out_what_the_corpus_cannot_give(fits, model):
    check = fits["merged", model].ppc(n_draws=20, seed=2)
    assert "homogeneity_sessions" not in check.statistics
    assert "homogeneity_sessions" not in check.observed
    assert "homogeneity_sessions_df" not in check.replicated
    assert "every dyad has one session" in check.omitted["homogeneity_sessions"]
    assert "homogeneity_dyads" in check.statistics
    table = check.summary()
    assert "homogeneity_sessions" not in set(table["statistic"])
    text = str(check)
    assert all(len(line) <= WIDTH for line in text.splitlines()), text
    words = " ".join(text.split())
    assert "not checked: homogeneity_sessions" in words
    assert ("homogeneity_sessions (homogeneity G2 across sessions within dyads, summed over "
            "dyads) is not checked: it cannot be computed on this corpus, every dyad has one "
            "session") in words
    with pytest.raises(ValueError, match="not checked, the corpus cannot give them"):
        check.plot(stats=["homogeneity_sessions"])

    one = fits["one_dyad", model].ppc(n_draws=20, seed=2)
    assert "homogeneity_dyads" not in one.statistics
    assert "a single dyad" in one.omitted["homogeneity_dyads"]
    assert "homogeneity_sessions" in one.statistics
    # asked for alone, a statistic the corpus cannot give leaves an empty check that says so
    empty = fits["merged", model].ppc(stats=["homogeneity_sessions"], n_draws=5, seed=2)
    assert empty.statistics == [] and empty.summary().empty
    assert "0 of 0 checked values" in " ".join(str(empty).split())


@pytest.mark.slow
def test_the_report_shows_the_structure_and_the_check_notes(fits, one_session_per_dyad,
                                                             tmp_path):
    from lagnest.viz.report import write_report

    results = {"transition": fits["merged", "transition"],
               "regression": fits["merged", "regression"]}
    checks = {name: res.ppc(n_draws=20, seed=2) for name, res in results.items()}
    path = write_report(tmp_path / "report.html", one_session_per_dyad, results=results,
                        checks=checks, figures=None)
    text = " ".join(path.read_text(encoding="utf-8").split())
    assert text.count(f"Structure fitted: grouping levels {MERGED}") == 2
    assert text.count("merged into the dyad level") >= 2
    assert text.count("Not checked on this corpus: homogeneity_sessions") == 2
    assert "pooling &#x27;dyad/session&#x27;" not in text
