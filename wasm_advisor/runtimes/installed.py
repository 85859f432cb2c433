"""Is a runtime installed here? A cheap look, without loading an engine.

A profile measured elsewhere (the shipped reference) can hold figures for a runtime this
machine does not have; the advisor labels such a mode "not installed here", whatever the
profile's machine fingerprint says. Wasmtime and Wasmer are Python packages (found, not
imported); WAMR is an ``iwasm`` executable, found as calibration finds it (see
:mod:`.wamr_runtime`): ``$WASM_ADVISOR_IWASM``, then ``PATH``; or a ``libiwasm.so`` named in
``$WASM_ADVISOR_LIBIWASM`` (the in-process modes, :mod:`.wamr_embedded`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil

from .wamr_embedded import libiwasm_candidates
from .wamr_runtime import candidates

__all__ = ["installed_here"]

_PACKAGES = {"wasmtime": "wasmtime", "wasmer": "wasmer_sdk"}  # as the adapters import them


def installed_here(runtime: str) -> bool:
    """True when ``runtime`` could be run on this machine (unknown names: True)."""
    if runtime in _PACKAGES:
        try:
            return importlib.util.find_spec(_PACKAGES[runtime]) is not None
        except (ImportError, ValueError):
            return False
    if runtime == "wamr":  # where the WAMR adapter looks, with nothing given to it
        if any(os.path.isfile(p) for p in libiwasm_candidates(None, [])):
            return True
        return any(os.access(p, os.X_OK) or shutil.which(p)
                   for p in candidates(None, "WASM_ADVISOR_IWASM", "iwasm"))
    return True
