"""Scoring URLs, included once from diptych/urls.py."""
from django.urls import include, path

from . import analysis_api, api, views

page_patterns = [
    path("projects/<int:pk>/compare/", views.comparison_page, name="comparison"),
    path("projects/<int:pk>/compare/plot.<str:fmt>", views.comparison_plot, name="comparison-plot"),
    path("projects/<int:pk>/choose/", views.choose_solution, name="choose"),
    path("projects/<int:pk>/exports/", views.exports_page, name="exports"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
]

api_patterns = [
    path("projects/<int:pk>/comparison/", api.comparison_table, name="comparison"),
    path("projects/<int:pk>/clusters/", api.cluster_scores, name="cluster-scores"),
    path("projects/<int:pk>/intrusion/", api.intrusion_scores, name="intrusion-scores"),
    path("projects/<int:pk>/choices/<int:solution_pk>/", api.solution_choice, name="choice"),
    path("projects/<int:pk>/exports/", api.exports, name="exports"),
    path("exports/<int:job_pk>/", api.export_detail, name="export-detail"),
    path("plan/", api.round_plan, name="round-plan"),
    # read API for analysis (pandas, R): long-format codes, cluster scores, reliability
    path("projects/<int:pk>/analysis/codes/", analysis_api.codes, name="analysis-codes"),
    path("projects/<int:pk>/analysis/cluster-scores/", analysis_api.cluster_scores,
         name="analysis-cluster-scores"),
    path("projects/<int:pk>/analysis/reliability/", analysis_api.reliability,
         name="analysis-reliability"),
]

urlpatterns = [
    path("scoring/", include((page_patterns, "scoring"))),
    path("api/scoring/", include((api_patterns, "scoring-api"))),
]
