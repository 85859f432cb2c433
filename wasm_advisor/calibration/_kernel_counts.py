"""What one iteration of a calibration kernel executes: counted, not timed.

Each kernel's exported loop runs in Wasmtime at two sizes, under fuel metering (the
instructions it executes) or as its counting copy (:mod:`wasm_advisor.wasm._instruction_mix`:
instructions by class, and the block-end scans WAMR's classic interpreter would make);
the difference over the difference in size is what one iteration counts. The kernels
are the guest kernels (:mod:`.kernels`) and the instruction-mix family's
(:mod:`._mix_kernels`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

import wasmtime

from ..wasm import CLASSES, EXPORT_PREFIX, counting_module
from ._mix_kernels import mix_family_module, mix_kernel_export
from .kernels import PAGE, KernelPlan, guest_kernel

__all__ = ["COUNT_SIZES", "class_counts_per_iteration", "instructions_per_iteration",
           "scan_ops_per_iteration", "simd_ops_per_iteration"]

# iterations a kernel's instructions are counted between: past the loop's first
# thousand, where 'mixed' still fills its buffer (40 instructions an iteration counted
# between 100 and 200, against the 45.8 it runs at the sizes it is timed at)
COUNT_SIZES = (4096, 8192)


def _per_iteration(module_bytes: bytes, fuel: bool, read: Callable[[wasmtime.Store,
                   Mapping[str, object]], Mapping[str, int]], export: str = "kernel"
                   ) -> dict[str, float]:
    """What ``read`` counts (by name) per iteration of a kernel's exported loop (``export``):
    run at :data:`COUNT_SIZES` iterations, the difference over the difference in size
    (which leaves out anything counted once, before the loop or on its first pass). A
    module that exports ``setup`` (the memory its kernels read) has it run first."""
    engine, module = _compiled(module_bytes, fuel)
    counted = []
    for n in COUNT_SIZES:
        store = wasmtime.Store(engine)
        store.set_wasi(wasmtime.WasiConfig())
        if fuel:
            store.set_fuel(1 << 40)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        exports = dict(linker.instantiate(store, module).exports(store).items())
        setup = exports.get("setup")
        if isinstance(setup, wasmtime.Func):
            setup(store)
        kernel = exports[export]
        assert isinstance(kernel, wasmtime.Func)
        kernel(store, n)
        counted.append(read(store, exports))
    return {k: (counted[1][k] - counted[0][k]) / (COUNT_SIZES[1] - COUNT_SIZES[0])
            for k in counted[0]}


@cache
def instructions_per_iteration(name: str) -> int:
    """WebAssembly instructions one iteration of kernel ``name`` executes (Wasmtime fuel).

    Counted, not timed: the kernel's exported loop runs at two sizes under
    fuel metering, and the difference is divided by the difference in size.
    """
    module, export = _counted_kernel(name)
    return int(_per_iteration(module, True,
                              lambda store, _: {"fuel": (1 << 40) - store.get_fuel()},
                              export)["fuel"])


@cache
def _compiled(module_bytes: bytes, fuel: bool) -> tuple[wasmtime.Engine, wasmtime.Module]:
    """``module_bytes`` compiled once per process: the instruction-mix family's 24 kernels
    are counted in one module, which compiling again for each (twice: fuel and the counting
    copy) made most of the 2.8 s the counts took in a calibration's analysis."""
    config = wasmtime.Config()
    config.consume_fuel = fuel
    engine = wasmtime.Engine(config)
    return engine, wasmtime.Module(engine, module_bytes)


@cache
def _counted_kernel(name: str) -> tuple[bytes, str]:
    """The module that holds kernel ``name`` (a guest kernel, or one of the instruction-mix
    family's), at a page of working set, and the name its loop is exported by."""
    plan = KernelPlan(working_set_bytes=PAGE)
    export = mix_kernel_export(name)
    return (mix_family_module(plan), export) if export else (guest_kernel(name, plan), "kernel")


@cache
def _counted_per_iteration(name: str) -> dict[str, float]:
    """What each of the counting copy's globals counts per iteration of kernel ``name``
    (see :mod:`wasm_advisor.wasm._instruction_mix`), from one run at two sizes like
    :func:`instructions_per_iteration`."""

    def counted(store: wasmtime.Store, exports: Mapping[str, object]) -> dict[str, int]:
        return {k: int(v.value(store)) for k, v in exports.items()
                if k.startswith("__") and isinstance(v, wasmtime.Global)}

    module, export = _counted_kernel(name)
    return _per_iteration(_counting_copy(module), False, counted, export)


@cache
def _counting_copy(module: bytes) -> bytes:
    return counting_module(module, "a calibration kernel")


def class_counts_per_iteration(name: str) -> dict[str, float]:
    """Instructions of each class (:data:`wasm_advisor.wasm.CLASSES`) per iteration of
    kernel ``name``, as the counting copy counts a program's."""
    counted = _counted_per_iteration(name)
    return {c: counted[EXPORT_PREFIX + c] for c in CLASSES}


def scan_ops_per_iteration(name: str) -> float:
    """Instructions WAMR's classic interpreter scans per iteration of kernel ``name``,
    looking for block ends it has not cached: the difference of two sizes leaves out
    the first pass, which fills the cache."""
    return _counted_per_iteration(name)["__scan_ops"]


def simd_ops_per_iteration(name: str) -> float:
    """SIMD (v128) instructions per iteration of kernel ``name``."""
    return _counted_per_iteration(name)["__mix_simd"]
