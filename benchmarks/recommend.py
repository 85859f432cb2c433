"""Speed of recommend(): in-process with a loaded profile, and the CLI with a cached one.

    python benchmarks/recommend.py [--profile ID|FILE] [--repeats 200]

Prints the median time of ``Advisor.recommend()`` per bundled preset, with its
resampled confidence and explanation (target <= 20 ms; crossovers are computed
lazily, so their time is printed apart), and
the median wall time of ``wasm-advisor recommend examples/request-response.toml``
once its profile's fitted model is cached (target <= 1.5 s). Exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wasm_advisor import Advisor, ProfileStore, Workload, preset_names

REPO = Path(__file__).resolve().parent.parent
IN_PROCESS_TARGET_MS = 20.0
CLI_TARGET_S = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", help="profile id or file (default: as the CLI chooses)")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    advisor = Advisor(args.profile, with_reference=True)
    print(f"profile: {advisor.profile.provenance}; {len(advisor.evidence)} runtime/modes")
    worst = 0.0
    for name in preset_names():
        workload = Workload.preset(name)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            recommendation = advisor.recommend(workload)
            times.append(time.perf_counter() - start)
        median_ms = statistics.median(times) * 1e3
        worst = max(worst, median_ms)
        start = time.perf_counter()
        _ = recommendation.crossovers
        crossover_ms = (time.perf_counter() - start) * 1e3
        print(f"  recommend({name}): median {median_ms:.2f} ms over {args.repeats} runs; "
              f"crossovers (lazy, once) {crossover_ms:.0f} ms; {recommendation.headline}")

    with tempfile.TemporaryDirectory() as cache:
        # the CLI uses this cache: the same profile (a reference one it finds by itself)
        if advisor.profile.kind != "reference":
            ProfileStore(cache).save(advisor.profile)
        command = [sys.executable, "-m", "wasm_advisor", "recommend", "--with-reference",
                   str(REPO / "examples" / "request-response.toml")]
        env = {**os.environ, "WASM_ADVISOR_CACHE": cache}
        subprocess.run(command, env=env, check=True, capture_output=True)  # fits and caches
        walls = []
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
    cli = statistics.median(walls)
    print(f"  wasm-advisor recommend (cached profile and fit): median {cli:.2f} s over "
          f"{len(walls)} runs, min {min(walls):.2f} s")
    ok_in, ok_cli = worst <= IN_PROCESS_TARGET_MS, cli <= CLI_TARGET_S
    print(f"in-process: worst preset median {worst:.2f} ms (target <= {IN_PROCESS_TARGET_MS} ms): "
          f"{'OK' if ok_in else 'MISSED'}")
    print(f"CLI: median {cli:.2f} s (target <= {CLI_TARGET_S} s): {'OK' if ok_cli else 'MISSED'}")
    return 0 if ok_in and ok_cli else 1


if __name__ == "__main__":
    sys.exit(main())
