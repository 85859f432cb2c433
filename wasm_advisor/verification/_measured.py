"""A worker's record of one mode's runs, read into measured figures per phase: what each
binding lets be told apart (the engine's own phases, a cold run less a warm one, a warm
run less a warm run of the hollow copy), with each figure's spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from ..model import human_ns
from ._report import ModeVerification
from ._rounds import _run_failure

__all__ = ["fill_measured"]


def _start_difference(empty_runs: list[dict[str, Any]], hollow_ns: float, empty_ns: float,
                      walls: list[float]) -> tuple[float, float]:
    """The hollow copy's start less the empty module's, and the noise it must stand out of.

    From the pairs run side by side: the median difference, and twice its standard
    error (from the differences' median absolute deviation, which one slow start
    does not sway). Records without pairs (saved before them) give the medians'
    difference and the empty runs' whole spread.
    """
    paired = [r["hollow_ns"] - r["wall_ns"] for r in empty_runs if "hollow_ns" in r]
    if not paired:
        return hollow_ns - empty_ns, max(walls) - min(walls)
    middle = statistics.median(paired)
    deviation = statistics.median(abs(d - middle) for d in paired)
    return middle, 2 * 1.4826 * deviation / math.sqrt(len(paired))


def _median(values: Sequence[float]) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


def _spread(values: Sequence[float | None]) -> float | None:
    """Twice the standard error of the median of ``values``, from their median absolute
    deviation (which one slow run does not sway); None for fewer than two values."""
    clean = [v for v in values if v is not None]
    if len(clean) < 2:
        return None
    middle = statistics.median(clean)
    deviation = statistics.median(abs(v - middle) for v in clean)
    return 2 * 1.4826 * deviation / math.sqrt(len(clean))


def _keep_spread(v: ModeVerification, phase: str, spread: float | None) -> None:
    if spread is not None:
        v.measured_spread_ns[phase] = spread


def fill_measured(v: ModeVerification, record: dict[str, Any], compiles_as_it_runs: bool = False,
          expect_exit: int = 0) -> None:
    """Measured phases from a verify record.

    ``compiles_as_it_runs``: WAMR's LLVM JIT compiles functions in background threads
    as they are first needed, so a run's time past the first instruction is compiling
    and executing together, and only the whole run is reported.
    """
    cold = record["cold"]
    v.exit_code = cold.get("exit_code")
    failure = _run_failure(cold, expect_exit)
    if failure is not None:
        v.limit_hit = cold.get("limit_hit")
        v.failure = failure
        return
    _fill_runs(v, record)
    if "run" in cold.get("phases_ns", {}):  # the binding reports the engine's phases
        _fill_engine_phases(v, record)
        return
    # execution: a warm run minus a warm run of the same module with _start emptied, which
    # loads, instantiates, sets up and tears down alike (iwasm interpreters: loading and
    # preparing the code; LLVM JIT: what it compiles before the first instruction)
    hollow = record.get("hollow")
    hollow_ns = _median([r["wall_ns"] for r in hollow]) if isinstance(hollow, list) else None
    _fill_compile(v, record, hollow_ns)
    if hollow_ns is not None and v.binding == "iwasm CLI":
        _fill_start(v, record, hollow_ns)
    _fill_execute(v, record, hollow_ns, compiles_as_it_runs)


def _fill_runs(v: ModeVerification, record: dict[str, Any]) -> None:
    """The whole runs: the warm ones' wall times, the peak memory of them all, and the
    median warm run as the measured total."""
    cold, warm = record["cold"], record.get("warm", [])
    v.wall_warm_ns = _median([r["wall_ns"] for r in warm])
    v.warm_runs = len(warm)
    v.peak_rss_bytes = max((r.get("peak_rss_bytes") or 0 for r in [cold, *warm]), default=0) \
        or None
    if v.wall_warm_ns is not None:
        v.measured_ns["total"] = v.wall_warm_ns
        _keep_spread(v, "total", _spread([r["wall_ns"] for r in warm]))


def _cold_compiles(record: dict[str, Any]) -> list[Any]:
    """The compile phase of the cold run and of the cold runs of the hollow copy beside it."""
    again = record.get("cold_hollow", [])
    return [record["cold"].get("phases_ns", {}).get("compile")] + [
        r.get("phases_ns", {}).get("compile") for r in again]


def _fill_engine_phases(v: ModeVerification, record: dict[str, Any]) -> None:
    """The phases a binding that reports the engine's own (wasmtime-py) timed."""
    phases = record["cold"].get("phases_ns", {})
    warm_phases = [r.get("phases_ns", {}) for r in record.get("warm", [])]
    # the hollow copy compiled alone, with the default engine (the runs use epoch
    # interruption, which compiles slower); records saved before that: all three
    alone = [r.get("phases_ns", {}).get("compile") for r in record.get("cold_hollow", [])
             if "run" not in r.get("phases_ns", {})]
    v.measured_ns["compile"] = _median(alone or _cold_compiles(record)) or 0.0
    load = _median([p.get("load") for p in warm_phases])
    if load is not None:
        v.measured_ns["load"] = load
    # the steady state (repeat instances), as the model's per-instance figure means
    v.measured_ns["instantiate"] = _median(
        [p.get("instantiate_again", p.get("instantiate")) for p in warm_phases]) \
        or phases.get("instantiate", 0.0)
    v.measured_ns["execute"] = _median([p.get("run") for p in warm_phases]) or phases["run"]
    _keep_spread(v, "execute", _spread([p.get("run") for p in warm_phases]))


