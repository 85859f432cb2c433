"""How sure a ranking is: the figures resampled within their measured spread.

Every predicted figure is a sum of named components, each with a one-sigma
uncertainty from the spread of the calibration samples behind it
(:mod:`.costs`). :func:`resample` draws :data:`RESAMPLES` versions of every
candidate's components, each component multiplied by ``exp(σ·z)`` (a
log-normal factor: costs stay positive and the point prediction is the
median), recomputes each candidate's latency, mean cost, cold start and memory
from the drawn components, and scores every draw with the same weighted
geometric mean as the ranking (:func:`~.scoring.log_merit`).

**Which draws are shared.** The random numbers of a component are drawn from
a generator seeded by its name and the mode it belongs to, so the same
question gets the same answer, whatever other modes are listed. A mode that
runs another's generated code (``same_code_as`` in the traits table) shares
that mode's draws for the components fitted from their pooled samples
(compute, host calls, memory traffic, compile and artifact load): the two
differ only where their configuration does, and the difference between them
is never noise dressed up as a cost.

**Which draws are shared, again.** The compute component's spread includes the error
of the prices per instruction class on code they were not fitted to: as real programs
showed it (:mod:`._execution_spread`), or else on the kernels
(:mod:`._instruction_costs`). The part of it that every mode shares (a program whose
dependencies slow one compiler down mostly slow the others too:
:attr:`~.ModeCoefficients.compute_common_sigma`) is drawn from one stream common to every
mode, and only the rest from the mode's own. Two modes are then as uncertain against each
other as their errors differ, not as their sum (:func:`ratio_sigma`).

**The spread of a component** is ``hypot(σ_samples, σ_sitting)``: the spread
of its samples within the calibration, and what a figure moves between two
calibrations of the same machine that the samples of one cannot show, as
measured between quick calibrations here (:data:`SITTING_SIGMA` for in-guest
figures, four times their spread within one calibration;
:data:`HOST_SITTING_SIGMA` for host-timed ones), and more where the profile's
own pace readings moved more while it was made
(:attr:`~.scoring.ModeEvidence.pace_sigma`: a calibration disturbed by another
process gives answers that say they are less sure). A figure scaled from a profile
measured elsewhere adds the spread of that scaling
(:attr:`~.scoring.ModeEvidence.scale_sigma`).

**Tied.** The winner *clearly* beats another mode when it scores more than
:data:`MATERIAL` higher in at least :data:`CLEAR_WIN` of the draws. (Without
the margin, two modes whose draws are shared, and whose figures differ by a
tenth of a percent in one objective, would be "clearly" apart: a difference no
decision turns on, and smaller than a figure moves between sittings.) The
tied set is the winner and every mode it does not clearly beat; the answer is
clear when the tied set is the winner alone. No difference is attributed to
an objective or a cost component unless it is larger than :data:`MATERIAL` the same way in at least
:data:`CLEAR_WIN` of the draws.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..runtimes import traits_for
from ._prediction import LINEAR, Component, Kind, Prediction
from ._scoring import FLOORS, OBJECTIVES, Candidate, ModeEvidence

__all__ = ["CLEAR_WIN", "HOST_SITTING_SIGMA", "MATERIAL", "RESAMPLES", "SEED",
           "SITTING_SIGMA", "SIZE_SITTING_SIGMA", "Confidence", "Resampled", "log_draws",
           "ratio_sigma", "resample", "stated_sigma"]

RESAMPLES = 400
SEED = 2027  # with the component's name and mode: every draw is the same in every run
CLEAR_WIN = 0.9
MATERIAL = 0.02  # a score, figure or component closer than 2 % is no difference
# What a figure moves between two quick calibrations of the same machine that the samples
# of one cannot show, as one sigma of its logarithm: measured on the development machine
# (2-core VM, 2026-12-07, benchmarks/stability.py --save, three quick calibrations of 12
# modes, each steady), pooled over figures as the root mean square of each figure's
# standard deviation of log(figure) across the three (an unbiased estimate of the variance
# from so few sittings; their median, 0.106 and 0.125, understates it): 0.17 for the
# in-guest kernels, whose spread within one calibration has a median of only 0.027; 0.22
# for host-timed figures (compile, instantiate, binding; leaving out the slopes whose own
# spread within a calibration is above 50 %, which that spread already covers); sizes
# (resident memory, artifacts) 0.013.
SITTING_SIGMA = 0.17  # in-guest: compute, host calls, memory traffic
HOST_SITTING_SIGMA = 0.22  # host-timed: compile, load, instantiate, binding, first instance
SIZE_SITTING_SIGMA = 0.013  # memory per instance
GUEST_COMPONENTS = frozenset({Kind.COMPUTE, Kind.HOST_CALLS, Kind.MEMORY_TRAFFIC})
MAX_LOG_SIGMA = 1.5  # a component known to no better than a factor of 4.5 either way
# components fitted from samples pooled across modes that run the same generated code
# (estimator.SAME_CODE_METRICS): such modes share their draws
# the stream every mode's compute draws its share of the prices' common error from
COMMON_STREAM = "compute/prices' common error"
SHARED_CODE_COMPONENTS = frozenset({
    Kind.COMPUTE, Kind.HOST_CALLS, Kind.MEMORY_TRAFFIC, Kind.COMPILE, Kind.LOAD_ARTIFACT,
    Kind.LOAD_AND_PREPARE, Kind.COMPILE_AHEAD_OF_TIME, Kind.RUN_COMPILE})


@lru_cache(maxsize=4096)
def _normals(stream: str) -> np.ndarray:
    digest = hashlib.sha256(f"{SEED}:{stream}".encode()).digest()
    generator = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    out = generator.standard_normal(RESAMPLES)
    out.flags.writeable = False
    return out


def _stream_owner(key: str, component: Component) -> str:
    traits = traits_for(key)
    if traits is not None and traits.same_code_as and component.kind in SHARED_CODE_COMPONENTS:
        return traits.same_code_as
    return key


def stated_sigma(evidence: ModeEvidence, components: list[Component]) -> float:
    """The relative one-sigma spread the advisor states for the sum of ``components`` of a
    mode: their samples' spread, what a figure moves between sittings (or the profile's
    pace moved), and any scaling from another profile; as the draws use it."""
    total = sum(c.value for c in components)
    if total <= 0:
        return 0.0
    # each component's samples and sittings, summed as independent spreads
    spread = math.sqrt(sum(c.sigma ** 2 + (c.value * sitting_sigma(c.kind, evidence.pace_sigma))
                           ** 2 for c in components))
    return min(MAX_LOG_SIGMA, math.hypot(spread / total, evidence.scale_sigma))


def log_draws(evidence: ModeEvidence, components: list[Component]) -> np.ndarray:
    """The logarithm of the sum of ``components`` of ``evidence``'s mode in each of the
    :data:`RESAMPLES` draws, drawn as the ranking draws them: from the same streams, so
    that a mode running another's code shares its draws and compute shares the prices'
    common error. The spread of two modes' difference is the spread the advisor states
    for the ratio of their figures (:func:`ratio_sigma`)."""
    if not components:
        return np.zeros(RESAMPLES)
    logs: np.ndarray = np.log(np.maximum(_drawn(evidence, components).sum(axis=0), 1e-300))
    return logs


def ratio_sigma(a: np.ndarray, b: np.ndarray) -> float:
    """The one-sigma spread of log(a / b) over two modes' :func:`log_draws`: how sure the
    advisor is of the ratio of two figures, errors they share cancelling."""
    return float(np.std(a - b))


def sitting_sigma(kind: Kind, pace_sigma: float = 0.0) -> float:
    """What a component of ``kind`` moves between sittings: the measured figure for its
    kind of timing, or more where the profile's own pace readings moved more while it was
    made."""
    timing = SITTING_SIGMA if kind in GUEST_COMPONENTS else HOST_SITTING_SIGMA
    return max(timing, pace_sigma)


def _factors(key: str, components: list[Component], pace_sigma: float, extra_sigma: float,
             common: float = 0.0) -> np.ndarray:
    """One row of multiplicative draws per component; ``common``: the part of the compute
    component's spread that the prices' error shares with every other mode
    (:func:`~.estimator.with_common_error`), drawn from one stream for all of them."""
    rows = []
    for c in components:
        relative = c.sigma / c.value if c.value > 0 else 0.0
        sitting = sitting_sigma(c.kind, pace_sigma)
        sigma = min(MAX_LOG_SIGMA, math.sqrt(relative ** 2 + sitting ** 2 + extra_sigma ** 2))
        own = _normals(f"{_stream_owner(key, c)}/{c.name}")
        shared = min(common, sigma) if c.kind == Kind.COMPUTE else 0.0
        if shared > 0:
            rows.append(np.exp(math.sqrt(sigma ** 2 - shared ** 2) * own
                               + shared * _normals(COMMON_STREAM)))
            continue
        rows.append(np.exp(sigma * own))
    return np.array(rows) if rows else np.ones((0, RESAMPLES))


@dataclass(frozen=True)
class _Draws:
    """One candidate's components and their drawn values (rows: components)."""

    components: tuple[Component, ...]  # every component, as a share of one request
    latency: np.ndarray  # drawn values of the components that make up a request's latency
    amortised: np.ndarray  # every component's drawn share of one request
    ttfi: np.ndarray
    memory: np.ndarray  # drawn memory of the whole deployment
    latency_components: tuple[Component, ...]
    ttfi_components: tuple[Component, ...]


