"""Does ``compare_states`` recover the true number of hidden states? (simulated studies)

Each study simulates a corpus from a hidden Markov model with K_true = 2 or 3 states
(written out here in NumPy, not with lagnest's own hook), then runs
``lagnest.compare_states(seqs, ["a", "b"], n_states=(2, 3, 4))``: one
``HiddenMarkovModel`` per K, leave-one-session-out elpd by PSIS, AIC and BIC. Recorded per
study: the K each criterion picks (elpd: the highest among the fits that passed their
diagnostics, and the fewest states within 2 dse of it; AIC and BIC: the lowest), whether
every fit passed, and the elpd differences.

Truth: two categorical streams ``a`` and ``b`` of three codes each; state k emits
``a = k mod 3`` and ``b = (k // 3 + k) mod 3`` with probability 0.7 (0.15 each other code),
so each state has its own profile; every state stays with 0.85 and moves to each other
state with equal probability; dyad deviations of the emission logits N(0, 0.3^2). The
first state of a session is uniform. Design: 6 dyads x 4 sessions x 50 segments (1,200
segments), no uncoded segments.

Run: ``.venv/bin/python benchmarks/hmm_state_selection.py --studies 20`` (resumable:
finished studies are kept in ``results/hmm_state_selection.json``, or ``--out``'s, and
resumed when the sampler settings, the priors and the model's start method are the same). Writes
``results/hmm_state_selection.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

import lagnest as ln

RESULTS = Path(__file__).parent / "results"
DYADS, SESSIONS, SEGMENTS = 6, 4, 50
CANDIDATES = (2, 3, 4)


def emission_profiles(k: int) -> list[np.ndarray]:
    """(K, 3) emission probabilities of streams a and b."""
    out = []
    for stream in range(2):
        p = np.full((k, 3), 0.15)
        for s in range(k):
            p[s, (s if stream == 0 else s // 3 + s) % 3] = 0.7
        out.append(p)
    return out


def simulate(k: int, seed: int) -> ln.Sequences:
    """One corpus from the K-state truth."""
    rng = np.random.default_rng(seed)
    trans = np.full((k, k), 0.15 / (k - 1))
    np.fill_diagonal(trans, 0.85)
    base = [np.log(p) for p in emission_profiles(k)]
    streams: dict[str, list[list[str]]] = {"a": [], "b": []}
    dyads = []
    for d in range(DYADS):
        probs = []
        for logits in base:
            x = logits + rng.normal(0.0, 0.3, size=logits.shape)
            probs.append(np.exp(x) / np.exp(x).sum(1, keepdims=True))
        for _ in range(SESSIONS):
            z = rng.integers(k)
            a, b = [], []
            for t in range(SEGMENTS):
                if t:
                    z = rng.choice(k, p=trans[z])
                a.append("xyz"[rng.choice(3, p=probs[0][z])])
                b.append("xyz"[rng.choice(3, p=probs[1][z])])
            streams["a"].append(a)
            streams["b"].append(b)
            dyads.append(f"D{d + 1}")
    return ln.Sequences.from_sequences(streams, dyads=dyads,
                                       codes={"a": list("xyz"), "b": list("xyz")})


def one_study(k_true: int, i: int, args: argparse.Namespace) -> dict:
    """Simulate, compare K = 2, 3, 4, record each criterion's pick."""
    seed = int(np.random.SeedSequence([args.seed, k_true, i]).generate_state(1)[0])
    seqs = simulate(k_true, seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comp = ln.compare_states(seqs, ["a", "b"], n_states=CANDIDATES, order_by="a:y",
                                 fit_kwargs={"seed": seed % 100_000, "draws": args.draws,
                                             "tune": args.tune, "chains": 4, "cores": 1,
                                             "warn": False})
    table = comp.table
    return {"k_true": k_true, "study": i, "seed": seed, "seconds": time.perf_counter() - t0,
            "pick_elpd": comp.best, "pick_parsimonious": comp.parsimonious(),
            "pick_aic": int(table["aic"].idxmin()),
            "pick_bic": int(table["bic"].idxmin()),
            "converged": {int(k): bool(v) for k, v in table["converged"].items()},
            "elpd": {int(k): float(v) for k, v in table["elpd"].items()},
            "elpd_diff": {int(k): float(v) for k, v in table["elpd_diff"].items()},
            "dse": {int(k): float(v) for k, v in table["dse"].items()},
            "k_high": {int(k): int(v) for k, v in table["k_high"].items()}}


def model_priors() -> dict[str, str]:
    """The HMM's default priors: studies fitted under other priors are not resumed."""
    return {name: str(prior) for name, prior in ln.HiddenMarkovModel.default_priors.items()}


def write(path: Path, studies: list[dict], args: argparse.Namespace) -> None:
    """JSON of every study; markdown of the share of correct picks per criterion."""
    path.with_suffix(".json").write_text(json.dumps(
        {"settings": vars(args), "priors": model_priors(),
         "start_method": ln.HiddenMarkovModel.start_method, "studies": studies},
        indent=1) + "\n")
    lines = ["# Choosing the number of hidden states on simulated studies", "",
             f"Command: `python benchmarks/hmm_state_selection.py --studies {args.studies}`. "
             f"Design: {DYADS} dyads x {SESSIONS} sessions x {SEGMENTS} segments, two "
             "3-code streams; truth and criteria in the script's docstring. Candidates K = "
             f"{', '.join(map(str, CANDIDATES))}; 4 chains x {args.draws} draws (tune "
             f"{args.tune}) per fit; the model's default priors ("
             + ", ".join(f"{k} {v}" for k, v in model_priors().items())
             + f"); chains started by: {ln.HiddenMarkovModel.start_method}.", "",
             "| true K | studies | highest elpd (LOSO, PSIS) picks it (SE) | fewest K within "
             "2 dse | AIC | BIC | studies with a failed fit | median seconds per study |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in (2, 3):
        sub = [s for s in studies if s["k_true"] == k]
        if not sub:
            continue
        n = len(sub)

        def rate(key: str, sub: list[dict] = sub, k: int = k, n: int = n) -> str:
            p = sum(s[key] == k for s in sub) / n
            return f"{p:.2f} ({np.sqrt(p * (1 - p) / n):.2f})"

        failed = sum(not all(s["converged"].values()) for s in sub)
        lines.append(f"| {k} | {n} | {rate('pick_elpd')} | {rate('pick_parsimonious')} | "
                     f"{rate('pick_aic')} | "
                     f"{rate('pick_bic')} | {failed} | "
                     f"{np.median([s['seconds'] for s in sub]):.0f} |")
    over = sum(not s["converged"].get(str(s["k_true"] + 1), s["converged"].get(
        s["k_true"] + 1, True)) for s in studies)
    truth = sum(bool(s["converged"].get(str(s["k_true"]), s["converged"].get(s["k_true"])))
                for s in studies)
    lines += ["", f"Fits with one state more than the truth failed their diagnostics in {over} "
              f"of {len(studies)} studies (redundant states do not converge, itself a sign "
              f"that K is too large); the fit with the true K passed in {truth} of "
              f"{len(studies)}. \"Highest elpd\" picks among the fits that passed (all fits "
              "when none did).", ""]
    lines += ["", "Picks per study (true K: highest elpd / fewest within 2 dse / AIC / BIC):",
              ""]
    def by_k(values: dict, fmt: str) -> str:
        return ", ".join(f"K={k} {format(v, fmt)}" for k, v in values.items())

    lines += [f"- K = {s['k_true']}, study {s['study']}: {s['pick_elpd']} / "
              f"{s['pick_parsimonious']} / {s['pick_aic']} / {s['pick_bic']}; elpd_diff "
              f"{by_k(s['elpd_diff'], '.1f')}; converged {by_k(s['converged'], '')}"
              for s in studies]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the studies (resumable) and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=20, help="studies per true K")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--jobs", type=int, default=2, help="studies run in parallel")
    ap.add_argument("--out", default=str(RESULTS / "hmm_state_selection"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    studies: list[dict] = []
    if out.with_suffix(".json").exists():
        old = json.loads(out.with_suffix(".json").read_text())
        same = all(old["settings"].get(key) == getattr(args, key)
                   for key in ("draws", "tune", "seed"))
        if same and old.get("priors") == model_priors() and \
                old.get("start_method") == ln.HiddenMarkovModel.start_method:
            # (older files, without priors or start method, are rerun)
            studies = old["studies"]
    done = {(s["k_true"], s["study"]) for s in studies}
    todo = [(k, i) for i in range(args.studies) for k in (2, 3) if (k, i) not in done]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(one_study, k, i, args) for k, i in todo]
        for future in as_completed(futures):  # each study is written as it finishes
            s = future.result()
            studies.append(s)
            studies.sort(key=lambda x: (x["study"], x["k_true"]))
            print(f"K={s['k_true']} study {s['study']}: elpd {s['pick_elpd']}, AIC "
                  f"{s['pick_aic']}, BIC {s['pick_bic']}, converged {s['converged']}, "
                  f"{s['seconds']:.0f} s", flush=True)
            write(out, studies, args)
    write(out, studies, args)
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
