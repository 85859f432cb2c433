"""Prediction accuracy on real programs: predict, then measure, on every runtime/mode here.

    python benchmarks/accuracy.py CORPUS_DIR [--repeats 1] [--rounds 2] [--timeout 120]
                                            [--iwasm PATH ...]
                                            [--wamrc PATH] [--libiwasm PATH ...]
                                            [--profile ID|FILE | --calibrate KIND]
                                            [--runtime R[:M]] [--save RUN.json | --replay RUN.json]
                                            [--results DIR]

CORPUS_DIR holds a ``corpus.json`` listing programs (module, workdir, argv, expect),
laid out as ../shared/corpus. Each program is built into a workload with
``Workload.from_module`` (its work counted with Wasmtime fuel, and WAMR's classic
interpreter's block-end scans with the module's counting copy; host calls and memory
traffic left at 0, since a program's are not known in advance) and run with ``verify``,
which holds each run to the exit status the program's ``expect.exit`` gives: a program
whose correct result is a non-zero status (a SAT solver's 20) is measured like any
other, and one that ends with another status is reported as failed, with both statuses.

The rules are :mod:`wasm_advisor.verification._accuracy`'s, fixed in code and
unit-tested. Prints, per runtime/mode and phase, the median and 90th-percentile
prediction error as a ratio predicted/measured, then:

- **start-up**: the share of module x mode pairs whose compile and instantiate
  predictions are within 1.5x of measured (target 80 %);
- **ranking**: per module, the pairs of modes whose execution the measurements
  *separate* (more than 10 % apart and beyond their own spread; the rest are measured
  ties); *strict*: every separated pair predicted in order; *no confident inversion*:
  no separated pair predicted the other way beyond the 80 % interval the advisor's own
  draws state for the ratio of the two (errors the two share cancel in it, as they do
  when the advisor ties or separates them; target 85 % of modules). Execution where
  ``verify`` separates it, the whole run where it does not, as for WAMR's LLVM JIT;
- **ratio coverage**: how often two modes' measured execution ratio falls inside that
  interval (not a target: what "tied" rests on, which should be close to 80 %);
- **noise control**: modes that run the same code (``same_code_as``: Cranelift with and
  without the pooling allocator) should measure alike; how far apart they came out;
- **top choice**: for each preset's priorities, the advisor's winner against the winner
  the measurements make (a mode measured only as a whole run counts as execution what is
  left of it once its measured compile and predicted start are taken out, and where
  nothing is left it is left out of that module's choices, predicted and measured
  alike): *exact*, and *in the tied set* the advisor stated, with the mean size of that
  set (target 90 % in the tied set with a mean size of at most 1.5);
- **coverage**: how often a measured phase falls inside its prediction's stated 80 %
  interval (target 70-90 %).

Each program's counted instruction mix sets the compute kind, as ``verify`` does.
Exits 1 when a target is missed.

``--calibrate quick|full`` calibrates this machine first (with the same ``--iwasm`` and
``--wamrc``) and predicts from that profile: the calibration and the measurements it
is judged against are then taken in one sitting, so a change in the machine's pace
between a reference profile's day and the benchmark's is not counted as the model's
error. ``--save`` writes what was measured (not the predictions) to a JSON file;
``--replay`` scores a saved run again, against the profile given now, without
running anything: the same measurements judged by another profile or model. With
``--calibrate``, ``--save`` also writes the profile made, as ``RUN.profile.json``. A
live run also writes its measurements, its profile, its figures and the commit to
``--results`` (default ``benchmarks/results/``), so that the docs quote files.

Where the profile has pace readings (a calibration made with this version), ``verify``
reads the machine's pace beside each program's runs and scales its phase predictions
by the ratio (``wasm_advisor.calibration._pace``): on a VM whose pace moves by 20-30 %
over the half hour a run takes, the calibration's minutes are otherwise another
machine. The readings are saved with the run; ``--no-pace`` leaves the predictions
unscaled (live, and in a replay), to see what the readings change.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wasm_advisor import Advisor, Workload, calibrate, preset_names
from wasm_advisor.advisor import MODEL_VERSION, constraints_for
from wasm_advisor.calibration._pace import PaceReading, pace_factors
from wasm_advisor.model._confidence import log_draws, ratio_sigma, resample, stated_sigma
from wasm_advisor.model._costs import WorkloadFeatures, predict_costs
from wasm_advisor.model._execution_spread import fit_execution_spread
from wasm_advisor.model._prediction import Component, Kind, Prediction
from wasm_advisor.model._scoring import ModeEvidence, rank
from wasm_advisor.model._startup_transfer import (
    MIN_PROGRAMS,
    TRANSFER_PHASES,
    StartupTransfer,
    fit_transfer,
    transfer_document,
    with_transfer,
)
from wasm_advisor.profiles import this_machine
from wasm_advisor.runtimes.traits import load_traits
from wasm_advisor.verification._accuracy import (
    CLOSE,
    RANK_NOISE,
    Measured,
    Predicted,
    coverage,
    error_factor,
    judge_ranking,
    judge_top_choice,
    startup_close,
)
from wasm_advisor.verification._report import ModeVerification, VerifyReport
from wasm_advisor.verification._verify import PHASES, predicted_phases, with_counted

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"startup": 0.80, "no_confident_inversion": 0.85, "top_choice_in_tied_set": 0.90}
MAX_MEAN_TIED = 1.5  # a tied set of every mode is always right and says nothing
COVERAGE_RANGE = (0.70, 0.90)  # of the stated 80 % intervals


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


def measured_prediction(predicted: Prediction, v: ModeVerification) -> Prediction | None:
    """The prediction with the components of every measured phase replaced by what was
    measured (:meth:`Prediction.with_measured`); None where a whole run leaves no execution
    once its compile and start are taken out."""
    m = v.measured_ns
    made = predicted.with_measured({phase: ns for phase, ns in m.items() if phase != "total"})
    if "execute" in m or "total" not in m:
        return made
    # only the whole run (WAMR's LLVM JIT, which compiles as it runs): its execution is
    # what is left of the run once its measured compile (the hollow copy's run, in
    # which the JIT's threads compile much of the module too) and its start
    # (instantiation, binding, first instance, at their predicted values) are taken
    # out; what it compiled as the program ran is in that rest, so the prediction's
    # 'compile as it runs' is not counted again. Sharing the run out in the predicted
    # proportions instead would make the JIT's execution the prediction's
    compiled = m.get("compile", 0.0) if v.binding == "iwasm CLI" else 0.0
    started = sum(c.value for c in made.per_instance + [
        c for c in made.per_module_load if c.kind is Kind.FIRST_INSTANCE])
    rest = m["total"] - compiled - started
    if rest <= 0:
        return None
    return made.with_measured({"execute": rest}).without(Kind.RUN_COMPILE)


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
    # the run's pace readings against the profile's, where the run was measured on the
    # profile's machine (a run saved before runs named their machine was: the benchmark
    # measures beside its profile), wherever the replay itself runs
    same_machine = (run.get("machine") or advisor.profile.machine.id) \
        == advisor.profile.machine.id
    factors = pace_factors(advisor.profile, readings, same_machine) if paced else None
    modes = []
    for m in run["modes"]:
        v = ModeVerification(key=m["key"], binding=m["binding"], exit_code=m["exit_code"],
                             failure=m["failure"], measured_ns=m["measured_ns"],
                             measured_spread_ns=m.get("measured_spread_ns") or {})
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


@dataclass
class Tally:
    """What every program's judgement adds up to."""

    ratios: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    startup_pairs: int = 0
    startup_close: int = 0
    ranked_modules: int = 0
    strict: int = 0
    no_confident: int = 0
    separated_pairs: int = 0
    measured_ties: int = 0
    cases: int = 0
    exact: int = 0
    in_tied: int = 0
    tied_sizes: list[int] = field(default_factory=list)
    covered: list[tuple[Predicted, float]] = field(default_factory=list)
    # per pair of modes of a module: the predicted execution ratio with the spread the
    # advisor states for it, and the measured ratio
    ratio_covered: list[tuple[Predicted, float]] = field(default_factory=list)
    same_code: list[tuple[str, str, float]] = field(default_factory=list)

    def shares(self) -> dict[str, float]:
        def share(a: int, b: int) -> float:
            return a / b if b else 0.0
        return {"startup": share(self.startup_close, self.startup_pairs),
                "strict_ranking": share(self.strict, self.ranked_modules),
                "no_confident_inversion": share(self.no_confident, self.ranked_modules),
                "top_choice_exact": share(self.exact, self.cases),
                "top_choice_in_tied_set": share(self.in_tied, self.cases),
                "mean_tied_set": statistics.mean(self.tied_sizes) if self.tied_sizes else 0.0,
                "coverage": coverage(self.covered) or 0.0,
                "ratio_coverage": coverage(self.ratio_covered) or 0.0}


