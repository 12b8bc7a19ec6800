"""Shapes of the analysis read API (for the OpenAPI schema; the rows are built from the score
tables in scoring.analysis_api)."""
from rest_framework import serializers


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="rows matching the filters, all pages")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class CodeRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["post", "common"],
                                   help_text="a post's theme, or the cluster's common theme")
    code_id = serializers.IntegerField()
    round_id = serializers.IntegerField()
    cluster_sample = serializers.CharField(help_text="the cluster sample's public id")
    solution_id = serializers.CharField()
    run_id = serializers.IntegerField()
    method = serializers.CharField()
    algorithm = serializers.CharField()
    k = serializers.IntegerField(allow_null=True)
    cluster_label = serializers.IntegerField()
    is_calibration = serializers.BooleanField()
    post = serializers.CharField(allow_null=True, help_text="post public id (post codes)")
    pair_id = serializers.CharField(allow_null=True)
    post_id = serializers.CharField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)
    coder = serializers.CharField(help_text="pseudonym, as in the exports")
    pass_ = serializers.CharField(help_text="text, image or joint")
    theme_id = serializers.IntegerField()
    theme_raw = serializers.CharField(help_text="the theme as coded")
    theme_merged_id = serializers.IntegerField()
    theme = serializers.CharField(help_text="the theme after codebook merges (what scores use)")
    version = serializers.IntegerField()
    lead_time_s = serializers.FloatField(
        allow_null=True, help_text="seconds from the item being selected to its label")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_fields(self):
        fields = super().get_fields()
        fields["pass"] = fields.pop("pass_")   # "pass" is a Python keyword
        return fields


class CodePageSerializer(PageSerializer):
    results = CodeRowSerializer(many=True)


class ClusterScoreRowSerializer(serializers.Serializer):
    round_id = serializers.IntegerField()
    cluster_sample = serializers.CharField()
    solution_id = serializers.CharField()
    run_id = serializers.IntegerField()
    method = serializers.CharField()
    algorithm = serializers.CharField()
    k = serializers.IntegerField(allow_null=True)
    cluster_label = serializers.IntegerField()
    pass_ = serializers.CharField()
    consistency = serializers.FloatField(
        allow_null=True, help_text="share of coded posts given the modal theme (0-1)")
    chance_baseline = serializers.FloatField(allow_null=True)
    n_coders = serializers.IntegerField(required=False, help_text="level=cluster")
    coder = serializers.CharField(required=False, help_text="level=coder")
    posts_in_sample = serializers.IntegerField(required=False)
    n_coded = serializers.IntegerField(required=False)
    n_modal = serializers.IntegerField(required=False)
    modal_theme = serializers.CharField(required=False)
    n_modal_themes = serializers.IntegerField(required=False)
    wilson_low = serializers.FloatField(required=False, allow_null=True)
    wilson_high = serializers.FloatField(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["pass"] = fields.pop("pass_")
        return fields


class ClusterScorePageSerializer(PageSerializer):
    results = ClusterScoreRowSerializer(many=True)


class ReliabilityRowSerializer(serializers.Serializer):
    solution_id = serializers.CharField(required=False, help_text="per_solution rows")
    pass_ = serializers.CharField()
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's α, nominal")
    percent_agreement = serializers.FloatField(allow_null=True)
    n_coders = serializers.IntegerField()
    n_units = serializers.IntegerField()
    n_pairable_units = serializers.IntegerField()
    message = serializers.CharField(help_text="why α is undefined or withheld, if it is")

    def get_fields(self):
        fields = super().get_fields()
        fields["pass"] = fields.pop("pass_")
        return fields


class ReliabilitySerializer(serializers.Serializer):
    per_solution = ReliabilityRowSerializer(many=True)
    overall = ReliabilityRowSerializer(many=True)
