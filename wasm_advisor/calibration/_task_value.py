"""What a calibration task's figure is made of, as one number: to tell whether two
measurements of the same task agree.

An in-guest kernel's median ns per iteration (over its instances, the median of each
one's: where an instance's pages land moves a memory kernel by up to 2x); the
instruction-mix family's geometric mean of its kernels' medians; a host-timed module's
median compile, else load, else instantiation. None for a task that times nothing (a
feature probe, the memory figure) or a result without samples.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

__all__ = ["task_value"]


def _per_iteration(samples: list[Any]) -> float | None:
    values = [ns / n for n, ns in samples if n > 0]
    return float(statistics.median(values)) if values else None


def task_value(result: dict[str, Any]) -> float | None:
    """The task's value (see the module's docstring), or None."""
    if result.get("kernels"):
        each = [_per_iteration(s) for s in result["kernels"].values()]
        logs = [math.log(v) for v in each if v is not None and v > 0]
        return math.exp(statistics.fmean(logs)) if logs else None
    instances = result.get("instances") or ([result["samples"]] if result.get("samples")
                                            else [])
    if instances:
        found = [v for v in (_per_iteration(s) for s in instances) if v is not None]
        return float(statistics.median(found)) if found else None
    phases = [run.get("phases_ns") or {} for run in result.get("runs") or []]
    for phase in ("compile", "load", "instantiate"):
        if phases and all(phase in p for p in phases):
            return float(statistics.median(p[phase] for p in phases))
    return None
