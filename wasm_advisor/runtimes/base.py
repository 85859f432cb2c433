"""The one small interface every runtime adapter implements.

An adapter knows one runtime (one module per runtime: ``wasmtime_runtime``,
``wasmer_runtime``, ``wamr_runtime``). It says whether the runtime is here and
why not, lists its modes, and runs a WASI command module in a mode, returning
what the guest printed and what the host could time through that binding.

Adapters are used inside worker processes (see
:mod:`wasm_advisor.harness.worker`); the parent never runs an engine.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RuntimeUnavailableError

__all__ = ["Availability", "Mode", "RunRequest", "RunResult", "RuntimeAdapter"]


@dataclass(frozen=True)
class Mode:
    """One way of running a runtime, e.g. Wasmtime with Cranelift, or WAMR AOT."""

    runtime: str  # "wasmtime", "wasmer", "wamr"
    name: str  # "cranelift", "pulley", "fast-interp", "aot", ...
    binding: str  # what the figures go through: "wasmtime-py", "wasmer-sdk", "iwasm CLI"
    label: str  # for people: "Wasmtime · Cranelift"
    notes: str = ""  # what a reader must know about this mode's figures
    jit: bool = False  # generates machine code at run time
    precompiled: bool = False  # runs an artifact compiled ahead of time
    slow_compile: bool = False  # an optimising LLVM compiler: seconds per megabyte of code
    # loads code at a few ns per byte behind a start-up of milliseconds (an interpreter in
    # its own process): its code family needs larger modules for the per-byte slope to
    # stand out of the start-up's run-to-run noise
    fast_load: bool = False
    # compiles a function when it is first called (WAMR's LLVM JIT): a run pays for compiling
    # the code that runs, which a module that is only loaded does not show; measured by a
    # second code family whose _start calls every function
    lazy_compile: bool = False

    @property
    def key(self) -> str:
        return f"{self.runtime}:{self.name}"


@dataclass(frozen=True)
class Availability:
    """Whether a runtime can run here; ``reason`` says why not, ``version`` what is here."""

    available: bool
    version: str = ""
    reason: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRequest:
    """A WASI command to run: module bytes, arguments, preopened directory, limits."""

    module: bytes
    argv: tuple[str, ...] = ()
    workdir: Path | None = None  # preopened as the guest's "." and used as cwd
    env: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 60.0
    fuel: int | None = None  # instruction budget, where the runtime offers one
    precompiled: bool = False  # load a precompiled artifact instead of compiling
    enforce_limits: bool = False  # untrusted code: interrupt at timeout_s, cap memory
    # with enforce_limits: the engine itself stops the guest at timeout_s where it can
    # (Wasmtime: epoch interruption, whose checks at every call and loop slow the code it
    # generates, fib2 by half); False leaves the time limit to the caller's own (the
    # worker's), as verify's warm runs do once the cold run has ended within the limit
    engine_interrupts: bool = True
    memory_limit_bytes: int | None = None  # largest linear memory, where the runtime can cap it
    # right after the first instance, instantiate the module this many more times, each in
    # a fresh store, and report the median as phase 'instantiate_again' (a steady-state
    # instantiation, without the engine's one-off work on a module's first instance), where
    # the binding exposes instantiation; the time is kept out of wall_ns and the start time
    instantiate_again: int = 0
    # after the run, read the exported globals whose names start with this (where the
    # binding can: wasmtime-py), as a counting copy of a module leaves its counts
    read_globals: str | None = None
    # only compile the module, with the mode's default engine, and report phase 'compile':
    # nothing of it runs, so no limit applies (where the binding compiles in-process:
    # wasmtime-py; other bindings run the request as usual)
    compile_only: bool = False
    # compile on one thread, where the engine spreads a module's functions over a pool of
    # threads by default (Wasmtime): the machine's pace reading, which a parallel compile
    # blurs with whatever else lands on the other cores (calibration._pace)
    single_thread_compile: bool = False


@dataclass
class RunResult:
    """What one run produced. Host-timed phases are those the binding exposes."""

    exit_code: int
    stdout: str
    stderr: str
    host_start_realtime_ns: int  # realtime clock just before the bytes were handed over
    wall_ns: int
    phases_ns: dict[str, int] = field(default_factory=dict)  # compile, load, instantiate,
    # run, instantiate_again
    peak_rss_bytes: int | None = None
    trap: str | None = None  # the trap or error message, if the guest did not finish
    artifact_bytes: int | None = None  # size of the precompiled artifact, when one was made
    fuel_consumed: int | None = None  # instructions executed, where the runtime counts them
    limit_hit: str | None = None  # 'time' or 'memory' when the run was stopped by a limit
    globals: dict[str, int] | None = None  # the globals RunRequest.read_globals asked for

    @staticmethod
    def clock() -> tuple[int, int]:
        """(realtime, monotonic) nanoseconds, read together."""
        return time.time_ns(), time.perf_counter_ns()


class RuntimeAdapter(ABC):
    """One runtime: availability, modes, and running a module in a mode."""

    name: str

    @abstractmethod
    def availability(self) -> Availability:
        """Whether this runtime can run here, and if not, why (one sentence)."""

    @abstractmethod
    def modes(self) -> list[Mode]:
        """The modes this runtime offers here (only those that can run)."""

    @abstractmethod
    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        """Run ``request`` in ``mode``; a trap is a result, not an exception."""

    def mode(self, name: str) -> Mode:
        for m in self.modes():
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.modes()) or "none"

        raise RuntimeUnavailableError(f"{self.name} has no mode {name!r} here (modes: {known})")
