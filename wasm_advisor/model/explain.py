"""Why the winner wins, and where the answer would change.

:func:`decide` compares the winner with the runner-up: the objective whose
weighted difference is largest decides; within it, the cost component with the
largest difference is named, with its share of the runner-up's total.

:func:`find_crossovers` sweeps one workload field at a time over a plausible
range (log-spaced), ranks every mode at each value, and bisects between grid
points where the winner changes, giving the value nearest the current one on
each side at which the ranking flips.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..units import human_bytes
from .costs import Component, Prediction, WorkloadFeatures
from .scoring import OBJECTIVES, TIE_BAND, Candidate, Constraints, ModeEvidence, rank

__all__ = ["SWEEPS", "Crossover", "Decision", "decide", "find_crossovers", "human_ns"]

# field -> (low, high, unit for people)
SWEEPS: dict[str, tuple[float, float, str]] = {
    "request_rate_per_s": (0.01, 1e6, "requests/s"),
    "requests_per_instance": (1, 1e7, "requests per instance"),
    "host_calls_per_request": (0.1, 1e6, "host calls per request"),
    "compute_instructions_per_request": (1e3, 1e12, "instructions per request"),
    "module_bytes": (1024, 64 * 2**20, "module bytes"),
}
GRID_POINTS = 25
BISECTIONS = 12

_VIEWS: dict[str, Callable[[Prediction], list[Component]]] = {
    "latency": Prediction.latency_components,
    "throughput": Prediction.amortised,
    "cold_start": Prediction.ttfi_components,
}
_FIGURE_NAMES = {"latency": "a request", "throughput": "a request, all costs shared out",
                 "cold_start": "the time to first instruction", "memory": "memory per instance",
                 "maturity": "maturity"}


def human_ns(ns: float) -> str:
    if not math.isfinite(ns):
        return "∞"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def _component_name(name: str) -> str:
    """The family a component belongs to, so that modes whose bindings name their parts
    differently compare like with like (an interpreter's "load and prepare" with a
    compiler's "compile"; "binding + instantiate" with "binding" and "instantiate")."""
    base = name.split(" (")[0]
    if base.startswith(("compile", "load")):
        return "compile/load"
    if base.startswith(("binding", "instantiate")):
        return "start-up (instantiate + binding)"
    return base


@dataclass(frozen=True)
class Decision:
    """What decides between the winner and the runner-up."""

    objective: str
    component: str | None
    winner_value: float
    runner_up_value: float
    share: float | None  # the component's share of the runner-up's total
    sentence: str


def _format_objective(objective: str, value: float) -> str:
    if objective in ("latency", "cold_start"):
        return human_ns(value)
    if objective == "throughput":
        return (f"{value:,.0f}" if value >= 100 else f"{value:.3g}") + " requests/s per core"
    if objective == "memory":
        return f"{value / 2**20:.2f} MiB"
    return f"{value:.2f}"


def decide(winner: Candidate, runner_up: Candidate, weights: dict[str, float]) -> Decision:
    if winner.preferred_over == runner_up.key:
        return Decision("near tie", None, winner.score, runner_up.score, None, (
            f"{winner.label} is recommended ({winner.score:.1f} against {runner_up.score:.1f} "
            f"for {runner_up.label}): {runner_up.label} is a configuration of it and scores "
            f"less than {TIE_BAND:.0%} higher, less than a score moves between calibrations, "
            f"so the plain configuration, which needs no extra set-up, comes first."))
    deltas = {o: weights.get(o, 0.0) * (winner.normalised.get(o, 0) -
                                        runner_up.normalised.get(o, 0)) for o in OBJECTIVES}
    objective = max(deltas, key=lambda o: (deltas[o], o))
    figure = OBJECTIVES[objective][0]
    wv, rv = winner.objectives[figure], runner_up.objectives[figure]
    head = (f"{winner.label} wins ({winner.score:.0f} against {runner_up.score:.0f} for "
            f"{runner_up.label}): {objective.replace('_', ' ')} decides, "
            f"{_format_objective(objective, wv)} against {_format_objective(objective, rv)}")
    if objective not in _VIEWS:
        if objective == "memory":
            sentence = head + " (runtime overhead per instance plus linear memory)."
        else:
            sentence = head + " (from the sourced traits table)."
        return Decision(objective, None, wv, rv, None, sentence)
    view = _VIEWS[objective]
    wc: dict[str, float] = {}
    rc: dict[str, float] = {}
    for c in view(winner.prediction):
        wc[_component_name(c.name)] = wc.get(_component_name(c.name), 0.0) + c.value
    for c in view(runner_up.prediction):
        rc[_component_name(c.name)] = rc.get(_component_name(c.name), 0.0) + c.value
    names = sorted(set(wc) | set(rc))
    component = max(names, key=lambda n: (rc.get(n, 0.0) - wc.get(n, 0.0), n))
    total = sum(rc.values())
    share = rc.get(component, 0.0) / total if total else None
    sentence = (f"{head} for {_FIGURE_NAMES[objective]}. The difference is mostly "
                f"{component}: {human_ns(wc.get(component, 0.0))} against "
                f"{human_ns(rc.get(component, 0.0))}")
    if share is not None:
        sentence += f", {share:.0%} of the cost of {runner_up.label}"
    return Decision(objective, component, wv, rv, share, sentence + ".")


@dataclass(frozen=True)
class Crossover:
    """Where, along one workload field, the winner changes."""

    field: str
    unit: str
    current: float
    current_winner: str | None
    below: tuple[float, str | None] | None  # (value, winner beyond it), nearest below
    above: tuple[float, str | None] | None
    low: float
    high: float

    def sentence(self) -> str:
        parts = []
        for side, found in (("below", self.below), ("above", self.above)):
            if found:
                who = f"{found[1]} wins" if found[1] else "no mode is within the limits"
                parts.append(f"{side} {quantity(found[0], self.unit)}, {who}")
        now = quantity(self.current, self.unit)
        if not parts:
            return (f"{self.field}: no flip between {quantity(self.low, self.unit)} and "
                    f"{quantity(self.high, self.unit)} (now {now})")
        return f"{self.field} (now {now}): " + "; ".join(parts)


def quantity(value: float, unit: str) -> str:
    """A swept value with its unit, to three significant figures and without exponents:
    "406,000 requests/s", "165.2 KiB"."""
    if unit == "module bytes":
        return human_bytes(value)
    rounded = float(f"{value:.3g}")
    number = f"{rounded:,.0f}" if abs(rounded) >= 100 else f"{rounded:g}"
    if rounded == 1 and " per " in unit:  # "1 request per instance", not "1 requests ..."
        counted, per = unit.split(" per ", 1)
        unit = f"{counted.removesuffix('s')} per {per}"
    return f"{number} {unit}"


def _winner(evidence: list[ModeEvidence], features: WorkloadFeatures, k: Constraints
            ) -> str | None:
    ranked = rank(evidence, features, k)
    return ranked[0].key if ranked and not ranked[0].excluded else None


def _bisect(evidence: list[ModeEvidence], base: WorkloadFeatures, k: Constraints, name: str,
            inside: float, outside: float, inside_winner: str | None
            ) -> tuple[float, str | None]:
    """The boundary between ``inside`` (winner as now) and ``outside`` (another winner)."""
    outside_winner = _winner(evidence, base.with_value(name, outside), k)
    if inside <= 0:  # log-space bisection needs a positive start (e.g. 0 host calls now)
        inside = outside / 1000
    for _ in range(BISECTIONS):
        middle = math.sqrt(inside * outside)
        w = _winner(evidence, base.with_value(name, middle), k)
        if w == inside_winner:
            inside = middle
        else:
            outside, outside_winner = middle, w
    return outside, outside_winner


def find_crossovers(evidence: list[ModeEvidence], features: WorkloadFeatures, k: Constraints
                    ) -> list[Crossover]:
    out = []
    for name, (low, high, unit) in SWEEPS.items():
        current = float(getattr(features, name))
        current_winner = _winner(evidence, features, k)
        grid = [low * (high / low) ** (i / (GRID_POINTS - 1)) for i in range(GRID_POINTS)]
        winners = [_winner(evidence, features.with_value(name, v), k) for v in grid]
        below = above = None
        lower = [i for i, v in enumerate(grid) if v < current]
        upper = [i for i, v in enumerate(grid) if v > current]
        previous_value = current
        for i in reversed(lower):
            if winners[i] != current_winner:
                below = _bisect(evidence, features, k, name, previous_value, grid[i],
                                current_winner)
                break
            previous_value = grid[i]
        previous_value = current
        for i in upper:
            if winners[i] != current_winner:
                above = _bisect(evidence, features, k, name, previous_value, grid[i],
                                current_winner)
                break
            previous_value = grid[i]
        out.append(Crossover(name, unit, current, current_winner, below, above, low, high))
    return out
