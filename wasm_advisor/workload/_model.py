"""The workload a user declares: what runs, how often, on what, and what matters.

A :class:`Workload` is a pydantic model in seven groups (``module``,
``instances``, ``work``, ``memory``, ``target``, ``priorities``, ``limits``).
Every field name is unique across the groups, so one field can be changed
without naming its group::

    w = Workload.preset("request-response", host_calls_per_request=40)
    w2 = w.replace(request_rate_per_s=5000)

Building a workload in any way the library offers (the constructor,
:meth:`Workload.from_dict`, :meth:`Workload.preset`, :meth:`Workload.replace`,
:func:`wasm_advisor.load_workload`) raises :class:`~wasm_advisor.errors.WorkloadError`
listing every problem by field. See ``docs/workload.md`` for every field and
how to measure it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails

from ..errors import ModuleError, Problem, WorkloadError
from ..wasm import ModuleInfo, WasmFeature, read_module
from ._presets import preset_data, preset_names
from ._units import ByteCount, human_bytes, parse_bytes

__all__ = [
    "AccessPattern",
    "ComputeKind",
    "DeviceClass",
    "InstanceLifetime",
    "Instances",
    "Limits",
    "MemoryUse",
    "ModuleSpec",
    "Priorities",
    "Target",
    "TargetArch",
    "Work",
    "Workload",
]

KiB, MiB, GiB, TiB = 2**10, 2**20, 2**30, 2**40
WASM32_MEMORY_LIMIT = 4 * GiB


class InstanceLifetime(StrEnum):
    """How long one instance lives, and so how often instances are created."""

    PER_REQUEST = "per-request"
    POOLED = "pooled"
    LONG_RUNNING = "long-running"
    PLUGIN = "plugin"


class ComputeKind(StrEnum):
    """What dominates the guest's own computation."""

    INTEGER = "integer"
    FLOAT = "float"
    CALL_HEAVY = "call-heavy"
    MIXED = "mixed"


class AccessPattern(StrEnum):
    """How the guest walks its linear memory."""

    SEQUENTIAL = "sequential"
    RANDOM = "random"
    MIXED = "mixed"


class TargetArch(StrEnum):
    X86_64 = "x86_64"
    AARCH64 = "aarch64"
    ARM32 = "arm32"
    RISCV64 = "riscv64"
    RISCV32 = "riscv32"
    XTENSA = "xtensa"


class DeviceClass(StrEnum):
    """The class of machine the module will run on in production."""

    SERVER = "server"
    EDGE = "edge"
    EMBEDDED = "embedded"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ModuleSpec(_Group):
    """The WebAssembly module: its size, or a real ``.wasm`` to read it from."""

    path: Path | None = Field(
        default=None,
        description="Path to the real .wasm file. When given, module_bytes, code_bytes and "
        "the features it uses are read from it. Relative paths in a workload file are "
        "relative to that file.",
    )
    module_bytes: ByteCount | None = Field(
        default=None,
        ge=8,
        le=GiB,
        description="Total size of the .wasm file in bytes (e.g. 1500000 or '1.5 MB'). "
        "Required unless path is given.",
    )
    code_bytes: ByteCount | None = Field(
        default=None,
        ge=0,
        le=GiB,
        description="Bytes of the code section (function bodies): what a compiler "
        "compiles. Read from path when given; otherwise module_bytes is used as an upper "
        "bound.",
    )
    data_bytes: ByteCount | None = Field(
        default=None,
        ge=0,
        le=GiB,
        description="Bytes of data segments copied into linear memory at instantiation. Read "
        "from path when given; otherwise 0.",
    )
    escaping_functions: int | None = Field(
        default=None,
        ge=0,
        le=10**8,
        description="Functions of the module's own that the host or a table can call "
        "(exported, or listed in an element segment): Wasmtime compiles an entry point "
        "for each. Read from path when given; otherwise assumed as dense as in the "
        "calibration's code.",
    )
    largest_function_bytes: int | None = Field(
        default=None,
        ge=0,
        le=GiB,
        description="Bytes of the module's largest function body: Wasmtime and Wasmer "
        "compile functions on every core at once, so a module whose one function is most of "
        "its code compiles as if on one core. Read from path when given; otherwise its "
        "code is assumed to spread evenly over the cores.",
    )
    required_features: frozenset[WasmFeature] = Field(
        default=frozenset(),
        description="WebAssembly proposals the module needs (simd, threads, memory64, "
        "exceptions, tail-call, multi-memory, bulk-memory, reference-types, gc, ...). "
        "Features read from path are added to these.",
    )

    @field_serializer("required_features")
    def _sorted_features(self, features: frozenset[WasmFeature]) -> list[str]:
        # a set's order follows the string hash, which changes per process: sort, so that
        # files and JSON written from the same workload are the same bytes every time
        return sorted(f.value for f in features)


