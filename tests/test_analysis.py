"""Worker results into figures: a kernel measured in several instances keeps the median one."""

from __future__ import annotations

import pytest

from wasm_advisor.calibration._analysis import analyse_mode
from wasm_advisor.calibration._budgets import BUDGETS, Budget, tasks_for
from wasm_advisor.calibration.kernels import GUEST_KERNELS
from wasm_advisor.runtimes.base import Mode

MODE = Mode("wamr", "aot", "iwasm CLI", "WAMR · AOT", precompiled=True)


def _run(ns_per_iter: float) -> list[tuple[int, int]]:
    return [(n, int(1000 + ns_per_iter * n)) for n in (1 << 18, 1 << 19, 1 << 20) * 3]


def test_the_instance_with_the_median_slope_is_kept_and_every_slope_listed() -> None:
    # the second instance's pages made random access twice as fast: an outlier
    record = {"ok": True, "samples": _run(5.2), "instances": [_run(5.2), _run(2.6), _run(5.6)]}
    figures, _, failed = analyse_mode(MODE, {"guest:mem_rand": record}, {})
    assert not failed
    (figure,) = [f for f in figures if f.metric == "mem_rand_ns_per_iter"]
    assert abs(figure.value - 5.2) < 1e-3
    assert figure.params["instances"] == 3
    assert figure.params["instance_slopes"] == "2.6, 5.2, 5.6"
    assert [y for _, y in figure.samples] == [y for _, y in _run(5.2)]


def test_a_result_from_one_instance_is_read_as_before() -> None:
    figures, _, _ = analyse_mode(MODE, {"guest:mem_rand": {"ok": True,
                                                           "samples": _run(4.0)}}, {})
    (figure,) = [f for f in figures if f.metric == "mem_rand_ns_per_iter"]
    assert abs(figure.value - 4.0) < 1e-3 and "instances" not in figure.params


def test_memory_kernels_run_in_several_instances_and_the_others_in_one() -> None:
    for budget in BUDGETS.values():
        tasks = tasks_for(budget, precompiled=False, ahead_of_time=False, slow_compile=False,
                          working_set_bytes=64 << 20)
        instances = {t["kernel"]: t["instances"] for t in tasks if t["kind"] == "guest"}
        assert instances == {k: budget.memory_kernel_instances if kernel.needs_working_set
                             else 1 for k, kernel in GUEST_KERNELS.items()}
        assert budget.memory_kernel_instances >= 3


def test_interpreters_behind_a_process_start_get_the_large_code_family() -> None:
    def code_sizes(budget: Budget, **kind: bool) -> list[int]:
        tasks = tasks_for(budget, precompiled=False, ahead_of_time=False,
                          working_set_bytes=64 << 20, **kind)
        return [t["size"] for t in tasks if t.get("family") == "code"]

    for budget in BUDGETS.values():
        assert code_sizes(budget, slow_compile=False, fast_load=True) == \
            list(budget.large_code_sizes)
        assert code_sizes(budget, slow_compile=False) == list(budget.code_sizes)
        assert code_sizes(budget, slow_compile=True) == list(budget.slow_code_sizes)
        # the per-byte slope spans at least 600 KiB, three times the usual family's
        assert max(budget.large_code_sizes) - min(budget.large_code_sizes) >= 600 << 10


def test_a_kernel_needing_a_feature_the_mode_lacks_is_not_a_failure() -> None:
    load_error = {"guest:simd": "exit 255: WASM module load failed: v128 value type requires "
                                "simd feature"}
    unsupported = {"ok": True, "status": "unsupported", "detail": "exit 255: no SIMD"}
    _, features, failed = analyse_mode(MODE, {"probe:simd": unsupported}, dict(load_error))
    assert failed == [] and [f.status for f in features] == ["unsupported"]
    # the mode runs SIMD, yet the kernel failed: that is a failure
    supported = {"ok": True, "status": "supported", "detail": ""}
    _, _, failed = analyse_mode(MODE, {"probe:simd": supported}, dict(load_error))
    assert [f.task for f in failed] == ["guest:simd"]


