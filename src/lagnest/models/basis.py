"""Zero-sum bases and softmax helpers shared by every model (NumPy only).

Logits of a categorical outcome are identified by a zero-sum constraint over the allowed
categories (or by a reference category). The bases here map free parameters onto such
logits; the same helpers turn logits back into probabilities for the results and for the
models' generative hooks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["helmert", "masked_softmax", "softmax", "zero_sum_basis"]


def helmert(n: int) -> np.ndarray:
    """Orthonormal ``(n, n - 1)`` basis of the vectors of length ``n`` summing to zero.

    Parameters
    ----------
    n : int
        Length of the vectors.

    Returns
    -------
    ndarray, shape (n, n - 1)
        Columns are orthonormal and sum to zero (Helmert contrasts, normalised). For
        ``z ~ Normal(0, sigma)`` of length ``n - 1``, ``H @ z`` is ``ZeroSumNormal(sigma)``.

    Examples
    --------
    >>> h = helmert(3)
    >>> np.allclose(h.sum(axis=0), 0), np.allclose(h.T @ h, np.eye(2))
    (True, True)
    """
    out = np.zeros((n, max(n - 1, 0)))
    for c in range(1, n):
        out[:c, c - 1] = 1.0
        out[c, c - 1] = -float(c)
        out[:, c - 1] /= np.sqrt(c * (c + 1))
    return out


def zero_sum_basis(allowed: np.ndarray) -> np.ndarray:
    """Map free parameters to zero-sum logits over the allowed cells of each row.

    Parameters
    ----------
    allowed : ndarray of bool, shape (K, M)
        Cells in the support (False = structural zero).

    Returns
    -------
    ndarray, shape (F, K * M)
        ``F = sum_i (m_i - 1)`` with ``m_i`` the allowed cells of row i. For free
        ``z ~ Normal(0, sigma)``, ``(z @ W).reshape(K, M)`` has rows that sum to zero over
        their allowed cells, are 0 in structural zeros, and have the distribution of a
        ``ZeroSumNormal(sigma)`` on the allowed cells (Helmert basis, orthonormal).

    Examples
    --------
    >>> w = zero_sum_basis(np.ones((2, 3), dtype=bool))
    >>> w.shape
    (4, 6)
    """
    allowed = np.asarray(allowed, dtype=bool)
    k, m = allowed.shape
    rows = []
    for i in range(k):
        idx = np.flatnonzero(allowed[i])
        h = helmert(idx.size)
        for col in range(h.shape[1]):
            w = np.zeros(k * m)
            w[i * m + idx] = h[:, col]
            rows.append(w)
    return np.array(rows).reshape(len(rows), k * m)


def masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the last axis with structural zeros at exactly 0.

    Parameters
    ----------
    logits : ndarray, shape (..., M)
        Logits.
    allowed : ndarray of bool, broadcastable to ``logits``
        Cells in the support.

    Returns
    -------
    ndarray
        Probabilities summing to 1 over the last axis, 0 where not allowed.
    """
    x = np.where(allowed, logits, -np.inf)
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``."""
    x = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
