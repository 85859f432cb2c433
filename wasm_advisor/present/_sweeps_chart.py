"""Crossover curves: what the leading runtimes/modes cost as the workload moves.

Three panels, each sweeping one workload field over its plausible range (the
same ranges the crossover search uses) with everything else as declared:

- **request rate**: CPU cores kept busy (rate × mean cost per request), against the
  cores the target has: the ranking flips here only through limits (memory
  for the instances Little's law needs), since the cost per request stays put;
- **host calls per request**: mean cost per request;
- **module size** (code scaled with it): time from module bytes to first
  instruction, which is where size bites.

The dotted line is the workload as declared; dashed lines are where the
ranking (by score, not by this one figure) flips, labelled with the new winner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import SWEEPS
from ._drawing import draw_sweep_lines, footnote, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..recommendation import Recommendation

__all__ = ["PANELS", "crossovers_figure"]

# field -> (what is plotted, y label)
PANELS: dict[str, tuple[str, str, str]] = {
    "request_rate_per_s": ("cores", "CPU cores busy (rate × mean cost per request)",
                           "CPU needed vs request rate"),
    "host_calls_per_request": ("mean", "µs per request (mean, all costs shared out)",
                               "Cost per request vs host calls"),
    "module_bytes": ("ttfi", "ms from module bytes to first instruction",
                     "Cold start vs module size"),
}


def _value(what: str, prediction: Any, rate: float) -> float:
    if what == "cores":
        return float(rate * prediction.mean_cost_ns / 1e9)
    if what == "ttfi":
        return float(prediction.ttfi_ns / 1e6)
    return float(prediction.mean_cost_ns / 1e3)


def draw_sweep(ax: Any, rec: Recommendation, name: str) -> None:
    what, ylabel, title = PANELS[name]
    draw_sweep_lines(ax, rec, name, lambda p, f: _value(what, p, f.request_rate_per_s))
    if what == "cores":
        cores = rec.workload.target.cores
        ax.axhline(cores, color="#b22222", linewidth=1, linestyle="-.")
        ax.annotate(f"target: {cores} cores", (0.01, cores), xycoords=("axes fraction", "data"),
                    fontsize=8, va="bottom", color="#b22222")
    ax.set_xlabel(SWEEPS[name][2] + (" (code bytes scale with it)" if name == "module_bytes"
                                     else ""))
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}: {rec.workload.name}", fontsize=11, loc="left")
    ax.grid(True, which="major", alpha=0.3)


def crossovers_figure(rec: Recommendation) -> Figure:
    fig = new_figure(17, 5.4)
    axes = fig.subplots(1, len(PANELS))
    for ax, name in zip(axes, PANELS, strict=True):
        draw_sweep(ax, rec, name)
    found: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    fig.legend(list(found.values()), list(found), loc="outside lower center",
               ncol=min(len(found), 6), fontsize=9, frameon=False)
    footnote(fig, rec)
    return fig
