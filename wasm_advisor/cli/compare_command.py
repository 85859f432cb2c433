"""``compare``: the winner for many workloads at once, one row each.

Arguments are workload files, directories of them (every ``.toml``, ``.yaml``,
``.yml`` and ``.json`` directly inside, in name order) or preset names. A file
that cannot be read or is invalid is reported on one line of its own and the
others are still compared; the exit status is then 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Column, Table

from ..advisor import Advisor
from ..errors import AdvisorError, WorkloadError
from ..workload import FORMATS, Workload
from .console import EXIT_INVALID, wide_console
from .recommend_commands import advisor_for, profile_options, workload_from

__all__ = ["register"]


def register(commands: Any) -> None:
    compare = commands.add_parser(
        "compare",
        help="the winner for many workloads at once: files, directories or presets",
        description="Rank the runtimes/modes for every workload given (files, directories of "
        "workload files, preset names) and print one row each: winner, runner-up and what "
        "decides. An invalid file gets one error line; the others are still compared.",
    )
    compare.add_argument("workloads", nargs="+", metavar="FILE|DIR|PRESET")
    profile_options(compare)
    compare.add_argument("--json", action="store_true", help="print the rows as JSON")
    compare.set_defaults(run=_compare)


def expand(arguments: list[str]) -> list[str]:
    """Directories replaced by the workload files directly inside them, in name order."""
    out: list[str] = []
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            found = sorted(str(p) for p in path.iterdir()
                           if p.suffix.lower() in FORMATS and p.is_file())
            if not found:
                raise AdvisorError(f"{path}: no workload files (.toml, .yaml, .yml, .json) "
                                   "in this directory")
            out += found
        else:
            out.append(arg)
    return out


def _one_line(error: AdvisorError) -> str:
    if isinstance(error, WorkloadError):
        return "; ".join(str(p) for p in error.problems)
    return " ".join(str(error).split())


def _compare(args: argparse.Namespace) -> int:
    loaded, errors = _load(expand(args.workloads))
    advisor = advisor_for(args)
    frame = advisor.compare(w for _, w in loaded)
    frame.insert(0, "source", [source for source, _ in loaded])
    rows = json.loads(frame.to_json(orient="records")) if len(frame) else []
    for source, message in errors:
        print(f"error: {message if message.startswith(source) else f'{source}: {message}'}",
              file=sys.stderr)
    if args.json:
        print(json.dumps({"notice": advisor.notice,
                          "profiles": [p.provenance for p in advisor.profiles], "rows": rows,
                          "errors": [{"source": s, "error": m} for s, m in errors]}, indent=1))
    else:
        _print_table(advisor, rows, errors)
    return EXIT_INVALID if errors else 0


def _load(sources: list[str]) -> tuple[list[tuple[str, Workload]], list[tuple[str, str]]]:
    """Each source's workload, and for each that could not be read, its one-line error."""
    loaded: list[tuple[str, Workload]] = []
    errors: list[tuple[str, str]] = []
    for source in sources:
        try:
            loaded.append((source, workload_from(source)))
        except AdvisorError as e:
            errors.append((source, _one_line(e)))
    return loaded, errors


def _print_table(advisor: Advisor, rows: list[dict[str, Any]],
                 errors: list[tuple[str, str]]) -> None:
    """The rows as a table, under the advisor's notice and profiles, and how many were
    compared and how many not readable."""
    console = wide_console(highlight=False)
    if advisor.notice:
        console.print(advisor.notice, markup=False, soft_wrap=True)
    console.print("; ".join(p.provenance for p in advisor.profiles), markup=False)
    folder, shown = _file_names([row["source"] for row in rows])
    if folder is not None:
        console.print(f"workload files in {folder}", markup=False, soft_wrap=True)
    # the file column is never broken across lines: a path is what a reader searches for
    table = Table(Column("workload file", no_wrap=True), "workload", "winner", "score",
                  "runner-up", "score", "decides", "excluded")
    for row, name in zip(rows, shown, strict=True):
        decides = " / ".join(x for x in (row["deciding_objective"], row["deciding_component"])
                             if x)
        table.add_row(escape(name), escape(row["workload"]), row["winner"] or "none",
                      _score(row["score"]), row["runner_up"] or "", _score(row["runner_up_score"]),
                      escape(decides), str(row["excluded"]))
    console.print(table)
    console.print(f"{len(rows)} compared, {len(errors)} not readable", markup=False)


def _file_names(sources: list[str]) -> tuple[str | None, list[str]]:
    """The folder every file source shares (or None) and what to show for each source.

    Files in one folder are shown by name under a line naming the folder once, so a
    deep checkout path does not squeeze the other columns; presets are shown as given.
    """
    is_file = [Path(s).is_file() for s in sources]
    files = [Path(s) for s, f in zip(sources, is_file, strict=True) if f]
    if len(files) < 2 or len({p.resolve().parent for p in files}) != 1:
        return None, sources
    return str(files[0].parent), [Path(s).name if f else s
                                  for s, f in zip(sources, is_file, strict=True)]


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