def test_a_lazy_jit_gets_a_code_family_whose_every_function_runs() -> None:
    from wasm_advisor.calibration._analysis import _code_bytes, _run_code_bytes

    budget = BUDGETS["quick"]
    tasks = tasks_for(budget, precompiled=False, ahead_of_time=False, slow_compile=True,
                      working_set_bytes=64 << 20, lazy_compile=True)
    run = [t["size"] for t in tasks if t.get("family") == "code-run"]
    assert run == [t["size"] for t in tasks if t.get("family") == "code"]
    assert not [t for t in tasks_for(budget, precompiled=False, ahead_of_time=False,
                                     slow_compile=True, working_set_bytes=64 << 20)
                if t.get("family") == "code-run"]
    # the whole run through iwasm: 100 ns per byte when loaded, 400 when it all runs
    jit = Mode("wamr", "llvm-jit", "iwasm CLI", "WAMR · LLVM JIT", jit=True,
               slow_compile=True, lazy_compile=True)

    def family(name: str, per_byte: float, size_of: object) -> dict[str, object]:
        return {f"host:{name}:{s}": {"ok": True, "runs": [
            {"wall_ns": 5e6 + per_byte * size_of(s), "phases_ns": {}, "ttfi_ns": 1e6}  # type: ignore[operator]
            for _ in range(3)]} for s in run}

    results = {**family("code", 100.0, _code_bytes), **family("code-run", 400.0, _run_code_bytes)}
    figures, _, failed = analyse_mode(jit, results, {})
    assert failed == []
    slopes = {f.metric: f for f in figures}
    assert slopes["compile_ns_per_code_byte"].value == pytest.approx(100.0)
    assert slopes["run_compile_ns_per_code_byte"].value == pytest.approx(400.0)
    assert slopes["run_compile_ns_per_code_byte"].params["source"] == "wall"


def test_each_function_a_table_reaches_is_told_apart_from_the_code() -> None:
    from wasm_advisor.calibration._analysis import _code_bytes, _escaping_functions

    budget = BUDGETS["quick"]
    tasks = tasks_for(budget, precompiled=False, ahead_of_time=False, slow_compile=False,
                      working_set_bytes=64 << 20)
    sizes = [t["size"] for t in tasks if t.get("family") == "code"]
    assert [t["size"] for t in tasks if t.get("family") == "code-local"] == sizes
    assert not [t for t in tasks_for(budget, precompiled=False, ahead_of_time=True,
                                     slow_compile=False, working_set_bytes=64 << 20)
                if t.get("family") == "code-local"]
    cranelift = Mode("wasmtime", "winch", "wasmtime-py", "Wasmtime · Winch", jit=True)

    # 40 ns a byte of code, and 60 us for each function a table or an export reaches
    def family(name: str, tabled: bool) -> dict[str, object]:
        return {f"host:{name}:{s}": {"ok": True, "runs": [
            {"phases_ns": {"compile": 5e5 + 40.0 * _code_bytes(s)
                           + 6e4 * _escaping_functions(s, tabled)}, "ttfi_ns": 1e6}
            for _ in range(3)]} for s in sizes}

    figures, _, failed = analyse_mode(cranelift, {**family("code", True),
                                                  **family("code-local", False)}, {})
    assert failed == []
    slopes = {f.metric: f for f in figures}
    assert slopes["compile_local_ns_per_code_byte"].value == pytest.approx(40.0)
    assert slopes["compile_ns_per_escaping_function"].value == pytest.approx(6e4)
    assert slopes["compile_ns_per_escaping_function"].params["source"] == "compile"
    # the tabled family's per-byte slope holds both, at that family's density
    assert slopes["compile_ns_per_code_byte"].value > 100.0


