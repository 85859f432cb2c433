"""Turn one mode's worker results into profile figures, feature results and failures.

Figures and their sources (``params["source"]`` says which was used):

- ``<kernel>_ns_per_iter``: slope of in-guest time against iterations; a kernel
  run in several instances (the memory kernels) keeps the instance with the
  median slope, and lists every instance's slope in ``params``.
- ``compile_ns_per_code_byte``: slope of the host-timed compile phase against code
  bytes; where the binding has no compile phase, of the whole run's wall time
  (iwasm) or of the time to first instruction (wasmer-sdk), and the intercept then
  holds the binding's fixed cost.
- ``compile_local_ns_per_code_byte``: the same over the same code with no function
  but the first reachable from outside it (its table's every slot holds that one).
- ``compile_ns_per_escaping_function``: what each function a table or an export
  reaches adds to compiling (Wasmtime compiles an entry point for each): the slope
  of the two families' difference, size by size, against the number of such
  functions the tabled code has beyond the other.
- ``load_ns_per_code_byte``: the same for loading a precompiled artifact.
- ``run_compile_ns_per_code_byte``: for a mode that compiles a function when it is
  first called (WAMR's LLVM JIT), the same slope over a code family whose ``_start``
  calls every function once: what the code that runs costs, compiling included.
- ``instantiate_ns_per_page`` and ``instantiate_ns_per_data_byte``: slopes over
  the instantiation families; where the binding times repeat instances
  (``instantiate_again``), of the steady-state instantiation.
- ``instantiate_code_ns``: the median steady-state instantiation over the code
  family, whose modules have functions, a table and a mutable global like every
  compiled program (the empty module has none of them); flat with the code's size.
- ``first_instance_ns_per_code_byte`` (with its intercept) and
  ``first_instance_ns_per_data_byte``: what a module's first instance costs
  beyond the steady state (the engine's lazy per-module set-up), over the code
  and data families.
- ``instantiate_ns``, ``ttfi_ns``, ``binding_ns``: medians for the empty module
  (steady-state instantiation where the binding exposes it; time from handing over
  the bytes to the guest's first instruction; the part of the time to first
  instruction outside the engine phases the binding reports, per run).
- ``rss_first_instance_bytes``, ``rss_per_extra_instance_bytes``: memory; and
  ``rss_runtime_bytes``, the runtime's init alone, where the binding reads it apart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from ..harness import fit_slope, median_spread
from ..profiles import FeatureResult, Figure, MeasurementFailure
from ..runtimes.base import Mode
from ..wasm import read_module_bytes
from . import kernels

__all__ = ["BINDING_NOTES", "analyse_mode"]

BINDING_NOTES = {
    "wasmer-sdk": "through wasmer-sdk: includes the WASIX sandbox's per-run overhead",
    "iwasm CLI": "through the iwasm CLI: includes starting an iwasm process",
    "libiwasm (in-process)": "through libiwasm in the worker's process (ctypes over "
                             "wasm_export.h): no process start",
    "wasmtime-py": "",
}


FIRST_INSTANCE_EXTRA = "first instance extra"  # instantiate - instantiate_again


@cache
def _code_bytes(size: int) -> int:
    return read_module_bytes(kernels.code_size_module(size)).code_bytes


@cache
def _escaping_functions(size: int, tabled: bool) -> int:
    """Functions of the code family's module a table or an export makes reachable."""
    info = read_module_bytes(kernels.code_size_module(size, tabled=tabled))
    return info.escaping_functions or 0


def _run_code_bytes(size: int) -> int:
    return read_module_bytes(kernels.code_size_module(size, run_all=True)).code_bytes


def _note(mode: Mode, extra: str = "") -> str:
    parts = [BINDING_NOTES.get(mode.binding, ""), mode.notes, extra]
    return "; ".join(p for p in parts if p)


