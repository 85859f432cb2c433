"""The machine's speed phases: the speed probe and a compile, side by side, for a while.

    python benchmarks/speed_phases.py [--seconds 30]

Alternates the calibration's speed probe (harness/_speed_probe.py) and a single-threaded
Wasmtime Cranelift compile of the calibration's 32 KiB code module, and prints, per
second, the median of each; then how many of the probe's readings lie more than the
calibration's limit (1.4x) from their median, and the rank correlation of the two
series: a machine whose speed moves in phases shows two levels in both, at the same
moments. Nothing here is saved; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import wasmtime

from wasm_advisor.calibration import kernels
from wasm_advisor.calibration._steadiness import SPEED_LIMIT
from wasm_advisor.harness._speed_probe import speed_probe_ns


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, i in enumerate(order):
        ranks[i] = float(rank)
    return ranks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    config = wasmtime.Config()
    config.parallel_compilation = False
    engine = wasmtime.Engine(config)
    module = kernels.code_size_module(32 * 1024)
    start = time.monotonic()
    rows: list[tuple[float, float, float]] = []  # seconds in, probe ms, compile ms
    while time.monotonic() - start < args.seconds:
        probe = speed_probe_ns()
        t = time.perf_counter_ns()
        wasmtime.Module(engine, module)
        rows.append((time.monotonic() - start, probe / 1e6, (time.perf_counter_ns() - t) / 1e6))
    print("second  probe ms  compile ms   (medians of that second)")
    for second in range(int(args.seconds)):
        these = [r for r in rows if second <= r[0] < second + 1]
        if these:
            print(f"{second:6d}  {statistics.median(r[1] for r in these):8.2f}  "
                  f"{statistics.median(r[2] for r in these):10.1f}")
    probes, compiles = [r[1] for r in rows], [r[2] for r in rows]
    usual = statistics.median(probes)
    away = sum(max(p / usual, usual / p) > SPEED_LIMIT for p in probes)
    a, b = _ranks(probes), _ranks(compiles)
    correlation = statistics.correlation(a, b)
    print(f"\n{len(rows)} readings; probe median {usual:.2f} ms, "
          f"{away} ({away / len(rows):.0%}) more than {SPEED_LIMIT:g}x from it; "
          f"compile median {statistics.median(compiles):.1f} ms "
          f"(range {min(compiles):.1f}-{max(compiles):.1f}); "
          f"rank correlation of probe and compile {correlation:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
