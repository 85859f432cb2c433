"""Calibration: the generated kernels and module families, how long each is run, the
machine's pace, and the analysis that turns samples into a profile's figures."""

from ._analysis import BINDING_NOTES
from ._calibrate import CalibrationProgress, calibrate
from ._mix_kernels import mix_kernel_names
from ._pace import (
    COMPILE_METRIC,
    EXECUTE_METRIC,
    PACE_MODE,
    PACE_RUNTIME,
    PaceReading,
    pace_factors,
    pace_summary,
    profile_pace,
    read_pace,
)
from ._probes import PROBES
from ._sample_module import ORIGIN as SAMPLE_ORIGIN
from ._sample_module import sample_module

__all__ = [
    "BINDING_NOTES",
    "COMPILE_METRIC",
    "EXECUTE_METRIC",
    "PACE_MODE",
    "PACE_RUNTIME",
    "PROBES",
    "SAMPLE_ORIGIN",
    "CalibrationProgress",
    "PaceReading",
    "calibrate",
    "mix_kernel_names",
    "pace_factors",
    "pace_summary",
    "profile_pace",
    "read_pace",
    "sample_module",
]
