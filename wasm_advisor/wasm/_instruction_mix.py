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
# where a global section goes when the module has none: after these sections
_BEFORE_GLOBAL = {1, 2, 3, 4, 5, 13}

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


def _next(r: Reader) -> tuple[int, int]:
    """Read one instruction: its opcode (prefixed ones as 0xFC/0xFD/0xFE) and class."""
    op = r.byte()
    if op in _NO_IMMEDIATE:
        return op, _CLASS_OF[op]
    if op in _ONE_INDEX:
        r.uleb()
    elif op in _BLOCK_TYPE:
        r.uleb(40)  # s33 block type: one byte for the usual ones, read as a plain LEB
    elif 0x28 <= op <= 0x3E:
        _memarg(r)
    elif op == 0x41:
        r.uleb(35)
    elif op == 0x42:
        r.uleb(70)
    elif op == 0x43:
        r.take(4)
    elif op == 0x44:
        r.take(8)
    elif op == 0x0E:
        for _ in range(r.count()):
            r.uleb()
        r.uleb()
    elif op in (0x11, 0x13):
        r.uleb()
        r.uleb()
    elif op == 0x1C:
        for _ in range(r.count()):
            r.byte()
    elif op == 0xD0:
        r.uleb(40)
    elif op == 0xFC:
        sub = r.uleb()
        if sub <= 7:
            return op, _C["float"]  # saturating float-to-int truncation
        if sub in (8, 10, 12, 14):
            r.uleb()
            r.uleb()
        elif sub in (9, 11, 13, 15, 16, 17):
            r.uleb()
        else:
            raise r.fail(f"unknown instruction 0xfc {sub}")
        return op, _C["bulk"] if sub <= 11 else _C["other"]
    elif op == 0xFD:
        sub = r.uleb()
        if sub in _SIMD_MEMARG:
            _memarg(r)
        elif sub in (12, 13):
            r.take(16)
        elif sub in _SIMD_LANE:
            r.byte()
        elif sub in _SIMD_MEMARG_LANE:
            _memarg(r)
            r.byte()
        return op, _C["simd"]
    elif op == 0xFE:
        sub = r.uleb()
        if sub == 3:
            r.byte()
        else:
            _memarg(r)
        return op, _C["other"]
    else:
        r.pos -= 1
        raise r.fail(f"instruction {op:#04x} is not one the instruction mix can count")
    return op, _CLASS_OF[op]


def classify_body(code: bytes, where: str = "<code>") -> list[tuple[int, list[int]]]:
    """The straight runs of an expression: (offset each starts at, its counts per class)."""
    runs: list[tuple[int, list[int]]] = []
    counts = [0] * len(CLASSES)
    start = 0
    for ins in _decode(code, where):
        counts[ins.cls] += 1
        if ins.op in _ENDS_RUN:
            runs.append((start, counts))
            counts = [0] * len(CLASSES)
            start = ins.end
    if any(counts):
        runs.append((start, counts))
    return runs


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


