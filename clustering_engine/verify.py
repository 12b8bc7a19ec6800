"""`python -m clustering_engine verify OUT_DIR`: rerun a recorded run and compare.

The recorded config (manifest.json) is rebuilt, the recorded table is checked against its
sha256 and run again into a scratch folder; then every label column of labels.parquet, every
array of embeddings/ and spaces/ (bit for bit, as run_arrays reads it: either storage layout),
clusters.json and every number of the manifest are compared. Volatile entries (wall-clock
timings, creation time, the folder written to) are left out of the comparison, and so is the
storage layout (`format`, `arrays`) when a run of an older format is verified.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import typing
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError
from .hashing import file_sha256
from .run_arrays import ARRAY_FOLDERS, array_names, read_array

VOLATILE_KEYS = frozenset({"created_at", "timings", "seconds"})
STORAGE_KEYS = ("format", "arrays")   # how arrays are stored, not what they hold
MAX_LISTED = 50


@dataclasses.dataclass
class Verification:
    ok: bool
    differences: list[str]
    rerun_dir: str

    def summary(self) -> str:
        if self.ok:
            return ("verify: every label, array, cluster description and manifest number "
                    "matches")
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


def compare_arrays(recorded: Path, rerun: Path) -> list[str]:
    """Arrays of embeddings/ and spaces/ that differ (shape, dtype or any bit of a row)."""
    diffs = []
    for folder in ARRAY_FOLDERS:
        old_names, new_names = array_names(recorded / folder), array_names(rerun / folder)
        for name in sorted(set(old_names) | set(new_names)):
            where = f"{folder}/{name}"
            if name not in old_names or name not in new_names:
                diffs.append(f"{where}: only in the "
                             f"{'rerun' if name in new_names else 'recorded run'}")
                continue
            a, b = read_array(recorded / folder, name), read_array(rerun / folder, name)
            if a.shape != b.shape or a.dtype != b.dtype:
                diffs.append(f"{where}: recorded {a.dtype}{a.shape}, rerun {b.dtype}{b.shape}")
                continue
            if a.size == 0:
                continue
            rows_a = np.ascontiguousarray(a).view(np.uint8).reshape(len(a), -1)
            rows_b = np.ascontiguousarray(b).view(np.uint8).reshape(len(b), -1)
            changed = int((rows_a != rows_b).any(axis=1).sum())
            if changed:
                diffs.append(f"{where}: {changed} row(s) differ")
    return diffs


def compare_runs(recorded: Path, rerun: Path) -> list[str]:
    """Differences between two output folders: labels, arrays, clusters.json, manifest
    numbers."""
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
    diffs += compare_arrays(recorded, rerun)
    for name in ("clusters.json", "manifest.json"):
        a = json.loads((recorded / name).read_text(encoding="utf-8"))
        b = json.loads((rerun / name).read_text(encoding="utf-8"))
        if name == "manifest.json":   # the rerun's own settings that do not change results
            older_format = a.get("format") != b.get("format")
            for m in (a, b):
                m.get("data", {}).pop("out_dir", None)
                if older_format:   # the arrays themselves were compared above
                    for key in STORAGE_KEYS:
                        m.pop(key, None)
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
