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
- ``rss_first_instance_bytes``, ``rss_per_extra_instance_bytes``: memory; and, where
  the binding reads them apart, ``rss_runtime_bytes`` (the runtime's init alone),
  ``rss_library_bytes`` (the library's pages resident before it) and
  ``rss_module_bytes_per_code_byte`` (what a loaded module holds per byte of code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from ..harness import SlopeFit, fit_slope, median_spread
from ..profiles import COUNT_PREFIX, FeatureResult, Figure, MeasurementFailure
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


# what a host-timed run gives besides the phases the binding times ("compile", "load",
# "instantiate", "instantiate_again") and its wall time ("wall")
FIRST_INSTANCE_EXTRA = "first instance extra"  # instantiate - instantiate_again
BINDING_PART = "binding part"  # the time to first instruction less the engine phases
TTFI = "ttfi"  # the time to first instruction
ARTIFACT_BYTES = "artifact_bytes"  # the size of the artifact compiled ahead of time

Results = dict[str, dict[str, Any]]  # worker results by task id


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


def _first_instance_extra(run: dict[str, Any]) -> float | None:
    first, again = (run["phases_ns"].get(p) for p in ("instantiate", "instantiate_again"))
    return float(first - again) if first is not None and again is not None else None


def _field(name: str) -> Callable[[dict[str, Any]], float | None]:
    def read(run: dict[str, Any]) -> float | None:
        return float(run[name]) if run.get(name) is not None else None
    return read


def _artifact_bytes(run: dict[str, Any]) -> float | None:
    return float(run["artifact_bytes"]) if run.get("artifact_bytes") else None


# how a run gives each value that is not a phase the binding timed
READERS: dict[str, Callable[[dict[str, Any]], float | None]] = {
    FIRST_INSTANCE_EXTRA: _first_instance_extra,
    BINDING_PART: _binding_overhead,
    TTFI: _field("ttfi_ns"),
    "wall": _field("wall_ns"),
    ARTIFACT_BYTES: _artifact_bytes,
}


def _value(run: dict[str, Any], source: str) -> float | None:
    """What one host-timed run gives for ``source``: a phase, or one of :data:`READERS`."""
    reader = READERS.get(source)
    if reader is not None:
        return reader(run)
    value = run["phases_ns"].get(source)
    return float(value) if value is not None else None


def _family(ok: Results, name: str) -> list[tuple[int, dict[str, Any]]]:
    """Every run of host-timed family ``name``, with the size of its module."""
    out: list[tuple[int, dict[str, Any]]] = []
    for task_id, record in ok.items():
        parts = task_id.split(":")
        if parts[0] == "host" and parts[1] == name:
            out.extend((int(parts[2]), run) for run in record["runs"])
    return out


def _has_phase(ok: Results, family: str, phase: str) -> bool:
    runs = _family(ok, family)
    return bool(runs) and all(phase in run["phases_ns"] for _, run in runs)


def _sources(mode: Mode, ok: Results) -> dict[str, str]:
    """Where this mode's figures read what they measure: by what they measure, the phase
    the binding times for it, or what stands in for it where the binding times none."""
    if mode.precompiled:
        # an AOT mode: 'compile' is the ahead-of-time compiler, the run loads the artifact;
        # the artifact's load where the binding times it (in-process WAMR), else the time
        # to first instruction (a process per run: iwasm)
        compiling = "compile"
        loading = "load" if _has_phase(ok, "code", "load") else TTFI
    else:
        # no compile phase: through iwasm, the whole run's wall time, as verify reads a
        # module's compile there (its hollow copy's run less the empty module's: loading,
        # preparing, the LLVM JIT's compile threads until they stop, and tearing down);
        # through other bindings, the time to the first instruction
        compiling = "compile" if _has_phase(ok, "code", "compile") else \
            "wall" if mode.binding == "iwasm CLI" else TTFI
        loading = "load"
    # instantiation: where the binding times repeat instances, the per-instance figures are
    # the steady state, and a module's first instance pays a one-off extra (the engine's
    # lazy set-up of that module: memory image, type registration) counted per module load
    steady = _steady(ok)
    instantiating = "instantiate_again" if steady else (
        "instantiate" if _has_phase(ok, "pages", "instantiate") else TTFI)
    fixed = ("instantiate_again", FIRST_INSTANCE_EXTRA, BINDING_PART, TTFI, ARTIFACT_BYTES)
    return {"compiling": compiling, "loading": loading, "instantiating": instantiating,
            "instantiating the empty module": "instantiate_again" if steady else "instantiate",
            } | {source: source for source in fixed}


def _steady(ok: Results) -> bool:
    """Whether the binding timed repeat instances of the instantiation families."""
    return _has_phase(ok, "pages", "instantiate_again") and \
        _has_phase(ok, "empty", "instantiate_again")


class _Fitted(NamedTuple):
    """A figure's numbers: a slope and its intercept, or a median."""

    value: float
    spread: float
    runs: int
    samples: list[tuple[float, float]]
    intercept: float | None = None
    params: dict[str, float | int | str] | None = None

    @classmethod
    def slope(cls, fit: SlopeFit, points: list[tuple[float, float]],
              params: dict[str, float | int | str] | None = None) -> _Fitted:
        return cls(fit.slope, fit.spread, fit.runs, points, fit.intercept, params)


Fitter = Callable[[Results, "_Fit", str], "_Fitted | None"]


@dataclass(frozen=True)
class _Fit:
    """How one host-timed figure is made: which fit, over which family's runs, of what
    (a key of :func:`_sources`), and for which modes."""

    metric: str
    fit: Fitter
    family: str
    source: str
    unit: str
    x: Callable[[int], float] = float  # the size a module of the family is counted by
    kernel: str = ""  # the family, unless another is named
    aot: bool | None = None  # only for AOT modes (True), only for the others (False)
    needs: str | None = None  # a phase every run of the family has
    steady: bool = False  # only where the binding times repeat instances

    def applies(self, mode: Mode, ok: Results) -> bool:
        return (self.aot is None or self.aot == mode.precompiled) \
            and (self.needs is None or _has_phase(ok, self.family, self.needs)) \
            and (not self.steady or _steady(ok))


def _fitted_slope(points: list[tuple[float, float]]) -> SlopeFit | None:
    """The slope through ``points``, where they lie at two or more sizes."""
    return fit_slope(points) if len({x for x, _ in points}) >= 2 else None


def _sizes(sizes: Any) -> str:
    return ",".join(str(int(s)) for s in sizes)


def _points(ok: Results, family: str, spec: _Fit, source: str) -> list[tuple[float, float]]:
    """Each run of ``family`` that gives a value for ``source``: its module's size (as
    ``spec.x`` counts it) and that value."""
    return [(float(spec.x(size)), v) for size, run in _family(ok, family)
            if (v := _value(run, source)) is not None]


def _slope(ok: Results, spec: _Fit, source: str) -> _Fitted | None:
    """The slope of the family's values against its modules' sizes."""
    points = _points(ok, spec.family, spec, source)
    fit = _fitted_slope(points)
    if fit is None:
        return None
    return _Fitted.slope(fit, points, {"source": source, "sizes": _sizes(fit.sizes)})


def _median(ok: Results, spec: _Fit, source: str) -> _Fitted | None:
    """The median of the family's values, whatever their size."""
    values = [v for _, run in _family(ok, spec.family) if (v := _value(run, source)) is not None]
    if not values:
        return None
    median, spread = median_spread(values)
    return _Fitted(median, spread, len(values), [(0.0, v) for v in values])


def _by_size(ok: Results, family: str, source: str) -> dict[int, list[float]]:
    values: dict[int, list[float]] = {}
    for size, run in _family(ok, family):
        if (v := _value(run, source)) is not None:
            values.setdefault(size, []).append(v)
    return values


def _per_escaping_function(ok: Results, spec: _Fit, source: str) -> _Fitted | None:
    """Each size's runs of the code family and of ``spec.family`` (the same code, one
    function reachable from outside) in turn: the difference against the number of
    functions reachable from outside that the tabled code has beyond the other."""
    tabled, local = _by_size(ok, "code", source), _by_size(ok, spec.family, source)
    points: list[tuple[float, float]] = []
    for size in local:
        extra = _escaping_functions(size, True) - _escaping_functions(size, False)
        points += [(float(extra), t - u)
                   for t, u in zip(tabled.get(size, []), local[size], strict=False)]
    fit = _fitted_slope(points)
    if fit is None:
        return None
    return _Fitted.slope(fit, points, {"source": source, "sizes": _sizes(sorted(local))})


def _artifact_slope(ok: Results, spec: _Fit, source: str) -> _Fitted | None:
    """The slope over the precompiled code family's runs and ``spec.family``'s together."""
    points = _points(ok, "code-precompiled", spec, source) + _points(ok, spec.family, spec, source)
    fit = _fitted_slope(points)
    return _Fitted.slope(fit, points) if fit is not None else None


# The host-timed figures, in the order a profile lists them.
HOST_FIGURES = (
    _Fit("compile_ns_per_code_byte", _slope, "code", "compiling", "ns/code byte", _code_bytes),
    # the same code with one function reachable from outside, and what each function a
    # table or an export reaches adds (an engine may compile an entry point for each)
    _Fit("compile_local_ns_per_code_byte", _slope, "code-local", "compiling", "ns/code byte",
         _code_bytes, aot=False),
    _Fit("compile_ns_per_escaping_function", _per_escaping_function, "code-local", "compiling",
         "ns/function", aot=False),
    _Fit("load_ns_per_code_byte", _slope, "code", "loading", "ns/code byte", _code_bytes,
         aot=True),
    _Fit("load_ns_per_code_byte", _slope, "code-precompiled", "loading", "ns/code byte",
         _code_bytes, kernel="code", aot=False, needs="load"),
    # a mode that compiles functions when first called: the whole run of a module whose
    # every function runs once (as against the code family, where one small part runs)
    _Fit("run_compile_ns_per_code_byte", _slope, "code-run", "compiling", "ns/code byte",
         _run_code_bytes, aot=False),
    _Fit("instantiate_ns_per_page", _slope, "pages", "instantiating", "ns/page"),
    _Fit("instantiate_ns_per_data_byte", _slope, "data", "instantiating", "ns/byte"),
    # a module with code of its own: functions, a table, a mutable global, as every
    # compiled program has; its instances cost a few microseconds more than the empty
    # module's, whatever its size
    _Fit("instantiate_code_ns", _median, "code", "instantiate_again", "ns",
         needs="instantiate_again", steady=True),
    _Fit("first_instance_ns_per_code_byte", _slope, "code", FIRST_INSTANCE_EXTRA,
         "ns/code byte", _code_bytes, needs="instantiate_again", steady=True),
    _Fit("first_instance_ns_per_data_byte", _slope, "data", FIRST_INSTANCE_EXTRA, "ns/byte",
         needs="instantiate_again", steady=True),
    _Fit("instantiate_ns", _median, "empty", "instantiating the empty module", "ns"),
    _Fit("ttfi_ns", _median, "empty", TTFI, "ns"),
    _Fit("binding_ns", _median, "empty", BINDING_PART, "ns"),
    _Fit("artifact_bytes_per_code_byte", _artifact_slope, "code", ARTIFACT_BYTES,
         "bytes/code byte", _code_bytes),
)


def _figure(mode: Mode, metric: str, kernel: str, unit: str, fitted: _Fitted,
            note: str = "") -> Figure:
    return Figure(runtime=mode.runtime, mode=mode.name, binding=mode.binding, metric=metric,
                  kernel=kernel, unit=unit, value=fitted.value, spread=fitted.spread,
                  runs=fitted.runs, intercept=fitted.intercept, params=fitted.params or {},
                  note=_note(mode, note), samples=fitted.samples)


def _host_figures(mode: Mode, ok: Results) -> list[Figure]:
    sources = _sources(mode, ok)
    figures = []
    for spec in HOST_FIGURES:
        fitted = spec.fit(ok, spec, sources[spec.source]) if spec.applies(mode, ok) else None
        if fitted is not None:
            figures.append(_figure(mode, spec.metric, spec.kernel or spec.family, spec.unit,
                                   fitted))
    return figures


class KernelCounts(NamedTuple):
    """What one iteration of a guest kernel counts, by kernel name (``None``: not counted)."""

    instructions: Callable[[str], int | None]
    scan_ops: Callable[[str], float | None]
    simd_ops: Callable[[str], float | None]
    # instructions of each class the counting copy counts (``count_<class>`` params)
    classes: Callable[[str], dict[str, float] | None] = lambda k: None

    def params(self, name: str) -> dict[str, float | int | str]:
        params: dict[str, float | int | str] = {}
        if per_iter := self.instructions(name):
            params["instructions_per_iter"] = per_iter
        if (scanned := self.scan_ops(name)) is not None:
            params["scan_ops_per_iter"] = scanned
        if simd := self.simd_ops(name):
            params["simd_ops_per_iter"] = simd
        for cls, count in (self.classes(name) or {}).items():
            if count:
                params[f"{COUNT_PREFIX}{cls}"] = round(count, 3)
        return params


def _instance_fits(record: dict[str, Any]) -> list[tuple[SlopeFit, list[tuple[float, float]]]]:
    """Each instance's slope and samples, the smallest slope first."""
    runs = [[(float(n), float(ns)) for n, ns in run]
            for run in record.get("instances") or [record["samples"]]]
    return sorted(((fit_slope(run), run) for run in runs),
                  key=lambda fit_points: fit_points[0].slope)


def _guest_figure(mode: Mode, name: str, fits: list[tuple[SlopeFit, list[tuple[float, float]]]],
                  counts: KernelCounts) -> Figure:
    """A guest-timed kernel's figure: run in several instances, the one with the median slope
    (where an instance's pages land can move memory kernels by 2x, in a VM most of all)."""
    kernel = kernels.GUEST_KERNELS[name]
    fit, points = fits[(len(fits) - 1) // 2]
    params: dict[str, float | int | str] = {"iteration": kernel.unit,
                                             "largest_n": int(max(fit.sizes))}
    if len(fits) > 1:
        params["instances"] = len(fits)
        params["instance_slopes"] = ", ".join(f"{f.slope:.4g}" for f, _ in fits)
    return _figure(mode, f"{name}_ns_per_iter", name, "ns/iteration",
                   _Fitted.slope(fit, points, params | counts.params(name)))


def _guest_figures(mode: Mode, ok: Results, counts: KernelCounts
                   ) -> tuple[list[Figure], list[MeasurementFailure]]:
    figures, failed = [], []
    for task_id, record in ok.items():
        kind, _, name = task_id.partition(":")
        if kind != "guest":
            continue
        try:
            fits = _instance_fits(record)
        except ValueError as e:
            failed.append(_failure(mode, task_id, str(e)))
            continue
        figures.append(_guest_figure(mode, name, fits, counts))
    return figures, failed


def _mix_figures(mode: Mode, record: dict[str, Any] | None, counts: KernelCounts
                 ) -> list[Figure]:
    """The instruction-mix family's figures, one per kernel, as for a guest kernel."""
    figures = []
    for name, samples in (record or {}).get("kernels", {}).items():
        points = [(float(n), float(ns)) for n, ns in samples]
        fit = _fitted_slope(points)
        if fit is None:
            continue
        params: dict[str, float | int | str] = {
            "iteration": "one pass of a generated loop of the instruction-mix family",
            "family": "mix", "largest_n": int(max(fit.sizes))}
        figures.append(_figure(mode, f"{name}_ns_per_iter", name, "ns/iteration",
                               _Fitted.slope(fit, points, params | counts.params(name))))
    return figures


def _memory_figures(mode: Mode, memory: dict[str, Any] | None) -> list[Figure]:
    """The memory record's figures: the first instance's and each extra one's; where the
    binding reads them apart, the runtime's init alone (``rss_runtime_bytes``, part of the
    first instance's figure: in-process WAMR's wasm_runtime_full_init, Wasmtime's engine),
    the library's pages resident before it (``rss_library_bytes``, in none of the
    others), and what each loaded module holds per byte of its code."""
    if not memory:
        return []
    method = str(memory.get("method", ""))
    figures = [_figure(mode, metric, "memory", "bytes", _Fitted(
                   value, 0.0, int(memory.get("instances", 1)), [(0.0, value)]), note=method)
               for metric in ("rss_first_instance_bytes", "rss_per_extra_instance_bytes",
                              "rss_runtime_bytes")
               if (value := _field(metric.removeprefix("rss_"))(memory)) is not None]
    if memory.get("library_bytes") is not None:
        value = float(memory["library_bytes"])
        figures.append(_figure(mode, "rss_library_bytes", "memory", "bytes", _Fitted(
            value, 0.0, 1, [(0.0, value)]), note=(
            f"resident pages of {memory.get('library_path')} before the engine existed "
            f"(/proc/self/smaps), of its {int(memory.get('library_file_bytes', 0)):,} bytes "
            "on disk")))
    if memory.get("module_bytes_per_code_byte") is not None:
        value, code = float(memory["module_bytes_per_code_byte"]), memory["module_code_bytes"]
        figures.append(_figure(mode, "rss_module_bytes_per_code_byte", "memory",
                               "bytes/code byte", _Fitted(
            value, 0.0, int(memory["modules"]), [(0.0, value)],
            params={"module_code_bytes": int(code)}), note=str(memory.get("module_method", ""))))
    return figures


def _failure(mode: Mode, task: str, reason: str) -> MeasurementFailure:
    return MeasurementFailure(runtime=mode.runtime, mode=mode.name, task=task, reason=reason)


def _features(mode: Mode, ok: Results, failed: list[MeasurementFailure]
              ) -> list[FeatureResult]:
    """The feature probes' results: those that ran, then those whose worker failed."""
    ran = [(task_id, record["status"], record["detail"]) for task_id, record in ok.items()
           if task_id.startswith("probe:")]
    errors = [(f.task, "error", f.reason) for f in failed if f.task.startswith("probe:")]
    return [FeatureResult(runtime=mode.runtime, mode=mode.name, feature=task_id[len("probe:"):],
                          status=status, detail=detail)
            for task_id, status, detail in ran + errors]


def _needs_what_is_lacking(failure: MeasurementFailure, lacking: set[str]) -> bool:
    """A kernel that needs a feature the mode's probe found unsupported (SIMD on WAMR's
    classic interpreter) has nothing to measure there: not a failure."""
    kind, _, name = failure.task.partition(":")
    kernel = kernels.GUEST_KERNELS.get(name) if kind == "guest" else None
    return kernel is not None and kernel.feature in lacking


def analyse_mode(
    mode: Mode, results: Results, failures: dict[str, str],
    instructions_per_iter: Callable[[str], int | None] = lambda k: None,
    scan_ops_per_iter: Callable[[str], float | None] = lambda k: None,
    simd_ops_per_iter: Callable[[str], float | None] = lambda k: None,
    class_counts: Callable[[str], dict[str, float] | None] = lambda k: None,
) -> tuple[list[Figure], list[FeatureResult], list[MeasurementFailure]]:
    """One mode's figures, feature results and failures from its workers' results."""
    failed = [_failure(mode, t, r) for t, r in failures.items()]
    failed += [_failure(mode, t, str(r.get("reason", "failed")))
               for t, r in results.items() if not r.get("ok")]
    ok = {t: r for t, r in results.items() if r.get("ok")}
    counts = KernelCounts(instructions_per_iter, scan_ops_per_iter, simd_ops_per_iter,
                          class_counts)
    figures, unfitted = _guest_figures(mode, ok, counts)
    failed += unfitted
    figures += _mix_figures(mode, ok.get("mix:family"), counts)
    figures += _host_figures(mode, ok) + _memory_figures(mode, ok.get("memory"))
    features = _features(mode, ok, failed)
    lacking = {f.feature for f in features if f.status == "unsupported"}
    return figures, features, [f for f in failed if not _needs_what_is_lacking(f, lacking)]
