"""The profile store under faults: full disk, read-only folder, two writers, two calibrations.

Whatever happens, the profile saved before is still there and still loads.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import wasm_advisor.files._atomic as atomic_files
import wasm_advisor.profiles._locks as store_locks
from wasm_advisor import Advisor, Profile, ProfileError, ProfileStore, Workload, calibrate

from .helpers.synthetic import synthetic_profile

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def profile_at(seconds: int) -> Profile:
    p = synthetic_profile({"wasmtime:cranelift": {}})
    return p.model_copy(update={"created": BASE + timedelta(seconds=seconds)})


@pytest.fixture
def store_with_good_profile(tmp_path: Path) -> tuple[ProfileStore, Path, bytes]:
    store = ProfileStore(tmp_path / "cache")
    path = store.save(profile_at(0))
    return store, path, path.read_bytes()


def assert_previous_kept(store: ProfileStore, path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert Profile.load(path) == profile_at(0)
    assert store.latest() == profile_at(0)
    assert [p.name for p in store.folder.iterdir()] == [path.name]  # no temporary left


def test_a_full_disk_fails_clearly_and_keeps_the_previous_profile(
        store_with_good_profile: tuple[ProfileStore, Path, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, path, before = store_with_good_profile

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_files.os, "fsync", disk_full)
    with pytest.raises(ProfileError, match="No space left on device") as e:
        store.save(profile_at(60))
    assert str(store.folder / f"profile-{profile_at(60).id}.json") in str(e.value)
    assert len(str(e.value).splitlines()) == 1
    monkeypatch.undo()
    assert_previous_kept(store, path, before)


def test_overwriting_the_same_file_on_a_full_disk_keeps_its_old_content(
        store_with_good_profile: tuple[ProfileStore, Path, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, path, before = store_with_good_profile
    monkeypatch.setattr(atomic_files.os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(ProfileError, match=f"{path}: cannot write the profile"):
        profile_at(0).save(path)
    monkeypatch.undo()
    assert_previous_kept(store, path, before)


def test_a_read_only_cache_fails_clearly_and_keeps_the_previous_profile(
        store_with_good_profile: tuple[ProfileStore, Path, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, path, before = store_with_good_profile

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic_files.tempfile, "mkstemp", read_only)
    with pytest.raises(ProfileError, match="cannot write the profile: Permission denied"):
        store.save(profile_at(60))
    monkeypatch.undo()
    assert_previous_kept(store, path, before)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_a_chmod_read_only_cache_fails_clearly(
        store_with_good_profile: tuple[ProfileStore, Path, bytes]) -> None:
    store, path, before = store_with_good_profile
    store.folder.chmod(0o500)
    try:
        with pytest.raises(ProfileError, match="Permission denied"):
            store.save(profile_at(60))
        # an advisor still reads the profile; only the fit cache cannot be written
        assert Advisor(store=store).profile == profile_at(0)
    finally:
        store.folder.chmod(0o700)
    assert_previous_kept(store, path, before)


def test_an_advisor_works_when_the_fit_cache_cannot_be_written(
        store_with_good_profile: tuple[ProfileStore, Path, bytes],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import wasm_advisor.advisor as advisor_module

    store, path, before = store_with_good_profile

    def no_space(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(advisor_module, "write_atomically", no_space)
    r = Advisor(store=store).recommend(Workload.preset("request-response"))
    assert r.winner == "wasmtime:cranelift"
    assert path.read_bytes() == before


def test_saves_wait_for_each_other_and_a_stuck_writer_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProfileStore(tmp_path)
    monkeypatch.setattr(store_locks, "SAVE_WAIT_S", 0.3)
    with store_locks.save_lock(tmp_path):
        start = time.monotonic()
        with pytest.raises(ProfileError, match=r"held the profile store for more than 0\.3 s"):
            store.save(profile_at(0))
        assert time.monotonic() - start < 5
    assert store.paths() == []  # nothing half-written
    # a writer that waits less than the limit gets through once the lock is free
    done: list[Path] = []
    with store_locks.save_lock(tmp_path):
        monkeypatch.setattr(store_locks, "SAVE_WAIT_S", 10.0)
        writer = threading.Thread(target=lambda: done.append(store.save(profile_at(1))))
        writer.start()
        time.sleep(0.3)
        assert not done  # it is waiting
    writer.join(10)
    assert done and Profile.load(done[0]) == profile_at(1)


SAVER = """
import sys
from datetime import timedelta
from wasm_advisor import ProfileStore
from tests.helpers.synthetic import synthetic_profile
store, offset = ProfileStore(sys.argv[1]), int(sys.argv[2])
base = synthetic_profile({"wasmtime:cranelift": {}})
for i in range(15):
    store.save(base.model_copy(update={"created": base.created + timedelta(seconds=offset + i)}))
"""


def test_two_processes_saving_at_once_corrupt_nothing(tmp_path: Path) -> None:
    from .conftest import REPO

    store = ProfileStore(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(tmp_path), str(offset)],
                              cwd=REPO) for offset in (0, 1000)]
    assert [p.wait(60) for p in procs] == [0, 0]
    entries = store.entries()
    assert len(entries) == 30
    assert all(isinstance(p, Profile) for _, p in entries)


def test_a_second_calibration_for_the_same_cache_fails_at_once(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    good = store.save(profile_at(0))
    with store.calibrating():
        start = time.monotonic()
        with pytest.raises(ProfileError, match="another calibration is already running"):
            calibrate("quick", runtimes=["wasmtime"], modes=["cranelift"], store=store)
        assert time.monotonic() - start < 2  # refused before any measurement
    assert store.paths() == [good] and store.latest() == profile_at(0)
    with store.calibrating():  # the lock was released by both
        pass


HOLDER = """
import sys, time
from wasm_advisor import ProfileStore
with ProfileStore(sys.argv[1]).calibrating():
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_calibration_in_another_process_blocks_this_one(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ProfileError, match=f"already running for the profile cache "
                           f"{tmp_path}"):
            calibrate("quick", runtimes=["wasmtime"], store=ProfileStore(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    with ProfileStore(tmp_path).calibrating():  # a dead holder's lock is free
        pass


def test_cli_reports_a_busy_cache_on_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from wasm_advisor.cli import main

    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    with ProfileStore(tmp_path).calibrating():
        assert main(["calibrate", "--quick", "--runtime", "wasmtime"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "another calibration is already running" in lines[0]
