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
from typing import Any

import numpy as np

from ..runtimes import traits_for
from ..workload import human_bytes
from ._confidence import CLEAR_WIN, MATERIAL, Confidence, Resampled
from ._costs import WorkloadFeatures
from ._prediction import Component, Kind, MemoryPart, Prediction
from ._scoring import FLOORS, OBJECTIVES, Candidate, Constraints, ModeEvidence, rank

__all__ = ["SWEEPS", "Crossover", "Decision", "decide", "find_crossovers", "human_ns"]

# field -> (low, high, unit for people)
SWEEPS: dict[str, tuple[float, float, str]] = {
    "request_rate_per_s": (0.01, 1e6, "requests/s"),
    "requests_per_instance": (1, 1e7, "requests per instance"),
    "host_calls_per_request": (0.1, 1e6, "host calls per request"),
    "compute_instructions_per_request": (1e3, 1e12, "instructions per request"),
    "module_bytes": (1024, 64 * 2**20, "module bytes"),
}
# what changes with a swept field besides the field itself
GROWS_WITH = {"module_bytes": "its code bytes and largest function grow in proportion; "
              "its data segments stay as declared"}
GRID_POINTS = 25
BISECTIONS = 12

_VIEWS: dict[str, Callable[[Prediction], list[Component]]] = {
    "latency": Prediction.latency_components,
    "throughput": Prediction.amortised,
    "cold_start": Prediction.ttfi_components,
}
_FIGURE_NAMES = {"latency": "a request", "throughput": "a request, all costs shared out",
                 "cold_start": "the time to first instruction", "memory": "the deployment's memory",
                 "maturity": "maturity"}


def human_ns(ns: float) -> str:
    if not math.isfinite(ns):
        return "∞"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


# the family a component belongs to, so that modes whose bindings name their parts
# differently compare like with like (an interpreter's "load and prepare" with a compiler's
# "compile"; "binding + instantiate" with "binding" and "instantiate"); any other kind is
# a family of its own, by its name
FAMILIES = {
    **dict.fromkeys((Kind.COMPILE, Kind.COMPILE_AHEAD_OF_TIME, Kind.RUN_COMPILE,
                     Kind.LOAD_AND_PREPARE, Kind.LOAD_ARTIFACT), "compile/load"),
    **dict.fromkeys((Kind.INSTANTIATE, Kind.BINDING, Kind.BINDING_AND_INSTANTIATE),
                    "start-up (instantiate + binding)"),
}


def _family(kind: Kind) -> str:
    return FAMILIES.get(kind, kind.value)


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


def _families(view: list[tuple[Component, np.ndarray]] | list[Component]) -> dict[str, Any]:
    """Components summed by family (:data:`FAMILIES`), as values or drawn arrays."""
    out: dict[str, Any] = {}
    for item in view:
        c, value = item if isinstance(item, tuple) else (item, item.value)
        family = _family(c.kind)
        out[family] = out.get(family, 0.0) + value
    return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _memory_decides(winner: Prediction, runner_up: Prediction) -> str:
    """The end of the sentence when memory decides: the part of the deployment's memory
    that differs most between the two, then what the deployment holds."""
    mine = {part.name: part for part in winner.memory_parts()}
    theirs = {part.name: part for part in runner_up.memory_parts()}
    names = list(dict.fromkeys([*mine, *theirs]))

    def size(parts: dict[str, MemoryPart], name: str) -> float:
        return parts[name].bytes if name in parts else 0.0

    name = max(names, key=lambda n: (abs(size(mine, n) - size(theirs, n)), n))
    a, b = size(mine, name), size(theirs, name)
    how = {n: p.detail for n, p in mine.items()}
    return (f"; where they differ most: the {name}, {_format_objective('memory', a)} against "
            f"{_format_objective('memory', b)} (the winner's whole deployment: " + "; ".join(
                f"{n} {_format_objective('memory', p.bytes)} ({how[n]})"
                for n, p in mine.items()) + ").")


def _tie(winner: Candidate, runner_up: Candidate, weights: dict[str, float],
         resampled: Resampled, confidence: Confidence) -> Decision:
    """Two modes the draws cannot tell apart, and what does separate them."""
    others = [k for k in confidence.tied if k not in (winner.key, runner_up.key)]
    ahead = resampled.share_ahead(winner.key, runner_up.key)
    clearly = confidence.beaten.get(runner_up.key, 0.0)
    head = (f"{winner.label} and {runner_up.label} are tied ({winner.score:.1f} against "
            f"{runner_up.score:.1f}): the first scores higher in {ahead:.0%} of "
            f"{confidence.resamples} resamples of the measurements, more than {MATERIAL:.0%} "
            f"higher in {clearly:.0%}, and a clear win needs {CLEAR_WIN:.0%}")
    if others:
        head += "; also tied: " + ", ".join(others)
    better = _clearly_better(winner, runner_up, weights, resampled)
    parts = [f"{c.label} has the better " + _and(better[c.key])
             for c in (winner, runner_up) if better[c.key]]
    sentence = head + ". What separates them: " + (
        "; ".join(parts) if parts else "no figure differs beyond the noise") + "."
    for a, b in ((winner, runner_up), (runner_up, winner)):
        traits = traits_for(a.key)
        if traits is not None and traits.variant_of == b.key:
            sentence += (f" {a.label} is a configuration of {b.label}: where they tie, the "
                         "plain configuration needs no extra set-up.")
    return Decision("tie", None, winner.score, runner_up.score, None, sentence)


