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


def _mix_value(kernels: dict[str, list[Any]]) -> float | None:
    each = [_per_iteration(s) for s in kernels.values()]
    logs = [math.log(v) for v in each if v is not None and v > 0]
    return math.exp(statistics.fmean(logs)) if logs else None


def _guest_value(instances: list[list[Any]]) -> float | None:
    found = [v for v in (_per_iteration(s) for s in instances) if v is not None]
    return float(statistics.median(found)) if found else None


def _host_value(runs: list[dict[str, Any]]) -> float | None:
    phases = [run.get("phases_ns") or {} for run in runs]
    for phase in ("compile", "load", "instantiate"):
        if phases and all(phase in p for p in phases):
            return float(statistics.median(p[phase] for p in phases))
    return None


def task_value(result: dict[str, Any]) -> float | None:
    """The task's value (see the module's docstring), or None."""
    if result.get("kernels"):
        return _mix_value(result["kernels"])
    if result.get("instances") or result.get("samples"):
        return _guest_value(result.get("instances") or [result["samples"]])
    return _host_value(result.get("runs") or [])
