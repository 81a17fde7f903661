"""Property-based fuzzing of every parser: any input ends in a result or a typed error.

The inputs mix the characters and tokens each grammar gives meaning to with arbitrary
text (control characters, digits of other scripts, huge numbers), so that hypothesis
explores both near-valid and hostile files.
"""

from __future__ import annotations

import json
import os
import tomllib
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lagnest as ln
from lagnest.data.codebook import load_codebook
from lagnest.errors import LagnestDataError, LagnestDataWarning
from lagnest.io.boris import parse_behavioral_strings
from lagnest.io.sdis import parse_sdis
from lagnest.io.sdis_grammar import parse_time
from lagnest.models.spec import ModelSpec

FUZZ = settings(  # LAGNEST_FUZZ_EXAMPLES=5000 for a longer hunt than CI's
    max_examples=int(os.environ.get("LAGNEST_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ODD = st.sampled_from(["\x00", "\x07", "\x1b", "\u200b", "١", "２", "é", "e\u0301", "\ufeff"])
NUMBERS = st.sampled_from(["0", "1", "12", "-3", "1.5", "1e400", "9" * 30, "nan", "inf", "١٢"])


def typed(call, *args, **kwargs):
    """Call; a LagnestDataError is fine, anything else propagates (and fails the test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LagnestDataWarning)
        try:
            return call(*args, **kwargs)
        except LagnestDataError as err:
            assert str(err)
            return None


def words(*vocabulary: str):
    return st.lists(st.one_of(st.sampled_from(vocabulary), NUMBERS, ODD, st.text(max_size=4)),
                    max_size=40)


# ---------------------------------------------------------------------------- SDIS
SDIS_TOKENS = ("Event", "Interval", "Multievent", "Timed", "State", "a", "b", "c", ";", ",",
               "/", "(", ")", "=", "*", "<s1>", "<s2>", "<", ">", "$x", "%", "\n", " ", ".",
               "-", ":", "+", "% lagnest: segments 1 2", "% lagnest: ratings r", "UNCODED")


@FUZZ
@given(tokens=words(*SDIS_TOKENS), seconds=st.sampled_from([None, 1.0, 0.5]))
def test_sdis_parser(tokens, seconds):
    typed(parse_sdis, " ".join(tokens), segment_seconds=seconds, source="fuzz.sds")


@FUZZ
@given(head=st.sampled_from(["Event a b c;", "Interval a b;", "Timed a b;", "State a b;"]),
       body=words("a", "b", "c", ",", ";", "*", "=", "-", "0", "5", "10", "2*", "*3", "<s>"))
def test_sdis_parser_near_valid(head, body):
    text = f"{head}\n<s1> {' '.join(body)} /\n"
    typed(parse_sdis, text, segment_seconds=1.0 if "Timed" in head else None, source="f.sds")


@FUZZ
@given(text=st.text(max_size=20))
def test_parse_time_returns_seconds_or_none(text):
    value = parse_time(text)
    assert value is None or (value >= 0 and value == value and value != float("inf"))


# ---------------------------------------------------------------------------- BORIS strings
@FUZZ
@given(lines=st.lists(words("a", "b", "|", "+", "&", "[T]", "# observation id: o", "#"),
                      max_size=6))
def test_behavioural_strings_parser(lines):
    typed(parse_behavioral_strings, "\n".join(" ".join(w) for w in lines), source="f.txt")


# ---------------------------------------------------------------------------- tables
CELLS = st.one_of(
    st.none(), st.sampled_from(["a", "b", "", "NA", " ", "01"]), NUMBERS, ODD,
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=5),
)


@FUZZ
@given(rows=st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=1, max_size=8))
def test_from_frame(rows):
    frame = pd.DataFrame(rows, columns=["dyad", "session", "segment", "code"], dtype=object)
    typed(ln.Sequences.from_frame, frame, source="frame")


@FUZZ
@given(text=st.lists(st.lists(st.one_of(CELLS.map(str), st.just('"')), min_size=1, max_size=5),
                     max_size=6),
       sep=st.sampled_from([",", ";", "\t"]))
def test_read_table_on_random_text(tmp_path, text, sep):
    path = tmp_path / "fuzz.csv"
    body = "\n".join(sep.join(row) for row in text)
    path.write_text(f"dyad{sep}session{sep}segment{sep}code\n{body}\n", encoding="utf-8")
    typed(ln.read_table, path)


@FUZZ
@given(data=st.binary(max_size=300))
def test_read_table_on_random_bytes(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(b"dyad,session,segment,code\n" + data)
    typed(ln.read_table, path)


# ---------------------------------------------------------------------------- codebooks
VALUES = st.recursive(
    st.one_of(st.integers(-5, 10**20), st.floats(), st.text(max_size=4), st.booleans(),
              st.sampled_from(["categorical", "indicator", "sum", "mean", "a", "b"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["kind", "codes", "min", "max", "from", "groups", "n_items",
                                 "items", "reverse", "score", "subscales", "x", "a", "b"]),
                                inner, max_size=4)),
    max_leaves=12,
)


@FUZZ
@given(book=st.dictionaries(
    st.sampled_from(["name", "streams", "ratings", "derived", "questionnaires", "session",
                     "title", "other"]),
    st.dictionaries(st.sampled_from(["code", "q", "r", "d"]), VALUES, max_size=3),
    max_size=4))
def test_codebook_tables(tmp_path, book):
    path = tmp_path / "fuzz.toml"
    path.write_text(_toml(book), encoding="utf-8")
    typed(load_codebook, str(path))


@FUZZ
@given(text=st.text(max_size=200))
def test_codebook_text(tmp_path, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    typed(load_codebook, str(path))


def _toml(data: dict) -> str:
    """A TOML document for a dict of tables (inline values)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if v != v else ("inf" if v == float("inf") else
                                         "-inf" if v == float("-inf") else repr(v))
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):  # JSON's escapes are TOML's, but for DEL and surrogates
            return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"

    out = []
    for key, table in data.items():
        if not isinstance(table, dict):
            out.append(f'"{key}" = {value(table)}')
    for key, table in data.items():
        if isinstance(table, dict):
            out.append(f'["{key}"]')
            out += [f'"{k}" = {value(v)}' for k, v in table.items()]
    text = "\n".join(out) + "\n"
    tomllib.loads(text)  # the generator writes valid TOML
    return text


# ---------------------------------------------------------------------------- specs
@FUZZ
@given(spec=st.dictionaries(
    st.sampled_from(["model", "priors", "fit", "data", "description", "x"]),
    st.one_of(VALUES, st.fixed_dictionaries(
        {"type": st.sampled_from(["TransitionModel", "LaggedRegression", "Nope"])},
        optional={"given": VALUES, "target": VALUES, "lag": VALUES, "draws": VALUES})),
    max_size=4))
def test_spec_tables(spec):
    typed(ModelSpec.from_dict, spec)


# ---------------------------------------------------------------------------- results
@FUZZ
@given(data=st.binary(max_size=2000), hdf5=st.booleans())
def test_load_on_random_bytes(tmp_path, data, hdf5):
    path = tmp_path / "fuzz.nc"
    path.write_bytes((b"\x89HDF\r\n\x1a\n" if hdf5 else b"") + data)
    with pytest.raises(ln.ResultFileError):
        ln.load(path)
