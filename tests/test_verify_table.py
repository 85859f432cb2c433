"""verify's answer: a table per mode and phase whose errors cannot be read backwards, a
line per mode that did not run, and a verdict on the predicted order of the modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_advisor import Workload
from wasm_advisor.cli import main
from wasm_advisor.verification._report import ModeVerification, VerifyReport
from wasm_advisor.verification._summary import PhaseCheck, not_run, order_verdict, phase_checks

from .helpers.synthetic import synthetic_profile

FAST = "eb-md5sum"  # about 0.1-0.3 s a run on Wasmtime's compilers


@pytest.mark.parametrize(("predicted", "measured", "said", "close"), [
    (1e6, 2.5e6, "measured 2.50× the prediction (slower than predicted)", False),
    (1e6, 0.4e6, "measured 0.40× the prediction (faster than predicted)", False),
    (1e6, 1.2e6, "measured 1.20× the prediction (slower than predicted)", True),
    (1e6, 1e6, "as predicted", True),
    (None, 1e6, "no prediction", None),
])
def test_the_error_names_its_direction(predicted: float | None, measured: float, said: str,
                                       close: bool | None) -> None:
    check = PhaseCheck("wasmtime:cranelift", "execute", predicted, measured)
    assert check.said() == said and check.close is close
    if predicted:
        assert check.to_dict()["measured_over_predicted"] == pytest.approx(measured / predicted)


def mode(key: str, predicted_ms: float, measured_ms: float, phase: str = "execute",
         failure: str | None = None) -> ModeVerification:
    return ModeVerification(key, "wasmtime-py", failure=failure,
                            measured_ns={phase: measured_ms * 1e6},
                            predicted_ns={phase: predicted_ms * 1e6})


def report(*modes: ModeVerification, skipped: dict[str, str] | None = None) -> VerifyReport:
    return VerifyReport(Workload.preset("request-response"), None, list(modes), [],
                        skipped=skipped or {})


def test_the_order_holds_when_the_measurements_agree_or_cannot_tell() -> None:
    order = order_verdict(report(mode("a", 1, 2), mode("b", 3, 5), mode("c", 9, 5.2)))
    assert order is not None and order.held and order.phase == "execute"
    assert order.predicted == ["a", "b", "c"] and order.ties == [("b", "c")]
    assert order.said().startswith("the predicted order held (execution, fastest first): "
                                   "a < b < c; measured too close to order (within 10%): b and c")


def test_an_inversion_says_which_pair_and_by_how_much() -> None:
    order = order_verdict(report(mode("a", 1, 6), mode("b", 3, 2), mode("c", 3.1, 7)))
    assert order is not None and not order.held
    assert order.inversions == [("a", "b", 3.0)]
    assert order.predicted_ties == [("b", "c")]  # predicted 3 and 3.1: no predicted order
    assert "a was predicted faster than b but took 3.00× as long" in order.said()
    assert "measured, fastest first: b < a < c" in order.said()
    assert order.to_dict()["held"] is False


def test_the_order_falls_back_to_whole_runs_and_leaves_out_failed_modes() -> None:
    order = order_verdict(report(mode("a", 1, 1, "total"), mode("b", 2, 2, "total"),
                                 mode("c", 1, 1, failure="exited with status 3")))
    assert order is not None and order.phase == "total" and order.predicted == ["a", "b"]
    assert order.said().startswith("the predicted order held (whole runs")
    assert order_verdict(report(mode("a", 1, 1))) is None


def test_every_mode_that_did_not_run_is_listed_with_why() -> None:
    r = report(mode("a", 1, 1), mode("b", 1, 1, failure="time limit of 1 s hit"),
               skipped={"wamr": "not in the profile: iwasm not found", "pace": "failed",
                        "instruction count": "trap"})
    assert not_run(r) == {"b": "time limit of 1 s hit",
                          "wamr": "not in the profile: iwasm not found"}
    assert [c.mode for c in phase_checks(r)] == ["a"]
    text = r.explain()
    assert "  wamr: did not run: not in the profile: iwasm not found" in text
    assert "  b: did not run: time limit of 1 s hit" in text


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    profile = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:winch": {}})
    return profile.save(tmp_path / "p.json")


def verify_args(corpus: Path, profile_file: Path) -> list[str]:
    program = next(p for p in json.loads((corpus / "corpus.json").read_text())["programs"]
                   if p["name"] == FAST)
    return ["verify", str(corpus / program["module"]), "--dir", str(corpus / program["workdir"]),
            "--profile", str(profile_file), "--repeats", "1", "--rounds", "1",
            "--warm-budget", "0", "--runtime", "wasmtime:cranelift",
            "--runtime", "wasmtime:winch", "--runtime", "wamr"]


@pytest.mark.slow
def test_verify_prints_a_table_per_mode_on_a_corpus_program(
        corpus: Path, profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(verify_args(corpus, profile_file)) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    for key in ("wasmtime:cranelift", "wasmtime:winch"):
        assert f"{key} (wasmtime-py, 1 warm runs)" in out
    table = out[out.index("wasmtime:cranelift (wasmtime-py"):out.index("wasmtime:winch (")]
    assert "┃ phase" in table and "measured ÷ predicted" in table
    for phase in ("compile", "instantiate", "execute", "total"):
        assert f"│ {phase}" in table
    assert "× the prediction (" in table and "than predicted)" in table
    # wamr is not in this profile: a line says so
    assert "Did not run:\n  wamr: not in the profile predicted from, whose modes are " \
        "wasmtime:cranelift, wasmtime:winch" in out
    assert "\nOrder of the modes: the predicted order " in out


@pytest.mark.slow
def test_verify_json_carries_the_same(corpus: Path, profile_file: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*verify_args(corpus, profile_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    phases = {(p["mode"], p["phase"]): p for p in data["phases"]}
    execute = phases[("wasmtime:winch", "execute")]
    assert execute["measured_over_predicted"] == pytest.approx(
        execute["measured_ms"] / execute["predicted_ms"])
    assert execute["error"].startswith(f"measured {execute['measured_over_predicted']:.2f}×")
    row = next(r for r in data["modes"] if r["mode"] == "wasmtime:winch")
    assert row["execute_measured_over_predicted"] == pytest.approx(
        execute["measured_over_predicted"])
    assert row["execute_ratio"] == pytest.approx(1 / execute["measured_over_predicted"])
    assert data["not_run"] == {"wamr": "not in the profile predicted from, whose modes are "
                                       "wasmtime:cranelift, wasmtime:winch"}
    order = data["order"]
    assert order["phase"] == "execute"
    assert sorted(order["predicted"]) == sorted(order["measured"]) == [
        "wasmtime:cranelift", "wasmtime:winch"]
    assert order["held"] == (not order["inversions"]) and order["verdict"]
