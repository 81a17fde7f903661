"""Slots through which a lower layer calls a function of a higher one without importing it.

The layers import downwards only (``ARCHITECTURE.md``, "Layers"). Where an object of a
lower layer offers a convenience that a higher layer implements (``result.ppc()`` runs the
predictive checks, ``check.plot()`` and ``sbc_result.plot()`` draw figures), the higher
layer fills a :class:`Slot` when it is imported and the lower one calls the slot.
``import lagnest`` imports every layer, so every slot is filled before a user can reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "ARVIZ_CHECKS",
    "DESIGN_FIGURE",
    "PPC_FIGURE",
    "PREDICTIVE_CHECK",
    "PRIOR_PREDICTIVE_CHECK",
    "SBC_ECDF_FIGURE",
    "SBC_RANK_FIGURE",
    "TO_ARVIZ",
    "Slot",
]


class Slot:
    """A named function that a higher layer provides.

    Parameters
    ----------
    name : str
        What the slot does (for the error when it is empty).
    provider : str
        The module that fills it.
    """

    def __init__(self, name: str, provider: str) -> None:
        self.name = name
        self.provider = provider
        self._function: Callable[..., Any] | None = None

    def fill(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Provide the slot's function (usable as a decorator); returns it unchanged."""
        self._function = function
        return function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function is None:  # only when lagnest/__init__.py has not run to its end
            raise RuntimeError(f"{self.name} is provided by {self.provider}, which is not "
                               "imported: import lagnest first")
        return self._function(*args, **kwargs)

    def __repr__(self) -> str:
        state = "filled" if self._function is not None else "empty"
        return f"Slot({self.name!r}, provided by {self.provider}, {state})"


#: ``check(result, stats, n_draws, seed)`` of :mod:`lagnest.checks`.
PREDICTIVE_CHECK = Slot("the predictive check", "lagnest.checks")
#: ``prior_predictive_check(model, stats, n_draws, seed)`` of :mod:`lagnest.checks`.
PRIOR_PREDICTIVE_CHECK = Slot("the prior predictive check", "lagnest.checks")
#: ``ppc_panels(check, ...)`` of :mod:`lagnest.viz.plots`.
PPC_FIGURE = Slot("the predictive-check figure", "lagnest.viz.plots")
#: Rank histograms of an SBC result.
SBC_RANK_FIGURE = Slot("the SBC rank histograms", "lagnest.viz.plots")
#: ECDF-difference plots of an SBC result.
SBC_ECDF_FIGURE = Slot("the SBC ECDF plots", "lagnest.viz.plots")
#: The design-analysis figure.
DESIGN_FIGURE = Slot("the design-analysis figure", "lagnest.viz.plots")
#: ``to_arviz(result, ...)`` of :mod:`lagnest.models.arviz` (the result classes sit below
#: the model classes whose generative hook it uses).
TO_ARVIZ = Slot("the ArviZ conversion", "lagnest.models.arviz")
#: ``with_checks(tree, result)`` of :mod:`lagnest.models.arviz`: the tree with the groups
#: of the result's last ``ppc()``.
ARVIZ_CHECKS = Slot("the ArviZ groups of a predictive check", "lagnest.models.arviz")
