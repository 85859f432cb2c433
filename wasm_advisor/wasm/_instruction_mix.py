"""What a module's code executes: a copy of it that counts as it runs.

Engines differ most on some kinds of instruction: an interpreter pays for every
``local.get`` that a compiler keeps in a register, and a program that is mostly
calls ranks the modes otherwise than one that is mostly arithmetic. The total
that Wasmtime's fuel counts cannot tell these apart; the *counting copy* can.

:func:`counting_module` returns the module with:

- a counter per instruction class (:data:`CLASSES`; mutable ``i64`` globals,
  exported as ``__mix_<class>``): each straight run of code between two control
  instructions adds its own counts as it is entered;
- a flag per function of the module's own (``__ran_<n>``), set when it runs;
- WAMR's classic interpreter's block-address cache, replayed (``__scans`` and
  ``__scan_ops``: the scans for block ends it would make, and the instructions
  they pass over; see below), in a memory of the copy's own.

Nothing already in the module moves: globals, types, functions and the memory are
appended, function bodies keep their locals and gain only the additions, and the
result is validated before it is used. The decoder knows the instructions of
WebAssembly 2.0 with SIMD, threads, tail calls and the legacy exception
instructions; anything else (GC, typed function references, ``try_table``) is a
:class:`~wasm_advisor.errors.ModuleError` naming the opcode and where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import ModuleError
from ._encoding import section as _section
from ._encoding import sleb as _sleb
from ._encoding import uleb as _uleb
from ._encoding import validated, vector_with
from ._module import code_body_sizes, imports_of
from ._sections import Reader, Section, sections, vector_count

__all__ = ["CLASSES", "COUNTERS", "EXPORT_PREFIX", "MARK_PREFIX", "classify_body",
           "counting_module", "function_body_bytes"]

# The instruction classes, in the order of the counters.
CLASSES = ("local", "const", "int", "float", "load", "store", "branch", "block", "call",
           "call_indirect", "global", "simd", "bulk", "other")
EXPORT_PREFIX = "__mix_"
MARK_PREFIX = "__ran_"

_TYPE, _FUNCTION, _MEMORY, _GLOBAL, _EXPORT, _CODE = 1, 3, 5, 6, 7, 10

_C = {name: i for i, name in enumerate(CLASSES)}
_CLASS_OF = bytearray([_C["other"]]) * 256
for _op in (0x01, 0x1A, 0x1B, 0x1C, 0x20, 0x21, 0x22):
    _CLASS_OF[_op] = _C["local"]
for _op in (0x41, 0x42, 0x43, 0x44):
    _CLASS_OF[_op] = _C["const"]
for _op in range(0x45, 0xC5):
    _CLASS_OF[_op] = _C["int"]
for _op in (*range(0x5B, 0x67), *range(0x8B, 0xA7), *range(0xA8, 0xC0)):
    if _op not in (0xAC, 0xAD):  # i64.extend_i32_s/u are integer ops inside the float range
        _CLASS_OF[_op] = _C["float"]
for _op in range(0x28, 0x36):
    _CLASS_OF[_op] = _C["load"]
for _op in range(0x36, 0x3F):
    _CLASS_OF[_op] = _C["store"]
for _op in (0x04, 0x0C, 0x0D, 0x0E, 0xD4, 0xD6):
    _CLASS_OF[_op] = _C["branch"]
for _op in (0x02, 0x03, 0x05, 0x0B, 0x06, 0x07, 0x18, 0x19):
    _CLASS_OF[_op] = _C["block"]
for _op in (0x0F, 0x10, 0x12):
    _CLASS_OF[_op] = _C["call"]
for _op in (0x11, 0x13, 0x14, 0x15):
    _CLASS_OF[_op] = _C["call_indirect"]
for _op in (0x23, 0x24):
    _CLASS_OF[_op] = _C["global"]
for _op in (0x3F, 0x40):
    _CLASS_OF[_op] = _C["bulk"]

# control instructions: the straight run of code ends after each of them
_ENDS_RUN = frozenset((0x00, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0C,
                       0x0D, 0x0E, 0x0F, 0x12, 0x13, 0x15, 0x18, 0x19, 0xD4, 0xD6))
_BLOCK_TYPE = frozenset((0x02, 0x03, 0x04, 0x06))
_ONE_INDEX = frozenset((0x07, 0x08, 0x09, 0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x18, 0x20,
                        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2, 0xD4, 0xD6, 0x3F, 0x40))
_NO_IMMEDIATE = frozenset((0x00, 0x01, 0x05, 0x0A, 0x0B, 0x0F, 0x19, 0x1A, 0x1B, 0xD1, 0xD3,
                           *range(0x45, 0xC5)))
_SIMD_LANE = frozenset(range(21, 35))
_SIMD_MEMARG = frozenset((*range(0, 12), 92, 93))
_SIMD_MEMARG_LANE = frozenset(range(84, 92))


def _memarg(r: Reader) -> None:
    if r.uleb() & 0x40:  # multi-memory: a memory index follows the alignment
        r.uleb()
    r.uleb(64)


def _index(r: Reader) -> None:
    r.uleb()


def _two_indices(r: Reader) -> None:
    r.uleb()
    r.uleb()


def _s33(r: Reader) -> None:
    r.uleb(40)  # a block or heap type: one byte for the usual ones, read as a plain LEB


def _labels(r: Reader) -> None:  # br_table: its labels, then the default
    for _ in range(r.count()):
        r.uleb()
    r.uleb()


def _value_types(r: Reader) -> None:  # select with types
    for _ in range(r.count()):
        r.byte()


def _misc(r: Reader) -> int:
    """An 0xFC instruction's immediates; its class."""
    sub = r.uleb()
    if sub <= 7:
        return _C["float"]  # saturating float-to-int truncation
    if sub in (8, 10, 12, 14):
        _two_indices(r)
    elif sub in (9, 11, 13, 15, 16, 17):
        r.uleb()
    else:
        raise r.fail(f"unknown instruction 0xfc {sub}")
    return _C["bulk"] if sub <= 11 else _C["other"]


