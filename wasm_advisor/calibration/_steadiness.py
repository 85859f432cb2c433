"""Was the machine steady while a calibration measured? The readings, and the verdict.

A calibration on a busy machine measures the other processes as much as the runtimes
(a quick calibration at load 7-12 on two cores read Cranelift's compile 8x slower than a
quiet one, and a WASI host call 9x). Three kinds of evidence, all read beside the
calibration, none of them timed in this process:

- **the system** (:class:`SystemSampler`): a thread samples ``/proc/stat`` every
  ``SAMPLE_S`` seconds: ``procs_running`` (runnable threads, the run queue) less the
  calibration's own runnable threads (its worker's, and the sampler's), per core; and
  the CPU time the hypervisor stole (``steal``) as a share of all CPU time;
- **the machine's pace** (:mod:`.pace`): how far the pace readings before, between and
  after the passes moved;
- **the spread of repeats**: the compute kernels' relative spread, mode by mode;
- **the machine's speed around each task** (:mod:`wasm_advisor.harness._speed_probe`):
  every worker times a fixed millisecond of work before and after each task. On a shared
  VM the machine's speed moves in phases that no run queue or steal time here shows; the
  median of all the calibration's readings is its usual speed, and a task either side of
  which the probe read more than ``SPEED_LIMIT`` times slower or faster ran in another
  phase: it is measured again, so that every figure comes from one speed. A pace reading
  taken in another phase says how far apart the phases are, not how far the machine
  drifted, so the drift leaves it out. Whether the flags mean anything is then checked in
  the calibration itself: where the flagged measurements, measured again, agree with
  their first values (:func:`flags_agreement`), the probe picked out nothing that moved,
  and a measurement it still flags does not make the profile unsteady.

:func:`assess` turns them into an :class:`Assessment`: steady, or unsteady with a reason
for each limit passed and the readings that passed it. The limits are fixed fractions,
not times, so the decision does not depend on the machine's speed.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..profiles import Figure, SteadinessFigure
from ._pace import PaceReading, pace_drift

__all__ = ["AGREE_LIMIT", "SPEED_LIMIT", "Assessment", "Recheck", "SystemSample",
           "SystemSampler", "assess", "flags_agreement", "parse_proc_stat", "read_system",
           "recheck_factors", "usual_probe_ns"]

SAMPLE_S = 0.25  # one sample took 8.6 ms at load 8 on the development VM: 3 % of a core
# other runnable threads per core, the median over a window: one busy process per core
# reads 1.0; a quiet machine 0-0.2 (kernel threads, a shell)
RUN_QUEUE_LIMIT = 0.5
STEAL_LIMIT = 0.05  # share of CPU time stolen by the hypervisor
# (largest - smallest) / median of the pace readings. Above the summary's 15 % warning
# (pace.DRIFT_WARNING): one reading is good to about +-7 %, so two readings on a quiet
# machine can differ by 15 % (a quick calibration at load 0.5 read 16 %), where one at
# load 7-12 read 29 %
PACE_LIMIT = 0.25
# a compute kernel's relative spread (interquartile range / slope) beyond which it counts
# as scattered; unsteady when more than SPREAD_SHARE of them are (one noisy kernel is
# common on a quiet VM: the reference profile has a few above 0.4)
SPREAD_LIMIT = 0.5
SPREAD_SHARE = 0.5
SPREAD_KERNELS = ("int", "float", "call", "mixed")
# how far from the calibration's usual speed (the median speed probe) a task's probes may
# read, either way, before it counts as measured in another phase of the machine. On the
# development VM (2026-12-07) the probe read 1.16-1.35 ms in its fast phase and 1.9-3.4 ms
# in its slow one, a single-threaded compile 50 ms and 75-100 ms at the same moments
SPEED_LIMIT = 1.4
# whether the probe's flags picked out measurements that moved, judged in each calibration:
# each flagged measurement against its re-measurement taken at the usual speed, as a factor
# (>= 1). Where the median factor over at least AGREE_PAIRS of them is within AGREE_LIMIT,
# the flags were the probe's own jitter: on a second VM of the development type
# (2026-12-08) 35 % of the probe's readings lay beyond 1.4x at idle while a task's value did
# not follow them (correlation 0.10, benchmarks/probe_flags.py); on the first, a slow phase
# moved a compile by 1.5-2x, far beyond the limit. The limit is the pace's: two readings of
# the same work further apart than that mean the machine moved between them
AGREE_LIMIT = PACE_LIMIT
AGREE_PAIRS = 3


@dataclass(frozen=True)
class SystemSample:
    """One ``/proc/stat`` sample: ``at_s`` seconds in."""

    at_s: float
    procs_running: int  # runnable threads on the machine
    own_running: int  # of them, the calibration's own (its worker's and the sampler's)
    steal_ticks: int
    total_ticks: int

    @property
    def others(self) -> int:
        return max(0, self.procs_running - self.own_running)


def parse_proc_stat(text: str) -> tuple[int, int, int] | None:
    """``(procs_running, steal ticks, total ticks)`` from the text of ``/proc/stat``."""
    running = steal = total = None
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "cpu":
            ticks = [int(p) for p in parts[1:]]
            # user nice system idle iowait irq softirq steal [guest guest_nice]: guest time
            # is counted in user time already
            total = sum(ticks[:8])
            steal = ticks[7] if len(ticks) > 7 else 0
        elif parts[0] == "procs_running":
            running = int(parts[1])
    if running is None or total is None or steal is None:
        return None
    return running, steal, total


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, from ``/proc/<pid>/task/<tid>/children`` (a few small
    reads); where the kernel has no such file, from psutil (a walk of every process)."""
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except FileNotFoundError:
        with contextlib.suppress(Exception):
            return [c.pid for c in psutil.Process(pid).children()]
    except (OSError, ValueError):
        pass
    return out


