"""Hostile codebooks for ``load_codebook`` (and ``read_table(codebook=...)``)."""

from __future__ import annotations

from lagnest.data.codebook import load_codebook
from tests.hostile.harness import PyCall, accept, case, error, oserror, write

GOOD = """
name = "mine"
[streams.code]
kind = "categorical"
codes = ["a", "b"]
[ratings.score]
min = 1
max = 5
"""

DERIVED = """
name = "mine"
[streams.marks]
kind = "indicator"
codes = ["m1", "m2", "m3"]
[derived.type]
from = "marks"
groups = { one = ["m1"], two = ["m2"] }
"""

QUESTIONNAIRE = """
name = "mine"
[questionnaires.q]
n_items = 3
min = 0
max = 4
score = "sum"
reverse = []
[questionnaires.q.subscales.all]
items = [1, 2, 3]
"""


def book(folder, text: str | bytes, name: str = "codes.toml") -> PyCall:
    path = write(folder / name, text)
    return PyCall(load_codebook, (path,), {}, file=path)


@case("codebook/good", accept(lambda b: list(b.streams) == ["code"]))
def _(d):
    return book(d, GOOD)


@case("codebook/malformed-toml", error("CodebookError", match="line 2"))
def _(d):
    return book(d, 'name = "x"\n[streams.code\nkind = 1\n')


@case("codebook/not-utf8", error("CodebookError"))
def _(d):
    return book(d, b'name = "\xff\xfe"\n')


@case("codebook/empty-file", error("CodebookError", match="declares no"))
def _(d):
    return book(d, "")


@case("codebook/rating-min-above-max", error("CodebookError", match=r"ratings\.score"))
def _(d):
    return book(d, GOOD.replace("min = 1", "min = 9"))


@case("codebook/rating-min-not-a-number", error("CodebookError", match=r"ratings\.score\.min"))
def _(d):
    return book(d, GOOD.replace("min = 1", 'min = "one"'))


@case("codebook/rating-min-nan", error("CodebookError", match=r"ratings\.score\.min"))
def _(d):
    return book(d, GOOD.replace("min = 1", "min = nan"))


@case("codebook/rating-missing-max", error("CodebookError", match=r"ratings\.score\.max"))
def _(d):
    return book(d, GOOD.replace("max = 5", ""))


@case("codebook/rating-infinite-max", accept(lambda b: b.ratings["score"].max == float("inf")))
def _(d):
    return book(d, GOOD.replace("max = 5", "max = inf"))


@case("codebook/duplicated-codes", error("CodebookError", match="twice"))
def _(d):
    return book(d, GOOD.replace('["a", "b"]', '["a", "b", "a"]'))


@case("codebook/codes-a-string", error("CodebookError", match=r"streams\.code\.codes"))
def _(d):
    return book(d, GOOD.replace('["a", "b"]', '"ab"'))


@case("codebook/codes-empty-string", error("CodebookError", match="empty"))
def _(d):
    return book(d, GOOD.replace('["a", "b"]', '["a", ""]'))


@case("codebook/codes-control-character", error("CodebookError", match="control character"))
def _(d):
    return book(d, GOOD.replace('["a", "b"]', '["a", "b\\u0000"]'))


@case("codebook/unknown-top-level-key", error("CodebookError", match="stream"))
def _(d):
    return book(d, GOOD.replace("[streams.code]", "[stream.code]"))


@case("codebook/unknown-stream-key", error("CodebookError", match=r"streams\.code\.knd"))
def _(d):
    return book(d, GOOD.replace('kind = "categorical"', 'knd = "categorical"'))


@case("codebook/unknown-kind", error("CodebookError", match="kind"))
def _(d):
    return book(d, GOOD.replace('"categorical"', '"ordinal"'))


@case("codebook/streams-not-a-table", error("CodebookError", match="streams"))
def _(d):
    return book(d, 'name = "x"\nstreams = 3\n')


@case("codebook/derived-unknown-source", error("CodebookError", match="indicator stream"))
def _(d):
    return book(d, DERIVED.replace('from = "marks"', 'from = "nope"'))


@case("codebook/derived-unknown-code", error("CodebookError", match="unknown codes"))
def _(d):
    return book(d, DERIVED.replace('["m2"]', '["m9"]'))


@case("codebook/derived-missing-groups", error("CodebookError", match=r"derived\.type\.groups"))
def _(d):
    return book(d, DERIVED.replace('groups = { one = ["m1"], two = ["m2"] }', ""))


@case("codebook/derived-group-named-like-none", error("CodebookError", match="twice"))
def _(d):
    return book(d, DERIVED.replace("one =", "none ="))


@case("codebook/questionnaire-billion-items", error("CodebookError", match="n_items"))
def _(d):
    return book(d, QUESTIONNAIRE.replace("n_items = 3", "n_items = 1000000000"))


@case("codebook/questionnaire-item-out-of-range", error("CodebookError", match="items"))
def _(d):
    return book(d, QUESTIONNAIRE.replace("[1, 2, 3]", "[1, 2, 99]"))


@case("codebook/questionnaire-reverse-out-of-range", error("CodebookError", match="reverse"))
def _(d):
    return book(d, QUESTIONNAIRE.replace("reverse = []", "reverse = [0]"))


@case("codebook/questionnaire-unknown-score", error("CodebookError", match="score"))
def _(d):
    return book(d, QUESTIONNAIRE.replace('"sum"', '"median"'))


@case("codebook/questionnaire-min-above-max", error("CodebookError", match="min"))
def _(d):
    return book(d, QUESTIONNAIRE.replace("min = 0", "min = 7"))


@case("codebook/session-variable-min-above-max", error("CodebookError", match="session"))
def _(d):
    return book(d, 'name = "x"\n[session.alliance]\nmin = 7\nmax = 1\n')


@case("codebook/deeply-nested-arrays", error("CodebookError"))
def _(d):
    return book(d, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")


@case("codebook/hundred-thousand-codes", accept(lambda b: len(b.streams["code"].codes) == 100_000))
def _(d):
    codes = ", ".join(f'"c{i}"' for i in range(100_000))
    return book(d, f'name = "big"\n[streams.code]\nkind = "categorical"\ncodes = [{codes}]\n')


@case("codebook/missing-path", oserror("FileNotFoundError"))
def _(d):
    return PyCall(load_codebook, (str(d / "nope.toml"),), {}, file=str(d / "nope.toml"))


@case("codebook/directory", oserror("IsADirectoryError"))
def _(d):
    (d / "codes.toml").mkdir()
    return PyCall(load_codebook, (str(d / "codes.toml"),), {}, file=str(d / "codes.toml"))


@case("codebook/unknown-name", error(match="unknown codebook", names_file=False))
def _(d):
    return PyCall(load_codebook, ("no_such_book",), {})


@case("codebook/clashing-combination", error(match="both define", names_file=False))
def _(d):
    return PyCall(load_codebook, ("3rs_2015+3rs_2015",), {})
