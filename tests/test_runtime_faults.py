"""Broken runtimes during a kernel: each fault ends as one failed measurement, never a hang.

The fake ``iwasm`` binaries pass discovery (they say a WAMR version and run the
empty module) and misbehave only when given a calibration kernel, so the real
worker process, the real WAMR adapter and the real runner meet each fault the
way a broken installation would present it.
"""

from __future__ import annotations

import stat
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from wasm_advisor import MeasurementError, Profile, ProfileStore, calibrate
from wasm_advisor.calibration.kernels import KernelPlan
from wasm_advisor.harness._runner import WorkerLimits, run_worker

from .helpers.synthetic import synthetic_profile


@pytest.fixture(autouse=True)
def _no_libiwasm_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the iwasm command line: a libiwasm.so named in the environment
    (for the in-process tests) would add its modes to every WAMR adapter here."""
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM", raising=False)

PLAN = asdict(KernelPlan(min_sample_ns=100_000, repeats=1, working_set_bytes=1 << 20))
DISCOVERY = """case "$1" in --version) echo "iwasm 2.2.0"; exit 0;; esac
case "$*" in *--stack-size*) {fault} ;; esac
case "$1" in --interp) exit 0;; esac
exit 1
"""
FAULTS = {
    "segfault": ("kill -SEGV $$", "exit 139: iwasm was killed by signal 11"),
    "trap": ('echo "Exception: unreachable"; exit 1', "exit 1: Exception: unreachable"),
    "prints nothing": ("exit 0", "the kernel printed no samples"),
    "malformed JSON": ("""echo '{"t0": 1}'; echo '{"n": 5, "ns":'; exit 0""",
                       "malformed output from the module: '{\"n\": 5, \"ns\":'"),
    "hangs": ("exec sleep 30", "time limit of 1 s hit"),
    "hangs in a child": ("sleep 30; exit 0", "time limit of 1 s hit"),
}


def fake_iwasm(tmp_path: Path, fault: str) -> str:
    path = tmp_path / "iwasm"
    path.write_text("#!/bin/sh\n" + DISCOVERY.format(fault=fault))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def kernel_job(iwasm: str, *kernels: str, timeout_s: float = 1.0) -> dict[str, object]:
    return {"runtime": "wamr", "mode": "fast-interp", "options": {"iwasm": [iwasm]},
            "tasks_modules": ["wasm_advisor.calibration.tasks"],
            "tasks": [{"id": f"guest:{k}", "kind": "guest", "kernel": k, "plan": PLAN,
                       "timeout_s": timeout_s} for k in kernels]}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_runtime_failing_during_a_kernel_fails_that_measurement(
        tmp_path: Path, fault: str) -> None:
    script, reason = FAULTS[fault]
    start = time.monotonic()
    outcome = run_worker(kernel_job(fake_iwasm(tmp_path, script), "int", "call"),
                         WorkerLimits(task_timeout_s=20))
    assert time.monotonic() - start < 15  # bounded: 1 s per hanging kernel, plus start-up
    assert outcome.hello and outcome.hello["availability"]["available"]
    for task in ("guest:int", "guest:call"):  # the second kernel still ran after the first
        assert outcome.results[task]["ok"] is False
        assert reason in outcome.results[task]["reason"]


def test_a_runtime_blowing_up_memory_is_killed_at_the_worker_limit(tmp_path: Path) -> None:
    hog = tmp_path / "hog.py"
    hog.write_text("import time\nhog = []\nwhile True:\n    hog.append(bytearray(16 << 20))\n"
                   "    time.sleep(0.005)\n")
    iwasm = fake_iwasm(tmp_path, f"exec {sys.executable} {hog}")
    # the kernel's own time limit well beyond the time the hog takes to pass 400 MiB: with
    # 1 s, a slow machine could end a run by time before the runner saw its memory
    outcome = run_worker(kernel_job(iwasm, "int", "call", timeout_s=10),
                         WorkerLimits(task_timeout_s=20, memory_bytes=400 << 20))
    said = f"failures {outcome.failures}, results {outcome.results}"
    assert "exceeded the memory limit of 400 MiB" in outcome.failures.get("guest:int", ""), said
    # a fresh worker for the second kernel, and the same end
    assert "exceeded the memory limit" in outcome.failures.get("guest:call", ""), said


def test_a_verified_module_on_iwasm_is_stopped_at_the_users_memory_limit(
        tmp_path: Path) -> None:
    from wasm_advisor.calibration.kernels import empty_module
    from wasm_advisor.runtimes.base import RunRequest
    from wasm_advisor.runtimes.wamr_runtime import WamrAdapter

    hog = tmp_path / "hog.py"
    hog.write_text("import time\nhog = []\nwhile True:\n    hog.append(bytearray(8 << 20))\n"
                   "    time.sleep(0.005)\n")
    adapter = WamrAdapter(iwasm=[fake_iwasm(tmp_path, f"exec {sys.executable} {hog}")])
    start = time.monotonic()
    result = adapter.run(adapter.modes()[0], RunRequest(
        empty_module(), timeout_s=30, enforce_limits=True, memory_limit_bytes=64 << 20))
    assert time.monotonic() - start < 15
    assert result.limit_hit == "memory" and result.trap == "memory limit of 64 MiB hit"
    assert result.peak_rss_bytes is not None and result.peak_rss_bytes < 200 << 20


@pytest.mark.parametrize("fault", ["segfault", "trap"])
def test_a_calibration_where_everything_fails_saves_nothing(tmp_path: Path, fault: str) -> None:
    store = ProfileStore(tmp_path / "cache")
    previous = store.save(synthetic_profile({"wasmtime:cranelift": {}}))
    before = previous.read_bytes()
    with pytest.raises(MeasurementError, match="measured nothing, so no profile was saved"):
        calibrate("quick", runtimes=["wamr"], iwasm=[fake_iwasm(tmp_path, FAULTS[fault][0])],
                  store=store)
    assert store.paths() == [previous] and previous.read_bytes() == before
    assert isinstance(Profile.load(previous), Profile)


def test_a_runtime_that_is_not_installed_is_named_with_the_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WASM_ADVISOR_IWASM", raising=False)
    monkeypatch.delenv("WASM_ADVISOR_WAMRC", raising=False)
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # the worker inherits it: no iwasm anywhere
    # and a wasmer_sdk that cannot be imported, found first by the worker
    broken = tmp_path / "site" / "wasmer_sdk"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('libwasmer_sdk_uniffi.so: missing')")
    monkeypatch.setenv("PYTHONPATH", str(broken.parent))
    store = ProfileStore(tmp_path / "cache")
    with pytest.raises(MeasurementError) as e:
        calibrate("quick", runtimes=["wamr", "wasmer"], store=store)
    message = str(e.value)
    assert "wamr: no iwasm found, nor a libiwasm: put WAMR's iwasm on PATH" in message
    assert "wasmer: wasmer-sdk cannot be imported here: libwasmer_sdk_uniffi.so: missing" \
        in message
    assert store.paths() == []
