"""Wasmtime through the ``wasmtime`` package (binding: ``wasmtime-py``), in the worker's process.

Modes:

- ``cranelift``: the optimising compiler, default settings (guard pages bound memory).
- ``cranelift-explicit-bounds``: Cranelift with no memory reservation and no guard
  pages, so every memory access is bounds-checked in code; the difference to
  ``cranelift`` is the cost of bounds checks.
- ``pulley``: Wasmtime's portable interpreter (``Config.target = "pulley64"``).
- ``winch``: the baseline compiler, set through the low-level C API bindings.
- ``cranelift-pooling``: Cranelift with the pooling instance allocator, set
  through the low-level C API bindings; it changes instantiation, not code.

Host-timed phases: ``compile`` (or ``load`` of a serialized module), ``instantiate``
and ``run``, each around one C API call.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import wasmtime
import wasmtime._bindings as _bindings

from .base import Availability, Mode, RunRequest, RunResult, RuntimeAdapter
from .resident_growth import (
    growth_record,
    library_record,
    module_record,
    release_free_memory,
    resident_bytes,
)
from .run_outcome import memory_limit_trap, time_limit_trap

__all__ = ["WasmtimeAdapter"]

BINDING = "wasmtime-py"
POOL_SLOTS = 256  # instances, memories and tables the pooling allocator holds at once
_STRATEGY_WINCH = 2  # wasmtime_strategy_t: WASMTIME_STRATEGY_WINCH
_MODES = (
    Mode("wasmtime", "cranelift", BINDING, "Wasmtime · Cranelift", jit=True),
    Mode("wasmtime", "cranelift-explicit-bounds", BINDING,
         "Wasmtime · Cranelift, explicit bounds checks",
         notes="no guard pages: every memory access is bounds-checked in code", jit=True),
    Mode("wasmtime", "pulley", BINDING, "Wasmtime · Pulley interpreter",
         notes="portable interpreter; compiles to Pulley bytecode first"),
    Mode("wasmtime", "winch", BINDING, "Wasmtime · Winch baseline compiler",
         notes="set through the low-level C API bindings", jit=True),
    Mode("wasmtime", "cranelift-pooling", BINDING, "Wasmtime · Cranelift, pooling allocator",
         notes="pooling instance allocator, set through the low-level C API bindings", jit=True),
)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("wasmtime")
    except Exception:  # pragma: no cover - metadata is always there when installed
        return "unknown"


def _trap_message(error: Exception) -> str:
    """The informative line of a Wasmtime error: the trap itself, not the backtrace."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith("wasm trap:"):
            return line
    caused = [line for line in lines if not line.startswith(("error while executing",
                                                                 "0:", "1:", "2:"))]
    return (caused[-1] if caused else lines[0]) if lines else "trap"


def engine_for(mode: str, fuel: bool = False, epochs: bool = False,
               single_thread: bool = False) -> wasmtime.Engine:
    """A Wasmtime engine configured for ``mode`` (with fuel metering or epoch interruption;
    compiling on one thread instead of a pool of one per core)."""
    config = wasmtime.Config()
    config.consume_fuel = fuel
    config.epoch_interruption = epochs
    config.parallel_compilation = not single_thread
    config.shared_memory = True  # threads: shared memories and atomics
    if mode == "pulley":
        config.target = "pulley64"
    elif mode == "winch":
        _bindings.wasmtime_config_strategy_set(config.ptr(), _STRATEGY_WINCH)
    elif mode == "cranelift-explicit-bounds":
        config.memory_reservation = 0
        config.memory_guard_size = 0
        config.memory_may_move = True
        config.signals_based_traps = False
    elif mode == "cranelift-pooling":
        pool = _bindings.wasmtime_pooling_allocation_config_new()
        _bindings.wasmtime_pooling_allocation_config_total_core_instances_set(pool, POOL_SLOTS)
        _bindings.wasmtime_pooling_allocation_config_total_memories_set(pool, POOL_SLOTS)
        _bindings.wasmtime_pooling_allocation_config_total_tables_set(pool, POOL_SLOTS)
        _bindings.wasmtime_pooling_allocation_config_max_memory_size_set(pool, 1 << 30)
        _bindings.wasmtime_pooling_allocation_config_max_memories_per_module_set(pool, 4)
        _bindings.wasmtime_pooling_allocation_config_max_tables_per_module_set(pool, 4)
        _bindings.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
        _bindings.wasmtime_pooling_allocation_config_delete(pool)
    elif mode != "cranelift":
        raise ValueError(f"unknown Wasmtime mode {mode!r}")
    return wasmtime.Engine(config)


