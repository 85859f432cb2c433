"""Prediction accuracy on real programs: predict, then measure, on every runtime/mode here.

    python benchmarks/accuracy.py CORPUS_DIR [--repeats 1] [--rounds 2] [--timeout 120]
                                            [--iwasm PATH ...]
                                            [--wamrc PATH] [--profile ID|FILE | --calibrate KIND]
                                            [--runtime R[:M]] [--save RUN.json | --replay RUN.json]

CORPUS_DIR holds a ``corpus.json`` listing programs (module, workdir, argv, expect),
laid out as ../shared/corpus. Each program is built into a workload with
``Workload.from_module`` (its work counted with Wasmtime fuel, and WAMR's classic
interpreter's block-end scans with the module's counting copy; host calls and memory
traffic left at 0, since a program's are not known in advance) and run with ``verify``,
which holds each run to the exit status the program's ``expect.exit`` gives: a program
whose correct result is a non-zero status (a SAT solver's 20) is measured like any
other, and one that ends with another status is reported as failed, with both statuses.

Prints, per runtime/mode and phase, the median and 90th-percentile prediction error
as a ratio predicted/measured; the share of module x mode pairs whose compile and
instantiate predictions are within 1.5x of measured; how often the execution-time
ranking between modes is right (no pair of modes measured more than 10 % apart is
predicted more than 10 % apart the other way; the count with every such pair in
the measured order is printed beside it; execution where ``verify`` separates it, the
whole run where it does not, as for WAMR's LLVM JIT); and how often the advisor's top
choice for each preset's priorities matches the top choice made from the measurements
(where no mode meets a preset's limits, predicted and measured alike, they agree;
a mode measured only as a whole run counts as execution what is left of it once its
measured compile and its predicted start are taken out, and where nothing is left it
is left out of that module's choices, predicted and measured alike).
Each program's counted instruction mix sets the compute kind, as ``verify`` does.
Exits 1 when a target is missed.

``--calibrate quick|full`` calibrates this machine first (with the same ``--iwasm`` and
``--wamrc``) and predicts from that profile: the calibration and the measurements it
is judged against are then taken in one sitting, so a change in the machine's pace
between a reference profile's day and the benchmark's is not counted as the model's
error. ``--save`` writes what was measured (not the predictions) to a JSON file;
``--replay`` scores a saved run again, against the profile given now, without
running anything: the same measurements judged by another profile or model. With
``--calibrate``, ``--save`` also writes the profile made, as ``RUN.profile.json``.

Where the profile has pace readings (a calibration made with this version), ``verify``
reads the machine's pace beside each program's runs and scales its phase predictions
by the ratio (``wasm_advisor.calibration.pace``): on a VM whose pace moves by 20-30 %
over the half hour a run takes, the calibration's minutes are otherwise another
machine. The readings are saved with the run; ``--no-pace`` leaves the predictions
unscaled (live, and in a replay), to see what the readings change.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from wasm_advisor import Advisor, Workload, calibrate, preset_names
from wasm_advisor.advisor import constraints_for
from wasm_advisor.calibration.pace import PaceReading, pace_factors
from wasm_advisor.model.costs import (
    FIRST_INSTANCE,
    RUN_COMPILE,
    Component,
    Prediction,
    WorkloadFeatures,
    predict_costs,
)
from wasm_advisor.model.scoring import rank
from wasm_advisor.verify import (
    PHASES,
    ModeVerification,
    VerifyReport,
    predicted_phases,
    with_counted,
)

CLOSE = 1.5
TARGETS = {"startup": 0.80, "ranking": 0.85, "top_choice": 0.90}
RANK_NOISE = 0.10  # measured times closer than this are not ordered


def expected_exit(program: dict[str, Any]) -> int:
    """The exit status a corpus program's correct result is: its ``expect.exit`` (0 when
    it gives none)."""
    status = (program.get("expect") or {}).get("exit", 0)
    if isinstance(status, bool) or not isinstance(status, int) or not 0 <= status <= 255:
        raise SystemExit(f"corpus.json: program {program.get('name')!r}: expect.exit "
                         f"{status!r} is not an exit status (0 to 255)")
    return status


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def error_factor(ratio: float) -> float:
    return max(ratio, 1 / ratio)


def measured_prediction(predicted: Prediction, v: ModeVerification) -> Prediction | None:
    """The prediction with its components replaced by what was measured; None where a
    whole run leaves no execution once its compile and start are taken out."""
    def swap(components: list[Component], name: str, value: float | None) -> list[Component]:
        return [Component(c.name, value, 0.0, c.engine) if value is not None and
                c.name.startswith(name) and c.name != RUN_COMPILE else c for c in components]

    per_request = list(predicted.per_request)
    per_instance = list(predicted.per_instance)
    per_load = list(predicted.per_module_load)
    m = v.measured_ns
    if "execute" in m:
        per_request = [Component("compute", m["execute"])] + [
            Component(c.name, 0.0) for c in per_request[1:]]
    per_instance = swap(per_instance, "instantiate", m.get("instantiate"))
    per_load = swap(per_load, "compile", m.get("compile"))
    if "execute" not in m and "total" in m:
        # only the whole run (WAMR's LLVM JIT, which compiles as it runs): its execution is
        # what is left of the run once its measured compile (the hollow copy's run, in
        # which the JIT's threads compile much of the module too) and its start
        # (instantiation, binding, first instance, at their predicted values) are taken
        # out; what it compiled as the program ran is in that rest, so the prediction's
        # 'compile as it runs' is not counted again. Sharing the run out in the predicted
        # proportions instead would make the JIT's execution the prediction's
        compiled = m.get("compile", 0.0) if v.binding == "iwasm CLI" else 0.0
        started = sum(c.value for c in per_instance + [c for c in per_load
                                                       if c.name == FIRST_INSTANCE])
        rest = m["total"] - compiled - started
        if rest <= 0:
            return None
        per_request = [Component("compute", rest)] + [
            Component(c.name, 0.0) for c in per_request[1:]]
        per_load = [Component(c.name, 0.0, 0.0, c.engine) if c.name == RUN_COMPILE else c
                    for c in per_load]
    return replace(predicted, per_request=per_request, per_instance=per_instance,
                   per_module_load=per_load)


def replayed(advisor: Advisor, workload: Workload, run: dict[str, Any], paced: bool
             ) -> VerifyReport:
    """A saved run's measurements, with the predictions of ``advisor``'s profile now (scaled
    by the run's pace readings against that profile's, where ``paced`` and both have them)."""
    instructions = run["instructions"]
    features = WorkloadFeatures.from_workload(workload)
    if instructions is not None:
        features = features.with_value("compute_instructions_per_request",
                                       float(instructions))
    counted: dict[str, Any] = {"block_scan_ops": run.get("block_scan_ops"),
                               "mix": run.get("mix"),
                               "ran_code_bytes": run.get("ran_code_bytes")}
    features = with_counted(features, counted)
    evidence = {e.coefficients.key: e for e in advisor.evidence}
    readings = [PaceReading.from_dict(r) for r in run.get("pace") or []]
    factors = pace_factors(advisor.profile, readings) if paced else None
    modes = []
    for m in run["modes"]:
        v = ModeVerification(key=m["key"], binding=m["binding"], exit_code=m["exit_code"],
                             failure=m["failure"], measured_ns=m["measured_ns"])
        if m["key"] in evidence and v.failure is None:
            v.predicted_ns = {phase: value for phase, value in
                              predicted_phases(evidence[m["key"]], features,
                                               factors).items()
                              if phase in v.measured_ns}
        elif v.failure is None:
            v.failure = "not in this profile"
        modes.append(v)
    report = VerifyReport(workload, instructions, modes, [], pace=readings,
                          pace_factors=factors)
    report.counted.update({k: v for k, v in counted.items() if v is not None})
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2,
                        help="verify's rounds of warm runs, taken in turn across the modes")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--iwasm", action="append", default=[])
    parser.add_argument("--wamrc")
    parser.add_argument("--profile")
    parser.add_argument("--calibrate", choices=("quick", "full"),
                        help="calibrate here first and predict from that profile")
    parser.add_argument("--runtime", action="append")
    parser.add_argument("--save", type=Path, help="write the measurements to this JSON file")
    parser.add_argument("--replay", type=Path, help="score a saved run instead of running")
    parser.add_argument("--no-pace", action="store_true",
                        help="do not scale the predictions by the machine's pace against "
                        "the profile's")
    args = parser.parse_args()

    listing = json.loads((args.corpus / "corpus.json").read_text())
    if args.calibrate and (args.profile or args.replay):
        parser.error("--calibrate makes the profile: give neither --profile nor --replay")
    if args.calibrate:
        t0 = time.monotonic()
        fresh = calibrate(args.calibrate, iwasm=args.iwasm, wamrc=args.wamrc, save=False)
        print(f"calibrated ({args.calibrate}) in {time.monotonic() - t0:.0f} s")
        if args.save:  # beside the measurements, to replay them against it later
            print(f"profile saved to {fresh.save(args.save.with_suffix('.profile.json'))}")
        advisor = Advisor(fresh)
    else:
        advisor = Advisor(args.profile)
    print(f"profile: {advisor.profile.provenance}")
    ratios: dict[tuple[str, str], list[float]] = defaultdict(list)
    startup_pairs = startup_close = 0
    ranking_right = ranking_exact = ranking_total = 0
    choice_right = choice_exact = choice_total = 0
    started = time.monotonic()
    saved: dict[str, dict[str, object]] = (
        json.loads(args.replay.read_text()) if args.replay else {})
    runs: dict[str, dict[str, object]] = {}
    for program in listing["programs"]:
        module = args.corpus / program["module"]
        workdir = args.corpus / program["workdir"]
        base = Workload.from_module(module, host_calls_per_request=0,
                                    touched_bytes_per_request=0)
        t0 = time.monotonic()
        if args.replay:
            if program["name"] not in saved:
                print(f"\n{program['name']}: not in {args.replay}")
                continue
            report = replayed(advisor, base, saved[program["name"]], not args.no_pace)
        else:
            report = advisor.verify(
                base, argv=program.get("argv", []), workdir=workdir, repeats=args.repeats,
                rounds=args.rounds, timeout_s=args.timeout, modes=args.runtime, iwasm=args.iwasm,
                wamrc=args.wamrc, expect_exit=expected_exit(program),
                **({"pace_profile": None} if args.no_pace else {}))
        runs[program["name"]] = {"instructions": report.instructions,
                                 "block_scan_ops": report.block_scan_ops,
                                 "mix": report.counted.get("mix"),
                                 "ran_code_bytes": report.counted.get("ran_code_bytes"),
                                 "pace": [r.to_dict() for r in report.pace],
                                 "modes": [
            {"key": v.key, "binding": v.binding, "exit_code": v.exit_code,
             "failure": v.failure, "measured_ns": v.measured_ns} for v in report.modes]}
        if args.save:  # after every program: a run stopped part-way keeps what it measured
            args.save.write_text(json.dumps(runs, indent=1))
        expect = expected_exit(program)
        ok = [v for v in report.modes if v.failure is None and v.exit_code == expect]
        failed = [f"{v.key} ({v.failure or f'exited with status {v.exit_code}, expected {expect}'})"
                  for v in report.modes if v not in ok]
        print(f"\n{program['name']}: {report.instructions or 0:,} instructions, "
              f"{len(ok)}/{len(report.modes)} modes ran correctly"
              + ("" if args.replay else f" in {time.monotonic() - t0:.0f} s")
              + (f"; failed: {', '.join(failed)}" if failed else "")
              + (f"; pace against the profile's: compile {report.pace_factors['compile']:.2f}, "
                 f"execute {report.pace_factors['execute']:.2f}" if report.pace_factors else ""))
        for v in ok:
            cells = []
            for phase in PHASES:
                r = v.ratio(phase)
                if r is not None:
                    ratios[(v.key, phase)].append(r)
                    cells.append(f"{phase} {r:.2f}")
                    if phase in ("compile", "instantiate"):
                        startup_pairs += 1
                        startup_close += error_factor(r) <= CLOSE
            print(f"  {v.key:36s} " + "  ".join(cells))
        # execution ranking: every pair of modes measured more than 10 % apart
        timed = [(v.key, v.measured_ns.get("execute", v.measured_ns.get("total")),
                  v.predicted_ns.get("execute") if "execute" in v.measured_ns
                  else v.predicted_ns.get("total")) for v in ok]
        timed = [t for t in timed if t[1] and t[2]]
        if len(timed) >= 2:
            ranking_total += 1

            def apart(x: float, y: float) -> bool:
                return abs(x - y) > RANK_NOISE * min(x, y)

            # out of order: measured more than the noise apart, and predicted the other way
            wrong = [(a[0], b[0]) for i, a in enumerate(timed) for b in timed[i + 1:]
                     if apart(a[1], b[1]) and (a[1] < b[1]) != (a[2] < b[2])]
            # ... of which the model was confident: it also put them more than the noise apart
            confident = [(x, y) for x, y in wrong if apart(
                *(next(t[2] for t in timed if t[0] == k) for k in (x, y)))]
            ranking_exact += not wrong
            ranking_right += not confident
            if wrong:
                print(f"  ranking: {len(wrong)} pair(s) out of order, {len(confident)} of them "
                      f"predicted more than {RANK_NOISE:.0%} apart"
                      + (f", e.g. {confident[0][0]} vs {confident[0][1]}" if confident else
                         f" (e.g. {wrong[0][0]} vs {wrong[0][1]}: predicted a near-tie)"))
        # top choice per preset: the advisor's, against the one the measurements make
        if not ok or report.instructions is None:
            continue
        keys = {v.key for v in ok}
        evidence = [e for e in advisor.evidence if e.coefficients.key in keys]
        for preset in preset_names():
            w = Workload.from_module(module, preset=preset, host_calls_per_request=0,
                                     touched_bytes_per_request=0,
                                     compute_instructions_per_request=report.instructions)
            features = with_counted(WorkloadFeatures.from_workload(w), report.counted)
            k = constraints_for(w)
            made = {v.key: measured_prediction(predict_costs(
                next(e for e in evidence if e.coefficients.key == v.key).coefficients,
                features), v) for v in ok}
            # a whole run no longer than its measured compile and predicted start leaves no
            # execution to measure: that mode is left out of both choices
            judged = [e for e in evidence if made[e.coefficients.key] is not None]
            predicted = rank(judged, features, k)
            measured = rank(judged, features, k, predictions={
                key: p for key, p in made.items() if p is not None})
            p_win = predicted[0].key if predicted and not predicted[0].excluded else None
            m_win = measured[0].key if measured and not measured[0].excluded else None
            # the measurements cannot tell apart modes whose measured scores are within
            # the noise: the advisor's choice counts when its measured score is that close
            m_score = {c.key: c.score for c in measured if not c.excluded}
            # no mode meets the preset's limits, predicted and measured alike: that agrees
            close = p_win == m_win or (p_win is not None and m_win is not None and
                                       m_score.get(p_win, 0.0) * (1 + RANK_NOISE)
                                       >= m_score[m_win])
            choice_total += 1
            choice_exact += p_win == m_win
            choice_right += close
            if p_win is not None and m_win is None:
                # measured, every mode breaks a limit: say which limit the advisor's choice broke
                broken = next((c.excluded for c in measured if c.key == p_win), [])
                print(f"  {preset}: advisor chose {p_win}; measured, no mode meets the preset's "
                      f"limits ({p_win}: {'; '.join(broken) or 'excluded'})")
            elif p_win != m_win:
                print(f"  {preset}: advisor chose {p_win}, the measurements {m_win}"
                      + (f" (measured scores {m_score.get(p_win, 0):.0f} and "
                         f"{m_score[m_win]:.0f}: within the noise)" if close else
                         f" (measured scores {m_score.get(p_win, 0):.0f} and "
                         f"{m_score.get(m_win, 0):.0f})"))

    print(f"\nprediction error by runtime/mode and phase (ratio predicted/measured; "
          f"{time.monotonic() - started:.0f} s in all):")
    print(f"  {'runtime:mode':36s} {'phase':12s} {'n':>3s} {'median':>7s} {'p90 error':>9s}")
    for (key, phase), values in sorted(ratios.items()):
        errors = [error_factor(r) for r in values]
        print(f"  {key:36s} {phase:12s} {len(values):3d} {statistics.median(values):7.2f} "
              f"{quantile(errors, 0.9):8.2f}x")
    startup = startup_close / startup_pairs if startup_pairs else 0.0
    ranking = ranking_right / ranking_total if ranking_total else 0.0
    choice = choice_right / choice_total if choice_total else 0.0
    results = {"startup": startup, "ranking": ranking, "top_choice": choice}
    print(f"\ncompile and instantiate within {CLOSE}x: {startup_close}/{startup_pairs} "
          f"module x mode pairs = {startup:.1%} (target {TARGETS['startup']:.0%})")
    print(f"execution ranking right (no pair the measurements separate by more than "
          f"{RANK_NOISE:.0%} predicted more than {RANK_NOISE:.0%} apart the other way): "
          f"{ranking_right}/{ranking_total} modules = {ranking:.1%} (target "
          f"{TARGETS['ranking']:.0%}); with every separated pair in order: {ranking_exact}/"
          f"{ranking_total}")
    print(f"top choice matches the measured one, or scores within {RANK_NOISE:.0%} of it when "
          f"measured: {choice_right}/{choice_total} module x preset cases = {choice:.1%} "
          f"(target {TARGETS['top_choice']:.0%}); exactly the same mode: {choice_exact}/"
          f"{choice_total}")
    if args.save:
        args.save.write_text(json.dumps(runs, indent=1))
        print(f"measurements saved to {args.save}")
    missed = [name for name, value in results.items() if value < TARGETS[name]]
    print("targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
