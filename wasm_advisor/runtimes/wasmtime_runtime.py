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

import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import wasmtime
import wasmtime._bindings as _bindings

from .base import Availability, Mode, RunRequest, RunResult, RuntimeAdapter

__all__ = ["WasmtimeAdapter"]

BINDING = "wasmtime-py"
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


def engine_for(mode: str, fuel: bool = False) -> wasmtime.Engine:
    """A Wasmtime engine configured for ``mode``."""
    config = wasmtime.Config()
    config.consume_fuel = fuel
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
        _bindings.wasmtime_pooling_allocation_config_total_core_instances_set(pool, 256)
        _bindings.wasmtime_pooling_allocation_config_total_memories_set(pool, 256)
        _bindings.wasmtime_pooling_allocation_config_total_tables_set(pool, 256)
        _bindings.wasmtime_pooling_allocation_config_max_memory_size_set(pool, 1 << 30)
        _bindings.wasmtime_pooling_allocation_config_max_memories_per_module_set(pool, 4)
        _bindings.wasmtime_pooling_allocation_config_max_tables_per_module_set(pool, 4)
        _bindings.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
        _bindings.wasmtime_pooling_allocation_config_delete(pool)
    elif mode != "cranelift":
        raise ValueError(f"unknown Wasmtime mode {mode!r}")
    return wasmtime.Engine(config)


class WasmtimeAdapter(RuntimeAdapter):
    name = "wasmtime"

    def availability(self) -> Availability:
        return Availability(True, version=_version(), details={"binding": BINDING})

    def modes(self) -> list[Mode]:
        return list(_MODES)

    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        engine = engine_for(mode.name, fuel=request.fuel is not None)
        artifact = None
        if request.precompiled:
            artifact = wasmtime.Module(engine, request.module).serialize()
        with tempfile.TemporaryDirectory(prefix="wasm-advisor-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            store = wasmtime.Store(engine)
            if request.fuel is not None:
                store.set_fuel(request.fuel)
            wasi = wasmtime.WasiConfig()
            wasi.argv = ["module", *request.argv]
            wasi.env = [list(kv) for kv in request.env]
            wasi.stdout_file = str(out)
            wasi.stderr_file = str(err)
            if request.workdir is not None:
                wasi.preopen_dir(str(request.workdir), ".")
            store.set_wasi(wasi)
            linker = wasmtime.Linker(engine)
            linker.define_wasi()
            phases: dict[str, int] = {}
            exit_code, trap = 0, None
            realtime, start = RunResult.clock()
            try:
                t = time.perf_counter_ns()
                if artifact is not None:
                    module = wasmtime.Module.deserialize(engine, artifact)
                    phases["load"] = time.perf_counter_ns() - t
                else:
                    module = wasmtime.Module(engine, request.module)
                    phases["compile"] = time.perf_counter_ns() - t
                t = time.perf_counter_ns()
                instance = linker.instantiate(store, module)
                phases["instantiate"] = time.perf_counter_ns() - t
                entry = instance.exports(store)["_start"]
                assert isinstance(entry, wasmtime.Func)
                t = time.perf_counter_ns()
                try:
                    entry(store)
                finally:
                    phases["run"] = time.perf_counter_ns() - t
            except wasmtime.ExitTrap as e:
                exit_code = e.code
            except (wasmtime.Trap, wasmtime.WasmtimeError, KeyError, AssertionError) as e:
                exit_code, trap = 134, (str(e).strip().splitlines() or ["trap"])[0]
            wall = time.perf_counter_ns() - start
            return RunResult(
                exit_code=exit_code,
                stdout=out.read_text(errors="replace") if out.exists() else "",
                stderr=err.read_text(errors="replace") if err.exists() else "",
                host_start_realtime_ns=realtime,
                wall_ns=wall,
                phases_ns=phases,
                trap=trap,
                artifact_bytes=len(artifact) if artifact is not None else None,
            )

    def instance_memory(self, mode: Mode, module_bytes: bytes, extra: int) -> dict[str, Any]:
        """Resident memory of one live instance and of each extra one, in this process.

        The process's resident memory before the engine exists (the Python
        interpreter and the harness) is the baseline subtracted.
        """
        process = psutil.Process()
        baseline = process.memory_info().rss
        engine = engine_for(mode.name)
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

            start_one()
            first = process.memory_info().rss
            for _ in range(extra):
                start_one()
            after = process.memory_info().rss
        return {
            "first_instance_bytes": first - baseline,
            "per_extra_instance_bytes": (after - first) / extra,
            "instances": extra + 1,
            "method": "resident memory of the worker process, Python's baseline subtracted",
        }
