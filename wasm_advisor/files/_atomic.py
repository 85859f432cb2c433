"""Write files so that a reader sees the old content or the new, never half of either.

The data goes to a temporary file beside the destination, is flushed to disk,
and is renamed over it. On any failure the temporary file is removed and the
destination is untouched; the ``OSError`` goes to the caller to name the file.
The new file gets the permissions of the one it replaces, or a new file's usual
ones (not the temporary file's owner-only mode).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically; raises ``OSError`` on failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or a new file's usual ones (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
