"""How far real programs' execution fell from the prices per instruction class, by mode.

The prices (:mod:`._instruction_costs`) are fitted to generated kernels, and their error
cross-validated over those kernels is a poor guide to their error on real programs, in
both directions: on the 22 programs of the shared corpus WAMR's classic interpreter's
execution fell within 0.16 in log of its prices, where its kernels said 0.15-0.55 (three
quick calibrations of one machine gave 0.55, 0.27 and 0.15); WAMR AOT's fell 0.72 from
them, where its kernels said 0.49-0.69. And the part of that error every mode of a
program shares is not what the kernels say either: a program whose cache misses and
dependencies slow compiled code slows every compiler alike, and hardly moves an
interpreter, whose dispatch hides them.

So the accuracy benchmark measures it where it matters. For every program it ran, each
mode's execution error ``e = log(measured / predicted)``, predicted without this spread;
the program's shared error ``f`` is the mean of its modes' (at least :data:`MIN_MODES`).
One factor, as :func:`~.estimator.with_common_error` finds in the kernels' errors; per
mode:

- ``log_sigma``: the root mean square of ``e`` over the programs, around no error at all
  (a mode whose programs all ran slower than its prices said keeps that bias in its
  spread, uncorrected: the bias is partly the chance of the profile it was measured
  against, which another profile does not share);
- ``common_log_sigma``: its loading on the shared error, ``mean(e·f) / rms(f)``, between
  0 and ``log_sigma``: Wasmtime's and Wasmer's Cranelift and WAMR AOT load 0.47-0.65 of
  their 0.54-0.72, the interpreters 0.02-0.17 of their 0.16-0.44.

Where the shipped transfer (``models/startup-transfer.json``, ``"execution"``) has a mode
(or the mode whose generated code it runs), its priced compute figure's spread is
``log_sigma``, or the profile's own prices' error on the kernels where that is larger (a
calibration whose fit is poor says so there, and real programs cannot know it), and the
part drawn from the one stream every mode shares (:mod:`._confidence`) is
``common_log_sigma``: two compilers are as unsure of each other as their own parts say,
a compiler and an interpreter as their whole errors do. A mode it does not have (one
whose execution ``verify`` cannot separate from its compile, as WAMR's LLVM JIT) keeps
the kernels' error. Both figures are measured around zero, so they hold for any
profile, not only the one they were measured against. The benchmark checks them
leave-one-program-out, as it does the start-up transfer.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MIN_MODES", "MIN_PROGRAMS", "ExecutionSpread", "execution_document",
           "fit_execution_spread", "read_execution"]

MIN_MODES = 3  # a program's shared part is a mean over at least this many modes
MIN_PROGRAMS = 5  # fewer programs measured a mode: no figure (the start-up transfer's too)


@dataclass(frozen=True)
class ExecutionSpread:
    """Real programs' execution against the prices, by mode: the whole error's spread and
    the part of it every mode shares."""

    # per mode key: (log sigma of the error, its loading on the programs' shared error)
    modes: dict[str, tuple[float, float]] = field(default_factory=dict)
    programs: int = 0

    def for_mode(self, key: str) -> list[float]:
        """``[total, common]`` log sigma for mode ``key``; empty where not measured."""
        if key not in self.modes or self.programs < MIN_PROGRAMS:
            return []
        return list(self.modes[key])


def fit_execution_spread(errors: Mapping[str, Mapping[str, float]]) -> ExecutionSpread:
    """The spread from ``errors``: per program, each mode's log(measured / predicted)
    execution, predicted without any spread of this kind.

    One factor, as :func:`~.estimator.with_common_error` finds in the kernels' errors: a
    program's shared error is the mean of its modes'; a mode's loading on it is the
    second moment of its errors with the shared ones over the shared ones' root mean
    square (at most its own error: compilers move with it more than interpreters, whose
    dispatch a program's cache misses hide), and the rest is the mode's own."""
    shared: dict[str, float] = {}
    for program, by_mode in errors.items():
        if len(by_mode) >= MIN_MODES:
            shared[program] = statistics.fmean(by_mode.values())
    if len(shared) < MIN_PROGRAMS:
        return ExecutionSpread()
    scale = math.sqrt(statistics.fmean(f * f for f in shared.values()))
    pairs: dict[str, list[tuple[float, float]]] = {}
    for program, f in shared.items():
        for key, e in errors[program].items():
            pairs.setdefault(key, []).append((e, f))
    modes: dict[str, tuple[float, float]] = {}
    for key, found in sorted(pairs.items()):
        if len(found) < MIN_PROGRAMS:
            continue
        total = math.sqrt(statistics.fmean(e * e for e, _ in found))
        loading = statistics.fmean(e * f for e, f in found) / scale if scale > 0 else 0.0
        modes[key] = (round(total, 4), round(min(total, max(0.0, loading)), 4))
    return ExecutionSpread(modes, len(shared))


def execution_document(spread: ExecutionSpread) -> dict[str, Any]:
    """``spread`` as the transfer file's ``"execution"`` holds it."""
    return {"programs": spread.programs,
            "modes": {key: {"log_sigma": total, "common_log_sigma": common}
                      for key, (total, common) in spread.modes.items()}}


def read_execution(document: Mapping[str, Any] | None) -> ExecutionSpread:
    """The transfer file's ``"execution"`` (none: no spread). Raises ``KeyError``,
    ``TypeError`` or ``ValueError`` on a malformed one."""
    if document is None:
        return ExecutionSpread()
    return ExecutionSpread({str(key): (float(m["log_sigma"]), float(m["common_log_sigma"]))
                            for key, m in document["modes"].items()},
                           int(document["programs"]))
