"""Hierarchical Bayesian transition model on lag-table sufficient statistics.

:class:`TransitionModel` estimates lagged transition probabilities p(target j at t + lag |
given i at t) with partial pooling across dyads and sessions; :class:`TransitionResult`
answers the usual questions (transition probabilities, lift, log odds ratios, Yule's Q,
contrasts) draw by draw, each with mean, sd, credible interval and posterior
probability of direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from lagnest.errors import LagnestDataError
from lagnest.models.base import BayesianModel
from lagnest.models.priors import Prior
from lagnest.models.result import FitResult, register_result

__all__ = ["POOLINGS", "TransitionModel", "TransitionResult", "zero_sum_basis"]

#: Pooling structures: logits = population + dyad deviation + session deviation.
POOLINGS = ("dyad/session", "dyad", "none", "complete")
#: Levels at which answers are available, per pooling.
LEVELS: dict[str, tuple[str, ...]] = {
    "dyad/session": ("population", "dyad", "session"),
    "dyad": ("population", "dyad", "session"),
    "complete": ("population", "dyad", "session"),
    "none": ("session",),
}
_LEVEL_DIM = {"population": None, "dyad": "dyad", "session": "session"}


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
    """
    allowed = np.asarray(allowed, dtype=bool)
    k, m = allowed.shape
    rows = []
    for i in range(k):
        idx = np.flatnonzero(allowed[i])
        h = _helmert(idx.size)
        for col in range(h.shape[1]):
            w = np.zeros(k * m)
            w[i * m + idx] = h[:, col]
            rows.append(w)
    return np.array(rows).reshape(len(rows), k * m)


def _helmert(n: int) -> np.ndarray:
    """Orthonormal ``(n, n - 1)`` basis of the vectors summing to zero (Helmert)."""
    out = np.zeros((n, max(n - 1, 0)))
    for c in range(1, n):
        out[:c, c - 1] = 1.0
        out[c, c - 1] = -float(c)
        out[:, c - 1] /= np.sqrt(c * (c + 1))
    return out


