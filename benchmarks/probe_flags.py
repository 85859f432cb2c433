"""Do the speed probe's flags pick out the measurements that came out wrong?

    python benchmarks/probe_flags.py [--runs 4] [--runtime wasmtime ...]

Runs ``--runs`` quick calibrations (nothing saved) and keeps, for each, every task's
first-pass result with the speed probe's readings either side of it
(harness/_speed_probe.py), and the result the profile kept once the flagged tasks were
measured again (calibration/_calibrate.py). A task's *value* is what its figure is made
of: an in-guest kernel's median ns per iteration, a host-timed module's median compile
(or load, or instantiation). Its *deviation* is how far its value lies from the median
of the same task's values over the runs (in log). Prints:

- the correlation of a task's deviation with its probe's (the mean of its two readings
  against the calibration's usual speed);
- the median deviation of tasks the probe flagged (a reading more than the calibration's
  limit from its usual speed), on one side or both, against the unflagged;
- per task family, the spread of the values between runs, first pass against what the
  profile kept after measuring the flagged ones again.

A probe whose flags matter shows flagged tasks deviating more, and the kept values
spreading less than the first pass's. It reads the calibration's internals (it wraps
``_analyse`` to see the results as they are analysed); run it on an otherwise idle
machine.
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
from typing import Any

from wasm_advisor import calibrate
from wasm_advisor.calibration import _calibrate
from wasm_advisor.calibration._steadiness import SPEED_LIMIT
from wasm_advisor.calibration._task_value import task_value

Results = dict[str, dict[str, dict[str, Any]]]  # mode key -> task id -> result


def _calibrated(runtimes: list[str] | None) -> tuple[Results, Results]:
    """One quick calibration's first-pass results and the results it kept."""
    seen: list[Results] = []
    analyse = _calibrate._analyse

    def keeping(plans: Any, run: Any) -> Any:
        seen.append(copy.deepcopy(run.results))
        return analyse(plans, run)

    _calibrate._analyse = keeping
    try:
        profile = calibrate("quick", runtimes=runtimes, save=False)
    finally:
        _calibrate._analyse = analyse
    print(f"  {profile.verdict}", flush=True)
    return seen[0], seen[-1]


def _family(task_id: str) -> str:
    parts = task_id.split(":")
    return ":".join(parts[:2]) if parts[0] == "host" else parts[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--runtime", action="append", dest="runtimes",
                        help="calibrate only this runtime (repeatable; default: all here)")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs: at least 3, for a median to deviate from")
    first: dict[tuple[str, str], list[float]] = {}
    kept: dict[tuple[str, str], list[float]] = {}
    probe: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for number in range(args.runs):
        print(f"run {number + 1}:", flush=True)
        before, after = _calibrated(args.runtimes)
        readings = [p for tasks in before.values() for r in tasks.values()
                    for p in r.get("speed_probe_ns") or []]
        usual = statistics.median(readings)
        for mode, tasks in before.items():
            for task_id, result in tasks.items():
                value, final = task_value(result), task_value(after[mode].get(task_id) or {})
                if value is None or final is None or not result.get("speed_probe_ns"):
                    continue
                key = (mode, task_id)
                first.setdefault(key, []).append(math.log(value))
                kept.setdefault(key, []).append(math.log(final))
                b, a = (math.log(p / usual) for p in result["speed_probe_ns"])
                probe.setdefault(key, []).append((b, a))
    _report({k: v for k, v in first.items() if len(v) == args.runs}, kept, probe)
    return 0


def _report(first: dict[tuple[str, str], list[float]],
            kept: dict[tuple[str, str], list[float]],
            probe: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    limit = math.log(SPEED_LIMIT)
    deviations, probes = [], []
    flagged: dict[str, list[float]] = {"both sides": [], "one side": [], "neither": []}
    for key, values in first.items():
        middle = statistics.median(values)
        for value, (b, a) in zip(values, probe[key], strict=True):
            deviations.append(value - middle)
            probes.append((b + a) / 2)
            sides = (abs(b) > limit) + (abs(a) > limit)
            flagged[("neither", "one side", "both sides")[sides]].append(abs(value - middle))
    print(f"\n{len(first)} tasks measured in every run; correlation of a task's deviation "
          f"with its probe's: {statistics.correlation(deviations, probes):.2f}")
    for name, values in flagged.items():
        if values:
            print(f"  probe beyond {SPEED_LIMIT:g}x on {name:10s}: {len(values):4d} readings, "
                  f"median deviation {statistics.median(values):.3f} (log)")
    print("\nspread of a task's values between runs (median over the family's tasks, sd of "
          "log), first pass | as the profile kept them:")
    families = sorted({_family(task) for _, task in first})
    for family in families:
        keys = [k for k in first if _family(k[1]) == family]
        a = statistics.median(statistics.stdev(first[k]) for k in keys)
        b = statistics.median(statistics.stdev(kept[k]) for k in keys)
        print(f"  {family:24s} {len(keys):3d} tasks  {a:.3f} | {b:.3f}")


if __name__ == "__main__":
    sys.exit(main())
