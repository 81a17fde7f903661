#!/usr/bin/env bash
# The long calibration benchmarks (each resumable: rerun to continue). Short passes first
# so that every benchmark has numbers early, then the full sizes (later passes reuse the
# fits of earlier ones: task files are keyed by simulation, not by run size). Usage:
#   nohup bash benchmarks/run_calibration_benchmarks.sh > bench.log 2>&1 &
set -ex
cd "$(dirname "$0")/.."
export NUMBA_NUM_THREADS=1
PY=.venv/bin/python
$PY benchmarks/sbc_transition.py --n 40 --n-speedup 6
$PY benchmarks/design_analysis.py --n-sim 20 --dyads 6,10,20
$PY benchmarks/sbc_regression.py --n 20
$PY benchmarks/sbc_transition.py --n 200 --n-speedup 0
$PY benchmarks/design_analysis.py --n-sim 40 --dyads 6,10,20
$PY benchmarks/sbc_regression.py --n 100
