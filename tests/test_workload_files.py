"""Round trips through TOML, YAML and JSON; bad files named with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_advisor import (
    Workload,
    WorkloadError,
    WorkloadFileError,
    load_workload,
    preset_names,
    save_workload,
)
from wasm_advisor.workload._files import parse_workload

from .conftest import REPO


@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("ext", [".toml", ".yaml", ".yml", ".json"])
def test_presets_round_trip_through_every_format(name: str, ext: str, tmp_path: Path) -> None:
    w = Workload.preset(name)
    path = save_workload(w, tmp_path / f"w{ext}")
    assert load_workload(path) == w


def test_examples_hold_one_file_per_preset_and_match_it() -> None:
    examples = {p.stem: p for p in (REPO / "examples").iterdir() if p.suffix != ".md"}
    assert set(examples) == set(preset_names())
    assert {p.suffix for p in examples.values()} >= {".toml", ".yaml", ".json"}
    for name, path in examples.items():
        assert load_workload(path) == Workload.preset(name), path


def test_module_path_is_relative_to_the_workload_file(tmp_path: Path) -> None:
    import wasmtime

    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "m.wasm").write_bytes(wasmtime.wat2wasm("(module (memory 1))"))
    (tmp_path / "w.toml").write_text(
        '[module]\npath = "mods/m.wasm"\n[instances]\nlifetime = "per-request"\n'
        "request_rate_per_s = 1\n[work]\ncompute_instructions_per_request = 1\n"
    )
    w = load_workload(tmp_path / "w.toml")
    assert w.module.module_bytes == (tmp_path / "mods" / "m.wasm").stat().st_size


def one_problem(path: Path) -> str:
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    assert len(info.value.problems) >= 1
    return str(info.value.problems[0])


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.toml", b"", "empty.toml: is empty"),
        ("blank.yaml", b"  \n\n", "blank.yaml: is empty"),
        ("binary.json", b"\x00\x01\x02\xff", "is a binary file"),
        ("latin1.toml", b"name = '\xe9'\n", "is not UTF-8"),
        ("syntax.json", b'{"module": \n  {"module_bytes": 3,,}}', "syntax.json:2: not valid JSON"),
        ("syntax.yaml", b"module:\n  - a\n b: c\n", "syntax.yaml:3: not valid YAML"),
        ("syntax.toml", b"[module]\nmodule_bytes = = 3\n", "syntax.toml:2: not valid TOML"),
        ("list.json", b"[1, 2]", "top level must be a table"),
        ("nan.json", b'{"work": NaN}', "not valid JSON"),
        ("alias.yaml", b"a: &x [1]\nb: *x\n", "alias.yaml:2: YAML aliases"),
        ("notes.txt", b"name = 'x'", "unknown format '.txt'"),
    ],
)
def test_bad_files_get_one_clear_line(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WorkloadFileError) as info:
        load_workload(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(WorkloadFileError, match="no such file"):
        load_workload(tmp_path / "nope.toml")
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(WorkloadFileError, match="is a directory"):
        load_workload(tmp_path / "d.toml")


TOML_WITH_PROBLEMS = """name = "bad"

[module]
module_bytes = "5 TB"

[instances]
lifetime = "per-request"
request_rate_per_s = 10

[work]
compute_instructions_per_request = 1e6
host_calls_per_request = 1e12
colour = "blue"
"""


def test_problems_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(TOML_WITH_PROBLEMS)
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    lines = sorted(str(p) for p in info.value.problems)
    assert lines == [
        f"{path}:12: work.host_calls_per_request: must be at most 1e+08, got 1000000000000.0",
        f"{path}:13: work.colour: unknown field",
        f"{path}:4: module.module_bytes: must be at most 1.0 GiB (1073741824 bytes), got '5 TB'",
    ]


def test_yaml_and_json_problems_have_lines(tmp_path: Path) -> None:
    yaml_text = (
        "module:\n  module_bytes: 100\ninstances:\n  lifetime: per-request\n"
        "  requests_per_instance: 1000000\n  request_rate_per_s: 5\n"
        "work:\n  compute_instructions_per_request: 1\n"
    )
    with pytest.raises(WorkloadError) as info:
        parse_workload(yaml_text, "yaml", file="w.yaml")
    assert str(info.value.problems[0]).startswith(
        "w.yaml:5: instances.requests_per_instance: is 1000000, but a per-request"
    )
    json_text = (
        '{\n "module": {"module_bytes": 100},\n "instances": {\n  "lifetime": "per-request",\n'
        '  "request_rate_per_s": -1},\n "work": {"compute_instructions_per_request": 1}\n}'
    )
    with pytest.raises(WorkloadError) as info:
        parse_workload(json_text, "json", file="w.json")
    assert str(info.value.problems[0]).startswith("w.json:5: instances.request_rate_per_s:")


def test_wasm_path_problems(tmp_path: Path) -> None:
    base = "[instances]\nlifetime = 'per-request'\nrequest_rate_per_s = 1\n" \
           "[work]\ncompute_instructions_per_request = 1\n"
    (tmp_path / "missing.toml").write_text("[module]\npath = 'gone.wasm'\n" + base)
    assert "missing.toml:2: module.path:" in one_problem(tmp_path / "missing.toml")
    assert "gone.wasm: no such file" in one_problem(tmp_path / "missing.toml")
    (tmp_path / "fake.wasm").write_text("hello")
    (tmp_path / "fake.toml").write_text("[module]\npath = 'fake.wasm'\n" + base)
    assert "not a WebAssembly module" in one_problem(tmp_path / "fake.toml")


def test_declared_size_must_match_the_module_file(tmp_path: Path) -> None:
    import wasmtime

    (tmp_path / "m.wasm").write_bytes(wasmtime.wat2wasm("(module)"))
    with pytest.raises(WorkloadError, match=r"module\.module_bytes: says 999 bytes but"):
        Workload.preset("request-response", path=str(tmp_path / "m.wasm"), module_bytes=999,
                        code_bytes=None)


def test_saving_never_leaves_a_half_written_file(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    save_workload(Workload.preset("plugin-host"), path)
    before = path.read_bytes()
    with pytest.raises(WorkloadFileError, match="unknown format"):
        save_workload(Workload.preset("edge-iot"), tmp_path / "w.ini")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if not (readonly / "probe").parent.stat().st_mode & 0o200:
            import os

            if os.geteuid() != 0:  # root ignores directory permissions
                with pytest.raises(WorkloadFileError, match="cannot write"):
                    save_workload(Workload.preset("edge-iot"), readonly / "w.toml")
    finally:
        readonly.chmod(0o700)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_saving_into_a_missing_folder_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(WorkloadFileError, match="cannot write"):
        save_workload(Workload.preset("edge-iot"), tmp_path / "no" / "such" / "w.toml")


def test_non_text_field_names_are_refused() -> None:
    for text in ("1:\n", "true: 3\n", "module: {module_bytes: 8}\n2.5: x\n"):
        with pytest.raises(WorkloadError, match="field names must be text"):
            parse_workload(text, "yaml", file="w.yaml")


def test_saved_files_get_the_usual_permissions_and_keep_existing_ones(tmp_path: Path) -> None:
    import os
    import stat

    from wasm_advisor.files._atomic import write_atomically

    umask = os.umask(0o022)
    try:
        new = tmp_path / "report.html"
        write_atomically(new, b"x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        new.chmod(0o600)
        write_atomically(new, b"y")
        assert stat.S_IMODE(new.stat().st_mode) == 0o600 and new.read_bytes() == b"y"
    finally:
        os.umask(umask)
