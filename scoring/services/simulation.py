"""A seeded model of coders with known answers, and the expected value ("planted") of every
statistic the scores pages report under it. Used by ``manage.py simulate_study`` (which codes a
real round through the API) and by benchmarks/bench_coverage.py (which feeds simulated code
tables straight to the scoring services).

The coder model:

* Consistency coding: in every pass a coder gives each post the cluster's true theme with
  probability ``p`` (per method of the solution, ``CoderModel.consistency``), else one of
  ``distractors`` other themes chosen uniformly. Posts, passes and coders are independent.
* Intrusion: a coder picks the intruder with probability ``q``, else one of the other shown
  items uniformly; never "unsure".

Planted values (what an infinitely repeated study would average to):

* Cluster consistency as the page defines it is the *modal* share of a coder's coded posts
  (services.consistency), not the share of true-theme labels, so its expectation is not ``p``:
  ``expected_modal_share`` computes E[max theme count] / n **exactly** (binomial true-theme count;
  the rest spread over the distractors as a multinomial, whose maximum has a closed-form
  distribution via the truncated exponential series).
* Solution consistency (mean over clusters of the coders' mean) = mean over the solution's
  clusters of ``expected_modal_share(n_cluster)``.
* Intrusion precision = ``q`` exactly (no unsure answers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats

from clustering_engine.spec import METHODS

DEFAULT_CONSISTENCY = 0.7
DEFAULT_DISTRACTORS = 4
COVERAGE_TARGET = (0.925, 0.975)


class ModelError(ValueError):
    """A coder model given on the command line that cannot be simulated."""


@dataclass(frozen=True)
class CoderModel:
    consistency: dict = field(default_factory=dict)   # method -> p
    intrusion: float = 0.7
    distractors: int = DEFAULT_DISTRACTORS
    default_consistency: float = DEFAULT_CONSISTENCY

    def __post_init__(self):
        for name, value in [*self.consistency.items(), ("intrusion", self.intrusion),
                            ("default", self.default_consistency)]:
            if not 0.0 <= value <= 1.0:
                raise ModelError(f"{name}: a probability is between 0 and 1, not {value}")
        unknown = sorted(set(self.consistency) - set(METHODS))
        if unknown:
            raise ModelError(f"unknown methods {', '.join(unknown)} (methods: "
                             f"{', '.join(METHODS)})")
        if self.distractors < 1:
            raise ModelError("at least one distractor theme")

    def p_for(self, method: str) -> float:
        return float(self.consistency.get(method, self.default_consistency))


def parse_rates(text: str) -> dict[str, float]:
    """``label=0.8,vector=0.6`` -> {"label": 0.8, "vector": 0.6}."""
    rates = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            raise ModelError(f"expected method=probability, got {part!r}") from None
        if not sep:
            raise ModelError(f"expected method=probability, got {part!r}")
    return rates


# ------------------------------------------------------------------ planted values

def _max_count_cdf(balls: int, boxes: int, m: int) -> float:
    """P(no box holds more than m) for ``balls`` thrown uniformly into ``boxes``:
    balls! / boxes^balls * [x^balls] (sum_{j<=m} x^j / j!)^boxes."""
    if balls == 0:
        return 1.0
    if m * boxes < balls:
        return 0.0
    series = np.array([1.0 / math.factorial(j) for j in range(min(m, balls) + 1)])
    poly = np.array([1.0])
    for _ in range(boxes):
        poly = np.convolve(poly, series)[:balls + 1]
    coefficient = poly[balls] if poly.size > balls else 0.0
    return float(math.exp(math.lgamma(balls + 1) - balls * math.log(boxes)) * coefficient)


@lru_cache(maxsize=4096)
def expected_modal_share(n: int, p: float, distractors: int) -> float:
    """E[(count of the most frequent theme) / n] for n posts under the coder model (exact)."""
    if n <= 0:
        return float("nan")
    total = 0.0
    for true_count in range(n + 1):
        weight = stats.binom.pmf(true_count, n, p)
        if weight == 0.0:
            continue
        rest = n - true_count
        cdf = [_max_count_cdf(rest, distractors, m) for m in range(rest + 1)]
        expected = 0.0
        for m in range(rest + 1):
            probability = cdf[m] - (cdf[m - 1] if m else 0.0)
            expected += probability * max(true_count, m)
        total += weight * expected
    return total / n


def planted_solution_consistency(cluster_sizes, p: float, distractors: int) -> float:
    """Mean over clusters of the expected modal share (what the solution's mean estimates)."""
    values = [expected_modal_share(int(n), p, distractors) for n in cluster_sizes]
    return float(np.mean(values)) if values else float("nan")


# ------------------------------------------------------------------ the coders' draws

def draw_labels(rng: np.random.Generator, n: int, p: float, distractors: int) -> np.ndarray:
    """Per post: 0 = the cluster's true theme, 1..distractors = a distractor theme."""
    true = rng.random(n) < p
    other = rng.integers(1, distractors + 1, size=n)
    return np.where(true, 0, other)


def draw_intrusion_choice(rng: np.random.Generator, n_items: int, intruder: int,
                          q: float) -> int:
    """A shown position (1 … n_items): the intruder with probability q, else another one."""
    if rng.random() < q:
        return intruder
    wrong = [position for position in range(1, n_items + 1) if position != intruder]
    return int(wrong[rng.integers(len(wrong))])


# ------------------------------------------------------------------ coverage

def clopper_pearson(successes: int, n: int, confidence: float = 0.95):
    """Exact binomial interval for a coverage share."""
    if n <= 0:
        return None, None
    result = stats.binomtest(int(successes), int(n)).proportion_ci(confidence, method="exact")
    return float(result.low), float(result.high)


def covers(low, high, planted, tolerance: float = 1e-12) -> bool | None:
    """Whether [low, high] holds the planted value; None when the interval is undefined."""
    if low is None or high is None or planted is None:
        return None
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high, planted)):
        return None
    return low - tolerance <= planted <= high + tolerance


