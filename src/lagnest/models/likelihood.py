"""The multinomial-logit likelihood of aggregated count rows, as one PyTensor Op.

A model whose rows are (group, design unit) cells with counts over ``K`` target
categories (``LaggedRegression``: a session and a distinct predictor pattern) has the
log-likelihood ``sum_r [counts_r . logits_r - n_r logsumexp(logits_r)]`` with ``logits_r
= (0, eta_unit[unit_r] + intercept[group_r])``. Written in PyTensor, the gathers, the
log-softmax and the scatter of its gradient back to units and groups are several passes
over the ``R x K`` logits. :class:`MultinomialLogitRows` computes the value and both
gradients in one call of the numba kernel
:func:`lagnest.kernels.softmax.multinomial_logit_value_grad` (registered with PyTensor's
numba backend, so it runs inside the compiled graph PyMC's and nutpie's samplers call).
The gradient outputs are the gradient: PyTensor's ``grad`` of the value returns them,
and since they are outputs of the same node, the log-density and its gradient share one
kernel call.

:func:`aggregated_multinomial_logit` adds the observed variable to a PyMC model: a
``pm.CustomDist`` whose draws are ``pm.Multinomial`` (prior and posterior predictive
sampling) and whose log-probability is the Op.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, grad_undefined
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import (
    numba_njit,
    register_funcify_default_op_cache_key,
)

from lagnest.kernels.softmax import multinomial_logit_value_grad

__all__ = [
    "MultinomialLogitRows",
    "aggregated_multinomial_logit",
    "multinomial_logit_rows",
    "row_logits_graph",
]


class MultinomialLogitRows(Op):
    """Log-likelihood of count rows under a multinomial logit, and its gradient.

    Inputs: ``eta_unit (U, K-1)``, ``intercept (G, K-1)`` (float64), ``row_unit (R,)``,
    ``row_group (R,)`` (int64), ``counts (R, K)``. Outputs: the log-likelihood (scalar,
    without the multinomial coefficient), its gradient with respect to ``eta_unit`` and
    with respect to ``intercept``. Only the first output is meant to be used; the other two
    are what its gradient returns.
    """

    __props__ = ()

    def make_node(self, eta_unit: Any, intercept: Any, row_unit: Any, row_group: Any,
                  counts: Any) -> Apply:
        """Check ranks and dtypes and build the node."""
        eta_unit = pt.as_tensor_variable(eta_unit, dtype="float64", ndim=2)
        intercept = pt.as_tensor_variable(intercept, dtype="float64", ndim=2)
        row_unit = pt.as_tensor_variable(row_unit, dtype="int64", ndim=1)
        row_group = pt.as_tensor_variable(row_group, dtype="int64", ndim=1)
        counts = pt.as_tensor_variable(counts, ndim=2)
        if counts.dtype not in ("int64", "float64"):
            counts = pt.cast(counts, "float64")
        outputs = [pt.dscalar(), pt.matrix(dtype="float64"), pt.matrix(dtype="float64")]
        return Apply(self, [eta_unit, intercept, row_unit, row_group, counts], outputs)

    def perform(self, node: Apply, inputs: list[np.ndarray], outputs: list[list]) -> None:
        """Evaluate with the numba kernel (Python linkers)."""
        for storage, value in zip(outputs, multinomial_logit_value_grad(*inputs), strict=True):
            storage[0] = value

    def infer_shape(self, node: Apply, shapes: list) -> list:
        """Shapes of the outputs: a scalar, then those of ``eta_unit`` and ``intercept``."""
        return [(), shapes[0], shapes[1]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """The value depends on every input but the integer indices."""
        return [[True, True, True], [True, True, True], [False, False, False],
                [False, False, False], [True, True, True]]

    def pullback(self, inputs: list, outputs: list, cotangents: list) -> list:
        """Gradient of the value: the node's own gradient outputs, scaled."""
        if not all(isinstance(g.type, DisconnectedType) for g in cotangents[1:]):
            raise NotImplementedError("MultinomialLogitRows has no second derivatives")
        scale = cotangents[0]
        return [scale * outputs[1], scale * outputs[2], DisconnectedType()(),
                DisconnectedType()(), grad_undefined(self, 4, inputs[4],
                                                     "counts are observed data")]


