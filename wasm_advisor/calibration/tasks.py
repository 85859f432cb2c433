"""The calibration's worker tasks: guest kernels, host-timed module families, feature
probes and instance memory, each run in the worker process for one runtime/mode.

:mod:`wasm_advisor.harness.worker` imports this module when a job names it
(``"tasks_modules"``, :data:`TASKS_MODULE`) and calls :func:`run_task` for each task
of its :data:`KINDS`.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..harness import INSTANTIATE_AGAIN, run_detail, run_failed, run_module, ttfi_ns
from ..runtimes import adapter_for
from ..runtimes.base import Mode, RuntimeAdapter
from ..runtimes.resident_growth import LIVE_INSTANCES
from ..wasm import distinct_copies, read_module_bytes
from . import kernels
from ._mix_kernels import mix_family_module, mix_kernel_names
from ._probes import PROBE_SUCCESS, PROBES

__all__ = ["KINDS", "TASKS_MODULE", "parse_family_output", "parse_guest_output", "run_task"]

TASKS_MODULE = __name__  # how a job names this module to the worker
# code in each module of the module-memory figure: the code family's largest size, of the
# same ordinary functions; compiled by Cranelift, about a MiB of resident memory for six
MODULE_CODE_BYTES = 64 * 1024
RESIDENT_DWELL_NS = 20_000_000  # as kernels.resident_module: long enough to be sampled


def parse_guest_output(stdout: str) -> tuple[int | None, list[tuple[int, int]]]:
    """The guest's first realtime reading and its ``(n, ns)`` samples.

    Raises ``ValueError`` naming the line when a line that starts like a record
    is not one (a runtime that printed garbage, or a truncated line).
    """
    t0, by_kernel = _parse_records(stdout)
    return t0, by_kernel.get(None, [])


def parse_family_output(stdout: str) -> dict[int, list[tuple[int, int]]]:
    """A family module's samples by kernel: each ``{"k":I}`` line starts kernel ``I``'s
    ``(n, ns)`` samples (:mod:`._mix_kernels`). Raises ``ValueError`` as
    :func:`parse_guest_output` does, and for samples before any kernel's line."""
    _, by_kernel = _parse_records(stdout, kernel_lines=True)
    return {k: samples for k, samples in by_kernel.items() if k is not None}


def _parse_records(stdout: str, kernel_lines: bool = False
                   ) -> tuple[int | None, dict[int | None, list[tuple[int, int]]]]:
    """The ``{"t0":T}`` reading and the ``{"n":N,"ns":T}`` samples of a module's output,
    by kernel: with ``kernel_lines``, each ``{"k":I}`` line starts kernel ``I``'s and a
    sample before any is malformed; without, every sample is kernel None's."""
    t0: int | None = None
    by_kernel: dict[int | None, list[tuple[int, int]]] = {}
    current = None if kernel_lines else by_kernel.setdefault(None, [])
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
            if "t0" in record:
                t0 = int(record["t0"])
            elif kernel_lines and "k" in record:
                current = by_kernel.setdefault(int(record["k"]), [])
            elif "n" in record and "ns" in record:
                if current is None:
                    raise ValueError
                current.append((int(record["n"]), int(record["ns"])))
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"malformed output from the module: {line[:80]!r}") from None
    return t0, by_kernel


def _samples_peak_memory(adapter: RuntimeAdapter, mode: Mode) -> bool:
    """Whether the mode's memory is read by sampling a process per instance (iwasm), not
    as growth of an in-process binding's own process."""
    samples = getattr(adapter, "samples_peak_memory", None)
    return bool(samples(mode)) if callable(samples) else bool(samples)


