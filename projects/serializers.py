from rest_framework import serializers

from .models import ClusterSummary, Dataset, EngineRun, Project, Solution
from .services import access
from .services.paths import shown_for_run
from .services.run_config import without_seed


class ProjectSerializer(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "name_for_coders", "created_at", "my_role"]
        read_only_fields = ["id", "created_at", "my_role"]

    def get_my_role(self, project) -> str | None:
        return access.role_in(self.context["request"].user, project)

    def to_representation(self, project):
        data = super().to_representation(project)
        if not access.can_read_internals(self.context["request"].user, project):
            # coders: only the name the PI chose for them (threat model, docs/reliability.md)
            data.update(name=project.coder_facing_name, description="",
                        name_for_coders=project.coder_facing_name)
        return data


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", "project", "name", "source", "status", "n_rows_read", "n_pairs_valid",
                  "n_rejected", "created_at"]
        read_only_fields = fields


class DatasetDetailSerializer(DatasetSerializer):
    class Meta(DatasetSerializer.Meta):
        fields = DatasetSerializer.Meta.fields + ["validation_report"]
        read_only_fields = fields


class DatasetImportSerializer(serializers.Serializer):
    """Upload a table (+ zip of images), or name a folder on the server under an allowed root."""

    project = serializers.IntegerField()
    name = serializers.CharField(max_length=200)
    table = serializers.FileField(required=False)
    images_zip = serializers.FileField(required=False)
    server_folder = serializers.CharField(required=False, max_length=1000)
    table_name = serializers.CharField(required=False, default="pairs.csv", max_length=255)

    def validate(self, data):
        if bool(data.get("table")) == bool(data.get("server_folder")):
            raise serializers.ValidationError("give either a table upload or a server folder")
        return data


class EngineRunSerializer(serializers.ModelSerializer):
    # texts the engine wrote may name server folders: shown relative to the data set / run
    PATH_FIELDS = ("config", "error_message", "log", "manifest")

    class Meta:
        model = EngineRun
        fields = ["id", "project", "dataset", "status", "stage", "progress", "config", "seed",
                  "error_message", "cancel_requested", "attempts", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields

    def to_representation(self, run):
        data = super().to_representation(run)
        for name in self.PATH_FIELDS:
            if name in data:
                data[name] = shown_for_run(run, data[name])
        request = self.context.get("request")
        if request is None or not access.can_manage(request.user, run.project):
            data = without_seed(data)          # the seed is the PIs' secret (run_config)
        return data


class EngineRunDetailSerializer(EngineRunSerializer):
    class Meta(EngineRunSerializer.Meta):
        fields = EngineRunSerializer.Meta.fields + ["log", "manifest"]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    dataset = serializers.IntegerField()
    options = serializers.DictField(required=False, default=dict,
                                    help_text="run options; defaults fill what is left out")


class SolutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Solution
        fields = ["id", "run", "solution_id", "kind", "method", "algorithm", "k", "k_text",
                  "k_image", "n_clusters", "noise_share", "space", "metrics"]
        read_only_fields = fields


class ClusterSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClusterSummary
        fields = ["id", "solution", "label", "rank", "size", "share", "top_terms",
                  "representatives"]
        read_only_fields = fields