def _clearly_better(winner: Candidate, runner_up: Candidate, weights: dict[str, float],
                    resampled: Resampled) -> dict[str, list[str]]:
    """For each of the two modes, the weighted objectives it is better in, in at least
    :data:`CLEAR_WIN` of the draws (maturity, which is not drawn: simply better)."""
    better: dict[str, list[str]] = {winner.key: [], runner_up.key: []}
    for objective, (figure, _lower) in OBJECTIVES.items():
        if not weights.get(objective):
            continue
        if objective == "maturity":
            shares = (1.0 if winner.objectives[figure] > runner_up.objectives[figure] else 0.0,
                      1.0 if runner_up.objectives[figure] > winner.objectives[figure] else 0.0)
        else:
            shares = (resampled.share_better(winner.key, runner_up.key, objective),
                      resampled.share_better(runner_up.key, winner.key, objective))
        for c, other, share in ((winner, runner_up, shares[0]), (runner_up, winner, shares[1])):
            if share >= CLEAR_WIN:
                mine, theirs = (_format_objective(objective, x.objectives[figure])
                                for x in (c, other))
                better[c.key].append(f"{objective.replace('_', ' ')} ({mine} against {theirs})")
    return better


def decide(winner: Candidate, runner_up: Candidate, weights: dict[str, float],
           resampled: Resampled | None = None, confidence: Confidence | None = None
           ) -> Decision:
    """What decides between ``winner`` and ``runner_up``: the objective with the largest
    weighted difference of log-figures and, within it, the component with the largest
    difference that is beyond the noise of the draws. Two tied modes get :func:`_tie`."""
    if resampled is not None and confidence is not None and runner_up.key in confidence.tied:
        return _tie(winner, runner_up, weights, resampled, confidence)
    deltas = {}
    for o, (figure, lower_better) in OBJECTIVES.items():
        w, r = (max(FLOORS[o], min(1e300, c.objectives[figure])) for c in (winner, runner_up))
        deltas[o] = weights.get(o, 0.0) * (math.log(r / w) if lower_better else math.log(w / r))
    objective = max(deltas, key=lambda o: (deltas[o], o))
    figure = OBJECTIVES[objective][0]
    wv, rv = winner.objectives[figure], runner_up.objectives[figure]
    sure = ""
    if confidence is not None:
        sure = (f"; it scores more than {MATERIAL:.0%} higher in "
                f"{confidence.beaten.get(runner_up.key, 0.0):.0%} of {confidence.resamples} "
                "resamples of the measurements")
    head = (f"{winner.label} wins ({winner.score:.0f} against {runner_up.score:.0f} for "
            f"{runner_up.label}{sure}): {objective.replace('_', ' ')} decides, "
            f"{_format_objective(objective, wv)} against {_format_objective(objective, rv)}")
    if objective not in _VIEWS:
        if objective == "memory":
            sentence = head + _memory_decides(winner.prediction, runner_up.prediction)
        else:
            sentence = head + " (from the sourced traits table)."
        return Decision(objective, None, wv, rv, None, sentence)
    return _by_component(winner, runner_up, objective, head, resampled)


def _by_component(winner: Candidate, runner_up: Candidate, objective: str, head: str,
                  resampled: Resampled | None) -> Decision:
    """The decision named by the cost component that separates the two in ``objective``,
    where one differs beyond the noise of the draws."""
    figure = OBJECTIVES[objective][0]
    wv, rv = winner.objectives[figure], runner_up.objectives[figure]
    view = _VIEWS[objective]
    wc = _families(view(winner.prediction))
    rc = _families(view(runner_up.prediction))
    names = sorted(set(wc) | set(rc))
    if resampled is not None:  # only a difference the draws agree on explains anything
        wd = _families(resampled.component_draws(winner.key, objective))
        rd = _families(resampled.component_draws(runner_up.key, objective))
        names = [n for n in names
                 if float(np.mean(rd.get(n, 0.0) > wd.get(n, 0.0))) >= CLEAR_WIN]
    names = [n for n in names if rc.get(n, 0.0) > wc.get(n, 0.0)]
    if not names:
        return Decision(objective, None, wv, rv, None, head + " for "
                        f"{_FIGURE_NAMES[objective]}; no single component differs beyond the "
                        "noise of the measurements.")
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
        text = self._flips()
        grows = GROWS_WITH.get(self.field)
        return f"{text} ({grows})" if grows else text

    def _flips(self) -> str:
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


def sweep_ranges(lifetime: str | None) -> dict[str, tuple[float, float, str]]:
    """The fields to sweep and the values a workload of this instance ``lifetime`` can take:
    a per-request instance serves exactly one request, so its ``requests_per_instance`` is
    not swept; a pooled one serves two or more (the workload's own validation rules)."""
    ranges = dict(SWEEPS)
    low, high, unit = ranges["requests_per_instance"]
    if lifetime == "per-request":
        del ranges["requests_per_instance"]
    elif lifetime == "pooled":
        ranges["requests_per_instance"] = (max(2.0, low), high, unit)
    return ranges


def find_crossovers(evidence: list[ModeEvidence], features: WorkloadFeatures, k: Constraints,
                    lifetime: str | None = None) -> list[Crossover]:
    """Where the winner changes along each field a workload of ``lifetime`` can change."""
    out = []
    current_winner = _winner(evidence, features, k)
    for name, (low, high, unit) in sweep_ranges(lifetime).items():
        current = float(getattr(features, name))
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
