"""Figures from a profile measured elsewhere, brought to this machine's pace.

Where this machine's profile lacks a runtime (no ``iwasm`` here, say) and the
advisor fills it in from another profile, the other profile's figures are at
the pace of the machine and minutes it was made in. The modes *both* profiles
measured tell how the two paces compare: for each such mode, the ratio of this
profile's figure to the other's, for the figures timed on the host (compile,
instantiate: :data:`HOST_FIGURES`) and for those timed inside the guest (the
compute and memory kernels: :data:`GUEST_FIGURES`). The median ratio of each
kind scales the other profile's figures of that kind; memory and artifact sizes
are not a matter of pace and are kept. The spread of the ratios (the standard
deviation of their logarithms) is how well one factor describes the difference;
every scaled figure carries it as extra uncertainty
(:attr:`~.scoring.ModeEvidence.scale_sigma`), and its label says it was scaled,
by how much, and from which modes.

Where no mode was measured in both, nothing can be scaled: the figures are
used as measured, and the label says so.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from ._coefficients import Coefficient, ModeCoefficients

__all__ = ["GUEST_FIGURES", "HOST_FIGURES", "PaceRatio", "pace_ratio"]

# figures both profiles are likely to have, one per kind of timing
HOST_FIGURES = ("compile_ns_per_code_byte", "instantiate_ns", "ttfi_ns")
GUEST_FIGURES = ("int_ns_per_iter", "typical_ns_per_iter", "call_ns_per_iter", "mem_seq_ns")
UNPACED = ("rss_", "artifact_bytes")  # sizes, not times


@dataclass(frozen=True)
class PaceRatio:
    """This machine's pace over another profile's, from the modes both measured."""

    host: float  # factor for host-timed figures
    guest: float  # factor for guest-timed figures
    sigma: float  # spread of the ratios behind them (std of their logs)
    modes: tuple[str, ...]  # the modes both profiles measured

    def describe(self) -> str:
        return (f"scaled to this machine's pace (×{self.host:.2f} host-timed, "
                f"×{self.guest:.2f} in-guest, ±{self.sigma:.0%}) from the {len(self.modes)} "
                f"modes both profiles measured")

    def apply(self, m: ModeCoefficients) -> ModeCoefficients:
        """``m``'s coefficients, each timing scaled by the factor of its kind (its prices per
        instruction class, timed inside the guest, by the in-guest one)."""
        scaled = {}
        for name, c in m.coefficients.items():
            if name.startswith(UNPACED):
                scaled[name] = c
                continue
            f = self.guest if c.source == "guest" else self.host
            scaled[name] = Coefficient(c.value * f, c.intercept * f, c.rel_sigma, c.source,
                                       c.runs)
        return replace(m, coefficients=scaled,
                       class_ns={c: v * self.guest for c, v in m.class_ns.items()})


def _ratios(here: dict[str, ModeCoefficients], there: dict[str, ModeCoefficients],
            names: tuple[str, ...]) -> list[float]:
    out = []
    for key in sorted(set(here) & set(there)):
        for name in names:
            a, b = here[key].get(name), there[key].get(name)
            if a is not None and b is not None and a.value > 0 and b.value > 0:
                out.append(a.value / b.value)
    return out


def pace_ratio(here: list[ModeCoefficients], there: list[ModeCoefficients]) -> PaceRatio | None:
    """How this profile's pace compares with ``there``'s; None where no mode is in both."""
    mine = {m.key: m for m in here}
    theirs = {m.key: m for m in there}
    host, guest = _ratios(mine, theirs, HOST_FIGURES), _ratios(mine, theirs, GUEST_FIGURES)
    if not host or not guest:
        return None
    logs = [math.log(r) for r in host] + [math.log(r) for r in guest]
    centred = [x - math.log(statistics.median(host)) for x in logs[:len(host)]] + \
        [x - math.log(statistics.median(guest)) for x in logs[len(host):]]
    sigma = statistics.pstdev(centred) if len(centred) > 1 else 0.0
    return PaceRatio(statistics.median(host), statistics.median(guest), sigma,
                     tuple(sorted(set(mine) & set(theirs))))
