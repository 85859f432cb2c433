"""Files the package writes and reads: writes that are never left half done, and the
data shipped with it."""

from ._atomic import write_atomically
from ._data import PACKAGE_VERSION, data_folder, default_cache_dir, reference_profile_paths
from ._kept import keep, read_kept
from ._lazy import lazy_exports

__all__ = [
    "PACKAGE_VERSION",
    "data_folder",
    "default_cache_dir",
    "keep",
    "lazy_exports",
    "read_kept",
    "reference_profile_paths",
    "write_atomically",
]
