"""Hostile SDIS files for ``read_sdis``."""

from __future__ import annotations

import random

import lagnest as ln
from tests.hostile.harness import PyCall, accept, case, error, oserror, write

GOOD = "Event a b c;\n<s1> a b c a /\n<s2> b a /\n"


def sdis(folder, text: str | bytes, name: str = "x.sds", **kwargs) -> PyCall:
    path = write(folder / name, text)
    return PyCall(ln.read_sdis, (path,), kwargs, file=path)


def n_segments(n: int):
    return lambda seqs: seqs.n_segments == n


@case("sdis/good", accept(n_segments(6)))
def _(d):
    return sdis(d, GOOD)


@case("sdis/empty-file", error(match="line 1"))
def _(d):
    return sdis(d, "")


@case("sdis/only-comments", error(match="data type"))
def _(d):
    return sdis(d, "% nothing here\n% at all\n")


@case("sdis/unknown-data-type", error(match="data type"))
def _(d):
    return sdis(d, "Eventual a b;\n<s1> a b /\n")


@case("sdis/unterminated-declaration", error(match="declaration"))
def _(d):
    return sdis(d, "Event a b c\n")


@case("sdis/no-session", error(match="no session"))
def _(d):
    return sdis(d, "Event a b;\n")


@case("sdis/unterminated-session", error(match="unterminated session"))
def _(d):
    return sdis(d, "Event a b;\n<s1> a b a\n")


@case("sdis/binary-garbage", error())
def _(d):
    return sdis(d, random.Random(2).randbytes(3000))


@case("sdis/utf16-with-bom", accept(n_segments(6)))
def _(d):
    return sdis(d, b"\xff\xfe" + GOOD.encode("utf-16-le"))


@case("sdis/cp1252-bytes", error(match="decoded"))
def _(d):
    return sdis(d, "Event a b;\n<sesión> a b /\n".encode("cp1252"))


@case("sdis/missing-file", oserror("FileNotFoundError"))
def _(d):
    return PyCall(ln.read_sdis, (str(d / "nope.sds"),), {}, file=str(d / "nope.sds"))


@case("sdis/directory", oserror("IsADirectoryError"))
def _(d):
    (d / "x.sds").mkdir()
    return PyCall(ln.read_sdis, (str(d / "x.sds"),), {}, file=str(d / "x.sds"))


