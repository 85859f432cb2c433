"""A calibration that knows when it was disturbed: the detector on synthetic readings, the
re-measurement and the not-measured figures with fake workers, and one real busy machine."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wasm_advisor import ProfileStore, calibrate
from wasm_advisor.calibration._budgets import BUDGETS
from wasm_advisor.calibration._pace import PaceReading
from wasm_advisor.calibration._steadiness import (
    PACE_LIMIT,
    RUN_QUEUE_LIMIT,
    SPEED_LIMIT,
    STEAL_LIMIT,
    Recheck,
    SystemSample,
    assess,
    parse_proc_stat,
)
from wasm_advisor.harness._runner import WorkerOutcome
from wasm_advisor.profiles._bounds import out_of_bounds, tasks_behind
from wasm_advisor.profiles._profile import Figure, RuntimeRecord
from wasm_advisor.runtimes.base import Mode

from .helpers.synthetic import figure

calibrate_module = importlib.import_module("wasm_advisor.calibration._calibrate")

CORES = 2
STEADY_PACE = [PaceReading(0.0, 100e6, 2.0), PaceReading(10.0, 101e6, 2.01)]


def _samples(others: int, start: float = 0.0, end: float = 10.0, steal_share: float = 0.0,
             own: int = 2) -> list[SystemSample]:
    """Samples every second between ``start`` and ``end``: ``others`` runnable threads
    besides the calibration's ``own``, ``steal_share`` of the CPU time stolen."""
    out, ticks = [], 0
    for i in range(int(start), int(end) + 1):
        out.append(SystemSample(float(i), own + others, own, int(ticks * steal_share), ticks))
        ticks += 200
    return out


def _kernel(mode: str, kernel: str, spread: float = 0.05) -> Figure:
    f = figure("wasmtime", mode, f"{kernel}_ns_per_iter", 1.0, "wasmtime-py")
    return f.model_copy(update={"spread": spread})


def test_proc_stat_gives_the_run_queue_and_the_steal() -> None:
    text = ("cpu  100 5 50 800 10 0 5 30 0 0\ncpu0 50 2 25 400 5 0 2 15 0 0\n"
            "intr 1 2 3\nctxt 99\nprocs_running 4\nprocs_blocked 0\n")
    assert parse_proc_stat(text) == (4, 30, 1000)
    assert parse_proc_stat("cpu 1 2 3\n") is None  # no run queue: not a Linux /proc/stat


def test_a_quiet_machine_is_steady() -> None:
    kernels = [_kernel(m, k) for m in ("cranelift", "pulley") for k in ("int", "float")]
    verdict = assess(system=_samples(0), pace=STEADY_PACE, figures=kernels, cores=CORES,
                     windows=[("wasmtime:cranelift", 0, 5), ("wasmtime:pulley", 5, 10)])
    assert verdict.steady and verdict.reasons == [] and verdict.disturbed_modes == set()
    assert verdict.run_queue_per_core == 0 and verdict.steal_fraction == 0
    assert verdict.pace_drift is not None and verdict.pace_drift < PACE_LIMIT


def test_one_busy_process_per_core_is_a_disturbance_of_the_modes_it_overlapped() -> None:
    # quiet while cranelift ran, one busy process per core while pulley ran
    system = _samples(0, 0, 4) + _samples(CORES, 5, 10)
    verdict = assess(system=system, pace=STEADY_PACE, cores=CORES,
                     windows=[("wasmtime:cranelift", 0, 4.5), ("wasmtime:pulley", 4.5, 10)])
    assert not verdict.steady
    assert verdict.disturbed_modes == {"wasmtime:pulley"}
    assert verdict.run_queue_per_core is not None
    assert verdict.run_queue_per_core >= RUN_QUEUE_LIMIT
    assert [m.what for m in verdict.moved] == ["run queue"]
    assert "runnable processes per core" in verdict.reasons[0]


