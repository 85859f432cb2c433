"""The ``wasm-advisor`` command line. Each subcommand lives in its own module.

Only :func:`main` prints errors or exits: an :class:`~wasm_advisor.errors.AdvisorError`
becomes one line per problem on stderr and exit status 2; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import AdvisorError
from ..files import PACKAGE_VERSION
from . import (
    calibrate_commands,
    compare_command,
    module_commands,
    recommend_commands,
    report_commands,
    workload_commands,
)
from .console import EXIT_INVALID

__all__ = ["build_parser", "main"]

EXIT_INTERRUPTED = 130

_SUBCOMMANDS = (workload_commands, module_commands, calibrate_commands, recommend_commands,
                report_commands, compare_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm-advisor",
        description="Which WebAssembly runtime (Wasmtime, Wasmer, WAMR) and mode fits your "
        "workload on your hardware, from numbers measured on this machine.",
        epilog="Run 'wasm-advisor COMMAND --help' for a command's options.",
    )

    parser.add_argument("--version", action="version", version=f"wasm-advisor {PACKAGE_VERSION}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _SUBCOMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 a check failed, 2 bad input)."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # everything after '--' belongs to the module a command runs (verify), not to us
    passthrough: list[str] = []
    if "--" in arguments:
        cut = arguments.index("--")
        arguments, passthrough = arguments[:cut], arguments[cut + 1:]
    args = parser.parse_args(arguments)
    args.module_args = passthrough
    try:
        status: int = args.run(args)
    except AdvisorError as e:
        for line in str(e).splitlines() or [type(e).__name__]:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    return status