def _drawn(evidence: ModeEvidence, components: list[Component]) -> np.ndarray:
    """The drawn values of each of ``components`` of ``evidence``'s mode (rows), from the
    streams every draw of that mode uses (only compute draws the common part)."""
    values: np.ndarray = np.array([c.value for c in components])[:, None] * _factors(
        evidence.coefficients.key, components, evidence.pace_sigma, evidence.scale_sigma,
        evidence.coefficients.compute_common_sigma)
    return values


def _draw(candidate: Candidate) -> _Draws:
    p: Prediction = candidate.prediction
    e = candidate.evidence
    latency = p.latency_components()
    ttfi = p.ttfi_components()
    amortised = p.amortised()
    memory = _memory_draws(candidate.key, p, max(SIZE_SITTING_SIGMA, e.pace_sigma),
                           e.scale_sigma)
    return _Draws(tuple(amortised), _drawn(e, latency), _drawn(e, amortised), _drawn(e, ttfi),
                  memory, tuple(latency), tuple(ttfi))


def _memory_draws(key: str, p: Prediction, sitting: float, extra: float) -> np.ndarray:
    """The deployment's memory, drawn part by part (:meth:`Prediction.memory_parts`): each
    measured size by its own spread and what sizes move between sittings; the linear
    memory, declared, exactly."""
    total = np.zeros(RESAMPLES)
    for part in p.memory_parts():
        if part.name == LINEAR:
            total = total + part.bytes
            continue
        sigma = min(MAX_LOG_SIGMA, math.hypot(part.relative_sigma, sitting, extra))
        total = total + part.bytes * np.exp(sigma * _normals(f"{key}/memory {part.name}"))
    return total


