"""The full calibration's guest-timed kernels in passes across the modes."""

from __future__ import annotations

import importlib
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from wasm_advisor import CalibrationProgress, calibrate
from wasm_advisor.calibration import _budgets as budgets
from wasm_advisor.calibration._budgets import BUDGETS, merge_guest, split_passes, tasks_for

calibrate_module = importlib.import_module("wasm_advisor.calibration._calibrate")


def _tasks(passes: int = 2) -> list[dict[str, object]]:
    budget = replace(BUDGETS["full"], passes=passes)
    return tasks_for(budget, precompiled=True, ahead_of_time=False, slow_compile=False,
                     working_set_bytes=64 << 20)


def test_later_passes_hold_the_guest_kernels_with_the_samples_shared_out() -> None:
    tasks = _tasks()
    first, second = split_passes(tasks, 2)
    assert [t["id"] for t in first] == [t["id"] for t in tasks]  # everything once
    guest = [t for t in tasks if t["kind"] == "guest"]
    assert [t["id"] for t in second] == [t["id"] for t in guest]
    by_id = {t["id"]: t for t in first}
    for t in second:  # 7 samples per size: 4 in the first pass, 3 in the second
        assert (by_id[t["id"]]["plan"]["repeats"], t["plan"]["repeats"]) == (4, 3)  # type: ignore[index]
    assert split_passes(tasks, 1) == [tasks]
    # never more passes than a kernel has samples per size
    assert len(split_passes(tasks, 50)) == 7


def test_a_later_pass_adds_samples_or_instances() -> None:
    one = {"ok": True, "samples": [[1, 10], [2, 20]], "instances": [[[1, 10], [2, 20]]],
           "ttfi_ns": 5}
    merged = merge_guest(one, {"ok": True, "samples": [[1, 12]], "instances": [[[1, 12]]],
                               "ttfi_ns": 9})
    assert merged["instances"] == [[[1, 10], [2, 20], [1, 12]]]
    assert merged["samples"] == merged["instances"][0] and merged["ttfi_ns"] == 5
    # a memory kernel keeps its instances apart: where its pages land moves its slope
    three = {"ok": True, "samples": [[1, 1]], "instances": [[[1, 1]], [[1, 2]], [[1, 3]]]}
    merged = merge_guest(three, {"ok": True, "samples": [[1, 4]],
                                 "instances": [[[1, 4]], [[1, 5]], [[1, 6]]]})
    assert len(merged["instances"]) == 6


@pytest.mark.slow
def test_passes_run_across_the_modes_in_reversed_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quick = BUDGETS["quick"]
    monkeypatch.setitem(budgets.BUDGETS, "quick", replace(
        quick, passes=2, kernels=("int", "mem_seq"), probes=(), data_sizes=quick.data_sizes[:2],
        pages=quick.pages[:2]))
    # the order of the passes alone: no re-measurement after them, whatever the machine
    monkeypatch.setattr(calibrate_module, "RETRY_ROUNDS", 0)
    events: list[CalibrationProgress] = []
    profile = calibrate("quick", runtimes=["wasmtime"], modes=["cranelift", "pulley"],
                        progress=events.append, save=False)
    assert events[-1].mode == "verdict"  # the calibration ends with its verdict
    order = [(e.mode, e.task.endswith("(pass 2)")) for e in events[:-1]]
    runs = [order[0]] + [b for a, b in pairwise(order) if a != b]
    # the machine's pace is read before the first pass, between the passes and after the last
    assert runs == [("pace", False), ("cranelift", False), ("pulley", False), ("pace", False),
                    ("pulley", True), ("cranelift", True), ("pace", False)]
    last = {e.mode: e for e in events}
    assert all(e.done == e.total for e in last.values())
    # the whole calibration: one step more each event, planned from the start, and an
    # estimate of what is left that shrinks to nothing at the last step
    assert [e.overall_done for e in events] == list(range(1, len(events) + 1))
    assert {e.overall_total for e in events} == {len(events)}
    assert all(a.elapsed_s <= b.elapsed_s for a, b in pairwise(events))
    assert events[-1].remaining_s == 0.0 and "steps" in events[-2].line()
    assert profile.failures == []
    for mode in ("cranelift", "pulley"):
        figure = profile.figure("wasmtime", mode, "int_ns_per_iter")
        # 3 sizes x (2 + 1) samples: both passes' samples in one fit
        assert figure is not None and figure.runs == 9


@pytest.mark.slow
def test_a_quick_calibration_measures_the_same_code_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor.model.estimator import fit_profile
    from wasm_advisor.profiles import SHARED_FROM

    quick = BUDGETS["quick"]
    assert quick.share_same_code and not BUDGETS["full"].share_same_code
    monkeypatch.setitem(budgets.BUDGETS, "quick", replace(
        quick, kernels=("int",), mix_plan=None, probes=(), data_sizes=quick.data_sizes[:2],
        pages=quick.pages[:2]))
    monkeypatch.setattr(calibrate_module, "RETRY_ROUNDS", 0)
    events: list[CalibrationProgress] = []
    profile = calibrate("quick", runtimes=["wasmtime"], modes=["cranelift", "cranelift-pooling"],
                        progress=events.append, save=False)
    pooled_tasks = {e.task for e in events if e.mode == "cranelift-pooling"}
    # the pooling allocator runs Cranelift's code: its code is not measured again ...
    assert not {t for t in pooled_tasks if t.startswith(budgets.SAME_CODE_TASKS)}
    # ... while what the allocator changes is
    assert {"host:empty:0", "memory"} <= pooled_tasks
    own = profile.figure("wasmtime", "cranelift", "int_ns_per_iter")
    copy = profile.figure("wasmtime", "cranelift-pooling", "int_ns_per_iter")
    assert own is not None and copy is not None and copy.samples == own.samples
    assert copy.params[SHARED_FROM] == "wasmtime:cranelift" and "measured on" in copy.note
    instantiate = profile.figure("wasmtime", "cranelift-pooling", "instantiate_ns")
    assert instantiate is not None and SHARED_FROM not in instantiate.params
    # fitted once: the copies are not counted beside the samples they copy
    fitted = {m.key: m for m in fit_profile(profile)}
    plain = fitted["wasmtime:cranelift"].get("int_ns_per_iter")
    pooled = fitted["wasmtime:cranelift-pooling"].get("int_ns_per_iter")
    assert plain is not None and plain == pooled and plain.runs == len(own.samples)
