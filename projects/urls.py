from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api, archive_views, views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/<int:pk>/members/", views.project_members, name="project-members"),
    path("projects/<int:pk>/archive/", archive_views.archive_start, name="archive-start"),
    path("archives/<int:pk>/download/", archive_views.archive_download, name="archive-download"),
    path("projects/<int:pk>/datasets/new/", views.dataset_import, name="dataset-import"),
    path("projects/<int:pk>/runs/new/", views.run_new, name="run-new"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/images/<path:path>", views.dataset_image, name="dataset-image"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/status.json", views.run_status, name="run-status"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<int:pk>/resume/", views.run_resume, name="run-resume"),
    path("runs/<int:pk>/dashboard/", views.run_dashboard, name="run-dashboard"),
    path("runs/<int:pk>/compare/", views.solution_compare, name="solution-compare"),
    path("runs/<int:pk>/figures/<str:filename>", views.run_figure, name="run-figure"),
    path("solutions/<int:pk>/gallery/", views.solution_gallery, name="solution-gallery"),
]

router = DefaultRouter()
router.register("projects", api.ProjectViewSet, basename="api-project")
router.register("datasets", api.DatasetViewSet, basename="api-dataset")
router.register("runs", api.EngineRunViewSet, basename="api-run")
router.register("solutions", api.SolutionViewSet, basename="api-solution")
router.register("clusters", api.ClusterViewSet, basename="api-cluster")
api_urlpatterns = [path("", include(router.urls))]
