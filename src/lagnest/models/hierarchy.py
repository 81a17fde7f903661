"""Group deviations of the dyad and session levels (PyTensor), one definition for all models.

Every lagnest model writes a group's parameters as its parent's plus a deviation:
population -> dyad -> session. The form of each level is chosen per fit
(:func:`lagnest.models.structure.choose_parameterization`):

* non-centred dyads: deviations with a zero sum over the dyads, ``scale * H_D z``
  (Helmert basis over dyads, fewer divergences with few dyads), plus the centre of these
  dyads around the population mean, ``scale * c / sqrt(D)``. Subtracting the centre from
  the parent gives the population value. The parent sampled is then the *mean of the
  dyads*, which the data identify well (the population value is a ridge away from it).
  :func:`dyads_around_population` gives that mean the prior the model implies, so that
  the population value keeps its own Normal prior and both forms are exactly the model
  with independent dyad deviations (used for intercepts, whose prior is a fixed Normal).
  :func:`dyad_deviations` alone leaves the parent's prior on the dyads' mean: the
  population value's prior is then wider by ``scale^2 / D`` (used where the parent's
  prior is not a fixed Normal: random slopes, the transition model's cells).
* centred groups: the group's own value, ``Normal(parent, scale)``, the better geometry
  when each group carries much data (a deviation parameter would then be a shear of the
  data-determined value and its parent, a ridge a diagonal mass matrix cannot follow).
* non-centred sessions: ``scale * z``.

The functions return *deviations* (group value minus parent), so callers add them to the
parent in whatever coordinates they use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lagnest.models.basis import helmert

__all__ = ["dyad_deviations", "dyads_around_population", "session_deviations"]


def dyad_deviations(
    name: str,
    scale: Any,
    dims: tuple[str, ...],
    n_dyads: int,
    form: str,
    parent: Any,
) -> tuple[Any, Any]:
    """Deviations of the dyads from the population, and the population centre shift.

    Parameters
    ----------
    name : str
        Stem of the variables (``z_<name>``, ``z_<name>_centre`` or ``eta_<name>``).
    scale : tensor
        Scale, broadcastable against one dyad's coordinates ``dims``.
    dims : tuple of str
        Dims of one dyad's coordinates (model coords).
    n_dyads : int
        Number of dyads D (the model needs coords ``dyad`` and ``free_dyad`` (D - 1)).
    form : {"centered", "noncentered"}
        Parameterisation.
    parent : tensor
        The population coordinates (used by the centred form).

    Returns
    -------
    deviations : tensor, shape (D, *dims)
        Dyad value minus ``parent``.
    centre : tensor, shape dims
        Subtract from ``parent`` to get the population value (zeros for the centred form).
    """
    import pymc as pm
    import pytensor.tensor as pt

    if form == "centered":
        eta = pm.Normal(f"eta_{name}", mu=parent[None], sigma=scale, dims=("dyad", *dims))
        return eta - parent[None], pt.zeros_like(parent)
    z = pm.Normal(f"z_{name}", 0.0, 1.0, dims=("free_dyad", *dims))
    h = pt.as_tensor_variable(helmert(n_dyads))
    deviations = scale * pt.tensordot(h, z, axes=[[1], [0]])
    centre = pm.Normal(f"z_{name}_centre", 0.0, 1.0, dims=dims)
    return deviations, scale * centre / np.sqrt(n_dyads)


def dyads_around_population(
    name: str,
    deviation_name: str,
    prior_sd: float,
    scale: Any,
    dims: tuple[str, ...],
    n_dyads: int,
    form: str,
) -> tuple[Any, Any]:
    r"""A population value with a Normal(0, ``prior_sd``) prior and its dyads' deviations.

    Parameters
    ----------
    name : str
        Name of the free variable: the population value (centred form) or the mean of the
        dyads (non-centred form).
    deviation_name : str
        Stem of the deviation variables (as in :func:`dyad_deviations`).
    prior_sd : float
        SD of the population value's Normal prior (mean 0).
    scale : tensor
        SD of the dyad deviations, broadcastable against ``dims``.
    dims : tuple of str
        Dims of one dyad's coordinates.
    n_dyads : int
        Number of dyads D.
    form : {"centered", "noncentered"}
        Parameterisation.

    Returns
    -------
    population : tensor, shape dims
    deviations : tensor, shape (D, *dims)
        Dyad values minus the population value.

    Notes
    -----
    Non-centred: with :math:`\mu \sim N(0, s^2)` and dyad deviations
    :math:`\sigma \varepsilon_d`, the dyads' mean is :math:`m = \mu + e` with
    :math:`e = \sigma \bar\varepsilon \sim N(0, \sigma^2/D)`. The variable sampled is
    :math:`m \sim N(0, v)`, :math:`v = s^2 + \sigma^2/D` (its marginal prior), then
    :math:`e \mid m \sim N(m w, s^2 w)` with :math:`w = (\sigma^2/D)/v`, drawn as
    :math:`m w + s \sqrt{w}\, c`, and :math:`\mu = m - e`: the joint prior of
    :math:`(\mu, \varepsilon)` is exactly the independent model's.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if form == "centered":
        population = pm.Normal(name, 0.0, prior_sd, dims=dims)
        eta = pm.Normal(f"eta_{deviation_name}", mu=population[None], sigma=scale,
                        dims=("dyad", *dims))
        return population, eta - population[None]
    between = scale**2 / n_dyads
    total = prior_sd**2 + between
    mean = pm.Normal(name, 0.0, pt.sqrt(total), dims=dims)
    z = pm.Normal(f"z_{deviation_name}", 0.0, 1.0, dims=("free_dyad", *dims))
    c = pm.Normal(f"z_{deviation_name}_centre", 0.0, 1.0, dims=dims)
    w = between / total
    centre = mean * w + prior_sd * pt.sqrt(w) * c
    h = pt.as_tensor_variable(helmert(n_dyads))
    return mean - centre, scale * pt.tensordot(h, z, axes=[[1], [0]]) + centre[None]


def session_deviations(
    name: str, scale: Any, dims: tuple[str, ...], form: str, parent: Any
) -> Any:
    """Deviations of the sessions from their dyad, ``(S, *dims)``.

    Parameters
    ----------
    name : str
        Stem of the variable (``z_<name>`` or ``eta_<name>``).
    scale : tensor
        Scale, broadcastable against one session's coordinates.
    dims : tuple of str
        Dims of one session's coordinates.
    form : {"centered", "noncentered"}
        Parameterisation.
    parent : tensor, shape (S, *dims)
        Each session's dyad value (used by the centred form).

    Returns
    -------
    tensor
        Session value minus ``parent``.
    """
    import pymc as pm

    if form == "centered":
        eta = pm.Normal(f"eta_{name}", mu=parent, sigma=scale, dims=("session", *dims))
        return eta - parent
    return scale * pm.Normal(f"z_{name}", 0.0, 1.0, dims=("session", *dims))
