from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("WASM_ADVISOR_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "corpus.json").is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS} (set WASM_ADVISOR_SHARED)")
    return CORPUS