def population_alpha(cluster_weights, p: float, distractors: int) -> float:
    """Krippendorff's α of the model's population (nominal): 1 - D_o / D_e with D_o = 1 -
    P(two coders agree on a post) and D_e from the pooled theme shares; ``cluster_weights`` are
    the pairable posts per cluster (each cluster has its own true theme, distractors are shared)."""
    weights = np.asarray(cluster_weights, dtype=float)
    if weights.sum() <= 0:
        return float("nan")
    shares = weights / weights.sum()
    observed = 1.0 - (p * p + (1 - p) ** 2 / distractors)
    pooled = np.concatenate([p * shares, np.full(distractors, (1 - p) / distractors)])
    expected = 1.0 - float((pooled ** 2).sum())
    return 1.0 - observed / expected if expected > 0 else float("nan")


# ------------------------------------------------------------------ simulated code tables

@dataclass(frozen=True)
class StudyDesign:
    """A small study for coverage runs: solutions (id -> method) of ``clusters`` clusters of
    ``posts`` posts each (the last cluster ``small_cluster`` posts: clusters smaller than the
    quota), the first ``calibration`` clusters of each solution coded by every coder, the rest
    round-robin; one intrusion task per cluster and kind of ``items`` items."""
    solutions: dict = field(default_factory=lambda: {"label-kmeans-k8": "label",
                                                      "vector-kmeans-k8": "vector"})
    clusters: int = 8
    posts: int = 10
    small_cluster: int = 4
    coders: int = 5
    calibration: int = 2
    passes: tuple = ("text", "image", "joint")
    intrusion_kinds: tuple = ("term", "text", "image", "joint")
    items: int = 6

    def cluster_size(self, label: int) -> int:
        return self.small_cluster if label == self.clusters - 1 else self.posts

    def coders_of(self, label: int) -> list[int]:
        if label < self.calibration:
            return list(range(self.coders))
        return [(label - self.calibration) % self.coders]


def simulated_codes(rng: np.random.Generator, design: StudyDesign, model: CoderModel):
    """One post code per (cluster, post, coder, pass) in the columns the scoring services read
    (services.codes.score_codes). Theme ids: 1000 * cluster key + 0 for the true theme,
    1..distractors for the shared distractors (the same ids in every cluster)."""
    import pandas as pd

    rows = []
    sample_pk = 0
    for s_index, (solution_id, method) in enumerate(design.solutions.items()):
        p = model.p_for(method)
        for label in range(design.clusters):
            sample_pk += 1
            n = design.cluster_size(label)
            for coder in design.coders_of(label):
                for pass_name in design.passes:
                    drawn = draw_labels(rng, n, p, model.distractors)
                    themes = np.where(drawn == 0, 1000 * sample_pk, drawn)
                    for position, theme in enumerate(themes):
                        rows.append((1, sample_pk, f"C{sample_pk}", s_index + 1, solution_id, 1,
                                     method, "kmeans", design.clusters, label, n,
                                     f"P{sample_pk}-{position}", coder + 1,
                                     f"coder_{coder + 1}", pass_name, int(theme), str(theme)))
    return pd.DataFrame(rows, columns=[
        "round_id", "sample_pk", "cluster_sample", "solution_pk", "solution_id", "run_id",
        "method", "algorithm", "k", "cluster_label", "posts_in_sample", "post", "coder_id",
        "coder", "pass", "theme_merged_id", "theme"])


def simulated_answers(rng: np.random.Generator, design: StudyDesign, model: CoderModel):
    """Intrusion answers in the columns of services.intrusion.answers."""
    import pandas as pd

    rows = []
    for s_index, (solution_id, method) in enumerate(design.solutions.items()):
        for label in range(design.clusters):
            for kind in design.intrusion_kinds:
                task = f"Q{s_index}-{label}-{kind}"
                intruder = int(rng.integers(1, design.items + 1))
                for coder in design.coders_of(label):
                    choice = draw_intrusion_choice(rng, design.items, intruder, model.intrusion)
                    rows.append((task, kind, s_index + 1, solution_id, 1, method, "kmeans",
                                 design.clusters, label, design.items, intruder, coder + 1,
                                 f"coder_{coder + 1}", choice, False, 1.0))
    frame = pd.DataFrame(rows, columns=[
        "task", "kind", "solution_pk", "solution_id", "run_id", "method", "algorithm", "k",
        "cluster_label", "n_items", "intruder_position", "coder_id", "coder", "choice", "unsure",
        "lead_time_s"])
    frame["correct"] = frame["choice"] == frame["intruder_position"]
    frame["chance"] = 1.0 / frame["n_items"]
    return frame
