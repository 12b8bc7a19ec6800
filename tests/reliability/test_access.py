"""Access: the permission matrix (every URL pattern × every role, generated from the URL conf so
a new endpoint without a rule fails), CSRF on every form, cookie flags, password validation,
login throttling, `check --deploy` in production settings."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

ROLES = ("anonymous", "coder_a", "coder_b", "pi_a", "pi_b", "viewer_a")
PUBLIC = set(ROLES)
AUTH = set(ROLES) - {"anonymous"}
MEMBERS_A = {"coder_a", "pi_a", "viewer_a"}
READERS_A = {"pi_a", "viewer_a"}
PI_A = {"pi_a"}
CODER_A = {"coder_a"}   # the coder assigned to the cluster / post

# name -> (page | api, method, kwargs from the objects, roles allowed). Objects all belong to
# project A; a denied logged-in user gets 404 (objects of other projects behave as absent),
# an anonymous one a redirect to the login page (pages) or 401/403 (API).
RULES = {
    "login": ("public", "GET", {}, PUBLIC),
    "logout": ("public", "POST", {}, set()),   # ends the session, back to the login page
    "password_change": ("page", "GET", {}, AUTH),
    "password_change_done": ("page", "GET", {}, AUTH),
    "password_reset": ("public", "GET", {}, PUBLIC),
    "password_reset_done": ("public", "GET", {}, PUBLIC),
    "password_reset_confirm": ("public", "GET", {"uidb64": "MQ", "token": "x-y"}, PUBLIC),
    "password_reset_complete": ("public", "GET", {}, PUBLIC),
    "schema": ("api", "GET", {}, AUTH),
    "api-docs": ("api", "GET", {}, AUTH),
    "api-token": ("public", "POST", {}, PUBLIC),
    "api-tokens": ("page", "GET", {}, AUTH),   # one's own tokens only
    "api-root": ("api", "GET", {}, AUTH),
    "annotation:my-work": ("page", "GET", {}, AUTH),
    "annotation:coder-round": ("page", "GET", {"pk": "round"}, CODER_A),
    "annotation:code-cluster": ("page", "GET", {"public_id": "sample"}, CODER_A),
    "annotation:code-pass": ("page", "GET", {"public_id": "sample", "pass_name": "text"}, CODER_A),
    "annotation:coder-image": ("page", "GET", {"public_id": "post"}, CODER_A),
    "annotation:round-list": ("page", "GET", {"pk": "project"}, PI_A),
    "annotation:round-new": ("page", "GET", {"pk": "project"}, PI_A),
    "annotation:codebook": ("page", "GET", {"pk": "project"}, PI_A),
    "annotation:theme-rename": ("page", "POST", {"pk": "project"}, PI_A),
    "annotation:theme-delete": ("page", "POST", {"pk": "project"}, PI_A),
    "annotation:theme-unmerge": ("page", "POST", {"pk": "project"}, PI_A),
    "annotation:keys": ("page", "GET", {}, AUTH),
    "home": ("page", "GET", {}, AUTH),   # coding-only users are sent on to their rounds
    "scoring-api:analysis-codes": ("api", "GET", {"pk": "project"}, PI_A),
    "scoring-api:analysis-cluster-scores": ("api", "GET", {"pk": "project"}, READERS_A),
    "scoring-api:analysis-reliability": ("api", "GET", {"pk": "project"}, READERS_A),
    "annotation:round-manage": ("page", "GET", {"pk": "round"}, PI_A),
    "annotation:adjudicate": ("page", "GET", {"pk": "round"}, PI_A),
    "annotation:adjudicate-next": ("page", "GET", {"pk": "round"}, PI_A),
    "annotation-api:assignments": ("api", "GET", {}, AUTH),
    "annotation-api:cluster-state": ("api", "GET", {"public_id": "sample"}, CODER_A),
    "annotation-api:cluster-themes": ("api", "GET", {"public_id": "sample"}, CODER_A),
    "annotation-api:common-code": ("api", "PUT", {"public_id": "sample", "pass_name": "text"},
                                   CODER_A),
    "annotation-api:post-code": ("api", "PUT", {"public_id": "post", "pass_name": "text"},
                                 CODER_A),
    "annotation-api:rounds": ("api", "GET", {}, AUTH),   # filtered to rounds one manages
    "annotation-api:round-detail": ("api", "GET", {"pk": "round"}, PI_A),
    "annotation:code-intrusion": ("page", "GET", {"pk": "round"}, CODER_A),
    "annotation:intrusion-image": ("page", "GET", {"public_id": "intrusion_item"}, CODER_A),
    "annotation:intrusion-manage": ("page", "GET", {"pk": "round"}, PI_A),
    "annotation-api:round-intrusion": ("api", "GET", {"pk": "round"}, PI_A),
    "annotation-api:intrusion-tasks": ("api", "GET", {}, AUTH),   # filtered to one's tasks
    "annotation-api:intrusion-task": ("api", "GET", {"public_id": "intrusion_task"}, CODER_A),
    "annotation-api:intrusion-answer": ("api", "PUT", {"public_id": "intrusion_task"}, CODER_A),
    "scoring-api:intrusion-scores": ("api", "GET", {"pk": "project"}, READERS_A),
    "scoring:comparison": ("page", "GET", {"pk": "project"}, READERS_A),
    "scoring:comparison-plot": ("page", "GET", {"pk": "project", "fmt": "svg"}, READERS_A),
    "scoring:choose": ("page", "POST", {"pk": "project"}, PI_A),
    "scoring:exports": ("page", "GET", {"pk": "project"}, PI_A),
    "scoring:export-download": ("page", "GET", {"pk": "export"}, PI_A),
    "scoring-api:comparison": ("api", "GET", {"pk": "project"}, READERS_A),
    "scoring-api:cluster-scores": ("api", "GET", {"pk": "project"}, READERS_A),
    "scoring-api:choice": ("api", "PUT", {"pk": "project", "solution_pk": "solution"}, PI_A),
    "scoring-api:exports": ("api", "GET", {"pk": "project"}, PI_A),
    "scoring-api:export-detail": ("api", "GET", {"job_pk": "export"}, PI_A),
    "scoring-api:round-plan": ("api", "GET", {}, AUTH),   # arithmetic on a design: no data
    "api-project-list": ("api", "GET", {}, AUTH),          # lists are filtered by membership
    "api-project-detail": ("api", "GET", {"pk": "project"}, MEMBERS_A),
    "api-dataset-list": ("api", "GET", {}, AUTH),
    "api-dataset-detail": ("api", "GET", {"pk": "dataset"}, READERS_A),
    "api-run-list": ("api", "GET", {}, AUTH),
    "api-run-detail": ("api", "GET", {"pk": "run"}, READERS_A),
    "api-run-cancel": ("api", "POST", {"pk": "run"}, PI_A),
    "api-run-resume": ("api", "POST", {"pk": "run"}, PI_A),
    "api-solution-list": ("api", "GET", {}, AUTH),
    "api-solution-detail": ("api", "GET", {"pk": "solution"}, READERS_A),
    "api-cluster-list": ("api", "GET", {}, AUTH),
    "api-cluster-detail": ("api", "GET", {"pk": "cluster"}, READERS_A),
    "projects:project-list": ("page", "GET", {}, AUTH),
    "projects:project-detail": ("page", "GET", {"pk": "project"}, MEMBERS_A),
    "projects:project-members": ("page", "GET", {"pk": "project"}, PI_A),
    "projects:dataset-import": ("page", "GET", {"pk": "project"}, PI_A),
    "projects:run-new": ("page", "GET", {"pk": "project"}, PI_A),
    "projects:dataset-detail": ("page", "GET", {"pk": "dataset"}, READERS_A),
    "projects:dataset-image": ("page", "GET", {"pk": "dataset", "path": "image"}, READERS_A),
    "projects:run-detail": ("page", "GET", {"pk": "run"}, READERS_A),
    "projects:run-status": ("page", "GET", {"pk": "run"}, READERS_A),
    "projects:run-cancel": ("page", "POST", {"pk": "run"}, PI_A),
    "projects:run-resume": ("page", "POST", {"pk": "run"}, PI_A),
    "projects:run-dashboard": ("page", "GET", {"pk": "run"}, READERS_A),
    "projects:solution-compare": ("page", "GET", {"pk": "run"}, READERS_A),
    "projects:run-figure": ("page", "GET", {"pk": "run", "filename": "sdbw_common.svg"},
                            READERS_A),
    "projects:solution-gallery": ("page", "GET", {"pk": "solution"}, READERS_A),
    "projects:archive-start": ("page", "POST", {"pk": "project"}, PI_A),
    "projects:archive-download": ("page", "GET", {"pk": "archive"}, PI_A),
}
ADMIN_PREFIX = "admin/"   # every admin URL: staff only (no role here is staff) -> admin login


def url_patterns():
    """(route, name, argument names) of every URL pattern, namespaces joined with ':'."""
    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace) if x) or None
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                yield prefix + str(p.pattern), name, tuple(sorted(p.pattern.regex.groupindex))
    return list(walk(get_resolver().url_patterns, "", None))


def test_every_url_pattern_has_a_rule_in_the_matrix():
    missing = [(route, name) for route, name, _ in url_patterns()
               if not route.startswith(ADMIN_PREFIX) and name not in RULES]
    assert not missing, ("URL patterns without a permission rule (add them to RULES in "
                         f"tests/reliability/test_access.py): {missing}")
    stale = set(RULES) - {name for _, name, _ in url_patterns()}
    assert not stale, f"rules for URL names that no longer exist: {stale}"


@pytest.fixture
def objects(scored_run, validation_round, project, users, django_user_model, settings,
            pairs_frame):
    from annotation.models import ClusterSample, SampledPost, Theme
    from annotation.services.intrusion import add_intrusion_tasks
    from projects.models import ArchiveJob, ClusterSummary, Role
    from projects.services import access
    from scoring.models import ExportJob

    solution = scored_run.solutions.order_by("pk").first()
    cluster = ClusterSummary.objects.create(solution=solution, label=0, rank=1, size=12,
                                            share=0.25, top_terms=[], representatives=[])
    sample = ClusterSample.objects.filter(round=validation_round,
                                          assignments__coder=users["coder"]).first()
    post = SampledPost.objects.filter(cluster_sample=sample).first()
    # Intrusion items are posts seen nowhere else in the round: free the other samples' posts
    # (48 pairs, 13 photos) for an image task.
    validation_round.samples.exclude(pk=sample.pk).delete()
    add_intrusion_tasks(validation_round, ["image"], items_per_task=2, coders=[users["coder"]])
    coder_client = Client()   # the coder's text pass of the sample: its images are served
    coder_client.force_login(users["coder"])
    for url in [reverse("annotation-api:common-code", args=[sample.public_id, "text"])] + [
            reverse("annotation-api:post-code", args=[p.public_id, "text"])
            for p in sample.posts.all()]:
        assert coder_client.put(url, {"theme_name": "Seen texts", "base_version": 0},
                                content_type="application/json").status_code == 201
    intrusion_task = validation_round.intrusion_tasks.order_by("order").first()
    export_file = Path(settings.MEDIA_ROOT) / "exports" / f"project-{project.pk}" / "e.zip"
    export_file.parent.mkdir(parents=True, exist_ok=True)
    export_file.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    export = ExportJob.objects.create(project=project, created_by=users["pi"],
                                      status=ExportJob.Status.SUCCEEDED, stage="done",
                                      file_path=str(export_file))
    archive_file = Path(settings.MEDIA_ROOT) / "archives" / f"project-{project.pk}" / "a.zip"
    archive_file.parent.mkdir(parents=True, exist_ok=True)
    archive_file.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    archive = ArchiveJob.objects.create(project=project, created_by=users["pi"],
                                        status=ArchiveJob.Status.SUCCEEDED,
                                        file_path=str(archive_file))
    theme = Theme.objects.create(project=project, modality="text", name="Protest")
    pi_b = django_user_model.objects.create_user("pi_b", password="pw-pi_b")
    coder_b = django_user_model.objects.create_user("coder_b", password="pw-coder_b")
    project_b = access.create_project(pi_b, "Project B")
    access.add_member(project_b, coder_b, Role.CODER)
    return {
        "ids": {"project": project.pk, "dataset": scored_run.dataset.pk, "run": scored_run.pk,
                "solution": solution.pk, "cluster": cluster.pk, "round": validation_round.pk,
                "sample": sample.public_id, "post": post.public_id, "export": export.pk,
                "archive": archive.pk,
                "image": pairs_frame["image"][3], "theme": theme.pk,
                "intrusion_task": intrusion_task.public_id,
                "intrusion_item": intrusion_task.items.first().public_id},
        "users": {"anonymous": None, "coder_a": users["coder"], "coder_b": coder_b,
                  "pi_a": users["pi"], "pi_b": pi_b, "viewer_a": users["viewer"]},
    }


def _url(name, spec, ids, arg_names):
    kwargs = {k: (ids.get(v, v) if isinstance(v, str) else v) for k, v in spec.items()}
    if "format" in arg_names:
        kwargs["format"] = "json"
    kwargs = {k: v for k, v in kwargs.items() if k in arg_names}
    return reverse(name, kwargs=kwargs)


def _denied(kind, role, response) -> str | None:
    """None when the response is the expected refusal, else what was wrong."""
    code = response.status_code
    if role == "anonymous":
        if kind == "page":
            ok = code == 302 and "/accounts/login/" in response["Location"]
        else:
            ok = code in (401, 403)
    else:
        ok = code == 404
    return None if ok else f"expected a refusal, got {code}"


def _allowed(response) -> str | None:
    code = response.status_code
    if code >= 500:
        return f"server error {code}"
    if code in (401, 403, 404):
        return f"refused with {code}"
    if code == 302 and "/accounts/login/" in response.get("Location", ""):
        return "sent to the login page"
    return None


def test_permission_matrix_every_url_and_every_role(objects):
    failures, checked = [], 0

    def client_as(role):   # a fresh client per request: a logout must not end the others
        client = Client(raise_request_exception=False)
        if objects["users"][role] is not None:
            client.force_login(objects["users"][role])
        return client
    for route, name, arg_names in url_patterns():
        if route.startswith(ADMIN_PREFIX):
            if arg_names or not name:
                continue   # the argument-less admin pages stand for the admin site's rule
            for role in ROLES:
                response = client_as(role).get(reverse(name))
                checked += 1
                if name in ("admin:login", "admin:logout"):
                    if response.status_code >= 500:
                        failures.append((route, role, response.status_code))
                elif not (response.status_code == 302
                          and "/admin/login/" in response["Location"]):
                    failures.append((route, role, response.status_code))
            continue
        kind, method, spec, allowed = RULES[name]
        try:
            url = _url(name, spec, objects["ids"], arg_names)
        except NoReverseMatch as exc:
            failures.append((route, "-", f"cannot build the URL: {exc}"))
            continue
        for role in ROLES:
            call = getattr(client_as(role), method.lower())
            if method == "PUT":
                response = call(url, data="{}", content_type="application/json")
            elif name == "annotation:theme-rename":
                response = call(url, {"theme": objects["ids"]["theme"], "name": "Renamed"})
            elif name == "annotation:theme-delete":   # refused as in use, or deleted: not 404
                response = call(url, {"theme": objects["ids"]["theme"]})
            else:
                response = call(url)
            checked += 1
            if role in allowed:
                problem = _allowed(response)
            elif kind == "public":
                problem = "server error" if response.status_code >= 500 else None
            else:
                problem = _denied(kind, role, response)
            if problem:
                failures.append((method, url, role, problem))
    assert checked > 400
    assert not failures, "\n".join(map(str, failures))


def test_csrf_on_every_form_and_session_api_write(objects):
    """A logged-in PI's POST without a CSRF token is refused (403) on every URL; token-auth
    API clients are unaffected (no session)."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(objects["users"]["pi_a"])
    accepted = []
    for route, name, arg_names in url_patterns():
        if route.startswith(ADMIN_PREFIX) and (arg_names or not name):
            continue
        if route.startswith(ADMIN_PREFIX):
            url = reverse(name)
        else:
            url = _url(name, RULES[name][2], objects["ids"], arg_names)
        for method in ("post", "put"):
            response = getattr(client, method)(url, {"x": "1"} if method == "post" else "{}",
                                               **({} if method == "post"
                                                  else {"content_type": "application/json"}))
            if response.status_code != 403:
                accepted.append((method.upper(), url, response.status_code))
    allowed_without_csrf = {("POST", "/api/token/")}  # no session: username + password
    assert set(accepted) <= {(m, u, c) for m, u in allowed_without_csrf for c in (400, 405)}, \
        accepted


