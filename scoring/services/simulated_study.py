"""Run a simulated study through the platform's own HTTP endpoints: coder accounts, a round with
consistency and intrusion tasks on a finished run, the three coding passes and the intrusion
answers from the seeded coder model (services.simulation), a codebook merge and an adjudication
by the PI; then the scores as the JSON API serves them and the export's CSVs, each compared with
the planted values (``manage.py simulate_study`` prints the result).

Requests go through Django's test client (the same URLs, views, serializers and permission
checks a browser or an API client meets, without a server); themes are sent by name. Only the
oracle reads the database directly: which cluster a public id is (the truth a real coder would
not know) and the intruder's position.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from annotation.forms import MergeForm
from annotation.intrusion_models import IntrusionTask
from annotation.models import ClusterSample
from annotation.passes import PASS_VALUES
from projects.models import EngineRun, Role
from projects.services import access as project_access

from . import snapshots
from .simulation import (CoderModel, covers, draw_intrusion_choice, draw_labels,
                         expected_modal_share, planted_solution_consistency, population_alpha)

INTRUSION_KINDS = ["term", "text", "image", "joint"]
VARIANT = " (variant spelling)"


class SimulationError(RuntimeError):
    """A step of the study was refused by the platform (the response is in the message)."""


@dataclass
class StudyResult:
    round_id: int
    project_id: int
    coders: list
    consistency: pd.DataFrame        # solution × pass: planted vs recovered
    clusters: pd.DataFrame           # coder × cluster × pass: planted vs Wilson interval
    intrusion: pd.DataFrame          # solution × kind: planted vs recovered
    export_checks: list = field(default_factory=list)   # (what, equal, max abs difference)
    steps: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)   # wall time per phase


def _host() -> str:
    """A host name the settings accept (the test client's default, "testserver", may not be)."""
    for host in settings.ALLOWED_HOSTS:
        host = host.lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def _client(user) -> Client:
    client = Client(HTTP_HOST=_host())
    client.force_login(user)
    return client


def _json(response, *expected):
    if response.status_code not in expected:
        raise SimulationError(f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}"
                              f" -> {response.status_code}: {response.content[:500]!r}")
    return response.json() if response.content else {}


def _send(client, method: str, url: str, body: dict, *expected):
    call = getattr(client, method)
    return _json(call(url, data=json.dumps(body), content_type="application/json"), *expected)


def project_pi(project):
    membership = project.memberships.filter(role=Role.PI).select_related("user").order_by(
        "pk").first()
    if membership is None:
        raise SimulationError(f"project {project.pk} has no PI")
    return membership.user


