"""The main job on the embedded example corpus (``lagnest demo`` and ``make demo``)."""

from __future__ import annotations

from collections.abc import Callable

from lagnest.datasets import load_example
from lagnest.lagtable import format_lag_table, homogeneity_test, lag_table
from lagnest.permutation import permutation_test


def _heading(text: str) -> str:
    """Underlined section heading."""
    return f"\n{text}\n{'=' * len(text)}"


def run_demo(
    fit: bool = True, seed: int = 1, n_perm: int = 2000, echo: Callable[[str], None] = print
) -> None:
    """Analyse the example corpus: summary, classical tables, permutation test, Bayesian fit.

    Parameters
    ----------
    fit : bool, default True
        Also fit the hierarchical transition model (takes ~20 s with compilation).
    seed : int, default 1
        Seed of the permutation test and the sampler.
    n_perm : int, default 2000
        Permutations of the within-session shuffle test.
    echo : callable, default print
        Where the text goes.
    """
    seqs = load_example()
    echo(_heading("Example corpus (simulated, thesis-like)"))
    echo(seqs.summary())

    echo(_heading("Does therapist non-reactivity (MIA4) at t change ruptures at t+1?"))
    table = lag_table(seqs, given="MIA4", target="rupture", lag=1)
    echo(format_lag_table(table))
    perm = permutation_test(seqs, given="MIA4", target="rupture", lag=1, n_perm=n_perm, seed=seed)
    echo(
        f"within-session permutation test ({n_perm} shuffles, seed {seed}): "
        f"p(G2) = {perm.attrs['p_perm_G2']:.4f}"
    )

    echo(_heading("Which resolution family follows each rupture type (lag 1)?"))
    echo(format_lag_table(lag_table(seqs, given="rupture", target="resolution", lag=1)))
    hom = homogeneity_test(seqs, given="rupture", target="resolution", lag=1, by="dyad")
    echo(
        f"homogeneity across dyads: G2 = {hom.attrs['G2']:.2f}, df = {hom.attrs['df']}, "
        f"p = {hom.attrs['p']:.4f}"
    )
    if not fit:
        return
    from lagnest.models import TransitionModel

    echo(_heading("Hierarchical Bayesian transition model: MIA4 -> rupture, lag 1"))
    model = TransitionModel(seqs, given="MIA4", target="rupture", lag=1)
    result = model.fit(seed=seed)
    echo("\nBayesian estimates beside the classical ones (Q = Yule's Q of the collapsed 2x2):")
    echo(str(result.summary()))
