"""The execution spread: how far real programs fell from the prices, split into the part
every mode of a program shares and each mode's own; fitted, stored, loaded and used as
the compute figure's spread."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from wasm_advisor import Advisor
from wasm_advisor.errors import AdvisorError
from wasm_advisor.model import ModeCoefficients
from wasm_advisor.model._coefficients import Coefficient
from wasm_advisor.model._confidence import log_draws, ratio_sigma
from wasm_advisor.model._execution_spread import (
    MIN_MODES,
    ExecutionSpread,
    execution_document,
    fit_execution_spread,
    read_execution,
)
from wasm_advisor.model._prediction import Component, Kind
from wasm_advisor.model._startup_transfer import (
    TRANSFER_FILE,
    StartupTransfer,
    load_transfer,
    transfer_document,
    with_transfer,
)


def _errors(programs: int = 12, seed: int = 5) -> dict[str, dict[str, float]]:
    """Five compilers that move with each program's shared error, an interpreter that does
    not, each with a little error of its own."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(programs):
        shared = rng.normal(0, 0.5)
        out[f"p{i}"] = {f"c:{n}": shared + rng.normal(0, 0.1)
                        for n in ("one", "two", "three", "four", "five")}
        out[f"p{i}"]["i:interp"] = rng.normal(0, 0.3)
    return out


def test_compilers_load_on_the_shared_error_and_an_interpreter_keeps_its_own() -> None:
    spread = fit_execution_spread(_errors())
    (one, one_common), (two, _), (interp, interp_common) = (
        spread.modes[k] for k in ("c:one", "c:two", "i:interp"))
    assert spread.programs == 12
    # most of a compiler's error is the part it shares with the program's other modes
    assert one_common > 0.6 * one and one_common <= one
    # the interpreter's error is its own: little of it is shared
    assert interp_common < 0.5 * interp
    assert 0.15 < interp < 0.5 and 0.2 < two < 0.8


def test_no_spread_from_too_few_programs_or_modes() -> None:
    errors = _errors()
    assert fit_execution_spread(dict(list(errors.items())[:4])) == ExecutionSpread()
    narrow = {p: dict(list(by_mode.items())[:MIN_MODES - 1]) for p, by_mode in errors.items()}
    assert fit_execution_spread(narrow) == ExecutionSpread()
    assert ExecutionSpread({"a:b": (0.3, 0.1)}, programs=2).for_mode("a:b") == []


def test_the_spread_is_stored_and_read_back_and_a_broken_one_is_refused() -> None:
    spread = fit_execution_spread(_errors())
    assert read_execution(execution_document(spread)) == spread
    assert read_execution(None) == ExecutionSpread()
    with pytest.raises(KeyError):
        read_execution({"modes": {"a:b": {"log_sigma": 0.3}}, "programs": 9})


def _priced(key: str, cv: float, common: float) -> ModeCoefficients:
    runtime, mode = key.split(":")
    return ModeCoefficients(
        runtime=runtime, mode=mode, binding="b", label=mode, precompiled_mode=False, jit=True,
        instructions_per_iter={"int": 18.0},
        coefficients={"int_ns_per_iter": Coefficient(18.0, 0.0, 0.01, "guest")},
        class_ns={"int": 1.0}, class_ns_log_sigma=cv, class_ns_common_sigma=common)


def test_a_priced_mode_takes_real_programs_spread_unless_its_own_fit_is_worse() -> None:
    table = StartupTransfer(execution=ExecutionSpread(
        {"c:one": (0.5, 0.45), "i:interp": (0.4, 0.05)}, programs=20))
    fine = with_transfer(_priced("c:one", 0.3, 0.1), "P", table)
    assert fine.execution_spread == [0.5, 0.45]
    assert fine.compute_log_sigma == 0.5 and fine.compute_common_sigma == 0.45
    # a calibration whose prices fit its own kernels badly keeps that larger error
    poor = with_transfer(_priced("c:one", 0.9, 0.1), "P", table)
    assert poor.compute_log_sigma == 0.9 and poor.compute_common_sigma == 0.45
    # a mode the programs did not measure, or one not priced per class, keeps its own
    other = with_transfer(_priced("c:three", 0.3, 0.1), "P", table)
    assert other.execution_spread == [] and other.compute_log_sigma == 0.3
    unpriced = with_transfer(replace(_priced("c:one", 0.3, 0.1), class_ns={}), "P", table)
    assert unpriced.execution_spread == []


def test_modes_that_share_the_programs_error_are_surer_of_their_ratio() -> None:
    table = StartupTransfer(execution=ExecutionSpread(
        {"c:one": (0.5, 0.45), "c:two": (0.5, 0.45), "i:interp": (0.5, 0.05)}, programs=20))
    advisor = Advisor()
    template = advisor.evidence[0]
    draws = {}
    for key in ("c:one", "c:two", "i:interp"):
        m = with_transfer(_priced(key, 0.2, 0.0), "P", table)
        e = replace(template, coefficients=m, pace_sigma=0.0, scale_sigma=0.0)
        compute = [Component(Kind.COMPUTE, 100.0, 100.0 * m.compute_log_sigma, name="compute")]
        draws[key] = log_draws(e, compute)
    compilers = ratio_sigma(draws["c:one"], draws["c:two"])
    across = ratio_sigma(draws["c:one"], draws["i:interp"])
    assert compilers < 0.8 * across
    assert across == pytest.approx(math.hypot(0.5, 0.5, 0.17, 0.17), rel=0.2)


def test_the_shipped_file_has_the_spread_and_a_format_1_file_still_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor.model import _startup_transfer

    shipped = load_transfer().execution
    assert shipped.programs >= 20
    assert {"wasmtime:cranelift", "wamr:fast-interp"} <= set(shipped.modes)
    document = transfer_document(StartupTransfer(), {}) | {"format_version": 1}
    del document["execution"]
    (tmp_path / TRANSFER_FILE).write_text(json.dumps(document))
    monkeypatch.setattr(_startup_transfer, "data_folder", lambda name: tmp_path)
    load_transfer.cache_clear()
    try:
        assert load_transfer() == StartupTransfer()
        (tmp_path / TRANSFER_FILE).write_text(json.dumps(
            transfer_document(StartupTransfer(), {}) | {"execution": {"modes": {}}}))
        load_transfer.cache_clear()
        with pytest.raises(AdvisorError, match=TRANSFER_FILE):
            load_transfer()
    finally:
        load_transfer.cache_clear()
