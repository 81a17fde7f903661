"""Hierarchical multinomial-logit regression of a code on lagged predictors.

:class:`LaggedRegression` answers questions such as "do the therapist's mindfulness
indicators at segment t predict the type of rupture at t + 1, given the rupture state at
t?": a categorical target at segment u is regressed on predictors at ``u - lag`` for each
lag, with random intercepts for dyads and sessions within dyads, optional random slopes
by dyad, and shrinkage across the slopes of a whole indicator stream. The likelihood runs
on sufficient statistics (counts per session, predictor pattern and target code from
:func:`lagnest.classical.patterns.pattern_counts`), so its cost grows with the distinct patterns,
not with the segments. :class:`RegressionResult` reports odds ratios, average marginal
effects on the probability scale, dyad-specific effects, predictions for new patterns,
and a summary that sets each predictor's classical lag-table figures beside the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from lagnest._lang import check_lang, code_label, translate
from lagnest._summaries import CI_PROB, ResultSummary, summarise, validate_ci_prob
from lagnest.errors import LagnestDataError
from lagnest.models.base import BayesianModel
from lagnest.models.basis import softmax
from lagnest.models.design import (
    Feature,
    design_columns,
    lag_suffix,
    resolve_terms,
    standardise_covariates,
)
from lagnest.models.hierarchy import (
    dyad_deviations,
    dyads_around_population,
    session_deviations,
)
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

__all__ = ["LaggedRegression", "RegressionData", "RegressionResult"]

POOLINGS = ("dyad/session", "dyad", "complete")
SHRINKAGE = ("none", "common", "horseshoe", "r2d2")
SHRINKAGE_GROUPS = ("all", "stream")
CENTERINGS = (None, "dyad", "session", "mundlak")
PARAMETERIZATIONS = ("auto", "centered", "noncentered")
#: New dyads and sessions drawn per posterior draw for population-average predictions.
N_NEW_GROUPS = 200
#: Share of null MIA slopes whose interval excluded zero under the default prior, in
#: simulated studies (``benchmarks/operating_characteristics.py``: lowest and highest over
#: the four scenarios of the ``levels`` stage at 6 dyads x 8 sessions x 10 segments, 100
#: studies each, and of the ``designs`` stage at 10 x 8 x 10, 20 x 8 x 10 and 6 x 8 x 30,
#: 50 studies each; ``benchmarks/results/operating_characteristics_default.md``), by
#: interval probability; printed by :meth:`RegressionResult.summary` beside the nominal
#: rate.
NULL_EXCLUSION_MEASURED: dict[float, tuple[float, float]] = {0.9: (0.07, 0.11),
                                                              0.95: (0.03, 0.07)}
#: Slab scale and degrees of freedom of the regularised horseshoe (Piironen & Vehtari 2017).
HORSESHOE_SLAB_SCALE = 2.0
HORSESHOE_SLAB_DF = 4.0
#: Concentration of the Dirichlet that shares the R2D2 prior's variance among the slopes.
R2D2_CONCENTRATION = 1.0
#: The group-level parameter of each shrinkage prior (checked and calibrated).
_SHRINKAGE_SCALES = {"none": [], "common": ["tau"], "horseshoe": ["tau_global"], "r2d2": ["r2"]}


# =========================================================================== data


@dataclass(frozen=True)
class RegressionData:
    """Sufficient statistics and design of a :class:`LaggedRegression`.

    Attributes
    ----------
    table : PatternTable
        Counts per (session, predictor pattern) row and target code, and the patterns.
    features : tuple of Feature
        The design columns (sequence features, then covariates).
    design : ndarray, shape (R, P)
        Column values per row (centred, standardised as the spec says).
    centres : ndarray, shape (S, P_sequence)
        Means subtracted from each session's sequence columns (its dyad's or its own;
        zeros without centring and for the target's own past).
    covariates : ndarray, shape (S, P_covariate)
        Standardised covariate value of each session (dyad covariates by session).
    covariate_scale : ndarray, shape (2, P_covariate)
        Mean and SD used to standardise each covariate (raw units).
    classical : ndarray, shape (3, P, K)
        Adjusted residual, Yule's Q and count of the cell (feature present, then the target
        code) of each single-indicator feature's lag table (``given = source``, at its
        lag), NaN where no lag table applies (:data:`CLASSICAL_STATS`).
    segment_target : ndarray of int64, shape (N,) or None
        Target code of each valid segment (per-segment model only).
    segments : SegmentCodes or None
        Target codes per segment and nesting, for replicating whole sequences (checks).
    """

    table: Any
    features: tuple[Feature, ...]
    design: np.ndarray
    centres: np.ndarray
    covariates: np.ndarray
    covariate_scale: np.ndarray
    classical: np.ndarray
    segment_target: np.ndarray | None = None
    segments: SegmentCodes | None = None

    # ------------------------------------------------------------------ views
    @property
    def counts(self) -> np.ndarray:
        """Counts ``(R, K)`` per row and target code."""
        return self.table.counts

    @property
    def target_labels(self) -> tuple[str, ...]:
        """Target codes (the first is the reference category)."""
        return tuple(self.table.target_labels)

    @property
    def feature_names(self) -> list[str]:
        """Column labels."""
        return [f.name for f in self.features]

    @property
    def segment_rows(self) -> np.ndarray:
        """Row of each valid target segment, in segment order, ``(N,)``."""
        rows = np.asarray(self.table.segment_row)
        return rows[rows >= 0]

    @property
    def observed(self) -> dict[str, np.ndarray]:
        """The arrays a new dataset of this design replaces (``pm.Data`` of the graph)."""
        if self.segment_target is not None:
            return {"segment_target": self.segment_target}
        return {"counts": np.asarray(self.table.counts)}

    def with_observed(self, arrays: Mapping[str, np.ndarray]) -> RegressionData:
        """A copy with other observed arrays of the same shapes."""
        from lagnest.models.transition import _check_observed

        _check_observed(self.observed, arrays)
        if self.segment_target is not None:
            y = np.asarray(arrays["segment_target"], dtype=np.int64)
            counts = np.zeros_like(self.table.counts)
            np.add.at(counts, (self.segment_rows, y), 1)
            table = replace(self.table, counts=counts)
            return replace(self, table=table, segment_target=y)
        table = replace(self.table, counts=np.asarray(arrays["counts"], dtype=np.int64))
        return replace(self, table=table)

    # ------------------------------------------------------------------ storage
    def to_dataset(self) -> xr.Dataset:
        """Pattern table, design and classical figures (the result's ``fit_data``)."""
        ds = self.table.to_dataset()
        names = self.feature_names
        width = max((len(f.factors) for f in self.features), default=0)
        factors = np.full((len(names), max(width, 1), 2), -1, dtype=np.int64)
        for j, f in enumerate(self.features):
            for i, pair in enumerate(f.factors):
                factors[j, i] = pair
        cov_names = [f.name for f in self.features if f.kind != "sequence"]
        seq_names = [f.name for f in self.features if f.kind == "sequence"]
        ds = ds.assign_coords(feature=np.array(names, dtype=str),
                              sequence_feature=np.array(seq_names, dtype=str),
                              covariate=np.array(cov_names, dtype=str),
                              classical_stat=np.array(CLASSICAL_STATS, dtype=str),
                              scale_stat=np.array(["mean", "sd"], dtype=str))
        ds["design"] = (("row", "feature"), self.design)
        ds["feature_kind"] = (("feature",), np.array([f.kind for f in self.features], dtype=str))
        ds["feature_term"] = (("feature",), np.array([f.term for f in self.features], dtype=str))
        ds["feature_group"] = (("feature",), np.array([f.group for f in self.features],
                                                      dtype=str))
        ds["feature_lag_index"] = (("feature",), np.array([f.lag_index for f in self.features],
                                                          dtype=np.int64))
        ds["feature_history"] = (("feature",), np.array([f.history for f in self.features]))
        ds["feature_factors"] = (("feature", "factor", "factor_field"), factors)
        ds["centres"] = (("session", "sequence_feature"), self.centres)
        ds["session_covariates"] = (("session", "covariate"), self.covariates)
        ds["covariate_scale"] = (("scale_stat", "covariate"), self.covariate_scale)
        ds["classical"] = (("classical_stat", "feature", "target"), self.classical)
        if self.segment_target is not None:
            ds["valid_segment_target"] = (("valid_segment",), self.segment_target)
        if self.segments is not None:
            ds = ds.merge(self.segments.to_dataset())
        ds.attrs["kind"] = "lagnest-regression-data"
        return ds

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> RegressionData:
        """Inverse of :meth:`to_dataset`."""
        from lagnest.classical.patterns import PATTERN_TABLE_KIND, PatternTable

        table = PatternTable.from_dataset(ds.assign_attrs(kind=PATTERN_TABLE_KIND))
        features = []
        for j, name in enumerate(ds["feature"].values):
            raw = np.asarray(ds["feature_factors"].values[j])
            factors = tuple((int(a), int(b)) for a, b in raw if a >= 0)
            features.append(Feature(
                str(name), str(ds["feature_kind"].values[j]), str(ds["feature_term"].values[j]),
                int(ds["feature_lag_index"].values[j]), factors,
                str(ds["feature_group"].values[j]), bool(ds["feature_history"].values[j]),
            ))
        seg = (ds["valid_segment_target"].values.astype(np.int64)
               if "valid_segment_target" in ds else None)
        return cls(
            table=table,
            features=tuple(features),
            design=np.asarray(ds["design"].transpose("row", "feature").values, dtype=float),
            centres=np.asarray(ds["centres"].values, dtype=float),
            covariates=np.asarray(ds["session_covariates"].values, dtype=float),
            covariate_scale=np.asarray(ds["covariate_scale"].values, dtype=float),
            classical=_classical_stats(ds["classical"]),
            segment_target=seg,
            segments=SegmentCodes.from_dataset(ds),
        )


#: Fewer lag pairs than this in a slope's cell (feature present, then category) and its
#: posterior is mostly the prior's: in simulated thesis-like studies, under the default
#: prior, such non-zero slopes were estimated at 40% of their size on average (5 to 9
#: pairs: 96%), and such null slopes' 95% intervals excluded 0 in 9% of the studies
#: (``docs/lagged_regression.md``,
#: ``benchmarks/results/operating_characteristics_cells.md``); the summary says how many.
SPARSE_CELL_PAIRS = 5
#: The classical figures of each single-indicator feature's lag table (its cell present ->
#: target code): adjusted residual, Yule's Q, and the count of lag pairs in the cell.
CLASSICAL_STATS = ("adj_resid", "yules_q", "counts")


def _classical_stats(stored: xr.DataArray) -> np.ndarray:
    """``(3, P, K)`` classical figures of a saved result (NaN counts if saved without them)."""
    return np.asarray(stored.reindex(classical_stat=list(CLASSICAL_STATS)).values,
                      dtype=float)


def _classical(seqs: Any, target: str, sources: Sequence[str], lags: Sequence[int],
               features: Sequence[Feature], n_target: int) -> np.ndarray:
    """Classical figures (:data:`CLASSICAL_STATS`) of each single-indicator feature."""
    from lagnest.classical.lagtable import lag_table

    out = np.full((len(CLASSICAL_STATS), len(features), n_target), np.nan)
    tables: dict[tuple[int, int], xr.Dataset] = {}
    for j, f in enumerate(features):
        if f.kind != "sequence" or f.is_interaction:
            continue
        source, level = f.factors[0]
        key = (source, f.lag_index)
        if key not in tables:
            tables[key] = lag_table(seqs, sources[source], target, lag=lags[f.lag_index])
        tab = tables[key]
        for i, name in enumerate(CLASSICAL_STATS):
            out[i, j] = tab[name].values[level]
    return out


def _group_means(cols: np.ndarray, weight: np.ndarray, group: np.ndarray,
                 n_groups: int) -> np.ndarray:
    """Weighted means ``(n_groups, P)`` of the columns over the rows of each group."""
    total = np.bincount(group, weights=weight, minlength=n_groups)
    out = np.zeros((n_groups, cols.shape[1]))
    for j in range(cols.shape[1]):
        sums = np.bincount(group, weights=weight * cols[:, j], minlength=n_groups)
        out[:, j] = np.divide(sums, total, out=np.zeros(n_groups), where=total > 0)
    return out


def _initial_states(seqs: Any, spec: Mapping[str, Any], labels: Sequence[str],
                    n_sessions: int, keep: Sequence[str] | None = None,
                    ) -> tuple[np.ndarray, list[Feature]]:
    """0/1 columns ``(S, H (K - 1))``: the target's state in each session's first H segments.

    The initial conditions of a dynamic model with group intercepts (Wooldridge 2005): a
    session's first states are not predicted by the likelihood, and they depend on the
    same session and dyad deviations as the later ones, so a model that treats them as
    fixed and unrelated to those deviations credits the history slopes with what the
    deviations do. Entering them as session covariates models that dependence.
    """
    from lagnest.models.design import history_lags

    codes, _ = seqs.categorical(spec["target"])
    offsets = np.asarray(seqs.encoded.session_offsets)
    lengths = np.diff(offsets)
    depth = len(history_lags(spec["lags"]))
    columns, features = [], []
    for i in range(depth):
        state = np.where(lengths > i, np.asarray(codes)[np.minimum(offsets[:-1] + i,
                                                                   len(codes) - 1)], -1)
        where = "[first segment]" if depth == 1 else f"[segment {i + 1}]"
        for level, label in enumerate(labels):
            column = (state == level).astype(float)
            name = f"{spec['target']}={label}{where}"
            if keep is not None:  # the columns of a fitted model (held-out data)
                if name not in keep:
                    continue
            elif level == 0 or np.ptp(column) == 0:  # a state no session (or every one)
                continue                            # starts in says nothing about any
            columns.append(column)
            features.append(Feature(name, "initial", spec["target"]))
    return np.column_stack(columns) if columns else np.zeros((n_sessions, 0)), features


def regression_data(seqs: Any, spec: Mapping[str, Any],
                    covariate_scale: np.ndarray | None = None,
                    initial_columns: Sequence[str] | None = None) -> RegressionData:
    """Pattern counts, design columns and classical figures of a :class:`LaggedRegression`.

    ``covariate_scale`` (mean and SD of each covariate) standardises new data the way the
    fitted data were (held-out dyads); by default the corpus's own. Columns computed from
    each corpus itself (initial states, Mundlak means) are never standardised;
    ``initial_columns`` names the initial-state columns of a fitted model, which new data
    keep even where they are constant.
    """
    from lagnest.classical.patterns import pattern_counts
    from lagnest.models.design import pattern_lags

    reference = spec.get("reference")
    if reference is not None and seqs.categorical(spec["target"])[1][0] != reference:
        seqs = seqs.with_first_code(seqs.resolve_code(spec["target"]).stream, reference)
    lags = tuple(spec["lags"])
    all_lags = pattern_lags(lags, spec["history"])
    sources, features = resolve_terms(seqs, spec["predictors"], lags, spec["target"],
                                      spec["history"])
    table = pattern_counts(seqs, spec["target"], sources, all_lags)
    if table.n_valid == 0:
        raise LagnestDataError(
            f"no target segment of {spec['target']!r} has every predictor coded at lags "
            f"{list(all_lags)} inside its session: nothing to fit"
        )
    seq_cols = design_columns(table.patterns, features)
    n_sessions, n_dyads = len(table.session_labels), len(table.dyad_labels)
    weight = table.counts.sum(axis=1).astype(float)
    # the predictors' columns (not the target's own past, whose centring within a group
    # would bias its slopes as a within transformation does for a lagged outcome)
    own = np.array([not f.history for f in features], dtype=bool)
    centres = np.zeros((n_sessions, seq_cols.shape[1]))
    extra: list[np.ndarray] = []
    extra_features: list[Feature] = []
    center = spec["center"]
    if own.any() and center in ("dyad", "session"):
        group, n_groups = ((table.row_dyad, n_dyads) if center == "dyad"
                           else (table.row_session, n_sessions))
        means = _group_means(seq_cols[:, own], weight, group, n_groups)
        centres[:, own] = means[table.session_dyad] if center == "dyad" else means
        seq_cols = seq_cols - centres[table.row_session]
    elif own.any() and center == "mundlak":
        names = [f.name for f, o in zip(features, own, strict=True) if o]
        session_means = _group_means(seq_cols[:, own], weight, table.row_session, n_sessions)
        dyad_means = _group_means(seq_cols[:, own], weight, table.row_dyad, n_dyads)
        extra += [session_means, dyad_means[table.session_dyad]]
        extra_features += [Feature(f"{n} session mean", "mundlak", n) for n in names]
        extra_features += [Feature(f"{n} dyad mean", "mundlak", n) for n in names]
    if spec["history"] and spec.get("initial_state", True):
        initial, initial_features = _initial_states(seqs, spec, table.target_labels,
                                                    n_sessions, initial_columns)
        extra.append(initial)
        extra_features += initial_features
    sessions = list(table.session_labels)
    n_sess = len(spec["session_covariates"])
    n_dyad_cov = len(spec["dyad_covariates"])
    given = (None, None) if covariate_scale is None else (
        covariate_scale[:, :n_sess], covariate_scale[:, n_sess:n_sess + n_dyad_cov])
    sess, sess_scale = standardise_covariates(seqs.sessions, spec["session_covariates"], "session",
                                    sessions, given[0])
    dyad_vals, dyad_scale = standardise_covariates(seqs.dyads, spec["dyad_covariates"], "dyad",
                                         list(table.dyad_labels), given[1])
    own_columns = np.concatenate(extra, axis=1) if extra else np.zeros((n_sessions, 0))
    covariates = np.concatenate([sess, dyad_vals[table.session_dyad], own_columns], axis=1)
    identity = np.tile(np.array([[0.0], [1.0]]), (1, own_columns.shape[1]))
    features = list(features)
    features += [Feature(name, "session", name) for name in spec["session_covariates"]]
    features += [Feature(name, "dyad", name) for name in spec["dyad_covariates"]]
    features += extra_features
    design = np.concatenate([seq_cols, covariates[table.row_session]], axis=1)
    classical = _classical(seqs, spec["target"], sources, all_lags, features,
                           len(table.target_labels))
    segment_target = None
    if spec["per_segment"]:
        codes, _ = seqs.categorical(spec["target"])
        valid = np.asarray(table.segment_row) >= 0
        segment_target = np.asarray(codes, dtype=np.int64)[valid]
    return RegressionData(
        table=table,
        features=tuple(features),
        design=np.ascontiguousarray(design),
        centres=centres,
        covariates=covariates,
        covariate_scale=np.concatenate([sess_scale, dyad_scale, identity], axis=1),
        classical=classical,
        segment_target=segment_target,
        segments=SegmentCodes.from_sequences(seqs, spec["target"]),
    )


# =========================================================================== model


def _as_tuple(value: Any, name: str, kind: type = str) -> tuple:
    """A str/int or a sequence of them as a tuple; raise naming ``name`` otherwise."""
    if isinstance(value, kind) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise LagnestDataError(f"{name} must be a list of {kind.__name__}, got {value!r}")
    out = tuple(value)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, kind | (np.integer if kind is int else str)):
            raise LagnestDataError(f"{name} must be a list of {kind.__name__}, got {value!r}")
    return tuple(int(v) if kind is int else v for v in out)


