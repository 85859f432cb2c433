"""WAMR embedded in-process through libiwasm.so: the ctypes layer and the worker's use of it.

Every real run goes through a worker process (``run_worker``), as a calibration
does: WAMR installs signal handlers at init and one process initialises one
library. Set ``WASM_ADVISOR_LIBIWASM`` to a ``libiwasm.so`` (several, separated by
``:``; see docs/runtimes.md) and ``WASM_ADVISOR_WAMRC`` for the AOT tests.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from wasm_advisor.calibration._probes import PROBES
from wasm_advisor.errors import RuntimeUnavailableError
from wasm_advisor.harness._runner import WorkerLimits, WorkerOutcome, run_worker
from wasm_advisor.runtimes.libiwasm import _API, LibIwasm
from wasm_advisor.runtimes.wamr_embedded import BINDING, libiwasm_candidates
from wasm_advisor.runtimes.wamr_runtime import WamrAdapter


@pytest.fixture(autouse=True)
def _no_iwasm_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the in-process binding: an iwasm named in the environment (for
    the command-line tests) would add its modes to every WAMR adapter here."""
    monkeypatch.delenv("WASM_ADVISOR_IWASM", raising=False)

LIBIWASM = [p for p in os.environ.get("WASM_ADVISOR_LIBIWASM", "").split(os.pathsep) if p]
WAMRC = os.environ.get("WASM_ADVISOR_WAMRC") or shutil.which("wamrc")
CC = shutil.which("cc") or shutil.which("gcc")
needs_libiwasm = pytest.mark.skipif(
    not LIBIWASM, reason="no libiwasm.so: set WASM_ADVISOR_LIBIWASM to WAMR's libiwasm.so, "
    "built with -DBUILD_SHARED_LIBS=ON (see docs/runtimes.md)")
needs_wamrc = pytest.mark.skipif(not (LIBIWASM and WAMRC), reason="no libiwasm.so and wamrc: "
                                 "set WASM_ADVISOR_LIBIWASM and WASM_ADVISOR_WAMRC")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler to build a stand-in library")
LIMITS = WorkerLimits(task_timeout_s=60)


def _options(libiwasm: list[str] = LIBIWASM, wamrc: str | None = None) -> dict[str, Any]:
    return {"iwasm": [], "wamrc": wamrc, "libiwasm": libiwasm}


def _job(mode: str | None, tasks: list[dict[str, Any]], **options: Any) -> WorkerOutcome:
    return run_worker({"runtime": "wamr", "mode": mode, "options": _options(**options),
                       "tasks_modules": ["wasm_advisor.calibration.tasks",
                                         "wasm_advisor.verification.tasks"],
                       "tasks": tasks}, LIMITS)


def _verify_task(tmp_path: Path, name: str, wat: str, **extra: Any) -> dict[str, Any]:
    path = tmp_path / f"{name}.wasm"
    path.write_bytes(wasmtime.wat2wasm(wat))
    return {"id": name, "kind": "verify", "module_path": str(path), "repeats": 1,
            "timeout_s": 30, "budget_s": 0.1, **extra}


def _first_interpreter() -> str:
    hello = _job(None, []).hello
    assert hello is not None
    names = [m["name"] for m in hello["modes"] if m["name"].endswith("interp-embedded")]
    assert names, hello
    return str(names[0])


# ----- libraries that are not (all of) WAMR's: always run ---------------------------------


def test_a_library_that_is_not_wamrs_is_refused_by_name() -> None:
    libz = ctypes.util.find_library("z") or ctypes.util.find_library("c")
    if libz is None:
        pytest.skip("neither libz nor libc found to stand in for a foreign library")
    with pytest.raises(RuntimeUnavailableError, match="is not WAMR's libiwasm"):
        LibIwasm(libz)


def test_a_file_that_is_no_library_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "libiwasm.so"
    text.write_text("not a library\n")
    with pytest.raises(RuntimeUnavailableError, match="could not be opened"):
        LibIwasm(text)


def _stand_in(tmp_path: Path, skip: tuple[str, ...] = (), body: str = "return 1;") -> str:
    """A shared library with WAMR's API names; ``body`` is what wasm_runtime_load does."""
    own = {"wasm_runtime_load": f"long wasm_runtime_load() {{ {body} }}",
           # an interpreter only
           "wasm_runtime_is_running_mode_supported":
               "long wasm_runtime_is_running_mode_supported(int m) { return m == 1; }"}
    functions = [own.get(name, f"long {name}() {{ return 1; }}")
                 for name in _API if name not in skip]
    source = tmp_path / "stand_in.c"
    source.write_text("\n".join(functions) + "\n")
    library = tmp_path / "libiwasm.so"
    assert CC is not None
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return str(library)


@needs_cc
def test_a_missing_symbol_is_named(tmp_path: Path) -> None:
    library = _stand_in(tmp_path, skip=("wasm_runtime_set_wasi_args_ex",))
    with pytest.raises(RuntimeUnavailableError, match="lacks wasm_runtime_set_wasi_args_ex"):
        LibIwasm(library)
    availability = WamrAdapter(iwasm=[], libiwasm=[library]).availability()
    assert not availability.available
    assert "wasm_runtime_set_wasi_args_ex" in availability.reason


