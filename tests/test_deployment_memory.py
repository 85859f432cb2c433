"""Memory for a whole deployment: the runtime's footprint, each distinct module's code and
the instances, each a named part, scored as one figure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasm_advisor import Advisor, ProfileStore, Workload, WorkloadError
from wasm_advisor.calibration._analysis import _memory_figures
from wasm_advisor.model._prediction import INSTANCES, LINEAR, MODULES, PROCESSES, RUNTIME
from wasm_advisor.runtimes.base import Mode
from wasm_advisor.runtimes.resident_growth import (
    library_record,
    mapped_resident_bytes,
    module_record,
)
from wasm_advisor.wasm import distinct_copies, read_module_bytes

from .helpers.synthetic import synthetic_profile

KiB, MiB = 1024, 1 << 20
FOOTPRINT = {"rss_library_bytes": 4 * MiB, "rss_module_bytes_per_code_byte": 3.0}


def _advisor(tmp_path: Path, modes: dict[str, dict[str, float]]) -> Advisor:
    return Advisor(synthetic_profile(modes), store=ProfileStore(tmp_path))


def _workload(concurrent: int = 4, distinct: int = 1, memory_weight: float = 1.0,
              per_load: int = 1000) -> Workload:
    return Workload.from_dict({
        "module": {"module_bytes": 150_000, "code_bytes": 100_000},
        "instances": {"lifetime": "pooled", "requests_per_instance": 10,
                      "instances_per_module_load": per_load, "request_rate_per_s": 10,
                      "concurrent_instances": concurrent, "distinct_modules": distinct},
        "work": {"compute_instructions_per_request": 1000},
        "memory": {"linear_memory_bytes": "1 MiB"},
        "priorities": {"latency": 0, "throughput": 0, "memory": memory_weight,
                       "cold_start": 0, "maturity": 0},
    })


def test_the_deployment_is_the_sum_of_its_named_parts(tmp_path: Path) -> None:
    r = _advisor(tmp_path, {"wasmtime:a": FOOTPRINT}).recommend(_workload(4, distinct=3))
    p = r.candidates[0].prediction
    parts = {part.name: part.bytes for part in p.memory_parts()}
    first, extra = 1 * MiB, 64 * KiB  # the synthetic profile's memory figures
    assert parts == pytest.approx({
        RUNTIME: 4 * MiB + first - extra,  # library, and what the first instance set up
        MODULES: 3 * 3.0 * 100_000,  # three distinct modules of 100,000 code bytes
        INSTANCES: 4 * extra,
        LINEAR: 4 * MiB,
    })
    assert p.memory_total_bytes == pytest.approx(sum(parts.values()))
    # the old arithmetic (first instance, then each extra one) is the part it still has
    assert p.memory_total_bytes - parts[RUNTIME] + first - extra - parts[MODULES] == \
        pytest.approx(first + 3 * extra + 4 * MiB)


def test_a_module_loaded_for_each_instance_is_held_once_for_each() -> None:
    # a plugin host loading a module per instance holds as many modules as live instances
    profile = synthetic_profile({"wasmtime:a": FOOTPRINT})
    p = Advisor(profile).recommend(_workload(8, distinct=2, per_load=1)).candidates[0].prediction
    (modules,) = [part for part in p.memory_parts() if part.name == MODULES]
    assert modules.bytes == pytest.approx(8 * 3.0 * 100_000)
    assert modules.detail.startswith("8 × ")


def test_through_a_process_per_instance_every_instance_is_a_whole_runtime(
        tmp_path: Path) -> None:
    r = _advisor(tmp_path, {"wamr:fast-interp": {}}).recommend(_workload(5))
    p = r.candidates[0].prediction
    assert p.process_per_instance  # the synthetic WAMR modes are the iwasm CLI's
    parts = {part.name: part.bytes for part in p.memory_parts()}
    assert parts == pytest.approx({PROCESSES: 5 * MiB, LINEAR: 5 * MiB})
    # each process also holds the module's code, where the profile measured it
    coded = _advisor(tmp_path, {"wamr:fast-interp": {"rss_module_bytes_per_code_byte": 2.0}})
    p = coded.recommend(_workload(5, distinct=3)).candidates[0].prediction
    (processes, _) = p.memory_parts()
    assert processes.bytes == pytest.approx(5 * (MiB + 2.0 * 100_000))
    assert "of the module's code" in processes.detail
    # a module is held loaded only by a process of its own
    p = coded.recommend(_workload(5, distinct=40)).candidates[0].prediction
    (processes, _) = p.memory_parts()
    assert processes.bytes == pytest.approx(40 * (MiB + 2.0 * 100_000))


def test_a_profile_without_footprint_figures_says_so(tmp_path: Path) -> None:
    p = _advisor(tmp_path, {"wasmtime:a": {}}).recommend(_workload()).candidates[0].prediction
    (modules,) = [part for part in p.memory_parts() if part.name == MODULES]
    assert modules.bytes == 0 and "not measured" in modules.detail


def test_the_memory_objective_scores_the_whole_deployment(tmp_path: Path) -> None:
    # 'lean' holds less per instance but a far larger footprint: with few instances the
    # footprint decides, with many the instances do
    modes = {"wasmtime:lean": {**FOOTPRINT, "rss_library_bytes": 64 * MiB,
                               "rss_per_extra_instance_bytes": 8 * KiB},
             "wasmtime:heavy": {**FOOTPRINT, "rss_per_extra_instance_bytes": 512 * KiB}}
    few = _advisor(tmp_path, modes).recommend(_workload(2))
    many = _advisor(tmp_path, modes).recommend(_workload(10_000))
    assert few.winner == "wasmtime:heavy"
    assert many.winner == "wasmtime:lean"
    assert few.decision is not None and few.decision.objective == "memory"
    assert "where they differ most: the runtime footprint" in few.decision.sentence


def test_the_target_memory_check_counts_the_footprint(tmp_path: Path) -> None:
    w = Workload.from_dict({**_workload(2).to_dict(), "target": {"memory_bytes": "40 MiB"}})
    big = {**FOOTPRINT, "rss_library_bytes": 64 * MiB}
    r = _advisor(tmp_path, {"wasmtime:big": big, "wasmtime:small": FOOTPRINT}).recommend(w)
    excluded = r.candidate("wasmtime:big")
    assert excluded is not None and excluded.excluded
    assert any("more than the target's" in reason for reason in excluded.excluded)
    assert r.winner == "wasmtime:small"


def test_distinct_modules_is_validated_by_name() -> None:
    with pytest.raises(WorkloadError, match=r"instances\.distinct_modules"):
        Workload.from_dict({**_workload().to_dict(),
                            "instances": {**_workload().to_dict()["instances"],
                                          "distinct_modules": 0}})


def test_module_growth_is_read_over_the_second_half() -> None:
    # the first 3 modules land in freed memory, the last 3 grow by 300 KiB each
    resident = [100 * MiB + i * KiB for i in range(3)]
    resident += [resident[-1] + (i + 1) * 300 * KiB for i in range(3)]
    record = module_record(resident, 100 * KiB)
    assert record["module_bytes_per_code_byte"] == pytest.approx(3.0)
    assert record["modules"] == 6
    with pytest.raises(ValueError, match="modules: need at least 2"):
        module_record([1], 100)


def test_a_mapped_librarys_resident_pages_are_read_from_smaps() -> None:
    import wasmtime

    from wasm_advisor.runtimes.wasmtime_runtime import _library_path

    path = _library_path()
    assert path is not None and wasmtime.Engine()  # the library is loaded and used
    resident = mapped_resident_bytes(os.path.realpath(path))
    assert resident is not None and 0 < resident <= Path(path).stat().st_size
    record = library_record(path)
    assert record["library_file_bytes"] == Path(path).stat().st_size
    assert library_record("/no/such/library.so") == {}
    assert mapped_resident_bytes("/no/such/library.so") == 0  # not mapped


def test_distinct_copies_differ_and_keep_the_code() -> None:
    import wasmtime

    from wasm_advisor.calibration import kernels

    module = kernels.instantiate_module(1, 1024)
    copies = distinct_copies(module, 3)
    assert len(set(copies)) == 3
    codes = {read_module_bytes(c).code_bytes for c in copies}
    assert codes == {read_module_bytes(module).code_bytes}
    for copy in copies:
        wasmtime.Module.validate(wasmtime.Store().engine, copy)


def test_memory_figures_come_from_the_record() -> None:
    mode = Mode("wasmtime", "cranelift", "wasmtime-py", "Wasmtime")
    record = {"first_instance_bytes": 9e6, "per_extra_instance_bytes": 14e3, "instances": 512,
              "runtime_bytes": 7e5, "library_bytes": 7.5e6, "library_path": "/lib/x.so",
              "library_file_bytes": 29_000_000, "module_bytes_per_code_byte": 3.5,
              "module_code_bytes": 65_193, "modules": 12, "method": "test",
              "module_method": module_record([0] * 11 + [100], 65_193)["module_method"]}
    figures = {f.metric: f for f in _memory_figures(mode, record)}
    assert figures["rss_library_bytes"].value == 7.5e6
    assert "29,000,000 bytes on disk" in figures["rss_library_bytes"].note
    module = figures["rss_module_bytes_per_code_byte"]
    assert module.value == 3.5 and module.samples == [(0.0, 3.5)]
    assert "last 6 of 12 distinct modules of 65,193 code bytes" in module.note


@pytest.mark.slow
def test_wasmtime_measures_the_footprint_and_a_modules_code() -> None:
    from wasm_advisor.calibration import kernels
    from wasm_advisor.calibration.tasks import MODULE_CODE_BYTES, _in_fresh_process
    from wasm_advisor.runtimes.wasmtime_runtime import WasmtimeAdapter

    (mode,) = [m for m in WasmtimeAdapter().modes() if m.name == "cranelift"]
    record = _in_fresh_process(mode, kernels.instantiate_module(16, 64 * KiB), 64, 8, {})
    # Cranelift's machine code and metadata: more than the wasm code, under 20 times it
    assert 1.0 < record["module_bytes_per_code_byte"] < 20.0
    assert record["module_code_bytes"] == pytest.approx(MODULE_CODE_BYTES, rel=0.05)
    assert record["library_bytes"] > 1 * MiB  # the engine's code, paged in by the import
    assert record["library_file_bytes"] > record["library_bytes"]


def _claims(tmp_path: Path, modes: dict[str, dict[str, float]]) -> dict[str, tuple[str, str]]:
    from wasm_advisor.model import check_claims

    advisor = _advisor(tmp_path, modes)
    return {r.id: (r.verdict, r.figures) for r in check_claims(advisor.evidence)}


def test_claims_d_and_f_need_wamr_in_process(tmp_path: Path) -> None:
    cli = _claims(tmp_path, {"wasmer:cranelift": FOOTPRINT, "wamr:fast-interp": {}})
    assert cli["d"][0] == cli["f"][0] == "not measurable here"
    assert "libiwasm.so" in cli["d"][1] and "iwasm CLI" in cli["f"][1]


def test_claims_d_and_f_get_verdicts_from_in_process_wamr(tmp_path: Path) -> None:
    small = {"rss_library_bytes": 300 * KiB, "rss_module_bytes_per_code_byte": 2.0,
             "rss_first_instance_bytes": 400 * KiB, "rss_per_extra_instance_bytes": 24 * KiB,
             "instantiate_ns": 5_000.0}
    modes = {"wasmer:cranelift": {**FOOTPRINT, "rss_per_extra_instance_bytes": 48 * KiB},
             "wasmtime:cranelift": FOOTPRINT, "wamr:fast-interp-embedded": small}
    verdicts = _claims(tmp_path, modes)
    assert verdicts["d"][0] == "supported"  # 48 KiB against 24: twice
    assert "wamr:fast-interp-embedded 24 KiB" in verdicts["d"][1]
    assert verdicts["f"][0] == "supported"  # lowest deployment, fastest instantiation
    slow = _claims(tmp_path, {**modes, "wamr:fast-interp-embedded": {
        **small, "instantiate_ns": 50_000.0}})
    assert slow["f"][0] == "not supported"


def test_claim_f_will_not_compare_deployments_it_cannot_see_whole(tmp_path: Path) -> None:
    modes = {"wasmtime:cranelift": {}, "wamr:fast-interp-embedded": FOOTPRINT}
    verdict, figures = _claims(tmp_path, modes)["f"]
    assert verdict == "not measurable here" and "wasmtime:cranelift" in figures