def _phase_components(e: ModeEvidence, features: WorkloadFeatures, phase: str
                      ) -> list[Component]:
    """The predicted components behind a phase ``verify`` measures, for its stated spread."""
    prediction = predict_costs(e.coefficients, features)
    loads = prediction.per_module_load
    artifact = [c for c in loads if c.kind is Kind.LOAD_ARTIFACT]
    return {"compile": [c for c in loads if c.kind is not Kind.LOAD_ARTIFACT],
            "load": artifact or loads,
            "instantiate": prediction.per_instance[:1],
            "execute": prediction.per_request}.get(phase, [
                *prediction.per_request, *prediction.per_instance, *loads])


def judge_phases(ok: list[ModeVerification], evidence: dict[str, ModeEvidence],
                 features: WorkloadFeatures, tally: Tally) -> None:
    """Each phase's error, start-up within 1.5x, and whether its stated interval held."""
    for v in ok:
        cells = []
        for phase in PHASES:
            r = v.ratio(phase)
            if r is None:
                continue
            tally.ratios[(v.key, phase)].append(r)
            cells.append(f"{phase} {r:.2f}")
            if phase in ("compile", "instantiate"):
                tally.startup_pairs += 1
                tally.startup_close += startup_close(v.predicted_ns[phase], v.measured_ns[phase])
            if v.key in evidence and phase != "total":
                sigma = stated_sigma(evidence[v.key], _phase_components(
                    evidence[v.key], features, phase))
                tally.covered.append((Predicted(v.predicted_ns[phase], sigma),
                                      v.measured_ns[phase]))
        print(f"  {v.key:36s} " + "  ".join(cells))


