"""Blinding against a curious coder: what a coder can learn from rerunning, from image URLs and
files, from the codebook and from the API (one test per finding)."""
from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

pytestmark = pytest.mark.django_db


def _complete_pass(sample, coder, pass_name, theme_name="Shared theme"):
    from annotation.services.coding import get_or_create_theme, save_cluster_code, save_post_code

    theme = get_or_create_theme(sample.round.project, pass_name, theme_name, coder)
    for post in sample.posts.all():
        save_post_code(post, coder, pass_name, theme, None)
    save_cluster_code(sample, coder, pass_name, theme, None)


def _coder_sample(validation_round, coder):
    return validation_round.samples.filter(assignments__coder=coder).order_by("order").first()


# ---------------------------------------------------------------- 2. file names and EXIF

def test_coders_get_images_by_opaque_id_without_file_names_or_metadata(
        validation_round, users, tmp_path):
    """The original path (``images/boston_fake_15.jpg``) gives away event and label: it must not
    reach a coder in any URL, header, alt text or JSON, nor in the image's metadata."""
    coder = users["coder"]
    sample = _coder_sample(validation_round, coder)
    posts = [p for p in sample.posts.all() if p.image]
    assert posts
    # The round's images, copied with the original name written into EXIF and a JPEG comment.
    dataset = validation_round.dataset
    root = tmp_path / "images-root"
    for post in posts:
        target = root / post.image
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(Path(dataset.images_root) / post.image) as img:
            exif = Image.Exif()
            exif[0x010E] = post.image          # ImageDescription
            exif[0x013B] = "photographer"      # Artist
            img.convert("RGB").save(target, "JPEG", exif=exif.tobytes(),
                                    comment=post.image.encode())
    dataset.images_root = str(root)
    dataset.save(update_fields=["images_root"])
    _complete_pass(sample, coder, "text")

    client = Client()
    client.force_login(coder)
    page = client.get(reverse("annotation:code-pass", args=[sample.public_id, "image"]))
    assert page.status_code == 200
    html = page.content.decode()
    state = client.get(reverse("annotation-api:cluster-state", args=[sample.public_id]))
    sources = re.findall(r'(?:src|data-zoom)="([^"]+)"', html)
    image_urls = [u for u in sources if "/static/" not in u]
    assert len(image_urls) == 2 * len(posts)
    names = {Path(p.image).name for p in posts} | {Path(p.image).stem for p in posts}
    for text in (html, state.content.decode()):
        assert "images/" not in text
        assert not [n for n in names if n in text]
    for url in image_urls:
        assert re.fullmatch(r"/code/i/P[0-9A-Z]+/\?size=(thumb|medium)", url), url
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
        assert not [n for n in names if n in headers] and "filename" not in headers
        body = response.content
        assert not [n for n in names if n.encode() in body] and b"photographer" not in body
        with Image.open(io.BytesIO(body)) as img:
            assert not img.getexif() and "comment" not in img.info and "exif" not in img.info
    # The path-based image URL is for PIs and viewers: a coder who guesses a path gets 404.
    guessed = reverse("projects:dataset-image", args=[dataset.pk, posts[0].image])
    assert client.get(guessed).status_code == 404
    # The original file is never sent to a coder.
    assert client.get(image_urls[0].split("?")[0] + "?size=full").status_code == 404
    shutil.rmtree(root)


# ---------------------------------------------------------------- 1a/1b. own project, own import

def test_project_creation_is_for_staff_and_the_pi_group_by_default(users, settings):
    """The unblinding started with a coder creating a project of their own."""
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from projects.models import Project

    coder = users["coder"]
    api, page = APIClient(), Client()
    api.force_authenticate(coder)
    page.force_login(coder)
    assert api.post("/api/projects/", {"name": "Rerun"}, format="json").status_code == 403
    assert page.post(reverse("projects:project-list"), {"name": "Rerun"}).status_code == 403
    assert b"Create project" not in page.get(reverse("projects:project-list")).content
    assert not Project.objects.filter(name="Rerun").exists()
    coder.groups.add(Group.objects.create(name=settings.DIPTYCH_PI_GROUP))
    assert api.post("/api/projects/", {"name": "Mine"}, format="json").status_code == 201
    settings.DIPTYCH_PROJECT_CREATORS = "anyone"
    outsider = APIClient()
    outsider.force_authenticate(users["outsider"])
    assert outsider.post("/api/projects/", {"name": "Open"}, format="json").status_code == 201


