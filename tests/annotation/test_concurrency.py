"""Two saves of the same label at once (two threads, two PostgreSQL connections) never lose or
duplicate a label: one row, the versions add up, every attempt is in the history."""
import threading

import pytest
from django.db import connection, connections

from annotation.models import CodeHistory, PostCode
from annotation.services.coding import get_or_create_theme, save_cluster_code, save_post_code

from tests.fixtures.platform import POSTGRES_UP

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not POSTGRES_UP, reason="needs PostgreSQL at 127.0.0.1:5432")]


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_concurrent_saves_of_one_label(validation_round, users):
    assert connection.vendor == "postgresql"
    coder = users["coder"]
    project = validation_round.project
    a = get_or_create_theme(project, "text", "Road blockade", coder)
    b = get_or_create_theme(project, "text", "Banner protest", coder)
    posts = list(validation_round.samples.filter(
        assignments__coder=coder).first().posts.all())
    assert len(posts) >= 3
    for round_no in range(3):
        # 1. two first saves, different themes: one created, one refused, nothing duplicated
        post = posts[round_no]
        results = _race(lambda: save_post_code(post, coder, "text", a, 0),
                        lambda: save_post_code(post, coder, "text", b, 0))
        assert sorted(r.status for r in results) == ["conflict", "created"]
        rows = PostCode.objects.filter(sampled_post=post, coder=coder, pass_name="text")
        assert rows.count() == 1 and rows.get().version == 1
        winner = next(r for r in results if r.status == "created").code.theme_id
        assert rows.get().theme_id == winner
        # 2. two edits from the same version: one applied, one refused (kept in history)
        other = a if winner == b.pk else b
        third = get_or_create_theme(project, "text", f"Third {round_no}", coder)
        results = _race(lambda: save_post_code(post, coder, "text", other, 1),
                        lambda: save_post_code(post, coder, "text", third, 1))
        assert sorted(r.status for r in results) == ["changed", "conflict"]
        assert rows.count() == 1 and rows.get().version == 2
        history = CodeHistory.objects.filter(post_code=rows.get())
        assert history.count() == 4
        assert sorted(history.values_list("outcome", flat=True)) == [
            "changed", "conflict", "conflict", "created"]
    # 3. the same label twice at once (two tabs retrying): one row, both succeed
    post = posts[-1]
    results = _race(lambda: save_post_code(post, coder, "image",
                                           get_or_create_theme(project, "image", "Crowd", coder), 0),
                    lambda: save_post_code(post, coder, "image",
                                           get_or_create_theme(project, "image", "crowd", coder), 0))
    assert sorted(r.status for r in results) == ["created", "unchanged"]
    assert PostCode.objects.filter(sampled_post=post, pass_name="image").count() == 1
    # common themes behave the same
    sample = posts[0].cluster_sample
    results = _race(lambda: save_cluster_code(sample, coder, "text", a, 0),
                    lambda: save_cluster_code(sample, coder, "text", b, 0))
    assert sorted(r.status for r in results) == ["conflict", "created"]