def pair_sigmas(draws: dict[str, Any]) -> dict[tuple[str, str], float]:
    """Per pair of modes (in sorted order), the spread the advisor's draws give the ratio
    of their predictions: what it ties or separates them by."""
    keys = sorted(draws)
    return {(a, b): ratio_sigma(draws[a], draws[b])
            for i, a in enumerate(keys) for b in keys[i + 1:]}


def judge_ranking_of(ok: list[ModeVerification], evidence: dict[str, ModeEvidence],
                     features: WorkloadFeatures, tally: Tally) -> None:
    """The execution ranking of one module's modes, and the same-code noise control."""
    measured: dict[str, Measured] = {}
    predicted: dict[str, Predicted] = {}
    draws = {}
    for v in ok:
        phase = "execute" if "execute" in v.measured_ns else "total"
        value, guess = v.measured_ns.get(phase), v.predicted_ns.get(phase)
        if not value or not guess or v.key not in evidence:
            continue
        components = _phase_components(evidence[v.key], features, phase)
        measured[v.key] = Measured(value, v.measured_spread_ns.get(phase, 0.0))
        predicted[v.key] = Predicted(guess, stated_sigma(evidence[v.key], components))
        draws[v.key] = log_draws(evidence[v.key], components)
    ratio_sigmas = pair_sigmas(draws)
    for (a, b), sigma in ratio_sigmas.items():
        tally.ratio_covered.append((Predicted(predicted[a].value / predicted[b].value, sigma),
                                    measured[a].value / measured[b].value))
    for key, traits in load_traits().items():
        other = traits.same_code_as
        if other in measured and key in measured:
            tally.same_code.append((key, other, measured[key].value / measured[other].value))
    if len(measured) < 2:
        return
    verdict = judge_ranking(measured, predicted, ratio_sigmas)
    tally.ranked_modules += 1
    tally.strict += verdict.strict
    tally.no_confident += verdict.no_confident_inversion
    tally.separated_pairs += verdict.separated_pairs
    tally.measured_ties += verdict.measured_ties
    if verdict.inverted:
        example = verdict.confident[0] if verdict.confident else verdict.inverted[0]
        print(f"  ranking: {len(verdict.inverted)} of {verdict.separated_pairs} separated "
              f"pair(s) out of order, {len(verdict.confident)} beyond the stated intervals, "
              f"e.g. {example[0]} vs {example[1]} ({verdict.measured_ties} measured ties)")