def _simd(r: Reader) -> int:
    """An 0xFD instruction's immediates; its class."""
    sub = r.uleb()
    if sub in _SIMD_MEMARG or sub in _SIMD_MEMARG_LANE:
        _memarg(r)
    if sub in (12, 13):
        r.take(16)
    if sub in _SIMD_LANE or sub in _SIMD_MEMARG_LANE:
        r.byte()
    return _C["simd"]


def _atomic(r: Reader) -> int:
    """An 0xFE instruction's immediates; its class."""
    if r.uleb() == 3:  # atomic.fence
        r.byte()
    else:
        _memarg(r)
    return _C["other"]


# how to read each instruction's immediates, by opcode (the ones that have some)
_IMMEDIATES: dict[int, Callable[[Reader], object]] = {
    **dict.fromkeys(_ONE_INDEX, _index),
    **dict.fromkeys((*_BLOCK_TYPE, 0xD0), _s33),
    **dict.fromkeys(range(0x28, 0x3F), _memarg),
    0x41: lambda r: r.uleb(35), 0x42: lambda r: r.uleb(70),
    0x43: lambda r: r.take(4), 0x44: lambda r: r.take(8),
    0x0E: _labels, 0x11: _two_indices, 0x13: _two_indices, 0x1C: _value_types,
}
# the prefixed instructions: read the rest of the opcode and the immediates, give the class
_PREFIXED: dict[int, Callable[[Reader], int]] = {0xFC: _misc, 0xFD: _simd, 0xFE: _atomic}


def _next(r: Reader) -> tuple[int, int]:
    """Read one instruction: its opcode (prefixed ones as 0xFC/0xFD/0xFE) and class."""
    op = r.byte()
    if op in _NO_IMMEDIATE:
        return op, _CLASS_OF[op]
    prefixed = _PREFIXED.get(op)
    if prefixed is not None:
        return op, prefixed(r)
    immediates = _IMMEDIATES.get(op)
    if immediates is None:
        r.pos -= 1
        raise r.fail(f"instruction {op:#04x} is not one the instruction mix can count")
    immediates(r)
    return op, _CLASS_OF[op]


def classify_body(code: bytes, where: str = "<code>") -> list[tuple[int, list[int]]]:
    """The straight runs of an expression: (offset each starts at, its counts per class)."""
    instructions = _decode(code, where)
    return [(instructions[run[0]].start, _class_counts(instructions, run))
            for run in _straight_runs(instructions)]


@dataclass(slots=True)
class _Instruction:
    start: int
    end: int  # for block, loop, if and try: just past the block type, where WAMR's
    # classic interpreter keys its block-address cache
    op: int
    cls: int
    depths: tuple[int, ...] = ()  # br, br_if: the label; br_table: its labels, default last


