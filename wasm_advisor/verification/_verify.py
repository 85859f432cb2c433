"""``verify``: run the user's real module on every runtime/mode here, next to the prediction.

For each runtime/mode measured on this machine, a worker process runs:

1. the real module once from its bytes (a *cold* run: compile, instantiate, run);
2. the real module again from its compiled form, after one warm-up (*warm* runs:
   a serialized module for Wasmtime, the SDK's compile cache for Wasmer, the
   ``.aot`` artifact for WAMR AOT): at least ``repeats`` times, and more, up to
   25, while they fit in ``warm_budget_s`` (2 s), so that a short program's
   median is steady against the noise of starting a process or a sandbox; these are
   shared out over ``rounds`` (2) rounds, each in a worker of its own, taken in turn
   across the modes and in reversed order every other round, so that a drift in the
   machine's pace over the minutes a module's verification takes falls on every mode
   alike;
3. where the binding cannot time execution on its own, each warm run is paired
   with a warm run of the same module with ``_start`` emptied, taken in turn
   (a change in the machine's pace falls on both alike); then five runs of the
   calibration's empty module (the binding's start-up and teardown), each beside
   another run of the emptied module, started the same way.

Untrusted modules run under limits: a wall-time limit (Wasmtime: epoch
interruption for the cold run; the warm runs, once it has ended within the limit,
are timed without the epoch checks, which slowed fib2's execution by half, as the
calibration times its kernels, and the worker's own limit stays; Wasmer: the SDK's
timeout; iwasm: the process is killed), a
memory cap (Wasmtime: on linear memory; iwasm: the process is killed once its
resident memory passes the limit plus 32 MiB for iwasm itself), and the
worker's memory limit (its process tree is killed; the only cap for Wasmer,
whose SDK has none). A limit hit is reported, never a hang.

Phases measured, by binding: Wasmtime reports compile, load, instantiate and
run directly (compile from three compiles of the hollow copy alone, with the
mode's default engine, as calibrated: the runs use epoch interruption for the
time limit, which compiles slower); instantiate is the steady state, timed on
repeat instances right after the first one (a module's first instance also pays
the engine's one-off set-up, which the model counts per module load and the warm
total includes).
Through wasmer-sdk, compile is the cold run minus a warm run; through the iwasm
CLI, compile is ``wamrc`` (AOT). Through both, execution is a warm run minus a
warm run of the same module with ``_start`` emptied (:mod:`.hollow_module`),
which loads, instantiates, sets up WASI and tears down alike: for WAMR's
interpreters that removes loading and preparing the code, for its LLVM JIT what
it compiles before the first instruction. Through the iwasm CLI, that hollow run
minus a run of the empty module is what the module's code costs before its first
instruction: the *load* of the ``.aot`` artifact, or the interpreters' loading and
preparing and the LLVM JIT's compiling, reported as *compile*.
The number of instructions executed is counted with Wasmtime's fuel, so the
prediction uses the module's real work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..calibration import pace_factors
from ..errors import AdvisorError
from ..harness import WorkerLimits, run_worker
from ..model import (
    ModeEvidence,
    WorkloadFeatures,
    block_scan_ns_per_op,
    predict_costs,
)
from ..wasm import CLASSES
from ._measured import fill_measured
from ._report import ModeVerification, VerifyReport
from ._rounds import Rounds, run_spec, worker_memory
from ._summary import PHASES, TOLERANCE
from .tasks import TASKS_MODULE

if TYPE_CHECKING:

    from ..profiles import Profile
    from ..workload import Workload

__all__ = ["PHASES", "predicted_phases",
           "run_verification"]


def with_counted(features: WorkloadFeatures, counted: dict[str, Any]) -> WorkloadFeatures:
    """``features`` with what a module's counting copy counted (see
    :attr:`VerifyReport.counted`): its block-end scans, the code of the functions that
    ran, its SIMD instructions, and the compute kind its instruction mix shows."""
    if counted.get("block_scan_ops") is not None:
        features = features.with_value("block_scan_ops_per_request",
                                       float(counted["block_scan_ops"]))
    if counted.get("ran_code_bytes") is not None:
        features = replace(features, ran_code_bytes=float(counted["ran_code_bytes"]))
    mix = counted.get("mix")
    if mix is not None:
        features = features.with_value("simd_instructions_per_request",
                                       float(mix.get("simd", 0)))
        kind = compute_kind_of(mix)
        if kind is not None:
            features = replace(features, compute_kind=kind)
        total = features.compute_instructions_per_request or sum(mix.values())
        if total > 0 and set(mix) >= set(CLASSES):
            features = replace(features, instruction_mix=tuple(
                float(mix[c]) / total for c in CLASSES))
    return features


KIND_SHARE = 0.1  # a tenth of the instructions: enough to call the code float or call-heavy


def compute_kind_of(mix: dict[str, int]) -> str | None:
    """The compute kind a module's counted instruction mix shows: ``float`` where a tenth
    of its instructions are floating-point, ``call-heavy`` where a tenth are calls, else
    ``mixed``. None for a mix without those classes (an older saved count).

    A preset's kind is a guess about a module not yet seen; once its counting copy has
    run, what it executes decides (a parser with no floating-point instruction is not
    float compute, whatever the preset).
    """
    total = sum(mix.values())
    if not total or "float" not in mix or "call" not in mix:
        return None
    if mix["float"] >= KIND_SHARE * total:
        return "float"
    if mix["call"] + mix.get("call_indirect", 0) >= KIND_SHARE * total:
        return "call-heavy"
    return "mixed"


def _diagnose(v: ModeVerification, kind: str, declared: dict[str, float],
              scan_ns: float = 0.0) -> list[str]:
    """What was mispredicted, for each phase more than :data:`TOLERANCE` off.

    ``scan_ns``: the part of the predicted execution that is block-end scans (WAMR's
    classic interpreter), named when it is a large part of a miss.
    """
    out = []
    for phase in PHASES:
        r = v.ratio(phase)
        if r is None or 1 / TOLERANCE <= r <= TOLERANCE:
            continue
        factor = 1 / r if r < 1 else r
        direction = "slower" if r < 1 else "faster"
        if phase == "execute":
            out.append(f"execution {factor:.1f}× {direction} than predicted: "
                       f"{_execution_blame(v, r, kind, declared, scan_ns)}")
        elif phase == "total":
            out.append(f"a whole run {factor:.1f}× {direction} than predicted (start-up, "
                       "loading or compiling, and execution together)")
        elif phase in ("compile", "load"):
            out.append(f"{phase} {factor:.1f}× {direction} than predicted: this module's code "
                       f"{'compiles' if phase == 'compile' else 'loads'} at a different rate "
                       "per byte than the calibration's code family")
        else:
            out.append(f"instantiation {factor:.1f}× {direction} than predicted: initial memory "
                       "or data segments cost differently than calibrated")
    return out


def _execution_blame(v: ModeVerification, r: float, kind: str, declared: dict[str, float],
                     scan_ns: float) -> str:
    """What a missed execution is put down to (``r``: measured over predicted), and what
    in the workload to revisit."""
    blame = (f"compute per instruction ({kind}) underestimated" if r < 1
             else f"compute per instruction ({kind}) overestimated")
    hints = []
    if r < 1 and not declared.get("touched"):
        hints.append("memory.touched_bytes_per_request is 0: if the module walks "
                     "memory, declare it")
    if r < 1 and not declared.get("host_calls"):
        hints.append("work.host_calls_per_request is 0: declare its host calls")
    predicted = v.predicted_ns.get("execute", 0.0)
    if predicted and scan_ns >= 0.25 * predicted:
        hints.append(f"{scan_ns / predicted:.0%} of the prediction is this engine's "
                     "scans for block ends, whose cost per instruction scanned "
                     "depends on the code scanned")
    hint = f" ({'; '.join(hints)})" if hints else \
        " (revisit work.compute_kind, memory.access_pattern)"
    return f"{blame}{hint}"


def _count_instructions(spec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The instructions a run (``spec``, :func:`.run_spec`) executes (Wasmtime fuel), and
    from a run of the module's counting copy (:mod:`.instruction_mix`) their mix and WAMR's
    classic interpreter's block-end scans; or why they could not be counted."""
    outcome = run_worker(
        {"runtime": "wasmtime", "mode": "cranelift", "tasks_modules": [TASKS_MODULE],
         "tasks": [{"id": "count", "kind": "count", **spec}]},
        WorkerLimits(task_timeout_s=2 * spec["timeout_s"] + 30,
                     memory_bytes=worker_memory(spec["memory_limit_bytes"])))
    record = outcome.results.get("count")
    if record is None:
        return None, outcome.failures.get("count", "the counting run failed")
    if not record.get("ok"):
        return None, str(record.get("reason"))
    return record, None


