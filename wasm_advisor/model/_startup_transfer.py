"""What the start-up model misses about real programs, measured on real programs.

Compiling, loading and instantiating are predicted from a module's size (its code
bytes, its functions that escape, its largest function, its data) at the rates a
mode showed on the calibration's *generated* code. Real code is not that code: on
the 22 programs of the shared corpus Wasmtime's Winch compiled them at about half
the rate per byte it compiled the calibration's code, Cranelift at 1.1-1.8 times
it, and no size figure tells the two apart. The calibration cannot see this; a
set of real programs can.

The *start-up transfer* of a mode and phase is what ``benchmarks/accuracy.py``
measured on such programs, with the model's predictions made without it, from one
profile's figures:

- ``log_bias``: the median of log(measured / predicted) over the programs (a median:
  one odd program does not move it);
- ``log_sigma``: the spread left around that median (log rms of the residuals)
  beyond the spread the predictions already state;
- ``log_sigma_unbiased``: the same spread around no correction at all;
- ``programs``: how many programs it was measured on (below :data:`MIN_PROGRAMS`
  no entry is made: the phase keeps its calibration figure and its stated spread).

The median corrects *that profile's* figures, and only them: it holds what real code
costs against the generated code, and also what that profile's compile fits got wrong
by chance. Two full calibrations of one machine on one day put Winch's at 1.82 and
1.08, Cranelift's at 0.73 and 0.93, from the same measurements: carried to another
profile, a median corrects a noise that profile does not have (it took the second
profile's start-up within 1.5x from 77.5 % to 65.7 %). So a mode of the profile it was
measured against is scaled by the median and widened by ``log_sigma``; a mode of any
other profile is not scaled, and is widened by ``log_sigma_unbiased``: how far real
programs fell from the prediction, whichever way.

It is read from ``models/startup-transfer.json``, written by the accuracy
benchmark's ``--write-transfer`` from a saved run, with that run's file, its
commit and the model version it was measured with. Execution is not corrected
this way: it is priced from the program's own counted instructions, and its error
changes sign with the kind of code (docs/model.md, "How well it predicts"); but how far
real programs fell from those prices is measured on the same runs and shipped in the
same file, as the compute figure's spread (:mod:`._execution_spread`).
The benchmark checks the transfer leave-one-program-out: each program is
predicted with a transfer measured without it, and those figures are the ones
it reports against its targets.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ..errors import AdvisorError
from ..files import data_folder
from ..runtimes import traits_for
from ._coefficients import ModeCoefficients
from ._execution_spread import (  # MIN_PROGRAMS: fewer measured a phase, no transfer for it
    MIN_PROGRAMS,
    ExecutionSpread,
    execution_document,
    read_execution,
)
from ._prediction import Component, Prediction

__all__ = ["MIN_PROGRAMS", "TRANSFER_FILE", "TRANSFER_PHASES", "PhaseTransfer",
           "StartupTransfer", "apply_transfer", "fit_transfer", "load_transfer",
           "transfer_document", "with_transfer"]

TRANSFER_FILE = "startup-transfer.json"
TRANSFER_PHASES = ("compile", "load", "instantiate")
FORMAT_VERSION = 2  # 2: with the execution spread; a format-1 file (without) still reads
READS = (1, 2)


@dataclass(frozen=True)
class PhaseTransfer:
    """One mode's start-up phase, as real programs showed it against the prediction."""

    log_bias: float  # median log(measured / predicted)
    log_sigma: float  # the residuals' spread beyond the one the predictions stated
    programs: int
    log_sigma_unbiased: float = 0.0  # the same, around no correction

    @property
    def factor(self) -> float:
        return math.exp(self.log_bias)


@dataclass(frozen=True)
class StartupTransfer:
    """Every mode's start-up transfer, and the profile whose figures it was measured on."""

    profile_id: str = ""
    modes: dict[str, dict[str, PhaseTransfer]] = field(default_factory=dict)
    # real programs' execution against the prices (measured around zero: any profile's)
    execution: ExecutionSpread = field(default_factory=ExecutionSpread)

    def for_mode(self, key: str, profile_id: str) -> dict[str, list[float]]:
        """[log scale, log sigma] per phase for ``key`` predicted from ``profile_id``'s
        figures: the median and what is left of its profile; no scale and the whole
        spread for any other."""
        own = bool(self.profile_id) and profile_id == self.profile_id
        return {phase: [t.log_bias, t.log_sigma] if own else [0.0, t.log_sigma_unbiased]
                for phase, t in self.modes.get(key, {}).items()}


