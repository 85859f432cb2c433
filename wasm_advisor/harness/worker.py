"""The worker process: runs measurement tasks for one runtime/mode, one JSON line per task.

Started by :mod:`wasm_advisor.harness._runner` as
``python -m wasm_advisor.harness.worker``. It reads a job from stdin::

    {"runtime": "wasmtime", "mode": "cranelift", "options": {...},
     "tasks_modules": ["wasm_advisor.calibration.tasks"],
     "tasks": [{"id": "guest:int", "kind": "guest", ...}, ...]}

and hands each task to ``run_task`` of the module among those the job names
whose ``KINDS`` holds the task's kind: the layer that made the tasks
(calibration, verification) says how they run, and the harness only keeps the
process alive and the results clean.

and writes one line per finished task, ``{"id": ..., "ok": true, ...}`` with the
machine's speed read either side of it (``speed_probe_ns``, :mod:`._speed_probe`), to a
private copy of its stdout. Its own file descriptor 1 is pointed at stderr
first, so whatever an engine prints can never corrupt the results.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import asdict
from typing import TextIO

from ..runtimes import adapter_for
from ._speed_probe import speed_probe_ns

__all__ = ["main"]


def main(stdin: TextIO = sys.stdin) -> int:
    results = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from engines go to stderr, not into the results
    job = json.loads(stdin.read())
    try:
        adapter = adapter_for(job["runtime"], job.get("options") or {})
        availability = adapter.availability()
    except Exception as e:  # e.g. a binding that cannot be imported here
        results.write(json.dumps({"id": "_hello", "ok": True, "modes": [], "availability": {
            "available": False, "reason": f"{type(e).__name__}: {e}"[:300]}}) + "\n")
        return 0
    modes = adapter.modes() if availability.available else []
    results.write(json.dumps({"id": "_hello", "ok": True, "modes": [asdict(m) for m in modes],
                              "availability": asdict(availability)}) + "\n")
    if job.get("mode") is None:
        return 0
    mode = adapter.mode(job["mode"])
    handlers = {}
    for name in job.get("tasks_modules", ()):
        tasks = importlib.import_module(name)
        handlers.update(dict.fromkeys(tasks.KINDS, tasks.run_task))
    for task in job["tasks"]:
        before = speed_probe_ns()  # the machine's speed either side of the task
        try:
            handler = handlers.get(task["kind"])
            outcome = handler(adapter, mode, task, job.get("options") or {}) if handler else {
                "ok": False, "reason": f"unknown task kind {task['kind']!r}: the job's task "
                f"modules run {', '.join(sorted(handlers)) or 'nothing'}"}
        except Exception as e:  # a measurement error, reported; the worker goes on
            outcome = {"ok": False, "reason": f"{type(e).__name__}: {e}"[:300]}
        outcome["speed_probe_ns"] = [before, speed_probe_ns()]
        results.write(json.dumps({"id": task["id"], **outcome}) + "\n")
    results.close()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without running engines' teardown: some (wasmer-sdk) can abort the
    # process at interpreter exit, after every result is already written.
    os._exit(status)
