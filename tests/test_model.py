"""The cost model's arithmetic, limits, crossovers and monotonicity, on synthetic profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasm_advisor import Advisor, ProfileStore, Workload
from wasm_advisor.model._costs import WorkloadFeatures
from wasm_advisor.model._explain import quantity

from .helpers.synthetic import synthetic_profile

KiB, MiB = 1024, 1 << 20


def advisor(tmp_path: Path, modes: dict[str, dict[str, float]], **kw: object) -> Advisor:
    return Advisor(synthetic_profile(modes, **kw), store=ProfileStore(tmp_path))  # type: ignore[arg-type]


def workload(**overrides: object) -> Workload:
    base = dict(
        module={"module_bytes": 100_000, "code_bytes": 50_000},
        instances={"lifetime": "pooled", "requests_per_instance": 10,
                   "instances_per_module_load": 100, "request_rate_per_s": 100,
                   "concurrent_instances": 4},
        work={"compute_instructions_per_request": 1_000_000, "compute_kind": "integer",
              "host_calls_per_request": 100, "bytes_per_host_call": 0},
        memory={"linear_memory_bytes": "1 MiB", "touched_bytes_per_request": 8000,
                "access_pattern": "random"},
        priorities={"latency": 1, "throughput": 0, "memory": 0, "cold_start": 0,
                    "maturity": 0},
    )
    for group, fields in overrides.items():
        base[group] = {**base.get(group, {}), **fields}  # type: ignore[dict-item]
    return Workload.from_dict(base)


def test_components_add_up_exactly(tmp_path: Path) -> None:
    r = advisor(tmp_path, {"wasmtime:a": {}}).recommend(workload())
    p = r.candidates[0].prediction
    comp = {c.name: c.value for c in p.per_request}
    assert comp["compute"] == pytest.approx(1_000_000 * 1.0)  # 10 ns / 10 instructions
    assert comp["host calls"] == pytest.approx(100 * 50.0)
    assert comp["memory traffic"] == pytest.approx(8000 / 8 * 5.0)
    start = {c.name.split(" (")[0]: c.value for c in p.per_instance}
    assert start["instantiate"] == pytest.approx(10_000)
    assert start["binding"] == pytest.approx(20_000)  # measured directly, engine apart
    assert [c.engine for c in p.per_instance] == [True, False]
    (compile_,) = p.per_module_load
    assert compile_.name == "compile"
    assert compile_.value == pytest.approx(50 + 100.0 * 50_000, rel=1e-6)
    amortised = {c.name.split(" (")[0]: c.value for c in p.amortised()}
    assert amortised["instantiate"] == pytest.approx(10_000 / 10)
    assert amortised["compile"] == pytest.approx(compile_.value / 1000)
    assert p.mean_cost_ns == pytest.approx(sum(amortised.values()))
    assert p.latency_ns == pytest.approx(sum(comp.values()))  # pooled: no start on a warm path
    assert p.ttfi_ns == pytest.approx(compile_.value + 30_000)
    assert p.memory_per_instance_bytes == pytest.approx(64 * KiB + 1 * MiB)


def test_precompiled_uses_the_load_figure(tmp_path: Path) -> None:
    w = workload(instances={"precompiled": True})
    p = advisor(tmp_path, {"wasmtime:a": {}}).recommend(w).candidates[0].prediction
    (load,) = p.per_module_load
    assert load.name == "load artifact"
    assert load.value == pytest.approx(50 + 1.0 * 50_000, rel=1e-6)


def test_per_request_lifetime_puts_instantiation_on_the_warm_path(tmp_path: Path) -> None:
    w = workload(instances={"lifetime": "per-request", "requests_per_instance": 1})
    p = advisor(tmp_path, {"wasmtime:a": {}}).recommend(w).candidates[0].prediction
    assert p.latency_ns == pytest.approx(1_000_000 + 5000 + 5000 + 30_000)


def test_hard_limits_exclude_with_reasons(tmp_path: Path) -> None:
    modes = {"wasmtime:a": {}, "wasmtime:b": {"rss_per_extra_instance_bytes": 200 * MiB},
             "wasmtime:c": {}, "wamr:d": {"int_ns_per_iter": 1e6}}
    w = workload(module={"required_features": ["simd"]},
                 limits={"max_memory_per_instance_bytes": "100 MiB", "max_latency_ms": 50},
                 target={"device_class": "server"})
    r = advisor(tmp_path, modes, unsupported={"wasmtime:c": ["simd"]}).recommend(w)
    excluded = {c.key: c.excluded for c in r.excluded}
    assert r.winner == "wasmtime:a"
    assert "needs 201.0 MiB per instance" in excluded["wasmtime:b"][0]
    assert excluded["wasmtime:c"] == ["cannot run simd (probe failed)"]
    assert "budget 50 ms" in excluded["wamr:d"][0]


def test_target_class_and_architecture_come_from_the_traits(tmp_path: Path) -> None:
    modes = {"wasmtime:cranelift": {}, "wamr:aot": {"int_ns_per_iter": 20.0}}
    embedded = workload(target={"device_class": "embedded", "arch": "arm32",
                                "memory_bytes": "64 MiB"})
    r = advisor(tmp_path, modes).recommend(embedded)
    assert r.winner == "wamr:aot"
    (cranelift,) = r.excluded
    assert "does not run on arm32" in cranelift.excluded[0]
    assert "docs.wasmtime.dev" in cranelift.excluded[0]  # the reason carries its source


def test_missing_figures_exclude_the_mode(tmp_path: Path) -> None:
    profile = synthetic_profile({"wasmtime:a": {}, "wasmtime:b": {}})
    profile = profile.model_copy(update={"figures": [
        f for f in profile.figures if not (f.mode == "b" and f.metric == "hostcall_ns_per_iter")]})
    r = Advisor(profile, store=ProfileStore(tmp_path)).recommend(workload())
    assert r.excluded[0].excluded == ["not measured: hostcall_ns"]


def test_explanation_names_the_deciding_component(tmp_path: Path) -> None:
    modes = {"wasmtime:fast-calls": {}, "wasmtime:slow-calls": {"hostcall_ns_per_iter": 5000.0}}
    r = advisor(tmp_path, modes).recommend(workload())
    assert r.winner == "wasmtime:fast-calls"
    assert r.decision is not None
    assert r.decision.objective == "latency"
    assert r.decision.component == "host calls"
    assert "The difference is mostly host calls" in r.explain(crossovers=False)


def test_crossover_found_at_the_known_flip_point(tmp_path: Path) -> None:
    # A: instances cost 1 ms more to start; B: each host call costs 1 µs more.
    # Per request (1 request per instance): A - B = 1e6 - 1000 * calls -> flip at 1000 calls.
    modes = {"wasmtime:a": {"binding_ns": 1_020_000.0},
             "wasmtime:b": {"hostcall_ns_per_iter": 1050.0}}
    w = workload(instances={"lifetime": "per-request", "requests_per_instance": 1},
                 work={"host_calls_per_request": 10})
    r = advisor(tmp_path, modes).recommend(w)
    assert r.winner == "wasmtime:b"
    (hosts,) = [x for x in r.crossovers if x.field == "host_calls_per_request"]
    assert hosts.above is not None and hosts.above[1] == "wasmtime:a"
    assert hosts.above[0] == pytest.approx(1000, rel=0.01)
    assert hosts.below is None
    assert "above 1,000 host calls per request, wasmtime:a wins" in hosts.sentence()


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (4.0612e5, "requests/s", "406,000 requests/s"), (0.0123, "requests/s", "0.0123 requests/s"),
    (57.94, "host calls per request", "57.9 host calls per request"),
    (1.5e12, "instructions per request", "1,500,000,000,000 instructions per request"),
    (169_164.8, "module bytes", "165.2 KiB"),
    (1, "requests per instance", "1 request per instance"), (1, "requests/s", "1 requests/s")])
def test_crossover_values_are_written_without_exponents(value: float, unit: str, shown: str
                                                        ) -> None:
    assert quantity(value, unit) == shown


def test_no_flip_is_said_plainly(tmp_path: Path) -> None:
    modes = {"wasmtime:a": {}, "wasmtime:b": {"int_ns_per_iter": 20.0, "binding_ns": 40_000.0}}
    r = advisor(tmp_path, modes).recommend(workload())
    (rate,) = [x for x in r.crossovers if x.field == "request_rate_per_s"]
    assert rate.sentence().startswith("request_rate_per_s: no flip between")


@settings(max_examples=60, deadline=None)
@given(calls=st.lists(st.floats(min_value=0, max_value=1e6), min_size=2, max_size=6),
       extra=st.floats(min_value=1, max_value=1e4))
def test_more_host_calls_never_favour_the_costlier_caller(tmp_path_factory: pytest.TempPathFactory,
                                                          calls: list[float], extra: float) -> None:
    tmp = tmp_path_factory.mktemp("mono")
    a = advisor(tmp, {"wasmtime:cheap": {}, "wasmtime:costly": {
        "hostcall_ns_per_iter": 50.0 + extra, "int_ns_per_iter": 5.0}})
    gaps = []
    for n in sorted(calls):
        r = a.recommend(workload(work={"host_calls_per_request": n}))
        cheap = r.candidate("wasmtime:cheap")
        costly = r.candidate("wasmtime:costly")
        assert cheap is not None and costly is not None
        gaps.append(costly.prediction.mean_cost_ns - cheap.prediction.mean_cost_ns)
    assert gaps == sorted(gaps)  # the costlier caller only falls further behind


def test_recommendations_are_deterministic(tmp_path: Path) -> None:
    modes = {"wasmtime:a": {}, "wasmtime:b": {"int_ns_per_iter": 11.0}, "wamr:c": {}}
    first = advisor(tmp_path, modes).recommend(workload())
    again = advisor(tmp_path, modes).recommend(workload())
    reordered = advisor(tmp_path, dict(reversed(list(modes.items())))).recommend(workload())
    assert first.to_json() == again.to_json()
    assert [(c.key, c.score) for c in reordered.candidates] == [
        (c.key, c.score) for c in first.candidates]


def test_features_sweep_helper_scales_code_with_module() -> None:
    f = WorkloadFeatures.from_workload(workload(module={"largest_function_bytes": 10_000}))
    g = f.with_value("module_bytes", 200_000)
    assert g.code_bytes == pytest.approx(100_000)
    assert g.largest_function_bytes == pytest.approx(20_000)  # the module's shape is kept


def test_an_engine_that_compiles_on_every_core_waits_for_the_largest_function(
        tmp_path: Path) -> None:
    from dataclasses import replace

    from wasm_advisor.model._costs import predict_costs

    a = advisor(tmp_path, {"wasmtime:cranelift": {}, "wamr:aot": {}})
    evidence = {e.coefficients.key: e.coefficients for e in a.evidence}
    cores = a.profile.machine.cores
    # the traits table: Wasmtime compiles functions on every core; wamrc one at a time
    assert evidence["wasmtime:cranelift"].compile_threads == cores
    assert evidence["wamr:aot"].compile_threads == 1
    two = replace(evidence["wasmtime:cranelift"], compile_threads=2)

    def compile_ns(m: object, **fields: float | None) -> float:
        features = replace(WorkloadFeatures.from_workload(workload()), **fields)
        loads = {c.name: c.value for c in predict_costs(m, features).per_module_load}  # type: ignore[arg-type]
        return loads["compile"]

    fixed = 50.0  # the synthetic fit's intercept
    even = compile_ns(two, largest_function_bytes=5_000.0)  # a tenth of the 50 KB of code
    assert even == pytest.approx(100.0 * 50_000 + fixed)
    assert compile_ns(two, largest_function_bytes=None) == pytest.approx(even)
    # one function of 40 KB: it compiles on one thread while the other has 10 KB to do
    assert compile_ns(two, largest_function_bytes=40_000.0) == \
        pytest.approx(100.0 * 80_000 + fixed)
    # an engine that compiles in turn costs the code alike whatever its largest function
    one = replace(two, compile_threads=1)
    assert compile_ns(one, largest_function_bytes=40_000.0) == pytest.approx(even)


def test_the_fixed_compile_of_a_binding_timed_to_first_instruction_is_beyond_the_empty_module(
        tmp_path: Path) -> None:
    from dataclasses import replace

    from wasm_advisor.model._coefficients import Coefficient
    from wasm_advisor.model._costs import predict_costs

    a = advisor(tmp_path, {"wasmer:cranelift": {"ttfi_ns": 4e6}})
    m = a.evidence[0].coefficients
    features = WorkloadFeatures.from_workload(workload())

    def compile_ns(intercept: float, source: str) -> float:
        coefficients = dict(m.coefficients)
        coefficients["compile_ns_per_code_byte"] = Coefficient(100.0, intercept, 0.0, source)
        loads = predict_costs(replace(m, coefficients=coefficients, compile_threads=1),
                              features).per_module_load
        return next(c.value for c in loads if c.name == "compile")

    # the code family's start at no code, 10 ms, less the empty module's 4 ms
    assert compile_ns(10e6, "ttfi") == pytest.approx(100.0 * 50_000 + 6e6)
    assert compile_ns(3e6, "ttfi") == pytest.approx(100.0 * 50_000)  # never below the code
    assert compile_ns(10e6, "compile") == pytest.approx(100.0 * 50_000 + 10e6)
    # a whole iwasm run: the code family's runs at no code less the empty module's start too
    assert compile_ns(10e6, "wall") == pytest.approx(100.0 * 50_000 + 6e6)


def test_memory_per_instance_separates_modes(tmp_path: Path) -> None:
    modes = {"wasmtime:lean": {"rss_per_extra_instance_bytes": 8 << 10},
             "wasmtime:heavy": {"rss_per_extra_instance_bytes": 8 << 20}}
    w = workload(priorities={"latency": 0, "memory": 1})
    r = advisor(tmp_path, modes).recommend(w)
    assert r.winner == "wasmtime:lean"
    heavy = r.candidate("wasmtime:heavy")
    assert heavy is not None
    assert heavy.prediction.memory_per_instance_bytes == pytest.approx((8 << 20) + MiB)
    assert heavy.normalised["memory"] < 0.2


def test_figures_without_samples_keep_their_stored_value(tmp_path: Path) -> None:
    from .helpers.synthetic import synthetic_profile

    profile = synthetic_profile({"wasmtime:a": {}})
    figures = [f.model_copy(update={"samples": []}) if f.metric.startswith("rss_") else f
               for f in profile.figures]
    a = Advisor(profile.model_copy(update={"figures": figures}), store=ProfileStore(tmp_path))
    assert a.evidence[0].coefficients.get("rss_per_extra_instance_bytes") is not None


def test_cost_model_is_a_scikit_learn_estimator(tmp_path: Path) -> None:
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    from wasm_advisor.model.estimator import CostModel, samples_frame

    from .helpers.synthetic import synthetic_profile

    profile = synthetic_profile({"wasmtime:a": {}, "wasmtime:b": {"int_ns_per_iter": 20.0}})
    model = CostModel()
    assert clone(model).get_params() == {}
    with pytest.raises(NotFittedError):
        model.predict([workload()])
    model.fit(samples_frame(profile))
    slope = model.coefficients_[("wasmtime", "b")]["int_ns_per_iter"]
    # Theil-Sen on medians: exact on samples that lie on a line
    assert slope.value == pytest.approx(20.0, rel=1e-12)
    assert slope.intercept == pytest.approx(50.0, rel=1e-12)
    predicted = model.predict([workload()]).set_index("mode")
    via_advisor = Advisor(profile, store=ProfileStore(tmp_path)).recommend(workload())
    for mode in ("a", "b"):
        c = via_advisor.candidate(f"wasmtime:{mode}")
        assert c is not None
        assert predicted.loc[mode, "latency_ms"] == pytest.approx(c.prediction.latency_ns / 1e6)


def test_compute_kinds_lean_on_the_mixed_kernel(tmp_path: Path) -> None:
    modes = {"wasmtime:a": {"mixed_ns_per_iter": 2.0, "int_ns_per_iter": 10.0}}
    profile = synthetic_profile(modes)
    figures = [f.model_copy(update={"params": {**f.params, "instructions_per_iter": 10}})
               if f.metric == "mixed_ns_per_iter" else f for f in profile.figures]
    a = Advisor(profile.model_copy(update={"figures": figures}), store=ProfileStore(tmp_path))
    per_request = {}
    for kind in ("mixed", "integer"):
        p = a.recommend(workload(work={"compute_kind": kind})).candidates[0].prediction
        per_request[kind] = {c.name: c.value for c in p.per_request}["compute"]
    assert per_request["mixed"] == pytest.approx(1_000_000 * 0.2)  # 2 ns / 10 instructions
    assert per_request["integer"] == pytest.approx(1_000_000 * (0.2 + 1.0) / 2)


def test_real_code_is_costed_by_the_int_and_typical_kernels_not_the_hot_loop() -> None:
    from dataclasses import replace

    from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients
    from wasm_advisor.model._costs import compute_ns_per_instruction

    def mode(mixed_ns: float) -> ModeCoefficients:
        # per instruction: int 1 ns, typical 3 ns, float 5 ns, call 7 ns, mixed as given
        per_iter = {"int": 10.0, "typical": 1000.0, "float": 10.0, "call": 10.0, "mixed": 40.0}
        values = {"int_ns_per_iter": 10.0, "typical_ns_per_iter": 3000.0,
                  "float_ns_per_iter": 50.0, "call_ns_per_iter": 70.0,
                  "mixed_ns_per_iter": 40.0 * mixed_ns}
        return ModeCoefficients(
            runtime="wasmtime", mode="x", binding="", label="x", precompiled_mode=False,
            jit=True, instructions_per_iter=per_iter,
            coefficients={k: Coefficient(v, source="guest") for k, v in values.items()})

    features = replace(WorkloadFeatures.from_workload(Workload.preset("compute-long-running")),
                       compute_instructions_per_request=1e6)
    expected = {"mixed": (1 + 3) / 2, "integer": 1.0, "float": (5 + 3) / 2,
                "call-heavy": (7 + 3) / 2}
    for kind, ns in expected.items():
        for mixed_ns in (0.01, 100.0):  # the hot-loop kernel's figure changes nothing
            cost = compute_ns_per_instruction(mode(mixed_ns), replace(features,
                                                                      compute_kind=kind))
            assert cost is not None and cost.value == pytest.approx(ns), kind


def test_an_interpreter_profiled_with_the_single_call_typical_kernel_is_costed_by_int(
        ) -> None:
    from dataclasses import replace

    from wasm_advisor.calibration import kernels
    from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients
    from wasm_advisor.model._costs import compute_ns_per_instruction, predict_costs
    from wasm_advisor.profiles._profile import calls_running

    # what a figure records of the kernel tells which kernel made it
    assert calls_running(kernels.GUEST_KERNELS["typical"].unit) == kernels.TYPICAL_REPEATS > 1
    assert calls_running("call into one of 64 generated functions shaped like compiled "
                         "C/Rust (see typical_code), with the calls and loops it makes") == 1
    values = {"int_ns_per_iter": 10.0, "typical_ns_per_iter": 3000.0}
    current = ModeCoefficients(
        runtime="wamr", mode="x", binding="iwasm CLI", label="x", precompiled_mode=False,
        jit=False, instructions_per_iter={"int": 10.0, "typical": 1000.0},
        coefficients={k: Coefficient(v, source="guest") for k, v in values.items()})
    older = replace(current, single_call_typical=True)
    compiled = replace(older, jit=True)  # compiled code barely noticed: it keeps the kernel
    features = replace(WorkloadFeatures.from_workload(Workload.preset("compute-long-running")),
                       compute_instructions_per_request=1e6, compute_kind="mixed")
    now, then, jit = (compute_ns_per_instruction(m, features) for m in (current, older, compiled))
    assert now is not None and now.value == pytest.approx((1 + 3) / 2)
    assert then is not None and then.value == pytest.approx(1.0)
    assert jit is not None and jit.value == pytest.approx((1 + 3) / 2)
    # and the prediction says so
    assert not any("older one" in n for n in predict_costs(current, features).notes)
    assert not any("older one" in n for n in predict_costs(compiled, features).notes)
    assert any("'int' kernel alone" in n for n in predict_costs(older, features).notes)


def test_fitting_reads_which_typical_kernel_a_profile_was_made_with() -> None:
    from wasm_advisor.calibration import kernels
    from wasm_advisor.model.estimator import fit_profile
    from wasm_advisor.profiles import Profile

    profile = synthetic_profile({"wasmtime:a": {"typical_ns_per_iter": 3000.0}})
    (fitted,) = fit_profile(profile)
    assert fitted.single_call_typical  # its figure says nothing of repeated calls
    unit = kernels.GUEST_KERNELS["typical"].unit
    figures = [f.model_copy(update={"params": {**f.params, "iteration": unit}})
               if f.kernel == "typical" else f for f in profile.figures]
    # the words are read as a number when the profile is loaded
    loaded = Profile.from_json(profile.model_copy(update={"figures": figures}).to_json())
    (fitted,) = fit_profile(loaded)
    assert not fitted.single_call_typical


def test_explanation_compares_component_families(tmp_path: Path) -> None:
    # an interpreter ('load and prepare', no instantiate phase) against a compiler
    modes = {"wasmtime:a": {"compile_ns_per_code_byte": 1000.0},
             "wamr:b": {"compile_ns_per_code_byte": 10.0, "int_ns_per_iter": 12.0}}
    profile = synthetic_profile(modes)
    figures = [f for f in profile.figures
               if not (f.runtime == "wamr" and f.metric in ("instantiate_ns", "binding_ns"))]
    records = [r.model_copy(update={"modes": [m.model_copy(update={"jit": False})
                                              for m in r.modes]})
               if r.name == "wamr" else r for r in profile.runtimes]
    profile = profile.model_copy(update={"figures": figures, "runtimes": records})
    w = workload(instances={"instances_per_module_load": 1, "requests_per_instance": 2},
                 priorities={"latency": 0, "cold_start": 1})
    r = Advisor(profile, store=ProfileStore(tmp_path)).recommend(w)
    assert r.decision is not None and r.decision.component == "compile/load"
    assert "0 ns against" not in r.decision.sentence


def test_first_instance_is_paid_once_per_module_load(tmp_path: Path) -> None:
    modes = {"wasmtime:a": {"first_instance_ns_per_code_byte": 0.5,
                            "first_instance_ns_per_data_byte": 2.0}}
    w = workload(module={"module_bytes": 100_000, "code_bytes": 50_000, "data_bytes": 10_000})
    p = advisor(tmp_path, modes).recommend(w).candidates[0].prediction
    loads = {c.name: c.value for c in p.per_module_load}
    assert loads["first instance"] == pytest.approx(50 + 0.5 * 50_000 + 2.0 * 10_000)
    amortised = {c.name: c.value for c in p.amortised()}
    assert amortised["first instance"] == pytest.approx(loads["first instance"] / 1000)
    assert p.ttfi_ns == pytest.approx(sum(loads.values()) + 30_000)
    # a profile without the figure predicts no such component
    p = advisor(tmp_path, {"wasmtime:a": {}}).recommend(w).candidates[0].prediction
    assert "first instance" not in {c.name for c in p.per_module_load}


def test_a_module_with_data_starts_from_the_data_familys_fixed_part(tmp_path: Path) -> None:
    profile = synthetic_profile({"wasmtime:a": {}})
    for i, f in enumerate(profile.figures):
        if f.metric == "instantiate_ns_per_data_byte":  # steady state: 12 µs + 2 ns/byte
            profile.figures[i] = f.model_copy(update={
                "samples": [(x, 12_000.0 + 2.0 * x) for x, _ in f.samples], "value": 2.0,
                "intercept": 12_000.0, "params": {**f.params, "source": "instantiate_again"}})
    a = Advisor(profile, store=ProfileStore(tmp_path))
    with_data = workload(module={"module_bytes": 100_000, "code_bytes": 50_000,
                                 "data_bytes": 1000})
    without = workload(module={"module_bytes": 100_000, "code_bytes": 50_000, "data_bytes": 0})
    start = {c.name: c.value for c in a.recommend(with_data).candidates[0].prediction.per_instance}
    assert start["instantiate"] == pytest.approx(12_000 + 2.0 * 1000, rel=1e-3)
    start = {c.name: c.value for c in a.recommend(without).candidates[0].prediction.per_instance}
    assert start["instantiate"] == pytest.approx(10_000)  # the empty module's


@pytest.mark.parametrize(("pooling_instantiate_ns", "tied"), [(9_900.0, True), (500.0, False)])
def test_a_configuration_ties_with_its_plain_mode_unless_its_own_figures_set_it_apart(
        tmp_path: Path, pooling_instantiate_ns: float, tied: bool) -> None:
    # per-request instances: instantiation is a large part of every request
    modes = {"wasmtime:cranelift": {"instantiate_ns": 10_000.0},
             "wasmtime:cranelift-pooling": {"instantiate_ns": pooling_instantiate_ns}}
    r = advisor(tmp_path, modes).recommend(workload(
        work={"compute_instructions_per_request": 1_000},
        instances={"lifetime": "per-request", "requests_per_instance": 1}))
    plain, pooling = r.candidate("wasmtime:cranelift"), r.candidate("wasmtime:cranelift-pooling")
    assert plain is not None and pooling is not None and pooling.score > plain.score
    assert r.decision is not None and r.winner == "wasmtime:cranelift-pooling"
    assert [c.key for c in r.ranked] == [r.winner, "wasmtime:cranelift"]
    if tied:  # 1 % apart on one component: within the noise
        assert r.tied == ["wasmtime:cranelift-pooling", "wasmtime:cranelift"]
        assert r.decision.objective == "tie"
        assert "where they tie, the plain configuration needs no extra set-up" in \
            r.decision.sentence
        assert r.headline.startswith("No clear winner")
    else:
        assert r.tied == ["wasmtime:cranelift-pooling"]
        assert r.decision.objective != "tie"
        assert r.headline.startswith("wasmtime:cranelift-pooling wins in ")


def _scan_mode(short_ns: float, long_ns: float, scans: bool = True) -> object:
    from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients

    per_iter = {"int": 40.0, "typical": 2000.0, "block_exit_short": 264.0,
                "block_exit_long": 264.0}
    scanned = {"int": 0.0, "typical": 500.0, "block_exit_short": 4096.0,
               "block_exit_long": 43520.0}
    values = {"int_ns_per_iter": 40.0, "typical_ns_per_iter": 2000.0 + 500 * 2.0,
              "block_exit_short_ns_per_iter": short_ns, "block_exit_long_ns_per_iter": long_ns}
    return ModeCoefficients(
        runtime="wamr", mode="x", binding="iwasm CLI", label="x", precompiled_mode=False,
        jit=False, instructions_per_iter=per_iter, scan_ops_per_iter=scanned,
        coefficients={k: Coefficient(v, source="guest") for k, v in values.items()},
        scans_block_ends=scans)


def test_block_end_scans_cost_what_the_block_exit_kernels_measure() -> None:
    from dataclasses import replace

    from wasm_advisor.model._costs import block_scan_ns_per_op, predict_costs

    # the long kernel scans 39,424 more instructions per iteration, 2 ns each
    scanning = _scan_mode(10_000.0, 10_000.0 + 39_424 * 2.0)
    scan = block_scan_ns_per_op(scanning)  # type: ignore[arg-type]
    assert scan is not None and scan.value == pytest.approx(2.0)
    features = WorkloadFeatures.from_workload(Workload.preset("compute-long-running"))
    features = replace(features, compute_instructions_per_request=1e6, compute_kind="mixed",
                       block_scan_ops_per_request=1e5)
    compute = predict_costs(scanning, features).per_request[0]  # type: ignore[arg-type]
    # 1 ns per instruction in both kernels once the typical one's own scans are taken out,
    # and 2 ns per instruction scanned
    assert compute.value == pytest.approx(1e6 * 1.0 + 1e5 * 2.0)
    # an engine that knows its blocks' ends: the kernels take the same time, no scan cost
    knowing = _scan_mode(10_000.0, 9_990.0)
    assert block_scan_ns_per_op(knowing).value == 0.0  # type: ignore[arg-type,union-attr]
    compute = predict_costs(knowing, features).per_request[0]  # type: ignore[arg-type]
    assert compute.value == pytest.approx(1e6 * (1.0 + 1.5) / 2)


def test_only_an_engine_that_scans_for_block_ends_is_charged_for_scans(
        tmp_path: Path) -> None:
    from dataclasses import replace

    from wasm_advisor.model._costs import block_scan_ns_per_op, predict_costs

    # the long kernel 10 % slower on an engine that does not scan (as WAMR's fast
    # interpreter runs it): no scan cost, and the typical kernel is taken as measured
    fast = _scan_mode(10_000.0, 11_000.0, scans=False)
    assert block_scan_ns_per_op(fast) is None  # type: ignore[arg-type]
    features = WorkloadFeatures.from_workload(Workload.preset("compute-long-running"))
    features = replace(features, compute_instructions_per_request=1e6, compute_kind="mixed",
                       block_scan_ops_per_request=3e8)
    compute = predict_costs(fast, features).per_request[0]  # type: ignore[arg-type]
    assert compute.value == pytest.approx(1e6 * (1.0 + 1.5) / 2)
    # the same kernels on an engine that scans: 1,000 ns over 39,424 scanned instructions
    scanning = predict_costs(_scan_mode(10_000.0, 11_000.0), features).per_request[0]  # type: ignore[arg-type]
    assert scanning.value > compute.value + 3e8 * 0.02
    # the traits table says which engine scans: WAMR's classic interpreter alone
    a = advisor(tmp_path, {"wamr:classic-interp": {}, "wamr:fast-interp": {},
                           "wasmtime:pulley": {}})
    assert {e.coefficients.key: e.coefficients.scans_block_ends for e in a.evidence} == {
        "wamr:classic-interp": True, "wamr:fast-interp": False, "wasmtime:pulley": False}


def test_simd_code_is_costed_by_the_simd_kernel_in_proportion_to_its_share() -> None:
    from dataclasses import replace

    from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients
    from wasm_advisor.model._costs import compute_ns_per_instruction

    # ordinary code: 1 ns per instruction in both kernels; the simd kernel: 100
    # instructions per iteration, 25 of them SIMD, 400 ns (4 ns per instruction)
    values = {"int_ns_per_iter": 40.0, "typical_ns_per_iter": 2000.0,
              "simd_ns_per_iter": 400.0}
    mode = ModeCoefficients(
        runtime="wamr", mode="x", binding="iwasm CLI", label="x", precompiled_mode=False,
        jit=False, instructions_per_iter={"int": 40.0, "typical": 2000.0, "simd": 100.0},
        simd_ops_per_iter={"simd": 25.0},
        coefficients={k: Coefficient(v, source="guest") for k, v in values.items()})
    features = replace(WorkloadFeatures.from_workload(Workload.preset("compute-long-running")),
                       compute_instructions_per_request=1e6, compute_kind="mixed")

    def per_instruction(simd: float) -> float:
        cost = compute_ns_per_instruction(mode, replace(features,
                                                        simd_instructions_per_request=simd))
        assert cost is not None
        return cost.value

    assert per_instruction(0) == pytest.approx(1.0)  # no SIMD: the kind's kernels alone
    assert per_instruction(0.125e6) == pytest.approx(2.5)  # half the kernel's share
    assert per_instruction(0.25e6) == pytest.approx(4.0)  # the kernel's share
    assert per_instruction(0.5e6) == pytest.approx(4.0)  # more: costed as the kernel
    # a profile without the simd kernel (a runtime that cannot run it): the kind's cost
    bare = replace(mode, coefficients={k: v for k, v in mode.coefficients.items()
                                       if k != "simd_ns_per_iter"})
    cost = compute_ns_per_instruction(bare, replace(features,
                                                    simd_instructions_per_request=0.25e6))
    assert cost is not None and cost.value == pytest.approx(1.0)


def test_a_lazy_jit_pays_for_compiling_the_code_that_runs(tmp_path: Path) -> None:
    from dataclasses import replace

    from wasm_advisor.model._costs import predict_costs
    from wasm_advisor.model._prediction import RUN_COMPILE
    from wasm_advisor.verification._verify import predicted_phases, with_counted

    # loading costs 100 ns per code byte; a module whose every function runs, 300
    a = advisor(tmp_path, {"wamr:llvm-jit": {"run_compile_ns_per_code_byte": 300.0},
                           "wamr:fast-interp": {}})
    w = workload()
    jit = a.recommend(w).candidate("wamr:llvm-jit")
    assert jit is not None
    loads = {c.name: c.value for c in jit.prediction.per_module_load}
    # nothing counted: all 50,000 bytes are taken to run, at the 200 ns difference
    assert loads[RUN_COMPILE] == pytest.approx(200.0 * 50_000)
    amortised = {c.name: c.value for c in jit.prediction.amortised()}
    assert amortised[RUN_COMPILE] == pytest.approx(loads[RUN_COMPILE] / 1000)
    # counted by verify: only the functions that ran
    evidence = next(e for e in a.evidence if e.coefficients.key == "wamr:llvm-jit")
    counted = with_counted(WorkloadFeatures.from_workload(w), {"ran_code_bytes": 5_000})
    assert counted.ran_code_bytes == 5_000
    ran = {c.name: c.value for c in predict_costs(evidence.coefficients, counted).per_module_load}
    assert ran[RUN_COMPILE] == pytest.approx(200.0 * 5_000)
    # verify's compile phase is what is compiled before the first instruction; the whole
    # run includes the rest
    phases = predicted_phases(evidence, counted)
    assert phases["compile"] == pytest.approx(ran["compile"])
    bare = predicted_phases(evidence, replace(counted, ran_code_bytes=0.0))
    assert phases["total"] - bare["total"] == pytest.approx(200.0 * 5_000)
    # an engine without the figure (it compiles or loads everything up front) has none
    interp = a.recommend(w).candidate("wamr:fast-interp")
    assert interp is not None
    assert RUN_COMPILE not in {c.name for c in interp.prediction.per_module_load}


def test_modes_that_run_the_same_code_share_their_code_figures(tmp_path: Path) -> None:
    from wasm_advisor.runtimes.traits import load_traits

    # the pooling allocator runs Cranelift's code: their code's figures are fitted as one
    assert load_traits()["wasmtime:cranelift-pooling"].same_code_as == "wasmtime:cranelift"
    modes = {"wasmtime:cranelift": {"int_ns_per_iter": 10.0, "mem_rand_ns_per_iter": 5.0,
                                    "compile_ns_per_code_byte": 100.0,
                                    "instantiate_ns": 10_000.0},
             "wasmtime:cranelift-pooling": {"int_ns_per_iter": 14.0,
                                            "mem_rand_ns_per_iter": 9.0,
                                            "compile_ns_per_code_byte": 220.0,
                                            "instantiate_ns": 3_000.0},
             "wasmtime:winch": {"int_ns_per_iter": 30.0}}
    coefficients = {e.coefficients.key: e.coefficients for e in advisor(tmp_path, modes).evidence}
    plain, pooled = coefficients["wasmtime:cranelift"], coefficients["wasmtime:cranelift-pooling"]
    for name in ("int_ns_per_iter", "mem_rand_ns", "hostcall_ns", "compile_ns_per_code_byte"):
        shared = plain.get(name)
        assert shared is not None and shared == pooled.get(name), name
    shared = plain.get("int_ns_per_iter")
    assert shared is not None and 10.0 <= shared.value <= 14.0 and shared.runs == 18
    memory = plain.get("mem_rand_ns")
    assert memory is not None and 5.0 <= memory.value <= 9.0
    # instantiation is where the allocator differs: it stays apart
    assert plain.get("instantiate_ns").value == pytest.approx(10_000.0)  # type: ignore[union-attr]
    assert pooled.get("instantiate_ns").value == pytest.approx(3_000.0)  # type: ignore[union-attr]
    # a mode of other code keeps its own
    assert coefficients["wasmtime:winch"].get("int_ns_per_iter").value == \
        pytest.approx(30.0)  # type: ignore[union-attr]


def test_modes_one_compiler_compiles_share_their_compile_figure_and_nothing_else(
        tmp_path: Path) -> None:
    from wasm_advisor.runtimes.traits import load_traits

    # both WAMR AOT modes compile with the same wamrc, timed as its own process
    assert load_traits()["wamr:aot-embedded"].same_compiler_as == "wamr:aot"
    modes = {"wamr:aot": {"int_ns_per_iter": 10.0, "compile_ns_per_code_byte": 30_000.0},
             "wamr:aot-embedded": {"int_ns_per_iter": 14.0,
                                   "compile_ns_per_code_byte": 40_000.0}}
    coefficients = {e.coefficients.key: e.coefficients for e in advisor(tmp_path, modes).evidence}
    iwasm, embedded = coefficients["wamr:aot"], coefficients["wamr:aot-embedded"]
    shared = iwasm.get("compile_ns_per_code_byte")
    assert shared is not None and shared == embedded.get("compile_ns_per_code_byte")
    assert 30_000.0 < shared.value < 40_000.0
    # what the artifact does once loaded is measured through two bindings: apart
    assert iwasm.get("int_ns_per_iter").value == pytest.approx(10.0)  # type: ignore[union-attr]
    assert embedded.get("int_ns_per_iter").value == \
        pytest.approx(14.0)  # type: ignore[union-attr]


def test_a_compile_timed_as_a_whole_run_has_the_empty_runs_start_taken_out() -> None:
    from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients
    from wasm_advisor.model._costs import _fixed_compile_ns

    m = ModeCoefficients(runtime="wamr", mode="llvm-jit", binding="iwasm CLI", label="j",
                         precompiled_mode=False, jit=True, instructions_per_iter={},
                         coefficients={"ttfi_ns": Coefficient(40e6)})
    # the code family's whole runs: 170 ms at no code; the empty module's run: 40 ms
    assert _fixed_compile_ns(m, Coefficient(8_000.0, 170e6, 0.1, "wall")) == \
        pytest.approx(130e6)
    assert _fixed_compile_ns(m, Coefficient(8_000.0, 20e6, 0.1, "wall")) == 0.0
    assert _fixed_compile_ns(m, Coefficient(8_000.0, 3e6, 0.1, "compile")) == \
        pytest.approx(3e6)


def test_functions_a_table_reaches_are_costed_apart_where_the_module_tells_them(
        tmp_path: Path) -> None:
    from dataclasses import replace

    from wasm_advisor.model._costs import predict_costs

    # the tabled code family: 100 ns a byte; the same code with no function reachable: 40;
    # each function a table or an export reaches: 60 us
    a = advisor(tmp_path, {"wasmtime:winch": {"compile_local_ns_per_code_byte": 40.0,
                                              "compile_ns_per_escaping_function": 60_000.0},
                           "wasmtime:cranelift": {}})
    w = workload()
    assert w.module.escaping_functions is None
    evidence = {e.coefficients.key: e.coefficients for e in a.evidence}

    def compile_ns(key: str, features: WorkloadFeatures) -> float:
        loads = {c.name: c.value for c in predict_costs(evidence[key], features).per_module_load}
        return loads["compile"]

    declared = WorkloadFeatures.from_workload(w)
    # a declared size, no module to count in: the family's rate, as before
    assert compile_ns("wasmtime:winch", declared) == pytest.approx(100.0 * 50_000, rel=1e-3)
    counted = replace(declared, escaping_functions=10.0)
    assert compile_ns("wasmtime:winch", counted) == pytest.approx(40.0 * 50_000 + 10 * 60_000,
                                                                  rel=1e-3)
    # more of them cost more; a profile without the figures keeps the family's rate
    assert compile_ns("wasmtime:winch", replace(counted, escaping_functions=100.0)) > \
        compile_ns("wasmtime:winch", counted)
    assert compile_ns("wasmtime:cranelift", counted) == pytest.approx(100.0 * 50_000, rel=1e-3)
    # and the field, declared, is read like any other
    assert workload(module={"escaping_functions": 12}).module.escaping_functions == 12


def test_a_module_with_code_of_its_own_starts_from_the_code_familys_instances(
        tmp_path: Path) -> None:
    # the empty module's instances: 10 us; the code family's (functions, a table, a global):
    # 13 us at every size
    a = advisor(tmp_path, {"wasmtime:a": {"instantiate_code_ns": 13_000.0}, "wasmtime:b": {}})
    w = workload()
    starts = {c.key: {x.name: x.value for x in c.prediction.per_instance}["instantiate"]
              for c in a.recommend(w).candidates}
    assert starts["wasmtime:a"] == pytest.approx(13_000)
    assert starts["wasmtime:b"] == pytest.approx(10_000)  # no such figure: the empty module's
    # a module with next to no code is costed as the empty module
    tiny = workload(module={"module_bytes": 300, "code_bytes": 100})
    start = next(c for c in a.recommend(tiny).candidates if c.key == "wasmtime:a")
    assert {x.name: x.value for x in start.prediction.per_instance}["instantiate"] == \
        pytest.approx(10_000)


def test_the_estimator_and_the_advisor_predict_alike_on_the_shipped_profile(
        tmp_path: Path) -> None:
    from wasm_advisor.model.estimator import CostModel
    from wasm_advisor.profiles._profile import reference_profiles
    from wasm_advisor.workload._presets import preset_names

    (profile,) = reference_profiles()[:1]
    workloads = [Workload.preset(name) for name in preset_names()]
    frame = CostModel().fit(profile).predict(workloads)
    advisor = Advisor(profile, store=ProfileStore(tmp_path))
    assert len(frame) == len(workloads) * len(advisor.evidence)
    rows = {(r.workload, f"{r.runtime}:{r.mode}"): r for r in frame.itertuples()}
    for w in workloads:
        for c in advisor.recommend(w).candidates:
            row = rows[(w.name, c.key)]
            totals = c.prediction.totals()
            for figure in ("latency_ms", "mean_cost_ms", "ttfi_ms", "memory_total_bytes"):
                assert getattr(row, figure) == pytest.approx(totals[figure], rel=1e-12), (
                    w.name, c.key, figure)
    # the case: WAMR AOT's latency for a request, binding included
    aot = rows[("request-response", "wamr:aot")]
    assert aot.latency_ms > 1.0


def test_measured_phases_replace_the_components_of_their_phase() -> None:
    from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients
    from wasm_advisor.model._costs import predict_costs
    from wasm_advisor.model._prediction import Kind

    values = {"int_ns_per_iter": 10.0, "compile_ns_per_code_byte": 100.0,
              "instantiate_ns": 10_000.0, "binding_ns": 20_000.0, "ttfi_ns": 40_000.0,
              "first_instance_ns_per_code_byte": 2.0}
    interpreter = ModeCoefficients(
        runtime="wamr", mode="x", binding="iwasm CLI", label="x", precompiled_mode=False,
        jit=False, instructions_per_iter={"int": 10.0},
        coefficients={k: Coefficient(v, rel_sigma=0.1, source="guest")
                      for k, v in values.items()})
    features = WorkloadFeatures.from_workload(workload())
    predicted = predict_costs(interpreter, features)
    kinds = [c.kind for c in (*predicted.per_request, *predicted.per_instance,
                              *predicted.per_module_load)]
    assert kinds == [Kind.COMPUTE, Kind.HOST_CALLS, Kind.MEMORY_TRAFFIC, Kind.INSTANTIATE,
                     Kind.BINDING, Kind.LOAD_AND_PREPARE, Kind.FIRST_INSTANCE]
    assert predicted.per_module_load[0].name == "load and prepare"  # the label, unchanged
    measured = predicted.with_measured({"compile": 7.0, "instantiate": 5.0, "execute": 3.0,
                                        "total": 99.0})
    by_kind = {c.kind: c for c in (*measured.per_request, *measured.per_instance,
                                   *measured.per_module_load)}
    # an interpreter's compile is its loading and preparing: measured, whatever its label
    assert by_kind[Kind.LOAD_AND_PREPARE].value == 7.0
    assert by_kind[Kind.INSTANTIATE].value == 5.0
    assert by_kind[Kind.COMPUTE].value == 3.0
    assert by_kind[Kind.HOST_CALLS].value == by_kind[Kind.MEMORY_TRAFFIC].value == 0.0
    assert all(by_kind[k].sigma == 0.0 for k in (Kind.LOAD_AND_PREPARE, Kind.COMPUTE))
    # in no phase of their own: predicted still
    for kind in (Kind.BINDING, Kind.FIRST_INSTANCE):
        assert by_kind[kind] == next(c for c in (*predicted.per_instance,
                                                 *predicted.per_module_load) if c.kind is kind)
    assert measured.phase_ns("execute") == 3.0
    assert measured.without(Kind.FIRST_INSTANCE).per_module_load[1].value == 0.0


def test_the_estimator_and_an_advisor_reading_its_fit_cache_agree_on_every_figure(
        tmp_path: Path) -> None:
    """One fit, one predict: on the shipped reference profile, for every preset, an advisor
    whose fits come from the fit cache (a second advisor on the same store) predicts every
    figure exactly as the estimator fitted afresh does."""
    from wasm_advisor.model.estimator import CostModel
    from wasm_advisor.profiles import reference_profiles
    from wasm_advisor.workload import preset_names

    profile = reference_profiles()[0]
    workloads = [Workload.preset(name) for name in preset_names()]
    frame = CostModel().fit(profile).predict(workloads)
    Advisor(profile, store=ProfileStore(tmp_path))  # fits, and writes the fit cache
    cached = Advisor(profile, store=ProfileStore(tmp_path))
    assert list((tmp_path / "fits").iterdir())
    rows = {(r["workload"], f"{r['runtime']}:{r['mode']}"): r
            for r in frame.to_dict(orient="records")}
    assert len(rows) == len(workloads) * len(cached.evidence)
    for w in workloads:
        for c in cached.recommend(w).candidates:
            row = rows[(w.name, c.key)]
            for figure, value in c.prediction.totals().items():
                assert row[figure] == pytest.approx(value, rel=1e-12), (w.name, c.key, figure)