def fit_transfer(ratios: Mapping[tuple[str, str], Iterable[tuple[float, float]]],
                 profile_id: str = "") -> StartupTransfer:
    """The transfer of every mode and start-up phase from ``ratios``: per (mode key,
    phase), the programs' (predicted / measured, stated relative sigma) pairs, the
    predictions made from ``profile_id``'s figures without any transfer."""
    modes: dict[str, dict[str, PhaseTransfer]] = {}
    for (key, phase), pairs in sorted(ratios.items()):
        clean = [(math.log(r), s) for r, s in pairs if r > 0 and math.isfinite(r)]
        if phase not in TRANSFER_PHASES or len(clean) < MIN_PROGRAMS:
            continue
        logs = [-lr for lr, _ in clean]  # log(measured / predicted)
        bias = statistics.median(logs)
        stated = statistics.fmean(s * s for _, s in clean)

        def beyond(centre: float, logs: list[float] = logs, stated: float = stated) -> float:
            residual = statistics.fmean((x - centre) ** 2 for x in logs)
            return round(math.sqrt(max(0.0, residual - stated)), 4)

        modes.setdefault(key, {})[phase] = PhaseTransfer(
            round(bias, 4), beyond(bias), len(clean), beyond(0.0))
    return StartupTransfer(profile_id, modes)


def transfer_document(transfer: StartupTransfer, provenance: Mapping[str, Any]
                      ) -> dict[str, Any]:
    """``transfer`` as ``models/startup-transfer.json`` holds it, with where it came from."""
    return {"format_version": FORMAT_VERSION, **provenance, "profile_id": transfer.profile_id,
            "modes": {key: {phase: {"log_bias": t.log_bias, "log_sigma": t.log_sigma,
                                    "log_sigma_unbiased": t.log_sigma_unbiased,
                                    "programs": t.programs}
                            for phase, t in phases.items()}
                      for key, phases in sorted(transfer.modes.items())},
            "execution": execution_document(transfer.execution)}


@cache
def load_transfer() -> StartupTransfer:
    """The shipped transfer (none where the file is absent: the calibration's figures
    alone are used, as before it was measured)."""
    path = data_folder("models") / TRANSFER_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return StartupTransfer()
    except (OSError, ValueError) as e:
        raise AdvisorError(f"{path}: cannot read the start-up transfer: {e}") from e
    try:
        if document.get("format_version") not in READS:
            raise ValueError(f"format_version {document.get('format_version')!r}, "
                             f"this version reads {', '.join(map(str, READS))}")
        return StartupTransfer(str(document["profile_id"]), {
            key: {phase: PhaseTransfer(float(t["log_bias"]), float(t["log_sigma"]),
                                       int(t["programs"]), float(t["log_sigma_unbiased"]))
                  for phase, t in phases.items() if phase in TRANSFER_PHASES}
            for key, phases in document["modes"].items()}, read_execution(
                document.get("execution")))
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise AdvisorError(f"{path}: not a start-up transfer file: {e}") from e


def with_transfer(m: ModeCoefficients, profile_id: str,
                  transfer: StartupTransfer | None = None) -> ModeCoefficients:
    """``m``, predicted from ``profile_id``'s figures, carrying its mode's start-up
    transfer and, where it is priced per instruction class, its execution spread (the
    shipped ones unless given)."""
    table = load_transfer() if transfer is None else transfer
    # a mode that runs another's generated code has that mode's execution spread: the
    # programs measured the same code twice, and the two differ only by that noise
    traits = traits_for(m.key)
    code = traits.same_code_as if traits is not None and traits.same_code_as else m.key
    return replace(m, startup_transfer=table.for_mode(m.key, profile_id),
                   execution_spread=table.execution.for_mode(code) if m.class_ns else [])


def _scaled(c: Component, table: dict[str, list[float]]) -> Component:
    entry = table.get(c.kind.phase or "")
    if not entry or entry == [0.0, 0.0]:
        return c
    bias, sigma = entry
    value = c.value * math.exp(bias)
    spread = math.hypot(c.sigma * math.exp(bias), value * sigma)
    return replace(c, value=value, sigma=spread)


def apply_transfer(m: ModeCoefficients, p: Prediction) -> Prediction:
    """``p`` with ``m``'s start-up transfer applied to every component of a start-up phase
    ``verify`` measures (compile, an artifact's load, the engine's instantiation); the
    binding, a module's first instance and a lazy JIT's compiling as it runs are in no such
    phase and keep their figures."""
    table = m.startup_transfer
    if not table:
        return p
    return replace(p, per_module_load=[_scaled(c, table) for c in p.per_module_load],
                   per_instance=[_scaled(c, table) for c in p.per_instance])
