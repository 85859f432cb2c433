"""The architecture-review notebook runs top to bottom, headless, on a small budget."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .conftest import REPO

NOTEBOOK = REPO / "docs" / "notebooks" / "architecture-review.ipynb"
CELL_TIMEOUT_S = 120


def _kernel_spec(folder: Path) -> None:
    """A 'python3' kernel that is this interpreter, whatever else the machine has installed."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (wasm-advisor tests)", "language": "python"}))


@pytest.mark.slow
def test_architecture_review_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    import ipykernel  # noqa: F401 - the kernel the notebook runs in (the 'test' extra)
    import nbclient
    import nbformat

    _kernel_spec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # no calibration: this machine's saved profile (none: the cache is the test's own), else
    # the shipped reference profile
    monkeypatch.setenv("WASM_ADVISOR_NOTEBOOK_BUDGET", "small")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, when any cell errors

    code = [c for c in notebook.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= 8, "every chart cell shows its charts"
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for name in ("checkout-api", "editor-plugins", "nightly-batch"):
        assert f"{name}.html" in text
    assert "Where the ranking would flip:" in text
    assert "Verified " in text or "skipping verify" in text


def test_committed_notebook_has_outputs_and_no_errors() -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c["execution_count"] for c in code), "run it before committing"
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.slow
def test_calibrate_shows_its_progress_in_a_notebook_by_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbclient
    import nbformat

    _kernel_spec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    # in the kernel, the measuring is replaced by one that reports two steps through the
    # progress callback calibrate() chose (none is given), so the test times nothing
    cell = '''
from wasm_advisor.calibration import calibrate as module
from wasm_advisor.calibration.calibrate import CalibrationProgress

def measure(kind, wanted, modes, options, progress):
    progress(CalibrationProgress("wasmtime", "cranelift", "int", 1, 2, True, 1, 4, 2.0))
    progress(CalibrationProgress("wasmtime", "cranelift", "code family", 2, 2, True, 2, 4, 4.0))
    return "a profile"

module._measure = measure
print(module.calibrate("quick", save=False))
'''
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = notebook.cells[0].outputs
    shown = [o for o in outputs if o.output_type in ("display_data", "update_display_data")]
    assert shown, outputs
    last = shown[-1]["data"]["text/plain"]  # updated in place: the last step
    assert last == ("calibrating: wasmtime:cranelift: code family · 2/4 steps · 4 s, "
                    "about 4 s left")
    assert "a profile" in "".join(o.get("text", "") for o in outputs)