def test_the_code_familys_steady_instances_are_a_figure_of_their_own() -> None:
    from wasm_advisor.calibration._analysis import _code_bytes

    sizes = list(BUDGETS["quick"].code_sizes)
    mode = Mode("wasmtime", "cranelift", "wasmtime-py", "Wasmtime · Cranelift", jit=True)

    def runs(steady: float) -> list[dict[str, object]]:
        return [{"phases_ns": {"compile": 1e6, "instantiate": steady + 5e4,
                               "instantiate_again": steady}, "ttfi_ns": 2e6}] * 3

    results: dict[str, object] = {f"host:code:{s}": {"ok": True, "runs": runs(
        11_000.0 + 0.0 * _code_bytes(s))} for s in sizes}
    results |= {f"host:pages:{p}": {"ok": True, "runs": runs(7_000.0)} for p in (1, 16)}
    results["host:empty:0"] = {"ok": True, "runs": runs(7_000.0)}
    figures, _, failed = analyse_mode(mode, results, {})  # type: ignore[arg-type]
    assert failed == []
    by_metric = {f.metric: f for f in figures}
    assert by_metric["instantiate_ns"].value == pytest.approx(7_000.0)
    assert by_metric["instantiate_code_ns"].value == pytest.approx(11_000.0)
    assert by_metric["instantiate_code_ns"].runs == 3 * len(sizes)


def test_an_aot_artifacts_load_is_its_load_phase_where_the_binding_times_it() -> None:
    from wasm_advisor.calibration._analysis import _code_bytes

    sizes = list(BUDGETS["quick"].slow_code_sizes)
    embedded = Mode("wamr", "aot-embedded", "libiwasm (in-process)", "WAMR · AOT, embedded",
                    precompiled=True)

    def runs(size: int) -> list[dict[str, object]]:
        # loading takes 2 ns per code byte; the time to first instruction adds 1 ms, flat
        load = 2.0 * _code_bytes(size)
        return [{"phases_ns": {"compile": 1e9, "load": load, "instantiate": 2e4},
                 "ttfi_ns": load + 1e6 + 3.0 * _code_bytes(size)}]

    results: dict[str, object] = {f"host:code:{s}": {"ok": True, "runs": runs(s)}
                                  for s in sizes}
    figures, _, _ = analyse_mode(embedded, results, {})  # type: ignore[arg-type]
    load = next(f for f in figures if f.metric == "load_ns_per_code_byte")
    assert load.value == pytest.approx(2.0) and load.params["source"] == "load"
    # through iwasm, no load phase: the time to first instruction, as before
    cli = {k: {"ok": True, "runs": [{**r, "phases_ns": {"compile": 1e9}}
                                    for r in v["runs"]]}  # type: ignore[index]
           for k, v in results.items()}
    figures, _, _ = analyse_mode(MODE, cli, {})  # type: ignore[arg-type]
    load = next(f for f in figures if f.metric == "load_ns_per_code_byte")
    assert load.value == pytest.approx(5.0) and load.params["source"] == "ttfi"


def test_the_runtimes_own_memory_is_a_figure_where_the_binding_reads_it_apart() -> None:
    embedded = Mode("wamr", "fast-interp-embedded", "libiwasm (in-process)",
                    "WAMR · fast interpreter, embedded")
    memory = {"ok": True, "first_instance_bytes": 9_500_000, "per_extra_instance_bytes": 7_000,
              "runtime_bytes": 9_200_000, "instances": 512, "method": "growth"}
    figures, _, _ = analyse_mode(embedded, {"memory": memory}, {})
    by_metric = {f.metric: f.value for f in figures}
    assert by_metric["rss_runtime_bytes"] == 9_200_000
    assert by_metric["rss_per_extra_instance_bytes"] == 7_000
    figures, _, _ = analyse_mode(MODE, {"memory": {**memory, "runtime_bytes": None}}, {})
    assert "rss_runtime_bytes" not in {f.metric for f in figures}
