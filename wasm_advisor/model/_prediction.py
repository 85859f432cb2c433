"""What a prediction is: named cost components of known kinds, and the figures they sum to.

Every component has a :class:`Kind`, whose value is its label, and the phase ``verify``
measures it in (:data:`PHASE_OF_KIND`); consumers tell components apart by their kind,
never by their label. :meth:`Prediction.with_measured` is the one way to put measured
figures (by phase) in place of predicted ones.

Figures: ``latency_ns`` (a typical request on a warm host: includes creating
the instance when each request gets a fresh one), ``mean_cost_ns`` (everything
amortised per request: the CPU time one request costs), ``cold_ms`` in the totals (first
request after a module load), ``ttfi_ns`` (module bytes to first instruction),
``throughput_per_core`` (1 s / mean cost), ``memory_per_instance_bytes``,
``memory_total_bytes`` (the whole deployment, :meth:`Prediction.memory_parts`: the
runtime's footprint, the code of every distinct module loaded, and the instances at the
declared concurrency, or more if Little's law needs more at the declared rate),
``artifact_bytes``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._costs import WorkloadFeatures

__all__ = ["FIRST_INSTANCE", "PHASE_OF_KIND", "RUN_COMPILE", "Component", "Kind", "MemoryPart",
           "Prediction"]


class Kind(enum.Enum):
    """What a cost component is; its value is the component's label (a binding's adds the
    binding's name in brackets)."""

    COMPUTE = "compute"
    HOST_CALLS = "host calls"
    MEMORY_TRAFFIC = "memory traffic"
    INSTANTIATE = "instantiate"
    BINDING = "binding"
    BINDING_AND_INSTANTIATE = "binding + instantiate"  # a binding that cannot separate them
    COMPILE = "compile"
    COMPILE_AHEAD_OF_TIME = "compile (ahead of time)"
    LOAD_AND_PREPARE = "load and prepare"  # an interpreter's compile
    LOAD_ARTIFACT = "load artifact"
    RUN_COMPILE = "compile as it runs"
    FIRST_INSTANCE = "first instance"

    @property
    def phase(self) -> str | None:
        """The phase ``verify`` measures this component in (None: only in a whole run)."""
        return PHASE_OF_KIND.get(self)

    @property
    def engine(self) -> bool:
        """False for the binding's own overhead."""
        return self not in (Kind.BINDING, Kind.BINDING_AND_INSTANTIATE)

    @property
    def short_name(self) -> str:
        """The name charts and tables show: a compile is a compile, ahead of time or not."""
        return "compile" if self is Kind.COMPILE_AHEAD_OF_TIME else self.value


# the phases verify measures, and the components each holds; the binding, a module's first
# instance and a lazy JIT's compiling of the code that runs are in no phase but the whole run
PHASE_OF_KIND = {
    Kind.COMPUTE: "execute", Kind.HOST_CALLS: "execute", Kind.MEMORY_TRAFFIC: "execute",
    Kind.INSTANTIATE: "instantiate",
    Kind.COMPILE: "compile", Kind.COMPILE_AHEAD_OF_TIME: "compile",
    Kind.LOAD_AND_PREPARE: "compile",
    Kind.LOAD_ARTIFACT: "load",
}
FIRST_INSTANCE = Kind.FIRST_INSTANCE.value  # per-module-load: a module's first instantiation
RUN_COMPILE = Kind.RUN_COMPILE.value  # per-module-load: a lazy JIT's compile of run code


@dataclass(frozen=True)
class Component:
    """A part of a predicted figure: what it is, its value and one-sigma uncertainty, and
    its label (the kind's, or with the binding's name)."""

    kind: Kind
    value: float
    sigma: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.kind.value)

    @property
    def engine(self) -> bool:
        return self.kind.engine

    def scaled(self, divisor: float) -> Component:
        return replace(self, value=self.value / divisor, sigma=self.sigma / divisor)


def _total(components: list[Component]) -> tuple[float, float]:
    return (sum(c.value for c in components),
            math.sqrt(sum(c.sigma ** 2 for c in components)))


