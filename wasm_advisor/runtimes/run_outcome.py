"""Whether a run ended as its program should: the one rule the worker and ``verify`` share.

A program's correct result is not always exit status 0: a SAT solver reports an
unsatisfiable formula by exiting with 20. A run is correct when no limit stopped
it, it did not trap, and it exited with the status expected of it.

Through wasmer-sdk and the iwasm CLI a run that exits with a non-zero status
carries its last line of output as its ``trap`` (the adapters cannot tell a
program's own exit from a failure there). When that status is the one expected,
the line is the program's, not a failure, unless it is a runtime's own report of
a trap (iwasm's ``Exception:``, Wasmtime's ``wasm trap:``, wasmer-sdk's
``EXECUTION_ERROR``). A trap otherwise ends with a status of its own (134 through
wasmtime-py, 255 through wasmer-sdk, 1 through iwasm), which then differs from
the status expected.

A run a limit stopped says so in its trap the same way through every binding:
:func:`time_limit_trap` and :func:`memory_limit_trap`.
"""

from __future__ import annotations

__all__ = ["memory_limit_trap", "run_failure", "time_limit_trap"]

# how the runtimes word a trap of their own, whatever the exit status
_RUNTIME_TRAPS = ("Exception:", "wasm trap:", "EXECUTION_ERROR")


def run_failure(exit_code: int | None, trap: str | None, limit_hit: str | None,
                expect_exit: int = 0) -> str | None:
    """Why a run did not end as its program should, in one phrase; None when it did.

    ``expect_exit``: the exit status the program's correct result is (0 for most).
    """
    if limit_hit:
        return trap or f"{limit_hit} limit hit"
    runtime_trap = trap is not None and trap.startswith(_RUNTIME_TRAPS)
    if exit_code == expect_exit and (not trap or (expect_exit != 0 and not runtime_trap)):
        return None
    if runtime_trap or exit_code == expect_exit:
        return trap
    said = f"exited with status {exit_code}" + (
        f", expected {expect_exit}" if expect_exit != 0 else "")
    return f"{said}: {trap}" if trap else said


def time_limit_trap(timeout_s: float) -> str:
    """The trap of a run stopped at its time limit of ``timeout_s`` seconds."""
    return f"time limit of {timeout_s:g} s hit"


def memory_limit_trap(limit_bytes: int, then: str | None = None) -> str:
    """The trap of a run stopped at its memory limit; ``then``: the trap the guest met there."""
    hit = f"memory limit of {limit_bytes >> 20} MiB hit"
    return hit if then is None else f"{hit} (then: {then})"
