"""One number per calibration task, to tell whether two measurements of it agree."""

from __future__ import annotations

import pytest

from wasm_advisor.calibration._task_value import task_value


def test_a_guest_kernel_is_its_median_ns_per_iteration() -> None:
    assert task_value({"samples": [(100, 1000), (200, 3000), (400, 4000)]}) == 10.0


def test_a_kernel_in_several_instances_is_the_median_of_theirs() -> None:
    result = {"samples": [(10, 10)], "instances": [[(10, 10)], [(10, 30)], [(10, 500)]]}
    assert task_value(result) == 3.0  # not the first instance's alone, nor the mean


def test_the_mix_family_is_the_geometric_mean_of_its_kernels() -> None:
    result = {"kernels": {"a": [(10, 10)], "b": [(10, 40)]}}
    assert task_value(result) == pytest.approx(2.0)


def test_a_host_timed_module_is_its_median_compile_else_load_else_instantiation() -> None:
    runs = [{"phases_ns": {"compile": c, "instantiate": 5}} for c in (30, 10, 20)]
    assert task_value({"runs": runs}) == 20
    runs = [{"phases_ns": {"load": 7, "instantiate": 5}}, {"phases_ns": {"instantiate": 5}}]
    assert task_value({"runs": runs}) == 5  # load is not in every run


def test_a_task_that_times_nothing_has_no_value() -> None:
    assert task_value({"ok": True, "status": "supported"}) is None
    assert task_value({"samples": []}) is None
