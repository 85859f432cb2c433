"""``calibrate`` and ``profiles``: measuring the runtimes here, and the saved results."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..calibration import BINDING_NOTES, CalibrationProgress, calibrate, pace_summary
from ..profiles import (
    MEMORY_COLUMNS,
    RUNNING_COLUMNS,
    STARTUP_COLUMNS,
    Profile,
    ProfileStore,
    summary_rows,
)
from .console import wide_console

__all__ = ["calibration_progress", "print_summary", "register", "steadiness_line"]


def register(commands: Any) -> None:
    cal = commands.add_parser(
        "calibrate",
        help="measure the runtimes available here and save a profile",
        description="Measure every runtime and mode available on this machine (Wasmtime and "
        "Wasmer from their packages, WAMR from iwasm/wamrc), each in its own worker process, "
        "print a summary and save the profile in the cache folder. Ctrl-C stops without "
        "saving anything.",
    )
    budget = cal.add_mutually_exclusive_group()
    budget.add_argument("--quick", dest="kind", action="store_const", const="quick",
                        help="a short calibration, about 30 s (the default)")
    budget.add_argument("--full", dest="kind", action="store_const", const="full",
                        help="a longer, steadier calibration, about 3 minutes")
    cal.set_defaults(kind="quick")
    cal.add_argument("--runtime", action="append", choices=("wasmtime", "wasmer", "wamr"),
                     help="measure only this runtime (repeatable)")
    cal.add_argument("--mode", action="append", metavar="[RUNTIME:]MODE",
                     help="measure only this mode, e.g. pulley or wamr:aot (repeatable)")
    cal.add_argument("--iwasm", action="append", default=[], metavar="PATH",
                     help="a WAMR iwasm binary (repeatable: one build per mode); default: "
                     "$WASM_ADVISOR_IWASM, then iwasm on PATH")
    cal.add_argument("--wamrc", metavar="PATH",
                     help="WAMR's AOT compiler; default: $WASM_ADVISOR_WAMRC, then wamrc on PATH")
    cal.add_argument("--libiwasm", action="append", default=[], metavar="PATH",
                     help="a WAMR libiwasm.so, run in-process (repeatable: one build per mode); "
                     "default: $WASM_ADVISOR_LIBIWASM, then beside the iwasm given")
    cal.add_argument("--no-save", action="store_true", help="print the summary, save nothing")
    cal.set_defaults(run=_calibrate)

    profiles = commands.add_parser(
        "profiles",
        help="list, show, export, import or compare saved profiles",
        description="Saved calibration profiles. Without an action, list them.",
    )
    actions = profiles.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="print a profile's summary")
    show.add_argument("ref", metavar="ID|FILE", help="a profile id (or its prefix) or file")
    export = actions.add_parser("export", help="copy a saved profile to a file")
    export.add_argument("ref", metavar="ID", help="a profile id (or its prefix)")
    export.add_argument("file", metavar="FILE", help="where to write it")
    imported = actions.add_parser("import", help="check a profile file and add it to the store")
    imported.add_argument("file", metavar="FILE")
    compare = actions.add_parser("compare", help="the ratio of each figure between two profiles")
    compare.add_argument("a", metavar="A", help="profile id or file")
    compare.add_argument("b", metavar="B", help="profile id or file")
    profiles.set_defaults(run=_profiles)


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# the summary's columns, headed short enough for 100 columns; the units are in the legend
_STARTING = {"compile_us_per_kb": "compile", "load_us_per_kb": "load",
             "instantiate_us": "instan-\ntiate", "ttfi_ms": "1st\ninstr."}
_STARTING_LEGEND = ("compile, load: µs per KiB of code; instantiate: µs; 1st instr.: ms from "
                    "the module's bytes to its first instruction; –: not measured through "
                    "this binding")
_MEMORY = {"rss_library_kib": "library", "rss_first_kib": "first\ninstance",
           "rss_extra_kib": "each\nfurther", "module_bytes_per_code_byte": "a module's\ncode"}
_MEMORY_LEGEND = ("KiB resident: the runtime library's pages before the engine existed; the "
                  "first instance with the engine (through the iwasm CLI: a whole process); "
                  "each further instance; a module's code: bytes a loaded module holds per "
                  "byte of its code (through the iwasm CLI: what it adds to each process); –: "
                  "not measured through this binding")
_RUNNING = {"mixed_ns_per_instr": "mixed", "typical_ns_per_instr": "typical",
            "int_ns_per_instr": "int", "float_ns_per_instr": "float",
            "call_ns_per_instr": "call", "hostcall_ns": "host\ncall",
            "seq_ns": "seq.\nload", "rand_ns": "random\nload"}
_RUNNING_LEGEND = ("mixed to call: ns per WebAssembly instruction of that kind; host call: "
                   "ns per call to a cheap WASI import; seq./random load: ns per 8-byte "
                   "load over a working set larger than the cache")


def print_summary(profile: Profile, console: Console) -> None:
    """A profile's headline figures in two tables that read at 100 columns: modes grouped
    under their runtime and binding, short headings whose units a legend gives, and the
    proposals each mode did not run listed below rather than squeezed into a column."""
    assert STARTUP_COLUMNS.keys() == _STARTING.keys()
    assert MEMORY_COLUMNS.keys() == _MEMORY.keys()
    assert RUNNING_COLUMNS.keys() == _RUNNING.keys()
    rows = summary_rows(profile)
    console.print(f"[bold]Calibration[/bold]: {escape(profile.provenance)}")
    for title, columns, legend in (("Starting an instance", _STARTING, _STARTING_LEGEND),
                                   ("Memory", _MEMORY, _MEMORY_LEGEND),
                                   ("Running", _RUNNING, _RUNNING_LEGEND)):
        console.print(_figures_table(title, columns, rows))
        console.print(f"[dim]{escape(legend)}[/dim]")
    _print_mode_notes(rows, console)
    _print_profile_notes(profile, console)


def _figures_table(title: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> Table:
    """One table of the summary's ``columns`` (key: heading), a row for each mode under a
    row for its runtime and binding."""
    table = Table(title=title, title_justify="left")
    table.add_column("runtime (binding)\n  mode", no_wrap=True)
    for heading in columns.values():
        table.add_column(heading, justify="right")
    runtime = None
    for row in rows:
        if row["runtime"] != runtime:
            runtime = row["runtime"]
            table.add_row(f"[bold]{escape(runtime)}[/bold] ({escape(row['binding'])})")
        table.add_row(f"  {escape(row['mode'])}", *(_fmt(row[k]) for k in columns))
    return table


def _print_mode_notes(rows: list[dict[str, Any]], console: Console) -> None:
    """Below the tables, for the modes: the proposals each did not run, the notes on the
    bindings shown, each mode's notes, and why a figure was not measured."""
    missing = [row for row in rows if row["features_missing"]]
    if missing:
        console.print("Proposals a mode did not run (features not run):")
        for row in missing:
            console.print(f"  {row['runtime']}:{row['mode']}: "
                          + ", ".join(row["features_missing"]), markup=False)
    for binding, note in BINDING_NOTES.items():
        if note and any(r["binding"] == binding for r in rows):
            console.print(f"[dim]{binding}: {escape(note)}[/dim]")
    for row in rows:
        if row["notes"]:
            console.print(f"[dim]{row['runtime']}:{row['mode']}: {escape(row['notes'])}[/dim]")
    for row in rows:
        for column, why in row["not_measured"].items():
            heading = (STARTUP_COLUMNS | MEMORY_COLUMNS | RUNNING_COLUMNS).get(column, column)
            console.print(f"{row['runtime']}:{row['mode']} {heading}: {why}", markup=False,
                          soft_wrap=True)


