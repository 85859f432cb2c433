"""Feature probes: tiny WASI commands, each using one WebAssembly proposal.

A probe computes something with its feature and exits with status 42 when the
answer is right (1 when it is wrong). A runtime that cannot load or run the
feature exits otherwise, so "supported" means "ran correctly", not "loaded".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import wasmtime

from ..wasm import WasmFeature

__all__ = ["PROBES", "PROBE_SUCCESS", "Probe"]

PROBE_SUCCESS = 42

_EXIT = '(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'


def _finish(condition: str) -> str:
    return f"(call $exit (select (i32.const 42) (i32.const 1) {condition}))"


@dataclass(frozen=True)
class Probe:
    feature: WasmFeature
    wat: str

    @cache  # noqa: B019 - probes are module-level constants
    def module(self) -> bytes:
        return bytes(wasmtime.wat2wasm(self.wat))


_WATS: dict[WasmFeature, str] = {
    WasmFeature.SIMD: f"""(module {_EXIT} (memory (export "memory") 1)
  (func (export "_start")
    (v128.store (i32.const 0)
      (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 10 20 30 40)))
    {_finish("(i32.eq (i32.load offset=12 (i32.const 0)) (i32.const 44))")}))""",
    WasmFeature.THREADS: f"""(module {_EXIT} (memory (export "memory") 1 1 shared)
  (func (export "_start")
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 40)))
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 2)))
    {_finish("(i32.eq (i32.atomic.load (i32.const 0)) (i32.const 42))")}))""",
    WasmFeature.MEMORY64: f"""(module {_EXIT} (memory (export "memory") i64 1)
  (func (export "_start")
    (i64.store (i64.const 65528) (i64.const 42))
    {_finish("(i64.eq (i64.load (i64.const 65528)) (i64.const 42))")}))""",
    WasmFeature.EXCEPTIONS: f"""(module {_EXIT} (memory (export "memory") 1) (tag $e (param i32))
  (func $throw (param i32) (throw $e (local.get 0)))
  (func (export "_start") (local $v i32)
    (block $caught (result i32)
      (try_table (catch $e $caught) (call $throw (i32.const 42)))
      (i32.const 0))
    (local.set $v)
    {_finish("(i32.eq (local.get $v) (i32.const 42))")}))""",
    WasmFeature.TAIL_CALL: f"""(module {_EXIT} (memory (export "memory") 1)
  (func $count (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (local.get $acc))
      (else (return_call $count (i32.sub (local.get $n) (i32.const 1))
                                (i32.add (local.get $acc) (i32.const 1))))))
  (func (export "_start")
    {_finish("(i32.eq (call $count (i32.const 1000000) (i32.const 0)) (i32.const 1000000))")}))""",
    WasmFeature.MULTI_MEMORY: f"""(module {_EXIT} (memory $a (export "memory") 1) (memory $b 1)
  (func (export "_start")
    (i32.store $b (i32.const 8) (i32.const 42))
    (i32.store $a (i32.const 8) (i32.const 7))
    {_finish("(i32.eq (i32.load $b (i32.const 8)) (i32.const 42))")}))""",
    WasmFeature.BULK_MEMORY: f"""(module {_EXIT} (memory (export "memory") 1)
  (func (export "_start")
    (memory.fill (i32.const 0) (i32.const 42) (i32.const 16))
    (memory.copy (i32.const 100) (i32.const 0) (i32.const 16))
    {_finish("(i32.eq (i32.load8_u (i32.const 115)) (i32.const 42))")}))""",
    WasmFeature.REFERENCE_TYPES: f"""(module {_EXIT} (memory (export "memory") 1)
  (table $t 2 funcref) (table $u 1 externref)
  (func $f)
  (elem declare func $f)
  (func (export "_start")
    (table.set $t (i32.const 1) (ref.func $f))
    {_finish("(i32.and (i32.eqz (ref.is_null (table.get $t (i32.const 1)))) "
             "(ref.is_null (table.get $u (i32.const 0))))")}))""",
}

PROBES: dict[str, Probe] = {f.value: Probe(f, wat) for f, wat in _WATS.items()}