def test_the_calibrations_own_threads_are_not_counted_as_load() -> None:
    # its worker compiling on both cores and the sampler: 3 runnable, all its own
    verdict = assess(system=_samples(0, own=3), cores=CORES)
    assert verdict.steady


def test_steal_and_a_moving_pace_are_disturbances_of_every_mode() -> None:
    kernels = [_kernel("cranelift", "int"), _kernel("pulley", "int")]
    stolen = assess(system=_samples(0, steal_share=2 * STEAL_LIMIT), figures=kernels,
                    cores=CORES)
    assert not stolen.steady and stolen.moved[0].what == "CPU steal"
    assert stolen.disturbed_modes == {"wasmtime:cranelift", "wasmtime:pulley"}
    moving = [PaceReading(0.0, 100e6, 2.0), PaceReading(10.0, 100e6 * (1 + 2 * PACE_LIMIT), 2.0)]
    drifted = assess(system=_samples(0), pace=moving, figures=kernels, cores=CORES)
    assert not drifted.steady
    assert [m.what for m in drifted.moved] == ["machine pace: compile"]
    assert "compile pace moved" in drifted.reasons[0]


def test_most_compute_kernels_scattered_is_a_disturbance_one_is_not() -> None:
    one = [_kernel("cranelift", k, 0.9 if k == "int" else 0.05)
           for k in ("int", "float", "call", "mixed")]
    assert assess(figures=one, cores=CORES).steady
    most = [_kernel("cranelift", k, 0.9 if k != "mixed" else 0.05)
            for k in ("int", "float", "call", "mixed")]
    verdict = assess(figures=most, cores=CORES)
    assert not verdict.steady and verdict.disturbed_modes == {"wasmtime:cranelift"}
    assert len(verdict.moved) == 3 and "3 of 4 compute kernels" in verdict.reasons[0]


def test_figures_outside_physical_bounds() -> None:
    load = figure("wamr", "aot", "load_ns_per_code_byte", -0.23, "iwasm CLI")
    call = figure("wasmtime", "cranelift", "hostcall_ns_per_iter", 0.4, "wasmtime-py")
    fine = figure("wasmtime", "cranelift", "int_ns_per_iter", 0.3, "wasmtime-py")
    flat = figure("wasmtime", "cranelift", "instantiate_ns_per_page", -0.01, "wasmtime-py")
    bad = out_of_bounds([load, call, fine, flat])
    assert [f.metric for f, _ in bad] == ["load_ns_per_code_byte", "hostcall_ns_per_iter"]
    assert "cannot be negative" in bad[0][1] and "more than 1 ns" in bad[1][1]
    assert tasks_behind("load_ns_per_code_byte", precompiled_mode=True) == ("host:code:",)
    assert tasks_behind("load_ns_per_code_byte", False) == ("host:code-precompiled:",)
    assert tasks_behind("hostcall_ns_per_iter", False) == ("guest:hostcall",)


# ----- the calibration's re-measurement, with fake workers ------------------------------

MODE = Mode(runtime="wasmtime", name="cranelift", binding="wasmtime-py", label="Cranelift")


