"""Charts a reviewer would put on a slide: what each runtime/mode costs, and where it flips.

:func:`recommendation_figure` draws, side by side, the cost of one request per
runtime/mode as stacked named components (everything amortised per request),
and the crossover chart: the mean cost per request of the leading modes as one
workload field sweeps its plausible range, with the current value marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model.costs import Prediction, predict_costs
from .model.explain import SWEEPS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .recommendation import Recommendation

__all__ = ["recommendation_figure"]

COLOURS = {
    "compile": "#d62728", "compile (ahead of time)": "#d62728", "load artifact": "#ff9896",
    "load and prepare": "#e377c2", "instantiate": "#9467bd", "binding": "#c5b0d5",
    "binding + instantiate": "#8c6d9e",
    "compute": "#1f77b4", "host calls": "#ff7f0e", "memory traffic": "#2ca02c",
}
MAX_BARS = 10


def _colour(name: str) -> str:
    return COLOURS.get(name, COLOURS.get(name.split(" (")[0], "#7f7f7f"))


def recommendation_figure(rec: Recommendation, crossover_field: str | None = None) -> Figure:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 5.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
    shown = rec.ranked[:MAX_BARS]
    labels = [f"{c.key}  ({c.score:.0f})" for c in shown]
    totals = [c.prediction.mean_cost_ns / 1e3 for c in shown]
    # keep the leaders readable: bars far beyond them are cut, with their total written
    limit = (totals[0] if totals else 1.0) * 5
    seen: set[str] = set()
    for row, c in enumerate(shown):
        start = 0.0
        for component in c.prediction.amortised():
            width = component.value / 1e3  # µs
            if width <= 0:
                continue
            name = component.name.split(" (")[0]
            left.barh(row, min(width, max(0.0, limit - start)), left=min(start, limit),
                      color=_colour(name), label=None if name in seen else name,
                      edgecolor="white", linewidth=0.5)
            seen.add(name)
            start += width
        cut = " ▸" if start > limit else ""
        left.text(min(start, limit), row, f"{cut} {start:,.1f} µs", va="center", fontsize=8)
    left.set_yticks(range(len(shown)), labels, fontsize=9)
    left.invert_yaxis()
    left.set_xlim(0, limit * 1.25)
    left.set_xlabel("µs per request, every cost shared out per request (▸: bar cut)")
    left.set_title(f"Cost of one request: {rec.workload.name}", fontsize=11, loc="left")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4,
                frameon=False)

    # request rate moves only memory (Little's law), not the cost per request: a field
    # that changes the cost makes the clearer picture
    flips = [x.field for x in rec.crossovers if (x.below or x.above)
             and x.field != "request_rate_per_s"]
    name = crossover_field or (flips[0] if flips else "requests_per_instance")
    low, high, unit = SWEEPS[name]
    points = [low * (high / low) ** (i / 60) for i in range(61)]
    for c in rec.ranked[:5]:
        costs = []
        for value in points:
            p: Prediction = predict_costs(c.evidence.coefficients,
                                          rec.features.with_value(name, value))
            costs.append(p.mean_cost_ns / 1e3)
        right.plot(points, costs, label=c.key, linewidth=1.8)
    current = float(getattr(rec.features, name))
    if current > 0:
        right.axvline(current, color="black", linestyle=":", linewidth=1)
        right.annotate("this workload", (current, 0.98), xycoords=("data", "axes fraction"),
                       fontsize=8, ha="left", va="top")
    for x in rec.crossovers:
        if x.field == name:
            for flip in (x.below, x.above):
                if flip:
                    right.axvline(flip[0], color="grey", linestyle="--", linewidth=0.8)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel(unit)
    right.set_ylabel("µs per request (mean)")
    right.set_title(f"Crossover: cost as {name} changes", fontsize=11, loc="left")
    right.legend(fontsize=8, frameon=False)
    right.grid(True, which="major", alpha=0.3)
    fig.suptitle("; ".join(rec.provenance), fontsize=8, x=0.01, ha="left", color="#555555")
    return fig
