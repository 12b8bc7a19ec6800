"""Timed walk-through in headless Chromium: a coder codes one 10-post cluster in all three passes
with the keyboard; a PI adjudicates one cluster that two coders coded differently.

    python benchmarks/bench_walkthrough.py [--repeats 3] [--posts 10] [--key-delay-ms 0]

Data: the first 240 MediaEval pairs (used in place from ../shared/data), four "solutions" made
up here (labels = row number mod 24, 12 …) so every sampled cluster has 10 posts; a fresh SQLite
database in a temporary folder (or DATABASE_URL), served by Django's live-server thread.

What is timed (ours): wall-clock seconds from opening the cluster's page to the page after the
last pass (coder), and from opening the adjudication page to the last decision's page (PI),
keys pressed by a script that waits for every save. With --key-delay-ms 0 it is the system's
own latency (pages, saves, scripts); add a human's time per key to read it as a person's time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIAEVAL = Path(os.environ.get("DIPTYCH_MEDIAEVAL",
                                REPO.parent / "shared" / "data" / "mediaeval2016_vmu"))
CHROMIUM = "/usr/bin/chromium"

from benchmarks.measure import machine_load, print_table  # noqa: E402


def setup_django(workdir: Path):
    os.environ.setdefault("DIPTYCH_VAR_DIR", str(workdir / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diptych.settings")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"   # ORM calls beside Playwright's loop
    if os.environ.get("DATABASE_URL"):
        from benchmarks.databases import ensure_database

        ensure_database(os.environ["DATABASE_URL"])
    import django

    warnings.filterwarnings("ignore", message="No directory at")   # static files: not collected
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.MEDIA_ROOT = workdir / "media"
    call_command("migrate", verbosity=0)


def make_round(workdir: Path, posts: int, n_pairs: int = 240):
    """A project, a finished run with two solutions, a round of 10-post clusters, two coders."""
    import pandas as pd
    from django.contrib.auth import get_user_model

    from annotation.services.sampling import create_round
    from projects.models import Dataset, EngineRun, Role, RunStatus, Solution
    from projects.services import access

    tag = str(os.getpid())
    users = get_user_model().objects
    pi = users.create_user(f"pi-{tag}")
    coders = [users.create_user(f"coder{i}-{tag}") for i in (1, 2)]
    project = access.create_project(pi, f"walk-through {tag}")
    for coder in coders:
        access.add_member(project, coder, Role.CODER)
    frame = pd.read_csv(MEDIAEVAL / "pairs.csv", dtype=str, nrows=n_pairs)
    out = workdir / "run-output"
    out.mkdir(parents=True, exist_ok=True)
    pairs = pd.DataFrame({"pair_id": frame["id"], "post_id": frame["id"], "text": frame["text"],
                          "image": frame["image"], "lang": frame["lang"]})
    pairs.to_parquet(out / "pairs.parquet", index=False)
    labelings = {"vector-kmeans-k24": [i % 24 for i in range(n_pairs)],
                 "label-kmeans-k12": [i % 12 for i in range(n_pairs)]}
    pd.DataFrame({"pair_id": pairs["pair_id"], **{k: pd.array(v, dtype="int32")
                                                   for k, v in labelings.items()}}
                 ).to_parquet(out / "labels.parquet", index=False)
    dataset = Dataset.objects.create(project=project, name="mediaeval", source="folder",
                                     table_path=str(MEDIAEVAL / "pairs.csv"),
                                     images_root=str(MEDIAEVAL), n_rows_read=n_pairs,
                                     n_pairs_valid=n_pairs)
    run = EngineRun.objects.create(project=project, dataset=dataset, status=RunStatus.SUCCEEDED,
                                   stage="done", progress=1.0, output_dir=str(out))
    solutions = [Solution.objects.create(run=run, solution_id=sid, method=sid.split("-")[0],
                                         algorithm="kmeans", k=len(set(v)),
                                         n_clusters=len(set(v)), space="common")
                 for sid, v in labelings.items()]
    validation_round = create_round(project, solutions, name="walk-through", created_by=pi,
                                    posts_per_cluster=posts, seed=0, calibration_clusters=6,
                                    coders=coders)
    return validation_round, pi, coders


def start_server():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    return thread, f"http://127.0.0.1:{thread.port}"


def page_for(browser, url, user):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": url}])
    return context.new_page()


class Keys:
    def __init__(self, page, delay_ms):
        self.page, self.delay, self.count = page, delay_ms / 1000, 0

    def press(self, key):
        if self.delay:
            time.sleep(self.delay)
        self.page.keyboard.press(key)
        self.count += 1

    def type(self, text):
        for ch in text:
            self.press(ch)


def wait_saved(page):
    page.wait_for_function(
        "document.getElementById('save-status').dataset.pending === '0'", timeout=30000)


def code_cluster(page, url, sample, keys, themes, variant=0) -> float:
    """Three passes by keyboard: type the common theme, Space for each post but the last, type
    the last post's own theme, n. Returns seconds."""
    start = time.perf_counter()
    page.goto(f"{url}/code/c/{sample.public_id}/")
    for pass_name in ("text", "image", "joint"):
        page.wait_for_url(f"**/{pass_name}/")
        page.wait_for_selector("html[data-coding-ready='1']")
        keys.press("Enter")
        page.wait_for_selector("#theme-input:focus")
        keys.type(themes[pass_name])
        keys.press("Enter")
        n = page.locator("#items .item.post").count()
        for _ in range(n - 1):
            keys.press(" ")
        keys.press("Enter")                          # the last post: a theme of its own
        page.wait_for_selector("#theme-input:focus")
        keys.type(f"Other {pass_name} {variant}")
        keys.press("Enter")
        wait_saved(page)
        keys.press("n")
    page.wait_for_url(lambda u: "/joint/" not in u)
    page.wait_for_load_state()
    return time.perf_counter() - start


