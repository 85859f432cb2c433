"""The cost model's arithmetic: a workload and a mode's coefficients give named components.

Every predicted figure is a sum of named components, each with a one-sigma
uncertainty from the spread of the measurements behind its coefficient:

- ``compile`` / ``load artifact`` / ``load and prepare``: compiling the module
  (or loading a precompiled artifact; for an interpreter, loading and
  preparing its code), once per module load, shared by
  ``instances_per_module_load × requests_per_instance`` requests;
- ``instantiate``: the engine's own instantiation (where the binding exposes
  it; the steady state, measured on repeat instances), plus any per-page cost
  of the initial memory and per-byte cost of the data segments;
- ``first instance``: what a module's first instantiation costs beyond that
  (the engine's lazy set-up of the module), once per module load;
- ``compile as it runs``: for an engine that compiles a function when it is
  first called (WAMR's LLVM JIT), the code that runs × what running code costs
  beyond loading it (the slope of a code family whose every function runs, less
  the ordinary code family's), once per module load; the code that runs is what
  ``verify`` counted, else all of the module's;
- ``binding``: the fixed cost of starting an instance through the binding
  (``wasmtime-py`` store and WASI setup, the ``wasmer-sdk`` sandbox, an ``iwasm``
  process), shown apart from the engine; where the binding cannot separate
  instantiation from its own start, it includes instantiation and says so;
- ``compute``: instructions × ns per instruction of the declared kind, plus,
  where ``verify`` has counted them, the instructions WAMR's classic
  interpreter scans to find the ends of blocks it has not cached × ns per
  scanned instruction (measured as the slope between the ``block_exit``
  kernels, which differ only in what such a scan passes over), charged only
  to an engine that scans (``scans_block_ends`` in the traits table);
- ``host calls``: calls × ns per call, plus the bytes copied at the
  sequential-access rate;
- ``memory traffic``: bytes touched / 8 × ns per 8-byte access for the pattern.

The components make a :class:`~._prediction.Prediction`, which sums them into figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..wasm import CLASSES
from ._coefficients import Coefficient, ModeCoefficients
from ._prediction import Component, Kind, Prediction
from ._startup_transfer import apply_transfer

if TYPE_CHECKING:
    from ..workload import Workload

__all__ = ["WorkloadFeatures", "block_scan_ns_per_op", "compiled_code_bytes",
           "compute_ns_per_instruction", "missing_coefficients", "predict_costs"]

PAGE = 65536
EMPTY_MODULE_CODE_BYTES = 200  # code in the calibration's empty module
# Real code is costed as the mean of the 'int' kernel (a chain of dependent i32
# operations) and the 'typical' one (generated functions with frames, calls and short
# loops); 'integer' code is the chain alone, and 'float' and 'call-heavy' code their own
# kernel with 'typical'. The 'mixed' kernel (a hot loop of independent loads, branches and
# arithmetic) is left out: compilers run it at some 50 instructions a nanosecond; costed
# with it every compiled mode came out at half its measured time on real programs
# (docs/model.md, "Which kernels cost real code").
KERNELS_BY_KIND = {"integer": ("int",), "float": ("float", "typical"),
                   "call-heavy": ("call", "typical"), "mixed": ("int", "typical")}
# interpreters in profiles whose 'typical' kernel called a new function every time:
# there they paid two to three times real code's cost per instruction for it (their
# dispatch mispredicted; docs/methodology.md), so the 'int' kernel stands in for it.
# Compiled code barely noticed, and keeps it.
SINGLE_CALL_TYPICAL_KERNELS = {"integer": ("int",), "float": ("float", "int"),
                               "call-heavy": ("call", "int"), "mixed": ("int",)}
# profiles made before the 'typical' kernel, and before the 'mixed' one
MIXED_PROFILE_KERNELS = {"integer": ("int", "mixed"), "float": ("float", "mixed"),
                         "call-heavy": ("call", "mixed"), "mixed": ("mixed",)}
OLD_PROFILE_KERNELS = {"integer": ("int",), "float": ("float",), "call-heavy": ("call",),
                       "mixed": ("int", "float", "call")}

REQUIRED = ("int_ns_per_iter", "float_ns_per_iter", "call_ns_per_iter", "hostcall_ns",
            "mem_seq_ns", "mem_rand_ns", "compile_ns_per_code_byte", "ttfi_ns")


@dataclass(frozen=True)
class WorkloadFeatures:
    """The numbers of a workload the model uses (no validation: sweeps set them freely)."""

    code_bytes: float
    module_bytes: float
    requests_per_instance: float
    instances_per_module_load: float
    precompiled: bool
    request_rate_per_s: float
    concurrent_instances: float
    compute_instructions_per_request: float
    compute_kind: str
    data_bytes: float
    host_calls_per_request: float
    bytes_per_host_call: float
    linear_memory_bytes: float
    touched_bytes_per_request: float
    access_pattern: str
    # instructions WAMR's classic interpreter scans for block ends: counted by verify
    block_scan_ops_per_request: float = 0.0
    # SIMD (v128) instructions among the compute instructions: counted by verify
    simd_instructions_per_request: float = 0.0
    # code bytes of the functions that run: counted by verify; None: all of the code
    ran_code_bytes: float | None = None
    # functions a table or an export reaches (read from the module); None: not known,
    # taken as dense as in the calibration's code
    escaping_functions: float | None = None
    # bytes of the largest function body (read from the module); None: not known, the code
    # taken to spread over an engine's compile threads as evenly as the calibration's does
    largest_function_bytes: float | None = None
    # different modules loaded at once, each holding its compiled code
    distinct_modules: float = 1.0
    # instructions of each class (wasm.CLASSES order) per compute instruction: counted by
    # verify; None: the declared compute kind's kernels stand in for it
    instruction_mix: tuple[float, ...] | None = None

    @classmethod
    def from_workload(cls, w: Workload) -> WorkloadFeatures:
        return cls(
            code_bytes=float(w.code_bytes),
            module_bytes=float(w.module.module_bytes or 0),
            requests_per_instance=float(w.instances.requests_per_instance),
            instances_per_module_load=float(w.instances.instances_per_module_load),
            precompiled=bool(w.instances.precompiled),
            request_rate_per_s=float(w.instances.request_rate_per_s),
            concurrent_instances=float(w.instances.concurrent_instances),
            compute_instructions_per_request=float(w.work.compute_instructions_per_request),
            compute_kind=str(w.work.compute_kind),
            data_bytes=float(w.module.data_bytes or 0),
            host_calls_per_request=float(w.work.host_calls_per_request),
            bytes_per_host_call=float(w.work.bytes_per_host_call),
            linear_memory_bytes=float(w.memory.linear_memory_bytes),
            touched_bytes_per_request=float(w.memory.touched_bytes_per_request),
            access_pattern=str(w.memory.access_pattern),
            escaping_functions=None if w.module.escaping_functions is None
            else float(w.module.escaping_functions),
            largest_function_bytes=None if w.module.largest_function_bytes is None
            else float(w.module.largest_function_bytes),
            distinct_modules=float(w.instances.distinct_modules),
        )

    def with_value(self, field_name: str, value: float) -> WorkloadFeatures:
        """A copy with one field changed; ``module_bytes`` scales the code with it."""

        if field_name == "module_bytes":
            ratio = self.code_bytes / self.module_bytes if self.module_bytes else 1.0
            largest = self.largest_function_bytes
            scale = value / self.module_bytes if self.module_bytes else 1.0
            return replace(self, module_bytes=value, code_bytes=value * ratio,
                           largest_function_bytes=None if largest is None else largest * scale)
        changes: dict[str, Any] = {field_name: value}
        return replace(self, **changes)


def _part(coefficient: Coefficient | None, amount: float) -> tuple[float, float]:
    """A coefficient times an amount: its value and one-sigma uncertainty."""
    if coefficient is None:
        return 0.0, 0.0
    value = max(0.0, coefficient.value) * amount
    return value, value * coefficient.rel_sigma


def _c(kind: Kind, coefficient: Coefficient | None, amount: float) -> Component:
    return Component(kind, *_part(coefficient, amount))


def missing_coefficients(coefficients: ModeCoefficients) -> list[str]:
    """The coefficients the model needs that this mode's profile does not have."""
    return [name for name in REQUIRED if coefficients.get(name) is None]


