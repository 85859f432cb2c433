"""``recommend``, ``check`` and ``claims``: the advisor's answers on the command line."""

from __future__ import annotations

import argparse
import difflib
import math
import sys
from typing import Any, TextIO

from rich.markup import escape
from rich.table import Table

from ..advisor import Advisor
from ..errors import AdvisorError
from ..model import Candidate, check_claims, decide, human_ns
from ..present import CHARTS, save_charts, spread_cell
from ..recommendation import Recommendation
from ..workload import Workload, parse_bytes, preset_names, workload_from
from .calibrate_commands import calibration_progress
from .console import wide_console

__all__ = ["advisor_for", "profile_options", "register", "workload_from"]

EXIT_CHECK_FAILED = 1


def profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="ID|FILE",
                        help="a saved profile (id or prefix) or a profile file; default: this "
                        "machine's latest, else the shipped reference profile")
    parser.add_argument("--calibrate", action="store_true",
                        help="run the quick calibration first when this machine has no profile")
    parser.add_argument("--with-reference", action="store_true",
                        help="score runtimes this machine could not measure (e.g. WAMR without "
                        "iwasm) from the reference profile, marked as measured elsewhere")


def register(commands: Any) -> None:
    rec = commands.add_parser(
        "recommend",
        help="rank the runtimes/modes for a workload and explain why",
        description="Rank every runtime/mode for a workload (a file, or a preset name: "
        f"{', '.join(preset_names())}), explain what decides, and show where the ranking "
        "would flip.",
    )
    rec.add_argument("workload", metavar="FILE|PRESET")
    profile_options(rec)
    rec.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    rec.add_argument("--plot", metavar="FILE", help="save a chart (PNG, SVG or PDF, by the "
                     "file's suffix); --chart picks which")
    rec.add_argument("--chart", default="overview", choices=[*CHARTS, "all"],
                     help="with --plot: overview (cost breakdown and one crossover, the "
                     "default), breakdown, crossovers, memory, features, or all (one file "
                     "each, named FILE-CHART.png)")
    rec.add_argument("--no-crossovers", action="store_true", help="skip the crossover search")
    rec.set_defaults(run=_recommend)

    check = commands.add_parser(
        "check",
        help="pre-deployment check: is the chosen runtime fit for this workload?",
        description="Exit 0 when the chosen runtime/mode can run the workload within its "
        "limits and scores within MARGIN of the best mode measured in the same profile; exit "
        "1 with the reason otherwise; exit 2 for a runtime or mode name the profile does not "
        "know. Plain lines, fit for a CI log.",
    )
    check.add_argument("workload", metavar="FILE|PRESET")
    check.add_argument("--runtime", required=True, metavar="NAME[:MODE]",
                       help="the runtime you deploy, e.g. wasmtime or wamr:aot (a runtime "
                       "alone means its best mode)")
    check.add_argument("--max-latency", type=float, metavar="MS",
                       help="latency budget per request in ms (overrides the workload's)")
    check.add_argument("--max-memory", metavar="BYTES",
                       help="memory limit per instance, e.g. '64 MiB' (overrides the workload's)")
    check.add_argument("--margin", type=float, default=0.10, metavar="FRACTION",
                       help="how far below the best score of its profile the choice may be, "
                       "as a fraction of that score (default 0.10)")
    profile_options(check)
    check.set_defaults(run=_check)

    claims = commands.add_parser(
        "claims",
        help="check the public debate's claims against a profile",
        description="Turn each claim about Wasmtime, Wasmer and WAMR into figures from the "
        "profile and say supported / not supported / not measurable here (docs/claims.md).",
    )
    profile_options(claims)
    claims.set_defaults(run=_claims)


def advisor_for(args: argparse.Namespace) -> Advisor:
    if not args.calibrate:
        return Advisor(args.profile, with_reference=args.with_reference)

    with calibration_progress() as on_progress:
        return Advisor(args.profile, calibrate=True, with_reference=args.with_reference,
                       progress=on_progress)


def _recommend(args: argparse.Namespace) -> int:
    workload = workload_from(args.workload)
    recommendation = advisor_for(args).recommend(workload)
    saved = save_charts(recommendation, args.plot, args.chart) if args.plot else []
    if args.json:
        print(recommendation.to_json())
        return 0
    console = wide_console(highlight=False, width=140)
    if recommendation.notice:  # an unsteady profile is said first
        console.print(recommendation.notice, markup=False, soft_wrap=True)
    console.print(recommendation.headline, markup=False)
    console.print(f"{workload.name}: " + "; ".join(recommendation.provenance), markup=False)
    table = Table(show_lines=False, caption="wins: share of resamples in which the mode ranks "
                  "first; = : tied with #1 (the measurements cannot tell them apart)")
    for heading in ("#", "runtime:mode", "score", "wins", "latency", "mean cost/request",
                    "cold start", "req/s/core", "MiB/instance", "MiB in all",
                    "largest cost"):
        table.add_column(heading, justify="left" if heading in ("runtime:mode", "largest cost")
                         else "right", no_wrap=heading == "runtime:mode")
    confidence = recommendation.confidence
    tied = set(recommendation.tied[1:])
    for i, c in enumerate(recommendation.ranked, start=1):
        p = c.prediction
        totals = p.totals()
        biggest = max(p.amortised(), key=lambda x: x.value)
        share = biggest.value / p.mean_cost_ns if p.mean_cost_ns else 0
        sigma = totals["mean_cost_ms_sigma"] * 1e6 / max(p.mean_cost_ns, 1)
        wins = confidence.win_share.get(c.key, 0.0) if confidence else 0.0
        table.add_row("=" if c.key in tied else str(i), c.key, f"{c.score:.0f}",
                      f"{wins:.0%}", human_ns(p.latency_ns),
                      f"{human_ns(p.mean_cost_ns)} {spread_cell(sigma, c.evidence.measured_here)}",
                      human_ns(p.ttfi_ns), f"{p.throughput_per_core:,.0f}",
                      f"{p.memory_per_instance_bytes / 2**20:.2f}",
                      f"{p.memory_total_bytes / 2**20:,.1f}",
                      f"{biggest.name.split(' (')[0]} {share:.0%}")
    console.print(table)
    console.print(recommendation.explain(crossovers=not args.no_crossovers), markup=False)
    if saved:
        console.print("charts saved: " + ", ".join(str(p) for p in saved), markup=False)
    return 0


