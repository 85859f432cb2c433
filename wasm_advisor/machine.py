"""The fingerprint of the machine measurements come from.

Every profile carries one. Two fingerprints with the same ``id`` are the same
machine; a profile whose ``id`` differs from this machine's was measured
elsewhere and is always shown as such.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from functools import cache
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Machine", "this_machine"]


class Machine(BaseModel):
    """CPU, cores, memory, OS and Python of a machine, and an id derived from them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id: a hash of the host id, CPU, cores, memory, arch.")
    hostname: str = Field(description="Host name when measured.")
    cpu_model: str = Field(description="CPU model name.")
    cores: int = Field(description="Logical CPU cores.")
    memory_bytes: int = Field(description="Physical memory in bytes.")
    arch: str = Field(description="Machine architecture, e.g. x86_64.")
    os: str = Field(description="Operating system and kernel release.")
    python: str = Field(description="Python version of the harness.")
    last_level_cache_bytes: int | None = Field(
        default=None, description="Size of the largest CPU cache, when the OS tells."
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _last_level_cache() -> int | None:
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text().strip().upper()
        except OSError:
            continue
        factor = {"K": 1024, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * factor)
    return max(sizes) if sizes else None


def _host_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return socket.gethostname()


@cache
def this_machine() -> Machine:
    """The fingerprint of the machine this process runs on."""
    cpu, cores = _cpu_model(), os.cpu_count() or 1
    memory = psutil.virtual_memory().total
    arch = platform.machine()
    digest = hashlib.sha256(
        "|".join([_host_id(), cpu, str(cores), str(round(memory / 2**30)), arch]).encode()
    ).hexdigest()[:16]
    return Machine(
        id=digest,
        hostname=socket.gethostname(),
        cpu_model=cpu,
        cores=cores,
        memory_bytes=memory,
        arch=arch,
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        last_level_cache_bytes=_last_level_cache(),
    )
