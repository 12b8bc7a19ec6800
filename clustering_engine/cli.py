"""Command line: ``python -m clustering_engine run --data PAIRS --images DIR --out OUT``."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from . import spec
from .errors import EngineError
from .grid import GridConfig
from .reduce import ReductionConfig
from .stability import DEFAULT_STABILITY_SEEDS

if TYPE_CHECKING:   # the pipeline (and torch) load only when a run starts
    from .pipeline import EngineConfig


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _weights(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("modality weights are two numbers: TEXT,IMAGE")
    return float(parts[0]), float(parts[1])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m clustering_engine",
                                     description="Cluster text-image pairs three ways and score them.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="embed, cluster over the grid, score, write OUT")
    run.add_argument("--data", required=True,
                     help=f"pairs table: {spec.names(spec.EXTENSION_FORMATS)}")
    run.add_argument("--images", default=None, help="images root (default: the table's folder)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--text-model", default=spec.DEFAULT_TEXT_MODEL)
    run.add_argument("--image-model", default=spec.DEFAULT_IMAGE_MODEL)
    run.add_argument("--joint-model", default=spec.DEFAULT_JOINT_MODEL,
                     help="a pretrained multimodal model for the joint method: 'clip:<spec>'; "
                          "without one, the run has no joint embedding (the offline space "
                          "learned from the pairs is the cca method)")
    run.add_argument("--joint-combine", choices=spec.COMBINES, default=spec.DEFAULT_COMBINE)
    run.add_argument("--methods", type=_names, default=spec.DEFAULT_METHODS,
                     help=f"{spec.names(spec.METHODS)} (default {spec.names(spec.DEFAULT_METHODS)})")
    run.add_argument("--ks", type=_ints, default=spec.DEFAULT_KS, help="K grid, e.g. 9,16,25")
    run.add_argument("--algorithms", type=_names, default=spec.DEFAULT_ALGORITHMS,
                     help=spec.names(spec.ALGORITHMS))
    run.add_argument("--reduction", choices=spec.REDUCERS, default=spec.DEFAULT_REDUCER)
    run.add_argument("--n-components", type=int, default=spec.DEFAULT_N_COMPONENTS)
    run.add_argument("--umap-neighbors", type=int, default=15)
    run.add_argument("--fit-sample", type=int, default=None,
                     help="fit the reducer on this many sampled pairs, transform the rest")
    run.add_argument("--umap-out-of-sample", choices=spec.UMAP_OUT_OF_SAMPLE,
                     default=spec.DEFAULT_UMAP_OUT_OF_SAMPLE,
                     help="with --fit-sample: place the other pairs by UMAP's transform, or by "
                          "its initial step alone (interpolate: faster)")
    run.add_argument("--pca-first", type=int, default=None,
                     help="UMAP only: PCA to this many dims before UMAP (faster at scale)")
    run.add_argument("--min-cluster-size", type=int, default=None, help="HDBSCAN")
    run.add_argument("--min-samples", type=int, default=None, help="HDBSCAN")
    run.add_argument("--alpha", type=float, default=1.0, help="HDBSCAN")
    run.add_argument("--hdbscan-backend", choices=spec.HDBSCAN_BACKENDS, default="hdbscan",
                     help="plain HDBSCAN: hdbscan (reference), fast_hdbscan (numba, no --alpha) "
                          "or cuml (GPU, where installed)")
    run.add_argument("--hdbscan-fit-sample", type=int, default=None,
                     help="fit HDBSCAN on this many sampled points and assign the rest with "
                          "approximate_predict (large data sets; reference backend)")
    run.add_argument("--hdbscan-dims", type=int, default=None,
                     help="run HDBSCAN on the space's first N principal components (e.g. 5, as "
                          "BERTopic does; much faster); metrics still use the whole space")
    run.add_argument("--kmeans-n-init", type=int, default=3)
    run.add_argument("--kmeans-fit-sample", type=int, default=None,
                     help="fit K-Means on this many sampled points, every point to its nearest "
                          "centre (large data sets)")
    run.add_argument("--modality-weights", type=_weights, default=(1.0, 1.0))
    run.add_argument("--threshold", type=float, default=0.01, help="marginal-gain threshold")
    run.add_argument("--ami-normalisation", choices=spec.AMI_NORMALISATIONS,
                     default=spec.DEFAULT_AMI_NORMALISATION,
                     help="max: the paper's Eq. (1); arithmetic: scikit-learn's default")
    run.add_argument("--label-space", choices=spec.LABEL_SPACES, default=spec.DEFAULT_LABEL_SPACE,
                     help="where label-level clusters text and images: the reduced spaces, or "
                          "the raw vectors as the paper")
    run.add_argument("--truth-column", default=None,
                     help="a column of known groupings (e.g. event) to score every solution "
                          "against; never used to cluster")
    run.add_argument("--seed", type=int, default=spec.DEFAULT_SEED)
    run.add_argument("--device", default="auto")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--text-batch-size", type=int, default=None,
                     help="texts per embedding step (the vectors do not depend on it)")
    run.add_argument("--image-batch-size", type=int, default=None,
                     help="images per decoding/embedding step (the vectors do not depend on it)")
    run.add_argument("--threads", type=int, default=None,
                     help="BLAS/OpenMP/numba threads while clustering (default min(4, CPUs))")
    run.add_argument("--stability-seeds", type=int, default=DEFAULT_STABILITY_SEEDS,
                     help="recluster every K-Means solution with this many further seeds and "
                          "report the mean pairwise ARI (0 skips)")
    run.add_argument("--check-images", choices=spec.CHECK_MODES, default=spec.DEFAULT_CHECK_MODE)
    run.add_argument("--cache-dir", default=None)
    run.add_argument("--figure-formats", type=_names, default=spec.FIGURE_FORMATS)
    run.add_argument("--no-embedding-copy", dest="copy_embeddings", action="store_false",
                     help="leave the model vectors in the embedding cache instead of copying "
                          "them into the run folder (most of its size at scale)")
    run.add_argument("--stop-words", default=None, help="extra stop words, one per line")
    check = sub.add_parser("verify", help="rerun the run recorded in OUT_DIR and compare every "
                                          "label and number (exit 0: identical, 1: differences)")
    check.add_argument("out_dir", help="an output folder written by `run`")
    check.add_argument("--keep", default=None, help="write the rerun here (default: a temp folder)")
    sub.add_parser("models", help="list the embedders and whether they work offline here")
    return parser


def config_from_args(args) -> "EngineConfig":
    from .pipeline import EngineConfig

    reduction = ReductionConfig(method=args.reduction, n_components=args.n_components,
                                n_neighbors=args.umap_neighbors, fit_sample=args.fit_sample,
                                pca_first=args.pca_first,
                                out_of_sample=args.umap_out_of_sample,
                                seed=args.seed)
    grid = GridConfig(methods=args.methods, ks=args.ks, algorithms=args.algorithms,
                      reduction=reduction, kmeans_n_init=args.kmeans_n_init,
                      hdbscan_min_cluster_size=args.min_cluster_size,
                      hdbscan_min_samples=args.min_samples, hdbscan_alpha=args.alpha,
                      hdbscan_backend=args.hdbscan_backend,
                      hdbscan_fit_sample=args.hdbscan_fit_sample,
                      hdbscan_density_dims=args.hdbscan_dims,
                      kmeans_fit_sample=args.kmeans_fit_sample,
                      modality_weights=args.modality_weights,
                      marginal_gain_threshold=args.threshold,
                      ami_normalisation=args.ami_normalisation, label_space=args.label_space,
                      seed=args.seed)
    return EngineConfig(text_model=args.text_model, image_model=args.image_model,
                        joint_model=args.joint_model, joint_combine=args.joint_combine,
                        grid=grid, device=args.device, workers=args.workers,
                        threads=args.threads, stability_seeds=args.stability_seeds,
                        **{name: value for name, value in
                           (("text_batch_size", args.text_batch_size),
                            ("image_batch_size", args.image_batch_size)) if value is not None},
                        check_images=args.check_images, cache_dir=args.cache_dir,
                        stop_words_file=args.stop_words, figure_formats=args.figure_formats,
                        copy_embeddings=args.copy_embeddings,
                        truth_column=args.truth_column)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            from .embedders import available_embedders

            for row in available_embedders():
                print("  ".join(f"{k}={v}" for k, v in row.items()))
            return 0
        if args.command == "verify":
            from .verify import verify

            outcome = verify(args.out_dir, args.keep)
            print(outcome.summary())
            return 0 if outcome.ok else 1
        from .pipeline import run

        def progress(stage: str, fraction: float) -> None:
            print(f"[{fraction:5.0%}] {stage}", file=sys.stderr, flush=True)

        manifest = run(args.data, args.images, args.out, config_from_args(args), progress)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n = len(manifest["solutions"])
    print(f"{n} solutions written to {args.out} (manifest.json, labels.parquet, report.html)")
    for key, sel in manifest["k_selection"].items():
        if sel.get("selects_k"):
            flag = spec.k_choice_flag(sel)
            print(f"  chosen K ({sel['method']}, {sel['algorithm']}, {sel['space']} space): "
                  f"{sel['chosen_k']}" + (f"  [warning: {flag}]" if flag else ""))
    if manifest.get("truth"):
        print(truth_table(manifest))
    return 0


def truth_table(manifest: dict) -> str:
    """Truth-AMI per method (rows) and K (columns), K-Means solutions: the known-groupings
    summary printed after a run with --truth-column."""
    rows: dict[str, dict[int, float | None]] = {}
    for s in manifest["solutions"]:
        truth = (s.get("metrics") or {}).get("truth")
        if s["algorithm"] == "kmeans" and truth is not None:
            rows.setdefault(s["method"], {})[s["k"]] = truth.get("ami")
    ks = sorted({k for row in rows.values() for k in row})
    lines = [f"truth-AMI against '{manifest['truth']['column']}' (paper's Eq. (1), noise left "
             "out), K-Means:", "method  " + "".join(f"{'K=' + str(k):>8}" for k in ks)]
    for method in [m for m in spec.METHODS if m in rows]:
        cells = ("       -" if rows[method].get(k) is None else f"{rows[method][k]:8.3f}"
                 for k in ks)
        lines.append(f"{method:<8}" + "".join(cells))
    return "\n".join(lines)
