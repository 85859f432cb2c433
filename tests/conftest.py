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


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own profile cache: no test reads or writes the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(folder))
    return folder
