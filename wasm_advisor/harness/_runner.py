"""The parent side: start a worker per runtime/mode, watch it, and survive it.

A worker gets a job (runtime, mode, tasks) on stdin and streams one JSON line
per task. The parent kills a worker that goes silent for longer than a task's
time limit or whose process tree grows past the memory limit; the task it was
on is recorded as failed with the reason, and a fresh worker carries on with
the tasks that remain. A worker never brings the calibration down.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

__all__ = ["WorkerLimits", "WorkerOutcome", "run_worker"]

WORKER_MODULE = "wasm_advisor.harness.worker"


@dataclass(frozen=True)
class WorkerLimits:
    task_timeout_s: float = 60.0  # longest silence between two results
    memory_bytes: int = 4 << 30  # resident memory of the worker and its children
    poll_s: float = 0.02


@dataclass
class WorkerOutcome:
    """Results by task id, failures by task id, and what the worker said about itself."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    hello: dict[str, Any] | None = None
    startup_error: str | None = None


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    except psutil.Error:
        pass
    return total


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        parent = psutil.Process(proc.pid)
        for child in parent.children(recursive=True):
            child.kill()
    except psutil.Error:
        pass
    proc.kill()
    proc.wait()


def _describe_exit(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"the worker was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the worker was killed by signal {-code}"
    return f"the worker exited with status {code}"


def _one_worker(
    job: dict[str, Any],
    limits: WorkerLimits,
    outcome: WorkerOutcome,
    on_result: Callable[[str, dict[str, Any]], None] | None,
    command: list[str],
) -> str | None:
    """Run one worker until it finishes or dies; the reason it died, or None."""
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdin and proc.stdout and proc.stderr
    lines: list[bytes] = []
    stderr_tail: list[bytes] = []
    done = threading.Event()

    def read_stdout() -> None:
        assert proc.stdout
        for line in proc.stdout:
            lines.append(line)
        done.set()

    def read_stderr() -> None:
        assert proc.stderr
        for line in proc.stderr:
            stderr_tail.append(line)
            del stderr_tail[:-20]

    readers = [threading.Thread(target=read_stdout, daemon=True),
               threading.Thread(target=read_stderr, daemon=True)]
    for t in readers:
        t.start()
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        return _watch(proc, lines, stderr_tail, done, readers, limits, outcome, on_result)
    except BaseException:
        _kill_tree(proc)  # Ctrl-C or any error in the parent: no worker is left behind
        raise


def _watch(
    proc: subprocess.Popen[bytes],
    lines: list[bytes],
    stderr_tail: list[bytes],
    done: threading.Event,
    readers: list[threading.Thread],
    limits: WorkerLimits,
    outcome: WorkerOutcome,
    on_result: Callable[[str, dict[str, Any]], None] | None,
) -> str | None:
    watched = psutil.Process(proc.pid)
    seen = 0
    last_progress = time.monotonic()
    reason: str | None = None
    while True:
        while seen < len(lines):
            raw = lines[seen]
            seen += 1
            last_progress = time.monotonic()
            try:
                record = json.loads(raw)
                task_id = str(record.pop("id"))
            except (ValueError, KeyError, AttributeError):
                reason = f"the worker printed malformed output: {raw[:120]!r}"
                break
            if task_id == "_hello":
                outcome.hello = record
            else:
                outcome.results[task_id] = record
                if on_result:
                    on_result(task_id, record)
        if reason or (done.is_set() and seen == len(lines)):
            break
        if time.monotonic() - last_progress > limits.task_timeout_s:
            reason = f"timed out: no result within {limits.task_timeout_s:g} s"
            break
        if _tree_rss(watched) > limits.memory_bytes:
            reason = f"exceeded the memory limit of {limits.memory_bytes >> 20} MiB"
            break
        time.sleep(limits.poll_s)
    if reason:
        _kill_tree(proc)
        return reason
    code = proc.wait()
    for t in readers:
        t.join(timeout=1)
    if code != 0:
        tail = b"".join(stderr_tail).decode(errors="replace").strip().splitlines()
        return _describe_exit(code) + (f" ({tail[-1][:200]})" if tail else "")
    return None


def run_worker(
    job: dict[str, Any],
    limits: WorkerLimits = WorkerLimits(),
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    command: list[str] | None = None,
) -> WorkerOutcome:
    """Run ``job``'s tasks in worker processes, restarting after a worker dies."""
    command = command or [sys.executable, "-m", WORKER_MODULE]
    outcome = WorkerOutcome()
    remaining = list(job["tasks"])
    while True:
        reason = _one_worker({**job, "tasks": remaining}, limits, outcome, on_result, command)
        finished = [t for t in remaining if t["id"] in outcome.results]
        remaining = [t for t in remaining if t["id"] not in outcome.results]
        if reason is None:
            for t in remaining:  # a worker that ended cleanly but skipped tasks
                outcome.failures[t["id"]] = "the worker ended without a result"
            break
        if outcome.hello is None and not finished:
            outcome.startup_error = reason
            for t in remaining:
                outcome.failures[t["id"]] = f"the worker could not start: {reason}"
            break
        if not remaining:
            break
        culprit = remaining.pop(0)  # the task it was on when it died
        outcome.failures[culprit["id"]] = reason
        if on_result:
            on_result(culprit["id"], {"ok": False, "reason": reason})
        if not remaining:
            break
    return outcome
