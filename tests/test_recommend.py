"""Advisor, Recommendation and the recommend / check / claims commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_advisor import Advisor, ProfileStore, Recommendation, Workload
from wasm_advisor.cli import main
from wasm_advisor.model._claims import check_claims

from .conftest import REPO
from .helpers.synthetic import synthetic_profile

MODES = {"wasmtime:cranelift": {}, "wasmtime:pulley": {"int_ns_per_iter": 80.0},
         "wasmer:cranelift": {"binding_ns": 3e6, "instantiate_ns": 0.0},
         "wamr:fast-interp": {"int_ns_per_iter": 40.0, "ttfi_ns": 6e6,
                              "rss_per_extra_instance_bytes": 11 << 20}}


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    return synthetic_profile(MODES).save(tmp_path / "profile.json")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_recommend_each_preset_names_a_winner_and_what_decides(
        profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for example in sorted((REPO / "examples").iterdir()):
        status, out, _ = run(capsys, "recommend", str(example), "--profile", str(profile_file))
        assert status == 0
        decided = " wins (" in out and " decides, " in out
        tied = " are tied (" in out and "What separates them: " in out
        assert decided or tied or "is the only runtime/mode within the limits" in out, out
        assert "Where the ranking would flip:" in out


def test_recommend_json_and_plot(profile_file: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "chart.png"
    status, out, _ = run(capsys, "recommend", "plugin-host", "--profile", str(profile_file),
                         "--json", "--plot", str(chart))
    assert status == 0
    data = json.loads(out)
    assert data["winner"] == data["candidates"][0]["runtime"] + ":" + data["candidates"][0]["mode"]
    assert data["deciding_objective"] in ("latency", "throughput", "memory", "cold_start",
                                          "maturity", "tie")
    confidence = data["confidence"]
    assert confidence["tied"][0] == data["winner"] and confidence["resamples"] >= 100
    assert (data["deciding_objective"] == "tie") == (len(confidence["tied"]) > 1)
    assert sum(confidence["win_share"].values()) == pytest.approx(1.0, abs=1e-3)
    assert {"latency_ms", "latency_ms_sigma", "memory_per_instance_bytes",
            "components_ns"} <= set(data["candidates"][0])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 20_000


def test_recommend_bad_input(profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "recommend", "no-such-preset", "--profile", str(profile_file))
    assert status == 2 and "not a preset" in err
    status, _, err = run(capsys, "recommend", "request-response", "--profile", "zzz-none")
    assert status == 2 and "no saved profile matches 'zzz-none'" in err


def test_check_passes_for_the_winner(profile_file: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    advisor = Advisor(str(profile_file))
    winner = advisor.recommend(Workload.preset("request-response")).winner
    assert winner is not None
    status, out, _ = run(capsys, "check", "request-response", "--runtime", winner,
                         "--profile", str(profile_file))
    assert status == 0
    assert out.splitlines()[-1].startswith(f"PASS: {winner} is within its limits")


def test_check_fails_far_from_the_best_and_says_why(profile_file: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "check", "request-response", "--runtime", "wasmtime:pulley",
                         "--profile", str(profile_file), "--margin", "0.01")
    assert status == 1
    assert "FAIL: wasmtime:pulley scores" in out and "below it" in out
    assert "why:" in out


def test_excluded_reasons_keep_their_sources(profile_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "recommend", "edge-iot", "--profile", str(profile_file),
                         "--no-crossovers")
    assert status == 0
    assert "[https://docs.wasmtime.dev/stability-platform-support.html]" in out.replace("\n", "")


def test_check_fails_on_limits(profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "check", "request-response", "--runtime", "wamr",
                         "--profile", str(profile_file), "--max-memory", "4 MiB")
    assert status == 1
    assert "FAIL: wamr:fast-interp needs" in out and "limit 4.0 MiB" in out
    status, out, _ = run(capsys, "check", "request-response", "--runtime", "wasmtime",
                         "--profile", str(profile_file), "--max-latency", "0.001")
    assert status == 1 and "budget 0.001 ms" in out


def test_check_unknown_runtime_and_bad_options(profile_file: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "check", "request-response", "--runtime", "v8",
                         "--profile", str(profile_file))
    assert status == 2 and "--runtime: no runtime or mode 'v8'" in err
    assert "known: wamr, wamr:fast-interp, wasmer, wasmer:cranelift" in err
    status, _, err = run(capsys, "check", "request-response", "--runtime", "wasmtimee",
                         "--profile", str(profile_file))
    assert status == 2 and "did you mean 'wasmtime'?" in err
    status, _, err = run(capsys, "check", "request-response", "--runtime", "wasmtime",
                         "--profile", str(profile_file), "--max-memory", "lots")
    assert status == 2 and "--max-memory" in err
    status, _, err = run(capsys, "check", "request-response", "--runtime", "wasmtime",
                         "--profile", str(profile_file), "--margin", "2")
    assert status == 2 and "--margin" in err


def test_claims_command_gives_a_verdict_for_each(profile_file: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "claims", "--profile", str(profile_file))
    assert status == 0
    for claim_id in "abcdefg":
        assert f"│ {claim_id} " in out


def test_claims_verdicts_follow_the_figures(tmp_path: Path) -> None:
    modes = {"wasmtime:cranelift": {"hostcall_ns_per_iter": 90.0, "mem_seq_ns_per_iter": 1.0,
                                    "mem_rand_ns_per_iter": 10.0},
             "wasmtime:cranelift-explicit-bounds": {"mem_seq_ns_per_iter": 1.2,
                                                    "mem_rand_ns_per_iter": 12.0},
             "wasmer:cranelift": {"hostcall_ns_per_iter": 70.0}}
    advisor = Advisor(synthetic_profile(modes), store=ProfileStore(tmp_path))
    verdicts = {r.id: (r.verdict, r.figures) for r in check_claims(advisor.evidence)}
    assert verdicts["b"][0] == "supported" and "+20%" in verdicts["b"][1]
    assert verdicts["c"][0] == "supported"
    assert verdicts["d"][0] == "not measurable here"  # no WAMR
    assert verdicts["g"][0] == "supported"  # same compute cost as the best


def test_advisor_falls_back_to_the_reference_profile(tmp_path: Path) -> None:
    advisor = Advisor(store=ProfileStore(tmp_path))  # an empty cache: nothing measured here
    assert advisor.profile.kind == "reference"
    r = advisor.recommend(Workload.preset("edge-iot"))
    assert isinstance(r, Recommendation) and "reference profile" in r.provenance[0]


def test_a_profile_from_elsewhere_is_flagged(tmp_path: Path) -> None:
    profile = synthetic_profile(MODES, machine_id="fedcba9876543210")
    r = Advisor(profile, store=ProfileStore(tmp_path)).recommend(
        Workload.preset("request-response"))
    assert "measured elsewhere" in r.provenance[0]
    assert any("measured elsewhere" in w for c in r.ranked for w in c.warnings)


def test_with_reference_fills_in_runtimes_not_measured_here(tmp_path: Path) -> None:
    here = synthetic_profile({"wasmtime:cranelift": {}})
    here = here.model_copy(update={"runtimes": [*here.runtimes, type(here.runtimes[0])(
        name="wamr", available=False, reason="no iwasm found")]})
    alone = Advisor(here, store=ProfileStore(tmp_path))
    assert alone.unavailable == {"wasmer": "not measured", "wamr": "no iwasm found"} or \
        "wamr" in alone.unavailable
    filled = Advisor(here, with_reference=True, store=ProfileStore(tmp_path))
    assert any(e.coefficients.runtime == "wamr" for e in filled.evidence)
    assert len(filled.profiles) == 2


def test_recommendation_shows_itself(profile_file: Path) -> None:
    r = Advisor(str(profile_file)).recommend(Workload.preset("plugin-host"))
    assert repr(r).startswith("<Recommendation 'plugin-host': best ")
    html = r._repr_html_()
    assert "<table>" in html and r.ranked[0].key in html
    frame = r.to_frame()
    assert list(frame["runtime"] + ":" + frame["mode"]) == [c.key for c in r.candidates]
    compare = Advisor(str(profile_file)).compare(
        [Workload.preset(n) for n in ("plugin-host", "request-response")])
    assert list(compare["workload"]) == ["plugin-host", "request-response"]


def test_with_reference_fills_in_runtimes_a_limited_calibration_did_not_try(
        tmp_path: Path) -> None:
    wasmtime_only = synthetic_profile({"wasmtime:cranelift": {}})  # as calibrate(runtimes=[...])
    assert [r.name for r in wasmtime_only.runtimes] == ["wasmtime"]
    advisor = Advisor(wasmtime_only, with_reference=True, store=ProfileStore(tmp_path))
    runtimes = {e.coefficients.runtime for e in advisor.evidence}
    assert {"wasmtime", "wasmer", "wamr"} <= runtimes
    assert advisor.unavailable == {}
    assert all(e.provenance.startswith(advisor.profiles[1].provenance)
               and e.profile_id == advisor.profiles[1].id for e in advisor.evidence
               if e.coefficients.runtime != "wasmtime")


def test_checks_verdict_is_the_same_with_and_without_the_reference_profile(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Wasmtime measured here; --with-reference adds WAMR and Wasmer from the shipped
    # profile, whose cold starts are far from these: the verdict on a mode of this profile
    # rests on its own figures and its own profile's best, and does not move
    here = synthetic_profile({"wasmtime:cranelift": {},
                              "wasmtime:cranelift-pooling": {"instantiate_ns": 9_000.0},
                              "wasmtime:winch": {"compile_ns_per_code_byte": 30.0,
                                                 "int_ns_per_iter": 25.0}})
    path = here.save(tmp_path / "here.json")
    for margin in ("0.01", "0.5"):
        verdicts = []
        for extra in ([], ["--with-reference"]):
            status, out, _ = run(capsys, "check", "request-response", "--runtime",
                                 "wasmtime:cranelift-pooling", "--profile", str(path),
                                 "--margin", margin, *extra)
            verdict = next(line for line in out.splitlines()
                           if line.startswith(("PASS", "FAIL")))
            verdicts.append((status, verdict.split(". ")[0]))
        assert verdicts[0] == verdicts[1], verdicts
        # 80 % of Winch's score: a fail within 1 %, a pass within half the best's score
        assert verdicts[0][0] == (1 if margin == "0.01" else 0)
        if margin == "0.01":
            assert "why: wasmtime winch wins" in out and "cold start decides" in out
