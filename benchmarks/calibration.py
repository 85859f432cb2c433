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


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("quick", "full"), default="quick")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iwasm", action="append", default=[])
    parser.add_argument("--wamrc")
    parser.add_argument("--profile-time", action="store_true",
                        help="print where each run's time went")
    return parser.parse_args()


class TimeSpent:
    """A progress callback that adds the time since the last event to its mode and to its
    task's family (or to the pace readings)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.last = time.monotonic()

    def __call__(self, event: CalibrationProgress) -> None:
        now = time.monotonic()
        family = event.task.split(" (")[0].rsplit(":", 1)[0] if event.mode != "pace" \
            else "pace reading"
        self.spent[f"mode {event.runtime}:{event.mode}"] += now - self.last
        self.spent[f"task {family}"] += now - self.last
        self.last = now

    def print(self) -> None:
        for what, seconds in sorted(self.spent.items(), key=lambda kv: -kv[1]):
            if seconds >= 0.2:
                print(f"    {seconds:6.1f} s  {what}")


def _negative_figures(profile: Profile) -> int:
    """Prints the profile's negative figures; returns how many have a physical bound."""
    negative = [f for f in profile.figures if f.value < 0]
    bounded = [f for f in negative if f.metric in LOWER_BOUNDS]
    print(f"  negative figures: {len(negative)}"
          + (f" ({len(bounded)} with a physical bound: "
             + ", ".join(f"{f.runtime}:{f.mode} {f.metric}" for f in bounded) + ")"
             if bounded else " with a physical bound: none")
          + ("; others are flat slopes, zero within their noise: "
             + ", ".join(f"{f.runtime}:{f.mode} {f.metric}" for f in negative
                         if f not in bounded) if len(negative) > len(bounded) else ""))
    return len(bounded)


def _one_run(args: argparse.Namespace, number: int) -> tuple[Profile, float, int]:
    """One calibration, and what it prints of it: its profile, its wall time and its
    negative figures with a physical bound."""
    start = time.monotonic()
    spent = TimeSpent()
    profile = calibrate(args.kind, iwasm=args.iwasm, wamrc=args.wamrc, save=False,
                        progress=spent)
    wall = time.monotonic() - start
    print(f"run {number + 1}: {wall:.1f} s wall, {len(profile.modes())} runtime/modes, "
          f"{len(profile.failures)} failed measurements; {profile.verdict}", flush=True)
    negative_bounded = _negative_figures(profile)
    for failure in profile.failures:
        if failure.reason.startswith("not measured"):
            print(f"  {failure.runtime}:{failure.mode} {failure.task}: {failure.reason}")
    if args.profile_time:
        spent.print()
    return profile, wall, negative_bounded


def _print_deviations(profiles: list[Profile], runs: int) -> dict[tuple[str, str, str], float]:
    """Prints each figure's deviation from the median of the runs; returns the
    per-operation figures'."""
    per_op = deviations(profiles, "_ns_per_iter")
    print(f"\nper-operation figures, deviation from the median of {runs} runs:")
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
    return per_op


def _targets_met(args: argparse.Namespace, walls: list[float],
                 per_op: dict[tuple[str, str, str], float], negative_bounded: int) -> bool:
    """Prints each target and whether it was met; returns whether all were."""
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
    return (worst_wall <= BUDGET_S[args.kind] and median_dev <= REPEATABILITY_TARGET
            and not negative_bounded)


def main() -> int:
    args = _arguments()
    profiles, walls = [], []
    negative_bounded = 0
    for number in range(args.runs):
        profile, wall, bounded = _one_run(args, number)
        profiles.append(profile)
        walls.append(wall)
        negative_bounded += bounded
    unavailable = [f"{r.name} ({r.reason})" for r in profiles[0].runtimes if not r.available]
    if unavailable:
        print("not measured: " + "; ".join(unavailable))
    per_op = _print_deviations(profiles, args.runs)
    return 0 if _targets_met(args, walls, per_op, negative_bounded) else 1


if __name__ == "__main__":
    sys.exit(main())