def block_scan_ns_per_op(m: ModeCoefficients) -> Coefficient | None:
    """ns per instruction a scan for a block's end passes over: the slope between the two
    ``block_exit`` kernels, which run the same instructions and differ in what is scanned.

    None for an engine that does not scan (``scans_block_ends`` in the traits table): the
    kernels differ in the code their branches jump over too, and an engine that knows its
    blocks' ends can run the long one a little slower for that (WAMR's fast interpreter,
    by 8-10 %: 0.002 ns per instruction the other would scan). Charged for the scans of a
    program that branches out of thousands of blocks, that was twice its whole run."""
    short, long_ = m.get("block_exit_short_ns_per_iter"), m.get("block_exit_long_ns_per_iter")
    near, far = (m.scan_ops_per_iter.get(f"block_exit_{k}") for k in ("short", "long"))
    if not m.scans_block_ends or short is None or long_ is None or not near or not far \
            or far <= near:
        return None
    value = max(0.0, (long_.value - short.value) / (far - near))
    spread = math.hypot(long_.value * long_.rel_sigma, short.value * short.rel_sigma)
    spread /= far - near
    return Coefficient(value, 0.0, spread / value if value else 0.0, "guest")


def _single_call_interpreter(m: ModeCoefficients) -> bool:
    """An interpreter whose profile's 'typical' kernel called a new function every time."""
    return m.single_call_typical and not m.jit and not m.precompiled_mode \
        and m.get("typical_ns_per_iter") is not None


