"""Prices per instruction class: the mix family, its counts, the fit and the predict path."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import wasmtime

from wasm_advisor.calibration import mix_kernel_names
from wasm_advisor.calibration._kernel_counts import (
    class_counts_per_iteration,
    instructions_per_iteration,
)
from wasm_advisor.calibration._mix_kernels import (
    MIX_KERNELS,
    mix_family_module,
    mix_kernel_export,
)
from wasm_advisor.calibration.kernels import KernelPlan
from wasm_advisor.calibration.tasks import parse_family_output
from wasm_advisor.model import ModeCoefficients, WorkloadFeatures
from wasm_advisor.model._coefficients import Coefficient
from wasm_advisor.model._costs import compute_ns_per_instruction
from wasm_advisor.model._instruction_costs import MIN_KERNELS, InstructionCostModel, mix_vector
from wasm_advisor.verification._verify import with_counted
from wasm_advisor.wasm import CLASSES

# the classes the family is built to price (SIMD is the named simd kernel's; 'other' is
# table, atomic and reference instructions, which no program's hot loop is made of)
PRICED = tuple(c for c in CLASSES if c not in ("simd", "other"))


def _family_counts() -> np.ndarray:
    return np.array([mix_vector(class_counts_per_iteration(n)) for n in mix_kernel_names()])


def test_every_priced_class_varies_on_its_own_across_the_family() -> None:
    # a class's price is read off the differences between kernels: each must be large in
    # some kernels and small in others, not a fixed share of the rest
    counts = _family_counts()
    shares = counts / counts.sum(axis=1, keepdims=True)
    for i, cls in enumerate(CLASSES):
        if cls not in PRICED:
            continue
        assert shares[:, i].max() >= 2 * max(shares[:, i].min(), 0.02), cls
    # and no class is a linear combination of the others over the family
    priced = [CLASSES.index(c) for c in PRICED]
    assert np.linalg.matrix_rank(counts[:, priced]) == len(PRICED)


def test_the_family_reaches_the_shares_real_loops_have() -> None:
    shares = _family_counts() / _family_counts().sum(axis=1, keepdims=True)
    top = dict(zip(CLASSES, shares.max(axis=0), strict=True))
    # a dense floating-point loop: about a fifth floating-point instructions, a tenth loads
    assert top["float"] >= 0.18 and top["load"] >= 0.1 and top["global"] >= 0.15


def test_the_family_runs_and_prints_samples_for_every_kernel_in_order(tmp_path: Path) -> None:
    plan = KernelPlan(min_sample_ns=20_000, repeats=1, start_n=4, sizes=(1, 2))
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.stdout_file = str(tmp_path / "out")
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module(engine, mix_family_module(plan)))
    start = instance.exports(store)["_start"]
    assert isinstance(start, wasmtime.Func)
    start(store)
    kernels = parse_family_output((tmp_path / "out").read_text())
    assert sorted(kernels) == list(range(MIX_KERNELS))
    assert all(len(samples) == 2 and samples[1][0] == 2 * samples[0][0]
               for samples in kernels.values())


def test_family_output_that_is_not_the_familys_is_an_error_naming_the_line() -> None:
    with pytest.raises(ValueError, match="malformed"):
        parse_family_output('{"n":4,"ns":100}\n')  # a sample before any kernel's line
    with pytest.raises(ValueError, match="malformed"):
        parse_family_output('{"k":0}\n{"n":4,"ns":\n')
    assert parse_family_output('{"t0":5}\n{"k":1}\n{"n":4,"ns":9}\n') == {1: [(4, 9)]}


def test_family_kernels_are_counted_like_any_kernel() -> None:
    assert mix_kernel_export("mix_07") == "mix_7"
    assert mix_kernel_export("mixed") is None and mix_kernel_export(f"mix_{MIX_KERNELS}") is None
    for name in mix_kernel_names()[:3]:
        counts = class_counts_per_iteration(name)
        # the counting copy counts block, loop and end, which fuel does not charge
        assert sum(counts.values()) >= instructions_per_iteration(name) * 0.8
        assert counts["local"] > 0 and counts["simd"] == 0


def _synthetic(prices: dict[str, float], noise: float = 0.0, seed: int = 1
               ) -> tuple[np.ndarray, np.ndarray]:
    counts = _family_counts()
    times = counts @ np.array([prices.get(c, 0.0) for c in CLASSES])
    rng = np.random.default_rng(seed)
    return counts, times * np.exp(rng.normal(0, noise, len(times)))


INTERPRETER = {"local": 1.0, "const": 0.8, "int": 1.2, "float": 1.5, "load": 2.0,
               "store": 2.2, "branch": 3.0, "block": 0.5, "call": 30.0,
               "call_indirect": 40.0, "global": 2.5, "bulk": 9.0}


def test_the_fit_recovers_the_prices_the_kernels_were_timed_at() -> None:
    counts, times = _synthetic(INTERPRETER)
    model = InstructionCostModel().fit(counts, times)
    for cls, price in INTERPRETER.items():
        assert model.prices()[cls] == pytest.approx(price, rel=1e-6), cls
    assert model.cv_log_rms_ < 1e-6
    assert set(model.unfitted_) == {"simd", "other"}
    # a class no kernel ran costs the kernels' median per instruction
    median = float(np.median(times / counts.sum(axis=1)))
    assert model.prices()["other"] == pytest.approx(median)


def test_prices_are_never_negative_and_the_error_out_of_sample_shows_the_noise() -> None:
    compiler = {"int": 0.05, "float": 0.3, "load": 0.1, "store": 0.2, "branch": 0.4,
                "call": 1.5, "call_indirect": 3.0, "global": 0.1, "bulk": 2.0}
    quiet = InstructionCostModel().fit(*_synthetic(compiler, noise=0.01))
    noisy = InstructionCostModel().fit(*_synthetic(compiler, noise=0.3))
    assert all(v >= 0 for v in noisy.prices().values())
    assert quiet.cv_log_rms_ < 0.05 < 0.2 < noisy.cv_log_rms_
    # the same data, the same prices and error: the folds are seeded
    again = InstructionCostModel().fit(*_synthetic(compiler, noise=0.3))
    assert again.prices() == noisy.prices() and again.cv_log_rms_ == noisy.cv_log_rms_


def test_too_few_kernels_or_rows_of_the_wrong_width_are_refused() -> None:
    counts, times = _synthetic(INTERPRETER)
    with pytest.raises(ValueError, match="a fit needs"):
        InstructionCostModel().fit(counts[: MIN_KERNELS - 1], times[: MIN_KERNELS - 1])
    with pytest.raises(ValueError, match="class counts"):
        InstructionCostModel().fit(counts[:, :3], times)


def _mode(prices: dict[str, float], sigma: float = 0.2) -> ModeCoefficients:
    return ModeCoefficients(
        runtime="r", mode="m", binding="b", label="r m", precompiled_mode=False, jit=False,
        instructions_per_iter={"int": 18.0},
        coefficients={"int_ns_per_iter": Coefficient(99.0, 0.0, 0.01, "guest")},
        class_ns={c: prices.get(c, 0.0) for c in CLASSES}, class_ns_log_sigma=sigma,
        kernel_mix={"int": {"local": 7 / 18, "const": 4 / 18, "int": 6 / 18,
                            "branch": 1 / 18},
                    "typical": {"local": 0.5, "int": 0.25, "call": 0.05}})


def _features(**changes: object) -> WorkloadFeatures:
    base = WorkloadFeatures(
        code_bytes=1e4, module_bytes=2e4, requests_per_instance=1, instances_per_module_load=1,
        precompiled=False, request_rate_per_s=1, concurrent_instances=1,
        compute_instructions_per_request=1e6, compute_kind="integer", data_bytes=0,
        host_calls_per_request=0, bytes_per_host_call=0, linear_memory_bytes=65536,
        touched_bytes_per_request=0, access_pattern="sequential")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_counted_mix_is_priced_class_by_class() -> None:
    m = _mode(INTERPRETER, sigma=0.3)
    mostly_calls = tuple(0.5 if c == "call" else 0.5 if c == "local" else 0.0 for c in CLASSES)
    mostly_locals = tuple(1.0 if c == "local" else 0.0 for c in CLASSES)
    calls = compute_ns_per_instruction(m, _features(instruction_mix=mostly_calls))
    locals_ = compute_ns_per_instruction(m, _features(instruction_mix=mostly_locals))
    assert calls is not None and locals_ is not None
    assert calls.value == pytest.approx(0.5 * 30 + 0.5 * 1.0)
    assert locals_.value == pytest.approx(1.0)
    # the spread is the fit's error out of sample, not the kernels' own
    assert calls.rel_sigma == 0.3


def test_a_declared_kind_is_priced_by_its_kernels_mixes() -> None:
    m = _mode(INTERPRETER)
    integer = compute_ns_per_instruction(m, _features(compute_kind="integer"))
    mixed = compute_ns_per_instruction(m, _features(compute_kind="mixed"))
    assert integer is not None and mixed is not None
    by_int = (7 * 1.0 + 4 * 0.8 + 6 * 1.2 + 3.0) / 18
    assert integer.value == pytest.approx(by_int)
    assert mixed.value == pytest.approx((by_int + 0.5 + 0.25 * 1.2 + 0.05 * 30) / 2)


def test_a_profile_without_prices_keeps_the_kernels_blend() -> None:
    m = replace(_mode(INTERPRETER), class_ns={}, kernel_mix={})
    c = compute_ns_per_instruction(m, _features(compute_kind="integer"))
    assert c is not None and c.value == pytest.approx(99.0 / 18)


def test_verify_hands_the_counted_mix_to_the_model_per_instruction_it_counted() -> None:
    counted = {"mix": {c: (600 if c == "local" else 400 if c == "int" else 0) for c in CLASSES}}
    features = with_counted(_features(compute_instructions_per_request=800.0), counted)
    assert features.instruction_mix is not None
    shares = dict(zip(CLASSES, features.instruction_mix, strict=True))
    assert shares["local"] == pytest.approx(0.75) and shares["int"] == pytest.approx(0.5)
    # an older saved count without every class leaves the declared kind to cost it
    old = with_counted(_features(), {"mix": {"local": 5, "int": 5}})
    assert old.instruction_mix is None


def test_prices_from_another_profile_are_scaled_at_its_in_guest_pace() -> None:
    from wasm_advisor.model._rescale import PaceRatio

    scaled = PaceRatio(host=1.5, guest=2.0, sigma=0.0, modes=("a:b",)).apply(_mode(INTERPRETER))
    assert scaled.class_ns["call"] == pytest.approx(60.0)
    assert scaled.class_ns["local"] == pytest.approx(2.0)


def test_the_reference_profile_prices_what_interpreters_and_compilers_pay_for() -> None:
    from wasm_advisor.model.estimator import fit_profile
    from wasm_advisor.profiles import reference_profiles

    modes = {m.key: m for m in fit_profile(reference_profiles()[0])}
    for key, m in modes.items():
        assert set(m.class_ns) == set(CLASSES), key
        assert 0 < m.class_ns_log_sigma < 1.5, key
    # an interpreter dispatches every local.get; a compiler keeps locals in registers
    for interpreter in ("wamr:classic-interp", "wamr:fast-interp", "wasmtime:pulley"):
        for compiler in ("wasmtime:cranelift", "wamr:aot"):
            assert modes[interpreter].class_ns["local"] > 10 * modes[compiler].class_ns["local"]
    # a call costs a frame: more than an integer operation, on every mode
    assert all(m.class_ns["call"] > m.class_ns["int"] for m in modes.values())
    # modes that run the same generated code are priced alike (their kernels are pooled)
    assert modes["wasmtime:cranelift"].class_ns == modes["wasmtime:cranelift-pooling"].class_ns
    # a mode without SIMD prices it at the kernels' median, and says so
    assert "simd" in modes["wamr:classic-interp"].unpriced_classes


def _with_errors(key: str, errors: list[float]) -> ModeCoefficients:
    runtime, mode = key.split(":")
    rms = float(np.sqrt(np.mean(np.square(errors))))
    return replace(_mode(INTERPRETER, sigma=rms), runtime=runtime, mode=mode,
                   class_cv_errors={f"mix_{i:02d}": e for i, e in enumerate(errors)})


def test_the_share_of_the_price_error_that_modes_have_in_common_is_measured() -> None:
    from wasm_advisor.model.estimator import with_common_error

    rng = np.random.default_rng(3)
    shared = rng.normal(0, 0.5, 20)
    modes = [_with_errors("a:x", list(shared)), _with_errors("b:y", list(shared)),
             _with_errors("c:z", list(-shared + rng.normal(0, 0.05, 20)))]
    a, b, c = with_common_error(modes)
    # a and b err alike on every kernel: most of their error is the common part
    assert a.class_ns_common_sigma == pytest.approx(b.class_ns_common_sigma)
    assert a.class_ns_common_sigma > 0.3 * a.class_ns_log_sigma
    # c errs the other way: nothing of its error is shared
    assert c.class_ns_common_sigma == 0.0
    # never more than a mode's own error, and nothing without enough kernels in common
    assert all(m.class_ns_common_sigma <= m.class_ns_log_sigma for m in (a, b, c))
    few = [_with_errors("a:x", list(shared[:3])), _with_errors("b:y", list(shared[:3]))]
    assert [m.class_ns_common_sigma for m in with_common_error(few)] == [0.0, 0.0]


def test_compute_draws_share_the_common_part_of_the_price_error() -> None:
    from wasm_advisor.model._confidence import _factors
    from wasm_advisor.model._prediction import Component, Kind

    compute = [Component(Kind.COMPUTE, 100.0, 50.0)]  # the prices' error: 0.5 of it
    apart = [np.log(_factors(k, compute, 0.0, 0.0)[0]) for k in ("a:x", "b:y")]
    shared = [np.log(_factors(k, compute, 0.0, 0.0, common=0.45)[0]) for k in ("a:x", "b:y")]
    assert abs(np.corrcoef(*apart)[0, 1]) < 0.2
    assert np.corrcoef(*shared)[0, 1] > 0.6
    # each mode's own spread is what it was: only how it moves with the others changes
    assert np.std(shared[0]) == pytest.approx(np.std(apart[0]), rel=0.15)
    # other components never draw from the common stream
    host = [Component(Kind.COMPILE, 100.0, 50.0)]
    assert np.array_equal(_factors("a:x", host, 0.0, 0.0, common=0.45),
                          _factors("a:x", host, 0.0, 0.0))


def test_the_spread_stated_for_a_ratio_cancels_what_two_modes_share() -> None:
    from wasm_advisor import Advisor, Workload
    from wasm_advisor.model._confidence import log_draws, ratio_sigma, stated_sigma
    from wasm_advisor.model._costs import predict_costs
    from wasm_advisor.model._prediction import Kind

    advisor = Advisor()  # the reference profile
    evidence = {e.coefficients.key: e for e in advisor.evidence}
    features = WorkloadFeatures.from_workload(Workload.preset("compute-long-running"))
    computes = {key: [c for c in predict_costs(e.coefficients, features).per_request
                      if c.kind is Kind.COMPUTE] for key, e in evidence.items()}
    draws = {key: log_draws(evidence[key], computes[key]) for key in evidence}
    # the same generated code (Cranelift with and without the pooling allocator): the same
    # draws, so the advisor states their compute ratio exactly
    assert ratio_sigma(draws["wasmtime:cranelift"],
                       draws["wasmtime:cranelift-pooling"]) == pytest.approx(0.0, abs=1e-9)
    # two compilers sharing part of the prices' error: their ratio is surer than two
    # independent figures would be, and each mode's own draws keep the spread it states
    a, b = evidence["wasmtime:cranelift"], evidence["wamr:aot"]
    sa = stated_sigma(a, computes[a.coefficients.key])
    sb = stated_sigma(b, computes[b.coefficients.key])
    assert a.coefficients.class_ns_common_sigma > 0 and b.coefficients.class_ns_common_sigma > 0
    assert ratio_sigma(draws["wasmtime:cranelift"], draws["wamr:aot"]) < 0.95 * math.hypot(sa, sb)
    assert float(np.std(draws["wamr:aot"])) == pytest.approx(sb, rel=0.15)
    assert np.array_equal(log_draws(a, []), np.zeros_like(draws["wamr:aot"]))
