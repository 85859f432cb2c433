"""The machine's pace: one short, fixed measurement, read beside a calibration and a verify.

On a shared or virtual machine the pace of the CPU moves by 20-30 % over minutes
(Cranelift's calibrated compile rate read 720, 696, 807 and 1,058 ns a code byte in
four full calibrations of one VM on one day). A profile's figures are then the pace of
the minutes it was made in, and a ``verify`` run minutes or days later is judged
against them at another pace. A *pace reading* measures the same two things each time,
in a Wasmtime Cranelift worker of its own:

- **compile**: the median time to compile the calibration's 64 KiB code-family module
  (``PACE_COMPILES`` times, after one warm-up), host-timed through ``wasmtime-py``, on
  **one thread**: a compile spread over a pool of one thread per core takes as long as
  its work happens to split and whatever else lands on the other cores allows. On the
  development VM, idle (2026-12-07), twelve readings of the parallel compile moved 25 %
  (range over median, twice), of the single-threaded one 10 % (twice); a calibration's
  six parallel readings had moved 38 % and marked its profile unsteady. A profile whose
  readings were parallel compiles (``compile_threads`` is not 1 in the figure's
  parameters, as before 2026-12-07) has no compile pace to compare with;
- **execute**: the slope of the calibration's ``int`` kernel, timed inside the guest.

A calibration reads the pace before its first mode, between its passes and after its
last mode, and keeps the readings as two figures of ``wasmtime:cranelift``
(``pace_compile_ns``, ``pace_int_ns_per_iter``); their spread is how far the pace moved
while the profile was made, which the summary flags above ``DRIFT_WARNING``. ``verify``
reads it again before its rounds and after the last one; the ratio of its median reading
to the profile's is the machine's pace now against the profile's (:func:`pace_factors`),
by which ``verify`` scales its predictions: compile, load and instantiate by the compile
ratio, execution by the execute ratio. One engine's pace stands for the machine's: the
other engines' work is not read again.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..harness import WorkerLimits, WorkerOutcome, fit_slope, run_worker
from ..profiles import Figure
from .kernels import KernelPlan
from .tasks import TASKS_MODULE

if TYPE_CHECKING:
    from ..profiles import Figure, Profile

__all__ = ["DRIFT_WARNING", "PaceReading", "pace_drift", "pace_factors", "pace_figures",
           "pace_summary", "profile_pace", "read_pace"]

PACE_RUNTIME, PACE_MODE, PACE_BINDING = "wasmtime", "cranelift", "wasmtime-py"
PACE_CODE_BYTES = 64 * 1024
PACE_COMPILES = 7
PACE_COMPILE_THREADS = 1  # the pace compile's threads (see the module's docstring)
PACE_PLAN = KernelPlan(min_sample_ns=2_000_000, repeats=3)
COMPILE_METRIC, EXECUTE_METRIC = "pace_compile_ns", "pace_int_ns_per_iter"
DRIFT_WARNING = 0.15  # the pace moved more than this (range / median) while calibrating
PACE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class PaceReading:
    """One reading of the machine's pace, ``at_s`` seconds into what it was read beside."""

    at_s: float
    compile_ns: float
    execute_ns_per_iter: float
    # the speed probes read either side of its tasks (harness/_speed_probe.py), judged as a
    # task's are (calibration/_steadiness.py)
    speed_probes_ns: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at_s": self.at_s, "compile_ns": self.compile_ns,
                               "execute_ns_per_iter": self.execute_ns_per_iter}
        return {**out, "speed_probes_ns": list(self.speed_probes_ns)} \
            if self.speed_probes_ns else out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PaceReading:
        return cls(float(d["at_s"]), float(d["compile_ns"]), float(d["execute_ns_per_iter"]),
                   tuple(float(ns) for ns in d.get("speed_probes_ns", ())))


def _tasks() -> list[dict[str, Any]]:
    return [
        {"id": "pace:compile", "kind": "host", "family": "code", "size": PACE_CODE_BYTES,
         "repeats": PACE_COMPILES, "warmups": 1, "timeout_s": PACE_TIMEOUT_S,
         "single_thread_compile": True},
        {"id": "pace:int", "kind": "guest", "kernel": "int",
         "plan": {**PACE_PLAN.__dict__, "sizes": list(PACE_PLAN.sizes)},
         "timeout_s": PACE_TIMEOUT_S},
    ]


def read_pace(options: dict[str, Any], at_s: float) -> tuple[PaceReading | None, str]:
    """One pace reading in a Wasmtime Cranelift worker; ``(None, why)`` where it failed."""
    outcome = run_worker({"runtime": PACE_RUNTIME, "mode": PACE_MODE, "options": options,
                          "tasks_modules": [TASKS_MODULE], "tasks": _tasks()},
                         WorkerLimits(task_timeout_s=PACE_TIMEOUT_S))
    compiled, counted = (outcome.results.get(t) or {} for t in ("pace:compile", "pace:int"))
    if not compiled.get("ok") or not counted.get("ok"):
        return None, _why_no_result(outcome, compiled, counted)
    return _reading(compiled, counted, at_s)


