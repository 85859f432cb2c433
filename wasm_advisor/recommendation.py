"""``Recommendation``: the ranked runtimes/modes for one workload, and why.

It holds every candidate with its score, predicted figures (each a sum of
named components, with uncertainty) and exclusions; the profile(s) the figures
came from; the decision between winner and runner-up; and, computed on first
use, the crossovers. It shows itself as text (:meth:`explain`), a DataFrame
(:meth:`to_frame`), JSON (:meth:`to_json`), HTML in notebooks, and charts
(:meth:`plot`).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .model import (
    CLEAR_WIN,
    Candidate,
    Confidence,
    Constraints,
    Crossover,
    Decision,
    ModeEvidence,
    Resampled,
    WorkloadFeatures,
    decide,
    find_crossovers,
    human_ns,
    resample,
)
from .present import chart_figure, recommendation_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from .workload import Workload

__all__ = ["Recommendation"]


@dataclass
class Recommendation:
    """The advisor's answer for one workload."""

    workload: Workload
    candidates: list[Candidate]  # scored best first, then excluded
    constraints: Constraints
    features: WorkloadFeatures
    evidence: list[ModeEvidence]
    provenance: list[str]  # the profiles used, with where they were measured
    unavailable: dict[str, str] = field(default_factory=dict)  # runtime -> why not ranked
    # which profile is used and why, where it matters (an unsteady one): said first
    notice: str | None = None

    # ----- the answer --------------------------------------------------------------

    @property
    def ranked(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.excluded]

    @property
    def excluded(self) -> list[Candidate]:
        return [c for c in self.candidates if c.excluded]

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None

    @property
    def winner(self) -> str | None:
        """The winning ``runtime:mode``, or None when every mode is excluded."""
        return self.best.key if self.best else None

    def candidate(self, key: str) -> Candidate | None:
        """A candidate by ``runtime:mode``, or by runtime (its best mode)."""
        for c in self.candidates:
            if c.key == key:
                return c
        ranked_first = [c for c in self.ranked if c.key.split(":")[0] == key]
        if ranked_first:
            return ranked_first[0]
        return next((c for c in self.candidates if c.key.split(":")[0] == key), None)

    @cached_property
    def resampled(self) -> Resampled:
        """Every ranked mode's figures drawn within their measured spread (fixed seed)."""
        return resample(self.ranked, self.constraints.weights)

    @cached_property
    def confidence(self) -> Confidence | None:
        """How often each mode wins over the draws, and the modes tied with the winner."""
        return self.resampled.confidence()

    @property
    def tied(self) -> list[str]:
        """The winner and every mode the measurements cannot tell from it (the winner alone
        when it wins clearly; empty when every mode is excluded)."""
        return list(self.confidence.tied) if self.confidence else []

    @property
    def headline(self) -> str:
        """One line: the winner and how sure, or the tied set."""
        if self.best is None:
            return "No runtime/mode can run this workload within its limits."
        if len(self.ranked) == 1 or self.confidence is None:
            return f"{self.best.key} is the only runtime/mode within the limits."
        share = self.confidence.win_share[self.best.key]
        if self.confidence.clear:
            return (f"{self.best.key} wins in {share:.0%} of {self.confidence.resamples} "
                    "resamples of the measurements.")
        return (f"No clear winner: {', '.join(self.tied)} are tied ({self.best.key} ranks "
                f"first in {share:.0%} of {self.confidence.resamples} resamples; a clear win "
                f"needs {CLEAR_WIN:.0%} against each).")

    @cached_property
    def decision(self) -> Decision | None:
        if len(self.ranked) < 2:
            return None
        return decide(self.ranked[0], self.ranked[1], self.constraints.weights,
                      self.resampled, self.confidence)

    @cached_property
    def crossovers(self) -> list[Crossover]:
        """Where the ranking flips, per workload field it can change (computed on first use)."""
        return find_crossovers(self.evidence, self.features, self.constraints,
                               self.workload.instances.lifetime.value)

    # ----- text ----------------------------------------------------------------------

    def explain(self, crossovers: bool = True) -> str:
        lines = [self.notice] if self.notice else []
        lines += [f"Workload {self.workload.name!r}; figures from: " + "; ".join(self.provenance),
                  self.headline]
        if self.decision is not None:
            lines.append(self.decision.sentence)
        weights = self.constraints.weights
        for c in self.ranked[:3]:
            lines.append(f"  {c.key}: score {c.score_arithmetic(weights)}")
        for c in self.excluded:
            lines.append(f"  {c.key} excluded: " + "; ".join(c.excluded))
        for runtime, why in self.unavailable.items():
            lines.append(f"  {runtime} not ranked: {why}")
        warned = {w for c in self.ranked for w in c.warnings}
        lines += [f"  note: {w}" for w in sorted(warned)]
        if crossovers:
            lines.append("Where the ranking would flip:")
            lines += [f"  {x.sentence()}" for x in self.crossovers]
        return "\n".join(lines)

    def __repr__(self) -> str:
        best = "none"
        if self.best is not None:
            best = f"{self.best.key} ({self.best.score:.0f})"
            if self.confidence is not None and not self.confidence.clear:
                best += f", tied with {len(self.tied) - 1}"
        return (f"<Recommendation {self.workload.name!r}: best {best}, {len(self.ranked)} "
                f"ranked, {len(self.excluded)} excluded>")

    # ----- data ------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        out = []
        confidence = self.confidence
        tied = set(self.tied)
        for rank, c in enumerate(self.candidates, start=1):
            totals = c.prediction.totals()
            out.append({
                "rank": rank if not c.excluded else None,
                "runtime": c.evidence.coefficients.runtime,
                "mode": c.evidence.coefficients.mode,
                "label": c.label,
                "binding": c.evidence.coefficients.binding,
                "score": round(c.score, 2) if not c.excluded else None,
                "win_share": round(confidence.win_share.get(c.key, 0.0), 4)
                if confidence and not c.excluded else None,
                "tied_with_winner": c.key in tied,
                **totals,
                "components_ns": {x.name: x.value for x in c.prediction.amortised()},
                "excluded": c.excluded,
                "warnings": c.warnings,
                "measured_here": c.evidence.measured_here,
            })
        return out

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.rows())
        return frame.drop(columns=["components_ns"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "notice": self.notice,  # first: an unsteady profile is said before anything
            "workload": self.workload.to_dict(),
            "profiles": self.provenance,
            "winner": self.winner,
            "headline": self.headline,
            "confidence": self.confidence.to_dict() if self.confidence else None,
            "explanation": self.decision.sentence if self.decision else None,
            "deciding_objective": self.decision.objective if self.decision else None,
            "deciding_component": self.decision.component if self.decision else None,
            "weights": self.constraints.weights,
            "candidates": self.rows(),
            "unavailable": self.unavailable,
            "crossovers": [
                {"field": x.field, "current": x.current, "below": x.below, "above": x.above,
                 "text": x.sentence()} for x in self.crossovers],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def _repr_html_(self) -> str:
        head = ("<tr><th>rank</th><th>runtime:mode</th><th>score</th><th>latency</th>"
                "<th>mean cost</th><th>cold start</th><th>MiB/instance</th><th>MiB in all</th>"
                "<th>notes</th></tr>")
        body = []
        for row, c in zip(self.rows(), self.candidates, strict=True):
            notes = "; ".join(c.excluded) if c.excluded else "; ".join(c.warnings)
            body.append(
                "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                    row["rank"] or "out", c.key,
                    f"{c.score:.0f}" if not c.excluded else "–",
                    human_ns(c.prediction.latency_ns), human_ns(c.prediction.mean_cost_ns),
                    human_ns(c.prediction.ttfi_ns),
                    f"{c.prediction.memory_per_instance_bytes / 2**20:.2f}",
                    f"{c.prediction.memory_total_bytes / 2**20:,.1f}", notes)) + "</tr>")
        sentence = html.escape(self.decision.sentence if self.decision else self.explain(False))
        return (f"<div><p><b>{html.escape(self.workload.name)}</b>: "
                f"{html.escape(self.headline)} {sentence}</p>"
                f"<table>{head}{''.join(body)}</table>"
                f"<p><small>{html.escape('; '.join(self.provenance))}</small></p></div>")

    # ----- pictures ----------------------------------------------------------------------

    def plot(self, crossover_field: str | None = None, *, chart: str = "overview") -> Figure:
        """A chart: by default the cost breakdown per runtime/mode and a crossover chart side
        by side; ``chart`` picks another (``breakdown``, ``crossovers``, ``memory``,
        ``features``; see :mod:`wasm_advisor.present._charts`)."""

        if chart == "overview":
            figure: Figure = recommendation_figure(self, crossover_field)
        else:
            figure = chart_figure(self, chart)
        return figure
