"""The export's code tables, self-contained: every code with where it comes from (round,
cluster token and the PI's name for the cluster, solution, method, algorithm, K) and what the
PI made of it (the reconciled theme, the adjudicated theme, who decided, the note), in the
column order of the glossary (``CODED_POST_COLUMNS``, ``COMMON_THEME_COLUMNS``).

A post code takes the decision on its post and pass; a common theme the decision on its
cluster sample and pass (a decision without a post). Build step: frames in, frames out.
"""
from __future__ import annotations

import pandas as pd

from .glossary import CODED_POST_COLUMNS, COMMON_THEME_COLUMNS
from .pi_decisions import with_codebook_version

DECISION_COLUMNS = ["theme_adjudicated", "decided_by", "decided_at", "decision_note"]


def _decided(codes: pd.DataFrame, decisions: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    decisions = decisions.reindex(columns=[*on, *DECISION_COLUMNS])
    return codes.merge(decisions, on=on, how="left", sort=False, validate="many_to_one")


def _code_table(codes: pd.DataFrame, clusters: pd.DataFrame, decisions: pd.DataFrame,
                project, on: list[str], columns: list[str]) -> pd.DataFrame:
    codes = codes.rename(columns={"theme_id": "theme_raw_id"})
    if codes.empty:     # no codes: typed key columns to join on would be missing
        return with_codebook_version(codes, project).reindex(columns=columns)
    codes = codes.merge(clusters, on="sample_pk", how="left", sort=False,
                        validate="many_to_one")
    codes = _decided(codes, decisions, on)
    return with_codebook_version(codes, project).reindex(columns=columns)


def coded_posts(codes: pd.DataFrame, clusters: pd.DataFrame, decisions: pd.DataFrame,
                project) -> pd.DataFrame:
    """``codes`` (``codes.post_codes``) as the export's ``data/coded_posts``."""
    post_decisions = decisions[decisions["post"].notna()]
    return _code_table(codes, clusters, post_decisions, project, ["sample_pk", "pass", "post"],
                       CODED_POST_COLUMNS)


def common_themes(codes: pd.DataFrame, clusters: pd.DataFrame, decisions: pd.DataFrame,
                  project) -> pd.DataFrame:
    """``codes`` (``codes.cluster_codes``) as the export's ``data/common_themes``."""
    cluster_decisions = decisions[decisions["post"].isna()].drop(columns=["post"])
    return _code_table(codes, clusters, cluster_decisions, project, ["sample_pk", "pass"],
                       COMMON_THEME_COLUMNS)
