"""The CLI's consoles (a terminal's own width, or a fixed wide one for files and CI logs)
and the exit status every command gives invalid input."""

from __future__ import annotations

from rich.console import Console

__all__ = ["EXIT_INVALID", "wide_console"]

EXIT_INVALID = 2  # the status main() gives any invalid input


def wide_console(*, stderr: bool = False, highlight: bool = True, width: int = 160) -> Console:
    """A console; ``width`` columns when the output is a file or a CI log, not a terminal."""
    console = Console(stderr=stderr, highlight=highlight)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, highlight=highlight, width=width)
