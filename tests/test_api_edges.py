"""The edges a new user meets first: what recommend accepts, presets renamed or changed,
units saved as written, and a .wasm given where a workload file belongs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import wasmtime

from wasm_advisor import (
    Advisor,
    ProfileStore,
    Workload,
    WorkloadError,
    WorkloadFileError,
    load_workload,
    preset_names,
    save_workload,
)
from wasm_advisor.cli import main
from wasm_advisor.workload._files import workload_from
from wasm_advisor.workload._presets import preset_data
from wasm_advisor.workload._units import WrittenBytes, format_bytes

from .helpers.synthetic import synthetic_profile


@pytest.fixture
def advisor(tmp_path: Path) -> Advisor:
    profile = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:pulley": {}})
    return Advisor(profile, store=ProfileStore(tmp_path / "cache"))


def test_recommend_takes_a_workload_a_preset_name_or_a_file(
        advisor: Advisor, tmp_path: Path) -> None:
    preset = Workload.preset("plugin-host")
    file = save_workload(preset.replace(name="from-a-file"), tmp_path / "w.toml")
    by_object = advisor.recommend(preset)
    by_name = advisor.recommend("plugin-host")
    assert by_name.workload == preset and by_name.winner == by_object.winner
    assert advisor.recommend(str(file)).workload.name == "from-a-file"
    assert advisor.recommend(file).workload.name == "from-a-file"


@pytest.mark.parametrize(("given", "message"), [
    ("plugin-hots", r"^plugin-hots: no such file, and not a preset \(compute-long-running"),
    ("missing.toml", r"missing\.toml: no such file$"),
    (42, r"^workload: expected a Workload, a preset name or a workload file's path, got int$"),
])
def test_recommend_names_what_it_could_not_read(
        advisor: Advisor, given: object, message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        advisor.recommend(given)  # type: ignore[arg-type]


def test_the_cli_and_the_library_resolve_a_workload_the_same_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor.cli import recommend_commands

    assert recommend_commands.workload_from is workload_from
    monkeypatch.chdir(tmp_path)
    (tmp_path / "edge-iot").write_text("not a workload")  # a file wins over a preset's name
    with pytest.raises(WorkloadFileError, match="unknown format '\\(no extension\\)'"):
        workload_from("edge-iot")
    assert workload_from("plugin-host") == Workload.preset("plugin-host")


@pytest.mark.parametrize("suffix", [".wasm", ".WASM", ".wat"])
def test_a_module_given_as_a_workload_points_to_inspect_and_module_path(
        tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"x{suffix}"
    path.write_bytes(wasmtime.wat2wasm("(module)"))
    assert main(["recommend", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {path}: is a WebAssembly module, not a workload file: run "
                   f"'wasm-advisor inspect {path}' to see what it tells a workload, or give "
                   "it as module.path in a workload file (Workload.from_module in Python)\n")
    with pytest.raises(WorkloadFileError, match="wasm-advisor inspect"):
        load_workload(path)


def test_a_preset_takes_a_name_of_its_own() -> None:
    w = Workload.preset("request-response", name="serverless-http")
    assert w.name == "serverless-http"
    # renaming changes nothing the description speaks of: it stays the preset's
    assert w.description == preset_data("request-response")["description"]
    assert w.replace(name="again").description == w.description


def test_a_changed_preset_says_which_fields_it_changed() -> None:
    original = preset_data("request-response")["description"]
    w = Workload.preset("request-response", host_calls_per_request=40)
    assert w.description == ("The request-response preset, with host_calls_per_request "
                             f"changed. The preset: {original}")
    again = w.replace(linear_memory_bytes="4 MiB", request_rate_per_s=500.0)  # rate unchanged
    assert again.description.startswith(
        "The request-response preset, with host_calls_per_request, linear_memory_bytes "
        "changed. The preset: A short-lived")
    replaced = Workload.preset("plugin-host").replace(cores=2)
    assert replaced.description.startswith("The plugin-host preset, with cores changed.")
    # a description given, or one of the user's own, is kept as it is
    assert w.replace(cores=2, description="mine").description == "mine"
    assert Workload.preset("plugin-host", description="mine").replace(
        cores=2).description == "mine"
    # the same fields set to the preset's own values change nothing
    assert Workload.preset("edge-iot", cores=Workload.preset("edge-iot").target.cores
                           ).description == preset_data("edge-iot")["description"]


@pytest.mark.parametrize("ext", [".toml", ".yaml", ".json"])
def test_sizes_are_saved_as_they_were_written(tmp_path: Path, ext: str) -> None:
    w = Workload.preset("request-response", linear_memory_bytes="256 MB",
                        touched_bytes_per_request="1.5  MB", memory_bytes="8192 MiB",
                        max_memory_per_instance_bytes="512 MB")
    path = save_workload(w, tmp_path / f"w{ext}")
    text = path.read_text()
    for written in ("256 MB", "1.5 MB", "8192 MiB", "512 MB"):
        assert written in text, (written, text)
    assert "250000 KiB" not in text
    loaded = load_workload(path)
    assert loaded == w and loaded.memory.linear_memory_bytes == 256_000_000
    # and again: the second file is the first, byte for byte
    assert save_workload(loaded, tmp_path / f"again{ext}").read_text() == text


def test_a_size_given_as_a_number_saves_in_its_shortest_exact_form() -> None:
    assert format_bytes(256_000_000) == "256 MB"  # not "250000 KiB"
    assert format_bytes(64 << 20) == "64 MiB"
    assert format_bytes(1_572_864) == "1536 KiB"
    assert format_bytes(1000) == "1 kB"
    assert format_bytes(1001) == 1001
    w = Workload.preset("request-response", linear_memory_bytes=256_000_000)
    assert w.to_dict()["memory"]["linear_memory_bytes"] == "256 MB"


def test_a_written_size_is_the_number_it_means() -> None:
    w = Workload.preset("request-response", linear_memory_bytes="256 MB")
    size = w.memory.linear_memory_bytes
    assert isinstance(size, WrittenBytes) and size == 256_000_000 and size + 1 == 256_000_001
    assert pickle.loads(pickle.dumps(size)).written == "256 MB"
    assert w == Workload.preset("request-response", linear_memory_bytes=256_000_000)


@pytest.mark.parametrize("name", preset_names())
def test_presets_still_save_as_shipped(name: str, tmp_path: Path) -> None:
    import tomllib

    saved = tomllib.loads(save_workload(Workload.preset(name), tmp_path / "p.toml").read_text())
    shipped = preset_data(name)
    for group in ("module", "memory", "target"):
        for field, value in shipped.get(group, {}).items():
            if field.endswith("_bytes"):
                assert saved[group][field] == value, (group, field)


def test_compare_takes_what_recommend_takes(advisor: Advisor, tmp_path: Path) -> None:
    file = save_workload(Workload.preset("edge-iot", name="sensor"), tmp_path / "s.yaml")
    frame = advisor.compare(["plugin-host", file, Workload.preset("request-response")])
    assert list(frame["workload"]) == ["plugin-host", "sensor", "request-response"]