def _rewrite_body(body: bytes, params: int, base: int, layout: _Layout, mark: int,
                  where: str) -> bytes:
    r = Reader(body, where)
    declared = 0
    for _ in range(r.count(2)):  # local declarations: count, type
        declared += r.uleb()
        valtype = r.byte()
        if valtype in (0x63, 0x64):
            r.uleb(40)
    locals_end = r.pos
    code = body[locals_end:]
    instructions = _decode(code, where)
    blocks = _blocks(instructions, base + locals_end)
    scratch = params + declared  # an i32 for a branch's condition or index
    next_local = scratch + 1
    for b in blocks.values():
        if b.op == 0x02:
            b.local, next_local = next_local, next_local + 1
    head = bytearray(body[: locals_end])
    r = Reader(body, where)
    groups = r.uleb()
    head[: r.pos] = _uleb(groups + 1)
    head += _uleb(next_local - scratch) + b"\x7f"  # the new i32 locals
    out = bytearray(head)
    out += b"\x41\x01\x24" + _uleb(mark)  # i32.const 1, global.set: this function ran
    counts = [0] * len(CLASSES)
    pending = bytearray()  # code of the current straight run, its counts added at its start
    labels: list[_Block | None] = []  # open labels, innermost last (None: the function's)

    def flush() -> None:
        nonlocal counts, pending
        for cls, n in enumerate(counts):
            if n:
                out.extend(_add(layout.counters + cls, n))
        out.extend(pending)
        counts = [0] * len(CLASSES)
        pending = bytearray()

    def target(depth: int) -> _Block | None:
        b = labels[-1 - depth] if depth < len(labels) else None
        return b if b is not None and b.op == 0x02 else None

    for i, ins in enumerate(instructions):
        counts[ins.cls] += 1
        original = code[ins.start:ins.end]
        if ins.op == 0x02:  # block: look its end up on entry
            b = blocks[i]
            pending += original + _found(b, layout) + b"\x21" + _uleb(b.local)
            labels.append(b)
        elif ins.op == 0x04:  # if: look up on entry, scan on a miss
            b = blocks[i]
            pending += (b"\x21" + _uleb(scratch) + _found(b, layout) + b"\x45\x04\x40" +
                        _scan(b, layout) + b"\x0b\x20" + _uleb(scratch) + original)
            labels.append(b)
        elif ins.op in (0x03, 0x06):
            pending += original
            labels.append(blocks[i])
        elif ins.op in (0x0B, 0x18):
            pending += original
            if labels:
                labels.pop()
        elif ins.op == 0x0C and (out_of := target(ins.depths[0])) is not None:
            pending += _branch_check(out_of, layout) + original
        elif ins.op == 0x0D and (out_of := target(ins.depths[0])) is not None:
            pending += (b"\x21" + _uleb(scratch) + b"\x20" + _uleb(scratch) + b"\x04\x40" +
                        _branch_check(out_of, layout) + b"\x0b\x20" + _uleb(scratch) +
                        original)
        elif ins.op == 0x0E and any(target(d) is not None for d in ins.depths):
            pending += b"\x21" + _uleb(scratch) + _table_checks(
                [target(d) for d in ins.depths], scratch, layout) + b"\x20" + _uleb(scratch) \
                + original
        else:
            pending += original
        if ins.op in _ENDS_RUN:
            flush()
    flush()
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
    ids = [s.id for s in found]
    payload_of = {s.id: s.payload for s in found}
    if _CODE not in ids:
        raise ModuleError(f"{where}: no code to count")
    imports = imports_of(found, where)
    defined_globals = vector_count(payload_of.get(_GLOBAL), where)
    defined_memories = vector_count(payload_of.get(_MEMORY), where)
    params = _param_counts(payload_of.get(_TYPE), payload_of.get(_FUNCTION), where)
    types = vector_count(payload_of.get(_TYPE), where)
    functions = len(params)
    first = sum(i.kind == "global" for i in imports) + defined_globals
    first_mark = first + len(CLASSES) + len(COUNTERS)
    imported_functions = sum(i.kind == "func" for i in imports)
    layout = _Layout(counters=first, scan_ops=first + len(CLASSES),
                     scans=first + len(CLASSES) + 1,
                     lookup=imported_functions + functions,
                     insert=imported_functions + functions + 1)
    memory = sum(i.kind == "memory" for i in imports) + defined_memories
    lookup, insert = _helpers(memory)
    new_globals = [b"\x7e\x01\x42\x00\x0b"] * (len(CLASSES) + len(COUNTERS))  # (mut i64) 0
    new_globals += [b"\x7f\x01\x41\x00\x0b"] * functions  # (mut i32) 0
    exports = [_export(EXPORT_PREFIX + cls, 3, first + i) for i, cls in enumerate(CLASSES)]
    exports += [_export(name, 3, first + len(CLASSES) + i) for i, name in enumerate(COUNTERS)]
    exports += [_export(f"{MARK_PREFIX}{i}", 3, first_mark + i) for i in range(functions)]
    wanted = {_TYPE: [b"\x60\x01\x7f\x01\x7f", b"\x60\x01\x7f\x00"],
              _FUNCTION: [_uleb(types), _uleb(types + 1)],
              _MEMORY: [b"\x00\x01"], _GLOBAL: new_globals, _EXPORT: exports}
    order = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]
    for section_id in wanted:  # sections the module lacks go where the order puts them
        if section_id not in ids:
            rank = order.index(section_id)
            at = max((i + 1 for i, s in enumerate(found)
                      if s.id in order and order.index(s.id) < rank), default=0)
            found.insert(at, Section(section_id, b"", -1))
    out = bytearray(data[:8])
    for s in found:
        payload = s.payload
        if s.id in wanted:
            payload = vector_with(payload if s.offset >= 0 else None, wanted[s.id], where)
        elif s.id == _CODE:
            payload = _code_payload(payload, s.offset, params, layout, first_mark, where)
            payload = vector_with(payload, [_uleb(len(b)) + b for b in (lookup, insert)],
                                  where)
        out += _section(s.id, payload)
    return validated(bytes(out), "counting copy", where)


def _code_payload(payload: bytes, offset: int, params: list[int], layout: _Layout,
                  first_mark: int, where: str) -> bytes:
    r = Reader(payload, where)
    count = r.count(2)
    if count != len(params):
        raise r.fail(f"{count} function bodies for {len(params)} functions")
    out = bytearray(_uleb(count))
    for i in range(count):
        size = r.uleb()
        base = offset + r.pos
        body = _rewrite_body(r.take(size), params[i], base, layout, first_mark + i,
                             f"{where}: function {i}")
        out += _uleb(len(body)) + body
    return bytes(out)