class _FakeSampler:
    """Stands for SystemSampler: a clock that moves one second a call, and samples that
    say the machine is busy (or not) at every moment up to ``busy_until``."""

    def __init__(self, busy_until: float, **_: Any) -> None:
        self.busy_until = busy_until
        self.clock = 0.0
        self.samples: list[SystemSample] = []

    def now(self) -> float:
        self.clock += 1.0
        others = CORES if self.clock <= self.busy_until else 0
        self.samples.append(SystemSample(self.clock, 2 + others, 2, 0, int(self.clock * 100)))
        return self.clock

    def __enter__(self) -> _FakeSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _fake_calibration(monkeypatch: pytest.MonkeyPatch, busy_until: float,
                      load_values: Iterator[float],
                      probe: Callable[[int, str], float] = lambda job, task: 1.2e6,
                      value: Callable[[int, str], float] = lambda job, task: 10.0
                      ) -> list[list[str]]:
    """Fakes discovery, workers, pace and analysis; each analysis of the code family gives
    the next of ``load_values`` as the load cost; ``probe(job number, task id)`` is the
    speed probe read either side of a task, ``value(job number, task id)`` its measured ns
    per iteration. Returns the task ids of every worker."""
    jobs: list[list[str]] = []
    state = {"load": next(load_values)}

    def run_worker(job: dict[str, Any], limits: Any, on_result: Any = None) -> WorkerOutcome:
        ids = [t["id"] for t in job["tasks"]]
        jobs.append(ids)
        if any(i.startswith("host:code-precompiled:") for i in ids) and len(jobs) > 1:
            state["load"] = next(load_values)
        return WorkerOutcome(results={i: {
            "ok": True, "speed_probe_ns": [probe(len(jobs), i)] * 2,
            "samples": [(1000, int(1000 * value(len(jobs), i)))]} for i in ids})

    def analyse_mode(mode: Mode, results: Any, failed: Any, *_: Any) -> tuple[Any, Any, Any]:
        return ([figure("wasmtime", "cranelift", m, v, "wasmtime-py") for m, v in (
            ("int_ns_per_iter", 1.0), ("compile_ns_per_code_byte", 500.0),
            ("load_ns_per_code_byte", state["load"]))], [], [])

    monkeypatch.setattr(calibrate_module, "_discover", lambda name, options: (
        RuntimeRecord(name=name, available=True, version="test"), [MODE]))
    monkeypatch.setattr(calibrate_module, "run_worker", run_worker)
    monkeypatch.setattr(calibrate_module, "analyse_mode", analyse_mode)
    monkeypatch.setattr(calibrate_module, "read_pace",
                        lambda options, at_s: (PaceReading(at_s, 100e6, 2.0), ""))
    monkeypatch.setattr(calibrate_module, "SystemSampler",
                        lambda **kw: _FakeSampler(busy_until))
    monkeypatch.setattr(calibrate_module, "_working_set_bytes", lambda: 64 << 20)
    return jobs


