"""Calibration budget and repeatability: run a calibration several times and compare.

    python benchmarks/calibration.py [--kind quick] [--runs 3] [--iwasm PATH ...] [--wamrc PATH]

Prints the wall time of each run against its budget (quick: 30 s, full: 180 s),
its steadiness verdict, whether any figure came out negative (and which figures were
left out as not measured, with the reason), and, for every per-operation figure (the
in-guest kernels, ns per iteration), its deviation from the median of the runs:
max |x - median| / median. The headline is the median of those deviations across
kernels and modes (target: within 15 %). Exits 1 when a target is missed (a negative
figure among those with a physical bound is a miss). Profiles are not saved.
``--profile-time`` prints where each run's time went: per mode, per task family and
the pace readings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict

from wasm_advisor import CalibrationProgress, calibrate
from wasm_advisor.profiles._bounds import LOWER_BOUNDS
from wasm_advisor.profiles._profile import Profile

BUDGET_S = {"quick": 30.0, "full": 180.0}
REPEATABILITY_TARGET = 0.15


def deviations(profiles: list[Profile], suffix: str) -> dict[tuple[str, str, str], float]:
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for profile in profiles:
        for f in profile.figures:
            if f.metric.endswith(suffix):
                values[(f.runtime, f.mode, f.metric)].append(f.value)
    out = {}
    for key, vs in values.items():
        if len(vs) == len(profiles):
            median = statistics.median(vs)
            out[key] = max(abs(v - median) for v in vs) / abs(median) if median else float("inf")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("quick", "full"), default="quick")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iwasm", action="append", default=[])
    parser.add_argument("--wamrc")
    parser.add_argument("--profile-time", action="store_true",
                        help="print where each run's time went")
    args = parser.parse_args()

    profiles, walls = [], []
    negative_bounded = 0
    for run in range(args.runs):
        start = time.monotonic()
        spent: dict[str, float] = defaultdict(float)
        last = [start]

        def on_progress(event: CalibrationProgress, spent: dict[str, float] = spent,
                        last: list[float] = last) -> None:
            now = time.monotonic()
            family = event.task.split(" (")[0].rsplit(":", 1)[0] if event.mode != "pace" \
                else "pace reading"
            spent[f"mode {event.runtime}:{event.mode}"] += now - last[0]
            spent[f"task {family}"] += now - last[0]
            last[0] = now

        profiles.append(calibrate(args.kind, iwasm=args.iwasm, wamrc=args.wamrc, save=False,
                                  progress=on_progress))
        walls.append(time.monotonic() - start)
        profile = profiles[-1]
        modes = len(profile.modes())
        print(f"run {run + 1}: {walls[-1]:.1f} s wall, {modes} runtime/modes, "
              f"{len(profile.failures)} failed measurements; {profile.verdict}", flush=True)
        negative = [f for f in profile.figures if f.value < 0]
        bounded = [f for f in negative if f.metric in LOWER_BOUNDS]
        negative_bounded += len(bounded)
        print(f"  negative figures: {len(negative)}"
              + (f" ({len(bounded)} with a physical bound: "
                 + ", ".join(f"{f.runtime}:{f.mode} {f.metric}" for f in bounded) + ")"
                 if bounded else " with a physical bound: none")
              + ("; others are flat slopes, zero within their noise: "
                 + ", ".join(f"{f.runtime}:{f.mode} {f.metric}" for f in negative
                             if f not in bounded) if len(negative) > len(bounded) else ""))
        for failure in profile.failures:
            if failure.reason.startswith("not measured"):
                print(f"  {failure.runtime}:{failure.mode} {failure.task}: {failure.reason}")
        if args.profile_time:
            for what, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
                if seconds >= 0.2:
                    print(f"    {seconds:6.1f} s  {what}")
    unavailable = [f"{r.name} ({r.reason})" for r in profiles[0].runtimes if not r.available]
    if unavailable:
        print("not measured: " + "; ".join(unavailable))

    per_op = deviations(profiles, "_ns_per_iter")
    print(f"\nper-operation figures, deviation from the median of {args.runs} runs:")
    by_mode: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (runtime, mode, metric), dev in sorted(per_op.items()):
        by_mode[f"{runtime}:{mode}"].append((metric.removesuffix("_ns_per_iter"), dev))
    for mode, items in by_mode.items():
        cells = "  ".join(f"{k} {d * 100:4.1f}%" for k, d in items)
        print(f"  {mode:36s} {cells}")
    host = deviations(profiles, "_per_code_byte") | deviations(profiles, "ttfi_ns")
    print("\nhost-timed figures (compile/load per code byte, time to first instruction):")
    for (runtime, mode, metric), dev in sorted(host.items()):
        print(f"  {runtime}:{mode:30s} {metric:26s} {dev * 100:5.1f}%")

    worst_wall = max(walls)
    median_dev = statistics.median(per_op.values()) if per_op else float("inf")
    within = sum(d <= REPEATABILITY_TARGET for d in per_op.values())
    print(f"\nwall time: max {worst_wall:.1f} s over {args.runs} runs "
          f"(budget {BUDGET_S[args.kind]:.0f} s): "
          f"{'OK' if worst_wall <= BUDGET_S[args.kind] else 'MISSED'}")
    print(f"repeatability: median deviation {median_dev * 100:.1f}% across {len(per_op)} "
          f"per-operation figures (target ≤ {REPEATABILITY_TARGET * 100:.0f}%): "
          f"{'OK' if median_dev <= REPEATABILITY_TARGET else 'MISSED'}; "
          f"{within}/{len(per_op)} figures individually within the target")
    print(f"negative figures with a physical bound: {negative_bounded} "
          f"({'OK' if not negative_bounded else 'MISSED'})")
    ok = (worst_wall <= BUDGET_S[args.kind] and median_dev <= REPEATABILITY_TARGET
          and not negative_bounded)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
