"""What a ``verify`` report says, in a form that cannot be misread: for each mode and
phase the prediction, the measurement and how far apart they came out, written as
"measured 2.5× the prediction" (never a bare ratio whose direction a reader must
guess); every mode that did not run, and why; and whether the modes came out in the
order the model predicted.

The command line draws its tables from these, and ``--json`` carries the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import human_ns

if TYPE_CHECKING:
    from ._report import VerifyReport

__all__ = ["ORDER_NOISE", "PHASES", "TOLERANCE", "ModeOrder", "PhaseCheck", "not_run",
           "order_verdict", "phase_checks"]

PHASES = ("compile", "load", "instantiate", "execute", "total")
TOLERANCE = 1.5  # a prediction within this factor of the measurement is "close"
ORDER_NOISE = 0.10  # measurements closer than this are a tie, not an order


@dataclass(frozen=True)
class PhaseCheck:
    """One mode's one phase: what was predicted, what was measured."""

    mode: str
    phase: str
    predicted_ns: float | None
    measured_ns: float | None

    @property
    def measured_over_predicted(self) -> float | None:
        """The measurement as a multiple of the prediction (2.5: took 2.5 times as long)."""
        p, m = self.predicted_ns, self.measured_ns
        return m / p if p and m is not None and p > 0 else None

    @property
    def close(self) -> bool | None:
        """Whether the measurement is within :data:`TOLERANCE` of the prediction."""
        f = self.measured_over_predicted
        return None if f is None else 1 / TOLERANCE <= f <= TOLERANCE

    def said(self) -> str:
        """The error in words: "measured 2.50× the prediction (slower than predicted)"."""
        f = self.measured_over_predicted
        if f is None:
            return "no prediction" if self.measured_ns is not None else "not measured"
        if 0.995 <= f <= 1.005:
            return "as predicted"
        if f == 0:
            return "measured 0 (too short to measure)"
        way = "slower" if f > 1 else "faster"
        return f"measured {f:.2f}× the prediction ({way} than predicted)"

    def to_dict(self) -> dict[str, Any]:
        def ms(ns: float | None) -> float | None:
            return None if ns is None else ns / 1e6
        return {"mode": self.mode, "phase": self.phase,
                "predicted_ms": ms(self.predicted_ns), "measured_ms": ms(self.measured_ns),
                "measured_over_predicted": self.measured_over_predicted,
                "within_tolerance": self.close, "error": self.said()}


def phase_checks(report: VerifyReport) -> list[PhaseCheck]:
    """Every phase measured, of every mode that ran, in the report's order."""
    return [PhaseCheck(m.key, phase, m.predicted_ns.get(phase), m.measured_ns.get(phase))
            for m in report.modes if m.failure is None for phase in PHASES
            if phase in m.measured_ns]


def not_run(report: VerifyReport) -> dict[str, str]:
    """Each mode that did not run to a measurement, with why: failed here, not available
    here, measured elsewhere, or not in the profile at all."""
    out = {m.key: m.failure for m in report.modes if m.failure is not None}
    out.update({key: why for key, why in report.skipped.items()
                if key not in ("instruction count", "instruction mix", "pace")})
    return out


@dataclass(frozen=True)
class ModeOrder:
    """Whether the modes that ran came out in the predicted order, by ``phase``."""

    phase: str  # "execute", or "total" where a mode's execution was not separated
    predicted: list[str]  # fastest first
    measured: list[str]
    # (predicted faster, predicted slower, measured slower ÷ measured faster) where the
    # measurements put them the other way by more than ORDER_NOISE
    inversions: list[tuple[str, str, float]]
    ties: list[tuple[str, str]]  # measured within ORDER_NOISE of each other: no order
    # predicted within ORDER_NOISE of each other: the model put no order between them
    predicted_ties: list[tuple[str, str]] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return not self.inversions

    def said(self) -> str:
        what = "execution" if self.phase == "execute" else "whole runs"
        if self.held:
            line = (f"the predicted order held ({what}, fastest first): "
                    + " < ".join(self.predicted))
        else:
            line = f"the predicted order did not hold ({what}): " + "; ".join(
                f"{fast} was predicted faster than {slow} but took {ratio:.2f}× as long"
                for fast, slow, ratio in self.inversions)
            line += "; measured, fastest first: " + " < ".join(self.measured)
        for ties, how in ((self.predicted_ties, "predicted"), (self.ties, "measured")):
            if ties:
                line += (f"; {how} too close to order (within {ORDER_NOISE:.0%}): "
                         + ", ".join(f"{a} and {b}" for a, b in ties))
        return line

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "held": self.held, "predicted": self.predicted,
                "measured": self.measured,
                "inversions": [{"predicted_faster": a, "predicted_slower": b,
                                "measured_ratio": r} for a, b, r in self.inversions],
                "measured_ties": [list(t) for t in self.ties],
                "predicted_ties": [list(t) for t in self.predicted_ties],
                "verdict": self.said()}


def order_verdict(report: VerifyReport) -> ModeOrder | None:
    """The predicted order of the modes that ran against the measured one, by execution
    where every such mode's was separated, else by whole runs; None with fewer than two."""
    phase, timed = _timed(report)
    if len(timed) < 2:
        return None
    predicted = sorted(timed, key=lambda t: t[1])
    inversions, ties, predicted_ties = [], [], []
    for i, (fast, fast_predicted, fast_measured) in enumerate(predicted):
        for slow, slow_predicted, slow_measured in predicted[i + 1:]:
            if _tied(fast_measured, slow_measured):
                ties.append((fast, slow))
            elif _tied(fast_predicted, slow_predicted):
                predicted_ties.append((fast, slow))
            elif fast_measured > slow_measured:
                inversions.append((fast, slow, fast_measured / slow_measured))
    return ModeOrder(phase, [t[0] for t in predicted],
                     [t[0] for t in sorted(timed, key=lambda t: t[2])], inversions, ties,
                     predicted_ties)


def _timed(report: VerifyReport) -> tuple[str, list[tuple[str, float, float]]]:
    """The phase the order is read in, and each mode that ran with its predicted and
    measured time in it."""
    ran = [m for m in report.modes if m.failure is None]
    phase = "execute" if all(m.measured_ns.get("execute") and m.predicted_ns.get("execute")
                             for m in ran) else "total"
    return phase, [(m.key, m.predicted_ns[phase], m.measured_ns[phase]) for m in ran
                   if m.predicted_ns.get(phase) and m.measured_ns.get(phase)]


def _tied(a: float, b: float) -> bool:
    """Two times closer than :data:`ORDER_NOISE`: a tie, not an order."""
    return max(a, b) <= min(a, b) * (1 + ORDER_NOISE)


def human(ns: float | None) -> str:
    """A time for a table cell; "–" where there is none."""
    return "–" if ns is None else human_ns(ns)
