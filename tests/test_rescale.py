"""Figures filled in from another profile are brought to this profile's pace, and say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_advisor import Advisor, ProfileStore
from wasm_advisor.advisor import _evidence, _rescaled
from wasm_advisor.model._rescale import pace_ratio

from .helpers.synthetic import BASE, synthetic_profile


def _scaled(factor_host: float, factor_guest: float) -> dict[str, float]:
    out = {}
    for metric, value in BASE.items():
        if metric.startswith("rss_"):
            out[metric] = value
        elif metric.endswith("_per_iter"):
            out[metric] = value * factor_guest
        else:
            out[metric] = value * factor_host
    return out


def test_another_profiles_runtime_is_scaled_by_the_modes_both_measured(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    # elsewhere: Wasmtime and WAMR at the base figures; here: Wasmtime alone, the machine
    # 1.5 times slower on the host and twice as slow in the guest
    there = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:winch": {},
                               "wamr:fast-interp": {}}, machine_id="elsewhere")
    here = synthetic_profile({"wasmtime:cranelift": _scaled(1.5, 2.0),
                              "wasmtime:winch": _scaled(1.5, 2.0)})
    here_evidence = _evidence(here, store)
    there_fits = [e.coefficients for e in _evidence(there, store)]
    ratio = pace_ratio([e.coefficients for e in here_evidence], there_fits)
    assert ratio is not None
    assert ratio.host == pytest.approx(1.5, rel=1e-3) and ratio.guest == pytest.approx(2.0,
                                                                                       rel=1e-3)
    assert ratio.sigma == pytest.approx(0.0, abs=1e-6)
    assert ratio.modes == ("wasmtime:cranelift", "wasmtime:winch")
    added = _rescaled(_evidence(there, store, {"wamr"}), here_evidence, there_fits,
                      {"wamr": "no iwasm found"})
    (wamr,) = added
    c = wamr.coefficients
    assert c.get("int_ns_per_iter").value == pytest.approx(  # type: ignore[union-attr]
        BASE["int_ns_per_iter"] * 2.0, rel=1e-3)
    assert c.get("instantiate_ns").value == pytest.approx(  # type: ignore[union-attr]
        BASE["instantiate_ns"] * 1.5, rel=1e-3)
    assert c.get("rss_per_extra_instance_bytes").value == pytest.approx(  # type: ignore[union-attr]
        BASE["rss_per_extra_instance_bytes"])  # memory is no matter of pace
    assert not wamr.measured_here
    assert "wamr not measured here: no iwasm found" in wamr.provenance
    assert "×1.50 host-timed, ×2.00 in-guest" in wamr.provenance


def test_with_no_mode_in_common_nothing_is_scaled_and_the_label_says_so(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    there = synthetic_profile({"wamr:fast-interp": {}}, machine_id="elsewhere")
    here = synthetic_profile({"wasmtime:cranelift": _scaled(3.0, 3.0)})
    added = _rescaled(_evidence(there, store), _evidence(here, store),
                      [e.coefficients for e in _evidence(there, store)], {})
    (wamr,) = added
    assert wamr.coefficients.get("int_ns_per_iter").value == pytest.approx(  # type: ignore[union-attr]
        BASE["int_ns_per_iter"], rel=1e-3)
    assert "not scaled to this machine's pace: no mode was measured in both" in wamr.provenance
    assert wamr.scale_sigma == 0.0


def test_disagreeing_modes_widen_the_scaled_figures_spread(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    there = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:winch": {},
                               "wamr:fast-interp": {}}, machine_id="elsewhere")
    here = synthetic_profile({"wasmtime:cranelift": _scaled(1.0, 1.0),
                              "wasmtime:winch": _scaled(2.0, 2.0)})
    ratio = pace_ratio([e.coefficients for e in _evidence(here, store)],
                       [e.coefficients for e in _evidence(there, store)])
    assert ratio is not None and ratio.sigma > 0.3


def test_the_advisor_scores_a_filled_in_runtime_as_measured_elsewhere(tmp_path: Path) -> None:
    here = synthetic_profile({"wasmtime:cranelift": {}})
    advisor = Advisor(here, with_reference=True, store=ProfileStore(tmp_path))
    added = [e for e in advisor.evidence if e.coefficients.runtime == "wamr"]
    assert added, "the shipped reference profile has WAMR modes"
    assert all(not e.measured_here and "wamr not measured here" in e.provenance for e in added)


def test_a_profile_whose_pace_moved_gives_less_sure_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor import Workload
    from wasm_advisor.calibration._pace import PaceReading, pace_figures
    from wasm_advisor.model import StartupTransfer, _startup_transfer

    # the pace's spread alone: not the real programs' start-up spread, which the shipped
    # transfer gives every profile but the one it was measured on
    monkeypatch.setattr(_startup_transfer, "load_transfer", lambda: StartupTransfer())

    modes = {"wasmtime:cranelift": {}, "wasmtime:winch": {"compile_ns_per_code_byte": 50.0}}
    base = synthetic_profile(modes)
    steady = base.model_copy(update={"figures": base.figures + pace_figures(
        [PaceReading(t, 1e6, 100.0) for t in (0.0, 10.0, 20.0)])})
    moved = base.model_copy(update={"figures": base.figures + pace_figures(
        [PaceReading(0.0, 1e6, 100.0), PaceReading(10.0, 2.0e6, 100.0),
         PaceReading(20.0, 1e6, 100.0)])})
    w = Workload.preset("plugin-host")
    answers = [Advisor(p, store=ProfileStore(tmp_path / str(i))).recommend(w)
               for i, p in enumerate((steady, moved))]
    assert all(e.pace_sigma == 0.0 for e in Advisor(steady, store=ProfileStore(tmp_path)).evidence)
    assert answers[0].winner == answers[1].winner
    # the same figures: a clear win from the steady sitting, a tie from the one that moved 100 %
    assert answers[0].tied == [answers[0].winner]
    assert len(answers[1].tied) == 2
