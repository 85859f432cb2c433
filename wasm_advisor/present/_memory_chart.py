"""Memory against concurrency: what N live instances of each runtime/mode hold.

For N concurrent instances the model's resident memory is the first instance's
(the runtime itself, plus its linear memory) plus, for each further instance,
the measured resident memory per extra instance and its linear memory. The
left panel shows that total against the target's memory. The right one shows
what the runtime itself adds per instance, beyond the linear memory every
runtime must hold alike: the total divided by N, less one linear memory. Its
fixed cost is shared out, so the curve settles towards the per-extra-instance
figure as N grows; this is where the runtimes differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    """Resident memory of ``instances`` live instances (the model's Little's-law sum)."""
    linear = p.features.linear_memory_bytes
    extra = p.memory_per_instance_bytes - linear
    return p.runtime_memory_first_bytes + (instances - 1) * extra + instances * linear


def _mark_current(ax: Any, rec: Recommendation) -> None:
    n = rec.features.concurrent_instances
    ax.axvline(n, color="black", linestyle=":", linewidth=1)
    ax.annotate(f"declared: {n:,.0f}", (n, 0.98), xycoords=("data", "axes fraction"),
                fontsize=8, ha="left", va="top")


def memory_figure(rec: Recommendation) -> Figure:
    fig = new_figure(14, 5.4)
    total_ax, per_ax = fig.subplots(1, 2)
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
    total_ax.set_title(f"Memory for N instances: {rec.workload.name}", fontsize=11, loc="left")
    per_ax.set_ylabel("KiB per instance beyond its linear memory")
    title = f"The runtime's own memory per instance (each also holds {linear / MIB:,.1f} MiB"
    limit = rec.constraints.max_memory_per_instance_bytes
    title += f"; limit {limit / MIB:,.0f} MiB in all)" if limit else ")"
    per_ax.set_title(title, fontsize=11, loc="left")
    per_ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    footnote(fig, rec)
    return fig