def run_verification(
    workload: Workload,
    evidence: list[ModeEvidence],
    provenance: list[str],
    *,
    argv: Sequence[str] = (),
    workdir: str | Path | None = None,
    env: Sequence[tuple[str, str]] = (),
    repeats: int = 3,
    warm_budget_s: float = 2.0,
    rounds: int = 2,
    timeout_s: float = 60.0,
    memory_limit_bytes: int = 2 << 30,
    modes: Sequence[str] | None = None,
    iwasm: Sequence[str] = (),
    wamrc: str | None = None,
    libiwasm: Sequence[str] = (),
    progress: Callable[[str, str], None] | None = None,
    pace_profile: Profile | None = None,
    expect_exit: int = 0,
    unavailable: dict[str, str] | None = None,
) -> VerifyReport:
    """Run ``workload``'s module on each measured runtime/mode and compare with predictions.

    ``repeats`` warm runs at least, and ``warm_budget_s`` per mode for more, are shared
    out over ``rounds`` rounds taken in turn across the modes (one worker process each),
    in reversed order every other round: a mode measured minutes after another is not
    then read at another pace of the machine. ``pace_profile``: a profile measured here
    with pace readings (:mod:`.calibration.pace`); the machine's pace is read before each
    round and after the last, and the predictions of the modes that profile measured are
    scaled by its ratio to the profile's, so that a change in the machine's pace since the
    calibration is not counted as the model's error (a mode from another profile, made at
    another time, is left unscaled). ``expect_exit``: the exit status the program's correct
    result is (a SAT solver's 20): a run ending with it is measured like any other, and one
    ending with another status is a failure that says which. ``unavailable``: the
    runtimes the profile has no figures for, with why (``Advisor.unavailable``), listed
    in the report as not run.
    """
    module_path = _module_to_run(workload, workdir, expect_exit)
    spec = run_spec(module_path, list(argv),
                    str(Path(workdir).resolve()) if workdir is not None else None,
                    [list(kv) for kv in env], timeout_s, memory_limit_bytes, expect_exit)
    counted, count_error = _count_instructions(spec)
    report = _counted_report(workload, provenance, counted, count_error, expect_exit)
    features = _counted_features(workload, report.instructions, counted or {})
    todo = _modes_to_run(report, evidence, modes, unavailable or {},
                         frozenset({"wamr"} if iwasm or libiwasm else ()))
    # the modes whose predictions come from the profile the pace is compared with
    paced_modes = {e.coefficients.key for e in todo
                   if pace_profile is not None and e.provenance == pace_profile.provenance}
    runs = Rounds(todo, spec, {"iwasm": list(iwasm), "wamrc": wamrc, "libiwasm": list(libiwasm)},
                  report.skipped, report.pace, bool(paced_modes), progress,
                  repeats, warm_budget_s, rounds)
    runs.run_all()
    if paced_modes and runs.records:
        assert pace_profile is not None
        report.pace_factors = pace_factors(pace_profile, report.pace)
    _report_modes(report, runs, features, paced_modes, progress)
    return report


