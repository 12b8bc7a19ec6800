"""The site's front door: a coder lands on their rounds; everyone else on the projects page."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from annotation.services.access import codes_only
from projects.views import project_list


@login_required
def home(request):
    if request.method == "GET" and codes_only(request.user):
        return redirect("annotation:my-work")
    return project_list(request)
