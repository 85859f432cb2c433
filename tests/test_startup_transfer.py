"""The start-up transfer: what real programs showed against the size-only start-up model,
fitted, stored, loaded and applied to the start-up phases only."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from wasm_advisor import Advisor
from wasm_advisor.advisor import MODEL_VERSION
from wasm_advisor.errors import AdvisorError
from wasm_advisor.files import data_folder
from wasm_advisor.model import ModeCoefficients, WorkloadFeatures, predict_costs
from wasm_advisor.model._coefficients import Coefficient
from wasm_advisor.model._prediction import Kind
from wasm_advisor.model._startup_transfer import (
    MIN_PROGRAMS,
    TRANSFER_FILE,
    StartupTransfer,
    fit_transfer,
    load_transfer,
    transfer_document,
    with_transfer,
)
from wasm_advisor.profiles import reference_profiles


def _mode() -> ModeCoefficients:
    return ModeCoefficients(
        runtime="wasmtime", mode="winch", binding="wasmtime-py", label="w",
        precompiled_mode=False, jit=True, instructions_per_iter={"int": 18.0},
        coefficients={
            "int_ns_per_iter": Coefficient(18.0, 0.0, 0.01, "guest"),
            "compile_ns_per_code_byte": Coefficient(200.0, 1e6, 0.1, "compile"),
            "instantiate_ns": Coefficient(50_000.0, 0.0, 0.1, "instantiate"),
            "binding_ns": Coefficient(80_000.0, 0.0, 0.1, ""),
        })


def _features() -> WorkloadFeatures:
    return WorkloadFeatures(
        code_bytes=1e4, module_bytes=2e4, requests_per_instance=1, instances_per_module_load=1,
        precompiled=False, request_rate_per_s=1, concurrent_instances=1,
        compute_instructions_per_request=1e6, compute_kind="integer", data_bytes=0,
        host_calls_per_request=0, bytes_per_host_call=0, linear_memory_bytes=65536,
        touched_bytes_per_request=0, access_pattern="sequential")


def test_the_transfer_is_the_median_log_ratio_and_the_spread_the_predictions_did_not_state(
) -> None:
    # measured 2x the prediction on every program but one, stated spread 0.1
    ratios = [(0.5, 0.1)] * 6 + [(0.25, 0.1)]
    fitted = fit_transfer({("r:m", "compile"): ratios}).modes["r:m"]["compile"]
    assert fitted.factor == pytest.approx(2.0, rel=1e-3)
    assert fitted.programs == 7
    logs = [math.log(2.0)] * 6 + [math.log(4.0)]
    residual = sum((x - math.log(2.0)) ** 2 for x in logs) / 7
    assert fitted.log_sigma == pytest.approx(math.sqrt(residual - 0.01), abs=1e-3)
    around_none = sum(x * x for x in logs) / 7
    assert fitted.log_sigma_unbiased == pytest.approx(math.sqrt(around_none - 0.01), abs=1e-3)


def test_no_transfer_from_too_few_programs_or_for_execution() -> None:
    few = [(0.5, 0.1)] * (MIN_PROGRAMS - 1)
    many = [(0.5, 0.1)] * MIN_PROGRAMS
    fitted = fit_transfer({("r:m", "compile"): few, ("r:m", "execute"): many,
                           ("r:n", "load"): many}).modes
    assert "r:m" not in fitted
    assert set(fitted["r:n"]) == {"load"}


def test_the_transfer_scales_the_start_up_phases_and_nothing_else() -> None:
    m, f = _mode(), _features()
    plain = predict_costs(m, f)
    table = fit_transfer({("wasmtime:winch", "compile"): [(0.5, 0.0)] * 5,
                          ("wasmtime:winch", "instantiate"): [(2.0, 0.0)] * 5}, "P")
    moved = predict_costs(with_transfer(m, "P", table), f)
    assert moved.phase_ns("compile") == pytest.approx(2 * plain.phase_ns("compile"), rel=1e-3)
    assert moved.phase_ns("instantiate") == pytest.approx(plain.phase_ns("instantiate") / 2,
                                                    rel=1e-3)
    assert moved.phase_ns("execute") == pytest.approx(plain.phase_ns("execute"))
    binding = [c.value for c in moved.per_instance if c.kind is Kind.BINDING]
    assert binding == [c.value for c in plain.per_instance if c.kind is Kind.BINDING]


def test_the_spread_left_by_the_transfer_widens_the_phase_it_belongs_to() -> None:
    m, f = _mode(), _features()
    table = fit_transfer({("wasmtime:winch", "compile"):
                          [(1.0, 0.0), (0.5, 0.0), (2.0, 0.0), (1.0, 0.0), (1.0, 0.0)]}, "P")
    assert table.modes["wasmtime:winch"]["compile"].log_sigma > 0.3
    before = next(c for c in predict_costs(m, f).per_module_load if c.kind is Kind.COMPILE)
    after = next(c for c in predict_costs(with_transfer(m, "P", table), f).per_module_load
                 if c.kind is Kind.COMPILE)
    assert after.value == pytest.approx(before.value)
    assert after.sigma / after.value > before.sigma / before.value + 0.2


def test_the_median_corrects_only_the_profile_it_was_measured_on() -> None:
    m, f = _mode(), _features()
    plain = predict_costs(m, f)
    table = fit_transfer({("wasmtime:winch", "compile"):
                          [(0.5, 0.0), (0.4, 0.0), (0.5, 0.0), (0.6, 0.0), (0.5, 0.0)]}, "P")
    own = predict_costs(with_transfer(m, "P", table), f)
    other = predict_costs(with_transfer(m, "Q", table), f)
    assert own.phase_ns("compile") == pytest.approx(2 * plain.phase_ns("compile"), rel=1e-3)
    # another profile's figures are not scaled, and stated as unsure as the programs were
    assert other.phase_ns("compile") == pytest.approx(plain.phase_ns("compile"))
    c = next(c for c in other.per_module_load if c.kind is Kind.COMPILE)
    assert c.sigma / c.value >= table.modes["wasmtime:winch"]["compile"].log_sigma_unbiased
    assert table.modes["wasmtime:winch"]["compile"].log_sigma_unbiased > 0.6


def test_the_shipped_transfer_was_measured_with_this_model_on_enough_programs() -> None:
    document = json.loads((data_folder("models") / TRANSFER_FILE).read_text())
    assert document["model_version"] == MODEL_VERSION, (
        "the model changed since the start-up transfer was measured: run "
        "benchmarks/accuracy.py --replay <results> --write-transfer models/startup-transfer.json")
    assert len(document["programs"]) > MIN_PROGRAMS
    table = load_transfer()
    assert table.modes and all(t.programs >= MIN_PROGRAMS for phases in table.modes.values()
                               for t in phases.values())
    assert table.profile_id == reference_profiles()[0].id


def test_the_advisor_predicts_with_the_shipped_transfer() -> None:
    reference = reference_profiles()[0]
    table = load_transfer()
    for e in Advisor(reference).evidence:
        assert e.profile_id == reference.id
        expected = {p: [t.log_bias, t.log_sigma]
                    for p, t in table.modes.get(e.coefficients.key, {}).items()}
        assert e.coefficients.startup_transfer == expected


def test_a_damaged_transfer_file_is_an_error_naming_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor.model import _startup_transfer

    (tmp_path / TRANSFER_FILE).write_text(json.dumps(transfer_document(StartupTransfer(),
                                                                       {}))[:-3])
    monkeypatch.setattr(_startup_transfer, "data_folder", lambda name: tmp_path)
    load_transfer.cache_clear()
    try:
        with pytest.raises(AdvisorError, match=TRANSFER_FILE):
            load_transfer()
        (tmp_path / TRANSFER_FILE).write_text(json.dumps({"format_version": 99, "modes": {}}))
        load_transfer.cache_clear()
        with pytest.raises(AdvisorError, match="format_version 99"):
            load_transfer()
    finally:
        load_transfer.cache_clear()


def test_without_a_transfer_file_the_calibration_figures_stand(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor.model import _startup_transfer

    monkeypatch.setattr(_startup_transfer, "data_folder", lambda name: tmp_path)
    load_transfer.cache_clear()
    try:
        assert load_transfer() == StartupTransfer()
        m = _mode()
        assert with_transfer(m, "P") == m
    finally:
        load_transfer.cache_clear()
