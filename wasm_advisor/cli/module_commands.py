"""``inspect``: what a real ``.wasm`` tells a workload about itself."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..advisor import Advisor
from ..errors import AdvisorError
from ..verification import TOLERANCE, human, not_run, order_verdict, phase_checks
from ..wasm import ModuleInfo, read_module
from ..workload import Workload, human_bytes, parse_bytes
from .console import wide_console

if TYPE_CHECKING:
    from ..verification import VerifyReport

__all__ = ["register"]


def register(commands: Any) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="read a .wasm: sizes, imports, exports, memory, data and features",
        description="Read a WebAssembly module and print what a workload can learn from it: "
        "total and code-section bytes, functions, imports (the host-call surface), exports, "
        "memory limits, data segments, and the proposals it needs (decided by Wasmtime's "
        "validator).",
    )
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(run=_inspect)

    verify = commands.add_parser(
        "verify",
        help="run a real module on every runtime/mode here, next to the prediction",
        description="Run a WASI command module on every runtime/mode measured here, each in "
        "its own worker under a time and memory limit; measure compile, load, instantiate and "
        "execution; and compare each with the model's prediction, saying which component was "
        "mispredicted. Usage: wasm-advisor verify [OPTIONS] FILE [-- ARGS...]",
    )
    verify.add_argument("file", metavar="FILE",
                        help="the .wasm to run; arguments for it follow '--'")
    verify.add_argument("--dir", metavar="DIR", help="directory preopened as the guest's '.' "
                        "(and its working directory)")
    verify.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    verify.add_argument("--preset", default="request-response",
                        help="preset whose other fields complete the workload (default "
                        "request-response)")
    verify.add_argument("--repeats", type=int, default=3,
                        help="warm runs per mode at least (default 3); more, up to 25, "
                        "while they fit in --warm-budget")
    verify.add_argument("--warm-budget", type=float, default=2.0, metavar="S",
                        help="seconds per mode that warm runs past --repeats may take "
                        "(default 2; 0 for exactly --repeats)")
    verify.add_argument("--rounds", type=int, default=2, metavar="N",
                        help="take the warm runs in N rounds across the modes, in turn, so "
                        "that a change in the machine's pace falls on every mode alike "
                        "(default 2)")
    verify.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="wall-time limit per run in seconds (default 60)")
    verify.add_argument("--max-memory", default="2 GiB", metavar="BYTES",
                        help="memory limit per run (default 2 GiB)")
    verify.add_argument("--expect-exit", type=int, default=0, metavar="N",
                        help="the exit status the program's correct result is (default 0; "
                        "e.g. 20 for a SAT solver's 'unsatisfiable'): a run ending with "
                        "another is a failure")
    verify.add_argument("--runtime", action="append", metavar="NAME[:MODE]",
                        help="verify only these runtimes/modes (repeatable)")
    verify.add_argument("--profile", metavar="ID|FILE", help="profile to predict from")
    verify.add_argument("--iwasm", action="append", default=[], metavar="PATH")
    verify.add_argument("--wamrc", metavar="PATH")
    verify.add_argument("--libiwasm", action="append", default=[], metavar="PATH",
                        help="a WAMR libiwasm.so, run in-process (repeatable)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=_verify)


def _inspect(args: argparse.Namespace) -> int:
    info = read_module(args.file)
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    console = Console(highlight=False)
    table = Table(title=escape(str(args.file)), title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for what, value in _module_rows(info):
        table.add_row(what, escape(value))
    console.print(table)
    imports = [f"{i.module}.{i.name}" for i in info.imported_functions]
    if imports:
        console.print("host functions: " + escape(", ".join(imports)), soft_wrap=True)
    return 0


def _module_rows(info: ModuleInfo) -> list[tuple[str, str]]:
    """What ``inspect`` says of a module, one (what, value) row each."""
    by_module: dict[str, int] = {}
    for i in info.imported_functions:
        by_module[i.module] = by_module.get(i.module, 0) + 1
    return [
        ("size", f"{info.total_bytes:,} bytes ({human_bytes(info.total_bytes)})"),
        ("code section", f"{info.code_bytes:,} bytes, {info.function_count} functions"),
        ("imported functions", ", ".join(f"{m}: {n}" for m, n in sorted(by_module.items()))
         or "none"),
        ("exports", ", ".join(f"{n} ({k})" for n, k in info.exports) or "none"),
        ("reachable from outside", "not known" if info.escaping_functions is None else
         f"{info.escaping_functions} of the {info.function_count} functions "
         "(exported or in a table)"),
        ("largest function", f"{info.largest_function_bytes:,} bytes"
         + (f" ({info.largest_function_bytes / info.code_bytes:.0%} of the code)"
            if info.code_bytes else "")),
        ("WASI command", "yes (_start)" if info.is_wasi_command else "no"),
        ("memory", _memory_said(info)),
        ("data", f"{info.data_segments} segments, {info.data_bytes:,} bytes"),
        ("features needed", ", ".join(sorted(f.value for f in info.features)) or "none (MVP)"),
    ]


def _memory_said(info: ModuleInfo) -> str:
    """A module's memory: initial and maximum size, and whether shared or 64-bit."""
    maximum = info.maximum_memory_bytes
    return (f"initial {human_bytes(info.initial_memory_bytes)}, maximum "
            f"{human_bytes(maximum) if maximum is not None else 'none'}"
            + (", shared" if any(m.shared for m in info.memories) else "")
            + (", 64-bit" if any(m.memory64 for m in info.memories) else ""))


