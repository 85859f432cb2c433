"""docs/reliability.md names real tests: every ``file::test`` it cites exists."""

from __future__ import annotations

import ast
import re

from .conftest import REPO

CITATION = re.compile(r"`(tests/[\w/]+\.py)?::(test_\w+)")


def test_every_test_cited_in_the_reliability_doc_exists() -> None:
    text = (REPO / "docs" / "reliability.md").read_text()
    defined: dict[str, set[str]] = {}
    current = None
    cited = 0
    for match in CITATION.finditer(text):
        current = match.group(1) or current
        assert current is not None, match.group(0)
        if current not in defined:
            tree = ast.parse((REPO / current).read_text())
            defined[current] = {n.name for n in ast.walk(tree)
                                if isinstance(n, ast.FunctionDef)}
        assert match.group(2) in defined[current], f"{current}::{match.group(2)}"
        cited += 1
    assert cited >= 30
