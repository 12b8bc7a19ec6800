"""Intrusion items are posts a coder sees nowhere else in the round: not in their consistency
samples, not in another intrusion task (by the post, its normalised text, its image file). With
no item of a task appearing elsewhere, "pick the item that co-appears least with the others"
has nothing to count (benchmarks/bench_blinding_attack.py plays that attack)."""
from collections import Counter

import pytest

from annotation.intrusion_models import IntrusionAssignment
from annotation.models import Assignment, SampledPost
from annotation.passes import SHOWS_IMAGE, SHOWS_TEXT
from clustering_engine.describe import normalise_for_duplicates

pytestmark = pytest.mark.django_db


def _keys(post_id, text, image, shows=("text", "image")):
    keys = {("post", post_id)}
    if "text" in shows:
        keys.add(("text", normalise_for_duplicates(text)))
    if "image" in shows and image:
        keys.add(("image", image))
    return keys


def _shows(kind):
    return [m for m, passes in (("text", SHOWS_TEXT), ("image", SHOWS_IMAGE)) if kind in passes]


@pytest.mark.parametrize("coder_name", ["coder", "coder2"])
def test_a_coders_intrusion_items_are_seen_nowhere_else(intrusion_round, users, coder2,
                                                        coder_name):
    coder = coder2 if coder_name == "coder2" else users[coder_name]
    sampled = set()
    for post in SampledPost.objects.filter(cluster_sample__in=Assignment.objects.filter(
            coder=coder, round=intrusion_round).values("cluster_sample")):
        sampled |= _keys(post.post_id, post.text, post.image)
    assert sampled, "the round has consistency samples for this coder"
    per_key = Counter()
    items = 0
    for assignment in IntrusionAssignment.objects.filter(
            coder=coder, task__round=intrusion_round).select_related("task"):
        task = assignment.task
        if task.kind == "term":
            continue
        for item in task.items.all():
            keys = _keys(item.post_id, item.text, item.image, _shows(task.kind))
            assert not keys & sampled, (task.public_id, item.position, keys & sampled)
            per_key.update(keys)
            items += 1
    assert items >= 6 * 3
    repeated = {key: n for key, n in per_key.items() if n > 1}
    assert not repeated, f"shown in two intrusion tasks: {repeated}"
