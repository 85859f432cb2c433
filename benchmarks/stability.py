"""Stable answers: three quick calibrations, and every preset's answer from each.

    python benchmarks/stability.py [--runs 3] [--iwasm PATH ...] [--wamrc PATH] [--no-reference]
                                   [--save DIR | --replay PROFILE ...]

Runs ``--runs`` quick calibrations one after another (nothing is saved), fits
an advisor to each, combined with the shipped reference profile for runtimes
not measured here (``--no-reference``: without it), and for every bundled
preset prints each run's *answer*: the winner where it wins clearly, else the
tied set (model/_confidence.py), e.g.
``request-response: wasmtime:winch | wasmtime:winch | wasmtime:winch — same 3/3``.
It also says whether the answers are at least *compatible*: every run's winner
inside every other run's tied set. Where the answers differ, it prints the modes at
their *edge* (in some runs' tied sets and not in others) with, per run, the share of
resamples in which that run's winner scored more than 2 % above them (a clear win needs
90 %): a mode at 85 % in one run and 92 % in the next moved across the threshold, not
across the ranking. Run it on an idle machine: the calibrations
measure it. ``--save DIR`` keeps each run's profile; ``--replay`` scores saved
profiles again without calibrating, to judge a change to the model on the same
measurements. Exits 1 when any preset's answer differed between runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from wasm_advisor import Advisor, Profile, ProfileStore, Workload, calibrate, preset_names
from wasm_advisor.model._confidence import CLEAR_WIN


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iwasm", action="append", default=[])
    parser.add_argument("--wamrc")
    parser.add_argument("--no-reference", action="store_true",
                        help="do not score runtimes not measured here from the reference profile")
    parser.add_argument("--save", type=Path, metavar="DIR", help="keep each run's profile here")
    parser.add_argument("--replay", nargs="+", type=Path, metavar="PROFILE",
                        help="score these saved profiles instead of calibrating")
    args = parser.parse_args()
    if args.replay:
        args.runs = len(args.replay)

    answers: dict[str, list[tuple[str, ...]]] = {name: [] for name in preset_names()}
    beaten: dict[str, list[dict[str, float]]] = {name: [] for name in preset_names()}
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
            advisor = Advisor(profile, with_reference=not args.no_reference,
                              store=ProfileStore(cache))
            for name in answers:
                r = advisor.recommend(Workload.preset(name))
                # the winner first, then the modes tied with it in alphabetical order
                answers[name].append((r.tied[0], *sorted(r.tied[1:])) if r.tied else ("none",))
                # per mode, the share of resamples the winner clearly beat it in
                beaten[name].append(dict(r.confidence.beaten) if r.confidence else {})
        how = f"from {args.replay[run]}" if args.replay else f"{wall:.1f} s"
        print(f"run {run + 1}: {how}, {len(profile.modes())} runtime/modes measured, "
              f"{len(profile.failures)} failed measurements; {profile.verdict}", flush=True)

    print(f"\nanswer per preset over {args.runs} quick calibrations "
          "(a winner, or the winner = the modes tied with it):")
    same = compatible = 0
    for name, runs in answers.items():
        texts = [" = ".join(a) for a in runs]
        agreed = Counter(frozenset(a) for a in runs).most_common(1)[0][1]
        fits = all(a[0] in b for a in runs for b in runs)
        same += agreed == len(runs)
        compatible += fits
        print(f"  {name}: {' | '.join(texts)} — same {agreed}/{len(runs)}"
              + ("" if agreed == len(runs) else
                 "; compatible" if fits else "; NOT compatible (a winner outside a tied set)"))
        if agreed < len(runs):
            _print_edge(runs, beaten[name])
    print(f"\noverall: {same}/{len(answers)} presets gave the same answer in every run; "
          f"{compatible}/{len(answers)} compatible answers")
    return 0 if same == len(answers) else 1


def _print_edge(runs: list[tuple[str, ...]], beaten: list[dict[str, float]]) -> None:
    """The modes in some runs' tied sets and not in others, with how clearly each run's
    winner beat them."""
    every: set[str] = set(runs[0]).intersection(*runs[1:])
    edge = set(runs[0]).union(*runs[1:]) - every
    for key in sorted(edge):
        cells = []
        for answer, shares in zip(runs, beaten, strict=True):
            if key == answer[0]:
                cells.append("winner")
            elif key in shares:
                cells.append(f"{'tied' if key in answer else 'beaten'} {shares[key]:.0%}")
            else:
                cells.append("not ranked")
        print(f"      edge: {key}: " + " | ".join(cells)
              + f" (clearly beaten needs {CLEAR_WIN:.0%})")


if __name__ == "__main__":
    sys.exit(main())
