"""inspect on generated and hostile modules; verify's limits on real Wasmtime workers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import wasmtime

from wasm_advisor import Advisor, ProfileStore, Workload, WorkloadError, read_module
from wasm_advisor.calibration import kernels
from wasm_advisor.cli import main

from .helpers.synthetic import synthetic_profile

LOOP = '(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))'
BOMB = ('(module (memory (export "memory") 1) (func (export "_start") (loop $l (br_if $l '
        '(i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable))')
TRAP = '(module (memory (export "memory") 1) (func (export "_start") unreachable))'


def module(tmp_path: Path, wat: str, name: str = "m.wasm") -> Path:
    path = tmp_path / name
    path.write_bytes(wasmtime.wat2wasm(wat))
    return path


def test_inspect_cli_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = module(tmp_path, '(module (import "env" "log" (func (param i32))) '
                            '(memory (export "memory") 2 8) (data (i32.const 0) "abcdef") '
                            '(func (export "_start")))')
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "env: 1" in out and "initial 128.0 KiB, maximum 512.0 KiB" in out
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["data_segments"] == 1 and data["maximum_memory_bytes"] == 8 * 65536
    assert data["imports"] == [{"module": "env", "name": "log", "kind": "func"}]


def test_inspect_refuses_hostile_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    deep = "(module (func " + "(block " * 5000 + ")" * 5000 + "))"
    cases = {"text.wasm": b"hello", "trunc.wasm": wasmtime.wat2wasm(LOOP)[:20],
             "huge.wasm": b"\0asm\x01\0\0\0\x0a\xff\xff\xff\xff\x0f\x01",
             "deep.wasm": bytes(wasmtime.wat2wasm(deep))[:-3]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert main(["inspect", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {tmp_path / name}: ") and err.count("\n") == 1


def test_a_multi_megabyte_module_is_read_in_well_under_a_second(tmp_path: Path) -> None:
    path = tmp_path / "big.wasm"
    path.write_bytes(kernels.code_size_module(4 << 20))
    start = time.perf_counter()
    info = read_module(path)
    assert time.perf_counter() - start < 1.0
    assert info.code_bytes > 4 << 20


def test_from_module_fills_the_workload(tmp_path: Path) -> None:
    path = module(tmp_path, '(module (memory (export "memory") 600) (data (i32.const 0) "xyz") '
                            '(func (export "_start") (drop (v128.const i32x4 1 2 3 4))))')
    w = Workload.from_module(path, preset="plugin-host", request_rate_per_s=5)
    assert w.module.module_bytes == path.stat().st_size
    assert "simd" in w.module.required_features
    assert w.memory.linear_memory_bytes == 600 * 65536  # larger than the preset's 8 MiB
    assert w.module.data_bytes and w.instances.lifetime == "plugin"
    assert w.instances.request_rate_per_s == 5
    with pytest.raises(WorkloadError, match=r"module\.path"):
        Workload.from_module(tmp_path / "missing.wasm")


def test_from_module_reads_the_largest_function_and_refuses_a_contradiction(
        tmp_path: Path) -> None:
    path = module(tmp_path, '(module (func (export "_start") (drop (i32.const 5))) (func))')
    info = read_module(path)
    assert Workload.from_module(path).module.largest_function_bytes == \
        info.largest_function_bytes > 0
    with pytest.raises(WorkloadError, match=r"module\.largest_function_bytes: says 999"):
        Workload.from_module(path, largest_function_bytes=999)
    with pytest.raises(WorkloadError, match=r"module\.largest_function_bytes: 60000 bytes is "
                                            r"more than all the module's code"):
        Workload.preset("plugin-host", module_bytes=100_000, code_bytes=50_000,
                        largest_function_bytes=60_000)


@pytest.fixture
def advisor(tmp_path: Path) -> Advisor:
    profile = synthetic_profile({"wasmtime:cranelift": {"mixed_ns_per_iter": 1.0}})
    return Advisor(profile, store=ProfileStore(tmp_path / "cache"))


@pytest.mark.parametrize(("wat", "limit", "fragment"), [
    (LOOP, "time", "time limit of 1 s hit"),
    (BOMB, "memory", "memory limit of 64 MiB hit"),
    (TRAP, None, "wasm `unreachable` instruction executed"),
])
def test_verify_ends_every_bad_module_as_a_reported_failure(
        advisor: Advisor, tmp_path: Path, wat: str, limit: str | None, fragment: str) -> None:
    workload = Workload.from_module(module(tmp_path, wat))
    start = time.monotonic()
    report = advisor.verify(workload, timeout_s=1, memory_limit_bytes=64 << 20, repeats=1)
    assert time.monotonic() - start < 30  # never a hang
    (mode,) = report.modes
    assert mode.failure is not None and fragment in mode.failure
    assert mode.limit_hit == limit
    if limit == "memory":  # the instruction-counting run is held to the same limit
        assert fragment in report.skipped["instruction count"]


def test_verify_measures_and_compares_a_good_module(advisor: Advisor, tmp_path: Path) -> None:
    path = tmp_path / "k.wasm"
    path.write_bytes(kernels.guest_kernel("mixed", kernels.KernelPlan(min_sample_ns=100_000,
                                                                      repeats=1)))
    report = advisor.verify(Workload.from_module(path), repeats=2, timeout_s=30)
    (mode,) = report.modes
    assert mode.failure is None and report.instructions and report.instructions > 1000
    assert {"compile", "load", "instantiate", "execute", "total"} <= set(mode.measured_ns)
    assert all(mode.ratio(p) is not None for p in ("compile", "execute", "total"))
    text = report.explain()
    assert "instructions per run (Wasmtime fuel)" in text and "wasmtime:cranelift" in text
    assert list(report.to_frame()["mode"]) == ["wasmtime:cranelift"]


def test_verify_cli_passes_arguments_after_the_double_dash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = synthetic_profile({"wasmtime:cranelift": {}})
    profile_file = profile.save(tmp_path / "p.json")
    echo = module(tmp_path, """(module
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (drop (call $sizes (i32.const 0) (i32.const 4)))
        (call $exit (i32.sub (i32.load (i32.const 0)) (i32.const 3)))))""")
    # argc is 3 (program name + two arguments): the module exits 0 only then
    status = main(["verify", str(echo), "--profile", str(profile_file), "--repeats", "1",
                   "--runtime", "wasmtime:cranelift", "--json", "--", "one", "two"])
    assert status == 0
    data = json.loads(capsys.readouterr().out)
    assert data["modes"][0]["exit"] == 0 and data["modes"][0]["failure"] is None


def test_verify_separates_execution_where_the_binding_reports_no_phases(
        tmp_path: Path) -> None:
    # wasmer-sdk reports no phases: execution is a warm run minus one of the hollow copy
    profile = synthetic_profile({"wasmer:cranelift": {}})
    advisor = Advisor(profile, store=ProfileStore(tmp_path / "cache"))
    path = tmp_path / "k.wasm"
    path.write_bytes(kernels.guest_kernel("mixed", kernels.KernelPlan(min_sample_ns=2_000_000,
                                                                      repeats=2)))
    report = advisor.verify(Workload.from_module(path), repeats=2, timeout_s=60)
    (mode,) = report.modes
    assert mode.failure is None, mode.failure
    # the kernel times itself for at least 2 rounds x (1+2+4) samples x 2 ms = 28 ms
    assert 20e6 < mode.measured_ns["execute"] < mode.measured_ns["total"]
    assert not mode.notes


def _phases_run(compile_ns: float | None = None, wall_ns: float = 1e6,
                run_ns: float | None = None) -> dict[str, object]:
    phases = {k: v for k, v in (("compile", compile_ns), ("run", run_ns)) if v is not None}
    return {"exit_code": 0, "trap": None, "limit_hit": None, "wall_ns": wall_ns,
            "phases_ns": phases, "peak_rss_bytes": None}


def test_compile_is_the_median_of_the_cold_run_and_the_hollow_copys_cold_runs() -> None:
    from wasm_advisor.verification._measured import fill_measured as _fill
    from wasm_advisor.verification._report import ModeVerification

    # wasmtime-py: the cold run, with epoch interruption, took 100 ms to compile; the
    # copy compiled alone with the default engine 50, 52 and 60
    v = ModeVerification("wasmtime:cranelift", "wasmtime-py")
    _fill(v, {"cold": _phases_run(100e6, run_ns=5e6),
              "warm": [_phases_run(run_ns=5e6)] * 3,
              "cold_hollow": [_phases_run(50e6), _phases_run(52e6), _phases_run(60e6)]})
    assert v.measured_ns["compile"] == 52e6
    # saved before the copy compiled alone (its runs ran it): the median of all three
    v = ModeVerification("wasmtime:cranelift", "wasmtime-py")
    _fill(v, {"cold": _phases_run(100e6, run_ns=5e6),
              "warm": [_phases_run(run_ns=5e6)] * 3,
              "cold_hollow": [_phases_run(50e6, run_ns=1e3), _phases_run(52e6, run_ns=1e3)]})
    assert v.measured_ns["compile"] == 52e6
    # wasmer-sdk: a cold run less a warm one, for the module and for its copy
    v = ModeVerification("wasmer:cranelift", "wasmer-sdk")
    _fill(v, {"cold": _phases_run(wall_ns=90e6), "warm": [_phases_run(wall_ns=10e6)] * 3,
              "hollow": [{"wall_ns": 4e6}] * 3, "empty": [{"wall_ns": 3e6}] * 3,
              "cold_hollow": [_phases_run(wall_ns=44e6), _phases_run(wall_ns=46e6)]})
    assert v.measured_ns["compile"] == 42e6  # median of 80, 40 and 42 ms


def test_verify_compiles_the_hollow_copy_again_without_running_the_program(
        tmp_path: Path) -> None:
    from wasm_advisor.runtimes.wasmtime_runtime import WasmtimeAdapter
    from wasm_advisor.verification.tasks import COMPILE_REPEATS, run_task

    path = tmp_path / "k.wasm"
    path.write_bytes(kernels.guest_kernel("mixed", kernels.KernelPlan(min_sample_ns=2_000_000,
                                                                      repeats=2)))
    adapter = WasmtimeAdapter()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift"]
    record = run_task(adapter, mode, {"kind": "verify", "module_path": str(path),
                                      "repeats": 2, "timeout_s": 30})
    again = record["cold_hollow"]
    assert len(again) == COMPILE_REPEATS
    for run in again:
        # compiled alone: nothing of it ran (the kernel runs for over 20 ms)
        assert run["phases_ns"]["compile"] > 0 and "run" not in run["phases_ns"]
    assert record["cold"]["phases_ns"]["run"] > 20e6


class _PacedAdapter:
    """Runs that take ``seconds`` each and are logged in order: ``warm`` or ``hollow``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.log: list[str] = []

    def run(self, mode: object, request: object) -> object:
        from wasm_advisor.runtimes.base import RunResult

        time.sleep(self.seconds)
        self.log.append("hollow" if getattr(request, "module", b"") == b"hollow" else "warm")
        return RunResult(exit_code=0, stdout="", stderr="", host_start_realtime_ns=0,
                         wall_ns=int(self.seconds * 1e9))


