"""Generated calibration modules are kept on disk for the next worker, checked on read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wasm_advisor.calibration import _module_cache as module_cache
from wasm_advisor.calibration._module_cache import cached_module


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    module_cache._folder.cache_clear()
    yield
    module_cache._folder.cache_clear()


def test_a_module_is_built_once_then_read() -> None:
    built: list[int] = []

    def build() -> bytes:
        built.append(1)
        return b"\0asm\1\0\0\0" + bytes(len(built))

    first = cached_module("code-1-0-1", build)
    assert cached_module("code-1-0-1", build) == first and len(built) == 1
    assert cached_module("code-2-0-1", build) != first and len(built) == 2


def test_a_damaged_copy_is_built_again(tmp_path: Path) -> None:
    cached_module("k", lambda: b"\0asm good")
    (path,) = tmp_path.glob("modules/*/k-*.wasm")
    path.write_bytes(b"\0asm edited")
    assert cached_module("k", lambda: b"\0asm good") == b"\0asm good"


def test_an_unwritable_cache_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(blocker))
    module_cache._folder.cache_clear()
    assert cached_module("k", lambda: b"\0asm x") == b"\0asm x"


def test_the_code_family_comes_out_the_same_from_the_cache() -> None:
    from wasm_advisor.calibration import kernels

    kernels.code_size_module.cache_clear()
    fresh = kernels._code_size_module(16384, tabled=False)
    assert kernels.code_size_module(16384, tabled=False) == fresh
    kernels.code_size_module.cache_clear()
    assert kernels.code_size_module(16384, tabled=False) == fresh  # read back from disk


def test_precompiled_runs_compile_the_module_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import wasmtime

    from wasm_advisor.calibration import kernels
    from wasm_advisor.runtimes import wasmtime_runtime
    from wasm_advisor.runtimes.base import RunRequest

    adapter = wasmtime_runtime.WasmtimeAdapter()
    mode = next(m for m in adapter.modes() if m.name == "cranelift")
    compiled: list[int] = []
    real = wasmtime.Module

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            compiled.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(wasmtime_runtime.wasmtime, "Module", Counting)
    monkeypatch.setattr(wasmtime_runtime, "_ARTIFACTS", {})
    request = RunRequest(module=kernels.code_size_module(16384), precompiled=True)
    results = [adapter.run(mode, request) for _ in range(3)]
    assert len(compiled) == 1  # serialized once; every run still loads it, timed
    assert all("load" in r.phases_ns and "compile" not in r.phases_ns for r in results)


def test_the_sources_that_key_the_caches_exist() -> None:
    """The module cache and the fit cache are keyed on digests of source files named by
    path; a path left behind by a move would key every cache on nothing at all."""
    import wasm_advisor.advisor as advisor_module
    import wasm_advisor.calibration._module_cache as module_cache

    package = Path(advisor_module.__file__).parent
    for name in advisor_module._FIT_SOURCES:
        assert (package / name).is_file(), name
    for name in module_cache._GENERATORS:
        assert (Path(module_cache.__file__).parent / name).is_file(), name
