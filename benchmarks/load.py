"""Load: recommend() from many threads at once, and ``compare`` over hundreds of files.

    python benchmarks/load.py [--profile ID|FILE] [--threads 8] [--calls 10000] [--files 500]

Calls ``Advisor.recommend()`` ``--calls`` times in total from ``--threads``
threads on the bundled presets, and checks every answer against one computed
beforehand (winner, every candidate's score and exclusions, the deciding
sentence); then writes ``--files`` workload files into a temporary directory
and times ``wasm-advisor compare DIR --json`` on it in a fresh process. Exits 1
on any differing answer, error, or a compare run that fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from wasm_advisor import Advisor, Recommendation, Workload, preset_names
from wasm_advisor.workload._files import dump_workload


def answer(r: Recommendation) -> tuple[Any, ...]:
    return (r.winner, r.decision.sentence if r.decision else None,
            tuple((c.key, c.score, tuple(c.excluded)) for c in r.candidates))


def threads(advisor: Advisor, count: int, calls: int) -> bool:
    workloads = [Workload.preset(name) for name in preset_names()]
    expected = [answer(advisor.recommend(w)) for w in workloads]
    start = time.perf_counter()
    for w in workloads * 50:
        advisor.recommend(w)
    serial_ms = (time.perf_counter() - start) / (len(workloads) * 50) * 1e3

    def batch(thread: int) -> tuple[int, int]:
        wrong = errors = 0
        for i in range(thread, calls, count):
            k = i % len(workloads)
            try:
                wrong += answer(advisor.recommend(workloads[k])) != expected[k]
            except Exception:
                errors += 1
        return wrong, errors

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(batch, range(count)))
    wall = time.perf_counter() - start
    wrong = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    print(f"recommend(): {calls:,} calls from {count} threads in {wall:.2f} s "
          f"({wall / calls * 1e3:.3f} ms per call; {serial_ms:.3f} ms in one thread), "
          f"{wrong} differing answers, {errors} errors")
    return wrong == 0 and errors == 0


def compare_files(profile: str | None, files: int) -> bool:
    names, formats = preset_names(), ("toml", "yaml", "json")
    with tempfile.TemporaryDirectory(prefix="wasm-advisor-load-") as tmp:
        folder = Path(tmp)
        for i in range(files):
            w = Workload.preset(names[i % len(names)], request_rate_per_s=10.0 * (1 + i))
            w = w.model_copy(update={"name": f"w{i:03d}"})
            fmt = formats[i % 3]
            (folder / f"w{i:03d}.{fmt}").write_text(dump_workload(w, fmt))
        command = [sys.executable, "-m", "wasm_advisor", "compare", str(folder), "--json",
                   "--with-reference", *(["--profile", profile] if profile else [])]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        wall = time.perf_counter() - start
    rows = len(json.loads(done.stdout)["rows"]) if done.returncode == 0 else 0
    print(f"wasm-advisor compare: {files} workload files in {wall:.2f} s wall (a fresh "
          f"process: start-up, profile load, parsing and ranking), {rows} rows, "
          f"exit {done.returncode}")
    if done.returncode != 0:
        print(done.stderr[-1000:])
    return done.returncode == 0 and rows == files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", help="profile id or file (default: as the CLI chooses)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()

    advisor = Advisor(args.profile, with_reference=True)
    print(f"profile: {advisor.profile.provenance}; {len(advisor.evidence)} runtime/modes")
    ok = threads(advisor, args.threads, args.calls)
    ok = compare_files(args.profile, args.files) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
