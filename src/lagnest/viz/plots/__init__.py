"""Figures of lagnest results, drawn with matplotlib (imported lazily).

Every function draws numbers computed elsewhere in lagnest (lag tables from
:func:`lagnest.lag_table`, posterior summaries of a
:class:`~lagnest.models.transition.TransitionResult`, per-session code rates from
:func:`lagnest.classical.rates.code_rate_frame`), returns the matplotlib objects as a
small named tuple whose first two fields are ``figure`` and ``ax``, draws into the
caller's axes when given ``ax=`` and never calls ``plt.show()``. ``import
lagnest.viz.plots`` does not import matplotlib; the first figure does.

One module per kind of figure: :mod:`~lagnest.viz.plots.tables` (heatmaps of lag tables),
:mod:`~lagnest.viz.plots.diagrams` (transition diagrams),
:mod:`~lagnest.viz.plots.posteriors` (forest plots), :mod:`~lagnest.viz.plots.rates`,
:mod:`~lagnest.viz.plots.checks` (predictive checks), :mod:`~lagnest.viz.plots.hmm`
(emission profiles and decoded state sequences of a hidden Markov model) and
:mod:`~lagnest.viz.plots.calibration` (SBC and design analysis).

ArviZ's plots (``arviz_plots``) compute their own intervals from draws and build their
own figure grid; these figures instead show lagnest's own summaries (its interval
definition and ``ci_prob``) beside classical statistics, so they are drawn directly.
"""

from lagnest import _hooks
from lagnest.viz.plots.calibration import design_figure, sbc_ecdf, sbc_rank_histograms
from lagnest.viz.plots.checks import Panels, ppc_panels
from lagnest.viz.plots.diagrams import Diagram, transition_diagram
from lagnest.viz.plots.hmm import EmissionProfiles, StateSequence, hmm_emissions, hmm_state_sequence
from lagnest.viz.plots.posteriors import Forest, forest, transition_forest
from lagnest.viz.plots.rates import Rates, code_rates
from lagnest.viz.plots.tables import Heatmap, lag_table_heatmap

__all__ = [
    "Diagram",
    "EmissionProfiles",
    "Forest",
    "Heatmap",
    "Panels",
    "Rates",
    "StateSequence",
    "code_rates",
    "design_figure",
    "forest",
    "hmm_emissions",
    "hmm_state_sequence",
    "lag_table_heatmap",
    "ppc_panels",
    "sbc_ecdf",
    "sbc_rank_histograms",
    "transition_diagram",
    "transition_forest",
]

_hooks.PPC_FIGURE.fill(ppc_panels)
_hooks.SBC_RANK_FIGURE.fill(sbc_rank_histograms)
_hooks.SBC_ECDF_FIGURE.fill(sbc_ecdf)
_hooks.DESIGN_FIGURE.fill(design_figure)
