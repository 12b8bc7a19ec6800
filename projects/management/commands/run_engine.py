"""Start an engine run on a data set; by default waits for it here and prints its progress."""
import json

from django.core.management.base import BaseCommand, CommandError

from clustering_engine import spec

from projects.models import Dataset
from projects.services.run_config import RunConfigError
from projects.services.runs import RunStateError, execute_run, start_run
from projects.services.task_names import no_broker


class Command(BaseCommand):
    help = "Run the clustering engine on a data set (options as on the run form)."

    def add_arguments(self, parser):
        parser.add_argument("dataset", type=int, help="data set id")
        parser.add_argument("--methods", help=f"of {','.join(spec.METHODS)}")
        parser.add_argument("--ks", help="e.g. " + ",".join(map(str, spec.DEFAULT_KS[:4])))
        parser.add_argument("--algorithms", help=f"of {','.join(spec.ALGORITHMS)} "
                                                 f"(default {','.join(spec.DEFAULT_ALGORITHMS)})")
        parser.add_argument("--reduction", choices=spec.REDUCERS)
        parser.add_argument("--n-components", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--options", help="JSON object of further run options")
        parser.add_argument("--queue", action="store_true",
                            help="hand the run to the Celery workers instead of running it here")

    def handle(self, *args, **opts):
        dataset = Dataset.objects.filter(pk=opts["dataset"]).first()
        if dataset is None:
            raise CommandError(f"no data set {opts['dataset']}")
        options = json.loads(opts["options"]) if opts.get("options") else {}
        for key in ("methods", "ks", "algorithms", "reduction", "n_components", "seed"):
            if opts.get(key) is not None:
                options[key] = opts[key]
        if opts["queue"] and no_broker():
            raise CommandError("--queue needs Celery workers: set REDIS_URL and start "
                               "`celery -A diptych worker`")
        try:
            run = start_run(dataset.project, dataset, options, dispatch=opts["queue"])
        except (RunConfigError, RunStateError) as exc:
            raise CommandError(str(exc)) from None
        if opts["queue"]:
            self.stdout.write(f"run {run.pk} queued")
            return None
        self.stdout.write(f"run {run.pk}: running here (output {run.output_dir})")
        status = execute_run(run.pk)
        run.refresh_from_db()
        self.stdout.write(f"run {run.pk}: {status} {run.error_message}".rstrip())
        if status != "succeeded":
            raise CommandError(run.error_message or status)
        return None
