"""The instruction-mix family: generated loops whose mixes of instruction classes differ.

A mode's cost per instruction is not one number: an interpreter pays to dispatch
every ``local.get`` that a compiler keeps in a register, a call costs a frame, a
float division tens of cycles. The cost model therefore prices each instruction
class the counting copy counts (:data:`wasm_advisor.wasm.CLASSES`) and costs a
program by its counted mix (:mod:`wasm_advisor.model._instruction_costs`). The
prices are fitted per mode from this family: :data:`MIX_KERNELS` loops, each built
from statements drawn from :data:`_FAMILIES` with weights of its own, so that
the mixes span code that is mostly locals and integer arithmetic (an interpreter's
worst case), dense floating-point loops, load/store-heavy code, branchy code,
call-heavy code and shadow-stack (global) traffic.

Why generated, and why these statements: a class's price has to be read off the
differences between kernels, so every class must vary on its own across the
family (a class present in fixed proportion to another cannot be told from it),
and each statement must look like compiled code, not like a microbenchmark: every
value is built on the old one and folded into the result, through operations no
optimiser can solve in closed form (xor, rotate, multiply of two variables), so
LLVM (WAMR's AOT and JIT) deletes nothing; branches are mostly predictable, as in
real loops, with one draw in four on data; loads and stores stay in a 16 KiB
buffer (cache-resident: memory traffic beyond the cache is the memory kernels'
figure), with floats and integers in separate halves so no float operation ever
meets a denormal or a NaN that integer stores made.

All kernels live in **one** module (one compile, one instance, one AOT artifact
per mode). Its ``_start`` times each in turn, in the guest, exactly as a single
kernel module does (:mod:`.kernels`), printing ``{"k":I}`` before kernel ``I``'s
samples. Each kernel is also exported (``mix_I``) for the counting copy.
"""

from __future__ import annotations

import random
from functools import cache

import wasmtime

from .kernels import PAGE, KernelPlan, prelude, timed_samples

__all__ = ["MIX_FAMILY", "MIX_KERNELS", "mix_family_module", "mix_kernel_export",
           "mix_kernel_names"]

MIX_FAMILY = "mix"  # the family's task and module name
MIX_KERNELS = 24  # kernels in the family: about twice the classes they price
_STATEMENTS = 24  # statements in each kernel's loop body
_SEED = 20261207  # the family is the same everywhere, every time
# a kernel's statements: this share from its leading family (each family leads two
# kernels of the family), this from a second drawn at random, and the rest from all of them
# by weights drawn at random; so every class is large in some kernels and small in others,
# which a fit needs to tell classes apart, and each reaches the shares real code has (a
# dense floating-point loop: a quarter floating-point instructions, a sixth loads)
_LEADING, _SECOND = 0.7, 0.15
_BUFFER = PAGE  # the loads' and stores' buffer: integers in [0, 8 KiB), floats above
_FLOATS = 8192
_INT_OPS = ("add", "sub", "xor", "and", "or", "mul", "shl", "shr_u", "rotl", "add", "xor")
_LONG_OPS = ("add", "xor", "mul", "or", "rotl", "sub")
_COMPARES = ("lt_u", "gt_s", "eq", "ne", "ge_u", "le_s")
_INTS = ("$a", "$b", "$c", "$d")
_LEAVES = 4  # small functions the call statements call
_PLAN = KernelPlan()


def _k(rng: random.Random) -> int:
    return rng.choice((1, 3, 7, 12, 255, 4096, 1103515245, -17))


def _int(rng: random.Random) -> str:
    a, b = rng.sample(_INTS, 2)
    op, op2 = rng.choice(_INT_OPS), rng.choice(_INT_OPS)
    return (f"(local.set {a} (i32.{op} (local.get {a}) (i32.{op2} (local.get {b}) "
            f"(i32.const {_k(rng)}))))")


