"""The machine's pace: read beside a calibration and a verify, and what verify does with it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import wasmtime

from wasm_advisor import Advisor, ProfileStore, Workload
from wasm_advisor.calibration import kernels
from wasm_advisor.calibration._pace import (
    COMPILE_METRIC,
    EXECUTE_METRIC,
    PaceReading,
    pace_factors,
    pace_figures,
    pace_summary,
    profile_pace,
    read_pace,
)
from wasm_advisor.model._costs import WorkloadFeatures
from wasm_advisor.verification._verify import predicted_phases, with_counted

from .helpers.synthetic import synthetic_profile

READINGS = [PaceReading(0.0, 100e6, 2.0), PaceReading(300.0, 110e6, 2.2),
            PaceReading(600.0, 130e6, 2.1)]


def _paced_profile(machine_id: str | None = None):  # type: ignore[no-untyped-def]
    profile = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:pulley": {}},
                                machine_id=machine_id)
    return profile.model_copy(update={"figures": profile.figures + pace_figures(READINGS)})


def test_a_calibrations_pace_is_kept_with_how_far_it_moved() -> None:
    compile_f, execute_f = pace_figures(READINGS)
    assert (compile_f.metric, execute_f.metric) == (COMPILE_METRIC, EXECUTE_METRIC)
    # compile: the two readings either side of the first pass, where compiling is measured
    assert compile_f.value == pytest.approx(105e6)
    assert execute_f.value == pytest.approx(2.1)  # the median reading
    assert compile_f.spread == pytest.approx(30e6 / 110e6)  # range / median
    assert [x for x, _ in compile_f.samples] == [0.0, 300.0, 600.0]
    assert pace_figures([]) == []


def test_the_pace_factor_is_the_pace_now_over_the_profiles() -> None:
    profile = _paced_profile()
    assert profile_pace(profile) == pytest.approx((105e6, 2.1))
    now = [PaceReading(0.0, 126e6, 2.1), PaceReading(5.0, 210e6, 4.2),
           PaceReading(9.0, 126e6, 2.1)]
    factors = pace_factors(profile, now)
    assert factors == pytest.approx({"compile": 1.2, "execute": 1.0})  # medians: 126e6, 2.1
    assert pace_factors(profile, []) is None
    # nothing to compare with: a profile without readings, or one from another machine
    assert pace_factors(synthetic_profile({"wasmtime:cranelift": {}}), now) is None
    assert pace_factors(_paced_profile(machine_id="elsewhere"), now) is None
    # readings taken on the profile's machine (a saved run, replayed elsewhere) compare
    assert pace_factors(_paced_profile(machine_id="elsewhere"), now, same_machine=True) \
        == pytest.approx({"compile": 1.2, "execute": 1.0})
    assert pace_factors(profile, now, same_machine=False) is None


def test_a_profile_whose_compile_pace_was_read_on_every_core_has_none_to_compare() -> None:
    # before 2026-12-07 the pace compile ran on a pool of threads: another measurement
    profile = _paced_profile()
    old = [f.model_copy(update={"params": {k: v for k, v in f.params.items()
                                           if k != "compile_threads"}})
           if f.metric == COMPILE_METRIC else f for f in profile.figures]
    profile = profile.model_copy(update={"figures": old})
    assert profile_pace(profile) is None
    assert pace_factors(profile, READINGS) is None


def test_the_pace_compile_runs_on_one_thread() -> None:
    import time

    from wasm_advisor.runtimes.wasmtime_runtime import engine_for

    module = kernels.code_size_module(64 * 1024)
    engine = engine_for("cranelift", single_thread=True)
    wasmtime.Module(engine, module)  # warm up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(3):
        wasmtime.Module(engine, module)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # one thread cannot use more CPU time than the time that passed
    assert cpu < 1.1 * wall


def test_a_pace_that_moved_while_calibrating_is_flagged() -> None:
    line = pace_summary(_paced_profile())
    assert line is not None and "compile moved 27%" in line and "calibrate again" in line
    steady = [PaceReading(0.0, 100e6, 2.0), PaceReading(9.0, 104e6, 2.02)]
    profile = synthetic_profile({"wasmtime:cranelift": {}})
    calm = pace_summary(profile.model_copy(update={"figures": profile.figures
                                                   + pace_figures(steady)}))
    assert calm is not None and "compile moved 4%" in calm and "calibrate again" not in calm
    assert pace_summary(profile) is None


def test_predictions_scale_by_the_pace_start_up_and_execution_apart(tmp_path: Path) -> None:
    advisor = Advisor(_paced_profile(), store=ProfileStore(tmp_path))
    evidence = next(e for e in advisor.evidence if e.coefficients.key == "wasmtime:cranelift")
    features = WorkloadFeatures.from_workload(Workload.preset("request-response"))
    plain = predicted_phases(evidence, features)
    paced = predicted_phases(evidence, features, {"compile": 2.0, "execute": 0.5})
    for phase in ("compile", "load", "instantiate"):
        assert paced[phase] == pytest.approx(2.0 * plain[phase])
    assert paced["execute"] == pytest.approx(0.5 * plain["execute"])
    start = plain["total"] - plain["execute"]
    assert paced["total"] == pytest.approx(2.0 * start + 0.5 * plain["execute"])


def test_a_pace_reading_measures_wasmtime_here() -> None:
    reading, why = read_pace({"iwasm": [], "wamrc": None}, 1.5)
    assert reading is not None, why
    assert reading.at_s == 1.5
    # 64 KiB of code compiles in more than a millisecond; an int iteration is nanoseconds
    assert 1e6 < reading.compile_ns < 5e9
    assert 0.05 < reading.execute_ns_per_iter < 1e3
    assert PaceReading.from_dict(reading.to_dict()) == reading


def test_verify_reads_the_pace_around_its_rounds_and_scales_by_it(tmp_path: Path) -> None:
    module = tmp_path / "k.wasm"
    module.write_bytes(kernels.guest_kernel("mixed", kernels.KernelPlan(min_sample_ns=100_000,
                                                                        repeats=1)))
    advisor = Advisor(_paced_profile(), store=ProfileStore(tmp_path / "cache"))
    seen: list[tuple[str, str]] = []
    report = advisor.verify(Workload.from_module(module), repeats=2, warm_budget_s=0,
                            rounds=2, timeout_s=30,
                            progress=lambda key, state: seen.append((key, state)))
    # before the first round, before the second, after the last
    assert [i for i, (key, _) in enumerate(seen) if key == "pace"] == [0, 3, 6]
    assert len(report.pace) == 3 and report.pace_factors is not None
    assert report.pace_factors == pytest.approx(pace_factors(advisor.profile, report.pace))
    # the synthetic profile's pace is made up, so the factor is far from 1: the predictions
    # carry it
    evidence = {e.coefficients.key: e for e in advisor.evidence}
    for v in report.modes:
        assert v.failure is None
        features = with_counted(WorkloadFeatures.from_workload(report.workload).with_value(
            "compute_instructions_per_request", float(report.instructions or 0)),
            report.counted)
        unscaled = predicted_phases(evidence[v.key], features)
        assert v.predicted_ns["compile"] == pytest.approx(
            unscaled["compile"] * report.pace_factors["compile"], rel=1e-6)
    assert "pace readings" in report.explain()
    # without a profile to compare with, no readings are taken
    unpaced = advisor.verify(Workload.from_module(module), repeats=1, warm_budget_s=0,
                             rounds=1, timeout_s=30, modes=["wasmtime:cranelift"],
                             pace_profile=None)
    assert unpaced.pace == [] and unpaced.pace_factors is None
    # nor against a profile the predictions do not come from (another calibration here,
    # made at another time): its pace says nothing of theirs
    other = advisor.profile.model_copy(update={
        "created": advisor.profile.created - timedelta(days=1)})
    assert other.measured_here and other.provenance != advisor.profile.provenance
    elsewhere = advisor.verify(Workload.from_module(module), repeats=1, warm_budget_s=0,
                               rounds=1, timeout_s=30, modes=["wasmtime:cranelift"],
                               pace_profile=other)
    assert elsewhere.pace == [] and elsewhere.pace_factors is None