def _module_to_run(workload: Workload, workdir: str | Path | None, expect_exit: int) -> Path:
    """The path of ``workload``'s module, once it, the directory to give it and the exit
    status its correct result is are checked."""
    path = workload.module.path
    if path is None:
        raise AdvisorError("module.path: verify runs a real module; build the workload with "
                           "Workload.from_module(path) or give module.path")
    module_path = Path(path)
    if isinstance(expect_exit, bool) or not isinstance(expect_exit, int) or \
            not 0 <= expect_exit <= 255:
        raise AdvisorError(f"expect_exit: {expect_exit!r} is not an exit status; give a whole "
                           "number from 0 to 255")
    if not module_path.is_file():
        raise AdvisorError(f"{module_path}: no such module")
    if workdir is not None and not Path(workdir).is_dir():
        raise AdvisorError(f"{workdir}: the directory to give the module (--dir, workdir) "
                           "does not exist or is not a directory")
    return module_path


def _counted_report(workload: Workload, provenance: list[str], counted: dict[str, Any] | None,
                    count_error: str | None, expect_exit: int) -> VerifyReport:
    """A report with no mode yet: the instructions counted, what the counting copy
    counted, or why either could not be counted."""
    instructions = int(counted["fuel"]) if counted else None
    report = VerifyReport(workload, instructions, [], provenance, expect_exit=expect_exit)
    if count_error:
        report.skipped["instruction count"] = count_error
    elif counted is not None:
        report.counted = {k: v for k, v in counted.items() if k not in ("ok", "fuel")}
        if "mix_error" in counted:
            report.skipped["instruction mix"] = counted["mix_error"]
    return report