def test_short_runs_repeat_up_to_the_cap_within_the_budget_and_pair_with_the_hollow_copy(
        ) -> None:
    from wasm_advisor.runtimes.base import RunRequest
    from wasm_advisor.verification.tasks import MAX_WARM_RUNS, _warm_runs

    quick = _PacedAdapter(0.001)
    warm, hollow = _warm_runs(quick, None, RunRequest(module=b"real"),  # type: ignore[arg-type]
                              RunRequest(module=b"hollow"), repeats=3, budget_s=2.0)
    assert len(warm) == len(hollow) == MAX_WARM_RUNS
    # one warm-up of the copy, then each warm run with its copy's run right after it
    assert quick.log == ["hollow"] + ["warm", "hollow"] * MAX_WARM_RUNS
    # slow runs: the minimum, and no more than fits in the budget
    slow = _PacedAdapter(0.05)
    warm, hollow = _warm_runs(slow, None, RunRequest(module=b"real"),  # type: ignore[arg-type]
                              None, repeats=3, budget_s=0.3)
    assert len(warm) in (5, 6) and hollow == []
    warm, _ = _warm_runs(slow, None, RunRequest(module=b"real"),  # type: ignore[arg-type]
                         None, repeats=4, budget_s=0.0)
    assert len(warm) == 4


