"""``schema``, ``validate`` and ``presets``: writing and checking workloads."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import AdvisorError, Problem, WorkloadError
from ..workload import Workload, dump_workload, load_workload, preset_names
from .console import wide_console

__all__ = ["register"]


def register(commands: Any) -> None:
    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a workload",
        description="Print the JSON Schema of a workload file, with every field's description "
        "and unit. Editors use it to check and complete workload files.",
    )
    schema.set_defaults(run=_schema)

    validate = commands.add_parser(
        "validate",
        help="check workload files",
        description="Check one or more workload files (TOML, YAML or JSON). Prints one line "
        "per problem, naming the file, line and field, and exits 2 if any file is invalid.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="workload file(s) to check")
    validate.set_defaults(run=_validate)

    presets = commands.add_parser(
        "presets",
        help="list the bundled workload presets, or print one",
        description="List the bundled presets; with a NAME, print that preset as a workload "
        "file to start from (wasm-advisor presets plugin-host --format yaml > mine.yaml).",
    )
    presets.add_argument("name", nargs="?", help="preset to print")
    presets.add_argument(
        "--format", choices=("toml", "yaml", "json"), default="toml", help="output format"
    )
    presets.set_defaults(run=_presets)


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(Workload.model_json_schema(), indent=2))
    return 0


def _validate(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    problems: list[Problem] = []
    for file in args.files:
        try:
            workload = load_workload(file)
        except WorkloadError as e:
            problems.extend(e.problems)
        except AdvisorError as e:
            problems.append(Problem("", str(e), file=file))
        else:
            console.print(f"{file}: ok ({workload.name})")
    if problems:
        raise WorkloadError(problems)
    return 0


def _presets(args: argparse.Namespace) -> int:
    if args.name:
        print(dump_workload(Workload.preset(args.name), args.format), end="")
        return 0
    print_presets(wide_console(highlight=False, width=100))
    return 0


def print_presets(console: Console) -> None:
    """The presets in a table narrow enough for 80 columns, each described in full below
    it (a description squeezed into a column reads a word a line)."""
    table = Table("preset", "lifetime", "req/s", "module", "latency budget")
    table.columns[0].no_wrap = True
    for column in table.columns[2:]:
        column.justify = "right"
    workloads = [Workload.preset(name) for name in preset_names()]
    for w in workloads:
        budget = w.limits.max_latency_ms
        table.add_row(w.name, w.instances.lifetime.value, f"{w.instances.request_rate_per_s:g}",
                      str(w.to_dict()["module"].get("module_bytes")),
                      "none" if budget is None else f"{budget:g} ms")
    console.print(table)
    console.print("req/s: requests per second across the service; module: the module's size. "
                  "'wasm-advisor presets NAME' prints every field.", markup=False)
    for w in workloads:
        console.print()
        console.print(Text.assemble((w.name, "bold"), ": ", w.description))
