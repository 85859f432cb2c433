"""AOT artifacts of modules whose compile is not timed are kept on disk, checked on read,
and never stand in for a compile that is timed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from wasm_advisor.runtimes.wamr_runtime import WamrAdapter
from wasm_advisor.runtimes.wamrc_artifacts import ArtifactCache

MODULE = b"\0asm\1\0\0\0"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM", raising=False)


def _wamrc(tmp_path: Path, marker: str = "") -> tuple[str, Path]:
    """A stand-in wamrc (``wamrc -o OUT IN``) that writes an artifact and logs each call."""
    log = tmp_path / "calls"
    path = tmp_path / f"wamrc{marker}"
    path.write_text(f"#!/bin/sh\n# {marker}\necho x >> {log}\n"
                    "printf 'artifact of ' > \"$2\"; cat \"$3\" >> \"$2\"\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path), log


def _calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_an_artifact_is_kept_and_read_back(tmp_path: Path) -> None:
    wamrc, _ = _wamrc(tmp_path)
    artifact = tmp_path / "a.aot"
    artifact.write_bytes(b"compiled")
    cache = ArtifactCache(wamrc)
    assert cache.get("d1") is None
    cache.put("d1", artifact)
    assert ArtifactCache(wamrc).get("d1") == b"compiled"
    assert ArtifactCache(wamrc).get("d2") is None


def test_a_damaged_artifact_is_not_read(tmp_path: Path) -> None:
    wamrc, _ = _wamrc(tmp_path)
    artifact = tmp_path / "a.aot"
    artifact.write_bytes(b"compiled")
    cache = ArtifactCache(wamrc)
    cache.put("d1", artifact)
    assert cache.folder is not None
    (kept,) = cache.folder.glob("d1-*.aot")
    kept.write_bytes(b"edited")
    assert ArtifactCache(wamrc).get("d1") is None


def test_another_compiler_does_not_read_them(tmp_path: Path) -> None:
    first, _ = _wamrc(tmp_path, "one")
    second, _ = _wamrc(tmp_path, "two")
    artifact = tmp_path / "a.aot"
    artifact.write_bytes(b"compiled")
    ArtifactCache(first).put("d1", artifact)
    assert ArtifactCache(second).get("d1") is None


def test_the_adapter_reuses_them_only_where_the_compile_is_not_timed(tmp_path: Path) -> None:
    wamrc, log = _wamrc(tmp_path)

    def compiled(keep: bool, fresh: bool) -> tuple[bytes, bool]:
        adapter = WamrAdapter(iwasm=[], wamrc=wamrc, keep_artifacts=keep)
        artifact, compile_ns = adapter._compile_aot(MODULE, fresh=fresh, timeout=10)
        return artifact.read_bytes(), compile_ns is not None

    assert compiled(keep=True, fresh=True) == (b"artifact of " + MODULE, True)
    assert _calls(log) == 1
    assert compiled(keep=True, fresh=False) == (b"artifact of " + MODULE, False)
    assert _calls(log) == 1  # read from the cache: no compile
    assert compiled(keep=True, fresh=True)[1] and _calls(log) == 2  # timed: compiled again
    assert compiled(keep=False, fresh=False)[1] and _calls(log) == 3  # verify's: not kept
