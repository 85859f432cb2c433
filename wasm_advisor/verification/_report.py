"""What a ``verify`` run reports: each runtime/mode's run of one module beside its
prediction (:class:`ModeVerification`), and the whole report (:class:`VerifyReport`) with
its table and its explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import human_ns
from ._summary import PHASES, not_run, order_verdict, phase_checks

if TYPE_CHECKING:
    import pandas as pd

    from ..calibration import PaceReading
    from ..workload import Workload

__all__ = ["ModeVerification", "VerifyReport"]


@dataclass
class ModeVerification:
    """One runtime/mode: what happened, measured and predicted phases, and the diagnosis."""

    key: str
    binding: str
    exit_code: int | None = None
    failure: str | None = None  # trap, limit hit, or a failed worker
    limit_hit: str | None = None
    measured_ns: dict[str, float] = field(default_factory=dict)
    predicted_ns: dict[str, float] = field(default_factory=dict)
    # twice the standard error of a measured phase's median (from the runs' median absolute
    # deviation), where it was taken over several runs: how far apart two modes must be
    # measured for the measurements, not their noise, to order them
    measured_spread_ns: dict[str, float] = field(default_factory=dict)
    wall_warm_ns: float | None = None
    warm_runs: int = 0  # over every round
    peak_rss_bytes: float | None = None
    diagnosis: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be measured, and why

    def ratio(self, phase: str) -> float | None:
        """Predicted / measured for ``phase``, when both exist and are positive."""
        p, m = self.predicted_ns.get(phase), self.measured_ns.get(phase)
        return p / m if p and m and m > 0 else None


@dataclass
class VerifyReport:
    """Every runtime/mode's run of one module, with predictions and their errors."""

    workload: Workload
    instructions: int | None
    modes: list[ModeVerification]
    provenance: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    # from the counting copy: "mix" (instructions by class), "block_scan_ops" and
    # "block_scans" (WAMR's classic interpreter), "functions_ran" of "functions"
    counted: dict[str, Any] = field(default_factory=dict)
    # the machine's pace, read before each round of runs and after the last (pace.py), and
    # its ratio to the pace of the profile the predictions come from: the predictions of
    # the modes from that profile are scaled by it (None: not read, or nothing to compare
    # with)
    pace: list[PaceReading] = field(default_factory=list)
    pace_factors: dict[str, float] | None = None
    expect_exit: int = 0  # the exit status the program's correct result is

    @property
    def block_scan_ops(self) -> int | None:
        value = self.counted.get("block_scan_ops")
        return None if value is None else int(value)

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for m in self.modes:
            row: dict[str, Any] = {"mode": m.key, "binding": m.binding, "exit": m.exit_code,
                                   "failure": m.failure, "limit_hit": m.limit_hit}
            for phase in PHASES:
                row[f"{phase}_measured_ms"] = _ms(m.measured_ns.get(phase))
                row[f"{phase}_predicted_ms"] = _ms(m.predicted_ns.get(phase))
                row[f"{phase}_ratio"] = m.ratio(phase)  # predicted ÷ measured
                ratio = m.ratio(phase)
                row[f"{phase}_measured_over_predicted"] = 1 / ratio if ratio else None
                row[f"{phase}_measured_spread_ms"] = _ms(m.measured_spread_ns.get(phase))
            row["wall_warm_ms"] = _ms(m.wall_warm_ns)
            row["warm_runs"] = m.warm_runs
            row["peak_rss_bytes"] = m.peak_rss_bytes
            row["diagnosis"] = "; ".join(m.diagnosis)
            row["notes"] = "; ".join(m.notes)
            out.append(row)
        return out

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict[str, Any]:
        """Everything the report says, for JSON: the rows (``{phase}_ratio`` is predicted
        ÷ measured, kept for older readers), and the same as :meth:`explain` in a form
        whose direction cannot be misread: ``phases`` (``measured_over_predicted`` and the
        error in words), ``not_run`` (each mode that did not run, and why) and ``order``
        (whether the predicted order of the modes held; None with fewer than two)."""
        order = order_verdict(self)
        return {"instructions": self.instructions, "counted": self.counted,
                "expect_exit": self.expect_exit, "profiles": self.provenance,
                "modes": self.rows(), "skipped": self.skipped,
                "phases": [c.to_dict() for c in phase_checks(self)],
                "not_run": not_run(self), "order": order.to_dict() if order else None,
                "pace": [r.to_dict() for r in self.pace], "pace_factors": self.pace_factors}

    def header_lines(self) -> list[str]:
        """What was run and counted, the profiles predicted from, and the machine's pace."""
        lines = [f"Verified {self.workload.module.path}: "
                 + (f"{self.instructions:,} instructions per run (Wasmtime fuel)"
                    if self.instructions else "instructions not counted")]
        mix = self.counted.get("mix")
        if mix:
            total = sum(mix.values()) or 1
            shares = sorted(((n / total, cls) for cls, n in mix.items() if n), reverse=True)
            lines.append("  mix: " + ", ".join(f"{cls} {share:.0%}" for share, cls in shares
                                               if share >= 0.005)
                         + f"; {self.counted['functions_ran']} of "
                         f"{self.counted['functions']} functions ran")
            lines.append(f"  block ends WAMR's classic interpreter would scan for: "
                         f"{self.counted['block_scans']:,} scans over "
                         f"{self.counted['block_scan_ops']:,} instructions")
        lines.append("; ".join(self.provenance))
        if self.pace_factors:
            lines.append(_pace_line(self.pace_factors, len(self.pace)))
        return lines

    def explain(self) -> str:
        lines = self.header_lines()
        checks = phase_checks(self)
        for m in self.modes:
            if m.failure:
                continue
            lines.append(f"  {m.key} ({m.binding}):")
            for c in (c for c in checks if c.mode == m.key):
                assert c.measured_ns is not None
                lines.append(f"    {c.phase} {human_ns(c.measured_ns)}"
                             + (f", predicted {human_ns(c.predicted_ns)}: {c.said()}"
                                if c.predicted_ns else ""))
            lines += [f"    note: {n}" for n in m.notes]
            lines += [f"    → {d}" for d in m.diagnosis]
        for key, why in not_run(self).items():
            lines.append(f"  {key}: did not run: {why}")
        for key in ("instruction count", "instruction mix", "pace"):
            if key in self.skipped:
                lines.append(f"  {key}: {self.skipped[key]}")
        order = order_verdict(self)
        if order is not None:
            lines.append(f"  {order.said()}")
        return "\n".join(lines)


def _pace_line(factors: dict[str, float], readings: int) -> str:
    def said(factor: float) -> str:
        return (f"{factor:.2f}x slower" if factor >= 1.005 else
                f"{1 / factor:.2f}x faster" if factor <= 1 / 1.005 else "as fast")
    return (f"  the machine ran {said(factors['compile'])} at compiling and "
            f"{said(factors['execute'])} at executing than while the profile was made "
            f"({readings} pace readings); the predictions of the modes it measured are "
            "scaled by it")


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e6
