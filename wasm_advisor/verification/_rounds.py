"""Verification's rounds of runs: one worker for each runtime/mode in turn, a first round
that runs the module cold and warm, later rounds of warm runs alone, taken in reversed
order every other round, and the machine's pace read before each round and after the last.

What the rounds ran is kept as the worker's records, one per mode, with each later
round's warm runs added to its first (:func:`_add_round`); :mod:`._verify` reads the
phases out of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..calibration import PaceReading, read_pace
from ..harness import WorkerLimits, WorkerOutcome, run_worker
from ..model import ModeEvidence
from ..runtimes.run_outcome import run_failure
from .tasks import MAX_WARM_RUNS, TASKS_MODULE

__all__ = ["Rounds", "run_spec", "worker_memory"]



def run_spec(module_path: Path, argv: list[str], workdir: str | None, env: list[list[str]],
             timeout_s: float, memory_limit_bytes: int, expect_exit: int) -> dict[str, Any]:
    """How every run of the module is made, as a worker task gives it: the module, its
    arguments, directory and environment, its limits and the exit status it should end
    with (a task adds its ``id`` and ``kind``)."""
    return {"module_path": str(module_path), "argv": argv, "workdir": workdir, "env": env,
            "timeout_s": timeout_s, "memory_limit_bytes": memory_limit_bytes,
            "expect_exit": expect_exit}


def worker_memory(memory_limit_bytes: int) -> int:
    """The worker's limit: the run's, plus room for Python and the engine themselves."""
    return memory_limit_bytes + (1 << 30)


@dataclass
class Rounds:
    """The rounds of runs across ``todo``'s modes, and the progress said along the way.

    ``repeats`` warm runs at least, and ``warm_budget_s`` for more, are shared out over
    ``rounds`` rounds (one round for a single mode). ``skipped`` and ``pace`` are the
    report's own: a mode not available here and a failed pace reading are added to
    ``skipped`` in the order they happen, each pace reading to ``pace``. After
    :meth:`run_all`, ``records`` holds each mode's record, its later rounds added, and
    ``failures`` why a mode's first round failed.
    """

    todo: list[ModeEvidence]
    spec: dict[str, Any]  # how the module runs (:func:`run_spec`)
    options: dict[str, Any]  # where the runtimes are (iwasm, wamrc, libiwasm)
    skipped: dict[str, str]
    pace: list[PaceReading]
    paced: bool  # whether to read the machine's pace
    progress: Callable[[str, str], None] | None
    repeats: int
    warm_budget_s: float
    rounds: int
    task: dict[str, Any] = field(init=False)  # a first round's, for every mode
    limits: WorkerLimits = field(init=False)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    planned: int = field(init=False)  # worker runs: a first round for each mode, then later ones
    finished: int = 0
    started: float = 0.0

    def __post_init__(self) -> None:
        # warm runs in rounds across the modes, the order reversed each round, so that a
        # slow spell of the machine falls on every mode alike, not on whichever ran then
        self.rounds = max(1, self.rounds) if len(self.todo) > 1 else 1
        each_repeats = math.ceil(self.repeats / self.rounds)
        each_budget_s = self.warm_budget_s / self.rounds
        self.task = {"id": "verify", "kind": "verify", **self.spec, "repeats": each_repeats,
                     "budget_s": each_budget_s,
                     "max_runs": math.ceil(MAX_WARM_RUNS / self.rounds)}
        self.limits = WorkerLimits(
            task_timeout_s=self.spec["timeout_s"] * (2 * each_repeats + 3)
            + 2 * each_budget_s + 30,
            memory_bytes=worker_memory(self.spec["memory_limit_bytes"]))
        self.planned = len(self.todo) * self.rounds

    def run_all(self) -> None:
        """The first round, the later rounds, and the pace readings around them."""
        self.started = time.monotonic()
        if self.paced:
            self._read_pace()
        for e in self.todo:
            self._first_run(e)
        for later in range(1, self.rounds):
            if self.paced:
                self._read_pace()
            ordered = self.todo[::-1] if later % 2 else self.todo
            for e in ordered:
                if _warm_ran(self.records.get(e.coefficients.key), self.spec["expect_exit"]):
                    self._later_run(e, later)
        if self.paced and self.records:
            self._read_pace()

    def _first_run(self, e: ModeEvidence) -> None:
        """One mode's first round: its record, why it failed, or that it is not here."""
        key = e.coefficients.key
        self._running(key, "running" if self.rounds == 1
                      else f"running (round 1 of {self.rounds})")
        outcome = self._worker(e, self.task)
        reason = _not_available(outcome, e.coefficients.mode)
        if reason is not None:
            self.skipped[key] = f"not available here: {reason}"
            self.planned -= self.rounds - 1  # no later rounds for it
            if self.progress:
                self.progress(key, "skipped")
            return
        record = outcome.results.get("verify")
        if record is None or not record.get("ok"):
            self.failures[key] = outcome.failures.get("verify") or \
                (record or {}).get("reason", "failed")
        else:
            self.records[key] = record

    def _later_run(self, e: ModeEvidence, later: int) -> None:
        """One mode's warm runs in round ``later`` (from 0), added to its record."""
        key = e.coefficients.key
        self._running(key, f"running (round {later + 1} of {self.rounds})")
        outcome = self._worker(e, {**self.task, "kind": "verify-warm"})
        _add_round(self.records[key], outcome.results.get("verify")
                   or {"ok": False, "reason": outcome.failures.get("verify", "failed")},
                   self.spec["expect_exit"])

    def _worker(self, e: ModeEvidence, task: dict[str, Any]) -> WorkerOutcome:
        outcome = run_worker({"runtime": e.coefficients.runtime, "mode": e.coefficients.mode,
                              "options": self.options, "tasks_modules": [TASKS_MODULE],
                              "tasks": [task]}, self.limits)
        self.finished += 1
        return outcome

    def _running(self, key: str, state: str) -> None:
        """Say what runs now, which run of how many, and about how long is left (at the
        pace of the runs so far: the first round's cold runs and counting make it high)."""
        if not self.progress:
            return
        elapsed = time.monotonic() - self.started
        text = f"{state} · run {self.finished + 1} of {self.planned}"
        if self.finished:
            left = elapsed / self.finished * max(0, self.planned - self.finished)
            text += f", {elapsed:.0f} s so far, about {left:.0f} s left"
        self.progress(key, text)

    def _read_pace(self) -> None:
        if self.progress:
            self.progress("pace", "reading the machine's pace")
        reading, why = read_pace(self.options, time.monotonic() - self.started)
        if reading is None:
            self.skipped["pace"] = f"a pace reading failed: {why}"
        else:
            self.pace.append(reading)


