"""Simulation-based calibration and parameter recovery of the lagnest models.

:func:`sbc` draws parameters from a model's prior, simulates data over the model's own
design with its generative hook (:meth:`~lagnest.models.base.BayesianModel.simulate`),
refits the model on the same compiled graph and ranks each true value among thinned
posterior draws (Talts et al. 2018). :func:`recovery` does the same from one fixed truth
and reports bias and the coverage of central intervals. Both run their fits through
:func:`lagnest.calibration.engine.run_tasks` (local processes or dask.distributed,
resumable from disk).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from lagnest import _hooks
from lagnest._summaries import ResultSummary
from lagnest.calibration import engine
from lagnest.models._fit import (
    DEFAULT_THRESHOLDS,
    _cell_labels,
    compute_diagnostics,
    package_versions,
)

__all__ = [
    "QUANTILES",
    "CalibrationResult",
    "RecoveryResult",
    "SBCResult",
    "recovery",
    "sbc",
    "uniformity_test",
]

#: Posterior quantiles stored per simulation: central intervals of 50, 80, 90 and 95%.
QUANTILES = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)
#: Prior draws used in the parent to find constant cells (and warm the prior sampler).
N_PRIOR_CHECK = 100


# =========================================================================== helpers


def calibration_vars(model: Any) -> tuple[str, ...]:
    """The model's ``calibration_vars``; a clear error when the class declares none."""
    names = getattr(model, "calibration_vars", None)
    if names is None:
        raise TypeError(
            f"{type(model).__name__} declares no calibration_vars (the population "
            "parameters and group scales calibration ranks); add a calibration_vars "
            "property to the model class"
        )
    return tuple(names)


