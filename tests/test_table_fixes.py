"""Tables and messages that read right: two sizes that differ print differently, no
spread reads as "±0%", and the presets and profile tables fit their terminals."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from wasm_advisor import Advisor, ProfileStore, Workload, preset_names
from wasm_advisor.cli.calibrate_commands import print_summary
from wasm_advisor.cli.workload_commands import print_presets
from wasm_advisor.present._spread_cell import spread_cell
from wasm_advisor.profiles._profile import reference_profiles
from wasm_advisor.profiles._summary import summary_rows
from wasm_advisor.workload._units import human_bytes_apart

from .helpers.synthetic import synthetic_profile


@pytest.mark.parametrize(("a", "b", "said"), [
    (262_000_000, 261_900_000, ("249.9 MiB", "249.8 MiB")),  # both "0.24 GiB" before
    (16 << 30, 8 << 30, ("16.0 GiB", "8.0 GiB")),
    ((256 << 20) + 1, 256 << 20, ("256.000001 MiB", "256.000000 MiB")),
    ((1 << 30) + 1, 1 << 30, ("1,073,741,825 bytes", "1,073,741,824 bytes")),
    (300, 200, ("300 bytes", "200 bytes")),
    (1 << 30, 1 << 30, ("1.0 GiB", "1.0 GiB")),
])
def test_two_sizes_print_apart_when_they_differ(a: int, b: int, said: tuple[str, str]) -> None:
    assert human_bytes_apart(a, b) == said


def test_the_target_memory_exclusion_shows_two_different_sizes(tmp_path: Path) -> None:
    advisor = Advisor(synthetic_profile({"wasmtime:cranelift": {}}),
                      store=ProfileStore(tmp_path / "cache"))
    roomy = Workload.preset("request-response", memory_bytes="64 GiB")
    total = advisor.recommend(roomy).candidates[0].prediction.memory_total_bytes
    tight = roomy.replace(memory_bytes=int(total) - 64 * 1024)  # 64 KiB short
    (candidate,) = advisor.recommend(tight).candidates
    (reason,) = [r for r in candidate.excluded if "more than the target's" in r]
    need, have = human_bytes_apart(total, int(total) - 64 * 1024)
    assert need != have and reason.endswith(f"need {need}, more than the target's {have}")


@pytest.mark.parametrize(("sigma", "here", "cell"), [
    (0.12, True, "±12%"),
    (0.001, True, "±<1%"),
    (0.0, True, "–"),
    (None, True, "–"),
    (0.0, False, "n/a: measured elsewhere"),
    (0.3, False, "±30%"),
    (float("nan"), True, "–"),
])
def test_no_spread_is_never_written_as_zero(sigma: float | None, here: bool, cell: str) -> None:
    assert spread_cell(sigma, here) == cell


def rendered(draw: object, width: int) -> str:
    console = Console(width=width, record=True, highlight=False, force_terminal=False)
    draw(console)  # type: ignore[operator]
    return console.export_text()


def test_presets_read_at_80_columns() -> None:
    text = rendered(print_presets, 80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    assert "…" not in text
    flat = " ".join(text.split())
    for name in preset_names():
        assert f"{name}: {' '.join(Workload.preset(name).description.split())}" in flat
    assert "req/s: requests per second across the service" in text


def test_the_profile_summary_reads_at_100_columns() -> None:
    profile = reference_profiles()[0]
    text = rendered(lambda console: print_summary(profile, console), 100)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 100
    assert "…" not in text  # nothing cut: every heading and figure whole
    assert "compile, load: µs per KiB of code" in text and "ns per WebAssembly instruction" in text
    assert "wasmtime (wasmtime-py)" in text and "│   cranelift " in text
    missing = [r for r in summary_rows(profile) if r["features_missing"]]
    assert missing  # the reference's interpreters skip some proposals
    for row in missing:
        line = f"  {row['runtime']}:{row['mode']}: " + ", ".join(row["features_missing"])
        assert line in text