@register_funcify_default_op_cache_key(MultinomialLogitRows)
def _numba_multinomial_logit_rows(op: MultinomialLogitRows, node: Apply | None = None,
                                  **kwargs: Any) -> Any:
    """Numba implementation: the kernel itself, with :data:`KERNEL_CACHE_SALT`."""

    @numba_njit
    def multinomial_logit_rows_impl(eta_unit, intercept, row_unit, row_group, counts):
        return multinomial_logit_value_grad(eta_unit, intercept, row_unit, row_group, counts)

    return multinomial_logit_rows_impl, KERNEL_CACHE_SALT


def _kernel_salt() -> int:
    """A 63-bit hash of the kernel's module path and source (see :data:`KERNEL_CACHE_SALT`)."""
    import hashlib
    import inspect

    from lagnest.kernels import softmax

    text = f"{softmax.__name__}\n{inspect.getsource(softmax)}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


#: Added to PyTensor's cache key of the Op: a graph compiled before the kernel moved or
#: changed is not loaded from PyTensor's on-disk cache (it would import the old module).
KERNEL_CACHE_SALT = _kernel_salt()


_multinomial_logit_rows = MultinomialLogitRows()


def row_logits_graph(eta_unit: Any, intercept: Any, row_unit: Any, row_group: Any) -> Any:
    """Logits ``(R, K)`` of the rows, the reference category's 0 first (PyTensor)."""
    eta = eta_unit[row_unit] + intercept[row_group]
    return pt.concatenate([pt.zeros((eta.shape[0], 1)), eta], axis=1)


def _index(values: Any) -> Any:
    """An index array as int64: a NumPy array, or a tensor (e.g. ``pm.Data``) cast."""
    if isinstance(values, np.ndarray | list | tuple):
        return np.asarray(values, dtype=np.int64)
    return pt.cast(values, "int64")


def multinomial_logit_rows(eta_unit: Any, intercept: Any, row_unit: Any, row_group: Any,
                           counts: Any) -> Any:
    """Log-likelihood of count rows (a scalar); see :class:`MultinomialLogitRows`."""
    return _multinomial_logit_rows(eta_unit, intercept, _index(row_unit), _index(row_group),
                                   counts)[0]


def aggregated_multinomial_logit(name: str, counts: Any, eta_unit: Any, intercept: Any,
                                 row_unit: np.ndarray, row_group: np.ndarray,
                                 **kwargs: Any) -> Any:
    """Observed counts per row under the multinomial logit, as a ``pm.CustomDist``.

    Parameters
    ----------
    name : str
        Name of the observed variable.
    counts : TensorVariable, shape (R, K)
        Observed counts (a ``pm.Data``, so other datasets can replace it).
    eta_unit : TensorVariable, shape (U, K - 1)
        Linear predictor of each design unit.
    intercept : TensorVariable, shape (G, K - 1)
        Intercepts of each group.
    row_unit, row_group : ndarray or TensorVariable, shape (R,)
        Unit and group of each row (the design). Given as ``pm.Data``, they are inputs
        of the compiled functions rather than constants: another corpus of the same
        design dimensions then reuses the compiled code (and a frozen model updates
        them with ``pm.set_data``).
    **kwargs
        Passed to ``pm.CustomDist`` (``observed``, ``dims``).

    Returns
    -------
    TensorVariable
        The observed variable. Its draws are ``pm.Multinomial`` with each row's total;
        its log-probability is :func:`multinomial_logit_rows` (no multinomial
        coefficient, which does not depend on the parameters).
    """
    import pymc as pm

    row_unit = pt.as_tensor_variable(_index(row_unit))
    row_group = pt.as_tensor_variable(_index(row_group))

    def dist(n: Any, eta_unit: Any, intercept: Any, row_unit: Any, row_group: Any,
             size: Any) -> Any:
        logits = row_logits_graph(eta_unit, intercept, row_unit, row_group)
        return pm.Multinomial.dist(n=n, p=pt.special.softmax(logits, axis=-1))

    def logp(value: Any, n: Any, eta_unit: Any, intercept: Any, row_unit: Any,
             row_group: Any) -> Any:
        return multinomial_logit_rows(eta_unit, intercept, row_unit, row_group, value)

    return pm.CustomDist(name, counts.sum(axis=1), eta_unit, intercept, row_unit, row_group,
                         dist=dist, logp=logp, signature="(r),(u,k),(g,k),(r),(r)->(r,c)",
                         **kwargs)