def judge_choices(module: Path, report: VerifyReport, ok: list[ModeVerification],
                  advisor: Advisor, tally: Tally) -> None:
    """For every preset: the advisor's answer (winner and tied set) against the measured
    winner."""
    keys = {v.key for v in ok}
    evidence = [e for e in advisor.evidence if e.coefficients.key in keys]
    for preset in preset_names():
        tied, m_win = choices_for(preset, module, report, ok, evidence)
        count_choice(tally, preset, tied, m_win)


def choices_for(preset: str, module: Path, report: VerifyReport, ok: list[ModeVerification],
                evidence: list[ModeEvidence]) -> tuple[list[str], str | None]:
    """For one preset's priorities: the advisor's tied set, and the mode the measurements
    make the winner (None: no mode)."""
    w = Workload.from_module(module, preset=preset, host_calls_per_request=0,
                             touched_bytes_per_request=0,
                             compute_instructions_per_request=report.instructions)
    features = with_counted(WorkloadFeatures.from_workload(w), report.counted)
    k = constraints_for(w)
    by_key = {e.coefficients.key: e for e in evidence}
    made = {v.key: measured_prediction(predict_costs(by_key[v.key].coefficients, features), v)
            for v in ok}
    # a whole run no longer than its measured compile and predicted start leaves no
    # execution to measure: that mode is left out of both choices
    judged = [e for e in evidence if made[e.coefficients.key] is not None]
    predicted = [c for c in rank(judged, features, k) if not c.excluded]
    confidence = resample(predicted, k.weights).confidence()
    tied = list(confidence.tied) if confidence else []
    measured = rank(judged, features, k, predictions={
        key: p for key, p in made.items() if p is not None})
    return tied, measured[0].key if measured and not measured[0].excluded else None


def count_choice(tally: Tally, preset: str, tied: list[str], m_win: str | None) -> None:
    """One preset's top choice judged and added up; a miss printed."""
    verdict = judge_top_choice(tied, m_win)
    tally.cases += 1
    tally.exact += verdict.exact
    tally.in_tied += verdict.in_tied_set
    tally.tied_sizes.append(verdict.tied_set_size)
    if not verdict.exact:
        said = " = ".join(tied) if tied else "no mode"
        print(f"  {preset}: advisor said {said}, the measurements {m_win or 'no mode'}"
              + (" (in the tied set)" if verdict.in_tied_set else ""))


