"""The feature-support matrix: which WebAssembly proposals each runtime/mode ran correctly.

One row per runtime/mode, one column per proposal the calibration probes. A
cell is *passed* (the probe ran and computed the right answer), *failed* (it
did not load, trapped or computed a wrong answer), or *not run* (the profile
has no result for it). Columns the workload requires are marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..calibration import PROBES
from ._drawing import footnote, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..recommendation import Recommendation

__all__ = ["CELLS", "feature_matrix", "features_figure"]

# status -> (colour, mark)
CELLS = {"passed": ("#2ca02c", "✓"), "failed": ("#d62728", "✗"), "not run": ("#c7c7c7", "–")}


def feature_matrix(rec: Recommendation) -> tuple[list[str], list[str], list[list[str]]]:
    """(rows: runtime:mode, columns: features, cells: passed / failed / not run)."""
    features = sorted(set(PROBES) | {f for c in rec.candidates for f in c.evidence.feature_status})
    rows = [c.key for c in rec.candidates]
    cells = []
    for c in rec.candidates:
        status = c.evidence.feature_status
        cells.append(["not run" if f not in status else
                      "passed" if status[f] == "supported" else "failed" for f in features])
    return rows, features, cells


def features_figure(rec: Recommendation) -> Figure:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    rows, features, cells = feature_matrix(rec)
    order = list(CELLS)
    fig = new_figure(max(8.0, 1.1 * len(features) + 3.5), 1.4 + 0.38 * max(len(rows), 1))
    ax = fig.subplots()
    grid = [[order.index(cell) for cell in row] for row in cells] or [[2]]
    ax.imshow(grid, cmap=ListedColormap([CELLS[s][0] for s in order]), vmin=0, vmax=2,
              aspect="auto")
    for y, row in enumerate(cells):
        for x, cell in enumerate(row):
            ax.text(x, y, CELLS[cell][1], ha="center", va="center", fontsize=11,
                    color="white" if cell != "not run" else "#333333")
    required = set(rec.constraints.required_features)
    ax.set_xticks(range(len(features)),
                  [f"{f}\n(required)" if f in required else f for f in features], fontsize=9)
    for label, f in zip(ax.get_xticklabels(), features, strict=True):
        if f in required:
            label.set_fontweight("bold")
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False)
    ax.set_xticks([x - 0.5 for x in range(1, len(features))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.legend(handles=[Patch(color=CELLS[s][0], label=f"{CELLS[s][1]} {s}") for s in order],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9,
              title="calibration probe")
    ax.set_title("WebAssembly proposals each runtime/mode ran correctly", fontsize=11,
                 loc="left")
    footnote(fig, rec)
    return fig
