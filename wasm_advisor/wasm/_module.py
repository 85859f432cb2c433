"""Read what a workload can learn from a real ``.wasm`` file.

:func:`read_module` checks the file is a valid core module (with Wasmtime's
validator), walks its sections to count bytes, functions, imports, exports,
memories and data, and asks :mod:`wasm_advisor.wasm._features` which proposals
it needs. Every count read from the file is checked against the bytes that
remain, so a hostile file ends in :class:`ModuleError`, never a crash or a
huge allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModuleError
from ._features import WasmFeature, features_used, validate_module
from ._sections import MAGIC, Reader, Section, sections

__all__ = ["Import", "Memory", "ModuleInfo", "imports_of", "read_module", "read_module_bytes"]

CORE_VERSION = b"\x01\0\0\0"
MAX_MODULE_BYTES = 1 << 30  # 1 GiB: far beyond any real module
WASM_PAGE_BYTES = 65536

_SECTION_NAMES = {
    0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
    6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
    12: "datacount", 13: "tag",
}
_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}


@dataclass(frozen=True)
class Import:
    """One import: ``module.name`` and its kind (func, table, memory, global, tag)."""

    module: str
    name: str
    kind: str


@dataclass(frozen=True)
class Memory:
    """A linear memory's limits, in 64 KiB pages."""

    initial_pages: int
    maximum_pages: int | None
    shared: bool
    memory64: bool
    imported: bool


