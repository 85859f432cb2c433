"""Physical bounds of a calibration's headline figures, and the tasks behind each figure.

A per-byte compile or load cost below zero, a host call under a nanosecond, a kernel
iteration that takes no time: none of these can be, so a figure like that is noise
(a fit over samples the machine disturbed), not a cost. The calibration measures its
family again (:mod:`.calibrate`), and a figure still out of bounds is left out of the
profile, recorded as a failure saying "not measured" and why; it is never shown as a
figure. Slopes that are zero within their noise where the cost is flat (per page or
per data byte of instantiation) are not bounded: a small negative slope there is the
fit's honest answer, and the model reads it with its spread.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._profile import Figure

__all__ = ["STEADY_FAMILIES", "out_of_bounds", "tasks_behind"]

# metric -> (smallest physical value, what it means); a value must be above it
LOWER_BOUNDS: dict[str, tuple[float, str]] = {
    "compile_ns_per_code_byte": (0.0, "a compile cost per code byte cannot be negative"),
    "compile_local_ns_per_code_byte": (0.0, "a compile cost per code byte cannot be negative"),
    "run_compile_ns_per_code_byte": (0.0, "a compile cost per code byte cannot be negative"),
    "load_ns_per_code_byte": (0.0, "a load cost per code byte cannot be negative"),
    "hostcall_ns_per_iter": (1.0, "a host call takes more than 1 ns"),
    "int_ns_per_iter": (0.0, "an iteration of the kernel takes some time"),
    "float_ns_per_iter": (0.0, "an iteration of the kernel takes some time"),
    "call_ns_per_iter": (0.0, "an iteration of the kernel takes some time"),
    "mixed_ns_per_iter": (0.0, "an iteration of the kernel takes some time"),
    "typical_ns_per_iter": (0.0, "an iteration of the kernel takes some time"),
    "mem_seq_ns_per_iter": (0.0, "a memory load takes some time"),
    "mem_rand_ns_per_iter": (0.0, "a memory load takes some time"),
    "ttfi_ns": (0.0, "starting an instance takes some time"),
    "instantiate_ns": (0.0, "instantiating takes some time"),
    "rss_module_bytes_per_code_byte": (0.0, "a loaded module's code takes some memory"),
}

# the families a disturbance moves most, measured again when the machine was disturbed
# while a mode ran: its compute kernels, its compile family and its start-up
STEADY_FAMILIES = ("guest:", "host:code", "host:empty:")


def out_of_bounds(figures: Sequence[Figure]) -> list[tuple[Figure, str]]:
    """The figures outside their physical bounds, each with the reason."""
    out = []
    for f in figures:
        bound = LOWER_BOUNDS.get(f.metric)
        if bound is not None and not f.value > bound[0]:  # nan too
            out.append((f, f"came out {f.value:.3g} {f.unit}, and {bound[1]}"))
    return out


def tasks_behind(metric: str, precompiled_mode: bool) -> tuple[str, ...]:
    """Prefixes of the task ids whose results a figure is computed from."""
    if metric.endswith("_ns_per_iter"):
        return (f"guest:{metric.removesuffix('_ns_per_iter')}",)
    if metric == "load_ns_per_code_byte":
        return ("host:code:",) if precompiled_mode else ("host:code-precompiled:",)
    if metric.startswith("compile_local"):
        return ("host:code-local:",)
    if metric.startswith("run_compile"):
        return ("host:code-run:",)
    if metric.startswith("compile"):
        return ("host:code:",)
    if metric.startswith("rss_"):
        return ("memory",)
    return ("host:empty:",)
