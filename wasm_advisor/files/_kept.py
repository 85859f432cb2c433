"""Files kept between processes under the name of their content: what one calibration's
worker made (a generated module, an AOT artifact) and the next one reads instead of making
it again. A file is named ``<key>-<SHA-256 of its bytes, 32 hex digits><suffix>``; a read
checks the bytes against the name, so a damaged or edited copy is never used. Where the
folder cannot be read or written, nothing is read or kept, and the caller makes the file
as before."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from ._atomic import write_atomically

__all__ = ["keep", "read_kept"]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def read_kept(folder: Path, key: str, suffix: str) -> bytes | None:
    """The bytes kept under ``key`` in ``folder``, where a good copy is there."""
    with contextlib.suppress(OSError):
        for path in folder.glob(f"{key}-*{suffix}"):
            data = path.read_bytes()
            if path.name.removesuffix(suffix).rsplit("-", 1)[1] == _digest(data):
                return data
    return None


def keep(folder: Path, key: str, suffix: str, data: bytes) -> None:
    """Keep ``data`` under ``key`` in ``folder`` (a copy of the same bytes is left as it is)."""
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}-{_digest(data)}{suffix}"
        if not path.exists():
            write_atomically(path, data)
