"""Modules run by verify get only what the user named: one directory, no network, no host env.

A probe module tries to open a file inside the named directory and three outside
it (through ``..``, by absolute path, and a system file), and counts the host's
environment variables; it exits with a bit mask of what it could reach. It runs
through ``Advisor.verify`` on every runtime that is here (WAMR when a real
``iwasm`` is, see ``tests/test_wamr.py``), in the worker, under the same limits
as any user's module. Time and memory limits are tested in
``tests/test_inspect_verify.py``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest
import wasmtime

from wasm_advisor import Advisor, AdvisorError, ProfileStore, Workload

from .helpers.synthetic import synthetic_profile
from .test_wamr import IWASM, WAMRC

INSIDE, ENVIRON = 1, 1 << 4  # bits of the exit status: what the module reached


def _data(raw: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in raw)


def probe_module(paths: list[str]) -> bytes:
    """Exit status: bit i set when ``paths[i]`` opened; bit 4 when any env variable is set."""
    data, calls = [], []
    offset = 256
    for i, path in enumerate(paths):
        raw = path.encode()
        data.append(f'(data (i32.const {offset}) "{_data(raw)}")')
        calls.append(f"""(if (i32.eqz (call $open (i32.const 3) (i32.const 1) (i32.const {offset})
            (i32.const {len(raw)}) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
            (i32.const 16)))
          (then (local.set $mask (i32.or (local.get $mask) (i32.const {1 << i})))))""")
        offset += len(raw) + 8
    return wasmtime.wat2wasm(f"""(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  {" ".join(data)}
  (func (export "_start") (local $mask i32)
    {" ".join(calls)}
    (drop (call $environ (i32.const 32) (i32.const 36)))
    (if (i32.load (i32.const 32)) (then (local.set $mask (i32.or (local.get $mask)
                                                                 (i32.const {ENVIRON})))))
    (call $exit (local.get $mask))))""")


def here() -> dict[str, dict[str, float]]:
    modes: dict[str, dict[str, float]] = {"wasmtime:cranelift": {}}
    try:
        import wasmer_sdk  # noqa: F401

        modes["wasmer:cranelift"] = {}
    except ImportError:
        pass
    if IWASM:
        modes["wamr:fast-interp"] = {}
    return modes


@pytest.fixture
def advisor(tmp_path: Path) -> Advisor:
    return Advisor(synthetic_profile(here()), store=ProfileStore(tmp_path / "cache"))


def verify(advisor: Advisor, module: Path, **options: object) -> dict[str, int | None]:
    report = advisor.verify(Workload.from_module(module), repeats=1, timeout_s=20,
                            iwasm=IWASM, wamrc=WAMRC, **options)
    assert not [k for k in report.skipped if k != "instruction count"], report.skipped
    return {m.key: m.exit_code for m in report.modes}


def test_files_outside_the_named_directory_cannot_be_opened(
        advisor: Advisor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "inside.txt").write_text("yours")
    (tmp_path / "secret.txt").write_text("not yours")
    module = tmp_path / "probe.wasm"
    module.write_bytes(probe_module(["inside.txt", "../secret.txt",
                                     str(tmp_path / "secret.txt"), "/etc/passwd"]))
    monkeypatch.setenv("HOST_SECRET", "must not reach the guest")
    # the named directory: its file opens, nothing outside does, no host variable shows
    assert set(verify(advisor, module, workdir=inside).values()) == {INSIDE}
    # no directory named: nothing opens at all
    assert set(verify(advisor, module).values()) == {0}
    # a directory that is not there is refused before anything runs
    with pytest.raises(AdvisorError, match="does not exist or is not a directory"):
        verify(advisor, module, workdir=tmp_path / "missing")
    # variables reach the guest only when given
    given = verify(advisor, module, env=[("GIVEN", "1")])
    assert set(given.values()) == {ENVIRON}


CONNECT = """(module
  (import "wasix_32v1" "sock_open" (func $open (param i32 i32 i32 i32) (result i32)))
  (import "wasix_32v1" "sock_connect" (func $connect (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{address}")
  (func (export "_start")
    (if (call $open (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 16))
      (then (call $exit (i32.const 100))))
    (call $exit (call $connect (i32.load (i32.const 16)) (i32.const 64)))))"""


def test_no_network_reaches_the_host(advisor: Advisor, tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    arrived: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                arrived.append(listener.accept()[1])

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    try:
        # WASIX's address layout, in the byte orders a guest might use: with the SDK's
        # network set to "host", one of these connects (checked by hand), so a refusal
        # here is the sandbox's, not a malformed address.
        for pad in (0, 1):
            for order in ("little", "big"):
                raw = bytes([1]) + bytes(pad) + port.to_bytes(2, order) + bytes([127, 0, 0, 1])
                module = tmp_path / f"connect-{pad}-{order}.wasm"
                module.write_bytes(wasmtime.wat2wasm(CONNECT.format(
                    address=_data(raw + bytes(24)))))
                report = advisor.verify(Workload.from_module(module), repeats=1, timeout_s=20,
                                        iwasm=IWASM, wamrc=WAMRC)
                for m in report.modes:  # wasmtime and iwasm have no sockets: not even linked
                    assert m.exit_code != 0 or m.failure, (m.key, m.exit_code)
        time.sleep(0.3)
    finally:
        stop.set()
        watcher.join()
        listener.close()
    assert arrived == []




@pytest.mark.skipif(not IWASM, reason="WAMR's iwasm is not here: set WASM_ADVISOR_IWASM or "
                    "put iwasm on PATH (see docs/runtimes.md)")
def test_iwasm_runs_stop_at_the_users_memory_limit(tmp_path: Path) -> None:
    # grow memory to the 4 GiB maximum, then write one page after another
    wat = """(module (memory (export "memory") 1)
      (func (export "_start") (local $p i32)
        (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 64)) (i32.const -1))))
        (loop $touch
          (i32.store (local.get $p) (i32.const 1))
          (local.set $p (i32.add (local.get $p) (i32.const 4096)))
          (br $touch))))"""
    module = tmp_path / "bomb.wasm"
    module.write_bytes(wasmtime.wat2wasm(wat))
    advisor = Advisor(synthetic_profile({"wamr:fast-interp": {}}),
                      store=ProfileStore(tmp_path / "cache"))
    start = time.monotonic()
    report = advisor.verify(Workload.from_module(module), repeats=1, timeout_s=20,
                            memory_limit_bytes=128 << 20, iwasm=IWASM)
    assert time.monotonic() - start < 60
    (mode,) = report.modes
    assert mode.limit_hit == "memory" and mode.failure == "memory limit of 128 MiB hit"
