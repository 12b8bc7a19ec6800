"""A bounded load test of label saving: 10 coders x 20 labels at once through the real HTTP API,
served by gunicorn on 127.0.0.1 (DEBUG off) against PostgreSQL; zero lost or duplicated labels,
one "created" history row per label. Same code as benchmarks/bench_load.py (50 x 100)."""
import pytest

from benchmarks import bench_load

from .conftest import database_url, need_services, stop_process

CODERS, LABELS = 10, 20


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    need_services()
    port = bench_load.free_port()
    log_path = tmp_path / "gunicorn.log"
    server = bench_load.start_gunicorn(port, bench_load.server_env(database_url()), workers=2,
                                       threads=4, log_path=log_path)
    try:
        bench_load.wait_listening(port, server)
        yield port, log_path
    finally:
        stop_process(server)


def test_concurrent_coders_lose_and_duplicate_nothing(gunicorn, tmp_path):
    port, log_path = gunicorn
    validation_round, coders, themes = bench_load.make_round(CODERS, tmp_path)
    posts = bench_load.post_ids(validation_round)
    results, wall = bench_load.run_load(port, coders, posts, themes, LABELS, max_seconds=90)
    errors = [e for r in results for e in r.errors]
    assert not errors, f"{errors[:5]}\n{log_path.read_text()[-3000:]}"
    check = bench_load.check_consistency(validation_round, coders, results)
    want = CODERS * LABELS
    assert check["acknowledged"] == check["rows"] == want, check
    assert check["lost"] == check["duplicated"] == check["wrong_theme"] == 0, check
    assert check["unexpected"] == check["versions_not_1"] == 0, check
    assert check["history_rows"] == check["history_created"] == want, check
    row = bench_load.summary(results, wall)
    assert all(set(r.statuses) == {201} for r in results), [r.statuses for r in results]
    print(f"\n{want} labels by {CODERS} coders in {wall:.1f}s: median "
          f"{row['median_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms")
