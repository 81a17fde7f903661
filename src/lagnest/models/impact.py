"""Session-level impact model: session outcomes on session predictors, dyads pooled.

:class:`SessionImpactModel` relates session-level outcomes (e.g. the SEQ subscales) to
session predictors: session covariates (e.g. the TMS subscales), the session number, and
summaries of the coded sequences computed by the kernels, named in a small language
(:func:`parse_term`: ``"rate(rupture)"``, ``"followed(rupture, resolution, 3)"``).
:class:`SessionImpactResult` reports standardised effects (and their raw-unit
equivalents) beside the classical least-squares estimates, the residual correlations of
the outcomes, and a per-session pointwise log-likelihood for LOO.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
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
from lagnest.models.basis import helmert
from lagnest.models.priors import Prior
from lagnest.models.result import FitResult
from lagnest.models.structure import GroupStructure, check_grouping, choose_parameterization

if TYPE_CHECKING:
    from lagnest.data.codebook import Codebook

__all__ = [
    "CENTERS",
    "GROUPS",
    "RESIDUALS",
    "ImpactData",
    "SessionImpactModel",
    "SessionImpactResult",
    "SessionTerm",
    "parse_term",
    "session_values",
]

#: Grouping of the sessions: dyad intercepts per outcome, or none (sessions exchangeable).
GROUPS = ("dyad", "none")
#: Centring of the predictors before standardising: within dyad, or on the grand mean.
CENTERS = ("dyad", "grand")
#: Residual distribution of the outcome vector of a session.
RESIDUALS = ("student", "normal")
PARAMETERIZATIONS = ("auto", "centered", "noncentered")
#: The functions of the term language, with their signatures (for messages).
FUNCTIONS = {"rate": "rate(X)", "followed": "followed(X, Y, k)"}
_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.DOTALL)
#: Columns of the session table that are not variables.
_KEY_COLUMNS = ("dyad",)


# =========================================================================== terms


@dataclass(frozen=True)
class SessionTerm:
    """One session-level variable: a session-table column or a sequence summary.

    Attributes
    ----------
    kind : {"column", "rate", "followed"}
        What the term is (see :func:`parse_term`).
    args : tuple
        ``(column,)``, ``(X,)`` or ``(X, Y, k)``.
    """

    kind: str
    args: tuple[Any, ...]

    @property
    def name(self) -> str:
        """Canonical text of the term (the coordinate label)."""
        if self.kind == "column":
            return str(self.args[0])
        return f"{self.kind}({', '.join(str(a) for a in self.args)})"


def _numeric_columns(seqs: Any) -> list[str]:
    """Numeric columns of the session table (and ``session_number``, always available)."""
    table = seqs.sessions
    cols = [c for c in table.columns
            if c not in _KEY_COLUMNS and pd.api.types.is_numeric_dtype(table[c])]
    return cols if "session_number" in cols else [*cols, "session_number"]


def _available(seqs: Any) -> str:
    """What a term may name, for error messages."""
    streams = ", ".join(f"{n} ({s.kind})" for n, s in seqs.streams.items())
    return (
        f"a numeric session column ({', '.join(_numeric_columns(seqs))}) or a sequence "
        f"summary {' or '.join(FUNCTIONS.values())} with X, Y a categorical stream or one "
        f"code (streams: {streams})"
    )


def _check_code(seqs: Any, spec: str, where: str) -> None:
    """Raise unless ``spec`` is a categorical stream, a code, or an indicator code."""
    try:
        ref = seqs.resolve_code(spec)
    except LagnestDataError as err:
        raise LagnestDataError(f"{where}: {err}") from None
    if ref.is_set:
        codes = ", ".join(seqs.streams[ref.stream].codes)
        raise LagnestDataError(
            f"{where}: {spec!r} is a set of indicators; name one of its codes ({codes})"
        )


def parse_term(seqs: Any, text: Any, where: str = "term") -> SessionTerm:
    """Parse and validate one session variable of the term language.

    Parameters
    ----------
    seqs : Sequences
        The corpus the term refers to.
    text : str
        One of

        * ``"name"``: a numeric column of ``seqs.sessions`` (e.g. ``"tms_curiosity"``,
          ``"seq_depth"``). ``"session_number"`` is the column of that name, or, when the
          corpus has none, the position of the session within its dyad (1, 2, ...).
        * ``"rate(X)"``: share of the session's coded segments of X's stream that are
          events of X. X is a categorical stream (event = any code other than the
          stream's first, reference code: ``rate(rupture)`` = share of segments with a
          rupture) or one code (``rate(withdrawal)``, ``rate(MIA4)``).
        * ``"followed(X, Y, k)"``: share of the session's X events (as in ``rate``) that
          are followed by a Y event within the next ``k`` segments (``followed(rupture,
          resolution, 3)``: ruptures followed by a strategy within 3 segments).
    where : str
        Where the term was given (e.g. ``"predictors[2]"``), for messages.

    Returns
    -------
    SessionTerm

    Raises
    ------
    LagnestDataError
        Naming ``where``, the text and what is available.
    """
    if not isinstance(text, str) or not text.strip():
        raise LagnestDataError(f"{where} must be a non-empty str, got {text!r}; expected "
                               + _available(seqs))
    call = _CALL.match(text)
    if call is None:
        name = text.strip()
        if name not in _numeric_columns(seqs):
            table = seqs.sessions
            if name in table.columns:
                raise LagnestDataError(
                    f"{where} = {text!r}: session column {name!r} is not numeric (dtype "
                    f"{table[name].dtype}); expected {_available(seqs)}"
                )
            close = difflib.get_close_matches(name, _numeric_columns(seqs), n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise LagnestDataError(
                f"{where} = {text!r}: no such session variable{hint}; expected "
                + _available(seqs)
            )
        return SessionTerm("column", (name,))
    func, body = call.group(1), call.group(2)
    if func not in FUNCTIONS:
        raise LagnestDataError(
            f"{where} = {text!r}: unknown function {func!r}; expected "
            f"{' or '.join(FUNCTIONS.values())}"
        )
    args = [a.strip() for a in body.split(",")]
    wanted = 1 if func == "rate" else 3
    if len(args) != wanted or not all(args):
        raise LagnestDataError(
            f"{where} = {text!r}: {func} takes {wanted} argument(s), {FUNCTIONS[func]}; got "
            f"{len([a for a in args if a])}"
        )
    for arg in args[:2] if func == "followed" else args:
        _check_code(seqs, arg, f"{where} = {text!r}")
    if func == "rate":
        return SessionTerm("rate", (args[0],))
    if not re.fullmatch(r"[0-9]+", args[2]) or int(args[2]) < 1:
        raise LagnestDataError(
            f"{where} = {text!r}: the window k of followed(X, Y, k) must be a positive "
            f"integer (segments after the X event), got {args[2]!r}"
        )
    return SessionTerm("followed", (args[0], args[1], int(args[2])))


def _session_counts(seqs: Any, spec: str) -> np.ndarray:
    """Coded segments per session and code of ``seqs.categorical(spec)``: ``(S, K)``."""
    from lagnest.classical.lagtable import count_table

    table = count_table(seqs, spec, spec, lag=0, by="session")
    return np.einsum("skk->sk", table.transpose("unit", "given", "target").values)


def _event_view(seqs: Any, spec: str) -> tuple[str, int]:
    """A binary categorical view of ``spec`` and the column of its event.

    A categorical stream's event is "not its reference code": the view of the reference
    code, column 0 (``"not <ref>"``); a code's event is the code: column 1.
    """
    stream = seqs.streams.get(spec)
    if stream is not None and stream.kind == "categorical":
        return stream.codes[0], 0
    return spec, 1


def session_values(seqs: Any, term: SessionTerm) -> np.ndarray:
    """Raw values of a term per session, in ``seqs.session_labels`` order (NaN = missing).

    Parameters
    ----------
    seqs : Sequences
    term : SessionTerm
        From :func:`parse_term`.

    Returns
    -------
    ndarray of float64, shape (n_sessions,)
        A session-table column (NaN where empty); ``rate``: NaN for a session without a
        coded segment of X's stream; ``followed``: NaN for a session without an X event
        that has a later segment in its block.

    Notes
    -----
    Both summaries are counted by the lag kernels (:func:`lagnest.classical.lagtable.count_table`):
    ``rate`` from the lag-0 table of X with itself, ``followed`` from the window table
    (``window=k``, t+1..t+k, never across a break or a session start) of X against the
    binary event view of Y. The denominator of ``followed`` is the X events that have at
    least one later segment in their block (the kernel's opportunities); an X event in the
    last k segments of a block has fewer than k chances, as in the classical window
    tables.
    """
    from lagnest.classical.lagtable import count_table

    if term.kind == "column":
        name = term.args[0]
        table = seqs.sessions
        if name not in table.columns:  # session_number derived from the corpus order
            dyads = pd.Series(np.asarray(seqs.encoded.session_dyad))
            return (dyads.groupby(dyads).cumcount() + 1).to_numpy(dtype=np.float64)
        column = table.loc[list(seqs.session_labels), name]
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    spec = term.args[0]
    if term.kind == "rate":
        counts = _session_counts(seqs, spec)
        coded = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(coded > 0, counts[:, 1:].sum(axis=1) / coded, np.nan)
    target, column = _event_view(seqs, term.args[1])
    window = count_table(seqs, spec, target, window=int(term.args[2]), by="session")
    followed = window.transpose("unit", "given", "target").values[:, 1:, column].sum(axis=1)
    codes, _ = seqs.categorical(spec)
    enc = seqs.encoded
    has_next = np.ones(codes.shape[0], dtype=bool)
    starts, ends = enc.block_offsets[:-1], enc.block_offsets[1:]
    has_next[(ends - 1)[ends > starts]] = False
    events = np.bincount(enc.segment_session[(codes >= 1) & has_next],
                         minlength=seqs.n_sessions)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(events > 0, followed / events, np.nan)


def _missing_reason(term: SessionTerm) -> str:
    """Why a term can be missing in a session."""
    if term.kind == "rate":
        return f"{term.name}: no coded segment of {term.args[0]!r}"
    if term.kind == "followed":
        return f"{term.name}: no {term.args[0]!r} event with a later segment"
    return f"{term.name}: empty"


# =========================================================================== data


@dataclass(frozen=True)
class ImpactData:
    """Design and data of a :class:`SessionImpactModel` (sessions used, standardised).

    Attributes
    ----------
    outcomes : ndarray of float64, shape (N, J)
        Standardised outcomes (the observed array).
    predictors : ndarray of float64, shape (N, P)
        Centred (within dyad or on the grand mean) and standardised predictors.
    predictor_raw : ndarray of float64, shape (N, P)
        The predictors in their own units.
    outcome_mean, outcome_sd : ndarray, shape (J,)
        Mean and SD (ddof 1) of the raw outcomes over the sessions used.
    predictor_sd : ndarray, shape (P,)
        SD (ddof 1) of the centred raw predictors over the sessions used.
    outcome_names, predictor_names, session_labels, dyad_labels : tuple of str
    session_dyad : ndarray of int64, shape (N,)
        Dyad index of each session used.
    center : {"dyad", "grand"}
    dropped : tuple of (str, str)
        Sessions left out of the likelihood and why.
    """

    outcomes: np.ndarray
    predictors: np.ndarray
    predictor_raw: np.ndarray
    outcome_mean: np.ndarray
    outcome_sd: np.ndarray
    predictor_sd: np.ndarray
    outcome_names: tuple[str, ...]
    predictor_names: tuple[str, ...]
    session_labels: tuple[str, ...]
    dyad_labels: tuple[str, ...]
    session_dyad: np.ndarray
    center: str
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def observed(self) -> dict[str, np.ndarray]:
        """The array a new dataset of this design replaces (``pm.Data`` of the graph)."""
        return {"outcomes": self.outcomes}

    def with_observed(self, arrays: Mapping[str, np.ndarray]) -> ImpactData:
        """A copy holding other standardised outcomes of shape ``(N, J)``."""
        if set(arrays) != {"outcomes"}:
            raise ValueError(f"observed arrays must be ['outcomes'], got {sorted(arrays)}")
        value = np.asarray(arrays["outcomes"])
        if value.shape != self.outcomes.shape:
            raise ValueError(
                f"observed 'outcomes' must have shape {self.outcomes.shape}, got {value.shape}"
            )
        if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
            raise ValueError("observed 'outcomes' must hold finite numbers")
        return replace(self, outcomes=np.ascontiguousarray(value, dtype=np.float64))

    @property
    def dyad_sessions(self) -> np.ndarray:
        """Sessions used per dyad."""
        return np.bincount(self.session_dyad, minlength=len(self.dyad_labels))

    def to_dataset(self) -> xr.Dataset:
        """Design, data and scales (the result's ``fit_data``)."""
        return xr.Dataset(
            {
                "outcomes": (("session", "outcome"), self.outcomes),
                "predictors": (("session", "predictor"), self.predictors),
                "predictor_raw": (("session", "predictor"), self.predictor_raw),
                "outcome_mean": (("outcome",), self.outcome_mean),
                "outcome_sd": (("outcome",), self.outcome_sd),
                "predictor_sd": (("predictor",), self.predictor_sd),
                "session_dyad": (("session",),
                                 np.array([self.dyad_labels[i] for i in self.session_dyad],
                                          dtype=str)),
            },
            coords={
                "session": list(self.session_labels),
                "outcome": list(self.outcome_names),
                "predictor": list(self.predictor_names),
                "dyad": list(self.dyad_labels),
            },
            attrs={"center": self.center, "dropped": json.dumps([list(d) for d in self.dropped])},
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> ImpactData:
        """Inverse of :meth:`to_dataset`."""
        dyads = tuple(str(d) for d in ds["dyad"].values)
        index = {d: i for i, d in enumerate(dyads)}

        def arr(name: str) -> np.ndarray:
            return np.ascontiguousarray(ds[name].values, dtype=np.float64)

        return cls(
            outcomes=arr("outcomes"),
            predictors=arr("predictors"),
            predictor_raw=arr("predictor_raw"),
            outcome_mean=arr("outcome_mean"),
            outcome_sd=arr("outcome_sd"),
            predictor_sd=arr("predictor_sd"),
            outcome_names=tuple(str(v) for v in ds["outcome"].values),
            predictor_names=tuple(str(v) for v in ds["predictor"].values),
            session_labels=tuple(str(v) for v in ds["session"].values),
            dyad_labels=dyads,
            session_dyad=np.array([index[str(d)] for d in ds["session_dyad"].values],
                                  dtype=np.int64),
            center=str(ds.attrs["center"]),
            dropped=tuple(tuple(d) for d in json.loads(ds.attrs.get("dropped", "[]"))),
        )


def _standardise(x: np.ndarray, names: Sequence[str], role: str, hint: str) -> tuple:
    """``(x / sd, sd)`` per column (ddof 1); raise for a column that does not vary."""
    sd = x.std(axis=0, ddof=1)
    flat = ~(sd > 1e-12 * np.maximum(1.0, np.abs(x).max(axis=0, initial=0.0)))
    if flat.any():
        which = [names[i] for i in np.flatnonzero(flat)]
        raise LagnestDataError(
            f"{role} {which} do not vary over the sessions used{hint}; nothing to estimate"
        )
    return x / sd, sd


def impact_data(
    seqs: Any, outcomes: Sequence[SessionTerm], predictors: Sequence[SessionTerm], center: str
) -> ImpactData:
    """Standardised outcomes and predictors of the complete sessions (see the model)."""
    terms = [*outcomes, *predictors]
    raw = np.column_stack([session_values(seqs, t) for t in terms])
    missing = ~np.isfinite(raw)
    keep = ~missing.any(axis=1)
    labels = seqs.session_labels
    dropped = tuple(
        (labels[s], "; ".join(_missing_reason(terms[i]) for i in np.flatnonzero(missing[s])))
        for s in np.flatnonzero(~keep)
    )
    if keep.sum() < 3:
        raise LagnestDataError(
            f"only {int(keep.sum())} of {len(labels)} sessions have every outcome and "
            f"predictor (e.g. {dropped[0][0]!r}: {dropped[0][1]}); at least 3 are needed"
        )
    j = len(outcomes)
    raw = raw[keep]
    dyad_all = np.asarray(seqs.encoded.session_dyad, dtype=np.int64)[keep]
    used, session_dyad = np.unique(dyad_all, return_inverse=True)
    y_raw, x_raw = raw[:, :j], raw[:, j:]
    y_mean = y_raw.mean(axis=0)
    y, y_sd = _standardise(y_raw - y_mean, [t.name for t in outcomes], "outcomes", "")
    if center == "dyad":
        frame = pd.DataFrame(x_raw)
        centre = frame.groupby(session_dyad).transform("mean").to_numpy(dtype=np.float64)
        hint = (" within dyads (every dyad has a single session, or the variable is "
                "constant within each dyad); use center='grand'")
    else:
        centre = np.broadcast_to(x_raw.mean(axis=0), x_raw.shape)
        hint = ""
    x, x_sd = _standardise(x_raw - centre, [t.name for t in predictors], "predictors", hint)
    if x.shape[1] and np.linalg.matrix_rank(x) < x.shape[1]:
        raise LagnestDataError(
            f"predictors {[t.name for t in predictors]} are collinear over the sessions used "
            f"(rank {np.linalg.matrix_rank(x)} < {x.shape[1]}); drop one of them"
        )
    return ImpactData(
        outcomes=np.ascontiguousarray(y),
        predictors=np.ascontiguousarray(x),
        predictor_raw=np.ascontiguousarray(x_raw),
        outcome_mean=y_mean,
        outcome_sd=y_sd,
        predictor_sd=x_sd,
        outcome_names=tuple(t.name for t in outcomes),
        predictor_names=tuple(t.name for t in predictors),
        session_labels=tuple(labels[s] for s in np.flatnonzero(keep)),
        dyad_labels=tuple(seqs.dyad_labels[i] for i in used),
        session_dyad=session_dyad.astype(np.int64),
        center=center,
        dropped=dropped,
    )


# =========================================================================== model


def _term_list(seqs: Any, values: Any, role: str) -> list[SessionTerm]:
    """Parse a list of terms (a single str is one term)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple):
        raise LagnestDataError(f"{role} must be a list of str, got {values!r}")
    return [parse_term(seqs, v, f"{role}[{i}]") for i, v in enumerate(values)]


def _outcome_scale(y: np.ndarray, session_dyad: np.ndarray, n_dyads: int) -> tuple[float, float]:
    """Moment estimates (one-way ANOVA) of the dyad-intercept SD and residual variance."""
    counts = np.bincount(session_dyad, minlength=n_dyads).astype(float)
    means = np.zeros((n_dyads, y.shape[1]))
    np.add.at(means, session_dyad, y)
    means /= counts[:, None]
    within = ((y - means[session_dyad]) ** 2).sum(axis=0) / max(y.shape[0] - n_dyads, 1)
    between = means.var(axis=0, ddof=1) - np.mean(within[None] / counts[:, None], axis=0)
    return float(np.sqrt(max(0.0, float(np.mean(between))))), float(np.mean(within))


class SessionImpactModel(BayesianModel["SessionImpactResult"]):
    r"""Session outcomes on session predictors with dyad intercepts and correlated residuals.

    Parameters
    ----------
    seqs : Sequences
        The corpus; its session table (``seqs.sessions``) holds the covariates.
    outcomes : list of str
        Session variables to explain, e.g. ``["seq_depth", "seq_smoothness",
        "seq_positivity", "seq_arousal"]`` (any term of :func:`parse_term`). Each is
        standardised (z-scored over the sessions used).
    predictors : list of str
        Session variables that explain them: session columns (``"tms_curiosity"``,
        ``"session_number"``) and sequence summaries (``"rate(rupture)"``,
        ``"followed(rupture, resolution, 3)"``), see :func:`parse_term`. An empty list
        fits the intercepts-only model (a baseline for LOO comparison).
    groups : {"dyad", "none"}, default "dyad"
        ``"dyad"``: an intercept per dyad and outcome, partially pooled; ``"none"``:
        sessions exchangeable.
    center : {"dyad", "grand"}, default "dyad"
        Predictors are centred within dyad (slopes are within-dyad effects: how a session
        above its dyad's own mean differs; the between-dyad differences go to the dyad
        intercepts) or on the grand mean, then divided by the SD of the centred values.
    residuals : {"student", "normal"}, default "student"
        Multivariate Student-t (robust to an odd session) or normal residuals.
    parameterization : {"auto", "centered", "noncentered"}, default "auto"
        Form of the dyad intercepts; ``"auto"`` chooses from the data with
        :func:`~lagnest.models.structure.choose_parameterization`.
    priors : mapping, optional
        Overrides of the default priors (see Notes), e.g. ``{"beta": {"sigma": 1.0}}``.

    Notes
    -----
    For session s of dyad d(s), with standardised outcomes :math:`y_s \in \mathbb R^J`
    and standardised predictors :math:`x_s \in \mathbb R^P`,

    .. math::

        y_s = a_{d(s)} + B^\top x_s + e_s, \qquad
        a_{dj} \sim \mathrm{Normal}(\alpha_j, \sigma_{dyad,j}), \qquad
        e_s \sim \mathrm{MvStudentT}(\nu, 0, \mathrm{diag}(\tau)\, \Omega\,
        \mathrm{diag}(\tau))

    (``residuals="normal"``: :math:`e_s \sim \mathrm{MvNormal}(0, \mathrm{diag}(\tau)
    \Omega \mathrm{diag}(\tau))`). :math:`B_{pj}` (``beta``) is the change of outcome j,
    in outcome SDs, per SD of predictor p: the standardised effect;
    :meth:`SessionImpactResult.effects` converts it to raw units. :math:`\tau`
    (``sigma_resid``) are residual scales (the residual SD is
    :math:`\tau\sqrt{\nu/(\nu-2)}` for the Student-t) and :math:`\Omega` (``resid_corr``)
    their correlation matrix, with an LKJ prior.

    Only the residuals are correlated across outcomes: the dyad intercepts of the J
    outcomes are independent given their scales. A full J x J dyad covariance would be
    estimated from the six dyads of a thesis-sized corpus, i.e. from six points in J
    dimensions; it would be the prior, not the data, that shaped it.

    With few dyads the dyad intercepts are sampled with a zero sum over dyads plus the
    centre of these dyads around the population intercept (as in
    :class:`~lagnest.models.transition.TransitionModel`): exactly the model with
    independent intercepts, with fewer divergences. When the dyads are data-rich for
    every outcome (:func:`~lagnest.models.structure.choose_parameterization` on each
    outcome's one-way ANOVA estimates) they are sampled centred. One outcome whose dyads
    barely differ is enough to keep the non-centred form: on the example corpus
    ``seq_positivity`` has no between-dyad variance, and the centred form chosen from
    the average over outcomes gave 381 divergent transitions in 4000 draws.

    **Structure** (:attr:`structure`, printed by the summary): with a single dyad the dyad
    level is dropped; when every dyad has a single session a dyad intercept cannot be told
    apart from that session's residual, and the dyad level is dropped too (with
    ``center="dyad"`` the predictors would then be constant: use ``center="grand"``).

    **Missing values.** A session where an outcome or predictor is missing (an empty
    session-table cell, or a summary that is undefined, e.g. ``followed(rupture, ...)`` in
    a session without ruptures) is left out of the likelihood: complete-case analysis,
    with a warning naming the sessions and the structure note. Standardisation uses the
    sessions kept.

    **Default priors** (weakly informative on the standardised scale):
    ``alpha`` (population intercepts): Normal(0, 1); ``beta``: Normal(0, 0.5), so a
    standardised effect beyond 1 is unlikely a priori; ``sigma_dyad``: HalfNormal(0.5);
    ``sigma_resid``: HalfNormal(1); ``resid_corr``: LKJCorr(eta=2), mildly favouring
    small correlations; ``nu``: Gamma(2, 0.1) (mean 20; Juárez & Steel 2010). Check what
    they imply with :meth:`prior_predictive`.

    Examples
    --------
    >>> import lagnest as ln
    >>> seqs = ln.datasets.load_example()
    >>> m = SessionImpactModel(seqs, ["seq_depth"], ["tms_curiosity", "rate(rupture)"])
    >>> m.data.predictors.shape
    (53, 2)
    """

    model_name: ClassVar[str] = "SessionImpactModel"
    data_class: ClassVar[Any] = ImpactData
    default_priors: ClassVar[Mapping[str, Prior]] = {
        "alpha": Prior("Normal", {"sigma": 1.0}),
        "beta": Prior("Normal", {"sigma": 0.5}),
        "sigma_dyad": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_resid": Prior("HalfNormal", {"sigma": 1.0}),
        "resid_corr": Prior("LKJCorr", {"eta": 2.0}),
        "nu": Prior("Gamma", {"alpha": 2.0, "beta": 0.1}),
    }
    prior_kinds: ClassVar[Mapping[str, str]] = {
        "alpha": "location",
        "beta": "location",
        "sigma_dyad": "scale",
        "sigma_resid": "scale",
        "resid_corr": "correlation",
        "nu": "scale",
    }
    default_sampler_config: ClassVar[Mapping[str, Any]] = {"target_accept": 0.9}

    def __init__(
        self,
        seqs: Any,
        outcomes: Sequence[str],
        predictors: Sequence[str],
        groups: str = "dyad",
        center: str = "dyad",
        residuals: str = "student",
        parameterization: str = "auto",
        priors: Mapping[str, Any] | None = None,
    ) -> None:
        for value, name, allowed in (
            (groups, "groups", GROUPS),
            (center, "center", CENTERS),
            (residuals, "residuals", RESIDUALS),
            (parameterization, "parameterization", PARAMETERIZATIONS),
        ):
            if value not in allowed:
                raise LagnestDataError(f"{name} must be one of {list(allowed)}, got {value!r}")
        out_terms = _term_list(seqs, outcomes, "outcomes")
        pred_terms = _term_list(seqs, predictors, "predictors")
        if not out_terms:
            raise LagnestDataError("outcomes is empty: name at least one session variable")
        names = [t.name for t in out_terms + pred_terms]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise LagnestDataError(
                f"{repeated} named more than once among outcomes and predictors; each "
                "variable may appear once"
            )
        spec = {
            "outcomes": [t.name for t in out_terms],
            "predictors": [t.name for t in pred_terms],
            "groups": groups,
            "center": center,
            "residuals": residuals,
            "parameterization": parameterization,
        }
        self._terms = (tuple(out_terms), tuple(pred_terms))
        super().__init__(seqs, spec, priors)

    # ------------------------------------------------------------------ data
    def _make_data(self, seqs: Any) -> ImpactData:
        data = impact_data(seqs, *self._terms, self._spec["center"])
        if data.dropped:
            shown = "; ".join(f"{s} ({why})" for s, why in data.dropped[:5])
            more = f" and {len(data.dropped) - 5} more" if len(data.dropped) > 5 else ""
            warn_user(
                f"{len(data.dropped)} session(s) left out of the likelihood for missing "
                f"values: {shown}{more}"
            )
        return data

    @property
    def outcomes(self) -> list[str]:
        """The outcome names (canonical)."""
        return list(self._spec["outcomes"])

    @property
    def predictors(self) -> list[str]:
        """The predictor names (canonical)."""
        return list(self._spec["predictors"])

    @property
    def structure(self) -> GroupStructure:
        """Dyad level used (checked against the data) and its parameterisation."""
        d = self.data
        n_dyads = len(d.dyad_labels)
        base = check_grouping(d.session_dyad, d.dyad_labels, np.ones(len(d.session_labels),
                                                                    dtype=bool),
                              want_dyad=self._spec["groups"] == "dyad", want_session=False)
        notes = list(base.notes)
        removed = dict(base.removed)
        dyad = base.dyad
        per_dyad = d.dyad_sessions
        if dyad and per_dyad.max() < 2:
            dyad = False
            removed["dyad"] = "dropped: every dyad has one session"
            notes.append(
                "every dyad has a single session: a dyad intercept cannot be told apart "
                "from its session's residual, so the dyad level was dropped (sessions are "
                "treated as exchangeable)"
            )
        elif dyad and (per_dyad == 1).any():
            single = [d.dyad_labels[i] for i in np.flatnonzero(per_dyad == 1)]
            notes.append(
                f"dyads with a single session ({', '.join(single)}) separate their intercept "
                "from the residual only through the other dyads"
                + ("; their dyad-centred predictors are 0" if d.center == "dyad" else "")
            )
        if d.dropped:
            notes.append(
                f"{len(d.dropped)} session(s) left out for missing values: "
                + "; ".join(f"{s} ({why})" for s, why in d.dropped)
            )
        parameterization = {}
        if dyad:
            choice = self._spec["parameterization"]
            if choice == "auto":
                # one form for the level: centred only when it suits every outcome (a
                # funnel in one outcome's intercepts spoils the whole fit, while the
                # non-centred form on a data-rich outcome only costs efficiency)
                forms = set()
                for j in range(d.outcomes.shape[1]):
                    sd, resid = _outcome_scale(d.outcomes[:, [j]], d.session_dyad, n_dyads)
                    forms.add(choose_parameterization(per_dyad, sd, 1.0 / max(resid, 1e-12),
                                                      n_dyads))
                choice = "centered" if forms == {"centered"} else "noncentered"
            parameterization["dyad"] = choice
        return GroupStructure(dyad, False, tuple(notes), parameterization, removed)

    @property
    def coords(self) -> dict[str, list[Any]]:
        """Model coordinates: ``session``, ``dyad``, ``outcome``, ``outcome2``, ``predictor``."""
        d = self.data
        return {
            "session": list(d.session_labels),
            "dyad": list(d.dyad_labels),
            "outcome": list(d.outcome_names),
            "outcome2": list(d.outcome_names),
            "predictor": list(d.predictor_names),
            "free_dyad": list(range(max(len(d.dyad_labels) - 1, 0))),
        }

    # ------------------------------------------------------------------ backend
    def build_model(self) -> Any:
        """Build the PyMC model on ``pm.Data("outcomes")``."""
        import pymc as pm
        import pytensor.tensor as pt

        d = self.data
        structure = self.structure
        n_dyads, n_out = len(d.dyad_labels), len(d.outcome_names)
        priors = self._priors
        with pm.Model(coords=self.coords) as model:
            y = pm.Data("outcomes", d.outcomes, dims=("session", "outcome"))
            alpha = priors["alpha"].create_variable("alpha", mu=0.0, dims="outcome")
            if structure.dyad:
                sigma_dyad = priors["sigma_dyad"].create_variable("sigma_dyad", dims="outcome")
                if structure.parameterization["dyad"] == "centered":
                    intercept_dyad = pm.Normal("intercept_dyad", mu=alpha, sigma=sigma_dyad,
                                               dims=("dyad", "outcome"))
                    intercept = alpha
                else:
                    # zero-sum over dyads plus the centre of these dyads (see Notes)
                    z = pm.Normal("z_dyad", 0.0, 1.0, dims=("free_dyad", "outcome"))
                    h = pt.as_tensor_variable(helmert(n_dyads))
                    intercept_dyad = pm.Deterministic(
                        "intercept_dyad", alpha + sigma_dyad * pt.dot(h, z),
                        dims=("dyad", "outcome"))
                    centre = pm.Normal("z_dyad_centre", 0.0, 1.0, dims="outcome")
                    intercept = alpha - sigma_dyad * centre / np.sqrt(n_dyads)
            else:
                intercept = alpha
                intercept_dyad = pm.Deterministic(
                    "intercept_dyad", pt.repeat(alpha[None], n_dyads, axis=0),
                    dims=("dyad", "outcome"))
            pm.Deterministic("intercept", intercept, dims="outcome")
            mu = intercept_dyad[d.session_dyad]
            if d.predictors.shape[1]:
                beta = priors["beta"].create_variable("beta", mu=0.0,
                                                      dims=("predictor", "outcome"))
                mu = mu + pt.dot(pt.as_tensor_variable(d.predictors), beta)
            chol = self._residual_cholesky(n_out)
            if self._spec["residuals"] == "student":
                nu = priors["nu"].create_variable("nu")
                pm.MvStudentT("y", nu=nu, mu=mu, chol=chol, observed=y,
                              dims=("session", "outcome"))
            else:
                pm.MvNormal("y", mu=mu, chol=chol, observed=y, dims=("session", "outcome"))
        return model

    def _residual_cholesky(self, n_out: int) -> Any:
        """Cholesky factor of the residual scale matrix; stores ``sigma_resid``, ``resid_corr``."""
        import pymc as pm
        import pytensor.tensor as pt

        scale_prior = self._priors["sigma_resid"]
        if n_out == 1:
            sigma = scale_prior.create_variable("sigma_resid", dims="outcome")
            pm.Deterministic("resid_corr", pt.ones((1, 1)), dims=("outcome", "outcome2"))
            return pt.diag(sigma)
        sd_dist = getattr(pm, scale_prior.dist).dist(**scale_prior.params, shape=n_out)
        # an explicit initial value (the identity, packed row-major) keeps PyMC from
        # deriving one through the LKJ sampler's scan, which compiles with the C backend
        chol, corr, stds = pm.LKJCholeskyCov(
            "resid_chol", n=n_out, eta=self._priors["resid_corr"].params["eta"],
            sd_dist=sd_dist, compute_corr=True, store_in_trace=False,
            initval=np.eye(n_out)[np.tril_indices(n_out)],
        )
        pm.Deterministic("sigma_resid", stds, dims="outcome")
        eye = np.eye(n_out, dtype=bool)
        pm.Deterministic("resid_corr", pt.where(eye, 1.0, corr), dims=("outcome", "outcome2"))
        return chol

    def simulate(self, params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """Draw standardised outcomes from one parameter draw over the design.

        Parameters
        ----------
        params : mapping
            ``intercept_dyad`` ``(D, J)``, ``beta`` ``(P, J)`` (when there are predictors),
            ``sigma_resid`` ``(J,)``, ``resid_corr`` ``(J, J)`` and, for Student-t
            residuals, ``nu``; e.g. ``result.draws.isel(chain=0, draw=0)``.
        rng : numpy.random.Generator

        Returns
        -------
        dict
            ``{"outcomes": (N, J)}``: mean ``intercept_dyad[dyad] + x @ beta`` plus a
            residual with scale matrix ``diag(sigma) corr diag(sigma)``: normal, or
            Student-t drawn as ``z / sqrt(w)`` with ``w ~ chi2(nu) / nu``.
        """
        d = self.data
        n, j = d.outcomes.shape
        mu = np.asarray(params["intercept_dyad"], dtype=float)[d.session_dyad]
        if d.predictors.shape[1]:
            mu = mu + d.predictors @ np.asarray(params["beta"], dtype=float)
        sigma = np.asarray(params["sigma_resid"], dtype=float)
        scale = sigma[:, None] * np.asarray(params["resid_corr"], dtype=float) * sigma[None]
        z = rng.standard_normal((n, j)) @ np.linalg.cholesky(scale).T
        if self._spec["residuals"] == "student":
            nu = float(np.asarray(params["nu"]))
            z = z / np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
        return {"outcomes": mu + z}

    @property
    def diagnostic_vars(self) -> tuple[str, ...]:
        """Slopes, intercepts, scales, residual correlations and nu."""
        names = ["intercept", "intercept_dyad"]
        if self.data.predictors.shape[1]:
            names.append("beta")
        if self.structure.dyad:
            names.append("sigma_dyad")
        names += ["sigma_resid", "resid_corr"]
        if self._spec["residuals"] == "student":
            names.append("nu")
        return tuple(names)

    @property
    def calibration_vars(self) -> tuple[str, ...]:
        """Variables simulation-based calibration ranks: population effects and scales.

        The diagnosed variables without the per-dyad intercepts (the diagonal of
        ``resid_corr`` is constant and skipped by :mod:`lagnest.calibration`).
        """
        return tuple(n for n in self.diagnostic_vars if n != "intercept_dyad")


# =========================================================================== results


def mv_log_density(
    y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, corr: np.ndarray, nu: np.ndarray | None
) -> np.ndarray:
    r"""Log density of multivariate Student-t (or normal) vectors, vectorised over draws.

    Parameters
    ----------
    y : ndarray, shape (N, J)
        Observations.
    mu : ndarray, shape (..., N, J)
        Means per draw and observation.
    sigma : ndarray, shape (..., J)
        Scales.
    corr : ndarray, shape (..., J, J)
        Correlation matrices.
    nu : ndarray of shape (...) or None
        Degrees of freedom (None: normal).

    Returns
    -------
    ndarray, shape (..., N)
        :math:`\log\Gamma(\frac{\nu+J}{2}) - \log\Gamma(\frac\nu2) - \frac J2\log(\nu\pi)
        - \log|L| - \frac{\nu+J}{2}\log(1 + \delta/\nu)` with :math:`LL^\top` the scale
        matrix and :math:`\delta` the squared Mahalanobis distance (normal:
        :math:`-\frac J2\log 2\pi - \log|L| - \delta/2`).
    """
    from scipy.special import gammaln

    j = y.shape[-1]
    scale = sigma[..., :, None] * corr * sigma[..., None, :]
    chol = np.linalg.cholesky(scale)
    resid = y - mu
    white = np.linalg.solve(chol[..., None, :, :], resid[..., None])[..., 0]
    delta = np.sum(white**2, axis=-1)
    log_det = np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)[..., None]
    if nu is None:
        return -0.5 * j * np.log(2 * np.pi) - log_det - 0.5 * delta
    nu = np.asarray(nu, dtype=float)[..., None]
    return (gammaln((nu + j) / 2) - gammaln(nu / 2) - 0.5 * j * np.log(nu * np.pi) - log_det
            - 0.5 * (nu + j) * np.log1p(delta / nu))


class SessionImpactResult(FitResult):
    """Posterior of a :class:`SessionImpactModel` and its answers.

    Every answer is an :class:`xarray.Dataset` from
    :func:`~lagnest._summaries.summarise` (``mean``, ``sd``, ``lower``, ``upper``,
    ``p_positive``, ``p_direction``; 95% equal-tailed intervals by default).
    """

    kind: ClassVar[str] = "impact"

    def effects(self, scale: str = "standardised", ci_prob: float = CI_PROB) -> xr.Dataset:
        """Effects of each predictor on each outcome.

        Parameters
        ----------
        scale : {"standardised", "raw"}
            ``"standardised"``: outcome SDs per predictor SD (``beta``); ``"raw"``: outcome
            units per predictor unit, ``beta * sd(outcome) / sd(centred predictor)``.
        ci_prob : float, default 0.95
            Credible interval probability.

        Returns
        -------
        xarray.Dataset
            On ``(predictor, outcome)``; null 0.
        """
        draws = self.draws_of_effects(scale)
        ds = summarise(draws, ci_prob, 0.0, "0")
        ds.attrs["scale"] = scale
        return ds

    def draws_of_effects(self, scale: str = "standardised") -> xr.DataArray:
        """Draws of the effects ``(chain, draw, predictor, outcome)`` (see :meth:`effects`)."""
        if scale not in ("standardised", "raw"):
            raise ValueError(f"scale must be 'standardised' or 'raw', got {scale!r}")
        fd = self.fit_data
        if "beta" not in self.draws:
            shape = (self.draws.sizes["chain"], self.draws.sizes["draw"], 0,
                     fd.sizes["outcome"])
            return xr.DataArray(np.zeros(shape), dims=("chain", "draw", "predictor", "outcome"),
                                coords={"predictor": [], "outcome": fd["outcome"].values},
                                name="beta")
        beta = self.draws["beta"]
        if scale == "raw":
            beta = (beta * fd["outcome_sd"] / fd["predictor_sd"]).rename("beta_raw")
        return beta

    def residual_correlation(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Correlations of the outcome residuals, on ``(outcome, outcome2)`` (null 0)."""
        return summarise(self.draws["resid_corr"], ci_prob, 0.0, "0")

    def pointwise_log_likelihood(self) -> xr.DataArray:
        """Log-likelihood of each session's outcome vector per draw (for LOO).

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, session)``: the multivariate Student-t (or normal) log
            density of the session's standardised outcomes (:func:`mv_log_density`).
            Sessions, not single outcome values, are the units: leaving one out removes
            its J outcomes together.
        """
        draws = self.draws
        fd = self.fit_data
        dims = ("chain", "draw")
        sd = fd["session_dyad"].values
        mu = draws["intercept_dyad"].sel(dyad=xr.DataArray(sd, dims="session"))
        mu = mu.transpose(*dims, "session", "outcome").values
        if "beta" in draws:
            mu = mu + np.einsum("sp,cdpj->cdsj", fd["predictors"].values,
                                draws["beta"].transpose(*dims, "predictor", "outcome").values)
        nu = draws["nu"].transpose(*dims).values if "nu" in draws else None
        out = mv_log_density(
            fd["outcomes"].values,
            mu,
            draws["sigma_resid"].transpose(*dims, "outcome").values,
            draws["resid_corr"].transpose(*dims, "outcome", "outcome2").values,
            nu,
        )
        return xr.DataArray(out, dims=(*dims, "session"),
                            coords={"chain": draws["chain"].values, "draw": draws["draw"].values,
                                    "session": fd["session"].values},
                            name="log_likelihood")

    def classical(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Ordinary least squares per outcome on the same standardised data.

        Parameters
        ----------
        ci_prob : float, default 0.95
            Confidence level of the t intervals.

        Returns
        -------
        xarray.Dataset
            ``estimate``, ``se``, ``lower``, ``upper`` on ``(predictor, outcome)``. Each
            outcome is regressed on the predictors plus a dummy per dyad when the fit has
            a dyad level (the classical within-dyad, fixed-effects estimator), otherwise
            an intercept; ``numpy.linalg.lstsq``, residual variance on ``N - rank``
            degrees of freedom.
        """
        from scipy.stats import t as student_t

        ci_prob = validate_ci_prob(ci_prob)
        fd = self.fit_data
        x = fd["predictors"].values
        y = fd["outcomes"].values
        n, p = x.shape
        structure = self.structure
        if structure is not None and structure.dyad:
            labels = fd["session_dyad"].values
            groups = (labels[:, None] == fd["dyad"].values[None]).astype(float)
        else:
            groups = np.ones((n, 1))
        design = np.column_stack([x, groups])
        coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
        df = n - rank
        resid = y - design @ coef
        with np.errstate(invalid="ignore", divide="ignore"):
            s2 = (resid**2).sum(axis=0) / df
        cov = np.linalg.pinv(design.T @ design)
        se = np.sqrt(np.outer(np.diag(cov)[:p], s2))
        q = student_t.ppf((1 + ci_prob) / 2, df) if df > 0 else np.nan
        est = coef[:p]
        dims = ("predictor", "outcome")
        coords = {"predictor": fd["predictor"].values, "outcome": fd["outcome"].values}
        return xr.Dataset(
            {"estimate": (dims, est), "se": (dims, se), "lower": (dims, est - q * se),
             "upper": (dims, est + q * se)},
            coords=coords, attrs={"ci_prob": ci_prob, "df": int(df)},
        )

    def pointwise_log_lik(self) -> xr.DataArray:
        """:meth:`pointwise_log_likelihood` as ``outcomes``: the observation of :meth:`loo`."""
        return self.pointwise_log_likelihood().rename("outcomes")

    def loo(self, reff: float | None = None) -> Any:
        """Session-level PSIS-LOO (one session's outcome vector = one observation).

        Parameters
        ----------
        reff : float, optional
            Relative efficiency (default: ArviZ's, from the reported posterior).

        Returns
        -------
        arviz_stats.ELPDDataLOO
            ``elpd_i`` and ``pareto_k`` per session; compare session models with
            ``arviz_stats.compare`` (they score sessions, not segments).
        """
        import arviz_stats

        if self.group != "posterior":
            raise ValueError("LOO needs posterior draws; this result holds prior draws")
        # the reported posterior and pointwise_log_lik(), as ArviZ sees result.tree
        return arviz_stats.loo(self.tree, pointwise=True, reff=reff)

    def summary(self, ci_prob: float = CI_PROB, *, lang: str = "en",
                codebook: Codebook | None = None) -> ResultSummary:
        """Standardised effects beside the classical OLS estimates, one row per effect.

        Parameters
        ----------
        ci_prob : float, default 0.95
            Credible (and confidence) interval probability.
        lang : {"en", "es"}, default "en"
            Language of the printed summary (header, column names such as ``media``,
            ``inf``, ``mco``, and what each column is).
        codebook : Codebook, optional
            Accepted for symmetry with the other results (outcomes and predictors are
            session variables, shown by name).

        Returns
        -------
        ResultSummary
            ``table`` indexed by ``(outcome, predictor)`` with columns ``mean``, ``sd``,
            ``lower``, ``upper``, ``P(>0)`` (standardised effect), ``raw_mean`` (per raw
            unit of the predictor, in raw outcome units), ``ols``, ``ols_lower``,
            ``ols_upper``; ``extra["residual_correlation"]`` holds the posterior mean
            residual correlations. Printing it leaves out ``sd`` (in ``.table``) and says
            what each column is.
        """
        ci_prob = validate_ci_prob(ci_prob)
        lang = check_lang(lang)

        def say(key: str, **fields: Any) -> str:
            return translate(key, lang, **fields)

        eff = self.effects("standardised", ci_prob)
        raw = self.effects("raw", ci_prob)
        ols = self.classical(ci_prob)
        frame = xr.Dataset({
            "mean": eff["mean"], "sd": eff["sd"], "lower": eff["lower"],
            "upper": eff["upper"], "P(>0)": eff["p_positive"], "raw_mean": raw["mean"],
            "ols": ols["estimate"], "ols_lower": ols["lower"], "ols_upper": ols["upper"],
        }).transpose("outcome", "predictor").to_dataframe()
        pct = f"{ci_prob:.0%}"
        ols_how = say("im.ols_fixed" if (self.structure and self.structure.dyad)
                      else "im.ols_intercept")
        meanings = {
            "mean": say("im.mean"),
            "sd": say("im.sd"),
            "lower, upper": say("tr.interval", pct=pct),
            "P(>0)": say("im.P(>0)"),
            "raw_mean": say("im.raw_mean"),
            "ols": say("im.ols", how=ols_how),
            "ols_lower, ols_upper": say("im.ols_interval", pct=pct),
        }
        corr = self.residual_correlation(ci_prob)["mean"].to_pandas()
        header = self._header(lang)
        return ResultSummary(
            title=header[0],
            lines=tuple(header[1:]),
            table=frame,
            diagnostics=self.diagnostics.text(lang) if self.diagnostics is not None else "",
            extra={"residual_correlation": corr},
            columns=meanings,
            shown=("mean", "lower", "upper", "P(>0)", "raw_mean", "ols", "ols_lower",
                   "ols_upper"),
            lang=lang,
            codebook=codebook,
        )

    def _header(self, lang: str = "en") -> list[str]:
        spec = self.spec
        fd = self.fit_data
        lines = super()._header(lang)
        lines.insert(1, translate(
            "im.head", lang, outcomes=", ".join(spec["outcomes"]),
            predictors=", ".join(spec["predictors"]) or translate("im.none", lang),
            sessions=fd.sizes["session"], dyads=fd.sizes["dyad"],
            centred=translate("im.within" if spec["center"] == "dyad" else "im.grand", lang),
            residuals=spec["residuals"]))
        return lines

    def __str__(self) -> str:
        lines = self._header()
        body = []
        eff = self.effects()
        if eff.sizes.get("predictor", 0):
            table = (eff["mean"].to_pandas().round(2).astype(str) + " ["
                     + eff["lower"].to_pandas().round(2).astype(str) + ", "
                     + eff["upper"].to_pandas().round(2).astype(str) + "]")
            lines.append(f"standardised effects (predictor x outcome), mean [{CI_PROB:.0%} "
                         "interval]:")
            body.append(table.to_string())
        return self._text(lines, body)


SessionImpactModel.result_class = SessionImpactResult