def _decode(code: bytes, where: str) -> list[_Instruction]:
    r = Reader(code, where)
    out = []
    while r.pos < len(code):
        start = r.pos
        op, cls = _next(r)
        ins = _Instruction(start, r.pos, op, cls)
        if op in (0x0C, 0x0D, 0x0E):
            q = Reader(code, where)
            q.pos = start + 1
            ins.depths = tuple(q.uleb() for _ in range(q.uleb() + 1)) if op == 0x0E \
                else (q.uleb(),)
        out.append(ins)
    return out


def _straight_runs(instructions: list[_Instruction]) -> Iterator[range]:
    """The straight runs of code, as ranges of instruction indices: a run ends after each
    control instruction (the last one where the code ends)."""
    start = 0
    for i, ins in enumerate(instructions):
        if ins.op in _ENDS_RUN:
            yield range(start, i + 1)
            start = i + 1
    if start < len(instructions):
        yield range(start, len(instructions))


def _class_counts(instructions: list[_Instruction], run: range) -> list[int]:
    """How many instructions of each class ``run`` holds."""
    counts = [0] * len(CLASSES)
    for i in run:
        counts[instructions[i].cls] += 1
    return counts


# --- WAMR's classic interpreter: where it looks block ends up, and what that costs ---
#
# The interpreter keeps no table of where each block ends. It caches the ends it
# has found, 64 sets of 2, indexed by the block's address (the byte after its
# block type) modulo 64: a `block` consults the cache on entry, an `if` on entry
# too, and a branch out of a `block` whose end it did not find there scans the
# code from the block's start to its `end` (wasm_loader_find_block_addr), which
# then caches that block and the last block it passed at each depth below it.
# The counting copy replays this with the block addresses of the original module:
# every address moves by the same amount when the module is loaded, so the same
# blocks collide. It counts the scans and the instructions they pass over.
_CACHE_SETS = 64
_SCAN_DEPTH = 16  # the scan's stack of nested blocks, as in WAMR


@dataclass(slots=True)
class _Block:
    index: int  # of its block/loop/if/try instruction
    op: int
    address: int
    depth: int
    end: int = -1  # index of its end
    last_at: dict[int, int] = field(default_factory=dict)  # relative depth -> address
    local: int = -1  # 'block': the local holding whether its end was found on entry


def _blocks(code: list[_Instruction], base: int) -> dict[int, _Block]:
    """Every block, loop, if and try by instruction index, with its end and scan list."""
    blocks: dict[int, _Block] = {}
    open_: list[_Block] = []
    for i, ins in enumerate(code):
        if ins.op in _BLOCK_TYPE:
            b = _Block(i, ins.op, base + ins.end, len(open_))
            for a in open_[-(_SCAN_DEPTH - 1):]:
                a.last_at[b.depth - a.depth] = b.address
            blocks[i] = b
            open_.append(b)
        elif ins.op in (0x0B, 0x18) and open_:  # end, or delegate (which ends a try)
            open_.pop().end = i
    return blocks


@dataclass(frozen=True)
class _Layout:
    """Indices the rewritten bodies use."""

    counters: int  # first class counter
    scan_ops: int
    scans: int
    lookup: int  # function (i32 address) -> i32 found
    insert: int  # function (i32 address)
    marks: int  # the flag of the module's first function of its own
    types: int  # lookup's type (insert's is the next)
    memory: int  # the block-address cache's


def _scan(block: _Block, layout: _Layout) -> bytes:
    """Count one scan of ``block`` and cache what WAMR's scan caches."""
    code = bytearray(_add(layout.scan_ops, block.end - block.index) + _add(layout.scans, 1))
    for address in [block.address] + [block.last_at[d] for d in range(1, _SCAN_DEPTH)
                                      if d in block.last_at]:
        code += b"\x41" + _sleb(address) + b"\x10" + _uleb(layout.insert)
    return bytes(code)


def _found(block: _Block, layout: _Layout) -> bytes:
    return b"\x41" + _sleb(block.address) + b"\x10" + _uleb(layout.lookup)


def _branch_check(block: _Block, layout: _Layout) -> bytes:
    """Before a branch out of ``block``: scan for its end unless it is known or cached."""
    return (b"\x20" + _uleb(block.local) + b"\x45\x04\x40" + _found(block, layout) +
            b"\x45\x04\x40" + _scan(block, layout) + b"\x0b\x0b")


