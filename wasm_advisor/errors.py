"""The library's exceptions: one root, a small tree under it.

Every error a user can cause is an :class:`AdvisorError`; the CLI turns one
into a single line per problem and a non-zero exit, never a traceback::

    AdvisorError
    ├── WorkloadError            a workload is invalid: one Problem per field
    │   └── WorkloadFileError    a workload file cannot be read or parsed
    ├── ModuleError              a .wasm file is missing, unreadable or not wasm
    ├── RuntimeUnavailableError  a runtime or mode cannot run on this machine
    ├── MeasurementError         a measurement failed (crash, trap, hang, limit)
    └── ProfileError             a calibration profile is missing, corrupt or
                                 from an incompatible format or machine

Lower-level errors (``OSError``, ``tomllib.TOMLDecodeError``, pydantic's
``ValidationError``, wasmtime's ``WasmtimeError``) are wrapped with
``raise ... from e`` so the message names what failed and where.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AdvisorError",
    "MeasurementError",
    "ModuleError",
    "Problem",
    "ProfileError",
    "RuntimeUnavailableError",
    "WorkloadError",
    "WorkloadFileError",
]


class AdvisorError(Exception):
    """Root of every error wasm-advisor raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workload: the field, what is wrong, and where.

    ``field`` is a dotted path such as ``"memory.linear_memory_bytes"`` (empty
    for the whole document); ``file`` and ``line`` are set when the workload
    came from a file and the format lets the line be found.
    """

    field: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        name = f"{self.field}: " if self.field else ""
        return f"{where}{name}{self.message}"


class WorkloadError(AdvisorError):
    """A workload is invalid. ``problems`` lists every problem found, one per field."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            problems = [Problem("", "invalid workload")]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class WorkloadFileError(WorkloadError):
    """A workload file cannot be read or parsed (missing, empty, binary, bad syntax)."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        super().__init__([Problem("", message, file=file, line=line)])


class ModuleError(AdvisorError):
    """A ``.wasm`` file does not exist, cannot be read, or is not a valid module."""


class RuntimeUnavailableError(AdvisorError):
    """A runtime, or one of its modes, cannot run here; the message says why."""


class MeasurementError(AdvisorError):
    """A measurement failed: the worker crashed, trapped, hung or hit a limit."""


class ProfileError(AdvisorError):
    """A calibration profile is missing, corrupt, tampered with, or incompatible."""
