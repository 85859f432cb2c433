"""Each field's validation, the cross-field rules, presets and overrides."""

from __future__ import annotations

from typing import Any

import pytest

from wasm_advisor import (
    InstanceLifetime,
    Workload,
    WorkloadError,
    preset_names,
)


def minimal(**groups: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "module": {"module_bytes": 100_000},
        "instances": {"lifetime": "per-request", "request_rate_per_s": 10},
        "work": {"compute_instructions_per_request": 1e6},
    }
    for group, fields in groups.items():
        data[group] = {**data.get(group, {}), **fields}
    return data


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(WorkloadError) as info:
        Workload.from_dict(data)
    return {p.field: p.message for p in info.value.problems}


def test_minimal_workload_gets_documented_defaults() -> None:
    w = Workload.from_dict(minimal())
    assert w.memory.linear_memory_bytes == 16 * 2**20
    assert w.target.device_class == "server"
    assert w.code_bytes == 100_000  # module size stands in for code size
    assert w.instances_per_s == 10


@pytest.mark.parametrize(
    ("group", "field", "value", "fragment"),
    [
        ("module", "module_bytes", "5 TB", "at most 1.0 GiB"),
        ("module", "module_bytes", -1, "at least"),
        ("module", "module_bytes", "12 parsecs", "unknown unit"),
        ("module", "code_bytes", 1.5, "whole number"),
        ("module", "required_features", ["warp-drive"], "Input should be"),
        ("instances", "lifetime", "forever", "Input should be"),
        ("instances", "requests_per_instance", 0, "at least 1"),
        ("instances", "instances_per_module_load", 10**13, "at most"),
        ("instances", "request_rate_per_s", 0, "more than 0"),
        ("instances", "request_rate_per_s", "fast", "a number per second"),
        ("instances", "concurrent_instances", 10**7, "at most"),
        ("instances", "precompiled", "perhaps", "boolean"),
        ("work", "compute_instructions_per_request", -5, "at least 0"),
        ("work", "compute_kind", "quantum", "Input should be"),
        ("work", "host_calls_per_request", 1e12, "at most 1e+08"),
        ("work", "bytes_per_host_call", "2 GiB", "at most 1.0 GiB"),
        ("memory", "linear_memory_bytes", "64 furlongs", "unknown unit"),
        ("memory", "touched_bytes_per_request", True, "boolean"),
        ("memory", "access_pattern", "zigzag", "Input should be"),
        ("target", "arch", "z80", "Input should be"),
        ("target", "cores", 0, "at least 1"),
        ("target", "memory_bytes", 1000, "at least"),
        ("target", "device_class", "mainframe", "Input should be"),
        ("priorities", "latency", -1, "at least 0"),
        ("priorities", "maturity", 1000, "at most 100"),
        ("limits", "max_latency_ms", "20 s", "a number of milliseconds"),
        ("limits", "max_cold_start_ms", 0, "more than 0"),
        ("limits", "max_memory_per_instance_bytes", "lots", "byte count"),
    ],
)
def test_each_field_rejects_bad_values_naming_the_field(
    group: str, field: str, value: Any, fragment: str
) -> None:
    found = problems(minimal(**{group: {field: value}}))
    named = [k for k in found if k.startswith(f"{group}.{field}")]
    assert named, found
    assert fragment in found[named[0]]


def test_byte_fields_accept_units() -> None:
    w = Workload.from_dict(minimal(memory={"linear_memory_bytes": "1.5 MiB"}))
    assert w.memory.linear_memory_bytes == 1_572_864
    assert w.to_dict()["memory"]["linear_memory_bytes"] == "1.5 MiB"  # as written
    assert w.replace(linear_memory_bytes=1_572_864).to_dict()["memory"][
        "linear_memory_bytes"] == "1536 KiB"  # a number: its shortest exact form
    w = w.replace(linear_memory_bytes=1_000_001)
    assert w.to_dict()["memory"]["linear_memory_bytes"] == 1_000_001  # no exact unit
    w = w.replace(linear_memory_bytes="64 MiB")
    assert w.to_dict()["memory"]["linear_memory_bytes"] == "64 MiB"


def test_unknown_fields_are_named_with_a_suggestion() -> None:
    found = problems({**minimal(), "wrok": {}, "instances": {"lifetime": "per-request",
                                                            "request_rate_per_sec": 5}})
    assert found["wrok"].startswith("unknown field; did you mean 'work'")
    assert "did you mean 'request_rate_per_s'" in found["instances.request_rate_per_sec"]


def test_missing_required_fields_are_named() -> None:
    found = problems({"module": {"module_bytes": 10}})
    assert found == {"instances": "is required", "work": "is required"}