def test_a_miss_names_the_block_end_scans_when_they_are_much_of_the_prediction() -> None:
    from wasm_advisor.verification._report import ModeVerification
    from wasm_advisor.verification._verify import _diagnose

    v = ModeVerification("wamr:classic-interp", "iwasm CLI",
                         measured_ns={"execute": 3e9}, predicted_ns={"execute": 1e9})
    (said,) = _diagnose(v, "mixed", {"touched": 1, "host_calls": 1}, scan_ns=0.7e9)
    assert said.startswith("execution 3.0× slower than predicted")
    assert "70% of the prediction is this engine's scans for block ends" in said
    (said,) = _diagnose(v, "mixed", {"touched": 1, "host_calls": 1}, scan_ns=0.1e9)
    assert "block ends" not in said


def test_iwasm_compile_is_the_median_of_paired_starts_and_one_slow_start_does_not_hide_it(
        ) -> None:
    from wasm_advisor.verification._measured import fill_measured as _fill
    from wasm_advisor.verification._report import ModeVerification

    # hollow copy 0.3 ms slower to start than the empty module, pair by pair; one empty
    # start took 5 ms longer (a busy moment): its pair is off, the median is not
    pairs = [{"wall_ns": 6.0e6 + d, "hollow_ns": 6.3e6 + d + e}
             for d, e in ((0, 0), (5e6, -5e6), (0.1e6, 0.02e6), (0, -0.01e6), (0.05e6, 0))]
    v = ModeVerification("wamr:fast-interp", "iwasm CLI")
    _fill(v, {"cold": _phases_run(wall_ns=50e6), "warm": [_phases_run(wall_ns=50e6)] * 3,
              "hollow": [{"wall_ns": 6.8e6}] * 3, "empty": pairs})
    assert v.measured_ns["compile"] == pytest.approx(0.3e6)
    assert v.measured_ns["execute"] == pytest.approx(50e6 - 6.8e6)
    # no difference to speak of: said so, not reported
    v = ModeVerification("wamr:fast-interp", "iwasm CLI")
    _fill(v, {"cold": _phases_run(wall_ns=50e6), "warm": [_phases_run(wall_ns=50e6)] * 3,
              "hollow": [{"wall_ns": 6.0e6}] * 3,
              "empty": [{"wall_ns": 6e6, "hollow_ns": 6e6 + d} for d in (-2e5, 1e5, 0, 2e5, -1e5)]})
    assert "compile" not in v.measured_ns
    assert any(n.startswith("compile not separated") for n in v.notes)