@dataclass
class _Rewrite:
    """One body's code being rewritten: its blocks, and the labels open where it is."""

    code: bytes
    instructions: list[_Instruction]
    blocks: dict[int, _Block]  # by instruction index
    layout: _Layout
    scratch: int  # an i32 local for a branch's condition or index
    labels: list[_Block] = field(default_factory=list)  # open labels, innermost last

    def original(self, i: int) -> bytes:
        """Instruction ``i`` as the module has it."""
        ins = self.instructions[i]
        return self.code[ins.start:ins.end]

    def depths(self, i: int) -> tuple[int, ...]:
        """The labels branch ``i`` may take."""
        return self.instructions[i].depths

    def target(self, depth: int) -> _Block | None:
        """The ``block`` a branch to label ``depth`` leaves (None: a loop, if, try or the
        function, whose ends the interpreter does not look up)."""
        b = self.labels[-1 - depth] if depth < len(self.labels) else None
        return b if b is not None and b.op == 0x02 else None


def _enter_block(rw: _Rewrite, i: int) -> bytes:
    """block: look its end up on entry."""
    b = rw.blocks[i]
    rw.labels.append(b)
    return rw.original(i) + _found(b, rw.layout) + b"\x21" + _uleb(b.local)


def _enter_if(rw: _Rewrite, i: int) -> bytes:
    """if: look its end up on entry, scan on a miss."""
    b = rw.blocks[i]
    rw.labels.append(b)
    scratch = _uleb(rw.scratch)
    return (b"\x21" + scratch + _found(b, rw.layout) + b"\x45\x04\x40" + _scan(b, rw.layout) +
            b"\x0b\x20" + scratch + rw.original(i))


def _enter_label(rw: _Rewrite, i: int) -> bytes:
    """loop, try: a label, looked up by no one."""
    rw.labels.append(rw.blocks[i])
    return rw.original(i)


def _leave_label(rw: _Rewrite, i: int) -> bytes:
    """end, delegate."""
    if rw.labels:
        rw.labels.pop()
    return rw.original(i)


def _br(rw: _Rewrite, i: int) -> bytes:
    out_of = rw.target(rw.depths(i)[0])
    check = b"" if out_of is None else _branch_check(out_of, rw.layout)
    return check + rw.original(i)


def _br_if(rw: _Rewrite, i: int) -> bytes:
    out_of = rw.target(rw.depths(i)[0])
    if out_of is None:
        return rw.original(i)
    scratch = _uleb(rw.scratch)
    return (b"\x21" + scratch + b"\x20" + scratch + b"\x04\x40" +
            _branch_check(out_of, rw.layout) + b"\x0b\x20" + scratch + rw.original(i))


def _br_table(rw: _Rewrite, i: int) -> bytes:
    targets = [rw.target(d) for d in rw.depths(i)]
    if all(t is None for t in targets):
        return rw.original(i)
    scratch = _uleb(rw.scratch)
    return (b"\x21" + scratch + _table_checks(targets, rw.scratch, rw.layout) + b"\x20" +
            scratch + rw.original(i))


# what the counting copy adds at each control instruction, by opcode (the others: nothing)
_AT_INSTRUCTION: dict[int, Callable[[_Rewrite, int], bytes]] = {
    0x02: _enter_block, 0x04: _enter_if, 0x03: _enter_label, 0x06: _enter_label,
    0x0B: _leave_label, 0x18: _leave_label, 0x0C: _br, 0x0D: _br_if, 0x0E: _br_table,
}


def _declared_locals(body: bytes, where: str) -> tuple[int, int]:
    """Where a function body's local declarations end, and how many locals they declare."""
    r = Reader(body, where)
    declared = 0
    for _ in range(r.count(2)):  # local declarations: count, type
        declared += r.uleb()
        valtype = r.byte()
        if valtype in (0x63, 0x64):
            r.uleb(40)
    return r.pos, declared


def _rewrite_body(body: bytes, params: int, base: int, layout: _Layout, mark: int,
                  where: str) -> bytes:
    locals_end, declared = _declared_locals(body, where)
    code = body[locals_end:]
    instructions = _decode(code, where)
    rw = _Rewrite(code, instructions, _blocks(instructions, base + locals_end), layout,
                  scratch=params + declared)
    next_local = rw.scratch + 1
    for b in rw.blocks.values():
        if b.op == 0x02:
            b.local, next_local = next_local, next_local + 1
    # the new i32 locals, then i32.const 1, global.set: this function ran
    out = bytearray(vector_with(body[:locals_end], [_uleb(next_local - rw.scratch) + b"\x7f"],
                                where))
    out += b"\x41\x01\x24" + _uleb(mark)
    for run in _straight_runs(instructions):
        # each straight run adds its counts as it is entered
        for cls, n in enumerate(_class_counts(instructions, run)):
            if n:
                out += _add(layout.counters + cls, n)
        for i in run:
            at = _AT_INSTRUCTION.get(instructions[i].op)
            out += rw.original(i) if at is None else at(rw, i)
    return bytes(out)


