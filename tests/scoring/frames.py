"""Hand-made code tables in the shape of services.codes.post_codes (no database)."""
import pandas as pd


def codes_frame(clusters: dict, *, solution="vector-kmeans-k25", round_id=1, pass_name="text",
                solution_pk=1) -> pd.DataFrame:
    """``clusters``: {(cluster label, coder id): [theme id or None per post]}."""
    rows = []
    for (label, coder_id), themes in clusters.items():
        for position, theme in enumerate(themes):
            rows.append({
                "round_id": round_id, "sample_pk": label + 100 * solution_pk,
                "cluster_sample": f"C{solution_pk}{label}", "solution_pk": solution_pk,
                "solution_id": solution, "run_id": 1, "method": solution.split("-")[0],
                "algorithm": "kmeans", "k": 25, "cluster_label": label, "pass": pass_name,
                "coder": f"coder_{coder_id}", "coder_id": coder_id,
                "post": f"P{solution_pk}{label}-{position}", "posts_in_sample": len(themes),
                "theme_merged_id": theme, "theme": None if theme is None else f"theme {theme}"})
    frame = pd.DataFrame(rows)
    frame["theme_merged_id"] = frame["theme_merged_id"].astype("Int64")
    return frame