@dataclass(frozen=True)
class MemoryPart:
    """One named part of a deployment's resident memory."""

    name: str  # MEMORY_PARTS
    bytes: float
    detail: str  # what it is made of, with the counts
    relative_sigma: float = 0.0  # one sigma of it, relative, from its own measurement


# a deployment's memory, part by part: an in-process runtime holds one footprint, the code
# of each distinct module, and each instance; through a process per instance (WAMR's iwasm
# CLI), every instance is a whole runtime process
RUNTIME, MODULES, INSTANCES, LINEAR, PROCESSES = (
    "runtime footprint", "modules' code", "instances", "linear memory", "runtime processes")
MEMORY_PARTS = (RUNTIME, MODULES, INSTANCES, LINEAR, PROCESSES)


def _mib(value: float) -> str:
    return f"{value / 2**20:.2f} MiB"


@dataclass(frozen=True)
class Prediction:
    """What one runtime/mode would cost for one workload, as named components."""

    key: str
    per_request: list[Component]  # compute, host calls, memory traffic
    per_instance: list[Component]  # instantiate, binding
    per_module_load: list[Component]  # compile or load artifact
    features: WorkloadFeatures
    memory_per_instance_bytes: float
    runtime_memory_first_bytes: float
    artifact_bytes: float
    notes: list[str] = field(default_factory=list)
    # one sigma of the runtime's own memory per extra instance (the linear memory is exact)
    memory_per_instance_sigma: float = 0.0
    # the runtime library's pages resident before the engine existed (in no other figure)
    library_bytes: float = 0.0
    # resident memory one loaded module of the workload's code holds (0: not measured)
    module_memory_bytes: float = 0.0
    # every instance is a runtime process of its own (WAMR's iwasm CLI)
    process_per_instance: bool = False

    def amortised(self) -> list[Component]:
        """Every component as its average share of one request (ns)."""
        f = self.features
        per_instance = max(1.0, f.requests_per_instance)
        per_load = per_instance * max(1.0, f.instances_per_module_load)
        out = list(self.per_request)
        out += [c.scaled(per_instance) for c in self.per_instance]
        out += [c.scaled(per_load) for c in self.per_module_load]
        return out

    def latency_components(self) -> list[Component]:
        """A typical request on a warm host: instance creation included when it is per request."""
        if self.features.requests_per_instance <= 1:
            return list(self.per_request) + list(self.per_instance)
        return list(self.per_request)

    def cold_components(self) -> list[Component]:
        return list(self.per_module_load) + list(self.per_instance) + list(self.per_request)

    def ttfi_components(self) -> list[Component]:
        return list(self.per_module_load) + list(self.per_instance)

    @property
    def latency_ns(self) -> float:
        return _total(self.latency_components())[0]

    @property
    def mean_cost_ns(self) -> float:
        return _total(self.amortised())[0]

    @property
    def ttfi_ns(self) -> float:
        return _total(self.ttfi_components())[0]

    @property
    def throughput_per_core(self) -> float:
        cost = self.mean_cost_ns
        return 1e9 / cost if cost > 0 else math.inf

    @property
    def effective_concurrency(self) -> float:
        f = self.features
        return max(f.concurrent_instances, f.request_rate_per_s * self.latency_ns / 1e9)

    @property
    def memory_total_bytes(self) -> float:
        return sum(part.bytes for part in self.memory_parts())

    def memory_parts(self, instances: float | None = None) -> list[MemoryPart]:
        """The deployment's resident memory with ``instances`` live (default: the
        :attr:`effective_concurrency`), by part."""
        f = self.features
        n = self.effective_concurrency if instances is None else instances
        own = self.memory_per_instance_bytes - f.linear_memory_bytes
        linear = MemoryPart(LINEAR, n * f.linear_memory_bytes,
                            f"{n:,.0f} × {_mib(f.linear_memory_bytes)}")
        if self.process_per_instance:
            # a module is loaded only inside a process: as many processes as live
            # instances, or as distinct modules held loaded at once, whichever is more
            processes = max(n, f.distinct_modules)
            module = (f" + {_mib(self.module_memory_bytes)} of the module's code"
                      if self.module_memory_bytes else
                      " (the module's code in it not measured: an older profile)")
            return [MemoryPart(PROCESSES, processes * (self.runtime_memory_first_bytes +
                                                       self.module_memory_bytes),
                               f"{processes:,.0f} × a runtime process with its instance, "
                               f"{_mib(self.runtime_memory_first_bytes)}{module}"), linear]
        footprint = self.library_bytes + max(0.0, self.runtime_memory_first_bytes - own)
        # modules loaded at once: the distinct ones, or more where each load serves only a
        # few instances (a plugin host loading a module for each instance holds n of them)
        loaded = max(f.distinct_modules, math.ceil(n / max(1.0, f.instances_per_module_load)))
        return [
            MemoryPart(RUNTIME, footprint, f"library {_mib(self.library_bytes)}, engine and "
                       f"first-instance set-up {_mib(footprint - self.library_bytes)}"),
            MemoryPart(MODULES, loaded * self.module_memory_bytes,
                       f"{loaded:,.0f} × {_mib(self.module_memory_bytes)}"
                       if self.module_memory_bytes else "not measured (an older profile)"),
            MemoryPart(INSTANCES, n * own, f"{n:,.0f} × {own / 1024:,.1f} KiB",
                       self.memory_per_instance_sigma / own if own > 0 else 0.0),
            linear,
        ]

    def totals(self) -> dict[str, float]:
        """The headline figures, with relative one-sigma uncertainties."""
        latency, latency_sigma = _total(self.latency_components())
        mean, mean_sigma = _total(self.amortised())
        cold, cold_sigma = _total(self.cold_components())
        ttfi, ttfi_sigma = _total(self.ttfi_components())
        return {
            "latency_ms": latency / 1e6, "latency_ms_sigma": latency_sigma / 1e6,
            "mean_cost_ms": mean / 1e6, "mean_cost_ms_sigma": mean_sigma / 1e6,
            "cold_ms": cold / 1e6, "cold_ms_sigma": cold_sigma / 1e6,
            "ttfi_ms": ttfi / 1e6, "ttfi_ms_sigma": ttfi_sigma / 1e6,
            "throughput_per_core": self.throughput_per_core,
            "memory_per_instance_bytes": self.memory_per_instance_bytes,
            "memory_total_bytes": self.memory_total_bytes,
            "artifact_bytes": self.artifact_bytes,
        }

    def phase_ns(self, phase: str) -> float:
        """The predicted time of one phase ``verify`` measures (:attr:`Kind.phase`)."""
        return sum(c.value for c in (*self.per_request, *self.per_instance,
                                     *self.per_module_load) if c.kind.phase == phase)

    def with_measured(self, phases: Mapping[str, float]) -> Prediction:
        """This prediction with measured figures in place of predicted ones: ``phases``
        maps a phase ``verify`` measures (:attr:`Kind.phase`) to its measured time (ns);
        the phase's first component takes it, with no uncertainty, and its others 0.
        Components of no phase, or of a phase not given, keep their predicted figures."""
        return self._each_part(partial(_with_measured, phases=phases))

    def without(self, *kinds: Kind) -> Prediction:
        """This prediction with the components of ``kinds`` at 0 (counted elsewhere)."""
        return self._each_part(partial(_without, kinds=kinds))

    def _each_part(self, change: Callable[[list[Component]], list[Component]]) -> Prediction:
        return replace(self, per_request=change(self.per_request),
                       per_instance=change(self.per_instance),
                       per_module_load=change(self.per_module_load))


def _with_measured(components: list[Component], phases: Mapping[str, float]
                   ) -> list[Component]:
    """``components`` with a measured phase's first component holding the measured figure
    and the phase's others none."""
    out, seen = [], set()
    for c in components:
        phase = c.kind.phase
        if phase is None or phase not in phases:
            out.append(c)
        else:
            out.append(replace(c, value=0.0 if phase in seen else phases[phase], sigma=0.0))
            seen.add(phase)
    return out


def _without(components: list[Component], kinds: tuple[Kind, ...]) -> list[Component]:
    """``components`` with those of ``kinds`` at 0."""
    return [replace(c, value=0.0, sigma=0.0) if c.kind in kinds else c for c in components]
