"""The hidden Markov model's marginal likelihood as one PyTensor Op.

:class:`HMMLogLikelihood` puts :func:`lagnest.kernels.hmm.hmm_value_grad` into a graph:
the forward algorithm over every chain (block) of a corpus gives the log-likelihood, and
the backward pass of the same call gives its gradient with respect to the initial,
transition and emission log-probabilities (the posterior state probabilities and the
expected transitions). The gradient outputs are what PyTensor's ``grad`` of the value
returns, so the log-density and its gradient share one kernel call; the Op is registered
with PyTensor's numba backend (the backend PyMC's and nutpie's samplers compile).

:func:`hmm_log_likelihood_graph` is the same likelihood written with ``pytensor.scan``:
the independent check of the Op in the tests and the baseline of
``benchmarks/bench_hmm.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import (
    numba_njit,
    register_funcify_default_op_cache_key,
)

from lagnest.kernels.hmm import _value_grad, hmm_value_grad

__all__ = ["HMMLogLikelihood", "hmm_log_likelihood", "hmm_log_likelihood_graph"]


class HMMLogLikelihood(Op):
    """Log-likelihood of HMM chains and its gradient (see :mod:`lagnest.kernels.hmm`).

    Inputs: ``log_init (I, K)``, ``init_row (B,)``, ``log_trans (U, K, K)``,
    ``trans_row (N,)``, ``log_emit (N, K)``, ``block_offsets (B + 1,)``. Outputs: the
    log-likelihood (scalar) and its gradients with respect to ``log_init``, ``log_trans``
    and ``log_emit``. Only the first output is meant to be used.
    """

    __props__ = ()

    def make_node(self, log_init: Any, init_row: Any, log_trans: Any, trans_row: Any,
                  log_emit: Any, block_offsets: Any) -> Apply:
        """Check ranks and dtypes and build the node."""
        log_init = pt.as_tensor_variable(log_init, dtype="float64", ndim=2)
        log_trans = pt.as_tensor_variable(log_trans, dtype="float64", ndim=3)
        log_emit = pt.as_tensor_variable(log_emit, dtype="float64", ndim=2)
        init_row = pt.as_tensor_variable(init_row, dtype="int64", ndim=1)
        trans_row = pt.as_tensor_variable(trans_row, dtype="int64", ndim=1)
        block_offsets = pt.as_tensor_variable(block_offsets, dtype="int64", ndim=1)
        outputs = [pt.dscalar(), pt.matrix(dtype="float64"), pt.tensor3(dtype="float64"),
                   pt.matrix(dtype="float64")]
        return Apply(self, [log_init, init_row, log_trans, trans_row, log_emit,
                            block_offsets], outputs)

    def perform(self, node: Apply, inputs: list[np.ndarray], outputs: list[list]) -> None:
        """Evaluate with the numba kernel (Python linkers; the wrapper checks the inputs)."""
        for storage, value in zip(outputs, hmm_value_grad(*inputs), strict=True):
            storage[0] = np.asarray(value)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        """A scalar, then the shapes of ``log_init``, ``log_trans`` and ``log_emit``."""
        return [(), shapes[0], shapes[2], shapes[4]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """The value depends on the three float inputs, not on the integer indices."""
        return [[True, True, True, True], [False, False, False, False],
                [True, True, True, True], [False, False, False, False],
                [True, True, True, True], [False, False, False, False]]

    def pullback(self, inputs: list, outputs: list, cotangents: list) -> list:
        """Gradient of the value: the node's own gradient outputs, scaled."""
        if not all(isinstance(g.type, DisconnectedType) for g in cotangents[1:]):
            raise NotImplementedError("HMMLogLikelihood has no second derivatives")
        scale = cotangents[0]
        return [scale * outputs[1], DisconnectedType()(), scale * outputs[2],
                DisconnectedType()(), scale * outputs[3], DisconnectedType()()]


@register_funcify_default_op_cache_key(HMMLogLikelihood)
def _numba_hmm_log_likelihood(op: HMMLogLikelihood, node: Apply | None = None,
                              **kwargs: Any) -> Any:
    """Numba implementation: the kernel itself (it checks its index ranges)."""

    @numba_njit
    def hmm_log_likelihood_impl(log_init, init_row, log_trans, trans_row, log_emit,
                                block_offsets):
        total, g_init, g_trans, g_emit = _value_grad(log_init, init_row, log_trans,
                                                     trans_row, log_emit, block_offsets)
        value = np.empty(())  # a 0-d array, as PyTensor's scalar output expects
        value[()] = total
        return value, g_init, g_trans, g_emit

    return hmm_log_likelihood_impl, _kernel_salt()


def _kernel_salt() -> int:
    """A 63-bit hash of the kernel's and this wrapper's sources (PyTensor's cache key).

    A graph compiled before either changed is not loaded from PyTensor's on-disk cache.
    """
    import hashlib
    import inspect
    import sys

    from lagnest.kernels import hmm

    text = "\n".join(inspect.getsource(module) for module in (hmm, sys.modules[__name__]))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


_hmm_log_likelihood = HMMLogLikelihood()


def hmm_log_likelihood(log_init: Any, init_row: Any, log_trans: Any, trans_row: Any,
                       log_emit: Any, block_offsets: Any) -> Any:
    """The log-likelihood of the chains, a scalar tensor (see :class:`HMMLogLikelihood`)."""
    return _hmm_log_likelihood(log_init, init_row, log_trans, trans_row, log_emit,
                               block_offsets)[0]


def hmm_log_likelihood_graph(log_init: Any, init_row: np.ndarray, log_trans: Any,
                             trans_row: np.ndarray, log_emit: Any,
                             block_offsets: np.ndarray) -> Any:
    """The same log-likelihood written with ``pytensor.scan`` (log-space forward pass).

    One scan per block; for checks and benchmarks (its cost grows with the Python-level
    graph: one scan node per block).
    """
    import pytensor

    total = pt.as_tensor_variable(np.float64(0.0))
    offsets = np.asarray(block_offsets, dtype=np.int64)
    for b in range(offsets.size - 1):
        start, end = int(offsets[b]), int(offsets[b + 1])
        if end <= start:
            continue
        first = log_init[int(init_row[b])] + log_emit[start]
        if end - start > 1:
            rows = pt.as_tensor_variable(np.asarray(trans_row[start + 1:end], dtype=np.int64))

            def step(emit, row, alpha):
                return pt.logsumexp(alpha[:, None] + log_trans[row], axis=0) + emit

            alphas = pytensor.scan(step, sequences=[log_emit[start + 1:end], rows],
                                   outputs_info=[first], return_updates=False)
            last = alphas[-1]
        else:
            last = first
        total = total + pt.logsumexp(last)
    return total
