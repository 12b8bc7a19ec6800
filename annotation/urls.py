"""Annotation URLs, included once from diptych/urls.py (``path("", include("annotation.urls"))``).

Coder URLs carry only public ids: /code/c/<cluster public id>/<pass>/.
"""
from django.urls import include, path

from . import (adjudication_views, api, codebook_views, image_views, intrusion_api,
               intrusion_views, keymap_views, views)

page_patterns = [
    path("", views.my_work, name="my-work"),
    path("keys/", keymap_views.keys_page, name="keys"),
    path("rounds/<int:pk>/", views.coder_round, name="coder-round"),
    path("c/<str:public_id>/", views.code_cluster, name="code-cluster"),
    path("c/<str:public_id>/<str:pass_name>/", views.code_pass, name="code-pass"),
    path("i/<str:public_id>/", image_views.coder_image, name="coder-image"),
    path("intrusion/rounds/<int:pk>/", intrusion_views.code_intrusion, name="code-intrusion"),
    path("intrusion/img/<str:public_id>/", intrusion_views.intrusion_image,
         name="intrusion-image"),
    # PI pages
    path("rounds/<int:pk>/intrusion/", intrusion_views.manage_intrusion, name="intrusion-manage"),
    path("projects/<int:pk>/rounds/", views.round_list, name="round-list"),
    path("projects/<int:pk>/rounds/new/", views.round_new, name="round-new"),
    path("projects/<int:pk>/codebook/", codebook_views.codebook_page, name="codebook"),
    path("projects/<int:pk>/codebook/rename/", codebook_views.theme_rename, name="theme-rename"),
    path("projects/<int:pk>/codebook/delete/", codebook_views.theme_delete, name="theme-delete"),
    path("projects/<int:pk>/codebook/unmerge/", codebook_views.theme_unmerge,
         name="theme-unmerge"),
    path("rounds/<int:pk>/manage/", views.round_manage, name="round-manage"),
    path("rounds/<int:pk>/adjudicate/", adjudication_views.adjudicate, name="adjudicate"),
    path("rounds/<int:pk>/adjudicate/next/", adjudication_views.adjudicate_next,
         name="adjudicate-next"),
]

api_patterns = [
    path("assignments/", api.my_assignments, name="assignments"),
    path("clusters/<str:public_id>/", api.cluster_state, name="cluster-state"),
    path("clusters/<str:public_id>/themes/", api.cluster_themes, name="cluster-themes"),
    path("clusters/<str:public_id>/<str:pass_name>/common/", api.common_code, name="common-code"),
    path("posts/<str:public_id>/<str:pass_name>/", api.post_code, name="post-code"),
    path("rounds/", api.rounds, name="rounds"),
    path("rounds/<int:pk>/", api.round_detail, name="round-detail"),
    path("rounds/<int:pk>/intrusion/", intrusion_api.round_intrusion, name="round-intrusion"),
    path("intrusion/tasks/", intrusion_api.my_tasks, name="intrusion-tasks"),
    path("intrusion/tasks/<str:public_id>/", intrusion_api.task_detail, name="intrusion-task"),
    path("intrusion/tasks/<str:public_id>/answer/", intrusion_api.answer,
         name="intrusion-answer"),
]

urlpatterns = [
    path("code/", include((page_patterns, "annotation"))),
    path("api/annotation/", include((api_patterns, "annotation-api"))),
]