def _known_names(recommendation: Recommendation) -> list[str]:
    """Every runtime and runtime:mode name ``check --runtime`` accepts for this profile."""
    keys = {c.key for c in recommendation.candidates}
    return sorted(keys | {k.split(":")[0] for k in keys} | set(recommendation.unavailable))


def _check(args: argparse.Namespace) -> int:
    """Judge the chosen mode by its own figures: its limits, and its score against the best
    mode of the same profile (whose ratio is theirs alone, see model/_scoring.py). A mode
    from another profile that scores higher is named, not held against it: a CI gate fails
    on evidence measured in the same calibration, whatever else ``--with-reference`` adds."""
    workload = _workload_with_limits(args)
    if not 0 <= args.margin < 1:
        raise AdvisorError("--margin: give a fraction between 0 and 1, e.g. 0.1")
    recommendation = advisor_for(args).recommend(workload)
    _refuse_unknown(args.runtime, recommendation)
    chosen = recommendation.candidate(args.runtime)
    out = sys.stdout
    if recommendation.notice:
        print(recommendation.notice, file=out)
    print(f"check: workload {workload.name!r}, runtime {args.runtime}; "
          + "; ".join(recommendation.provenance), file=out)
    if chosen is None:
        why = recommendation.unavailable.get(args.runtime.split(":")[0], "not measured")
        print(f"FAIL: {args.runtime} was not measured: {why}", file=out)
        return EXIT_CHECK_FAILED
    if chosen.excluded:
        for reason in chosen.excluded:
            print(f"FAIL: {chosen.key} {reason}", file=out)
        return EXIT_CHECK_FAILED
    return _judge_score(chosen, recommendation, args.margin, out)


def _workload_with_limits(args: argparse.Namespace) -> Workload:
    """The workload to check, with the limits ``--max-latency`` and ``--max-memory`` give."""
    workload = workload_from(args.workload)
    limits: dict[str, Any] = {}
    if args.max_latency is not None:
        limits["max_latency_ms"] = args.max_latency
    if args.max_memory is not None:
        try:
            limits["max_memory_per_instance_bytes"] = parse_bytes(args.max_memory)
        except ValueError as e:
            raise AdvisorError(f"--max-memory: {e}") from None
    return workload.replace(**limits) if limits else workload


def _refuse_unknown(runtime: str, recommendation: Recommendation) -> None:
    """Refuse a ``--runtime`` the profile has no name for, with the closest it has."""
    known = _known_names(recommendation)
    if runtime not in known:
        close = difflib.get_close_matches(runtime, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise AdvisorError(f"--runtime: no runtime or mode {runtime!r} in this profile; "
                           f"{hint}known: {', '.join(known)}")


def _judge_score(chosen: Candidate, recommendation: Recommendation, margin: float,
                 out: TextIO) -> int:
    """The chosen mode's figures, and its score against the best of its own profile's:
    PASS within ``margin`` of it, else FAIL with why (a higher score from another profile
    is named, not held against it)."""
    p = chosen.prediction
    print(f"{chosen.key}: score {chosen.score:.1f}, latency {human_ns(p.latency_ns)}, "
          f"{p.memory_per_instance_bytes / 2**20:.2f} MiB per instance "
          f"({p.memory_total_bytes / 2**20:,.1f} MiB for the deployment), cold start "
          f"{human_ns(p.ttfi_ns)}", file=out)
    source = chosen.evidence.profile_id
    peers = [c for c in recommendation.ranked if c.evidence.profile_id == source]
    best = peers[0]  # the chosen one is ranked, so its profile has a best
    for other in recommendation.ranked:
        if other.evidence.profile_id != source and other.merit > chosen.merit:
            print(f"note: {other.key} scores {other.score:.1f} from figures measured "
                  f"elsewhere ({other.evidence.provenance}); it does not count here", file=out)
            break
    ratio = math.exp(chosen.merit - best.merit)  # its score over the best's: theirs alone
    if ratio < 1 - margin:
        print(f"FAIL: {chosen.key} scores {ratio:.0%} of the best of its profile, "
              f"{best.key}: more than {margin:.0%} below it", file=out)
        verdict = decide(best, chosen, recommendation.constraints.weights,
                         recommendation.resampled)
        print(f"  why: {verdict.sentence}", file=out)
        return EXIT_CHECK_FAILED
    print(f"PASS: {chosen.key} is within its limits and within {margin:.0%} of the best "
          f"of its profile ({best.key}; it scores {ratio:.0%} of it). "
          f"{recommendation.headline}", file=out)
    return 0


def _claims(args: argparse.Namespace) -> int:

    advisor = advisor_for(args)
    console = wide_console(highlight=False)
    if advisor.notice:
        console.print(advisor.notice, markup=False, soft_wrap=True)
    console.print("Claims checked against: " + "; ".join(p.provenance for p in advisor.profiles),
                  markup=False, soft_wrap=True)
    table = Table("", "claim", "verdict", "figures", show_lines=True)
    for result in check_claims(advisor.evidence):
        table.add_row(result.id, escape(result.claim), result.verdict, escape(result.figures))
    console.print(table)
    return 0
