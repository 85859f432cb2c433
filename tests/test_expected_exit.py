"""A program whose correct result is a non-zero exit status is verified like any other."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import wasmtime

from wasm_advisor import Advisor, AdvisorError, ProfileStore, Workload
from wasm_advisor.cli import main
from wasm_advisor.runtimes.run_outcome import run_failure

from .conftest import REPO
from .helpers.synthetic import synthetic_profile

# a SAT solver's answer for an unsatisfiable formula: a line on stderr, then status 20
SOLVER = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "s UNSATISFIABLE\\n")
  (func (export "_start") (local $i i32)
    (loop $work (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $work (i32.lt_u (local.get $i) (i32.const 100000))))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const 20))))"""


@pytest.fixture
def solver(tmp_path: Path) -> Path:
    path = tmp_path / "solver.wasm"
    path.write_bytes(wasmtime.wat2wasm(SOLVER))
    return path


def advisor_for(tmp_path: Path, *modes: str) -> Advisor:
    profile = synthetic_profile({mode: {} for mode in modes})
    return Advisor(profile, store=ProfileStore(tmp_path / "cache"))


QUICK = {"repeats": 1, "rounds": 1, "warm_budget_s": 0.0, "timeout_s": 30}


@pytest.mark.parametrize(("exit_code", "trap", "limit", "expect", "failure"), [
    (0, None, None, 0, None),
    (20, None, None, 20, None),  # wasmtime-py: an exit is no trap
    (20, "s UNSATISFIABLE", None, 20, None),  # wasmer-sdk, iwasm: the program's last line
    (20, None, None, 0, "exited with status 20"),
    (0, None, None, 20, "exited with status 0, expected 20"),
    (3, "bad input", None, 20, "exited with status 3, expected 20: bad input"),
    (1, "Exception: unreachable", None, 1, "Exception: unreachable"),  # iwasm's own trap
    (134, "wasm trap: wasm `unreachable` instruction executed", None, 20,
     "wasm trap: wasm `unreachable` instruction executed"),
    (134, "time limit of 1 s hit", "time", 134, "time limit of 1 s hit"),
    (0, "wasm trap: out of bounds", None, 0, "wasm trap: out of bounds"),
])
def test_a_run_is_correct_only_with_the_expected_status_and_no_trap(
        exit_code: int, trap: str | None, limit: str | None, expect: int,
        failure: str | None) -> None:
    assert run_failure(exit_code, trap, limit, expect) == failure


def test_verify_measures_a_program_whose_result_is_status_20(
        tmp_path: Path, solver: Path) -> None:
    advisor = advisor_for(tmp_path, "wasmtime:cranelift")
    report = advisor.verify(Workload.from_module(solver), expect_exit=20, **QUICK)
    (mode,) = report.modes
    assert mode.failure is None and mode.exit_code == 20
    assert {"compile", "instantiate", "execute", "total"} <= set(mode.measured_ns)
    assert report.instructions and report.instructions > 100_000  # counted, not skipped
    assert report.counted.get("mix") and "instruction count" not in report.skipped
    assert report.expect_exit == 20


def test_verify_fails_a_program_that_ends_with_another_status(
        tmp_path: Path, solver: Path) -> None:
    advisor = advisor_for(tmp_path, "wasmtime:cranelift")
    report = advisor.verify(Workload.from_module(solver), **QUICK)  # 0 expected
    (mode,) = report.modes
    assert mode.failure == "exited with status 20" and not mode.measured_ns
    assert "exit 20" in report.skipped["instruction count"]
    report = advisor.verify(Workload.from_module(solver), expect_exit=10, **QUICK)
    assert report.modes[0].failure == "exited with status 20, expected 10"
    assert report.skipped["instruction count"].startswith("exit 20 (expected 10)")
    assert "expected 10" in report.explain()


def test_verify_through_wasmer_reads_the_programs_last_line_as_output_not_a_failure(
        tmp_path: Path, solver: Path) -> None:
    # wasmer-sdk reports a non-zero exit's last line of stderr as its trap
    advisor = advisor_for(tmp_path, "wasmer:cranelift")
    report = advisor.verify(Workload.from_module(solver), expect_exit=20, **QUICK)
    if "wasmer:cranelift" in report.skipped:
        pytest.skip(report.skipped["wasmer:cranelift"])
    (mode,) = report.modes
    assert mode.failure is None, mode.failure
    assert mode.exit_code == 20 and "execute" in mode.measured_ns


@pytest.mark.parametrize("bad", [-1, 256, True, "20"])
def test_an_expected_status_that_is_no_exit_status_is_refused(
        tmp_path: Path, solver: Path, bad: object) -> None:
    advisor = advisor_for(tmp_path, "wasmtime:cranelift")
    with pytest.raises(AdvisorError, match=r"^expect_exit: .* is not an exit status"):
        advisor.verify(Workload.from_module(solver), expect_exit=bad, **QUICK)


def test_verify_cli_takes_the_expected_status(
        tmp_path: Path, solver: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile_file = synthetic_profile({"wasmtime:cranelift": {}}).save(tmp_path / "p.json")
    common = ["verify", str(solver), "--profile", str(profile_file), "--repeats", "1",
              "--rounds", "1", "--warm-budget", "0", "--json"]
    assert main([*common, "--expect-exit", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["expect_exit"] == 20
    assert data["modes"][0]["exit"] == 20 and data["modes"][0]["failure"] is None
    assert main([*common, "--expect-exit", "256"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --expect-exit: 256 is not an exit status; give 0 to 255\n"


def _accuracy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accuracy", REPO / "benchmarks" /
                                                  "accuracy.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("accuracy", module)
    spec.loader.exec_module(module)
    return module


def test_the_accuracy_benchmark_reads_each_programs_expected_status() -> None:
    expected_exit = _accuracy().expected_exit
    assert expected_exit({"name": "sat", "expect": {"exit": 20}}) == 20
    assert expected_exit({"name": "plain", "expect": {"stdout_contains": "ok"}}) == 0
    assert expected_exit({"name": "none"}) == 0
    with pytest.raises(SystemExit, match=r"program 'sat': expect\.exit '20' is not"):
        expected_exit({"name": "sat", "expect": {"exit": "20"}})
