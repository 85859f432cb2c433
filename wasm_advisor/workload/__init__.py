"""The workload a user declares: the model, its files and presets, and the units it is
written in."""

from ._files import FORMATS, dump_workload, load_workload, save_workload, workload_from
from ._model import (
    AccessPattern,
    ComputeKind,
    DeviceClass,
    InstanceLifetime,
    Instances,
    Limits,
    MemoryUse,
    ModuleSpec,
    Priorities,
    Target,
    TargetArch,
    Work,
    Workload,
)
from ._presets import preset_names
from ._units import human_bytes, human_bytes_apart, parse_bytes

__all__ = [
    "FORMATS",
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
    "dump_workload",
    "human_bytes",
    "human_bytes_apart",
    "load_workload",
    "parse_bytes",
    "preset_names",
    "save_workload",
    "workload_from",
]
