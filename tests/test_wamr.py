"""The WAMR adapter: against a real iwasm when one is here, and against impostors always."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from wasm_advisor.calibration import _kernel_counts as kernel_counts
from wasm_advisor.calibration import kernels
from wasm_advisor.calibration._probes import PROBE_SUCCESS, PROBES
from wasm_advisor.calibration.tasks import parse_guest_output
from wasm_advisor.runtimes.base import RunRequest
from wasm_advisor.runtimes.wamr_runtime import WamrAdapter


@pytest.fixture(autouse=True)
def _no_libiwasm_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the iwasm command line: a libiwasm.so named in the environment
    (for the in-process tests) would add its modes to every WAMR adapter here."""
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM", raising=False)


def _real_iwasm() -> list[str]:
    named = [p for p in os.environ.get("WASM_ADVISOR_IWASM", "").split(os.pathsep) if p]
    found = shutil.which("iwasm")
    return named or ([found] if found else [])


IWASM = _real_iwasm()
WAMRC = os.environ.get("WASM_ADVISOR_WAMRC") or shutil.which("wamrc")
needs_iwasm = pytest.mark.skipif(
    not IWASM, reason="WAMR's iwasm is not here: set WASM_ADVISOR_IWASM or put iwasm on PATH "
    "(see docs/runtimes.md)")


