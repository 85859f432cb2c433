"""How much each calibration measures: the ``quick`` and ``full`` budgets, and their tasks.

A task is one unit of work for a worker (one kernel, one module size, one
probe), small enough that a worker dying on it loses only it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..runtimes.resident_growth import LIVE_INSTANCES, MODULE_COPIES
from ._probes import PROBES
from .kernels import GUEST_KERNELS, KernelPlan

__all__ = ["BUDGETS", "SAME_CODE_TASKS", "Budget", "merge_guest", "split_passes", "tasks_for"]

KiB = 1024


@dataclass(frozen=True)
class Budget:
    name: str
    plan: KernelPlan
    code_sizes: tuple[int, ...]  # code bytes of the compile-cost family
    pages: tuple[int, ...]  # initial memory pages of the instantiation family
    # data-segment bytes of the instantiation family: the smallest is not 0, so the fit's
    # intercept is the cost of a module with data (every compiled program has some)
    data_sizes: tuple[int, ...]
    host_repeats: int  # runs per host-timed module
    # alternating pairs of processes for the memory figure of a runtime that runs an instance
    # per process (iwasm)
    memory_pairs: int
    task_timeout_s: float
    slow_code_sizes: tuple[int, ...]  # code family for LLVM compilers (slow)
    # code family for interpreters in their own process: the start-up's noise (~0.5 ms) over
    # a 176 KiB span moved a 2 MiB module's predicted load by 30-60% between calibrations
    large_code_sizes: tuple[int, ...]
    # memory kernels run in this many instances, the median one kept: where an instance's
    # pages land moves random access by up to 2x from one instance to the next
    memory_kernel_instances: int = 3
    empty_repeats: int = 15  # timed runs of the empty module, after EMPTY_WARMUPS
    # live instances in one process for the memory figure of an in-process binding: the first
    # half uses up the allocators' slack, the second half's growth is the figure
    memory_instances: int = LIVE_INSTANCES
    # distinct modules loaded at once for the memory a module's code holds (the growth over
    # the last half of them)
    module_copies: int = MODULE_COPIES
    # the guest-timed kernels are measured in this many passes over every mode, the order
    # reversed each pass, their samples shared out between them (calibrate.py)
    passes: int = 1
    kernels: tuple[str, ...] = field(default_factory=lambda: tuple(GUEST_KERNELS))
    # the instruction-mix family (one module of 24 kernels, timed in one run), which prices
    # each instruction class; None: not measured
    mix_plan: KernelPlan | None = None
    probes: tuple[str, ...] = field(default_factory=lambda: tuple(PROBES))
    # a mode that runs another's generated code unchanged (``same_code_as`` in the traits
    # table) is not measured again where that code is all a figure depends on
    # (:data:`SAME_CODE_TASKS`): its figures are the other mode's, labelled as such
    share_same_code: bool = False


# the tasks whose figures depend only on a mode's generated code and its compiler: the
# guest-timed kernels, the instruction-mix family and the code families (compiled, with one
# function reachable from outside, run, precompiled and loaded). Instantiation, the empty
# module's start-up, memory and the feature probes are where a configuration differs
SAME_CODE_TASKS = ("guest:", "mix:", "host:code:", "host:code-local:", "host:code-run:",
                   "host:code-precompiled:")


EMPTY_WARMUPS = 8

BUDGETS: dict[str, Budget] = {
    "quick": Budget(
        name="quick",
        plan=KernelPlan(min_sample_ns=1_000_000, repeats=3),
        # a 12x span, as full's 64x: the slope per code byte needs the span, not the bytes
        # (Cranelift compiles 96 KiB in about 70 ms here, against a fixed part under 1 ms)
        code_sizes=(8 * KiB, 32 * KiB, 96 * KiB),
        pages=(1, 256, 1024),
        data_sizes=(KiB, 256 * KiB, 1024 * KiB),
        host_repeats=3,
        memory_pairs=4,
        task_timeout_s=60,
        slow_code_sizes=(4 * KiB, 12 * KiB, 24 * KiB),
        large_code_sizes=(64 * KiB, 256 * KiB, 768 * KiB),
        # growth over the last four modules: a 64 KiB-code module compiled by Cranelift
        # holds a few hundred KiB, so still MiBs above the page-level noise
        module_copies=8,
        # 24 kernels x 3 sizes x 3 repeats: the family's samples are most of a quick
        # calibration's guest time; half a millisecond is thousands of iterations of the
        # slowest interpreter's kernels and far above the clock's resolution
        mix_plan=KernelPlan(min_sample_ns=500_000, repeats=3),
        share_same_code=True,
    ),
    "full": Budget(
        name="full",
        plan=KernelPlan(min_sample_ns=5_000_000, repeats=7),
        code_sizes=(16 * KiB, 64 * KiB, 256 * KiB, 1024 * KiB),
        pages=(1, 256, 1024, 4096),
        data_sizes=(KiB, 256 * KiB, 1024 * KiB, 4096 * KiB),
        host_repeats=7,
        memory_pairs=16,
        task_timeout_s=120,
        slow_code_sizes=(8 * KiB, 32 * KiB, 64 * KiB, 128 * KiB),
        large_code_sizes=(64 * KiB, 256 * KiB, 1024 * KiB, 2048 * KiB),
        empty_repeats=31,
        passes=2,
        mix_plan=KernelPlan(min_sample_ns=2_000_000, repeats=5),
    ),
}


def tasks_for(
    budget: Budget, *, precompiled: bool, ahead_of_time: bool, slow_compile: bool,
    working_set_bytes: int, fast_load: bool = False, lazy_compile: bool = False,
) -> list[dict[str, Any]]:
    """The worker tasks measuring one mode under ``budget``.

    ``precompiled``: the mode can also load a serialized module (measured as
    a second code family). ``ahead_of_time``: the mode always runs an artifact
    compiled ahead of time (WAMR AOT); compiling is slow, so only the code
    family compiles, once per size, and every other task reuses the artifact.
    ``slow_compile``: an LLVM compiler; the code family uses smaller modules.
    ``fast_load``: an interpreter behind a process start; the code family uses larger ones.
    ``lazy_compile``: compiles a function when it is first called; a second code family,
    whose ``_start`` calls every function, gives the cost of compiling code that runs.
    """
    plan = asdict(budget.plan) | {"working_set_bytes": working_set_bytes}
    timeout = budget.task_timeout_s
    reuse = {"precompiled": True} if ahead_of_time else {}
    tasks: list[dict[str, Any]] = [
        {"id": f"guest:{k}", "kind": "guest", "kernel": k, "plan": plan, "timeout_s": timeout,
         "instances": budget.memory_kernel_instances
         if GUEST_KERNELS[k].needs_working_set else 1, **reuse}
        for k in budget.kernels
    ]
    if budget.mix_plan is not None:
        tasks.append({"id": "mix:family", "kind": "mix", "plan": asdict(budget.mix_plan),
                      "timeout_s": timeout, **reuse})
    host = {"kind": "host", "repeats": budget.host_repeats, "timeout_s": timeout, **reuse}
    # the empty module gives the start-up and binding figures; a few ms a run, so many
    # runs, after warm-ups: the binding's part falls from ~50 to ~36 us over its first
    # eight runs in a new worker (allocators growing, caches filling)
    tasks.append({"id": "host:empty:0", "family": "empty", "size": 0, **host,
                  "repeats": budget.empty_repeats, "warmups": EMPTY_WARMUPS})
    code_sizes = (budget.slow_code_sizes if slow_compile else
                  budget.large_code_sizes if fast_load else budget.code_sizes)
    tasks += _code_tasks(code_sizes, host, timeout, ahead_of_time, lazy_compile)
    if precompiled:
        tasks += _family_tasks("code", budget.code_sizes, {"precompiled": True, **host},
                               name="code-precompiled")
    tasks += _family_tasks("pages", budget.pages, host)
    tasks += _family_tasks("data", budget.data_sizes, host)
    tasks += [{"id": f"probe:{f}", "kind": "probe", "feature": f, "timeout_s": timeout, **reuse}
              for f in budget.probes]
    tasks.append({"id": "memory", "kind": "memory", "pages": 16, "data_bytes": 64 * KiB,
                  "instances": budget.memory_instances, "pairs": budget.memory_pairs,
                  "module_copies": budget.module_copies, "timeout_s": timeout, **reuse})
    return tasks


def _family_tasks(family: str, sizes: tuple[int, ...], fields: dict[str, Any],
                  name: str | None = None) -> list[dict[str, Any]]:
    """A host-timed family's tasks, one per size; ``name``: the task ids', where it is
    not the family's."""
    return [{"id": f"host:{name or family}:{s}", "family": family, "size": s, **fields}
            for s in sizes]


