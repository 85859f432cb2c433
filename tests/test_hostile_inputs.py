"""Property-based: any input is accepted or rejected with the library's own error."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasm_advisor import AdvisorError, Workload, WorkloadError
from wasm_advisor.workload_files import parse_workload

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
