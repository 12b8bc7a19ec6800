"""Plan a validation round before it opens: the expected half-width of each solution's
consistency interval, the smallest difference detectable with 80 % power and how precisely α
will be estimated from the calibration set (services.round_planning states the model)."""
from django.core.management.base import BaseCommand

from scoring.services.round_planning import (DEFAULT_CLUSTER_SD, DEFAULT_CODER_SD, DEFAULT_MEAN,
                                             Design, plan)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--solutions", type=int, default=3)
        parser.add_argument("--clusters-per-solution", type=int, default=25)
        parser.add_argument("--posts-per-cluster", type=int, default=10)
        parser.add_argument("--coders", type=int, default=3)
        parser.add_argument("--calibration-clusters", type=int, default=10)
        parser.add_argument("--full-overlap", action="store_true",
                            help="every coder codes every cluster")
        parser.add_argument("--mean", type=float, default=DEFAULT_MEAN,
                            help="expected consistency (a pilot's estimate)")
        parser.add_argument("--cluster-sd", type=float, default=DEFAULT_CLUSTER_SD)
        parser.add_argument("--coder-sd", type=float, default=DEFAULT_CODER_SD)

    def handle(self, *args, **o):
        design = Design(clusters_per_solution=o["clusters_per_solution"],
                        posts_per_cluster=o["posts_per_cluster"], coders=o["coders"],
                        calibration_clusters=o["calibration_clusters"],
                        solutions=o["solutions"], overlap_full=o["full_overlap"],
                        mean=o["mean"], cluster_sd=o["cluster_sd"], coder_sd=o["coder_sd"])
        result = plan(design)
        if result["half_width"] is None:
            self.stdout.write(result["note"])
            return
        alpha = result["alpha_interval_width"]
        self.stdout.write(
            f"{design.solutions} solutions x {design.clusters_per_solution} clusters x "
            f"{design.posts_per_cluster} posts, {design.coders} coders "
            f"({result['coders_per_cluster']} per cluster on average)\n"
            f"  consistency interval per solution: ± {result['half_width']:.3f} (95 %)\n"
            f"  smallest difference between two solutions detectable with 80 % power: "
            f"{result['detectable_difference']:.3f}\n"
            f"  α from the calibration set: 95 % interval about "
            + (f"{alpha:.3f} wide" if alpha is not None else "undefined (needs 2 coders)")
            + f"\n  model: mean {design.mean}, between-cluster SD {design.cluster_sd}, "
              f"coder SD {design.coder_sd} (assumptions; docs/statistics.md)")