def _reference(seqs: Any, target: str, labels: Sequence[str], wanted: str | None) -> str | None:
    """The target's reference category (see ``LaggedRegression(reference=)``).

    None for a binary view of one code (its reference is "not <code>").
    """
    ref = seqs.resolve_code(target)
    if ref.code is not None or ref.kind != "categorical":
        if wanted is not None and wanted != labels[0]:
            raise LagnestDataError(
                f"reference: target {target!r} is one code against the rest, whose reference "
                f"is {labels[0]!r}; name its categorical stream as the target to choose "
                "another reference")
        return None
    if wanted is not None:
        if wanted not in labels:
            raise LagnestDataError(
                f"reference {wanted!r} is not a code of {target!r}; its codes: {list(labels)}")
        return str(wanted)
    book = seqs.codebook
    if book is not None and ref.stream in getattr(book, "streams", {}):
        return str(labels[0])
    codes, _ = seqs.categorical(target)
    counts = np.bincount(np.asarray(codes)[np.asarray(codes) >= 0], minlength=len(labels))
    return str(labels[int(np.argmax(counts))])


def _combinations(labels: Sequence[str], reference: str | None,
                  combine: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]] | None:
    """Validated ``combine`` (see ``LaggedRegression``), JSON-ready, or None."""
    if not combine:
        return None
    if not isinstance(combine, Mapping):
        raise LagnestDataError(f"combine must map a category to two others, got {combine!r}")
    first = reference if reference is not None else labels[0]
    out: dict[str, list[str]] = {}
    for name, parts in combine.items():
        parts = list(parts) if not isinstance(parts, str) else [parts]
        allowed = [c for c in labels if c != first]
        if name not in allowed or len(parts) != 2 or len(set(parts)) != 2 or any(
                p not in allowed or p == name or p in combine for p in parts):
            raise LagnestDataError(
                f"combine: {name!r} -> {parts!r}: expected a non-reference category made of "
                f"two other non-reference, non-combined categories of {list(labels)} "
                f"(reference {first!r})")
        out[str(name)] = [str(p) for p in parts]
    return out


