"""Writing the pieces of a WebAssembly binary: LEB128 integers, vectors and sections.

Used by the module rewriters (:mod:`._hollow`, :mod:`._instruction_mix`),
which copy a module and change as little of it as they can.
"""

from __future__ import annotations

from ..errors import ModuleError
from ._features import validate_module
from ._sections import Reader

__all__ = ["COPY_SECTION", "distinct_copies", "section", "sleb", "uleb", "validated",
           "vector_with"]

COPY_SECTION = b"wasm-advisor.copy"


def uleb(value: int) -> bytes:
    """``value`` (not negative) as unsigned LEB128."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sleb(value: int) -> bytes:
    """``value`` as signed LEB128."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if (value == 0 and not b & 0x40) or (value == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def section(section_id: int, payload: bytes) -> bytes:
    """A section: its id, its size, its payload."""
    return bytes([section_id]) + uleb(len(payload)) + payload


def vector_with(payload: bytes | None, items: list[bytes], where: str) -> bytes:
    """A vector's payload (or a new one, for ``None``) with ``items`` appended."""
    if payload is None:
        return uleb(len(items)) + b"".join(items)
    r = Reader(payload, where)
    count = r.uleb()
    return uleb(count + len(items)) + payload[r.pos:] + b"".join(items)


def validated(data: bytes, what: str, where: str) -> bytes:
    """``data``, a rewritten copy of module ``where``, once Wasmtime validates it."""
    reason = validate_module(data)
    if reason is not None:
        raise ModuleError(f"{where}: its {what} does not validate: {reason}")
    return data


def distinct_copies(module: bytes, count: int) -> list[bytes]:
    """``count`` copies of ``module`` whose bytes differ: each ends with a custom section
    (:data:`COPY_SECTION`) holding its number, which no engine runs, so an engine that
    keeps compiled code by the module's hash (a cache) still loads each as its own."""
    name = uleb(len(COPY_SECTION)) + COPY_SECTION
    return [module + section(0, name + uleb(i)) for i in range(count)]