def _long(rng: random.Random) -> str:
    return (f"(local.set $x (i64.{rng.choice(_LONG_OPS)} (local.get $x) "
            f"(i64.extend_i32_u (local.get {rng.choice(_INTS)}))))")


def _local(rng: random.Random) -> str:
    a, b, c = rng.sample(_INTS, 3)
    return rng.choice((
        f"(local.set {a} (local.get {b}))",
        f"(local.set {a} (select (local.get {b}) (local.get {c}) (local.get $i)))",
        f"(local.set {a} (i32.add (local.tee {b} (local.get {c})) (local.get {a})))",
        "(local.set $y (local.get $x)) (local.set $x (local.get $y))",
    ))


def _float(rng: random.Random) -> str:
    # bounded: f is multiplied by less than 1 before anything is added, g and h stay small.
    # Division and square root (tens of cycles each, waited for) are one draw in twelve
    # each, as rare as in compiled numeric code, which is mostly adds and multiplies
    statements = (
        "(local.set $f (f64.add (f64.mul (local.get $f) (f64.const 0.9990234375)) "
        "(local.get $g)))",
        "(local.set $g (f64.mul (f64.add (local.get $g) (local.get $h)) (f64.const 0.5)))",
        f"(local.set $h (f64.sub (local.get $h) (f64.mul (local.get $h) "
        f"(f64.const {rng.choice(('0.125', '0.25', '0.0625'))}))))",
        f"(local.set $h (f64.add (local.get $h) (f64.convert_i32_u (i32.and (local.get "
        f"{rng.choice(_INTS)}) (i32.const 255)))))",
        "(local.set $f (f64.div (local.get $f) (f64.const 1.0009765625)))",
        "(local.set $g (f64.sqrt (f64.add (local.get $g) (f64.const 1))))",
    )
    return rng.choices(statements, (5, 5, 5, 5, 2, 2))[0]


def _load(rng: random.Random) -> str:
    a = rng.choice(_INTS)
    o = rng.randrange(0, 256, 4)
    return rng.choice((
        f"(local.set {a} (i32.add (local.get {a}) (i32.load offset={_BUFFER + o} "
        f"(local.get $p))))",
        f"(local.set {a} (i32.xor (local.get {a}) (i32.load8_u offset={_BUFFER + o + 1} "
        f"(local.get $p))))",
        f"(local.set {a} (i32.sub (local.get {a}) (i32.load16_s offset={_BUFFER + o} "
        f"(local.get $p))))",
        f"(local.set $x (i64.add (local.get $x) (i64.load offset={_BUFFER + o} "
        f"(local.get $p))))",
        f"(local.set $f (f64.add (local.get $f) (f64.mul (f64.load offset="
        f"{_BUFFER + _FLOATS + o} (local.get $p)) (f64.const 0.001))))",
        # two loads into one value, as array code reads its operands
        f"(local.set {a} (i32.add (i32.load offset={_BUFFER + o} (local.get $p)) "
        f"(i32.load offset={_BUFFER + o + 8} (local.get $p))))",
        f"(local.set $g (f64.mul (f64.add (f64.load offset={_BUFFER + _FLOATS + o} "
        f"(local.get $p)) (f64.load offset={_BUFFER + _FLOATS + o + 8} (local.get $p))) "
        f"(f64.const 0.5)))",
    ))


def _store(rng: random.Random) -> str:
    a = rng.choice(_INTS)
    o = rng.randrange(0, 256, 4)
    return rng.choice((
        f"(i32.store offset={_BUFFER + o} (local.get $p) (local.get {a}))",
        f"(i32.store8 offset={_BUFFER + o + 2} (local.get $p) (local.get {a}))",
        f"(i64.store offset={_BUFFER + o} (local.get $p) (local.get $x))",
        f"(f64.store offset={_BUFFER + _FLOATS + o} (local.get $p) (local.get $g))",
        f"(i32.store offset={_BUFFER + o} (local.get $p) (i32.load offset={_BUFFER + o + 4} "
        f"(local.get $p)))",
    ))


