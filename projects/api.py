"""REST API (DRF): read-only resources except creating projects, data sets and runs.

Querysets are filtered by membership, so objects of other projects are 404; coders see their
projects but no engine internals (data sets, runs, solutions, clusters); viewers only read.
"""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from . import serializers as s
from .api_input import BoundedJSONParser, id_param
from .services import access
from .services.datasets import DatasetImportError, import_server_folder, import_uploaded_dataset
from .services.run_config import RunConfigError
from .services.runs import RunStateError, request_cancel, resume_run, start_run


def _managed_project(user, project_id):
    project = access.visible_projects(user).filter(pk=project_id).first()
    if project is None or not access.can_manage(user, project):
        raise NotFound("no such project among those you manage")
    return project


class ProjectViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        return access.visible_projects(self.request.user).order_by("-created_at", "-id")

    def perform_create(self, serializer):
        if not access.can_create_projects(self.request.user):
            raise PermissionDenied("creating projects is for PIs: ask an administrator")
        serializer.instance = access.create_project(self.request.user,
                                                    serializer.validated_data["name"],
                                                    serializer.validated_data.get("description", ""),
                                                    serializer.validated_data.get("name_for_coders", ""))


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def get_queryset(self):
        qs = access.visible_datasets(self.request.user)
        if project := id_param(self.request.query_params, "project"):
            qs = qs.filter(project_id=project)
        return qs.order_by("-created_at", "-id")

    def get_serializer_class(self):
        if self.action == "create":
            return s.DatasetImportSerializer
        return s.DatasetDetailSerializer if self.action == "retrieve" else s.DatasetSerializer

    @extend_schema(request=s.DatasetImportSerializer, responses=s.DatasetDetailSerializer)
    def create(self, request):
        form = s.DatasetImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        project = _managed_project(request.user, data["project"])
        try:
            if data.get("server_folder"):
                dataset = import_server_folder(
                    project, data["name"], data["server_folder"], data["table_name"],
                    roots=access.server_folder_roots(request.user, project))
            else:
                dataset = import_uploaded_dataset(project, data["name"], data["table"],
                                                  data["table"].name, data.get("images_zip"),
                                                  user=request.user)
        except DatasetImportError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.DatasetDetailSerializer(dataset).data, status=status.HTTP_201_CREATED)


class EngineRunViewSet(viewsets.ReadOnlyModelViewSet):
    def get_queryset(self):
        qs = access.visible_runs(self.request.user)
        for field in ("project", "dataset"):
            if value := id_param(self.request.query_params, field):
                qs = qs.filter(**{f"{field}_id": value})
        return qs.order_by("-created_at", "-id")

    def get_serializer_class(self):
        if self.action == "create":
            return s.RunStartSerializer
        return s.EngineRunDetailSerializer if self.action == "retrieve" else s.EngineRunSerializer

    @extend_schema(request=s.RunStartSerializer, responses=s.EngineRunDetailSerializer)
    def create(self, request):
        form = s.RunStartSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dataset = get_object_or_404(access.visible_datasets(request.user),
                                    pk=form.validated_data["dataset"])
        project = _managed_project(request.user, dataset.project_id)
        try:
            run = start_run(project, dataset, form.validated_data["options"], request.user)
        except (RunConfigError, RunStateError) as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.EngineRunDetailSerializer(run, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    def _change_state(self, request, change):
        run = self.get_object()
        _managed_project(request.user, run.project_id)
        try:
            run = change(run)
        except RunStateError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.EngineRunSerializer(run, context={"request": request}).data)

    @extend_schema(request=None, responses=s.EngineRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, **kwargs):  # kwargs: the router's format suffix
        return self._change_state(request, lambda run: request_cancel(run) or run)

    @extend_schema(request=None, responses=s.EngineRunSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None, **kwargs):
        return self._change_state(request, resume_run)


class SolutionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SolutionSerializer

    def get_queryset(self):
        qs = access.visible_solutions(self.request.user)
        if run := id_param(self.request.query_params, "run"):
            qs = qs.filter(run_id=run)
        return qs.order_by("run_id", "kind", "method", "algorithm", "k", "id")


class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ClusterSummarySerializer

    def get_queryset(self):
        qs = access.visible_clusters(self.request.user)
        if solution := id_param(self.request.query_params, "solution"):
            qs = qs.filter(solution_id=solution)
        if query := self.request.query_params.get("q"):
            qs = qs.filter(search_text__contains=query.lower())
        return qs.order_by("solution_id", "rank")
