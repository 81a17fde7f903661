r"""Latent states: a multilevel hidden Markov model with covariates on its transitions.

:class:`HiddenMarkovModel` treats a session as a chain of latent states (e.g. an alliance
"in rupture" and "collaborative") that emit the coded streams of each segment: one or more
categorical streams (a categorical distribution per state) and indicator streams (a
Bernoulli per code per state, e.g. the 3RS markers), conditionally independent given the
state; an uncoded stream adds nothing. States move by a multinomial logit per origin
state, whose logits may depend on segment-level predictors at t - lag (the therapist's
MIA indicators: does MIA4 make leaving a rupture state more likely?) and on session and
dyad covariates. Transition and emission logits vary by dyad. Every session (and every
block after a break) starts a new chain from the initial state distribution.

The likelihood is the forward algorithm over all chains in one numba kernel with its
gradient from the backward pass (:mod:`lagnest.kernels.hmm`, in the graph through
:mod:`lagnest.models.hmm_likelihood`): cost O(N K^2) per evaluation, no Python per
segment. Transition matrices are computed per distinct (dyad, predictor pattern) and
gathered by the kernel; emission log-likelihoods per segment are one gather per stream.

**Identification.** The states are ordered by one emission probability (``order_by``,
default the first emitted stream's last code): its log odds against the stream's
reference code increase with the state index, so state 1 shows it least. Chains then
agree on labels; :meth:`HMMResult.label_check` says when they do not (a different mode).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._lang import check_lang, translate
from lagnest._summaries import CI_PROB, ResultSummary, summarise
from lagnest.errors import LagnestDataError
from lagnest.models import _fit
from lagnest.models.base import BayesianModel
from lagnest.models.design import design_columns, resolve_terms, standardise_covariates
from lagnest.models.priors import Prior
from lagnest.models.result import FitResult, per_draw
from lagnest.models.structure import (
    GroupStructure,
    check_grouping,
    choose_parameterization,
    deviation_sd_estimate,
)

__all__ = ["HMMData", "HMMResult", "HiddenMarkovModel", "dyad_mixing"]

POOLINGS = ("dyad", "complete")
FORMS = ("auto", "noncentered", "centered")


# =========================================================================== data


@dataclass(frozen=True)
class HMMData:
    """Emitted codes, chains and the transition design of a :class:`HiddenMarkovModel`.

    Attributes
    ----------
    codes : ndarray of int8, shape (N, C)
        Code of each emission channel per segment (-1 uncoded). A categorical stream is
        one channel; an indicator stream gives one 0/1 channel per code.
    channels : tuple of str
        Channel names (stream, or ``stream:code`` for an indicator).
    channel_labels : tuple of tuple of str
        The codes of each channel (the first is its reference).
    block_offsets : ndarray of int64, shape (B + 1,)
        Chains: sessions, split at breaks.
    segment_dyad : ndarray of int64, shape (N,)
        Dyad of each segment.
    dyad_labels, session_labels : tuple of str
    session_dyad : ndarray of int64, shape (S,)
    block_session : ndarray of int64, shape (B,)
    trans_unit : ndarray of int64, shape (N,)
        Transition unit of each segment (the move into it; 0 at a chain's start).
    unit_design : ndarray, shape (U, P)
        Predictor columns of each unit.
    unit_dyad : ndarray of int64, shape (U,)
    feature_names : tuple of str
    """

    codes: np.ndarray
    channels: tuple[str, ...]
    channel_labels: tuple[tuple[str, ...], ...]
    block_offsets: np.ndarray
    segment_dyad: np.ndarray
    dyad_labels: tuple[str, ...]
    session_labels: tuple[str, ...]
    session_dyad: np.ndarray
    block_session: np.ndarray
    trans_unit: np.ndarray
    unit_design: np.ndarray
    unit_dyad: np.ndarray
    feature_names: tuple[str, ...]

    @property
    def observed(self) -> dict[str, np.ndarray]:
        """The emitted codes (replaced by a simulated dataset)."""
        return {"codes": self.codes}

    def with_observed(self, arrays: Mapping[str, np.ndarray]) -> HMMData:
        """A copy with other emitted codes of the same shape."""
        codes = np.asarray(arrays["codes"])
        if codes.shape != self.codes.shape:
            raise ValueError(f"codes must have shape {self.codes.shape}, got {codes.shape}")
        return replace(self, codes=np.ascontiguousarray(codes, dtype=np.int8))

    def to_dataset(self) -> xr.Dataset:
        """The design and codes (the result's ``fit_data``)."""
        width = max(len(lab) for lab in self.channel_labels)
        labels = np.full((len(self.channels), width), "", dtype=object)
        for c, lab in enumerate(self.channel_labels):
            labels[c, :len(lab)] = lab
        return xr.Dataset(
            {"codes": (("segment", "channel"), self.codes),
             "channel_code_labels": (("channel", "channel_code"), labels.astype(str)),
             "channel_n_codes": (("channel",), np.array([len(c) for c in self.channel_labels])),
             "block_offsets": (("block_edge",), self.block_offsets),
             "segment_dyad": (("segment",), self.segment_dyad),
             "session_dyad": (("session",), self.session_dyad),
             "block_session": (("block",), self.block_session),
             "trans_unit": (("segment",), self.trans_unit),
             "unit_design": (("unit", "feature"), self.unit_design),
             "unit_dyad": (("unit",), self.unit_dyad)},
            coords={"channel": list(self.channels), "dyad": list(self.dyad_labels),
                    "session": list(self.session_labels), "feature": list(self.feature_names)},
            attrs={"kind": "lagnest-hmm-data"},
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> HMMData:
        """Inverse of :meth:`to_dataset`."""
        n_codes = ds["channel_n_codes"].values
        labels = tuple(tuple(str(v) for v in row[:n])
                       for row, n in zip(ds["channel_code_labels"].values, n_codes, strict=True))
        return cls(
            codes=np.ascontiguousarray(ds["codes"].values, dtype=np.int8),
            channels=tuple(str(v) for v in ds["channel"].values),
            channel_labels=labels,
            block_offsets=np.asarray(ds["block_offsets"].values, dtype=np.int64),
            segment_dyad=np.asarray(ds["segment_dyad"].values, dtype=np.int64),
            dyad_labels=tuple(str(v) for v in ds["dyad"].values),
            session_labels=tuple(str(v) for v in ds["session"].values),
            session_dyad=np.asarray(ds["session_dyad"].values, dtype=np.int64),
            block_session=np.asarray(ds["block_session"].values, dtype=np.int64),
            trans_unit=np.asarray(ds["trans_unit"].values, dtype=np.int64),
            unit_design=np.asarray(ds["unit_design"].values, dtype=float).reshape(
                ds.sizes["unit"], ds.sizes["feature"]),
            unit_dyad=np.asarray(ds["unit_dyad"].values, dtype=np.int64),
            feature_names=tuple(str(v) for v in ds["feature"].values),
        )


def _channels(seqs: Any, emissions: Sequence[str]) -> tuple[np.ndarray, list[str],
                                                            list[tuple[str, ...]]]:
    """Emission channels of the named streams: codes ``(N, C)``, names and code labels."""
    columns, names, labels = [], [], []
    for spec in emissions:
        try:
            ref = seqs.resolve_code(spec)
        except LagnestDataError as err:
            raise LagnestDataError(f"emissions: {err}") from None
        if ref.is_set:
            matrix, codes = seqs.indicator_matrix(ref.stream)
            for j, code in enumerate(codes):
                columns.append(np.asarray(matrix[:, j], dtype=np.int8))
                names.append(f"{ref.stream}:{code}")
                labels.append(("absent", "present"))
            continue
        values, codes = seqs.categorical(spec)
        columns.append(np.asarray(values, dtype=np.int8))
        names.append(ref.label)
        labels.append(tuple(codes))
    if len(set(names)) < len(names):
        raise LagnestDataError(f"emissions name a stream twice: {names}")
    return np.ascontiguousarray(np.column_stack(columns)), names, labels


def hmm_data(seqs: Any, spec: Mapping[str, Any]) -> HMMData:
    """The emitted codes, chains and transition design of a :class:`HiddenMarkovModel`."""
    codes, names, labels = _channels(seqs, spec["emissions"])
    enc = seqs.encoded
    n = codes.shape[0]
    offsets = np.asarray(enc.block_offsets, dtype=np.int64)
    segment_session = np.asarray(enc.segment_session, dtype=np.int64)
    segment_dyad = np.asarray(enc.session_dyad, dtype=np.int64)[segment_session]
    lags = tuple(spec["lags"])
    columns = np.zeros((n, 0))
    feature_names: list[str] = []
    if spec["transition_predictors"]:
        sources, features = resolve_terms(seqs, spec["transition_predictors"], lags,
                                          spec["emissions"][0], False)
        block_start = np.repeat(offsets[:-1], np.diff(offsets))
        patterns = np.zeros((n, len(lags), len(sources)), dtype=np.int64)
        for f, source in enumerate(sources):
            values = np.asarray(seqs.categorical(source)[0], dtype=np.int64)
            for j, lag in enumerate(lags):
                t = np.arange(n)
                ok = (t - lag >= block_start) & (values[np.maximum(t - lag, 0)] >= 0)
                patterns[:, j, f] = np.where(ok, values[np.maximum(t - lag, 0)], 0)
        columns = design_columns(patterns, features)
        feature_names = [f.name for f in features]
    sessions = list(seqs.session_labels)
    covariates = []
    if spec["session_covariates"]:
        sess, _ = standardise_covariates(seqs.sessions, spec["session_covariates"], "session",
                                         sessions)
        covariates.append(sess[segment_session])
        feature_names += list(spec["session_covariates"])
    if spec["dyad_covariates"]:
        dyad_vals, _ = standardise_covariates(seqs.dyads, spec["dyad_covariates"], "dyad",
                                              list(seqs.dyad_labels))
        covariates.append(dyad_vals[segment_dyad])
        feature_names += list(spec["dyad_covariates"])
    design = np.concatenate([columns, *covariates], axis=1) if covariates else columns
    keys = np.column_stack([segment_dyad, design]) if design.shape[1] else segment_dyad[:, None]
    units, trans_unit = np.unique(keys, axis=0, return_inverse=True)
    return HMMData(
        codes=codes, channels=tuple(names), channel_labels=tuple(labels),
        block_offsets=offsets, segment_dyad=segment_dyad,
        dyad_labels=tuple(seqs.dyad_labels), session_labels=tuple(sessions),
        session_dyad=np.asarray(enc.session_dyad, dtype=np.int64),
        block_session=np.asarray(enc.block_session, dtype=np.int64),
        trans_unit=np.asarray(trans_unit, dtype=np.int64).ravel(),
        unit_design=np.ascontiguousarray(units[:, 1:], dtype=float),
        unit_dyad=units[:, 0].astype(np.int64), feature_names=tuple(feature_names),
    )


def _start_spec(start: Mapping[str, Any], channels: Sequence[str],
                labels: Sequence[Sequence[str]], k: int) -> dict[str, Any]:
    """The ``start`` argument checked and made JSON-ready (lists of floats)."""
    if not isinstance(start, Mapping) or not {"transition", "emission"} <= set(start) or \
            not set(start) <= {"transition", "emission", "initial"}:
        raise LagnestDataError("start must be a mapping with 'transition', 'emission' and "
                               f"optionally 'initial', got {start!r}")
    emission = start["emission"]
    if not isinstance(emission, Mapping) or set(emission) != set(channels):
        got = sorted(emission) if isinstance(emission, Mapping) else emission
        raise LagnestDataError(f"start['emission'] must map each emission channel "
                               f"{list(channels)} to its probabilities, got {got!r}")
    initial = start.get("initial", np.full(k, 1.0 / k))
    return {"initial": _probabilities("start['initial']", initial, (k,)),
            "transition": _probabilities("start['transition']", start["transition"], (k, k)),
            "emission": {c: _probabilities(f"start['emission'][{c!r}]", emission[c],
                                           (k, len(codes)))
                         for c, codes in zip(channels, labels, strict=True)}}


#: How far a row of a given ``start`` may sum from 1 (it is then renormalised): published
#: probabilities are rounded, and medians of each cell (what mHMMbayes prints) need not
#: add up; a row further off is refused as a likely typing mistake.
START_ROW_TOLERANCE = 0.02


def _probabilities(what: str, value: Any, shape: tuple[int, ...]) -> list[Any]:
    """Rows of positive probabilities summing to 1, of ``shape``, as nested lists."""
    try:
        p = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise LagnestDataError(f"{what} must be numbers, got {value!r}") from None
    if p.shape != shape:
        raise LagnestDataError(f"{what} must have shape {shape} (states x codes), got "
                               f"{p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise LagnestDataError(f"{what} must be positive probabilities, got {p.tolist()}")
    sums = p.sum(axis=-1)
    if np.any(np.abs(sums - 1.0) > START_ROW_TOLERANCE):
        raise LagnestDataError(f"every row of {what} must sum to 1 (within "
                               f"{START_ROW_TOLERANCE:g}), got sums "
                               f"{np.round(sums, 4).tolist()}")
    return (p / sums[..., None]).tolist()


def _off_diagonal(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the off-diagonal cells, row by row."""
    rows, cols = np.nonzero(~np.eye(k, dtype=bool))
    return rows, cols


def _deviation(name: str, sigma: Any, dims: tuple[str, ...], form: str) -> Any:
    """Dyad deviations ~ Normal(0, sigma): ``eta_<name>`` itself (``form="centered"``).

    Otherwise ``sigma * z_<name>`` with standard normal ``z`` (non-centred).
    """
    import pymc as pm

    if form == "centered":
        return pm.Normal(f"eta_{name}", 0.0, sigma, dims=dims)
    return sigma * pm.Normal(f"z_{name}", 0.0, 1.0, dims=dims)


#: Starting logits are clipped to +-4.5, three SDs of the default emission prior.
_START_BOUND = 4.5


def _start_scale(deviations: np.ndarray) -> float:
    """The scale the chains start at: the deviations' root mean square, at least 0.1."""
    return float(max(np.sqrt(np.mean(np.asarray(deviations) ** 2)), 0.1))


def _sorted_normal_draws(sigma: np.ndarray, rng: np.random.Generator,
                         size: tuple[int, ...] | None = None) -> np.ndarray:
    """Forward draws of :func:`_ordered_normal`: independent normals, sorted.

    PyMC passes the seeded generator of the draw.
    """
    shape = np.shape(sigma) if size is None else (*tuple(size), np.shape(sigma)[-1])
    return np.sort(rng.normal(0.0, sigma, size=shape), axis=-1)


def _normal_vector_logp(value: Any, sigma: Any) -> Any:
    """Log density of independent Normal(0, sigma) entries, summed over the last axis."""
    import pymc as pm

    return pm.logp(pm.Normal.dist(0.0, sigma), value).sum(axis=-1)


def _ordered_normal(name: str, sigma: float, k: int) -> Any:
    """K independent Normal(0, sigma) logits constrained to increase (the ordering prior).

    The density is the normal one on the increasing region (PyMC's ``ordered`` transform
    for the sampler), and the forward draws are sorted normal draws, which have exactly
    that density up to the constant K!. A ``pm.Normal`` with the ``ordered`` transform
    would be sampled correctly by NUTS but drawn unsorted by ``sample_prior_predictive``
    (transforms do not act on forward draws): the prior draws, and with them the truths of
    a simulation-based calibration, would break the constraint half the time.
    """
    import pymc as pm

    return pm.CustomDist(name, np.full(k, float(sigma)), random=_sorted_normal_draws,
                         logp=_normal_vector_logp, signature="(k)->(k)", dims="state",
                         transform=pm.distributions.transforms.ordered,
                         initval=np.linspace(-1.0, 1.0, k))


def _deviation_value(params: Mapping[str, Any], name: str, sigma: str) -> np.ndarray | None:
    """The dyad deviations of one draw in either form (None without a dyad level)."""
    if f"eta_{name}" in params:
        return np.asarray(params[f"eta_{name}"], dtype=float)
    if f"z_{name}" in params:
        return float(params[sigma]) * np.asarray(params[f"z_{name}"], dtype=float)
    return None


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(axis=axis, keepdims=True))


def dyad_mixing(posterior: xr.Dataset) -> pd.DataFrame:
    """The slowest-mixing cell of each dyad's deviations (R-hat, bulk ESS).

    Parameters
    ----------
    posterior : xarray.Dataset
        Draws with ``chain`` and ``draw`` dims; the dyad deviations are the variables
        with a ``dyad`` dim named ``eta_*`` (centred) or
        ``z_*`` (non-centred: the same mixing as ``sigma * z`` up to the scale's).

    Returns
    -------
    pandas.DataFrame
        ``dyad``, ``quantity`` (the cell with the largest R-hat), ``rhat``, ``ess_bulk``
        (the smallest over the dyad's cells), sorted by R-hat, largest first; empty
        without dyad deviations.
    """
    from lagnest.models.convergence import convergence_table

    names = [v for v in posterior.data_vars if "dyad" in posterior[v].dims
             and (v.startswith("eta_") or (v.startswith("z_")
                                           and f"eta_{v[2:]}" not in posterior))]
    cells = []  # one frame per variable: every cell's dyad, label, R-hat and bulk ESS
    for name in names:
        da = posterior[name]
        stacked = da.stack(cell=[d for d in da.dims if d not in ("chain", "draw")])
        rhat, bulk, _ = convergence_table(stacked.transpose("chain", "draw", "cell").values)
        index = stacked.indexes["cell"]
        others = [index.get_level_values(n).astype(str) for n in index.names if n != "dyad"]
        labels = [", ".join(parts) for parts in zip(*others, strict=True)] if others \
            else [""] * len(index)
        cells.append(pd.DataFrame({
            "dyad": [str(v) for v in index.get_level_values("dyad")],
            "quantity": [f"{name}[{label}]" for label in labels],
            "rhat": rhat, "ess_bulk": bulk}))
    if not cells:
        return pd.DataFrame(columns=["dyad", "quantity", "rhat", "ess_bulk"])
    table = pd.concat(cells, ignore_index=True)
    # each dyad's largest R-hat (NaN, e.g. one chain, last) and its smallest bulk ESS
    worst = table.sort_values("rhat", ascending=False, na_position="last", kind="stable")
    worst = worst.drop_duplicates("dyad").drop(columns="ess_bulk")
    worst["ess_bulk"] = worst["dyad"].map(table.groupby("dyad")["ess_bulk"].min())
    return worst.reset_index(drop=True)


# =========================================================================== model


class HiddenMarkovModel(BayesianModel["HMMResult"]):
    r"""Multilevel hidden Markov model of coded streams, with covariates on transitions.

    Parameters
    ----------
    seqs : Sequences
        The data.
    emissions : sequence of str
        Streams emitted by the latent state, conditionally independent given it:
        categorical streams (``"rupture"``, ``"p_vocalizing"``; a categorical
        distribution per state) and indicator streams or codes (``"mia"``: a Bernoulli
        per code per state).
    n_states : int
        Number of latent states K (>= 2).
    transition_predictors : sequence of str
        Terms at ``t - lag`` on the transition into segment t (as ``LaggedRegression``'s
        predictors: codes, indicator streams, categorical streams, interactions). An
        uncoded predictor, or one before its chain's start, counts as absent.
    lags : sequence of int, default (1,)
        Lags (>= 1) of the transition predictors.
    session_covariates, dyad_covariates : sequence of str
        Numeric columns of ``seqs.sessions`` / ``seqs.dyads``, standardised, on every
        transition.
    pooling : {"dyad", "complete"}
        Transition and emission logits per dyad (non-centred deviations around the
        typical dyad's), or one set for all.
    order_by : str, optional
        ``"channel:code"`` (e.g. ``"rupture:withdrawal"``) whose emission log odds
        (against the channel's first code) increase with the state: the identifying
        constraint. An indicator of an indicator set is named by itself
        (``"rupture_markers:W1"``: its presence). Default: the last code of the first
        channel.
    priors : mapping, optional
        Overrides of the default priors: ``emission`` Normal(0, 1.5) (emission logits
        of the typical dyad), ``transition`` Normal(-2, 1) (log odds of moving to each
        other state against staying: states persist, see Notes), ``beta`` Normal(0, 1)
        (predictors' effects on those logits), ``initial`` Normal(0, 1.5),
        ``sigma_emission`` and ``sigma_transition`` HalfNormal(0.5) (dyad scales).
    parameterization : {"auto", "noncentered", "centered"}, default "auto"
        How the sampler sees the dyad deviations: ``sigma * z`` with standard normal
        ``z_*`` (the better geometry when the dyads are data-poor or alike), or
        ``eta_* ~ Normal(0, sigma)`` (when every dyad has many segments and the dyads
        differ). The same model either way. ``"auto"`` applies the rule of the other
        models (:func:`~lagnest.models.structure.choose_parameterization`) to each
        emission channel, with the counts per dyad, state and code expected under the
        pooled EM fit; the dyads are centred when more than half of the channels say so.
        On the nonverbal corpus (10 dyads x 900 segments) with 3 states the non-centred
        form's scales mixed badly (R-hat 1.3-1.5) where the centred one's nearly passed.
    start : mapping, optional
        A solution to start the chains from instead of lagnest's pooled EM fit (what
        mHMMbayes's ``start_val`` gives), e.g. a published one: ``"transition"`` (K x K,
        rows the origin state), ``"emission"`` (a mapping from each emission channel's
        name to its K x M probabilities, codes in the channel's order) and optionally
        ``"initial"`` (K; default uniform), every probability positive and every row
        summing to 1 (within ``START_ROW_TOLERANCE``, then renormalised: rounded
        published values are accepted). The states may come in any order: they are
        put in the model's (``order_by``). The typical dyad starts there and every
        dyad's EM fit starts from it (:meth:`start_values`); the ``"auto"``
        parameterisation still reads the EM fit.

    Notes
    -----
    :meth:`fit` draws 2000 per chain by default (``default_sampler_config``), after 1000
    tuning steps: on real data the slowest quantities of a multilevel HMM mix slowly
    (about 0.1 bulk ESS per draw on mHMMbayes's nonverbal corpus with three states).

    With state :math:`z_t`, the emission of channel c is
    :math:`y_{tc} \mid z_t = k \sim \mathrm{Categorical}(\mathrm{softmax}(0, e_{ck} +
    u_{d,ck}))`, and the transition
    :math:`p(z_t = j \mid z_{t-1} = i) = \mathrm{softmax}_j(\eta_{ij})` with
    :math:`\eta_{ii} = 0` and, for :math:`j \ne i`,
    :math:`\eta_{ij} = a_{ij} + v_{d,ij} + x_t^\top \beta_{\cdot ij}`: the log odds of
    moving to j rather than staying in i. :math:`u` and :math:`v` are dyad deviations
    (scales :math:`\sigma_{emission,c}`, :math:`\sigma_{transition}`).

    The prior of :math:`a_{ij}`, Normal(-2, 1), says that states persist: with two
    states the typical dyad stays with prior median probability 0.88 (95% between 0.51
    and 0.98), with three 0.79. Rupture episodes, and the states of the nonverbal corpus
    of mHMMbayes's tutorial (0.69 to 0.93 per second), do; a state left more often than
    kept is no episode.

    References
    ----------
    .. [1] Aarts, E. (2019). mHMMbayes: Multilevel hidden Markov models using Bayesian
       estimation. R package.
    .. [2] Zucchini, W., MacDonald, I. L., & Langrock, R. (2016). *Hidden Markov models for
       time series* (2nd ed.). CRC Press.
    """

    model_name: ClassVar[str] = "HiddenMarkovModel"
    data_class: ClassVar[Any] = HMMData
    default_priors: ClassVar[Mapping[str, Prior]] = {
        "emission": Prior("Normal", {"sigma": 1.5}),
        "transition": Prior("Normal", {"mu": -2.0, "sigma": 1.0}),
        "beta": Prior("Normal", {"sigma": 1.0}),
        "initial": Prior("Normal", {"sigma": 1.5}),
        "sigma_emission": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_transition": Prior("HalfNormal", {"sigma": 0.5}),
    }
    prior_kinds: ClassVar[Mapping[str, str]] = {
        "emission": "location", "transition": "centred_location", "beta": "location",
        "initial": "location", "sigma_emission": "scale", "sigma_transition": "scale",
    }
    #: 2000 draws per chain, twice the other models': on the nonverbal corpus with three
    #: states the slowest quantities mix at about 0.1 bulk ESS per draw, so 4 x 1000 draws
    #: leave them just short of ESS 400 and R-hat 1.01 where 4 x 2000 pass with room
    #: (docs: hidden_markov_model.md).
    default_sampler_config: ClassVar[Mapping[str, Any]] = {"target_accept": 0.9,
                                                           "draws": 2000}
    start_method: ClassVar[str | None] = "pooled EM fit, dyad fits chosen by density (2)"

    def __init__(
        self,
        seqs: Any,
        emissions: Sequence[str],
        n_states: int,
        transition_predictors: Sequence[str] = (),
        lags: Sequence[int] = (1,),
        session_covariates: Sequence[str] = (),
        dyad_covariates: Sequence[str] = (),
        pooling: str = "dyad",
        order_by: str | None = None,
        priors: Mapping[str, Any] | None = None,
        parameterization: str = "auto",
        start: Mapping[str, Any] | None = None,
    ) -> None:
        emissions = [emissions] if isinstance(emissions, str) else list(emissions)
        if not emissions or not all(isinstance(e, str) and e for e in emissions):
            raise LagnestDataError(f"emissions must name at least one stream, got {emissions!r}")
        if isinstance(n_states, bool) or not isinstance(n_states, int | np.integer) or \
                n_states < 2:
            raise LagnestDataError(f"n_states must be an integer >= 2, got {n_states!r}")
        lags = [lags] if isinstance(lags, int) else list(lags)
        if not lags or any(not isinstance(v, int | np.integer) or v < 1 for v in lags) or \
                len(set(lags)) < len(lags):
            raise LagnestDataError(f"lags must be distinct integers >= 1, got {lags!r}")
        if pooling not in POOLINGS:
            raise LagnestDataError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        if parameterization not in FORMS:
            raise LagnestDataError(f"parameterization must be one of {list(FORMS)}, got "
                                   f"{parameterization!r}")
        _, names, labels = _channels(seqs, emissions)
        order = _order_target(names, labels, order_by)
        spec = {
            "emissions": emissions,
            "n_states": int(n_states),
            "transition_predictors": list(transition_predictors),
            "lags": [int(v) for v in lags],
            "session_covariates": list(session_covariates),
            "dyad_covariates": list(dyad_covariates),
            "pooling": pooling,
            "order_by": f"{names[order[0]]}:{labels[order[0]][order[1]]}",
            "parameterization": parameterization,
        }
        spec["start"] = None if start is None else _start_spec(start, names, labels,
                                                                int(n_states))
        super().__init__(seqs, spec, priors)

    # ------------------------------------------------------------------ data
    def _make_data(self, seqs: Any) -> HMMData:
        return hmm_data(seqs, self._spec)

    @property
    def structure(self) -> GroupStructure:
        """The dyad level, when two dyads have data and ``pooling="dyad"``."""
        d = self.data
        has = np.zeros(len(d.session_labels), dtype=bool)
        has[d.block_session[np.diff(d.block_offsets) > 0]] = True
        base = check_grouping(d.session_dyad, d.dyad_labels, has,
                              want_dyad=self._spec["pooling"] == "dyad", want_session=False)
        form = self._spec.get("parameterization", "noncentered")  # older saved specs: none
        if form == "auto" and base.levels:
            form = self._auto_form
        return replace(base, parameterization={lvl: form for lvl in base.levels})

    def _pooled_estimate(self, data: HMMData) -> Any:
        """The pooled EM fit of ``data``, states in the model's order.

        Computed once for the model's own data, which both the ``"auto"`` choice and the
        starting values read; afresh for other (simulated) data.
        """
        return self._own_pooled_estimate if data is self.data else self._pooled_em(data)

    @cached_property
    def _own_pooled_estimate(self) -> Any:
        return self._pooled_em(self.data)

    def _start_estimate(self, data: HMMData) -> Any:
        """Where the chains start from: the given ``start`` (own data), else the EM fit."""
        from lagnest.models.hmm_start import PooledEstimate

        given = self._spec.get("start")
        if given is None or data is not self.data:
            return self._pooled_estimate(data)
        emission = [np.asarray(given["emission"][c], dtype=float) for c in data.channels]
        return self._in_order(PooledEstimate(np.asarray(given["initial"], dtype=float),
                                             np.asarray(given["transition"], dtype=float),
                                             emission, float("nan"), 0))

    def _pooled_em(self, data: HMMData) -> Any:
        from lagnest.models.hmm_start import pooled_em

        sizes = [len(labels) for labels in data.channel_labels]
        return self._in_order(pooled_em(data.codes, sizes, data.block_offsets,
                                        self._spec["n_states"]))

    def _in_order(self, est: Any) -> Any:
        """``est`` with its states in the model's order (the ordering constraint's)."""
        oc, ocode = self._order
        key = np.log(est.emission[oc][:, ocode] / est.emission[oc][:, 0])
        return est.permuted(np.argsort(key, kind="stable"))

    @cached_property
    def _auto_form(self) -> str:
        """``"centered"`` when most emission channels' dyads are data-rich and differ.

        More than half (a tie stays non-centred), not all: the moment estimate of a
        channel's dyad SD (:func:`~lagnest.models.structure.deviation_sd_estimate`) is 0
        when a state almost never emits some code (its near-empty cells' sampling noise
        swamps the spread), as the first channel of the nonverbal corpus shows (its
        posterior scale is the largest of the four).
        """
        from lagnest.models.hmm_start import expected_counts

        d = self.data
        sizes = [len(labels) for labels in d.channel_labels]
        n_dyads = len(d.dyad_labels)
        est = self._pooled_estimate(d)
        forms = []
        for counts in expected_counts(d.codes, sizes, d.block_offsets, est, d.segment_dyad,
                                      n_dyads):
            share = counts.sum(axis=(0, 1)) / max(counts.sum(), 1e-12)
            variance = float(np.min(share * (1.0 - share))) if share.size else 0.0
            forms.append(choose_parameterization(
                counts.sum(axis=(1, 2)), deviation_sd_estimate(counts, np.zeros(n_dyads)),
                variance, n_dyads))
        centred = sum(f == "centered" for f in forms)
        return "centered" if 2 * centred > len(forms) else "noncentered"

    @property
    def _order(self) -> tuple[int, int]:
        """(channel, code) of the ordering constraint."""
        d = self.data
        channel, code = self._spec["order_by"].rsplit(":", 1)
        c = d.channels.index(channel)
        return c, d.channel_labels[c].index(code)

    @property
    def coords(self) -> dict[str, list[Any]]:
        """Model coordinates."""
        d = self.data
        k = self._spec["n_states"]
        out: dict[str, list[Any]] = {
            "state": list(range(1, k + 1)), "origin": list(range(1, k + 1)),
            "destination": list(range(1, k + 1)), "move": list(range(k * (k - 1))),
            "free_state": list(range(k - 1)), "dyad": list(d.dyad_labels),
            "feature": list(d.feature_names), "channel": list(d.channels),
        }
        for c, labels in enumerate(d.channel_labels):
            out[f"code_{c}"] = list(labels)
            out[f"free_code_{c}"] = list(labels[1:])
        return out

    def check_sampler(self, sampler: str) -> None:
        """The likelihood is a numba kernel: no JAX sampler (numpyro)."""
        if sampler == "numpyro":
            raise ValueError("HiddenMarkovModel's likelihood is a numba kernel, which numpyro "
                             "(JAX) cannot run: use sampler='pymc' or 'nutpie'")

    # ------------------------------------------------------------------ backend
    def build_model(self) -> Any:
        """Build the PyMC model: emissions, transitions and the forward-algorithm Op."""
        import pymc as pm
        import pytensor.tensor as pt

        from lagnest.models.hmm_likelihood import hmm_log_likelihood

        d = self.data
        k = self._spec["n_states"]
        n_dyads = len(d.dyad_labels)
        dyad = self.structure.dyad
        rows, cols = _off_diagonal(k)
        oc, ocode = self._order
        form = self.structure.parameterization.get("dyad")
        with pm.Model(coords=self.coords) as model:
            codes = pm.Data("codes", d.codes)
            log_emit = pt.zeros((d.codes.shape[0], k))
            for c, labels in enumerate(d.channel_labels):
                dims = ("state", f"free_code_{c}")
                sd = self._priors["emission"].params["sigma"]
                if c == oc:
                    ordered = _ordered_normal(f"emission_order_{c}", sd, k)
                    others = [j for j in range(len(labels) - 1) if j != ocode - 1]
                    free = pt.zeros((k, len(labels) - 1))
                    free = pt.set_subtensor(free[:, ocode - 1], ordered)
                    if others:
                        rest = pm.Normal(f"emission_rest_{c}", 0.0, sd,
                                         shape=(k, len(others)))
                        free = pt.set_subtensor(free[:, others], rest)
                else:
                    free = pm.Normal(f"emission_logit_{c}", 0.0, sd, dims=dims)
                typical = pt.concatenate([pt.zeros((k, 1)), free], axis=1)
                pm.Deterministic(f"emission_typical_{c}", pt.special.softmax(typical, axis=-1),
                                 dims=("state", f"code_{c}"))
                logits = pt.repeat(typical[None], n_dyads, axis=0)
                if dyad:
                    sigma = self._priors["sigma_emission"].create_variable(
                        f"sigma_emission_{c}")
                    dev = _deviation(f"emission_{c}", sigma, ("dyad", *dims), form)
                    logits = logits + pt.concatenate(
                        [pt.zeros((n_dyads, k, 1)), dev], axis=2)
                log_p = pt.special.log_softmax(logits, axis=-1)  # (D, K, M)
                code = codes[:, c]
                picked = log_p.dimshuffle(0, 2, 1)[d.segment_dyad, pt.maximum(code, 0)]
                log_emit = log_emit + pt.where(pt.ge(code, 0)[:, None], picked, 0.0)
            a = self._priors["transition"].create_variable("transition_logit", dims="move")
            eta = pt.repeat(a[None], len(d.unit_dyad), axis=0)  # (U, moves)
            if d.unit_design.shape[1]:
                beta = self._priors["beta"].create_variable("beta", mu=0.0,
                                                            dims=("feature", "move"))
                eta = eta + pt.dot(pm.Data("unit_design", d.unit_design), beta)
            if dyad:
                sigma = self._priors["sigma_transition"].create_variable("sigma_transition")
                eta = eta + _deviation("transition", sigma, ("dyad", "move"), form)[
                    d.unit_dyad]
            full = pt.zeros((len(d.unit_dyad), k, k))
            full = pt.set_subtensor(full[:, rows, cols], eta)
            log_trans = pt.special.log_softmax(full, axis=-1)
            typical = pt.set_subtensor(pt.zeros((k, k))[rows, cols], a)
            pm.Deterministic("transition_typical", pt.special.softmax(typical, axis=-1),
                             dims=("origin", "destination"))
            init = self._priors["initial"].create_variable("initial_logit", mu=0.0,
                                                           dims="free_state")
            log_init = pt.special.log_softmax(pt.concatenate([pt.zeros(1), init]))[None]
            pm.Deterministic("initial_probs", pt.exp(log_init[0]), dims="state")
            pm.Potential("loglik", hmm_log_likelihood(
                log_init, np.zeros(len(d.block_session), dtype=np.int64), log_trans,
                pm.Data("trans_unit", d.trans_unit), log_emit, d.block_offsets))
        return model

    def start_values(self, data: HMMData) -> dict[str, np.ndarray]:
        """Chains start at the pooled maximum-likelihood fit (EM), in the ordered labelling.

        See :mod:`lagnest.models.hmm_start`. Logits are clipped to +-4.5 (three SDs of the
        default emission prior) so that a code never seen in a state does not start the
        chains far out in the tail; the ordered emission logits are made strictly
        increasing. Dyad deviations start at each dyad's own EM fit, chosen by the
        posterior density (:meth:`_dyad_starts`), their scales at the deviations' root
        mean square.
        """
        est = self._start_estimate(data)
        typical = self._typical_start(data, est)
        if not self.structure.dyad:
            return typical
        fits = self._dyad_starts(data, est, typical)
        return self._with_deviations(typical, self._start_deviations(data, fits, typical))

    def _typical_start(self, data: HMMData, est: Any) -> dict[str, np.ndarray]:
        """The typical dyad's logits at the pooled EM estimate ``est`` (clipped, ordered)."""
        k = self._spec["n_states"]
        sizes = [len(labels) for labels in data.channel_labels]
        oc, ocode = self._order
        out: dict[str, np.ndarray] = {}
        for c, e in enumerate(est.emission):
            free = np.clip(np.log(e[:, 1:] / e[:, :1]), -_START_BOUND, _START_BOUND)
            if c != oc:
                out[f"emission_logit_{c}"] = free
                continue
            ordered = free[:, ocode - 1].copy()
            for i in range(1, k):  # strictly increasing, as the ordered transform needs
                ordered[i] = max(ordered[i], ordered[i - 1] + 0.1)
            out[f"emission_order_{c}"] = ordered
            others = [j for j in range(sizes[c] - 1) if j != ocode - 1]
            if others:
                out[f"emission_rest_{c}"] = free[:, others]
        rows, cols = _off_diagonal(k)
        t = est.transition
        out["transition_logit"] = np.clip(np.log(t[rows, cols] / t[rows, rows]),
                                          -_START_BOUND, _START_BOUND)
        out["initial_logit"] = np.clip(np.log(est.initial[1:] / est.initial[0]),
                                       -_START_BOUND, _START_BOUND)
        return out

    def _with_deviations(self, typical: Mapping[str, np.ndarray],
                         deviations: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Starting values: the typical dyad's, the dyad deviations and their scales."""
        form = self.structure.parameterization.get("dyad")
        out = dict(typical)
        for name, dev in deviations.items():
            sigma = _start_scale(dev)
            out[f"sigma_{name}"] = np.asarray(sigma)  # the deviations' scale
            if form == "centered":
                out[f"eta_{name}"] = dev
            else:
                out[f"z_{name}"] = dev / sigma
        return out

    def _dyad_starts(self, data: HMMData, est: Any, typical: Mapping[str, np.ndarray]
                     ) -> list[Any]:
        """Each dyad's own EM fit to start at: the candidate with the highest density.

        Chains that start every dyad at the typical dyad (deviations 0) must each find, dyad
        by dyad, which of its states plays which role; with long sessions they can settle in
        different assignments. Each dyad's EM fit from the pooled estimate keeps the pooled
        roles, so every chain starts in one assignment, but it may not be where the
        posterior's mass lies: the dyad's data may prefer other roles, which chains can
        take thousands of draws to find (the nonverbal corpus's three-state fit). The
        candidates of :func:`~lagnest.models.hmm_start.dyad_candidates` (the fit from the
        pooled estimate and better fits from random starts, in each labelling) are chosen
        among dyad by dyad (:func:`~lagnest.models.hmm_start.coordinate_search`) by the
        model's log posterior density at the starting point (without the Jacobians of
        the transforms). The same data give the same start.
        """
        from lagnest.models.hmm_start import coordinate_search, dyad_candidates

        sizes = [len(labels) for labels in data.channel_labels]
        block_dyad = data.segment_dyad[data.block_offsets[:-1]]
        candidates = dyad_candidates(data.codes, sizes, data.block_offsets, block_dyad, est,
                                     len(data.dyad_labels))

        def score(fits: list[Any]) -> float:  # compiled on first use only
            return self._start_density(self._with_deviations(
                typical, self._start_deviations(data, fits, typical)))

        return coordinate_search(candidates, score)

    @cached_property
    def _start_density(self) -> Callable[[Mapping[str, np.ndarray]], float]:
        """The built model's log density (no Jacobians) at a point of its own variables.

        It reads the model's ``pm.Data`` as set when called, so during a fit on other
        (simulated) data it is the density of those data.
        """
        import pytensor
        from pymc.initial_point import make_initial_point_fn

        model = self.build()
        names, values, transformed = [], [], []
        for rv in model.free_RVs:
            value = rv.type()
            transform = model.rvs_to_transforms.get(rv)
            names.append(rv.name)
            values.append(value)
            transformed.append(value if transform is None
                               else transform.forward(value, *rv.owner.inputs))
        to_values = pytensor.function(values, transformed, on_unused_input="ignore")
        value_names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
        logp = model.compile_logp(jacobian=False)
        defaults = make_initial_point_fn(model=model, jitter_rvs=set(),  # variables a
                                         return_transformed=False)(0)  # start leaves out

        def density(point: Mapping[str, np.ndarray]) -> float:
            moved = to_values(*(np.asarray(point.get(n, defaults[n]), dtype=float)
                                for n in names))
            return float(logp(dict(zip(value_names, moved, strict=True))))

        return density

    def _start_deviations(self, data: HMMData, fits: list[Any],
                          typical: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Dyad deviations of each dyad's EM fit ``fits[d]`` from the typical dyad."""
        k = self._spec["n_states"]
        rows, cols = _off_diagonal(k)
        sizes = [len(labels) for labels in data.channel_labels]
        out: dict[str, np.ndarray] = {}
        for c in range(len(sizes)):
            free = self._emission_free(typical, c, sizes[c])
            own = np.stack([np.clip(np.log(f.emission[c][:, 1:] / f.emission[c][:, :1]),
                                    -_START_BOUND, _START_BOUND) for f in fits])
            out[f"emission_{c}"] = own - free[None]
        own = np.stack([np.clip(np.log(f.transition[rows, cols] / f.transition[rows, rows]),
                                -_START_BOUND, _START_BOUND) for f in fits])
        out["transition"] = own - np.asarray(typical["transition_logit"])[None]
        return out

    # ------------------------------------------------------------------ NumPy side
    def log_probs(self, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray,
                                                             list[np.ndarray]]:
        """Initial ``(K,)``, transition ``(U, K, K)`` and emission ``[(D, K, M_c)]`` logs."""
        d = self.data
        k = self._spec["n_states"]
        rows, cols = _off_diagonal(k)
        n_dyads = len(d.dyad_labels)
        emission = []
        for c, labels in enumerate(d.channel_labels):
            free = self._emission_free(params, c, len(labels))
            logits = np.repeat(np.concatenate([np.zeros((k, 1)), free], axis=1)[None],
                               n_dyads, axis=0)
            dev = _deviation_value(params, f"emission_{c}", f"sigma_emission_{c}")
            if dev is not None:
                logits[:, :, 1:] += dev
            emission.append(_log_softmax(logits))
        eta = np.repeat(np.asarray(params["transition_logit"], dtype=float)[None],
                        len(d.unit_dyad), axis=0)
        if d.unit_design.shape[1]:
            eta = eta + d.unit_design @ np.asarray(params["beta"], dtype=float)
        dev = _deviation_value(params, "transition", "sigma_transition")
        if dev is not None:
            eta = eta + dev[d.unit_dyad]
        full = np.zeros((len(d.unit_dyad), k, k))
        full[:, rows, cols] = eta
        init = _log_softmax(np.concatenate([[0.0], np.asarray(params["initial_logit"],
                                                              dtype=float)]))
        return init, _log_softmax(full), emission

    def _emission_free(self, params: Mapping[str, Any], c: int, m: int) -> np.ndarray:
        """Free emission logits ``(K, M - 1)`` of channel c of the typical dyad."""
        oc, ocode = self._order
        if c != oc:
            return np.asarray(params[f"emission_logit_{c}"], dtype=float)
        k = self._spec["n_states"]
        free = np.zeros((k, m - 1))
        free[:, ocode - 1] = np.asarray(params[f"emission_order_{c}"], dtype=float)
        others = [j for j in range(m - 1) if j != ocode - 1]
        if others:
            free[:, others] = np.asarray(params[f"emission_rest_{c}"], dtype=float)
        return free

    def log_emit(self, emission: list[np.ndarray], codes: np.ndarray | None = None
                 ) -> np.ndarray:
        """Log-likelihood ``(N, K)`` of each segment's codes under each state."""
        d = self.data
        codes = d.codes if codes is None else codes
        out = np.zeros((codes.shape[0], self._spec["n_states"]))
        for c, lp in enumerate(emission):
            code = codes[:, c].astype(np.int64)
            picked = lp.transpose(0, 2, 1)[d.segment_dyad, np.maximum(code, 0)]
            out += np.where(code[:, None] >= 0, picked, 0.0)
        return out

    def simulate(self, params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """Draw states along every chain, then codes; uncoded stays uncoded.

        Parameters
        ----------
        params : mapping
            One draw of the model's variables.
        rng : numpy.random.Generator

        Returns
        -------
        dict
            ``{"codes": (N, C) int8}``.
        """
        d = self.data
        log_init, log_trans, emission = self.log_probs(params)
        n = d.codes.shape[0]
        states = np.empty(n, dtype=np.int64)
        u = rng.random(n)
        init_cdf = np.cumsum(np.exp(log_init))
        trans_cdf = np.cumsum(np.exp(log_trans), axis=-1)
        starts = np.zeros(n, dtype=bool)
        starts[d.block_offsets[:-1][np.diff(d.block_offsets) > 0]] = True
        for t in range(n):
            cdf = init_cdf if starts[t] else trans_cdf[d.trans_unit[t], states[t - 1]]
            states[t] = min(int(np.searchsorted(cdf, u[t] * cdf[-1], side="right")),
                            len(cdf) - 1)
        codes = np.full(d.codes.shape, -1, dtype=np.int8)
        for c, lp in enumerate(emission):
            p = np.exp(lp[d.segment_dyad, states])  # (N, M)
            draw = (p.cumsum(axis=1) < rng.random(n)[:, None] * p.sum(axis=1)[:, None]).sum(1)
            codes[:, c] = np.where(d.codes[:, c] >= 0, np.minimum(draw, p.shape[1] - 1), -1)
        return {"codes": codes}

    def fit_advice(self, diagnostics: _fit.Diagnostics) -> str:
        """What to try when a fit fails its diagnostics.

        Divergences: the base advice (the other form, then ``target_accept``); slow mixing
        without divergences: where to look, then more draws.
        """
        if diagnostics.ok:
            return ""
        if diagnostics.n_divergent or not self.structure.dyad:
            return super().fit_advice(diagnostics)
        return ("no divergence: see result.label_check() (do the chains agree on what each "
                "state is?) and result.dyad_mixing() (which dyads mix slowly); then refit "
                "with more draws (e.g. draws=3000) to see whether the chains settle or "
                "drift apart (a region of the posterior they had not reached), and read the "
                "intervals as provisional until they settle")

    @property
    def diagnostic_vars(self) -> tuple[str, ...]:
        """Typical emission and transition probabilities, initial state, scales."""
        d = self.data
        names = [f"emission_typical_{c}" for c in range(len(d.channels))]
        names += ["transition_typical", "initial_probs"]
        if d.unit_design.shape[1]:
            names.append("beta")
        if self.structure.dyad:
            names += [f"sigma_emission_{c}" for c in range(len(d.channels))]
            names.append("sigma_transition")
        return tuple(names)

    @property
    def calibration_vars(self) -> tuple[str, ...]:
        """Typical emission logits and transition logits, effects and dyad scales."""
        return tuple(n for n in self.diagnostic_vars if n != "initial_probs")


def _order_target(names: Sequence[str], labels: Sequence[Sequence[str]],
                  order_by: str | None) -> tuple[int, int]:
    """(channel, code index >= 1) of ``order_by`` (default: first channel's last code)."""
    if order_by is None:
        return 0, len(labels[0]) - 1
    if not isinstance(order_by, str) or ":" not in order_by:
        raise LagnestDataError(f"order_by must be 'channel:code' (channels: {list(names)}), "
                               f"got {order_by!r}")
    if order_by in names and tuple(labels[list(names).index(order_by)]) == ("absent",
                                                                            "present"):
        return list(names).index(order_by), 1  # an indicator: ordered by its presence
    channel, code = order_by.rsplit(":", 1)
    if channel not in names:
        raise LagnestDataError(f"order_by: {channel!r} is not an emitted channel; channels: "
                               f"{list(names)}")
    c = list(names).index(channel)
    if code not in labels[c][1:]:
        raise LagnestDataError(f"order_by: {code!r} must be a code of {channel!r} other than "
                               f"its first (reference) code: {list(labels[c][1:])}")
    return c, list(labels[c]).index(code)


# =========================================================================== results


class HMMResult(FitResult):
    """Posterior of a :class:`HiddenMarkovModel` and the answers it gives."""

    kind: ClassVar[str] = "hmm"

    @property
    def _model(self) -> HiddenMarkovModel:
        model = getattr(self, "_cached_model", None)
        if model is None:
            model = BayesianModel.from_result(self)
            object.__setattr__(self, "_cached_model", model)
        return model  # type: ignore[return-value]

    def transition_probs(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Transition matrix of the typical dyad with every predictor absent (at 0)."""
        return summarise(self.draws["transition_typical"], ci_prob, None)

    def emission_probs(self, channel: str | int = 0, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Emission probabilities of one channel per state (typical dyad)."""
        d = self._model.data
        c = channel if isinstance(channel, int) else d.channels.index(channel)
        return summarise(self.draws[f"emission_typical_{c}"], ci_prob, None)

    def _stationary_draws(self) -> xr.DataArray:
        """Stationary distribution of every draw's typical transition matrix."""
        p = self.draws["transition_typical"].transpose("chain", "draw", "origin", "destination")
        values = p.values
        k = values.shape[-1]
        out = np.empty(values.shape[:-1])
        for idx in np.ndindex(values.shape[:2]):
            a = values[idx].T - np.eye(k)
            a[-1] = 1.0
            b = np.zeros(k)
            b[-1] = 1.0
            out[idx] = np.linalg.solve(a, b)
        return xr.DataArray(out, dims=("chain", "draw", "state"),
                            coords={"chain": p["chain"].values, "draw": p["draw"].values,
                                    "state": p["origin"].values})

    def _dwell_draws(self) -> xr.DataArray:
        """Expected dwell time of every draw, ``1 / (1 - p_kk)`` per state."""
        p = self.draws["transition_typical"]
        stay = xr.concat([p.sel(origin=s, destination=s) for s in p["origin"].values],
                         dim="state").assign_coords(state=p["origin"].values)
        return (1.0 / (1.0 - stay.drop_vars(["origin", "destination"]))).transpose(
            "chain", "draw", "state")

    def stationary(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Stationary state distribution of the typical transition matrix."""
        return summarise(self._stationary_draws(), ci_prob, None)

    def dwell_times(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Expected segments spent in a state once entered, ``1 / (1 - p_kk)``."""
        return summarise(self._dwell_draws(), ci_prob, None)

    def derived_draws(self) -> dict[str, xr.DataArray]:
        """``stationary``, ``dwell_time`` and (with predictors) ``odds_ratio`` draws."""
        out = {"stationary": self._stationary_draws(), "dwell_time": self._dwell_draws()}
        if "beta" in self.draws:  # on the posterior's own coords, the moves as a label
            out["odds_ratio"] = np.exp(self.draws["beta"]).assign_coords(
                move_label=("move", self._moves()))
        return out

    def effects(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Odds ratios of the predictors on moving i -> j against staying in i (null 1)."""
        return summarise(np.exp(self._beta()), ci_prob, 1.0, "1")

    def log_odds_ratios(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Log odds ratios of the predictors on moving i -> j against staying in i (null 0).

        Parameters
        ----------
        ci_prob : float, default 0.95

        Returns
        -------
        xarray.Dataset
            ``(feature, move)``: ``mean``, ``median``, ``sd``, ``lower``, ``upper``,
            ``p_positive``; ``move`` labelled ``"1->2"`` (from state 1 to state 2).
        """
        return summarise(self._beta(), ci_prob, 0.0, "0")

    def _beta(self) -> xr.DataArray:
        """Draws of the transition slopes, ``move`` labelled ``"i->j"``."""
        if "beta" not in self.draws:
            raise ValueError("this model has no transition predictors")
        return self.draws["beta"].assign_coords(move=self._moves())

    def _moves(self) -> list[str]:
        """The off-diagonal moves ``"i->j"`` of the transition slopes, in their order."""
        rows, cols = _off_diagonal(self._model._spec["n_states"])
        return [f"{r + 1}->{c + 1}" for r, c in zip(rows, cols, strict=True)]

    def state_probabilities(self, max_draws: int = 200) -> xr.DataArray:
        """Posterior probability of each state in each segment (forward-backward).

        Averaged over ``max_draws`` evenly thinned posterior draws: for each, the
        kernel's posterior state probabilities given that draw's parameters.

        Returns
        -------
        xarray.DataArray
            ``(segment, state)``.
        """
        from lagnest.kernels.hmm import hmm_value_grad

        m = self._model
        d = m.data
        stacked = self.posterior.stack(sample=("chain", "draw"))
        take = np.unique(np.linspace(0, stacked.sizes["sample"] - 1,
                                     min(max_draws, stacked.sizes["sample"])).astype(int))
        total = np.zeros((d.codes.shape[0], m._spec["n_states"]))
        for params in per_draw(stacked.isel(sample=take)):
            log_init, log_trans, emission = m.log_probs(params)
            _, _, _, gamma = hmm_value_grad(log_init[None], np.zeros(
                len(d.block_session), dtype=np.int64), log_trans, d.trans_unit,
                m.log_emit(emission), d.block_offsets)
            total += gamma
        return xr.DataArray(total / take.size, dims=("segment", "state"),
                            coords={"state": list(range(1, total.shape[1] + 1))},
                            name="state_probability")

    def viterbi(self) -> xr.DataArray:
        """Most probable state path (states 1..K) at the posterior medians of the parameters."""
        from lagnest.kernels.hmm import hmm_viterbi

        m = self._model
        d = m.data
        params = {v: self.posterior[v].median(("chain", "draw")).values
                  for v in self.posterior.data_vars}
        log_init, log_trans, emission = m.log_probs(params)
        path = hmm_viterbi(log_init[None], np.zeros(len(d.block_session), dtype=np.int64),
                           log_trans, d.trans_unit, m.log_emit(emission), d.block_offsets)
        return xr.DataArray(path + 1, dims="segment", name="state")

    def _session_log_lik(self, params: Mapping[str, Any]) -> np.ndarray:
        """Log-likelihood of each session's codes (its chains) at one set of parameters."""
        from lagnest.kernels.hmm import hmm_block_log_likelihood

        m = self._model
        d = m.data
        log_init, log_trans, emission = m.log_probs(params)
        blocks = hmm_block_log_likelihood(
            log_init[None], np.zeros(len(d.block_session), dtype=np.int64), log_trans,
            d.trans_unit, m.log_emit(emission), d.block_offsets)
        return np.bincount(d.block_session, weights=blocks, minlength=len(d.session_labels))

    def session_log_lik(self) -> xr.DataArray:
        r"""Log-likelihood of each session's codes under every posterior draw.

        A session's value is :math:`\log p(y_s \mid \theta)`, the forward algorithm over
        its chains (its dyad's deviations included): the observation of :meth:`loo`.

        Returns
        -------
        xarray.DataArray
            ``(chain, draw, session)``.
        """
        post = self.posterior
        out = np.empty((post.sizes["chain"], post.sizes["draw"],
                        len(self._model.data.session_labels)))
        for c in range(post.sizes["chain"]):
            for i in range(post.sizes["draw"]):
                params = {v: post[v].values[c, i] for v in post.data_vars}
                out[c, i] = self._session_log_lik(params)
        return xr.DataArray(out, dims=("chain", "draw", "session"), name="codes",
                            coords={"chain": post["chain"].values, "draw": post["draw"].values,
                                    "session": list(self._model.data.session_labels)})

    def pointwise_log_lik(self) -> xr.DataArray:
        """:meth:`session_log_lik`: the observation of :meth:`loo` is the session."""
        return self.session_log_lik()

    def loo(self, reff: float | None = None) -> Any:
        """Leave-one-session-out predictive density by PSIS (one session = one observation).

        A segment is not an exchangeable observation of a hidden Markov model (its state
        depends on its neighbours), so the unit is the session: the elpd estimates how
        well the model predicts a whole new session of a fitted dyad. Pareto k above
        ``good_k`` marks sessions whose PSIS estimate is unreliable; refit without them
        to check (see :func:`compare_states`).

        Parameters
        ----------
        reff : float, optional
            Relative efficiency (default: ArviZ's, from the reported posterior).

        Returns
        -------
        arviz_stats.ELPDDataLOO
            ``elpd_i`` and ``pareto_k`` per session.
        """
        import arviz_stats

        if self.group != "posterior":
            raise ValueError("LOO needs posterior draws; this result holds prior draws")
        tree = self.tree  # reported posterior and session_log_lik(), as ArviZ sees them
        with warnings.catch_warnings():
            if self.config.get("quick"):  # a quick-mode fit checks that code runs
                warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto")
            return arviz_stats.loo(tree, pointwise=True, reff=reff)

    def information_criteria(self) -> dict[str, float]:
        """AIC and BIC at the posterior medians, as a user of mHMMbayes would compute.

        ``log_lik`` is the log-likelihood of every session at the posterior medians of
        all parameters (dyad deviations included); ``n_parameters`` counts the free
        parameters of the typical dyad (initial, transition and emission logits and the
        predictors' effects), as mHMMbayes counts a subject's. AIC = 2 p - 2 log_lik,
        BIC = p log(N) - 2 log_lik with N the coded segments. These ignore the
        uncertainty and the dyad level; :meth:`loo` does not.

        Returns
        -------
        dict
            ``log_lik``, ``n_parameters``, ``n_segments``, ``aic``, ``bic``.
        """
        post = self.posterior
        params = {v: post[v].median(("chain", "draw")).values for v in post.data_vars}
        log_lik = float(self._session_log_lik(params).sum())
        d = self._model.data
        k = self._model._spec["n_states"]
        p = (k - 1) + k * (k - 1) * (1 + d.unit_design.shape[1]) + k * sum(
            len(lab) - 1 for lab in d.channel_labels)
        n = int((d.codes >= 0).any(axis=1).sum())
        return {"log_lik": log_lik, "n_parameters": int(p), "n_segments": n,
                "aic": 2 * p - 2 * log_lik, "bic": p * float(np.log(n)) - 2 * log_lik}

    def label_check(self, tolerance: float = 4.0) -> pd.DataFrame:
        """Do the chains agree on what each state is? One row per quantity and chain pair.

        Compares the chains' posterior means of every typical emission probability and
        transition probability: a difference above ``tolerance`` times the larger of the
        two chains' posterior SDs means the chains found different labelings or modes
        (the ordering constraint fixes the order of one quantity, not the rest).

        Returns
        -------
        pandas.DataFrame
            ``quantity``, ``chains``, ``difference_in_sd``, ``agree``, sorted with the
            largest differences first.
        """
        post = self.posterior
        names = [v for v in post.data_vars
                 if v.startswith("emission_typical_") or v == "transition_typical"]
        rows = []
        for name in names:
            da = post[name]
            cells = da.stack(cell=[d for d in da.dims if d not in ("chain", "draw")])
            means = cells.mean("draw").values  # (chain, cell)
            sds = cells.std("draw").values
            labels = [f"{name}[{', '.join(str(x) for x in c)}]" for c in cells["cell"].values]
            for i in range(means.shape[0]):
                for j in range(i + 1, means.shape[0]):
                    scale = np.maximum(np.maximum(sds[i], sds[j]), 1e-12)
                    diff = np.abs(means[i] - means[j]) / scale
                    for cell, value in zip(labels, diff, strict=True):
                        rows.append({"quantity": cell, "chains": f"{i}-{j}",
                                     "difference_in_sd": float(value),
                                     "agree": bool(value <= tolerance)})
        out = pd.DataFrame(rows)
        return out.sort_values("difference_in_sd", ascending=False, ignore_index=True)

    def dyad_mixing(self) -> pd.DataFrame:
        """Which dyads' deviations mix slowly? One row per dyad, slowest first.

        When the typical dyad's quantities fail R-hat or ESS while :meth:`label_check`
        finds the chains agreeing, the cause is often a dyad whose posterior has two modes
        (e.g. two roles its states can take) that the chains visit in different
        proportions, or only some chains have reached. See :func:`dyad_mixing`.

        Returns
        -------
        pandas.DataFrame
            ``dyad``, ``quantity`` (its slowest cell), ``rhat``, ``ess_bulk``.
        """
        return dyad_mixing(self.posterior)

    def summary(self, ci_prob: float = CI_PROB, *, lang: str = "en",
                codebook: Any = None) -> ResultSummary:
        """Transition matrix, stationary distribution and dwell times of the typical dyad.

        Parameters
        ----------
        ci_prob : float, default 0.95
            Interval probability named in the legend (the intervals themselves are in
            :meth:`transition_probs`).
        lang : {"en", "es"}, default "en"
            Language of the print (header, columns, legend, notes, diagnostics).
        codebook : Codebook, optional
            Accepted for symmetry with the other results (states are numbered).

        Returns
        -------
        ResultSummary
            ``table`` indexed by origin state with one column per destination state
            (posterior median transition probabilities), ``stationary`` and ``dwell``.
        """
        lang = check_lang(lang)

        def say(key: str, **fields: Any) -> str:
            return translate(key, lang, **fields)

        tp = self.transition_probs(ci_prob)
        frame = tp["median"].to_pandas()
        frame.columns = [say("hmm.to", state=v) for v in frame.columns]
        frame.index = [say("hmm.from", state=v) for v in frame.index]
        frame["stationary"] = self.stationary(ci_prob)["median"].values
        frame["dwell"] = self.dwell_times(ci_prob)["median"].values
        frame.index.name = "state"
        structure = self.structure
        who = say("hmm.typical" if structure is None or structure.dyad else "hmm.alike")
        meanings = {
            ", ".join(frame.columns[:-2]): say("hmm.transition", pct=f"{ci_prob:.0%}",
                                               who=who),
            "stationary": say("hmm.stationary"),
            "dwell": say("hmm.dwell"),
        }
        notes = (say("hmm.ordered", order=self._model._spec["order_by"]),)
        header = self._header(lang)
        return ResultSummary(title=header[0], lines=tuple(header[1:]), table=frame,
                             notes=notes, columns=meanings, lang=lang, codebook=codebook,
                             diagnostics=(self.diagnostics.text(lang) if self.diagnostics
                                          else ""))


HiddenMarkovModel.result_class = HMMResult
