from django.contrib import admin

from .models import (ClusterSummary, DataRootGrant, Dataset, EngineRun, Membership, Project,
                     Solution)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


class DataRootGrantInline(admin.TabularInline):
    """Server folders the project's PIs may import from (staff always may)."""
    model = DataRootGrant
    extra = 0
    exclude = ("granted_by",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "created_at")
    inlines = [MembershipInline, DataRootGrantInline]

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            if isinstance(obj, DataRootGrant) and obj.granted_by_id is None:
                obj.granted_by = request.user
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "source", "status", "n_pairs_valid", "n_rejected")
    list_filter = ("status", "source")


@admin.register(EngineRun)
class EngineRunAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "dataset", "status", "stage", "progress", "created_at")
    list_filter = ("status",)
    readonly_fields = ("log", "manifest", "config")


@admin.register(Solution)
class SolutionAdmin(admin.ModelAdmin):
    list_display = ("solution_id", "run", "kind", "n_clusters", "noise_share")
    list_filter = ("kind", "method", "algorithm")


admin.site.register(ClusterSummary)