def _verify(args: argparse.Namespace) -> int:

    module_args = list(args.module_args)
    env = []
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise AdvisorError(f"--env {item!r}: give KEY=VALUE")
        env.append((key, value))
    try:
        memory = parse_bytes(args.max_memory)
    except ValueError as e:
        raise AdvisorError(f"--max-memory: {e}") from None
    if args.repeats < 1:
        raise AdvisorError("--repeats: give 1 or more")
    if args.rounds < 1:
        raise AdvisorError("--rounds: give 1 or more")
    if not args.warm_budget >= 0:
        raise AdvisorError("--warm-budget: give 0 or more seconds")
    if not 0 <= args.expect_exit <= 255:
        raise AdvisorError(f"--expect-exit: {args.expect_exit} is not an exit status; give "
                           "0 to 255")
    workload = Workload.from_module(args.file, preset=args.preset)
    advisor = Advisor(args.profile, with_reference=False)
    if advisor.notice and not args.json:  # said first, before the runs' progress
        Console(highlight=False).print(advisor.notice, markup=False, soft_wrap=True)
    console = Console(highlight=False, stderr=True)

    def progress(key: str, state: str) -> None:
        console.print(f"{key}: {state}", markup=False)

    report = advisor.verify(
        workload, argv=module_args, workdir=args.dir, env=env, repeats=args.repeats,
        warm_budget_s=args.warm_budget, rounds=args.rounds, timeout_s=args.timeout,
        memory_limit_bytes=memory, modes=args.runtime, iwasm=args.iwasm, wamrc=args.wamrc,
        libiwasm=args.libiwasm, expect_exit=args.expect_exit, progress=progress)
    if args.json:
        print(json.dumps({"notice": advisor.notice, **report.to_dict()}, indent=2, default=str))
    else:
        print_verify_report(report, wide_console(highlight=False, width=100))
    return 0


def print_verify_report(report: VerifyReport, console: Console) -> None:
    """``verify``'s answer: what was counted, a table per mode that ran (each phase
    predicted and measured, and the error in words), a line per mode that did not run,
    and whether the predicted order of the modes held."""

    for line in report.header_lines():
        _print_wrapped(console, line)
    checks = phase_checks(report)
    for m in report.modes:
        if m.failure is not None:
            continue
        table = Table(title=escape(f"{m.key} ({m.binding}, {m.warm_runs} warm runs)"),
                      title_justify="left")
        table.add_column("phase")
        table.add_column("predicted", justify="right")
        table.add_column("measured", justify="right")
        table.add_column("measured ÷ predicted")
        for c in (c for c in checks if c.mode == m.key):
            error = escape(c.said())
            table.add_row(c.phase, human(c.predicted_ns), human(c.measured_ns),
                          error if c.close in (True, None) else f"[bold]{error}[/]")
        console.print(table)
        for note in m.notes:
            _print_wrapped(console, f"note: {note}", 2)
        for diagnosis in m.diagnosis:
            _print_wrapped(console, f"→ {diagnosis}", 2)
    missing = not_run(report)
    if missing:
        console.print("Did not run:")
        for key, why in missing.items():
            _print_wrapped(console, f"{key}: {why}", 2)
    for key in ("instruction count", "instruction mix", "pace"):
        if key in report.skipped:
            _print_wrapped(console, f"{key}: {report.skipped[key]}")
    order = order_verdict(report)
    _print_wrapped(console, "Order of the modes: " + (
        order.said() if order else "fewer than two modes ran to compare"))
    console.print(f"(bold: more than {TOLERANCE}× off the prediction, either way)",
                  markup=False)


def _print_wrapped(console: Console, text: str, by: int = 0) -> None:
    """``text`` as written (no markup), indented ``by`` (beyond its own leading spaces),
    wrapped to the console's width with its later lines indented two more."""
    indent = " " * (by + len(text) - len(text.lstrip()))
    console.print(textwrap.fill(text.strip(), width=console.width, initial_indent=indent,
                                subsequent_indent=indent + "  ", break_on_hyphens=False,
                                break_long_words=False),
                  markup=False, highlight=False, soft_wrap=True)
