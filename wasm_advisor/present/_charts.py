"""Charts a reviewer would put on a slide: what each runtime/mode costs, and where it flips.

Every chart is a matplotlib :class:`~matplotlib.figure.Figure` drawn with the
Agg backend (no display needed), from a :class:`~wasm_advisor.Recommendation`:

- ``overview``: the cost breakdown and one crossover chart side by side
  (:func:`recommendation_figure`, what ``Recommendation.plot()`` gives);
- ``breakdown``: stacked named cost components per runtime/mode, for one request
  with every cost shared out, and for the time to first instruction;
- ``crossovers``: cost as request rate, host calls per request and module size
  change, with the current value and the points where the ranking flips
  (:mod:`wasm_advisor.present._sweeps_chart`);
- ``memory``: resident memory per instance and in total against the number of
  concurrent instances (:mod:`wasm_advisor.present._memory_chart`);
- ``features``: which WebAssembly proposals each runtime/mode ran correctly in the
  calibration's probes (:mod:`wasm_advisor.present._features_chart`).

:func:`save_charts` writes one chart, or all of them, to PNG, SVG or PDF (by the
file's suffix), atomically.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AdvisorError
from ..files import write_atomically
from ._drawing import (
    FORMATS,
    breakdown_figure,
    draw_breakdown,
    draw_crossover,
    footnote,
    new_figure,
)
from ._features_chart import features_figure
from ._memory_chart import memory_figure
from ._sweeps_chart import crossovers_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..recommendation import Recommendation

__all__ = ["CHARTS", "FORMATS", "chart_figure", "figure_bytes", "recommendation_figure",
           "save_charts", "save_figure"]

def recommendation_figure(rec: Recommendation, crossover_field: str | None = None) -> Figure:
    """The cost breakdown and one crossover chart, side by side."""
    fig = new_figure(15, 5.4)
    left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
    draw_breakdown(left, rec, "mean")
    # request rate moves only memory (Little's law), not the cost per request: a field
    # that changes the cost makes the clearer picture
    flips = [x.field for x in rec.crossovers if (x.below or x.above)
             and x.field != "request_rate_per_s"]
    draw_crossover(right, rec, crossover_field or (flips[0] if flips else
                                                   "requests_per_instance"))
    footnote(fig, rec)
    return fig


# ----- choosing and saving -----------------------------------------------------------------

def _crossovers(rec: Recommendation) -> Figure:
    return crossovers_figure(rec)


def _memory(rec: Recommendation) -> Figure:
    return memory_figure(rec)


def _features(rec: Recommendation) -> Figure:
    return features_figure(rec)


CHARTS: dict[str, Callable[[Recommendation], Figure]] = {
    "overview": recommendation_figure,
    "breakdown": breakdown_figure,
    "crossovers": _crossovers,
    "memory": _memory,
    "features": _features,
}


def chart_figure(rec: Recommendation, chart: str = "overview") -> Figure:
    """One chart by name (see :data:`CHARTS`)."""
    try:
        draw = CHARTS[chart]
    except KeyError:
        raise AdvisorError(f"unknown chart {chart!r}; choose from "
                           f"{', '.join(CHARTS)} or all") from None
    return draw(rec)


def figure_bytes(fig: Figure, fmt: str, dpi: int = 120) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` atomically, as PNG, SVG or PDF by its suffix."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise AdvisorError(f"{p}: give a chart file ending in {', '.join(FORMATS)}")
    data = figure_bytes(fig, p.suffix.lower().lstrip("."), dpi)
    try:
        write_atomically(p, data)
    except OSError as e:
        raise AdvisorError(f"{p}: cannot write the chart: {e.strerror or e}") from e
    return p


def save_charts(rec: Recommendation, path: str | Path, chart: str = "overview") -> list[Path]:
    """Save one chart to ``path``; with ``chart="all"``, every chart but the overview, each
    to ``path`` with the chart's name added to the stem (``c.png`` → ``c-memory.png``)."""
    p = Path(path)
    if chart != "all":
        return [save_figure(chart_figure(rec, chart), p)]
    return [save_figure(chart_figure(rec, name), p.with_name(f"{p.stem}-{name}{p.suffix}"))
            for name in CHARTS if name != "overview"]