def _condition(rng: random.Random) -> str:
    if rng.random() < 0.25:  # on data: as often mispredicted as not
        a, b = rng.sample(_INTS, 2)
        return f"(i32.{rng.choice(_COMPARES)} (local.get {a}) (local.get {b}))"
    return f"(i32.and (local.get $i) (i32.const {rng.choice((4, 8, 16, 64))}))"  # a pattern


def _branch(rng: random.Random) -> str:
    a, b = rng.sample(_INTS, 2)
    return rng.choice((
        f"(if {_condition(rng)} (then (local.set {a} (i32.add (local.get {a}) (i32.const 1)))) "
        f"(else (local.set {b} (i32.xor (local.get {b}) (local.get {a})))))",
        f"(if {_condition(rng)} (then (local.set {a} (i32.sub (local.get {a}) "
        f"(local.get {b})))))",
    ))


def _block(rng: random.Random) -> str:
    a, b = rng.sample(_INTS, 2)
    return rng.choice((
        f"(block (br_if 0 {_condition(rng)}) (local.set {a} (i32.mul (local.get {a}) "
        f"(local.get {b}))))",
        f"(block (block (br_if 1 {_condition(rng)}) (local.set {a} (i32.rotl (local.get {a}) "
        f"(i32.const 5)))) (local.set {b} (i32.add (local.get {b}) (local.get {a}))))",
    ))


def _call(rng: random.Random) -> str:
    a, b = rng.sample(_INTS, 2)
    return (f"(local.set {a} (call $leaf_{rng.randrange(_LEAVES)} (local.get {a}) "
            f"(local.get {b})))")


def _call_indirect(rng: random.Random) -> str:
    a, b = rng.sample(_INTS, 2)
    slot = MIX_KERNELS + rng.randrange(0, _LEAVES, 2)
    return (f"(local.set {a} (call_indirect (type $leaf) (local.get {a}) (local.get {b}) "
            f"(i32.add (i32.const {slot}) (i32.and (i32.shr_u (local.get $i) (i32.const 3)) "
            f"(i32.const 1)))))")


def _global(rng: random.Random) -> str:
    a = rng.choice(_INTS)
    return rng.choice((
        # a shadow-stack frame, as C, Rust and TinyGo code keep one
        f"(global.set $sp (i32.sub (global.get $sp) (i32.const 32))) (local.set {a} (i32.add "
        f"(local.get {a}) (global.get $sp))) (global.set $sp (i32.add (global.get $sp) "
        f"(i32.const 32)))",
        f"(global.set $g (i32.xor (global.get $g) (local.get {a})))",
        f"(local.set {a} (i32.add (local.get {a}) (global.get $g)))",
    ))


def _bulk(rng: random.Random) -> str:
    src, dst = rng.sample(range(0, 4096, 64), 2)
    return (f"(memory.copy (i32.add (local.get $p) (i32.const {_BUFFER + dst})) "
            f"(i32.add (local.get $p) (i32.const {_BUFFER + src})) (i32.const "
            f"{rng.choice((8, 16, 32))}))")


# the statement families a kernel draws from, each strong in one or two classes
_FAMILIES = (_int, _long, _local, _float, _load, _store, _branch, _block, _call,
             _call_indirect, _global, _bulk)


def _leaves() -> str:
    ops = ("i32.add", "i32.xor", "i32.mul", "i32.sub")
    return "\n".join(
        f"  (func $leaf_{j} (type $leaf) ({ops[j]} (i32.rotl (local.get 0) (i32.const {j + 3})) "
        f"(local.get 1)))" for j in range(_LEAVES))


