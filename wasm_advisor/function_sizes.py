"""How much of a module's code sits in large functions, as its compilers see it.

An optimising compiler's time per byte grows with the size of the function the
byte is in: LLVM (WAMR's AOT compiler and its JIT) compiled the calibration's
typical code at 20 us per byte in functions of 700 bytes and at 40 us in
functions of 10 KiB, its JIT at 5.8 and 19.7; Cranelift went the other way (800
to 520 ns per byte), the per-function work spread over more code; WAMR's fast
interpreter stayed flat. Real programs keep half their code in functions of
0.7 to 280 KiB (bytes-weighted median; the median function is 50-600 bytes), so
a rate measured on small functions alone mispredicts them either way.

The calibration measures the rate at both sizes (:data:`SMALL_FUNCTION_BYTES`,
the typical code family; :data:`LARGE_FUNCTION_BYTES`, its large-function
family). :func:`large_function_bytes` places a module between them: each
function body counts its bytes times how far its size lies from the small size
to the large one, linearly (none of them at 700 bytes or less, all of them at
10 KiB or more), and the model charges those bytes the difference of the two
rates. Linear, because that is what the measurement between the two sizes says:
the JIT's 8.1 us per byte in functions of 2.7 KB lies at a fifth of the way from
5.8 to 19.7, as 2.7 KB lies from 700 bytes to 10 KiB (a log scale put it at
half, and over-charged every mid-sized function).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["LARGE_FUNCTION_BYTES", "SMALL_FUNCTION_BYTES", "large_function_bytes",
           "large_weight"]

SMALL_FUNCTION_BYTES = 700  # the typical code family's function body (median)
LARGE_FUNCTION_BYTES = 10_240  # the large-function family's


def large_weight(body_bytes: float) -> float:
    """0 for a function of the small size or less, 1 at the large size or more, and in
    between in proportion to its size."""
    if body_bytes <= SMALL_FUNCTION_BYTES:
        return 0.0
    if body_bytes >= LARGE_FUNCTION_BYTES:
        return 1.0
    return (body_bytes - SMALL_FUNCTION_BYTES) / (LARGE_FUNCTION_BYTES - SMALL_FUNCTION_BYTES)


def large_function_bytes(body_sizes: Iterable[int]) -> int:
    """The code bytes a module has in large functions, each weighted by :func:`large_weight`."""
    return round(sum(size * large_weight(size) for size in body_sizes))