def _print_profile_notes(profile: Profile, console: Console) -> None:
    """Last, for the whole profile: the machine's pace, its steadiness, the runtimes not
    measured and the measurements that failed."""
    pace = pace_summary(profile)
    if pace:
        console.print(escape(pace))
    if profile.steadiness is not None:
        console.print(steadiness_line(profile), markup=False, soft_wrap=True)
    for record in profile.runtimes:
        if not record.available:
            console.print(f"[bold]{record.name}[/bold] not measured: {escape(record.reason)}")
    if profile.failures:
        console.print(f"{len(profile.failures)} measurement(s) failed:")
        for failure in profile.failures:
            console.print(f"  {failure.runtime}:{failure.mode} {failure.task}: "
                          f"{failure.reason}", markup=False)


@contextmanager
def calibration_progress() -> Iterator[Callable[[CalibrationProgress], None]]:
    """A progress display on stderr, one row per runtime/mode; yields its callback."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[current]}"), TimeElapsedColumn())
    with Progress(*columns, console=wide_console(stderr=True), transient=False) as bar:
        rows: dict[str, Any] = {}

        def on_progress(event: CalibrationProgress) -> None:
            if "calibration" not in rows:  # the whole calibration first: steps done of those
                # planned, and about how long is left (shown once there is a first step)
                rows["calibration"] = bar.add_task("calibration", total=None, current="")
            overall = rows["calibration"]
            key = f"{event.runtime}:{event.mode}"
            if key not in rows:
                rows[key] = bar.add_task(key, total=event.total, current="")
            bar.update(rows[key], total=event.total, completed=event.done,
                       current=event.task if event.ok else f"{event.task} (failed)")
            left = event.remaining_s
            bar.update(overall, total=event.overall_total or None,
                       completed=event.overall_done,
                       current="" if left is None else f"about {left:.0f} s left")

        yield on_progress


def _calibrate(args: argparse.Namespace) -> int:
    console = wide_console()
    with calibration_progress() as on_progress:
        profile = calibrate(args.kind, runtimes=args.runtime, modes=args.mode,
                            iwasm=args.iwasm, wamrc=args.wamrc, libiwasm=args.libiwasm,
                            progress=on_progress,
                            save=not args.no_save)
    print_summary(profile, console)
    console.print(f"calibration took {profile.duration_s:.1f} s")
    if not args.no_save:
        path = ProfileStore().folder / f"profile-{profile.id}.json"
        console.print(f"profile saved: {path}" + (" (marked unsteady)"
                                                  if profile.steady is False else ""))
    # the last line: the verdict
    console.print(f"verdict: {profile.verdict}", markup=False, soft_wrap=True)
    return 0


def steadiness_line(profile: Profile) -> str:
    """The calibration's verdict with the readings behind it, one line."""
    s = profile.steadiness
    if s is None:
        return "steadiness: not checked"
    readings = []
    if s.run_queue_per_core is not None:
        readings.append(f"run queue {s.run_queue_per_core:.1f} others/core")
    if s.steal_fraction is not None:
        readings.append(f"steal {s.steal_fraction:.0%}")
    if s.pace_drift is not None:
        readings.append(f"pace moved {s.pace_drift:.0%}")
    moved = [f"{m.what} {m.value:.3g} (limit {m.limit:.3g})" for m in s.moved[:6]]
    line = f"steadiness: {s.summary}" + (f" [{', '.join(readings)}]" if readings else "")
    return line + (f"; moved: {'; '.join(moved)}" if moved else "")