def _kernels_by_kind(m: ModeCoefficients) -> dict[str, tuple[str, ...]]:
    """Which kernels cost each compute kind, by the kernels ``m``'s profile has."""
    if _single_call_interpreter(m):
        return SINGLE_CALL_TYPICAL_KERNELS
    if m.get("typical_ns_per_iter"):
        return KERNELS_BY_KIND
    return MIXED_PROFILE_KERNELS if m.get("mixed_ns_per_iter") else OLD_PROFILE_KERNELS


def _ns_per_instruction(m: ModeCoefficients, kind: str) -> Coefficient | None:
    per_kernel = []
    table = _kernels_by_kind(m)
    scan = block_scan_ns_per_op(m)
    for kernel in table.get(kind, table["mixed"]):
        c = m.get(f"{kernel}_ns_per_iter")
        count = m.instructions_per_iter.get(kernel)
        if c is None or not count:
            return None
        # a kernel's own block-end scans are not part of its cost per instruction
        scanned = (scan.value if scan else 0.0) * m.scan_ops_per_iter.get(kernel, 0.0)
        value = max(0.0, c.value - scanned)
        per_kernel.append(Coefficient(value / count, 0.0, c.rel_sigma * c.value / value
                                      if value else 0.0, "guest", c.runs))
    value = sum(c.value for c in per_kernel) / len(per_kernel)
    sigma = math.sqrt(sum((c.value * c.rel_sigma) ** 2 for c in per_kernel)) / len(per_kernel)
    return Coefficient(value, 0.0, sigma / value if value else 0.0, "guest")


def compute_ns_per_instruction(m: ModeCoefficients, f: WorkloadFeatures) -> Coefficient | None:
    """ns per compute instruction of workload ``f``.

    Where ``m``'s profile has prices per instruction class (:mod:`._instruction_costs`):
    the workload's counted mix (``f.instruction_mix``), or else the mix of the kernels its
    declared kind names (:data:`KERNELS_BY_KIND`), priced class by class; its spread is the
    price fit's error out of sample. Otherwise (a profile made before the instruction-mix
    family) :func:`_blended_ns_per_instruction`.
    """
    shares = f.instruction_mix or _kind_mix(m, f.compute_kind)
    if m.class_ns and shares is not None:
        value = sum(share * m.class_ns.get(c, 0.0)
                    for c, share in zip(CLASSES, shares, strict=True))
        return Coefficient(value, 0.0, m.compute_log_sigma, "guest")
    return _blended_ns_per_instruction(m, f)


