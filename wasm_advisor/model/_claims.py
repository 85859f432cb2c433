"""The public debate's claims about Wasmtime, Wasmer and WAMR, checked against a profile.

Each check turns one claim into figures from the profile (through the same
cost model that ranks runtimes) and gives a verdict: ``supported``, ``not
supported``, or ``not measurable here`` with the reason. A stated figure
("about 40 %", "15-25 %") counts as supported when the measurement falls in
the stated range widened by 10 percentage points on each side, to allow for
machines and versions; docs/claims.md gives every method and assumption.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace

from ._coefficients import ModeCoefficients
from ._costs import WorkloadFeatures, predict_costs
from ._scoring import ModeEvidence

__all__ = ["CLAIMS", "ClaimResult", "check_claims"]

SUPPORTED, NOT_SUPPORTED, NOT_MEASURABLE = "supported", "not supported", "not measurable here"
TOLERANCE = 0.10


@dataclass(frozen=True)
class ClaimResult:
    id: str
    claim: str
    verdict: str
    figures: str


def _in_range(value: float, low: float, high: float) -> bool:
    return low - TOLERANCE <= value <= high + TOLERANCE


def _modes(evidence: list[ModeEvidence]) -> dict[str, ModeCoefficients]:
    return {e.coefficients.key: e.coefficients for e in evidence}


def _value(m: ModeCoefficients | None, name: str) -> float | None:
    c = m.get(name) if m else None
    return c.value if c else None


def _handler(code_bytes: float, instances_per_load: float) -> WorkloadFeatures:
    return WorkloadFeatures(
        code_bytes=code_bytes, module_bytes=code_bytes * 1.3, requests_per_instance=1,
        instances_per_module_load=instances_per_load, precompiled=False,
        request_rate_per_s=2000, concurrent_instances=16,
        compute_instructions_per_request=200_000, compute_kind="mixed", data_bytes=0,
        host_calls_per_request=10, bytes_per_host_call=256, linear_memory_bytes=1 << 20,
        touched_bytes_per_request=64 << 10, access_pattern="sequential")


def _a_compile_cuts_throughput(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    m = modes.get("wasmtime:cranelift")
    if m is None:
        return NOT_MEASURABLE, "Wasmtime (Cranelift) was not measured"
    compiled_each_time = predict_costs(m, _handler(64 << 10, 1)).throughput_per_core
    compiled_once = predict_costs(m, _handler(64 << 10, 1_000_000)).throughput_per_core
    cut = 1 - compiled_each_time / compiled_once
    verdict = SUPPORTED if _in_range(cut, 0.40, 0.40) else NOT_SUPPORTED
    return verdict, (f"64 KiB of code, a fresh instance per request: compiling every module "
                     f"cuts throughput by {cut:.0%} ({compiled_once:,.0f} → "
                     f"{compiled_each_time:,.0f} requests/s per core)")


def _b_bounds_checks(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    guard, explicit = modes.get("wasmtime:cranelift"), modes.get(
        "wasmtime:cranelift-explicit-bounds")
    if guard is None or explicit is None:
        return NOT_MEASURABLE, "Wasmtime with and without explicit bounds checks not both measured"
    costs = []
    for name in ("mem_seq_ns", "mem_rand_ns"):
        g, e = _value(guard, name), _value(explicit, name)
        if g and e:
            costs.append((name, e / g - 1))
    if not costs:
        return NOT_MEASURABLE, "no memory-access figures"
    mean = statistics.mean(c for _, c in costs)
    verdict = SUPPORTED if _in_range(mean, 0.15, 0.25) else NOT_SUPPORTED
    detail = ", ".join(f"{n.removesuffix('_ns').replace('mem_', '')} {c:+.0%}" for n, c in costs)
    return verdict, f"explicit bounds checks against guard pages: {detail} (mean {mean:+.0%})"


def _best(modes: dict[str, ModeCoefficients], runtime: str, name: str) -> tuple[str, float] | None:
    found = [(k, v) for k, m in modes.items() if k.startswith(f"{runtime}:")
             and (v := _value(m, name)) is not None]
    return min(found, key=lambda kv: kv[1]) if found else None


def _c_host_calls(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    default = _value(modes.get("wasmtime:cranelift"), "hostcall_ns")
    others = [b for r in ("wasmer", "wamr") if (b := _best(modes, r, "hostcall_ns"))]
    if default is None or not others:
        return NOT_MEASURABLE, "Wasmtime (Cranelift) and at least one other runtime are needed"
    costlier = all(default > v for _, v in others)
    text = ", ".join(f"{k} {v:.0f} ns" for k, v in [("wasmtime:cranelift", default), *others])
    return (SUPPORTED if costlier else NOT_SUPPORTED), (
        f"one WASI call and back (Wasmtime's default mode against each other runtime's "
        f"best): {text}")


def _in_process(modes: dict[str, ModeCoefficients], runtime: str) -> dict[str, ModeCoefficients]:
    """``runtime``'s modes whose instances live in one process (not WAMR's iwasm CLI)."""
    return {k: m for k, m in modes.items()
            if k.startswith(f"{runtime}:") and not m.process_per_instance}


def _d_memory(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    wasmer = _best(modes, "wasmer", "rss_per_extra_instance_bytes")
    wamr = _best(_in_process(modes, "wamr"), "wamr", "rss_per_extra_instance_bytes")
    if wasmer is None or wamr is None:
        if wasmer is not None and any(k.startswith("wamr:") for k in modes):
            return NOT_MEASURABLE, ("WAMR embedded in-process is needed: through the iwasm CLI "
                                    "an instance is a process of its own, not an embedded "
                                    "instance (give a libiwasm.so: docs/runtimes.md)")
        return NOT_MEASURABLE, "Wasmer and WAMR are both needed"

    def kib(value: float) -> str:  # a fall in resident memory is noise, not a negative cost
        return f"{value / 1024:,.0f} KiB" if value >= 0 else \
            f"0 KiB (measured {value / 1024:,.0f} KiB: below the noise)"

    text = f"per extra instance: {wasmer[0]} {kib(wasmer[1])}, {wamr[0]} {kib(wamr[1])}"
    ratio = max(0.0, wasmer[1]) / wamr[1] if wamr[1] > 0 else float("inf")
    return (SUPPORTED if _in_range(ratio / 2, 0.9, 1.1) else NOT_SUPPORTED), (
        text + f" (ratio {ratio:.1f}×; wasmer-sdk's instance is a WASIX sandbox)")


def _e_first_execution(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    wasmer, wasmtime = modes.get("wasmer:cranelift"), modes.get("wasmtime:cranelift")
    if wasmer is None or wasmtime is None:
        return NOT_MEASURABLE, "Wasmer and Wasmtime (Cranelift) are both needed"
    features = _handler(1 << 20, 1)
    whole = predict_costs(wasmer, features).ttfi_ns / predict_costs(wasmtime, features).ttfi_ns
    compile_ratio = (_value(wasmer, "compile_ns_per_code_byte") or 0) / (
        _value(wasmtime, "compile_ns_per_code_byte") or 1)
    slower = compile_ratio - 1
    verdict = SUPPORTED if _in_range(slower, 0.30, 0.50) else NOT_SUPPORTED
    return verdict, (f"1 MiB of code: compiling is {slower:+.0%} against Wasmtime (engine only); "
                     f"bytes to first instruction {whole:.2f}× including wasmer-sdk's sandbox")


FOOTPRINT_FIGURES = ("rss_library_bytes", "rss_module_bytes_per_code_byte")


def _f_not_measurable(modes: dict[str, ModeCoefficients],
                      embedded: list[ModeCoefficients]) -> str | None:
    """Why claim (f) cannot be judged on ``modes``, or None."""
    if not embedded:
        cli = modes.get("wamr:fast-interp") or modes.get("wamr:classic-interp")
        return (f"{cli.key} runs through the iwasm CLI only: an instance is a process, whose "
                "memory and start cannot be told from an embedded runtime's (give a "
                "libiwasm.so: docs/runtimes.md)" if cli else "no WAMR interpreter was measured")
    lacking = sorted(k for k, m in modes.items() if not m.process_per_instance
                     and any(m.get(f) is None for f in FOOTPRINT_FIGURES))
    if lacking:
        return (f"{', '.join(lacking)}: no footprint or module-memory figure in the profile "
                "(recalibrate them), so the deployments do not compare")
    return None


def _f_wamr_interpreter(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    embedded = [m for k in ("wamr:fast-interp-embedded", "wamr:classic-interp-embedded")
                if (m := modes.get(k)) is not None]
    why = _f_not_measurable(modes, embedded)
    if why is not None:
        return NOT_MEASURABLE, why
    others = {k: m for k, m in modes.items() if not m.process_per_instance}
    features = replace(_handler(64 << 10, 1_000_000), linear_memory_bytes=64 << 10)
    memory = {k: predict_costs(m, features).memory_total_bytes for k, m in others.items()}
    start = {k: v for k, m in others.items() if (v := _value(m, "instantiate_ns")) is not None}
    wamr = min(embedded, key=lambda m: memory[m.key]).key
    lowest, fastest = min(memory, key=memory.__getitem__), min(start, key=start.__getitem__)
    best_other = min((k for k in memory if not k.startswith("wamr:")), key=memory.__getitem__,
                     default=None)

    def mib(key: str) -> str:
        return f"{key} {memory[key] / 2**20:.1f} MiB"

    def us(key: str) -> str:
        return f"{key} {start[key] / 1e3:.1f} µs" if key in start else f"{key} not measured"

    text = (f"a deployment of 16 instances of a 64 KiB-code module with 64 KiB of linear "
            f"memory, runtime footprint included: {mib(wamr)}"
            + (f", lowest elsewhere {mib(best_other)}" if best_other else "")
            + f"; lowest of all {mib(lowest)}; instantiation: {us(wamr)}, fastest "
            f"{us(fastest)}; predictable latency is not judged (a spread of repeated runs is "
            "not a latency distribution)")
    interpreters = {m.key for m in embedded}
    holds = lowest in interpreters and fastest in interpreters
    return (SUPPORTED if holds else NOT_SUPPORTED), text


def _g_long_compute(modes: dict[str, ModeCoefficients]) -> tuple[str, str]:
    wasmer = modes.get("wasmer:cranelift")
    if wasmer is None:
        return NOT_MEASURABLE, "Wasmer was not measured"
    per_instr: dict[str, float] = {}
    for key, m in modes.items():
        values = []
        for kernel in ("int", "float", "call"):
            v, n = _value(m, f"{kernel}_ns_per_iter"), m.instructions_per_iter.get(kernel)
            if v is not None and n:
                values.append(v / n)
        if len(values) == 3:
            per_instr[key] = statistics.mean(values)
    best_key = min(per_instr, key=per_instr.__getitem__)
    ratio = per_instr["wasmer:cranelift"] / per_instr[best_key]
    verdict = SUPPORTED if ratio <= 1.05 else NOT_SUPPORTED
    top = sorted(per_instr.items(), key=lambda kv: kv[1])[:4]
    return verdict, ("compute ns per instruction (mean of int, float, call): " + ", ".join(
        f"{k} {v:.3f}" for k, v in top) + f"; Wasmer is {ratio:.2f}× the best")


CLAIMS: list[tuple[str, str, Callable[[dict[str, ModeCoefficients]], tuple[str, str]]]] = [
    ("a", "For thousands of small modules instantiated per second, Wasmtime's compile cost "
          "cuts throughput by about 40 %", _a_compile_cuts_throughput),
    ("b", "Wasmtime's bounds checks cost 15-25 % on memory-heavy code", _b_bounds_checks),
    ("c", "Wasmtime's host calls are costlier than the others'", _c_host_calls),
    ("d", "Wasmer needs about 2x the memory per instance of WAMR", _d_memory),
    ("e", "Wasmer's time to first execution is 30-50 % slower", _e_first_execution),
    ("f", "WAMR's interpreter gives the lowest memory and predictable latency, and its "
          "instantiation is the fastest", _f_wamr_interpreter),
    ("g", "Long compute jobs favour Wasmer's optimising compilers", _g_long_compute),
]


def check_claims(evidence: list[ModeEvidence]) -> list[ClaimResult]:
    """Every claim's verdict and figures for the runtimes/modes in ``evidence``."""
    modes = _modes(evidence)
    return [ClaimResult(cid, text, *check(modes)) for cid, text, check in CLAIMS]
