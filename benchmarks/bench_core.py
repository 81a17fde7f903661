"""Benchmark of the classical core: lag-1 counting and the permutation test.

Run: ``.venv/bin/python benchmarks/bench_core.py [--quick]``. Writes
``benchmarks/results/core.json`` and ``core.md``. Every ratio is measured in one process
on the same data.

Counting peers, on int8 code arrays of n segments in sessions of 1,000 segments:
lagnest's numba kernel; (a) pure NumPy (valid-pair mask + ``np.bincount``); (b)
``pandas.crosstab``; (c) behatrix ``create_observed_transition_matrix`` (pure Python);
(d) the bandwidth ceiling: one ``numpy.sum`` pass over the given and the target array.
Permutations: 10,000 within-session shuffles of a 10,000-segment corpus.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from lagnest import kernels
from lagnest.classical.lagtable import lag_table as ln_lag_table
from lagnest.classical.permutation import permutation_pvalues, permutation_test
from lagnest.data._streams import StreamData
from lagnest.data.sequences import Sequences

K = 5
SESSION = 1000
RESULTS = Path(__file__).parent / "results"


def best_time(fn: Callable[[], object], budget: float = 2.0, max_reps: int = 7) -> float:
    """Best wall time of ``fn`` over repetitions within a time budget (after one warm-up)."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    reps = int(min(max_reps, max(1, budget // max(first, 1e-9))))
    times = [first]
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_codes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes 0..K-1 with ~2% uncoded (-1), and block offsets every SESSION segments."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, K, n, dtype=np.int8)
    codes[rng.random(n) < 0.02] = -1
    offsets = np.unique(np.append(np.arange(0, n, SESSION), n)).astype(np.int64)
    return codes, offsets


def corpus(codes: np.ndarray, offsets: np.ndarray) -> Sequences:
    """The codes as a one-stream `Sequences` (sessions of SESSION segments, 100 per dyad)."""
    lengths = np.diff(offsets)
    labels = [f"s{i}" for i in range(lengths.size)]
    return Sequences.from_arrays(
        sessions=labels, dyads=[f"d{i // 100}" for i in range(lengths.size)],
        lengths=lengths,
        streams={"code": StreamData("categorical", tuple("abcde"), codes.astype(np.int64))})


