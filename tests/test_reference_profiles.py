"""The reference profiles shipped with the package load, and say where they come from."""

from __future__ import annotations

from wasm_advisor.files._data import reference_profile_paths
from wasm_advisor.profiles._profile import reference_profiles


def test_at_least_one_reference_profile_ships_and_loads() -> None:
    assert reference_profile_paths()
    for profile in reference_profiles():
        assert profile.kind == "reference"
        assert "WAMR" in profile.description
        assert profile.machine.cpu_model and profile.machine.cores >= 1


def test_the_reference_profile_scores_wamr_in_several_modes() -> None:
    profile = reference_profiles()[0]
    wamr = [mode for runtime, mode in profile.modes() if runtime == "wamr"]
    assert {"fast-interp", "aot"} <= set(wamr)
    for mode in wamr:
        assert profile.figure("wamr", mode, "int_ns_per_iter") is not None
        assert profile.figure("wamr", mode, "ttfi_ns") is not None
    assert profile.failures == []
