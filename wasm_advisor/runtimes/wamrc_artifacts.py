"""WAMR AOT artifacts kept on disk, for modules whose compile is not what is measured.

The calibration runs every kernel and module family on ``aot`` and ``aot-embedded``, the
same ``wamrc`` compiling the same modules for both, and again in every calibration:
about 14 s of a quick calibration's 27 s on those two modes went to ``wamrc`` compiling
modules whose compile no figure reads (guest-timed kernels, instantiation and memory
figures). An artifact is kept under ``<cache folder>/aot/<compiler digest>/``, named by
the SHA-256 of the module and of the artifact, which is checked on every read
(``files/_kept.py``, as the generated modules are kept). The
compiler digest covers the ``wamrc`` executable's bytes and this machine's CPU (``wamrc``
compiles for the CPU it runs on), so a rebuilt compiler or another machine compiles
afresh. A compile that is timed never reads the cache. Where the folder cannot be
written, nothing is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
from functools import cached_property
from pathlib import Path

from ..files import default_cache_dir, keep, read_kept

__all__ = ["ArtifactCache"]


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")):
                return line
    return platform.processor()


class ArtifactCache:
    """The artifacts ``wamrc`` made of modules, by the module's digest."""

    def __init__(self, wamrc: str) -> None:
        self._wamrc = wamrc

    @cached_property
    def folder(self) -> Path | None:
        digest = hashlib.sha256()
        try:
            digest.update(Path(self._wamrc).read_bytes())
        except OSError:
            return None  # no way to tell a stale artifact: compile afresh
        digest.update(_cpu_model().encode())
        return default_cache_dir() / "aot" / digest.hexdigest()[:16]

    def get(self, module_digest: str) -> bytes | None:
        """The artifact of the module with this digest, where a good copy is kept."""
        return None if self.folder is None else read_kept(self.folder, module_digest, ".aot")

    def put(self, module_digest: str, artifact: Path) -> None:
        """Keep ``artifact``, made of the module with this digest."""
        if self.folder is not None:
            with contextlib.suppress(OSError):
                keep(self.folder, module_digest, ".aot", artifact.read_bytes())
