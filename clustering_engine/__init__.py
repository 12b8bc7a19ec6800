"""Diptych clustering engine: a pure-Python library (no Django) that embeds text-image pairs,
clusters them three ways (label-level, vector-level, joint) over a grid of K, and scores every
solution with the evaluation toolkit of Zhang & Leung (Sociological Methodology).

Pipeline of swappable steps: data -> embedders (+ cache) -> methods (spaces) -> reduce ->
cluster -> metrics / describe -> report.
"""

__version__ = "0.1.0"