def _flatten(ds: Mapping[str, Any], names: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """``(samples, cells)`` values and cell labels of ``names`` (chain-major samples)."""
    blocks, labels = [], []
    for name in names:
        da = ds[name]
        other = [d for d in da.dims if d not in ("chain", "draw")]
        sample = [d for d in ("chain", "draw") if d in da.dims]
        values = da.transpose(*sample, *other).values
        blocks.append(values.reshape(-1 if sample else 1, int(np.prod(values.shape[len(sample):],
                                                                      dtype=int))))
        labels += _cell_labels(da)
    return np.concatenate(blocks, axis=1), labels


def thinned_ranks(draws: np.ndarray, truth: np.ndarray, n_rank_draws: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Ranks of ``truth`` (P,) among ``n_rank_draws`` evenly spaced rows of ``draws`` (S, P).

    The rank is the number of thinned draws below the truth, ties broken at random with
    ``rng`` (so a rank is uniform on ``0..n_rank_draws`` when the truth is a prior draw
    and the posterior is right).
    """
    index = np.linspace(0, draws.shape[0] - 1, n_rank_draws).round().astype(np.int64)
    thin = draws[index]
    below = (thin < truth).sum(axis=0)
    ties = (thin == truth).sum(axis=0)
    return below + rng.integers(0, ties + 1)


@contextlib.contextmanager
def _quiet_prior() -> Iterator[None]:
    """Silence PyMC's "Sampling: [...]" log line and warnings of a prior draw."""
    import pymc  # noqa: F401  (its import configures the logger we adjust)

    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _sampler_options(draws: int, tune: int, chains: int, sampler: str,
                     target_accept: float | None) -> dict[str, Any]:
    return {"draws": int(draws), "tune": int(tune), "chains": int(chains), "sampler": sampler,
            "target_accept": target_accept}


def _fit_quietly(model: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Fit with warnings recorded (a calibration fit reports its problems as data)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(cores=1, warn=False, progressbar=False, **kwargs)
    return result, sorted({str(w.message)[:300] for w in caught})


def fit_record(result: Any, caught: list[str], seconds: float) -> dict[str, Any]:
    """Diagnostics and timings of one fit, JSON-ready."""
    d = result.diagnostics
    sampler = result.config.get("sampler") or {}
    return {
        "rhat_max": float(d.rhat_max),
        "ess_bulk_min": float(d.ess_bulk_min),
        "ess_tail_min": float(d.ess_tail_min),
        "n_divergent": int(d.n_divergent),
        "compile_seconds": float(sampler.get("compile_seconds", np.nan)),
        "sampling_seconds": float(sampler.get("sampling_seconds", np.nan)),
        "seconds": float(seconds),
        "warnings": caught,
    }


# =========================================================================== the task


def _calibration_task(payload: Mapping[str, Any], key: tuple[int, ...],
                      ss: np.random.SeedSequence) -> dict[str, Any]:
    """One simulation: truth (prior draw or fixed), simulated data, fit, ranks, summaries."""
    start = time.perf_counter()
    model = engine.worker_model(payload["config"], payload["fit_data"])
    names = tuple(payload["vars"])
    keep = np.asarray(payload["keep"], dtype=bool)
    prior_seed, fit_seed = (int(s) for s in ss.generate_state(2))
    sim_rng, tie_rng = (np.random.default_rng(s) for s in ss.spawn(2))
    if payload["truth"] is None:
        with _quiet_prior():
            truth = model.prior_predictive(draws=1, seed=prior_seed).draws.isel(chain=0, draw=0)
    else:
        truth = payload["truth"]
    observed = model.simulate(truth, sim_rng)
    result, caught = _fit_quietly(model, observed=observed, seed=fit_seed,
                                  **payload["sampler"])
    draws, _ = _flatten(result.posterior, names)
    true, _ = _flatten(truth, names)
    draws, true = draws[:, keep], true[0, keep]
    # the verdict on the ranked variables themselves (the fit's own diagnostics also cover
    # every group's deviations, which SBC does not rank)
    ranked = compute_diagnostics(result.sampled, names)
    out = {
        "truth": true.tolist(),
        "mean": draws.mean(axis=0).tolist(),
        "sd": draws.std(axis=0, ddof=1).tolist(),
        "quantiles": np.quantile(draws, QUANTILES, axis=0).T.tolist(),
        "fit": {**fit_record(result, caught, time.perf_counter() - start),
                "rhat_max_ranked": float(ranked.rhat_max),
                "ess_min_ranked": float(min(ranked.ess_bulk_min, ranked.ess_tail_min))},
    }
    if payload["truth"] is None:
        out["ranks"] = thinned_ranks(draws, true, payload["n_rank_draws"], tie_rng).tolist()
    return out


# =========================================================================== results


def validate_ci(ci_prob: float) -> tuple[float, float]:
    """Stored quantiles bounding the central ``ci_prob`` interval."""
    lo, hi = round((1 - ci_prob) / 2, 6), round((1 + ci_prob) / 2, 6)
    if lo not in QUANTILES or hi not in QUANTILES:
        levels = sorted({round(b - a, 6) for a, b in zip(QUANTILES, QUANTILES[::-1],
                                                         strict=True) if b > a})
        raise ValueError(f"ci_prob must be one of {levels} (stored quantiles), got {ci_prob}")
    return lo, hi


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Per-simulation truths, posterior summaries and fit diagnostics.

    Attributes
    ----------
    data : xarray.Dataset
        Dims ``simulation`` and ``parameter`` (cell labels such as
        ``"logit_typical[a, b]"``; constant cells left out) and ``quantile``:
        ``truth``, ``mean``, ``sd``, ``quantiles`` (at :data:`QUANTILES`) and, per
        simulation, ``rhat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``n_divergent``
        (over the model's diagnostic variables), ``rhat_max_ranked``, ``ess_min_ranked``
        (over the calibration variables only),
        ``seconds``, ``compile_seconds``, ``sampling_seconds``. ``attrs`` hold the
        provenance (model config, sampler settings, seed, run id, package versions) as
        JSON strings.
    """

    data: xr.Dataset

    @property
    def n(self) -> int:
        """Number of simulations."""
        return int(self.data.sizes["simulation"])

    @property
    def truth(self) -> xr.DataArray:
        """True values ``(simulation, parameter)``."""
        return self.data["truth"]

    @property
    def config(self) -> dict[str, Any]:
        """The run's provenance (model config, sampler settings, seed, run id)."""
        return json.loads(self.data.attrs["lagnest_calibration"])

    @property
    def run_info(self) -> dict[str, Any]:
        """How the run went: ``backend``, ``n_workers``, keys ``computed`` and ``resumed``."""
        return json.loads(self.data.attrs.get("lagnest_run", "{}"))

    def converged(self) -> xr.DataArray:
        """Fits that passed the diagnostics on the calibrated variables, ``(simulation,)``.

        R-hat at most 1.01 and bulk and tail ESS at least 100 per chain over the ranked
        variables, and no divergent transition (the thresholds of
        :data:`lagnest.models._fit.DEFAULT_THRESHOLDS`).
        """
        chains = int(self.config.get("sampler", {}).get("chains", 4))
        limits = DEFAULT_THRESHOLDS
        return ((self.data["rhat_max_ranked"] <= limits["rhat"])
                & (self.data["ess_min_ranked"] >= limits["ess_per_chain"] * chains)
                & (self.data["n_divergent"] <= limits["divergences"])).rename("converged")

    def select(self, keep: Any) -> CalibrationResult:
        """The same result restricted to some simulations (e.g. :meth:`converged`)."""
        keep = np.asarray(keep, dtype=bool)
        return type(self)(self.data.isel(simulation=np.flatnonzero(keep)))

    def coverage(self, ci_prob: float = 0.9) -> xr.Dataset:
        """Share of simulations whose central ``ci_prob`` interval contains the truth.

        Parameters
        ----------
        ci_prob : {0.5, 0.8, 0.9, 0.95}
            Probability of the equal-tailed interval (from the stored quantiles).

        Returns
        -------
        xarray.Dataset
            ``coverage`` and its binomial standard error ``se`` per parameter;
            ``attrs["overall"]`` is the share over every simulation and parameter.
        """
        lo, hi = validate_ci(ci_prob)
        q = self.data["quantiles"]
        inside = (q.sel(quantile=lo) <= self.truth) & (self.truth <= q.sel(quantile=hi))
        cover = inside.mean("simulation")
        se = np.sqrt(cover * (1 - cover) / self.n)
        out = xr.Dataset({"coverage": cover, "se": se})
        out.attrs.update({"ci_prob": ci_prob, "overall": float(inside.mean()), "n": self.n})
        return out

    def bias(self) -> xr.Dataset:
        """Mean error of the posterior mean (``bias``) and its ``rmse`` per parameter."""
        err = self.data["mean"] - self.truth
        return xr.Dataset({"bias": err.mean("simulation"),
                           "rmse": np.sqrt((err**2).mean("simulation"))})

    def save(self, path: Any) -> Any:
        """Write the result as NetCDF (atomically); read it back with :meth:`load`."""
        from lagnest._files import atomic_write

        atomic_write(path, lambda tmp: self.data.to_netcdf(tmp, engine="h5netcdf"))
        return path

    @classmethod
    def load(cls, path: Any) -> CalibrationResult:
        """Read a result written by :meth:`save`."""
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return cls(ds.load())

    # ------------------------------------------------------------------ printing
    #: What the print calls the run.
    _what = "Calibration"
    #: Where the print sends the reader for everything it leaves out.
    _more = (".data (every simulation); .coverage(ci_prob), .bias(); "
             ".converged() and .select() keep the fits that passed")

    def _columns(self) -> dict[str, tuple[Any, str]]:
        """Printed columns per parameter: name to (values, what the column is)."""
        ds, out = self.data, {}
        if not self.n:
            return out
        if "truth" in ds and "mean" in ds:
            err = self.bias()
            out["bias"] = (err["bias"].values, "mean over simulations of the posterior mean "
                                               "minus the truth")
            out["rmse"] = (err["rmse"].values, "root mean square error of the posterior mean")
        if "truth" in ds and "quantiles" in ds:
            se = np.sqrt(0.9 * 0.1 / max(self.n, 1))
            for prob in (0.5, 0.9):
                out[f"coverage_{prob * 100:.0f}"] = (
                    self.coverage(prob)["coverage"].values,
                    f"share of simulations whose central {prob:.0%} interval holds the truth "
                    f"(ideal {prob:.2f}" + (f"; binomial SE about {se:.2f})" if prob == 0.9
                                            else ")"))
        return out

    def _lines(self) -> list[str]:
        """Header lines below the title: fit failures and overall coverage."""
        ds, lines, fits = self.data, [], []
        limits = DEFAULT_THRESHOLDS
        if ("lagnest_calibration" in ds.attrs
                and all(v in ds for v in ("rhat_max_ranked", "ess_min_ranked", "n_divergent"))):
            failed = self.n - int(self.converged().sum())
            fits.append(f"{failed} of {self.n} failed the diagnostics on the calibrated "
                        f"variables (R-hat above {limits['rhat']:g}, ESS below "
                        f"{limits['ess_per_chain']:.0f} per chain or a divergence), kept in "
                        "every number below")
        if "n_warnings" in ds:
            fits.append(f"{int((ds['n_warnings'] > 0).sum())} of {self.n} raised warnings "
                        "(counted in .data['n_warnings'])")
        if fits:
            lines.append("Fits: " + "; ".join(fits) + ".")
        if "truth" in ds and "quantiles" in ds and self.n:
            overall = self.coverage(0.9).attrs["overall"]
            lines.append(f"Coverage of the 90% intervals over every simulation and parameter: "
                         f"{overall:.2f}.")
        return lines

    def _badness(self, table: pd.DataFrame) -> tuple[pd.Series, str] | None:
        """Larger for the rows most worth printing when not all fit, and the words saying so.

        None: print the first rows.
        """
        if "coverage_90" in table:
            return (table["coverage_90"] - 0.9).abs(), "coverage_90 farthest from 0.90"
        return None

    def _config_or_empty(self) -> dict[str, Any]:
        """:attr:`config`, or ``{}`` for a hand-made result without provenance."""
        with contextlib.suppress(KeyError, ValueError, TypeError):
            return self.config
        return {}

    def _summary_print(self, rows: int = 15) -> ResultSummary:
        """The print: a header, one row per parameter (at most ``rows``), the columns."""
        model = (self._config_or_empty().get("model") or {}).get("model", "a model")
        n_par = int(self.data.sizes.get("parameter", 0))
        title = (f"{self._what} of {model}: {self.n} simulation{'s' * (self.n != 1)}, "
                 f"{n_par} parameter{'s' * (n_par != 1)}"
                 + self._title_tail())
        columns = self._columns()
        # rounded as printed, plus 0.0 so that a small negative value prints 0.00, not -0.00
        table = pd.DataFrame({k: np.round(np.asarray(v, dtype=float), 2) + 0.0
                              for k, (v, _) in columns.items()},
                             index=pd.Index(self.data["parameter"].values
                                            if "parameter" in self.data.coords
                                            else np.arange(n_par), name="parameter"))
        lines = self._lines()
        badness = self._badness(table)
        if len(table) > rows:  # the worst rows, in their order
            keep, which = table.index[:rows], " (the first)"
            if badness is not None:
                keep = badness[0].sort_values(ascending=False, kind="stable").index[:rows]
                which = f" ({badness[1]})"
            table = table.loc[table.index.isin(keep)]
            lines.append(f"Printed: {rows} of {n_par} parameters{which}.")
        return ResultSummary(
            title, table, lines=tuple(lines), float_format="{:.2f}",
            columns={k: meaning for k, (_, meaning) in columns.items()},
            notes=(f"Full data: {self._more}.",))

    def _title_tail(self) -> str:
        return ""

    def __repr__(self) -> str:
        return str(self._summary_print())

    def _repr_html_(self) -> str:
        return self._summary_print()._repr_html_()


class RecoveryResult(CalibrationResult):
    """Result of :func:`recovery`: fits of many datasets simulated from one fixed truth."""

    _what = "Parameter recovery"

    def _title_tail(self) -> str:
        return " simulated from one fixed truth"

    def _columns(self) -> dict[str, tuple[Any, str]]:
        ds, out = self.data, {}
        if "truth" in ds and "mean" in ds and self.n:
            out["truth"] = (ds["truth"].isel(simulation=0).values, "the fixed true value")
            out["mean"] = (ds["mean"].mean("simulation").values,
                           "posterior mean, averaged over simulations")
        return out | super()._columns()


class SBCResult(CalibrationResult):
    """Result of :func:`sbc`: ranks of prior draws among their posteriors.

    ``data`` also holds ``ranks`` ``(simulation, parameter)``, integers in
    ``0..n_rank_draws``.
    """

    _what = "Simulation-based calibration"
    _more = (".data (every simulation); .ranks, .uniformity(), "
             ".rank_histogram(), .coverage(ci_prob), .bias(); .plot(), .plot_ecdf(); "
             ".converged() and .select() keep the fits that passed")

    def _title_tail(self) -> str:
        n_rank = self.data.attrs.get("n_rank_draws")
        return "" if n_rank is None else f", ranked among {int(n_rank)} posterior draws"

    def _uniformity(self) -> xr.Dataset | None:
        """:meth:`uniformity` for the print, computed once (the data do not change)."""
        if "ranks" not in self.data or "n_rank_draws" not in self.data.attrs or not self.n:
            return None
        if "_uniformity_cache" not in self.__dict__:
            seed = int(self._config_or_empty().get("seed", 0))
            self.__dict__["_uniformity_cache"] = self.uniformity(seed=seed)
        return self.__dict__["_uniformity_cache"]

    def _columns(self) -> dict[str, tuple[Any, str]]:
        out = super()._columns()
        test = self._uniformity()
        if test is not None:
            out["chi2_p"] = (test["chi2_p"].values, f"p-value of uniform ranks, chi-square "
                                                    f"over {test.attrs['bins']} bins "
                                                    "(small: miscalibrated)")
            out["ks_p"] = (test["ks_p"].values, "p-value of uniform ranks, Kolmogorov-Smirnov "
                                                "(randomised PIT)")
        return out

    def _lines(self) -> list[str]:
        test = self._uniformity()
        lines = []
        if test is not None:
            p = test.attrs["overall_p"]
            words = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
            lines.append(f"Uniform ranks, all parameters: {words} (smallest chi-square p x "
                         "number of parameters, capped at 1).")
        return lines + super()._lines()

    def _badness(self, table: pd.DataFrame) -> tuple[pd.Series, str] | None:
        if "chi2_p" in table:
            return -table["chi2_p"], "smallest chi2_p"
        return super()._badness(table)

    @property
    def ranks(self) -> xr.DataArray:
        """Ranks ``(simulation, parameter)`` in ``0..n_rank_draws``."""
        return self.data["ranks"]

    @property
    def n_rank_draws(self) -> int:
        """Thinned posterior draws each truth was ranked among."""
        return int(self.data.attrs["n_rank_draws"])

    def uniformity(self, bins: int | None = None, seed: int | None = None) -> xr.Dataset:
        """Tests of uniform ranks per parameter and overall; see :func:`uniformity_test`."""
        seed = int(self.config["seed"]) if seed is None else seed
        return uniformity_test(self.ranks, self.n_rank_draws, bins=bins, seed=seed)

    def rank_histogram(self, bins: int | None = None, parameters: list[str] | None = None,
                       prob: float = 0.99) -> xr.Dataset:
        """Counts of ranks per bin and the pointwise binomial band of uniform ranks.

        Parameters
        ----------
        bins : int, optional
            Number of bins (default as in :func:`uniformity_test`).
        parameters : list of str, optional
            Parameters (default all).
        prob : float, default 0.99
            Probability of the band: the central ``prob`` interval of the
            Binomial(n, share of the bin) count of one bin.

        Returns
        -------
        xarray.Dataset
            ``counts`` (parameter, bin), ``lower`` and ``upper`` (bin); attrs ``n``,
            ``prob``, ``expected`` (the mean count per bin).
        """
        ranks = self.ranks if parameters is None else self.ranks.sel(parameter=parameters)
        edges = bin_edges(self.n_rank_draws, self.n, bins)
        n_bins = len(edges) - 1
        share = np.diff(edges) / (self.n_rank_draws + 1)
        counts = np.stack([np.histogram(ranks.sel(parameter=name).values, bins=edges)[0]
                           for name in ranks["parameter"].values])
        return xr.Dataset(
            {"counts": (("parameter", "bin"), counts),
             "lower": (("bin",), stats.binom.ppf((1 - prob) / 2, self.n, share)),
             "upper": (("bin",), stats.binom.ppf((1 + prob) / 2, self.n, share))},
            coords={"parameter": ranks["parameter"].values, "bin": np.arange(n_bins)},
            attrs={"n": self.n, "prob": float(prob), "expected": self.n / n_bins},
        )

    def ecdf_difference(self, parameters: list[str] | None = None, ci_prob: float = 0.95,
                        n_simulations: int = 1000) -> xr.Dataset:
        """ECDF of the ranks minus the uniform CDF, with simultaneous bands (Säilynoja et al.).

        Ranks are mapped to ``(rank + u) / (n_rank_draws + 1)`` with ``u`` uniform (seeded
        by the run seed), which is exactly uniform on [0, 1] under calibration; the
        simultaneous ``ci_prob`` band comes from :func:`arviz_stats.ecdf_utils.ecdf_pit`.

        Returns
        -------
        xarray.Dataset
            ``difference``, ``lower``, ``upper`` (parameter, point) at ``x`` (point);
            attrs ``n``, ``ci_prob``.
        """
        from arviz_stats.ecdf_utils import ecdf_pit

        ranks = self.ranks if parameters is None else self.ranks.sel(parameter=parameters)
        rng = np.random.default_rng([int(self.config["seed"]), 1])
        pit = _randomised_pit(ranks.values, self.n_rank_draws, rng)
        rows = [ecdf_pit(pit[:, j], ci_prob, n_simulations, rng=np.random.default_rng(214))
                for j in range(pit.shape[1])]
        x = rows[0][0]
        return xr.Dataset(
            {name: (("parameter", "point"), np.stack([r[k] - x for r in rows]))
             for k, name in ((1, "difference"), (2, "lower"), (3, "upper"))},
            coords={"parameter": ranks["parameter"].values, "x": ("point", x)},
            attrs={"n": self.n, "ci_prob": float(ci_prob)},
        )

    def plot(self, bins: int | None = None, parameters: list[str] | None = None,
             prob: float = 0.99, ncols: int = 4) -> Any:
        """Rank histograms with the band of uniform ranks (:meth:`rank_histogram`).

        Drawn by :func:`lagnest.viz.plots.sbc_rank_histograms`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return _hooks.SBC_RANK_FIGURE(self.rank_histogram(bins, parameters, prob), ncols=ncols)

    def plot_ecdf(self, parameters: list[str] | None = None, ci_prob: float = 0.95,
                  ncols: int = 4, n_simulations: int = 1000) -> Any:
        """ECDF-difference plots of the ranks (:meth:`ecdf_difference`).

        Drawn by :func:`lagnest.viz.plots.sbc_ecdf`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return _hooks.SBC_ECDF_FIGURE(self.ecdf_difference(parameters, ci_prob, n_simulations),
                                      ncols=ncols)


# =========================================================================== uniformity


def bin_edges(n_rank_draws: int, n: int, bins: int | None = None) -> np.ndarray:
    """Edges of rank bins over ``0..n_rank_draws`` (default: equal-probability bins).

    The default number of bins is the largest divisor of ``n_rank_draws + 1`` that keeps
    at least 10 expected ranks per bin (at least 2 bins), so every bin holds the same
    number of rank values and has the same probability under uniformity.
    """
    values = n_rank_draws + 1
    if bins is None:
        divisors = [b for b in range(2, values + 1) if values % b == 0 and n / b >= 10]
        bins = max(divisors) if divisors else 2
    if not 2 <= bins <= values:
        raise ValueError(f"bins must be in 2..{values}, got {bins}")
    return np.unique(np.round(np.linspace(0, values, bins + 1)).astype(np.int64)) - 0.5


def _randomised_pit(ranks: np.ndarray, n_rank_draws: int, rng: np.random.Generator) -> np.ndarray:
    return (np.asarray(ranks, dtype=float) + rng.random(np.shape(ranks))) / (n_rank_draws + 1)


def uniformity_test(ranks: Any, n_rank_draws: int, bins: int | None = None,
                    seed: int = 0) -> xr.Dataset:
    """Tests that SBC ranks are uniform on ``0..n_rank_draws``, per parameter and overall.

    Parameters
    ----------
    ranks : array-like or xarray.DataArray, shape (simulation, parameter)
        Integer ranks.
    n_rank_draws : int
        Draws each truth was ranked among (ranks take ``n_rank_draws + 1`` values).
    bins : int, optional
        Bins of the chi-square test (default :func:`bin_edges`).
    seed : int, default 0
        Seed of the randomisation of the KS test.

    Returns
    -------
    xarray.Dataset
        Per ``parameter``: ``chi2``, ``chi2_df``, ``chi2_p`` (Pearson chi-square of the
        bin counts against their expected counts under uniformity), ``ks`` and ``ks_p``
        (Kolmogorov-Smirnov of the randomised PIT ``(rank + u) / (n_rank_draws + 1)``,
        ``u`` ~ U(0, 1), which is exactly U(0, 1) under uniform discrete ranks, so the
        continuous KS test applies). ``attrs``: ``bins``, ``n`` and the overall test
        ``overall_p``: Bonferroni on the smallest chi-square p-value,
        ``min(1, P x min_j chi2_p_j)``, valid however the parameters depend on each other
        (``overall_ks_p`` likewise for KS).

    Notes
    -----
    Ranks are discrete, so a KS test on the ranks themselves would be conservative; the
    randomisation makes it exact at the cost of a little noise (fixed by ``seed``).
    """
    da = ranks if isinstance(ranks, xr.DataArray) else xr.DataArray(
        np.asarray(ranks), dims=("simulation", "parameter"))
    values = np.asarray(da.transpose("simulation", "parameter").values)
    if values.size and (values.min() < 0 or values.max() > n_rank_draws):
        raise ValueError(f"ranks must lie in 0..{n_rank_draws}")
    n, n_par = values.shape
    edges = bin_edges(n_rank_draws, n, bins)
    expected = n * np.diff(edges) / (n_rank_draws + 1)
    counts = np.stack([np.histogram(values[:, j], bins=edges)[0] for j in range(n_par)])
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=1)
    df = len(expected) - 1
    chi2_p = stats.chi2.sf(chi2, df)
    pit = _randomised_pit(values, n_rank_draws, np.random.default_rng([int(seed), 0]))
    ks = [stats.kstest(pit[:, j], "uniform") for j in range(n_par)]
    coords = {"parameter": da["parameter"].values} if "parameter" in da.coords else {}
    out = xr.Dataset(
        {
            "chi2": ("parameter", chi2),
            "chi2_df": ("parameter", np.full(n_par, df)),
            "chi2_p": ("parameter", chi2_p),
            "ks": ("parameter", np.array([k.statistic for k in ks])),
            "ks_p": ("parameter", np.array([k.pvalue for k in ks])),
        },
        coords=coords,
    )
    out.attrs.update({
        "bins": len(expected),
        "n": n,
        "overall_p": float(min(1.0, n_par * chi2_p.min())) if n_par else np.nan,
        "overall_ks_p": float(min(1.0, n_par * out["ks_p"].values.min())) if n_par else np.nan,
        "overall": "Bonferroni: min(1, number of parameters x smallest p-value)",
    })
    return out


# =========================================================================== drivers


def _prepare(model: Any, seed: int) -> tuple[tuple[str, ...], np.ndarray, list[str], xr.Dataset]:
    """Calibration variables, the non-constant cells (from prior draws) and their labels."""
    names = calibration_vars(model)
    with _quiet_prior():
        prior = model.prior_predictive(draws=N_PRIOR_CHECK, seed=seed).draws
    missing = [n for n in names if n not in prior]
    if missing:
        raise ValueError(f"calibration_vars {missing} are not variables of the model")
    values, labels = _flatten(prior, names)
    keep = np.ptp(values, axis=0) > 0
    # a cell equal to an earlier one in every draw (the mirror of a symmetric matrix's
    # cell, e.g. a residual correlation) would be ranked twice
    first = np.zeros(values.shape[1], dtype=bool)
    first[np.unique(np.round(values, 10), axis=1, return_index=True)[1]] = True
    keep &= first
    return names, keep, [lab for lab, k in zip(labels, keep, strict=True) if k], prior


def _warm(model: Any, options: Mapping[str, Any], seed: int) -> Any:
    def warm() -> None:
        _fit_quietly(model, seed=seed, **{**options, "draws": min(options["draws"], 20),
                                          "tune": min(options["tune"], 20), "chains": 1})
    return warm


def _assemble(cls: type[CalibrationResult], results: dict[tuple, dict], n: int,
              labels: list[str], attrs: dict[str, Any]) -> CalibrationResult:
    rows = [results[(i,)] for i in range(n)]
    dims = ("simulation", "parameter")
    data: dict[str, Any] = {
        name: (dims, np.array([r[name] for r in rows], dtype=float).reshape(n, len(labels)))
        for name in ("truth", "mean", "sd")
    }
    data["quantiles"] = (("simulation", "parameter", "quantile"),
                         np.array([r["quantiles"] for r in rows], dtype=float)
                         .reshape(n, len(labels), len(QUANTILES)))
    if rows and "ranks" in rows[0]:
        data["ranks"] = (dims, np.array([r["ranks"] for r in rows], dtype=np.int64)
                         .reshape(n, len(labels)))
    for field in ("rhat_max", "ess_bulk_min", "ess_tail_min", "n_divergent", "seconds",
                  "compile_seconds", "sampling_seconds", "rhat_max_ranked", "ess_min_ranked"):
        data[field] = ("simulation", np.array([r["fit"].get(field, np.nan) for r in rows],
                                              dtype=float))
    data["n_warnings"] = ("simulation", np.array([len(r["fit"]["warnings"]) for r in rows]))
    ds = xr.Dataset(data, coords={"simulation": np.arange(n), "parameter": labels,
                                  "quantile": list(QUANTILES)})
    ds.attrs.update(attrs)
    return cls(ds)


def _run(kind: str, model: Any, n: int, seed: int, truth: Any, options: dict[str, Any],
         n_rank_draws: int, client: Any, n_jobs: int | None, path: Any,
         progress: bool) -> CalibrationResult:
    if isinstance(n, bool) or int(n) < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    names, keep, labels, prior = _prepare(model, seed)
    if truth is not None:
        truth = _fixed_truth(truth, prior, names)
    config = model.config
    run_config = {"kind": kind, "model_id": config["id"], "seed": int(seed),
                  "sampler": options, "vars": list(names), "labels": labels,
                  "n_rank_draws": n_rank_draws,
                  "truth": None if truth is None else _flatten(truth, names)[0].tolist()}
    if model.start_method is not None:  # (absent otherwise: earlier runs keep their id)
        run_config["start_method"] = model.start_method
    payload = {"config": config, "fit_data": model.fit_data(), "vars": names,
               "keep": keep, "truth": truth, "sampler": options, "n_rank_draws": n_rank_draws}
    results, info = engine.run_tasks(
        _calibration_task, payload, [(i,) for i in range(int(n))], seed=seed,
        config=run_config, path=path, client=client, n_jobs=n_jobs, progress=progress,
        desc=kind, warm=_warm(model, options, seed))
    attrs = {
        "lagnest_calibration": json.dumps({**run_config, "run_id": info["run_id"],
                                           "model": config, "versions": package_versions()},
                                          default=str),
        "n_rank_draws": n_rank_draws,
        "lagnest_run": json.dumps({k: info[k] for k in ("backend", "n_workers")}
                                  | {k: [list(key) for key in info[k]]
                                     for k in ("computed", "resumed")}),
    }
    cls = SBCResult if kind == "sbc" else RecoveryResult
    return _assemble(cls, results, int(n), labels, attrs)


def _check_instance(model: Any, call: str) -> None:
    """Refuse a model class where a model on its corpus is needed (TypeError)."""
    if isinstance(model, type):
        raise TypeError(
            f"pass a model instance, e.g. calibration.{call}({model.__name__}(seqs, ...)"
            f"{', truth' if call == 'recovery' else ''}), not the class")


def _fixed_truth(truth: Any, prior: xr.Dataset, names: tuple[str, ...]) -> xr.Dataset:
    """The fixed truth as a one-draw Dataset shaped like the model's variables."""
    template = prior.isel(chain=0, draw=0, drop=True)
    out = {}
    for name in template.data_vars:
        if name not in truth:
            if name in names:
                raise ValueError(f"truth lacks the calibration variable {name!r}")
            continue
        value = np.asarray(truth[name].values if hasattr(truth[name], "values")
                           else truth[name], dtype=float)
        ref = template[name]
        if value.shape != ref.shape:
            raise ValueError(f"truth[{name!r}] has shape {value.shape}, expected {ref.shape} "
                             f"(dims {ref.dims})")
        out[name] = (ref.dims, value)
    return xr.Dataset(out, coords=template.coords)


def sbc(
    model: Any,
    n: int = 200,
    seed: int = 0,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
    n_rank_draws: int = 99,
    sampler: str = "pymc",
    target_accept: float | None = None,
    client: Any = None,
    n_jobs: int | None = None,
    path: Any = None,
    progress: bool = True,
) -> SBCResult:
    """Simulation-based calibration of a model on its own design (Talts et al. 2018).

    For each simulation i: draw the parameters from the prior, simulate observed arrays
    over the model's design with :meth:`~lagnest.models.base.BayesianModel.simulate`,
    refit the model on them (same compiled graph), and rank each true value of
    ``model.calibration_vars`` among ``n_rank_draws`` evenly spaced posterior draws.

    Parameters
    ----------
    model : BayesianModel
        A model on its corpus (or rebuilt from a result); it must declare
        ``calibration_vars``.
    n : int, default 200
        Number of simulations.
    seed : int, default 0
        Run seed; simulation i uses ``SeedSequence([seed, i])`` (for its prior draw,
        simulated data, fit and rank ties), so results do not depend on scheduling.
    draws, tune, chains : int
        Sampler settings of every fit (chains run one after the other in each worker).
    n_rank_draws : int, default 99
        Thinned draws per rank (ranks take ``n_rank_draws + 1`` values); thinning evenly
        across the chains reduces autocorrelation.
    sampler : str, default "pymc"
        NUTS implementation (see :meth:`~lagnest.models.base.BayesianModel.fit`).
    target_accept : float, optional
        Default: the model's.
    client : distributed.Client, optional
        Run the fits on this dask cluster.
    n_jobs : int, optional
        Local worker processes (default: CPUs; 1 = in this process).
    path : path-like, optional
        Folder where each finished simulation is written; a rerun resumes from it.
    progress : bool, default True
        Progress bar (tqdm, when installed).

    Returns
    -------
    SBCResult
        ``ranks``, ``truth``, posterior summaries, per-fit diagnostics;
        ``uniformity()``, ``coverage()``, ``plot()``, ``plot_ecdf()``.

    Notes
    -----
    Cells that are constant under the prior (structural zeros), and cells equal to an
    earlier cell in every prior draw (the mirror half of a symmetric matrix), are not
    ranked. The
    priors are sampled with PyMC's prior sampler (a joint draw of every variable,
    deterministic ones included), so ``truth`` is exactly what the model's prior implies.

    References
    ----------
    .. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A., & Gelman, A. (2018).
       Validating Bayesian inference algorithms with simulation-based calibration.
       arXiv:1804.06788.
    .. [2] Säilynoja, T., Bürkner, P.-C., & Vehtari, A. (2022). Graphical test for
       discrete uniformity and its applications in goodness-of-fit evaluation and
       multiple sample comparison. *Statistics and Computing, 32*, 32.
    """
    _check_instance(model, "sbc")
    if n_rank_draws < 1 or n_rank_draws > draws * chains:
        raise ValueError(f"n_rank_draws must be in 1..draws x chains = {draws * chains}, "
                         f"got {n_rank_draws}")
    options = _sampler_options(draws, tune, chains, sampler, target_accept)
    return _run("sbc", model, n, seed, None, options, int(n_rank_draws), client, n_jobs,
                path, progress)  # type: ignore[return-value]


def recovery(
    model: Any,
    truth: Any,
    n: int = 50,
    seed: int = 0,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
    sampler: str = "pymc",
    target_accept: float | None = None,
    client: Any = None,
    n_jobs: int | None = None,
    path: Any = None,
    progress: bool = True,
) -> RecoveryResult:
    """Coverage and bias from ``n`` datasets simulated from one fixed truth.

    Parameters
    ----------
    model : BayesianModel
        The model (declaring ``calibration_vars``).
    truth : mapping or xarray.Dataset
        One draw of the model's variables, e.g. ``result.posterior.isel(chain=0,
        draw=0)`` or ``model.prior_predictive(draws=1).draws.isel(chain=0, draw=0)``;
        it must hold what :meth:`simulate` needs and every calibration variable, shaped
        like the model's variables.
    n : int, default 50
        Number of simulated datasets.
    seed : int, default 0
        Run seed (dataset i uses ``SeedSequence([seed, i])``).
    draws, tune, chains, sampler, target_accept, client, n_jobs, path, progress
        As in :func:`sbc`.

    Returns
    -------
    RecoveryResult
        ``coverage(ci_prob)`` and ``bias()`` per parameter, per-fit diagnostics.
    """
    _check_instance(model, "recovery")
    options = _sampler_options(draws, tune, chains, sampler, target_accept)
    return _run("recovery", model, n, seed, truth, options, 0, client, n_jobs, path,
                progress)  # type: ignore[return-value]