def summarize(tally: Tally, seconds: float) -> dict[str, float]:
    print(f"\nprediction error by runtime/mode and phase (ratio predicted/measured; "
          f"{seconds:.0f} s in all):")
    print(f"  {'runtime:mode':36s} {'phase':12s} {'n':>3s} {'median':>7s} {'p90 error':>9s}")
    for (key, phase), values in sorted(tally.ratios.items()):
        errors = [error_factor(r) for r in values]
        print(f"  {key:36s} {phase:12s} {len(values):3d} {statistics.median(values):7.2f} "
              f"{quantile(errors, 0.9):8.2f}x")
    if tally.same_code:
        ratios = [r for _, _, r in tally.same_code]
        print(f"\nnoise control: modes that run the same code measured "
              f"{min(ratios):.2f}-{max(ratios):.2f}x each other's execution (median "
              f"{statistics.median(ratios):.2f}) over {len(ratios)} modules")
    return print_shares(tally)


def print_shares(tally: Tally) -> dict[str, float]:
    """The figures judged against the targets, printed, and returned."""
    shares = tally.shares()
    print(f"\nstart-up (compile, instantiate) within {CLOSE}x: {tally.startup_close}/"
          f"{tally.startup_pairs} module x mode pairs = {shares['startup']:.1%} "
          f"(target {TARGETS['startup']:.0%})")
    print(f"execution ranking, over {tally.separated_pairs} pairs the measurements separate "
          f"(more than {RANK_NOISE:.0%} and their spread apart; {tally.measured_ties} measured "
          f"ties): every separated pair in order in {tally.strict}/{tally.ranked_modules} "
          f"modules = {shares['strict_ranking']:.1%}; no confident inversion in "
          f"{tally.no_confident}/{tally.ranked_modules} = {shares['no_confident_inversion']:.1%}"
          f" (target {TARGETS['no_confident_inversion']:.0%})")
    print(f"top choice: the measured winner is the advisor's in {tally.exact}/{tally.cases} "
          f"module x preset cases = {shares['top_choice_exact']:.1%}, in its stated tied set "
          f"in {tally.in_tied}/{tally.cases} = {shares['top_choice_in_tied_set']:.1%} (target "
          f"{TARGETS['top_choice_in_tied_set']:.0%}), mean tied set {shares['mean_tied_set']:.2f}"
          f" modes (at most {MAX_MEAN_TIED})")
    print(f"coverage: {len(tally.covered)} measured phases, {shares['coverage']:.1%} inside "
          f"their prediction's stated 80 % interval (target {COVERAGE_RANGE[0]:.0%}-"
          f"{COVERAGE_RANGE[1]:.0%})")
    print(f"ratio coverage (what a tie rests on, not a target): {len(tally.ratio_covered)} pairs "
          f"of modes of a module, {shares['ratio_coverage']:.1%} of measured execution ratios "
          f"inside the 80 % interval the advisor's draws state for the ratio")
    return shares


def advisor_with(advisor: Advisor, transfer: StartupTransfer) -> Advisor:
    """A copy of ``advisor`` whose modes carry ``transfer`` in place of the shipped
    start-up transfer (``StartupTransfer()``: none)."""
    out = copy.copy(advisor)
    out.evidence = [replace(e, coefficients=with_transfer(e.coefficients, e.profile_id,
                                                          transfer))
                    for e in advisor.evidence]
    return out


def base_workload(corpus: Path, program: dict[str, Any]) -> Workload:
    return Workload.from_module(corpus / program["module"], host_calls_per_request=0,
                                touched_bytes_per_request=0)


def startup_ratios(advisor: Advisor, listing: dict[str, Any], runs: dict[str, Any],
                   args: argparse.Namespace
                   ) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """Per program: each mode's start-up phases and execution as predicted without any
    transfer over measured, with the spread the prediction stated."""
    free = advisor_with(advisor, StartupTransfer())
    evidence = {e.coefficients.key: e for e in free.evidence}
    out: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
    for program in listing["programs"]:
        if program["name"] not in runs:
            continue
        report = replayed(free, base_workload(args.corpus, program), runs[program["name"]],
                          not args.no_pace)
        features = with_counted(WorkloadFeatures.from_workload(report.workload),
                                report.counted)
        ratios = {}
        for v in report.modes:
            if v.failure is not None or v.exit_code != expected_exit(program) \
                    or v.key not in evidence:
                continue
            for phase in (*TRANSFER_PHASES, "execute"):
                r = v.ratio(phase)
                if r is not None:
                    ratios[(v.key, phase)] = (r, stated_sigma(evidence[v.key], _phase_components(
                        evidence[v.key], features, phase)))
        out[program["name"]] = ratios
    return out