class Instances(_Group):
    """How instances are created, reused and run side by side."""

    lifetime: InstanceLifetime = Field(
        description="per-request: a fresh instance for every request; pooled: an instance "
        "is reused for requests_per_instance requests; long-running: one instance serves "
        "for the life of the host process; plugin: a module is loaded, instantiated, "
        "used, then unloaded."
    )
    requests_per_instance: int = Field(
        default=1,
        ge=1,
        le=10**12,
        description="Requests one instance serves before it is dropped (1 for per-request).",
    )
    instances_per_module_load: int = Field(
        default=1_000_000,
        ge=1,
        le=10**12,
        description="Instances created from one compiled (or loaded) module before the host "
        "drops it: large for a server that compiles once, 1 for a plugin reloaded each time. "
        "Compile cost is shared over these instances.",
    )
    precompiled: bool = Field(
        default=False,
        description="True when the module is deployed as a precompiled artifact (Wasmtime "
        ".cwasm, WAMR .aot) that is loaded instead of compiled.",
    )
    request_rate_per_s: float = Field(
        gt=0,
        le=1e7,
        description="Requests per second across the whole service (all instances).",
    )
    concurrent_instances: int = Field(
        default=1,
        ge=1,
        le=1_000_000,
        description="Instances alive at the same time (the memory the host must hold).",
    )
    distinct_modules: int = Field(
        default=1,
        ge=1,
        le=1_000_000,
        description="Different modules loaded at the same time, each holding its compiled "
        "code (a plugin host with 200 plugins: 200); each is taken as the size declared in "
        "module.",
    )


class Work(_Group):
    """What one request does inside the guest and across the host boundary."""

    compute_instructions_per_request: float = Field(
        ge=0,
        le=1e13,
        description="WebAssembly instructions executed per request (the same as Wasmtime "
        "fuel units). Measure it with Wasmtime's fuel counter; see docs/workload.md.",
    )
    compute_kind: ComputeKind = Field(
        default=ComputeKind.MIXED,
        description="What dominates the computation: integer, float, call-heavy or mixed.",
    )
    host_calls_per_request: float = Field(
        default=0,
        ge=0,
        le=1e8,
        description="Calls from the guest to host functions (WASI or your own imports) "
        "per request.",
    )
    bytes_per_host_call: ByteCount = Field(
        default=0,
        ge=0,
        le=GiB,
        description="Bytes copied between guest memory and the host on each host call.",
    )


class MemoryUse(_Group):
    """The guest's linear memory and how each request touches it."""

    linear_memory_bytes: ByteCount = Field(
        default=16 * MiB,
        ge=0,
        le=16 * GiB,
        description="Linear memory an instance uses when running (e.g. '64 MiB').",
    )
    touched_bytes_per_request: ByteCount = Field(
        default=0,
        ge=0,
        le=TiB,
        description="Bytes of linear memory read or written per request, repeats counted.",
    )
    access_pattern: AccessPattern = Field(
        default=AccessPattern.SEQUENTIAL,
        description="How those bytes are walked: sequential, random, or mixed (half each).",
    )