def test_a_disturbed_mode_is_measured_again_and_steady_afterwards(
        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _fake_calibration(monkeypatch, busy_until=4.0, load_values=iter([2.0, 2.0]))
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    assert len(jobs) == 2  # the first pass, then the disturbed families again
    again = jobs[1]
    assert any(i.startswith("guest:") for i in again) and "host:empty:0" in again
    assert not any(i.startswith(("probe:", "host:pages:")) or i == "memory" for i in again)
    assert profile.steadiness is not None and profile.steadiness.steady
    assert profile.steadiness.remeasured == ["wasmtime:cranelift"]
    assert profile.verdict == "steady after measuring wasmtime:cranelift again"


SLOW_PHASE = ("guest:int", "host:pages:1")  # 'host:pages:1' is also how 'host:pages:1024' starts


def test_tasks_from_a_slow_phase_are_measured_again_and_only_they(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the machine ran twice as slow around two tasks of the first pass, and at its usual
    # speed when they were measured again
    jobs = _fake_calibration(monkeypatch, busy_until=0.0, load_values=iter([2.0] * 3),
                             probe=lambda job, task: 2.4e6 if job == 1 and task in SLOW_PHASE
                             else 1.2e6)
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    assert len(jobs) == 2 and sorted(jobs[1]) == sorted(SLOW_PHASE)
    assert profile.steadiness is not None and profile.steadiness.steady
    assert profile.steadiness.slow_tasks == 2
    assert profile.verdict == ("steady after measuring wasmtime:cranelift again (2 of its "
                               "measurements first taken while the machine ran at another speed)")


def test_a_machine_that_stays_in_another_phase_gives_an_unsteady_profile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _fake_calibration(monkeypatch, busy_until=0.0, load_values=iter([2.0] * 5),
                             probe=lambda job, task: 2.4e6 if task in SLOW_PHASE else 1.2e6)
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    assert 1 < len(jobs) <= 1 + calibrate_module.RETRY_ROUNDS
    assert profile.steadiness is not None and not profile.steadiness.steady
    moved = {m.what: m for m in profile.steadiness.moved}
    assert moved["machine speed (probe)"].value == pytest.approx(2.0)
    assert moved["machine speed (probe)"].limit == SPEED_LIMIT
    assert "2 of" in profile.verdict and "changed speed while it measured" in profile.verdict


FLAGGED = ("guest:int", "guest:float", "guest:call", "host:empty:0")


def _flags_rechecked(monkeypatch: pytest.MonkeyPatch, first_value: float
                     ) -> tuple[list[list[str]], Any]:
    """The probe flags four measurements; measured again, three of them at the usual speed
    read 10.0 or 11.0 ns per iteration (the first time: ``first_value``), the fourth is
    flagged again. The workers' task ids, and the profile's steadiness."""
    jobs = _fake_calibration(monkeypatch, busy_until=0.0, load_values=iter([2.0] * 5),
                             probe=lambda job, task: 2.4e6 if task in FLAGGED and (
                                 job == 1 or task == FLAGGED[-1]) else 1.2e6,
                             value=lambda job, task: first_value if job == 1 else 11.0)
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    assert profile.steadiness is not None
    return jobs, profile


def test_flags_that_moved_nothing_are_the_probe_jitter_and_leave_the_profile_steady(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the three read the same again (within 10 %): the flags picked out nothing that
    # moved, and the fourth, flagged again, does not make the profile unsteady
    jobs, profile = _flags_rechecked(monkeypatch, first_value=10.0)
    assert len(jobs) == 2 and sorted(jobs[1]) == sorted(FLAGGED)  # one round, no more
    steadiness = profile.steadiness
    assert steadiness.steady and steadiness.probe_jitter
    assert steadiness.rechecked == 3 and steadiness.probe_agreement == pytest.approx(1.1)
    assert steadiness.slowest_phase == pytest.approx(2.0)
    assert "agreed within 10% (median), so the probe's flags were its own jitter" \
        in profile.verdict


def test_flags_whose_measurements_moved_leave_the_profile_unsteady(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the first measurements read twice as slow as their re-measurements at the usual
    # speed: the flags picked out measurements that moved, and the fourth still stands
    jobs, profile = _flags_rechecked(monkeypatch, first_value=22.0)
    assert len(jobs) == 1 + calibrate_module.RETRY_ROUNDS
    steadiness = profile.steadiness
    assert not steadiness.steady and not steadiness.probe_jitter
    assert steadiness.probe_agreement == pytest.approx(2.0)
    assert "changed speed while it measured" in profile.verdict


def _guest_flagged_once(monkeypatch: pytest.MonkeyPatch, first_value: float
                        ) -> tuple[list[list[str]], list[str], Any]:
    """The probe flags every in-guest kernel of the first pass and nothing after; they read
    ``first_value`` ns per iteration then, 10.5 when measured again. The workers' task ids,
    the flagged ones, and the profile."""
    jobs = _fake_calibration(monkeypatch, busy_until=0.0, load_values=iter([2.0] * 5),
                             probe=lambda job, task: 2.4e6 if job == 1 and task.startswith(
                                 "guest:") else 1.2e6,
                             value=lambda job, task: first_value if job == 1 else 10.5)
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    assert profile.steadiness is not None
    return jobs, [i for i in jobs[0] if i.startswith("guest:")], profile


def test_many_flags_are_judged_on_a_sample_first_and_the_rest_spared_when_they_moved_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs, flagged, profile = _guest_flagged_once(monkeypatch, first_value=10.0)
    assert len(flagged) > calibrate_module.PROBE_SAMPLE
    assert len(jobs) == 2 and len(jobs[1]) == calibrate_module.PROBE_SAMPLE
    assert set(jobs[1]) <= set(flagged)
    assert profile.steadiness.steady
    assert profile.steadiness.probe_jitter and profile.steadiness.slow_tasks == len(flagged)


def test_many_flags_that_moved_their_sample_are_all_measured_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs, flagged, profile = _guest_flagged_once(monkeypatch, first_value=21.0)
    assert len(jobs) == 3 and len(jobs[1]) == calibrate_module.PROBE_SAMPLE
    assert sorted(jobs[1] + jobs[2]) == sorted(flagged)  # the sample, then the rest
    assert profile.steadiness.steady
    assert not profile.steadiness.probe_jitter  # the flags were right: nothing still flagged
    assert "measurements first taken while the machine ran at another speed" \
        in profile.verdict


def test_too_few_rechecked_measurements_do_not_judge_the_flags() -> None:
    probes = {"wasmtime:cranelift": {"a": [2.4e6, 2.4e6], **{
        f"t{i}": [1.2e6, 1.2e6] for i in range(9)}}}
    usual, other = Recheck(10.0, 10.0, (1.2e6, 1.2e6)), Recheck(10.0, 10.0, (2.4e6, 1.2e6))
    two = assess(probes=probes, rechecked=[usual, usual, other])
    # a re-measurement in another phase again says nothing about what the phase moved
    assert not two.steady and two.probe_agreement is None and two.disturbed_tasks
    assert two.rechecked == 2
    three = assess(probes=probes, rechecked=[usual] * 3)
    assert three.steady and three.probe_agreement == 1.0 and not three.disturbed_tasks


def test_a_pace_reading_from_another_phase_is_not_taken_for_a_drift() -> None:
    # two readings at the usual speed, one in a phase twice as slow: the phase is the
    # tasks' business (they are measured again), the drift is between like readings
    probes = {"wasmtime:cranelift": {f"t{i}": [1.2e6, 1.2e6] for i in range(9)}}
    readings = [PaceReading(0.0, 100e6, 2.0, (1.2e6,) * 4),
                PaceReading(5.0, 160e6, 2.0, (1.2e6, 2.4e6, 2.4e6, 2.4e6)),
                PaceReading(9.0, 102e6, 2.0, (1.2e6,) * 4)]
    verdict = assess(pace=readings, probes=probes)
    assert verdict.steady and verdict.pace_drift == pytest.approx(2 / 101)
    # without the probes, the same readings are a drift
    assert not assess(pace=[replace(r, speed_probes_ns=()) for r in readings]).steady


def test_a_machine_busy_throughout_gives_an_unsteady_profile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _fake_calibration(monkeypatch, busy_until=1e9, load_values=iter([2.0] * 5))
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    assert 1 < len(jobs) <= 1 + calibrate_module.RETRY_ROUNDS  # bounded
    assert profile.steadiness is not None and not profile.steadiness.steady
    assert profile.steady is False and profile.verdict.startswith("unsteady: ")
    assert "run queue" in [m.what for m in profile.steadiness.moved]
    assert profile.unsteady_notice is not None and profile.id in profile.unsteady_notice


def test_a_negative_figure_is_measured_again_then_not_measured_with_the_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _fake_calibration(monkeypatch, busy_until=0.0, load_values=iter([-240.0] * 5))
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    # its own family again (the precompiled code family), not the whole mode
    assert len(jobs) > 1 and all(i.startswith("host:code-precompiled:") for i in jobs[1])
    assert profile.figure("wasmtime", "cranelift", "load_ns_per_code_byte") is None
    failure = next(f for f in profile.failures if f.task == "figure load_ns_per_code_byte")
    assert failure.reason.startswith("not measured: came out -240")
    assert "cannot be negative" in failure.reason and "measured again" in failure.reason
    from wasm_advisor.profiles._summary import summary_rows

    assert summary_rows(profile)[0]["load_us_per_kb"] is None  # printed as –, never a figure


def test_a_negative_figure_that_comes_out_right_the_second_time_is_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_calibration(monkeypatch, busy_until=0.0, load_values=iter([-240.0, 3.0]))
    profile = calibrate("quick", runtimes=["wasmtime"], save=False)
    kept = profile.figure("wasmtime", "cranelift", "load_ns_per_code_byte")
    assert kept is not None and kept.value > 0
    assert not [f for f in profile.failures if f.task.startswith("figure ")]


# ----- a real busy machine ---------------------------------------------------------------

def _spin_elsewhere(seconds: float) -> int:
    """A busy process that is not this one's descendant, as another user's would be: started
    through a shell that exits at once, so the process is handed to init. (A child of this
    process is the calibration's own: calibrate() runs here, and the detector leaves out
    the calibration's own runnable threads.) Returns its pid."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n pass"
    started = subprocess.run(
        ["sh", "-c", '"$1" -c "$2" >/dev/null 2>&1 & echo $!', "sh", sys.executable, code],
        capture_output=True, text=True, check=True)
    return int(started.stdout.strip())


@pytest.mark.slow
def test_one_busy_process_per_core_makes_a_quick_calibration_unsteady(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from wasm_advisor.cli import main

    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    monkeypatch.setitem(calibrate_module.RETRY_BUDGET_S, "quick", 5.0)
    # a smaller quick budget, to keep the test short: the kernels the model needs, no probes
    quick = BUDGETS["quick"]
    monkeypatch.setitem(BUDGETS, "quick", replace(
        quick, kernels=("int", "float", "call", "hostcall", "mem_seq", "mem_rand"), probes=(),
        pages=quick.pages[:2], data_sizes=quick.data_sizes[:2], memory_instances=64,
        code_sizes=quick.code_sizes[:2], host_repeats=2, empty_repeats=5))
    monkeypatch.setattr(calibrate_module, "RETRY_ROUNDS", 1)
    busy = [_spin_elsewhere(120) for _ in range(os.cpu_count() or 1)]
    try:
        code = main(["calibrate", "--quick", "--runtime", "wasmtime", "--mode", "cranelift"])
    finally:
        for pid in busy:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("verdict: unsteady")
    profile = ProfileStore(tmp_path).latest()
    assert profile is not None and profile.steady is False
    assert main(["recommend", "request-response", "--no-crossovers"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("UNSTEADY PROFILE")


def test_an_older_profiles_negative_figure_is_shown_as_not_measured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from wasm_advisor.cli import main
    from wasm_advisor.profiles._summary import summary_rows

    from .helpers.synthetic import synthetic_profile

    # saved before calibrations left such figures out
    profile = synthetic_profile({"wamr:aot": {"load_ns_per_code_byte": -234.5,
                                              "hostcall_ns_per_iter": 0.25}})
    row = summary_rows(profile)[0]
    assert row["load_us_per_kb"] is None and row["hostcall_ns"] is None
    assert row["not_measured"]["load_us_per_kb"].startswith("not measured: came out -234")
    assert "more than 1 ns" in row["not_measured"]["hostcall_ns"]
    assert row["compile_us_per_kb"] is not None and "compile_us_per_kb" not in row["not_measured"]
    path = profile.save(tmp_path / "old.json")
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    assert main(["profiles", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "-234" not in out.replace("came out -234", "")  # never as a figure
    assert "load µs/KiB: not measured: came out -234" in out


def test_the_calibrations_own_busy_child_is_counted_as_its_own() -> None:
    import subprocess
    import sys

    from wasm_advisor.calibration._steadiness import read_system

    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        samples = [s for _ in range(10) if (s := read_system(0.0)) is not None]
    finally:
        child.kill()
        child.wait()
    assert samples
    # the sampler and the spinning child, most of the time (the child may wait for a core)
    assert max(s.own_running for s in samples) >= 2
