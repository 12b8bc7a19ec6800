"""A simulated study with known answers on a finished run: seeded coders code a new round
through the platform's API (services.simulated_study), then the scores and the export are read
back and printed per solution as planted vs recovered, with whether each interval covers the
planted value. Planted = the statistic's exact expectation under the coder model
(services.simulation).

    python manage.py simulate_study --run 1 --consistency label=0.8,vector=0.6 --intrusion 0.7 \\
        --coders 5 --seed 1 [--clusters-per-solution 6]
"""
from django.core.management.base import BaseCommand, CommandError

from projects.models import EngineRun

from ...services.simulated_study import SimulatedStudy, SimulationError
from ...services.simulation import (DEFAULT_CONSISTENCY, DEFAULT_DISTRACTORS, CoderModel,
                                    ModelError, parse_rates)


def _number(value, digits: int = 3) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def _covered(flag) -> str:
    return "n/a" if flag is None else ("yes" if flag else "NO")


class Command(BaseCommand):
    help = "Code a round with seeded simulated coders through the API; print planted vs recovered."

    def add_arguments(self, parser):
        parser.add_argument("--run", type=int, required=True, help="a finished engine run's id")
        parser.add_argument("--consistency", default="",
                            help="method=p, comma-separated (e.g. label=0.8,vector=0.6): the "
                                 "chance a coder gives a post its cluster's true theme; other "
                                 f"methods {DEFAULT_CONSISTENCY}")
        parser.add_argument("--default-consistency", type=float, default=DEFAULT_CONSISTENCY)
        parser.add_argument("--intrusion", type=float, default=0.7,
                            help="the chance a coder picks the intruder")
        parser.add_argument("--distractors", type=int, default=DEFAULT_DISTRACTORS,
                            help="other themes a coder uses when not the true one")
        parser.add_argument("--coders", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--clusters-per-solution", type=int, default=None,
                            help="code only the first N clusters of each solution")
        parser.add_argument("--posts-per-cluster", type=int, default=10)
        parser.add_argument("--calibration-clusters", type=int, default=2)

    def handle(self, *args, **opts):
        run = EngineRun.objects.filter(pk=opts["run"]).select_related("project").first()
        if run is None or run.status != "succeeded":
            raise CommandError(f"no finished run {opts['run']}")
        if opts["coders"] < 1:
            raise CommandError("--coders: at least one")
        try:
            model = CoderModel(consistency=parse_rates(opts["consistency"]),
                               intrusion=opts["intrusion"], distractors=opts["distractors"],
                               default_consistency=opts["default_consistency"])
            study = SimulatedStudy(run, model, coders=opts["coders"], seed=opts["seed"],
                                   clusters_per_solution=opts["clusters_per_solution"],
                                   posts_per_cluster=opts["posts_per_cluster"],
                                   calibration_clusters=opts["calibration_clusters"],
                                   echo=self.stdout.write)
            result = study.run_all()
        except (ModelError, SimulationError) as exc:
            raise CommandError(str(exc)) from None
        self.report(result, model)

    def report(self, result, model):
        out = self.stdout.write
        for step in result.steps:
            out(f"· {step}")
        out(f"\nWithin-cluster consistency per solution × pass (planted = mean over clusters of "
            f"E[modal share], exact; {model.distractors} distractor themes)")
        out(f"{'solution':26} {'pass':6} {'p':>5} {'planted':>8} {'recovered':>9} "
            f"{'95% interval':>17} {'covers':>6} {'clusters':>8} {'α planted':>9} {'α':>7}")
        for r in result.consistency.to_dict("records"):
            out(f"{r['solution_id']:26} {r['pass']:6} {r['p']:>5.2f} {_number(r['planted']):>8} "
                f"{_number(r['recovered']):>9} {_number(r['ci_low']):>8}–{_number(r['ci_high']):<8} "
                f"{_covered(r['covers']):>6} {r['clusters']:>8} "
                f"{_number(r['alpha_planted']):>9} {_number(r['alpha']):>7}")
        clusters = result.clusters
        if not clusters.empty:
            out("\nCluster consistency per coder × cluster × pass (Wilson 95%): intervals covering "
                "the planted E[modal share]")
            for (solution_id, pass_name), group in clusters.groupby(["solution_id", "pass"],
                                                                    sort=False):
                hits = group["covers"].dropna()
                out(f"{solution_id:26} {pass_name:6} {int(hits.sum()):>4} of {len(hits):<4} "
                    f"({hits.mean():.0%})  mean recovered {group['consistency'].mean():.3f} vs "
                    f"planted {group['planted'].mean():.3f}")
        out(f"\nIntrusion: model precision per solution × kind (planted q = {model.intrusion})")
        out(f"{'solution':26} {'kind':6} {'answers':>7} {'recovered':>9} {'Wilson 95%':>17} "
            f"{'covers':>6}")
        for r in result.intrusion.to_dict("records"):
            out(f"{r['solution_id']:26} {r['kind']:6} {r['n_answers']:>7} "
                f"{_number(r['precision']):>9} {_number(r['wilson_low']):>8}–"
                f"{_number(r['wilson_high']):<8} {_covered(r['covers']):>6}")
        out("\nThe export's CSVs read back in pandas vs the JSON API:")
        for what, equal, worst in result.export_checks:
            out(f"  {'equal' if equal else 'DIFFERENT'}  {what}  (largest difference {worst:.1e})")
        out("time per phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
        out(f"round {result.round_id}, project {result.project_id}, coders "
            f"{result.coders[0]} … {result.coders[-1]}")
