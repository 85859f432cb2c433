"""A package's public names imported on first use (PEP 562), not when the package is.

A measurement worker imports ``wasm_advisor`` and its subpackages on its way to the
harness and the runtimes; loading the advisor, the model, numpy and scikit-learn there
took about a second per worker (``python -X importtime -c "import
wasm_advisor.harness.worker"``: 1.12 s eagerly, 0.17 s lazily), and a calibration starts
a few dozen workers. The package lists its names with the module each comes from and
imports the same names under ``TYPE_CHECKING`` for the type checker.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names ``exports`` maps to
    the module (relative to the package) that defines each, as ``".module"``, or
    ``".module:name"`` where the package names it otherwise."""

    def __getattr__(name: str) -> Any:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = where.partition(":")
        value = getattr(importlib.import_module(module, package), attribute or name)
        vars(sys.modules[package])[name] = value  # later look-ups do not come here
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
