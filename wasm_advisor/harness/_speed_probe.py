"""The machine's speed, read in a millisecond before and after every measurement task.

On a shared VM a core's speed moves in phases that nothing on the VM shows: with no other
process running here (run queue 0, CPU steal 0.1 %), the development VM (2 vCPUs,
2026-12-07) alternated within seconds between two speeds, a single-threaded Cranelift
compile of 32 KiB taking 50 ms or 75-100 ms, and this probe 1.16-1.35 ms or 1.9-3.4 ms,
the two always together (another tenant on the same physical core, most likely). A
figure measured in the slow phase is off by as much; the calibration compares each task's
readings with the machine's usual speed over the calibration, the median of all its
readings (calibration/_steadiness.py), and measures again what ran in another phase, so
that every figure of a profile comes from one speed.

The probe is a fixed loop of integer arithmetic in the worker's own Python: the same
work in every worker, whatever runtime it measures, and throughput-bound like compiling
and interpreting (a dependent chain of additions, as the pace's ``int`` kernel, barely
notices such a phase).
"""

from __future__ import annotations

import time

__all__ = ["PROBE_ITERATIONS", "speed_probe_ns"]

PROBE_ITERATIONS = 20_000  # about 1.2 ms on the development VM in its fast phase


def speed_probe_ns() -> int:
    """The time of the probe's fixed work, in nanoseconds: the faster of its two halves,
    doubled. A phase slows both halves; an interrupt or another thread taking the core for
    a moment slows one, and is not read as a phase."""
    return 2 * min(_timed(PROBE_ITERATIONS // 2) for _ in range(2))


def _timed(iterations: int) -> int:
    start = time.perf_counter_ns()
    x = 0
    for i in range(iterations):
        x = (x * 31 + i) & 0xFFFF
    return time.perf_counter_ns() - start
