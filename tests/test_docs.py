"""Every Python block in the README and docs runs; every TOML block is a valid workload;
every ``wasm-advisor`` command line in a shell block parses; an output block shown under a
Python block is what that block prints."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shlex
from pathlib import Path

import pytest

from wasm_advisor.cli import build_parser
from wasm_advisor.workload._files import parse_workload

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


def test_every_doc_is_checked() -> None:
    names = {doc.name for doc in DOCS}
    assert {"index.md", "quickstart.md", "workload.md", "methodology.md", "model.md",
            "runtimes.md", "claims.md"} <= names


def _run(code: str, where: str, folder: Path) -> str:
    cwd = os.getcwd()
    os.chdir(folder)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, where, "exec"), {"__name__": "__docs__"})
    finally:
        os.chdir(cwd)
    return out.getvalue()


OUTPUT_MARK = "# output\n"


def outputs() -> list[tuple[str, str, str]]:
    """(where, python code, the output shown right under it) for blocks that show one."""
    found = []
    for doc in DOCS:
        matches = list(BLOCK.finditer(doc.read_text()))
        for i, (code, shown) in enumerate(itertools.pairwise(matches)):
            if code.group(1) == "python" and shown.group(1) == "text" and \
                    shown.group(2).startswith(OUTPUT_MARK):
                found.append((f"{doc.name}#{i}", code.group(2),
                              shown.group(2).removeprefix(OUTPUT_MARK)))
    return found


@pytest.mark.parametrize(("where", "code", "shown"), outputs())
def test_shown_output_is_what_the_code_prints(where: str, code: str, shown: str,
                                             tmp_path: Path) -> None:
    assert _run(code, where, tmp_path).rstrip() == shown.rstrip()


def command_lines() -> list[tuple[str, list[str]]]:
    """Every ``wasm-advisor ...`` invocation in a shell block, as arguments."""
    found = []
    for where, text in blocks("sh"):
        for line in text.splitlines():
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            starts = [i for i, w in enumerate(words) if w.endswith("wasm-advisor")]
            for start in starts:
                args = []
                for word in words[start + 1:]:
                    if word in ("|", "&&", ";", ">", ">>") or word.startswith((">", "|")):
                        break
                    args.append(word)
                if args and not {"--help", "-h", "--version"} & set(args):
                    found.append((where, args))
    return found


@pytest.mark.parametrize(("where", "args"), command_lines(),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_shell_commands_parse(where: str, args: list[str]) -> None:
    if "--" in args:
        args = args[:args.index("--")]
    try:
        build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"{where}: 'wasm-advisor {' '.join(args)}' does not parse")


@pytest.mark.parametrize(("where", "code"), blocks("python"))
def test_python_blocks_run(where: str, code: str, tmp_path: Path) -> None:
    _run(code, where, tmp_path)


@pytest.mark.parametrize(("where", "text"), blocks("toml"))
def test_toml_blocks_are_valid_workloads(where: str, text: str) -> None:
    parse_workload(text, "toml", file=where)


def test_readme_has_exactly_the_two_commands_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    assert re.search(r"^# 1\. .*\n.*wasm-advisor", readme, re.M)
    test_command = re.search(r"^# 2\. .*\n(.*)$", readme, re.M)
    assert test_command and "pytest" in test_command.group(1)
    assert "README.md" in (REPO / ".ci" / "run").read_text()
