"""How a predicted figure's spread is written in a table cell.

A spread of 0 does not mean a figure is exact: it means none was measured (a figure
from a profile made elsewhere, or a single run). "±0%" then reads as a certainty the
advisor does not have; the cell says why there is no spread instead.
"""

from __future__ import annotations

import math

__all__ = ["NO_SPREAD", "NO_SPREAD_ELSEWHERE", "spread_cell"]

NO_SPREAD = "–"  # no spread was measured for this figure
NO_SPREAD_ELSEWHERE = "n/a: measured elsewhere"


def spread_cell(relative_sigma: float | None, measured_here: bool = True) -> str:
    """``relative_sigma`` (a fraction of the figure: 0.12 for 12 %) as "±12%"; "±<1%" for
    a spread that rounds to nothing; :data:`NO_SPREAD_ELSEWHERE` where there is no
    spread because the figure comes from a profile measured on another machine, and
    :data:`NO_SPREAD` where there is none for another reason."""
    if relative_sigma is None or not math.isfinite(relative_sigma) or relative_sigma <= 0:
        return NO_SPREAD if measured_here else NO_SPREAD_ELSEWHERE
    if relative_sigma < 0.005:
        return "±<1%"
    return f"±{relative_sigma:.0%}"
