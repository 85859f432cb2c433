"""What a person reads: charts, the HTML report, and table cells."""

from ._charts import CHARTS, chart_figure, figure_bytes, recommendation_figure, save_charts
from ._report import REPORT_CHARTS, render_report, write_report
from ._spread_cell import spread_cell

__all__ = [
    "CHARTS",
    "REPORT_CHARTS",
    "chart_figure",
    "figure_bytes",
    "recommendation_figure",
    "render_report",
    "save_charts",
    "spread_cell",
    "write_report",
]
