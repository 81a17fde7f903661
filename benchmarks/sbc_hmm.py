"""SBC of HiddenMarkovModel (rupture episodes with MIA4 on the transitions), thesis-like design.

Design: ``lagnest.simulate.thesis_like(seed=1, sessions_per_dyad=(8, 8),
segments_per_session=(S, S))`` (S = 10 by default, the study's own size; ``--segments``):
its MIA4 codes, sessions, dyads and uncoded segments. Model: ``HiddenMarkovModel(seqs,
["rupture"], 2, transition_predictors=["MIA4"], order_by="rupture:withdrawal")`` with its
default priors. Each simulation draws every parameter from the prior (the ordering
constraint included: the prior's forward draws are sorted), simulates the latent states
and the rupture stream with the model's hook, and refits the same model (4 chains x 1000
draws after 1000 tuning steps, target_accept 0.99); ranked: the typical emission and
transition probabilities, the MIA4 slopes and the dyad scales
(``model.calibration_vars``), under the ordering constraint (states labelled by their
withdrawal log odds).

Prior draws can make the two states nearly alike in the ordered quantity while they
differ in others; the ordering then identifies the labels only weakly and the chains mix
slowly between the two readings. Such fits fail their diagnostics and are counted, and the
ranks are summarised over all fits and over the fits that passed.

Run: ``.venv/bin/python benchmarks/sbc_hmm.py --n 100`` (resumable). Writes
``results/sbc_hmm.{json,md}`` and ``results/sbc_hmm_{ranks,ecdf}.png``.
"""

from __future__ import annotations

import argparse

from cli_options import as_flags, changed_options, name_parts
from sbc_common import run_sbc, summarise, throughput, write

from lagnest.models import HiddenMarkovModel
from lagnest.models.hmm import FORMS
from lagnest.simulate import thesis_like


def main() -> None:
    """Run the SBC and write its results."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--target-accept", type=float, default=0.99)
    ap.add_argument("--segments", type=int, default=10, help="segments per session")
    ap.add_argument("--parameterization", choices=FORMS, default="auto",
                    help="the model's form of the dyad deviations")
    args = ap.parse_args()
    seg = args.segments
    # another form gets its own run folder and results (same seeds; the prior draws of the
    # dyad deviations, and so the truths, differ between forms)
    changed = changed_options(ap, args, ("parameterization",))
    seqs, _ = thesis_like(seed=1, sessions_per_dyad=(8, 8), segments_per_session=(seg, seg))
    model = HiddenMarkovModel(seqs, ["rupture"], 2, transition_predictors=["MIA4"],
                              order_by="rupture:withdrawal",
                              parameterization=args.parameterization)
    sampler = {"draws": args.draws, "tune": args.tune, "chains": 4, "n_rank_draws": 99,
               "target_accept": args.target_accept}
    res, wall = run_sbc(model, "-".join(["sbc_hmm", str(seg), *name_parts(changed)]), args.n,
                        2028, sampler, args.jobs)
    extra = {"design": f"thesis_like(seed=1), 6 dyads x 8 sessions x {seg} segments",
             "model": "HiddenMarkovModel(seqs, ['rupture'], 2, transition_predictors=['MIA4'], "
                      f"order_by='rupture:withdrawal'), dyads "
                      f"{model.structure.parameterization.get('dyad')}",
             "sampler": sampler, "throughput": throughput(res, wall, args.jobs)}
    summary = summarise(res, wall, extra)
    stem = "_".join(["sbc_hmm", *name_parts(changed)])
    write(stem, summary, res, "SBC of HiddenMarkovModel (rupture episodes, thesis-like "
          "design)", " ".join([f"python benchmarks/sbc_hmm.py --n {args.n} --segments {seg}",
                               as_flags(changed)]).strip())
    print(open(__file__.replace("sbc_hmm.py", f"results/{stem}.md")).read())


if __name__ == "__main__":
    main()