def _merits(draws: _Draws, maturity: float, weights: dict[str, float]) -> np.ndarray:
    """The log-merit of every draw, as :func:`~.scoring.log_merit` computes one."""
    mean_cost = np.maximum(draws.amortised.sum(axis=0), 1e-300)
    figures = {
        "latency_ns": draws.latency.sum(axis=0),
        "throughput_per_core": 1e9 / mean_cost,
        "memory_total_bytes": draws.memory,
        "ttfi_ns": draws.ttfi.sum(axis=0),
        "maturity": np.full(RESAMPLES, maturity),
    }
    total = np.zeros(RESAMPLES)
    for objective, (figure, lower_better) in OBJECTIVES.items():
        w = weights.get(objective, 0.0)
        if w:
            logs = np.log(np.clip(figures[figure], FLOORS[objective], 1e300))
            total += w * (-logs if lower_better else logs)
    return total


@dataclass(frozen=True)
class Confidence:
    """How often each mode wins over the draws, and which modes tie with the winner."""

    resamples: int
    win_share: dict[str, float]  # key -> share of draws in which it scores highest
    # key -> share of draws in which the winner scores more than MATERIAL higher
    beaten: dict[str, float]
    tied: tuple[str, ...]  # the winner, then every mode it does not clearly beat

    @property
    def clear(self) -> bool:
        return len(self.tied) <= 1

    def to_dict(self) -> dict[str, object]:
        return {"resamples": self.resamples, "clear_win_threshold": CLEAR_WIN,
                "clear": self.clear, "tied": list(self.tied),
                "win_share": {k: round(v, 4) for k, v in self.win_share.items()},
                "winner_beats": {k: round(v, 4) for k, v in self.beaten.items()}}