class Target(_Group):
    """The hardware the module will run on in production."""

    arch: TargetArch = Field(default=TargetArch.X86_64, description="CPU architecture.")
    cores: int = Field(default=8, ge=1, le=4096, description="CPU cores available to the host.")
    memory_bytes: ByteCount = Field(
        default=16 * GiB,
        ge=64 * KiB,
        le=64 * TiB,
        description="Memory available to the host for all instances (e.g. '512 MiB').",
    )
    device_class: DeviceClass = Field(
        default=DeviceClass.SERVER,
        description="server, edge (gateway, CDN node) or embedded (microcontroller, IoT).",
    )


_Weight = Annotated[float, Field(ge=0, le=100)]


class Priorities(_Group):
    """How much each objective matters, as relative weights (0 = ignore)."""

    latency: _Weight = Field(default=1, description="Weight of per-request latency.")
    throughput: _Weight = Field(default=1, description="Weight of requests per second per core.")
    memory: _Weight = Field(default=1, description="Weight of memory per instance.")
    cold_start: _Weight = Field(
        default=1, description="Weight of the time from module bytes to first instruction."
    )
    maturity: _Weight = Field(
        default=1,
        description="Weight of the runtime's maturity, security record and ecosystem.",
    )

    @model_validator(mode="after")
    def _some_weight(self) -> Self:
        if sum(self.normalized().values()) == 0:
            raise WorkloadError([Problem("priorities", "at least one weight must be above 0")])
        return self

    def normalized(self) -> dict[str, float]:
        """Weights scaled to sum to 1 (all zero when every weight is zero)."""
        weights = self.model_dump()
        total = sum(weights.values())
        return {k: (v / total if total else 0.0) for k, v in weights.items()}


class Limits(_Group):
    """Hard limits: a runtime/mode that cannot meet one is excluded, with the reason."""

    max_memory_per_instance_bytes: ByteCount | None = Field(
        default=None, ge=0, le=64 * TiB, description="Largest memory one instance may use."
    )
    max_latency_ms: float | None = Field(
        default=None, gt=0, le=3.6e6, description="Latency budget per request, milliseconds."
    )
    max_cold_start_ms: float | None = Field(
        default=None,
        gt=0,
        le=3.6e6,
        description="Longest acceptable time from module bytes to first instruction, ms.",
    )


