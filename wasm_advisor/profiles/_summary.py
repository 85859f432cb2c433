"""A profile in one table: the headline figure of each cost, per runtime/mode.

Columns (``None`` where the mode could not be measured for that cost):

- ``compile_us_per_kb``: compiling, per KiB of code section (µs)
- ``load_us_per_kb``: loading a precompiled artifact, per KiB of code (µs)
- ``instantiate_us``: instantiating the empty module, where the binding exposes it (µs)
- ``ttfi_ms``: from handing over the empty module's bytes to its first instruction (ms)
- ``hostcall_ns``: one call to a cheap WASI import and back (ns)
- ``seq_ns`` / ``rand_ns``: one 8-byte load, sequential / random, over a working
  set larger than the last-level cache (ns)
- ``mixed_ns_per_instr``, ``typical_ns_per_instr``, ``int_ns_per_instr``, ``float_ns_per_instr``,
  ``call_ns_per_instr``: compute per WebAssembly instruction of each kind (ns)
- ``rss_first_kib`` / ``rss_extra_kib``: resident memory of one instance / of each
  further live instance (KiB)
- ``features``: proposals the mode ran correctly, and those it did not
- ``not_measured``: column -> why it is ``None`` although the profile has a figure: a
  figure outside its physical bounds (a negative load cost, a host call under 1 ns; see
  :mod:`wasm_advisor.profiles._bounds`) is never shown as a figure. Calibrations leave
  such figures out; older profiles may still hold them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._bounds import out_of_bounds
from ._profile import Figure, Profile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "MEMORY_COLUMNS", "RUNNING_COLUMNS", "STARTUP_COLUMNS", "summarize",
           "summary_rows"]

STARTUP_COLUMNS = {
    "compile_us_per_kb": "compile µs/KiB",
    "load_us_per_kb": "load µs/KiB",
    "instantiate_us": "instantiate µs",
    "ttfi_ms": "1st instr. ms",
}
MEMORY_COLUMNS = {
    "rss_library_kib": "library KiB",
    "rss_first_kib": "RSS 1st KiB",
    "rss_extra_kib": "RSS +1 KiB",
    "module_bytes_per_code_byte": "module bytes/code byte",
}
RUNNING_COLUMNS = {
    "mixed_ns_per_instr": "mixed ns/instr",
    "typical_ns_per_instr": "typical ns/instr",
    "int_ns_per_instr": "int ns/instr",
    "float_ns_per_instr": "float ns/instr",
    "call_ns_per_instr": "call ns/instr",
    "hostcall_ns": "host call ns",
    "seq_ns": "seq. load ns",
    "rand_ns": "random load ns",
}
COLUMNS = STARTUP_COLUMNS | MEMORY_COLUMNS | RUNNING_COLUMNS


# the column a bounded figure is shown in
_COLUMN_OF = {"compile_ns_per_code_byte": "compile_us_per_kb",
              "load_ns_per_code_byte": "load_us_per_kb", "instantiate_ns": "instantiate_us",
              "ttfi_ns": "ttfi_ms", "hostcall_ns_per_iter": "hostcall_ns",
              "mem_seq_ns_per_iter": "seq_ns", "mem_rand_ns_per_iter": "rand_ns"}


def _physical(profile: Profile, runtime: str, mode: str, metric: str,
              not_measured: dict[str, str], column: str) -> Figure | None:
    """The figure, or None (with the reason in ``not_measured``) outside physical bounds."""

    f = profile.figure(runtime, mode, metric)
    bad = out_of_bounds([f]) if f is not None else []
    if bad:
        not_measured[column] = f"not measured: {bad[0][1]}"
        return None
    return f


def _per_instruction(profile: Profile, runtime: str, mode: str, kernel: str,
                     not_measured: dict[str, str] | None = None) -> float | None:
    f = _physical(profile, runtime, mode, f"{kernel}_ns_per_iter",
                  {} if not_measured is None else not_measured, f"{kernel}_ns_per_instr")
    if f is None:
        return None
    per_iter = f.params.get("instructions_per_iter")
    return f.value / float(per_iter) if isinstance(per_iter, int | float) and per_iter else None


def summary_rows(profile: Profile) -> list[dict[str, Any]]:
    """One dict per runtime/mode with the columns above, plus runtime, mode and binding."""
    rows = []
    labels = {(r.name, m.name): m for r in profile.runtimes for m in r.modes}
    for runtime, mode in profile.modes():
        not_measured: dict[str, str] = {}

        def value(metric: str, scale: float = 1.0, rt: str = runtime, md: str = mode,
                  nm: dict[str, str] = not_measured) -> float | None:
            f = _physical(profile, rt, md, metric, nm, _COLUMN_OF.get(metric, metric))
            return None if f is None else f.value * scale

        supported = sorted(r.feature for r in profile.features
                           if (r.runtime, r.mode) == (runtime, mode) and r.status == "supported")
        missing = sorted(r.feature for r in profile.features
                         if (r.runtime, r.mode) == (runtime, mode) and r.status != "supported")
        record = labels.get((runtime, mode))
        rows.append({
            "runtime": runtime,
            "mode": mode,
            "label": record.label if record else f"{runtime} {mode}",
            "binding": record.binding if record else "",
            "notes": record.notes if record else "",
            "compile_us_per_kb": value("compile_ns_per_code_byte", 1024 / 1000),
            "load_us_per_kb": value("load_ns_per_code_byte", 1024 / 1000),
            "instantiate_us": value("instantiate_ns", 1 / 1000),
            "ttfi_ms": value("ttfi_ns", 1 / 1e6),
            "hostcall_ns": value("hostcall_ns_per_iter"),
            "seq_ns": value("mem_seq_ns_per_iter"),
            "rand_ns": value("mem_rand_ns_per_iter"),
            "mixed_ns_per_instr": _per_instruction(profile, runtime, mode, "mixed",
                                                 not_measured),
            "typical_ns_per_instr": _per_instruction(profile, runtime, mode, "typical",
                                                 not_measured),
            "int_ns_per_instr": _per_instruction(profile, runtime, mode, "int",
                                                 not_measured),
            "float_ns_per_instr": _per_instruction(profile, runtime, mode, "float",
                                                 not_measured),
            "call_ns_per_instr": _per_instruction(profile, runtime, mode, "call",
                                                 not_measured),
            "rss_library_kib": value("rss_library_bytes", 1 / 1024),
            "rss_first_kib": value("rss_first_instance_bytes", 1 / 1024),
            "rss_extra_kib": value("rss_per_extra_instance_bytes", 1 / 1024),
            "module_bytes_per_code_byte": value("rss_module_bytes_per_code_byte"),
            "features_supported": supported,
            "features_missing": missing,
            "not_measured": not_measured,
        })
    return rows


def summarize(profile: Profile) -> pd.DataFrame:
    """The summary as a pandas DataFrame, one row per runtime/mode."""
    import pandas as pd

    return pd.DataFrame(summary_rows(profile))
