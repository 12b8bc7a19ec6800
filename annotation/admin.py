from django.contrib import admin

from . import models as m


@admin.register(m.ValidationRound)
class ValidationRoundAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "posts_per_cluster", "seed", "overlap", "status",
                    "created_at")
    list_filter = ("status", "overlap")


@admin.register(m.ClusterSample)
class ClusterSampleAdmin(admin.ModelAdmin):
    list_display = ("public_id", "round", "solution", "cluster_label", "order", "is_calibration")
    list_filter = ("round",)


@admin.register(m.Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "modality", "merged_into", "created_by")
    list_filter = ("modality",)
    search_fields = ("name",)


@admin.register(m.PostCode)
class PostCodeAdmin(admin.ModelAdmin):
    list_display = ("sampled_post", "cluster_sample", "coder", "pass_name", "theme", "version",
                    "updated_at")
    list_filter = ("pass_name",)


@admin.register(m.ClusterCode)
class ClusterCodeAdmin(admin.ModelAdmin):
    list_display = ("cluster_sample", "coder", "pass_name", "theme", "version", "updated_at")


admin.site.register([m.SampledPost, m.Assignment, m.ThemeMerge, m.CodeHistory, m.Adjudication])
