"""A stand-in for the engine in platform tests: it calls the progress callback like the engine,
can fail or have the run cancelled midway, and returns a one-solution manifest."""
from projects.models import EngineRun

MANIFEST = {"format": "diptych-engine-run/1", "ami_diagnostic": [], "k_selection": {},
            "solutions": [{"id": "vector-kmeans-k4", "method": "vector", "algorithm": "kmeans",
                           "k": 4, "n_clusters": 4, "noise_share": 0.0, "metrics": {}}],
            "modality_solutions": []}


class FakeEngine:
    """Calls the progress callback like the engine; can fail or trigger a cancel midway."""

    def __init__(self, fail=None, cancel_after=None):
        self.fail, self.cancel_after, self.calls = fail, cancel_after, 0

    def __call__(self, data_path, images_root, out_dir, config, progress, echo):
        self.calls += 1
        self.config = config
        for stage, fraction in (("validate", 0.0), ("embed", 0.1), ("reduce vector", 0.4),
                                ("describe", 0.9)):
            progress(stage, fraction)
            echo(f"did {stage}")
            if stage == self.cancel_after:
                EngineRun.objects.update(cancel_requested=True)  # as if the PI clicked Cancel
            if self.fail and stage == "embed":
                raise self.fail
        progress("done", 1.0)
        return MANIFEST
