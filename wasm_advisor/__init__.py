"""wasm-advisor: which WebAssembly runtime and mode fits your workload, and why.

Declare a :class:`Workload` (in Python, from a file with :func:`load_workload`,
or from a preset with :meth:`Workload.preset`); later steps calibrate the
runtimes on this machine and recommend one.
"""

from __future__ import annotations

from .advisor import Advisor
from .calibration.calibrate import CalibrationProgress, calibrate
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
from .presets import preset_names
from .profile import Profile, ProfileStore
from .profile_summary import summarize
from .recommendation import Recommendation
from .report import render_report, write_report
from .sample_module import sample_module
from .units import parse_bytes
from .wasm_features import WasmFeature
from .wasm_module import ModuleInfo, read_module
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
)
from .workload_files import load_workload, save_workload

__version__ = "0.1.0"

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
