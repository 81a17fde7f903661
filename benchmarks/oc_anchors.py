"""Anchors for the operating characteristics: what a user could run instead of lagnest.

Each anchor is an object with ``estimate(seqs, seed, ci_prob, extra_ci_probs=()) -> dict``
(the method protocol of :func:`lagnest.calibration.operating.operating_characteristics`;
``extra_lower`` / ``extra_upper`` hold the intervals at ``extra_ci_probs``), fitted to
the *per-segment* data of the same simulated study as lagnest's models: the rupture code
at t (reference ``none``) on the rupture state at t-1 (dummies) and the eight MIA
indicators at t-1, with the same column labels as ``LaggedRegression``.

* :class:`MNLogitAnchor`: maximum likelihood, statsmodels ``MNLogit``; ``"fixed"`` adds
  dyad fixed effects (dummies), ``"cluster"`` pools the dyads and uses cluster-robust
  (dyad) standard errors. Wald intervals ``estimate +- z * SE``. A fit that does not
  converge or has non-finite SEs (separation, common with a rare ``both`` category) is
  reported as failed.
* :class:`BambiAnchor`: Bambi's default priors on the per-segment categorical model
  ``rupture ~ history + MIA1..MIA8 + (1|dyad) + (1|dyad:session)``, PyMC's NUTS.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CATEGORIES = ("withdrawal", "confrontation", "both")


def per_segment_frame(seqs: Any) -> pd.DataFrame:
    """One row per target segment: ``y`` (0..3), the design columns, ``dyad``, ``session``.

    Built from lagnest's own pattern table of the model's design (so the anchors see
    exactly the segments and columns lagnest fits), expanded to one row per segment.
    """
    from lagnest.models import LaggedRegression

    model = LaggedRegression(seqs, "rupture", ["mia"], center=None, initial_state=False,
                             shrinkage="none")
    d = model.data
    t = d.table
    segment_row = np.asarray(t.segment_row)
    rows = segment_row[segment_row >= 0]
    y = np.asarray(d.segments.target)[segment_row >= 0].astype(int)
    frame = pd.DataFrame(d.design[rows], columns=d.feature_names)
    frame.insert(0, "y", y)
    frame["session"] = np.asarray(t.session_labels)[t.row_session[rows]]
    frame["dyad"] = np.asarray(t.dyad_labels)[t.session_dyad[t.row_session[rows]]]
    return frame


def _result(labels: list[str], mean: np.ndarray, lower: np.ndarray, upper: np.ndarray,
            failed: bool, start: float, **extra: Any) -> dict[str, Any]:
    return {"labels": labels, "mean": [float(v) for v in mean],
            "median": [float(v) for v in mean], "lower": [float(v) for v in lower],
            "upper": [float(v) for v in upper], "rhat_max": float("nan"),
            "ess_min": float("nan"), "n_divergent": 0, "failed": bool(failed),
            "fit_seconds": time.perf_counter() - start, **extra}


@dataclass(frozen=True)
class MNLogitAnchor:
    """Maximum-likelihood multinomial logit (statsmodels), ``errors`` "fixed" or "cluster"."""

    errors: str = "fixed"

    def estimate(self, seqs: Any, seed: int, ci_prob: float,
                 extra_ci_probs: tuple[float, ...] = ()) -> dict[str, Any]:
        import statsmodels.api as sm

        start = time.perf_counter()
        frame = per_segment_frame(seqs)
        columns = [c for c in frame.columns if c not in ("y", "dyad", "session")]
        x = frame[columns].astype(float)
        if self.errors == "fixed":
            fe = pd.get_dummies(frame["dyad"], prefix="dyad", drop_first=True, dtype=float)
            x = pd.concat([x, fe], axis=1)
        x = sm.add_constant(x, has_constant="add")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.MNLogit(frame["y"].to_numpy(), x)
            kwargs = ({"cov_type": "cluster",
                       "cov_kwds": {"groups": pd.factorize(frame["dyad"])[0]}}
                      if self.errors == "cluster" else {})
            try:
                res = model.fit(disp=0, method="newton", maxiter=100, **kwargs)
                converged = bool(res.mle_retvals.get("converged", False))
                params, bse = np.asarray(res.params), np.asarray(res.bse)
            except (np.linalg.LinAlgError, ValueError):
                converged, params, bse = False, np.full((x.shape[1], 3), np.nan), None
                bse = np.full_like(params, np.nan)
        labels, mean, se = [], [], []
        k = params.shape[1]
        for j, name in enumerate(x.columns):
            if name not in columns:
                continue
            for c in range(k):
                labels.append(f"{name}|{CATEGORIES[c]}")
                mean.append(params[j, c])
                se.append(bse[j, c])
        mean, se = np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
        z = stats.norm.ppf(0.5 + ci_prob / 2)
        lower, upper = mean - z * se, mean + z * se
        zs = stats.norm.ppf(0.5 + np.asarray(extra_ci_probs, dtype=float) / 2)
        finite = np.isfinite(mean).all() and np.isfinite(se).all()
        huge = np.nanmax(np.abs(mean)) > 15 if mean.size else False  # separation
        return _result(labels, mean, lower, upper, not (converged and finite) or huge, start,
                       extra_lower=[(mean - q * se).tolist() for q in zs],
                       extra_upper=[(mean + q * se).tolist() for q in zs])


@dataclass(frozen=True)
class BambiAnchor:
    """Bambi's default priors on the per-segment model (random dyad and session intercepts)."""

    draws: int = 500
    tune: int = 500
    chains: int = 4

    def estimate(self, seqs: Any, seed: int, ci_prob: float,
                 extra_ci_probs: tuple[float, ...] = ()) -> dict[str, Any]:
        import arviz_stats as azs
        import bambi as bmb

        start = time.perf_counter()
        frame = per_segment_frame(seqs)
        columns = [c for c in frame.columns if c not in ("y", "dyad", "session")]
        safe = {c: f"x{i}" for i, c in enumerate(columns)}  # formula-safe names
        data = frame.rename(columns=safe)
        # Bambi takes the alphabetically first level as the reference: prefix the levels
        # so that "none" is the reference, as in lagnest
        levels = [f"{chr(97 + i)}_{c}" for i, c in enumerate(("none", *CATEGORIES))]
        data["y"] = np.asarray(levels)[frame["y"]]
        formula = "y ~ " + " + ".join(safe.values()) + " + (1|dyad) + (1|dyad:session)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = bmb.Model(formula, data, family="categorical")
            tree = model.fit(draws=self.draws, tune=self.tune, chains=self.chains, cores=1,
                             random_seed=int(seed) % 2**32, inference_method="pymc",
                             progressbar=False)
        post = tree["posterior"].dataset if hasattr(tree, "children") else tree.posterior
        labels, values, rhats, ess = [], [], [], []
        for name, var in safe.items():
            da = post[var]
            cat_dim = next(d for d in da.dims if d not in ("chain", "draw"))
            order = [str(v) for v in da[cat_dim].values]
            if order != levels[1:]:
                raise RuntimeError(f"Bambi's categories {order}, expected {levels[1:]}")
            rh = azs.rhat(da)
            eb, et = azs.ess(da, method="bulk"), azs.ess(da, method="tail")
            for cat, level in zip(CATEGORIES, levels[1:], strict=True):
                one = da.sel({cat_dim: level})
                labels.append(f"{name}|{cat}")
                values.append(np.asarray(one.values).ravel())
            rhats.append(float(np.nanmax(rh.values)))
            ess.append(float(min(np.nanmin(eb.values), np.nanmin(et.values))))
        draws = np.stack(values, axis=1)
        alpha = (1 - ci_prob) / 2
        lower, median, upper = np.quantile(draws, [alpha, 0.5, 1 - alpha], axis=0)
        stats_ = tree["sample_stats"].dataset if hasattr(tree, "children") else tree.sample_stats
        divergent = int(np.asarray(stats_["diverging"].values).sum())
        rhat_max, ess_min = max(rhats), min(ess)
        failed = rhat_max > 1.01 or ess_min < 100 * self.chains or divergent > 0
        out = _result(labels, draws.mean(axis=0), lower, upper, failed, start)
        tails = [(1 - p) / 2 for p in extra_ci_probs]
        out.update(median=[float(v) for v in median], rhat_max=rhat_max, ess_min=ess_min,
                   n_divergent=divergent,
                   extra_lower=np.quantile(draws, tails, axis=0).tolist(),
                   extra_upper=np.quantile(draws, [1 - a for a in tails], axis=0).tolist())
        return out