def _kernel(index: int) -> str:
    rng = random.Random(_SEED + index)
    background = [rng.random() for _ in _FAMILIES]
    scale = (1 - _LEADING - _SECOND) / sum(background)
    weights = [w * scale for w in background]
    weights[index % len(_FAMILIES)] += _LEADING
    weights[rng.randrange(len(_FAMILIES))] += _SECOND
    body = "\n      ".join(rng.choices(_FAMILIES, weights)[0](rng) for _ in range(_STATEMENTS))
    return f"""  (func $mix_{index} (export "mix_{index}") (type $kt)
    (local $i i32) (local $m i32) (local $p i32) (local $a i32) (local $b i32) (local $c i32)
    (local $d i32) (local $x i64) (local $y i64) (local $f f64) (local $g f64) (local $h f64)
    (local.set $m (i32.wrap_i64 (local.get 0)))
    (local.set $a (i32.const 12345)) (local.set $b (i32.const 678)) (local.set $c (i32.const 9))
    (local.set $f (f64.const 1.5)) (local.set $g (f64.const 0.25)) (local.set $h (f64.const 2))
    (loop $l
      {body}
      (local.set $p (i32.and (i32.add (local.get $p) (i32.const 40)) (i32.const 4095)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $m))))
    (i64.add (i64.xor (local.get $x) (i64.reinterpret_f64 (f64.add (local.get $f)
      (f64.add (local.get $g) (local.get $h)))))
      (i64.extend_i32_u (i32.xor (i32.xor (local.get $a) (local.get $b))
                                 (i32.xor (local.get $c) (local.get $d))))))"""


def mix_kernel_names() -> list[str]:
    """The family's kernels, by the name their figures carry (``mix_00`` …)."""
    return [f"mix_{i:02d}" for i in range(MIX_KERNELS)]


def mix_kernel_export(name: str) -> str | None:
    """The export of the family's kernel ``name`` (``mix_07`` → ``mix_7``); None for a name
    that is not one of the family's."""
    prefix, _, number = name.partition("_")
    if prefix != MIX_FAMILY or not number.isdigit() or int(number) >= MIX_KERNELS:
        return None
    return f"mix_{int(number)}"


@cache
def mix_family_module(plan: KernelPlan = _PLAN) -> bytes:
    """The family's module: every kernel, timed in turn under ``plan`` by its ``_start``."""
    kernels = "\n".join(_kernel(i) for i in range(MIX_KERNELS))
    table = " ".join([*(f"$mix_{i}" for i in range(MIX_KERNELS)),
                      *(f"$leaf_{j}" for j in range(_LEAVES))])
    wat = f"""(module
{prelude(pages=2)}
  (type $kt (func (param i64) (result i64)))
  (type $leaf (func (param i32 i32) (result i32)))
  (global $which (mut i32) (i32.const 0))
  (global $sp (mut i32) (i32.const 4096))
  (global $g (mut i32) (i32.const 77))
  (table {MIX_KERNELS + _LEAVES} funcref)
  (elem (i32.const 0) {table})
{_leaves()}
{kernels}
  (func $kernel (param $n i64) (result i64)
    (call_indirect (type $kt) (local.get $n) (global.get $which)))
  (data (i32.const 320) "{{\\"k\\":")
  (func $emit_k (param $k i32)
    (local $p i32)
    (local.set $p (call $put_str (i32.const 320) (i32.const 5) (i32.const 64)))
    (local.set $p (call $put_u64 (i64.extend_i32_u (local.get $k)) (local.get $p)))
    (local.set $p (call $put_str (i32.const 267) (i32.const 2) (local.get $p)))
    (call $flush (local.get $p)))
  (func $setup (export "setup")
    (memory.fill (i32.const {_BUFFER}) (i32.const 63) (i32.const {2 * _FLOATS})))
  (func (export "_start")
    (local $n i64) (local $r i32)
    (call $emit_t0 (call $realtime))
    (call $setup)
    (loop $each
      (call $emit_k (global.get $which))
      {timed_samples(plan)}
      (global.set $which (i32.add (global.get $which) (i32.const 1)))
      (br_if $each (i32.lt_u (global.get $which) (i32.const {MIX_KERNELS}))))
    (i64.store (i32.const 8) (global.get $sink)))
)"""
    return bytes(wasmtime.wat2wasm(wat))
