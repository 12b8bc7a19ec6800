"""The round form tells the PI, before the round opens, how precise its scores will be: choosing
solutions and coders shows the interval half-width and the detectable difference, and changing
posts per cluster changes them (headless Chromium, through the planning API)."""
import os

import pytest
from django.urls import reverse

from scoring.services.round_planning import Design, plan

from .browsing import (artefacts, browser, close_connections_after_each_request,  # noqa: F401
                       logged_in_page, shoot)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.django_db(transaction=True)]


def test_the_round_form_plans_the_round_as_the_pi_changes_it(finished_run, users, coder2, client,
                                                             live_server, browser, artefacts):
    project = finished_run.project
    page = logged_in_page(browser, client, live_server, users["pi"])
    page.goto(f"{live_server.url}/code/projects/{project.pk}/rounds/new/")
    text = page.locator("#round-plan-text")
    assert "Choose solutions and coders" in text.inner_text()
    for box in page.locator(".field-solutions input[type=checkbox]").all():
        box.check()
    for box in page.locator(".field-coders input[type=checkbox]").all():
        box.check()
    page.wait_for_function("document.getElementById('round-plan-text').textContent.includes('±')")
    solutions = list(finished_run.solutions.filter(kind="combined"))
    per_solution = round(sum(s.n_clusters for s in solutions) / len(solutions))
    coders = page.locator(".field-coders input[type=checkbox]").count()
    expected = plan(Design(clusters_per_solution=per_solution, posts_per_cluster=10,
                           coders=coders, calibration_clusters=10, solutions=len(solutions)))
    first = text.inner_text()
    assert f"± {expected['half_width']:.3f}" in first, first
    assert f"{expected['detectable_difference']:.3f}" in first
    page.fill("input[name=posts_per_cluster]", "40")
    page.wait_for_function(f"!document.getElementById('round-plan-text').textContent"
                           f".includes({first!r})")
    fewer = plan(Design(clusters_per_solution=per_solution, posts_per_cluster=40,
                        coders=coders, calibration_clusters=10, solutions=len(solutions)))
    assert f"± {fewer['half_width']:.3f}" in text.inner_text()
    shoot(page, artefacts, "round-planner")
    assert page.errors == []


def test_the_planning_api_names_a_bad_field(users, client):
    client.force_login(users["pi"])
    url = reverse("scoring-api:round-plan")
    bad = client.get(url, {"coders": "abc"})
    assert bad.status_code == 400 and "coders" in bad.json()
    huge = client.get(url, {"clusters_per_solution": "99999999999999999999"})
    assert huge.status_code == 400 and "clusters_per_solution" in huge.json()
    good = client.get(url, {"clusters_per_solution": 25, "coders": 3}).json()
    assert good["half_width"] == pytest.approx(
        plan(Design(clusters_per_solution=25, coders=3))["half_width"], abs=1e-4)
