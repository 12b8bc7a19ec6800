"""Sampling plans: reproducible from the seed, every non-noise cluster, noise excluded."""
import numpy as np
import pytest

from annotation.models import ClusterSample, SampledPost
from annotation.services.sampling import build_plan, create_round, guess_lang, sample_cluster

from tests.fixtures.annotation import SOLUTION_IDS, label_labels, vector_labels

pytestmark = pytest.mark.django_db


def _db_plan(validation_round):
    return [(s.solution.solution_id, s.cluster_label, s.order, s.is_calibration,
             tuple(s.posts.order_by("position").values_list("pair_id", flat=True)))
            for s in validation_round.samples.select_related("solution").order_by("order")]


def test_same_seed_same_plan_and_every_cluster(project, solutions, pairs_frame):
    a = build_plan(solutions, 10, seed=3, calibration_clusters=2)
    b = build_plan(list(reversed(solutions)), 10, seed=3, calibration_clusters=2)
    assert a.signature() == b.signature()
    assert build_plan(solutions, 10, seed=4).signature() != a.signature()

    covered = {(c.solution_id, c.cluster_label) for c in a.clusters}
    expected = {(SOLUTION_IDS[0], k) for k in set(vector_labels()) - {-1}} | {
        (SOLUTION_IDS[1], k) for k in set(label_labels())}
    assert covered == expected and len(a.clusters) == len(expected)
    pair_ids = pairs_frame["pair_id"].tolist()
    for c in a.clusters:
        labels = vector_labels() if c.solution_id == SOLUTION_IDS[0] else label_labels()
        noise = {pair_ids[i] for i, label in enumerate(labels) if label < 0}
        members = {pair_ids[i] for i, label in enumerate(labels) if label == c.cluster_label}
        assert set(c.pair_ids) <= members and len(set(c.pair_ids)) == len(c.pair_ids)
        assert len(c.pair_ids) == min(10, len(members))  # small clusters give every post
        assert not set(c.pair_ids) & noise
    report = {s["solution_id"]: s for s in a.report["solutions"]}
    assert report[SOLUTION_IDS[0]]["noise_excluded"] == 2
    assert report[SOLUTION_IDS[1]]["small_clusters"] == [{"cluster": 3, "posts": 3}]
    assert [c.is_calibration for c in a.clusters] == [True, True] + [False] * (len(a.clusters) - 2)
    # interleaved: the order is not "all clusters of one solution, then the other"
    solution_sequence = [c.solution_id for c in a.clusters]
    assert solution_sequence != sorted(solution_sequence)
    assert solution_sequence != sorted(solution_sequence, reverse=True)


def test_persisted_plan_is_reproducible(project, solutions, users):
    r1 = create_round(project, solutions, name="one", seed=11, posts_per_cluster=4)
    r2 = create_round(project, solutions, name="two", seed=11, posts_per_cluster=4)
    # same seed, but each round mixes its own server-side secret in: different plans
    assert r1.sampling_secret != r2.sampling_secret and _db_plan(r1) != _db_plan(r2)
    # the PI reproduces a round's plan from its seed and secret
    assert _db_plan(r1) == [tuple(c) for c in build_plan(
        solutions, 4, 11, 10, secret=r1.sampling_secret).signature()]
    # public ids are random, unique, and spell no method / K
    ids = list(ClusterSample.objects.values_list("public_id", flat=True)) + list(
        SampledPost.objects.values_list("public_id", flat=True))
    assert len(ids) == len(set(ids))
    assert not any(ch in "KLOIU" for pid in ids for ch in pid[1:])
    # primary keys follow the interleaved order, not the solutions
    samples = list(r1.samples.order_by("pk"))
    assert [s.order for s in samples] == sorted(s.order for s in samples)


def test_texts_images_and_languages_are_copied_once(validation_round, pairs_frame):
    langs = dict(zip(pairs_frame["pair_id"], pairs_frame["lang"]))
    posts = {p.pair_id: p for p in SampledPost.objects.filter(
        cluster_sample__round=validation_round)}
    assert posts and all(p.image.startswith("images/") for p in posts.values())
    for p in posts.values():
        if p.text.startswith("抗议者"):
            assert p.lang == "zh"
        elif p.text.startswith("مظاهرة"):
            assert p.lang == "ar"
        elif p.text.startswith("<script>"):
            assert p.lang == ""
        else:
            assert p.lang == langs[p.pair_id]  # the data's own language column


def test_one_post_drawn_once_per_cluster():
    pairs = np.array(["a#0", "a#1", "b", "c#0", "c#1", "d"], dtype=object)
    posts = np.array(["a", "a", "b", "c", "c", "d"], dtype=object)
    chosen, chosen_posts = sample_cluster(1, "s", 0, pairs, posts, quota=10)
    assert sorted(chosen_posts) == ["a", "b", "c", "d"]
    assert set(chosen) == {"a#0", "b", "c#0", "d"}
    again, _ = sample_cluster(1, "s", 0, pairs, posts, quota=2)
    assert again == sample_cluster(1, "s", 0, pairs, posts, quota=2)[0] and len(again) == 2


def test_guess_lang():
    assert guess_lang("今天天气很好") == "zh"
    assert guess_lang("これはテストです") == "ja"
    assert guess_lang("שלום עולם") == "he"
    assert guess_lang("hello") == ""
