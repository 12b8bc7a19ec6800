"""Co-occurrence of text and image labels, columns in Hungarian order (the heatmap).

Co-occurrence
    Proportions of (text label, image label) over all pairs; rows/columns sorted label
    values. The Hungarian matching (``linear_sum_assignment``, maximise) pairs rows with
    columns; ``column_order`` lists the matched columns in the order of their rows, then the
    unmatched columns in label order. With rows <= columns the permuted matrix's trace is the
    maximal matching; with more rows than columns, ``matched_total`` is the maximum and
    ``matched_rows`` says which rows carry it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .mutual_information import _as_label_array


@dataclasses.dataclass
class Cooccurrence:
    """Text x image label proportions and their Hungarian column order."""
    counts: np.ndarray          # (n_text_labels, n_image_labels) integer counts
    proportions: np.ndarray     # counts / total
    row_labels: np.ndarray      # text label values (sorted)
    col_labels: np.ndarray      # image label values (sorted)
    column_order: np.ndarray    # column indices: matched (in row order) then unmatched
    permuted: np.ndarray        # proportions[:, column_order]
    matched_rows: np.ndarray    # row index of each matched column, in column_order
    matched_total: float        # sum of matched proportions (maximal)

    @property
    def permuted_col_labels(self) -> np.ndarray:
        return self.col_labels[self.column_order]

    def to_dict(self) -> dict:
        return {"proportions": self.proportions.tolist(),
                "row_labels": self.row_labels.tolist(),
                "col_labels": self.col_labels.tolist(),
                "column_order": self.column_order.tolist(),
                "permuted": self.permuted.tolist(),
                "permuted_col_labels": self.permuted_col_labels.tolist(),
                "matched_total": self.matched_total}


def cooccurrence(text_labels, image_labels) -> Cooccurrence:
    """Proportions of (text label, image label) with columns in Hungarian order."""
    from scipy.optimize import linear_sum_assignment

    t = _as_label_array(text_labels, "text_labels")
    im = _as_label_array(image_labels, "image_labels")
    if len(t) != len(im):
        raise ValueError(f"label arrays differ in length: {len(t)} vs {len(im)}")
    if len(t) == 0:
        raise ValueError("no labels")
    row_labels, rows = np.unique(t, return_inverse=True)
    col_labels, cols = np.unique(im, return_inverse=True)
    counts = np.zeros((len(row_labels), len(col_labels)), dtype=np.int64)
    np.add.at(counts, (rows, cols), 1)
    proportions = counts / len(t)
    matched_r, matched_c = linear_sum_assignment(proportions, maximize=True)  # rows ascending
    unmatched = np.setdiff1d(np.arange(len(col_labels)), matched_c)
    column_order = np.concatenate([matched_c, unmatched]).astype(np.int64)
    return Cooccurrence(counts=counts, proportions=proportions, row_labels=row_labels,
                        col_labels=col_labels, column_order=column_order,
                        permuted=proportions[:, column_order],
                        matched_rows=matched_r.astype(np.int64),
                        matched_total=float(proportions[matched_r, matched_c].sum()))
