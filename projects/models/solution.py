from django.db import models

from .run import EngineRun


class Solution(models.Model):
    """One clustering of a run (manifest ``solutions`` / ``modality_solutions`` entry).

    Its per-pair labels are the ``solution_id`` column of the run's labels.parquet.
    """

    class Kind(models.TextChoices):
        COMBINED = "combined", "Method solution"
        MODALITY = "modality", "Single-modality building block"

    run = models.ForeignKey(EngineRun, on_delete=models.CASCADE, related_name="solutions")
    solution_id = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMBINED)
    method = models.CharField(max_length=20)
    algorithm = models.CharField(max_length=30)
    k = models.PositiveIntegerField(null=True, blank=True)
    k_text = models.PositiveIntegerField(null=True, blank=True)
    k_image = models.PositiveIntegerField(null=True, blank=True)
    n_clusters = models.PositiveIntegerField()
    noise_share = models.FloatField(default=0.0)
    space = models.CharField(max_length=30, blank=True)
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "method", "algorithm", "k", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "solution_id"],
                                               name="unique_solution_id_per_run")]

    def __str__(self):
        return self.solution_id

    @property
    def s_dbw_common(self):
        return self.metrics.get("s_dbw_common")

    @property
    def s_dbw_own(self):
        return self.metrics.get("s_dbw_own")


class ClusterSummary(models.Model):
    """One cluster of a solution, from clusters.json, so galleries never scan the pairs.

    ``representatives`` keeps pair id, text and image path of each representative pair
    (resolved once from pairs.parquet when the run is stored); ``search_text`` is the lower-cased
    top terms and representative texts that the gallery search filters on.
    """

    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="clusters")
    label = models.IntegerField(help_text="the cluster's label in labels.parquet")
    rank = models.PositiveIntegerField(help_text="1 = largest cluster")
    size = models.PositiveIntegerField()
    share = models.FloatField()
    top_terms = models.JSONField(default=list, blank=True)
    representatives = models.JSONField(default=list, blank=True)
    search_text = models.TextField(blank=True)

    class Meta:
        ordering = ["solution", "rank"]
        constraints = [models.UniqueConstraint(fields=["solution", "label"],
                                               name="unique_cluster_label_per_solution")]

    def __str__(self):
        return f"{self.solution} cluster {self.label}"

    @property
    def representative_pair_ids(self) -> list[str]:
        return [r["pair_id"] for r in self.representatives]
