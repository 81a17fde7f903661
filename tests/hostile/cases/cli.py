"""Hostile command lines: ``python -m lagnest.cli ...`` must exit 2 with one line on stderr."""

from __future__ import annotations

from tests.hostile.cases.sdis import GOOD as GOOD_SDIS
from tests.hostile.cases.spec import GOOD as GOOD_SPEC
from tests.hostile.cases.table import GOOD, HEADER
from tests.hostile.harness import CliCall, case, cli, lines, write

ALL_UNCODED = lines(HEADER, "d1,s1,1,", "d1,s1,2,", "d1,s1,3,a")
#: A spec the embedded example corpus fits (``lagnest fit`` without --data).
EXAMPLE_SPEC = GOOD_SPEC.replace('given = "code"', 'given = "rupture"').replace(
    'target = "code"', 'target = "resolution"'
)


def run(*args: str) -> CliCall:
    return CliCall(tuple(args))


@case("cli/no-arguments", cli())
def _(d):
    return run()


@case("cli/unknown-option", cli())
def _(d):
    return run("summary", "--no-such-option")


@case("cli/summary-missing-file", cli(match="nope.csv"))
def _(d):
    return run("summary", "nope.csv")


@case("cli/summary-directory", cli(match="data.csv"))
def _(d):
    (d / "data.csv").mkdir()
    return run("summary", "data.csv")


@case("cli/summary-empty-file", cli(match="x.csv"))
def _(d):
    write(d / "x.csv", "")
    return run("summary", "x.csv")


@case("cli/summary-duplicated-header", cli(match="duplicate"))
def _(d):
    write(d / "x.csv", lines((*HEADER, "code"), "d1,s1,1,a,b"))
    return run("summary", "x.csv")


@case("cli/summary-thousand-bad-rows", cli(match="x.csv"))
def _(d):
    write(d / "x.csv", lines(HEADER, *[f"d1,s1,{i}.5,a" for i in range(1000)]))
    return run("summary", "x.csv")


@case("cli/summary-segment-beyond-int64", cli(match="segment"))
def _(d):
    write(d / "x.csv", lines(HEADER, "d1,s1,99999999999999999999999,a"))
    return run("summary", "x.csv")


@case("cli/summary-unknown-codebook", cli(match="codebook"))
def _(d):
    write(d / "x.csv", GOOD)
    return run("summary", "x.csv", "--codebook", "no_such_book")


@case("cli/summary-not-a-workbook", cli(match="x.xlsx"))
def _(d):
    write(d / "x.xlsx", GOOD)
    return run("summary", "x.xlsx")


@case("cli/summary-empty-separator", cli())
def _(d):
    write(d / "x.csv", GOOD)
    return run("summary", "x.csv", "--sep", "")


@case("cli/table-unknown-code", cli(match="nope"))
def _(d):
    write(d / "x.csv", GOOD)
    return run("table", "x.csv", "--given", "nope", "--target", "code")


@case("cli/table-negative-lag", cli(match="lag"))
def _(d):
    write(d / "x.csv", GOOD)
    return run("table", "x.csv", "--given", "code", "--target", "code", "--lag", "-1")


@case("cli/table-enormous-lag", cli(match="lag"))
def _(d):
    write(d / "x.csv", GOOD)
    return run("table", "x.csv", "--given", "code", "--target", "code", "--lag", "1" + "0" * 30)


@case("cli/table-lag-longer-than-sessions", cli(match="lag"))
def _(d):
    write(d / "x.csv", GOOD)
    return run("table", "x.csv", "--given", "code", "--target", "code", "--lag", "1000")


@case("cli/table-n-zero", cli(match="N = 0|no lag pairs|no pairs"))
def _(d):
    write(d / "x.csv", ALL_UNCODED)
    return run("table", "x.csv", "--given", "code", "--target", "code")


@case("cli/convert-repeat-bomb", cli(match="max_segments"))
def _(d):
    write(d / "in.sds", "Interval a b;\n<s1> a *100000000, b, /\n")
    return run("convert", "in.sds", "out.csv")


@case("cli/convert-unknown-output-suffix", cli(match="suffix"))
def _(d):
    write(d / "in.sds", GOOD_SDIS)
    return run("convert", "in.sds", "out.json")


@case("cli/convert-output-folder-missing", cli(match="out.csv"))
def _(d):
    write(d / "in.sds", GOOD_SDIS)
    return run("convert", "in.sds", "no/such/folder/out.csv")


@case("cli/convert-negative-segment-seconds", cli(match="segment"))
def _(d):
    write(d / "in.sds", "Timed a b;\n<s1> a,0-10 /\n")
    return run("convert", "in.sds", "out.csv", "--segment-seconds", "-1")


@case("cli/convert-nan-segment-seconds", cli(match="segment"))
def _(d):
    write(d / "in.sds", "Timed a b;\n<s1> a,0-10 /\n")
    return run("convert", "in.sds", "out.csv", "--segment-seconds", "nan")


@case("cli/convert-boris-event-1e11-seconds", cli(match="max_segments"))
def _(d):
    header = "Observation id\tSubject\tBehavior\tBehavior type\tStart (s)\tStop (s)\n"
    write(d / "in.tsv", header + "o1\tT\ttalk\tSTATE\t0\t100000000000\n")
    return run("convert", "in.tsv", "out.csv", "--segment-seconds", "1")


@case("cli/fit-missing-spec", cli(match="nope.toml"))
def _(d):
    return run("fit", "nope.toml", "--out", "fit.nc")


@case("cli/fit-malformed-spec", cli(match="spec.toml"))
def _(d):
    write(d / "spec.toml", "[model\n")
    return run("fit", "spec.toml", "--out", "fit.nc")


@case("cli/fit-negative-seed", cli(match="seed"))
def _(d):
    write(d / "spec.toml", EXAMPLE_SPEC)
    return run("fit", "spec.toml", "--out", "fit.nc", "--seed", "-1")


@case("cli/fit-zero-draws", cli(match="draws"))
def _(d):
    write(d / "spec.toml", EXAMPLE_SPEC)
    return run("fit", "spec.toml", "--out", "fit.nc", "--draws", "0")


@case("cli/fit-out-folder-missing", cli(match="fit.nc"))
def _(d):
    write(d / "spec.toml", EXAMPLE_SPEC)
    return run("fit", "spec.toml", "--out", "no/such/fit.nc")


@case("cli/fit-out-is-a-directory", cli(match="fit.nc"))
def _(d):
    write(d / "spec.toml", EXAMPLE_SPEC)
    (d / "fit.nc").mkdir()
    return run("fit", "spec.toml", "--out", "fit.nc")


@case("cli/fit-out-wrong-suffix", cli(match=r"\.nc"))
def _(d):
    write(d / "spec.toml", EXAMPLE_SPEC)
    return run("fit", "spec.toml", "--out", "fit.txt")


@case("cli/simulate-negative-seed", cli(match="seed"))
def _(d):
    return run("simulate", "out.csv", "--seed", "-5")


@case("cli/simulate-output-folder-missing", cli(match="out.csv"))
def _(d):
    return run("simulate", "no/such/out.csv", "--seed", "1")