def _table_checks(targets: list[_Block | None], index: int, layout: _Layout) -> bytes:
    """Before a br_table: the check of the label it takes, by a br_table of its own."""
    distinct = list(dict.fromkeys(t.index for t in targets if t is not None))
    by_index = {t.index: t for t in targets if t is not None}
    m = len(distinct)
    # block $done (block $h[m-1] ... (block $h0 (br_table ...)) check0 (br $done)) ...)
    code = bytearray(b"\x02\x40" * (m + 1) + b"\x20" + _uleb(index) + b"\x0e")
    slots = [distinct.index(t.index) if t is not None else m for t in targets]
    code += _uleb(len(slots) - 1) + b"".join(_uleb(s) for s in slots)
    for h, block_index in enumerate(distinct):
        code += b"\x0b" + _branch_check(by_index[block_index], layout) + b"\x0c" + \
            _uleb(m - 1 - h)
    code += b"\x0b"
    return bytes(code)


def _helpers(memory: int) -> tuple[bytes, bytes]:
    """The bodies of lookup(address) -> found and insert(address), on memory ``memory``."""
    def memarg(offset: int) -> bytes:
        return (b"\x02" + _uleb(offset)) if memory == 0 else (
            b"\x42" + _uleb(memory) + _uleb(offset))

    load, store = b"\x28", b"\x36"
    at = b"\x20\x00\x41" + _sleb(_CACHE_SETS - 1) + b"\x71\x41\x03\x74"  # (a & 63) << 3
    lookup = (b"\x01\x01\x7f" + at + b"\x22\x01" + load + memarg(0) + b"\x20\x00\x46" +
              b"\x20\x01" + load + memarg(4) + b"\x20\x00\x46\x72\x0b")
    insert = (b"\x01\x01\x7f" + at + b"\x21\x01" +
              b"\x20\x01" + load + memarg(0) + b"\x45\x04\x40\x20\x01\x20\x00" + store +
              memarg(0) + b"\x0f\x0b" +
              b"\x20\x01" + load + memarg(4) + b"\x45\x04\x40\x20\x01\x20\x00" + store +
              memarg(4) + b"\x0f\x0b" +
              b"\x20\x01\x20\x01" + load + memarg(0) + store + memarg(4) +
              b"\x20\x01\x20\x00" + store + memarg(0) + b"\x0b")
    return lookup, insert


def _add(global_index: int, amount: int) -> bytes:
    g = _uleb(global_index)
    return b"\x23" + g + b"\x42" + _sleb(amount) + b"\x7c\x24" + g  # get, const, add, set


def _export(name: str, kind: int, index: int) -> bytes:
    encoded = name.encode()
    return _uleb(len(encoded)) + encoded + bytes([kind]) + _uleb(index)


def _param_counts(types: bytes | None, functions: bytes | None, where: str) -> list[int]:
    """The number of parameters of each function the module defines."""
    params: list[int] = []
    if types is not None:
        r = Reader(types, where)
        for _ in range(r.uleb()):
            if r.byte() != 0x60:
                raise r.fail("a type that is not a function type")
            counts = []
            for _ in range(2):
                n = r.uleb()
                for _ in range(n):
                    if r.byte() in (0x63, 0x64):
                        r.uleb(40)
                counts.append(n)
            params.append(counts[0])
    if functions is None:
        return []
    r = Reader(functions, where)
    return [params[r.uleb()] for _ in range(r.uleb())]


COUNTERS = ("__scan_ops", "__scans")


def function_body_bytes(data: bytes, where: str = "<bytes>") -> list[int]:
    """The size in bytes of each function body of the module's own, in the order of the
    ``__ran_<n>`` flags of its counting copy."""
    found = list(sections(data, where))  # every section framed before a body is read
    return [size for s in found if s.id == _CODE
            for size in code_body_sizes(Reader(s.payload, where))]