def adjudicate(page, url, validation_round, keys) -> tuple[float, int]:
    """Every open row of the round's page decided with a digit (coder 1's theme). Returns
    seconds and rows decided."""
    start = time.perf_counter()
    page.goto(f"{url}/code/rounds/{validation_round.pk}/adjudicate/")
    page.wait_for_selector("html[data-adjudicate-ready='1']")
    decided = 0
    while page.locator('.dis-row[data-decided="0"]').count():
        with page.expect_navigation():
            keys.press("1")
        page.wait_for_selector("html[data-adjudicate-ready='1']")
        decided += 1
    return time.perf_counter() - start, decided


# Both coders give the same common themes; their last post's own theme differs in every pass,
# so the PI has one post row per pass to decide.
THEMES = {"text": "Protest at the office", "image": "Crowd in the street", "joint": "Protest"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--key-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    if not (MEDIAEVAL / "pairs.csv").exists():
        sys.exit(f"the MediaEval data is not at {MEDIAEVAL}")

    workdir = Path(tempfile.mkdtemp(prefix="diptych-bench-walkthrough-"))
    setup_django(workdir)
    from playwright.sync_api import sync_playwright

    from annotation.models import Assignment

    validation_round, pi, (coder, coder2) = make_round(workdir, args.posts)
    shared = set(Assignment.objects.filter(coder=coder2).values_list("cluster_sample_id",
                                                                     flat=True))
    mine = list(validation_round.samples.filter(assignments__coder=coder).order_by("order"))
    calibration = [s for s in mine if s.pk in shared]
    assert len(calibration) >= args.repeats, "not enough calibration clusters"
    server, url = start_server()
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page1, page2 = page_for(browser, url, coder), page_for(browser, url, coder2)
        warm = [s for s in mine if s.pk not in shared][0]       # compile templates, caches
        code_cluster(page1, url, warm, Keys(page1, 0), THEMES)
        for i, sample in enumerate(calibration[:args.repeats]):
            keys = Keys(page1, args.key_delay_ms)
            seconds = code_cluster(page1, url, sample, keys, THEMES, variant=0)
            rows.append({"who": "coder", "task": f"code cluster {i + 1} ({sample.posts.count()}"
                         " posts × 3 passes)", "keys": keys.count, "seconds": seconds})
            code_cluster(page2, url, sample, Keys(page2, 0), THEMES, variant=1)
        pi_page = page_for(browser, url, pi)
        # the PI adjudicates cluster by cluster: here all disagreements of the coded clusters
        keys = Keys(pi_page, args.key_delay_ms)
        seconds, decided = adjudicate(pi_page, url, validation_round, keys)
        n_clusters = min(args.repeats, len(calibration))
        rows.append({"who": "PI", "task": f"adjudicate {n_clusters} cluster(s), {decided} rows",
                     "keys": keys.count, "seconds": seconds})
        rows.append({"who": "PI", "task": "adjudicate one cluster (mean)",
                     "keys": keys.count / n_clusters, "seconds": seconds / n_clusters})
        browser.close()
    server.terminate()
    coder_seconds = [r["seconds"] for r in rows if r["who"] == "coder"]
    rows.insert(len(coder_seconds), {"who": "coder", "task": "code one cluster (median)",
                                     "keys": None, "seconds": statistics.median(coder_seconds)})
    print_table(rows, ["who", "task", "keys", "seconds"],
                title=f"Walk-through in headless Chromium, key delay {args.key_delay_ms} ms "
                      f"({machine_load()})")


if __name__ == "__main__":
    main()