def _own_running() -> int:
    """Runnable threads of this process and its descendants (the worker and anything it
    started)."""
    count = 0
    pids, seen = [os.getpid()], set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError, IndexError):
                    stat = (task / "stat").read_text()
                    if stat[stat.rindex(")") + 2] == "R":
                        count += 1
        pids += _descendants(pid)
    return max(count, 1)  # the sampler itself runs while it reads


def read_system(at_s: float) -> SystemSample | None:
    """One sample of ``/proc/stat``; None where the OS has none (not Linux)."""
    try:
        parsed = parse_proc_stat(Path("/proc/stat").read_text())
    except (OSError, ValueError):
        return None
    if parsed is None:
        return None
    return SystemSample(round(at_s, 3), parsed[0], _own_running(), parsed[1], parsed[2])


class SystemSampler:
    """Samples the system in a thread of its own while a calibration runs.

    ``with SystemSampler() as sampler: ...``; :meth:`window` gives the samples between
    two moments (seconds since the sampler started).
    """

    def __init__(self, interval_s: float = SAMPLE_S, started: float | None = None) -> None:
        self.interval_s = interval_s
        self.samples: list[SystemSample] = []
        self._started = time.monotonic() if started is None else started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wasm-advisor-sampler",
                                        daemon=True)

    def now(self) -> float:
        return time.monotonic() - self._started

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            sample = read_system(self.now())
            if sample is None:
                return
            self.samples.append(sample)

    def __enter__(self) -> SystemSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * self.interval_s + 1)

    def window(self, start_s: float, end_s: float) -> list[SystemSample]:
        return [s for s in list(self.samples) if start_s <= s.at_s <= end_s]


@dataclass
class Assessment:
    """The verdict on one stretch of a calibration, with the readings behind it."""

    steady: bool = True
    reasons: list[str] = field(default_factory=list)
    moved: list[SteadinessFigure] = field(default_factory=list)
    run_queue_per_core: float | None = None
    steal_fraction: float | None = None
    pace_drift: float | None = None
    samples: int = 0
    disturbed_modes: set[str] = field(default_factory=set)  # runtime:mode keys
    # tasks measured in another phase of the machine, by runtime:mode key
    disturbed_tasks: dict[str, set[str]] = field(default_factory=dict)
    # the probe furthest from the usual speed, as a factor (slower or faster), where a task
    # ran in another phase
    slowest_phase: float | None = None
    # flagged measurements measured again at the usual speed: how many, and the median
    # factor between the first value and the re-measured one (None: fewer than AGREE_PAIRS)
    rechecked: int = 0
    probe_agreement: float | None = None

    def flag(self, what: str, value: float, limit: float, reason: str) -> None:
        self.steady = False
        self.reasons.append(reason)
        self.moved.append(SteadinessFigure(what=what, value=round(value, 4), limit=limit))


