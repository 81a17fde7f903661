"""Codebooks ship as data and combine; questionnaires score with reverse keys."""

import pandas as pd
import pytest

import lagnest as ln
from lagnest.data.codebook import load_codebook


def test_shipped_codebooks_load():
    assert set(ln.available_codebooks()) >= {"3rs_2015", "3rs_2022", "mia", "tms", "seq"}
    for name in ln.available_codebooks():
        load_codebook(name)


def test_3rs_2015_content_and_labels():
    book = load_codebook("3rs_2015")
    markers = book.streams["rupture_markers"]
    assert markers.codes == tuple([f"W{i}" for i in range(1, 8)] + [f"C{i}" for i in range(1, 8)])
    assert book.label("C2") == "Rejects an intervention"
    assert book.label("C2", "es") == "Rechaza una intervención"
    assert book.streams["resolution_strategies"].codes[0] == "R0"
    assert book.ratings["significance"].max == 5
    assert set(book.session_variables) == {
        "rrs_rupture_significance",
        "rrs_therapist_contribution",
        "rrs_resolution_extent",
    }


def test_combination_and_clash():
    book = load_codebook("3rs_2015+mia")
    assert "mia" in book.streams and "rupture_markers" in book.streams
    with pytest.raises(ln.LagnestDataError, match="both define"):
        load_codebook("mia+mia")


def test_unknown_codebook_message():
    with pytest.raises(ln.LagnestDataError, match=r"unknown codebook .nope.*3rs_2015"):
        load_codebook("nope")


def test_with_groups_validates_codes():
    book = load_codebook("3rs_2015")
    with pytest.raises(ln.LagnestDataError, match="unknown codes"):
        book.with_groups("resolution", {"immediate": ["R99"]})


def test_tms_subscales_are_sums_of_keyed_items():
    q = load_codebook("tms").questionnaires["tms"]
    items = pd.DataFrame([{f"tms_{i}": i % 5 for i in range(1, 14)}])
    scores = q.score_items(items)
    assert scores.loc[0, "tms_curiosity"] == sum(i % 5 for i in (3, 5, 6, 10, 12, 13))
    assert scores.loc[0, "tms_decentering"] == sum(i % 5 for i in (1, 2, 4, 7, 8, 9, 11))


def test_seq_reverse_keyed_items():
    q = load_codebook("seq").questionnaires["seq"]
    # answer 7 (right pole) everywhere: reversed items score 1, others 7
    items = pd.DataFrame([{f"seq_{i}": 7 for i in range(1, 22)}])
    scores = q.score_items(items)
    # depth items 1..5: 1, 3, 5 reversed -> (1 + 7 + 1 + 7 + 1) / 5
    assert scores.loc[0, "seq_depth"] == pytest.approx((1 + 7 + 1 + 7 + 1) / 5)
    # arousal items 17..21: 19, 20 reversed
    assert scores.loc[0, "seq_arousal"] == pytest.approx((7 + 7 + 1 + 1 + 7) / 5)


def test_user_codebook_file(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text('name = "mine"\n[streams.turn]\nkind = "categorical"\ncodes = ["T", "P"]\n')
    book = load_codebook(p)
    assert book.streams["turn"].codes == ("T", "P")
    p.write_text("name = [broken")
    with pytest.raises(ln.CodebookError, match="invalid TOML"):
        load_codebook(p)
