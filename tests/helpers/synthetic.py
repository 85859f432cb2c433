"""Synthetic profiles with known coefficients, for testing the model's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wasm_advisor.profiles._machine import this_machine
from wasm_advisor.profiles._profile import (
    FeatureResult,
    Figure,
    ModeRecord,
    Profile,
    RuntimeRecord,
)

INSTRUCTIONS = {"int": 10, "float": 10, "call": 10}
BASE: dict[str, float] = {
    "int_ns_per_iter": 10.0,  # 1 ns per instruction
    "float_ns_per_iter": 10.0,
    "call_ns_per_iter": 10.0,
    "hostcall_ns_per_iter": 50.0,
    "mem_seq_ns_per_iter": 0.5,
    "mem_rand_ns_per_iter": 5.0,
    "compile_ns_per_code_byte": 100.0,
    "load_ns_per_code_byte": 1.0,
    "instantiate_ns_per_page": 0.0,
    "instantiate_ns_per_data_byte": 0.0,
    "instantiate_ns": 10_000.0,
    "ttfi_ns": 100_000.0,
    "binding_ns": 20_000.0,
    "rss_first_instance_bytes": 1 << 20,
    "rss_per_extra_instance_bytes": 64 << 10,
}
SIZES = (1000.0, 2000.0, 4000.0)


def figure(runtime: str, mode: str, metric: str, value: float, binding: str) -> Figure:
    per_iter = metric.endswith("_per_iter")
    kernel = metric.removesuffix("_ns_per_iter") if per_iter else metric
    slope = metric.endswith(("_per_iter", "_per_code_byte", "_per_page", "_per_data_byte"))
    source = "guest" if per_iter else ("compile" if metric.startswith("compile") else
                                       "load" if metric.startswith("load") else "instantiate")
    samples = [(x, 50.0 + value * x) for x in SIZES for _ in range(3)] if slope else \
        [(0.0, value)] * 3
    params: dict[str, Any] = {"source": source}
    if kernel in INSTRUCTIONS:
        params["instructions_per_iter"] = INSTRUCTIONS[kernel]
    return Figure(runtime=runtime, mode=mode, binding=binding, metric=metric, kernel=kernel,
                  unit="ns", value=value, spread=0.0, runs=len(samples),
                  intercept=50.0 if slope else None, params=params, samples=samples)


def synthetic_profile(modes: dict[str, dict[str, float]],
                      unsupported: dict[str, list[str]] | None = None,
                      machine_id: str | None = None) -> Profile:
    """A profile with one entry per ``runtime:mode`` key: BASE overridden by its dict."""
    figures, features, runtimes = [], [], {}
    for key, overrides in modes.items():
        runtime, mode = key.split(":")
        binding = {"wasmtime": "wasmtime-py", "wasmer": "wasmer-sdk",
                   "wamr": "iwasm CLI"}.get(runtime, "fake-binding")
        if mode.endswith("-embedded"):
            binding = "libiwasm (in-process)"
        for metric, value in {**BASE, **overrides}.items():
            figures.append(figure(runtime, mode, metric, value, binding))
        for feature in ("simd", "threads", "bulk-memory"):
            status = "unsupported" if feature in (unsupported or {}).get(key, []) else "supported"
            features.append(FeatureResult(runtime=runtime, mode=mode, feature=feature,
                                          status=status, detail="probe failed" if
                                          status == "unsupported" else ""))
        runtimes.setdefault(runtime, []).append(
            ModeRecord(name=mode, label=f"{runtime} {mode}", binding=binding,
                       jit=mode not in ("pulley", "fast-interp", "classic-interp", "aot")))
    machine = this_machine()
    if machine_id:
        machine = machine.model_copy(update={"id": machine_id, "hostname": "elsewhere"})
    return Profile(
        created=datetime(2026, 1, 1, tzinfo=UTC), kind="quick", machine=machine,
        duration_s=1.0, figures=figures, features=features,
        runtimes=[RuntimeRecord(name=r, available=True, version="test", modes=m)
                  for r, m in runtimes.items()])
