"""lagnest's HiddenMarkovModel on mHMMbayes's nonverbal corpus, against mHMMbayes's fits.

The corpus (Aarts, mHMMbayes 1.1.1, ``data/nonverbal.rda``; GPL-3, so it is read from a
snapshot of the mHMMbayes repository at run time and never shipped with lagnest): 10
patient-therapist dyads, 900 one-second observations each, four categorical streams
(patient and therapist vocalising: 1 not, 2 vocalising, 3 transition; looking: 1 not,
2 looking). The reference is what the mHMMbayes tutorial prints for the fits it ships
(``vignettes/nonv_2st_1000it.rda``, 2 states; ``data-raw/nonv_3st_1000it.rda``, 3 states;
the 0.2.0 tutorial's ``vignettes/nonv_4st_1000it.rda``, 4 states, at commit ``V0_2_0``):
the medians of the group-level intercepts after the burn-in, turned into probabilities
(``summary.mHMM``, ``obtain_gamma``, ``obtain_emiss``), and the average AIC over subjects
(``print.mHMM``), extracted by R from those objects (``R`` only; mHMMbayes itself is not
needed). lagnest computes the same summaries from its fit: medians of the typical dyad's
logits turned into probabilities; the AIC from each dyad's median log-likelihood with
mHMMbayes's parameter count.

Run (about 10-30 minutes per K on 2 cores)::

    .venv/bin/python benchmarks/mhmmbayes_nonverbal.py --states 2
    .venv/bin/python benchmarks/mhmmbayes_nonverbal.py --states 3
    .venv/bin/python benchmarks/mhmmbayes_nonverbal.py --states 4

Options: ``--start mhmmbayes`` starts the chains at mHMMbayes's group-level solution
instead of lagnest's EM fit (see :func:`reference_start`), ``--parameterization``
overrides the dyads' form ("auto" by default), ``--start-from FIT`` starts every chain at
the last draw of the chain of a fit saved with ``--save`` that ends with the highest log
density (see :func:`start_at_saved`).

Writes ``benchmarks/results/mhmmbayes_nonverbal_k<K>.{json,md}``
(``mhmmbayes_nonverbal_k<K>_<option>...`` with other options).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from cli_options import as_flags, changed_options, name_parts

import lagnest as ln
from lagnest.models.hmm import FORMS

HERE = Path(__file__).parent
RESULTS = HERE / "results"
MIRROR = Path("/work/.mirror/emmekeaarts+mHMMbayes/repo")
STREAMS = ["p_vocalizing", "p_looking", "t_vocalizing", "t_looking"]
CODES = {"p_vocalizing": ["1", "2", "3"], "p_looking": ["1", "2"],
         "t_vocalizing": ["1", "2", "3"], "t_looking": ["1", "2"]}
#: the commit of mHMMbayes 0.2.0 whose tutorial fits and prints the 4-state model (its
#: fitted object, ``vignettes/nonv_4st_1000it.rda``, is no longer in the repository's HEAD)
V0_2_0 = "176eba0d9c57666f386282504155e41df1d5aed1"
FILES = {"nonverbal.rda": ("HEAD", "data/nonverbal.rda"),
         "nonv_2st_1000it.rda": ("HEAD", "vignettes/nonv_2st_1000it.rda"),
         "nonv_3st_1000it.rda": ("HEAD", "data-raw/nonv_3st_1000it.rda"),
         "nonv_4st_1000it.rda": (V0_2_0, "vignettes/nonv_4st_1000it.rda")}
#: the AIC of the 4-state model as the 0.2.0 tutorial states it (its object keeps no
#: subject log-likelihoods to recompute it)
TUTORIAL_AIC = {2: 3279.0, 3: 3087.0, 4: 2959.0}
EXTRACT_R = HERE / "mhmmbayes_extract.R"


def extract(mirror: Path, out: Path) -> tuple[pd.DataFrame, dict]:
    """The corpus and mHMMbayes's summaries, from a git snapshot of its repository."""
    out.mkdir(parents=True, exist_ok=True)
    for name, (rev, path) in FILES.items():
        blob = subprocess.run(["git", "--git-dir", str(mirror), "show", f"{rev}:{path}"],
                              check=True, capture_output=True).stdout
        (out / name).write_bytes(blob)
    subprocess.run(["Rscript", str(EXTRACT_R), str(out), str(out)], check=True)
    frame = pd.read_csv(out / "nonverbal.csv")
    return frame, json.loads((out / "reference.json").read_text())


