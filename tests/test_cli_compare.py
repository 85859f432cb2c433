"""``wasm-advisor compare``: many workloads in one run; a bad file costs one line, not the run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from wasm_advisor import Workload, preset_names
from wasm_advisor.cli import main
from wasm_advisor.workload._files import dump_workload

from .helpers.synthetic import synthetic_profile
from .test_recommend import MODES

FILES = 500


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    return synthetic_profile(MODES).save(tmp_path / "profile.json")


def write_workloads(folder: Path, count: int) -> None:
    folder.mkdir()
    names, formats = preset_names(), ("toml", "yaml", "json")
    for i in range(count):
        w = Workload.preset(names[i % len(names)], request_rate_per_s=10.0 * (1 + i))
        w = w.model_copy(update={"name": f"w{i:03d}"})
        fmt = formats[i % 3]
        (folder / f"w{i:03d}.{fmt}").write_text(dump_workload(w, fmt))


def test_a_directory_of_500_workloads_in_one_run(
        tmp_path: Path, profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "workloads"
    write_workloads(folder, FILES)
    (folder / "broken.toml").write_text("module = [")
    (folder / "invalid.json").write_text('{"module": {"module_bytes": -1}}')
    (folder / "notes.txt").write_text("not a workload: skipped, not an error")
    start = time.perf_counter()
    status = main(["compare", str(folder), "--profile", str(profile_file), "--json"])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert status == 2  # two files were bad
    data = json.loads(out)
    assert len(data["rows"]) == FILES
    assert [r["workload"] for r in data["rows"]] == [f"w{i:03d}" for i in range(FILES)]
    # a winner, or none because every runtime/mode is excluded (edge-iot at high rates)
    assert all(r["winner"] or r["excluded"] == len(MODES) for r in data["rows"])
    assert [e["source"] for e in data["errors"]] == [str(folder / "broken.toml"),
                                                    str(folder / "invalid.json")]
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "invalid.json" in lines[1] and "module.module_bytes" in lines[1]
    assert elapsed < 30, f"{elapsed:.1f} s for {FILES} workloads"  # a few s on a laptop


def test_compare_table_names_file_winner_runner_up_and_what_decides(
        profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import REPO

    status = main(["compare", str(REPO / "examples"), "edge-iot", "--profile",
                   str(profile_file)])
    out = capsys.readouterr().out
    assert status == 0
    assert "measured here" in out.splitlines()[0]
    for heading in ("workload file", "winner", "runner-up", "decides"):
        assert heading in out
    assert "request-response.toml" in out and "5 compared, 0 not readable" in out


def test_compare_names_files_whole_however_deep_their_folder(
        tmp_path: Path, profile_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import REPO

    deep = tmp_path.joinpath(*(["a-long-folder-name-like-a-ci-checkout"] * 4))
    deep.mkdir(parents=True)
    names = sorted(p.name for p in (REPO / "examples").iterdir() if p.suffix in
                   (".toml", ".yaml", ".json"))
    for name in names:
        (deep / name).write_bytes((REPO / "examples" / name).read_bytes())
    assert main(["compare", str(deep), "--profile", str(profile_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f"workload files in {deep}"  # the folder once, above the table
    for name in names:  # each file name whole, on one row
        assert sum(line.split("│")[1].strip() == name for line in lines if "│" in line) == 1


def test_compare_refuses_an_empty_directory(tmp_path: Path, profile_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "empty"), "--profile", str(profile_file)]) == 2
    assert "no workload files" in capsys.readouterr().err


def test_a_profile_from_another_machine_is_always_said_to_be(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    foreign = synthetic_profile(MODES, machine_id="fedcba9876543210").save(tmp_path / "f.json")
    for command in (["recommend", "plugin-host"], ["compare", "plugin-host"],
                    ["check", "plugin-host", "--runtime", "wasmtime"], ["claims"]):
        assert main([*command, "--profile", str(foreign)]) in (0, 1)
        out = capsys.readouterr().out
        assert "measured elsewhere (" in out and "host elsewhere" in out, command
    assert main(["recommend", "plugin-host", "--profile", str(foreign), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "measured elsewhere" in data["profiles"][0]
    assert not any(c["measured_here"] for c in data["candidates"])
