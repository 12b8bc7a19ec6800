"""Open a validation round with intrusion tasks on a finished run, from the command line, and
print what was generated: tasks per solution and kind, clusters without a task and why, and one
task as the PI sees it (the intruder marked). Nothing is coded or simulated."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.models import EngineRun

from ...intrusion_models import DEFAULT_ITEMS_PER_TASK, INTRUSION_KINDS
from ...services.assignment import AssignmentError
from ...services.intrusion import (DEFAULT_CALIBRATION_TASKS, IntrusionError,
                                   create_round_with_tasks)
from ...services.sampling import SamplingError


class Command(BaseCommand):
    help = "Create a round with intrusion tasks (and optionally consistency coding) on a run."

    def add_arguments(self, parser):
        parser.add_argument("run", type=int, help="engine run id (finished)")
        parser.add_argument("--solutions", help="solution ids, comma-separated "
                                                "(default: the run's method solutions)")
        parser.add_argument("--kinds", default=",".join(INTRUSION_KINDS),
                            help=f"of {','.join(INTRUSION_KINDS)}")
        parser.add_argument("--items", type=int, default=DEFAULT_ITEMS_PER_TASK,
                            help="k items of the cluster per task (+1 intruder)")
        parser.add_argument("--calibration-tasks", type=int, default=DEFAULT_CALIBRATION_TASKS)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--coders", default="", help="usernames, comma-separated")
        parser.add_argument("--with-consistency", action="store_true",
                            help="the round also holds consistency coding")
        parser.add_argument("--name", default="intrusion round")
        parser.add_argument("--show", type=int, default=1, help="tasks to print in full")

    def handle(self, *args, **opts):
        run = EngineRun.objects.filter(pk=opts["run"]).select_related("project").first()
        if run is None:
            raise CommandError(f"no run {opts['run']}")
        solutions = run.solutions.filter(kind="combined")
        if opts.get("solutions"):
            wanted = [s.strip() for s in opts["solutions"].split(",") if s.strip()]
            solutions = run.solutions.filter(solution_id__in=wanted)
            missing = set(wanted) - set(solutions.values_list("solution_id", flat=True))
            if missing:
                raise CommandError(f"run {run.pk} has no solution {', '.join(sorted(missing))}")
        names = [c.strip() for c in opts["coders"].split(",") if c.strip()]
        coders = list(get_user_model().objects.filter(username__in=names))
        if len(coders) != len(set(names)):
            raise CommandError("unknown coder usernames")
        try:
            validation_round = create_round_with_tasks(
                run.project, list(solutions.select_related("run")), name=opts["name"],
                seed=opts["seed"], posts_per_cluster=10, calibration_clusters=0,
                consistency=opts["with_consistency"],
                intrusion_kinds=[k.strip() for k in opts["kinds"].split(",") if k.strip()],
                items_per_task=opts["items"], calibration_tasks=opts["calibration_tasks"],
                coders=coders)
        except (IntrusionError, SamplingError, AssignmentError) as exc:
            raise CommandError(str(exc)) from None
        self._report(validation_round, opts["show"])

    def _report(self, validation_round, show: int) -> None:
        plan = validation_round.intrusion_plan
        out = self.stdout.write
        out(f"round {validation_round.pk}: {validation_round.intrusion_tasks.count()} intrusion "
            f"tasks, k = {plan.items_per_task} (+1 intruder), kinds {', '.join(plan.kinds)}, "
            f"{validation_round.samples.count()} consistency clusters")
        out(f"{'solution':<28} {'clusters':>8} {'space':<8} " + " ".join(
            f"{k:>6}" for k in plan.kinds) + "  clusters without a task")
        for s in plan.report["solutions"]:
            skipped = "; ".join(f"{k}: {v}" for k, v in s["skipped"].items()) or "-"
            out(f"{s['solution_id']:<28} {s['clusters']:>8} {s['space'] or 'none':<8} " + " ".join(
                f"{s['tasks'].get(k, 0):>6}" for k in plan.kinds) + f"  {skipped}")
        for task in validation_round.intrusion_tasks.order_by("order")[:show]:
            out(f"\ntask {task.public_id} ({task.kind}; PI view): solution "
                f"{task.solution.solution_id}, cluster {task.cluster_label}, intruder from "
                f"cluster {task.intruder_label} (nearest, excluded: {task.nearest_label}), "
                f"space {task.space or 'none'}")
            for item in task.items.all():
                shown = item.term or " · ".join(
                    x for x in (item.image, " ".join(item.text.split())[:90]) if x)
                out(f"  {item.position}{' *' if item.is_intruder else '  '} {shown}")
