"""Locks on a profile store, so that two processes sharing a cache never collide.

Two locks, both files in the store's root (``filelock``, so they work across
processes and are released when a process dies):

- the **save lock** (``save.lock``) serializes writes into the store. A writer
  waits for it up to :data:`SAVE_WAIT_S`; saves take milliseconds, so waiting
  longer means another process is stuck, and the save fails with a clear
  :class:`~wasm_advisor.errors.ProfileError`.
- the **calibration lock** (``calibration.lock``) is held by a calibration that
  will save into the store, from before its first measurement until it has
  saved. A second calibration for the same cache does not wait: it fails at
  once, before measuring anything, because two calibrations running together
  would compete for the cores and both measure a busier machine than the one
  the advisor will recommend for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import ProfileError

__all__ = ["SAVE_WAIT_S", "calibration_lock", "save_lock"]

SAVE_WAIT_S = 30.0


def _lock(root: Path, name: str, timeout: float) -> FileLock:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ProfileError(f"{root}: cannot create the profile cache folder: "
                           f"{e.strerror or e}") from e
    return FileLock(root / name, timeout=timeout)


@contextmanager
def _held(lock: FileLock, busy: str) -> Iterator[None]:
    try:
        lock.acquire()
    except Timeout:
        raise ProfileError(busy) from None
    except OSError as e:
        raise ProfileError(f"{lock.lock_file}: cannot take the lock: {e.strerror or e}") from e
    try:
        yield
    finally:
        lock.release()


@contextmanager
def save_lock(root: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the store's save lock, waiting up to ``wait_s`` (:data:`SAVE_WAIT_S`)."""
    wait_s = SAVE_WAIT_S if wait_s is None else wait_s
    lock = _lock(root, "save.lock", wait_s)
    with _held(lock, f"{lock.lock_file}: another wasm-advisor process has held the profile "
               f"store for more than {wait_s:g} s; nothing was written: try again"):
        yield


@contextmanager
def calibration_lock(root: Path) -> Iterator[None]:
    """Hold the store's calibration lock, or fail at once if a calibration holds it."""
    lock = _lock(root, "calibration.lock", 0)
    with _held(lock, f"another calibration is already running for the profile cache {root}; "
               "wait for it to finish (it saves its profile there), or set "
               "WASM_ADVISOR_CACHE to another folder"):
        yield