def run_queue_per_core(samples: Sequence[SystemSample], cores: int) -> float | None:
    """The median of other runnable threads per core over ``samples``."""
    if not samples:
        return None
    return statistics.median(s.others for s in samples) / max(cores, 1)


def steal_fraction(samples: Sequence[SystemSample]) -> float | None:
    """Stolen CPU time as a share of all CPU time between the first and last sample."""
    if len(samples) < 2:
        return None
    total = samples[-1].total_ticks - samples[0].total_ticks
    return (samples[-1].steal_ticks - samples[0].steal_ticks) / total if total > 0 else None


def assess(
    *, system: Sequence[SystemSample] = (), pace: Sequence[PaceReading] = (),
    figures: Sequence[Figure] = (), cores: int | None = None,
    windows: Sequence[tuple[str, float, float]] = (),
    probes: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
    rechecked: Sequence[Recheck] = (),
) -> Assessment:
    """The verdict from the system samples, the pace readings and the figures.

    ``windows`` (``(runtime:mode, start, end)``, seconds) say when each mode's workers
    ran: a mode whose window's run queue is above the limit is in ``disturbed_modes``,
    as is every mode when the pace moved or the steal is high (they cover the whole
    calibration), and every mode whose compute kernels are scattered. ``probes`` (by
    runtime:mode, by task, the speed probes read either side of it, ns) give the tasks
    measured in another phase of the machine (``disturbed_tasks``), unless ``rechecked``
    (each flagged measurement's first value, its re-measured one and the probes around the
    latter) shows that the flags picked out nothing that moved (:func:`flags_agreement`).
    """
    out = Assessment(samples=len(system))
    modes = {key for key, _, _ in windows} | {f"{f.runtime}:{f.mode}" for f in figures}
    probes = probes or {}
    usual = usual_probe_ns([ns for tasks in probes.values() for each in tasks.values()
                            for ns in each]
                           + [ns for r in pace for ns in r.speed_probes_ns])
    _check_run_queue(out, system, cores or os.cpu_count() or 1, windows, modes)
    _check_steal(out, system, modes)
    _check_speed(out, probes, usual, rechecked)
    _check_pace(out, _in_usual_phase(pace, usual), modes)
    _check_spread(out, figures)
    return out


def usual_probe_ns(probes: Sequence[float]) -> float | None:
    """The calibration's usual speed probe: the median of ``probes`` (None where there are
    none)."""
    return statistics.median(probes) if probes else None


def _in_usual_phase(pace: Sequence[PaceReading], usual: float | None) -> list[PaceReading]:
    """The pace readings not taken in another phase of the machine (or not probed)."""
    return [r for r in pace if not _in_other_phase(r.speed_probes_ns, usual)]


def _in_other_phase(probes: Sequence[float], usual: float | None) -> bool:
    """Whether any of a measurement's speed probes read the machine more than
    :data:`SPEED_LIMIT` times slower or faster than ``usual``."""
    return usual is not None and usual > 0 \
        and any(_away(ns, usual) > SPEED_LIMIT for ns in probes)


def _away(probe: float, usual: float) -> float:
    """How far a probe is from the usual one, as a factor of at least 1, slower or faster."""
    return max(probe / usual, usual / probe) if probe > 0 and usual > 0 else 1.0


@dataclass(frozen=True)
class Recheck:
    """A measurement the speed probe flagged, measured again: both values, and the probes
    read either side of the second."""

    first: float
    again: float
    again_probes_ns: tuple[float, ...]


def recheck_factors(rechecked: Sequence[Recheck], usual: float | None) -> list[float]:
    """How far apart (a factor >= 1) each flagged measurement and its re-measurement came
    out, where the re-measurement was taken at the usual speed: the only pairs that tell
    whether the other speed moved a measurement."""
    return [max(r.first / r.again, r.again / r.first) for r in rechecked
            if r.first > 0 and r.again > 0 and r.again_probes_ns
            and not _in_other_phase(r.again_probes_ns, usual)]


def flags_agreement(factors: Sequence[float]) -> float | None:
    """The median of :func:`recheck_factors`; None with fewer than :data:`AGREE_PAIRS`."""
    return statistics.median(factors) if len(factors) >= AGREE_PAIRS else None