def transfer_without(ratios: dict[str, dict[tuple[str, str], tuple[float, float]]],
                     left_out: str | None, profile_id: str) -> StartupTransfer:
    """The start-up transfer and the execution spread measured on every program but
    ``left_out``, from the predictions of profile ``profile_id``."""
    pooled: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    execution: dict[str, dict[str, float]] = {}
    for name, found in ratios.items():
        if name == left_out:
            continue
        for key, pair in found.items():
            pooled[key].append(pair)
        execution[name] = {mode: -math.log(r) for (mode, phase), (r, _) in found.items()
                           if phase == "execute" and r > 0}
    return replace(fit_transfer(pooled, profile_id),
                   execution=fit_execution_spread(execution))


def held_out_tally(advisor: Advisor, listing: dict[str, Any], runs: dict[str, Any],
                   args: argparse.Namespace, transfer_for: Callable[[str], StartupTransfer]
                   ) -> Tally:
    """Every program of ``runs`` judged, predicted with ``transfer_for(its name)`` (a
    transfer measured without it) in place of the shipped one; nothing printed."""
    tally = Tally()
    with contextlib.redirect_stdout(io.StringIO()):  # each program was printed above
        for program in listing["programs"]:
            if program["name"] not in runs:
                continue
            held_out = advisor_with(advisor, transfer_for(program["name"]))
            report = replayed(held_out, base_workload(args.corpus, program),
                              runs[program["name"]], not args.no_pace)
            judge_program(program, args.corpus / program["module"], report, held_out, tally,
                          "")
    return tally


def leave_one_out_pass(advisor: Advisor, listing: dict[str, Any], runs: dict[str, Any],
                       args: argparse.Namespace,
                       ratios: dict[str, dict[tuple[str, str], tuple[float, float]]]
                       ) -> dict[str, float]:
    """Every program judged again, predicted with the start-up transfer measured on the
    other programs only: the figures a program never seen would get."""
    tally = held_out_tally(advisor, listing, runs, args, lambda name: transfer_without(
        ratios, name, advisor.profile.id))
    print(f"\nleave one program out: each of the {len(ratios)} programs predicted with the "
          f"start-up transfer and execution spread measured on the other {len(ratios) - 1} "
          f"(models/startup-transfer.json is measured on all of them):")
    return print_shares(tally)


def current_commit() -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "unknown"


def _profile_label(profile: Any) -> str:
    """Which profile, when and on what: the same text wherever the file is written (its
    provenance says "here" or "elsewhere" of the machine that reads it)."""
    m = profile.machine
    return (f"{profile.kind} profile {profile.id}, {profile.created:%Y-%m-%d %H:%M} UTC, "
            f"measured on {m.cpu_model}, {m.cores} cores, host {m.hostname}")


def write_transfer(path: Path, ratios: dict[str, dict[tuple[str, str], tuple[float, float]]],
                   args: argparse.Namespace, advisor: Advisor) -> None:
    """The start-up transfer and execution spread measured on every program of this run,
    written to ``path``."""
    commit = current_commit()
    document = transfer_document(transfer_without(ratios, None, advisor.profile.id), {
        "measured_by": "benchmarks/accuracy.py --write-transfer",
        "run": str(args.replay) if args.replay else "this live run's results file",
        "programs": sorted(ratios), "profile": _profile_label(advisor.profile),
        "commit": commit, "model_version": MODEL_VERSION})
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"start-up transfer and execution spread of {len(ratios)} programs written to "
          f"{path}")


