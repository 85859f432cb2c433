"""The runner survives workers that crash, hang, print garbage, trap or blow up memory."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from wasm_advisor.harness._runner import WorkerLimits, run_worker

FAKE = [sys.executable, str(Path(__file__).parent / "helpers" / "misbehaving_worker.py")]
LIMITS = WorkerLimits(task_timeout_s=2.0, memory_bytes=300 << 20)


def job(*kinds: str) -> dict[str, object]:
    return {"runtime": "fake", "mode": "m",
            "tasks": [{"id": f"t{i}:{k}", "kind": k} for i, k in enumerate(kinds)]}


def test_all_good() -> None:
    outcome = run_worker(job("ok", "ok"), LIMITS, command=FAKE)
    assert set(outcome.results) == {"t0:ok", "t1:ok"}
    assert outcome.failures == {}


def test_a_crash_fails_one_task_and_the_rest_go_on() -> None:
    outcome = run_worker(job("ok", "crash", "ok"), LIMITS, command=FAKE)
    assert "SIGABRT" in outcome.failures["t1:crash"]
    assert set(outcome.results) == {"t0:ok", "t2:ok"}


def test_a_hang_is_killed_after_the_task_timeout() -> None:
    start = time.monotonic()
    outcome = run_worker(job("hang", "ok"), LIMITS, command=FAKE)
    assert outcome.failures["t0:hang"].startswith("timed out")
    assert "t1:ok" in outcome.results
    assert time.monotonic() - start < 10


def test_garbage_output_is_a_failure_not_a_crash_of_the_parent() -> None:
    outcome = run_worker(job("garbage", "ok"), LIMITS, command=FAKE)
    assert "malformed output" in outcome.failures["t0:garbage"]
    assert "t1:ok" in outcome.results


def test_a_trap_is_a_failed_measurement_reported_by_the_worker() -> None:
    outcome = run_worker(job("trap", "ok"), LIMITS, command=FAKE)
    assert outcome.results["t0:trap"] == {"ok": False, "reason": "exit 1: unreachable"}
    assert outcome.results["t1:ok"]["ok"]


def test_a_memory_hog_is_killed_at_the_limit() -> None:
    outcome = run_worker(job("memory", "ok"), LIMITS, command=FAKE)
    assert "memory limit of 300 MiB" in outcome.failures["t0:memory"]
    assert "t1:ok" in outcome.results


def test_an_early_silent_exit_is_reported_with_its_status() -> None:
    outcome = run_worker(job("ok", "silent_exit", "ok"), LIMITS, command=FAKE)
    assert outcome.failures["t1:silent_exit"] == "the worker exited with status 3"
    assert "t2:ok" in outcome.results


def test_a_worker_that_cannot_start_fails_every_task_with_the_reason() -> None:
    outcome = run_worker(job("ok", "ok"), LIMITS,
                         command=[sys.executable, "-c", "import sys; sys.exit('no engine')"])
    assert outcome.startup_error is not None
    assert set(outcome.failures) == {"t0:ok", "t1:ok"}
    assert all("could not start" in r for r in outcome.failures.values())


def test_progress_is_reported_for_results_and_failures() -> None:
    seen: list[tuple[str, bool]] = []
    run_worker(job("ok", "crash", "ok"), LIMITS, command=FAKE,
               on_result=lambda task, result: seen.append((task, bool(result.get("ok")))))
    assert seen == [("t0:ok", True), ("t1:crash", False), ("t2:ok", True)]


def test_an_interrupt_kills_the_worker_and_propagates() -> None:
    import psutil

    started: list[int] = []
    # children of this process from earlier tests (multiprocessing's resource tracker) stay
    earlier = {p.pid for p in psutil.Process().children(recursive=True)}

    def interrupt(task: str, result: dict[str, object]) -> None:
        started.extend(p.pid for p in psutil.Process().children(recursive=True)
                       if p.pid not in earlier)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_worker(job("ok", "hang"), LIMITS, command=FAKE, on_result=interrupt)
    time.sleep(0.1)
    assert started and not any(psutil.pid_exists(pid) and psutil.Process(pid).status()
                               != psutil.STATUS_ZOMBIE for pid in started)


def test_an_interrupted_calibration_saves_nothing_and_keeps_the_previous_profile(
        tmp_path: Path) -> None:
    from wasm_advisor import ProfileStore, calibrate

    from .helpers.synthetic import synthetic_profile

    store = ProfileStore(tmp_path)
    previous = store.save(synthetic_profile({"wasmtime:cranelift": {}}))
    before = previous.read_bytes()

    def interrupt(event: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate("quick", runtimes=["wasmtime"], modes=["cranelift"], store=store,
                  progress=interrupt)
    assert store.paths() == [previous] and previous.read_bytes() == before
    assert store.latest() is not None
    with store.calibrating():  # the interrupted calibration released its lock
        pass


def test_ctrl_c_on_the_command_line_exits_130_and_leaves_nothing_behind(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess

    import psutil

    from wasm_advisor import ProfileStore

    from .helpers.synthetic import synthetic_profile

    store = ProfileStore(tmp_path)
    previous = store.save(synthetic_profile({"wasmtime:cranelift": {}}))
    before = previous.read_bytes()
    cli = subprocess.Popen(
        [sys.executable, "-m", "wasm_advisor", "calibrate", "--quick", "--runtime", "wasmtime"],
        env={**os.environ, "WASM_ADVISOR_CACHE": str(tmp_path)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        parent = psutil.Process(cli.pid)
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while not workers and time.monotonic() < deadline:  # wait for a measuring worker
            workers = [p for p in parent.children(recursive=True)
                       if "harness.worker" in " ".join(p.cmdline())]
            time.sleep(0.05)
        assert workers, "no worker started"
        time.sleep(0.5)
        os.killpg(cli.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
    assert cli.returncode == 130
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    time.sleep(0.2)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    assert store.paths() == [previous] and previous.read_bytes() == before
    with store.calibrating():
        pass


def test_the_real_worker_reads_the_machines_speed_either_side_of_every_task() -> None:
    # the calibration tells a task measured in a slow phase of the machine by these
    tasks = [{"id": f"probe:{f}", "kind": "probe", "feature": f, "timeout_s": 30}
             for f in ("simd", "bulk-memory")]
    outcome = run_worker({"runtime": "wasmtime", "mode": "cranelift", "options": {},
                          "tasks_modules": ["wasm_advisor.calibration.tasks"],
                          "tasks": tasks}, WorkerLimits(task_timeout_s=60))
    assert set(outcome.results) == {t["id"] for t in tasks}
    for result in outcome.results.values():
        before, after = result["speed_probe_ns"]
        assert 0 < before < 1e9 and 0 < after < 1e9  # a millisecond of work, in ns
