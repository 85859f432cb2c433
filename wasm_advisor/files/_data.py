"""Where the data the library reads at run time lives.

In an installed wheel, the repository's top-level ``models/`` and
``calibration/`` folders are inside the package as ``wasm_advisor/_data/``; in
a source checkout (an editable install) they are read where they are.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import platformdirs

__all__ = ["PACKAGE_VERSION", "data_folder", "default_cache_dir", "reference_profile_paths"]

try:  # the version pyproject.toml gives, as installed
    PACKAGE_VERSION = version("wasm-advisor")
except PackageNotFoundError:  # the sources on their own, not installed
    PACKAGE_VERSION = "unknown"

_PACKAGE = Path(__file__).resolve().parent.parent  # wasm_advisor/


def data_folder(name: str) -> Path:
    """The folder ``name`` ('models' or 'calibration'), installed or in the checkout."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def reference_profile_paths() -> list[Path]:
    """The reference calibration profiles shipped with the package."""
    folder = data_folder("calibration")
    return sorted(folder.glob("reference-*.json")) if folder.is_dir() else []


def default_cache_dir() -> Path:
    """Where profiles and what calibrations keep between runs live: ``$WASM_ADVISOR_CACHE``,
    else the user's cache folder."""
    override = os.environ.get("WASM_ADVISOR_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("wasm-advisor"))
