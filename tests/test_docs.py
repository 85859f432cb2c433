"""Every Python block in the README and docs runs; every TOML block is a valid workload."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from wasm_advisor.workload_files import parse_workload

from .conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for i, match in enumerate(BLOCK.finditer(doc.read_text())):
            if match.group(1) == language:
                found.append((f"{doc.name}#{i}", match.group(2)))
    return found


@pytest.mark.parametrize(("where", "code"), blocks("python"))
def test_python_blocks_run(where: str, code: str, tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, where, "exec"), {"__name__": "__docs__"})
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(("where", "text"), blocks("toml"))
def test_toml_blocks_are_valid_workloads(where: str, text: str) -> None:
    parse_workload(text, "toml", file=where)


def test_readme_has_exactly_the_two_commands_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    assert re.search(r"^# 1\. .*\n.*wasm-advisor", readme, re.M)
    test_command = re.search(r"^# 2\. .*\n(.*)$", readme, re.M)
    assert test_command and "pytest" in test_command.group(1)
    assert "README.md" in (REPO / ".ci" / "run").read_text()
