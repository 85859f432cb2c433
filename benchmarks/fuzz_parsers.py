"""Coverage-guided fuzzing of the two parsers that read untrusted files (optional; atheris).

    pip install atheris
    python benchmarks/fuzz_parsers.py wasm     -max_total_time=60 -rss_limit_mb=1024 -timeout=2
    python benchmarks/fuzz_parsers.py workload -max_total_time=60 -rss_limit_mb=1024 -timeout=2

``wasm`` feeds bytes to :func:`wasm_advisor.wasm._module.read_module_bytes`;
``workload`` feeds bytes to :func:`wasm_advisor.workload._files.parse_workload`
as TOML, YAML or JSON (chosen by the first byte). Both must accept the input or
raise the library's own error; anything else, a hang past ``-timeout`` seconds
or memory past ``-rss_limit_mb`` is a crash that libFuzzer reports and saves.
Seeds are the bundled presets and generated modules. Not run by the test suite:
``tests/test_hostile_inputs.py`` runs the bounded property-based version.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from wasm_advisor.errors import AdvisorError
    from wasm_advisor.wasm._module import read_module_bytes
    from wasm_advisor.workload._files import parse_workload

FORMATS = ("toml", "yaml", "json")


def fuzz_wasm(data: bytes) -> None:
    with contextlib.suppress(AdvisorError):
        read_module_bytes(data, "fuzz.wasm")


def fuzz_workload(data: bytes) -> None:
    if not data:
        return
    with contextlib.suppress(AdvisorError):
        parse_workload(data[1:], FORMATS[data[0] % 3], file="fuzz")


def seeds(target: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"wasm-advisor-fuzz-{target}-"))
    if target == "wasm":
        from wasm_advisor.calibration import kernels

        plan = kernels.KernelPlan(min_sample_ns=100_000, repeats=1, working_set_bytes=1 << 20)
        for i, module in enumerate([kernels.empty_module(), kernels.guest_kernel("mixed", plan),
                                    kernels.code_size_module(4096)]):
            (folder / f"seed{i}").write_bytes(module)
    else:
        from wasm_advisor import Workload, preset_names
        from wasm_advisor.workload._files import dump_workload

        for name in preset_names():
            for i, fmt in enumerate(FORMATS):
                text = dump_workload(Workload.preset(name), fmt).encode()
                (folder / f"{name}.{fmt}").write_bytes(bytes([i]) + text)
    return folder


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("wasm", "workload"):
        sys.exit(__doc__)
    target = sys.argv[1]
    corpus = seeds(target)
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)],
                  fuzz_wasm if target == "wasm" else fuzz_workload)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
