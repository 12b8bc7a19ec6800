"""Coverage of every interval the scores pages show, under the seeded coder model
(scoring/services/simulation.py): repeat a small simulated study, compute the pages' statistics
with the scoring services themselves (services.consistency, services.intrusion) on the simulated
code tables, and count how often each 95% interval holds the planted value (the statistic's
expectation under the model). Each share comes with its Clopper-Pearson 95% interval; the target
is 92.5–97.5%.

    python benchmarks/bench_coverage.py --reps 400 --seed 1
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from scoring.services import consistency, intrusion  # noqa: E402
from scoring.services.simulation import (COVERAGE_TARGET, CoderModel, StudyDesign,  # noqa: E402
                                         clopper_pearson, covers, expected_modal_share,
                                         parse_rates, planted_solution_consistency,
                                         simulated_answers, simulated_codes)


def one_study(rng, design: StudyDesign, model: CoderModel, tally: dict):
    codes = simulated_codes(rng, design, model)
    per_coder = consistency.cluster_scores(codes)
    for row in per_coder.itertuples():
        planted = expected_modal_share(int(row.n_coded), model.p_for(row.method),
                                       model.distractors)
        tally["cluster consistency (Wilson, per coder)"].append(
            covers(row.wilson_low, row.wilson_high, planted))
    sizes = [design.cluster_size(label) for label in range(design.clusters)]
    for row in consistency.solution_scores(per_coder).itertuples():
        planted = planted_solution_consistency(sizes, model.p_for(row.method), model.distractors)
        tally["solution consistency (t over clusters)"].append(
            covers(row.ci_low, row.ci_high, planted))
    answers = simulated_answers(rng, design, model)
    for name, table in (("intrusion precision per solution × kind (Wilson)",
                         intrusion.solution_scores(answers)),
                        ("intrusion precision per cluster × kind (Wilson)",
                         intrusion.cluster_scores(answers)),
                        ("intrusion precision per coder (Wilson)",
                         intrusion.coder_scores(answers)),
                        ("intrusion precision per kind (Wilson)",
                         intrusion.kind_scores(answers))):
        for row in table.itertuples():
            tally[name].append(covers(row.wilson_low, row.wilson_high, model.intrusion))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--consistency", default="label=0.8,vector=0.6")
    parser.add_argument("--intrusion", type=float, default=0.7)
    parser.add_argument("--coders", type=int, default=5)
    parser.add_argument("--clusters", type=int, default=8)
    parser.add_argument("--posts", type=int, default=10)
    args = parser.parse_args()
    model = CoderModel(consistency=parse_rates(args.consistency), intrusion=args.intrusion)
    design = StudyDesign(coders=args.coders, clusters=args.clusters, posts=args.posts)
    tally = {name: [] for name in ("cluster consistency (Wilson, per coder)",
                                   "solution consistency (t over clusters)",
                                   "intrusion precision per solution × kind (Wilson)",
                                   "intrusion precision per cluster × kind (Wilson)",
                                   "intrusion precision per coder (Wilson)",
                                   "intrusion precision per kind (Wilson)")}
    started = time.perf_counter()
    for rep in range(args.reps):
        one_study(np.random.default_rng([args.seed, rep]), design, model, tally)
    elapsed = time.perf_counter() - started
    print(f"{args.reps} studies: {len(design.solutions)} solutions ({args.consistency}), "
          f"{design.clusters} clusters of {design.posts} posts (last {design.small_cluster}), "
          f"{design.coders} coders ({design.calibration} calibration clusters), 3 passes, "
          f"intrusion q={args.intrusion} with {design.items} items, "
          f"{model.distractors} distractor themes; {elapsed:.1f} s")
    low_target, high_target = COVERAGE_TARGET
    print(f"{'interval':52} {'intervals':>9} {'covered':>8} {'95% CI':>17}  target "
          f"{low_target:.1%}–{high_target:.1%}")
    for name, outcomes in tally.items():
        defined = [o for o in outcomes if o is not None]
        hits = sum(defined)
        low, high = clopper_pearson(hits, len(defined))
        share = hits / len(defined) if defined else float("nan")
        verdict = ("ok" if low_target <= share <= high_target else
                   "over" if share > high_target else "UNDER")
        print(f"{name:52} {len(defined):>9} {share:>8.1%} {low:>8.1%}–{high:<7.1%} {verdict}"
              f"{'' if len(defined) == len(outcomes) else f' ({len(outcomes) - len(defined)} undefined)'}")
    print("Krippendorff's α: the pages show no interval for it (nothing to cover).")


if __name__ == "__main__":
    main()
