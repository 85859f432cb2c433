"""Which WebAssembly proposals a module uses, decided by Wasmtime's own validator.

For each proposal we build an engine with that proposal (and the proposals
that depend on it) switched off and validate the module: if validation fails,
the module needs the proposal. Validation is exact and fast (milliseconds for
a megabyte of code), and no code is compiled or run.

The engine configurations are fixed; inconsistent ones make Wasmtime abort the
process, so every configuration here is exercised by the test suite.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from functools import cache

import wasmtime
import wasmtime._bindings as _bindings

__all__ = ["WasmFeature", "features_used", "validate_module"]


class WasmFeature(StrEnum):
    """A WebAssembly proposal a module may need from its runtime."""

    SIMD = "simd"
    RELAXED_SIMD = "relaxed-simd"
    THREADS = "threads"
    MEMORY64 = "memory64"
    MULTI_MEMORY = "multi-memory"
    TAIL_CALL = "tail-call"
    EXCEPTIONS = "exceptions"
    REFERENCE_TYPES = "reference-types"
    BULK_MEMORY = "bulk-memory"
    FUNCTION_REFERENCES = "function-references"
    GC = "gc"
    MULTI_VALUE = "multi-value"
    WIDE_ARITHMETIC = "wide-arithmetic"
    CUSTOM_PAGE_SIZES = "custom-page-sizes"


_CONFIG_FLAGS = (
    "wasm_simd",
    "wasm_relaxed_simd",
    "wasm_threads",
    "shared_memory",
    "wasm_memory64",
    "wasm_multi_memory",
    "wasm_tail_call",
    "wasm_exceptions",
    "wasm_reference_types",
    "wasm_bulk_memory",
    "wasm_function_references",
    "wasm_gc",
    "wasm_multi_value",
    "wasm_wide_arithmetic",
    "wasm_custom_page_sizes",
)

# Switching a proposal off means switching off what depends on it too.
_SWITCHED_OFF: dict[WasmFeature, frozenset[str]] = {
    WasmFeature.SIMD: frozenset({"wasm_simd", "wasm_relaxed_simd"}),
    WasmFeature.RELAXED_SIMD: frozenset({"wasm_relaxed_simd"}),
    WasmFeature.THREADS: frozenset({"wasm_threads", "shared_memory"}),
    WasmFeature.MEMORY64: frozenset({"wasm_memory64"}),
    WasmFeature.MULTI_MEMORY: frozenset({"wasm_multi_memory"}),
    WasmFeature.TAIL_CALL: frozenset({"wasm_tail_call"}),
    WasmFeature.EXCEPTIONS: frozenset({"wasm_exceptions"}),
    WasmFeature.REFERENCE_TYPES: frozenset(
        {"wasm_reference_types", "wasm_function_references", "wasm_gc", "wasm_exceptions"}
    ),
    WasmFeature.BULK_MEMORY: frozenset({"wasm_bulk_memory"}),
    WasmFeature.FUNCTION_REFERENCES: frozenset({"wasm_function_references", "wasm_gc"}),
    WasmFeature.GC: frozenset({"wasm_gc"}),
    WasmFeature.MULTI_VALUE: frozenset({"wasm_multi_value"}),
    WasmFeature.WIDE_ARITHMETIC: frozenset({"wasm_wide_arithmetic"}),
    WasmFeature.CUSTOM_PAGE_SIZES: frozenset({"wasm_custom_page_sizes"}),
}
_FLAG_OWNER = {
    "wasm_relaxed_simd": WasmFeature.RELAXED_SIMD,
    "wasm_function_references": WasmFeature.FUNCTION_REFERENCES,
    "wasm_gc": WasmFeature.GC,
    "wasm_exceptions": WasmFeature.EXCEPTIONS,
    "shared_memory": WasmFeature.THREADS,
}
_lock = threading.Lock()


def _engine(off: frozenset[str]) -> wasmtime.Engine:
    config = wasmtime.Config()
    # The component model's async features require reference types; this
    # reader only looks at core modules, so the component model is off.
    config.wasm_component_model = False
    for setter in (
        _bindings.wasmtime_config_wasm_component_model_async_set,
        _bindings.wasmtime_config_wasm_component_model_async_stackful_set,
        _bindings.wasmtime_config_wasm_component_model_more_async_builtins_set,
    ):
        setter(config.ptr(), False)
    for flag in _CONFIG_FLAGS:
        setattr(config, flag, flag not in off)
    return wasmtime.Engine(config)


@cache
def _engines() -> tuple[wasmtime.Engine, dict[WasmFeature, wasmtime.Engine]]:
    return _engine(frozenset()), {f: _engine(off) for f, off in _SWITCHED_OFF.items()}


def _validates(engine: wasmtime.Engine, data: bytes) -> str | None:
    try:
        wasmtime.Module.validate(engine, data)
    except wasmtime.WasmtimeError as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else "invalid module"
    return None


def validate_module(data: bytes) -> str | None:
    """``None`` when ``data`` is a valid core module with every proposal on, else the reason."""
    with _lock:
        everything, _ = _engines()
        return _validates(everything, data)


def features_used(data: bytes) -> frozenset[WasmFeature]:
    """The proposals a valid module needs (call :func:`validate_module` first)."""
    with _lock:
        _, probes = _engines()
        failing = {f for f, engine in probes.items() if _validates(engine, data) is not None}
    used = set()
    for feature in failing:
        # A probe that switched off a dependent proposal too may fail because of
        # that one: credit the failure to the dependent when its own probe failed.
        others = {_FLAG_OWNER.get(flag) for flag in _SWITCHED_OFF[feature]} - {feature, None}
        if not (others & failing):
            used.add(feature)
    if WasmFeature.RELAXED_SIMD in used:
        used.add(WasmFeature.SIMD)
    return frozenset(used)
