"""The public surface: a sorted __all__, everything importable, data in the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import wasm_advisor

from .conftest import REPO


def test_all_is_sorted_and_importable() -> None:
    names = [n for n in wasm_advisor.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in wasm_advisor.__all__:
        assert hasattr(wasm_advisor, name), name


def test_package_is_typed() -> None:
    assert (Path(wasm_advisor.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
def test_wheel_carries_the_data_files(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        pytest.fail(out.stderr[-2000:])
    wheel = next(tmp_path.glob("wasm_advisor-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for preset in wasm_advisor.preset_names():
        assert f"wasm_advisor/presets/{preset}.toml" in names
    assert "wasm_advisor/py.typed" in names
    for folder in ("models", "calibration"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file():
                assert f"wasm_advisor/_data/{path.relative_to(REPO)}" in names, path
