"""Reading a WebAssembly binary: its integers, names and limits, and its sections.

:class:`Reader` reads LEB128 integers, byte strings, names and limits, checking every
count against the bytes that remain, so a hostile file ends in :class:`ModuleError`,
never a crash or a huge allocation. :func:`sections` walks a module's sections in
order; the module reader (:mod:`._module`) and the rewriters (:mod:`._hollow`,
:mod:`._instruction_mix`) all read a module through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ModuleError

__all__ = ["MAGIC", "Reader", "Section", "sections", "vector_count"]

MAGIC = b"\0asm"


class Reader:
    """A cursor over ``data``; its errors name ``where`` and the byte they are at."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data
        self.pos = 0
        self.where = where

    def fail(self, message: str) -> ModuleError:
        return ModuleError(f"{self.where}: {message} at byte {self.pos}")

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("unexpected end of file")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uleb(self, max_bits: int = 32) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result
            if shift >= max_bits + 7:
                raise self.fail("integer too long")

    def count(self, min_item_bytes: int = 1) -> int:
        n = self.uleb()
        if n * min_item_bytes > len(self.data) - self.pos:
            raise self.fail(f"declares {n} items, more than the bytes that remain")
        return n

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise self.fail(f"declares {n} bytes, more than remain")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def name(self) -> str:
        return self.take(self.uleb()).decode("utf-8", errors="replace")

    def limits(self) -> tuple[int, int | None, bool, bool]:
        flags = self.byte()
        if flags & ~0x0F:
            raise self.fail(f"unknown limits flags {flags:#x}")
        memory64 = bool(flags & 0x04)
        bits = 64 if memory64 else 32
        initial = self.uleb(bits)
        maximum = self.uleb(bits) if flags & 0x01 else None
        if flags & 0x08:  # custom page size
            self.uleb()
        return initial, maximum, bool(flags & 0x02), memory64


@dataclass(frozen=True)
class Section:
    """One section of a module: its id, its payload, and where the payload starts in the
    module (-1 for a section a rewriter adds)."""

    id: int
    payload: bytes
    offset: int


def sections(data: bytes, where: str) -> Iterator[Section]:
    """The sections of the module in ``data``, each read as the walk reaches it (so a
    caller that reads each one in turn meets the module's faults in the order they come).

    Only the framing is checked here: the magic number, and that each section's size
    fits in the bytes that remain.
    """
    if data[:4] != MAGIC or len(data) < 8:
        raise ModuleError(f"{where}: not a WebAssembly module")
    r = Reader(data, where)
    r.pos = 8
    while r.pos < len(data):
        section_id = r.byte()
        size = r.uleb()
        payload = r.take(size)
        yield Section(section_id, payload, r.pos - size)


def vector_count(payload: bytes | None, where: str) -> int:
    """The number of items a vector section's payload declares (0 for no section)."""
    return 0 if payload is None else Reader(payload, where).uleb()
