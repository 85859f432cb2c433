"""Calibration kernels: WASI command modules that time their own loops in the guest.

Each guest-timed kernel is one module. Its ``_start``:

1. prints ``{"t0":T}``, the realtime clock read at its first instruction (the
   host compares it with its own realtime clock, read before it handed over the
   bytes, for the time to first instruction; monotonic clocks of WASI runtimes
   may start at zero per instance, so they cannot be compared across processes);
2. calibrates its loop count in the guest, doubling ``n`` from ``start_n`` until
   one sample lasts ``min_sample_ns`` (capped at ``max_n``);
3. runs ``repeats`` rounds of samples at ``n``, ``2n`` and ``4n`` iterations and
   prints one ``{"n":N,"ns":T}`` line per sample.

The per-iteration cost is the slope of ``ns`` against ``n``; the intercept is
the cost of reading the clock. The same bytes run on every runtime and mode,
and nothing of the binding falls between the two clock reads.

Host-timed families (compile cost per code byte, instantiation cost per page
and per data byte, the empty module) are plain modules built here too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache

import wasmtime

from ..wasm import read_module_bytes
from ._module_cache import cached_module
from ._typical_code import typical_functions

__all__ = [
    "GUEST_KERNELS",
    "KernelPlan",
    "code_size_module",
    "empty_module",
    "guest_kernel",
    "instantiate_module",
    "prelude",
    "resident_module",
    "timed_samples",
]

PAGE = 65536
TYPICAL_FUNCTIONS = 64  # generated functions the 'typical' kernel calls into (a power of 2)
# Calls the 'typical' kernel makes to each function before it moves on to the next (a
# power of 2), with other arguments each time: the way a program's loop runs the same
# code over new data. Calling a different function every time, as it once did, ran
# 140,000 instructions before any path came round again, which no program's hot code
# does: the interpreters' dispatch branches and WAMR's block-end cache missed far more
# than on real programs, and the kernel cost interpreters two to three times what real
# programs do per instruction (docs/methodology.md)
TYPICAL_REPEATS = 16
CODE_FAMILY_DATA = 1024  # data-segment bytes in each module of the compile-cost family


@dataclass(frozen=True)
class KernelPlan:
    """How long and how often the guest-timed kernels run."""

    min_sample_ns: int = 2_000_000
    repeats: int = 5
    start_n: int = 64
    max_n: int = 1 << 26
    working_set_bytes: int = 128 << 20
    sizes: tuple[int, ...] = (1, 2, 4)


@dataclass(frozen=True)
class GuestKernel:
    """A guest-timed kernel: what one iteration does, and its WAT body."""

    name: str
    unit: str  # what one iteration is
    description: str
    body: str  # WAT of `(func $kernel (param $n i64) (result i64) ...)` locals and body
    extra: str = ""  # extra module fields (tables, helper functions)
    needs_working_set: bool = False
    imports: tuple[str, ...] = field(default=())
    feature: str | None = None  # the wasm feature it needs (a WasmFeature value), if any


# Writes the decimal digits of an i64 at a memory address; returns the end address.
PUT_U64 = """(func $put_u64 (param $v i64) (param $pos i32) (result i32)
    (local $len i32) (local $t i64) (local $p i32)
    (local.set $t (local.get $v))
    (local.set $len (i32.const 1))
    (block $counted (loop $count
      (br_if $counted (i64.lt_u (local.get $t) (i64.const 10)))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br $count)))
    (local.set $p (i32.add (local.get $pos) (local.get $len)))
    (local.set $t (local.get $v))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $t) (i64.const 10)))))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $t) (i64.const 0))))
    (i32.add (local.get $pos) (local.get $len)))"""

_PRELUDE = """
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock (param i32 i64 i32) (result i32)))
  @IMPORTS@
  (memory (export "memory") @PAGES@)
  (global $sink (mut i64) (i64.const 0))
  ;; scratch: [0,8) clock result, [16,24) iovec, [64,192) output line
  (func $now (result i64)
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0)))
    (i64.load (i32.const 0)))
  @PUT_U64@
  (func $put_str (param $src i32) (param $len i32) (param $pos i32) (result i32)
    (memory.copy (local.get $pos) (local.get $src) (local.get $len))
    (i32.add (local.get $pos) (local.get $len)))
  (func $flush (param $end i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.sub (local.get $end) (i32.const 64)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))))
  ;; strings at 256: {"n":  ,"ns":  }\\n  {"t0":
  (data (i32.const 256) "{\\"n\\":,\\"ns\\":}\\0a{\\"t0\\":")
  (func $emit (param $n i64) (param $ns i64)
    (local $p i32)
    (local.set $p (call $put_str (i32.const 256) (i32.const 5) (i32.const 64)))
    (local.set $p (call $put_u64 (local.get $n) (local.get $p)))
    (local.set $p (call $put_str (i32.const 261) (i32.const 6) (local.get $p)))
    (local.set $p (call $put_u64 (local.get $ns) (local.get $p)))
    (local.set $p (call $put_str (i32.const 267) (i32.const 2) (local.get $p)))
    (call $flush (local.get $p)))
  (func $emit_t0 (param $t i64)
    (local $p i32)
    (local.set $p (call $put_str (i32.const 269) (i32.const 6) (i32.const 64)))
    (local.set $p (call $put_u64 (local.get $t) (local.get $p)))
    (local.set $p (call $put_str (i32.const 267) (i32.const 2) (local.get $p)))
    (call $flush (local.get $p)))
  (func $realtime (result i64)
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 0)))
    (i64.load (i32.const 0)))
  (func $sample (param $n i64) (result i64)
    (local $t i64)
    (local.set $t (call $now))
    (global.set $sink (i64.xor (global.get $sink) (call $kernel (local.get $n))))
    (i64.sub (call $now) (local.get $t)))
