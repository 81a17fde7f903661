"""Numba kernels: arrays in, arrays out (the kernel contract is in ``ARCHITECTURE.md``).

Kernels see contiguous NumPy arrays only and write into preallocated outputs; the public
wrappers validate dtypes, shapes, contiguity and ranges first, so a bad array raises a
Python exception instead of corrupting memory inside numba. One module per job:

* :mod:`~lagnest.kernels.counts`: lag, window and indicator-set tables, code triples;
* :mod:`~lagnest.kernels.shuffles`: within-session shuffles for permutation tests;
* :mod:`~lagnest.kernels.replicate`: replicated sequences for predictive checks;
* :mod:`~lagnest.kernels.runs`: runs of codes;
* :mod:`~lagnest.kernels.patterns`: pattern keys and rows of lagged regressions;
* :mod:`~lagnest.kernels.softmax`: the multinomial-logit likelihood on count rows;
* :mod:`~lagnest.kernels.timed`: time units of timed events, their states and windows, and
  shuffles of events that keep their durations;
* :mod:`~lagnest.kernels._common`: compile flags, the SplitMix64 generator, seeds and the
  wrappers' validation (``as_codes``, ``check_blocks``, ``check_lag``, ...), which the
  layers above call before they hand arrays to a kernel.

Conventions: codes are integer arrays (any integer dtype; ``int8`` saves bandwidth),
``0..K-1``, any negative value = uncoded; ``block_offsets`` (n_blocks + 1) delimit blocks,
maximal runs of segments without a break inside one session, and a lag pair ``(t, t +
lag)`` is tallied only when both segments lie in one block and both are coded;
``block_unit`` (n_blocks) maps each block to the unit (session, dyad, or 0 for a pooled
table) whose table it feeds. Randomness uses a SplitMix64 generator seeded per
permutation (or per replicate) from :class:`numpy.random.SeedSequence`, so results do not
depend on thread scheduling, on the number of threads, or on whether numba's JIT is
enabled. Nothing here imports another lagnest layer but the errors.
"""

from lagnest.kernels._common import (
    JIT_OPTIONS,
    PARALLEL_JIT_OPTIONS,
    as_codes,
    as_index,
    check_blocks,
    check_lag,
    check_units,
    permutation_seeds,
    replicate_rows,
    replicate_seeds,
)
from lagnest.kernels.counts import lag_counts, lag_pair_starts, set_lag_counts, triple_counts
from lagnest.kernels.patterns import (
    MAX_PATTERN_KEY,
    check_pattern_lags,
    check_pattern_radices,
    decode_pattern_keys,
    pattern_code_dtype,
    pattern_key_space,
    pattern_keys,
    pattern_rows,
)
from lagnest.kernels.replicate import (
    PROB_ROW_TOLERANCE,
    simulate_chains,
    simulate_given,
    simulate_history,
)
from lagnest.kernels.runs import run_lengths
from lagnest.kernels.shuffles import (
    ConstrainedShuffler,
    constrained_permuted_tables,
    permutable_positions,
    permuted_tables,
)
from lagnest.kernels.softmax import exp_into, multinomial_logit_value_grad
from lagnest.kernels.timed import (
    MAX_TIME_UNITS,
    check_resolution,
    permuted_timed_tables,
    time_units,
    unit_blocks,
    unit_states,
    window_states,
)

__all__ = [
    "JIT_OPTIONS",
    "MAX_PATTERN_KEY",
    "MAX_TIME_UNITS",
    "PARALLEL_JIT_OPTIONS",
    "PROB_ROW_TOLERANCE",
    "ConstrainedShuffler",
    "as_codes",
    "as_index",
    "check_blocks",
    "check_lag",
    "check_pattern_lags",
    "check_pattern_radices",
    "check_resolution",
    "check_units",
    "constrained_permuted_tables",
    "decode_pattern_keys",
    "exp_into",
    "lag_counts",
    "lag_pair_starts",
    "multinomial_logit_value_grad",
    "pattern_code_dtype",
    "pattern_key_space",
    "pattern_keys",
    "pattern_rows",
    "permutable_positions",
    "permutation_seeds",
    "permuted_tables",
    "permuted_timed_tables",
    "replicate_rows",
    "replicate_seeds",
    "run_lengths",
    "set_lag_counts",
    "simulate_chains",
    "simulate_given",
    "simulate_history",
    "time_units",
    "triple_counts",
    "unit_blocks",
    "unit_states",
    "window_states",
]
