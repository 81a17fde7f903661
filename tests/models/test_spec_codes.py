"""Codes made from codes in a spec's ``[codes]`` and on ``lagnest fit --code`` (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

import lagnest as ln
from lagnest.errors import SpecError
from lagnest.models.spec import ModelSpec
from tests.cli_helpers import fails, run

SPEC = """\
[model]
type = "TransitionModel"
given = "{given}"
target = "code"
pooling = "dyad"

[fit]
draws = 30
tune = 30
chains = 1
seed = 2

[codes]
{codes}
"""


@pytest.fixture(scope="module")
def seqs():
    return ln.Sequences.from_sequences(
        {"code": [["a", "b", "a", "c", "b", "a"], ["b", "a", "c", "c", "a", "b"],
                  ["a", "c", "b", "a", "b", "c"], ["c", "a", "b", "b", "a", "c"]]},
        dyads=["d1", "d1", "d2", "d2"],
    )


def test_spec_codes_reach_the_model_as_codes(tmp_path, seqs):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(given="a_or_b", codes='a_or_b = "a or b"'))
    spec = ln.load_spec(path)
    assert spec.codes == {"a_or_b": "a or b"}
    model = spec.build(seqs)
    derived, _ = model.seqs.categorical("a_or_b")
    codes, labels = seqs.categorical("code")
    expected = np.isin(np.asarray(codes), [labels.index("a"), labels.index("b")])
    np.testing.assert_array_equal(np.asarray(derived), expected.astype(int))


@pytest.mark.parametrize(("codes", "fragment"), [
    ('x = "a and or b"', "codes.x"),
    ('x = "chain(a, b, within=0)"', "codes.x"),
    ('"or" = "a"', "bad code name"),
    ("x = 3", "wrong type"),
])
def test_bad_codes_are_spec_errors_naming_the_key(tmp_path, codes, fragment):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(given="code", codes=codes))
    with pytest.raises(SpecError, match="codes") as err:
        ln.load_spec(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_a_bad_expression_names_its_position(tmp_path):
    with pytest.raises(SpecError, match="position 7"):
        ModelSpec.from_dict({"model": {"type": "TransitionModel", "given": "code",
                                       "target": "code"},
                             "codes": {"x": "a and or b"}})


def test_an_unknown_code_is_named_when_the_corpus_is_read(tmp_path, seqs):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(given="x", codes='x = "a or zzz"'))
    with pytest.raises(SpecError, match="zzz"):
        ln.load_spec(path).build(seqs)


def test_lagnest_fit_takes_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.format(given="mia4_or_2", codes="").replace("[codes]\n", "")
                    .replace('given = "mia4_or_2"\ntarget = "code"',
                             'given = "mia4_or_2"\ntarget = "rupture"'))
    out = tmp_path / "fit.nc"
    fails(capsys, ["fit", str(path), "--out", str(out)], "mia4_or_2")
    assert run(["fit", str(path), "--out", str(out), "--code", "mia4_or_2=MIA4 or MIA2"]) == 0
    assert "mia4_or_2" in capsys.readouterr().out
    assert out.exists()
