"""Functions shaped like compiled C and Rust, for the compile-cost family.

Compile cost per byte depends on what the bytes are: a compiler spends its time
per operator, per value live across a branch, per block and per call site, not
per byte. Code written by hand for a benchmark is usually too regular (long
straight lines, large constants, few locals) and compiles two to three times
faster per byte than what LLVM emits for real programs. The generator here
writes functions with the shape of that output instead:

- a shadow-stack frame: ``global.get $sp``, ``i32.sub``, ``global.set`` on entry
  and exit, and loads and stores at small offsets from the frame pointer;
- a handful of locals of both widths, read and written through
  ``local.get``/``local.set``/``local.tee`` with small constants, each new value
  built on the old and everything folded into the result: like optimised code,
  it has no dead computation for an optimising compiler (LLVM in WAMR's AOT and
  JIT) to delete;
- nested ``if``/``else``, ``block``/``br_if`` early exits, the occasional bounded
  loop and ``br_table`` switch, ``select``;
- direct calls with several arguments and indirect calls through a table.

Each function is drawn from a random generator seeded with its own index, so the
module with ``n`` functions is a prefix of the one with ``2n`` and every
calibration everywhere compiles the same code. Every function takes a call
budget as its first parameter and returns at once when it is spent, so running
the code (once, from ``_start``) is bounded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["FUNCTION_TYPE", "typical_function", "typical_functions"]

FUNCTION_TYPE = "(param i32 i32 i32) (result i32)"
_STATEMENTS = 16  # top-level statements per function: about 700 bytes (the corpus median is 650)
_MAX_DEPTH = 2  # nesting of if, block and loop
_LOCALS = (3, 8)  # i32 locals besides the parameters
_BINOPS_32 = ("i32.add", "i32.sub", "i32.and", "i32.or", "i32.xor", "i32.shl", "i32.shr_u",
              "i32.mul", "i32.add", "i32.add", "i32.and", "i32.sub")
_COMPARES_32 = ("i32.lt_u", "i32.eq", "i32.ne", "i32.gt_s", "i32.lt_s", "i32.ge_u")
_BINOPS_64 = ("i64.add", "i64.xor", "i64.mul", "i64.or", "i64.shr_u")


@dataclass
class _Function:
    rng: random.Random
    index: int
    ints: list[str] = field(default_factory=list)
    longs: list[str] = field(default_factory=list)
    pointers: list[str] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)
    labels: int = 0

    def small(self) -> str:
        return str(self.rng.choice((0, 1, 1, 2, 4, 8, 8, 12, 16, 24, 32, 48, 255, -1)))

    def int_value(self, depth: int = 0) -> str:
        r = self.rng.random()
        if r < 0.45 or depth > 1:
            return f"(local.get {self.rng.choice(self.ints)})"
        if r < 0.55:
            return f"(i32.const {self.small()})"
        if r < 0.75:
            offset = self.rng.choice((0, 4, 8, 12, 16, 24))
            return f"(i32.load offset={offset} (local.get {self.rng.choice(self.pointers)}))"
        if r < 0.82:
            return f"(i32.load8_u offset={self.rng.randrange(32)} (local.get $fp))"
        return (f"({self.rng.choice(_BINOPS_32)} {self.int_value(depth + 1)} "
                f"{self.int_value(depth + 1)})")

    def condition(self) -> str:
        if self.rng.random() < 0.3:
            return f"(i32.eqz (local.get {self.rng.choice(self.ints)}))"
        return f"({self.rng.choice(_COMPARES_32)} {self.int_value(1)} {self.int_value(1)})"

    def pointer(self, old: str) -> str:
        # addresses stay in the first page, above the scratch area the kernels use
        return (f"(i32.or (i32.and (i32.add (local.get {old}) {self.int_value(1)}) "
                "(i32.const 0xfc0)) (i32.const 0x1000))")

    def accumulate(self, target: str, value: str) -> str:
        # the new value depends on the old: no computation is dead, as in optimised code
        op = self.rng.choice(("i32.add", "i32.xor", "i32.sub", "i32.add"))
        return f"(local.set {target} ({op} (local.get {target}) {value}))"

    def call(self) -> str:
        args = f"(i32.sub (local.get $budget) (i32.const 1)) {self.int_value(1)} " \
               f"{self.int_value(1)}"
        if self.rng.random() < 0.2:
            slot = f"(i32.and {self.int_value(1)} (i32.const {self.table_mask()}))"
            return f"(call_indirect (type $typical) {args} {slot})"
        return f"(call $t{self.rng.randrange(self.index + 1)} {args})"

    def table_mask(self) -> int:
        # calls go to this function or earlier ones: the code of n functions is a prefix
        return _power_of_two_at_most(self.index + 1) - 1

    def statement(self, depth: int) -> str:
        r = self.rng.random()
        target = self.rng.choice(self.ints)
        if r < 0.28:
            return self.accumulate(target, self.int_value())
        if r < 0.36:
            pointer = self.rng.choice(self.pointers)
            return f"(local.set {pointer} {self.pointer(pointer)})"
        if r < 0.46:
            offset = self.rng.choice((0, 4, 8, 12, 16, 24))
            return (f"(i32.store offset={offset} (local.get {self.rng.choice(self.pointers)}) "
                    f"{self.int_value(1)})")
        if r < 0.52:
            return (f"(i32.store offset={self.rng.randrange(0, 28, 4)} (local.get $fp) "
                    f"{self.int_value(1)})")
        if r < 0.58:
            long = self.rng.choice(self.longs)
            return (f"(local.set {long} ({self.rng.choice(_BINOPS_64)} (local.get {long}) "
                    f"(i64.extend_i32_u {self.int_value(1)})))")
        if r < 0.66:
            return self.accumulate(target, self.call())
        if r < 0.69:
            return self.accumulate(target, f"(select {self.int_value(1)} {self.int_value(1)} "
                                           f"{self.condition()})")
        if depth >= _MAX_DEPTH:
            other = self.rng.choice(self.ints)
            return self.accumulate(target, f"(local.tee {other} (i32.xor (local.get {other}) "
                                           f"{self.int_value(1)}))")
        if r < 0.82:
            then = self.block(depth + 1, self.rng.randint(1, 4))
            other = self.block(depth + 1, self.rng.randint(0, 3))
            return f"(if {self.condition()} (then {then})" + (
                f" (else {other}))" if other else ")")
        if r < 0.90:
            label = self.label()
            return f"(block {label} (br_if {label} {self.condition()}) " \
                   f"{self.block(depth + 1, self.rng.randint(1, 4))})"
        if r < 0.95:
            # a counter of its own, which no other statement writes
            label, counter = self.label(), f"$n{len(self.counters)}"
            self.counters.append(counter)
            return (f"(local.set {counter} (i32.const 0)) (loop {label} "
                    f"{self.block(depth + 1, self.rng.randint(1, 3))} "
                    f"(local.set {counter} (i32.add (local.get {counter}) (i32.const 1))) "
                    f"(br_if {label} (i32.lt_u (local.get {counter}) (i32.const 4))))")
        cases = [self.label() for _ in range(self.rng.randint(3, 6))]
        inner = f"(br_table {' '.join(cases)} (i32.and {self.int_value(1)} (i32.const 7)))"
        for label in cases:
            inner = f"(block {label} {inner}) {self.block(depth + 1, 1)}"
        return inner

    def label(self) -> str:
        self.labels += 1
        return f"$L{self.labels}"

    def block(self, depth: int, count: int) -> str:
        return " ".join(self.statement(depth) for _ in range(count))

    def render(self) -> str:
        self.ints = ["$a", "$b", *[f"$i{k}" for k in range(self.rng.randint(*_LOCALS))]]
        self.longs = [f"$q{k}" for k in range(self.rng.randint(1, 4))]
        self.pointers = ["$p0", "$p1", "$p2"]
        frame = self.rng.choice((16, 32, 48, 64))
        body = self.block(0, _STATEMENTS)
        locals_ = " ".join(f"(local {name} i32)" for name in
                           [*self.ints[2:], *self.pointers, "$fp", *self.counters])
        locals_ += " " + " ".join(f"(local {name} i64)" for name in self.longs)
        # everything computed reaches the result, so an optimiser can drop nothing
        result = "(local.get $a)"
        for name in [*self.ints[1:], *self.pointers]:
            result = f"(i32.xor {result} (local.get {name}))"
        for q in self.longs:
            result = f"(i32.add {result} (i32.wrap_i64 (local.get {q})))"
        return (
            f"  (func $t{self.index} (type $typical) "
            f"(param $budget i32) (param $a i32) (param $b i32) (result i32) {locals_}\n"
            "    (if (i32.le_s (local.get $budget) (i32.const 0)) "
            "(then (return (local.get $a))))\n"
            f"    (local.set $fp (i32.sub (global.get $sp) (i32.const {frame})))\n"
            "    (global.set $sp (local.get $fp))\n"
            + "".join(f"    (local.set {p} (i32.const 0x1000))\n" for p in self.pointers)
            + f"    {body}\n"
            f"    (global.set $sp (i32.add (local.get $fp) (i32.const {frame})))\n"
            f"    {result})"
        )


def _power_of_two_at_most(n: int) -> int:
    size = 1
    while size * 2 <= n:
        size *= 2
    return size


def typical_function(index: int) -> str:
    """The WAT of function ``$t{index}``; it calls only ``$t0`` .. ``$t{index}``."""
    return _Function(random.Random(index), index).render()


def typical_functions(functions: int, tabled: bool = True) -> str:
    """WAT for ``functions`` typical functions, their type, table and stack pointer.

    Defines ``(type $typical)``, ``(global $sp)`` and a table of the functions;
    ``(call $t0 (i32.const 2) ...)`` runs a bounded amount of the code.

    ``tabled=False``: every slot of the table holds ``$t0``, so that no other function
    can be called from outside the module's own direct calls. An engine may compile
    an entry point for each function a table or an export makes reachable (Wasmtime
    compiles one per such function); the same code with and without them tells that
    cost apart from the cost of the code.
    """
    if functions < 1:
        return ""
    table = _power_of_two_at_most(functions)
    listed = " ".join(f"$t{k if tabled else 0}" for k in range(table))
    return "\n".join([
        f"  (type $typical (func {FUNCTION_TYPE}))",
        "  (global $sp (mut i32) (i32.const 0xf000))",
        f"  (table {table} funcref)",
        f"  (elem (i32.const 0) func {listed})",
        *(typical_function(k) for k in range(functions)),
    ])