def missed_targets(shares: dict[str, float]) -> list[str]:
    missed = [name for name, target in TARGETS.items() if shares[name] < target]
    if shares["mean_tied_set"] > MAX_MEAN_TIED:
        missed.append("mean_tied_set")
    if not COVERAGE_RANGE[0] <= shares["coverage"] <= COVERAGE_RANGE[1]:
        missed.append("coverage")
    return missed


def write_results(folder: Path, runs: dict[str, Any], profile_path: Path | None,
                  shares: dict[str, float], held_out: dict[str, float],
                  args: argparse.Namespace) -> Path:
    """The run's measurements, its profile, its figures and the commit, in one file."""
    commit = current_commit()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"accuracy-{stamp}.json"
    path.write_text(json.dumps({
        "commit": commit, "created": stamp, "corpus": str(args.corpus),
        "options": {"repeats": args.repeats, "rounds": args.rounds, "pace": not args.no_pace,
                    "calibrate": args.calibrate, "runtime": args.runtime},
        "profile": str(profile_path) if profile_path else args.profile,
        "figures": shares, "figures_leave_one_program_out": held_out,
        "measurements": runs}, indent=1))
    return path


def parse_arguments() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2,
                        help="verify's rounds of warm runs, taken in turn across the modes")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--iwasm", action="append", default=[])
    parser.add_argument("--wamrc")
    parser.add_argument("--libiwasm", action="append", default=[],
                        help="a WAMR libiwasm.so for the in-process modes (repeatable)")
    parser.add_argument("--profile")
    parser.add_argument("--calibrate", choices=("quick", "full"),
                        help="calibrate here first and predict from that profile")
    parser.add_argument("--runtime", action="append")
    parser.add_argument("--save", type=Path, help="write the measurements to this JSON file")
    parser.add_argument("--replay", type=Path, help="score a saved run instead of running")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results",
                        help="where a live run writes its measurements, profile and figures")
    parser.add_argument("--write-transfer", type=Path,
                        help="write the start-up transfer measured on these programs "
                        "(models/startup-transfer.json)")
    parser.add_argument("--no-pace", action="store_true",
                        help="do not scale the predictions by the machine's pace against "
                        "the profile's")
    return parser, parser.parse_args()


def calibrated_advisor(args: argparse.Namespace) -> tuple[Advisor, Path]:
    """An advisor on a profile calibrated here now, and where that profile was saved."""
    t0 = time.monotonic()
    fresh = calibrate(args.calibrate, iwasm=args.iwasm, wamrc=args.wamrc,
                      libiwasm=args.libiwasm, save=False)
    print(f"calibrated ({args.calibrate}) in {time.monotonic() - t0:.0f} s")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results.mkdir(parents=True, exist_ok=True)
    profile_path = fresh.save(args.results / f"accuracy-{stamp}.profile.json")
    if args.save:  # beside the measurements, to replay them against it later
        print(f"profile saved to {fresh.save(args.save.with_suffix('.profile.json'))}")
    return Advisor(fresh), profile_path


def program_report(advisor: Advisor, program: dict[str, Any], args: argparse.Namespace,
                   saved: dict[str, Any]) -> VerifyReport | None:
    """One corpus program measured (or its saved run replayed); None: not in the replay."""
    base = base_workload(args.corpus, program)
    if not args.replay:
        return advisor.verify(
            base, argv=program.get("argv", []), workdir=args.corpus / program["workdir"],
            repeats=args.repeats, rounds=args.rounds, timeout_s=args.timeout,
            modes=args.runtime, iwasm=args.iwasm, wamrc=args.wamrc, libiwasm=args.libiwasm,
            expect_exit=expected_exit(program),
            **({"pace_profile": None} if args.no_pace else {}))
    if program["name"] not in saved:
        print(f"\n{program['name']}: not in {args.replay}")
        return None
    return replayed(advisor, base, saved[program["name"]], not args.no_pace)