def counting_module(data: bytes, where: str = "<bytes>") -> bytes:
    """``data`` with a counter per instruction class; :class:`ModuleError` if it cannot be made.

    Besides the ``__mix_<class>`` counters, each function of the module's own gets an
    ``i32`` flag, exported as ``__ran_<n>`` (``n`` counting the module's own functions
    from 0), set when the function is entered; ``__scan_ops`` and ``__scans`` count
    the scans for block ends WAMR's classic interpreter would make, and the
    instructions they pass over.
    """
    found = list(sections(data, where))
    if all(s.id != _CODE for s in found):
        raise ModuleError(f"{where}: no code to count")
    layout, params = _layout(found, where)
    added = _added_items(layout, len(params))
    out = bytearray(data[:8])
    for s in _with_missing(found, added):
        payload = s.payload
        if s.id in added:
            payload = vector_with(payload if s.offset >= 0 else None, added[s.id], where)
        elif s.id == _CODE:
            payload = _code_payload(s, params, layout, where)
        out += _section(s.id, payload)
    return validated(bytes(out), "counting copy", where)


def _layout(found: list[Section], where: str) -> tuple[_Layout, list[int]]:
    """Where the counting copy's globals, functions, types and memory go, and the number
    of parameters of each function of the module's own."""
    payload_of = {s.id: s.payload for s in found}
    imports = imports_of(found, where)
    first = sum(i.kind == "global" for i in imports) + vector_count(payload_of.get(_GLOBAL),
                                                                    where)
    memory = sum(i.kind == "memory" for i in imports) + vector_count(payload_of.get(_MEMORY),
                                                                     where)
    params = _param_counts(payload_of.get(_TYPE), payload_of.get(_FUNCTION), where)
    types = vector_count(payload_of.get(_TYPE), where)
    lookup = sum(i.kind == "func" for i in imports) + len(params)
    return _Layout(counters=first, scan_ops=first + len(CLASSES),
                   scans=first + len(CLASSES) + 1, lookup=lookup, insert=lookup + 1,
                   marks=first + len(CLASSES) + len(COUNTERS), types=types,
                   memory=memory), params


def _added_items(layout: _Layout, functions: int) -> dict[int, list[bytes]]:
    """What the counting copy appends to each section it adds to, by section id."""
    new_globals = [b"\x7e\x01\x42\x00\x0b"] * (len(CLASSES) + len(COUNTERS))  # (mut i64) 0
    new_globals += [b"\x7f\x01\x41\x00\x0b"] * functions  # (mut i32) 0
    first = layout.counters
    exports = [_export(EXPORT_PREFIX + cls, 3, first + i) for i, cls in enumerate(CLASSES)]
    exports += [_export(name, 3, first + len(CLASSES) + i) for i, name in enumerate(COUNTERS)]
    exports += [_export(f"{MARK_PREFIX}{i}", 3, layout.marks + i) for i in range(functions)]
    return {_TYPE: [b"\x60\x01\x7f\x01\x7f", b"\x60\x01\x7f\x00"],
            _FUNCTION: [_uleb(layout.types), _uleb(layout.types + 1)],
            _MEMORY: [b"\x00\x01"], _GLOBAL: new_globals, _EXPORT: exports}


_ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]  # the order a module's sections come in


def _with_missing(found: list[Section], wanted: dict[int, list[bytes]]) -> list[Section]:
    """``found``, with an empty section (offset -1) for each id in ``wanted`` it lacks,
    where the order of sections puts it."""
    out = list(found)
    present = {s.id for s in found}
    for section_id in wanted:
        if section_id not in present:
            rank = _ORDER.index(section_id)
            at = max((i + 1 for i, s in enumerate(out)
                      if s.id in _ORDER and _ORDER.index(s.id) < rank), default=0)
            out.insert(at, Section(section_id, b"", -1))
    return out


def _code_payload(code: Section, params: list[int], layout: _Layout, where: str) -> bytes:
    """The code section with every body rewritten, and the cache's lookup and insert
    functions appended."""
    r = Reader(code.payload, where)
    count = r.count(2)
    if count != len(params):
        raise r.fail(f"{count} function bodies for {len(params)} functions")
    out = bytearray(_uleb(count))
    for i in range(count):
        size = r.uleb()
        base = code.offset + r.pos
        body = _rewrite_body(r.take(size), params[i], base, layout, layout.marks + i,
                             f"{where}: function {i}")
        out += _uleb(len(body)) + body
    return vector_with(bytes(out), [_uleb(len(b)) + b for b in _helpers(layout.memory)], where)
