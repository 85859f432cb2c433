"""What every chart draws with: colours and line styles per mode, a figure of a
given size with its footnote, value axes in plain numbers, the cost breakdown and
the lines of a sweep. :mod:`._charts` and the charts of their own build on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model import (
    SWEEPS,
    Component,
    Kind,
    Prediction,
    WorkloadFeatures,
    human_ns,
    predict_costs,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..model import Candidate
    from ..recommendation import Recommendation

__all__ = ["FORMATS", "MAX_BARS", "MAX_LINES", "breakdown_figure", "draw_breakdown",
           "draw_crossover", "draw_sweep_lines", "footnote", "lines_for", "mode_styles",
           "new_figure", "plain_number", "sweep_points", "value_axis"]

COLOURS = {
    Kind.COMPILE: "#d62728", Kind.COMPILE_AHEAD_OF_TIME: "#d62728",
    Kind.LOAD_ARTIFACT: "#ff9896", Kind.LOAD_AND_PREPARE: "#e377c2",
    Kind.INSTANTIATE: "#9467bd", Kind.BINDING: "#c5b0d5", Kind.BINDING_AND_INSTANTIATE: "#8c6d9e",
    Kind.COMPUTE: "#1f77b4", Kind.HOST_CALLS: "#ff7f0e", Kind.MEMORY_TRAFFIC: "#2ca02c",
}
OTHER_COLOUR = "#7f7f7f"  # a lazy JIT's compile as it runs, a module's first instance
MODE_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939")
MAX_BARS = 10
MAX_LINES = 5
FORMATS = (".png", ".svg", ".pdf")


def _colour(kind: Kind) -> str:
    return COLOURS.get(kind, OTHER_COLOUR)


LINE_STYLES = ("-", "--", "-.", ":")


def mode_styles(rec: Recommendation) -> dict[str, dict[str, Any]]:
    """One colour and dash per runtime/mode, the same in every chart of one recommendation
    (dashes keep lines that coincide, modes with equal figures, both visible)."""
    return {c.key: {"color": MODE_PALETTE[i % len(MODE_PALETTE)],
                    "linestyle": LINE_STYLES[i % len(LINE_STYLES)], "linewidth": 1.8}
            for i, c in enumerate(rec.candidates)}


def lines_for(rec: Recommendation, name: str | None = None) -> list[Candidate]:
    """The leading ranked modes, plus any that win beyond a flip along ``name``."""
    shown = rec.ranked[:MAX_LINES]
    winners = {w for x in rec.crossovers if x.field == name
               for flip in (x.below, x.above) if flip and (w := flip[1])}
    shown += [c for c in rec.ranked[MAX_LINES:] if c.key in winners]
    return shown


def new_figure(width: float, height: float) -> Figure:
    """An Agg-backed figure (no display, no global pyplot state)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def footnote(fig: Figure, rec: Recommendation) -> None:
    """Where the figures came from, in small grey type at the top left."""
    fig.suptitle("; ".join(rec.provenance), fontsize=8, x=0.01, ha="left", color="#555555")


def plain_number(value: float, _position: object = None) -> str:
    """Tick labels people read without exponent arithmetic: 1,000 rather than 10³."""
    if value >= 10:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 1e-3 else f"{value:.0e}"


def value_axis(ax: Any, values: list[float]) -> None:
    """A log y axis where the values span a decade or more, else a linear one; plain labels."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    positive = [v for v in values if v > 0]
    low, high = min(positive, default=1.0), max(positive, default=1.0)
    if high / low >= 10:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_yscale("linear")
    ax.yaxis.set_major_formatter(FuncFormatter(plain_number))


# ----- stacked breakdown -----------------------------------------------------------------

VIEWS: dict[str, tuple[Callable[[Prediction], list[Component]], str, str]] = {
    "mean": (Prediction.amortised, "Cost of one request",
             "per request, every cost shared out per request"),
    "cold": (Prediction.ttfi_components, "Cold start",
             "from module bytes to first instruction"),
}


def _unit(ns: float) -> tuple[str, float]:
    """A unit for an axis whose values reach ``ns``."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= 10 * scale:
            return unit, scale
    return "ns", 1.0


