"""Progress of a calibration in a notebook: one line, updated in place.

:func:`calibrate` reports progress through a callback the caller gives. In a
Jupyter kernel it gives itself this one when the caller gave none, so that a
notebook cell that calibrates says what it is measuring and about how long is
left instead of staying silent for a minute; elsewhere (a script, a test) it
stays silent, as library code should. The line is an IPython display updated
in place (:meth:`~wasm_advisor.calibration._calibrate.CalibrationProgress.line`),
so a saved notebook keeps only the last state.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._calibrate import CalibrationProgress

__all__ = ["in_notebook", "notebook_progress"]


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (not a terminal IPython, not a script)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    get = getattr(shell, "get_ipython", None)
    ip = get() if get else None
    return ip is not None and getattr(ip, "kernel", None) is not None


def notebook_progress() -> Callable[[CalibrationProgress], None]:
    """A callback that shows each event's line in one display, updated in place."""
    from IPython.display import display

    handle: dict[str, Any] = {}

    def on_progress(event: CalibrationProgress) -> None:
        text = {"text/plain": "calibrating: " + event.line()}
        if "display" not in handle:
            handle["display"] = display(text, raw=True, display_id=True)  # type: ignore[no-untyped-call]
        else:
            handle["display"].update(text, raw=True)

    return on_progress