@needs_cc
def test_a_crash_inside_the_library_kills_the_worker_only(tmp_path: Path) -> None:
    # a library whose wasm_runtime_load dereferences NULL, as a loader bug would
    library = _stand_in(tmp_path, body="return *(volatile long *)0;")
    hello = _job(None, [], libiwasm=[library]).hello
    assert hello is not None
    assert [m["name"] for m in hello["modes"]] == ["fast-interp-embedded"]
    tasks = [_verify_task(tmp_path, "crash", '(module (func (export "_start")))'),
             {"id": "probe", "kind": "probe", "feature": next(iter(PROBES)), "timeout_s": 10}]
    outcome = _job("fast-interp-embedded", tasks, libiwasm=[library])
    assert "SIGSEGV" in outcome.failures["crash"]  # the parent reports it
    # the next task got a new worker, which crashed in its turn: no result, no hang
    assert "probe" in outcome.failures or "probe" in outcome.results


def test_libraries_are_found_from_the_environment_then_beside_iwasm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASM_ADVISOR_LIBIWASM", f"/a/libiwasm.so{os.pathsep}/b/libiwasm.so")
    assert libiwasm_candidates(None, []) == ["/a/libiwasm.so", "/b/libiwasm.so"]
    assert libiwasm_candidates(["/c.so"], []) == ["/c.so"]
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM")
    (tmp_path / "iwasm").write_text("")
    (tmp_path / "libiwasm.so").write_text("")
    assert libiwasm_candidates(None, [str(tmp_path / "iwasm")]) == [
        str(tmp_path / "libiwasm.so")]


# ----- a real libiwasm ------------------------------------------------------------------------


@needs_libiwasm
def test_discovery_lists_embedded_modes_with_the_binding() -> None:
    hello = _job(None, []).hello
    assert hello is not None and hello["availability"]["available"]
    embedded = [m for m in hello["modes"] if m["binding"] == BINDING]
    assert embedded and all(m["name"].endswith("-embedded") for m in embedded)
    assert all(m["notes"] in [str(Path(p).resolve()) for p in LIBIWASM] for m in embedded)


@needs_libiwasm
def test_generated_modules_run_with_phases_timed_in_process() -> None:
    mode = _first_interpreter()
    plan = {"min_sample_ns": 200_000, "repeats": 1, "sizes": [1, 2]}
    tasks = [{"id": "empty", "kind": "host", "family": "empty", "size": 0, "repeats": 3},
             {"id": "pages", "kind": "host", "family": "pages", "size": 64, "repeats": 2},
             {"id": "guest", "kind": "guest", "kernel": "int", "plan": plan, "timeout_s": 30}]
    outcome = _job(mode, tasks)
    assert outcome.failures == {}
    for run in outcome.results["empty"]["runs"]:
        phases = run["phases_ns"]
        assert {"compile", "instantiate", "instantiate_again", "run"} <= set(phases)
        # in-process: well under a process start (wide margin: a loaded 2-core machine)
        assert 0 < phases["instantiate_again"] < 20_000_000
        assert run["ttfi_ns"] is not None and run["ttfi_ns"] < run["wall_ns"]
    assert outcome.results["guest"]["samples"]


@needs_libiwasm
def test_proc_exit_traps_arguments_and_the_same_bytes_loaded_again(tmp_path: Path) -> None:
    mode = _first_interpreter()
    exit_7 = '''(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                 (memory (export "memory") 1)
                 (func (export "_start") (call $exit (i32.const 7))))'''
    trap = '(module (memory (export "memory") 1) (func (export "_start") unreachable))'
    tasks = [_verify_task(tmp_path, "exit", exit_7), _verify_task(tmp_path, "trap", trap),
             {"id": "probe", "kind": "probe", "feature": "bulk-memory", "timeout_s": 30}]
    results = _job(mode, tasks).results
    assert results["exit"]["cold"]["exit_code"] == 7 and results["exit"]["cold"]["trap"] is None
    assert "unreachable" in results["trap"]["cold"]["trap"]
    assert results["probe"]["status"] == "supported"  # proc_exit(42) read as a normal end


@needs_libiwasm
def test_a_corpus_program_reads_its_directory_and_prints(tmp_path: Path) -> None:
    # bz2 reads its input from the preopened directory and prints "bz2: OK"
    corpus = Path("/work/shared/corpus/corpus.json")
    if not corpus.exists():
        pytest.skip("the shared corpus is not here")
    program = next(p for p in json.loads(corpus.read_text())["programs"]
                   if p["name"] == "sg-bz2")
    task = {"id": "p", "kind": "verify", "module_path": str(corpus.parent / program["module"]),
            "argv": program["argv"], "workdir": str(corpus.parent / program["workdir"]),
            "repeats": 1, "timeout_s": 300, "budget_s": 0.1}
    record = _job(_first_interpreter(), [task]).results["p"]
    assert record["cold"]["exit_code"] == program["expect"]["exit"], record["cold"]
    assert program["expect"]["stdout_contains"] in record["output_tail"]