def _counted_features(workload: Workload, instructions: int | None,
                      counted: dict[str, Any]) -> WorkloadFeatures:
    """``workload``'s features, with the instructions a run executes and what the
    counting copy counted (:func:`with_counted`) in place of the declared ones."""
    features = WorkloadFeatures.from_workload(workload)
    if instructions is not None:
        features = features.with_value("compute_instructions_per_request", float(instructions))
    return with_counted(features, counted)


def _modes_to_run(report: VerifyReport, evidence: list[ModeEvidence],
                  modes: Sequence[str] | None, unavailable: dict[str, str],
                  given: frozenset[str] = frozenset()) -> list[ModeEvidence]:
    """The modes asked for (``modes``, runtimes or ``runtime:mode`` keys; all when none)
    that were measured here, or whose profile was and whose runtime's binaries are
    ``given`` by hand (WAMR's, by ``iwasm``/``libiwasm``); those that cannot run go to
    ``report.skipped``, with why."""
    _skip_unprofiled(report.skipped, evidence, modes, unavailable)
    todo = []
    for e in evidence:
        key = e.coefficients.key
        if modes and key not in modes and e.coefficients.runtime not in modes:
            continue
        if not (e.measured_here or (e.profile_here and e.coefficients.runtime in given)):
            report.skipped[key] = "measured elsewhere: it cannot be run here"
            continue
        todo.append(e)
    return todo


def _skip_unprofiled(skipped: dict[str, str], evidence: list[ModeEvidence],
                     modes: Sequence[str] | None, unavailable: dict[str, str]) -> None:
    """The runtimes the profile has no figures for (``unavailable``), and the modes asked
    for that it lacks, added to ``skipped`` with why."""
    for runtime, why in unavailable.items():
        if not modes or any(m.split(":")[0] == runtime for m in modes):
            skipped[runtime] = f"not in the profile: {why}"
    known = {e.coefficients.key for e in evidence} | {e.coefficients.runtime for e in evidence}
    for asked in modes or ():
        if asked not in known and asked.split(":")[0] not in skipped:
            skipped[asked] = ("not in the profile predicted from, whose modes are "
                                     + ", ".join(sorted(e.coefficients.key for e in evidence)))


