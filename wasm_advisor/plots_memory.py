"""Memory against concurrency: what N live instances of each runtime/mode hold.

For N concurrent instances the model's resident memory is the first instance's
(the runtime itself, plus its linear memory) plus, for each further instance,
the measured resident memory per extra instance and its linear memory. The
left panel shows that total against the target's memory; the right one the
total divided by N: the runtime's fixed cost shared out, which settles towards
the per-extra-instance figure as N grows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plots import MAX_LINES, footnote, mode_styles, new_figure, value_axis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .model.costs import Prediction
    from .recommendation import Recommendation

__all__ = ["memory_figure", "total_memory_bytes"]

MIB = 2**20
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
    shown = rec.ranked[:MAX_LINES + 2]
    per_instance: list[float] = []
    all_totals: list[float] = []
    for c in shown:
        totals = [total_memory_bytes(c.prediction, n) for n in CONCURRENCY]
        all_totals += [t / MIB for t in totals]
        total_ax.plot(CONCURRENCY, [t / MIB for t in totals], label=c.key, **styles[c.key])
        shares = [t / n / MIB for t, n in zip(totals, CONCURRENCY, strict=True)]
        per_instance += shares
        per_ax.plot(CONCURRENCY, shares, label=c.key, **styles[c.key])
    target = rec.constraints.target_memory_bytes / MIB
    total_ax.axhline(target, color="#b22222", linestyle="-.", linewidth=1)
    total_ax.annotate(f"target memory: {target:,.0f} MiB", (0.01, target),
                      xycoords=("axes fraction", "data"), fontsize=8, va="bottom",
                      color="#b22222")
    limit = rec.constraints.max_memory_per_instance_bytes
    if limit:
        per_ax.axhline(limit / MIB, color="#b22222", linestyle="-.", linewidth=1)
        per_ax.annotate(f"limit per instance: {limit / MIB:,.0f} MiB", (0.01, limit / MIB),
                        xycoords=("axes fraction", "data"), fontsize=8, va="bottom",
                        color="#b22222")
    value_axis(total_ax, all_totals)
    value_axis(per_ax, per_instance)
    for ax in (total_ax, per_ax):
        _mark_current(ax, rec)
        ax.set_xscale("log")
        ax.set_xlabel("concurrent instances")
        ax.grid(True, which="major", alpha=0.3)
    linear = rec.features.linear_memory_bytes / MIB
    total_ax.set_ylabel("MiB resident, all instances")
    total_ax.set_title(f"Memory for N instances: {rec.workload.name}", fontsize=11, loc="left")
    per_ax.set_ylabel("MiB resident per instance (total / N)")
    per_ax.set_title(f"Memory per instance (linear memory {linear:,.1f} MiB each)",
                     fontsize=11, loc="left")
    per_ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    footnote(fig, rec)
    return fig