def corpus(frame: pd.DataFrame) -> ln.Sequences:
    """One session per dyad, one segment per second, the four streams as categories."""
    table = pd.DataFrame({
        "dyad": "S" + frame["id"].astype(int).astype(str),
        "session": "S" + frame["id"].astype(int).astype(str),
        "segment": frame.groupby("id").cumcount() + 1,
        **{s: frame[s].astype(int).astype(str) for s in STREAMS},
    })
    return ln.Sequences.from_frame(table, codes=CODES)


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Rows of probabilities from free logits (reference category first, logit 0)."""
    full = np.concatenate([np.zeros((logits.shape[0], 1)), logits], axis=1)
    e = np.exp(full - full.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def lagnest_summaries(result, model) -> dict:
    """mHMMbayes's summaries computed from a lagnest fit (typical dyad)."""
    post = result.posterior
    medians = {v: post[v].median(("chain", "draw")).values for v in post.data_vars
               if not v.startswith(("z_", "eta_"))}
    _log_init, log_trans, emission = model.log_probs(medians)  # no z_*: the typical dyad
    gamma = np.exp(log_trans[0])
    emit = {s: np.exp(emission[c][0]) for c, s in enumerate(STREAMS)}
    sd_gamma = post["transition_typical"].std(("chain", "draw")).values
    sd_emit = {s: post[f"emission_typical_{c}"].std(("chain", "draw")).values
               for c, s in enumerate(STREAMS)}
    ll = result.session_log_lik().median(("chain", "draw")).values  # one session per dyad
    return {"gamma": gamma, "gamma_sd": sd_gamma, "emission": emit, "emission_sd": sd_emit,
            "subject_LL": ll}


def best_permutation(ours: dict, ref: dict, k: int) -> tuple[int, ...]:
    """State order of lagnest that matches mHMMbayes's states best (emission profiles)."""
    def cost(perm):
        return sum(np.abs(ours["emission"][s][list(perm)] - np.asarray(ref["emission"][s])).sum()
                   for s in STREAMS)
    return min(itertools.permutations(range(k)), key=cost)


def compare(ours: dict, ref: dict, k: int) -> pd.DataFrame:
    """One row per probability: both medians, both posterior SDs, the standardised gap."""
    perm = list(best_permutation(ours, ref, k))
    rows = []
    g, gsd = ours["gamma"][np.ix_(perm, perm)], ours["gamma_sd"][np.ix_(perm, perm)]
    for i, j in itertools.product(range(k), range(k)):
        rows.append(("transition", f"state {i + 1} -> {j + 1}", g[i, j],
                     ref["gamma"][i][j], gsd[i, j], ref["gamma_sd"][i][j]))
    for s in STREAMS:
        e, esd = ours["emission"][s][perm], ours["emission_sd"][s][perm]
        for i in range(k):
            for q, code in enumerate(CODES[s]):
                rows.append((s, f"state {i + 1}, category {code}", e[i, q],
                             ref["emission"][s][i][q], esd[i, q], ref["emission_sd"][s][i][q]))
    out = pd.DataFrame(rows, columns=["quantity", "cell", "lagnest", "mHMMbayes",
                                      "sd_lagnest", "sd_mHMMbayes"])
    out["z"] = (out["lagnest"] - out["mHMMbayes"]).abs() / np.sqrt(
        out["sd_lagnest"] ** 2 + out["sd_mHMMbayes"] ** 2)
    return out