def test_session_and_csrf_cookie_flags_in_production_settings():
    code = ("import django,json;django.setup();from django.conf import settings as s;"
            "print(json.dumps([s.SESSION_COOKIE_HTTPONLY,s.SESSION_COOKIE_SECURE,"
            "s.CSRF_COOKIE_SECURE,s.SECURE_HSTS_SECONDS>0,s.SECURE_SSL_REDIRECT]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_production_env(),
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[true, true, true, true, true]"


def test_session_cookie_is_httponly_after_login(users):
    client = Client()
    response = client.post("/accounts/login/", {"username": "pi", "password": "pw-pi"})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def _production_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE="diptych.settings", DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY="x" * 20 + "-production-check-9f8e7d6c5b4a3210-zyxwvu",
               DATABASE_URL="postgres:///x", REDIS_URL="redis://127.0.0.1:6379/0",
               DJANGO_ALLOWED_HOSTS="diptych.example.org")
    return env


def test_manage_py_check_deploy_is_clean_in_production_settings():
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                          "WARNING"], cwd=ROOT, env=_production_env(), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_password_validation_refuses_weak_passwords(users):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak, reason in (("short1", "too short"), ("password123", "too common"),
                         ("8472619305", "entirely numeric"), ("viewer-2026", "too similar")):
        with pytest.raises(ValidationError, match=reason):
            validate_password(weak, users["viewer"])
    validate_password("correct horse battery staple 42", users["pi"])