def _not_available(outcome: WorkerOutcome, mode: str) -> str | None:
    """Why the worker's runtime or ``mode`` is not on this machine, by its hello; None
    where it is, or where the worker said no hello."""
    hello = outcome.hello or {}
    availability = hello.get("availability") or {}
    if hello and (not availability.get("available") or mode not in
                  {m.get("name") for m in hello.get("modes", [])}):
        return availability.get("reason") or "this mode was not found on this machine"
    return None


def _warm_ran(record: dict[str, Any] | None, expect_exit: int = 0) -> bool:
    """Whether a mode's first round ran the module to its end, warm runs and all."""
    if record is None or not record.get("warm"):
        return False
    return _run_failure(record["cold"], expect_exit) is None


def _run_failure(run: dict[str, Any], expect_exit: int = 0) -> str | None:
    """Why a run record did not end as the program should: a limit hit, a trap, or an exit
    status other than ``expect_exit`` (:func:`.runtimes.run_outcome.run_failure`)."""
    return run_failure(run.get("exit_code"), run.get("trap"), run.get("limit_hit"),
                       expect_exit)


def _add_round(record: dict[str, Any], extra: dict[str, Any], expect_exit: int = 0) -> None:
    """A later round's warm runs (and their hollow copy's) added to a mode's record; a
    round in which a run failed, or its hollow copy did not run, is left out and noted."""
    runs = extra.get("warm") or []
    problem = extra.get("reason") if not extra.get("ok") else next(
        filter(None, (_run_failure(r, expect_exit) for r in runs)), None)
    if problem is None and not runs:
        problem = "no warm run"
    if problem is None and isinstance(record.get("hollow"), list) and \
            not isinstance(extra.get("hollow"), list):
        problem = f"its hollow copy: {extra.get('hollow') or 'did not run'}"
    if problem is not None:
        record.setdefault("round_notes", []).append(
            f"a later round of warm runs was left out: {problem}")
        return
    record["warm"] = record["warm"] + runs
    if isinstance(record.get("hollow"), list):
        record["hollow"] = record["hollow"] + extra["hollow"]