def test_all_problems_are_reported_at_once() -> None:
    found = problems(minimal(work={"host_calls_per_request": -1}, target={"cores": 0}))
    assert set(found) == {"work.host_calls_per_request", "target.cores"}


@pytest.mark.parametrize(
    ("groups", "field", "fragment"),
    [
        ({"instances": {"requests_per_instance": 1_000_000}}, "instances.requests_per_instance",
         "per-request instance serves exactly 1"),
        ({"instances": {"lifetime": "pooled", "requests_per_instance": 1}},
         "instances.requests_per_instance", "pooled instance serves 2 or more"),
        ({"memory": {"linear_memory_bytes": "8 GiB"}}, "memory.linear_memory_bytes",
         "32-bit memory"),
        ({"memory": {"linear_memory_bytes": "64 MiB"},
          "limits": {"max_memory_per_instance_bytes": "32 MiB"}},
         "limits.max_memory_per_instance_bytes", "less than the linear memory"),
        ({"instances": {"concurrent_instances": 1000}, "target": {"memory_bytes": "1 GiB"}},
         "instances.concurrent_instances", "more than target.memory_bytes"),
        ({"module": {"module_bytes": 10, "code_bytes": 20}}, "module.code_bytes",
         "more than the whole module"),
        ({"module": {"module_bytes": None}}, "module.module_bytes", "give module_bytes or a path"),
        ({"priorities": {"latency": 0, "throughput": 0, "memory": 0, "cold_start": 0,
                         "maturity": 0}}, "priorities", "at least one weight"),
    ],
)
def test_contradictions_are_rejected(groups: dict[str, Any], field: str, fragment: str) -> None:
    found = problems(minimal(**groups))
    assert fragment in found[field], found


def test_memory64_allows_large_memory() -> None:
    w = Workload.from_dict(
        minimal(module={"required_features": ["memory64"]},
                memory={"linear_memory_bytes": "8 GiB"})
    )
    assert w.memory.linear_memory_bytes == 8 * 2**30


@pytest.mark.parametrize("name", preset_names())
def test_each_preset_is_valid_and_distinct(name: str) -> None:
    w = Workload.preset(name)
    assert w.name == name
    assert w.description


def test_the_four_presets_cover_the_debate() -> None:
    assert set(preset_names()) >= {
        "request-response", "plugin-host", "compute-long-running", "edge-iot"
    }
    lifetimes = {Workload.preset(n).instances.lifetime for n in preset_names()}
    assert {InstanceLifetime.PER_REQUEST, InstanceLifetime.PLUGIN,
            InstanceLifetime.LONG_RUNNING} <= lifetimes
    assert Workload.preset("edge-iot").target.device_class == "embedded"


def test_presets_override_field_by_field_and_by_group() -> None:
    w = Workload.preset("request-response", host_calls_per_request=99, target={"cores": 2})
    base = Workload.preset("request-response")
    assert w.work.host_calls_per_request == 99
    assert w.target.cores == 2
    assert w.target.memory_bytes == base.target.memory_bytes  # the rest of the group kept
    assert w.work.compute_kind == base.work.compute_kind


def test_overrides_are_validated() -> None:
    with pytest.raises(WorkloadError, match="requests_per_instance"):
        Workload.preset("request-response", requests_per_instance=1_000_000)
    with pytest.raises(WorkloadError, match="did you mean 'host_calls_per_request'"):
        Workload.preset("request-response", host_call_per_request=3)


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(WorkloadError, match="request-response"):
        Workload.preset("nope")


def test_workloads_are_immutable_and_replace_returns_a_new_one() -> None:
    w = Workload.preset("plugin-host")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        w.name = "x"  # type: ignore[misc]
    w2 = w.replace(request_rate_per_s=1)
    assert w.instances.request_rate_per_s == 100 and w2.instances.request_rate_per_s == 1


def test_every_field_in_the_schema_has_a_description() -> None:
    schema = Workload.model_json_schema()
    missing = []
    for name, prop in schema["properties"].items():
        # a group's description is its model's, kept once in $defs
        target = schema["$defs"][prop["$ref"].split("/")[-1]] if "$ref" in prop else prop
        if "description" not in target:
            missing.append(name)
    for model_name, model in schema["$defs"].items():
        for name, prop in model.get("properties", {}).items():
            if "description" not in prop:
                missing.append(f"{model_name}.{name}")
    assert missing == []


def test_byte_fields_in_the_schema_accept_strings() -> None:
    schema = Workload.model_json_schema()
    linear = schema["$defs"]["MemoryUse"]["properties"]["linear_memory_bytes"]
    assert {"type": "string"} in linear["anyOf"]
