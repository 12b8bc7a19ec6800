from rest_framework import serializers
from django.urls import reverse

from .models import ExportJob


class ChoiceWriteSerializer(serializers.Serializer):
    chosen = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = ["id", "project", "status", "stage", "error", "created_at", "finished_at",
                  "download_url"]

    def get_download_url(self, job) -> str | None:
        return reverse("scoring:export-download", args=[job.pk]) if job.is_ready else None
