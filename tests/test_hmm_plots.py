"""Figures of a hidden Markov model fit draw what the result computes."""

import matplotlib
import numpy as np
import pytest

import lagnest as ln
from lagnest.viz import plots

matplotlib.use("Agg")


@pytest.mark.slow
def test_emission_profiles_and_state_sequence(monkeypatch):
    monkeypatch.setenv("LAGNEST_QUICK", "1")
    seqs = ln.datasets.load_example().subset(dyads=["D1", "D2", "D3"])
    res = ln.HiddenMarkovModel(seqs, ["rupture", "MIA4"], 2).fit(seed=2)
    em = plots.hmm_emissions(res)
    bars = [p.get_height() for p in em.axes[0].patches]
    medians = res.emission_probs("rupture")["median"].values  # (state, code)
    np.testing.assert_allclose(sorted(bars), sorted(medians.ravel()))
    seq = plots.hmm_state_sequence(res, session=1, max_draws=20)
    ax_states, ax_codes = seq.axes
    assert ax_states.get_title() == f"Session {seqs.session_labels[1]}"
    assert [t.get_text() for t in ax_codes.get_yticklabels()] == ["rupture", "MIA4"]
    # in Spanish: words from the catalogue, streams and codes by the codebook's labels
    es = plots.hmm_emissions(res, lang="es", codebook=seqs.codebook)
    assert es.axes[0].get_ylabel() == "probabilidad de emisión"
    assert es.axes[0].get_title() == "Tipo de ruptura"
    ticks = [t.get_text() for t in es.axes[0].get_xticklabels()]
    assert "Retirada" in ticks and "withdrawal" not in ticks
    assert [t.get_text() for t in es.axes[0].get_legend().get_texts()] == ["estado 1",
                                                                          "estado 2"]
    seq_es = plots.hmm_state_sequence(res, session=1, max_draws=20, lang="es",
                                      codebook=seqs.codebook)
    assert seq_es.axes[0].get_title() == f"Sesión {seqs.session_labels[1]}"
    assert seq_es.axes[1].get_xlabel() == "segmento"
    import matplotlib.pyplot as plt

    plt.close("all")