def _binding_overhead(run: dict[str, Any]) -> float | None:
    """Time to first instruction not spent in the engine phases the binding reports.

    For one run of the empty module: ``ttfi - (compile or load) - instantiate``,
    i.e. what the binding itself does before the guest starts (Python, WASI
    setup, a sandbox, a process). ``None`` when the binding reports no phases.
    """
    ttfi, phases = run.get("ttfi_ns"), run.get("phases_ns") or {}
    engine = [float(phases[p]) for p in ("compile", "load", "instantiate") if p in phases]
    if ttfi is None or not engine:
        return None
    return max(0.0, float(ttfi) - sum(engine))


def analyse_mode(
    mode: Mode, results: dict[str, dict[str, Any]], failures: dict[str, str],
    instructions_per_iter: Callable[[str], int | None] = lambda k: None,
    scan_ops_per_iter: Callable[[str], float | None] = lambda k: None,
    simd_ops_per_iter: Callable[[str], float | None] = lambda k: None,
) -> tuple[list[Figure], list[FeatureResult], list[MeasurementFailure]]:
    figures: list[Figure] = []
    features: list[FeatureResult] = []
    failed = [MeasurementFailure(runtime=mode.runtime, mode=mode.name, task=t, reason=r)
              for t, r in failures.items()]

    def figure(metric: str, kernel: str, unit: str, value: float, spread: float, runs: int,
               intercept: float | None = None, note: str = "",
               params: dict[str, float | int | str] | None = None,
               samples: list[tuple[float, float]] | None = None) -> None:
        figures.append(Figure(runtime=mode.runtime, mode=mode.name, binding=mode.binding,
                              metric=metric, kernel=kernel, unit=unit, value=value,
                              spread=spread, runs=runs, intercept=intercept,
                              params=params or {}, note=_note(mode, note),
                              samples=samples or []))

    ok = {}
    for task_id, record in results.items():
        if record.get("ok"):
            ok[task_id] = record
        else:
            failed.append(MeasurementFailure(runtime=mode.runtime, mode=mode.name, task=task_id,
                                             reason=str(record.get("reason", "failed"))))

    # guest-timed kernels
    for task_id, record in ok.items():
        if not task_id.startswith("guest:"):
            continue
        name = task_id.split(":", 1)[1]
        kernel = kernels.GUEST_KERNELS[name]
        try:
            # several instances: the one with the median slope (where an instance's pages
            # land can move memory kernels by 2x, in a VM most of all)
            runs = [[(float(n), float(ns)) for n, ns in run]
                    for run in record.get("instances") or [record["samples"]]]
            fits = sorted(((fit_slope(run), run) for run in runs),
                          key=lambda fit_points: fit_points[0].slope)
        except ValueError as e:
            failed.append(MeasurementFailure(runtime=mode.runtime, mode=mode.name,
                                             task=task_id, reason=str(e)))
            continue
        fit, points = fits[(len(fits) - 1) // 2]
        params: dict[str, float | int | str] = {"iteration": kernel.unit,
                                                 "largest_n": int(max(fit.sizes))}
        if len(fits) > 1:
            params["instances"] = len(fits)
            params["instance_slopes"] = ", ".join(f"{f.slope:.4g}" for f, _ in fits)
        per_iter = instructions_per_iter(name)
        if per_iter:
            params["instructions_per_iter"] = per_iter
        scanned = scan_ops_per_iter(name)
        if scanned is not None:
            params["scan_ops_per_iter"] = scanned
        simd = simd_ops_per_iter(name)
        if simd:
            params["simd_ops_per_iter"] = simd
        figure(f"{name}_ns_per_iter", name, "ns/iteration", fit.slope, fit.spread, fit.runs,
               fit.intercept, params=params, samples=points)

    # host-timed families
    def family(name: str) -> list[tuple[int, dict[str, Any]]]:
        out: list[tuple[int, dict[str, Any]]] = []
        for task_id, record in ok.items():
            parts = task_id.split(":")
            if parts[0] == "host" and parts[1] == name:
                out.extend((int(parts[2]), run) for run in record["runs"])
        return out

    def value_of(run: dict[str, Any], phase: str | None) -> float | None:
        if phase == FIRST_INSTANCE_EXTRA:
            first, again = (run["phases_ns"].get(p) for p in ("instantiate",
                                                               "instantiate_again"))
            return float(first - again) if first is not None and again is not None else None
        if phase == "wall":
            return float(run["wall_ns"]) if run.get("wall_ns") is not None else None
        if phase is not None:
            v = run["phases_ns"].get(phase)
            return float(v) if v is not None else None
        return float(run["ttfi_ns"]) if run.get("ttfi_ns") is not None else None

    def slope(metric: str, fam: str, phase: str | None, unit: str, x: Callable[[int], float],
              kernel: str) -> None:
        points = [(x(size), v) for size, run in family(fam)
                  if (v := value_of(run, phase)) is not None]
        if len({p for p, _ in points}) < 2:
            return
        fit = fit_slope(points)
        figure(metric, kernel, unit, fit.slope, fit.spread, fit.runs, fit.intercept,
               params={"source": phase or "ttfi",
                       "sizes": ",".join(str(int(s)) for s in fit.sizes)}, samples=points)

    def entry_points(phase: str | None) -> None:
        # each size's runs of the two families in turn: the difference against the number
        # of functions reachable from outside that the tabled code has beyond the other
        def by_size(fam: str) -> dict[int, list[float]]:
            values: dict[int, list[float]] = {}
            for size, run in family(fam):
                if (v := value_of(run, phase)) is not None:
                    values.setdefault(size, []).append(v)
            return values

        tabled, local = by_size("code"), by_size("code-local")
        points: list[tuple[float, float]] = []
        for size in local:
            extra = _escaping_functions(size, True) - _escaping_functions(size, False)
            points += [(float(extra), t - u)
                       for t, u in zip(tabled.get(size, []), local[size], strict=False)]
        if len({x for x, _ in points}) < 2:
            return
        fit = fit_slope(points)
        figure("compile_ns_per_escaping_function", "code-local", "ns/function", fit.slope,
               fit.spread, fit.runs, fit.intercept,
               params={"source": phase or "ttfi",
                       "sizes": ",".join(str(int(s)) for s in sorted(local))}, samples=points)

    def has_phase(fam: str, phase: str) -> bool:
        runs = family(fam)
        return bool(runs) and all(phase in run["phases_ns"] for _, run in runs)

    # no compile phase: through iwasm, the whole run's wall time, as verify reads a module's
    # compile there (its hollow copy's run less the empty module's: loading, preparing,
    # the LLVM JIT's compile threads until they stop, and tearing down); through other
    # bindings, the time to the first instruction
    compile_phase = "compile" if has_phase("code", "compile") else \
        "wall" if mode.binding == "iwasm CLI" else None
    if mode.precompiled:
        # an AOT mode: 'compile' is the ahead-of-time compiler, the run loads the artifact
        slope("compile_ns_per_code_byte", "code", "compile", "ns/code byte", _code_bytes, "code")
        # the artifact's load, where the binding times it (in-process WAMR); else the time
        # to first instruction (a process per run: iwasm)
        slope("load_ns_per_code_byte", "code", "load" if has_phase("code", "load") else None,
              "ns/code byte", _code_bytes, "code")
    else:
        slope("compile_ns_per_code_byte", "code", compile_phase, "ns/code byte", _code_bytes,
              "code")
        # the same code with one function reachable from outside, and what each function a
        # table or an export reaches adds (an engine may compile an entry point for each)
        slope("compile_local_ns_per_code_byte", "code-local", compile_phase, "ns/code byte",
              _code_bytes, "code-local")
        entry_points(compile_phase)
        if has_phase("code-precompiled", "load"):
            slope("load_ns_per_code_byte", "code-precompiled", "load", "ns/code byte",
                  _code_bytes, "code")
        # a mode that compiles functions when first called: the whole run of a module whose
        # every function runs once (as against the code family, where one small part runs)
        slope("run_compile_ns_per_code_byte", "code-run", compile_phase, "ns/code byte",
              _run_code_bytes, "code-run")
    # instantiation: where the binding times repeat instances, the per-instance figures are
    # the steady state, and a module's first instance pays a one-off extra (the engine's
    # lazy set-up of that module: memory image, type registration) counted per module load
    steady = has_phase("pages", "instantiate_again") and has_phase("empty", "instantiate_again")
    inst_phase = "instantiate_again" if steady else (
        "instantiate" if has_phase("pages", "instantiate") else None)
    slope("instantiate_ns_per_page", "pages", inst_phase, "ns/page", float, "pages")
    slope("instantiate_ns_per_data_byte", "data", inst_phase, "ns/byte", float, "data")
    if steady and has_phase("code", "instantiate_again"):
        # a module with code of its own: functions, a table, a mutable global, as every
        # compiled program has; its instances cost a few microseconds more than the empty
        # module's, whatever its size
        steady_code = [float(v) for _, run in family("code")
                       if (v := run["phases_ns"].get("instantiate_again")) is not None]
        median, spread = median_spread(steady_code)
        figure("instantiate_code_ns", "code", "ns", median, spread, len(steady_code),
               samples=[(0.0, v) for v in steady_code])
        slope("first_instance_ns_per_code_byte", "code", FIRST_INSTANCE_EXTRA, "ns/code byte",
              _code_bytes, "code")
    if steady and has_phase("data", "instantiate_again"):
        slope("first_instance_ns_per_data_byte", "data", FIRST_INSTANCE_EXTRA, "ns/byte",
              float, "data")

    empty = [run for _, run in family("empty")]
    picks: dict[str, Callable[[dict[str, Any]], Any]] = {
        "instantiate_ns": lambda r: r["phases_ns"].get(inst_phase or "instantiate"),
        "ttfi_ns": lambda r: r.get("ttfi_ns"),
        "binding_ns": _binding_overhead,
    }
    for metric, pick in picks.items():
        values = [float(v) for r in empty if (v := pick(r)) is not None]
        if values:
            median, spread = median_spread(values)
            figure(metric, "empty", "ns", median, spread, len(values),
                   samples=[(0.0, v) for v in values])
    artifact = [(float(_code_bytes(size)), float(run["artifact_bytes"]))
                for size, run in family("code-precompiled") + family("code")
                if run.get("artifact_bytes")]
    if len({x for x, _ in artifact}) >= 2:
        fit = fit_slope(artifact)
        figure("artifact_bytes_per_code_byte", "code", "bytes/code byte", fit.slope,
               fit.spread, fit.runs, fit.intercept, samples=artifact)

    # memory
    memory = ok.get("memory")
    if memory:
        method = str(memory.get("method", ""))
        # rss_runtime_bytes: what the runtime's own init added, where the binding reads it
        # apart (in-process WAMR: wasm_runtime_full_init); part of the first instance's figure
        for metric in ("rss_first_instance_bytes", "rss_per_extra_instance_bytes",
                       "rss_runtime_bytes"):
            if memory.get(metric.removeprefix("rss_")) is not None:
                value = float(memory[metric.removeprefix("rss_")])
                figure(metric, "memory", "bytes", value, 0.0, int(memory.get("instances", 1)),
                       note=method, samples=[(0.0, value)])

    # feature probes
    for task_id, record in ok.items():
        if task_id.startswith("probe:"):
            features.append(FeatureResult(runtime=mode.runtime, mode=mode.name,
                                          feature=task_id.split(":", 1)[1],
                                          status=record["status"], detail=record["detail"]))
    for failure in failed:
        if failure.task.startswith("probe:"):
            features.append(FeatureResult(runtime=mode.runtime, mode=mode.name,
                                          feature=failure.task.split(":", 1)[1],
                                          status="error", detail=failure.reason))
    # a kernel that needs a feature the mode's probe found unsupported (SIMD on WAMR's
    # classic interpreter) has nothing to measure there: not a failure
    lacking = {f.feature for f in features if f.status == "unsupported"}

    def needs_what_is_lacking(failure: MeasurementFailure) -> bool:
        kind, _, name = failure.task.partition(":")
        kernel = kernels.GUEST_KERNELS.get(name) if kind == "guest" else None
        return kernel is not None and kernel.feature in lacking

    failed = [f for f in failed if not needs_what_is_lacking(f)]
    return figures, features, failed
