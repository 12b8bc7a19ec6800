"""Runs every benchmark script in turn (each prints its own table). `make bench` calls it."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_metrics.py", "bench_data.py", "bench_embedding.py", "bench_pipeline.py",
           "bench_pages.py", "bench_platform_scale.py", "bench_platform_100coders.py",
           "bench_load.py", "bench_reduction_quality.py", "bench_hdbscan_levers.py",
           "bench_output_size.py", "bench_grid.py",
           "bench_coverage.py", "bench_simulate_study.py"]

if __name__ == "__main__":
    failed = []
    for script in SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        if subprocess.run([sys.executable, str(HERE / script)], cwd=HERE.parent).returncode:
            failed.append(script)
    sys.exit(f"failed: {failed}" if failed else 0)