def run_task(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    """One task's outcome; ``options`` are the job's (a fresh process builds its adapter
    with them)."""
    runner = RUNNERS.get(task["kind"])
    if runner is None:
        return {"ok": False, "reason": f"unknown task kind {task['kind']!r}"}
    return runner(adapter, mode, task, options or {})


def _guest(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
           options: dict[str, Any]) -> dict[str, Any]:
    """A guest-timed kernel's samples, from each of its instances."""
    plan = kernels.KernelPlan(**{**task["plan"], "sizes": tuple(task["plan"]["sizes"])})
    module = kernels.guest_kernel(task["kernel"], plan)
    each: list[list[tuple[int, int]]] = []
    for _ in range(int(task.get("instances", 1))):  # each a new instance and linear memory
        result = run_module(adapter, mode, module, task)
        error = run_failed(result)
        if error:
            return {"ok": False, "reason": error}
        t0, samples = parse_guest_output(result.stdout)
        if not samples:
            return {"ok": False, "reason": "the kernel printed no samples"}
        if not each:
            first = {"ttfi_ns": ttfi_ns(result, t0), "phases_ns": result.phases_ns,
                     "peak_rss_bytes": result.peak_rss_bytes}
        each.append(samples)
    return {"ok": True, "samples": each[0], "instances": each, **first}


def _mix(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
         options: dict[str, Any]) -> dict[str, Any]:
    """The instruction-mix family's samples, by kernel name (one module, one run)."""
    plan = kernels.KernelPlan(**{**task["plan"], "sizes": tuple(task["plan"]["sizes"])})
    result = run_module(adapter, mode, mix_family_module(plan), task)
    error = run_failed(result)
    if error:
        return {"ok": False, "reason": error}
    try:
        by_index = parse_family_output(result.stdout)
    except ValueError as e:
        return {"ok": False, "reason": str(e)}
    names = mix_kernel_names()
    if sorted(by_index) != list(range(len(names))) or not all(by_index.values()):
        return {"ok": False, "reason": f"the family printed samples for {len(by_index)} of "
                f"its {len(names)} kernels"}
    return {"ok": True, "kernels": {names[i]: samples for i, samples in by_index.items()}}


def _host(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
          options: dict[str, Any]) -> dict[str, Any]:
    """A host-timed module's runs, after its warm-ups."""
    module = _host_module(task["family"], int(task["size"]))
    runs = []
    # warm-ups fill what a process keeps (allocators, lazy initialisation, the engine's
    # caches); a runtime that runs each module in a process of its own keeps nothing from
    # one run to the next (iwasm: the empty module and a 12 KiB module's first of seven
    # runs were within the others' range on the LLVM JIT, the fast interpreter and AOT)
    warmup = int(task.get("warmups", 1)) \
        if task.get("warmup", True) and not _samples_peak_memory(adapter, mode) else 0
    for attempt in range(warmup + int(task.get("repeats", 3))):
        result = run_module(adapter, mode, module, task, INSTANTIATE_AGAIN)
        error = run_failed(result)
        if error:
            return {"ok": False, "reason": error}
        if attempt < warmup:
            continue  # warm-up: page cache, allocator, lazy initialisation
        t0, _ = parse_guest_output(result.stdout)
        runs.append({"ttfi_ns": ttfi_ns(result, t0), "phases_ns": result.phases_ns,
                     "wall_ns": result.wall_ns, "peak_rss_bytes": result.peak_rss_bytes,
                     "artifact_bytes": result.artifact_bytes})
    return {"ok": True, "runs": runs, "module_bytes": len(module)}


def _probe(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
           options: dict[str, Any]) -> dict[str, Any]:
    """Whether the mode runs a feature's probe module correctly."""
    probe = PROBES[task["feature"]]
    result = run_module(adapter, mode, probe.module(), task)
    if result.exit_code == PROBE_SUCCESS:
        return {"ok": True, "status": "supported", "detail": ""}
    return {"ok": True, "status": "unsupported", "detail": f"exit {result.exit_code}: "
            f"{run_detail(result)}"[:300]}


def _memory(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
            options: dict[str, Any]) -> dict[str, Any]:
    """An instance's memory: the binding's own reading where it has one (a process per
    instance, or growth in a fresh process), else one run's peak RSS."""
    # a runtime read by sampling its process needs a module that stays a moment
    by_process = _samples_peak_memory(adapter, mode)
    build = kernels.resident_module if by_process else kernels.instantiate_module
    module = build(int(task["pages"]), int(task["data_bytes"]))
    measure = getattr(adapter, "instance_memory", None)
    if measure is None:
        return _peak_memory(adapter, mode, module, task)
    if by_process:  # an instance per process
        # read against a process running the empty module, which stays alive as long; with
        # module copies asked for, a module of code against it too
        code, code_bytes = _code_module(RESIDENT_DWELL_NS) \
            if int(task.get("module_copies", 0)) >= 2 else (b"", 0)
        return {"ok": True, **measure(mode, module, int(task.get("pairs", 5)),
                                      kernels.resident_module(1, 0),
                                      code_modules=[code] if code else [],
                                      code_bytes=code_bytes)}
    return {"ok": True, **_in_fresh_process(mode, module,
                                            int(task.get("instances", LIVE_INSTANCES)),
                                            int(task.get("module_copies", 0)), options)}


def _peak_memory(adapter: RuntimeAdapter, mode: Mode, module: bytes, task: dict[str, Any]
                 ) -> dict[str, Any]:
    """A binding that reads no instance's memory: the peak RSS of one run, for each."""
    result = run_module(adapter, mode, module, task)
    error = run_failed(result)
    if error or result.peak_rss_bytes is None:
        return {"ok": False, "reason": error or "no peak RSS from this binding"}
    return {"ok": True, "first_instance_bytes": result.peak_rss_bytes,
            "per_extra_instance_bytes": result.peak_rss_bytes,
            "method": "peak RSS of one runtime process per instance"}


RUNNERS: dict[str, Callable[[RuntimeAdapter, Mode, dict[str, Any], dict[str, Any]],
                            dict[str, Any]]] = {
    "guest": _guest, "mix": _mix, "host": _host, "probe": _probe, "memory": _memory}
KINDS = frozenset(RUNNERS)


def _code_module(dwell_ns: int = 0) -> tuple[bytes, int]:
    """The module-memory figure's module, of :data:`MODULE_CODE_BYTES` of ordinary code
    (staying alive ``dwell_ns`` after it starts), and the bytes of its code section."""
    code = kernels.code_size_module(MODULE_CODE_BYTES, dwell_ns=dwell_ns)
    return code, read_module_bytes(code).code_bytes


def _in_fresh_process(mode: Mode, module: bytes, instances: int, module_copies: int,
                      options: dict[str, Any]) -> dict[str, Any]:
    """An in-process binding's memory figure, measured in a new Python process; with
    ``module_copies``, distinct modules of :data:`MODULE_CODE_BYTES` of code give the
    memory a loaded module holds.

    Growth of the resident set shows an instance's memory only once the memory
    that earlier work freed is used up; this worker has compiled and run every
    kernel, so its allocators hold megabytes of it. A new process holds only
    what its engine needs, and the worker's own figures are left as they were.
    The module copies are made here and handed over: made there, the garbage of
    making them would be memory the new process's first instances land in.
    """
    code, code_bytes = _code_module() if module_copies >= 2 else (b"", 0)
    copies = distinct_copies(code, module_copies) if code else []
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_instance_memory, mode, module, instances, copies, code_bytes,
                           options).result()


def _instance_memory(mode: Mode, module: bytes, instances: int, copies: list[bytes],
                     code_bytes: int, options: dict[str, Any]) -> dict[str, Any]:
    adapter = adapter_for(mode.runtime, options)
    measured: dict[str, Any] = adapter.instance_memory(  # type: ignore[attr-defined]
        mode, module, instances, code_modules=copies, code_bytes=code_bytes)
    return measured


# the module of each host-timed family, by its size
HOST_MODULES: dict[str, Callable[[int], bytes]] = {
    "empty": lambda size: kernels.empty_module(),
    "code": kernels.code_size_module,
    "code-local": lambda size: kernels.code_size_module(size, tabled=False),
    "code-run": lambda size: kernels.code_size_module(size, run_all=True),
    "pages": lambda size: kernels.instantiate_module(size, 0),
    "data": lambda size: kernels.instantiate_module(1, size),
}


def _host_module(family: str, size: int) -> bytes:
    build = HOST_MODULES.get(family)
    if build is None:
        raise ValueError(f"unknown module family {family!r}")
    return build(size)