class Workload(BaseModel):
    """A workload to recommend a WebAssembly runtime for. See docs/workload.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="workload", max_length=200, description="A short name.")
    description: str = Field(default="", max_length=5000, description="What this workload is.")
    module: ModuleSpec = Field(description=ModuleSpec.__doc__ or "")
    instances: Instances = Field(description=Instances.__doc__ or "")
    work: Work = Field(description=Work.__doc__ or "")
    memory: MemoryUse = Field(default_factory=MemoryUse, description=MemoryUse.__doc__ or "")
    target: Target = Field(default_factory=Target, description=Target.__doc__ or "")
    priorities: Priorities = Field(
        default_factory=Priorities, description=Priorities.__doc__ or ""
    )
    limits: Limits = Field(default_factory=Limits, description=Limits.__doc__ or "")

    GROUPS: ClassVar[dict[str, type[_Group]]] = {
        "module": ModuleSpec,
        "instances": Instances,
        "work": Work,
        "memory": MemoryUse,
        "target": Target,
        "priorities": Priorities,
        "limits": Limits,
    }

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise WorkloadError(problems_from_validation(e)) from None

    # ----- construction -------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Workload:
        """Validate ``data`` (a dict, as read from a file) into a workload."""
        if not isinstance(data, dict):
            kind = type(data).__name__
            raise WorkloadError([Problem("", f"expected a table of fields, got {kind}")])
        names = [key for key in data if not isinstance(key, str)]
        if names:  # YAML allows '1: x' or 'true: x'; field names are text
            raise WorkloadError([Problem(str(key), "field names must be text") for key in names])
        return cls(**data)

    @classmethod
    def preset(cls, preset_name: str, /, **overrides: Any) -> Workload:
        """A bundled preset (see :func:`wasm_advisor.preset_names`), with fields overridden
        (``name=`` included). Once a field that the preset's description speaks of is
        changed, the description says which (see :meth:`replace`)."""

        preset = cls.from_dict(preset_data(preset_name))
        return preset.replace(**overrides) if overrides else preset

    @classmethod
    def from_module(cls, path: str | Path, preset: str = "request-response", **overrides: Any
                    ) -> Workload:
        """A workload for the real module at ``path``: its size, code and features read
        from the file, its initial memory as the linear memory (when larger than the
        preset's), and the rest from ``preset``, overridden field by field."""

        try:
            info = read_module(path)
        except ModuleError as e:
            raise WorkloadError([Problem("module.path", str(e))]) from None
        data = preset_data(preset)
        data["name"] = Path(path).stem
        given = sorted(k for k in overrides if k not in ("name", "description"))
        data["description"] = (f"{Path(path).name}, with the {preset} preset's other fields"
                               + (f" except {', '.join(given)}" if given else ""))
        data["module"] = {"path": str(path),
                          "required_features": sorted(f.value for f in info.features)}
        memory = dict(data.get("memory", {}))
        preset_memory = parse_bytes(memory.get("linear_memory_bytes", 0))
        memory["linear_memory_bytes"] = max(preset_memory, info.initial_memory_bytes)
        data["memory"] = memory
        return cls.from_dict(merge_overrides(data, overrides))

    def replace(self, **changes: Any) -> Workload:
        """A copy with fields changed (by leaf name or by group), validated again.

        A description inherited from a preset no longer describes a workload whose
        fields were changed: unless ``description`` is given, it is marked with the
        fields changed since the preset ("The request-response preset, with
        host_calls_per_request changed. The preset: ..."). A description of your own
        is kept as it is.
        """
        changed = Workload.from_dict(merge_overrides(self.to_dict(), changes))
        if "description" in changes:
            return changed
        marked = _marked_description(self.description, _changed_fields(self, changed))
        if marked is None:
            return changed
        return changed.model_copy(update={"description": marked[:5000]})

    def to_dict(self) -> dict[str, Any]:
        """Plain data for files: byte sizes as '64 MiB' strings, no empty fields."""
        return self.model_dump(mode="json", exclude_none=True)

    # ----- derived figures ----------------------------------------------

    @property
    def code_bytes(self) -> int:
        """Bytes a compiler must compile (the code section, or the module size as a bound)."""
        m = self.module
        return m.code_bytes if m.code_bytes is not None else int(m.module_bytes or 0)

    @property
    def instances_per_s(self) -> float:
        """Instances created per second across the service."""
        return self.instances.request_rate_per_s / self.instances.requests_per_instance

    # ----- cross-field rules --------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _read_module_file(cls, data: Any) -> Any:
        module = data.get("module") if isinstance(data, dict) else None
        if not isinstance(module, dict) or module.get("path") in (None, ""):
            return data
        try:
            info = read_module(str(module["path"]))
        except ModuleError as e:
            raise WorkloadError([Problem("module.path", str(e))]) from None
        return {**data, "module": _fill_from_module(module, info)}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = list(_contradictions(self))
        if problems:
            raise WorkloadError(problems)
        return self


def _fill_from_module(module: dict[str, Any], info: ModuleInfo) -> dict[str, Any]:
    filled = dict(module)
    for key, measured in (("module_bytes", info.total_bytes), ("code_bytes", info.code_bytes),
                          ("data_bytes", info.data_bytes)):
        given = filled.get(key)
        if given is None:
            filled[key] = measured
            continue
        try:
            declared = parse_bytes(given)
        except ValueError:
            continue  # the field's own validator reports it
        if declared != measured:
            raise WorkloadError(
                [
                    Problem(
                        f"module.{key}",
                        f"says {declared} bytes but {module['path']} has {measured}; "
                        "remove the field or correct it",
                    )
                ]
            )
    for key, counted in (("escaping_functions", info.escaping_functions),
                         ("largest_function_bytes", info.largest_function_bytes)):
        given = filled.get(key)
        if given is None:
            if counted is not None:
                filled[key] = counted
        elif isinstance(given, int) and counted is not None and given != counted:
            raise WorkloadError([Problem(
                f"module.{key}",
                f"says {given} but {module['path']} has {counted}; "
                "remove the field or correct it")])
    declared_features = filled.get("required_features") or []
    if isinstance(declared_features, list | set | frozenset | tuple):
        filled["required_features"] = sorted(
            {str(f) for f in declared_features} | {f.value for f in info.features}
        )
    return filled


def _contradictions(w: Workload) -> list[Problem]:
    """What in ``w`` contradicts itself: one problem for each rule of
    :data:`_CROSS_FIELD_RULES` it breaks, in their order."""
    return [problem for rule in _CROSS_FIELD_RULES if (problem := rule(w)) is not None]


def _module_sizes(w: Workload) -> Problem | None:
    if w.module.module_bytes is None:
        return Problem("module.module_bytes", "give module_bytes or a path to the .wasm")
    if w.module.code_bytes is not None and w.module.code_bytes > w.module.module_bytes:
        return Problem("module.code_bytes",
                       f"{w.module.code_bytes} code bytes is more than the whole module "
                       f"({w.module.module_bytes} bytes)")
    return None


def _largest_function_in_code(w: Workload) -> Problem | None:
    largest = w.module.largest_function_bytes
    code = w.module.code_bytes if w.module.code_bytes is not None else w.module.module_bytes
    if largest is not None and largest > (code or 0):
        return Problem("module.largest_function_bytes",
                       f"{largest} bytes is more than all the module's code ({code} bytes)")
    return None


def _per_request_serves_one(w: Workload) -> Problem | None:
    inst = w.instances
    if inst.lifetime is InstanceLifetime.PER_REQUEST and inst.requests_per_instance != 1:
        return Problem("instances.requests_per_instance",
                       f"is {inst.requests_per_instance}, but a per-request instance serves "
                       "exactly 1 request; use lifetime 'pooled' to reuse instances")
    return None


def _pooled_serves_several(w: Workload) -> Problem | None:
    inst = w.instances
    if inst.lifetime is InstanceLifetime.POOLED and inst.requests_per_instance < 2:
        return Problem("instances.requests_per_instance",
                       "a pooled instance serves 2 or more requests; use lifetime "
                       "'per-request' for 1")
    return None


def _memory_fits_32_bits(w: Workload) -> Problem | None:
    linear = w.memory.linear_memory_bytes
    if linear > WASM32_MEMORY_LIMIT and WasmFeature.MEMORY64 not in w.module.required_features:
        return Problem("memory.linear_memory_bytes",
                       f"{human_bytes(linear)} is more than a 32-bit memory can hold "
                       "(4 GiB); add 'memory64' to module.required_features if the module "
                       "uses it")
    return None


def _memory_within_limit(w: Workload) -> Problem | None:
    limit, linear = w.limits.max_memory_per_instance_bytes, w.memory.linear_memory_bytes
    if limit is not None and linear > limit:
        return Problem("limits.max_memory_per_instance_bytes",
                       f"{human_bytes(limit)} is less than the linear memory alone "
                       f"({human_bytes(linear)})")
    return None


def _instances_fit_target(w: Workload) -> Problem | None:
    inst, linear = w.instances, w.memory.linear_memory_bytes
    total = linear * inst.concurrent_instances
    if total > w.target.memory_bytes:
        return Problem("instances.concurrent_instances",
                       f"{inst.concurrent_instances} instances × {human_bytes(linear)} "
                       f"= {human_bytes(total)}, more than target.memory_bytes "
                       f"({human_bytes(w.target.memory_bytes)})")
    return None


def _per_request_instances_end(w: Workload) -> Problem | None:
    inst = w.instances
    if inst.concurrent_instances > inst.request_rate_per_s * 3600 and \
            inst.lifetime is InstanceLifetime.PER_REQUEST:
        return Problem("instances.concurrent_instances",
                       f"{inst.concurrent_instances} live per-request instances need requests "
                       f"that each last over an hour at {inst.request_rate_per_s:g} requests/s")
    return None


# the rules across fields a workload must keep, each the problem it breaks or None
_CROSS_FIELD_RULES: tuple[Callable[[Workload], Problem | None], ...] = (
    _module_sizes, _largest_function_in_code, _per_request_serves_one, _pooled_serves_several,
    _memory_fits_32_bits, _memory_within_limit, _instances_fit_target,
    _per_request_instances_end)


def _changed_fields(before: Workload, after: Workload) -> list[str]:
    """The fields (leaf names) whose values differ, other than ``name`` and ``description``."""
    def leaves(w: Workload) -> dict[str, Any]:
        data = w.model_dump(exclude={"name", "description"})
        return {leaf: value for group in data.values() for leaf, value in group.items()}

    old, new = leaves(before), leaves(after)
    return sorted(leaf for leaf in old.keys() | new.keys() if old.get(leaf) != new.get(leaf))


_MARKED = re.compile(r"^The (?P<preset>[\w-]+) preset, with (?P<fields>[\w, ]+) changed\. "
                     r"The preset: (?P<original>.*)$", re.S)


def _marked_description(description: str, fields: list[str]) -> str | None:
    """``description`` marked with the ``fields`` changed, where it is a preset's own
    (or one marked already); None where there is nothing to mark."""

    if not fields:
        return None
    found = _MARKED.match(description)
    if found:
        preset, original = found["preset"], found["original"]
        fields = sorted(set(fields) | set(found["fields"].split(", ")))
    else:
        preset = next((p for p in preset_names()
                       if preset_data(p).get("description") == description), "")
        original = description
        if not preset:
            return None
    return f"The {preset} preset, with {', '.join(fields)} changed. The preset: {original}"


def merge_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied: a group name merges a dict into that group; a
    field name (unique across groups) replaces that field in its group."""
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    leaf_groups = {
        leaf: group for group, cls in Workload.GROUPS.items() for leaf in cls.model_fields
    }
    problems = []
    for key, value in overrides.items():
        if key in Workload.GROUPS and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        elif key in Workload.model_fields:
            merged[key] = value
        elif key in leaf_groups:
            group = leaf_groups[key]
            merged[group] = {**merged.get(group, {}), key: value}
        else:
            known = list(leaf_groups) + list(Workload.model_fields)
            problems.append(Problem(key, f"unknown field{_did_you_mean(key, known)}"))
    if problems:
        raise WorkloadError(problems)
    return merged


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Workload
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return None
    return model


def _message(error: ErrorDetails) -> str:
    kind, loc, value = error["type"], error["loc"], error.get("input")
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        parent = _model_at(tuple(loc[:-1]))
        known = list(parent.model_fields) if parent else []
        return f"unknown field{_did_you_mean(name, known)}"
    if kind == "missing":
        return "is required"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type") and isinstance(
        value, str
    ):
        unit = next(
            (u for suffix, u in _UNIT_SUFFIXES.items() if name.endswith(suffix)), "a number"
        )
        return f"expected {unit}, got {value!r}"
    if kind in _BOUND_WORDS:
        bound = next(iter((error.get("ctx") or {}).values()), None)
        if isinstance(bound, int | float):
            shown = f"{bound:g}"
            if "bytes" in name:
                shown = f"{int(bound)} bytes"
                if bound >= KiB:
                    shown = f"{human_bytes(bound)} ({shown})"
            return f"must be {_BOUND_WORDS[kind]} {shown}, got {value!r}"
    return message


_BOUND_WORDS = {
    "less_than_equal": "at most",
    "less_than": "less than",
    "greater_than_equal": "at least",
    "greater_than": "more than",
}
_UNIT_SUFFIXES = {
    "_ms": "a number of milliseconds",
    "_per_s": "a number per second",
    "_per_request": "a number per request",
    "_instance": "a whole number",
    "_load": "a whole number",
    "_instances": "a whole number",
    "cores": "a whole number of cores",
}


def problems_from_validation(error: ValidationError) -> list[Problem]:
    """One :class:`Problem` per pydantic error, named by its dotted field path."""
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(p for p in detail["loc"] if not _is_union_tag(p))
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        problems.append(Problem(field, _message({**detail, "loc": loc})))
    return problems


def _is_union_tag(part: int | str) -> bool:
    # pydantic adds the union member's name to a location ("function-after[...]", "int").
    return isinstance(part, str) and (
        "[" in part or part in ("int", "str", "float", "bool", "function-after", "lax-or-strict")
    )