def _report_modes(report: VerifyReport, runs: Rounds, features: WorkloadFeatures,
                  paced_modes: set[str], progress: Callable[[str, str], None] | None) -> None:
    """Each mode the rounds ran or failed, in their order, added to ``report`` (with its
    predictions scaled by the machine's pace where in ``paced_modes``) and said done."""
    for e in runs.todo:
        key = e.coefficients.key
        if key not in runs.records and key not in runs.failures:
            continue  # not available here
        v = _mode_verified(e, runs, features,
                           report.pace_factors if key in paced_modes else None)
        report.modes.append(v)
        if progress:
            progress(key, v.failure or "done")


def _mode_verified(e: ModeEvidence, runs: Rounds, features: WorkloadFeatures,
                   pace: dict[str, float] | None) -> ModeVerification:
    """One mode the rounds ran: why it could not run, or its measured phases from its record beside
    the predicted ones (scaled by the machine's ``pace``), and what was mispredicted."""
    key = e.coefficients.key
    v = ModeVerification(key=key, binding=e.coefficients.binding)
    if key in runs.failures:
        reason = runs.failures[key]
        v.failure = f"could not run: {reason}"
        v.limit_hit = "memory" if "memory limit" in str(reason) else (
            "time" if "timed out" in str(reason) else None)
        return v
    record = runs.records[key]
    fill_measured(v, record, compiles_as_it_runs=e.coefficients.jit and
          e.coefficients.binding == "iwasm CLI", expect_exit=runs.spec["expect_exit"])
    v.notes += record.get("round_notes", [])
    v.predicted_ns = predicted_phases(e, features, pace)
    if "load" not in v.measured_ns:
        v.predicted_ns.pop("load", None)
    if v.failure is None:
        scan = block_scan_ns_per_op(e.coefficients)
        declared = {"touched": features.touched_bytes_per_request,
                    "host_calls": features.host_calls_per_request}
        v.diagnosis = _diagnose(v, features.compute_kind, declared, (
            scan.value * features.block_scan_ops_per_request if scan else 0.0))
    return v


def predicted_phases(e: ModeEvidence, features: WorkloadFeatures,
                     pace: dict[str, float] | None = None) -> dict[str, float]:
    """What the model predicts for each phase ``verify`` measures, for one runtime/mode;
    ``pace``: the machine's pace against the profile's (:func:`.calibration.pace.pace_factors`),
    by which the start-up phases (``compile``) and execution (``execute``) are scaled."""
    starting, executing = (pace["compile"], pace["execute"]) if pace else (1.0, 1.0)
    prediction = predict_costs(e.coefficients, features)
    compile_part = prediction.phase_ns("compile")
    # what a run pays once per module beyond its compile or load, in no phase of its own:
    # the engine's set-up of the module at its first instance, and a lazy JIT's compiling
    # of the code that runs
    first_instance = sum(c.value for c in prediction.per_module_load if c.kind.phase is None)
    execute = prediction.phase_ns("execute")
    start = sum(c.value for c in prediction.per_instance)
    binding = e.coefficients.binding
    # a warm run loads the compiled module where the binding keeps one, else compiles;
    # either way it is the module's first instance in that engine
    keeps_artifact = binding == "wasmtime-py" or e.coefficients.precompiled_mode
    warm_load = _load_prediction(e, features)
    return {
        "compile": compile_part * starting,
        "load": (warm_load or prediction.phase_ns("load")) * starting,
        "instantiate": prediction.phase_ns("instantiate") * starting,
        "execute": execute * executing,
        "total": (start + first_instance + (
            warm_load if keeps_artifact else 0.0 if binding == "wasmer-sdk" else compile_part)
        ) * starting + execute * executing,
    }


def _load_prediction(e: ModeEvidence, features: WorkloadFeatures) -> float:
    """The predicted load of the precompiled artifact (0 where the mode has no such figure)."""
    warm = predict_costs(e.coefficients, replace(features, precompiled=True))
    return warm.phase_ns("load")
