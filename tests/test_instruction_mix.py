"""The counting copy: instruction classes, functions that ran, and WAMR's block-end scans."""

from __future__ import annotations

import pytest
import wasmtime

from wasm_advisor.calibration import _kernel_counts as kernel_counts
from wasm_advisor.calibration import kernels
from wasm_advisor.errors import ModuleError
from wasm_advisor.wasm._instruction_mix import (
    CLASSES,
    EXPORT_PREFIX,
    MARK_PREFIX,
    counting_module,
    function_body_bytes,
)
from wasm_advisor.wasm._module import read_module_bytes

LOOP = """(module
  (memory 1)
  (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $never (result i32) (i32.const 7))
  (func (export "run") (param $n i32) (result i32) (local $x i32)
    (loop $l
      (local.set $x (call $leaf (i32.load (i32.const 16))))
      (i32.store (i32.const 16) (local.get $x))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $x)))"""


def _run(wat_or_bytes: str | bytes, *args: int, fuel: bool = False
         ) -> tuple[dict[str, int], object]:
    """Run export ``run`` of the module's counting copy; its counters, and the result."""
    data = wasmtime.wat2wasm(wat_or_bytes) if isinstance(wat_or_bytes, str) else wat_or_bytes
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, counting_module(data)), [])
    exports = instance.exports(store)
    run = exports["run"]
    assert isinstance(run, wasmtime.Func)
    result = run(store, *args)
    counters = {name: int(g.value(store)) for name, g in exports.items()
                if isinstance(g, wasmtime.Global)}
    return counters, result


def _fuel(wat: str, *args: int) -> int:
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    store.set_fuel(1 << 40)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, wasmtime.wat2wasm(wat)), [])
    run = instance.exports(store)["run"]
    assert isinstance(run, wasmtime.Func)
    run(store, *args)
    return (1 << 40) - store.get_fuel()


def test_counts_each_class_as_it_runs_and_agrees_with_fuel() -> None:
    counters, result = _run(LOOP, 10)
    assert result == 10  # the copy computes what the module does
    mix = {c: counters[EXPORT_PREFIX + c] for c in CLASSES}
    # per iteration: 2 loads/stores, 1 call (+ the leaf's local.get, const, add, end) ...
    assert mix["load"] == 10 and mix["store"] == 10 and mix["call"] == 10
    assert mix["branch"] == 10  # br_if
    assert mix["int"] == 2 * 10  # i32.sub in the loop, i32.add in the leaf
    # fuel counts every instruction but nop, drop, block, loop and else, and a function's
    # own end (11 here: 10 calls of the leaf and the export's run), but no other end
    assert sum(mix.values()) - mix["block"] + 11 == _fuel(LOOP, 10)
    # the functions that ran, by their index among the module's own
    assert [counters[f"{MARK_PREFIX}{i}"] for i in range(3)] == [1, 0, 1]


def test_body_sizes_are_listed_in_the_order_of_the_flags() -> None:
    data = wasmtime.wat2wasm(LOOP)
    sizes = function_body_bytes(data)
    # $leaf: no locals, local.get 0, i32.const 1, i32.add, end; $never: i32.const 7, end
    assert sizes[:2] == [1 + 2 + 2 + 1 + 1, 1 + 2 + 1]
    code = read_module_bytes(data).code_bytes
    # the section is its count and each body behind its size
    assert sum(sizes) + len(sizes) + 1 == code
    with pytest.raises(ModuleError, match="not a WebAssembly module"):
        function_body_bytes(b"\0asn" + data[4:])


BLOCK_TWICE = """(module
  (func (export "run") (param $n i32) (result i32)
    (loop $l
      (block $b
        (br_if $b (i32.const 1))
        (drop (i32.const 1)) (drop (i32.const 2)) (drop (i32.const 3)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 0)))"""


def test_a_branch_out_of_a_block_scans_once_then_the_end_is_cached() -> None:
    counters, _ = _run(BLOCK_TWICE, 5)
    assert counters["__scans"] == 1
    # from the block's first instruction to its end: i32.const, br_if, 3 x (const, drop), end
    assert counters["__scan_ops"] == 9


IFS_AND_TABLES = """(module
  (func (export "run") (param $n i32) (result i32) (local $x i32)
    (loop $l
      (if (i32.and (local.get $n) (i32.const 1))
        (then (local.set $x (i32.add (local.get $x) (i32.const 1)))))
      (block $b (block $a
        (br_table $a $b (i32.and (local.get $n) (i32.const 1))))
        (local.set $x (i32.add (local.get $x) (i32.const 2))))
      (block $never (br_if $never (i32.const 0)) (nop))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $x)))"""


def test_ifs_and_br_tables_scan_on_their_first_miss_only_and_untaken_branches_never() -> None:
    counters, result = _run(IFS_AND_TABLES, 6)
    assert result == 3 * 1 + 3 * 2
    # the if (on entry), $a and $b (each on the br_table's first jump to it); the block
    # left by an untaken br_if is never scanned for
    assert counters["__scans"] == 3


def test_the_block_exit_kernels_differ_only_in_what_the_scans_pass_over() -> None:
    short, long_ = (kernel_counts.scan_ops_per_iteration(f"block_exit_{k}")
                    for k in ("short", "long"))
    # 256 blocks, more than the 128 ends the cache holds: nearly every exit scans
    assert kernels.BLOCK_EXITS * 3 < short < long_ / 5
    assert kernel_counts.instructions_per_iteration("block_exit_short") == \
        kernel_counts.instructions_per_iteration("block_exit_long")
    assert kernel_counts.scan_ops_per_iteration("int") == 0


@pytest.mark.parametrize("wat", [
    # no memory, no globals, no exports but the one
    '(module (func (export "run") (result i32) (block (br 0)) (i32.const 1)))',
    # an imported memory and global: the counters and the cache come after them
    '(module (import "m" "mem" (memory 1)) (import "m" "g" (global i32)) '
    '(global $own (mut i32) (i32.const 5)) '
    '(func (export "run") (result i32) (block (br 0)) (i32.add (global.get 0) '
    '(global.get $own))))',
])
def test_the_copy_validates_whatever_sections_the_module_has(wat: str) -> None:
    data = counting_module(wasmtime.wat2wasm(wat))
    module = wasmtime.Module(wasmtime.Engine(), data)
    assert {e.name for e in module.exports} >= {"run", "__scans", f"{MARK_PREFIX}0"}


def test_an_instruction_it_cannot_decode_is_a_clear_error() -> None:
    data = bytearray(wasmtime.wat2wasm('(module (func (export "run") (nop)))'))
    at = data.rindex(b"\x01\x0b")  # the body's nop, end
    data[at] = 0xFB  # a GC instruction
    with pytest.raises(ModuleError, match="0xfb is not one the instruction mix can count"):
        counting_module(bytes(data), "gc.wasm")
    with pytest.raises(ModuleError, match="not a WebAssembly module"):
        counting_module(b"\x00asx", "bad.wasm")
