"""``report``: one self-contained HTML page for a review of a workload's recommendation."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from ..errors import AdvisorError
from ..present import CHARTS, REPORT_CHARTS, write_report
from .recommend_commands import advisor_for, profile_options, workload_from

__all__ = ["register"]


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="write one self-contained HTML page: recommendation, charts, claims, provenance",
        description="Write one HTML file (no external references: CSS and charts inline) with "
        "the recommendation for a workload (a file or a preset name), the ranking, the "
        "explanation and crossovers, the charts, the public claims checked against the same "
        "profile, and where every figure came from.",
    )
    report.add_argument("workload", metavar="FILE|PRESET")
    report.add_argument("-o", "--output", required=True, metavar="FILE.html",
                        help="where to write the page (replaced atomically)")
    report.add_argument("--charts", default=",".join(REPORT_CHARTS), metavar="NAMES",
                        help="comma-separated charts to include, from "
                        f"{', '.join(c for c in CHARTS if c != 'overview')} "
                        "(default: all of them); '' for none")
    report.add_argument("--no-claims", action="store_true",
                        help="leave out the claims table")
    profile_options(report)
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    charts = [c.strip() for c in args.charts.split(",") if c.strip()]
    unknown = [c for c in charts if c not in CHARTS]
    if unknown:

        raise AdvisorError(f"--charts: unknown chart {unknown[0]!r}; choose from "
                           f"{', '.join(CHARTS)}")
    workload = workload_from(args.workload)
    advisor = advisor_for(args)
    recommendation = advisor.recommend(workload)
    command = ["wasm-advisor", "report", args.workload, "-o", args.output]
    if args.profile:
        command += ["--profile", args.profile]
    if args.with_reference:
        command.append("--with-reference")
    path = write_report(recommendation, advisor.profiles, args.output, charts=charts,
                        claims=[] if args.no_claims else None, command=shlex.join(command))
    if advisor.notice:
        print(advisor.notice)
    print(f"report written: {path} (recommended: {recommendation.winner or 'none'})")
    return 0
