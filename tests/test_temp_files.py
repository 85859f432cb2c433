"""Runs leave nothing in the temporary folder: Wasmer's compile caches are megabytes each."""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import pytest

from wasm_advisor.calibration import kernels
from wasm_advisor.runtimes.base import RunRequest
from wasm_advisor.runtimes.wasmer_runtime import WasmerAdapter


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.slow
def test_wasmer_runs_leave_no_caches_behind(temp_folder: Path) -> None:
    adapter = WasmerAdapter()
    (mode,) = adapter.modes()
    module = kernels.instantiate_module(1, 0)
    for precompiled in (False, True, False):  # compiling uses a fresh cache each time
        result = adapter.run(mode, RunRequest(module, precompiled=precompiled))
        assert result.exit_code == 0, result.stderr
    assert len(list(temp_folder.iterdir())) == 1  # the adapter's shared cache, while it lives
    del adapter
    gc.collect()
    assert list(temp_folder.iterdir()) == []