def fake_binary(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_no_iwasm_is_unavailable_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WASM_ADVISOR_IWASM", raising=False)
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    availability = WamrAdapter().availability()
    assert not availability.available
    assert "no iwasm found" in availability.reason


@pytest.mark.parametrize(("script", "reason"), [
    ("echo 'hello from an impostor'", "is not WAMR's iwasm"),
    ("exit 139", "is not WAMR's iwasm"),
    ("head -c 300 /dev/urandom", "is not WAMR's iwasm"),
    ("sleep 60", "is not WAMR's iwasm"),
])
def test_impostors_are_refused(tmp_path: Path, script: str, reason: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    import wasm_advisor.runtimes.wamr_runtime as wamr

    monkeypatch.setattr(wamr, "PROBE_TIMEOUT_S", 1.0)
    adapter = WamrAdapter(iwasm=[fake_binary(tmp_path, "iwasm", script)])
    availability = adapter.availability()
    assert not availability.available
    assert reason in availability.reason
    assert adapter.modes() == []


def test_an_iwasm_that_says_its_version_but_runs_nothing_has_no_modes(tmp_path: Path) -> None:
    liar = fake_binary(tmp_path, "iwasm", 'case "$1" in --version) echo "iwasm 9.9.9";; '
                                          '*) echo "Exception: nope"; exit 1;; esac')
    availability = WamrAdapter(iwasm=[liar]).availability()
    assert not availability.available


def test_a_mode_whose_first_start_fails_is_tried_again(tmp_path: Path) -> None:
    once = tmp_path / "failed-once"
    flaky = fake_binary(tmp_path, "iwasm", f'case "$1" in --version) echo "iwasm 9.9.9";; '
                        f'--llvm-jit) if [ -e {once} ]; then exit 0; fi; touch {once}; exit 134;; '
                        '*) exit 1;; esac')
    adapter = WamrAdapter(iwasm=[flaky])
    assert [m.name for m in adapter.modes()] == ["llvm-jit"]
    assert adapter.modes()[0].lazy_compile


@needs_iwasm
def test_modes_are_found_by_running_them() -> None:
    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    availability = adapter.availability()
    assert availability.available, availability.reason
    names = {m.name for m in adapter.modes()}
    assert names & {"fast-interp", "classic-interp", "llvm-jit"}
    if WAMRC:
        assert "aot" in names


@needs_iwasm
def test_kernel_runs_and_reports_samples_on_every_mode() -> None:
    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    plan = kernels.KernelPlan(min_sample_ns=200_000, repeats=1, working_set_bytes=1 << 20)
    # the iwasm processes' modes: a libiwasm beside an iwasm (a shared build) adds in-process
    # modes, which tests/test_wamr_embedded.py runs in workers of their own
    modes = [m for m in adapter.modes() if adapter.samples_peak_memory(m)]
    assert modes
    for mode in modes:
        result = adapter.run(mode, RunRequest(kernels.guest_kernel("int", plan),
                                              precompiled=True))
        assert result.exit_code == 0, (mode.name, result.trap)
        t0, samples = parse_guest_output(result.stdout)
        assert samples and t0 is not None
        assert result.peak_rss_bytes and result.peak_rss_bytes > 1 << 20


@needs_iwasm
def test_only_the_classic_interpreter_pays_for_the_code_its_block_end_scans_pass_over(
        ) -> None:
    from wasm_advisor.harness._statistics import fit_slope

    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    plan = kernels.KernelPlan(min_sample_ns=2_000_000, repeats=2, working_set_bytes=1 << 20)
    per_op = {}
    for mode in adapter.modes():
        if mode.name not in ("classic-interp", "fast-interp"):
            continue
        ns = {}
        for kernel in ("block_exit_short", "block_exit_long"):
            result = adapter.run(mode, RunRequest(kernels.guest_kernel(kernel, plan),
                                                  precompiled=True))
            assert result.exit_code == 0, (mode.name, result.trap)
            ns[kernel] = fit_slope(parse_guest_output(result.stdout)[1]).slope
        scanned = (kernel_counts.scan_ops_per_iteration("block_exit_long")
                   - kernel_counts.scan_ops_per_iteration("block_exit_short"))
        per_op[mode.name] = (ns["block_exit_long"] - ns["block_exit_short"]) / scanned
    if "classic-interp" not in per_op:
        pytest.skip("no iwasm built with the classic interpreter here")
    # the classic interpreter scans the bytecode for a block's end: ns per instruction
    # passed over (3 here); the fast one resolved the ends when it loaded the code
    assert per_op["classic-interp"] > 0.5, per_op
    assert abs(per_op.get("fast-interp", 0.0)) < 0.1 * per_op["classic-interp"], per_op


@needs_iwasm
def test_traps_exits_and_timeouts_are_results() -> None:
    import wasmtime

    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    mode = adapter.modes()[0]
    trap = wasmtime.wat2wasm('(module (memory (export "memory") 1) '
                             '(func (export "_start") unreachable))')
    result = adapter.run(mode, RunRequest(trap))
    assert result.exit_code == 1 and result.trap == "Exception: unreachable"
    loop = wasmtime.wat2wasm('(module (memory (export "memory") 1) '
                             '(func (export "_start") (loop $l (br $l))))')
    result = adapter.run(mode, RunRequest(loop, timeout_s=0.5))
    assert result.trap == "time limit of 0.5 s hit" and result.limit_hit == "time"
    assert PROBES["bulk-memory"].module()
    result = adapter.run(mode, RunRequest(PROBES["bulk-memory"].module()))
    assert result.exit_code == PROBE_SUCCESS


@needs_iwasm
def test_a_real_program_runs_in_its_directory(corpus: Path) -> None:
    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    mode = adapter.modes()[0]
    workdir = corpus / "sg-bz2"
    result = adapter.run(mode, RunRequest((workdir / "sg-bz2.wasm").read_bytes(),
                                          workdir=workdir, timeout_s=120))
    assert result.exit_code == 0, result.trap
    assert "bz2: OK" in result.stdout


def test_processes_started_in_a_fixed_layout_are_not_randomised_and_it_ends_after() -> None:
    from wasm_advisor.runtimes.wamr_runtime import ADDR_NO_RANDOMIZE, _fixed_address_layout

    def child_persona() -> int:  # what a process started now runs with
        if not Path("/proc/self/personality").exists():
            pytest.skip("no /proc/self/personality: not Linux")
        done = subprocess.run(["cat", "/proc/self/personality"], capture_output=True,
                              text=True, check=True)
        return int(done.stdout, 16)

    before = child_persona()
    with _fixed_address_layout() as fixed:
        inside = child_persona()
    if not fixed:
        pytest.skip("this system does not allow turning address randomisation off")
    assert inside & ADDR_NO_RANDOMIZE and not before & ADDR_NO_RANDOMIZE
    assert child_persona() == before


@needs_iwasm
def test_memory_per_instance_repeats_to_the_page() -> None:
    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    mode = adapter.modes()[0]
    module = kernels.resident_module(16, 64 << 10)
    first, second = (adapter.instance_memory(mode, module, 5, kernels.resident_module(1, 0))
                     for _ in range(2))
    if "could not be turned off" in str(first["method"]):
        pytest.skip("address randomisation is on here, so each figure varies by ~100 KiB")
    # 64 KiB of data and the pages it touches, more than the empty module's
    assert 64 << 10 <= int(first["per_extra_instance_bytes"]) < 1 << 20
    assert abs(int(first["per_extra_instance_bytes"])
               - int(second["per_extra_instance_bytes"])) <= 4096


@needs_iwasm
def test_verify_separates_execution_on_every_wamr_mode(tmp_path: Path) -> None:
    from wasm_advisor import Advisor, ProfileStore, Workload

    from .helpers.synthetic import synthetic_profile

    adapter = WamrAdapter(iwasm=IWASM, wamrc=WAMRC)
    keys = [m.key for m in adapter.modes()]
    advisor = Advisor(synthetic_profile({k: {} for k in keys}),
                      store=ProfileStore(tmp_path / "cache"))
    path = tmp_path / "k.wasm"
    path.write_bytes(kernels.guest_kernel("int", kernels.KernelPlan(min_sample_ns=2_000_000,
                                                                    repeats=2)))
    report = advisor.verify(Workload.from_module(path), repeats=2, timeout_s=60,
                            iwasm=IWASM, wamrc=WAMRC)
    assert [m.key for m in report.modes] == keys
    for mode in report.modes:
        assert mode.failure is None, (mode.key, mode.failure)
        if mode.key == "wamr:llvm-jit":  # compiles as it runs: only the whole run
            assert "execute" not in mode.measured_ns and "JIT compiles" in mode.notes[-1]
            continue
        # 2 rounds x (1+2+4) samples x at least 2 ms each, timed by the kernel itself
        assert 20e6 < mode.measured_ns["execute"] < mode.measured_ns["total"], mode.key


def test_a_run_starts_in_its_directory_and_reports_its_own_peak_memory(tmp_path: Path) -> None:
    from wasm_advisor.runtimes.wamr_runtime import _spawn_timed

    ballast = bytearray(200 << 20)  # this process: 200 MiB more resident than the child
    ballast[::4096] = b"\1" * len(ballast[::4096])
    result = _spawn_timed(["sh", "-c", "pwd; sleep 0.05"], str(tmp_path), 10.0, {})
    assert result.exit_code == 0 and result.stdout.strip() == str(tmp_path)
    assert result.peak_rss_bytes is not None and 0 < result.peak_rss_bytes < 50 << 20
    del ballast