def _check_speed(out: Assessment, probes: Mapping[str, Mapping[str, Sequence[float]]],
                 usual: float | None, rechecked: Sequence[Recheck]) -> None:
    """The tasks either side of which the machine ran more than :data:`SPEED_LIMIT` times
    away from its usual speed; none where the re-measured ones showed the flags to be the
    probe's jitter."""
    if not usual:
        return
    factors = recheck_factors(rechecked, usual)
    out.rechecked, out.probe_agreement = len(factors), flags_agreement(factors)
    away = {key: found for key, tasks in probes.items()
            if (found := {t for t, each in tasks.items() if _in_other_phase(each, usual)})}
    if not away:
        return
    worst = max(_away(ns, usual) for tasks in probes.values() for each in tasks.values()
                for ns in each)
    out.slowest_phase = worst
    if out.probe_agreement is not None and out.probe_agreement <= 1 + AGREE_LIMIT:
        return  # the flags moved nothing here: kept as a reading, not acted on
    out.disturbed_tasks = away
    count = sum(len(t) for t in away.values())
    total = sum(len(t) for t in probes.values())
    out.flag("machine speed (probe)", worst, SPEED_LIMIT,
             f"{count} of {total} measurements ran while the machine was more than "
             f"{SPEED_LIMIT:g}x slower or faster than its usual speed over the calibration "
             f"(up to {worst:.1f}x): it changed speed while it measured")


def _check_run_queue(out: Assessment, system: Sequence[SystemSample], cores: int,
                     windows: Sequence[tuple[str, float, float]], modes: set[str]) -> None:
    """Other runnable threads: the modes whose window had too many are disturbed, or every
    mode where none did yet the whole calibration had."""
    queue = run_queue_per_core(system, cores)
    out.run_queue_per_core = queue
    if queue is not None and queue >= RUN_QUEUE_LIMIT:
        out.flag("run queue", queue, RUN_QUEUE_LIMIT,
                 f"{queue:.1f} other runnable processes per core while it measured "
                 f"(limit {RUN_QUEUE_LIMIT})")
    for key, start, end in windows:
        mine = run_queue_per_core([s for s in system if start <= s.at_s <= end], cores)
        if mine is not None and mine >= RUN_QUEUE_LIMIT:
            out.disturbed_modes.add(key)
    if queue is not None and queue >= RUN_QUEUE_LIMIT and not out.disturbed_modes:
        out.disturbed_modes |= modes


def _check_steal(out: Assessment, system: Sequence[SystemSample], modes: set[str]) -> None:
    steal = steal_fraction(system)
    out.steal_fraction = steal
    if steal is not None and steal >= STEAL_LIMIT:
        out.flag("CPU steal", steal, STEAL_LIMIT,
                 f"the hypervisor took {steal:.0%} of the CPU time (limit {STEAL_LIMIT:.0%})")
        out.disturbed_modes |= modes


def _check_pace(out: Assessment, pace: Sequence[PaceReading], modes: set[str]) -> None:
    if len(pace) <= 1:
        return
    drifts = {"compile": pace_drift([r.compile_ns for r in pace]),
              "execution": pace_drift([r.execute_ns_per_iter for r in pace])}
    out.pace_drift = max(drifts.values())
    for name, drift in drifts.items():
        if drift > PACE_LIMIT:
            out.flag(f"machine pace: {name}", drift, PACE_LIMIT,
                     f"the machine's {name} pace moved {drift:.0%} (limit {PACE_LIMIT:.0%})")
            out.disturbed_modes |= modes


def _check_spread(out: Assessment, figures: Sequence[Figure]) -> None:
    """The compute kernels' spread between repeats: the modes of the scattered ones are
    disturbed where most are scattered."""
    kernels = [f for f in figures
               if f.metric.removesuffix("_ns_per_iter") in SPREAD_KERNELS
               and f.metric.endswith("_ns_per_iter")]
    scattered = [f for f in kernels if not f.spread <= SPREAD_LIMIT]  # inf and nan too
    if not kernels or len(scattered) <= SPREAD_SHARE * len(kernels):
        return
    for f in scattered:
        out.moved.append(SteadinessFigure(what=f"{f.runtime}:{f.mode} {f.metric} spread",
                                          value=round(min(f.spread, 1e9), 4),
                                          limit=SPREAD_LIMIT))
    out.steady = False
    out.reasons.append(f"{len(scattered)} of {len(kernels)} compute kernels scattered "
                       f"more than {SPREAD_LIMIT:.0%} between repeats")
    out.disturbed_modes |= {f"{f.runtime}:{f.mode}" for f in scattered}