def _masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the last axis with structural zeros at exactly 0."""
    x = np.where(allowed, logits, -np.inf)
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _spec_label(spec: Any) -> str:
    """A given/target spec as a string (for messages)."""
    return spec if isinstance(spec, str) else repr(spec)


def _check_code_spec(seqs: Any, spec: Any, role: str) -> None:
    """Raise unless ``spec`` names a categorical stream, an indicator or a code (cheap)."""
    if not isinstance(spec, str):
        raise LagnestDataError(
            f"{role} must be one stream or code name (str), got {spec!r}; the transition "
            "model takes one categorical stream or one indicator at a time"
        )
    streams = seqs.streams
    if spec in streams:
        info = streams[spec]
        if info.kind == "indicator" and len(info.codes) > 1:
            raise LagnestDataError(
                f"{role}={spec!r} is a set of {len(info.codes)} indicators; name one of "
                f"its codes ({', '.join(info.codes)})"
            )
        return
    if any(spec in info.codes for info in streams.values()):
        return
    known = ", ".join(f"{n} ({s.kind})" for n, s in streams.items())
    raise LagnestDataError(
        f"unknown {role} {spec!r}: expected a stream ({known}) or one of its codes"
    )


def _normalise_zeros(structural_zeros: Any) -> Any:
    """Structural-zero spec in JSON-ready form (None, "diagonal", pairs or bool lists)."""
    if structural_zeros is None or isinstance(structural_zeros, str):
        if isinstance(structural_zeros, str) and structural_zeros != "diagonal":
            raise LagnestDataError(
                "structural_zeros must be None, 'diagonal', a list of (given, target) "
                f"pairs or a bool mask; got {structural_zeros!r}"
            )
        return structural_zeros
    if isinstance(structural_zeros, list | tuple) and all(
        isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(x, str) for x in p)
        for p in structural_zeros
    ):
        return [list(p) for p in structural_zeros]
    mask = np.asarray(getattr(structural_zeros, "values", structural_zeros))
    if mask.dtype != bool or mask.ndim != 2:
        raise LagnestDataError(
            "structural_zeros must be None, 'diagonal', a list of (given, target) pairs or "
            f"a 2-d bool mask; got {type(structural_zeros).__name__} {mask.dtype} {mask.shape}"
        )
    return mask.tolist()


class TransitionModel(BayesianModel):
    r"""Hierarchical multinomial model of lagged transitions between two streams.

    Parameters
    ----------
    seqs : Sequences
        The data.
    given : str
        Code at segment t (rows): a categorical stream, one of its codes (present vs
        not), or an indicator code (``"MIA4"``: present/absent).
    target : str
        Code at segment t + lag (columns), same forms as ``given``.
    lag : int, default 1
        Lag (pairs never cross a session boundary or a break).
    pooling : {"dyad/session", "dyad", "none", "complete"}
        ``"dyad/session"``: population + dyad + session-within-dyad deviations;
        ``"dyad"``: sessions of a dyad share one table; ``"none"``: every session alone;
        ``"complete"``: one table for all.
    structural_zeros : None, "diagonal", list of (given, target) pairs or bool mask
        Transitions that cannot occur; excluded from the support (probability exactly 0).
    priors : mapping, optional
        Overrides of the default priors ``alpha``, ``sigma_dyad``, ``sigma_session``
        (see Notes), e.g. ``{"sigma_dyad": {"sigma": 1.0}}``.
    per_segment : bool, default False
        Build the equivalent Categorical model on one row per lag pair instead of the
        Multinomial model on counts (same posterior, slower: for tests and benchmarks).

    See Also
    --------
    lagnest.lagtable.lag_table : the classical statistics of the same table.
    lagnest.lagtable.count_table : the sufficient statistics.

    Notes
    -----
    Let :math:`y_{si\cdot}` be the lag-pair counts of session s with given code i (one row
    of the per-session lag table, the sufficient statistic), :math:`d(s)` the dyad of
    session s, and :math:`A_i` the allowed target codes of row i. Then

    .. math::

        y_{si\cdot} \sim \mathrm{Multinomial}(n_{si}, \mathrm{softmax}_{A_i}(\eta_{si})),
        \qquad \eta_{si} = \alpha_i + u_{d(s)i} + v_{si}

    with :math:`\alpha_i \sim \mathrm{ZeroSumNormal}(\sigma_\alpha)` over
    :math:`A_i` (identifiability: logits of a row sum to zero),
    :math:`u_{di} = \sigma_{dyad} \cdot` (zero-sum over dyads and over :math:`A_i`,
    non-centred), :math:`v_{si} = \sigma_{session} z_{si}` (zero-sum over
    :math:`A_i`, non-centred), one scale per level shared by all rows.

    **Population level.** Dyad offsets are sampled with a zero sum over dyads (this cuts
    divergences with few dyads), so :math:`\alpha` is the centre of *these* dyads. The
    population logits add back the uncertainty of that centre around the mean of the
    population of dyads, :math:`\alpha^{pop} = \alpha - \sigma_{dyad} \bar z / \sqrt D`,
    :math:`\bar z \sim N(0, 1)`, which makes the model exactly the hierarchical model
    with independent dyad offsets. The *population* transition probability
    :math:`p(j \mid i) = \mathrm{softmax}(\alpha^{pop}_i)_j` is that of the typical
    session (session offset 0) of the typical dyad (dyad offset 0), a median-like summary;
    it is not the average of session probabilities (softmax of a mean is not the mean of
    softmaxes). The dyad level is :math:`\mathrm{softmax}(\alpha_i + u_{di})` (the
    typical session of dyad d); the session level adds :math:`v_{si}`.

    **Default priors** (weakly informative on the logit scale, chosen for ~6 dyads):
    ``alpha``: Normal(0, 1.5) zero-sum (a logit difference between two targets then has
    prior sd ~2.1: probabilities from ~0.02 to ~0.98 are plausible a priori);
    ``sigma_dyad``: HalfNormal(0.5); ``sigma_session``: HalfNormal(0.5) (dyads or
    sessions rarely multiply transition odds by more than ~e^2 between them). Priors are
    overridable (user > default); check them with :meth:`prior_predictive`.

    Because the multinomial coefficient does not involve the parameters, the posterior is
    identical to that of the per-segment Categorical model (``per_segment=True``) but
    the cost grows with the number of cells, not segments.

    References
    ----------
    .. [1] Dagne, G. A., Howe, G. W., Brown, C. H., & Muthén, B. O. (2002). Hierarchical
       modeling of sequential behavioral data: An empirical Bayesian approach.
       *Psychological Methods, 7*(2), 262-280.
    .. [2] Gelman, A., & Hill, J. (2007). *Data analysis using regression and
       multilevel/hierarchical models*. Cambridge University Press.
    .. [3] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*. Cambridge University Press.

    Examples
    --------
    >>> from lagnest import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab"), list("aabb")]},
    ...                                 dyads=["d1", "d2"])
    >>> m = TransitionModel(seqs, given="code", target="code")
    >>> m.built
    False
    >>> res = m.fit(draws=200, tune=200, chains=2, seed=1, warn=False)  # doctest: +SKIP
    >>> res.transition_probs().mean  # doctest: +SKIP
    """

    model_name: ClassVar[str] = "TransitionModel"
    default_priors: ClassVar[Mapping[str, Prior]] = {
        "alpha": Prior("Normal", {"sigma": 1.5}),
        "sigma_dyad": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_session": Prior("HalfNormal", {"sigma": 0.5}),
    }
    default_sampler_config: ClassVar[Mapping[str, Any]] = {"target_accept": 0.95}
    prior_kinds: ClassVar[Mapping[str, str]] = {
        "alpha": "location",
        "sigma_dyad": "scale",
        "sigma_session": "scale",
    }

    def __init__(
        self,
        seqs: Any,
        given: str,
        target: str,
        lag: int = 1,
        pooling: str = "dyad/session",
        structural_zeros: Any = None,
        priors: Mapping[str, Any] | None = None,
        per_segment: bool = False,
    ) -> None:
        _check_code_spec(seqs, given, "given")
        _check_code_spec(seqs, target, "target")
        if pooling not in POOLINGS:
            raise LagnestDataError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        if isinstance(lag, bool) or not isinstance(lag, int | np.integer):
            raise LagnestDataError(f"lag must be an integer, got {lag!r}")
        self._given = given
        self._target = target
        self._lag = int(lag)
        self._pooling = pooling
        self._structural_zeros = _normalise_zeros(structural_zeros)
        self._per_segment = bool(per_segment)
        super().__init__(seqs, priors)
        self._data: _TransitionData | None = None

    # ------------------------------------------------------------------ spec
    @property
    def spec(self) -> dict[str, Any]:
        """Constructor arguments (JSON-ready)."""
        return {
            "given": self._given,
            "target": self._target,
            "lag": self._lag,
            "pooling": self._pooling,
            "structural_zeros": self._structural_zeros,
            "per_segment": self._per_segment,
        }

    @property
    def given(self) -> str:
        """The given (row) spec."""
        return self._given

    @property
    def target(self) -> str:
        """The target (column) spec."""
        return self._target

    @property
    def pooling(self) -> str:
        """The pooling structure."""
        return self._pooling

    @property
    def data(self) -> _TransitionData:
        """Per-session count tables and labels (computed once, on first use)."""
        if self._data is None:
            self._data = _TransitionData.from_sequences(
                self._seqs, self._given, self._target, self._lag, self._structural_zeros
            )
        return self._data

    @property
    def coords(self) -> dict[str, list[Any]]:
        """Model coordinates: ``given``, ``target``, ``dyad``, ``session``, ..."""
        d = self.data
        return {
            "given": list(d.given_labels),
            "target": list(d.target_labels),
            "dyad": list(d.dyad_labels),
            "session": list(d.session_labels),
            "free_cell": list(range(d.basis.shape[0])),
            "free_dyad": list(range(max(len(d.dyad_labels) - 1, 0))),
        }

    def fit_data(self) -> xr.Dataset:
        """Per-session counts, dyad of each session and the allowed cells."""
        d = self.data
        return xr.Dataset(
            {
                "counts": (("session", "given", "target"), d.counts),
                "session_dyad": (("session",), np.array(d.session_dyad_labels, dtype=object)),
                "allowed": (("given", "target"), d.allowed),
            },
            coords={
                "session": list(d.session_labels),
                "given": list(d.given_labels),
                "target": list(d.target_labels),
                "dyad": list(d.dyad_labels),
            },
        )

    # ------------------------------------------------------------------ backend
    def build_model(self) -> Any:
        """Build the PyMC model (Multinomial on counts, or Categorical per segment)."""
        import pymc as pm
        import pytensor.tensor as pt

        d = self.data
        k, m = d.allowed.shape
        n_dyads = len(d.dyad_labels)
        w = pt.as_tensor_variable(d.basis)
        pooling = self._pooling
        with pm.Model(coords=self.coords) as model:
            if pooling == "none":
                alpha_free = self._priors["alpha"].create_variable(
                    "alpha_free", mu=0.0, dims=("session", "free_cell")
                )
                logit_session = pt.dot(alpha_free, w).reshape((-1, k, m))
                pm.Deterministic(
                    "logit_session", logit_session, dims=("session", "given", "target")
                )
            else:
                alpha_free = self._priors["alpha"].create_variable(
                    "alpha_free", mu=0.0, dims="free_cell"
                )
                alpha = pt.dot(alpha_free, w).reshape((k, m))
                hierarchical_dyads = pooling in ("dyad/session", "dyad") and n_dyads > 1
                if hierarchical_dyads:
                    sigma_dyad = self._priors["sigma_dyad"].create_variable("sigma_dyad")
                    z_dyad = pm.Normal("z_dyad", 0.0, 1.0, dims=("free_dyad", "free_cell"))
                    h = pt.as_tensor_variable(_helmert(n_dyads))
                    u_dyad = sigma_dyad * pt.dot(pt.dot(h, z_dyad), w).reshape((-1, k, m))
                    z_centre = pm.Normal("z_dyad_centre", 0.0, 1.0, dims="free_cell")
                    centre = sigma_dyad / np.sqrt(n_dyads) * pt.dot(z_centre, w).reshape((k, m))
                    logit_population = alpha - centre
                    logit_dyad = alpha[None] + u_dyad
                else:
                    logit_population = alpha
                    logit_dyad = pt.repeat(alpha[None], n_dyads, axis=0)
                pm.Deterministic("logit_population", logit_population, dims=("given", "target"))
                pm.Deterministic("logit_dyad", logit_dyad, dims=("dyad", "given", "target"))
                logit_session = logit_dyad[d.session_dyad]
                if pooling == "dyad/session":
                    sigma_session = self._priors["sigma_session"].create_variable("sigma_session")
                    z_session = pm.Normal("z_session", 0.0, 1.0, dims=("session", "free_cell"))
                    logit_session = logit_session + sigma_session * pt.dot(z_session, w).reshape(
                        (-1, k, m)
                    )
                pm.Deterministic(
                    "logit_session", logit_session, dims=("session", "given", "target")
                )
            mask = pt.as_tensor_variable(d.allowed)
            if self._per_segment:
                pairs = d.pairs
                if pairs is None:
                    pairs = self._segment_pairs()
                eta = logit_session[pairs[:, 0], pairs[:, 1]]
                eta = pt.where(mask[pairs[:, 1]], eta, -np.inf)
                model.add_coord("pair", np.arange(pairs.shape[0]))
                pm.Categorical("y", logit_p=eta, observed=pairs[:, 2], dims="pair")
            else:
                rows_s, rows_g = d.rows
                model.add_coord("row", np.arange(rows_s.size))
                eta = logit_session[rows_s, rows_g]
                eta = pt.where(mask[rows_g], eta, -np.inf)
                counts = d.counts[rows_s, rows_g]
                pm.Multinomial(
                    "y",
                    n=counts.sum(axis=-1),
                    p=pt.special.softmax(eta, axis=-1),
                    observed=counts,
                    dims=("row", "target"),
                )
        return model

    def _segment_pairs(self) -> np.ndarray:
        """One row per lag pair: (session, given code, target code)."""
        from lagnest.lagtable import lag_pairs

        return lag_pairs(self._seqs, self._given, self._target, self._lag)

    @property
    def diagnostic_vars(self) -> tuple[str, ...]:  # type: ignore[override]
        """Free parameters and the population/dyad logits."""
        names = ["alpha_free"]
        if self._pooling != "none":
            names.append("logit_population")
        if self._pooling in ("dyad/session", "dyad") and len(self.data.dyad_labels) > 1:
            names += ["sigma_dyad", "z_dyad", "logit_dyad"]
        if self._pooling == "dyad/session":
            names += ["sigma_session", "z_session"]
        return tuple(names)

    def fit(self, *args: Any, **kwargs: Any) -> TransitionResult:  # noqa: D102
        return super().fit(*args, **kwargs)  # type: ignore[return-value]

    fit.__doc__ = BayesianModel.fit.__doc__


class _TransitionData:
    """Sufficient statistics of a transition model (see :class:`TransitionModel`)."""

    def __init__(
        self,
        counts: np.ndarray,
        allowed: np.ndarray,
        given_labels: Sequence[str],
        target_labels: Sequence[str],
        session_labels: Sequence[str],
        dyad_labels: Sequence[str],
        session_dyad: np.ndarray,
        pairs: np.ndarray | None = None,
    ) -> None:
        self.counts = np.asarray(counts, dtype=np.int64)
        self.allowed = np.asarray(allowed, dtype=bool)
        self.given_labels = tuple(given_labels)
        self.target_labels = tuple(target_labels)
        self.session_labels = tuple(session_labels)
        self.dyad_labels = tuple(dyad_labels)
        self.session_dyad = np.asarray(session_dyad, dtype=np.int64)
        self.pairs = pairs
        self.basis = zero_sum_basis(self.allowed)
        s, g = np.nonzero(self.counts.sum(axis=-1) > 0)
        self.rows = (s.astype(np.int64), g.astype(np.int64))

    @property
    def session_dyad_labels(self) -> list[str]:
        """Dyad label of each session."""
        return [self.dyad_labels[i] for i in self.session_dyad]

    @classmethod
    def from_sequences(
        cls, seqs: Any, given: str, target: str, lag: int, structural_zeros: Any
    ) -> _TransitionData:
        """Per-session counts from :func:`lagnest.lagtable.count_table`."""
        from lagnest.lagtable import count_table, structural_zero_mask

        table = count_table(seqs, given, target, lag=lag, by="session")
        counts = table.transpose("unit", "given", "target").values
        given_labels = [str(v) for v in table["given"].values]
        target_labels = [str(v) for v in table["target"].values]
        if counts.sum() == 0:
            raise LagnestDataError(
                f"no coded lag-{lag} pairs of {given!r} -> {target!r}: nothing to fit"
            )
        zeros = structural_zeros
        if isinstance(zeros, list) and zeros and isinstance(zeros[0], list):
            zeros = (
                [tuple(p) for p in zeros]
                if isinstance(zeros[0][0], str)
                else np.array(zeros, dtype=bool)
            )
        mask = structural_zero_mask(zeros, counts.shape[-2:], given_labels, target_labels)
        allowed = np.ones(counts.shape[-2:], dtype=bool) if mask is None else ~mask
        if np.any(counts[:, ~allowed] != 0):
            where = np.argwhere(counts[:, ~allowed] != 0)
            cells = np.argwhere(~allowed)[where[:, 1]]
            cell = cells[0]
            raise LagnestDataError(
                f"observed transitions fall in structural zeros, e.g. "
                f"{given_labels[cell[0]]!r} -> {target_labels[cell[1]]!r} in session "
                f"{seqs.session_labels[where[0, 0]]!r}; check structural_zeros or the data"
            )
        empty = np.flatnonzero(~allowed.any(axis=1))
        if empty.size:
            raise LagnestDataError(
                f"given code {given_labels[empty[0]]!r} has no allowed target: every cell "
                "of its row is a structural zero"
            )
        return cls(
            counts=counts,
            allowed=allowed,
            given_labels=given_labels,
            target_labels=target_labels,
            session_labels=seqs.session_labels,
            dyad_labels=seqs.dyad_labels,
            session_dyad=np.asarray(seqs.encoded.session_dyad),
        )


# =========================================================================== results


def _summarise(
    x: xr.DataArray, ci_prob: float, null: xr.DataArray | float, null_label: str
) -> xr.Dataset:
    """Mean, sd, equal-tailed interval and P(x > null) over (chain, draw)."""
    if not 0 < ci_prob < 1:
        raise ValueError(f"ci_prob must be in (0, 1), got {ci_prob}")
    dims = ("chain", "draw")
    lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
    q = x.quantile([lo, hi], dim=dims, skipna=False)
    above = (x > null).where(x.notnull())
    p_pos = above.mean(dims, skipna=False)
    ds = xr.Dataset(
        {
            "mean": x.mean(dims, skipna=False),
            "sd": x.std(dims, skipna=False),
            "lower": q.sel(quantile=lo, drop=True),
            "upper": q.sel(quantile=hi, drop=True),
            "p_positive": p_pos,
            "p_direction": np.maximum(p_pos, 1 - p_pos),
        }
    )
    ds.attrs = {
        "ci_prob": float(ci_prob),
        "ci_kind": "equal-tailed",
        "null": null_label,
        "p_positive": f"posterior probability that the quantity exceeds {null_label}",
        "p_direction": "max(p_positive, 1 - p_positive)",
    }
    return ds


@register_result("TransitionModel")
class TransitionResult(FitResult):
    r"""Posterior of a :class:`TransitionModel` and the answers users want.

    Every answer is an :class:`xarray.Dataset` with ``mean``, ``sd``, ``lower`` and
    ``upper`` (equal-tailed ``ci_prob`` interval, default 90%), ``p_positive`` (posterior
    probability that the quantity exceeds its null value, named in ``attrs["null"]``)
    and ``p_direction`` (= max(p_positive, 1 - p_positive)). The draws themselves are
    available from :meth:`draws_of`.

    Notes
    -----
    Definitions (each computed draw by draw, at level population, dyad or session):

    * ``p(j|i)``: softmax of the level's logits (see :class:`TransitionModel` Notes for
      what "population" means); structural zeros are exactly 0.
    * ``p(j)``: the marginal target distribution :math:`\sum_i w_i p(j|i)` with
      :math:`w_i` the observed share of given code i among lag pairs (pooled for the
      population level, the dyad's or session's own shares at those levels, the pooled
      shares when a unit has no pairs).
    * ``lift`` = p(j|i) / p(j) (null 1).
    * ``log_odds``: log odds ratio of the 2 x 2 table collapsed around (i, j), i.e.
      :math:`\mathrm{logit}\,p(j|i) - \mathrm{logit}\,p(j|\neg i)` with
      :math:`p(j|\neg i) = \sum_{k \ne i} w_k p(j|k) / (1 - w_i)` (null 0); NaN in
      structural zeros.
    * ``yules_q`` = (OR - 1)/(OR + 1) = tanh(log OR / 2) (null 0).
    * ``transition_probs``: null is p(j), so ``p_positive`` = P(p(j|i) > p(j)).
    """

    kind: ClassVar[str] = "transition"

    # ------------------------------------------------------------------ helpers
    @property
    def levels(self) -> tuple[str, ...]:
        """Levels with answers for this fit's pooling."""
        return LEVELS[self.spec["pooling"]]

    def _check_level(self, level: str) -> None:
        """Raise unless ``level`` is available."""
        if level not in _LEVEL_DIM:
            raise ValueError(f"level must be one of {list(_LEVEL_DIM)}, got {level!r}")
        if level not in self.levels:
            raise ValueError(
                f"level {level!r} is not defined with pooling={self.spec['pooling']!r} "
                f"(available: {list(self.levels)})"
            )

    def _allowed(self) -> np.ndarray:
        """Allowed cells (given, target)."""
        return np.asarray(self.fit_data["allowed"].values, dtype=bool)

    def _weights(self, level: str) -> xr.DataArray:
        """Given-code shares ``w_i`` at ``level`` (see class Notes)."""
        fd = self.fit_data
        counts = fd["counts"].sum("target")
        pooled = counts.sum("session")
        pooled = pooled / pooled.sum()
        if level == "population":
            return pooled
        if level == "dyad":
            counts = counts.groupby(
                xr.DataArray(fd["session_dyad"].values, dims="session", name="dyad")
            ).sum()
            counts = counts.reindex(dyad=fd["dyad"].values, fill_value=0)
        total = counts.sum("given")
        share = counts / total.where(total > 0)
        return share.where(total > 0, pooled)

    def draws_of(
        self, quantity: str = "transition_probs", level: str = "population"
    ) -> xr.DataArray:
        """Draws of a quantity (see class Notes).

        Parameters
        ----------
        quantity : {"transition_probs", "marginal", "lift", "log_odds", "yules_q"}
            Which quantity (see class Notes).
        level : {"population", "dyad", "session"}
            Level of the logits.

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, [dyad | session,] given, target)`` (``marginal`` has no
            ``given``).
        """
        self._check_level(level)
        name = f"logit_{level}"
        logits = self.draws[name]
        allowed = self._allowed()
        p = xr.apply_ufunc(
            _masked_softmax,
            logits,
            kwargs={"allowed": allowed},
            dask="forbidden",
        ).rename("transition_probs")
        if quantity == "transition_probs":
            return p
        w = self._weights(level)
        marginal = (w * p).sum("given").rename("marginal")
        if quantity == "marginal":
            return marginal
        if quantity == "lift":
            return (p / marginal).rename("lift")
        if quantity in ("log_odds", "yules_q"):
            rest = (marginal - w * p) / (1 - w)
            with np.errstate(divide="ignore", invalid="ignore"):
                lor = np.log(p) - np.log1p(-p) - (np.log(rest) - np.log1p(-rest))
            lor = lor.where(xr.DataArray(allowed, dims=("given", "target")))
            lor = lor.where(np.isfinite(lor))
            if quantity == "log_odds":
                return lor.rename("log_odds")
            return np.tanh(lor / 2).rename("yules_q")
        raise ValueError(
            "quantity must be one of 'transition_probs', 'marginal', 'lift', 'log_odds', "
            f"'yules_q'; got {quantity!r}"
        )

    # ------------------------------------------------------------------ answers
    def transition_probs(self, level: str = "population", ci_prob: float = 0.9) -> xr.Dataset:
        """Transition probabilities p(target j | given i) with uncertainty.

        Parameters
        ----------
        level : {"population", "dyad", "session"}
            Population (typical session of a typical dyad), per dyad or per session.
        ci_prob : float, default 0.9
            Probability mass of the equal-tailed credible interval.

        Returns
        -------
        xarray.Dataset
            ``mean``, ``sd``, ``lower``, ``upper``, ``p_positive`` = P(p(j|i) > p(j)),
            ``p_direction`` on ``([dyad | session,] given, target)``.
        """
        p = self.draws_of("transition_probs", level)
        marginal = self.draws_of("marginal", level)
        return _summarise(p, ci_prob, marginal, "p(j)")

    def lift(self, level: str = "population", ci_prob: float = 0.9) -> xr.Dataset:
        """Lift p(j|i) / p(j) (1 = no association); see :meth:`transition_probs`."""
        return _summarise(self.draws_of("lift", level), ci_prob, 1.0, "1")

    def log_odds(self, level: str = "population", ci_prob: float = 0.9) -> xr.Dataset:
        """Log odds ratio of the collapsed 2 x 2 table, draw by draw (null 0)."""
        return _summarise(self.draws_of("log_odds", level), ci_prob, 0.0, "0")

    def yules_q(self, level: str = "population", ci_prob: float = 0.9) -> xr.Dataset:
        """Yule's Q of the collapsed 2 x 2 table, draw by draw (null 0)."""
        return _summarise(self.draws_of("yules_q", level), ci_prob, 0.0, "0")

    def contrast(
        self,
        given1: str,
        given2: str,
        target: str,
        level: str = "population",
        ci_prob: float = 0.9,
    ) -> xr.Dataset:
        """Difference p(target | given1) - p(target | given2) with uncertainty.

        Parameters
        ----------
        given1, given2 : str
            Given codes (labels of the ``given`` coordinate).
        target : str
            Target code.
        level : {"population", "dyad", "session"}
            Level of the probabilities.
        ci_prob : float, default 0.9
            Credible interval probability.

        Returns
        -------
        xarray.Dataset
            ``mean``, ``sd``, ``lower``, ``upper``, ``p_positive`` = P(difference > 0),
            ``p_direction`` (over ``dyad``/``session`` at those levels).
        """
        p = self.draws_of("transition_probs", level)
        for label, dim in ((given1, "given"), (given2, "given"), (target, "target")):
            if label not in p[dim].values:
                raise ValueError(
                    f"unknown {dim} code {label!r}; expected one of {list(p[dim].values)}"
                )
        diff = p.sel(given=given1, target=target, drop=True) - p.sel(
            given=given2, target=target, drop=True
        )
        ds = _summarise(diff, ci_prob, 0.0, "0")
        ds.attrs.update({"contrast": f"p({target}|{given1}) - p({target}|{given2})"})
        return ds

    def summary(self, level: str = "population", ci_prob: float = 0.9) -> pd.DataFrame:
        """Bayesian estimates beside the classical lag-table statistics, one row per cell.

        Parameters
        ----------
        level : {"population", "dyad", "session"}
            Level of the Bayesian estimates (classical values are always the pooled table).
        ci_prob : float, default 0.9
            Credible interval probability.

        Returns
        -------
        pandas.DataFrame
            Index (``[dyad | session,] given, target``); columns ``count``,
            ``p_classical``, ``p_mean``, ``p_lower``, ``p_upper``, ``p_gt_marginal``,
            ``lift_mean``, ``Q_classical``, ``Q_mean``, ``Q_lower``, ``Q_upper``,
            ``P(Q>0)``, ``logOR_classical``, ``logOR_mean``, ``logOR_lower``,
            ``logOR_upper``. Printing it shows them side by side.
        """
        from lagnest.lagtable import table_statistics

        fd = self.fit_data
        pooled = fd["counts"].sum("session")
        classical = table_statistics(pooled, structural_zeros=~self._allowed())
        p = self.transition_probs(level, ci_prob)
        lift = self.lift(level, ci_prob)
        q = self.yules_q(level, ci_prob)
        lor = self.log_odds(level, ci_prob)
        frame = xr.Dataset(
            {
                "p_mean": p["mean"],
                "p_lower": p["lower"],
                "p_upper": p["upper"],
                "p_gt_marginal": p["p_positive"],
                "lift_mean": lift["mean"],
                "Q_mean": q["mean"],
                "Q_lower": q["lower"],
                "Q_upper": q["upper"],
                "P(Q>0)": q["p_positive"],
                "logOR_mean": lor["mean"],
                "logOR_lower": lor["lower"],
                "logOR_upper": lor["upper"],
            }
        ).to_dataframe()
        cls_frame = pd.DataFrame(
            {
                "count": pooled.to_series(),
                "p_classical": classical["trans_prob"].to_series(),
                "Q_classical": classical["yules_q"].to_series(),
                "logOR_classical": classical["log_odds"].to_series(),
            }
        )
        out = frame.join(cls_frame, on=["given", "target"])
        order = [
            "count", "p_classical", "p_mean", "p_lower", "p_upper", "p_gt_marginal",
            "lift_mean", "Q_classical", "Q_mean", "Q_lower", "Q_upper", "P(Q>0)",
            "logOR_classical", "logOR_mean", "logOR_lower", "logOR_upper",
        ]
        out = out[order]
        out.attrs = {"ci_prob": ci_prob, "level": level}
        return out

    def __str__(self) -> str:
        spec = self.spec
        fd = self.fit_data
        counts = fd["counts"]
        lines = self._header()
        lines.insert(
            1,
            f"  {spec['given']} -> {spec['target']} at lag {spec['lag']}, pooling "
            f"{spec['pooling']!r}: {int(counts.sum())} pairs in {counts.sizes['session']} "
            f"sessions of {fd.sizes['dyad']} dyads",
        )
        if "population" in self.levels:
            p = self.transition_probs("population")
            table = (
                p["mean"].to_pandas().round(3).astype(str)
                + " ["
                + p["lower"].to_pandas().round(3).astype(str)
                + ", "
                + p["upper"].to_pandas().round(3).astype(str)
                + "]"
            )
            lines.append("Population p(target | given), mean [90% interval]:")
            lines.append(table.to_string())
        if self.diagnostics is not None:
            lines.append("Diagnostics: " + str(self.diagnostics))
        return "\n".join(lines)


TransitionModel.result_class = TransitionResult
