"""Benchmark of time-unit tables of timed events against cutting them into segments.

Run: ``.venv/bin/python benchmarks/bench_timed.py [--quick] [--out DIR]``. Writes
``benchmarks/results/timed.json`` and ``timed.md``. Every ratio is measured in one process
on the same events.

Data: sessions of 1,000 events, two codes A and B (500 bouts each, placed independently):
durations uniform on 0.5-5 s, gaps uniform on 0.5-10 s, times in whole centiseconds, so a
session lasts about an hour. The tally is the lag-0 time-unit table of A against B at a
resolution of 1 s. Methods, all returning the same counts (checked):

* ``timed_table``: :func:`lagnest.timed_table` on the `TimedEvents` (validation, units,
  states, counts, statistics, labelled Dataset);
* ``kernels``: :func:`lagnest.kernels.time_units` + two
  :func:`lagnest.kernels.unit_states` + :func:`lagnest.kernels.lag_counts` on the arrays;
* ``segmented``: the route before timed tables, ``events.to_sequences(1.0)`` (the
  readers' ``segment_seconds`` cutting) and then :func:`lagnest.lag_table` (``lag=0``);
* ``pandas``: the units of every event with ``floor``/``ceil`` and ``numpy.repeat``
  (one row per event and unit), ``drop_duplicates`` per code, the presence of A and B per
  unit, then ``pandas.crosstab``.

Also timed: a GSEQ window (``(A+1, (A+5``) and a lag of 1 s with ``timed_table``, and
:func:`lagnest.timed_permutation_test` with 100 permutations.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from bench_core import best_time, machine_info

import lagnest as ln
from lagnest import kernels

EVENTS_PER_SESSION = 1000
RESULTS = Path(__file__).parent / "results"


def make_events(n_events: int, seed: int = 0) -> ln.TimedEvents:
    """``n_events`` events of A and B in sessions of EVENTS_PER_SESSION (module docstring)."""
    rng = np.random.default_rng(seed)
    n_sessions = max(1, n_events // EVENTS_PER_SESSION)
    per_code = EVENTS_PER_SESSION // 2
    shape = (n_sessions, 2, per_code)
    dur = rng.integers(50, 501, shape)
    gap = rng.integers(50, 1001, shape)
    start = np.cumsum(gap + dur, axis=2) - dur  # centiseconds
    onset, offset = start / 100.0, (start + dur) / 100.0
    session = np.broadcast_to(np.arange(n_sessions)[:, None, None], shape)
    code = np.broadcast_to(np.arange(2)[None, :, None], shape)
    ends = offset.max(axis=(1, 2))
    return ln.TimedEvents(session.ravel(), np.zeros(session.size, np.int64), code.ravel(),
                          onset.ravel(), offset.ravel(), [f"s{i}" for i in range(n_sessions)],
                          [f"d{i // 10}" for i in range(n_sessions)], ["code"], [("A", "B")],
                          session_end=ends)


def kernel_counts(ev: ln.TimedEvents) -> np.ndarray:
    """The lag-0 table from the kernels alone."""
    offsets, first, stop, _ = kernels.time_units(ev.session, ev.onset, ev.offset,
                                                 ev.session_start, ev.session_end, 1.0)
    n = int(offsets[-1])
    a, b = ev.code == 0, ev.code == 1
    given = kernels.unit_states(first[a], stop[a], n)
    target = kernels.unit_states(first[b], stop[b], n)
    return kernels.lag_counts(given, target, offsets, None, 2, 2, lag=0)[0]


def segmented_counts(ev: ln.TimedEvents) -> tuple[np.ndarray, float, float]:
    """Cut into 1 s segments, then lag_table; also the seconds each step took."""
    t0 = time.perf_counter()
    seqs = ev.to_sequences(1.0)
    t1 = time.perf_counter()
    counts = ln.lag_table(seqs, "A", "B", lag=0).counts.values
    return counts, t1 - t0, time.perf_counter() - t1


def pandas_counts(ev: ln.TimedEvents) -> np.ndarray:
    """Explode events into (unit, code) rows, presence per unit, crosstab (1 s units)."""
    n_units = np.ceil(ev.session_end).astype(np.int64)
    base = np.concatenate([[0], np.cumsum(n_units)])
    lo = np.floor(ev.onset).astype(np.int64)
    hi = np.ceil(ev.offset).astype(np.int64)
    lengths = hi - lo
    rows = np.repeat(np.arange(ev.n_events), lengths)
    within = np.arange(rows.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    frame = pd.DataFrame({"unit": base[ev.session[rows]] + lo[rows] + within,
                          "code": ev.code[rows]}).drop_duplicates()
    present = frame.assign(on=1).pivot_table(index="unit", columns="code", values="on",
                                             aggfunc="max", fill_value=0)
    present = present.reindex(index=np.arange(base[-1]), columns=[0, 1], fill_value=0)
    table = pd.crosstab(present[0], present[1])
    return table.reindex(index=[0, 1], columns=[0, 1], fill_value=0).to_numpy()


def bench(sizes: list[int], segmented_limit: int, n_perm: int) -> list[dict]:
    """Time every method at every size."""
    rows = []
    for n in sizes:
        ev = make_events(n)
        ref = ln.timed_table(ev, "A", "B").counts.values
        assert np.array_equal(ref, kernel_counts(ev))
        assert np.array_equal(ref, pandas_counts(ev))
        row: dict = {"n_events": ev.n_events, "n_sessions": ev.n_sessions,
                     "n_units": int(ref.sum())}
        methods: dict[str, Callable[[], object]] = {
            "timed_table": lambda e=ev: ln.timed_table(e, "A", "B"),
            "kernels": lambda e=ev: kernel_counts(e),
            "pandas": lambda e=ev: pandas_counts(e),
            "timed_table_window": lambda e=ev: ln.timed_table(e, "A", "B", window="(A+1, (A+5"),
            "timed_table_lag1": lambda e=ev: ln.timed_table(e, "A", "B", lag_seconds=1),
        }
        for name, fn in methods.items():
            row[name] = best_time(fn)
        if n <= segmented_limit:
            counts, cut, table = segmented_counts(ev)
            assert np.array_equal(ref, counts)
            row["segmented_cut"], row["segmented_table"] = cut, table
            row["segmented"] = cut + table
        t0 = time.perf_counter()
        ln.timed_permutation_test(ev, "A", "B", n_perm=n_perm, seed=0)
        row["permutation_test"] = time.perf_counter() - t0
        row["n_perm"] = n_perm
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def write_markdown(data: dict, path: Path) -> None:
    """Human-readable summary."""
    m = data["machine"]
    lines = [
        "# Timed-event benchmark (time-unit tables against cutting into segments)", "",
        f"Machine: {m['cpu']}, {m['cpu_count']} cores, numba {m['numba']} "
        f"({m['numba_threads']} threads), numpy {m['numpy']}, pandas {m['pandas']}; load "
        f"average at start {m['load_avg_at_start'][0]:.2f} (the cores are shared).", "",
        "Events of two codes A and B in sessions of 1,000 events (about an hour each), "
        "durations 0.5-5 s, gaps 0.5-10 s; the lag-0 table of A against B in time units of "
        "1 s. Best wall time in ms (after a warm-up call; the segmented route once). "
        "`timed_table`: the whole call on the `TimedEvents`; `kernels`: units, states and "
        "counts on the arrays; `segmented`: `to_sequences(1.0)` + `lag_table(lag=0)` (the "
        "route before timed tables); `pandas`: explode events into (unit, code) rows + "
        "`crosstab`. Every method returns the same counts (checked). Ratios are "
        "peer / `timed_table`.", "",
        "| events | sessions | units | timed_table | kernels | segmented (cut + table) | "
        "pandas | segmented / timed_table | pandas / timed_table |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1e3:,.1f}"

    def ratio(a: float | None, b: float | None) -> str:
        return "-" if a is None or b is None else f"{a / b:,.0f}x"

    for r in data["rows"]:
        seg = (f"{ms(r['segmented'])} ({ms(r['segmented_cut'])} + {ms(r['segmented_table'])})"
               if "segmented" in r else "-")
        lines.append(
            f"| {r['n_events']:,} | {r['n_sessions']:,} | {r['n_units']:,} | "
            f"{ms(r['timed_table'])} | {ms(r['kernels'])} | {seg} | {ms(r['pandas'])} | "
            f"{ratio(r.get('segmented'), r['timed_table'])} | "
            f"{ratio(r['pandas'], r['timed_table'])} |")
    lines += ["", "Other calls on the same events (ms): a GSEQ window `(A+1, (A+5` and a "
              "lag of 1 s with `timed_table`, and `timed_permutation_test` (target events "
              "shuffled within sessions, durations kept; one run).", "",
              "| events | window (A+1, (A+5 | lag 1 s | permutation test |",
              "|---:|---:|---:|---:|"]
    for r in data["rows"]:
        lines.append(f"| {r['n_events']:,} | {ms(r['timed_table_window'])} | "
                     f"{ms(r['timed_table_lag1'])} | {ms(r['permutation_test'])} "
                     f"({r['n_perm']} permutations) |")
    lines += ["", f"Command: `{data['command']}`"]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 events only")
    parser.add_argument("--out", default=str(RESULTS), help="folder of timed.json and timed.md")
    args = parser.parse_args(argv)
    sizes = [10**4, 10**5] if args.quick else [10**5, 10**6]
    kernel_counts(make_events(1000))  # compile
    ln.timed_permutation_test(make_events(1000), "A", "B", n_perm=2)
    data = {"machine": machine_info(), "quick": args.quick,
            "rows": bench(sizes, segmented_limit=10**6, n_perm=100),
            "command": ".venv/bin/python benchmarks/bench_timed.py"
            + (" --quick" if args.quick else "")}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "timed.json").write_text(json.dumps(data, indent=1) + "\n")
    write_markdown(data, out / "timed.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
