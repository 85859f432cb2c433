"""wasm-advisor: which WebAssembly runtime and mode fits your workload, and why.

Declare a :class:`Workload` (in Python, from a file with :func:`load_workload`,
or from a preset with :meth:`Workload.preset`); later steps calibrate the
runtimes on this machine and recommend one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .files import PACKAGE_VERSION, lazy_exports

if TYPE_CHECKING:  # what the names below are, for the type checker; loaded on first use
    from .advisor import Advisor
    from .calibration import CalibrationProgress, calibrate, sample_module
    from .errors import (
        AdvisorError,
        MeasurementError,
        ModuleError,
        Problem,
        ProfileError,
        RuntimeUnavailableError,
        WorkloadError,
        WorkloadFileError,
    )
    from .present import render_report, write_report
    from .profiles import Profile, ProfileStore, summarize
    from .recommendation import Recommendation
    from .wasm import ModuleInfo, WasmFeature, read_module
    from .workload import (
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
        load_workload,
        parse_bytes,
        preset_names,
        save_workload,
    )

# the public names are imported on first use (files/_lazy.py says why)
__getattr__, __dir__ = lazy_exports(__name__, {
    "Advisor": ".advisor",
    **dict.fromkeys(("CalibrationProgress", "calibrate", "sample_module"), ".calibration"),
    **dict.fromkeys(("AdvisorError", "MeasurementError", "ModuleError", "Problem",
                     "ProfileError", "RuntimeUnavailableError", "WorkloadError",
                     "WorkloadFileError"), ".errors"),
    **dict.fromkeys(("render_report", "write_report"), ".present"),
    **dict.fromkeys(("Profile", "ProfileStore", "summarize"), ".profiles"),
    "Recommendation": ".recommendation",
    **dict.fromkeys(("ModuleInfo", "WasmFeature", "read_module"), ".wasm"),
    **dict.fromkeys(("AccessPattern", "ComputeKind", "DeviceClass", "InstanceLifetime",
                     "Instances", "Limits", "MemoryUse", "ModuleSpec", "Priorities", "Target",
                     "TargetArch", "Work", "Workload", "load_workload", "parse_bytes",
                     "preset_names", "save_workload"), ".workload"),
})


__version__ = PACKAGE_VERSION  # pyproject.toml's, as installed

__all__ = [
    "AccessPattern",
    "Advisor",
    "AdvisorError",
    "CalibrationProgress",
    "ComputeKind",
    "DeviceClass",
    "InstanceLifetime",
    "Instances",
    "Limits",
    "MeasurementError",
    "MemoryUse",
    "ModuleError",
    "ModuleInfo",
    "ModuleSpec",
    "Priorities",
    "Problem",
    "Profile",
    "ProfileError",
    "ProfileStore",
    "Recommendation",
    "RuntimeUnavailableError",
    "Target",
    "TargetArch",
    "WasmFeature",
    "Work",
    "Workload",
    "WorkloadError",
    "WorkloadFileError",
    "__version__",
    "calibrate",
    "load_workload",
    "parse_bytes",
    "preset_names",
    "read_module",
    "render_report",
    "sample_module",
    "save_workload",
    "summarize",
    "write_report",
]
