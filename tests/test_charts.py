"""The charts: every one draws, saves as PNG or SVG by suffix, and the CLI picks them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasm_advisor import Advisor, AdvisorError, Recommendation, Workload
from wasm_advisor.cli import main
from wasm_advisor.present._charts import CHARTS, chart_figure, save_charts, save_figure
from wasm_advisor.present._drawing import MAX_BARS
from wasm_advisor.present._features_chart import feature_matrix
from wasm_advisor.present._memory_chart import total_memory_bytes

from .helpers.synthetic import synthetic_profile

MODES = {"wasmtime:cranelift": {}, "wasmtime:pulley": {"int_ns_per_iter": 80.0},
         "wamr:fast-interp": {"int_ns_per_iter": 40.0, "ttfi_ns": 6e6,
                              "rss_per_extra_instance_bytes": 11 << 20}}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    profile = synthetic_profile(MODES, unsupported={"wamr:fast-interp": ["simd"]})
    return profile.save(tmp_path / "profile.json")


@pytest.fixture
def recommendation(profile_file: Path) -> Recommendation:
    return Advisor(str(profile_file)).recommend(Workload.preset("plugin-host"))


@pytest.mark.parametrize("chart", list(CHARTS))
def test_each_chart_has_titles_labels_and_saves(recommendation: Recommendation, chart: str,
                                               tmp_path: Path) -> None:
    figure = recommendation.plot(chart=chart)
    for ax in figure.axes:
        assert ax.get_title(loc="left"), f"{chart}: an axis without a title"
    if chart not in ("features",):
        assert all(ax.get_xlabel() for ax in figure.axes)
    png, svg = save_figure(figure, tmp_path / "c.png"), save_figure(figure, tmp_path / "c.svg")
    assert png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()


def test_unknown_chart_and_suffix_are_clear_errors(recommendation: Recommendation,
                                                   tmp_path: Path) -> None:
    with pytest.raises(AdvisorError, match="unknown chart 'pie'"):
        chart_figure(recommendation, "pie")
    with pytest.raises(AdvisorError, match=r"c\.gif: give a chart file ending in \.png"):
        save_charts(recommendation, tmp_path / "c.gif")
    assert not (tmp_path / "c.gif").exists()


def test_all_writes_one_file_per_chart(recommendation: Recommendation, tmp_path: Path) -> None:
    paths = save_charts(recommendation, tmp_path / "review.svg", "all")
    assert [p.name for p in paths] == [f"review-{c}.svg" for c in CHARTS if c != "overview"]
    assert all(p.stat().st_size > 5_000 for p in paths)


def test_feature_matrix_says_passed_failed_and_not_run(recommendation: Recommendation) -> None:
    rows, features, cells = feature_matrix(recommendation)
    assert set(rows) == set(MODES)
    wamr = cells[rows.index("wamr:fast-interp")]
    assert wamr[features.index("simd")] == "failed"
    assert wamr[features.index("threads")] == "passed"
    assert wamr[features.index("memory64")] == "not run"  # the synthetic profile never probed it


def test_memory_curve_is_the_models_total(recommendation: Recommendation) -> None:
    p = recommendation.ranked[0].prediction
    n = p.effective_concurrency
    assert total_memory_bytes(p, n) == pytest.approx(p.memory_total_bytes)
    assert total_memory_bytes(p, 1) == pytest.approx(sum(
        part.bytes for part in p.memory_parts(1)))
    assert total_memory_bytes(p, 1) >= p.runtime_memory_first_bytes + (
        p.features.linear_memory_bytes)


def test_memory_chart_shows_every_mode_and_what_each_runtime_adds(
        recommendation: Recommendation) -> None:
    from wasm_advisor.present._memory_chart import CONCURRENCY, KIB, memory_figure

    figure = memory_figure(recommendation)
    total_ax, own_ax, parts_ax = figure.axes
    lines = {line.get_label(): line for line in own_ax.get_lines() if line.get_label() in MODES}
    assert set(lines) == set(MODES)
    assert {line.get_label() for line in total_ax.get_lines()} >= set(MODES)
    for c in recommendation.ranked:
        p = c.prediction
        own = lines[c.key].get_ydata()
        n = CONCURRENCY[-1]
        assert own[-1] == pytest.approx(
            (total_memory_bytes(p, n) / n - p.features.linear_memory_bytes) / KIB)
    assert "beyond its linear memory" in own_ax.get_ylabel()
    # the deployment by part: a bar per mode, as long as its whole deployment
    keys = [c.key for c in recommendation.ranked[:MAX_BARS]][::-1]  # the winner on top
    ends: dict[str, float] = {}
    for patch in parts_ax.patches:
        key = keys[round(patch.get_y() + patch.get_height() / 2)]
        ends[key] = max(ends.get(key, 0.0), patch.get_x() + patch.get_width())
    for c in recommendation.ranked[:MAX_BARS]:
        assert ends[c.key] == pytest.approx(c.prediction.memory_total_bytes / 2**20)


def test_cli_plot_with_chart(profile_file: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mem.svg"
    status = main(["recommend", "plugin-host", "--profile", str(profile_file), "--plot",
                   str(out), "--chart", "memory"])
    assert status == 0 and "<svg" in out.read_text()
    assert f"charts saved: {out}" in capsys.readouterr().out
    status = main(["recommend", "plugin-host", "--profile", str(profile_file), "--plot",
                   str(tmp_path / "all.png"), "--chart", "all"])
    assert status == 0
    assert sorted(p.name for p in tmp_path.glob("all-*.png")) == sorted(
        f"all-{c}.png" for c in CHARTS if c != "overview")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_cli_plot_to_an_unwritable_place_is_one_line(profile_file: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    status = main(["recommend", "plugin-host", "--profile", str(profile_file), "--plot",
                   str(locked / "c.png")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot write the chart" in err


def test_cli_plot_into_a_missing_folder_is_one_line(profile_file: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["recommend", "plugin-host", "--profile", str(profile_file), "--plot",
                   str(tmp_path / "no" / "such" / "c.png")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot write the chart" in err
