from django.contrib import admin

from .models import ExportJob, SolutionChoice


@admin.register(SolutionChoice)
class SolutionChoiceAdmin(admin.ModelAdmin):
    list_display = ("project", "solution", "chosen_by", "chosen_at")


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "project", "status", "stage", "created_by", "created_at", "finished_at")
    list_filter = ("status",)