def _profiles(args: argparse.Namespace) -> int:
    console = wide_console()
    store = ProfileStore()
    if args.action == "show":
        print_summary(store.find(args.ref), console)
        return 0
    if args.action == "export":
        path = store.find(args.ref).save(args.file)
        console.print(f"exported to {path}")
        return 0
    if args.action == "import":
        console.print(f"imported as {store.import_file(args.file)}")
        return 0
    if args.action == "compare":
        _compare(store.find(args.a), store.find(args.b), console)
        return 0
    table = Table("id", "kind", "created (UTC)", "machine", "runtimes", "status")
    for path, entry in store.entries():
        if isinstance(entry, Profile):
            here = {"here": "this machine",
                    "same type": f"same type: {entry.machine.hostname}"}.get(
                entry.where, f"elsewhere: {entry.machine.hostname}")
            runtimes = ", ".join(r.name for r in entry.runtimes if r.available)
            status = {True: "ok, steady", False: "ok, UNSTEADY", None: "ok"}[entry.steady]
            table.add_row(entry.id, entry.kind, f"{entry.created:%Y-%m-%d %H:%M}", here,
                          runtimes, status)
        else:
            table.add_row(path.stem.removeprefix("profile-"), "?", "?", "?", "?",
                          f"unusable: {str(entry).split(': ', 1)[-1]}")
    console.print(table)
    console.print(f"folder: {store.folder}")
    return 0


def _compare(a: Profile, b: Profile, console: Console) -> None:
    table = Table(title=f"{b.id} ÷ {a.id}", title_justify="left")
    for heading in ("runtime · mode", "metric", "A", "B", "B/A"):
        table.add_column(heading, justify="left" if heading in ("runtime · mode", "metric")
                         else "right")
    for fa in a.figures:
        fb = b.figure(fa.runtime, fa.mode, fa.metric)
        if fb is None:
            continue
        ratio = fb.value / fa.value if fa.value else math.nan
        table.add_row(f"{fa.runtime}:{fa.mode}", fa.metric, _fmt(fa.value), _fmt(fb.value),
                      _fmt(ratio))
    console.print(table)