def saved_run(report: VerifyReport, machine: str | None) -> dict[str, Any]:
    """What a run measured, on which machine (its id), as ``--save`` writes it and
    ``--replay`` reads it."""
    return {"machine": machine,
            "instructions": report.instructions, "block_scan_ops": report.block_scan_ops,
            "mix": report.counted.get("mix"),
            "ran_code_bytes": report.counted.get("ran_code_bytes"),
            "pace": [r.to_dict() for r in report.pace],
            "modes": [{"key": v.key, "binding": v.binding, "exit_code": v.exit_code,
                       "failure": v.failure, "measured_ns": v.measured_ns,
                       "measured_spread_ns": v.measured_spread_ns} for v in report.modes]}


def judge_program(program: dict[str, Any], module: Path, report: VerifyReport,
                  advisor: Advisor, tally: Tally, took: str) -> None:
    """One program's modes that ran correctly, judged phase by phase, by their ranking and
    by the top choice of every preset; ``took``: how long its runs took, for the heading."""
    expect = expected_exit(program)
    ok = [v for v in report.modes if v.failure is None and v.exit_code == expect]
    failed = [f"{v.key} ({v.failure or f'exited with status {v.exit_code}, expected {expect}'})"
              for v in report.modes if v not in ok]
    print(f"\n{program['name']}: {report.instructions or 0:,} instructions, "
          f"{len(ok)}/{len(report.modes)} modes ran correctly{took}"
          + (f"; failed: {', '.join(failed)}" if failed else "")
          + (f"; pace against the profile's: compile {report.pace_factors['compile']:.2f}, "
             f"execute {report.pace_factors['execute']:.2f}" if report.pace_factors else ""))
    evidence = {e.coefficients.key: e for e in advisor.evidence}
    features = with_counted(WorkloadFeatures.from_workload(report.workload), report.counted)
    judge_phases(ok, evidence, features, tally)
    judge_ranking_of(ok, evidence, features, tally)
    if ok and report.instructions is not None:
        judge_choices(module, report, ok, advisor, tally)


def main() -> int:
    parser, args = parse_arguments()
    listing = json.loads((args.corpus / "corpus.json").read_text())
    if args.calibrate and (args.profile or args.replay):
        parser.error("--calibrate makes the profile: give neither --profile nor --replay")
    profile_path: Path | None = None
    if args.calibrate:
        advisor, profile_path = calibrated_advisor(args)
    else:
        advisor = Advisor(args.profile)
    print(f"profile: {advisor.profile.provenance}")
    tally = Tally()
    started = time.monotonic()
    saved: dict[str, Any] = json.loads(args.replay.read_text()) if args.replay else {}
    saved = saved.get("measurements", saved)  # a results file holds its run's measurements
    runs: dict[str, dict[str, Any]] = {}
    for program in listing["programs"]:
        t0 = time.monotonic()
        report = program_report(advisor, program, args, saved)
        if report is None:
            continue
        runs[program["name"]] = saved_run(
            report, saved[program["name"]].get("machine") if args.replay else this_machine().id)
        if args.save:  # after every program: a run stopped part-way keeps what it measured
            args.save.write_text(json.dumps(runs, indent=1))
        took = "" if args.replay else f" in {time.monotonic() - t0:.0f} s"
        judge_program(program, args.corpus / program["module"], report, advisor, tally, took)

    shares = summarize(tally, time.monotonic() - started)
    judged = shares
    if args.save:
        args.save.write_text(json.dumps(runs, indent=1))
        print(f"measurements saved to {args.save}")
    if len(runs) > MIN_PROGRAMS:  # the start-up transfer is measured on the corpus
        ratios = startup_ratios(advisor, listing, runs, args)
        judged = leave_one_out_pass(advisor, listing, runs, args, ratios)
        if args.write_transfer:
            write_transfer(args.write_transfer, ratios, args, advisor)
    if not args.replay:
        print(f"results written to "
              f"{write_results(args.results, runs, profile_path, shares, judged, args)}")
    missed = missed_targets(judged)
    print("targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