def test_server_folder_import_needs_staff_or_a_granted_data_root(users, project,
                                                                  small_dataset_dir, settings):
    """Every allowed root used to be open to every PI (and any user could be a PI of their own
    project): the coder imported the demo's folder."""
    from rest_framework.test import APIClient

    from projects.models import DataRootGrant

    root = small_dataset_dir.parent.resolve()
    settings.DIPTYCH_ALLOWED_DATA_ROOTS = [root]
    body = {"project": project.pk, "name": "same data", "server_folder": str(small_dataset_dir)}
    api = APIClient()
    api.force_authenticate(users["pi"])
    refused = api.post("/api/datasets/", body, format="json")
    assert refused.status_code == 400 and "administrator" in refused.json()["detail"]
    assert str(root) not in refused.content.decode()   # no server path disclosed
    page = Client()
    page.force_login(users["pi"])
    assert b'id="folder-form"' not in page.get(
        reverse("projects:dataset-import", args=[project.pk])).content
    assert not project.datasets.exists()
    # An administrator grants the project that root: its PI may import from it.
    DataRootGrant.objects.create(project=project, root=str(root))
    assert b'id="folder-form"' in page.get(
        reverse("projects:dataset-import", args=[project.pk])).content
    assert api.post("/api/datasets/", body, format="json").status_code == 201
    # Staff may import without a grant; a grant of one project opens nothing elsewhere.
    from projects.services import access
    other = access.create_project(users["outsider"], "Elsewhere")
    outsider = APIClient()
    outsider.force_authenticate(users["outsider"])
    assert outsider.post("/api/datasets/", {**body, "project": other.pk},
                         format="json").status_code == 400
    users["outsider"].is_staff = True
    users["outsider"].save()
    assert outsider.post("/api/datasets/", {**body, "project": other.pk},
                         format="json").status_code == 201


# ---------------------------------------------------------------- 1c. rerunning the sampling

def _stored_plan(validation_round):
    return [(s.solution.solution_id, s.cluster_label, s.order, s.is_calibration,
             tuple(s.posts.order_by("position").values_list("pair_id", flat=True)))
            for s in validation_round.samples.select_related("solution").order_by("order")]


def test_a_second_account_cannot_reproduce_another_rounds_plan(validation_round, solutions,
                                                                 users):
    """The attack: rerun the same data with the round's seed and settings (everything a coder can
    find out) and map the blinded clusters back by their order and posts. With a per-round
    server-side secret the replay maps next to nothing; the PI, who sees the secret, reproduces
    the plan exactly."""
    from annotation.services.sampling import build_plan

    stored = _stored_plan(validation_round)
    replay = [tuple(c) for c in build_plan(
        solutions, validation_round.posts_per_cluster, validation_round.seed,
        validation_round.calibration_clusters).signature()]
    mapped = sum(a == b for a, b in zip(stored, replay))
    assert replay != stored and mapped < len(stored), f"{mapped} of {len(stored)} clusters mapped"
    # The PI's reproduction: seed + the round's secret.
    secret = validation_round.sampling_secret
    assert len(secret) == 64
    assert [tuple(c) for c in build_plan(
        solutions, validation_round.posts_per_cluster, validation_round.seed,
        validation_round.calibration_clusters, secret).signature()] == stored
    # The secret is the PI's: in the PI's round API and page, nowhere a coder looks.
    pi, coder = Client(), Client()
    pi.force_login(users["pi"])
    coder.force_login(users["coder"])
    assert pi.get(reverse("annotation-api:round-detail",
                          args=[validation_round.pk])).json()["sampling_secret"] == secret
    assert secret in pi.get(reverse("annotation:round-manage",
                                    args=[validation_round.pk])).content.decode()
    sample = _coder_sample(validation_round, users["coder"])
    for url in (reverse("annotation:my-work"),
                reverse("annotation:coder-round", args=[validation_round.pk]),
                reverse("annotation:code-pass", args=[sample.public_id, "text"]),
                reverse("annotation-api:assignments"), reverse("annotation-api:rounds"),
                reverse("annotation-api:cluster-state", args=[sample.public_id])):
        response = coder.get(url)
        assert response.status_code == 200 and secret not in response.content.decode(), url
    assert coder.get(reverse("annotation-api:round-detail",
                             args=[validation_round.pk])).status_code == 404


# ---------------------------------------------------------------- 4. pass order on the server

