"""Pairwise comparisons of solutions and the round planner, on simulated studies at the paper's
size (3 methods x 25 clusters x 10 posts; 3 coders, a calibration set of 10 clusters coded by
all): the Holm-adjusted false-positive rate with no planted difference (target <= 5 %), the
power with a planted difference of 0.15, and the planner's closed-form half-width against the
simulated one. Each share with its Clopper-Pearson 95 % interval.

    python benchmarks/bench_comparisons.py --reps 400 --seed 1
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

from scipy import stats  # noqa: E402

from scoring.services.round_planning import Design, plan, power_at, simulate_design  # noqa: E402


def share(x: float, n: int) -> str:
    k = round(x * n)
    ci = stats.binomtest(k, n).proportion_ci(method="exact")
    return f"{x:6.1%} [{ci.low:.1%}, {ci.high:.1%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    design = Design(clusters_per_solution=25, posts_per_cluster=10, coders=3,
                    calibration_clusters=10, solutions=3)
    planned = plan(design)
    t0 = time.perf_counter()
    null = simulate_design(design, 0.0, args.reps, args.replicates, args.seed)
    alt = simulate_design(design, 0.15, args.reps, args.replicates, args.seed + 1)
    seconds = time.perf_counter() - t0
    print(f"design: {design}")
    print(f"{'quantity':58} {'value':>24}")
    print(f"{'false positives (any Holm-adjusted pair, no difference)':58} "
          f"{share(null['any_distinguishable'], args.reps):>24}")
    print(f"{'power (planted 0.15: both pairs with it distinguishable)':58} "
          f"{share(alt['planted_distinguishable'], args.reps):>24}")
    print(f"{'one pair at 0.15, raw p < 0.05 (simulated)':58} "
          f"{share(alt['one_pair_raw'], args.reps):>24}")
    print(f"{'one pair at 0.15, power the planner predicts':58} "
          f"{power_at(design, 0.15):>24.1%}")
    print(f"{'one pair, no difference, raw p < 0.05':58} "
          f"{share(null['one_pair_raw'], args.reps):>24}")
    print(f"{'half-width, planner (closed form)':58} {planned['half_width']:>24.3f}")
    print(f"{'half-width, simulated (mean of the t intervals)':58} {null['mean_half_width']:>24.3f}")
    print(f"{'detectable difference at 80 % power (planner)':58} "
          f"{planned['detectable_difference']:>24.3f}")
    print(f"{'alpha interval width from the calibration set (planner)':58} "
          f"{planned['alpha_interval_width']:>24.3f}")
    print(f"{args.reps} repetitions x 2, {args.replicates} bootstrap replicates each: "
          f"{seconds:.0f} s")


if __name__ == "__main__":
    main()