def _epochs(request: RunRequest) -> bool:
    """Whether the engine stops this run at its time limit (epoch interruption)."""
    return request.enforce_limits and request.engine_interrupts


def _instantiate_again(engine: wasmtime.Engine, linker: wasmtime.Linker,
                       module: wasmtime.Module, request: RunRequest) -> int | None:
    """Median time of ``request.instantiate_again`` more instances, each in a fresh store.

    ``linker`` is the run's own (WASI defined once per engine, as a host would).
    """
    times = []
    for _ in range(request.instantiate_again):
        store = wasmtime.Store(engine)
        if _epochs(request):
            store.set_epoch_deadline(1)
        if request.fuel is not None:
            store.set_fuel(request.fuel)
        store.set_wasi(wasmtime.WasiConfig())
        t = time.perf_counter_ns()
        try:
            linker.instantiate(store, module)
        except (wasmtime.Trap, wasmtime.WasmtimeError):
            return None
        times.append(time.perf_counter_ns() - t)
    return sorted(times)[len(times) // 2]


def _compile_only(engine: wasmtime.Engine, module: bytes) -> RunResult:
    """Compile ``module`` and nothing more: the time, as phase ``compile``."""
    realtime, _ = RunResult.clock()
    t = time.perf_counter_ns()
    try:
        wasmtime.Module(engine, module)
    except wasmtime.WasmtimeError as e:
        return RunResult(exit_code=1, stdout="", stderr=str(e), host_start_realtime_ns=realtime,
                         wall_ns=time.perf_counter_ns() - t, trap=str(e).splitlines()[0])
    took = time.perf_counter_ns() - t
    return RunResult(exit_code=0, stdout="", stderr="", host_start_realtime_ns=realtime,
                     wall_ns=took, phases_ns={"compile": took})


# serialized modules by (mode, fuel, epochs, module digest): a precompiled run times only
# the load, so compiling the same bytes again before every run (a warm-up and three
# repeats per size) only cost time: as much as the code family itself in a quick
# calibration. An engine of the same configuration loads another's artifact.
_ARTIFACTS: dict[tuple[str, bool, bool, str], bytes] = {}
_ARTIFACTS_KEPT = 8


def _artifact(engine: wasmtime.Engine, mode: str, request: RunRequest) -> bytes:
    key = (mode, request.fuel is not None, _epochs(request),
           hashlib.sha256(request.module).hexdigest())
    if key not in _ARTIFACTS:
        while len(_ARTIFACTS) >= _ARTIFACTS_KEPT:
            _ARTIFACTS.pop(next(iter(_ARTIFACTS)))
        _ARTIFACTS[key] = bytes(wasmtime.Module(engine, request.module).serialize())
    return _ARTIFACTS[key]


def _store(engine: wasmtime.Engine, request: RunRequest, stdout: Path, stderr: Path
           ) -> wasmtime.Store:
    """A store for one run: its fuel, its epoch deadline and memory cap when the request
    enforces limits, and WASI with the request's arguments, environment and folder."""
    store = wasmtime.Store(engine)
    if request.fuel is not None:
        store.set_fuel(request.fuel)
    if _epochs(request):  # untrusted code: stop it at the time limit (see _epoch_timer)
        store.set_epoch_deadline(1)
    if request.enforce_limits and request.memory_limit_bytes is not None:
        store.set_limits(memory_size=request.memory_limit_bytes)  # cap linear memory
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["module", *request.argv]
    wasi.env = [list(kv) for kv in request.env]
    wasi.stdout_file = str(stdout)
    wasi.stderr_file = str(stderr)
    if request.workdir is not None:
        wasi.preopen_dir(str(request.workdir), ".")
    store.set_wasi(wasi)
    return store


def _epoch_timer(engine: wasmtime.Engine, request: RunRequest) -> threading.Timer | None:
    """A timer that ends the epoch, and so the run, at the time limit (None: no limit)."""
    if not _epochs(request):
        return None
    timer = threading.Timer(request.timeout_s, engine.increment_epoch)
    timer.daemon = True
    return timer


class _Run:
    """One run in a store: the module compiled or loaded, instantiated and started, each
    phase timed; and what the store holds after it."""

    def __init__(self, engine: wasmtime.Engine, store: wasmtime.Store,
                 request: RunRequest) -> None:
        self.engine = engine
        self.store = store
        self.request = request
        self.linker = wasmtime.Linker(engine)
        self.linker.define_wasi()
        self.phases: dict[str, int] = {}
        self.instance: wasmtime.Instance | None = None
        self.aside_ns = 0  # spent instantiating again: kept out of the wall time and start

    def start(self, artifact: bytes | None) -> None:
        """Compile (or load ``artifact``), instantiate and run ``_start``; a trap raises."""
        t = time.perf_counter_ns()
        if artifact is not None:
            module = wasmtime.Module.deserialize(self.engine, artifact)
            self.phases["load"] = time.perf_counter_ns() - t
        else:
            module = wasmtime.Module(self.engine, self.request.module)
            self.phases["compile"] = time.perf_counter_ns() - t
        t = time.perf_counter_ns()
        self.instance = self.linker.instantiate(self.store, module)
        self.phases["instantiate"] = time.perf_counter_ns() - t
        if self.request.instantiate_again:
            # timed now, in the state the first instance left (not after the guest's run
            # has filled the caches with its own work), and kept out of the run's wall
            # time and time to first instruction
            t = time.perf_counter_ns()
            again = _instantiate_again(self.engine, self.linker, module, self.request)
            self.aside_ns = time.perf_counter_ns() - t
            if again is not None:
                self.phases["instantiate_again"] = again
        entry = self.instance.exports(self.store)["_start"]
        assert isinstance(entry, wasmtime.Func)
        t = time.perf_counter_ns()
        try:
            entry(self.store)
        finally:
            self.phases["run"] = time.perf_counter_ns() - t

    def memory_bytes(self) -> int:
        """The size of the instance's exported memory now (0 without one)."""
        exports = self.instance.exports(self.store) if self.instance else None
        memory = exports.get("memory") if exports is not None else None
        return memory.data_len(self.store) if isinstance(memory, wasmtime.Memory) else 0

    def limit_hit(self, trap: str | None) -> tuple[str | None, str | None]:
        """The limit that stopped the run ('memory', 'time', 'fuel' or None), and its trap
        as the result tells it."""
        limit = self.request.memory_limit_bytes
        if trap and limit and self.memory_bytes() >= 0.9 * limit:
            return "memory", memory_limit_trap(limit, then=trap)
        if trap and "interrupt" in trap:
            return "time", time_limit_trap(self.request.timeout_s)
        if trap and "fuel" in trap:
            return "fuel", trap
        return None, trap

    def read_globals(self) -> dict[str, int] | None:
        """The exported globals the request asked for, by name (None: it asked for none)."""
        prefix = self.request.read_globals
        if prefix is None or self.instance is None:
            return None
        return {name: int(value.value(self.store)) for name, value in
                self.instance.exports(self.store).items()
                if name.startswith(prefix) and isinstance(value, wasmtime.Global)}


class WasmtimeAdapter(RuntimeAdapter):
    name = "wasmtime"

    def availability(self) -> Availability:
        return Availability(True, version=_version(), details={"binding": BINDING})

    def modes(self) -> list[Mode]:
        return list(_MODES)

    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        if request.compile_only:
            return _compile_only(engine_for(mode.name), request.module)
        engine = engine_for(mode.name, fuel=request.fuel is not None,
                            epochs=_epochs(request),
                            single_thread=request.single_thread_compile)
        artifact = _artifact(engine, mode.name, request) if request.precompiled else None
        with tempfile.TemporaryDirectory(prefix="wasm-advisor-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            run = _Run(engine, _store(engine, request, out, err), request)
            timer = _epoch_timer(engine, request)
            realtime, start = RunResult.clock()
            if timer is not None:
                timer.start()
            exit_code, trap = 0, None
            try:
                run.start(artifact)
            except wasmtime.ExitTrap as e:
                exit_code = e.code
            except (wasmtime.Trap, wasmtime.WasmtimeError, KeyError, AssertionError) as e:
                exit_code, trap = 134, _trap_message(e)
            finally:
                if timer is not None:
                    timer.cancel()
            wall = time.perf_counter_ns() - start - run.aside_ns
            limit_hit, trap = run.limit_hit(trap)
            return RunResult(
                exit_code=exit_code,
                stdout=out.read_text(errors="replace") if out.exists() else "",
                stderr=err.read_text(errors="replace") if err.exists() else "",
                host_start_realtime_ns=realtime + run.aside_ns,
                wall_ns=wall,
                phases_ns=run.phases,
                trap=trap,
                artifact_bytes=len(artifact) if artifact is not None else None,
                fuel_consumed=None if request.fuel is None else
                request.fuel - run.store.get_fuel(),
                limit_hit=limit_hit,
                globals=run.read_globals(),
            )

    def instance_memory(self, mode: Mode, module_bytes: bytes, instances: int,
                        code_modules: Sequence[bytes] = (), code_bytes: int = 0
                        ) -> dict[str, Any]:
        """Resident memory of one live instance and of each extra one, in this process;
        with ``code_modules`` (distinct modules of ``code_bytes`` of code each), the memory
        each loaded module's compiled code holds, read while the instances stay live.

        The process's resident memory before the engine exists (the Python
        interpreter and the harness) is the baseline subtracted; the library's pages
        resident then (``library_bytes``) and the engine's own growth
        (``runtime_bytes``) are reported apart.
        """
        if mode.name == "cranelift-pooling":
            instances = min(instances, POOL_SLOTS)  # the pool holds no more live at once
        baseline = resident_bytes()
        library = library_record(_library_path())
        engine = engine_for(mode.name)
        runtime = resident_bytes() - baseline
        module = wasmtime.Module(engine, module_bytes)
        live: list[tuple[wasmtime.Store, wasmtime.Instance]] = []
        with tempfile.TemporaryDirectory(prefix="wasm-advisor-") as tmp:

            def start_one() -> None:
                store = wasmtime.Store(engine)
                wasi = wasmtime.WasiConfig()
                wasi.stdout_file = str(Path(tmp) / f"out{len(live)}")
                store.set_wasi(wasi)
                linker = wasmtime.Linker(engine)
                linker.define_wasi()
                instance = linker.instantiate(store, module)
                entry = instance.exports(store)["_start"]
                assert isinstance(entry, wasmtime.Func)
                entry(store)
                live.append((store, instance))

            resident = []
            for _ in range(instances):
                start_one()
                resident.append(resident_bytes())
            record = growth_record(
                resident, baseline,
                "resident memory of the worker process, Python's baseline subtracted")
            if code_modules:
                loaded, after = [], []
                release_free_memory()  # what was freed before is not theirs
                for copy in code_modules:
                    loaded.append(wasmtime.Module(engine, copy))
                    after.append(resident_bytes())
                record |= module_record(after, code_bytes)
        return {**record, **library, "runtime_bytes": runtime}


@cache
def _library_path() -> str | None:
    """The native library the ``wasmtime`` package loads (``_libwasmtime.so``)."""
    found = sorted(Path(wasmtime.__file__).parent.glob("*/_libwasmtime.*"))
    return str(found[0]) if found else None

