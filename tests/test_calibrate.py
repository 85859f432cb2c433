"""An end-to-end calibration of one Wasmtime mode, in real worker processes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from wasm_advisor import CalibrationProgress, ProfileStore, calibrate
from wasm_advisor.calibration._pace import EXECUTE_METRIC
from wasm_advisor.cli import main
from wasm_advisor.profiles._summary import summarize


@pytest.fixture(scope="module")
def profile_and_events(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store = ProfileStore(tmp_path_factory.mktemp("cache"))
    events: list[CalibrationProgress] = []
    with pytest.MonkeyPatch.context() as patch:
        # what one pass measures, whatever else runs on the machine: no re-measurement
        # (tests/test_steadiness.py covers that)
        patch.setattr(importlib.import_module("wasm_advisor.calibration._calibrate"),
                      "RETRY_ROUNDS", 0)
        profile = calibrate("quick", runtimes=["wasmtime"],
                            modes=["cranelift", "wasmtime:pulley"],
                            progress=events.append, store=store)
    return profile, events, store


def test_profile_has_every_figure(profile_and_events) -> None:  # type: ignore[no-untyped-def]
    profile, _, _ = profile_and_events
    assert profile.modes() == [("wasmtime", "cranelift"), ("wasmtime", "pulley")]
    metrics = {f.metric for f in profile.figures if f.mode == "cranelift"}
    for kernel in ("int", "float", "call", "mem_seq", "mem_rand", "hostcall"):
        assert f"{kernel}_ns_per_iter" in metrics
    assert {"compile_ns_per_code_byte", "load_ns_per_code_byte", "instantiate_ns", "ttfi_ns",
            "instantiate_ns_per_data_byte", "rss_first_instance_bytes",
            "first_instance_ns_per_code_byte", "first_instance_ns_per_data_byte"} <= metrics
    # the per-instance figure is the steady state, timed on repeat instances
    assert profile.figure("wasmtime", "cranelift", "instantiate_ns_per_page").params["source"] \
        == "instantiate_again"
    # every kernel's slope from 3 samples at least (the pace is read twice: tested below)
    assert all(f.runs >= 3 for f in profile.figures
               if f.metric.endswith("_per_iter") and f.metric != EXECUTE_METRIC)
    assert profile.failures == []
    assert {r.feature for r in profile.features if r.mode == "cranelift"} >= {"simd", "threads"}


def test_ratios_between_modes_with_wide_margins(profile_and_events) -> None:  # type: ignore[no-untyped-def]
    profile, _, _ = profile_and_events

    def value(mode: str, metric: str) -> float:
        f = profile.figure("wasmtime", mode, metric)
        assert f is not None
        return f.value

    assert value("pulley", "int_ns_per_iter") > 2 * value("cranelift", "int_ns_per_iter")
    assert value("cranelift", "compile_ns_per_code_byte") > 5 * value(
        "cranelift", "load_ns_per_code_byte")
    assert value("cranelift", "ttfi_ns") > value("cranelift", "instantiate_ns")


def test_progress_events_cover_every_task(profile_and_events) -> None:  # type: ignore[no-untyped-def]
    _, events, _ = profile_and_events
    last = {(e.runtime, e.mode): e for e in events}
    assert all(e.done == e.total for e in last.values())
    assert {e.mode for e in events} == {"cranelift", "pulley", "pace", "verdict"}
    # the calibration ends with its verdict, which the profile keeps
    assert events[-1].mode == "verdict" and profile_and_events[0].steadiness is not None
    assert events[-1].task == profile_and_events[0].steadiness.summary
    # the machine's pace, read before the first mode and after the last
    assert [e.task for e in events if e.mode == "pace"] == ["pace reading 1", "pace reading 2"]


def test_the_machines_pace_is_read_before_and_after(profile_and_events) -> None:  # type: ignore[no-untyped-def]
    profile, _, _ = profile_and_events
    compile_f = profile.figure("wasmtime", "cranelift", "pace_compile_ns")
    execute_f = profile.figure("wasmtime", "cranelift", "pace_int_ns_per_iter")
    assert compile_f is not None and execute_f is not None
    assert compile_f.runs == execute_f.runs == 2
    first, last = (x for x, _ in compile_f.samples)
    assert first < last <= profile.duration_s  # seconds into the calibration
    assert compile_f.value > 1e6 and execute_f.value > 0


def test_saved_profile_loads_and_summarizes(profile_and_events) -> None:  # type: ignore[no-untyped-def]
    profile, _, store = profile_and_events
    assert store.latest() == profile
    frame = summarize(profile)
    assert list(frame["mode"]) == ["cranelift", "pulley"]
    assert (frame["int_ns_per_instr"] > 0).all()


def test_cli_calibrate_and_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    assert main(["calibrate", "--quick", "--runtime", "wasmtime", "--mode", "winch"]) == 0
    out = capsys.readouterr().out
    assert "wasmtime:winch" in out and "profile saved:" in out
    assert main(["profiles"]) == 0
    assert "this machine" in capsys.readouterr().out
    profile = ProfileStore(tmp_path).latest()
    assert profile is not None
    assert main(["profiles", "export", profile.id, str(tmp_path / "x.json")]) == 0
    assert main(["profiles", "compare", profile.id, str(tmp_path / "x.json")]) == 0
    assert "int_ns_per_iter" in capsys.readouterr().out
    assert main(["profiles", "show", "nonesuch"]) == 2
    assert "no saved profile matches" in capsys.readouterr().err


def test_a_progress_event_says_how_far_and_about_how_long_is_left() -> None:
    from wasm_advisor import CalibrationProgress

    event = CalibrationProgress("wasmtime", "pulley", "code family", 3, 10, True,
                                overall_done=25, overall_total=100, elapsed_s=10.0)
    assert event.remaining_s == pytest.approx(30.0)
    assert event.line() == ("wasmtime:pulley: code family · 25/100 steps · 10 s, "
                            "about 30 s left")
    first = CalibrationProgress("machine", "pace", "pace reading 1", 1, 3, False)
    assert first.remaining_s is None and first.line() == "pace: pace reading 1 (failed) · 0 s"