def _kind_mix(m: ModeCoefficients, kind: str) -> tuple[float, ...] | None:
    """The mix per instruction of the kernels that stand in for compute of ``kind``."""
    kernels = KERNELS_BY_KIND.get(kind, KERNELS_BY_KIND["mixed"])
    if not all(k in m.kernel_mix for k in kernels):
        return None
    return tuple(sum(m.kernel_mix[k].get(c, 0.0) for k in kernels) / len(kernels)
                 for c in CLASSES)


def _blended_ns_per_instruction(m: ModeCoefficients, f: WorkloadFeatures
                                ) -> Coefficient | None:
    """ns per compute instruction by the kernels alone: the cost for ``f``'s kind, blended
    with the ``simd`` kernel's by the workload's share of SIMD instructions.

    The blend's weight is that share over the kernel's own (a program with as large a
    share as the kernel, or larger, is costed as the kernel): SIMD code is not SIMD
    instructions alone, but the locals, loads and address arithmetic around them, which
    an interpreter handles at v128 width too.
    """
    base = _ns_per_instruction(m, f.compute_kind)
    simd = m.get("simd_ns_per_iter")
    count, vector = m.instructions_per_iter.get("simd"), m.simd_ops_per_iter.get("simd")
    if base is None or simd is None or not count or not vector or \
            f.simd_instructions_per_request <= 0 or f.compute_instructions_per_request <= 0:
        return base
    share = f.simd_instructions_per_request / f.compute_instructions_per_request
    weight = min(1.0, share / (vector / count))
    per_simd = simd.value / count
    value = (1 - weight) * base.value + weight * per_simd
    sigma = math.hypot((1 - weight) * base.value * base.rel_sigma,
                       weight * per_simd * simd.rel_sigma)
    return Coefficient(value, 0.0, sigma / value if value else 0.0, "guest")


def _access(m: ModeCoefficients, pattern: str) -> Coefficient | None:
    seq, rand = m.get("mem_seq_ns"), m.get("mem_rand_ns")
    if pattern == "sequential":
        return seq
    if pattern == "random":
        return rand
    if seq is None or rand is None:
        return None
    value = (seq.value + rand.value) / 2
    sigma = math.hypot(seq.value * seq.rel_sigma, rand.value * rand.rel_sigma) / 2
    return Coefficient(value, 0.0, sigma / value if value else 0.0, "guest")


def predict_costs(m: ModeCoefficients, f: WorkloadFeatures) -> Prediction:
    """The components of every figure for workload features ``f`` on mode ``m``."""
    per_instance, per_instance_sigma, first = _memory(m, f)
    return apply_transfer(m, Prediction(
        key=m.key, per_request=_per_request(m, f), per_instance=_per_instance(m, f),
        per_module_load=_per_module_load(m, f), features=f,
        memory_per_instance_bytes=per_instance, runtime_memory_first_bytes=first,
        artifact_bytes=_artifact_bytes(m, f), notes=_notes(m, f),
        memory_per_instance_sigma=per_instance_sigma,
        library_bytes=_value(m, "rss_library_bytes"),
        module_memory_bytes=_value(m, "rss_module_bytes_per_code_byte") * f.code_bytes,
        process_per_instance=m.process_per_instance,
    ))


def _value(m: ModeCoefficients, name: str) -> float:
    """A size figure of ``m``'s, 0 where its profile has none; never below 0 (resident
    memory can fall between two readings: noise, not a size)."""
    c = m.get(name)
    return max(0.0, c.value) if c else 0.0


def _memory(m: ModeCoefficients, f: WorkloadFeatures) -> tuple[float, float, float]:
    """Resident memory: an instance's (the runtime's own per extra instance, plus the
    linear memory), one sigma of it (the runtime's part: the linear memory is exact), and
    the runtime's with its first instance."""
    rss_first = m.get("rss_first_instance_bytes")
    rss_extra = m.get("rss_per_extra_instance_bytes")
    # resident memory can fall between samples; an instance never costs less than nothing
    per_instance = max(0.0, rss_extra.value if rss_extra else 0.0) + f.linear_memory_bytes
    sigma = max(0.0, rss_extra.value * rss_extra.rel_sigma) if rss_extra else 0.0
    return per_instance, sigma, rss_first.value if rss_first else 0.0