def test_the_server_refuses_a_pass_before_the_earlier_passes_of_that_cluster(validation_round,
                                                                              users, coder2):
    """``PUT …/joint/common/`` on an untouched cluster was accepted: the order was only the
    page's. The image-only pass must come before the joint one, the text-only before both."""
    from annotation.models import ClusterCode, PostCode

    coder = users["coder"]
    sample = _coder_sample(validation_round, coder)
    post = sample.posts.first()
    client = Client()
    client.force_login(coder)

    def put(url):
        return client.put(url, {"theme_name": "Seen it", "base_version": 0},
                          content_type="application/json")

    for pass_name in ("image", "joint"):
        for url in (reverse("annotation-api:common-code", args=[sample.public_id, pass_name]),
                    reverse("annotation-api:post-code", args=[post.public_id, pass_name])):
            refused = put(url)
            assert refused.status_code == 400, (url, refused.status_code)
            assert "text only pass of this cluster first" in refused.json()["detail"]
    assert not PostCode.objects.exists() and not ClusterCode.objects.exists()
    _complete_pass(sample, coder, "text")
    refused = put(reverse("annotation-api:common-code", args=[sample.public_id, "joint"]))
    assert refused.status_code == 400 and "image only pass" in refused.json()["detail"]
    assert put(reverse("annotation-api:common-code", args=[sample.public_id, "image"])
               ).status_code == 201
    # The order is per coder: the first coder's progress opens nothing for the second.
    assert sample.is_calibration and sample.assignments.filter(coder=coder2).exists()
    second = Client()
    second.force_login(coder2)
    assert second.put(reverse("annotation-api:common-code", args=[sample.public_id, "image"]),
                      {"theme_name": "Seen it", "base_version": 0},
                      content_type="application/json").status_code == 400


# ---------------------------------------------------------------- 3. coder independence

def test_coders_see_only_their_own_themes_and_alpha_needs_no_adjudication(validation_round,
                                                                        users, coder2):
    """Theme autocomplete showed names other coders typed. New rounds code independently:
    suggestions, recent themes and theme ids are each coder's own all round long, whatever the PI
    does; α is read at any time, on the themes as reconciled (merged) so far."""
    from annotation.models import Theme
    from annotation.services.codebook import merge_themes
    from scoring.services.comparison import project_scores

    assert validation_round.independent_coding and not validation_round.adjudication_open
    sample = validation_round.samples.filter(is_calibration=True).order_by("order").first()
    first, second = Client(), Client()
    first.force_login(users["coder"])
    second.force_login(coder2)
    _complete_pass(sample, users["coder"], "text", "Riot police")
    _complete_pass(sample, coder2, "text", "Police violence")
    themes_url = reverse("annotation-api:cluster-themes", args=[sample.public_id])

    def offered(client, q=""):
        body = client.get(themes_url, {"pass": "text", "q": q}).json()
        return {t["name"] for t in body["results"]} | {t["name"] for t in body["recent"]}

    assert offered(first) == {"Riot police"} and offered(first, "pol") == {"Riot police"}
    assert offered(second) == {"Police violence"}
    # another coder's theme id is as absent as a wrong one
    other = Theme.objects.get(name="Police violence")
    post = sample.posts.first()
    refused = first.put(reverse("annotation-api:post-code", args=[post.public_id, "text"]),
                        {"theme_id": other.public_id, "base_version": 1},
                        content_type="application/json")
    assert refused.status_code == 400 and "Police violence" not in refused.content.decode()
    # α before any reconciliation: the two names disagree
    scores = project_scores(validation_round.project)
    assert scores.reliability_overall.set_index("pass").loc["text"]["percent_agreement"] == 0.0

    # The PI opens adjudication (coders see no change) and reconciles by a merge.
    pi = Client()
    pi.force_login(users["pi"])
    pi.post(reverse("annotation:round-manage", args=[validation_round.pk]),
            {"action": "open_adjudication"})
    validation_round.refresh_from_db()
    assert validation_round.adjudication_open
    assert offered(first) == {"Riot police"}
    merge_themes(other, Theme.objects.get(name="Riot police"), users["pi"], "same")
    text = project_scores(validation_round.project).reliability_overall.set_index(
        "pass").loc["text"]
    assert text["percent_agreement"] == 1.0   # one theme after the merge
    assert offered(first) == {"Riot police"} and offered(second) == {"Police violence"}

