"""verify's warm runs are timed without the engine's interruption checks; the cold run,
and every run of a module not yet known to end, keeps them."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from wasm_advisor.runtimes.base import Mode, RunRequest, RunResult, RuntimeAdapter
from wasm_advisor.runtimes.wasmtime_runtime import WasmtimeAdapter
from wasm_advisor.verification.tasks import run_task

# a bounded loop of 400 M iterations: far longer than 50 ms on any machine
BOUNDED = """(module (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (loop $l (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                               (i32.const 400000000))))))"""


def test_the_engine_stops_a_run_only_where_asked() -> None:
    adapter = WasmtimeAdapter()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift"]
    module = wasmtime.wat2wasm(BOUNDED)
    stopped = adapter.run(mode, RunRequest(module, timeout_s=0.05, enforce_limits=True))
    assert stopped.limit_hit == "time"
    ran = adapter.run(mode, RunRequest(module, timeout_s=0.05, enforce_limits=True,
                                       engine_interrupts=False))
    assert ran.exit_code == 0 and ran.limit_hit is None and ran.trap is None


class _Recording(RuntimeAdapter):
    name = "recording"

    def __init__(self) -> None:
        self.requests: list[RunRequest] = []

    def availability(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def modes(self) -> list[Mode]:
        return []

    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        self.requests.append(request)
        return RunResult(0, "", "", 0, 1000, phases_ns={"run": 500, "compile": 100})


def test_verify_interrupts_the_cold_run_and_times_the_warm_runs_plainly(tmp_path: Path) -> None:
    path = tmp_path / "m.wasm"
    path.write_bytes(wasmtime.wat2wasm(BOUNDED))
    adapter = _Recording()
    mode = Mode("recording", "plain", "test", "Test")
    record = run_task(adapter, mode, {"kind": "verify", "module_path": str(path),
                                      "repeats": 2, "budget_s": 0, "timeout_s": 5})
    assert record["ok"] and len(record["warm"]) == 2
    cold, *rest = adapter.requests
    assert cold.enforce_limits and cold.engine_interrupts and not cold.precompiled
    warm = [r for r in rest if r.precompiled]
    assert len(warm) == 3  # the warm-up and two timed runs
    assert all(r.enforce_limits and not r.engine_interrupts for r in warm)
    # the hollow copy's cold compiles (nothing of them runs the program) keep the limits
    assert all(r.engine_interrupts for r in rest if not r.precompiled)