def _notes(m: ModeCoefficients, f: WorkloadFeatures) -> list[str]:
    """What the prediction for ``f`` on ``m`` assumes that its figures do not show."""
    notes: list[str] = []
    if _single_call_interpreter(m) and f.compute_instructions_per_request > 0:
        notes.append(f"{m.key}: its profile's 'typical' kernel is the older one, which called "
                     "a new function every time; this interpreter's compute is costed by the "
                     "'int' kernel alone (recalibrate to cost it with both)")
    if f.precompiled and not m.precompiled_mode and not _loads_artifact(m, f) \
            and _load_kind(m) is Kind.COMPILE:
        notes.append(f"{m.key}: no precompiled-load figure; compiling assumed")
    return notes


def _per_request(m: ModeCoefficients, f: WorkloadFeatures) -> list[Component]:
    """Compute (with any block-end scans), host calls (with the bytes they copy) and
    memory traffic."""
    seq = m.get("mem_seq_ns")
    copy = Coefficient(seq.value / 8, 0.0, seq.rel_sigma) if seq else None
    return [
        Component(Kind.COMPUTE, *_sum_pair(
            _part(compute_ns_per_instruction(m, f), f.compute_instructions_per_request),
            _part(block_scan_ns_per_op(m), f.block_scan_ops_per_request))),
        Component(Kind.HOST_CALLS, *_sum_pair(
            _part(m.get("hostcall_ns"), f.host_calls_per_request),
            _part(copy, f.host_calls_per_request * f.bytes_per_host_call))),
        _c(Kind.MEMORY_TRAFFIC, _access(m, f.access_pattern), f.touched_bytes_per_request / 8),
    ]


def _per_instance(m: ModeCoefficients, f: WorkloadFeatures) -> list[Component]:
    """Starting an instance: the engine's instantiation, and the binding's fixed cost."""
    instantiate = m.get("instantiate_ns")
    per_page = _part(m.get("instantiate_ns_per_page"), math.ceil(f.linear_memory_bytes / PAGE))
    per_data = _part(m.get("instantiate_ns_per_data_byte"), f.data_bytes)
    engine_start = _instantiate_base_ns(m, f) + per_page[0] + per_data[0]
    sigma = math.hypot((instantiate.value * instantiate.rel_sigma) if instantiate else 0.0,
                       per_page[1], per_data[1])
    return [Component(Kind.INSTANTIATE, engine_start, sigma), _binding(m)]


def _instantiate_base_ns(m: ModeCoefficients, f: WorkloadFeatures) -> float:
    """The engine's instantiation of a module of ``f``'s make-up, before its pages and
    data bytes: the empty module's, or a code or data family's fixed part."""
    instantiate = m.get("instantiate_ns")
    if instantiate is None:
        return 0.0
    base = instantiate.value
    data_c = m.get("instantiate_ns_per_data_byte")
    if f.data_bytes > 0 and data_c is not None and \
            data_c.source in ("instantiate", "instantiate_again") and data_c.intercept > base:
        base = data_c.intercept  # a module with data segments: the data family's fixed part
    code_c = m.get("instantiate_code_ns")
    if f.code_bytes > EMPTY_MODULE_CODE_BYTES and code_c is not None:
        # a module with code of its own (functions, a table, globals): the code family's
        # instances, which cost more than the empty module's at every size
        base = max(base, code_c.value)
    return base


def _binding(m: ModeCoefficients) -> Component:
    """The binding's fixed cost of starting an instance: measured per run (time to first
    instruction less the engine's phases), or where the binding cannot separate the
    engine's instantiation, the empty module's time to first instruction less its compile
    (and the instantiation with it)."""
    instantiate, ttfi = m.get("instantiate_ns"), m.get("ttfi_ns")
    binding = m.get("binding_ns")
    if binding is not None and instantiate is not None:
        value = max(0.0, binding.value)
    else:
        value = max(0.0, (ttfi.value if ttfi else 0.0) - _empty_module_compile_ns(m)
                    - (instantiate.value if instantiate else 0.0))
    kind = Kind.BINDING if instantiate else Kind.BINDING_AND_INSTANTIATE
    return Component(kind, value, value * (ttfi.rel_sigma if ttfi else 0.0),
                     f"{kind.value} ({m.binding})")