class LaggedRegression(BayesianModel["RegressionResult"]):
    r"""Hierarchical multinomial-logit regression of a code on lagged predictors.

    Parameters
    ----------
    seqs : Sequences
        The data.
    target : str
        Categorical spec of the outcome at segment u: a categorical stream (``"rupture"``:
        none/withdrawal/confrontation/both; its first code is the reference category), a
        code of one (``"confrontation"``, binary) or an indicator code.
    predictors : sequence of str
        Terms at ``u - lag``: indicator codes (``"MIA4"``), indicator streams (``"mia"``:
        MIA1..MIA8, one slope each, sharing a shrinkage scale), categorical streams
        (dummy-coded against their first code), codes of categorical streams, and
        interactions joined by ``":"`` (``"MIA4:withdrawal"``).
    lags : sequence of int, default (1,)
        Lags >= 0 (0 = co-occurrence in the target's segment). Every term enters once per
        lag. A target segment counts only when every lag lies inside its session and
        block and every predictor is coded there.
    session_covariates, dyad_covariates : sequence of str
        Numeric columns of ``seqs.sessions`` / ``seqs.dyads``, standardised.
    pooling : {"dyad/session", "dyad", "complete"}
        Random intercepts per target category for dyads and sessions within dyads, dyads
        only, or none.
    random_slopes : sequence of str
        Columns whose slopes vary by dyad: a column label (``"MIA4[t-1]"``), a column
        without its lag (``"MIA4"``: every lag) or a term (``"mia"``: all its columns).
    history : bool, default True
        Enter the target's own state at every lag from 1 to ``max(lags)`` (dummy-coded,
        never centred). Ruptures persist, and indicators co-occur with rupture states, so
        lagged effects estimated without the target's past are confounded.
    initial_state : bool, default True
        With ``history``, enter each session's first states of the target (the segments
        before its first fitted target) as session covariates: the initial conditions of
        a dynamic model with group intercepts (Wooldridge 2005), without which the
        history slopes are biased towards the group intercepts' share of persistence.
    center : {"dyad", None, "session", "mundlak"}, default "dyad"
        ``None``: the columns as coded. ``"dyad"`` (default, the setting under which the
        defaults' operating characteristics were measured; see docs/lagged_regression.md)
        / ``"session"``: centre the predictors' columns within dyad / session,
        so their slopes are within-dyad / within-session effects (differences between
        groups' means go to the group intercepts); ``"mundlak"``: keep the columns and add
        each column's session and dyad means as covariates (Mundlak 1978), which
        separates within from between effects as well. The target's own past is never
        centred.
    shrinkage : {"none", "common", "horseshoe", "r2d2"}, default "none"
        Prior of the predictors' slopes (every column of the ``predictors`` terms, not
        the history or covariates): ``"none"`` (default): independent ``beta`` priors,
        Normal(0, 1.5) (chosen by the stated criterion of docs/lagged_regression.md, read
        at the default 95% intervals: at 6 dyads x 8 sessions x 10 segments it kept false
        positives per null slope at or below 0.05 and covered every non-zero slope in at
        least 85% of simulated studies, with the most correct-sign detections; the
        shrinkage priors covered the larger true slopes far less often);
        ``"common"``: one scale per target category and group, learned from the data
        (:math:`\beta_{pk} \sim N(0, \tau_{gk})`); ``"horseshoe"``: a regularised
        horseshoe per category and group, global scale from ``nonzero_guess``
        (Piironen & Vehtari 2017); ``"r2d2"``: an R2D2 prior per category and group
        (Zhang et al. 2022), with the ``r2`` prior on the share of latent variance the
        group explains.
    shrinkage_groups : {"all", "stream"}
        Which slopes share a shrinkage prior: all predictor columns of a category
        (default: the prior does not depend on how the predictors were written,
        ``["mia"]`` or ``["MIA1", ..., "MIA8"]``), or the columns of each indicator
        stream at each lag.
    nonzero_guess : float, optional
        ``"horseshoe"``: prior guess of the number of non-zero slopes per category and
        group (default a quarter of the group's columns, at least 1).
    reference : str, optional
        Reference category of the target (a code of a categorical target): every slope
        is a log odds ratio against it. Default: the stream's first code when a
        codebook orders the stream (``none`` for ``rupture``), else its most frequent
        code.
    combine : mapping of str to two str, optional
        Categories that are the co-occurrence of two others, e.g. ``{"both":
        ["withdrawal", "confrontation"]}``: the combined category's log odds against the
        reference are the sum of its components' (intercepts, group deviations and
        slopes) plus an interaction of its own with the tighter ``interaction`` prior,
        so that the segments with both ruptures inform the withdrawal and the
        confrontation effects (independent processes have interaction 0). The target's
        own past is read the same way: the slopes of the combined state at t - lag (and
        of its initial-state column) are the sum of its components' slopes plus an
        interaction of their own under the ``interaction`` prior.
    parameterization : {"auto", "centered", "noncentered"}
        Form of the group intercepts (``"auto"`` decides per level from the data).
    priors : mapping, optional
        Overrides of the default priors (see Notes).
    per_segment : bool, default False
        The same model as a Categorical likelihood per target segment (for checks and
        benchmarks; same posterior, slower).

    See Also
    --------
    lagnest.classical.patterns.pattern_counts : the sufficient statistics.
    lagnest.TransitionModel : one given code, one target, no covariates.

    Notes
    -----
    For row r (a session s and a pattern of predictor values :math:`x_r`) with counts
    :math:`y_{r\cdot}` over the K target codes,

    .. math::

        y_{r\cdot} \sim \mathrm{Multinomial}(n_r, \mathrm{softmax}(0, \eta_r)),\quad
        \eta_{rk} = \alpha_k + a_{d(s)k} + c_{sk} + x_r^\top (\beta_{\cdot k} +
        b_{d(s)\cdot k})

    for the K - 1 non-reference categories k: :math:`\alpha` intercepts, :math:`a` dyad
    and :math:`c` session intercepts (scales :math:`\sigma_{dyad,k}`,
    :math:`\sigma_{session,k}`), :math:`\beta` slopes (log odds ratios of category k
    against the reference), :math:`b` dyad slopes for ``random_slopes`` (scale
    :math:`\sigma_{slope}` per slope). The multinomial coefficient does not involve the
    parameters, so the posterior equals the per-segment Categorical model's.

    **Default priors** (log-odds scale, for a thesis-sized corpus): ``intercept``
    Normal(0, 1.5) on the typical intercepts (the mean of the dyads' distribution), in
    either parameterisation; ``beta``
    Normal(0, 1.5) for the predictors' slopes without shrinkage and for covariates;
    ``history`` Normal(0, 1.5) for the target's own past (persistence odds ratios up to
    about e^3); ``tau`` HalfNormal(1) for the common scale; ``r2`` Beta(1, 2) (mean 1/3)
    for the R2D2 prior; ``sigma_dyad``, ``sigma_session``, ``sigma_slope``
    HalfNormal(0.5). The defaults of ``shrinkage`` and ``center`` were chosen by the
    operating characteristics in ``docs/lagged_regression.md``. Check what the priors
    imply with :meth:`prior_predictive`.

    References
    ----------
    .. [1] Piironen, J., & Vehtari, A. (2017). Sparsity information and regularization in
       the horseshoe and other shrinkage priors. *Electronic Journal of Statistics, 11*\ (2),
       5018-5051.
    .. [2] Gelman, A., & Hill, J. (2007). *Data analysis using regression and
       multilevel/hierarchical models*. Cambridge University Press.
    .. [3] Zhang, Y. D., Naughton, B. P., Bondell, H. D., & Reich, B. J. (2022). Bayesian
       regression using a prior on the model fit: the R2-D2 shrinkage prior. *Journal of
       the American Statistical Association, 117*\ (538), 862-874.
    .. [4] Wooldridge, J. M. (2005). Simple solutions to the initial conditions problem in
       dynamic, nonlinear panel data models with unobserved heterogeneity. *Journal of
       Applied Econometrics, 20*\ (1), 39-54.
    .. [5] Mundlak, Y. (1978). On the pooling of time series and cross section data.
       *Econometrica, 46*\ (1), 69-85.

    Examples
    --------
    >>> import lagnest as ln
    >>> seqs = ln.datasets.load_example()
    >>> m = ln.LaggedRegression(seqs, target="rupture", predictors=["mia"], center="dyad")
    >>> m.data.feature_names[:4]
    ['rupture=withdrawal[t-1]', 'rupture=confrontation[t-1]', 'rupture=both[t-1]', 'MIA1[t-1]']
    """

    model_name: ClassVar[str] = "LaggedRegression"
    data_class: ClassVar[Any] = RegressionData
    default_priors: ClassVar[Mapping[str, Prior]] = {
        "intercept": Prior("Normal", {"sigma": 1.5}),
        "beta": Prior("Normal", {"sigma": 1.5}),
        "history": Prior("Normal", {"sigma": 1.5}),
        "interaction": Prior("Normal", {"sigma": 0.5}),
        "tau": Prior("HalfNormal", {"sigma": 1.0}),
        "r2": Prior("Beta", {"alpha": 1.0, "beta": 2.0}),
        "sigma_dyad": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_session": Prior("HalfNormal", {"sigma": 0.5}),
        "sigma_slope": Prior("HalfNormal", {"sigma": 0.5}),
    }
    prior_kinds: ClassVar[Mapping[str, str]] = {
        "intercept": "location",
        "beta": "location",
        "history": "location",
        "interaction": "location",
        "tau": "scale",
        "r2": "proportion",
        "sigma_dyad": "scale",
        "sigma_session": "scale",
        "sigma_slope": "scale",
    }
    @property
    def default_sampler_config(self) -> dict[str, Any]:  # type: ignore[override]
        """Target acceptance 0.9; 0.99 under the horseshoe, whose funnels need small steps."""
        return {"target_accept": 0.99 if self._spec["shrinkage"] == "horseshoe" else 0.9}


    def __init__(
        self,
        seqs: Any,
        target: str,
        predictors: Sequence[str] = (),
        lags: Sequence[int] = (1,),
        session_covariates: Sequence[str] = (),
        dyad_covariates: Sequence[str] = (),
        pooling: str = "dyad/session",
        random_slopes: Sequence[str] = (),
        history: bool = True,
        initial_state: bool = True,
        center: str | None = "dyad",
        shrinkage: str = "none",
        shrinkage_groups: str = "all",
        nonzero_guess: float | None = None,
        reference: str | None = None,
        combine: Mapping[str, Sequence[str]] | None = None,
        parameterization: str = "auto",
        priors: Mapping[str, Any] | None = None,
        per_segment: bool = False,
    ) -> None:
        if not isinstance(target, str):
            raise LagnestDataError(f"target must be one stream or code name, got {target!r}")
        try:
            _, target_labels = seqs.categorical(target)
        except LagnestDataError as err:
            raise LagnestDataError(f"target: {err}") from None
        if len(target_labels) < 2:
            raise LagnestDataError(f"target {target!r} has a single code: nothing to predict")
        lags = _as_tuple(lags, "lags", int)
        if not lags or any(lag < 0 for lag in lags) or len(set(lags)) < len(lags):
            raise LagnestDataError(
                f"lags must be distinct integers >= 0, got {list(lags)}; to model what "
                "precedes a code, make that code the predictor"
            )
        for value, name, allowed in (
            (pooling, "pooling", POOLINGS),
            (shrinkage, "shrinkage", SHRINKAGE),
            (shrinkage_groups, "shrinkage_groups", SHRINKAGE_GROUPS),
            (center, "center", CENTERINGS),
            (parameterization, "parameterization", PARAMETERIZATIONS),
        ):
            if value not in allowed:
                raise LagnestDataError(f"{name} must be one of {list(allowed)}, got {value!r}")
        if nonzero_guess is not None and not (isinstance(nonzero_guess, int | float)
                                              and nonzero_guess > 0):
            raise LagnestDataError(f"nonzero_guess must be a number > 0, got {nonzero_guess!r}")
        reference = _reference(seqs, target, target_labels, reference)
        combine = _combinations(target_labels, reference, combine)
        spec = {
            "target": target,
            "predictors": list(_as_tuple(predictors, "predictors")),
            "lags": list(lags),
            "session_covariates": list(_as_tuple(session_covariates, "session_covariates")),
            "dyad_covariates": list(_as_tuple(dyad_covariates, "dyad_covariates")),
            "pooling": pooling,
            "random_slopes": list(_as_tuple(random_slopes, "random_slopes")),
            "history": bool(history),
            "initial_state": bool(initial_state),
            "center": center,
            "shrinkage": shrinkage,
            "shrinkage_groups": shrinkage_groups,
            "nonzero_guess": None if nonzero_guess is None else float(nonzero_guess),
            "reference": reference,
            "combine": combine,
            "parameterization": parameterization,
            "per_segment": bool(per_segment),
        }
        if not spec["predictors"] and not spec["history"] and not (
            spec["session_covariates"] or spec["dyad_covariates"]
        ):
            raise LagnestDataError("the model has no predictors (and history=False)")
        # names are resolved now (cheap), so a typo fails at construction
        resolve_terms(seqs, spec["predictors"], lags, target, spec["history"])
        super().__init__(seqs, spec, priors)

    def check_sampler(self, sampler: str) -> None:
        """The aggregated likelihood is a numba kernel: no JAX sampler (numpyro)."""
        if sampler == "numpyro" and not self._spec["per_segment"]:
            raise ValueError(
                "LaggedRegression's likelihood on pattern counts is a numba kernel, which "
                "numpyro (JAX) cannot run: use sampler='pymc' or 'nutpie', or "
                "per_segment=True for numpyro")

    # ------------------------------------------------------------------ data
    def _make_data(self, seqs: Any) -> RegressionData:
        data = regression_data(seqs, self._spec)
        self._slope_index(data)  # validates random_slopes against the features
        constant = [f.name for f, col in zip(data.features, data.design.T, strict=True)
                    if np.ptp(col) == 0]
        if constant:
            raise LagnestDataError(
                f"predictor columns {constant} take a single value in every fitted segment "
                "(e.g. a code that never occurs, or a centred indicator constant within "
                "every dyad): their effects are not estimable; drop them"
            )
        return data

    def _slope_index(self, data: RegressionData) -> np.ndarray:
        """Columns with dyad-varying slopes."""
        names = data.feature_names
        out: list[int] = []
        for wanted in self._spec["random_slopes"]:
            hits = [j for j, f in enumerate(data.features)
                    if wanted in (f.name, f.term, f.name.rsplit("[", 1)[0])]
            if not hits:
                raise LagnestDataError(
                    f"random slope {wanted!r} is not a predictor column or term; columns: "
                    f"{names}"
                )
            out += [j for j in hits if j not in out]
        return np.array(sorted(out), dtype=np.int64)

    @property
    def structure(self) -> GroupStructure:
        """Levels used and their parameterisation (checked against the data)."""
        d = self.data
        t = d.table
        has = np.bincount(t.row_session, weights=t.counts.sum(axis=1),
                          minlength=len(t.session_labels)) > 0
        pooling = self._spec["pooling"]
        base = check_grouping(t.session_dyad, t.dyad_labels, has,
                              want_dyad=pooling in ("dyad/session", "dyad"),
                              want_session=pooling == "dyad/session")
        if self._spec["random_slopes"] and not base.dyad:
            raise LagnestDataError(
                "random slopes by dyad need the dyad level, which this corpus cannot "
                f"identify ({'; '.join(base.notes) or 'pooling ' + pooling}); drop random_slopes"
            )
        return replace(base, parameterization=self._parameterization(base))

    def _parameterization(self, structure: GroupStructure) -> dict[str, str]:
        """Centred or non-centred intercepts per level (see ``parameterization``)."""
        choice = self._spec["parameterization"]
        t = self.data.table
        n_sessions, k = len(t.session_labels), t.counts.shape[1]
        per_session = np.zeros((n_sessions, 1, k))
        np.add.at(per_session[:, 0], t.row_session, t.counts)
        per_dyad = np.zeros((len(t.dyad_labels), 1, k))
        np.add.at(per_dyad[:, 0], t.session_dyad, per_session[:, 0])
        pooled = t.counts.sum(axis=0) / max(t.counts.sum(), 1)
        variance = float(np.min(pooled * (1 - pooled)))
        groups = {"dyad": (per_dyad, np.zeros(len(t.dyad_labels), dtype=np.int64)),
                  "session": (per_session, t.session_dyad)}
        out = {}
        for level in structure.levels:
            if choice != "auto":
                out[level] = choice
                continue
            counts, parent = groups[level]
            sd = deviation_sd_estimate(counts, parent)
            out[level] = choose_parameterization(counts.sum(axis=(1, 2)), sd, variance,
                                                 counts.shape[0])
        if self._spec["random_slopes"]:
            out["slope"] = "noncentered"
        return out

    @property
    def coords(self) -> dict[str, list[Any]]:
        """Model coordinates."""
        d = self.data
        t = d.table
        slopes = self._slope_index(d)
        groups = self._groups(d)
        return {
            "category": list(d.target_labels[1:]),
            "feature": d.feature_names,
            "dyad": list(t.dyad_labels),
            "session": list(t.session_labels),
            "free_dyad": list(range(max(len(t.dyad_labels) - 1, 0))),
            "slope": [d.feature_names[j] for j in slopes],
            "stream_group": sorted(set(groups) - {""}),
        }

    def _groups(self, data: RegressionData) -> list[str]:
        """Shrinkage group of every column ("" for none; see ``shrinkage_groups``).

        Only the predictors' own columns (sequence columns that are not the target's
        past) are shrunk, and a group needs two columns at least.
        """
        own = [f.kind == "sequence" and not f.history for f in data.features]
        if self._spec["shrinkage"] == "none":
            return [""] * len(own)
        if self._spec["shrinkage_groups"] == "all":
            groups = ["predictors" if o else "" for o in own]
        else:
            groups = [f.group if o else "" for f, o in zip(data.features, own, strict=True)]
        sizes = {g: groups.count(g) for g in groups}
        return [g if g and sizes[g] > 1 else "" for g in groups]

    def _pseudo_sd(self) -> np.ndarray:
        """Pseudo-SD of each category's logit against the reference, ``(K - 1,)``.

        For a binary logit of category k against the reference on the n segments of the
        two, with share mu of k: ``1 / sqrt(mu (1 - mu))`` (Piironen & Vehtari 2017, Sec.
        3.5), the scale on which a slope's share of the latent variance is judged.
        """
        totals = self.data.counts.sum(axis=0).astype(float) + 0.5
        mu = totals[1:] / (totals[1:] + totals[0])
        return 1.0 / np.sqrt(mu * (1.0 - mu))

    def _column_sd(self) -> np.ndarray:
        """SD of each design column over the fitted segments, ``(P,)``."""
        d = self.data
        w = d.counts.sum(axis=1).astype(float)
        mean = w @ d.design / w.sum()
        return np.sqrt(np.maximum(w @ (d.design - mean) ** 2 / w.sum(), 1e-12))

    # ------------------------------------------------------------------ backend
    def _slopes(self, groups: list[str]) -> Any:
        """Slopes ``(P, K - 1)`` under the chosen priors (PyTensor).

        History columns get the ``history`` prior, ungrouped columns the ``beta`` prior,
        grouped columns the ``shrinkage`` prior of their group and category.
        """
        import pymc as pm
        import pytensor.tensor as pt

        k1 = len(self.data.target_labels) - 1
        own = self._combined()  # categories whose own slopes are interactions
        sd = self._independent_sd()
        rows = self._row_mixing()
        if rows is not None:  # a combined state's own past: an interaction of its parts
            sd = np.where(rows.sum(axis=1) > 1, self._priors["interaction"].params["sigma"],
                          sd)
        sd = np.where(own[None, :], self._priors["interaction"].params["sigma"],
                      np.repeat(sd[:, None], k1, axis=1))
        mix = self._mixing()
        mixed = mix is not None or rows is not None
        raw = "beta_own" if mixed else "beta"

        def total(x: Any) -> Any:
            """Own slopes -> the slopes of the design's columns and categories."""
            x = x if rows is None else pt.dot(pt.as_tensor_variable(rows), x)
            return x if mix is None else pt.dot(x, mix)

        names = sorted(set(groups) - {""})
        if not names:
            beta = pm.Normal(raw, 0.0, sigma=sd, dims=("feature", "category"))
            return pm.Deterministic("beta", total(beta), dims=("feature", "category")) \
                if mixed else beta
        grouped = np.array([g != "" for g in groups])[:, None] & ~own[None, :]
        index = np.array([names.index(g) if g else 0 for g in groups], dtype=np.int64)
        shrink = self._spec["shrinkage"]
        z = pm.Normal("z_beta", 0.0, 1.0, dims=("feature", "category"))
        if shrink == "common":
            tau = self._priors["tau"].create_variable("tau", dims=("stream_group", "category"))
            column = tau[index]
        else:
            in_group = np.array([g != "" for g in groups])
            members = np.zeros((len(names), len(groups)))
            members[index[in_group], np.flatnonzero(in_group)] = 1.0
            size = members.sum(axis=1)
            # slopes per unit of each column, from scales on the standardised columns
            per_unit = 1.0 / self._column_sd()[:, None]
            if shrink == "horseshoe":
                guess = self._spec["nonzero_guess"]
                p0 = np.maximum(size / 4.0, 1.0) if guess is None else np.full_like(size,
                                                                                    guess)
                p0 = np.minimum(p0, size - 0.5)
                n = self.data.counts.sum(axis=0).astype(float)
                n_pair = n[1:] + n[0]
                tau0 = ((p0 / (size - p0))[:, None] * self._pseudo_sd()[None, :]
                        / np.sqrt(n_pair)[None, :])
                tau = pm.HalfCauchy("tau_global", beta=tau0, dims=("stream_group", "category"))
                lam = pm.HalfCauchy("lambda_local", beta=1.0, dims=("feature", "category"))
                c2 = pm.InverseGamma("slab_c2", alpha=HORSESHOE_SLAB_DF / 2,
                                     beta=HORSESHOE_SLAB_DF * HORSESHOE_SLAB_SCALE**2 / 2,
                                     dims="category")
                t = tau[index]
                lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + t**2 * lam**2))
                column = per_unit * t * lam_tilde
            else:  # r2d2
                r2 = self._priors["r2"].create_variable("r2", dims=("stream_group", "category"))
                share = pm.Gamma("r2d2_weight", alpha=R2D2_CONCENTRATION, beta=1.0,
                                 dims=("feature", "category"))
                totals = pt.dot(pt.as_tensor_variable(members), share)  # (G, K-1)
                phi = share / totals[index]
                column = per_unit * self._pseudo_sd()[None, :] * pt.sqrt(
                    phi * (r2 / (1.0 - r2))[index])
        scale = pt.where(grouped, column, sd)
        if not mixed:
            return pm.Deterministic("beta", scale * z, dims=("feature", "category"))
        own_beta = pm.Deterministic(raw, scale * z, dims=("feature", "category"))
        return pm.Deterministic("beta", total(own_beta), dims=("feature", "category"))

    def _independent_sd(self) -> np.ndarray:
        """``(P,)`` scales of the independent Normal slope priors.

        ``history`` for the target's own past, ``beta`` for the other columns (before
        grouping or ``combine``).
        """
        return np.array([self._priors["history" if f.history else "beta"].params["sigma"]
                         for f in self.data.features])

    def _combined(self) -> np.ndarray:
        """Whether each non-reference category is a combination (``combine``), ``(K - 1,)``."""
        cats = list(self.data.target_labels[1:])
        combine = self._spec.get("combine") or {}
        return np.array([c in combine for c in cats], dtype=bool)

    def _mixing(self) -> np.ndarray | None:
        """Map ``(K - 1, K - 1)`` from own parameters to category logits (None: identity).

        Column c of a combined category adds its components' columns to its own.
        """
        combine = self._spec.get("combine")
        if not combine:
            return None
        cats = list(self.data.target_labels[1:])
        out = np.eye(len(cats))
        for name, parts in combine.items():
            for part in parts:
                out[cats.index(part), cats.index(name)] = 1.0
        return out

    def _row_mixing(self) -> np.ndarray | None:
        """Map ``(P, P)`` from own slopes to the design's columns (None: identity).

        With ``combine``, the target's own past in a combined state (``rupture=both[t-1]``,
        and its initial-state column) is its components' past at once: the column's slopes
        are the sum of the components' columns' slopes plus an interaction of its own
        (``interaction`` prior), as on the outcome side.
        """
        combine = self._spec.get("combine")
        if not combine or not self._spec["history"]:
            return None
        target = self._spec["target"]
        names = self.data.feature_names
        index = {name: j for j, name in enumerate(names)}
        out = np.eye(len(names))
        prefix = f"{target}="
        for j, name in enumerate(names):
            for whole, parts in combine.items():
                if not name.startswith(f"{prefix}{whole}["):
                    continue
                suffix = name[len(prefix) + len(whole):]
                sources = [index.get(f"{prefix}{part}{suffix}") for part in parts]
                if all(i is not None for i in sources):
                    out[j, sources] = 1.0
        return None if np.array_equal(out, np.eye(len(names))) else out

    def build_model(self) -> Any:
        """Build the PyMC model (Multinomial per row, or Categorical per segment)."""
        import pymc as pm
        import pytensor.tensor as pt

        from lagnest.models.likelihood import aggregated_multinomial_logit, row_logits_graph

        d = self.data
        t = d.table
        structure = self.structure
        n_dyads = len(t.dyad_labels)
        slopes = self._slope_index(d)
        groups = self._groups(d)
        # The linear predictor is computed once per design unit and gathered to the R
        # rows of the likelihood: a unit is a distinct design row (patterns repeat across
        # the sessions of a dyad, and across dyads without centring), and with random
        # slopes a distinct (design row, dyad) pair.
        unit_keys = d.design if not slopes.size else np.column_stack(
            [d.design, t.session_dyad[t.row_session]])
        units, unit_of_row = np.unique(unit_keys, axis=0, return_inverse=True)
        unit_of_row = unit_of_row.ravel()
        unit_design = units[:, :d.design.shape[1]]
        unit_dyad = units[:, -1].astype(np.int64) if slopes.size else None
        mix = self._mixing()

        def mixed(x: Any) -> Any:
            """Own parameters (last axis: categories) -> category logits."""
            return x if mix is None else pt.dot(x, mix)

        with pm.Model(coords=self.coords) as model:
            prior_sd = np.where(self._combined(), self._priors["interaction"].params["sigma"],
                                self._priors["intercept"].params["sigma"])
            if structure.dyad:
                sigma = self._priors["sigma_dyad"].create_variable("sigma_dyad", dims="category")
                intercept_typical, dev = dyads_around_population(
                    "intercept", "dyad", prior_sd, sigma, ("category",), n_dyads,
                    structure.parameterization["dyad"])
                intercept_dyad = intercept_typical[None] + dev
            else:
                intercept_typical = pm.Normal("intercept", 0.0, prior_sd, dims="category")
                intercept_dyad = pt.repeat(intercept_typical[None], n_dyads, axis=0)
            beta = self._slopes(groups)
            intercept_session = intercept_dyad[t.session_dyad]
            if structure.session:
                sigma = self._priors["sigma_session"].create_variable("sigma_session",
                                                                      dims="category")
                intercept_session = intercept_session + session_deviations(
                    "session", sigma, ("category",), structure.parameterization["session"],
                    intercept_session)
            pm.Deterministic("intercept_typical", mixed(intercept_typical),
                             dims="category")
            pm.Deterministic("intercept_dyad", mixed(intercept_dyad), dims=("dyad", "category"))
            intercept_session = mixed(intercept_session)
            pm.Deterministic("intercept_session", intercept_session, dims=("session", "category"))
            # the design enters as data (inputs of the compiled functions, not constants),
            # so another corpus with the same dims reuses the compiled code
            design_data = pm.Data("unit_design", unit_design)
            eta_unit = pt.dot(design_data, beta)
            # a distinct expression: freeze_model would merge two Deterministics of `beta`
            beta_typical = beta + 0.0
            if slopes.size:
                sigma = self._priors["sigma_slope"].create_variable("sigma_slope", dims="slope")
                dev, centre = dyad_deviations("slope", sigma[:, None], ("slope", "category"),
                                              n_dyads, "noncentered", beta[slopes])
                dev, centre = mixed(dev), mixed(centre)
                pm.Deterministic("beta_dyad", beta[slopes][None] + dev,
                                 dims=("dyad", "slope", "category"))
                eta_unit = eta_unit + (design_data[:, slopes][:, :, None]
                                       * dev[pm.Data("unit_dyad", unit_dyad)]).sum(axis=1)
                beta_typical = pt.set_subtensor(beta[slopes], beta[slopes] - centre)
            pm.Deterministic("beta_typical", beta_typical, dims=("feature", "category"))
            if d.segment_target is not None:
                logits = row_logits_graph(eta_unit, intercept_session, unit_of_row,
                                          t.row_session)
                y = pm.Data("segment_target", d.segment_target)
                model.add_coord("valid_segment", np.arange(d.segment_target.size))
                pm.Categorical("y", logit_p=logits[d.segment_rows], observed=y,
                               dims="valid_segment")
            else:
                counts = pm.Data("counts", np.asarray(t.counts), dims=("row", "target"))
                aggregated_multinomial_logit("y", counts, eta_unit, intercept_session,
                                             pm.Data("row_unit", unit_of_row),
                                             pm.Data("row_session", t.row_session),
                                             observed=counts,
                                             dims=("row", "target"))
        return model

    def row_logits(self, params: Mapping[str, Any], design: np.ndarray | None = None,
                   row_session: np.ndarray | None = None) -> np.ndarray:
        """Logits ``(R, K)`` of every row (reference category first) for one draw (NumPy)."""
        d = self.data
        t = d.table
        design = d.design if design is None else design
        row_session = t.row_session if row_session is None else row_session
        beta = np.asarray(params["beta"], dtype=float)
        eta = np.asarray(params["intercept_session"], dtype=float)[row_session] + design @ beta
        slopes = self._slope_index(d)
        if slopes.size:
            dev = np.asarray(params["beta_dyad"], dtype=float) - beta[slopes][None]
            row_dyad = t.session_dyad[row_session]
            eta = eta + (design[:, slopes][:, :, None] * dev[row_dyad]).sum(axis=1)
        return np.concatenate([np.zeros((eta.shape[0], 1)), eta], axis=1)

    def simulate(self, params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """Draw counts per row (or targets per segment) from one parameter draw.

        Parameters
        ----------
        params : mapping
            One draw with ``beta``, ``intercept_session`` (and ``beta_dyad`` with random
            slopes).
        rng : numpy.random.Generator

        Returns
        -------
        dict
            ``{"counts": (R, K)}`` keeping each row's total (the design), or
            ``{"segment_target": (N,)}`` for the per-segment model.
        """
        d = self.data
        p = softmax(self.row_logits(params))
        if d.segment_target is not None:
            probs = p[d.segment_rows]
            u = rng.random(probs.shape[0])[:, None]
            draw = (probs.cumsum(axis=1) < u).sum(axis=1)
            return {"segment_target": np.minimum(draw, p.shape[1] - 1).astype(np.int64)}
        return {"counts": rng.multinomial(d.counts.sum(axis=1), p).astype(np.int64)}

    @property
    def diagnostic_vars(self) -> tuple[str, ...]:
        """Population intercepts and slopes, scales, and group intercepts."""
        structure = self.structure
        names = ["intercept_typical", "beta_typical"]
        if any(self._groups(self.data)):
            names += _SHRINKAGE_SCALES[self._spec["shrinkage"]]
        if structure.dyad:
            names += ["sigma_dyad", "intercept_dyad"]
        if structure.session:
            names += ["sigma_session", "intercept_session"]
        if self._spec["random_slopes"]:
            names += ["sigma_slope", "beta_dyad"]
        return tuple(names)

    @property
    def calibration_vars(self) -> tuple[str, ...]:
        """Variables simulation-based calibration ranks: typical effects, group scales."""
        structure = self.structure
        names = ["intercept_typical", "beta_typical"]
        if any(self._groups(self.data)):
            names += _SHRINKAGE_SCALES[self._spec["shrinkage"]]
        names += [f"sigma_{level}" for level in structure.levels]
        if self._spec["random_slopes"]:
            names.append("sigma_slope")
        return tuple(names)


# =========================================================================== results


class RegressionResult(FitResult):
    r"""Posterior of a :class:`LaggedRegression` and the answers it gives.

    Every answer is an :class:`xarray.Dataset` from
    :func:`~lagnest._summaries.summarise` (``mean``, ``sd``, ``lower``, ``upper``,
    ``p_positive``, ``p_direction``) over ``feature`` and ``category`` (the non-reference
    target codes). Slopes are log odds ratios of category k against the reference
    category per unit of the column (for a 0/1 indicator: present vs absent, other
    columns held fixed; for a dyad-centred indicator, within the dyad).
    """

    kind: ClassVar[str] = "regression"

    @property
    def _model(self) -> LaggedRegression:
        """The model rebuilt on the stored design (no corpus needed)."""
        model = getattr(self, "_cached_model", None)
        if model is None:
            model = BayesianModel.from_result(self)
            object.__setattr__(self, "_cached_model", model)
        return model  # type: ignore[return-value]

    @property
    def data(self) -> RegressionData:
        """The design and counts the model was fitted to."""
        return self._model.data

    @property
    def levels(self) -> tuple[str, ...]:
        """Levels of the answers: ``predict`` (population, typical, a dyad), ``intercepts``.

        They follow the structure fitted (:attr:`structure`): a level merged or dropped
        by the model's checks (the session level when every dyad has one session, the
        dyad level with a single dyad) is not offered.
        """
        removed = self.structure.removed if self.structure is not None else {}
        return tuple(level for level in ("population", "typical", "dyad", "session")
                     if level not in removed)

    def _refuse(self, level: str) -> None:
        """ValueError when the fit merged or dropped ``level`` (saying why)."""
        structure = self.structure
        if structure is not None and level in structure.removed:
            raise ValueError(f"level {level!r} is not available in this fit: "
                             f"{structure.why(level)} (available: {list(self.levels)})")

    def _new_groups(self, lang: str = "en") -> str:
        """What a population answer averages over (after the fitted structure)."""
        structure = self.structure
        if structure is None:
            pooling = self.spec.get("pooling", "dyad/session")
            structure = GroupStructure(pooling != "complete", pooling == "dyad/session")
        return structure.new_groups(lang)

    def derived_draws(self) -> dict[str, xr.DataArray]:
        """``odds_ratio``: exp of the typical-dyad slopes (added by :meth:`to_arviz`)."""
        return {"odds_ratio": np.exp(self.posterior["beta_typical"]).rename("odds_ratio")}

    def log_odds_ratios(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Slopes for a typical dyad and session: log odds ratio per column and category.

        The model's slopes, conditional on the dyad and session deviations (all zero for
        the typical dyad and session); null 0.
        """
        return summarise(self.draws["beta_typical"], ci_prob, 0.0, "0")

    def odds_ratios(self, ci_prob: float = CI_PROB, level: str = "typical",
                    max_draws: int = 400, n_new: int = 100) -> xr.Dataset:
        """Odds ratios per column and category (null 1), for a typical or an average dyad.

        Parameters
        ----------
        ci_prob : float, default 0.95
        level : {"typical", "population"}
            ``"typical"``: exp(slope), the odds ratio within a dyad and session whose
            deviations are zero (conditional). ``"population"``: the odds ratio of the
            probabilities averaged over new dyads and sessions drawn from the fitted
            hierarchy and over the fitted segments' other predictors (marginal; closer
            to 1 than the typical one when groups differ), for the 0/1 columns only.
        max_draws, n_new : int
            ``"population"`` only: posterior draws used and new groups per draw.

        Returns
        -------
        xarray.Dataset
            :func:`~lagnest._summaries.summarise` of the odds ratios: report the
            ``median`` (exp of the median log odds ratio) beside the ``mean``, which
            the right tail of a skewed posterior pulls up.
        """
        if level == "typical":
            out = summarise(np.exp(self.draws["beta_typical"]), ci_prob, 1.0, "1")
            out.attrs["what"] = "odds ratio for a typical dyad and session (conditional)"
            return out
        if level != "population":
            raise ValueError(f"level must be 'typical' or 'population', got {level!r}")
        labels, p_on, p_off = self._switched_probs("population", max_draws, n_new)
        odds = (p_on[..., 1:] / p_on[..., :1]) / (p_off[..., 1:] / p_off[..., :1])
        da = xr.DataArray(odds[None], dims=("chain", "draw", "feature", "category"),
                          coords={"feature": labels,
                                  "category": list(self.data.target_labels[1:])})
        out = summarise(da, ci_prob, 1.0, "1")
        groups = self._new_groups()
        out.attrs["what"] = ("odds ratio of the probabilities averaged over "
                             + (f"{groups} and the fitted segments" if groups
                                else "the fitted segments") + " (marginal)")
        return out

    def dyad_effects(self, ci_prob: float = CI_PROB) -> xr.Dataset:
        """Dyad-specific slopes (log odds ratios) of the ``random_slopes`` columns."""
        if "beta_dyad" not in self.draws:
            raise ValueError("this fit has no random slopes (random_slopes=())")
        return summarise(self.draws["beta_dyad"], ci_prob, 0.0, "0")

    def intercepts(self, level: str = "typical", ci_prob: float = CI_PROB) -> xr.Dataset:
        """Intercepts (log odds against the reference at all columns 0) at a level.

        ``level``: ``"typical"`` (a dyad and session with zero deviations), ``"dyad"``
        (each dyad's typical session) or ``"session"``.
        """
        names = {"typical": "intercept_typical", "dyad": "intercept_dyad",
                 "session": "intercept_session"}
        if level not in names:
            raise ValueError(f"level must be one of {list(names)}, got {level!r}")
        self._refuse(level)
        return summarise(self.draws[names[level]], ci_prob, 0.0, "0")

    def _measured_null_exclusion(self, ci_prob: float) -> tuple[float, float] | None:
        """The measured range of :data:`NULL_EXCLUSION_MEASURED` for this fit, if it applies.

        Only for the default slope prior (no shrinkage, Normal(0, 1.5)) and a probability at
        which the rate was measured; None otherwise.
        """
        spec = self.spec
        beta = (self.config.get("priors") or {}).get("beta")
        default = LaggedRegression.default_priors["beta"].to_dict()
        if spec.get("shrinkage") != "none" or (beta is not None and beta != default):
            return None
        return next((rates for p, rates in NULL_EXCLUSION_MEASURED.items()
                     if np.isclose(p, ci_prob)), None)

    def _draw_subset(self, max_draws: int) -> xr.Dataset:
        """At most ``max_draws`` posterior draws, evenly thinned, stacked on ``sample``."""
        stacked = self.draws.stack(sample=("chain", "draw"))
        n = stacked.sizes["sample"]
        take = np.unique(np.linspace(0, n - 1, min(max_draws, n)).round().astype(int))
        return stacked.isel(sample=take)

    def marginal_effects(self, ci_prob: float = CI_PROB, max_draws: int = 1000,
                         level: str = "fitted", n_new: int = 100) -> xr.Dataset:
        r"""Average marginal effects of the 0/1 columns on the probability scale.

        For each single-indicator column j (a source at one level and lag) and each target
        code k (reference included): the mean over the fitted segments of
        :math:`p_k(x, s_j = \text{level}) - p_k(x, s_j = \text{reference})`, the source
        set to the column's level against its reference level (absent, for an
        indicator; the first code, for a categorical source: never against its other
        levels), every other predictor at its observed value (interactions containing
        the source follow it; centring is reapplied).

        Parameters
        ----------
        ci_prob : float, default 0.95
        max_draws : int, default 1000
            Posterior draws used (evenly thinned).
        level : {"fitted", "population"}
            ``"fitted"``: each segment with its own session and dyad intercepts (the
            effect in the dyads observed); ``"population"``: probabilities averaged over
            new dyads and sessions drawn from the fitted hierarchy (the effect expected
            in new dyads).
        n_new : int, default 100
            ``"population"`` only: new groups drawn per posterior draw.

        Returns
        -------
        xarray.Dataset
            Summaries on ``(feature, target)``.
        """
        if level not in ("fitted", "population"):
            raise ValueError(f"level must be 'fitted' or 'population', got {level!r}")
        labels, p_on, p_off = self._switched_probs(level, max_draws, n_new)
        da = xr.DataArray((p_on - p_off)[None], dims=("chain", "draw", "feature", "target"),
                          coords={"feature": labels, "target": list(self.data.target_labels)})
        ds = summarise(da, ci_prob, 0.0, "0")
        groups = self._new_groups()
        ds.attrs["what"] = ("average marginal effect on p(target), "
                            + ("fitted segments in their own groups" if level == "fitted"
                               else f"fitted segments in {groups}" if groups
                               else "fitted segments"))
        return ds

    def _switched_probs(self, level: str, max_draws: int,
                        n_new: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """p(target) averaged over the fitted segments with each single column on and off.

        Returns the column labels and two arrays ``(draws, columns, K)``; ``level``
        "fitted" uses each segment's own intercepts, "population" new dyads and sessions.
        """
        m = self._model
        d = m.data
        t = d.table
        draws = self._draw_subset(max_draws)
        weights = t.counts.sum(axis=1).astype(float)
        weights /= weights.sum()
        singles = [j for j, f in enumerate(d.features)
                   if f.kind == "sequence" and not f.is_interaction]
        n = draws.sizes["sample"]
        out = np.zeros((2, n, len(singles), len(d.target_labels)))
        params = {name: draws[name].transpose("sample", ...).values
                  for name in ("beta", "intercept_session", "beta_dyad", "beta_typical",
                               "intercept_typical") if name in draws}
        rng = np.random.default_rng([int(self.config.get("seed") or 0), 20261206])
        for i, j in enumerate(singles):
            f = d.features[j]
            (source, code), lag = f.factors[0], f.lag_index
            for side, value in enumerate((code, 0)):  # the level, then the reference
                patterns = np.array(t.patterns, dtype=np.int64)
                patterns[:, lag, source] = value
                design = self._design_for(patterns, t.row_session)
                if level == "population":
                    eta = (params["intercept_typical"][:, None, :]
                           + np.einsum("rp,spk->srk", design, params["beta_typical"]))
                    p = self._new_group_probs(eta, draws, design, n_new, rng)
                    out[side, :, i] = np.einsum("r,srk->sk", weights, p)
                    continue
                for s in range(n):
                    one = {k: v[s] for k, v in params.items()}
                    out[side, s, i] = weights @ softmax(m.row_logits(one, design))
        return [d.feature_names[j] for j in singles], out[0], out[1]

    def _design_for(self, patterns: np.ndarray, row_session: np.ndarray) -> np.ndarray:
        """Design columns for rows of source codes (centring and covariates applied)."""
        d = self._model.data
        seq = design_columns(patterns, d.features)
        if seq.shape[1]:
            seq = seq - d.centres[row_session]
        return np.concatenate([seq, d.covariates[row_session]], axis=1)

    def predict(
        self,
        values: Mapping[str, Any] | pd.DataFrame,
        level: str = "population",
        ci_prob: float = CI_PROB,
        max_draws: int = 1000,
    ) -> xr.Dataset:
        """Predicted target probabilities for new predictor patterns.

        Parameters
        ----------
        values : mapping or DataFrame
            One pattern (mapping) or one per row (DataFrame). Keys are the predictor
            sources, with the lag in brackets when the model has several lags
            (``"MIA4"``, ``"rupture[t-2]"``); values are codes (``"withdrawal"``) or 0/1
            for indicators. Sources not given take their first code (absent / reference);
            covariates take their mean (0 on the standardised scale) unless given in raw
            units.
        level : {"population", "typical"} or a dyad label
            ``"population"``: averaged over new groups from the fitted hierarchy (the
            levels fitted: new dyads and sessions, or only new dyads when the session
            level was merged); ``"typical"``: a typical dyad and session (intercept
            deviations 0); a dyad label: that dyad's typical session (centring of that
            dyad), unless the fit dropped the dyad level (a single dyad: ValueError).
        ci_prob : float, default 0.95
        max_draws : int, default 1000

        Returns
        -------
        xarray.Dataset
            Summaries of p(target) on ``(pattern, target)``.
        """
        m = self._model
        d = m.data
        t = d.table
        frame = pd.DataFrame([values]) if isinstance(values, Mapping) else values.copy()
        lags = t.lags
        n = len(frame)
        patterns = np.zeros((n, len(lags), len(t.predictors)), dtype=np.int64)
        known = {}
        for f_idx, source in enumerate(t.predictors):
            for l_idx, lag in enumerate(lags):
                names = [f"{source}{lag_suffix(lag)}"] + ([source] if len(lags) == 1 else [])
                for name in names:
                    known[name] = (f_idx, l_idx)
        cov_names = [f.name for f in d.features if f.kind != "sequence"]
        # covariates not given: their mean over the sessions (0 for standardised ones)
        covs = np.tile(d.covariates.mean(axis=0) if d.covariates.size else
                       np.zeros(len(cov_names)), (n, 1))
        for column in frame.columns:
            if column in cov_names:
                j = cov_names.index(column)
                mean, sd = d.covariate_scale[:, j]
                covs[:, j] = (frame[column].to_numpy(dtype=float) - mean) / sd
                continue
            if column not in known:
                raise LagnestDataError(
                    f"unknown predictor {column!r} in predict(); expected one of "
                    f"{sorted(known) + cov_names}"
                )
            f_idx, l_idx = known[column]
            labels = t.predictor_labels[f_idx]
            for r, value in enumerate(frame[column]):
                code = _code_of(value, labels, column)
                patterns[r, l_idx, f_idx] = code
        seq = design_columns(patterns, d.features)
        dyad_labels = list(t.dyad_labels)
        if level in dyad_labels or level == "dyad":
            self._refuse("dyad")
        if level in ("population", "typical"):
            centre = d.centres.mean(axis=0) if d.centres.size else d.centres
        elif level in dyad_labels:
            mine = t.session_dyad == dyad_labels.index(level)
            centre = d.centres[mine].mean(axis=0) if d.centres.size else d.centres
        else:
            raise ValueError(f"level must be 'population', 'typical' or a dyad label "
                             f"({dyad_labels}), got {level!r}")
        design = np.concatenate([seq - centre if seq.shape[1] else seq, covs], axis=1)
        draws = self._draw_subset(max_draws)
        beta = draws["beta_typical"].transpose("sample", ...).values
        if level in dyad_labels:
            intercept = draws["intercept_dyad"].sel(dyad=level).transpose("sample", ...).values
        else:
            intercept = draws["intercept_typical"].transpose("sample", ...).values
        if level in dyad_labels and "beta_dyad" in draws:
            slope_names = list(draws["slope"].values)
            idx = [d.feature_names.index(s) for s in slope_names]
            beta = beta.copy()
            beta[:, idx] = draws["beta_dyad"].sel(dyad=level).transpose("sample", ...).values
        eta = intercept[:, None, :] + np.einsum("rp,spk->srk", design, beta)
        if level == "population":
            p = self._new_group_probs(eta, draws, design)
        else:
            p = softmax(np.concatenate([np.zeros((*eta.shape[:2], 1)), eta], axis=-1))
        da = xr.DataArray(p[None], dims=("chain", "draw", "pattern", "target"),
                          coords={"pattern": np.arange(n), "target": list(d.target_labels)})
        return summarise(da, ci_prob, None)

    def _new_group_probs(self, eta: np.ndarray, draws: xr.Dataset, design: np.ndarray,
                         n_new: int = N_NEW_GROUPS,
                         rng: np.random.Generator | None = None) -> np.ndarray:
        """Mean softmax over new dyads and sessions, per draw: ``(S, n, K)``.

        ``eta`` ``(S, n, K - 1)`` holds the typical logits of n rows; new dyad and
        session intercepts (and new dyad slopes of the ``random_slopes`` columns) are
        drawn from the fitted scales, ``n_new`` per draw.
        """
        if rng is None:
            rng = np.random.default_rng([int(self.config.get("seed") or 0), 20261201])
        out = np.empty((*eta.shape[:2], eta.shape[2] + 1))
        scales = [draws[name].transpose("sample", ...).values
                  for name in ("sigma_dyad", "sigma_session") if name in draws]
        slope_x = None
        if "sigma_slope" in draws:
            names = self.data.feature_names
            slope_x = design[:, [names.index(str(v)) for v in draws["slope"].values]]
            sigma_slope = draws["sigma_slope"].transpose("sample", ...).values
        for s in range(eta.shape[0]):
            e = np.repeat(eta[s][None], n_new, axis=0)  # (G, n, K-1)
            for scale in scales:
                e = e + scale[s][None, None, :] * rng.standard_normal((n_new, 1, eta.shape[2]))
            if slope_x is not None:
                b = sigma_slope[s][None, :, None] * rng.standard_normal(
                    (n_new, slope_x.shape[1], eta.shape[2]))
                e = e + np.einsum("rj,gjk->grk", slope_x, b)
            logits = np.concatenate([np.zeros((*e.shape[:2], 1)), e], axis=-1)
            out[s] = softmax(logits).mean(axis=0)
        return out

    # ------------------------------------------------------------------ model comparison
    def cell_log_lik(self) -> Any:
        """Log p(target | row) of one segment per observed (row, target) cell, per draw.

        The hook of :mod:`lagnest.models.loo` (``loo()``, :func:`lagnest.compare`).

        Returns
        -------
        CellLogLik
        """
        from lagnest.models.loo import CellLogLik

        m = self._model
        d = m.data
        t = d.table
        counts = np.asarray(t.counts)
        k = counts.shape[1]
        cells = np.flatnonzero(counts.ravel())
        rows, targets = np.divmod(cells, k)
        post = self.posterior
        n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
        names = ("beta", "intercept_session", "beta_dyad")
        values = {n: post[n].values for n in names if n in post}
        log_lik = np.empty((n_chain, n_draw, cells.size))
        for c in range(n_chain):
            for i in range(n_draw):
                logits = m.row_logits({n: v[c, i] for n, v in values.items()})[rows]
                top = logits.max(axis=1, keepdims=True)
                lse = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
                log_lik[c, i] = logits[np.arange(rows.size), targets] - lse
        da = xr.DataArray(
            log_lik, dims=("chain", "draw", "cell"),
            coords={"chain": post["chain"].values, "draw": post["draw"].values, "cell": cells,
                    "session": ("cell", np.asarray(t.session_labels)[t.row_session[rows]]),
                    "target": ("cell", np.asarray(d.target_labels)[targets])},
            name="log_lik")
        segment = np.flatnonzero(np.asarray(t.segment_row) >= 0)
        seg_cell = None
        if d.segments is not None and not self.config.get("simulated"):
            y = np.asarray(d.segments.target)[segment].astype(np.int64)
            seg_cell = np.searchsorted(cells, np.asarray(t.segment_row)[segment] * k + y)
        else:
            segment = None
        return CellLogLik(da, counts.ravel()[cells], seg_cell, segment)

    def new_dyad_joint_log_lik(self, seqs: Any, n_new: int = N_NEW_GROUPS,
                               rng: np.random.Generator | None = None,
                               max_draws: int = 400) -> np.ndarray:
        """Log-likelihood of ALL of a held-out dyad's segments under each simulated new dyad.

        The joint hook of :func:`lagnest.models.loo.leave_one_dyad_out`: for each of at
        most ``max_draws`` posterior draws and each of ``n_new`` new dyads drawn from the
        fitted scales (a new session deviation for each of its sessions, new dyad slopes
        for the ``random_slopes`` columns), the sum over the held-out target segments of
        ``log p(target | predictors)``. The held-out data are standardised as the fitted
        data were; nothing is centred with their outcomes.

        Returns
        -------
        ndarray, shape (draws, n_new)
        """
        fitted = self._model.data
        held = regression_data(seqs, {**self.spec, "per_segment": False},
                               covariate_scale=fitted.covariate_scale,
                               initial_columns=[f.name for f in fitted.features
                                                if f.kind == "initial"])
        if held.feature_names != fitted.feature_names:
            raise LagnestDataError("the held-out corpus gives other predictor columns than "
                                   "the fitted one (codes differ)")
        if rng is None:
            rng = np.random.default_rng([int(self.config.get("seed") or 0), 20261205])
        t = held.table
        counts = np.asarray(t.counts, dtype=float)
        sessions, row_session = np.unique(t.row_session, return_inverse=True)
        draws = self._draw_subset(max_draws)
        beta = draws["beta_typical"].transpose("sample", ...).values
        intercept = draws["intercept_typical"].transpose("sample", ...).values
        sd = {n: draws[n].transpose("sample", ...).values
              for n in ("sigma_dyad", "sigma_session", "sigma_slope") if n in draws}
        slope_x = None
        if "sigma_slope" in sd:
            names = held.feature_names
            slope_x = held.design[:, [names.index(str(v)) for v in draws["slope"].values]]
        k1 = beta.shape[-1]
        out = np.zeros((beta.shape[0], n_new))
        for s in range(beta.shape[0]):
            eta = np.repeat((intercept[s] + held.design @ beta[s])[None], n_new, axis=0)
            if "sigma_dyad" in sd:
                eta = eta + sd["sigma_dyad"][s] * rng.standard_normal((n_new, 1, k1))
            if "sigma_session" in sd:
                dev = sd["sigma_session"][s] * rng.standard_normal((n_new, sessions.size, k1))
                eta = eta + dev[:, row_session]
            if slope_x is not None:
                b = sd["sigma_slope"][s][None, :, None] * rng.standard_normal(
                    (n_new, slope_x.shape[1], k1))
                eta = eta + np.einsum("rj,gjk->grk", slope_x, b)
            logits = np.concatenate([np.zeros((*eta.shape[:2], 1)), eta], axis=-1)
            top = logits.max(axis=-1, keepdims=True)
            logp = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
            out[s] = np.einsum("rk,grk->g", counts, logp)
        return out

    def loo(self, reff: float | None = None) -> Any:
        """Segment-level PSIS-LOO (one target segment = one observation), with Pareto k.

        PSIS runs once per observed (row, target) cell and is expanded to the segments
        (:func:`lagnest.models.loo.cell_loo`), identical to the per-segment computation;
        the per-segment model (``per_segment=True``) runs :func:`arviz_stats.loo` on
        PyMC's pointwise log-likelihood instead (an independent check).

        Parameters
        ----------
        reff : float, optional
            Relative efficiency; default from the posterior, as ArviZ computes it.

        Returns
        -------
        arviz_stats.ELPDDataLOO
            Per-segment ``elpd_i`` and ``pareto_k``; compare with :func:`lagnest.compare`.
            Segment-level LOO measures prediction of one left-out segment of the fitted
            sessions given all their other segments, later ones included (not a
            forecast); for new dyads see :func:`lagnest.models.loo.leave_one_dyad_out`.
        """
        from lagnest.models.loo import loo_from_cells, pointwise_loo

        if not self.spec.get("per_segment"):
            return loo_from_cells(self, reff)
        t = self.data.table  # the per-segment model: PyMC's own pointwise log-likelihood
        segment = np.flatnonzero(np.asarray(t.segment_row) >= 0)
        rows = np.asarray(t.segment_row)[segment]
        coords = {"session": np.asarray(t.session_labels)[t.row_session[rows]],
                  "target": np.asarray(self.data.target_labels)[
                      self.data.segment_target]}
        return pointwise_loo(self, segment, coords, reff, not self.config.get("simulated"))

    def summary(self, ci_prob: float = CI_PROB, marginal: bool = True, *,
                lang: str = "en", codebook: Codebook | None = None) -> ResultSummary:
        """Odds ratios beside each predictor's classical lag-table figures.

        Parameters
        ----------
        ci_prob : float, default 0.95
        marginal : bool, default True
            Include average marginal effects (a few seconds on large designs).
        lang : {"en", "es"}, default "en"
            Language of the printed summary: in Spanish the header, the column names
            (``OR_inf``, ``EMP``, ``z_clásico``, ...), what each column is and the notes
            are Spanish, and the categories show their codebook labels.
        codebook : Codebook, optional
            Where Spanish code labels come from (e.g. ``seqs.codebook``).

        Returns
        -------
        ResultSummary
            Table indexed by ``(feature, category)``: ``OR`` (posterior median of the odds
            ratio for a typical dyad and session), ``OR_mean``, ``OR_lower``, ``OR_upper``,
            ``P(OR>1)``, ``AME`` (average marginal effect on P(category) in the fitted
            dyads), ``z_classical`` (adjusted residual of the feature's lag table, cell
            present -> category), ``Q_classical`` (Yule's Q of that cell) and ``n_pairs``
            (the lag pairs in that cell); ``AME`` and the classical columns are NaN
            (printed blank, with the reason) for interaction columns, covariates and
            first-segment states. Printing it leaves out ``OR_mean``; the notes say how
            many intervals the table reports, how many of them would exclude 1 by chance
            if every effect were null, and how many rest on fewer than
            :data:`SPARSE_CELL_PAIRS` lag pairs (their estimates are mostly the prior's).
        """
        ci_prob = validate_ci_prob(ci_prob)
        lang = check_lang(lang)

        def say(key: str, **fields: Any) -> str:
            return translate(key, lang, **fields)

        d = self.data
        odds = self.odds_ratios(ci_prob)
        frame = pd.DataFrame({
            "OR": odds["median"].to_series(),
            "OR_mean": odds["mean"].to_series(),
            "OR_lower": odds["lower"].to_series(),
            "OR_upper": odds["upper"].to_series(),
            "P(OR>1)": odds["p_positive"].to_series(),
        })
        if marginal:
            ame = self.marginal_effects(ci_prob)["mean"].rename({"target": "category"})
            frame = frame.join(ame.to_series().rename("AME"), how="left")
        categories = list(d.target_labels[1:])
        classical = xr.DataArray(d.classical[:, :, 1:], dims=("stat", "feature", "category"),
                                 coords={"stat": list(CLASSICAL_STATS),
                                         "feature": d.feature_names, "category": categories})
        frame["z_classical"] = classical.sel(stat="adj_resid", drop=True).to_series()
        frame["Q_classical"] = classical.sel(stat="yules_q", drop=True).to_series()
        counted = bool(np.isfinite(d.classical[2]).any())  # (saved results may lack them)
        if counted:
            frame["n_pairs"] = classical.sel(stat="counts", drop=True).to_series()
        spec = self.spec
        header = self._header(lang)
        lines = [
            say("rg.head", target=spec["target"],
                predictors=", ".join(spec["predictors"]) or say("rg.no_terms"),
                lags=spec["lags"], history=spec["history"], center=spec["center"],
                shrinkage=spec["shrinkage"], segments=d.table.n_valid, rows=d.table.n_rows),
            *header[1:],
        ]
        own = [f.name for f in d.features if f.kind == "sequence" and not f.history]
        n_intervals = len(own) * len(categories)
        chance = (1 - ci_prob) * n_intervals
        pct = f"{ci_prob:.0%}"
        reference = d.target_labels[0]
        if lang != "en":
            reference = code_label(reference, lang, codebook)
        meanings = {
            "OR": say("rg.OR", ref=repr(reference)),
            "OR_mean": say("rg.OR_mean"),
            "OR_lower, OR_upper": say("tr.interval", pct=pct),
            "P(OR>1)": say("rg.P(OR>1)"),
            "AME": say("rg.AME"),
            "z_classical": say("rg.z_classical"),
            "Q_classical": say("rg.Q_classical"),
            "n_pairs": say("rg.n_pairs"),
        }
        # why AME and the classical figures are blank: they exist for single 0/1 columns
        kinds = {"rg.kind.interaction": any(f.kind == "sequence" and f.is_interaction
                                            for f in d.features),
                 "rg.kind.covariates": any(f.kind in ("session", "dyad") for f in d.features),
                 "rg.kind.initial": any(f.kind == "initial" for f in d.features)}
        named = [say(k) for k, present in kinds.items() if present] or [say("rg.kind.these")]
        which = ((", ".join(named[:-1]) + say("and") + named[-1]) if len(named) > 1
                 else named[0])
        blanks = {
            "AME": say("rg.blank.AME", which=which),
            "z_classical": say("rg.blank.classical", which=which),
            "Q_classical": say("rg.blank.classical", which=which),
            "n_pairs": say("rg.blank.classical", which=which),
        }
        groups = self._new_groups(lang)
        measured = self._measured_null_exclusion(ci_prob)
        if measured is not None:
            low, high = (f"{v:.2f}".replace(".", ",") if lang == "es" else f"{v:.2f}"
                         for v in measured)
            measured_text = say("rg.chance.measured", low=low, high=high)
        else:
            measured_text = ""
        sparse = int((frame["n_pairs"] < SPARSE_CELL_PAIRS).sum()) if counted else 0
        sparse_text = ""
        if sparse:  # the measured figures hold for the default prior read at 95%
            sparse_text = say("rg.sparse.one" if sparse == 1 else "rg.sparse", k=sparse,
                              n=SPARSE_CELL_PAIRS)
            if measured is not None and np.isclose(ci_prob, 0.95):
                sparse_text += " " + say("rg.sparse.measured")
        notes = (
            *([say("rg.population", groups=groups)] if groups else []),
            say("rg.chance", n=n_intervals, chance=chance, pct=pct, measured=measured_text),
            *([sparse_text] if sparse_text else []),
        )
        return ResultSummary(
            title=header[0], lines=tuple(lines), table=frame, notes=notes,
            diagnostics=self.diagnostics.text(lang) if self.diagnostics is not None else "",
            columns=meanings,
            shown=("OR", "OR_lower", "OR_upper", "P(OR>1)", "AME", "z_classical",
                   "Q_classical", "n_pairs"),
            formats={"n_pairs": "{:.0f}"},
            blanks=blanks,
            lang=lang,
            codebook=codebook,
        )


def _code_of(value: Any, labels: Sequence[str], column: str) -> int:
    """Index of ``value`` among a source's labels (0/1 and True/False for indicators)."""
    if isinstance(value, str) and value in labels:
        return list(labels).index(value)
    if isinstance(value, bool | np.bool_ | int | np.integer) and 0 <= int(value) < len(labels):
        return int(value)
    raise LagnestDataError(f"predict(): {column}={value!r}; expected one of {list(labels)}")


LaggedRegression.result_class = RegressionResult
