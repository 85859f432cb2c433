"""Calibration profiles: what one holds, where they are stored (and locked), the machine
they were measured on, the physical bounds of a figure, and summaries of them."""

from ._bounds import STEADY_FAMILIES, out_of_bounds, tasks_behind
from ._machine import this_machine
from ._profile import (
    COUNT_PREFIX,
    SHARED_FROM,
    FeatureResult,
    Figure,
    MeasurementFailure,
    ModeRecord,
    Profile,
    ProfileStore,
    RuntimeRecord,
    Steadiness,
    SteadinessFigure,
    default_cache_dir,
    make_profile,
    reference_profiles,
)
from ._summary import MEMORY_COLUMNS, RUNNING_COLUMNS, STARTUP_COLUMNS, summarize, summary_rows

__all__ = [
    "COUNT_PREFIX",
    "MEMORY_COLUMNS",
    "RUNNING_COLUMNS",
    "SHARED_FROM",
    "STARTUP_COLUMNS",
    "STEADY_FAMILIES",
    "FeatureResult",
    "Figure",
    "MeasurementFailure",
    "ModeRecord",
    "Profile",
    "ProfileStore",
    "RuntimeRecord",
    "Steadiness",
    "SteadinessFigure",
    "default_cache_dir",
    "make_profile",
    "out_of_bounds",
    "reference_profiles",
    "summarize",
    "summary_rows",
    "tasks_behind",
    "this_machine",
]
