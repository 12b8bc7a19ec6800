"""`python -m clustering_engine verify OUT_DIR`: rerun a recorded run and compare.

The recorded config (manifest.json) is rebuilt, the recorded table is checked against its
sha256 and run again into a scratch folder; then every label column of labels.parquet,
clusters.json and every number of the manifest are compared. Volatile entries (wall-clock
timings, creation time, the folder written to) are left out of the comparison.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import typing
from pathlib import Path

import pandas as pd

from .errors import ConfigError
from .hashing import file_sha256

VOLATILE_KEYS = frozenset({"created_at", "timings", "seconds"})
MAX_LISTED = 50


@dataclasses.dataclass
class Verification:
    ok: bool
    differences: list[str]
    rerun_dir: str

    def summary(self) -> str:
        if self.ok:
            return "verify: every label, cluster description and manifest number matches"
        listed = self.differences[:MAX_LISTED]
        more = len(self.differences) - len(listed)
        return "\n".join([f"verify: {len(self.differences)} difference(s)"] + listed
                         + ([f"... and {more} more"] if more > 0 else []))


def _build(cls, values: dict):
    """A (nested, frozen) config dataclass from its manifest dict; lists become tuples."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(f"the manifest's config has fields this version does not know: {unknown}")
    kwargs = {}
    for name, value in values.items():
        hint = hints.get(name)
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = _build(hint, value)
        elif isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[name] = value
    return cls(**kwargs)


def config_from_manifest(manifest: dict):
    from .pipeline import EngineConfig

    return _build(EngineConfig, manifest["config"])


def compare_values(a, b, path: str = "") -> list[str]:
    """Paths where two JSON values differ (volatile keys skipped; floats compared exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key in VOLATILE_KEYS:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(f"{where}: only in the {'rerun' if key in b else 'recorded run'}")
            else:
                out += compare_values(a[key], b[key], where)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items recorded, {len(b)} in the rerun"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in compare_values(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b and type(a) is type(b) else [f"{path}: recorded {a!r}, rerun {b!r}"]


def compare_runs(recorded: Path, rerun: Path) -> list[str]:
    """Differences between two output folders: labels, clusters.json, manifest numbers."""
    diffs = []
    old = pd.read_parquet(recorded / "labels.parquet")
    new = pd.read_parquet(rerun / "labels.parquet")
    for column in sorted(set(old.columns) | set(new.columns)):
        if column not in old or column not in new:
            diffs.append(f"labels.parquet: column {column} only in the "
                         f"{'rerun' if column in new else 'recorded run'}")
        elif len(old) != len(new) or not old[column].equals(new[column]):
            changed = (int((old[column].to_numpy() != new[column].to_numpy()).sum())
                       if len(old) == len(new) else len(old))
            diffs.append(f"labels.parquet: column {column}: {changed} row(s) differ")
    for name in ("clusters.json", "manifest.json"):
        a = json.loads((recorded / name).read_text(encoding="utf-8"))
        b = json.loads((rerun / name).read_text(encoding="utf-8"))
        if name == "manifest.json":   # the rerun's own settings that do not change results
            for m in (a, b):
                m.get("data", {}).pop("out_dir", None)
        diffs += [f"{name}: {d}" for d in compare_values(a, b)]
    return diffs


def verify(out_dir: str, rerun_dir: str | None = None) -> Verification:
    """Rerun the run recorded in ``out_dir`` and compare; ``rerun_dir`` keeps the rerun."""
    from .pipeline import run

    recorded = Path(out_dir)
    manifest_path = recorded / "manifest.json"
    if not manifest_path.exists():
        raise ConfigError(f"{out_dir} has no manifest.json: not an engine output folder")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    data = manifest["data"]
    table = Path(data["table"])
    if not table.exists():
        raise ConfigError(f"the recorded table {table} is not there any more")
    if file_sha256(str(table)) != data["table_sha256"]:
        return Verification(False, [f"data: {table} changed since the run (sha256 differs)"], "")
    config = config_from_manifest(manifest)
    target = Path(rerun_dir) if rerun_dir else Path(tempfile.mkdtemp(prefix="diptych-verify-"))
    run(str(table), data.get("images_root"), str(target), config, echo=lambda *_: None)
    diffs = compare_runs(recorded, target)
    return Verification(not diffs, diffs, str(target))
