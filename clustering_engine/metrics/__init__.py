"""Evaluation toolkit of Zhang & Leung (appendix A, E), one module per family:

- ``sdbw``: S_Dbw (two variants) and its diagnostics;
- ``mutual_information``: AMI, its permutation test and reading;
- ``k_selection``: marginal gain of S_Dbw over K and the K it selects;
- ``data_loss``: share of pairs outside the top-k clusters;
- ``label_cooccurrence``: text x image label co-occurrence in Hungarian order;
- ``consistency``: within-cluster consistency of coded themes;
- ``known_groupings``: agreement of a clustering with known groupings (truth column).

Each module's docstring states its conventions (choices the paper leaves open; they are
tested). Every public name is importable from ``clustering_engine.metrics``.
"""
from .consistency import within_cluster_consistency
from .data_loss import data_loss_at, data_loss_curve
from .known_groupings import agreement_with_truth
from .k_selection import marginal_gain, s_dbw_rose, select_k, select_k_detail
from .label_cooccurrence import Cooccurrence, cooccurrence
from .mutual_information import (AMI_HIGH, AMI_NEAR_ZERO, BU_NEMO_AMI, CASM_AMI,
                                 DEFAULT_AVERAGE_METHOD, ami, ami_category, ami_permutation_test,
                                 interpret_ami, joint_clustering_value, noise_left_out)
from .sdbw import (NOISE, S_DBW_VARIANTS, S_DbwInputError, _count_within,  # noqa: F401
                   s_dbw, s_dbw_reading)

__all__ = ["AMI_HIGH", "AMI_NEAR_ZERO", "BU_NEMO_AMI", "CASM_AMI", "DEFAULT_AVERAGE_METHOD",
           "agreement_with_truth", "joint_clustering_value", "noise_left_out", "Cooccurrence", "NOISE", "S_DBW_VARIANTS",
           "S_DbwInputError", "ami", "ami_category", "ami_permutation_test", "cooccurrence",
           "data_loss_at", "data_loss_curve", "interpret_ami", "marginal_gain", "s_dbw",
           "s_dbw_reading", "s_dbw_rose", "select_k", "select_k_detail", "within_cluster_consistency"]
