"""Property-based: any input is accepted or rejected with the library's own error."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasm_advisor import AdvisorError, Workload, WorkloadError
from wasm_advisor.workload._files import parse_workload

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["64 MiB", "1e3", "5 TB", "per-request", "simd", "-1 KiB", "0x10"]),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=12), inner, max_size=4), max_leaves=12,
)
FIELD_NAMES = [
    "module_bytes", "code_bytes", "required_features", "lifetime", "requests_per_instance",
    "instances_per_module_load", "precompiled", "request_rate_per_s", "concurrent_instances",
    "compute_instructions_per_request", "compute_kind", "host_calls_per_request",
    "bytes_per_host_call", "linear_memory_bytes", "touched_bytes_per_request",
    "access_pattern", "arch", "cores", "memory_bytes", "device_class", "latency",
    "max_latency_ms", "max_memory_per_instance_bytes",
]


@SETTINGS
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=6))
def test_preset_overrides_accept_or_raise_workload_error(overrides: dict[str, Any]) -> None:
    try:
        w = Workload.preset("request-response", **overrides)
    except WorkloadError as e:
        assert e.problems and all(str(p) for p in e.problems)
    else:
        assert Workload.from_dict(w.to_dict()) == w


@SETTINGS
@given(values)
def test_from_dict_accepts_or_raises_workload_error(data: Any) -> None:
    with contextlib.suppress(WorkloadError):
        Workload.from_dict(data)


GROUPS = ["module", "instances", "work", "memory", "target", "priorities", "limits"]


@SETTINGS
@given(st.dictionaries(st.sampled_from([*GROUPS, "name", "extra"]),
                       st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=5),
                       max_size=7))
def test_structured_documents_accept_or_raise_workload_error(data: dict[str, Any]) -> None:
    with contextlib.suppress(WorkloadError):
        Workload.from_dict(data)


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from(["toml", "yaml", "json"]))
def test_random_bytes_never_escape_the_loaders(raw: bytes, fmt: str) -> None:
    with contextlib.suppress(AdvisorError):
        parse_workload(raw, fmt, file="fuzz")


@SETTINGS
@given(st.text(max_size=400), st.sampled_from(["toml", "yaml", "json"]))
def test_random_text_never_escapes_the_loaders(text: str, fmt: str) -> None:
    with contextlib.suppress(AdvisorError):
        parse_workload(text, fmt, file="fuzz")


@SETTINGS
@given(st.text(alphabet="{}[]:=,\"'-#&*!|>\n ab1.", max_size=200),
       st.sampled_from(["toml", "yaml", "json"]))
def test_syntax_soup_never_escapes_the_loaders(text: str, fmt: str) -> None:
    with contextlib.suppress(AdvisorError):
        parse_workload(text, fmt, file="fuzz")


def test_deeply_nested_documents_are_rejected_cleanly() -> None:
    for fmt, text in [("json", "[" * 5000 + "]" * 5000), ("yaml", "[" * 5000 + "]" * 5000),
                      ("toml", "a = " + "[" * 5000 + "]" * 5000)]:
        with contextlib.suppress(AdvisorError):
            parse_workload(text, fmt, file="deep")


# ----- mutations of valid files: near-misses reach deeper than random bytes ---------------

PER_INPUT_S = 2.0  # stated bound: every input is decided within this, on a loaded CI runner
PARSER_PEAK_BYTES = 64 << 20  # stated bound: no input makes a parser allocate more


def _presets_as_files() -> list[tuple[bytes, str]]:
    from wasm_advisor.workload._files import dump_workload
    from wasm_advisor.workload._presets import preset_names

    return [(dump_workload(Workload.preset(name), fmt).encode(), fmt)
            for name in preset_names() for fmt in ("toml", "yaml", "json")]


def _wasm_seeds() -> list[bytes]:
    import wasmtime

    from wasm_advisor.calibration import kernels

    plan = kernels.KernelPlan(min_sample_ns=100_000, repeats=1, working_set_bytes=1 << 20)
    rich = wasmtime.wat2wasm(
        '(module (import "env" "log" (func (param i32))) (table 2 funcref) '
        '(memory (export "memory") 2 8) (global (mut i32) (i32.const 0)) '
        '(data (i32.const 0) "abcdef") (elem (i32.const 0) $f) '
        '(func $f (export "_start") (drop (v128.const i32x4 1 2 3 4))))')
    return [kernels.guest_kernel("mixed", plan), kernels.empty_module(), bytes(rich)]


PRESET_FILES = _presets_as_files()
WASM_SEEDS = _wasm_seeds()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few bytes flipped, inserted, deleted, or a range duplicated."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "cut"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.sampled_from([0, 0x7F, 0x80, 0xFF, 0x0B, 0x41]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        elif op == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 64))]
        else:
            del data[at:]
    return bytes(data)


def _bounded(call: Callable[[], object], errors: type[Exception] | tuple[type[Exception], ...]
             ) -> None:
    import time
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
    except errors as e:
        assert str(e).strip(), "an error must say what is wrong"
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < PER_INPUT_S, f"took {elapsed:.2f} s"
    assert peak < PARSER_PEAK_BYTES, f"allocated {peak >> 20} MiB"


@SETTINGS
@given(st.sampled_from(range(len(PRESET_FILES))), st.data())
def test_mutated_workload_files_are_decided_quickly(index: int, data: st.DataObject) -> None:
    raw, fmt = PRESET_FILES[index]
    text = data.draw(mutated([raw]))
    _bounded(lambda: parse_workload(text, fmt, file="mutated"), AdvisorError)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(WASM_SEEDS))
def test_mutated_wasm_modules_are_decided_quickly(data: bytes) -> None:
    from wasm_advisor import ModuleError
    from wasm_advisor.wasm._module import read_module_bytes

    _bounded(lambda: read_module_bytes(data, "mutated.wasm"), ModuleError)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(mutated(WASM_SEEDS))
def test_a_workload_built_from_a_mutated_module_is_accepted_or_refused(
        tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "m.wasm"
    path.write_bytes(data)
    _bounded(lambda: Workload.from_module(path), AdvisorError)


def _profile_seed() -> bytes:
    from .helpers.synthetic import synthetic_profile

    return synthetic_profile({"wasmtime:cranelift": {}}).to_json().encode()


PROFILE_SEED = _profile_seed()


@SETTINGS
@given(st.one_of(mutated([PROFILE_SEED]), values.map(lambda v: json.dumps(v).encode())))
def test_mutated_or_random_profiles_are_refused_with_a_profile_error(data: bytes) -> None:
    from wasm_advisor import Profile, ProfileError

    text = data.decode("utf-8", errors="replace")
    _bounded(lambda: Profile.from_json(text, "fuzz.json"), ProfileError)