# ---------------------------------------------------------------------------- expansion limits
@case("sdis/interval-repeat-1e8-after", error("LimitError", match=r"line 2.*max_segments"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> a *100000000, b, /\n")


@case("sdis/interval-repeat-1e8-before", error("LimitError", match=r"line 2.*max_segments"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> 100000000*a, b, /\n")


@case("sdis/interval-repeat-huge-digits", error("LimitError", match="max_segments"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> " + "9" * 400 + "*a, b, /\n")


@case("sdis/interval-repeats-add-up", error("LimitError", match="max_segments"))
def _(d):
    sessions = "".join(f"<s{i}> 6000000*a, b, /\n" for i in range(3))
    return sdis(d, "Interval a b;\n" + sessions)


@case("sdis/interval-repeat-within-limit", accept(n_segments(2_000_001)))
def _(d):
    return sdis(d, "Interval a b;\n<s1> 2000000*a, b, /\n")


@case("sdis/interval-repeat-lower-limit", error("LimitError", match="max_segments=1,000"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> 2000*a, b, /\n", max_segments=1000)


@case("sdis/interval-repeat-arabic-digits", error(match="repetition"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> ٣*a, b, /\n")


@case("sdis/interval-repeat-zero", error(match="repetition"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> 0*a, b, /\n")


@case("sdis/interval-two-repeat-counts", error(match="two repetition counts"))
def _(d):
    return sdis(d, "Interval a b;\n<s1> 2*a *3, b, /\n")


@case("sdis/timed-event-1e11-seconds", error("LimitError", match=r"line 2.*max_segments"))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-100000000000 b,5-6 /\n", segment_seconds=1)


@case("sdis/timed-event-1e11-seconds-event-level", accept(n_segments(2)))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-100000000000 b,5-6 /\n")


@case("sdis/timed-tiny-segments", error("LimitError", match="max_segments"))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-10 b,5-6 /\n", segment_seconds=1e-9)


@case("sdis/timed-end-time-huge", error("LimitError", match="max_segments"))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-10 b,5-6 ,99999999999 /\n", segment_seconds=1)


@case("sdis/timed-many-long-events", error("LimitError", match="max_segments"))
def _(d):
    events = " ".join(f"a,{i}-{i + 5_000_000}" for i in range(3))
    return sdis(d, f"Timed a b;\n<s1> {events} /\n<s2> {events} /\n", segment_seconds=1)


@case("sdis/timed-long-event-within-limit", accept(n_segments(1_000_000)))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-1000000 b,5-6 /\n", segment_seconds=1)


@case("sdis/timed-infinite-time", error(match="time"))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-" + "9" * 400 + " /\n")


@case("sdis/timed-arabic-digit-time", error(match="time"))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-١٢ /\n")


@case("sdis/state-huge-duration", error("LimitError", match="max_segments"))
def _(d):
    return sdis(d, "State a b;\n<s1> a=99999999999 b=5 /\n", segment_seconds=1)


@case("sdis/segment-seconds-infinite", error(match="segment length", names_file=False))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-10 /\n", segment_seconds=float("inf"))


@case("sdis/segment-seconds-nan", error(match="segment length", names_file=False))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-10 /\n", segment_seconds=float("nan"))


@case("sdis/min-overlap-infinite", error(match="min_overlap", names_file=False))
def _(d):
    return sdis(d, "Timed a b;\n<s1> a,0-10 /\n", segment_seconds=1, min_overlap=float("inf"))


# ---------------------------------------------------------------------------- pragmas
@case("sdis/pragma-segments-beyond-int64", error(match="segments"))
def _(d):
    return sdis(d, "Event a b;\n<s1>\n% lagnest: segments 1 1e30\na b /\n")


@case("sdis/pragma-segments-arabic-digits", error(match="segments"))
def _(d):
    return sdis(d, "Event a b;\n<s1>\n% lagnest: segments ١ ٢\na b /\n")


@case("sdis/pragma-rating-infinite", error(match="rating"))
def _(d):
    return sdis(d, "% lagnest: ratings r\nEvent a b;\n<s1>\n% lagnest: rating r 1 inf\na b /\n")


@case("sdis/pragma-breaks-out-of-range", error(match="breaks"))
def _(d):
    return sdis(d, "Event a b;\n<s1>\n% lagnest: breaks 999\na b /\n")


@case("sdis/pragma-unknown-codebook", error(match="codebook"))
def _(d):
    return sdis(d, "% lagnest: codebook no_such_book\nEvent a b;\n<s1> a b /\n")


# ---------------------------------------------------------------------------- characters
@case("sdis/nul-in-code", error(match=r"line 2.*control character"))
def _(d):
    return sdis(d, "Event;\n<s1> a b\x00c a /\n")


@case("sdis/control-character-in-label", error(match="control character"))
def _(d):
    return sdis(d, "Event a b;\n<s\x01one> a b /\n")


@case("sdis/unterminated-label", error(match="label"))
def _(d):
    return sdis(d, "Event a b;\n<s1 a b /\n")


@case("sdis/empty-label", error(match="empty session label"))
def _(d):
    return sdis(d, "Event a b;\n<> a b /\n")


@case("sdis/megabyte-unknown-code", error(match="unknown code"))
def _(d):
    return sdis(d, "Event a b;\n<s1> a " + "x" * 1_000_000 + " b /\n")


@case("sdis/code-in-two-sets", error(match="declared in sets"))
def _(d):
    return sdis(d, "Event ($x = a b) ($y = b c);\n<s1> a b /\n")


@case("sdis/factor-level-count", error(match="factor levels"))
def _(d):
    return sdis(d, "Event a b * dyad group;\n<s1> a b (d1) /\n")


@case("sdis/duplicate-session-labels", error(match="duplicate session label"))
def _(d):
    return sdis(d, "Event a b;\n<s1> a b /\n<s1> b a /\n")


# ---------------------------------------------------------------------------- size and time
@case("sdis/half-million-events-one-line", accept(n_segments(500_000)))
def _(d):  # a file of 4 MB
    return sdis(d, "Event a b c;\n<s1> " + "a b c b " * 125_000 + "/\n")


@case("sdis/fifty-thousand-sessions", accept(lambda s: s.n_sessions == 50_000))
def _(d):  # a file of 1 MB
    return sdis(d, "Event a b;\n" + "".join(f"<s{i}> a b /\n" for i in range(50_000)))


@case("sdis/ten-thousand-code-sets", accept(lambda s: len(s.streams) == 10_000))
def _(d):
    sets = " ".join(f"($s{i} = c{i})" for i in range(10_000))
    return sdis(d, f"Multievent {sets};\n<s1> c1 c2. c3. /\n")