def draw_breakdown(ax: Any, rec: Recommendation, view: str = "mean", *,
                   legend: bool = True) -> None:
    """Stacked horizontal bars of named components, one bar per ranked runtime/mode."""
    components_of, title, xlabel = VIEWS[view]
    shown = rec.ranked[:MAX_BARS]
    labels = [f"{c.key}  ({c.score:.0f})" for c in shown]
    parts = [[x for x in components_of(c.prediction) if x.value > 0] for c in shown]
    totals = [sum(x.value for x in p) for p in parts]
    # keep the leaders readable: bars far beyond the fastest are cut, with their total written
    limit_ns = max(min(totals, default=1.0) * 5, max(totals[:1], default=1.0) * 1.2, 1.0)
    unit, scale = _unit(limit_ns)
    limit = limit_ns / scale
    seen: set[str] = set()
    for row, components in enumerate(parts):
        start = 0.0
        for component in components:
            width = component.value / scale
            name = component.kind.short_name
            ax.barh(row, min(width, max(0.0, limit - start)), left=min(start, limit),
                    color=_colour(component.kind), label=None if name in seen else name,
                    edgecolor="white", linewidth=0.5)
            seen.add(name)
            start += width
        cut = " ▸" if start > limit else ""
        ax.text(min(start, limit), row, f"{cut} {human_ns(start * scale)}", va="center",
                fontsize=8)
    ax.set_yticks(range(len(shown)), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, limit * 1.3)
    ax.set_xlabel(f"{unit} {xlabel}" + ("  (▸: bar cut)" if any(
        t > limit_ns for t in totals) else ""))
    ax.set_title(f"{title}: {rec.workload.name}  (score in brackets)", fontsize=11, loc="left")
    ax.grid(True, axis="x", alpha=0.3)
    if legend:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3,
                  frameon=False)


def breakdown_figure(rec: Recommendation) -> Figure:
    """Two stacked-bar panels: one request with every cost shared out, and a cold start."""
    fig = new_figure(14, 5.6)
    left, right = fig.subplots(1, 2)
    draw_breakdown(left, rec, "mean")
    draw_breakdown(right, rec, "cold")
    footnote(fig, rec)
    return fig


# ----- one crossover curve -----------------------------------------------------------------

def sweep_points(name: str, count: int = 61) -> list[float]:
    low, high, _ = SWEEPS[name]
    return [low * (high / low) ** (i / (count - 1)) for i in range(count)]


def mark_flips(ax: Any, rec: Recommendation, name: str) -> None:
    """The current value (dotted) and each ranking flip (dashed, with the new winner)."""
    current = float(getattr(rec.features, name))
    if current > 0:
        ax.axvline(current, color="black", linestyle=":", linewidth=1)
        ax.annotate("this workload", (current, 0.98), xycoords=("data", "axes fraction"),
                    fontsize=8, ha="left", va="top")
    for x in rec.crossovers:
        if x.field != name:
            continue
        for flip in (x.below, x.above):
            if flip:
                ax.axvline(flip[0], color="grey", linestyle="--", linewidth=0.9)
                ax.annotate(f"flip: {flip[1] or 'none fits'}", (flip[0], 0.02),
                            xycoords=("data", "axes fraction"), fontsize=7, rotation=90,
                            ha="right", va="bottom", color="#444444")


def draw_sweep_lines(ax: Any, rec: Recommendation, name: str,
                     value: Callable[[Prediction, WorkloadFeatures], float]) -> None:
    """One line per leading mode of ``value`` as workload field ``name`` sweeps its range,
    with the flips marked, on a log x axis and a value axis fitted to what was drawn."""
    points = sweep_points(name)
    styles = mode_styles(rec)
    drawn: list[float] = []
    for c in lines_for(rec, name):
        values = []
        for v in points:
            features = rec.features.with_value(name, v)
            values.append(value(predict_costs(c.evidence.coefficients, features), features))
        drawn += values
        ax.plot(points, values, label=c.key, **styles[c.key])
    mark_flips(ax, rec, name)
    ax.set_xscale("log")
    value_axis(ax, drawn)


def draw_crossover(ax: Any, rec: Recommendation, name: str) -> None:
    """Mean cost per request of the leading modes as one workload field sweeps its range."""
    _, _, unit = SWEEPS[name]
    draw_sweep_lines(ax, rec, name, lambda p, _: p.mean_cost_ns / 1e3)
    ax.set_xlabel(unit)
    ax.set_ylabel("µs per request (mean, all costs shared out)")
    ax.set_title(f"Crossover: cost as {SWEEPS[name][2]} change", fontsize=11, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(True, which="major", alpha=0.3)