def make_coders(project, count: int, seed: int) -> list:
    """``sim<seed>_coder<i>`` accounts, coders of the project (made once, reused on reruns)."""
    users = get_user_model()
    coders = []
    for i in range(1, count + 1):
        user, created = users.objects.get_or_create(username=f"sim{seed}_coder{i:03d}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if not project.memberships.filter(user=user).exists():
            project_access.add_member(project, user, Role.CODER)
        coders.append(user)
    return coders


class SimulatedStudy:
    def __init__(self, run: EngineRun, model: CoderModel, *, coders: int = 5, seed: int = 1,
                 clusters_per_solution: int | None = None, posts_per_cluster: int = 10,
                 calibration_clusters: int = 2, items_per_task: int = 5, echo=print):
        self.run, self.model, self.seed, self.echo = run, model, seed, echo
        self.project = run.project
        self.n_coders, self.clusters_per_solution = coders, clusters_per_solution
        self.posts_per_cluster, self.calibration = posts_per_cluster, calibration_clusters
        self.items_per_task = items_per_task
        self.rng = np.random.default_rng(seed)
        self.steps = []

    # ------------------------------------------------------------ set-up (PI, through the API)

    def open_round(self) -> int:
        solutions = list(self.run.solutions.filter(kind="combined").order_by("pk"))
        if not solutions:
            raise SimulationError(f"run {self.run.pk} has no solution to validate")
        self.pi = project_pi(self.project)
        self.pi_client = _client(self.pi)
        self.coders = make_coders(self.project, self.n_coders, self.seed)
        names = [c.username for c in self.coders]
        created = _send(self.pi_client, "post", "/api/annotation/rounds/", {
            "project": self.project.pk, "name": f"simulated study (seed {self.seed})",
            "solutions": [s.pk for s in solutions], "posts_per_cluster": self.posts_per_cluster,
            "seed": self.seed, "calibration_clusters": self.calibration, "coders": names}, 201)
        self.round_id = created["id"]
        response = self.pi_client.post(
            f"/api/annotation/rounds/{self.round_id}/intrusion/", data=json.dumps(
                {"kinds": INTRUSION_KINDS, "items_per_task": self.items_per_task,
                 "calibration_tasks": self.calibration, "coders": names}),
            content_type="application/json")
        if response.status_code == 400:   # e.g. too few distinct posts: consistency goes on
            self.steps.append(f"no intrusion tasks: {response.json()}")
        else:
            _json(response, 201)
        self.samples = {s.public_id: s for s in ClusterSample.objects.filter(
            round_id=self.round_id).select_related("solution")}
        self.coded = self._coded_samples()
        self.steps.append(f"round {self.round_id} opened by {self.pi.username} on "
                          f"{len(solutions)} solutions; {len(self.coders)} coders")
        return self.round_id

    def _coded_samples(self) -> set[str]:
        """The first ``clusters_per_solution`` samples of each solution in the round's order
        (all without the option): the rest stay uncoded."""
        by_solution = {}
        for sample in sorted(self.samples.values(), key=lambda s: s.order):
            by_solution.setdefault(sample.solution_id, []).append(sample.public_id)
        limit = self.clusters_per_solution
        return {pid for ids in by_solution.values() for pid in (ids[:limit] if limit else ids)}

    # ------------------------------------------------------------ coding (coders, through the API)

    @staticmethod
    def true_theme(sample) -> str:
        return f"truth {sample.public_id}"

    def code_consistency(self):
        n_codes = 0
        self.variant_of = None
        for index, coder in enumerate(self.coders):
            client = _client(coder)
            mine = _json(client.get("/api/annotation/assignments/"), 200)["results"]
            for entry in (e for e in mine if e["round"] == self.round_id):
                if entry["cluster"] not in self.coded:
                    continue
                n_codes += self._code_cluster(client, coder, index, entry["cluster"])
        self.steps.append(f"{n_codes} post codes saved through PUT /api/annotation/posts/…")

    def _code_cluster(self, client, coder, coder_index: int, public_id: str) -> int:
        sample = self.samples[public_id]
        p = self.model.p_for(sample.solution.method)
        truth = self.true_theme(sample)
        state = _json(client.get(f"/api/annotation/clusters/{public_id}/"), 200)
        n = 0
        for pass_name in PASS_VALUES:     # text, image, joint: the order the server enforces
            posts = sorted(state["passes"][pass_name]["posts"], key=lambda post: post["position"])
            drawn = draw_labels(self.rng, len(posts), p, self.model.distractors)
            # the first coder's first cluster, text pass: the true theme spelt two ways, so
            # the PI's merge is needed to recover the planted value
            variant = coder_index == 0 and pass_name == "text" and self.variant_of is None
            for post, label in zip(posts, drawn):
                name = truth if label == 0 else f"distractor {label}"
                if variant and label == 0 and post["position"] % 2:
                    name = truth + VARIANT
                _send(client, "put", f"/api/annotation/posts/{post['id']}/{pass_name}/",
                      {"theme_name": name, "lead_time_s": 2.0}, 200, 201)
                n += 1
            _send(client, "put", f"/api/annotation/clusters/{public_id}/{pass_name}/common/",
                  {"theme_name": truth}, 200, 201)
            if variant:
                self.variant_of = (coder, sample, truth)
        return n

    def answer_intrusion(self):
        """Every assigned task (one PUT each: cheap, so ``clusters_per_solution`` spares them)."""
        tasks = {t.public_id: t for t in IntrusionTask.objects.filter(round_id=self.round_id)}
        n = 0
        for coder in self.coders:
            client = _client(coder)
            mine = _json(client.get(f"/api/annotation/intrusion/tasks/?round={self.round_id}"),
                         200)
            for entry in mine["results"]:
                task = tasks[entry["task"]]
                choice = draw_intrusion_choice(self.rng, task.n_items, task.intruder_position,
                                               self.model.intrusion)
                _send(client, "put", entry["answer_url"], {"choice": choice, "lead_time_s": 3.0},
                      200, 201)
                n += 1
        self.steps.append(f"{n} intrusion answers saved through PUT …/intrusion/tasks/…/answer/")

    # ------------------------------------------------------------ the PI's codebook and decision

    def merge_and_adjudicate(self):
        _, sample, truth = self.variant_of
        # the themes as the codebook page offers them (the form's own choices and key)
        form = MergeForm(project=self.project, modality="text")
        offered = form.fields["source"].queryset
        source = offered.filter(name__iexact=truth + VARIANT).first()
        target = offered.filter(name__iexact=truth).first()
        if source is not None and target is not None:
            key = form.fields["source"].to_field_name or "pk"
            response = self.pi_client.post(
                f"/code/projects/{self.project.pk}/codebook/?modality=text",
                {"modality": "text", "source": getattr(source, key),
                 "target": getattr(target, key), "note": "one coder's two spellings"})
            if response.status_code != 302:
                raise SimulationError(f"merge refused: {response.status_code}")
            self.steps.append(f"merged “{source.name}” into “{target.name}” on the codebook page")
        response = self.pi_client.post(f"/code/rounds/{self.round_id}/manage/",
                                       {"action": "open_adjudication"})
        if response.status_code != 302:
            raise SimulationError(f"opening adjudication refused: {response.status_code}")
        response = self.pi_client.post(f"/code/rounds/{self.round_id}/adjudicate/", {
            "cluster": sample.public_id, "pass_name": "text", "post": "", "theme_name": truth,
            "note": "simulated decision: the planted theme"})
        if response.status_code != 302:
            raise SimulationError(f"adjudication refused: {response.status_code}")
        stored = sample.adjudications.filter(pass_name="text", sampled_post=None
                                             ).select_related("theme").first()
        self.steps.append(f"adjudicated {sample.public_id} (text): "
                          f"{'stored ' + stored.theme.name if stored else 'NOT stored'}")

    # ------------------------------------------------------------ reading back

    def read_scores(self) -> dict:
        """The comparison JSON, the per-cluster JSON and the intrusion JSON, once current."""
        base = f"/api/scoring/projects/{self.project.pk}"
        for _ in range(20):
            comparison = _json(self.pi_client.get(f"{base}/comparison/"), 200)
            if not comparison["scores"]["stale"]:
                break
            time.sleep(0.5)   # a worker is recomputing
        else:   # no worker answered: run the job's body here, as a worker would
            snapshots.recompute(self.project.pk)
            comparison = _json(self.pi_client.get(f"{base}/comparison/"), 200)
        return {"comparison": comparison,
                "clusters": _json(self.pi_client.get(f"{base}/clusters/"), 200),
                "intrusion": _json(self.pi_client.get(f"{base}/intrusion/"), 200)}

    def sizes(self) -> dict:
        """Coded posts per coded cluster sample, by solution pk."""
        sizes = {}
        for public_id in self.coded:
            sample = self.samples[public_id]
            sizes.setdefault(sample.solution_id, []).append(sample.posts.count())
        return sizes

    def compare(self, scores: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        d = self.model.distractors
        sizes = self.sizes()
        rows = []
        for row in scores["comparison"]["rows"]:
            p = self.model.p_for(row["method"])
            for pass_name in PASS_VALUES:
                planted = planted_solution_consistency(sizes.get(row["solution_pk"], []), p, d)
                low, high = row[f"consistency_{pass_name}_low"], row[f"consistency_{pass_name}_high"]
                rows.append({"solution_id": row["solution_id"], "method": row["method"],
                             "pass": pass_name, "p": p, "planted": planted,
                             "recovered": row[f"consistency_{pass_name}"], "ci_low": low,
                             "ci_high": high, "covers": covers(low, high, planted),
                             "clusters": row[f"consistency_{pass_name}_clusters"],
                             "alpha": row[f"alpha_{pass_name}"]})
        consistency = pd.DataFrame(rows)
        clusters = pd.DataFrame(scores["clusters"]["per_coder"])
        if not clusters.empty:
            clusters["p"] = clusters["method"].map(self.model.p_for)
            clusters["planted"] = [expected_modal_share(int(n), p, d) for n, p in
                                   zip(clusters["n_coded"], clusters["p"])]
            clusters["covers"] = [covers(lo, hi, pl) for lo, hi, pl in zip(
                clusters["wilson_low"], clusters["wilson_high"], clusters["planted"])]
        intrusion = pd.DataFrame(scores["intrusion"]["per_solution"])
        if not intrusion.empty:
            intrusion["planted"] = self.model.intrusion
            intrusion["covers"] = [covers(lo, hi, self.model.intrusion) for lo, hi in zip(
                intrusion["wilson_low"], intrusion["wilson_high"])]
        consistency["alpha_planted"] = [
            population_alpha(self._pairable_weights(r["solution_id"]), r["p"], d)
            for r in consistency.to_dict("records")]
        return consistency, clusters, intrusion

    def _pairable_weights(self, solution_id: str) -> list[int]:
        """Posts per cluster that two or more coders coded (the units α uses)."""
        counts = {}
        for public_id in self.coded:
            sample = self.samples[public_id]
            if sample.solution.solution_id == solution_id and \
                    sample.assignments.count() >= 2:
                counts[public_id] = sample.posts.count()
        return list(counts.values())

    def export_checks(self, scores: dict) -> list[tuple[str, bool, float]]:
        """Build the export through the API, read its CSVs in pandas, compare with the JSON."""
        job = _json(self.pi_client.post(f"/api/scoring/projects/{self.project.pk}/exports/"), 202)
        for _ in range(240):
            job = _json(self.pi_client.get(f"/api/scoring/exports/{job['id']}/"), 200)
            if job["download_url"] or job["status"] == "failed":
                break
            time.sleep(0.5)
        if not job["download_url"]:
            raise SimulationError(f"the export did not finish: {job}")
        response = self.pi_client.get(job["download_url"])
        body = b"".join(response.streaming_content) if response.streaming else response.content
        archive = zipfile.ZipFile(io.BytesIO(body))

        def csv(name):
            return pd.read_csv(io.BytesIO(archive.read(name)))

        checks = []
        solution = csv("scores/solution_scores.csv")
        api = pd.DataFrame([{"solution_id": r["solution_id"], "pass": p,
                             "mean": r[f"consistency_{p}"], "ci_low": r[f"consistency_{p}_low"],
                             "ci_high": r[f"consistency_{p}_high"]}
                            for r in scores["comparison"]["rows"] for p in PASS_VALUES
                            if r[f"consistency_{p}"] is not None])
        checks.append(_equal("scores/solution_scores.csv vs comparison JSON", solution, api,
                             ["solution_id", "pass"], ["mean", "ci_low", "ci_high"]))
        coder = csv("scores/cluster_coder_scores.csv")
        api = pd.DataFrame(scores["clusters"]["per_coder"])
        checks.append(_equal("scores/cluster_coder_scores.csv vs clusters JSON", coder, api,
                             ["cluster_sample", "pass", "coder"],
                             ["consistency", "wilson_low", "wilson_high", "n_coded"]))
        intrusion = csv("scores/intrusion_solution_scores.csv")
        api = pd.DataFrame(scores["intrusion"]["per_solution"])
        checks.append(_equal("scores/intrusion_solution_scores.csv vs intrusion JSON", intrusion,
                             api, ["solution_id", "kind"],
                             ["precision", "wilson_low", "wilson_high", "n_answers"]))
        return checks

    def run_all(self) -> StudyResult:
        self.seconds = {}
        for phase in (self.open_round, self.code_consistency, self.answer_intrusion,
                      self.merge_and_adjudicate):
            self._timed(phase)
        scores = self._timed(self.read_scores)
        consistency, clusters, intrusion = self.compare(scores)
        checks = self._timed(self.export_checks, scores)
        return StudyResult(self.round_id, self.project.pk, [c.username for c in self.coders],
                           consistency, clusters, intrusion, checks, self.steps, self.seconds)

    def _timed(self, phase, *args):
        started = time.perf_counter()
        value = phase(*args)
        self.seconds[phase.__name__] = time.perf_counter() - started
        return value


def _equal(what: str, exported: pd.DataFrame, api: pd.DataFrame, keys, values,
           tolerance: float = 1e-9) -> tuple[str, bool, float]:
    """Rows matched on ``keys``; every value equal within ``tolerance`` (both missing counts as
    equal); (what, equal, largest difference)."""
    if exported.empty and api.empty:
        return what, True, 0.0
    merged = exported[[*keys, *values]].merge(api[[*keys, *values]], on=keys, how="outer",
                                              suffixes=("_csv", "_api"), indicator=True)
    if (merged["_merge"] != "both").any():
        return what, False, float("inf")
    worst = 0.0
    for value in values:
        a = pd.to_numeric(merged[f"{value}_csv"], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(merged[f"{value}_api"], errors="coerce").to_numpy(dtype=float)
        if (np.isnan(a) != np.isnan(b)).any():
            return what, False, float("inf")
        both = ~np.isnan(a)
        if both.any():
            worst = max(worst, float(np.abs(a[both] - b[both]).max()))
    return f"{what} ({len(merged)} rows × {len(values)} values)", worst <= tolerance, worst