@dataclass(frozen=True)
class ModuleInfo:
    """What a ``.wasm`` file tells a workload about itself."""

    path: str | None
    total_bytes: int
    code_bytes: int
    function_count: int
    imports: tuple[Import, ...]
    exports: tuple[tuple[str, str], ...]
    memories: tuple[Memory, ...]
    data_bytes: int
    section_bytes: dict[str, int] = field(default_factory=dict)
    features: frozenset[WasmFeature] = frozenset()
    data_segments: int = 0
    # functions of the module's own the host or a table can call (exported, or listed in
    # an element segment): each needs an entry trampoline in Wasmtime; None: not known
    # (an element expression this reader does not know)
    escaping_functions: int | None = None
    # bytes of the largest function body: an engine that compiles functions on every core
    # at once takes no less than this one function's compile (0 without code)
    largest_function_bytes: int = 0

    @property
    def imported_functions(self) -> tuple[Import, ...]:
        """The host-call surface: every function the host must provide."""
        return tuple(i for i in self.imports if i.kind == "func")

    @property
    def maximum_memory_bytes(self) -> int | None:
        """The largest the memories may grow to, or None when one has no maximum."""
        if any(m.maximum_pages is None for m in self.memories):
            return None
        return sum(m.maximum_pages or 0 for m in self.memories) * WASM_PAGE_BYTES

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON."""
        return {
            "path": self.path,
            "total_bytes": self.total_bytes,
            "code_bytes": self.code_bytes,
            "function_count": self.function_count,
            "imports": [{"module": i.module, "name": i.name, "kind": i.kind}
                        for i in self.imports],
            "exports": [{"name": n, "kind": k} for n, k in self.exports],
            "memories": [vars(m) for m in self.memories],
            "initial_memory_bytes": self.initial_memory_bytes,
            "maximum_memory_bytes": self.maximum_memory_bytes,
            "data_bytes": self.data_bytes,
            "data_segments": self.data_segments,
            "escaping_functions": self.escaping_functions,
            "largest_function_bytes": self.largest_function_bytes,
            "section_bytes": self.section_bytes,
            "features": sorted(f.value for f in self.features),
            "is_wasi_command": self.is_wasi_command,
        }

    @property
    def wasi_imports(self) -> tuple[Import, ...]:
        return tuple(i for i in self.imports if i.module.startswith("wasi"))

    @property
    def initial_memory_bytes(self) -> int:
        return sum(m.initial_pages for m in self.memories) * WASM_PAGE_BYTES

    @property
    def is_wasi_command(self) -> bool:
        return any(name == "_start" and kind == "func" for name, kind in self.exports)


def _skip_value_type(r: Reader) -> None:
    if r.byte() in (0x63, 0x64):  # (ref null? heaptype)
        r.uleb(33)


def _skip_table_type(r: Reader) -> None:
    _skip_value_type(r)
    r.limits()


def _skip_global_type(r: Reader) -> None:
    _skip_value_type(r)
    r.byte()  # mutability


_CONST_NO_IMMEDIATE = frozenset((0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E))  # extended-const


def _const_expr_functions(r: Reader) -> list[int] | None:
    """The functions a constant expression refers to (``ref.func``); None for an
    instruction this reader does not know (GC's constant instructions)."""
    functions: list[int] = []
    while True:
        op = r.byte()
        if op == 0x0B:
            return functions
        if op == 0xD2:
            functions.append(r.uleb())
        elif op in (0x41, 0x23):
            r.uleb()
        elif op == 0x42:
            r.uleb(64)
        elif op == 0xD0:
            r.uleb(33)
        elif op not in _CONST_NO_IMMEDIATE:
            return None


def _element_functions(r: Reader) -> set[int] | None:
    """Every function an element section lists (active, passive or declared); None where
    an expression in it is one this reader does not know."""
    functions: set[int] = set()
    for _ in range(r.count(2)):
        flags = r.uleb()
        if flags > 7:
            raise r.fail(f"unknown element segment flags {flags}")
        if flags & 0x02 and not flags & 0x01:
            r.uleb()  # table index
        if not flags & 0x01 and _const_expr_functions(r) is None:  # the offset
            return None
        uses_expressions = bool(flags & 0x04)
        if flags & 0x03:
            if uses_expressions:
                _skip_value_type(r)
            else:
                r.byte()  # element kind: funcref
        for _ in range(r.count()):
            if uses_expressions:
                listed = _const_expr_functions(r)
                if listed is None:
                    return None
                functions.update(listed)
            else:
                functions.add(r.uleb())
    return functions


def code_body_sizes(code: Reader) -> list[int]:
    """The size in bytes of each function body in a code section's payload, in order."""
    sizes = []
    for _ in range(code.count(2)):
        size = code.uleb()
        code.take(size)
        sizes.append(size)
    return sizes


def read_imports(r: Reader) -> list[tuple[Import, Memory | None]]:
    """The entries of an import section, each with its memory's limits when it is one."""
    out: list[tuple[Import, Memory | None]] = []
    for _ in range(r.count(3)):
        module, field_name, kind = r.name(), r.name(), r.byte()
        memory = None
        if kind == 0:
            r.uleb()
        elif kind == 1:
            _skip_table_type(r)
        elif kind == 2:
            initial, maximum, shared, m64 = r.limits()
            memory = Memory(initial, maximum, shared, m64, imported=True)
        elif kind == 3:
            _skip_global_type(r)
        elif kind == 4:
            r.byte()
            r.uleb()
        else:
            raise r.fail(f"unknown import kind {kind}")
        out.append((Import(module, field_name, _KINDS.get(kind, f"kind{kind}")), memory))
    return out


def imports_of(found: Iterable[Section], where: str) -> list[Import]:
    """Every import of a module, from its sections."""
    return [entry for s in found if s.id == 2  # the import section
            for entry, _ in read_imports(Reader(s.payload, where))]


@dataclass
class _Tally:
    """What the walk over a module's sections has found so far."""

    section_bytes: dict[str, int] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    exports: list[tuple[str, str]] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    functions: int = 0
    code_bytes: int = 0
    data_bytes: int = 0
    data_segments: int = 0
    code: Reader | None = None  # the code section's payload
    # functions reachable from outside: exported or in an element segment (None: unknown)
    escaping: set[int] | None = field(default_factory=set)


def _tally_imports(tally: _Tally, body: Reader) -> None:
    for entry, memory in read_imports(body):
        tally.imports.append(entry)
        if memory is not None:
            tally.memories.append(memory)


def _tally_functions(tally: _Tally, body: Reader) -> None:
    tally.functions = body.count()


def _tally_memories(tally: _Tally, body: Reader) -> None:
    for _ in range(body.count(2)):
        initial, maximum, shared, m64 = body.limits()
        tally.memories.append(Memory(initial, maximum, shared, m64, imported=False))


def _tally_exports(tally: _Tally, body: Reader) -> None:
    for _ in range(body.count(3)):
        export_name, kind = body.name(), body.byte()
        index = body.uleb()
        tally.exports.append((export_name, _KINDS.get(kind, f"kind{kind}")))
        if kind == 0 and tally.escaping is not None:
            tally.escaping.add(index)


def _tally_elements(tally: _Tally, body: Reader) -> None:
    listed = _element_functions(body)
    escaping = tally.escaping
    tally.escaping = None if listed is None or escaping is None else escaping | listed


def _tally_code(tally: _Tally, body: Reader) -> None:
    tally.code_bytes += len(body.data)
    tally.code = body


def _tally_data(tally: _Tally, body: Reader) -> None:
    tally.data_bytes += len(body.data)
    tally.data_segments += body.count()


# what each section adds to the tally, by section id (the others only count their bytes)
_TALLIES: dict[int, Callable[[_Tally, Reader], None]] = {
    2: _tally_imports, 3: _tally_functions, 5: _tally_memories, 7: _tally_exports,
    9: _tally_elements, 10: _tally_code, 11: _tally_data,
}


def _check_header(data: bytes, where: str) -> None:
    """Refuse what is not a core WebAssembly module, before reading any section."""
    if len(data) == 0:
        raise ModuleError(f"{where}: file is empty, not a WebAssembly module")
    if len(data) > MAX_MODULE_BYTES:
        raise ModuleError(f"{where}: {len(data)} bytes is larger than any real module (1 GiB)")
    if data[:4] != MAGIC:
        raise ModuleError(f"{where}: not a WebAssembly module (no \\0asm magic number)")
    if data[4:8] != CORE_VERSION:
        if data[4:6] != b"\x01\0" and len(data) >= 8:
            raise ModuleError(
                f"{where}: a WebAssembly component or unknown version, not a core module"
            )
        raise ModuleError(f"{where}: unsupported WebAssembly version {data[4:8].hex()}")


def _tally(data: bytes, where: str) -> _Tally:
    """Walk the sections of ``data`` and tally what each holds."""
    tally = _Tally()
    for s in sections(data, where):
        name = _SECTION_NAMES.get(s.id)
        if name is None:
            raise ModuleError(f"{where}: unknown section id {s.id} at byte {s.offset}")
        tally.section_bytes[name] = tally.section_bytes.get(name, 0) + len(s.payload)
        add = _TALLIES.get(s.id)
        if add is not None:
            add(tally, Reader(s.payload, where))
    return tally


def read_module_bytes(data: bytes, where: str = "<bytes>") -> ModuleInfo:
    """Describe the module in ``data``; ``where`` names it in error messages."""
    _check_header(data, where)
    tally = _tally(data, where)
    reason = validate_module(data)
    if reason is not None:
        raise ModuleError(f"{where}: not a valid WebAssembly module: {reason}")
    # read once valid: every body the section declares is there
    code = tally.code
    largest_function = max(code_body_sizes(code), default=0) if code is not None else 0
    # the module's own functions' indices follow the imported ones
    imported = sum(i.kind == "func" for i in tally.imports)
    escaping = tally.escaping
    return ModuleInfo(
        path=None,
        total_bytes=len(data),
        code_bytes=tally.code_bytes,
        function_count=tally.functions,
        imports=tuple(tally.imports),
        exports=tuple(tally.exports),
        memories=tuple(tally.memories),
        data_bytes=tally.data_bytes,
        section_bytes=tally.section_bytes,
        features=features_used(data),
        data_segments=tally.data_segments,
        escaping_functions=None if escaping is None else sum(i >= imported for i in escaping),
        largest_function_bytes=largest_function,
    )


def read_module(path: str | Path) -> ModuleInfo:
    """Describe the ``.wasm`` file at ``path``; a clear :class:`ModuleError` if it is not one."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ModuleError(f"{p}: no such file") from None
    except OSError as e:
        raise ModuleError(f"{p}: cannot read: {e.strerror}") from e
    if not p.is_file():
        raise ModuleError(f"{p}: not a regular file")
    if size > MAX_MODULE_BYTES:
        raise ModuleError(f"{p}: {size} bytes is larger than any real module (1 GiB)")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ModuleError(f"{p}: cannot read: {e.strerror}") from e
    info = read_module_bytes(data, str(p))
    return ModuleInfo(**{**info.__dict__, "path": str(p)})
