"""analyse_mode's whole output on synthetic worker results for five kinds of mode, against
the figures recorded in tests/data/analysis_golden.json: a change to how the analysis is
written must leave every figure, feature and failure as it was.

Regenerate the file (only for a change meant to alter the figures, and read its diff):
``python -m tests.test_analysis_golden``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from wasm_advisor.calibration._analysis import analyse_mode
from wasm_advisor.runtimes.base import Mode

GOLDEN = Path(__file__).parent / "data" / "analysis_golden.json"
CODE_SIZES = (4096, 12288, 24576)


def _noisy(rng: random.Random, value: float) -> float:
    return round(value * rng.uniform(0.97, 1.03), 1)


def _guest(rng: random.Random, per_iter: float, instances: int) -> dict[str, Any]:
    def run() -> list[list[float]]:
        return [[n, _noisy(rng, 2000 + per_iter * n)] for n in (1 << 16, 1 << 17, 1 << 18) * 2]

    runs = [run() for _ in range(instances)]
    return {"ok": True, "samples": runs[0], **({"instances": runs} if instances > 1 else {})}


def _run(rng: random.Random, x: float, phases: tuple[str, ...], *, ttfi: bool = True,
         wall: bool = True, artifact: bool = False) -> dict[str, Any]:
    cost = {"compile": 5e5 + 40.0 * x, "load": 2e4 + 2.0 * x, "instantiate": 3e4 + 0.5 * x,
            "instantiate_again": 1e4 + 0.25 * x}
    run: dict[str, Any] = {"phases_ns": {p: _noisy(rng, cost[p]) for p in phases}}
    if ttfi:
        run["ttfi_ns"] = _noisy(rng, 2e6 + 50.0 * x)
    if wall:
        run["wall_ns"] = _noisy(rng, 4e6 + 60.0 * x)
    if artifact:
        run["artifact_bytes"] = int(3 * x + 1000)
    return run


def _host(rng: random.Random, family: str, sizes: tuple[int, ...], phases: tuple[str, ...],
          **kind: bool) -> dict[str, Any]:
    return {f"host:{family}:{s}": {"ok": True, "runs": [_run(rng, float(s), phases, **kind)
                                                        for _ in range(3)]} for s in sizes}


def _families(rng: random.Random, phases: tuple[str, ...], families: tuple[str, ...],
              **kind: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for family in families:
        sizes = {"empty": (0,), "pages": (1, 256, 1024), "data": (1024, 262144)}.get(
            family, CODE_SIZES)
        results |= _host(rng, family, sizes, phases,
                         artifact=family in ("code", "code-precompiled") and "load" in phases,
                         **kind)
    return results


def _common(rng: random.Random) -> dict[str, Any]:
    return {"guest:int": _guest(rng, 1.5, 1), "guest:mem_rand": _guest(rng, 5.0, 3),
            "guest:hostcall": _guest(rng, 40.0, 1), "guest:simd": _guest(rng, 9.0, 1),
            # samples at one size: no slope, a failure
            "guest:float": {"ok": True, "samples": [[1 << 16, 9e5], [1 << 16, 9.1e5]]},
            "probe:simd": {"ok": True, "status": "supported", "detail": ""},
            "memory": {"ok": True, "first_instance_bytes": 9_500_000,
                       "per_extra_instance_bytes": 7_000, "runtime_bytes": None,
                       "instances": 512, "method": "growth"}}


ALL = ("empty", "code", "code-local", "code-run", "code-precompiled", "pages", "data")
CASES: dict[str, tuple[Mode, tuple[str, ...], dict[str, bool]]] = {
    "wasmtime": (Mode("wasmtime", "cranelift", "wasmtime-py", "Wasmtime · Cranelift",
                      jit=True),
                 ("compile", "load", "instantiate", "instantiate_again"), {}),
    "wamr-aot": (Mode("wamr", "aot", "iwasm CLI", "WAMR · AOT", precompiled=True,
                      notes="a note of the mode's own"), ("compile",), {}),
    "wamr-jit": (Mode("wamr", "llvm-jit", "iwasm CLI", "WAMR · LLVM JIT", jit=True,
                      slow_compile=True, lazy_compile=True), (), {"ttfi": False}),
    "wasmer": (Mode("wasmer", "cranelift", "wasmer-sdk", "Wasmer · Cranelift", jit=True),
               (), {"wall": False}),
    "wamr-embedded": (Mode("wamr", "aot-embedded", "libiwasm (in-process)",
                           "WAMR · AOT, embedded", precompiled=True),
                      ("compile", "load", "instantiate"), {}),
}


def analysed(case: str) -> Any:
    """analyse_mode's figures, features and failures for one case, as JSON would hold them."""
    mode, phases, kind = CASES[case]
    rng = random.Random(case)
    results = _common(rng) | _families(rng, phases, ALL, **kind)
    if case == "wamr-aot":
        results["probe:simd"] = {"ok": True, "status": "unsupported", "detail": "no SIMD"}
        results["memory"] = {"ok": True, "first_instance_bytes": 3_000_000,
                             "per_extra_instance_bytes": 2_000_000, "method": "peak"}
        results["guest:call"] = {"ok": False, "reason": "exit 1: trapped"}
    if case == "wamr-embedded":
        results["memory"] |= {"runtime_bytes": 9_200_000}
    failures = {"guest:simd": "load failed", "probe:threads": "worker died", "host:data:9": "x"}
    figures, features, failed = analyse_mode(
        mode, results, failures,
        instructions_per_iter=lambda k: {"int": 18, "simd": 136}.get(k),
        scan_ops_per_iter=lambda k: 0.0 if k == "int" else None,
        simd_ops_per_iter=lambda k: 42 if k == "simd" else 0)
    return json.loads(json.dumps({
        "figures": [f.model_dump(mode="json") for f in figures],
        "features": [f.model_dump(mode="json") for f in features],
        "failures": [f.model_dump(mode="json") for f in failed]}))


def test_every_figure_is_as_recorded() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert sorted(golden) == sorted(CASES)
    for case in CASES:
        now = analysed(case)
        for part in ("features", "failures"):
            assert now[part] == golden[case][part], (case, part)
        assert [f["metric"] for f in now["figures"]] == \
            [f["metric"] for f in golden[case]["figures"]], case
        for figure, recorded in zip(now["figures"], golden[case]["figures"], strict=True):
            assert figure == recorded, (case, figure["metric"])


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    lines = [f'"{case}": {{' + ",\n".join(
        f'"{part}": [\n' + ",\n".join(json.dumps(x, sort_keys=True) for x in rows) + "\n]"
        for part, rows in analysed(case).items()) + "}" for case in CASES]
    GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n")
