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

from typing import Any

import psutil

__all__ = ["LIVE_INSTANCES", "growth_record", "resident_bytes"]

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


def resident_bytes() -> int:
    """This process's resident memory now."""
    return int(psutil.Process().memory_info().rss)
