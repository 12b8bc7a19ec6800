"""What the PI decided, for the export: cluster names, solution choices with their notes, and
the codebook version each code was saved under.

Codebook version (our convention): per project and pass, the number of codebook changes —
themes added and merges made — up to and including the code's last save. Two codes with the
same version were saved against the same codebook; a merge or a new theme in between shows as a
higher number. Renames keep a theme's id and are not counted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from annotation.models import ClusterSample, Theme, ThemeMerge

from ...models import SolutionChoice


def cluster_names(project) -> pd.DataFrame:
    rows = list(ClusterSample.objects.filter(round__project=project).exclude(name="")
                .order_by("round_id", "order").values_list(
                    "round_id", "public_id", "solution__solution_id", "cluster_label", "name"))
    return pd.DataFrame(rows, columns=["round_id", "cluster_sample", "solution_id",
                                       "cluster_label", "name"])


def solution_choices(project) -> pd.DataFrame:
    rows = list(SolutionChoice.objects.filter(project=project).order_by("chosen_at", "pk")
                .values_list("solution__solution_id", "solution__run_id", "note",
                             "chosen_by__username", "chosen_at"))
    return pd.DataFrame(rows, columns=["solution_id", "run_id", "note", "chosen_by",
                                       "chosen_at"])


def with_codebook_version(codes: pd.DataFrame, project) -> pd.DataFrame:
    """``codes`` (with ``pass`` and ``updated_at``) plus a ``codebook_version`` column."""
    codes = codes.copy()
    if codes.empty:
        codes["codebook_version"] = pd.Series(dtype="Int64")
        return codes
    events = pd.DataFrame(
        list(Theme.objects.filter(project=project).values_list("modality", "created_at")) +
        list(ThemeMerge.objects.filter(source__project=project).values_list(
            "source__modality", "merged_at")), columns=["pass", "at"])
    saved = pd.to_datetime(codes["updated_at"], utc=True)
    version = np.zeros(len(codes), dtype="int64")
    for pass_name, group in events.groupby("pass"):
        times = np.sort(pd.to_datetime(group["at"], utc=True).to_numpy())
        mask = (codes["pass"] == pass_name).to_numpy()
        version[mask] = np.searchsorted(times, saved[mask].to_numpy(), side="right")
    codes["codebook_version"] = version
    return codes
