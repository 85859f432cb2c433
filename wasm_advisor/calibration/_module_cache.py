"""Generated calibration modules kept on disk, so that each worker does not build them again.

Building the code family's modules (up to 192 KiB of code, each size built up to five
times to hit its code-section size) took a quick calibration's workers about a second per
mode, every mode again, and the parent again to analyse them: each worker is a fresh
process, so an in-process cache does not carry over. The bytes are kept under
``<cache folder>/modules/<generator digest>/``, named by what was asked for and by the
SHA-256 of their content, which is checked on every read; the generator digest covers
the sources that build modules, so a change to them builds afresh. Where the folder
cannot be written, the module is built as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ..files import default_cache_dir, keep, read_kept

__all__ = ["cached_module"]

_GENERATORS = ("kernels.py", "_typical_code.py", "../wasm/_encoding.py")


@cache
def _folder() -> Path | None:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    try:
        for name in _GENERATORS:
            digest.update((here / name).read_bytes())
    except OSError:
        return None  # sources not readable: no way to tell a stale module, build afresh
    return default_cache_dir() / "modules" / digest.hexdigest()[:16]


def cached_module(key: str, build: Callable[[], bytes]) -> bytes:
    """The module ``key`` names: from the disk cache where a good copy is there, else
    built by ``build`` and kept."""
    folder = _folder()
    if folder is None:
        return build()
    data = read_kept(folder, key, ".wasm")
    if data is None:
        data = build()
        keep(folder, key, ".wasm", data)
    return data
