"""Files the package writes and reads: writes that are never left half done, and the
data shipped with it."""

from ._atomic import write_atomically
from ._data import PACKAGE_VERSION, data_folder, default_cache_dir, reference_profile_paths
from ._lazy import lazy_exports

__all__ = [
    "PACKAGE_VERSION",
    "data_folder",
    "default_cache_dir",
    "lazy_exports",
    "reference_profile_paths",
    "write_atomically",
]
