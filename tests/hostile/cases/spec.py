"""Hostile model specifications for ``load_spec``."""

from __future__ import annotations

from lagnest.models.spec import load_spec
from tests.hostile.harness import PyCall, accept, case, error, oserror, write

GOOD = """
description = "transitions"
[model]
type = "TransitionModel"
given = "code"
target = "code"
lag = 1
[fit]
draws = 100
"""


def spec(folder, text: str | bytes, name: str = "spec.toml") -> PyCall:
    path = write(folder / name, text)
    return PyCall(load_spec, (path,), {}, file=path)


@case("spec/good", accept(lambda s: s.model == "TransitionModel"))
def _(d):
    return spec(d, GOOD)


@case("spec/malformed-toml", error("SpecError", match="line 3"))
def _(d):
    return spec(d, '[model]\ntype = "TransitionModel"\ngiven = \n')


@case("spec/binary", error("SpecError"))
def _(d):
    return spec(d, bytes(range(256)) * 8)


@case("spec/empty-file", error("SpecError", match=r"\[model\]"))
def _(d):
    return spec(d, "")


@case("spec/missing-path", oserror("FileNotFoundError"))
def _(d):
    return PyCall(load_spec, (str(d / "nope.toml"),), {}, file=str(d / "nope.toml"))


@case("spec/directory", oserror("IsADirectoryError"))
def _(d):
    (d / "spec.toml").mkdir()
    return PyCall(load_spec, (str(d / "spec.toml"),), {}, file=str(d / "spec.toml"))


@case("spec/unknown-standard-name", error("SpecError", match="standard", names_file=False))
def _(d):
    return PyCall(load_spec, ("no_such_analysis",), {})


@case("spec/unknown-model-type", error("SpecError", match="model.type"))
def _(d):
    return spec(d, GOOD.replace("TransitionModel", "NoSuchModel"))


@case("spec/unknown-key", error("SpecError", match="did you mean"))
def _(d):
    return spec(d, GOOD.replace("given =", "givn ="))


@case("spec/integer-beyond-int64", error("SpecError", match="model.lag"))
def _(d):
    return spec(d, GOOD.replace("lag = 1", "lag = 1" + "0" * 30))


@case("spec/negative-draws", error("SpecError", match="fit.draws"))
def _(d):
    return spec(d, GOOD.replace("draws = 100", "draws = -1"))


@case("spec/draws-beyond-int64", error("SpecError", match="fit.draws"))
def _(d):
    return spec(d, GOOD.replace("draws = 100", "draws = 1" + "0" * 25))


@case("spec/bad-prior", error("SpecError", match="priors"))
def _(d):
    return spec(d, GOOD + '[priors]\nsigma_dyad = { dist = "NoSuchDist" }\n')


@case("spec/data-codebook-missing-file", error("SpecError", match="data.codebook"))
def _(d):
    return spec(d, GOOD + '[data]\ncodebook = "missing.toml"\n')


@case("spec/data-codebook-malformed", error("SpecError", match="data.codebook"))
def _(d):
    write(d / "bad.toml", "[streams\n")
    return spec(d, GOOD + '[data]\ncodebook = "bad.toml"\n')


@case("spec/data-unknown-key", error("SpecError", match="data"))
def _(d):
    return spec(d, GOOD + '[data]\ncodbook = "3rs_2015"\n')


@case("spec/deeply-nested-arrays", error("SpecError"))
def _(d):
    return spec(d, GOOD + "x = " + "[" * 100_000 + "]" * 100_000 + "\n")


@case("spec/million-digit-integer", error("SpecError"))
def _(d):
    return spec(d, GOOD.replace('given = "code"', "given = " + "1" * 1_000_000))


@case("spec/megabyte-string", accept(lambda s: len(s.arguments["given"]) == 1_000_000))
def _(d):
    return spec(d, GOOD.replace('given = "code"', 'given = "' + "x" * 1_000_000 + '"'))


@case("spec/model-not-a-table", error("SpecError", match="model"))
def _(d):
    return spec(d, 'model = "TransitionModel"\n')
