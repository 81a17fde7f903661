"""Fixtures for the model tests: corpora simulated from the model's own generative process."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from lagnest import Sequences


def _helmert(n):
    out = np.zeros((n, n - 1))
    for c in range(1, n):
        out[:c, c - 1] = 1.0
        out[c, c - 1] = -float(c)
        out[:, c - 1] /= np.sqrt(c * (c + 1))
    return out


def zero_sum_rows(rng, sigma, shape, allowed):
    """Normal(0, sigma) logits summing to zero over the allowed cells of each row."""
    z = rng.normal(0.0, sigma, size=shape)
    z = np.where(allowed, z, 0.0)
    m = allowed.sum(axis=-1, keepdims=True)
    z = z - np.where(allowed, z.sum(axis=-1, keepdims=True) / m, 0.0)
    return np.where(allowed, z, 0.0)


def softmax(x, allowed):
    x = np.where(allowed, x, -np.inf)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class SimTruth:
    """Known truth of a simulated corpus."""

    alpha: np.ndarray  # (K, K) population logits (zero-sum over allowed cells)
    sigma_dyad: float
    sigma_session: float
    population: np.ndarray  # softmax(alpha)
    session_probs: np.ndarray  # (S, K, K)


def simulate_markov(
    seed,
    codes=("a", "b", "c"),
    n_dyads=6,
    sessions_per_dyad=8,
    segments=40,
    sigma_alpha=1.5,
    sigma_dyad=None,
    sigma_session=None,
    alpha=None,
    diagonal_zero=False,
):
    """Markov chains per session from the transition model's generative process.

    Parameters drawn from the default priors unless given. Dyad offsets are independent
    (not zero-sum): the population truth is softmax(alpha).
    """
    rng = np.random.default_rng(seed)
    k = len(codes)
    allowed = ~np.eye(k, dtype=bool) if diagonal_zero else np.ones((k, k), dtype=bool)
    if alpha is None:
        alpha = zero_sum_rows(rng, sigma_alpha, (k, k), allowed)
    sd_d = abs(rng.normal(0, 0.5)) if sigma_dyad is None else sigma_dyad
    sd_s = abs(rng.normal(0, 0.5)) if sigma_session is None else sigma_session
    u_dyad = zero_sum_rows(rng, sd_d, (n_dyads, k, k), allowed)
    sessions, dyads, probs = [], [], []
    for d in range(n_dyads):
        for _ in range(sessions_per_dyad):
            v = zero_sum_rows(rng, sd_s, (k, k), allowed)
            p = softmax(alpha + u_dyad[d] + v, allowed)
            x = [int(rng.integers(k))]
            for _ in range(segments - 1):
                x.append(int(rng.choice(k, p=p[x[-1]])))
            sessions.append([codes[i] for i in x])
            dyads.append(f"d{d + 1}")
            probs.append(p)
    seqs = Sequences.from_sequences(
        {"code": sessions}, dyads=dyads, codes={"code": list(codes)}
    )
    truth = SimTruth(alpha, sd_d, sd_s, softmax(alpha, allowed), np.array(probs))
    return seqs, truth


@pytest.fixture(scope="session")
def small_corpus():
    """6 dyads x 4 sessions x 30 segments of a 3-code stream, fixed truth."""
    alpha = np.array([[1.0, -0.2, -0.8], [0.3, 0.5, -0.8], [-0.5, 0.9, -0.4]])
    return simulate_markov(
        7, n_dyads=6, sessions_per_dyad=4, segments=30, alpha=alpha,
        sigma_dyad=0.4, sigma_session=0.3,
    )


@pytest.fixture(scope="session")
def small_fit(small_corpus):
    """Seeded hierarchical fit shared by the result tests (short chains)."""
    import warnings

    from lagnest.models import ConvergenceWarning, TransitionModel

    seqs, _ = small_corpus
    model = TransitionModel(seqs, "code", "code")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = model.fit(draws=300, tune=300, chains=2, cores=1, seed=11, sampler="pymc")
    return model, result
