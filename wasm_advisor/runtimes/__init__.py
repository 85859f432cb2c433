"""Runtime adapters, one module per runtime, found at run time, and the traits table of
every runtime and mode (``models/runtime-traits.toml``).

:func:`discover` returns every known runtime with its availability (and the
reason when it is not here); :func:`adapter_for` builds one by name.
"""

from __future__ import annotations

from typing import Any

from ..errors import RuntimeUnavailableError
from .base import Availability, Mode, RunRequest, RunResult, RuntimeAdapter
from .traits import TRAITS, ModeTraits, load_traits, traits_for
from .wamr_runtime import BINDING as WAMR_CLI_BINDING
from .wamr_runtime import WamrAdapter
from .wasmer_runtime import WasmerAdapter

__all__ = [
    "RUNTIMES",
    "TRAITS",
    "WAMR_CLI_BINDING",
    "Availability",
    "Mode",
    "ModeTraits",
    "RunRequest",
    "RunResult",
    "RuntimeAdapter",
    "adapter_for",
    "discover",
    "load_traits",
    "traits_for",
]

RUNTIMES = ("wasmtime", "wasmer", "wamr")


def adapter_for(name: str, options: dict[str, Any] | None = None) -> RuntimeAdapter:
    """The adapter for runtime ``name`` ('wasmtime', 'wasmer' or 'wamr')."""
    options = options or {}
    if name == "wasmtime":
        from .wasmtime_runtime import WasmtimeAdapter  # loads the wasmtime engine: only here

        return WasmtimeAdapter()
    if name == "wasmer":
        return WasmerAdapter()
    if name == "wamr":
        return WamrAdapter(iwasm=options.get("iwasm"), wamrc=options.get("wamrc"),
                           libiwasm=options.get("libiwasm"),
                           keep_artifacts=bool(options.get("keep_artifacts")))
    raise RuntimeUnavailableError(
        f"unknown runtime {name!r}; choose one of {', '.join(RUNTIMES)}"
    )


def discover(options: dict[str, Any] | None = None) -> dict[str, tuple[Availability, list[Mode]]]:
    """Every known runtime's availability here, and its modes when available."""
    found: dict[str, tuple[Availability, list[Mode]]] = {}
    for name in RUNTIMES:
        try:
            adapter = adapter_for(name, options)
            availability = adapter.availability()
            modes = adapter.modes() if availability.available else []
        except Exception as e:  # an adapter that cannot even load is unavailable
            availability, modes = Availability(False, reason=f"{type(e).__name__}: {e}"), []
        found[name] = (availability, modes)
    return found
