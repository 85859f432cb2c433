"""The command line: exit codes, one line per problem, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wasm_advisor.cli import main

from .conftest import REPO


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Workload"
    assert "instances" in schema["required"]


def test_validate_ok_and_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REPO / "examples" / "plugin-host.yaml")]) == 0
    assert "ok (plugin-host)" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[module]\nmodule_bytes = -3\n")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert main(["validate", str(bad), str(empty)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"error: {bad}:2: module.module_bytes: must be at least 8 bytes" in err[0]
    assert any(line.startswith(f"error: {bad}: instances: is required") for line in err)
    assert err[-1] == f"error: {empty}: is empty: a workload needs at least module, instances " \
                      "and work"
    assert all(line.startswith("error: ") for line in err)


def test_presets_list_and_print(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets"]) == 0
    assert "request-response" in capsys.readouterr().out
    assert main(["presets", "edge-iot", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "edge-iot"
    assert main(["presets", "nonesuch"]) == 2
    assert "unknown preset 'nonesuch'" in capsys.readouterr().err


def test_module_entry_point_and_help_read_well() -> None:
    for args in (["--help"], ["validate", "--help"], ["schema", "--help"], ["presets", "--help"]):
        out = subprocess.run([sys.executable, "-m", "wasm_advisor", *args],
                             capture_output=True, text=True, check=True).stdout
        assert out.startswith("usage: wasm-advisor")
    bad = subprocess.run([sys.executable, "-m", "wasm_advisor", "validate", "/nonexistent.toml"],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr == "error: /nonexistent.toml: no such file\n"
    assert "Traceback" not in bad.stderr
