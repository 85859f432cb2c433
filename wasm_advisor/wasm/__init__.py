"""WebAssembly modules read and rewritten: their sections and features, the hollow copy
(code kept, program emptied) and the counting copy (instruction mix)."""

from ._encoding import distinct_copies
from ._features import WasmFeature
from ._hollow import hollow_module
from ._instruction_mix import (
    CLASSES,
    EXPORT_PREFIX,
    MARK_PREFIX,
    counting_module,
    function_body_bytes,
)
from ._module import ModuleInfo, read_module, read_module_bytes

__all__ = [
    "CLASSES",
    "EXPORT_PREFIX",
    "MARK_PREFIX",
    "ModuleInfo",
    "WasmFeature",
    "counting_module",
    "distinct_copies",
    "function_body_bytes",
    "hollow_module",
    "read_module",
    "read_module_bytes",
]
