"""Calibration: the generated kernels and module families, how long each is run, the
machine's pace, and the analysis that turns samples into a profile's figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..files import lazy_exports

if TYPE_CHECKING:  # the names below, for the type checker; imported on first use
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

# a worker imports this package on its way to the task modules (.tasks), which need
# none of the analysis
__getattr__, __dir__ = lazy_exports(__name__, {
    "BINDING_NOTES": "._analysis",
    **dict.fromkeys(("CalibrationProgress", "calibrate"), "._calibrate"),
    "mix_kernel_names": "._mix_kernels",
    **dict.fromkeys(("COMPILE_METRIC", "EXECUTE_METRIC", "PACE_MODE", "PACE_RUNTIME",
                     "PaceReading", "pace_factors", "pace_summary", "profile_pace",
                     "read_pace"), "._pace"),
    "PROBES": "._probes",
    "SAMPLE_ORIGIN": "._sample_module:ORIGIN",
    "sample_module": "._sample_module",
})