class Resampled:
    """The draws of every ranked candidate of one recommendation."""

    def __init__(self, ranked: list[Candidate], weights: dict[str, float]) -> None:
        self.weights = weights
        self.draws = {c.key: _draw(c) for c in ranked}
        self.merits = {c.key: _merits(self.draws[c.key], c.objectives["maturity"], weights)
                       for c in ranked}
        self.order = [c.key for c in ranked]

    def confidence(self) -> Confidence | None:
        if not self.order:
            return None
        stacked = np.array([self.merits[k] for k in self.order])
        winners = np.argmax(stacked, axis=0)  # ties go to the earlier (better-ranked) mode
        shares = {k: float(np.mean(winners == i)) for i, k in enumerate(self.order)}
        top = self.merits[self.order[0]] - math.log1p(MATERIAL)
        beaten = {k: float(np.mean(top > self.merits[k])) for k in self.order[1:]}
        tied = (self.order[0], *(k for k in self.order[1:] if beaten[k] < CLEAR_WIN))
        return Confidence(RESAMPLES, shares, beaten, tied)

    def share_ahead(self, a: str, b: str) -> float:
        """Share of draws in which ``a`` scores higher than ``b`` (by any amount)."""
        return float(np.mean(self.merits[a] > self.merits[b]))

    def share_better(self, a: str, b: str, objective: str) -> float:
        """Share of draws in which ``a``'s figure for ``objective`` is more than
        :data:`MATERIAL` better than ``b``'s."""
        fa, fb = self._figure(a, objective), self._figure(b, objective)
        if OBJECTIVES[objective][1]:  # lower is better
            return float(np.mean(fa * (1 + MATERIAL) < fb))
        return float(np.mean(fa > fb * (1 + MATERIAL)))

    def _figure(self, key: str, objective: str) -> np.ndarray:
        d = self.draws[key]
        out: np.ndarray = np.zeros(RESAMPLES)  # maturity: a fixed trait, the same in every draw
        if objective == "latency":
            out = d.latency.sum(axis=0)
        elif objective == "throughput":
            out = 1e9 / np.maximum(d.amortised.sum(axis=0), 1e-300)
        elif objective == "cold_start":
            out = d.ttfi.sum(axis=0)
        elif objective == "memory":
            out = d.memory
        return out  # maturity: a fixed trait, the same in every draw

    def component_draws(self, key: str, objective: str
                        ) -> list[tuple[Component, np.ndarray]]:
        """The components behind ``objective``, each with its drawn values (ns)."""
        d = self.draws[key]
        if objective == "latency":
            components, values = d.latency_components, d.latency
        elif objective == "cold_start":
            components, values = d.ttfi_components, d.ttfi
        else:
            components, values = d.components, d.amortised
        return [(c, values[i]) for i, c in enumerate(components)]


def resample(ranked: list[Candidate], weights: dict[str, float]) -> Resampled:
    """Draw every ranked candidate's figures :data:`RESAMPLES` times (see the module's text)."""
    return Resampled(ranked, weights)
