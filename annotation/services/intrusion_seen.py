"""What a coder is shown elsewhere in a round, so that intrusion items never repeat it.

Design note — why intrusion items are posts seen nowhere else
-------------------------------------------------------------
The odd one out must be found by reading. If the posts of a task also appear in the coder's
consistency samples or in their other intrusion tasks, the task's own items co-appear there
(they come from one cluster, and so do those contexts) while the intruder does not: picking the
item that co-appears least with the others finds the intruder without any judgement of meaning
(issue found by a hostile probe: 45–47 % against a chance of 17 %). So every intrusion item of a
round is a post that appears in no consistency sample of the round and in no other intrusion
task of the round, whoever codes them: the rule holds for every coder under any overlap.

"The same post" is what a coder holding the public data can recognise: the post itself (its text
leads to its row, and so to its image), its normalised text where the task shows texts (retweet
prefix, URLs and mentions stripped: ``clustering_engine.describe.normalise_for_duplicates``) and
its image where the task shows images, by file and by content hash (one photo under two file
names gives byte-identical thumbnails: it is shown once). Consistency samples show both. Two
different posts that share a photo may still sit in a text task and an image task: nothing on
the platform links them, only the public data itself (accepted in docs/reliability.md).
"""
from __future__ import annotations

import pandas as pd

from clustering_engine.describe import normalise_for_duplicates

from ..models import SampledPost
from ..passes import SHOWS_IMAGE, SHOWS_TEXT


def content_keys(post_id: str, text: str, image: str, image_sha256: str = "",
                 kind: str = "joint") -> frozenset:
    """Every key under which a coder could recognise this post when a task of ``kind`` (or a
    consistency sample: "joint", both shown) shows it."""
    keys = {("post", str(post_id))}
    if kind in SHOWS_TEXT and (norm := normalise_for_duplicates(text)):
        keys.add(("text", norm))
    if kind in SHOWS_IMAGE:
        if image:
            keys.add(("image-file", str(image)))
        if image_sha256:
            keys.add(("image-bytes", str(image_sha256)))
    return frozenset(keys)


def row_keys(row: dict, kind: str = "joint") -> frozenset:
    return content_keys(row["post_id"], row["text"], row["image"], row.get("image_sha256", ""),
                        kind)


def consistency_keys(validation_round, frame: pd.DataFrame) -> set:
    """Keys of every post in the round's consistency samples (what some coder codes in the
    three passes); the run's own rows add the image content hash."""
    sampled = list(SampledPost.objects.filter(cluster_sample__round=validation_round)
                   .values_list("pair_id", "post_id", "text", "image"))
    keys: set = set()
    for _, post_id, text, image in sampled:
        keys |= content_keys(post_id, text, image)
    if sampled and "image_sha256" in frame:
        pair_ids = {pair_id for pair_id, *_ in sampled}
        for row in frame[frame["pair_id"].isin(pair_ids)].to_dict("records"):
            keys |= row_keys(row)
    return keys
