"""Stable top choice: three quick calibrations, and the winner for every preset from each.

    python benchmarks/stability.py [--runs 3] [--iwasm PATH ...] [--wamrc PATH] [--with-reference]
                                   [--save DIR | --replay PROFILE ...]

Runs ``--runs`` quick calibrations one after another (nothing is saved), fits
an advisor to each, and for every bundled preset prints the top choice of each
run and how often it agreed with the most common one, e.g.
``request-response: wasmtime:cranelift ×3 — agreed 3/3``, with each run's gap
between the top two scores (a disagreement within a few percent is a near-tie
that calibration noise can flip; a negative gap is a plain mode ranked above a
configuration of it that scored higher by less than the tie band); then the
overall agreement across presets.
Run it on an idle machine: the calibrations measure it. ``--save DIR`` keeps
each run's profile; ``--replay`` scores saved profiles again without
calibrating, to judge a change to the model on the same measurements. Exits 1
when any preset's top choice differed between runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from wasm_advisor import Advisor, Profile, ProfileStore, Workload, calibrate, preset_names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iwasm", action="append", default=[])
    parser.add_argument("--wamrc")
    parser.add_argument("--with-reference", action="store_true",
                        help="score runtimes not measured here from the reference profile")
    parser.add_argument("--save", type=Path, metavar="DIR", help="keep each run's profile here")
    parser.add_argument("--replay", nargs="+", type=Path, metavar="PROFILE",
                        help="score these saved profiles instead of calibrating")
    args = parser.parse_args()
    if args.replay:
        args.runs = len(args.replay)

    winners: dict[str, list[str]] = {name: [] for name in preset_names()}
    gaps: dict[str, list[float]] = {name: [] for name in preset_names()}
    for run in range(args.runs):
        start = time.monotonic()
        if args.replay:
            profile = Profile.load(args.replay[run])
        else:
            profile = calibrate("quick", iwasm=args.iwasm, wamrc=args.wamrc, save=False)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                profile.save(args.save / f"quick-{run + 1}.json")
        wall = time.monotonic() - start
        with tempfile.TemporaryDirectory(prefix="wasm-advisor-stability-") as cache:
            advisor = Advisor(profile, with_reference=args.with_reference,
                              store=ProfileStore(cache))
            for name in winners:
                r = advisor.recommend(Workload.preset(name))
                winners[name].append(r.winner or "none")
                if len(r.ranked) > 1 and r.ranked[0].score:
                    # negative: the plain mode first, a configuration of it within the tie band
                    gaps[name].append(1 - r.ranked[1].score / r.ranked[0].score)
        how = f"from {args.replay[run]}" if args.replay else f"{wall:.1f} s"
        print(f"run {run + 1}: {how}, {len(profile.modes())} runtime/modes measured, "
              f"{len(profile.failures)} failed measurements", flush=True)

    print(f"\ntop choice per preset over {args.runs} quick calibrations:")
    agreed_total = 0
    for name, choices in winners.items():
        top, count = Counter(choices).most_common(1)[0]
        others = ", ".join(f"{k} ×{n}" for k, n in Counter(choices).items() if k != top)
        agreed_total += count
        gap = ", ".join(f"{g:.1%}" for g in gaps[name])
        print(f"  {name}: {top} ×{count} — agreed {count}/{args.runs}"
              + (f" (also: {others})" if others else "")
              + (f"; top-two gap per run: {gap}" if gap else ""))
    total = args.runs * len(winners)
    unanimous = sum(len(set(c)) == 1 for c in winners.values())
    print(f"\noverall: {agreed_total}/{total} top choices agreed with their preset's most "
          f"common one; {unanimous}/{len(winners)} presets unanimous")
    return 0 if unanimous == len(winners) else 1


if __name__ == "__main__":
    sys.exit(main())