"""

_START = """
  (func (export "_start")
    (local $n i64) (local $r i32) (local $t0 i64)
    (local.set $t0 (call $realtime))
    (call $emit_t0 (local.get $t0))
    {setup}
    {timed}
    ;; keep the results alive: write the sink where the host never reads it
    (i64.store (i32.const 8) (global.get $sink)))
"""

# the timed part of ``_start``: calibrate ``$n`` on ``$kernel``, then the rounds of samples
_TIMED = """(drop (call $sample (i64.const {start_n})))  ;; warm-up
    (local.set $n (i64.const {start_n}))
    (block $calibrated (loop $double
      (br_if $calibrated (i64.ge_u (call $sample (local.get $n)) (i64.const {min_ns})))
      (br_if $calibrated (i64.ge_u (local.get $n) (i64.const {max_n})))
      (local.set $n (i64.shl (local.get $n) (i64.const 1)))
      (br $double)))
    (local.set $r (i32.const 0))
    (loop $round
      {samples}
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $r) (i32.const {repeats}))))"""

_SAMPLE = """(call $emit (i64.mul (local.get $n) (i64.const {k}))
        (call $sample (i64.mul (local.get $n) (i64.const {k}))))"""


BLOCK_EXITS = 256  # more blocks than the 128 ends WAMR's classic interpreter caches
_BINOPS = ("add", "sub", "and", "or", "xor", "shl", "shr_u", "mul")
_COMPARES = ("lt_u", "eq", "ne", "gt_s", "ge_u")
# statements shaped like compiled code, drawn at random: a scan over them meets opcodes
# in no order a branch predictor can learn, as it does in real code
_STATEMENTS = (
    "(local.set $t (i32.{bin} (local.get $t) (i32.const {k})))",
    "(i32.store offset={o} (local.get $u) (i32.{bin} (i32.load offset={o2} (local.get $t)) "
    "(local.get $u)))",
    "(local.set $u (select (local.get $t) (i32.const {k}) (i32.{cmp} (local.get $u) "
    "(i32.const {k2}))))",
    "(if (i32.{cmp} (local.get $t) (local.get $u)) (then (local.set $t (i32.const {k}))) "
    "(else (local.set $u (local.get $t))))",
    "(local.set $x (i64.{bin} (local.get $x) (i64.extend_i32_u (local.tee $u "
    "(i32.load8_u offset={o} (local.get $t))))))",
    "(block (br_if 0 (i32.eqz (local.get $t))) (local.set $t (i32.{bin} (local.get $t) "
    "(local.get $u))))",
    "(i64.store offset={o} (local.get $t) (local.get $x))",
    "(local.set $x (i64.add (local.get $x) (call $now)))",
    "(global.set $sink (i64.{bin} (global.get $sink) (i64.const {k})))",
    "(local.set $t (i32.wrap_i64 (i64.rotl (local.get $x) (i64.extend_i32_s (local.get $u)))))",
    "(f64.store offset={o} (local.get $u) (f64.mul (f64.load offset={o2} (local.get $t)) "
    "(f64.convert_i32_s (local.get $t))))",
    "(block (block (block (br_table 0 1 2 (i32.and (local.get $t) (i32.const 3)))) "
    "(local.set $u (i32.const {k}))) (local.set $t (i32.{bin} (local.get $t) (i32.const {k2}))))",
    "(local.set $u (i32.{cmp} (i32.load16_s offset={o} (local.get $t)) (memory.size)))",
    "(loop (br_if 0 (i32.{cmp} (local.tee $u (i32.sub (local.get $u) (i32.const 1))) "
    "(local.get $t))))",
)


def _skipped(statements: int, rng: random.Random) -> str:
    """``statements`` statements of compiled-looking code (never run: they follow a br)."""
    return " ".join(rng.choice(_STATEMENTS).format(
        bin=rng.choice(_BINOPS), cmp=rng.choice(_COMPARES), k=rng.choice((1, 8, 255, 4096)),
        k2=rng.choice((0, 16, 100000)), o=rng.choice((0, 4, 16, 200)),
        o2=rng.choice((8, 32, 1024))) for _ in range(statements))


def _block_exits(statements: int) -> str:
    """A loop of :data:`BLOCK_EXITS` blocks, each left at once past ``statements``
    statements of code that never runs."""
    rng = random.Random(statements)
    blocks = "\n      ".join(f"(block (br 0) {_skipped(statements, rng)})"
                              for _ in range(BLOCK_EXITS))
    return f"""(local $i i64) (local $t i32) (local $u i32) (local $x i64)
    (loop $l
      {blocks}
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (i64.extend_i32_u (local.get $t))"""


def _quarter_round(rows: str, message: int) -> str:
    """WAT of BLAKE3's quarter-round G on four v128 locals (``rows``: their names), with
    the two message words loaded at ``message`` and ``message + 16`` past ``$p``: the
    rotates by 16 and 8 are byte shuffles, by 12 and 7 two shifts and an or, as compilers
    emit them. Two on separate rows are independent, as SIMD loops over separate data are.
    """
    a, b, c, d = (f"${r}" for r in rows)

    def half(offset: int, shuffle: str, right: int) -> str:
        return f"""(local.set {a} (i32x4.add (i32x4.add (local.get {a}) (local.get {b}))
                               (v128.load offset={offset} (local.get $p))))
      (local.set {d} (i8x16.shuffle {shuffle}
                      (v128.xor (local.get {d}) (local.get {a})) (local.get {d})))
      (local.set {c} (i32x4.add (local.get {c}) (local.get {d})))
      (local.set {b} (v128.xor (local.get {b}) (local.get {c})))
      (local.set {b} (v128.or (i32x4.shr_u (local.get {b}) (i32.const {right}))
                             (i32x4.shl (local.get {b}) (i32.const {32 - right}))))"""

    return (half(message, "2 3 0 1 6 7 4 5 10 11 8 9 14 15 12 13", 12) + "\n      "
            + half(message + 16, "1 2 3 0 5 6 7 4 9 10 11 8 13 14 15 12", 7))


GUEST_KERNELS: dict[str, GuestKernel] = {
    k.name: k
    for k in (
        GuestKernel(
            "int",
            "iteration of 4 dependent i32 ops (mul, add, xor, rotate), as wasm32 code computes",
            "integer compute",
            # i32 throughout, as 96% of the corpus's integer operators are, with an LCG's
            # constants: an interpreter that keeps an i64 in two stack cells and decodes
            # each constant's LEB128 as it runs (WAMR's classic one) paid 1.6 ns per
            # instruction for the same chain in i64 with 64-bit constants, against 1.0
            # (docs/methodology.md); compiled code runs either in the same time
            """(local $i i32) (local $m i32) (local $x i32)
    (local.set $m (i32.wrap_i64 (local.get $n)))
    (local.set $x (i32.const 12345))
    (loop $l
      (local.set $x (i32.rotl (i32.xor (i32.add (i32.mul (local.get $x)
        (i32.const 1664525)) (i32.const 1013904223))
        (local.get $i)) (i32.const 17)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $m))))
    (i64.extend_i32_u (local.get $x))""",
        ),
        GuestKernel(
            "float",
            "iteration of 4 dependent f64 ops (mul, add, sqrt, div)",
            "floating-point compute",
            """(local $i i64) (local $x f64)
    (local.set $x (f64.const 1.5))
    (loop $l
      (local.set $x (f64.div (f64.sqrt (f64.add (f64.mul (local.get $x) (f64.const 1.0000001))
        (f64.const 0.5))) (f64.const 0.9999999)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (i64.reinterpret_f64 (local.get $x))""",
        ),
        GuestKernel(
            "call",
            "indirect call to a small function and its return",
            "call-heavy code",
            """(local $i i64) (local $x i64)
    (loop $l
      (local.set $x (call_indirect (type $leaf) (local.get $x)
        (i32.wrap_i64 (i64.and (local.get $i) (i64.const 1)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (local.get $x)""",
            extra="""
  (type $leaf (func (param i64) (result i64)))
  (table 2 funcref)
  (elem (i32.const 0) $leaf_a $leaf_b)
  (func $leaf_a (type $leaf) (i64.add (local.get 0) (i64.const 3)))
  (func $leaf_b (type $leaf) (i64.xor (local.get 0) (i64.const 5)))""",
        ),
        GuestKernel(
            "mixed",
            "iteration of typical integer code: two loads from an L1-resident buffer, a "
            "data-dependent compare-and-swap, arithmetic",
            "typical compiled code (sorting, compression, parsing loops)",
            """(local $i i64) (local $x i32) (local $a i32) (local $b i32) (local $p i32)
    (local.set $x (i32.const 12345))
    (loop $l
      (local.set $p (i32.and (i32.mul (i32.wrap_i64 (local.get $i)) (i32.const 28))
                             (i32.const 1020)))
      (local.set $a (i32.load offset=1024 (local.get $p)))
      (local.set $b (i32.load offset=1028 (local.get $p)))
      (if (i32.gt_u (local.get $a) (local.get $b))
        (then (i32.store offset=1024 (local.get $p) (local.get $b))
              (i32.store offset=1028 (local.get $p) (local.get $a))))
      (local.set $x (i32.add (i32.xor (local.get $x) (local.get $a))
                             (i32.shr_u (local.get $b) (i32.const 3))))
      (i32.store offset=1024 (local.get $p)
        (i32.add (local.get $a) (i32.mul (local.get $x) (i32.const 1103515245))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (i64.extend_i32_u (local.get $x))""",
        ),
        GuestKernel(
            "typical",
            f"call into one of {TYPICAL_FUNCTIONS} generated functions shaped like compiled "
            f"C/Rust (see typical_code), with the calls and loops it makes; each is called "
            f"{TYPICAL_REPEATS} times in a row",
            "typical compiled code: frames on a shadow stack, locals, loads and stores, "
            "branches, bounded loops, direct and indirect calls",
            f"""(local $i i64) (local $x i32)
    (loop $l
      (local.set $x (call_indirect (type $typical) (i32.const 2) (local.get $x)
        (i32.wrap_i64 (local.get $i))
        (i32.and (i32.shr_u (i32.wrap_i64 (local.get $i))
                            (i32.const {TYPICAL_REPEATS.bit_length() - 1}))
                 (i32.const {TYPICAL_FUNCTIONS - 1}))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (i64.extend_i32_u (local.get $x))""",
            extra="\n" + typical_functions(TYPICAL_FUNCTIONS),
        ),
        GuestKernel(
            "simd",
            "iteration of two independent BLAKE3 quarter-rounds on v128 rows: message loads, "
            "lane-wise adds, xors, rotates (by 16 and 8 as byte shuffles, by 12 and 7 as two "
            "shifts and an or), a store",
            "SIMD compute (hashing, codecs, image and vector code)",
            f"""(local $i i64) (local $p i32) {" ".join(f"(local ${r} v128)" for r in "abcdefgh")}
    (local.set $b (v128.const i32x4 1 2 3 4))
    (local.set $c (v128.const i32x4 5 6 7 8))
    (local.set $d (v128.const i32x4 9 10 11 12))
    (local.set $f (v128.const i32x4 3 1 4 1))
    (local.set $g (v128.const i32x4 5 9 2 6))
    (local.set $h (v128.const i32x4 5 3 5 8))
    (loop $l
      (local.set $p (i32.and (i32.shl (i32.wrap_i64 (local.get $i)) (i32.const 6))
                             (i32.const 960)))
      {_quarter_round("abcd", 1024)}
      {_quarter_round("efgh", 1056)}
      (v128.store offset=1024 (local.get $p) (v128.xor (local.get $a) (local.get $e)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (i64.add (i64x2.extract_lane 0 (local.get $a)) (i64x2.extract_lane 1 (local.get $h)))""",
            feature="simd",
        ),
        *(GuestKernel(
            f"block_exit_{size}",
            f"{BLOCK_EXITS} branches out of a block, each over {reps} statements of "
            "compiled-looking code that never run",
            "branches out of blocks: WAMR's classic interpreter scans for a block's end when "
            "it is not in its cache; the short and long kernels differ only in what it scans",
            _block_exits(reps)) for size, reps in (("short", 1), ("long", 12))),
        GuestKernel(
            "mem_seq",
            "8-byte load, walking the working set in order",
            "sequential memory access over a working set larger than the last-level cache",
            """(local $i i64) (local $x i64) (local $mask i64)
    (local.set $mask (i64.const {mask}))
    (loop $l
      (local.set $x (i64.add (local.get $x) (i64.load offset={base}
        (i32.wrap_i64 (i64.shl (i64.and (local.get $i) (local.get $mask)) (i64.const 3))))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (local.get $x)""",
            needs_working_set=True,
        ),
        GuestKernel(
            "mem_rand",
            "8-byte load at a pseudo-random place in the working set",
            "random memory access over a working set larger than the last-level cache",
            """(local $i i64) (local $x i64) (local $h i64) (local $mask i64)
    (local.set $mask (i64.const {mask}))
    (local.set $h (i64.const 12345))
    (loop $l
      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 6364136223846793005))
        (i64.const 1442695040888963407)))
      (local.set $x (i64.add (local.get $x) (i64.load offset={base}
        (i32.wrap_i64 (i64.shl (i64.and (i64.shr_u (local.get $h) (i64.const 29))
          (local.get $mask)) (i64.const 3))))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (local.get $x)""",
            needs_working_set=True,
        ),
        GuestKernel(
            "hostcall",
            "call to a cheap WASI import (args_sizes_get) and its return",
            "host calls",
            """(local $i i64)
    (loop $l
      (drop (call $args_sizes (i32.const 32) (i32.const 40)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n))))
    (i64.load (i32.const 32))""",
            imports=(
                '(import "wasi_snapshot_preview1" "args_sizes_get" '
                "(func $args_sizes (param i32 i32) (result i32)))",
            ),
        ),
    )
}


def prelude(pages: int, imports: tuple[str, ...] = ()) -> str:
    """The module fields every guest-timed module starts with: the WASI imports (and
    ``imports``), ``pages`` of memory, and the functions that read the clock, time
    ``$kernel`` (``$sample``, which the module defines) and print the records."""
    return (_PRELUDE.replace("@IMPORTS@", "\n  ".join(imports))
            .replace("@PAGES@", str(pages)).replace("@PUT_U64@", PUT_U64))


def timed_samples(plan: KernelPlan) -> str:
    """WAT that calibrates ``$n`` on ``$kernel`` and prints ``plan``'s samples (it needs
    ``$n i64`` and ``$r i32`` locals)."""
    samples = "\n      ".join(_SAMPLE.format(k=k) for k in plan.sizes)
    return _TIMED.format(start_n=min(plan.start_n, plan.max_n), min_ns=plan.min_sample_ns,
                         max_n=plan.max_n, repeats=plan.repeats, samples=samples)


@cache
def guest_kernel(name: str, plan: KernelPlan = KernelPlan()) -> bytes:
    """The module bytes of guest-timed kernel ``name`` under ``plan``."""
    kernel = GUEST_KERNELS[name]
    base = PAGE  # the working set starts after the scratch page
    pages = 1
    setup = ""
    mask = 0
    if kernel.needs_working_set:
        pages = 1 + plan.working_set_bytes // PAGE
        mask = plan.working_set_bytes // 8 - 1
        # touch every page before timing, so page faults stay out of the samples
        setup = (
            f"(memory.fill (i32.const {base}) (i32.const 1) (i32.const {plan.working_set_bytes}))"
        )
    wat = (
        "(module"
        + prelude(pages, kernel.imports)
        + kernel.extra
        + '\n  (func $kernel (export "kernel") (param $n i64) (result i64)\n    '
        + kernel.body.format(mask=mask, base=base)
        + ")"
        + _START.format(setup=setup, timed=timed_samples(plan))
        + ")"
    )
    return bytes(wasmtime.wat2wasm(wat))


def empty_module() -> bytes:
    """A WASI command whose ``_start`` only reports its first clock reading."""
    return _host_timed_module(functions=0, pages=1, data_bytes=0)


@cache
def code_size_module(code_bytes: int, run_all: bool = False, tabled: bool = True,
                     dwell_ns: int = 0) -> bytes:
    """A WASI command with about ``code_bytes`` in its code section (see
    :func:`_code_size_module`), kept on disk for the next worker (:mod:`.module_cache`)."""

    dwell = f"-{dwell_ns}" if dwell_ns else ""
    return cached_module(f"code-{code_bytes}-{int(run_all)}-{int(tabled)}{dwell}",
                         lambda: _code_size_module(code_bytes, run_all, tabled, dwell_ns))


def _code_size_module(code_bytes: int, run_all: bool = False, tabled: bool = True,
                      dwell_ns: int = 0) -> bytes:
    """A WASI command with about ``code_bytes`` in its code section, in ordinary functions.

    Like every compiled C or Rust program, it also has a small data segment
    (``CODE_FAMILY_DATA`` bytes): engines set up data at a module's first
    instance, and the code family's first-instance figure includes that.

    ``run_all``: ``_start`` calls every function once (each runs its body, and its
    calls return at once), for an engine that compiles a function when it is first
    called (WAMR's LLVM JIT): there the code that runs costs more than the code
    that is only loaded.

    ``tabled=False``: the same code with its table's every slot holding the first
    function, so that no other function is reachable from outside it (see
    :func:`~wasm_advisor.calibration._typical_code.typical_functions`).

    ``dwell_ns``: ``_start`` then stays alive that long, as :func:`resident_module` does.
    """

    base, per_function = _code_section_growth()
    functions = max(1, round((code_bytes - base) / per_function))
    for _ in range(4):  # functions differ in size: correct the count on the real total
        module = _host_timed_module(functions=functions, pages=1, data_bytes=CODE_FAMILY_DATA,
                                    run_all=run_all, tabled=tabled)
        error = code_bytes - read_module_bytes(module).code_bytes
        step = round(error / per_function)
        if step == 0 or functions + step < 1:
            break
        functions += step
    return _host_timed_module(functions=functions, pages=1, data_bytes=CODE_FAMILY_DATA,
                              run_all=run_all, tabled=tabled, dwell_ns=dwell_ns)


@cache
def _code_section_growth() -> tuple[int, float]:
    """Code-section bytes of the module with no filler, and per filler function."""

    small = read_module_bytes(_host_timed_module(functions=1, pages=1, data_bytes=0)).code_bytes
    large = read_module_bytes(_host_timed_module(functions=65, pages=1, data_bytes=0)).code_bytes
    per_function = (large - small) / 64
    return round(small - per_function), per_function


def instantiate_module(pages: int, data_bytes: int) -> bytes:
    """A WASI command with ``pages`` of initial memory and ``data_bytes`` in a data segment."""
    return _host_timed_module(functions=0, pages=max(1, pages), data_bytes=data_bytes)


def resident_module(pages: int, data_bytes: int, dwell_ns: int = 20_000_000) -> bytes:
    """:func:`instantiate_module` that then stays alive ``dwell_ns`` (a busy wait on the clock).

    For a runtime whose memory is read by sampling its process's peak resident
    memory while it runs: a module that exits at once can end between two
    samples, before the instance's memory is seen.
    """
    return _host_timed_module(functions=0, pages=max(1, pages), data_bytes=data_bytes,
                              dwell_ns=dwell_ns)


@cache
def _host_timed_module(functions: int, pages: int, data_bytes: int, dwell_ns: int = 0,
                       run_all: bool = False, tabled: bool = True) -> bytes:
    filler = typical_functions(functions, tabled)
    # A data segment of non-zero bytes: runtimes must copy it at instantiation.
    data = ""
    if data_bytes:
        chunk = "\\ab" * 64
        repeats = data_bytes // 64
        data = f'  (data (i32.const {PAGE}) "{chunk * repeats}")'
        pages = max(pages, 1 + (PAGE + data_bytes) // PAGE)
    # run a bounded part of the code once, so nothing in it is dead; or every function once
    # (a budget of 1: its body runs, and the calls in it return at once)
    calls = "".join(f"(drop (call $t{k} (i32.const 1) (i32.const 1) (i32.const 2)))"
                    for k in range(functions)) if run_all else \
        "(drop (call $t0 (i32.const 2) (i32.const 1) (i32.const 2)))" if functions else ""
    dwell = f"""
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 8)))
    (local.set $until (i64.add (i64.load (i32.const 8)) (i64.const {dwell_ns})))
    (loop $wait
      (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 8)))
      (br_if $wait (i64.lt_u (i64.load (i32.const 8)) (local.get $until))))""" if dwell_ns else ""
    wat = f"""(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") {pages})
{filler}
{data}
{PUT_U64}
  (func (export "_start") (local $p i32) (local $until i64)
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 0)))
    (i32.store (i32.const 64) (i32.const 0x3074227b))  ;; {{"t0
    (i32.store16 (i32.const 68) (i32.const 0x3a22))    ;; ":
    (local.set $p (call $put_u64 (i64.load (i32.const 0)) (i32.const 70)))
    (i32.store16 (local.get $p) (i32.const 0x0a7d))     ;; }}\\n
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.sub (i32.add (local.get $p) (i32.const 2)) (i32.const 64)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    {calls}{dwell})
)"""
    return bytes(wasmtime.wat2wasm(wat))
