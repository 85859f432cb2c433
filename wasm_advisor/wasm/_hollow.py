"""The same module with its ``_start`` emptied: what a run costs besides executing.

``verify`` subtracts a run of this *hollow* module from a run of the real one
where the binding reports no phases (wasmer-sdk, the ``iwasm`` CLI). Both load
(or compile) the same code, copy the same data segments, run the same start
function, set up WASI and tear down alike; the hollow one only returns at once
from ``_start``. The difference is the program's execution, whatever the
binding does around it.

The module is changed as little as possible: one type ``() -> ()`` and one
function with an empty body are appended, and the ``_start`` export points to
the new function. No index already in the module moves, so every other
section is copied byte for byte; the result is validated before it is used.
"""

from __future__ import annotations

from ..errors import ModuleError
from ._encoding import section as _section
from ._encoding import uleb as _uleb
from ._encoding import validated
from ._module import MAGIC, _Reader, read_imports

__all__ = ["hollow_module"]

_TYPE, _IMPORT, _FUNCTION, _EXPORT, _CODE = 1, 2, 3, 7, 10
_EMPTY_TYPE = b"\x60\x00\x00"  # func () -> ()
_EMPTY_BODY = b"\x02\x00\x0b"  # 2 bytes: no locals, end




def _append_item(payload: bytes, item: bytes, where: str) -> tuple[bytes, int]:
    """A vector section with ``item`` added at its end, and the item's index."""
    r = _Reader(payload, where)
    count = r.uleb()
    return _uleb(count + 1) + payload[r.pos:] + item, count


def _point_start_at(payload: bytes, function: int, where: str) -> bytes:
    r = _Reader(payload, where)
    out = bytearray(_uleb(count := r.uleb()))
    found = False
    for _ in range(count):
        start = r.pos
        name = r.name()
        kind = r.byte()
        index_at = r.pos
        r.uleb()
        if name == "_start" and kind == 0:
            out += payload[start:index_at] + _uleb(function)
            found = True
        else:
            out += payload[start:r.pos]
    if not found:
        raise ModuleError(f"{where}: no _start function to empty (not a WASI command)")
    return bytes(out)


def hollow_module(data: bytes, where: str = "<bytes>") -> bytes:
    """``data`` with ``_start`` returning at once; :class:`ModuleError` if that cannot be made."""
    if data[:4] != MAGIC or len(data) < 8:
        raise ModuleError(f"{where}: not a WebAssembly module")
    r = _Reader(data, where)
    r.pos = 8
    sections: list[tuple[int, bytes]] = []
    while r.pos < len(data):
        section_id = r.byte()
        sections.append((section_id, r.take(r.uleb())))
    ids = [s for s, _ in sections]
    if _FUNCTION not in ids or _CODE not in ids or _TYPE not in ids:
        raise ModuleError(f"{where}: no functions of its own to empty")
    if _EXPORT not in ids:
        raise ModuleError(f"{where}: no _start function to empty (not a WASI command)")
    imported = sum(entry.kind == "func" for s, p in sections if s == _IMPORT
                   for entry, _ in read_imports(_Reader(p, where)))
    out = bytearray(data[:8])
    type_index = function_index = -1
    for section_id, payload in sections:
        if section_id == _TYPE:
            payload, type_index = _append_item(payload, _EMPTY_TYPE, where)
        elif section_id == _FUNCTION:
            payload, defined = _append_item(payload, _uleb(type_index), where)
            function_index = imported + defined
        elif section_id == _CODE:
            payload, _ = _append_item(payload, _EMPTY_BODY, where)
        elif section_id == _EXPORT:
            payload = _point_start_at(payload, function_index, where)
        out += _section(section_id, payload)
    return validated(bytes(out), "hollow copy", where)
