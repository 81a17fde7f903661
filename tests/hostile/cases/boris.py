"""Hostile BORIS exports for ``read_boris``."""

from __future__ import annotations

import lagnest as ln
from tests.hostile.harness import PyCall, accept, case, error, lines, oserror, write

AGG = ("Observation id", "Subject", "Behavior", "Behavior type", "Start (s)", "Stop (s)")
TAB = ("Observation id", "Subject", "Behavior", "Behavior type", "Time")


def boris(folder, text: str | bytes, name: str = "x.tsv", **kwargs) -> PyCall:
    path = write(folder / name, text)
    return PyCall(ln.read_boris, (path,), kwargs, file=path)


def agg(*rows: str) -> str:
    return lines(AGG, *rows, sep="\t")


GOOD = agg("o1\tT\ttalk\tSTATE\t0\t12.5", "o1\tP\tnod\tPOINT\t14\t", "o2\tT\ttalk\tSTATE\t1\t3")


@case("boris/good", accept(lambda s: s.n_sessions == 2))
def _(d):
    return boris(d, GOOD)


@case("boris/event-1e11-seconds", error("LimitError", match=r"row 1.*max_segments"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\t0\t100000000000"), segment_seconds=1)


@case("boris/events-add-up", error("LimitError", match="max_segments"))
def _(d):
    rows = [f"o{i}\tT\ttalk\tSTATE\t0\t6000000" for i in range(3)]
    return boris(d, agg(*rows), segment_seconds=1)


@case("boris/start-without-stop", error(match="START without a STOP"))
def _(d):
    return boris(d, lines(TAB, "o1\tT\ttalk\tSTART\t0", sep="\t"))


@case("boris/infinite-start", error(match="bad time"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\tinf\t3"))


@case("boris/nan-start", error(match="bad time"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\tnan\t3"))


@case("boris/negative-start", error(match="bad time"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\t-1\t3"))


@case("boris/huge-digit-start", error(match="bad time"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\t" + "9" * 400 + "\t" + "9" * 401))


@case("boris/arabic-digit-times", accept(lambda s: s.n_segments == 1, warn="digits"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\t١\t٣"))


@case("boris/missing-columns", error(match="missing BORIS column"))
def _(d):
    return boris(d, lines(("Observation id", "Behavior", "Start (s)"), "o1\ttalk\t0", sep="\t"))


@case("boris/nul-in-behavior", error(match="control character"))
def _(d):
    return boris(d, agg("o1\tT\tta\x00lk\tSTATE\t0\t3"))


@case("boris/control-character-in-observation", error(match="control character"))
def _(d):
    return boris(d, agg("o\x071\tT\ttalk\tSTATE\t0\t3"))


@case("boris/duplicated-header", error(match="duplicate"))
def _(d):
    return boris(d, lines((*AGG, "Behavior"), "o1\tT\ttalk\tSTATE\t0\t3\tnod", sep="\t"))


@case("boris/parquet", error(match="Parquet"))
def _(d):
    return boris(d, b"PAR1", name="x.parquet")


@case("boris/not-a-boris-table", error(match="BORIS"))
def _(d):
    return boris(d, lines(("a", "b"), "1\t2", sep="\t"))


@case("boris/segment-seconds-infinite", error(match="segment length", names_file=False))
def _(d):
    return boris(d, GOOD, segment_seconds=float("inf"))


@case("boris/exclusive-overlap", error(match="overlapping"))
def _(d):
    return boris(d, agg("o1\tT\ttalk\tSTATE\t0\t5", "o1\tT\tlaugh\tSTATE\t3\t8"), exclusive=True)


@case("boris/missing-file", oserror("FileNotFoundError"))
def _(d):
    return PyCall(ln.read_boris, (str(d / "nope.tsv"),), {}, file=str(d / "nope.tsv"))


# ---------------------------------------------------------------------------- strings
def strings(folder, text: str | bytes, **kwargs) -> PyCall:
    return boris(folder, text, name="x.txt", **kwargs)


@case("boris-strings/good", accept(lambda s: s.n_segments == 5))
def _(d):
    return strings(d, "# observation id: o1\na|b|a\n\n# observation id: o2\nb|a\n")


@case("boris-strings/empty-behavior", error(match="empty behavior"))
def _(d):
    return strings(d, "# observation id: o1\na||a\n")


@case("boris-strings/nul", error(match=r"line 2.*control character"))
def _(d):
    return strings(d, "# observation id: o1\na|b\x00|a\n")


@case("boris-strings/binary", error())
def _(d):
    return strings(d, bytes(range(256)) * 20, layout="strings")


@case("boris-strings/empty-file", error(match="no sequence"))
def _(d):
    return strings(d, "")


@case("boris-strings/quarter-million-elements", accept(lambda s: s.n_segments == 250_000))
def _(d):  # a file of 0.5 MB
    return strings(d, "# observation id: o1\n" + "|".join(["a", "b"] * 125_000) + "\n")