def reference_start(ref: dict) -> dict:
    """mHMMbayes's group-level solution as a ``start`` of ``HiddenMarkovModel``.

    Its medians (the transition matrix and the emission probabilities; a uniform initial
    distribution) replace lagnest's pooled EM fit as where the chains start: the typical
    dyad starts there and every dyad's EM fit starts from it. A multimodal posterior is
    explored from mHMMbayes's mode to see whether lagnest stays there.
    """
    return {"transition": np.asarray(ref["gamma"], dtype=float),
            "emission": {s: np.asarray(ref["emission"][s], dtype=float) for s in STREAMS}}


def start_at_saved(model, path: Path) -> int:
    """Start every chain at the last draw of the best-ending chain of a saved fit.

    The chain whose last quarter has the highest mean log density (``lp``) is taken; its
    last draw of every free variable replaces the model's starting values (before
    PyMC's jitter). A benchmark's device, not an API: it asks whether the chains stay in
    a region that another run's chains reached late. Returns the chain's index.
    """
    saved = ln.load(path)
    lp = saved.tree["sample_stats"]["lp"].values
    chain = int(np.argmax(lp[:, -max(1, lp.shape[1] // 4):].mean(axis=1)))
    post = saved.posterior
    point = {rv.name: np.asarray(post[rv.name].values[chain, -1])
             for rv in model.build().free_RVs}
    model.start_values = lambda data: point
    return chain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2, choices=(2, 3, 4))
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--start", choices=("em", "mhmmbayes"), default="em",
                        help="where the chains start: lagnest's own (the pooled EM fit, the "
                             "default) or mHMMbayes's group-level solution")
    parser.add_argument("--parameterization", choices=FORMS, default="auto")
    parser.add_argument("--start-from", type=Path, default=None,
                        help="a fit saved with --save: start at its best-ending chain's last "
                             "draw")
    parser.add_argument("--save", type=Path, default=None,
                        help="also save the fit there (lagnest's netCDF result) to study it")
    args = parser.parse_args(argv)
    mirror = args.mirror.resolve()
    git_dir = mirror if (mirror / "HEAD").exists() else mirror / ".git"
    with tempfile.TemporaryDirectory() as tmp:
        frame, reference = extract(git_dir, Path(tmp))
    ref = reference[f"k{args.states}"]
    seqs = corpus(frame)
    start = reference_start(ref) if args.start == "mhmmbayes" else None
    model = ln.HiddenMarkovModel(seqs, STREAMS, args.states, order_by="p_vocalizing:2",
                                 parameterization=args.parameterization, start=start)
    saved_chain = None if args.start_from is None else start_at_saved(model, args.start_from)
    t0 = time.perf_counter()
    result = model.fit(draws=args.draws, tune=args.tune, chains=args.chains,
                       cores=args.cores, seed=args.seed)
    seconds = time.perf_counter() - t0
    if args.save is not None:
        result.save(args.save)
    diag = result.diagnostics
    ours = lagnest_summaries(result, model)
    table = compare(ours, ref, args.states)
    n_par = int(ref["n_par"])
    aic_ours = float(np.mean(2 * n_par - 2 * ours["subject_LL"]))
    labels = result.label_check()
    slowest = result.dyad_mixing().head(3)
    summary = {
        "states": args.states, "segments": len(frame), "dyads": int(frame["id"].nunique()),
        "sampler": {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                    "cores": args.cores, "seed": args.seed},
        "start": args.start, "start_from": None if args.start_from is None else {
            "file": args.start_from.name, "chain": saved_chain},
        "parameterization": dict(model.structure.parameterization),
        "fit_seconds": seconds, "sampling_seconds": result.config.get("sampler", {}).get(
            "sampling_seconds"),
        "diagnostics_ok": bool(diag.ok), "failures": list(diag.failures),
        "rhat_max": float(diag.rhat_max), "ess_bulk_min": float(diag.ess_bulk_min),
        "n_divergent": int(diag.n_divergent),
        "ess_bulk_min_per_second": float(diag.ess_bulk_min / seconds),
        "labels_agree": bool(labels["agree"].all()),
        "slowest_dyads": slowest.to_dict(orient="records"),
        "max_z": float(table["z"].max()), "n_within_2sd": int((table["z"] < 2).sum()),
        "n_quantities": len(table),
        "mean_AIC_mHMMbayes": ref["mean_AIC"], "mean_AIC_lagnest": aic_ours,
        "AIC_mHMMbayes_tutorial_text": TUTORIAL_AIC[args.states],
        "comparison": table.to_dict(orient="records"),
        "versions": {"lagnest": ln.__version__, "python": sys.version.split()[0]},
    }
    RESULTS.mkdir(exist_ok=True)
    # a run with other settings names them in its stem (never overwriting the default's)
    changed = changed_options(parser, args, ("draws", "tune", "chains", "seed", "start",
                                             "parameterization"))
    parts = name_parts(changed)
    flags = as_flags(changed)
    if args.start_from is not None:  # the stem names the saved fit's file; the command
        parts.append(f"from_{args.start_from.stem}")  # line keeps its path as given
        flags = f"{flags} --start-from {args.start_from}".strip()
    stem = RESULTS / "_".join([f"mhmmbayes_nonverbal_k{args.states}", *parts])
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=1, default=float))
    md = [f"# mHMMbayes's nonverbal corpus, {args.states} states: lagnest against mHMMbayes",
          "",
          f"Command: `.venv/bin/python benchmarks/mhmmbayes_nonverbal.py --states "
          f"{' '.join([str(args.states), flags]).strip()}`. "
          + ("The chains start at mHMMbayes's group-level solution (`--start mhmmbayes`). "
             if args.start == "mhmmbayes" else "")
          + (f"The chains start at the last draw of chain {saved_chain} of the saved fit "
             f"`{args.start_from.name}` (the chain ending with the highest log density). "
             if saved_chain is not None else "")
          + f"Dyads {model.structure.parameterization.get('dyad', 'none')}. "
          f"{len(frame)} observations of {frame['id'].nunique()} dyads, "
          "four streams; lagnest `HiddenMarkovModel` (dyad level, states ordered by "
          f"P(p_vocalizing = 2)), {args.chains} chains x {args.draws} draws after "
          f"{args.tune} tuning steps on {args.cores} cores; mHMMbayes: the fit its tutorial "
          "ships (1000 Gibbs iterations, burn-in 200).",
          "",
          f"- fit: {seconds:.0f} s; diagnostics {'pass' if diag.ok else 'FAIL: '}"
          f"{'; '.join(diag.failures)} (R-hat max {diag.rhat_max:.3f}, bulk ESS min "
          f"{diag.ess_bulk_min:.0f}, {diag.n_divergent} divergences); lowest bulk ESS per "
          f"second {diag.ess_bulk_min / seconds:.2f}; chains agree on labels: "
          f"{bool(labels['agree'].all())}",
          "- slowest dyad deviations (`result.dyad_mixing()`): " + "; ".join(
              f"{row.dyad} {row.quantity} (R-hat {row.rhat:.3f}, bulk ESS {row.ess_bulk:.0f})"
              for row in slowest.itertuples()),
          f"- {int((table['z'] < 2).sum())} of {len(table)} group-level probabilities "
          "within 2 combined posterior SDs of mHMMbayes's (largest gap "
          f"{table['z'].max():.2f} SD)",
          f"- average AIC over dyads: lagnest {aic_ours:.1f}, mHMMbayes "
          + (f"{ref['mean_AIC']:.1f}" if ref["mean_AIC"] is not None else "not in its object")
          + f" (2 x {n_par} parameters - 2 x each dyad's median log-likelihood, as "
          f"print.mHMM); the tutorial's text: {TUTORIAL_AIC[args.states]:.0f}",
          "", table.round(3).to_markdown(index=False), ""]
    stem.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md[:8]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
