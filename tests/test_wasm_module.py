"""Reading real and generated .wasm files, and surviving hostile ones."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from wasm_advisor import ModuleError, WasmFeature, read_module
from wasm_advisor.wasm._module import read_module_bytes

FEATURE_MODULES = {
    WasmFeature.SIMD: "(module (func (result v128) v128.const i32x4 1 2 3 4))",
    WasmFeature.THREADS: "(module (memory 1 1 shared))",
    WasmFeature.MEMORY64: "(module (memory i64 1))",
    WasmFeature.MULTI_MEMORY: "(module (memory 1) (memory 1))",
    WasmFeature.TAIL_CALL: "(module (func $f (return_call $f)))",
    WasmFeature.EXCEPTIONS: "(module (tag $t) (func (throw $t)))",
    WasmFeature.BULK_MEMORY: "(module (memory 1) (func (memory.copy (i32.const 0) "
                             "(i32.const 0) (i32.const 0))))",
    WasmFeature.REFERENCE_TYPES: "(module (table 1 funcref) (func (result funcref) "
                                 "(table.get 0 (i32.const 0))))",
    WasmFeature.GC: "(module (type $s (struct (field i32))) (func (result (ref null $s)) "
                    "ref.null $s))",
    WasmFeature.MULTI_VALUE: "(module (func (result i32 i32) i32.const 1 i32.const 2))",
}


@pytest.mark.parametrize("feature", list(FEATURE_MODULES))
def test_each_feature_is_detected_exactly(feature: WasmFeature) -> None:
    info = read_module_bytes(wasmtime.wat2wasm(FEATURE_MODULES[feature]))
    assert info.features == {feature}


def test_mvp_module_needs_no_feature() -> None:
    assert read_module_bytes(wasmtime.wat2wasm("(module (func))")).features == frozenset()


def test_structure_of_a_generated_module() -> None:
    wat = """(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "env" "log" (func (param i32)))
      (memory (export "memory") 3 10)
      (data (i32.const 0) "hello, world")
      (func (export "_start"))
      (func $g (result i32) i32.const 7)
      (func $h))"""
    info = read_module_bytes(wasmtime.wat2wasm(wat))
    assert info.function_count == 3
    assert [(i.module, i.name, i.kind) for i in info.imports] == [
        ("wasi_snapshot_preview1", "fd_write", "func"), ("env", "log", "func")]
    assert len(info.wasi_imports) == 1
    assert ("_start", "func") in info.exports and info.is_wasi_command
    assert info.memories[0].initial_pages == 3 and info.memories[0].maximum_pages == 10
    assert info.initial_memory_bytes == 3 * 65536
    assert info.data_bytes > len("hello, world")
    assert 0 < info.code_bytes < info.total_bytes


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "is empty"),
        (b"\x7fELF\x02\x01\x01\x00", "no \\0asm magic"),
        (b"\0asm\x0d\0\x01\0", "component"),
        (b"\0asm\x01\0\0\0\x01", "unexpected end"),
        (b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f", "more than remain"),
        (b"\0asm\x01\0\0\0\x02\x05\xff\xff\xff\xff\x0f", "more than the bytes that remain"),
        (b"\0asm\x01\0\0\0\x63\x00", "unknown section id 99"),
        (b"\0asm\x01\0\0\0\x01\x01\x00" + b"\x0a\x01\x05", "not a valid WebAssembly module"),
        (b"\0asm\x01\0\0\0" + b"\x00\x80\x80\x80\x80\x80\x80\x01", "integer too long"),
    ],
)
def test_hostile_bytes_give_module_error(data: bytes, fragment: str) -> None:
    with pytest.raises(ModuleError) as info:
        read_module_bytes(data, "evil.wasm")
    assert fragment in str(info.value)
    assert str(info.value).startswith("evil.wasm: ")


def test_truncated_real_module_is_rejected(corpus: Path) -> None:
    data = (corpus / "sg-bz2" / "sg-bz2.wasm").read_bytes()
    for cut in (9, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(ModuleError):
            read_module_bytes(data[:cut])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_the_header_never_crash(tail: bytes) -> None:
    with contextlib.suppress(ModuleError):
        read_module_bytes(b"\0asm\x01\0\0\0" + tail)


def test_files_missing_or_not_files(tmp_path: Path) -> None:
    with pytest.raises(ModuleError, match="no such file"):
        read_module(tmp_path / "gone.wasm")
    with pytest.raises(ModuleError, match="not a regular file"):
        read_module(tmp_path)


def test_every_corpus_program_is_read_quickly(corpus: Path) -> None:
    programs = json.loads((corpus / "corpus.json").read_text())["programs"]
    for program in programs:
        path = corpus / program["module"]
        start = time.perf_counter()
        info = read_module(path)
        assert time.perf_counter() - start < 1.0, path
        assert info.total_bytes == program["bytes"]
        assert info.is_wasi_command
        assert {i.module for i in info.imports} == {"wasi_snapshot_preview1"}
    blake3 = read_module(corpus / "sg-blake3-simd" / "sg-blake3-simd.wasm")
    assert WasmFeature.SIMD in blake3.features


def test_functions_reachable_from_outside_are_counted_once_each() -> None:
    wat = """(module
      (import "env" "log" (func $log (param i32)))
      (table 8 funcref)
      (func $a (export "a"))
      (func $b)
      (func $c)
      (func $d)
      (func $e)
      (func $unreached)
      (export "a_again" (func $a))
      (export "log" (func $log))
      (elem (i32.const 0) func $a $b $b)
      (elem func $c)
      (elem (i32.const 4) funcref (ref.func $d) (ref.null func))
      (elem declare func $e))"""
    info = read_module_bytes(wasmtime.wat2wasm(wat))
    # a, b, c, d, e: not the imported log, nor the unreached function, nor a twice
    assert info.escaping_functions == 5
    assert read_module_bytes(wasmtime.wat2wasm("(module (func))")).escaping_functions == 0
    assert info.to_dict()["escaping_functions"] == 5


def test_the_largest_function_body_is_measured() -> None:
    wat = """(module
      (func $small)
      (func $large (result i32)
        (i32.add (i32.add (i32.const 1000000) (i32.const 2000000)) (i32.const 3000000)))
      (func $middle (result i32) (i32.const 7)))"""
    data = wasmtime.wat2wasm(wat)
    info = read_module_bytes(data)
    # a body: its count of locals, its code and 'end'; the large one's constants take an
    # opcode and 3, 4 and 4 bytes of signed LEB128, its two adds a byte each
    assert info.largest_function_bytes == 1 + (1 + 3) + (1 + 4) + (1 + 4) + 2 + 1
    assert info.largest_function_bytes < info.code_bytes
    assert info.to_dict()["largest_function_bytes"] == info.largest_function_bytes
    assert read_module_bytes(wasmtime.wat2wasm("(module)")).largest_function_bytes == 0


def test_a_truncated_element_section_is_a_module_error() -> None:
    data = wasmtime.wat2wasm("(module (table 2 funcref) (func $f) (elem (i32.const 0) $f $f))")
    pos = 8
    while data[pos] != 9:  # to the element section: every section here is under 128 bytes
        pos += 2 + data[pos + 1]
    size = data[pos + 1]
    body = data[pos + 2 : pos + 2 + size]
    # the section says it holds one more segment than it has
    forged = data[:pos] + bytes([9, size]) + bytes([body[0] + 1]) + body[1:] \
        + data[pos + 2 + size :]
    with pytest.raises(ModuleError, match=r"element|remain|end of file"):
        read_module_bytes(forged)
    # or ends inside its segment
    cut = data[:pos] + bytes([9, size - 2]) + body[: size - 2] + data[pos + 2 + size :]
    with pytest.raises(ModuleError):
        read_module_bytes(cut)