def test_login_throttling_locks_after_five_failures(users, settings):
    from django.core.cache import cache

    cache.clear()
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        response = client.post("/accounts/login/", {"username": "pi", "password": "wrong"})
        assert response.status_code == 200 and b"did not match" in response.content
    response = client.post("/accounts/login/", {"username": "pi", "password": "wrong"})
    assert response.status_code == 429 and b"Too many failed logins" in response.content
    # Locked: even the right password is refused for 15 minutes, with the message.
    response = client.post("/accounts/login/", {"username": "pi", "password": "pw-pi"})
    assert response.status_code == 429 and b"try again in 15 minutes" in response.content
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    assert client.post("/accounts/login/", {"username": "viewer",
                                            "password": "pw-viewer"}).status_code == 302
    cache.clear()
    assert Client().post("/accounts/login/", {"username": "pi",
                                              "password": "pw-pi"}).status_code == 302


def test_token_endpoint_is_throttled(users, settings):
    from django.core.cache import cache

    cache.clear()
    client = Client()
    codes = [client.post("/api/token/", {"username": user, "password": "wrong"}).status_code
             for user in ["pi"] * 3 + ["viewer", "coder", "outsider", "nobody", "x", "y", "z"]
             + ["a", "b"]]
    # 10 a minute from one address, whichever usernames (the account lock is tested apart)
    assert codes[:10] == [400] * 10 and codes[10:] == [429, 429], codes
    cache.clear()
    ok = client.post("/api/token/", {"username": "pi", "password": "pw-pi"})
    assert ok.status_code == 200 and ok.json()["token"]