def _code_tasks(sizes: tuple[int, ...], host: dict[str, Any], timeout: float,
                ahead_of_time: bool, lazy_compile: bool) -> list[dict[str, Any]]:
    """The code families' tasks: for an AOT mode, the code family compiled once per size;
    for the others, the code family and the same code with one function reachable from
    outside; for a mode that compiles functions when first called, the code family whose
    every function runs."""
    if ahead_of_time:
        tasks = _family_tasks("code", sizes, {"kind": "host", "repeats": 1, "warmup": False,
                                              "timeout_s": timeout})
    else:
        # the same code with one function reachable from outside: what the entry points
        # an engine compiles for the functions a table or an export reaches cost
        tasks = _family_tasks("code", sizes, host) + _family_tasks("code-local", sizes, host)
    if lazy_compile:
        tasks += _family_tasks("code-run", sizes, host)
    return tasks


def split_passes(tasks: list[dict[str, Any]], passes: int) -> list[list[dict[str, Any]]]:
    """A mode's tasks for each pass: every task in the first, and the guest-timed kernels
    again in each later one, their plan's samples per size shared out between the passes
    (the first takes what does not divide evenly)."""
    guest = [t for t in tasks if t["kind"] == "guest"]
    passes = max(1, min(passes, *(t["plan"]["repeats"] for t in guest))) if guest else 1

    def share(task: dict[str, Any], number: int) -> dict[str, Any]:
        repeats = task["plan"]["repeats"]
        mine = repeats // passes + (repeats % passes if number == 0 else 0)
        return {**task, "plan": {**task["plan"], "repeats": mine}}

    first = [share(t, 0) if t["kind"] == "guest" else t for t in tasks]
    return [first] + [[share(t, n) for t in guest] for n in range(1, passes)]


def merge_guest(first: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """A guest-timed kernel's result with a later pass's samples added: one run of all the
    samples, or, for a kernel run in several instances (each in its own linear memory),
    the later pass's instances beside the first's."""
    probes = {"speed_probe_ns": first.get("speed_probe_ns", []) +
              later.get("speed_probe_ns", [])}
    if len(first.get("instances") or []) > 1:
        return {**first, "instances": first["instances"] + later["instances"], **probes}
    samples = first["samples"] + later["samples"]
    return {**first, "samples": samples, "instances": [samples], **probes}
