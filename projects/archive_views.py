"""The PI's project archive: start one (built in the background) and download it."""
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from .archive.jobs import ArchiveBusy, start_archive
from .models import ArchiveJob, Role
from .services import access


@login_required
@require_POST
def archive_start(request, pk):
    project = access.get_visible_or_404(access.visible_projects(request.user), pk=pk)
    access.require_manager(request.user, project)
    try:
        job = start_archive(project, request.user,
                            with_images=request.POST.get("images", "1") != "0")
    except ArchiveBusy as exc:
        messages.error(request, f"No new archive: {exc}.")
    else:
        messages.info(request, f"Archive {job.pk} is being built: reload this page to see when "
                               "it is ready to download.")
    return redirect("projects:project-detail", pk=project.pk)


@login_required
def archive_download(request, pk):
    job = ArchiveJob.objects.filter(
        pk=pk, project__in=access.member_project_ids(request.user, (Role.PI,))).first()
    if job is None or not job.is_ready or not Path(job.file_path).is_file():
        raise Http404("not found")
    return FileResponse(open(job.file_path, "rb"), as_attachment=True,
                        filename=f"diptych-project{job.project_id}-archive{job.pk}.zip")