def numpy_counts(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Pure NumPy lag-1 table: mask pairs across block ends and uncoded, then bincount."""
    g, t = codes[:-1], codes[1:]
    valid = (g >= 0) & (t >= 0)
    valid[offsets[1:-1] - 1] = False
    idx = g[valid].astype(np.intp) * K + t[valid]
    return np.bincount(idx, minlength=K * K).reshape(K, K)


def pandas_counts(codes: np.ndarray, offsets: np.ndarray) -> pd.DataFrame:
    """pandas.crosstab of the valid pairs."""
    g, t = codes[:-1], codes[1:]
    valid = (g >= 0) & (t >= 0)
    valid[offsets[1:-1] - 1] = False
    return pd.crosstab(g[valid], t[valid])


def ceiling(codes: np.ndarray) -> int:
    """One numpy.sum pass over the given and the target array (same array, two passes)."""
    given, target = codes, codes
    return int(given.sum(dtype=np.int64)) + int(target.sum(dtype=np.int64))


def behatrix_counts(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray | None:
    """behatrix transition matrix on per-block lists of labels (None if not installed)."""
    try:
        from behatrix.behatrix_functions import create_observed_transition_matrix
    except ImportError:
        return None
    labels = np.array(["a", "b", "c", "d", "e", "?"])
    seqs = [list(labels[codes[a:b]]) for a, b in itertools.pairwise(offsets)]
    return create_observed_transition_matrix(seqs, ["a", "b", "c", "d", "e"])


def bench_counting(sizes: list[int], peer_limits: dict[str, int]) -> list[dict]:
    """Time every method at every size (peers only up to their size limit)."""
    rows = []
    for n in sizes:
        codes, offsets = make_codes(n)
        ref = kernels.lag_counts(codes, codes, offsets, None, K, K)[0]
        assert np.array_equal(ref, numpy_counts(codes, offsets))
        seqs = corpus(codes, offsets)
        ln_lag_table(seqs, "code", "code")  # resolve and cache the compact codes once
        methods: dict[str, Callable[[], object]] = {
            "lagnest": lambda c=codes, o=offsets: kernels.lag_counts(c, c, o, None, K, K),
            "lag_table": lambda q=seqs: ln_lag_table(q, "code", "code"),
            "numpy_bincount": lambda c=codes, o=offsets: numpy_counts(c, o),
            "pandas_crosstab": lambda c=codes, o=offsets: pandas_counts(c, o),
            "behatrix": lambda c=codes, o=offsets: behatrix_counts(c, o),
            "numpy_sum_ceiling": lambda c=codes: ceiling(c),
        }
        row: dict = {"n_segments": n}
        for name, fn in methods.items():
            if n > peer_limits.get(name, 10**12):
                row[name] = None
                continue
            if name == "behatrix" and behatrix_counts(codes[:10], np.array([0, 10])) is None:
                row[name] = None
                continue
            row[name] = best_time(fn)
        rows.append(row)
        print(f"n={n:>11,}  " + "  ".join(
            f"{k}={v * 1e3:9.3f}ms" for k, v in row.items() if k != "n_segments" and v), flush=True)
    return rows


def bench_permutation(n_perm: int = 10_000, n: int = 10_000) -> dict:
    """Permutation test of a 10,000-segment corpus (10 sessions)."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, K, n).astype(np.int64)
    sessions = np.arange(0, n + 1, SESSION, dtype=np.int64)
    seeds = kernels.permutation_seeds(0, n_perm)
    kernels.permuted_tables(codes, codes, sessions, sessions, K, K, seeds[:10])  # compile
    kernel = best_time(lambda: kernels.permuted_tables(codes, codes, sessions, sessions, K, K,
                                                       seeds), budget=6, max_reps=3)
    arrays = best_time(lambda: permutation_pvalues(codes, codes, sessions, sessions, K, K,
                                                   n_perm=n_perm, seed=0), budget=6, max_reps=3)
    labels = np.array(list("abcde"))
    seqs = Sequences.from_sequences(
        {"code": [list(labels[codes[a:b]]) for a, b in itertools.pairwise(sessions)]})
    full = best_time(lambda: permutation_test(seqs, "code", "code", n_perm=n_perm, seed=0),
                     budget=6, max_reps=3)
    result = {"n_perm": n_perm, "n_segments": n, "n_sessions": n // SESSION,
              "kernel_only_s": kernel, "with_statistics_s": arrays, "permutation_test_s": full}
    result["behatrix_100_perm_s"] = _behatrix_permutations(codes, sessions, 100)
    return result


def _behatrix_permutations(codes: np.ndarray, sessions: np.ndarray, n_perm: int) -> float | None:
    """behatrix permutations_test with ``n_perm`` permutations (None if unavailable)."""
    try:
        from behatrix import behatrix_functions as bf
    except ImportError:
        return None
    labels = np.array(list("abcde"))
    seqs = [list(labels[codes[a:b]]) for a, b in itertools.pairwise(sessions)]
    behaviours = list("abcde")
    observed = bf.create_observed_transition_matrix(seqs, behaviours)
    t0 = time.perf_counter()
    try:
        bf.permutations_test(n_perm, seqs, behaviours, {}, False, False, observed)
    except Exception as err:  # a peer's failure is recorded, not fatal
        print(f"behatrix permutations_test failed: {err!r}", file=sys.stderr)
        return None
    return time.perf_counter() - t0


def machine_info() -> dict:
    """Machine and library versions."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": pd.__version__,
        "load_avg_at_start": os.getloadavg(),
    }


def write_markdown(data: dict, path: Path) -> None:
    """Human-readable summary."""
    lines = ["# Core benchmark (lag-1 counting, permutation test)", "",
             f"Machine: {data['machine']['cpu']}, {data['machine']['cpu_count']} cores, "
             f"numba {data['machine']['numba']} ({data['machine']['numba_threads']} threads), "
             f"numpy {data['machine']['numpy']}, pandas {data['machine']['pandas']}.", "",
             "Counting: best wall time (ms) for a K=5 lag-1 table of int8 codes in sessions of "
             "1,000 segments (2% uncoded). `lagnest`: the kernel on the code arrays; "
             "`lag_table`: the whole call on a `Sequences` (codes, kernel, statistics, "
             "labelled Dataset). Ratios are peer time / lagnest time; the ceiling ratios "
             "are lagnest time / (numpy.sum over given + target).", "",
             "| segments | lagnest | lag_table | numpy bincount | pandas crosstab | behatrix | "
             "numpy.sum ceiling | lagnest / ceiling | lag_table / ceiling | numpy / lagnest "
             "| pandas / lagnest |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1e3:.3f}"

    def ratio(a: float | None, b: float | None) -> str:
        return "-" if a is None or b is None else f"{a / b:.1f}x"

    for r in data["counting"]:
        lines.append(
            f"| {r['n_segments']:,} | {ms(r['lagnest'])} | {ms(r.get('lag_table'))} | "
            f"{ms(r['numpy_bincount'])} | "
            f"{ms(r['pandas_crosstab'])} | {ms(r['behatrix'])} | {ms(r['numpy_sum_ceiling'])} | "
            f"{ratio(r['lagnest'], r['numpy_sum_ceiling'])} | "
            f"{ratio(r.get('lag_table'), r['numpy_sum_ceiling'])} | "
            f"{ratio(r['numpy_bincount'], r['lagnest'])} | "
            f"{ratio(r['pandas_crosstab'], r['lagnest'])} |")
    p = data["permutation"]
    lines += ["", f"Permutation test: {p['n_perm']:,} within-session shuffles of "
              f"{p['n_segments']:,} segments ({p['n_sessions']} sessions), K=5.", "",
              f"- shuffles + recounts (numba kernel only): {p['kernel_only_s']:.3f} s",
              f"- plus per-permutation statistics and p-values (array layer): "
              f"{p['with_statistics_s']:.3f} s",
              f"- `permutation_test` on a `Sequences` (labelled Dataset): "
              f"{p['permutation_test_s']:.3f} s"]
    if p.get("behatrix_100_perm_s") is not None:
        lines.append(f"- behatrix `permutations_test`, only 100 permutations: "
                     f"{p['behatrix_100_perm_s']:.3f} s")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 10^6 only")
    parser.add_argument("--out", default=str(RESULTS), help="folder of core.json and core.md")
    args = parser.parse_args(argv)
    if behatrix_counts(np.zeros(2, np.int8), np.array([0, 2])) is None:
        print("behatrix is not installed (it comes with the `bench` extra): its columns are "
              "skipped", file=sys.stderr, flush=True)
    top = 6 if args.quick else 8
    sizes = [10**e for e in range(3, top + 1)]
    limits = {"pandas_crosstab": 10**7, "behatrix": 10**6, "lag_table": 10**8}
    kernels.lag_counts(*make_codes(100)[:1] * 2, make_codes(100)[1], None, K, K)  # compile
    data = {"machine": machine_info(), "quick": args.quick,
            "counting": bench_counting(sizes, limits), "permutation": bench_permutation()}
    print(json.dumps(data["permutation"], indent=1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "core.json").write_text(json.dumps(data, indent=1) + "\n")
    write_markdown(data, out / "core.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