def _empty_module_compile_ns(m: ModeCoefficients) -> float:
    """What compiling the calibration's empty module costs (0 for a precompiled mode)."""
    compile_c = m.get("compile_ns_per_code_byte")
    if compile_c is None or m.precompiled_mode:
        return 0.0
    empty = max(0.0, compile_c.value) * EMPTY_MODULE_CODE_BYTES
    if compile_c.source == "compile":
        empty += max(0.0, compile_c.intercept)
    return empty


def _loads_artifact(m: ModeCoefficients, f: WorkloadFeatures) -> bool:
    """Whether a module load of ``f`` on a compiling mode loads a precompiled artifact."""
    return f.precompiled and m.get("load_ns_per_code_byte") is not None


def _load_kind(m: ModeCoefficients) -> Kind:
    """What a mode that is not precompiled does with a module it loads."""
    return Kind.COMPILE if m.jit or m.binding == "wasmtime-py" else Kind.LOAD_AND_PREPARE


def _per_module_load(m: ModeCoefficients, f: WorkloadFeatures) -> list[Component]:
    """Loading the module: compile it, or load a precompiled artifact; then what a lazy
    JIT compiles of the code that runs, and the engine's set-up of the module at its first
    instance."""
    load_c = m.get("load_ns_per_code_byte")
    out: list[Component] = []
    if m.precompiled_mode:
        if not f.precompiled:
            out.append(_compile(Kind.COMPILE_AHEAD_OF_TIME, m, f))
        out.append(_artifact_load(load_c, f))
    elif _loads_artifact(m, f):
        out.append(_artifact_load(load_c, f))
    else:
        out.append(_compile(_load_kind(m), m, f))
    run_compile = _run_compile_ns_per_code_byte(m)
    if run_compile is not None and not _loads_artifact(m, f):
        ran = f.code_bytes if f.ran_code_bytes is None else min(f.ran_code_bytes, f.code_bytes)
        out.append(_c(Kind.RUN_COMPILE, run_compile, ran))
    first_code = m.get("first_instance_ns_per_code_byte")
    if first_code is not None:  # the engine's one-off set-up of a module at its first instance
        value, sigma = _sum_pair(
            _part(first_code, f.code_bytes),
            _part(m.get("first_instance_ns_per_data_byte"), f.data_bytes))
        out.append(Component(Kind.FIRST_INSTANCE, max(0.0, first_code.intercept)
                             + max(0.0, value), sigma))
    return out


def _artifact_load(load_c: Coefficient | None, f: WorkloadFeatures) -> Component:
    """Loading a compiled artifact: its code at the calibrated rate, and the fit's fixed
    part where the load is timed on its own (an engine's load call; not a whole run, whose
    start and exit are the binding's)."""
    value, sigma = _part(load_c, f.code_bytes)
    fixed = max(0.0, load_c.intercept) if load_c is not None and load_c.source == "load" \
        else 0.0
    return Component(Kind.LOAD_ARTIFACT, value + fixed, sigma)


def _artifact_bytes(m: ModeCoefficients, f: WorkloadFeatures) -> float:
    """The bytes a module load reads: the module, or its precompiled artifact."""
    artifact = m.get("artifact_bytes_per_code_byte")
    if (f.precompiled or m.precompiled_mode) and artifact is not None:
        return max(0.0, artifact.intercept) + artifact.value * f.code_bytes
    return f.module_bytes