def _why_no_result(outcome: WorkerOutcome, compiled: dict[str, Any],
                   counted: dict[str, Any]) -> str:
    """Why the pace worker gave no result for one of its tasks: the first reason it gave."""
    why = (outcome.startup_error or outcome.failures.get("pace:compile")
           or outcome.failures.get("pace:int") or compiled.get("reason")
           or counted.get("reason") or "the pace worker gave no result")
    return str(why)


def _reading(compiled: dict[str, Any], counted: dict[str, Any], at_s: float
             ) -> tuple[PaceReading | None, str]:
    """The reading from the pace tasks' results: the median compile and the kernel's slope."""
    compiles = [float(ns) for run in compiled["runs"]
                if (ns := (run.get("phases_ns") or {}).get("compile")) is not None]
    if not compiles:
        return None, "the pace worker timed no compile"
    try:
        slope = fit_slope([(float(n), float(ns)) for n, ns in counted["samples"]]).slope
    except ValueError as e:
        return None, f"the pace kernel's samples: {e}"
    probes = tuple(float(ns) for r in (compiled, counted) for ns in r.get("speed_probe_ns", ()))
    return PaceReading(round(at_s, 3), statistics.median(compiles), slope, probes), ""


def pace_drift(values: Sequence[float]) -> float:
    """How far a series of readings moved: (largest - smallest) / median."""
    return (max(values) - min(values)) / statistics.median(values) if len(values) > 1 else 0.0


def pace_figures(readings: Sequence[PaceReading]) -> list[Figure]:
    """A calibration's pace readings as two figures of the pace mode: for compile, the
    mean of the two readings either side of the first pass; for execution, the median
    reading; their drift as the spread, every reading as a sample ``(seconds in, value)``."""

    if not readings:
        return []
    note = (f"the machine's pace: read {len(readings)} times over the calibration (before the "
            "first mode, between passes, after the last); spread is (largest - smallest) / "
            "median, how far the pace moved while the profile was made")
    out = []
    for metric, kernel, unit, values in (
            (COMPILE_METRIC, "code", "ns", [r.compile_ns for r in readings]),
            (EXECUTE_METRIC, "int", "ns/iteration", [r.execute_ns_per_iter for r in readings])):
        # the host-timed families (compile, instantiate) are measured in the first pass
        # alone, between the first two readings; the guest-timed kernels in every pass
        value = (statistics.mean(values[:2]) if metric == COMPILE_METRIC
                 else statistics.median(values))
        out.append(Figure(
            runtime=PACE_RUNTIME, mode=PACE_MODE, binding=PACE_BINDING, metric=metric,
            kernel=kernel, unit=unit, value=value,
            spread=pace_drift(values), runs=len(values),
            params={"code_bytes": PACE_CODE_BYTES, "compiles": PACE_COMPILES,
                    "compile_threads": PACE_COMPILE_THREADS}
            if metric == COMPILE_METRIC else {}, note=note,
            samples=[(r.at_s, v) for r, v in zip(readings, values, strict=True)]))
    return out


def profile_pace(profile: Profile) -> tuple[float, float] | None:
    """The profile's pace, (compile ns, execute ns/iteration), where it was read as a pace
    reading reads it now (a compile on one thread)."""
    got = [profile.figure(PACE_RUNTIME, PACE_MODE, m) for m in (COMPILE_METRIC, EXECUTE_METRIC)]
    if got[0] is None or got[1] is None or \
            got[0].params.get("compile_threads") != PACE_COMPILE_THREADS:
        return None
    return got[0].value, got[1].value


def pace_factors(profile: Profile, readings: Sequence[PaceReading],
                 same_machine: bool | None = None) -> dict[str, float] | None:
    """How much slower (> 1) or faster the machine ran during ``readings`` than while
    ``profile`` was made: ``{"compile": ..., "execute": ...}``; None where either side
    has no reading, or the readings were taken on another machine than the profile's
    (``same_machine``; by default, whether the profile was measured here, where readings
    are taken now)."""
    then = profile_pace(profile)
    here = profile.measured_here if same_machine is None else same_machine
    if then is None or not readings or not here:
        return None
    return {"compile": statistics.median(r.compile_ns for r in readings) / then[0],
            "execute": statistics.median(r.execute_ns_per_iter for r in readings) / then[1]}


def pace_summary(profile: Profile) -> str | None:
    """One line on how far the machine's pace moved while ``profile`` was made, with a
    warning above ``DRIFT_WARNING``; None where it has no pace readings."""
    got = [profile.figure(PACE_RUNTIME, PACE_MODE, m) for m in (COMPILE_METRIC, EXECUTE_METRIC)]
    if got[0] is None or got[1] is None:
        return None
    moved = max(got[0].spread, got[1].spread)
    line = (f"machine pace over {got[0].runs} readings: compile moved {got[0].spread:.0%}, "
            f"execution {got[1].spread:.0%}")
    if moved > DRIFT_WARNING:
        line += (f"; more than {DRIFT_WARNING:.0%}: the machine's speed changed while it "
                 "was calibrated, so its figures are less sure; calibrate again when it is "
                 "quieter")
    return line
