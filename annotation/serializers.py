"""API payloads. Coder-facing ones carry public ids only — no method, K, solution or label."""
from rest_framework import serializers

from projects.api_input import MAX_INT

from .models import ValidationRound


class CodeWriteSerializer(serializers.Serializer):
    """A label: an existing theme (``theme_id``) or a name (found or added to the codebook)."""
    theme_id = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                     max_length=16, help_text="a theme's public id (T…)")
    theme_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    base_version = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                            max_value=MAX_INT)
    lead_time_s = serializers.FloatField(
        required=False, allow_null=True, min_value=0,
        help_text="seconds from the item being selected to this label (browser clock)")

    def validate(self, attrs):
        if not attrs.get("theme_id") and not (attrs.get("theme_name") or "").strip():
            raise serializers.ValidationError("give theme_id or theme_name")
        return attrs


class ThemeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="theme public id (T…)")
    name = serializers.CharField()


class CodeStateSerializer(serializers.Serializer):
    theme = ThemeSerializer(allow_null=True)
    version = serializers.IntegerField()


class CodeResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["created", "changed", "unchanged", "conflict"])
    target = serializers.CharField(help_text="post public id, or the cluster public id")
    pass_name = serializers.CharField()
    theme = ThemeSerializer()
    version = serializers.IntegerField()


class RoundCreateSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    name = serializers.CharField(max_length=200)
    solutions = serializers.ListField(child=serializers.IntegerField(), min_length=1,
                                      help_text="Solution primary keys")
    posts_per_cluster = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    seed = serializers.IntegerField(min_value=0, max_value=2 ** 31 - 1, default=0)
    calibration_clusters = serializers.IntegerField(min_value=0, max_value=10_000, default=10)
    overlap = serializers.ChoiceField(choices=ValidationRound.Overlap.choices,
                                      default=ValidationRound.Overlap.CALIBRATION)
    coders = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                   help_text="usernames")
    independent_coding = serializers.BooleanField(
        default=True, help_text="each coder is offered only their own themes, all round long")


class RoundSerializer(serializers.ModelSerializer):
    """PI view of a round (shows solutions: never served to coders)."""
    solutions = serializers.SlugRelatedField(many=True, read_only=True, slug_field="solution_id")
    n_clusters = serializers.SerializerMethodField()

    class Meta:
        model = ValidationRound
        fields = ["id", "project", "name", "dataset", "solutions", "posts_per_cluster", "seed",
                  "sampling_secret", "calibration_clusters", "overlap", "status",
                  "independent_coding", "adjudication_open", "plan_report", "n_clusters",
                  "created_at"]

    def get_n_clusters(self, obj) -> int:
        return obj.samples.count()



class PostStateSerializer(CodeStateSerializer):
    id = serializers.CharField(help_text="post public id")
    position = serializers.IntegerField()


class PassStateSerializer(serializers.Serializer):
    common = CodeStateSerializer()
    posts = PostStateSerializer(many=True)


class ClusterStateSerializer(serializers.Serializer):
    cluster = serializers.CharField(help_text="cluster public id")
    read_only = serializers.BooleanField()
    passes = serializers.DictField(child=PassStateSerializer(), help_text="text, image, joint")
    progress = serializers.DictField()


class AssignmentSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    cluster = serializers.CharField(help_text="cluster public id")
    progress = serializers.DictField()


class AssignmentListSerializer(serializers.Serializer):
    results = AssignmentSerializer(many=True)


class ThemeListSerializer(serializers.Serializer):
    results = ThemeSerializer(many=True)
    recent = ThemeSerializer(many=True)
