"""API payloads of intrusion tasks. Coder-facing ones carry public ids only."""
from rest_framework import serializers

from projects.api_input import MAX_INT

from .intrusion_models import DEFAULT_ITEMS_PER_TASK, IntrusionKind
from .services.intrusion import DEFAULT_CALIBRATION_TASKS


class AnswerWriteSerializer(serializers.Serializer):
    """A pick (the shown position, 1 .. k + 1) or ``unsure: true`` (no pick)."""
    choice = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                      max_value=MAX_INT)
    unsure = serializers.BooleanField(required=False, default=False)
    base_version = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                            max_value=MAX_INT)
    lead_time_s = serializers.FloatField(required=False, allow_null=True, min_value=0,
                                         help_text="seconds from the task being shown to the save")

    def validate(self, attrs):
        if attrs.get("unsure") and attrs.get("choice") is not None:
            raise serializers.ValidationError("give a choice or unsure, not both")
        if not attrs.get("unsure") and attrs.get("choice") is None:
            raise serializers.ValidationError("give a choice (1 .. number of items) or unsure")
        return attrs


class AnswerStateSerializer(serializers.Serializer):
    choice = serializers.IntegerField(allow_null=True)
    unsure = serializers.BooleanField()
    version = serializers.IntegerField()


class AnswerResultSerializer(AnswerStateSerializer):
    status = serializers.ChoiceField(choices=["created", "changed", "unchanged", "conflict"])
    task = serializers.CharField(help_text="task public id")


class ItemSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="1 .. k + 1; the key that picks it")
    id = serializers.CharField(help_text="item public id")
    term = serializers.CharField(required=False)
    text = serializers.CharField(required=False)
    lang = serializers.CharField(required=False)
    image_url = serializers.CharField(required=False, allow_null=True)
    image_zoom_url = serializers.CharField(required=False, allow_null=True)


class TaskSerializer(serializers.Serializer):
    task = serializers.CharField(help_text="task public id")
    kind = serializers.ChoiceField(choices=IntrusionKind.choices)
    n_items = serializers.IntegerField()
    read_only = serializers.BooleanField()
    answer_url = serializers.CharField()
    items = ItemSerializer(many=True)
    answer = AnswerStateSerializer()


class TaskListSerializer(serializers.Serializer):
    results = TaskSerializer(many=True)


class IntrusionCreateSerializer(serializers.Serializer):
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=IntrusionKind.choices),
                                  min_length=1)
    items_per_task = serializers.IntegerField(min_value=2, max_value=8,
                                              default=DEFAULT_ITEMS_PER_TASK,
                                              help_text="k items of the cluster (+1 intruder)")
    calibration_tasks = serializers.IntegerField(min_value=0, default=DEFAULT_CALIBRATION_TASKS)
    coders = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                   help_text="usernames")


class IntrusionPlanSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    kinds = serializers.ListField(child=serializers.CharField())
    items_per_task = serializers.IntegerField()
    has_consistency = serializers.BooleanField()
    n_tasks = serializers.IntegerField()
    report = serializers.DictField()
