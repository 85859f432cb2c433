"""Memory against concurrency: what a deployment with N live instances holds.

For N concurrent instances the model's resident memory is the whole deployment
(:meth:`~wasm_advisor.model.Prediction.memory_parts`): the runtime's footprint
(its library and engine), the code of every distinct module loaded, and N
instances with their linear memory; through a process per instance (WAMR's
``iwasm``), N runtime processes. The left panel shows that total against the
target's memory. The right one shows what the runtime itself adds per instance,
beyond the linear memory every runtime must hold alike: the total divided by N,
less one linear memory. Its fixed cost is shared out, so the curve settles
towards the per-extra-instance figure as N grows; this is where the runtimes
differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import MEMORY_PARTS
from ._drawing import MAX_BARS, footnote, mode_styles, new_figure, value_axis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..model import Prediction
    from ..recommendation import Recommendation

__all__ = ["memory_figure", "total_memory_bytes"]

MIB = 2**20
KIB = 2**10
CONCURRENCY = [round(10 ** (i / 8)) for i in range(0, 33)]  # 1 .. 10 000


def total_memory_bytes(p: Prediction, instances: float) -> float:
    """Resident memory of the deployment with ``instances`` live instances."""
    return sum(part.bytes for part in p.memory_parts(instances))


def _mark_current(ax: Any, rec: Recommendation) -> None:
    n = rec.features.concurrent_instances
    ax.axvline(n, color="black", linestyle=":", linewidth=1)
    ax.annotate(f"declared: {n:,.0f}", (n, 0.98), xycoords=("data", "axes fraction"),
                fontsize=8, ha="left", va="top")


# a colour for each part of a deployment's memory (Prediction.memory_parts), in the order
# of MEMORY_PARTS: runtime footprint, modules' code, instances, linear memory, processes
PART_COLOURS = dict(zip(MEMORY_PARTS, ("#4c72b0", "#dd8452", "#55a868", "#c9c9c9", "#8172b3"),
                        strict=True))


def _draw_parts(ax: Any, rec: Recommendation, shown: list[Any]) -> None:
    """One stacked bar per mode: its deployment's parts at the declared concurrency."""
    keys = [c.key for c in shown][::-1]  # the winner on top
    lefts = [0.0] * len(keys)
    drawn: set[str] = set()
    for name in MEMORY_PARTS:
        widths = [sum(p.bytes for p in c.prediction.memory_parts() if p.name == name) / MIB
                  for c in shown][::-1]
        if not any(widths):
            continue
        ax.barh(keys, widths, left=lefts, color=PART_COLOURS[name],
                label=name if name not in drawn else None)
        drawn.add(name)
        lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
    ax.set_xlabel("MiB resident, at the declared concurrency")
    ax.set_title(f"The deployment by part ({rec.features.concurrent_instances:,.0f} "
                 "instances)", fontsize=11, loc="left")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)


def memory_figure(rec: Recommendation) -> Figure:
    fig = new_figure(20, 5.4)
    total_ax, per_ax, parts_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.9]})
    styles = mode_styles(rec)
    shown = rec.ranked[:MAX_BARS]
    linear = rec.features.linear_memory_bytes
    overheads: list[float] = []
    all_totals: list[float] = []
    for c in shown:
        totals = [total_memory_bytes(c.prediction, n) for n in CONCURRENCY]
        all_totals += [t / MIB for t in totals]
        total_ax.plot(CONCURRENCY, [t / MIB for t in totals], label=c.key, **styles[c.key])
        own = [max(t / n - linear, 0.0) / KIB for t, n in zip(totals, CONCURRENCY, strict=True)]
        overheads += own
        per_ax.plot(CONCURRENCY, own, label=c.key, **styles[c.key])
    target = rec.constraints.target_memory_bytes / MIB
    total_ax.axhline(target, color="#b22222", linestyle="-.", linewidth=1)
    total_ax.annotate(f"target memory: {target:,.0f} MiB", (0.01, target),
                      xycoords=("axes fraction", "data"), fontsize=8, va="bottom",
                      color="#b22222")
    value_axis(total_ax, all_totals)
    value_axis(per_ax, overheads)
    for ax in (total_ax, per_ax):
        _mark_current(ax, rec)
        ax.set_xscale("log")
        ax.set_xlabel("concurrent instances")
        ax.grid(True, which="major", alpha=0.3)
    total_ax.set_ylabel("MiB resident, all instances")
    modules = rec.features.distinct_modules
    total_ax.set_title(f"Memory of the deployment with N instances ({modules:,.0f} distinct "
                       f"module{'s' if modules != 1 else ''} loaded): {rec.workload.name}",
                       fontsize=11, loc="left")
    per_ax.set_ylabel("KiB per instance beyond its linear memory")
    title = f"The runtime's own memory per instance (each also holds {linear / MIB:,.1f} MiB"
    limit = rec.constraints.max_memory_per_instance_bytes
    title += f"; limit {limit / MIB:,.0f} MiB in all)" if limit else ")"
    per_ax.set_title(title, fontsize=11, loc="left")
    per_ax.legend(fontsize=8, frameon=False, loc="upper right")
    _draw_parts(parts_ax, rec, shown)
    footnote(fig, rec)
    return fig