def _compile(kind: Kind, m: ModeCoefficients, f: WorkloadFeatures) -> Component:
    """Compiling the module when it is loaded.

    Where the profile has both code families and the module's count of functions a
    table or an export reaches is known: the code at the rate of the code with none
    reachable, plus each such function's entry point. Otherwise the code at the rate of
    the code family, whose density of such functions it then assumes. (Programs differ
    here by far more than their code does: Rust's trait objects put a third of the
    functions in a table, a C program a handful, the code family two-thirds; each costs
    Wasmtime's Winch 60-80 us, as much as 1.5 KB of its code.)

    The code is charged at no less than its largest function on every compile thread:
    see :func:`compiled_code_bytes`.
    """
    compile_c = m.get("compile_ns_per_code_byte")
    local = m.get("compile_local_ns_per_code_byte")
    entry = m.get("compile_ns_per_escaping_function")
    if f.escaping_functions is not None and local is not None and entry is not None \
            and compile_c is not None and local.source == compile_c.source:
        compile_c = local
        entries = _part(entry, f.escaping_functions)
    else:
        entries = (0.0, 0.0)
    value, sigma = _sum_pair(_part(compile_c, compiled_code_bytes(m, f)), entries)
    return Component(kind, value + _fixed_compile_ns(m, compile_c), sigma)


def _fixed_compile_ns(m: ModeCoefficients, compile_c: Coefficient | None) -> float:
    """What compiling costs a module with code of its own, whatever its size.

    Timed as the compile phase (Wasmtime, wamrc, libiwasm): that fit's intercept. Timed
    as the time to first instruction (wasmer-sdk, whose every compiling run starts a
    client with an empty cache) or as a whole run (iwasm): the code family's intercept
    less the empty module's time to first instruction, which the binding's figure
    already holds. Wasmer sets up its compiler only for a module with functions to
    compile: 10.5 ms at no code against 4.6 ms for the empty module, on this machine;
    without it fib2 was predicted at 0.42 of its measured compile. WAMR's LLVM JIT the
    same: its code family's runs cost 176 ms at no code, the empty module's 43 ms; taken
    as 0 (as it was until 2026-12-07, the run's start and exit counted as the binding's
    alone), every C program of under 25 KB was predicted at 0.27-0.55 of its measured
    compile. An iwasm run's exit is in the code family's runs and not in the time to
    first instruction, so this reads a little high for iwasm's interpreters, whose
    compile is a millisecond or two.
    """
    if compile_c is None:
        return 0.0
    if compile_c.source == "compile":
        return max(0.0, compile_c.intercept)
    ttfi = m.get("ttfi_ns")
    if compile_c.source in ("ttfi", "wall") and ttfi is not None:
        return max(0.0, compile_c.intercept - ttfi.value)
    return 0.0


def compiled_code_bytes(m: ModeCoefficients, f: WorkloadFeatures) -> float:
    """The code bytes a compile costs as, at the calibrated rate per byte.

    An engine that compiles the functions on ``m.compile_threads`` threads at once was
    calibrated on code of many functions under a kilobyte, which spreads evenly; the
    rate it measured is the time per byte with every thread busy. A module compiles no
    faster than its largest function, so that function counts once for every thread:
    fib2's is 61 % of its code, and Wasmtime's Cranelift compiled it 1.38 times as fast
    as on one thread, against 1.85-1.92 for the calibration's code
    (docs/model.md, "Compiling on every core").
    """
    largest = f.largest_function_bytes
    if m.compile_threads <= 1 or largest is None:
        return f.code_bytes
    return max(f.code_bytes, m.compile_threads * min(largest, f.code_bytes))


def _run_compile_ns_per_code_byte(m: ModeCoefficients) -> Coefficient | None:
    """What a byte of code that runs costs beyond a byte that is only loaded, for an engine
    that compiles a function when it is first called (None for every other)."""
    ran, loaded = m.get("run_compile_ns_per_code_byte"), m.get("compile_ns_per_code_byte")
    if ran is None or loaded is None or m.precompiled_mode:
        return None
    value = max(0.0, ran.value - loaded.value)
    spread = math.hypot(ran.value * ran.rel_sigma, loaded.value * loaded.rel_sigma)
    return Coefficient(value, 0.0, spread / value if value else 0.0, ran.source)


def _sum_pair(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Two (value, sigma) parts added, their uncertainties as independent."""
    return a[0] + b[0], math.hypot(a[1], b[1])
