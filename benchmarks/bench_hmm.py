"""The HMM likelihood kernel: cost of the gradient against the forward pass and PyTensor scan.

On N segments in sessions of 900 (the nonverbal corpus's shape), K states and the
emission log-likelihood of four streams already summed into ``log_emit (N, K)``: the best
wall time of (a) the forward pass alone (:func:`lagnest.kernels.hmm.hmm_log_likelihood`),
(b) the value and gradient in one call (:func:`~lagnest.kernels.hmm.hmm_value_grad`), and
(c) the same value and gradient from a compiled PyTensor graph written with ``scan``
(:func:`lagnest.models.hmm_likelihood.hmm_log_likelihood_graph`, one scan per session)
and its automatic gradient, all in one process on the same arrays.

Run: ``.venv/bin/python benchmarks/bench_hmm.py [--quick] [--out DIR]``. Writes
``hmm.json`` and ``hmm.md`` in ``results/`` (or DIR).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from bench_core import best_time, machine_info
from scipy.special import logsumexp

from lagnest.kernels.hmm import hmm_log_likelihood, hmm_value_grad

RESULTS = Path(__file__).parent / "results"
SESSION = 900


def make_case(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Random chains of SESSION segments: one initial row, one matrix per session."""
    rng = np.random.default_rng(seed)
    offsets = np.unique(np.append(np.arange(0, n, SESSION), n)).astype(np.int64)
    n_blocks = offsets.size - 1

    def log_simplex(shape: tuple[int, ...]) -> np.ndarray:
        x = rng.normal(size=shape)
        return x - logsumexp(x, axis=-1, keepdims=True)

    trans_row = np.repeat(np.arange(n_blocks), np.diff(offsets)).astype(np.int64)
    return (log_simplex((1, k)), np.zeros(n_blocks, dtype=np.int64),
            log_simplex((n_blocks, k, k)), trans_row, rng.normal(size=(n, k)) - 2.0, offsets)


def scan_functions(case: tuple[np.ndarray, ...]) -> tuple[object, float]:
    """Compiled PyTensor function of the scan likelihood and its gradient; compile time."""
    import pytensor
    import pytensor.tensor as pt

    from lagnest.models.hmm_likelihood import hmm_log_likelihood_graph

    _log_init, init_row, _log_trans, trans_row, _log_emit, offsets = case
    a, t, e = pt.dmatrix("a"), pt.dtensor3("t"), pt.dmatrix("e")
    value = hmm_log_likelihood_graph(a, init_row, t, trans_row, e, offsets)
    t0 = time.perf_counter()
    fn = pytensor.function([a, t, e], [value, *pytensor.grad(value, [a, t, e])])
    return fn, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 segments only")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    rows = []
    for n in sizes:
        for k in (2, 3, 4):
            case = make_case(n, k)
            hmm_value_grad(*case)  # compile
            forward = best_time(lambda c=case: hmm_log_likelihood(*c))
            grad = best_time(lambda c=case: hmm_value_grad(*c))
            row = {"n_segments": n, "k": k, "forward_s": forward, "value_grad_s": grad,
                   "grad_over_forward": grad / forward}
            if n <= 10_000:
                fn, compile_s = scan_functions(case)
                floats = (case[0], case[2], case[4])
                out = fn(*floats)
                assert np.isclose(out[0], hmm_value_grad(*case)[0])
                scan = best_time(lambda f=fn, x=floats: f(*x), budget=4)
                row.update(scan_value_grad_s=scan, scan_compile_s=compile_s,
                           scan_over_kernel=scan / grad)
            rows.append(row)
            print(json.dumps(row), flush=True)
    data = {"machine": machine_info(), "session_length": SESSION, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "hmm.json").write_text(json.dumps(data, indent=1) + "\n")
    lines = ["# HMM likelihood kernel", "",
             f"Machine: {data['machine']['cpu']}, {data['machine']['cpu_count']} cores. "
             f"Chains of {SESSION} segments; best wall time (ms).", "",
             "| segments | K | forward | value + gradient | gradient / forward | "
             "PyTensor scan (value + grad) | scan / kernel |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        scan = r.get("scan_value_grad_s")
        lines.append(
            f"| {r['n_segments']:,} | {r['k']} | {r['forward_s'] * 1e3:.3f} | "
            f"{r['value_grad_s'] * 1e3:.3f} | {r['grad_over_forward']:.2f}x | "
            + (f"{scan * 1e3:.1f} | {r['scan_over_kernel']:.0f}x |" if scan else "- | - |"))
    (out / "hmm.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