@needs_libiwasm
def test_memory_is_the_workers_growth_in_kib() -> None:
    task = {"id": "memory", "kind": "memory", "pages": 1, "data_bytes": 0, "instances": 64}
    record = _job(_first_interpreter(), [task]).results["memory"]
    assert record["ok"], record
    # an in-process instance: kilobytes, not an iwasm process's megabytes
    assert 0 <= record["per_extra_instance_bytes"] < 1 << 20
    assert record["runtime_bytes"] > 0 and "libiwasm in-process" in record["method"]


@needs_libiwasm
def test_the_footprint_and_a_loaded_modules_memory_are_read_apart() -> None:
    task = {"id": "memory", "kind": "memory", "pages": 1, "data_bytes": 0, "instances": 16,
            "module_copies": 6}
    record = _job(_first_interpreter(), [task]).results["memory"]
    assert record["ok"], record
    # the interpreter keeps the bytecode and its own prepared copy: more than the code,
    # less than 20 times it
    assert 0.5 < record["module_bytes_per_code_byte"] < 20
    assert record["modules"] == 6
    # the library's file, of which only the pages read so far are resident
    assert 0 <= record["library_bytes"] <= record["library_file_bytes"]
    assert record["library_path"] in [os.path.realpath(p) for p in LIBIWASM]


@needs_wamrc
def test_aot_artifact_loads_in_process(tmp_path: Path) -> None:
    hello = _job(None, [], wamrc=WAMRC).hello
    assert hello is not None
    if "aot-embedded" not in [m["name"] for m in hello["modes"]]:
        pytest.skip("no libiwasm given has the AOT runtime")
    tasks = [{"id": "empty", "kind": "host", "family": "empty", "size": 0, "repeats": 2,
              "precompiled": True}]
    outcome = _job("aot-embedded", tasks, wamrc=WAMRC)
    for run in outcome.results["empty"]["runs"]:
        assert "load" in run["phases_ns"] and run["artifact_bytes"] > 0


@needs_wamrc
def test_a_crash_in_generated_code_kills_the_worker_only(tmp_path: Path) -> None:
    # wamrc's artifact with the function's machine code overwritten by int3: the guest's
    # first instruction traps outside linear memory, which WAMR's handler does not catch
    corrupt = tmp_path / "wamrc"
    corrupt.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import re, subprocess, sys
        done = subprocess.run([{WAMRC!r}, *sys.argv[1:]])
        out = sys.argv[sys.argv.index("-o") + 1]
        data = bytearray(open(out, "rb").read())
        marks = [m.start() for m in re.finditer(rb"[\\x00-\\x3f]ZZZ", data)]
        first, last = (marks[0], marks[-1]) if len(marks) > 1 else (0, 0)
        if first > 0 and last > first:
            data[first:last] = b"\\xcc" * (last - first)
            open(out, "wb").write(bytes(data))
        sys.exit(done.returncode)
        """))
    corrupt.chmod(0o755)
    # 64 stores of distinct constants 0x5a5a5aXX ("ZZZ" after the low byte), far apart so
    # that LLVM keeps them as 64 instructions, one after the other
    stores = "".join(f"(i32.store (i32.const {4096 * i}) (i32.const {0x5A5A5A00 + i}))"
                     for i in range(64))
    wat = f'(module (memory (export "memory") 1) (func (export "_start") {stores}))'
    hello = _job(None, [], wamrc=str(corrupt)).hello
    assert hello is not None
    if "aot-embedded" not in [m["name"] for m in hello["modes"]]:
        pytest.skip("no libiwasm given has the AOT runtime")
    outcome = _job("aot-embedded", [_verify_task(tmp_path, "crash", wat)], wamrc=str(corrupt))
    assert "crash" in outcome.failures, outcome.results
    assert "signal" in outcome.failures["crash"] or "SIG" in outcome.failures["crash"]



@needs_libiwasm
def test_limits_memory_as_a_page_cap_and_time_through_the_worker(tmp_path: Path) -> None:
    grow = '''(module (memory (export "memory") 1) (func (export "_start")
                (loop (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
                          (then unreachable)) (br 0))))'''
    tasks = [_verify_task(tmp_path, "grow", grow, memory_limit_bytes=1 << 20)]
    cold = _job(_first_interpreter(), tasks).results["grow"]["cold"]
    assert cold["limit_hit"] == "memory" and "memory limit of 1 MiB" in cold["trap"]
    # a build without WAMR's thread manager does not stop a running loop on
    # wasm_runtime_terminate: the worker's own limit ends it, and the parent says so
    loop = '(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))'
    outcome = run_worker({"runtime": "wamr", "mode": _first_interpreter(),
                          "options": _options(),
                          "tasks_modules": ["wasm_advisor.verification.tasks"], "tasks": [
                              _verify_task(tmp_path, "loop", loop, timeout_s=1)]},
                         WorkerLimits(task_timeout_s=5))
    loop_record = outcome.results.get("loop", {}).get("cold", {})
    assert "timed out" in outcome.failures.get("loop", "") or loop_record.get("limit_hit") == "time"
