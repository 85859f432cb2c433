"""Memory per live instance in one process: the growth after the allocators' slack is used."""

from __future__ import annotations

import pytest

from wasm_advisor.calibration import kernels
from wasm_advisor.calibration._budgets import BUDGETS, tasks_for
from wasm_advisor.calibration.tasks import run_task
from wasm_advisor.runtimes.resident_growth import growth_record
from wasm_advisor.runtimes.wasmtime_runtime import POOL_SLOTS, WasmtimeAdapter

KIB = 1024


def test_per_instance_figure_is_the_growth_after_the_slack_is_used() -> None:
    baseline = 50_000 * KIB
    # the first 4 instances land in memory already resident, the last 4 grow by 16 KiB each
    resident = [baseline + 900 * KIB + i * KIB for i in range(4)]
    resident += [resident[-1] + (i + 1) * 16 * KIB for i in range(4)]
    record = growth_record(resident, baseline, "test")
    assert record["first_instance_bytes"] == 900 * KIB
    assert record["per_extra_instance_bytes"] == 16 * KIB
    assert record["instances"] == 8
    assert "growth over the last 4 of 8 live instances" in record["method"]


def test_one_instance_gives_no_growth_to_read() -> None:
    with pytest.raises(ValueError, match="instances: need at least 2"):
        growth_record([1000], 0, "test")


def test_memory_is_asked_for_many_live_instances() -> None:
    tasks = tasks_for(BUDGETS["quick"], precompiled=True, ahead_of_time=False,
                      slow_compile=False, working_set_bytes=1 << 20)
    (memory,) = [t for t in tasks if t["kind"] == "memory"]
    assert memory["instances"] == BUDGETS["quick"].memory_instances > POOL_SLOTS


@pytest.mark.slow
def test_wasmtime_memory_figure_is_the_same_after_the_worker_has_worked() -> None:
    adapter = WasmtimeAdapter()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift"]
    memory = {"id": "memory", "kind": "memory", "pages": 16, "data_bytes": 64 * KIB,
              "instances": 512}
    before = run_task(adapter, mode, memory)
    # what a worker's kernels leave: memory freed after compiling and instantiating, which
    # the first instances measured in this process would reuse without growing its resident set
    adapter.instance_memory(mode, kernels.instantiate_module(16, 64 * KIB), 512)
    after = run_task(adapter, mode, memory)
    for record in (before, after):
        # a Store, its WASI context and an instance: kilobytes, never nothing or negative
        assert 8 * KIB < record["per_extra_instance_bytes"] < 256 * KIB
    assert after["per_extra_instance_bytes"] == pytest.approx(
        before["per_extra_instance_bytes"], rel=0.25)


def test_pooling_reads_no_more_instances_than_its_pool_holds() -> None:
    adapter = WasmtimeAdapter()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift-pooling"]
    record = adapter.instance_memory(mode, kernels.instantiate_module(1, 0), POOL_SLOTS + 10)
    assert record["instances"] == POOL_SLOTS


def test_the_empty_module_is_timed_many_times_after_warm_ups() -> None:
    from wasm_advisor.calibration._budgets import EMPTY_WARMUPS

    class Counting(WasmtimeAdapter):
        calls = 0

        def run(self, mode, request):  # type: ignore[no-untyped-def]
            Counting.calls += 1
            return super().run(mode, request)

    for budget in BUDGETS.values():
        tasks = tasks_for(budget, precompiled=True, ahead_of_time=False, slow_compile=False,
                          working_set_bytes=1 << 20)
        (empty,) = [t for t in tasks if t["id"] == "host:empty:0"]
        assert empty["repeats"] == budget.empty_repeats > budget.host_repeats
    adapter = Counting()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift"]
    record = run_task(adapter, mode, {**empty, "repeats": 3})
    assert len(record["runs"]) == 3 and Counting.calls == 3 + EMPTY_WARMUPS


def test_a_runtime_that_starts_a_process_per_run_gets_no_warm_ups() -> None:
    # each iwasm run is a process of its own: a warm-up leaves nothing for the next run
    class ProcessPerRun(WasmtimeAdapter):
        calls = 0

        def samples_peak_memory(self, mode):  # type: ignore[no-untyped-def]
            return True

        def run(self, mode, request):  # type: ignore[no-untyped-def]
            ProcessPerRun.calls += 1
            return super().run(mode, request)

    adapter = ProcessPerRun()
    (mode,) = [m for m in adapter.modes() if m.name == "cranelift"]
    record = run_task(adapter, mode, {"id": "host:empty:0", "kind": "host", "family": "empty",
                                      "size": 0, "repeats": 3, "warmups": 8})
    assert len(record["runs"]) == 3 and ProcessPerRun.calls == 3
