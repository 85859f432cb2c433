"""The hollow copy of a module: the same bytes to load, a _start that returns at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from wasm_advisor.errors import ModuleError
from wasm_advisor.wasm._hollow import hollow_module
from wasm_advisor.wasm._module import read_module_bytes

# prints "hi" through an imported WASI function, has a start function that writes memory
# at instantiation, a data segment, a table and a global, so that indices of every kind
# must survive the change
PROGRAM = wasmtime.wat2wasm("""(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 7))
  (table 1 funcref) (elem (i32.const 0) $print)
  (data (i32.const 16) "hi")
  (func $init (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 2)))
  (start $init)
  (func $print (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start") (global.set $g (i32.const 8)) (call_indirect (i32.const 0)))
  (func (export "helper") (result i32) (global.get $g)))""")


def _run(module: bytes, tmp_path: Path) -> tuple[str, int]:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    out = tmp_path / "out"
    wasi.stdout_file = str(out)
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module(engine, module))
    exports = instance.exports(store)
    exports["_start"](store)  # type: ignore[operator]
    return out.read_text(), exports["helper"](store)  # type: ignore[operator]


def test_the_hollow_copy_loads_the_same_code_and_runs_nothing(tmp_path: Path) -> None:
    assert _run(bytes(PROGRAM), tmp_path) == ("hi", 8)
    hollow = hollow_module(bytes(PROGRAM))
    assert _run(hollow, tmp_path) == ("", 7)  # _start did nothing; the start function ran
    before, after = read_module_bytes(bytes(PROGRAM)), read_module_bytes(hollow)
    assert after.function_count == before.function_count + 1
    assert after.data_bytes == before.data_bytes and after.exports == before.exports
    assert after.imports == before.imports
    assert 0 < len(hollow) - len(PROGRAM) < 16


def test_real_programs_from_the_corpus_empty_out(corpus: Path, tmp_path: Path) -> None:
    for path in sorted(corpus.glob("*/*.wasm"))[:3]:
        hollow = hollow_module(path.read_bytes(), str(path))
        assert read_module_bytes(hollow).code_bytes > read_module_bytes(
            path.read_bytes()).code_bytes


@pytest.mark.parametrize(("wat", "message"), [
    ('(module (func (export "main")))', "no _start function"),
    ('(module (import "env" "f" (func)) (export "_start" (func 0)))', "no functions of its own"),
])
def test_a_module_that_is_not_a_command_is_refused_with_a_reason(wat: str, message: str) -> None:
    with pytest.raises(ModuleError, match=message):
        hollow_module(bytes(wasmtime.wat2wasm(wat)), "m.wasm")


def test_bytes_that_are_not_a_module_are_refused() -> None:
    with pytest.raises(ModuleError, match="not a WebAssembly module"):
        hollow_module(b"\0asX\x01\0\0\0")
    with pytest.raises(ModuleError):
        hollow_module(bytes(PROGRAM)[:-5])  # truncated