def test_start_pairs_alternate_which_runs_first() -> None:
    from wasm_advisor.runtimes.base import RunRequest
    from wasm_advisor.verification.tasks import START_PAIRS, _start_pairs

    paced = _PacedAdapter(0.0)
    pairs = _start_pairs(paced, None, RunRequest(module=b"empty"),  # type: ignore[arg-type]
                         RunRequest(module=b"hollow"))
    assert len(pairs) == START_PAIRS and all("hollow_ns" in p for p in pairs)
    assert paced.log[:4] == ["warm", "hollow", "hollow", "warm"]  # the empty one logs as warm


def test_the_counted_mix_decides_the_compute_kind_and_the_simd_share() -> None:
    from wasm_advisor.model._costs import WorkloadFeatures
    from wasm_advisor.verification._verify import compute_kind_of, with_counted

    classes = ("local", "int", "float", "call", "call_indirect", "simd")

    def mix(**counts: int) -> dict[str, int]:
        return {c: counts.get(c, 0) for c in classes}

    assert compute_kind_of(mix(local=80, int=10, float=10)) == "float"
    assert compute_kind_of(mix(local=80, int=12, call=4, call_indirect=4)) == "mixed"
    assert compute_kind_of(mix(local=80, call=6, call_indirect=6)) == "call-heavy"
    assert compute_kind_of({"simd": 5}) is None  # an older saved count: the simd share only
    # a float preset on a module that runs no floating-point instruction: mixed compute
    declared = WorkloadFeatures.from_workload(Workload.preset("compute-long-running"))
    assert declared.compute_kind == "float"
    counted = with_counted(declared, {"block_scan_ops": 7, "mix": mix(local=60, int=30,
                                                                       simd=10)})
    assert counted.compute_kind == "mixed"
    assert counted.simd_instructions_per_request == 10
    assert counted.block_scan_ops_per_request == 7
    assert with_counted(declared, {}) == declared
