"""Projects app models, one concern per module.

Per-pair labels are deliberately not models: they stay in each run's ``labels.parquet``
(see docs/storage.md); the ORM holds what pages list and filter.
"""
from .project import Membership, Project, Role
from .dataset import Dataset
from .grant import DataRootGrant
from .run import EngineRun, RunStatus
from .shard import EmbeddingShard
from .solution import ClusterSummary, Solution
from .token_use import TokenUse
from .archive_job import ArchiveJob

__all__ = ["Project", "Membership", "Role", "Dataset", "DataRootGrant", "EngineRun", "RunStatus", "Solution",
           "ClusterSummary", "EmbeddingShard", "ArchiveJob", "TokenUse"]
