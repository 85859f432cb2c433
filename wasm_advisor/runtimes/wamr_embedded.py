"""WAMR embedded in the worker's process through ``libiwasm.so`` (``libiwasm (in-process)``).

This is WAMR as it is usually deployed: a host links the runtime and calls its
C API (:mod:`wasm_advisor.runtimes.libiwasm`), paying no process start per
run. The libraries are the user's builds, found like ``iwasm``: given as
``--libiwasm PATH`` (repeatable), named in ``$WASM_ADVISOR_LIBIWASM`` (several,
separated by ``:``), or beside an ``iwasm`` given (the ``libiwasm.so`` in its
folder, or the one it links). WAMR's ``product-mini/platforms/linux`` build
makes one with ``-DBUILD_SHARED_LIBS=ON`` (see ``docs/runtimes.md``).

Modes, each named for the engine and the binding (the ``iwasm`` CLI's modes
keep their names):

- ``fast-interp-embedded`` / ``classic-interp-embedded``: the build's
  interpreter (which one, from the build itself);
- ``llvm-jit-embedded``: a build with the LLVM JIT;
- ``aot-embedded``: ``wamrc`` compiles, the first library with the AOT runtime
  loads the artifact.

Host-timed phases: ``compile`` (``wasm_runtime_load`` of bytecode: parsing and
preparing it; for AOT, ``wamrc``), ``load`` (``wasm_runtime_load`` of an AOT
artifact), ``instantiate`` (``wasm_runtime_instantiate_ex`` with WASI) and
``run`` (``wasm_runtime_call_wasm`` of ``_start``). Memory figures are the
worker's own resident growth, as for Wasmtime.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import RuntimeUnavailableError
from .base import Mode, RunRequest, RunResult
from .libiwasm import MODE_INTERP, MODE_LLVM_JIT, TERMINATED, LibIwasm, LoadedModule
from .resident_growth import (
    growth_record,
    library_record,
    module_record,
    release_free_memory,
    resident_bytes,
)
from .run_outcome import memory_limit_trap, time_limit_trap

__all__ = ["BINDING", "EmbeddedWamr", "libiwasm_candidates", "linked_libiwasm"]

BINDING = "libiwasm (in-process)"
SUFFIX = "-embedded"
STACK_SIZE = 1 << 20  # the exec env's operand/frame stack, as the iwasm CLI adapter passes
HEAP_SIZE = 0  # WASI programs allocate inside linear memory
WASM_PAGE = 65536
_LABELS = {
    "fast-interp": "WAMR · fast interpreter, embedded",
    "classic-interp": "WAMR · classic interpreter, embedded",
    "aot": "WAMR · AOT (wamrc), embedded",
    "llvm-jit": "WAMR · LLVM JIT, embedded",
}
_ORDER = ("fast-interp", "classic-interp", "aot", "llvm-jit")
# WAMR 2.4.5's LLVM JIT build (libiwasm.so with LLVM linked in, 60 MB) runs a module
# in-process when called directly, but its runs in a calibration worker did not end
# (a task timed out at 60 s, 2026-12-07): not offered until that is understood, so
# that a calibration does not spend a minute per task on it
OFFER_LLVM_JIT = False

# compiles a module with wamrc: (module, fresh, timeout) -> (artifact, wamrc ns or None)
AotCompiler = Callable[[bytes, bool, float], tuple[Path, int | None]]


def _beside(iwasm: str) -> list[str]:
    """The libiwasm of an ``iwasm``: in its folder, else the one it is linked with."""
    path = Path(shutil.which(iwasm) or iwasm).resolve()
    for name in ("libiwasm.so", "libiwasm.so.2"):
        if (path.parent / name).exists():
            return [str(path.parent / name)]
    return linked_libiwasm(str(path))


def linked_libiwasm(path: str) -> list[str]:
    """The libiwasm an executable is dynamically linked with (from ``ldd``), if any."""
    try:
        linked = subprocess.run(["ldd", path], capture_output=True, text=True,
                                timeout=10, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split("=>")[1].split("(")[0].strip() for line in linked.splitlines()
            if "libiwasm" in line and "=>" in line and "not found" not in line]


def libiwasm_candidates(given: list[str] | None, iwasm: list[str]) -> list[str]:
    """Libraries to try: those given, else ``$WASM_ADVISOR_LIBIWASM``, else beside ``iwasm``."""
    if given:
        return list(given)
    from_env = [p for p in os.environ.get("WASM_ADVISOR_LIBIWASM", "").split(os.pathsep) if p]
    if from_env:
        return from_env
    found: list[str] = []
    for binary in iwasm:
        found += [p for p in _beside(binary) if p not in found]
    return found


@dataclass(frozen=True)
class _Engine:
    library: LibIwasm
    running_mode: int | None  # set on each instance where the build has several


class EmbeddedWamr:
    """The in-process modes of WAMR, for :class:`~wasm_advisor.runtimes.wamr_runtime.WamrAdapter`.

    Libraries are opened (never initialised) to list the modes; the first run
    initialises the one library its mode needs, so a worker runs one build.
    """

    def __init__(self, libraries: list[str], compile_aot: AotCompiler | None) -> None:
        self._paths = libraries
        self._compile_aot = compile_aot

    @cached_property
    def _found(self) -> tuple[dict[str, _Engine], list[str]]:
        engines: dict[str, _Engine] = {}
        problems: list[str] = []
        for path in self._paths:
            try:
                lib = LibIwasm(path)
            except RuntimeUnavailableError as e:
                problems.append(str(e))
                continue
            several = lib.several_modes
            if lib.interpreter:
                engines.setdefault(f"{lib.interpreter}-interp",
                                   _Engine(lib, MODE_INTERP if several else None))
            if lib.supports(MODE_LLVM_JIT) and OFFER_LLVM_JIT:
                engines.setdefault("llvm-jit", _Engine(lib, MODE_LLVM_JIT if several else None))
            elif lib.supports(MODE_LLVM_JIT):
                problems.append(f"{path}: llvm-jit-embedded is not offered yet (its runs did "
                                "not end in a calibration worker; see docs/runtimes.md)")
            if lib.runs_aot and self._compile_aot is not None:
                engines.setdefault("aot", _Engine(lib, None))
        return engines, problems

    @property
    def libraries(self) -> list[str]:
        """The libraries given or found (whether they work or not)."""
        return list(self._paths)

    def availability_details(self) -> dict[str, str]:
        engines, problems = self._found
        details = {f"{name}{SUFFIX}": e.library.path for name, e in engines.items()}
        if problems:
            details["libiwasm problems"] = "; ".join(problems)
        return details

    @property
    def versions(self) -> set[str]:
        return {e.library.version for e in self._found[0].values()}

    def modes(self) -> list[Mode]:
        engines, _ = self._found
        out = []
        for name in _ORDER:
            if name in engines:
                jit, pre = name == "llvm-jit", name == "aot"
                out.append(Mode("wamr", f"{name}{SUFFIX}", BINDING, _LABELS[name],
                                notes=engines[name].library.path, jit=jit, precompiled=pre,
                                slow_compile=jit or pre, lazy_compile=jit))
        return out

    def owns(self, mode: Mode) -> bool:
        return mode.binding == BINDING

    def _engine(self, mode: Mode) -> _Engine:
        engines, _ = self._found
        engine = engines.get(mode.name.removesuffix(SUFFIX))
        if engine is None:
            raise RuntimeUnavailableError(f"WAMR mode {mode.name!r} is not available here")
        engine.library.init()
        return engine

    def _code(self, mode: Mode, request: RunRequest, phases: dict[str, int]) -> tuple[bytes, int]:
        """The bytes to load (the module, or its AOT artifact) and the artifact's size."""
        if not mode.precompiled:
            return request.module, 0
        assert self._compile_aot is not None
        artifact, compile_ns = self._compile_aot(request.module, not request.precompiled,
                                                 request.timeout_s)
        if compile_ns is not None:
            phases["compile"] = compile_ns
        data = artifact.read_bytes()
        return data, len(data)

    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        phases: dict[str, int] = {}
        realtime, _ = RunResult.clock()
        try:
            engine = self._engine(mode)
            code, artifact_bytes = self._code(mode, request, phases)
        except RuntimeUnavailableError as e:
            return RunResult(exit_code=255, stdout="", stderr=str(e),
                             host_start_realtime_ns=realtime, wall_ns=0, trap=str(e))
        if request.compile_only and not mode.precompiled:
            return _load_only(engine.library, code)
        if request.compile_only:  # wamrc has compiled: that was the request
            return RunResult(exit_code=0, stdout="", stderr="", host_start_realtime_ns=realtime,
                             wall_ns=phases.get("compile", 0), phases_ns=phases)
        with tempfile.TemporaryDirectory(prefix="wasm-advisor-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            with open(out, "wb") as out_file, open(err, "wb") as err_file:
                result = _run_once(engine, code, request, phases, mode.precompiled,
                                   out_file.fileno(), err_file.fileno())
            result.stdout = out.read_text(errors="replace")
            result.stderr = err.read_text(errors="replace") + result.stderr
        result.artifact_bytes = artifact_bytes or None
        return result

    def instance_memory(self, mode: Mode, module_bytes: bytes, instances: int,
                        code_modules: Sequence[bytes] = (), code_bytes: int = 0
                        ) -> dict[str, Any]:
        """Resident memory of one live instance and of each extra one, in this process;
        with ``code_modules`` (distinct modules of ``code_bytes`` of code each), the memory
        each loaded module holds (for AOT, the first one's artifact, loaded once for each),
        read while the instances stay live.

        The baseline is the process before the runtime's init; the library's pages
        resident then are ``library_bytes``; the runtime's own share (init, the
        library's pages it touched) is reported apart as ``runtime_bytes``, and is
        part of the first instance's figure, as the engine is for Wasmtime.
        """
        baseline = resident_bytes()
        library = library_record(self._library_path(mode))
        engine = self._engine(mode)  # initialises the runtime
        runtime = resident_bytes() - baseline
        code, _ = self._code(mode, RunRequest(module_bytes, precompiled=True), {})
        live: list[int] = []
        resident = []
        with open(os.devnull, "wb") as sink, LoadedModule(engine.library, code) as module:
            module.set_wasi(["module"], stdout_fd=sink.fileno(), stderr_fd=sink.fileno())
            try:
                for _ in range(instances):
                    live.append(instance := module.instantiate(STACK_SIZE, HEAP_SIZE))
                    exec_env = module.exec_env(instance, STACK_SIZE)
                    try:
                        status, trap = module.call_start(instance, exec_env,
                                                         engine.running_mode)
                    finally:
                        module.destroy_exec_env(exec_env)
                    if trap or status:
                        raise RuntimeUnavailableError(f"the module did not run: {trap or status}")
                    resident.append(resident_bytes())
                modules = self._module_memory(mode, engine, code_modules, code_bytes)
            finally:
                for instance in live:
                    module.deinstantiate(instance)
        record = growth_record(resident, baseline, "resident memory of the worker process, "
                               "Python's baseline subtracted, through libiwasm in-process "
                               "(each instance idle after its _start; the exec env that ran "
                               "it, whose operand stack WAMR zeroes, freed: a host keeping one "
                               f"per instance adds its stack, {STACK_SIZE >> 10} KiB here)")
        return {**record, **library, **modules, "runtime_bytes": runtime}

    def _library_path(self, mode: Mode) -> str | None:
        engine = self._found[0].get(mode.name.removesuffix(SUFFIX))
        return engine.library.path if engine else None

    def _module_memory(self, mode: Mode, engine: _Engine, code_modules: Sequence[bytes],
                       code_bytes: int) -> dict[str, Any]:
        """The module-memory record (:func:`module_record`), or none without modules."""
        if not code_modules:
            return {}
        if mode.precompiled:
            artifact, _ = self._code(mode, RunRequest(code_modules[0], precompiled=True), {})
            codes = [artifact] * len(code_modules)
        else:
            codes = list(code_modules)
        loaded, after = [], []
        release_free_memory()  # what was freed before is not theirs
        try:
            for code in codes:
                loaded.append(LoadedModule(engine.library, code))
                after.append(resident_bytes())
        finally:
            for module in loaded:
                module.unload()
        return module_record(after, code_bytes)


def _load_only(lib: LibIwasm, code: bytes) -> RunResult:
    """Load the module and nothing more: the time, as phase ``compile``."""
    realtime, _ = RunResult.clock()
    t = time.perf_counter_ns()
    try:
        LoadedModule(lib, code).unload()
    except RuntimeUnavailableError as e:
        return RunResult(exit_code=1, stdout="", stderr=str(e), host_start_realtime_ns=realtime,
                         wall_ns=time.perf_counter_ns() - t, trap=str(e))
    took = time.perf_counter_ns() - t
    return RunResult(exit_code=0, stdout="", stderr="", host_start_realtime_ns=realtime,
                     wall_ns=took, phases_ns={"compile": took})


def _run_once(engine: _Engine, code: bytes, request: RunRequest, phases: dict[str, int],
              aot: bool, stdout_fd: int, stderr_fd: int) -> RunResult:
    """Load, instantiate (and again, ``request.instantiate_again`` times) and run ``_start``."""
    run = _Run(engine, request, phases)
    realtime, start = RunResult.clock()
    try:
        exit_code, trap = run.start(code, aot, stdout_fd, stderr_fd)
    except RuntimeUnavailableError as e:
        exit_code, trap = 255, str(e).strip()
    wall = time.perf_counter_ns() - start - run.aside_ns
    limit_hit, trap = run.limit_hit(trap)
    run.release()
    return RunResult(exit_code=exit_code, stdout="", stderr="",
                     host_start_realtime_ns=realtime + run.aside_ns, wall_ns=wall,
                     phases_ns=phases, trap=trap, limit_hit=limit_hit)


class _Run:
    """One run through libiwasm: the module loaded, instantiated and its ``_start`` called,
    each phase timed into ``phases``; :meth:`release` frees what was made."""

    def __init__(self, engine: _Engine, request: RunRequest, phases: dict[str, int]) -> None:
        self.engine = engine
        self.request = request
        self.phases = phases
        # the cap on linear memory in pages, when the request enforces limits (0: none)
        self.max_pages = 0
        if request.enforce_limits and request.memory_limit_bytes:
            self.max_pages = max(1, request.memory_limit_bytes // WASM_PAGE)
        self.module: LoadedModule | None = None
        self.instance = self.exec_env = 0
        self.aside_ns = 0  # spent instantiating again: kept out of the wall time and start

    def start(self, code: bytes, aot: bool, stdout_fd: int, stderr_fd: int
              ) -> tuple[int, str | None]:
        """The exit status and trap of ``_start``; a failure to load or instantiate raises."""
        request, phases = self.request, self.phases
        t = time.perf_counter_ns()
        self.module = module = LoadedModule(self.engine.library, code)
        phases["load" if aot else "compile"] = time.perf_counter_ns() - t
        module.set_wasi(["module", *request.argv], workdir=request.workdir, env=request.env,
                        stdout_fd=stdout_fd, stderr_fd=stderr_fd)
        t = time.perf_counter_ns()
        self.instance = module.instantiate(STACK_SIZE, HEAP_SIZE, self.max_pages)
        phases["instantiate"] = time.perf_counter_ns() - t
        if request.instantiate_again:
            t = time.perf_counter_ns()
            again = _instantiate_again(module, request.instantiate_again, self.max_pages)
            self.aside_ns = time.perf_counter_ns() - t
            phases["instantiate_again"] = again
        # outside the phases (the stack's size is the host's choice; WAMR zeroes it), within
        # the time to the first instruction
        self.exec_env = module.exec_env(self.instance, STACK_SIZE)
        timer = None
        if request.enforce_limits:  # started once nothing can fail before it is cancelled:
            # a timer left running would terminate an instance already freed
            timer = threading.Timer(request.timeout_s,
                                    self.engine.library.api.wasm_runtime_terminate,
                                    (self.instance,))
            timer.daemon = True
            timer.start()
        t = time.perf_counter_ns()
        try:
            return module.call_start(self.instance, self.exec_env, self.engine.running_mode)
        finally:
            phases["run"] = time.perf_counter_ns() - t
            if timer is not None:
                timer.cancel()

    def limit_hit(self, trap: str | None) -> tuple[str | None, str | None]:
        """The limit that stopped the run ('time', 'memory' or None), and its trap as the
        result tells it."""
        if trap and TERMINATED in trap:
            return "time", time_limit_trap(self.request.timeout_s)
        if trap and self.max_pages and self.module is not None and self.instance and \
                self.module.memory_pages(self.instance) >= 0.9 * self.max_pages:
            # memory.grow failed at the cap, and the program gave up (unreachable, or an abort)
            return "memory", memory_limit_trap(self.max_pages * WASM_PAGE, then=trap)
        return None, trap

    def release(self) -> None:
        """Free the exec env, the instance and the module, as far as they were made."""
        if self.module is None:
            return
        if self.exec_env:
            self.module.destroy_exec_env(self.exec_env)
        if self.instance:
            self.module.deinstantiate(self.instance)
        self.module.unload()


def _instantiate_again(module: LoadedModule, times: int, max_pages: int) -> int:
    """Median time of ``times`` more instances of the module, each removed after."""
    took = []
    for _ in range(times):
        t = time.perf_counter_ns()
        instance = module.instantiate(STACK_SIZE, HEAP_SIZE, max_pages)
        took.append(time.perf_counter_ns() - t)
        module.deinstantiate(instance)
    return sorted(took)[len(took) // 2]
