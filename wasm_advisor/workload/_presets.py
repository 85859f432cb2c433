"""The bundled workload presets, shipped as TOML files inside the package.

``request-response``, ``plugin-host`` and ``compute-long-running`` are the three
profiles the runtime debate revolves around; ``edge-iot`` is a small device.
Use them with :meth:`Workload.preset`, overriding fields as needed.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from ..errors import Problem, WorkloadError

__all__ = ["preset_data", "preset_names"]


@cache
def _presets() -> dict[str, dict[str, Any]]:
    folder = resources.files("wasm_advisor") / "presets"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text("utf-8"))
    return found


def preset_names() -> list[str]:
    """The names of the bundled presets, sorted."""
    return sorted(_presets())


def preset_data(name: str) -> dict[str, Any]:
    """The raw fields of preset ``name`` (a fresh copy each call)."""
    presets = _presets()
    if name not in presets:
        known = ", ".join(sorted(presets))
        raise WorkloadError([Problem("preset", f"unknown preset {name!r}; choose one of {known}")])
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in presets[name].items()}
