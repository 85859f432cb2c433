"""Byte sizes written the way people write them: ``65536``, ``"64 KiB"``, ``"1.5 MB"``.

:data:`ByteCount` is the pydantic field type for every ``*_bytes`` field of a
workload. It accepts an integer or a string with a unit. A size written with a unit
saves back as it was written (``"256 MB"`` stays ``"256 MB"``, not ``"250000 KiB"``),
so a file loaded and saved again says the same; a plain number saves as its shortest
exact human form (``"64 MiB"``), so files stay readable.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, ValidatorFunctionWrapHandler, WrapValidator

__all__ = ["ByteCount", "WrittenBytes", "format_bytes", "human_bytes", "human_bytes_apart",
           "parse_bytes"]

_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_BYTES_RE = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_bytes(value: Any) -> int:
    """Return ``value`` as a whole number of bytes, or raise ``ValueError`` saying why.

    Accepted: a non-negative integer, an integral float (``1e6``), or a string
    such as ``"512"``, ``"64 KiB"``, ``"1.5 MB"`` (units B, kB/KB, MB, GB, TB
    and KiB, MiB, GiB, TiB; any letter case).
    """
    if isinstance(value, bool):
        raise ValueError("expected a byte count such as 65536 or '64 MiB', got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"expected a whole number of bytes, got {value!r}")
        return int(value)
    if isinstance(value, str):
        match = _BYTES_RE.match(value)
        if match is None:
            raise ValueError(f"expected a byte count such as 65536 or '64 MiB', got {value!r}")
        number, unit = match.groups()
        factor = _UNITS.get(unit.lower() if unit else "b")
        if factor is None:
            raise ValueError(
                f"unknown unit {unit!r} in {value!r}: use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            )
        amount = float(number.replace("_", "")) * factor
        if not math.isfinite(amount) or amount > 2**63:
            raise ValueError(f"{value!r} is too large")
        if amount != int(amount):
            raise ValueError(f"{value!r} is not a whole number of bytes")
        return int(amount)
    raise ValueError(
        f"expected a byte count such as 65536 or '64 MiB', got {type(value).__name__}"
    )


class WrittenBytes(int):
    """A byte count that remembers how it was written (``"256 MB"``): it is the int it
    means in every comparison and sum, and :func:`format_bytes` writes it back as written."""

    written: str

    def __new__(cls, count: int, written: str) -> WrittenBytes:
        value = super().__new__(cls, count)
        value.written = written
        return value

    def __getnewargs__(self) -> tuple[int, str]:  # type: ignore[override]
        return int(self), self.written  # copy and pickle keep the written form


def format_bytes(count: int) -> int | str:
    """``count`` as written (a :class:`WrittenBytes`), else its shortest exact form:
    ``"64 MiB"``, ``"256 MB"``, or the plain integer (binary units where as short)."""
    if isinstance(count, WrittenBytes):
        return count.written
    if count <= 0:
        return count
    forms = [f"{count // factor} {unit}"
             for unit, factor in ((u, _UNITS[u.lower()]) for u in
                                  ("TiB", "GiB", "MiB", "KiB", "TB", "GB", "MB", "kB"))
             if count >= factor and count % factor == 0]
    return min(forms, key=len) if forms else count


def _keep_written(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The validated count; a :class:`WrittenBytes` when ``value`` was written as text."""
    count = handler(value)
    if isinstance(value, str) and isinstance(count, int) and not isinstance(count, bool):
        return WrittenBytes(count, " ".join(value.split()))
    return count


def human_bytes(count: float) -> str:
    """An approximate, readable size for tables: ``"1.5 MiB"``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - unreachable


def human_bytes_apart(a: float, b: float) -> tuple[str, str]:
    """Two sizes to compare, in one unit and with as many decimals as they need to read
    differently when they differ ("250.0 MiB" and "249.8 MiB", not "0.24 GiB" twice);
    sizes that agree to six decimals are given in bytes."""
    largest = max(abs(a), abs(b))
    unit, scale = "B", 1
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if largest < 1024 * scale:
            break
        unit, scale = name, scale * 1024
    if unit != "B":
        for decimals in range(1, 7):
            first, second = f"{a / scale:.{decimals}f}", f"{b / scale:.{decimals}f}"
            if first != second or a == b:
                return f"{first} {unit}", f"{second} {unit}"
    return f"{a:,.0f} bytes", f"{b:,.0f} bytes"


ByteCount = Annotated[
    int,
    BeforeValidator(parse_bytes, json_schema_input_type=int | str),
    WrapValidator(_keep_written),
    PlainSerializer(format_bytes, return_type=int | str, when_used="json"),
]
"""A byte count field: integer in Python, ``int`` or ``"64 MiB"`` in files, saved as
written."""