def _fill_compile(v: ModeVerification, record: dict[str, Any], hollow_ns: float | None
                  ) -> None:
    """The compile of a mode timed from outside: an ahead-of-time compiler timed on its own
    (wamrc), or a cold run less a warm one where the warm run reads a cache (wasmer-sdk)."""
    cold = record["cold"]
    if "compile" in cold.get("phases_ns", {}):
        v.measured_ns["compile"] = _median(_cold_compiles(record)) or 0.0
    elif v.binding == "wasmer-sdk" and v.wall_warm_ns is not None:
        # the cache against none: a cold run less a warm one, of the module and of its copy
        cold_less_warm = [cold["wall_ns"] - v.wall_warm_ns]
        if hollow_ns is not None:
            cold_less_warm += [r["wall_ns"] - hollow_ns for r in record.get("cold_hollow", [])]
        v.measured_ns["compile"] = max(0.0, _median(cold_less_warm) or 0.0)


def _fill_start(v: ModeVerification, record: dict[str, Any], hollow_ns: float) -> None:
    """The hollow module against the empty one, both started the same way: what this
    module's code costs before its first instruction, when it stands out of the noise of
    the process start (the binding's whole run of the empty module: its start-up and its
    teardown, an iwasm process exiting, both of which the hollow copy's run pays too)."""
    walls = [r["wall_ns"] for r in record.get("empty", [])]
    empty = _median(walls)
    if empty is None:
        return
    before, noise = _start_difference(record["empty"], hollow_ns, empty, walls)
    phase = "load" if "compile" in record["cold"].get("phases_ns", {}) else "compile"
    if before > noise:
        v.measured_ns[phase] = before
    else:
        v.notes.append(f"{phase} not separated: {human_ns(max(0.0, before))}, within "
                       f"the {human_ns(noise)} noise of starting iwasm")


def _fill_execute(v: ModeVerification, record: dict[str, Any], hollow_ns: float | None,
                  compiles_as_it_runs: bool) -> None:
    """Execution: the median warm run less the median warm run of the hollow copy."""
    hollow = record.get("hollow")
    if compiles_as_it_runs and hollow_ns is not None:
        v.notes.append("execution not separated: this JIT compiles functions while the "
                       "program runs; the total is the whole run")
    elif v.wall_warm_ns is not None and hollow_ns is not None:
        v.measured_ns["execute"] = max(0.0, v.wall_warm_ns - hollow_ns)
        spreads = [_spread([r["wall_ns"] for r in record.get("warm", [])]),
                   _spread([r["wall_ns"] for r in hollow]) if isinstance(hollow, list) else None]
        if None not in spreads:
            _keep_spread(v, "execute", math.hypot(*(x or 0.0 for x in spreads)))
    elif isinstance(hollow, str):
        v.notes.append(f"execution not separated: {hollow}")
