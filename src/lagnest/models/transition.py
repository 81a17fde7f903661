"""Hierarchical Bayesian transition model on lag-table sufficient statistics.

:class:`TransitionModel` estimates lagged transition probabilities p(target j at t + lag |
given i at t) with partial pooling across dyads and sessions; :class:`TransitionResult`
answers the usual questions (transition probabilities, lift, log odds ratios, Yule's Q,
contrasts) draw by draw, each with mean, sd, credible interval and posterior
probability of direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._lang import check_lang, translate
from lagnest._summaries import CI_PROB, ResultSummary, summarise, validate_ci_prob
from lagnest._warnings import warn_user
from lagnest.errors import LagnestDataError
from lagnest.models.base import BayesianModel
from lagnest.models.basis import helmert, masked_softmax, zero_sum_basis
from lagnest.models.hierarchy import dyad_deviations, session_deviations
from lagnest.models.priors import Prior
from lagnest.models.result import FitResult
from lagnest.models.segments import SegmentCodes
from lagnest.models.structure import (
    GroupStructure,
    check_grouping,
    choose_parameterization,
    deviation_sd_estimate,
)

if TYPE_CHECKING:
    from lagnest.data.codebook import Codebook
    from lagnest.models.loo import CellLogLik

__all__ = ["DEVIATIONS", "POOLINGS", "TransitionData", "TransitionModel", "TransitionResult"]

#: Pooling structures: logits = population + dyad deviation + session deviation.
POOLINGS = ("dyad/session", "dyad", "none", "complete")
#: Structures of the group deviations: a part shared by all given rows plus a part
#: specific to each row ("shared+row"), or row-specific parts only ("row").
DEVIATIONS = ("shared+row", "row")
PARAMETERIZATIONS = ("auto", "centered", "noncentered")
_LEVEL_DIMS = {"population": None, "typical": None, "dyad": "dyad", "session": "session"}
#: New dyads and sessions drawn per posterior draw for the population average.
N_NEW_GROUPS = 400


# =========================================================================== data


@dataclass(frozen=True)
class TransitionData:
    """Sufficient statistics of a :class:`TransitionModel`: per-session lag tables.

    Attributes
    ----------
    counts : ndarray of int64, shape (S, K, M)
        Lag pairs per session, given code and target code (the observed array).
    allowed : ndarray of bool, shape (K, M)
        Cells in the support (False = structural zero).
    given_labels, target_labels, session_labels, dyad_labels : tuple of str
    session_dyad : ndarray of int64, shape (S,)
        Dyad index of each session.
    pairs : ndarray of int64, shape (P, 3) or None
        ``(session, given, target)`` per lag pair, for the per-segment model only.
    segments : SegmentCodes or None
        Codes per segment and nesting, for replicating whole sequences (checks).
    pair_segment : ndarray of int64, shape (P,) or None
        Position of each lag pair's target segment in the corpus, in segment order
        (identifies the segments that LOO scores, see :mod:`lagnest.models.loo`).
    pair_cell : ndarray of int64, shape (P,) or None
        Flat index of each pair's ``(session, given, target)`` cell of ``counts``
        (aggregated model only; the per-segment model has ``pairs``). None when the
        observed counts are not the corpus's (:meth:`with_observed`).
    """

    counts: np.ndarray
    allowed: np.ndarray
    given_labels: tuple[str, ...]
    target_labels: tuple[str, ...]
    session_labels: tuple[str, ...]
    dyad_labels: tuple[str, ...]
    session_dyad: np.ndarray
    pairs: np.ndarray | None = None
    segments: SegmentCodes | None = None
    pair_segment: np.ndarray | None = None
    pair_cell: np.ndarray | None = None

    @property
    def observed(self) -> dict[str, np.ndarray]:
        """The arrays a new dataset of this design replaces (``pm.Data`` of the graph)."""
        if self.pairs is not None:
            return {"pair_target": np.ascontiguousarray(self.pairs[:, 2])}
        return {"counts": self.counts}

    def with_observed(self, arrays: Mapping[str, np.ndarray]) -> TransitionData:
        """A copy holding other observed arrays of the same shape (see :attr:`observed`)."""
        _check_observed(self.observed, arrays)
        if self.pairs is not None:
            pairs = self.pairs.copy()
            pairs[:, 2] = np.asarray(arrays["pair_target"], dtype=np.int64)
            return replace(self, pairs=pairs, counts=_pair_counts(pairs, self.counts.shape))
        return replace(self, counts=np.asarray(arrays["counts"], dtype=np.int64),
                       pair_segment=None, pair_cell=None)

    @property
    def basis(self) -> np.ndarray:
        """Zero-sum basis of the allowed cells, ``(F, K * M)``."""
        return zero_sum_basis(self.allowed)

    @property
    def session_dyad_labels(self) -> list[str]:
        """Dyad label of each session."""
        return [self.dyad_labels[i] for i in self.session_dyad]

    def to_dataset(self) -> xr.Dataset:
        """Counts, dyad of each session and allowed cells (the result's ``fit_data``)."""
        data = {
            "counts": (("session", "given", "target"), self.counts),
            "session_dyad": (("session",), np.array(self.session_dyad_labels, dtype=str)),
            "allowed": (("given", "target"), self.allowed),
        }
        if self.pairs is not None:
            data["pairs"] = (("pair", "pair_field"), self.pairs)
        if self.segments is not None:
            data.update(self.segments.to_dataset().data_vars)
        for name in ("pair_segment", "pair_cell"):
            values = getattr(self, name)
            if values is not None:  # int32 halves the size on disk
                small = values.size == 0 or int(values.max()) < 2**31
                data[name] = (("pair",), values.astype(np.int32 if small else np.int64))
        return xr.Dataset(
            data,
            coords={
                "session": list(self.session_labels),
                "given": list(self.given_labels),
                "target": list(self.target_labels),
                "dyad": list(self.dyad_labels),
            },
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> TransitionData:
        """Inverse of :meth:`to_dataset`."""
        dyads = tuple(str(d) for d in ds["dyad"].values)
        index = {d: i for i, d in enumerate(dyads)}
        return cls(
            counts=np.asarray(ds["counts"].values, dtype=np.int64),
            allowed=np.asarray(ds["allowed"].values, dtype=bool),
            given_labels=tuple(str(v) for v in ds["given"].values),
            target_labels=tuple(str(v) for v in ds["target"].values),
            session_labels=tuple(str(v) for v in ds["session"].values),
            dyad_labels=dyads,
            session_dyad=np.array([index[str(d)] for d in ds["session_dyad"].values],
                                  dtype=np.int64),
            pairs=np.asarray(ds["pairs"].values, dtype=np.int64) if "pairs" in ds else None,
            segments=SegmentCodes.from_dataset(ds),
            **{name: np.asarray(ds[name].values, dtype=np.int64)
               for name in ("pair_segment", "pair_cell") if name in ds},
        )


def _check_observed(expected: Mapping[str, np.ndarray], arrays: Mapping[str, Any]) -> None:
    """Raise unless ``arrays`` has exactly the expected names, shapes and integer values."""
    if set(arrays) != set(expected):
        raise ValueError(f"observed arrays must be {sorted(expected)}, got {sorted(arrays)}")
    for name, ref in expected.items():
        value = np.asarray(arrays[name])
        if value.shape != ref.shape:
            raise ValueError(f"observed {name!r} must have shape {ref.shape}, got {value.shape}")
        if not np.issubdtype(value.dtype, np.integer) or (value.size and value.min() < 0):
            raise ValueError(f"observed {name!r} must hold non-negative integers")


def _pair_counts(pairs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Per-session counts ``(S, K, M)`` of ``(session, given, target)`` rows."""
    flat = np.ravel_multi_index(tuple(pairs.T), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.int64)


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


def _zeros_argument(zeros: Any) -> Any:
    """JSON form of structural zeros back to what :func:`structural_zero_mask` takes."""
    if isinstance(zeros, list) and zeros and isinstance(zeros[0], list):
        if isinstance(zeros[0][0], str):
            return [tuple(p) for p in zeros]
        return np.array(zeros, dtype=bool)
    return zeros


def transition_data(
    seqs: Any, given: str, target: str, lag: int, structural_zeros: Any, per_segment: bool
) -> TransitionData:
    """Per-session counts from :func:`lagnest.count_table` (and pairs if asked)."""
    from lagnest.classical.lagtable import count_table, lag_pairs
    from lagnest.classical.statistics import structural_zero_mask

    table = count_table(seqs, given, target, lag=lag, by="session")
    counts = np.ascontiguousarray(table.transpose("unit", "given", "target").values)
    given_labels = [str(v) for v in table["given"].values]
    target_labels = [str(v) for v in table["target"].values]
    if counts.sum() == 0:
        raise LagnestDataError(
            f"no coded lag-{lag} pairs of {given!r} -> {target!r}: nothing to fit"
        )
    mask = structural_zero_mask(
        _zeros_argument(structural_zeros), counts.shape[-2:], given_labels, target_labels
    )
    allowed = np.ones(counts.shape[-2:], dtype=bool) if mask is None else ~mask
    if np.any(counts[:, ~allowed] != 0):
        where = np.argwhere(counts[:, ~allowed] != 0)
        cell = np.argwhere(~allowed)[where[0, 1]]
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
    pairs, segment = lag_pairs(seqs, given, target, lag, return_segment=True)
    return TransitionData(
        counts=counts,
        allowed=allowed,
        given_labels=tuple(given_labels),
        target_labels=tuple(target_labels),
        session_labels=tuple(seqs.session_labels),
        dyad_labels=tuple(seqs.dyad_labels),
        session_dyad=np.asarray(seqs.encoded.session_dyad, dtype=np.int64),
        segments=SegmentCodes.from_sequences(seqs, target, None if given == target else given),
        pairs=pairs if per_segment else None,
        pair_segment=segment,
        pair_cell=None if per_segment else np.ravel_multi_index(tuple(pairs.T), counts.shape),
    )


# =========================================================================== model


class _DeviationLayout:
    r"""Coordinates of the group deviations (NumPy and PyTensor, one definition).

    A group's logits are written in zero-sum target coordinates (Helmert over the M
    targets, per given row) rotated across the K rows by :math:`Q = [1/\sqrt K \mid
    H_K]`: coordinate 0 along the rows is the row mean, the others are Helmert contrasts
    between rows. A deviation :math:`b` with a part shared by every row and a
    row-specific part (``"shared+row"``: :math:`b_{i\cdot} = a + u_{i\cdot}`) has, for
    each target coordinate, covariance :math:`\sigma_a^2 J + \sigma_u^2 I` across rows,
    whose eigenvectors are the columns of :math:`Q` with eigenvalues
    :math:`K\sigma_a^2 + \sigma_u^2` and :math:`\sigma_u^2`. Sampling the rotated
    coordinates, each with its own scale, is the same model as :math:`a + u` without the
    ridge between the shared and the row parts (a ridge that made data-rich fits mix
    badly). ``"row"`` uses the same coordinates with one scale. Cells that are structural
    zeros are masked by the softmax, so their directions are informed by the prior only.
    """

    def __init__(self, allowed: np.ndarray, deviations: str) -> None:
        self.allowed = np.asarray(allowed, dtype=bool)
        self.shared = deviations == "shared+row"
        self.k, self.m = self.allowed.shape
        self.basis = zero_sum_basis(self.allowed)
        self.target_basis = helmert(self.m)
        self.rotation = np.column_stack([np.full(self.k, 1 / np.sqrt(self.k)),
                                         helmert(self.k)])

    @property
    def coords(self) -> dict[str, list[Any]]:
        """Coordinates of the row components of :meth:`parts` (``free_target`` is the model's)."""
        names = ["row_mean", *[f"row_contrast{i}" for i in range(1, self.k)]]
        if not self.shared:
            return {"row_component": names}
        return {"row_mean_component": names[:1], "row_contrast": names[1:]}

    def parts(self) -> list[tuple[str, slice, str]]:
        """(key suffix, rows of the rotated coordinates, dim name) of each sampled part.

        With shared deviations the row mean and the row contrasts are sampled as two
        variables, each in its own form (their scales differ); without, one variable.
        """
        if not self.shared:
            return [("", slice(0, self.k), "row_component")]
        return [("", slice(0, 1), "row_mean_component"),
                ("_rows", slice(1, self.k), "row_contrast")]

    def scale_names(self, level: str) -> tuple[str, ...]:
        """Prior names of a level's scales (shared first)."""
        return (level, f"{level}_row") if self.shared else (f"{level}_row",)

    def free_shape(self) -> tuple[int, int]:
        """Shape of one group's coordinates."""
        return (self.k, self.m - 1)

    def scale_tensor(self, scales: list[Any]) -> Any:
        """Per-coordinate scale ``(K, 1)`` (PyTensor) from the level's scale variables."""
        import pytensor.tensor as pt

        su = scales[-1]
        first = pt.sqrt(self.k * scales[0] ** 2 + su**2) if self.shared else su
        return pt.concatenate([first[None], pt.repeat(su[None], self.k - 1)])[:, None]

    def scale_array(self, scales: list[np.ndarray]) -> np.ndarray:
        """NumPy :meth:`scale_tensor` for draws ``(...,)``: ``(..., K, 1)``."""
        su = np.asarray(scales[-1])
        first = np.sqrt(self.k * np.asarray(scales[0]) ** 2 + su**2) if self.shared else su
        rest = np.repeat(su[..., None], self.k - 1, axis=-1)
        return np.concatenate([first[..., None], rest], axis=-1)[..., None]

    def cells(self, free: Any) -> Any:
        """Zero-sum coordinates over allowed cells ``(..., F)`` -> logits ``(..., K, M)``."""
        import pytensor.tensor as pt

        out = pt.dot(free, pt.as_tensor_variable(self.basis))
        return out.reshape((*[free.shape[i] for i in range(free.ndim - 1)], self.k, self.m))

    def to_cells(self, coords: Any) -> Any:
        """Rotated coordinates ``(..., K, M-1)`` -> logits ``(..., K, M)`` (PyTensor)."""
        import pytensor.tensor as pt

        rotated = pt.tensordot(coords, pt.as_tensor_variable(self.rotation), axes=[[-2], [1]])
        return pt.dot(pt.moveaxis(rotated, -1, -2), pt.as_tensor_variable(self.target_basis.T))

    def from_cells(self, logits: Any) -> Any:
        """Logits ``(..., K, M)`` -> rotated coordinates ``(..., K, M-1)`` (PyTensor)."""
        import pytensor.tensor as pt

        coords = pt.dot(logits, pt.as_tensor_variable(self.target_basis))
        back = pt.tensordot(coords, pt.as_tensor_variable(self.rotation), axes=[[-2], [0]])
        return pt.moveaxis(back, -1, -2)

    def to_cells_numpy(self, coords: np.ndarray) -> np.ndarray:
        """NumPy :meth:`to_cells`."""
        return np.einsum("ij,...jt->...it", self.rotation, coords) @ self.target_basis.T


def _check_code_spec(seqs: Any, spec: Any, role: str) -> Any:
    """The :class:`~lagnest.data._streams.CodeRef` of a given/target spec; raise naming the role."""
    if not isinstance(spec, str):
        raise LagnestDataError(
            f"{role} must be one stream or code name (str), got {spec!r}; the transition "
            "model takes one categorical stream or one indicator at a time"
        )
    try:
        ref = seqs.resolve_code(spec)
    except LagnestDataError as err:
        raise LagnestDataError(f"{role}: {err}") from None
    if ref.is_set:
        raise LagnestDataError(
            f"{role}={spec!r} is a set of indicators; name one of its codes "
            f"({', '.join(seqs.streams[ref.stream].codes)}) or use LaggedRegression for a set"
        )
    return ref


class TransitionModel(BayesianModel["TransitionResult"]):
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
        Lag >= 0 (pairs never cross a session boundary or a break). To model what
        precedes a code, swap ``given`` and ``target``.
    pooling : {"dyad/session", "dyad", "none", "complete"}
        ``"dyad/session"``: population + dyad + session-within-dyad deviations;
        ``"dyad"``: sessions of a dyad share one table; ``"none"``: every session alone;
        ``"complete"``: one table for all.
    deviations : {"shared+row", "row"}, default "shared+row"
        ``"shared+row"``: each dyad (and session) deviation is a part shared by every
        given row (e.g. a dyad's general rupture-proneness) plus a row-specific part;
        ``"row"``: row-specific parts only (independent across given rows).
    parameterization : {"auto", "centered", "noncentered"}, default "auto"
        Form of the group deviations. ``"auto"`` chooses per level and term from how much
        data each group carries (:func:`~lagnest.models.structure.choose_parameterization`):
        non-centred for sparse groups, centred for data-rich ones.
    structural_zeros : None, "diagonal", list of (given, target) pairs or bool mask
        Transitions that cannot occur; excluded from the support (probability exactly 0).
    priors : mapping, optional
        Overrides of the default priors (see Notes), e.g. ``{"sigma_dyad": {"sigma": 1}}``.
    per_segment : bool, default False
        Build the equivalent Categorical model on one row per lag pair instead of the
        Multinomial model on counts (same posterior, slower: for tests and benchmarks).

    See Also
    --------
    lagnest.classical.lagtable.lag_table : the classical statistics of the same table.
    lagnest.classical.lagtable.count_table : the sufficient statistics.

    Notes
    -----
    Let :math:`y_{si\cdot}` be the lag-pair counts of session s with given code i (one row
    of the per-session lag table, the sufficient statistic), :math:`d(s)` the dyad of
    session s, and :math:`A_i` the allowed target codes of row i. Then

    .. math::

        y_{si\cdot} \sim \mathrm{Multinomial}(n_{si}, \mathrm{softmax}_{A_i}(\eta_{si})),
        \qquad \eta_{si} = \alpha_i + a_{d(s)} + u_{d(s)i} + c_s + v_{si}

    with :math:`\alpha_i` zero-sum over :math:`A_i` (identifiability), dyad deviations
    :math:`a_d` (shared by all given rows, zero-sum over targets, scale
    :math:`\sigma_{dyad}`) and :math:`u_{di}` (row-specific, zero-sum over :math:`A_i`,
    scale :math:`\sigma_{dyad,row}`), and session deviations :math:`c_s`, :math:`v_{si}`
    likewise (scales :math:`\sigma_{session}`, :math:`\sigma_{session,row}`). With
    ``deviations="row"`` the shared parts are absent. Sharing lets a dyad's general
    tendency inform every row, so contrasts between rows keep the within-dyad comparison.

    **Levels of the answers.** ``"typical"``: softmax of the typical logits, the
    typical session of the typical dyad (all deviations 0), a median-like summary.
    ``"population"``: the average of the transition probabilities over new dyads and
    new sessions drawn from the fitted hierarchy (Monte Carlo, :data:`N_NEW_GROUPS` per
    draw, seeded by the fit's seed): the quantity the pooled observed proportion
    estimates. Softmax of a mean is not the mean of softmaxes, so the two differ when
    groups vary. ``"dyad"``: typical session of each dyad; ``"session"``: each session.

    Dyad deviations are sampled with a zero sum over dyads (this cuts divergences with few
    dyads); the typical logits add back the uncertainty of the centre of *these* dyads
    around the population mean, :math:`\alpha^{pop} = \alpha - \sigma \bar z/\sqrt D`,
    which makes the model exactly the hierarchical model with independent dyad
    deviations.

    **Default priors** (weakly informative on the logit scale, chosen for ~6 dyads):
    ``alpha``: Normal(0, 1.5) zero-sum (a logit difference between two targets then has
    prior sd ~2.1); ``sigma_dyad``, ``sigma_dyad_row``, ``sigma_session``,
    ``sigma_session_row``: HalfNormal(0.5) each. Check them with :meth:`prior_predictive`.

    Because the multinomial coefficient does not involve the parameters, the posterior is
    identical to that of the per-segment Categorical model (``per_segment=True``) but
    the cost grows with the number of cells, not segments.

    References
    ----------
    .. [1] Dagne, G. A., Howe, G. W., Brown, C. H., & Muthén, B. O. (2002). Hierarchical
       modeling of sequential behavioral data: An empirical Bayesian approach.
       *Psychological Methods, 7*\ (2), 262-280.
    .. [2] Betancourt, M., & Girolami, M. (2015). Hamiltonian Monte Carlo for
       hierarchical models. In *Current trends in Bayesian methodology with
       applications* (pp. 79-101). CRC Press.

    Examples
    --------
    >>> from lagnest import Sequences
    >>> seqs = Sequences.from_sequences({"code": [list("abab"), list("aabb")]},
    ...                                 dyads=["d1", "d2"])
    >>> m = TransitionModel(seqs, given="code", target="code")
    >>> m.built
    False
    """

    model_name: ClassVar[str] = "TransitionModel"
    data_class: ClassVar[Any] = TransitionData
    default_priors: ClassVar[Mapping[str, Prior]] = {
        "alpha": Prior("Normal", {"sigma": 1.5}),
        "sigma_dyad": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_dyad_row": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_session": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_session_row": Prior("HalfNormal", {"sigma": 0.5}),
    }
    default_sampler_config: ClassVar[Mapping[str, Any]] = {"target_accept": 0.95}
    prior_kinds: ClassVar[Mapping[str, str]] = {
        "alpha": "location",
        "sigma_dyad": "scale",
        "sigma_dyad_row": "scale",
        "sigma_session": "scale",
        "sigma_session_row": "scale",
    }

    def __init__(
        self,
        seqs: Any,
        given: str,
        target: str,
        lag: int = 1,
        pooling: str = "dyad/session",
        deviations: str = "shared+row",
        parameterization: str = "auto",
        structural_zeros: Any = None,
        priors: Mapping[str, Any] | None = None,
        per_segment: bool = False,
    ) -> None:
        given_ref = _check_code_spec(seqs, given, "given")
        target_ref = _check_code_spec(seqs, target, "target")
        for value, name, allowed in (
            (pooling, "pooling", POOLINGS),
            (deviations, "deviations", DEVIATIONS),
            (parameterization, "parameterization", PARAMETERIZATIONS),
        ):
            if value not in allowed:
                raise LagnestDataError(f"{name} must be one of {list(allowed)}, got {value!r}")
        if isinstance(lag, bool) or not isinstance(lag, int | np.integer):
            raise LagnestDataError(f"lag must be an integer, got {lag!r}")
        if lag < 0:
            raise LagnestDataError(
                f"lag must be >= 0, got {lag}; to model what precedes {target!r}, swap "
                "given and target and use a positive lag"
            )
        if lag == 0 and given_ref.stream == target_ref.stream:
            raise LagnestDataError(
                f"lag=0 with given {given!r} and target {target!r} from the same stream "
                f"{given_ref.stream!r} compares a segment's code with itself; use "
                "lag >= 1, or codes of two different streams for co-occurrence"
            )
        if len(seqs.categorical(target)[1]) < 2:
            raise LagnestDataError(f"target {target!r} has a single code: nothing to predict")
        spec = {
            "given": given,
            "target": target,
            "lag": int(lag),
            "pooling": pooling,
            "deviations": deviations,
            "parameterization": parameterization,
            "structural_zeros": _normalise_zeros(structural_zeros),
            "per_segment": bool(per_segment),
        }
        super().__init__(seqs, spec, priors)

    # ------------------------------------------------------------------ data
    def _make_data(self, seqs: Any) -> TransitionData:
        s = self._spec
        data = transition_data(seqs, s["given"], s["target"], s["lag"],
                               s["structural_zeros"], s["per_segment"])
        never = [g for g, n in zip(data.given_labels, data.counts.sum(axis=(0, 2)), strict=True)
                 if n == 0]
        if never:
            warn_user(
                f"given code(s) {never} never occur with a coded lag-{s['lag']} target: "
                "their rows are estimated from the prior and the pooled rows only"
            )
        return data

    @property
    def given(self) -> str:
        """The given (row) spec."""
        return self._spec["given"]

    @property
    def target(self) -> str:
        """The target (column) spec."""
        return self._spec["target"]

    @property
    def pooling(self) -> str:
        """The pooling structure."""
        return self._spec["pooling"]

    @property
    def structure(self) -> GroupStructure:
        """Levels used and their parameterisation (checked against the data)."""
        d = self.data
        pooling = self._spec["pooling"]
        has = d.counts.sum(axis=(1, 2)) > 0
        base = check_grouping(
            d.session_dyad, d.dyad_labels, has,
            want_dyad=pooling in ("dyad/session", "dyad"),
            want_session=pooling == "dyad/session",
        )
        if pooling == "none":
            base = GroupStructure(False, False, ("no pooling: every session estimated "
                                                 "alone",))
        return replace(base, parameterization=self._parameterization(base))

    def _parameterization(self, structure: GroupStructure) -> dict[str, str]:
        """Centred or non-centred per level (see ``parameterization``)."""
        choice = self._spec["parameterization"]
        d = self.data
        counts = d.counts
        n_dyads = len(d.dyad_labels)
        dyad_counts = np.zeros((n_dyads, *counts.shape[1:]))
        np.add.at(dyad_counts, d.session_dyad, counts)
        levels = {"dyad": (dyad_counts, np.zeros(n_dyads, dtype=np.int64)),
                  "session": (counts, d.session_dyad)}
        pooled = counts.sum(axis=0)
        p = pooled / np.maximum(pooled.sum(axis=1, keepdims=True), 1)
        p = p[d.allowed & (pooled.sum(axis=1, keepdims=True) > 0)]
        variance = float(np.min(p * (1 - p))) if p.size else 0.0
        layout = _DeviationLayout(d.allowed, self._spec["deviations"])
        out = {}
        for level in structure.levels:
            group_counts, parent = levels[level]
            per_row = group_counts.sum(axis=-1)
            if not layout.shared:
                sd = deviation_sd_estimate(group_counts, parent)
                out[level] = (choice if choice != "auto" else choose_parameterization(
                    per_row.ravel(), sd, variance, group_counts.shape[0]))
                continue
            # the row-mean component (shared part) and the row contrasts (row-specific
            # part) have scales of their own, hence forms of their own
            sds = deviation_sd_estimate(group_counts, parent, layout.rotation)
            for key, obs, sd in (
                (level, per_row.sum(axis=-1), sds[0]),
                (f"{level}_rows", per_row.ravel(), float(np.sqrt(np.mean(sds[1:] ** 2)))),
            ):
                out[key] = (choice if choice != "auto" else choose_parameterization(
                    obs, sd, variance, group_counts.shape[0]))
        return out

    @property
    def coords(self) -> dict[str, list[Any]]:
        """Model coordinates: ``given``, ``target``, ``dyad``, ``session``, free dims."""
        d = self.data
        return {
            "given": list(d.given_labels),
            "target": list(d.target_labels),
            "dyad": list(d.dyad_labels),
            "session": list(d.session_labels),
            "free_cell": list(range(d.basis.shape[0])),
            "free_target": list(range(len(d.target_labels) - 1)),
            "free_dyad": list(range(max(len(d.dyad_labels) - 1, 0))),
        }

    # ------------------------------------------------------------------ backend
    def build_model(self) -> Any:
        """Build the PyMC model (Multinomial on counts, or Categorical per segment)."""
        import pymc as pm
        import pytensor.tensor as pt

        d = self.data
        structure = self.structure
        layout = _DeviationLayout(d.allowed, self._spec["deviations"])
        n_dyads = len(d.dyad_labels)
        mask = pt.as_tensor_variable(d.allowed)

        def level_scale(level: str) -> Any:
            """Per-coordinate scale ``(K, 1)`` of a level from its scale priors."""
            return layout.scale_tensor([
                self._priors[f"sigma_{name}"].create_variable(f"sigma_{name}")
                for name in layout.scale_names(level)
            ])

        with pm.Model(coords={**self.coords, **layout.coords}) as model:
            if self._spec["pooling"] == "none":
                alpha_free = self._priors["alpha"].create_variable(
                    "alpha_free", mu=0.0, dims=("session", "free_cell")
                )
                logit_session = layout.cells(alpha_free)
            else:
                alpha = layout.cells(
                    self._priors["alpha"].create_variable("alpha_free", mu=0.0, dims="free_cell")
                )
                logit_typical = alpha
                logit_dyad = pt.repeat(alpha[None], n_dyads, axis=0)
                form = structure.parameterization
                if structure.dyad:
                    scale, parent = level_scale("dyad"), layout.from_cells(alpha)
                    devs, centres = [], []
                    for suffix, rows, dim in layout.parts():
                        dev, centre = dyad_deviations(
                            f"dyad{suffix}", scale[rows], (dim, "free_target"), n_dyads,
                            form[f"dyad{suffix}"], parent[rows])
                        devs.append(dev)
                        centres.append(centre)
                    logit_dyad = logit_dyad + layout.to_cells(pt.concatenate(devs, axis=-2))
                    logit_typical = logit_typical - layout.to_cells(
                        pt.concatenate(centres, axis=-2))
                logit_typical = pt.where(mask, logit_typical, 0.0)
                pm.Deterministic("logit_typical", logit_typical,
                                 dims=("given", "target"))
                pm.Deterministic("logit_dyad", pt.where(mask, logit_dyad, 0.0),
                                 dims=("dyad", "given", "target"))
                logit_session = logit_dyad[d.session_dyad]
                if structure.session:
                    scale, parent = level_scale("session"), layout.from_cells(logit_session)
                    devs = [session_deviations(f"session{suffix}", scale[rows],
                                               (dim, "free_target"), form[f"session{suffix}"],
                                               parent[:, rows])
                            for suffix, rows, dim in layout.parts()]
                    logit_session = logit_session + layout.to_cells(pt.concatenate(devs, axis=-2))
            logit_session = pt.where(mask, logit_session, 0.0)
            pm.Deterministic("logit_session", logit_session, dims=("session", "given", "target"))
            if d.pairs is not None:
                y = pm.Data("pair_target", d.observed["pair_target"])
                model.add_coord("pair", np.arange(d.pairs.shape[0]))
                eta = logit_session[d.pairs[:, 0], d.pairs[:, 1]]
                eta = pt.where(mask[d.pairs[:, 1]], eta, -np.inf)
                pm.Categorical("y", logit_p=eta, observed=y, dims="pair")
            else:
                counts = pm.Data("counts", d.counts, dims=("session", "given", "target"))
                eta = pt.where(mask, logit_session, -np.inf)
                pm.Multinomial(
                    "y",
                    n=counts.sum(axis=-1),
                    p=pt.special.softmax(eta, axis=-1),
                    observed=counts,
                    dims=("session", "given", "target"),
                )
        return model

    def simulate(self, params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """Draw counts (or per-pair targets) from ``params["logit_session"]``.

        Parameters
        ----------
        params : mapping
            One draw with ``logit_session`` ``(S, K, M)``.
        rng : numpy.random.Generator

        Returns
        -------
        dict
            ``{"counts": (S, K, M)}`` with the design's row totals (lag pairs per session
            and given code), or ``{"pair_target": (P,)}`` for the per-segment model.
        """
        d = self.data
        p = masked_softmax(np.asarray(params["logit_session"], dtype=float), d.allowed)
        if d.pairs is not None:
            probs = p[d.pairs[:, 0], d.pairs[:, 1]]
            u = rng.random(probs.shape[0])[:, None]
            draw = (probs.cumsum(axis=1) < u).sum(axis=1)
            return {"pair_target": np.minimum(draw, probs.shape[1] - 1).astype(np.int64)}
        n = d.counts.sum(axis=-1)
        return {"counts": rng.multinomial(n, p).astype(np.int64)}

    @property
    def diagnostic_vars(self) -> tuple[str, ...]:
        """Group scales and the labelled logits (population, dyad, session)."""
        structure = self.structure
        names = []
        if self._spec["pooling"] != "none":
            names += ["logit_typical", "logit_dyad"]
        layout = _DeviationLayout(self.data.allowed, self._spec["deviations"])
        for level in structure.levels:
            names += [f"sigma_{n}" for n in layout.scale_names(level)]
        names.append("logit_session")
        return tuple(names)

    @property
    def calibration_vars(self) -> tuple[str, ...]:
        """Variables simulation-based calibration ranks: typical logits, group scales.

        With ``pooling="none"`` there is no population: the session logits are ranked.
        Constant cells (structural zeros) are skipped by :mod:`lagnest.calibration`.
        """
        if self._spec["pooling"] == "none":
            return ("logit_session",)
        layout = _DeviationLayout(self.data.allowed, self._spec["deviations"])
        names = ["logit_typical"]
        for level in self.structure.levels:
            names += [f"sigma_{n}" for n in layout.scale_names(level)]
        return tuple(names)


# =========================================================================== results


class TransitionResult(FitResult):
    r"""Posterior of a :class:`TransitionModel` and the answers users want.

    Every answer is an :class:`xarray.Dataset` made by
    :func:`~lagnest._summaries.summarise`: ``mean``, ``sd``, ``lower`` and
    ``upper`` (equal-tailed ``ci_prob`` interval, default 95%), ``p_positive`` (posterior
    probability that the quantity exceeds its null value, named in ``attrs["null"]``)
    and ``p_direction``. The draws themselves are available from :meth:`draws_of`.

    Notes
    -----
    Definitions (each computed draw by draw, at level population, typical, dyad or
    session; see :class:`TransitionModel` for the levels):

    * ``p(j|i)``: transition probability; structural zeros are exactly 0.
    * ``p(j)``: the marginal target distribution :math:`\sum_i w_i p(j|i)` with
      :math:`w_i` the observed share of given code i among lag pairs (pooled for the
      population and typical levels, the dyad's or session's own shares at those levels,
      the pooled shares when a unit has no pairs).
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
        """Levels with answers for this fit.

        They follow the structure fitted (:attr:`structure`), not the ``pooling`` asked
        for: a level merged or dropped by the model's checks (the session level when every
        dyad has one session, the dyad level with a single dyad) is not offered, and
        ``"population"`` needs a grouping level to average over.
        """
        if self.spec["pooling"] == "none":
            return ("session",)
        structure = self.structure
        removed = structure.removed if structure is not None else {}
        grouped = structure is None or bool(structure.levels)
        return (("population",) if grouped else ()) + tuple(
            level for level in ("typical", "dyad", "session") if level not in removed)

    def _check_level(self, level: str) -> None:
        """Raise unless ``level`` is available (saying why when the fit merged or dropped it)."""
        if level not in _LEVEL_DIMS:
            raise ValueError(f"level must be one of {list(_LEVEL_DIMS)}, got {level!r}")
        if level == "population" and self.spec["pooling"] == "complete":
            return
        if level in self.levels:
            return
        structure = self.structure
        available = f"(available: {list(self.levels)})"
        if self.spec["pooling"] != "none" and structure is not None:
            if level in structure.removed:
                raise ValueError(f"level {level!r} is not available in this fit: "
                                 f"{structure.why(level)} {available}")
            if level == "population" and structure.removed:
                raise ValueError(
                    "level 'population' averages over new groups, and this fit has no "
                    f"grouping level (grouping levels: {structure.levels_text()}) {available}")
        raise ValueError(
            f"level {level!r} is not defined with pooling={self.spec['pooling']!r} {available}"
        )

    def _where(self, level: str, lang: str = "en") -> str:
        """Where the answers at ``level`` hold, in words (after the fitted structure)."""
        structure = self.structure
        pooling = self.spec["pooling"]
        if structure is None:  # a result saved before the structure was recorded
            structure = GroupStructure(pooling in ("dyad/session", "dyad"),
                                       pooling == "dyad/session")
        fitted = ("session",) if pooling == "none" else structure.levels
        if level == "population":
            groups = structure.new_groups(lang)
            return (translate("where.population", lang, groups=groups) if groups
                    else translate("where.pooled", lang))
        if level == "typical":
            return translate({("dyad", "session"): "where.typical_both",
                              ("dyad",): "where.typical_dyad",
                              ("session",): "where.typical_session",
                              }.get(fitted, "where.pooled"), lang)
        if level == "dyad":
            return translate("where.dyad_session" if "session" in fitted else "where.dyad",
                             lang)
        return translate("where.session", lang)

    def _allowed(self) -> np.ndarray:
        """Allowed cells (given, target)."""
        return np.asarray(self.fit_data["allowed"].values, dtype=bool)

    def _weights(self, level: str) -> xr.DataArray:
        """Given-code shares ``w_i`` at ``level`` (see class Notes)."""
        fd = self.fit_data
        counts = fd["counts"].sum("target")
        pooled = counts.sum("session")
        pooled = pooled / pooled.sum()
        if level in ("population", "typical"):
            return pooled
        if level == "dyad":
            counts = counts.groupby(
                xr.DataArray(fd["session_dyad"].values, dims="session", name="dyad")
            ).sum()
            counts = counts.reindex(dyad=fd["dyad"].values, fill_value=0)
        total = counts.sum("given")
        share = counts / total.where(total > 0)
        return share.where(total > 0, pooled)

    def _population_average(
        self, n_new: int = N_NEW_GROUPS, rng: np.random.Generator | None = None
    ) -> xr.DataArray:
        """p(j|i) averaged over ``n_new`` new dyads and sessions drawn from the hierarchy."""
        draws = self.draws
        allowed = self._allowed()
        layout = _DeviationLayout(allowed, self.spec.get("deviations", "row"))
        base = draws["logit_typical"].transpose("chain", "draw", "given", "target").values
        if rng is None:
            rng = np.random.default_rng([int(self.config.get("seed") or 0), 20261130])
        scales = []
        for level in ("dyad", "session"):
            names = [f"sigma_{n}" for n in layout.scale_names(level)]
            if all(n in draws for n in names):
                sigmas = [draws[n].transpose("chain", "draw").values for n in names]
                scales.append(layout.scale_array(sigmas))  # (C, D, K, 1)
        out = np.empty_like(base)
        for c in range(base.shape[0]):  # one chain at a time bounds the memory
            logits = np.repeat(base[c, :, None], n_new, axis=1)  # (D, G, K, M)
            for scale in scales:
                z = rng.standard_normal((*logits.shape[:2], *layout.free_shape()))
                logits += layout.to_cells_numpy(scale[c][:, None] * z)
            out[c] = masked_softmax(logits, allowed).mean(axis=1)
        ref = draws["logit_typical"]
        return xr.DataArray(out, dims=ref.dims, coords=ref.coords, name="transition_probs")

    # ------------------------------------------------------------------ model comparison
    def cell_log_lik(self) -> CellLogLik:
        """Log p(target | session, given) of one lag pair per observed cell, per draw.

        The hook of :mod:`lagnest.models.loo`: cells are the ``(session, given,
        target)`` combinations with a nonzero count, segments the lag pairs in segment
        order.

        Returns
        -------
        CellLogLik
        """
        fd = self.fit_data
        counts = np.asarray(fd["counts"].values)
        if "pair_cell" in fd:
            pair_cell = np.asarray(fd["pair_cell"].values)
        elif "pairs" in fd:
            pair_cell = np.ravel_multi_index(tuple(np.asarray(fd["pairs"].values).T),
                                             counts.shape)
        else:  # counts not the corpus's (simulated): segments are the cells by count
            pair_cell = None
        segment = np.asarray(fd["pair_segment"].values) if "pair_segment" in fd else None
        logits = self.draws["logit_session"]
        p = masked_softmax(logits.transpose("chain", "draw", "session", "given", "target")
                           .values, self._allowed())
        return _cell_log_lik(lambda s, g, t: p[:, :, s, g, t], counts, fd, pair_cell,
                             segment, logits)

    def new_dyad_joint_log_lik(
        self, seqs: Any, n_new: int = N_NEW_GROUPS, rng: np.random.Generator | None = None,
        max_draws: int = 400,
    ) -> np.ndarray:
        """Log-likelihood of ALL of a held-out dyad's lag pairs under each simulated new dyad.

        The joint hook of :func:`lagnest.models.loo.leave_one_dyad_out`: for each of at
        most ``max_draws`` posterior draws and each of ``n_new`` new dyads drawn from the
        fitted scales (with a new session deviation for each of the held-out dyad's
        sessions), the sum over the held-out lag pairs of ``log p(target | given)``.

        Returns
        -------
        ndarray, shape (draws, n_new)
        """
        from lagnest.classical.lagtable import lag_pairs

        if self.spec["pooling"] == "none":
            raise LagnestDataError(
                "pooling='none' estimates every session alone: it has no prediction for "
                "a new dyad; use pooling 'dyad/session', 'dyad' or 'complete'")
        fd = self.fit_data
        allowed = self._allowed()
        shape = (len(seqs.session_labels), fd.sizes["given"], fd.sizes["target"])
        pairs = lag_pairs(seqs, self.spec["given"], self.spec["target"], self.spec["lag"])
        if pairs.shape[0] and (pairs[:, 1:].max(axis=0) >= shape[1:]).any():
            raise LagnestDataError("the held-out corpus has codes the fitted model lacks")
        counts = _pair_counts(pairs, shape).astype(float)
        if np.any(counts[:, ~allowed]):
            raise LagnestDataError("the held-out corpus has transitions in structural zeros")
        if rng is None:
            rng = np.random.default_rng([int(self.config.get("seed") or 0), 20261205])
        stacked = self.draws.stack(sample=("chain", "draw"))
        take = np.unique(np.linspace(0, stacked.sizes["sample"] - 1,
                                     min(max_draws, stacked.sizes["sample"])).astype(int))
        draws = stacked.isel(sample=take)
        layout = _DeviationLayout(allowed, self.spec.get("deviations", "row"))
        base = draws["logit_typical"].transpose("sample", "given", "target").values
        scales = {}
        for level in ("dyad", "session"):
            names = [f"sigma_{n}" for n in layout.scale_names(level)]
            if all(n in draws for n in names):
                scales[level] = layout.scale_array([draws[n].values for n in names])
        used = counts.sum(axis=(1, 2)) > 0
        counts = counts[used]
        out = np.zeros((base.shape[0], n_new))
        for s in range(base.shape[0]):
            logits = np.repeat(base[s][None, None], n_new, axis=0)  # (G, 1, K, M)
            for level, n_groups in (("dyad", 1), ("session", counts.shape[0])):
                if level in scales:
                    z = rng.standard_normal((n_new, n_groups, *layout.free_shape()))
                    logits = logits + layout.to_cells_numpy(scales[level][s] * z)
            logp = np.log(np.maximum(masked_softmax(logits, allowed), 1e-300))
            out[s] = np.einsum("skm,gskm->g", counts, np.broadcast_to(
                logp, (n_new, counts.shape[0], *logp.shape[2:])))
        return out

    def loo(self, reff: float | None = None) -> Any:
        """Segment-level PSIS-LOO (one lag pair = one observation), with Pareto k.

        The aggregated model runs PSIS once per observed (session, given, target) cell
        and expands it to the lag pairs (:func:`lagnest.models.loo.cell_loo`, identical
        to the per-segment computation); the per-segment model (``per_segment=True``)
        runs :func:`arviz_stats.loo` on PyMC's pointwise log-likelihood, an independent
        check of the first.

        Parameters
        ----------
        reff : float, optional
            Relative efficiency; default from the posterior, as ArviZ computes it.

        Returns
        -------
        arviz_stats.ELPDDataLOO
            ``elpd``, ``se``, ``p``, ``pareto_k`` and ``elpd_i`` per lag pair (dim
            ``segment`` = position of the target segment in the corpus, with ``session``,
            ``given``, ``target`` labels); pass it or the result to
            :func:`lagnest.compare`. Segment-level LOO measures prediction of one
            left-out segment of the fitted sessions given all their other segments, later
            ones included (not a forecast, nor new dyads: see
            :func:`lagnest.models.loo.leave_one_dyad_out`).
        """
        from lagnest.models.loo import loo_from_cells

        if not self.spec.get("per_segment"):
            return loo_from_cells(self, reff)
        return _per_segment_loo(self, reff)

    def draws_of(
        self, quantity: str = "transition_probs", level: str = "population"
    ) -> xr.DataArray:
        """Draws of a quantity (see class Notes).

        Parameters
        ----------
        quantity : {"transition_probs", "marginal", "lift", "log_odds", "yules_q"}
            Which quantity (see class Notes).
        level : {"population", "typical", "dyad", "session"}
            Level (see :class:`TransitionModel`, "Levels of the answers").

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, [dyad | session,] given, target)`` (``marginal`` has no
            ``given``).
        """
        self._check_level(level)
        allowed = self._allowed()
        scales = ("sigma_dyad", "sigma_dyad_row", "sigma_session", "sigma_session_row")
        if level == "population" and any(name in self.draws for name in scales):
            p = self._population_average()
        else:
            name = "logit_typical" if level in ("population", "typical") else f"logit_{level}"
            p = xr.apply_ufunc(
                masked_softmax, self.draws[name], kwargs={"allowed": allowed},
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
    def derived_draws(self) -> dict[str, xr.DataArray]:
        """``transition_probs``: the typical dyad's (added by :meth:`to_arviz`).

        Lift and log odds ratios stay answers (``lift()``, ``log_odds()``): they are NaN at
        structural zeros, and a NaN in the reported posterior would make ArviZ's relative
        efficiency, hence ``loo()``, NaN.
        """
        return {"transition_probs": self.draws_of("transition_probs", "typical")}

    def transition_probs(self, level: str = "population", ci_prob: float = CI_PROB) -> xr.Dataset:
        """Transition probabilities p(target j | given i) with uncertainty.

        Parameters
        ----------
        level : {"population", "typical", "dyad", "session"}
            Average over new dyads and sessions, typical dyad and session, per dyad or per
            session (see :class:`TransitionModel`).
        ci_prob : float, default 0.95
            Probability mass of the equal-tailed credible interval.

        Returns
        -------
        xarray.Dataset
            ``mean``, ``sd``, ``lower``, ``upper``, ``p_positive`` = P(p(j|i) > p(j)),
            ``p_direction`` on ``([dyad | session,] given, target)``.
        """
        p = self.draws_of("transition_probs", level)
        marginal = self.draws_of("marginal", level)
        return summarise(p, ci_prob, marginal, "p(j)")

    def lift(self, level: str = "population", ci_prob: float = CI_PROB) -> xr.Dataset:
        """Lift p(j|i) / p(j) (1 = no association); see :meth:`transition_probs`."""
        return summarise(self.draws_of("lift", level), ci_prob, 1.0, "1")

    def log_odds(self, level: str = "population", ci_prob: float = CI_PROB) -> xr.Dataset:
        """Log odds ratio of the collapsed 2 x 2 table, draw by draw (null 0)."""
        return summarise(self.draws_of("log_odds", level), ci_prob, 0.0, "0")

    def yules_q(self, level: str = "population", ci_prob: float = CI_PROB) -> xr.Dataset:
        """Yule's Q of the collapsed 2 x 2 table, draw by draw (null 0)."""
        return summarise(self.draws_of("yules_q", level), ci_prob, 0.0, "0")

    def contrast(
        self,
        given1: str,
        given2: str,
        target: str,
        level: str = "population",
        ci_prob: float = CI_PROB,
    ) -> xr.Dataset:
        """Difference p(target | given1) - p(target | given2) with uncertainty.

        Parameters
        ----------
        given1, given2 : str
            Given codes (labels of the ``given`` coordinate).
        target : str
            Target code.
        level : {"population", "typical", "dyad", "session"}
            Level of the probabilities.
        ci_prob : float, default 0.95
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
        ds = summarise(diff, ci_prob, 0.0, "0")
        ds.attrs.update({"contrast": f"p({target}|{given1}) - p({target}|{given2})"})
        return ds

    def classical_tables(self, level: str, seqs: Any = None,
                         correction: bool = False) -> tuple[xr.Dataset, xr.Dataset]:
        """The classical statistics of the fitted counts per unit and of the pooled table.

        Parameters
        ----------
        level : {"dyad", "session"}
            Unit of the per-unit tables (dim named ``level``).
        seqs : Sequences, optional
            The corpus the result was fitted to: then the tables are recomputed with
            :func:`lagnest.lag_table` (the same numbers, with every variable of a lag
            table); else they come from the counts stored in the result.
        correction : bool, default False
            Add 0.5 to the four cells of a 2x2 collapse with a zero (log odds).

        Returns
        -------
        units, pooled : xarray.Dataset
            Per-unit and pooled tables, the structural zeros of the fit respected.
        """
        from lagnest.classical.lagtable import lag_table
        from lagnest.classical.statistics import table_statistics

        if level not in ("dyad", "session"):
            raise LagnestDataError(f"level must be 'dyad' or 'session', got {level!r}")
        fd = self.fit_data
        zeros = ~self._allowed()
        if seqs is not None:
            if seqs.fingerprint != self.config.get("data_fingerprint"):
                raise LagnestDataError("seqs is not the corpus this result was fitted to "
                                       "(data fingerprints differ)")
            spec = self.spec
            tab = lag_table(seqs, spec["given"], spec["target"], lag=spec["lag"], by=level,
                            structural_zeros=zeros, correction=correction)
            units = tab.drop_sel(unit="pooled").drop_vars("is_pooled").rename(unit=level)
            return units, tab.sel(unit="pooled").drop_vars(["unit", "is_pooled"])
        counts = fd["counts"].transpose("session", "given", "target")
        if level == "dyad":
            dyad_of = xr.DataArray(fd["session_dyad"].values, dims="session", name="dyad")
            counts = counts.groupby(dyad_of).sum().reindex(dyad=fd["dyad"].values,
                                                           fill_value=0)
            counts = counts.transpose("dyad", "given", "target")
        units = table_statistics(counts, structural_zeros=zeros, correction=correction)
        pooled = table_statistics(counts.sum(level), structural_zeros=zeros,
                                  correction=correction)
        return units, pooled

    def summary(self, level: str = "population", ci_prob: float = CI_PROB, *,
                lang: str = "en", codebook: Codebook | None = None) -> ResultSummary:
        """Bayesian estimates beside the classical lag-table statistics, one row per cell.

        Parameters
        ----------
        level : {"population", "typical", "dyad", "session"}
            Level of the Bayesian estimates (classical values are always the pooled table).
        ci_prob : float, default 0.95
            Credible interval probability.
        lang : {"en", "es"}, default "en"
            Language of the printed summary: in Spanish the header, the column names
            (``lagnest._lang.COLUMNS``: ``prob_media``, ``prob_inf``, ...) and what each
            column is are Spanish, and codes show their codebook labels.
        codebook : Codebook, optional
            Where Spanish code labels come from (e.g. ``seqs.codebook``); without it the
            codes are shown.

        Returns
        -------
        ResultSummary
            Its ``table`` (a DataFrame) has index ``([dyad | session,] given, target)`` and
            columns ``count``, ``prob_pooled`` (observed pooled proportion),
            ``prob_mean``, ``prob_lower``, ``prob_upper`` (the transitional probability
            P(target | given) at ``level``), ``prob_typical`` (population level only: the
            typical dyad and session), ``lift``, ``Q_classical``, ``Q_mean``,
            ``Q_lower``, ``Q_upper``, ``P(Q>0)``, ``logOR_classical``, ``logOR_mean``,
            ``logOR_lower``, ``logOR_upper``. Printing it shows the header, the columns
            ``count``, ``prob_pooled``, ``prob_mean``, ``prob_lower``, ``prob_upper``,
            ``Q_mean`` and ``P(Q>0)`` with a line saying what each is (the others are
            named below the table), and the diagnostics.
        """
        from lagnest.classical.statistics import table_statistics

        ci_prob = validate_ci_prob(ci_prob)
        lang = check_lang(lang)
        fd = self.fit_data
        pooled = fd["counts"].sum("session")
        classical = table_statistics(pooled, structural_zeros=~self._allowed())
        p = self.transition_probs(level, ci_prob)
        columns = {
            "prob_mean": p["mean"],
            "prob_lower": p["lower"],
            "prob_upper": p["upper"],
        }
        if level == "population" and "typical" in self.levels:
            columns["prob_typical"] = self.transition_probs("typical", ci_prob)["mean"]
        q = self.yules_q(level, ci_prob)
        lor = self.log_odds(level, ci_prob)
        columns.update(
            {
                "lift": self.lift(level, ci_prob)["mean"],
                "Q_mean": q["mean"],
                "Q_lower": q["lower"],
                "Q_upper": q["upper"],
                "P(Q>0)": q["p_positive"],
                "logOR_mean": lor["mean"],
                "logOR_lower": lor["lower"],
                "logOR_upper": lor["upper"],
            }
        )
        frame = xr.Dataset(columns).to_dataframe()
        classical_frame = pd.DataFrame(
            {
                "count": pooled.to_series(),
                "prob_pooled": classical["trans_prob"].to_series(),
                "Q_classical": classical["yules_q"].to_series(),
                "logOR_classical": classical["log_odds"].to_series(),
            }
        )
        out = frame.join(classical_frame, on=["given", "target"])
        order = ["count", "prob_pooled", "prob_mean", "prob_lower", "prob_upper",
                 "prob_typical", "lift", "Q_classical", "Q_mean", "Q_lower", "Q_upper",
                 "P(Q>0)", "logOR_classical", "logOR_mean", "logOR_lower", "logOR_upper"]
        out = out[[c for c in order if c in out.columns]]
        out.attrs = {"ci_prob": ci_prob, "level": level}
        pct = f"{ci_prob:.0%}"
        where = self._where(level, lang)

        def say(key: str, **fields: Any) -> str:
            return translate(key, lang, **fields)

        meanings = {
            "count": say("tr.count"),
            "prob_pooled": say("tr.prob_pooled"),
            "prob_mean": say("tr.prob_mean", where=where),
            "prob_lower, prob_upper": say("tr.interval", pct=pct),
            "prob_typical": say("tr.prob_typical", where=self._where("typical", lang)),
            "lift": say("tr.lift"),
            "Q_classical": say("tr.Q_classical"),
            "Q_mean": say("tr.Q_mean", where=where),
            "Q_lower, Q_upper": say("tr.interval", pct=pct),
            "P(Q>0)": say("tr.P(Q>0)"),
            "logOR_classical": say("tr.logOR_classical"),
            "logOR_mean, logOR_lower, logOR_upper": say("tr.logOR", pct=pct),
        }
        blanks = {name: say("tr.blank") for name in out.columns}
        header = self._header(lang)
        return ResultSummary(
            title=header[0],
            lines=tuple(header[1:]),
            table=out,
            diagnostics=self.diagnostics.text(lang) if self.diagnostics is not None else "",
            columns=meanings,
            shown=("count", "prob_pooled", "prob_mean", "prob_lower", "prob_upper", "Q_mean",
                   "P(Q>0)"),
            blanks=blanks,
            lang=lang,
            codebook=codebook,
        )

    def _header(self, lang: str = "en") -> list[str]:
        spec = self.spec
        counts = self.fit_data["counts"]
        lines = super()._header(lang)
        lines.insert(1, translate(
            "head.transition", lang, given=spec["given"], target=spec["target"],
            lag=spec["lag"], deviations=repr(spec.get("deviations", "row")),
            pairs=int(counts.sum()), sessions=counts.sizes["session"],
            dyads=self.fit_data.sizes["dyad"]))
        return lines

    def __str__(self) -> str:
        lines = self._header()
        body = []
        level = "population" if "population" in self.levels else self.levels[0]
        if level != "session":
            p = self.transition_probs(level)
            table = (
                p["mean"].to_pandas().round(3).astype(str)
                + " ["
                + p["lower"].to_pandas().round(3).astype(str)
                + ", "
                + p["upper"].to_pandas().round(3).astype(str)
                + "]"
            )
            lines.append(f"P(target | given), {self._where(level)}, "
                         f"mean [{p.attrs['ci_prob']:.0%} interval]:")
            body.append(table.to_string())
        return self._text(lines, body)


TransitionModel.result_class = TransitionResult


def _cell_log_lik(
    prob: Any, counts: np.ndarray, labels: xr.Dataset, pair_cell: np.ndarray | None,
    segment: np.ndarray | None, draws: xr.DataArray,
) -> CellLogLik:
    """:class:`CellLogLik` of the nonzero cells of ``counts`` (S, K, M).

    ``prob(s, g, t)`` gives the probabilities ``(chain, draw, n)`` of cells ``(s, g, t)``;
    ``labels`` has the ``session``, ``given`` and ``target`` coordinates; ``pair_cell``
    the flat cell of each lag pair (or None).
    """
    from lagnest.models.loo import CellLogLik

    cells = np.flatnonzero(counts.ravel())
    s, g, t = np.unravel_index(cells, counts.shape)
    log_lik = xr.DataArray(
        np.log(prob(s, g, t)),
        dims=("chain", "draw", "cell"),
        coords={"chain": draws["chain"].values, "draw": draws["draw"].values,
                "cell": cells,
                "session": ("cell", labels["session"].values[s]),
                "given": ("cell", labels["given"].values[g]),
                "target": ("cell", labels["target"].values[t])},
        name="log_lik",
    )
    seg_cell = None if pair_cell is None else np.searchsorted(cells, pair_cell)
    return CellLogLik(log_lik, counts.ravel()[cells], seg_cell, segment)


def _per_segment_loo(result: TransitionResult, reff: float | None) -> Any:
    """PSIS-LOO of a per-segment fit on PyMC's pointwise log-likelihood (the check path)."""
    from lagnest.models.loo import pointwise_loo

    fd = result.fit_data
    pairs = np.asarray(fd["pairs"].values)
    segment = (np.asarray(fd["pair_segment"].values) if "pair_segment" in fd
               else np.arange(pairs.shape[0]))
    coords = {"session": fd["session"].values[pairs[:, 0]],
              "given": fd["given"].values[pairs[:, 1]],
              "target": fd["target"].values[pairs[:, 2]]}
    return pointwise_loo(result, segment, coords, reff, "pair_segment" in fd)
