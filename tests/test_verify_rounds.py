"""verify's warm runs in rounds taken in turn across the modes, and how rounds merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wasm_advisor import Advisor, ProfileStore, Workload
from wasm_advisor.calibration import kernels
from wasm_advisor.cli import main
from wasm_advisor.runtimes.wasmtime_runtime import WasmtimeAdapter
from wasm_advisor.verification._measured import fill_measured as _fill
from wasm_advisor.verification._report import ModeVerification
from wasm_advisor.verification._rounds import _add_round
from wasm_advisor.verification.tasks import run_task

from .helpers.synthetic import synthetic_profile


def _kernel(tmp_path: Path) -> Path:
    path = tmp_path / "k.wasm"
    path.write_bytes(kernels.guest_kernel("mixed", kernels.KernelPlan(min_sample_ns=100_000,
                                                                      repeats=1)))
    return path


def test_rounds_alternate_across_the_modes_and_add_up(tmp_path: Path) -> None:
    profile = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:pulley": {}})
    advisor = Advisor(profile, store=ProfileStore(tmp_path / "cache"))
    seen: list[tuple[str, str]] = []
    report = advisor.verify(Workload.from_module(_kernel(tmp_path)), repeats=4,
                            warm_budget_s=0, rounds=2, timeout_s=30,
                            progress=lambda key, state: seen.append((key, state)))
    assert [(key, state.split(" · ")[0]) for key, state in seen] == [
        ("wasmtime:cranelift", "running (round 1 of 2)"),
        ("wasmtime:pulley", "running (round 1 of 2)"),
        # the second round in the reverse order: a drift in pace falls on both alike
        ("wasmtime:pulley", "running (round 2 of 2)"),
        ("wasmtime:cranelift", "running (round 2 of 2)"),
        ("wasmtime:cranelift", "done"),
        ("wasmtime:pulley", "done"),
    ]
    # which run of how many, and from the second on, about how long is left
    runs = [state.split(" · ")[1] for _, state in seen[:4]]
    assert runs[0] == "run 1 of 4"
    assert all(r.startswith(f"run {i + 1} of 4, ") and r.endswith(" s left")
               for i, r in enumerate(runs[1:], start=1))
    for mode in report.modes:
        assert mode.failure is None and not mode.notes
        assert mode.warm_runs == 4  # the 4 repeats shared out: 2 in each round
        assert mode.measured_ns["execute"] > 0
    assert list(report.to_frame()["warm_runs"]) == [4, 4]


def test_one_mode_is_verified_in_one_round(tmp_path: Path) -> None:
    profile = synthetic_profile({"wasmtime:cranelift": {}})
    advisor = Advisor(profile, store=ProfileStore(tmp_path / "cache"))
    seen: list[str] = []
    report = advisor.verify(Workload.from_module(_kernel(tmp_path)), repeats=3,
                            warm_budget_s=0, rounds=3, timeout_s=30,
                            progress=lambda key, state: seen.append(state))
    assert seen == ["running · run 1 of 1", "done"]  # nothing to interleave with
    assert report.modes[0].warm_runs == 3


def test_a_later_round_is_only_warm_runs(tmp_path: Path) -> None:
    adapter = WasmtimeAdapter()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift"]
    record = run_task(adapter, mode, {"kind": "verify-warm",
                                      "module_path": str(_kernel(tmp_path)),
                                      "repeats": 2, "budget_s": 0, "timeout_s": 30})
    assert record["ok"] and len(record["warm"]) == 2
    assert all(r["exit_code"] == 0 and "run" in r["phases_ns"] for r in record["warm"])
    assert "cold" not in record and "hollow" not in record  # the engine times execution


def _run(wall_ns: float, **extra: Any) -> dict[str, Any]:
    return {"exit_code": 0, "trap": None, "limit_hit": None, "wall_ns": wall_ns,
            "phases_ns": {}, "peak_rss_bytes": None, **extra}


def test_rounds_merge_into_the_medians_and_a_failed_round_is_left_out() -> None:
    record: dict[str, Any] = {
        "ok": True, "cold": _run(90e6), "warm": [_run(10e6), _run(12e6)],
        "hollow": [{"wall_ns": 4e6}, {"wall_ns": 4e6}], "empty": [{"wall_ns": 3e6}] * 3}
    # a slower spell in the second round: its runs and its hollow copy's count alike
    _add_round(record, {"ok": True, "warm": [_run(20e6), _run(22e6)],
                        "hollow": [{"wall_ns": 8e6}, {"wall_ns": 8e6}]})
    # a round that hit the time limit, and one whose hollow copy did not run: left out
    _add_round(record, {"ok": True, "warm": [_run(60e9, limit_hit="time", exit_code=134)]})
    _add_round(record, {"ok": True, "warm": [_run(11e6)], "hollow": "no _start export"})
    _add_round(record, {"ok": False, "reason": "the worker timed out"})
    v = ModeVerification("wasmer:cranelift", "wasmer-sdk")
    _fill(v, record)
    assert v.warm_runs == 4
    assert v.measured_ns["total"] == 16e6  # median of 10, 12, 20, 22 ms
    assert v.measured_ns["execute"] == 10e6  # 16 ms less the hollow copy's 6 ms
    notes = record["round_notes"]
    assert len(notes) == 3
    assert "left out: time" in notes[0] and "no _start export" in notes[1]
    assert "the worker timed out" in notes[2]


def test_the_cli_refuses_no_rounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(_kernel(tmp_path)), "--rounds", "0"]) == 2
    assert capsys.readouterr().err == "error: --rounds: give 1 or more\n"


def test_a_measured_phase_carries_the_spread_of_its_runs() -> None:
    import math

    from wasm_advisor.verification._measured import fill_measured as _fill
    from wasm_advisor.verification._report import ModeVerification

    runs = [100.0, 110.0, 90.0, 104.0]
    record = {"cold": {"exit_code": 0, "wall_ns": 500.0,
                       "phases_ns": {"compile": 50.0, "instantiate": 5.0, "run": 120.0}},
              "warm": [{"wall_ns": r + 20, "phases_ns": {"run": r, "instantiate": 4.0}}
                       for r in runs]}
    v = ModeVerification("wasmtime:cranelift", "wasmtime-py")
    _fill(v, record)
    assert v.measured_ns["execute"] == 102.0
    deviation = (2.0 + 8.0) / 2  # the median of |r - 102|: 2, 2, 8, 12
    assert v.measured_spread_ns["execute"] == 2 * 1.4826 * deviation / math.sqrt(len(runs))
    assert "total" in v.measured_spread_ns
    one = ModeVerification("wasmtime:cranelift", "wasmtime-py")
    _fill(one, {**record, "warm": record["warm"][:1]})
    assert "execute" not in one.measured_spread_ns  # one run: no spread to speak of
