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
from ._encoding import validated, vector_with
from ._module import imports_of
from ._sections import Reader, Section, sections, vector_count

__all__ = ["hollow_module"]

_TYPE, _FUNCTION, _EXPORT, _CODE = 1, 3, 7, 10
_EMPTY_TYPE = b"\x60\x00\x00"  # func () -> ()
_EMPTY_BODY = b"\x02\x00\x0b"  # 2 bytes: no locals, end


def _point_start_at(payload: bytes, function: int, where: str) -> bytes:
    r = Reader(payload, where)
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


def _check_hollowable(found: list[Section], where: str) -> None:
    """Refuse a module with no function of its own, or no exports to find ``_start`` in."""
    ids = {s.id for s in found}
    if not {_FUNCTION, _CODE, _TYPE} <= ids:
        raise ModuleError(f"{where}: no functions of its own to empty")
    if _EXPORT not in ids:
        raise ModuleError(f"{where}: no _start function to empty (not a WASI command)")


def hollow_module(data: bytes, where: str = "<bytes>") -> bytes:
    """``data`` with ``_start`` returning at once; :class:`ModuleError` if that cannot be made."""
    found = list(sections(data, where))
    _check_hollowable(found, where)
    imported = sum(entry.kind == "func" for entry in imports_of(found, where))
    out = bytearray(data[:8])
    type_index = function_index = -1
    for s in found:
        payload = s.payload
        if s.id == _TYPE:
            type_index = vector_count(payload, where)
            payload = vector_with(payload, [_EMPTY_TYPE], where)
        elif s.id == _FUNCTION:
            function_index = imported + vector_count(payload, where)
            payload = vector_with(payload, [_uleb(type_index)], where)
        elif s.id == _CODE:
            payload = vector_with(payload, [_EMPTY_BODY], where)
        elif s.id == _EXPORT:
            payload = _point_start_at(payload, function_index, where)
        out += _section(s.id, payload)
    return validated(bytes(out), "hollow copy", where)
