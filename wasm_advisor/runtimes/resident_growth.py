"""Memory per live instance for bindings that hold many instances in one process.

Resident memory read after each new instance grows by less than an instance's
own share at first: the allocators (Python's and the engine's) hand out memory
freed by the compile that came before, which is already resident. Only once
that slack is used does each instance add its whole share. The per-instance
figure is therefore the growth over the second half of the instances, after
the first half has used up the slack; the first instance's figure is the growth
from the baseline taken before the engine existed.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import psutil

__all__ = ["LIVE_INSTANCES", "MODULE_COPIES", "growth_record", "library_record",
           "module_record", "release_free_memory", "resident_bytes"]

LIVE_INSTANCES = 512
"""Live instances for the per-instance figure: enough that the first half uses up the
allocators' slack and the second half grows by several MiB, far above the page-level
noise of resident memory. Wasmtime here, in a fresh process: 5-7 KiB per instance
read over 64 instances, 13-15 over 256, 15.5 over 512 and 1024, repeating to 0.1 KiB."""


def growth_record(resident: list[int], baseline: int, method: str) -> dict[str, Any]:
    """The memory-figure record from the resident memory read after each new live instance.

    ``baseline`` is the process's resident memory before the engine existed.
    """
    instances = len(resident)
    if instances < 2:
        raise ValueError(f"instances: need at least 2 live instances, got {instances}")
    half = instances // 2
    return {
        "first_instance_bytes": resident[0] - baseline,
        "per_extra_instance_bytes": (resident[-1] - resident[half - 1]) / (instances - half),
        "instances": instances,
        "method": f"{method}; per extra instance: growth over the last {instances - half} of "
                  f"{instances} live instances",
    }


MODULE_COPIES = 12
"""Distinct modules loaded at once for the memory a loaded module's code holds: the growth
over the last half of them, as for instances (the first half uses up the allocators'
slack). A 64 KiB-code module compiled by Cranelift holds a few hundred KiB here, so six
of them grow the resident set by MiBs, far above its page-level noise."""


def library_record(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The runtime library's resident pages in this process now (before the engine exists,
    as the baseline is taken: none of the growth figures counts them), and its file.

    Read from ``/proc/self/smaps``: the resident set of every mapping of that file. An
    empty record where the library or the mapping cannot be read.
    """
    if path is None or not os.path.isfile(path):
        return {}
    real = os.path.realpath(path)
    resident = mapped_resident_bytes(real)
    if resident is None:
        return {}
    return {"library_bytes": resident, "library_path": real,
            "library_file_bytes": Path(real).stat().st_size}


def mapped_resident_bytes(path: str) -> int | None:
    """The resident bytes of this process's mappings of the file ``path`` (0 where it is
    not mapped yet; None where ``/proc/self/smaps`` cannot be read)."""
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return None
    total, inside = 0, False
    for line in lines:
        fields = line.split()
        if len(fields) >= 5 and "-" in fields[0] and ":" in fields[3]:  # a mapping's header
            inside = len(fields) >= 6 and os.path.realpath(fields[-1]) == path
        elif inside and fields[:1] == ["Rss:"]:
            total += int(fields[1]) * 1024
    return total


def release_free_memory() -> bool:
    """Give the memory the C allocator holds free back to the system (glibc's
    ``malloc_trim``), so that what is allocated next grows the resident set.

    Without it, the modules loaded after the instances land in memory the instances' exec
    envs freed: WAMR's classic interpreter read 0 bytes per module so (a 1 MiB stack,
    zeroed, then freed, holds more than six of its modules), against 76 KiB each in a
    process that had freed nothing. False where the C library has no ``malloc_trim``.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim(ctypes.c_size_t(0))
    return True


def module_record(resident: list[int], code_bytes: int) -> dict[str, Any]:
    """The memory one more loaded module holds, per byte of its code, from the resident
    memory read after each of several distinct modules of ``code_bytes`` of code was loaded
    (compiled) and kept: the growth over the second half of them, as for instances."""
    copies = len(resident)
    if copies < 2 or code_bytes <= 0:
        raise ValueError(f"modules: need at least 2 modules of some code, got {copies} of "
                         f"{code_bytes} bytes")
    half = copies // 2
    per_module = (resident[-1] - resident[half - 1]) / (copies - half)
    return {"module_bytes_per_code_byte": per_module / code_bytes,
            "module_code_bytes": code_bytes, "modules": copies,
            "module_method": f"growth of the worker's resident memory over the last "
                             f"{copies - half} of {copies} distinct modules of {code_bytes:,} "
                             "code bytes kept loaded, per code byte"}


def resident_bytes() -> int:
    """This process's resident memory now."""
    return int(psutil.Process().memory_info().rss)
