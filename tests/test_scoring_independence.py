"""Scores whose order does not depend on the other candidates, and answers that say how sure
they are: the geometric scoring, the resampled confidence and the tied set."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasm_advisor import Workload
from wasm_advisor.advisor import constraints_for
from wasm_advisor.model._coefficients import Coefficient, ModeCoefficients
from wasm_advisor.model._confidence import CLEAR_WIN, MATERIAL, resample
from wasm_advisor.model._costs import WorkloadFeatures
from wasm_advisor.model._scoring import ModeEvidence, rank

PRESETS = ("request-response", "plugin-host", "compute-long-running", "edge-iot")


def _mode(name: str, figures: tuple[float, ...], sigma: float = 0.05) -> ModeEvidence:
    """A synthetic mode (not in the traits table) with the figures the model needs."""
    compute, call, mem, compile_, start, binding, ttfi, rss = figures
    values = {"int_ns_per_iter": compute * 10, "float_ns_per_iter": compute * 10,
              "call_ns_per_iter": compute * 10, "typical_ns_per_iter": compute * 10,
              "hostcall_ns": call, "mem_seq_ns": mem, "mem_rand_ns": mem * 4,
              "compile_ns_per_code_byte": compile_, "instantiate_ns": start,
              "binding_ns": binding, "ttfi_ns": ttfi, "rss_per_extra_instance_bytes": rss,
              "rss_first_instance_bytes": rss * 4}
    coefficients = ModeCoefficients(
        runtime="synthetic", mode=name, binding="fake", label=name, precompiled_mode=False,
        jit=True, instructions_per_iter={"int": 10, "float": 10, "call": 10, "typical": 10},
        coefficients={k: Coefficient(v, rel_sigma=sigma, source="guest")
                      for k, v in values.items()})
    return ModeEvidence(coefficients, {}, {}, "synthetic profile", True)


figure_sets = st.tuples(
    st.floats(0.05, 50), st.floats(5, 5_000), st.floats(0.05, 20), st.floats(1, 20_000),
    st.floats(1e3, 1e7), st.floats(1e3, 1e7), st.floats(1e4, 1e9), st.floats(1e3, 1e8))


def _order(evidence: list[ModeEvidence], preset: str) -> list[str]:
    # no latency budget: every candidate is scored, none excluded
    w = Workload.preset(preset).replace(max_latency_ms=None)
    ranked = rank(evidence, WorkloadFeatures.from_workload(w), constraints_for(w))
    return [c.key for c in ranked if not c.excluded]


@settings(max_examples=150, deadline=None)
@given(st.lists(figure_sets, min_size=3, max_size=7), st.data())
def test_adding_or_removing_candidates_keeps_the_others_in_order(
        figures: list[tuple[float, ...]], data: st.DataObject) -> None:
    evidence = [_mode(f"m{i}", f) for i, f in enumerate(figures)]
    preset = data.draw(st.sampled_from(PRESETS))
    full = _order(evidence, preset)
    kept = data.draw(st.lists(st.sampled_from(evidence), unique_by=lambda e: e.coefficients.key,
                              min_size=1))
    kept_keys = {e.coefficients.key for e in kept}
    subset = _order([e for e in evidence if e.coefficients.key in kept_keys], preset)
    assert subset == [k for k in full if k in kept_keys]


def test_a_far_better_cold_start_elsewhere_does_not_reorder_two_modes() -> None:
    # the case: a third mode with a cold start of a few ms rescaled everyone's
    # cold-start term, and two modes swapped places
    a = _mode("a", (1.0, 60, 1, 700, 30e3, 40e3, 5e8, 2e5))
    b = _mode("b", (1.4, 60, 1, 150, 30e3, 40e3, 1e8, 2e5))
    fast_start = _mode("c", (3.0, 300, 3, 20, 2e6, 5e6, 5e6, 4e6))
    for preset in PRESETS:
        alone = _order([a, b], preset)
        assert [k for k in _order([a, b, fast_start], preset) if k != fast_start.coefficients.key] \
            == alone


def test_the_score_is_the_weighted_geometric_mean_it_prints() -> None:
    w = Workload.preset("request-response")
    k = constraints_for(w)
    ranked = rank([_mode("a", (1.0, 60, 1, 700, 30e3, 40e3, 5e8, 2e5)),
                   _mode("b", (1.4, 60, 1, 150, 30e3, 40e3, 1e8, 2e5))],
                  WorkloadFeatures.from_workload(w), k)
    for c in ranked:
        product = 100 * math.prod(c.normalised[o] ** k.weights[o] for o in k.weights)
        assert c.score == pytest.approx(product)
        assert c.score_arithmetic(k.weights).endswith(f"= {c.score:.1f}")
    ratio = ranked[1].score / ranked[0].score
    assert ratio == pytest.approx(math.exp(ranked[1].merit - ranked[0].merit))


def test_confidence_is_the_same_every_time_and_independent_of_listing_order() -> None:
    w = Workload.preset("plugin-host")
    features, k = WorkloadFeatures.from_workload(w), constraints_for(w)
    modes = [_mode(f"m{i}", (1.0 + i / 10, 60, 1, 700, 30e3, 40e3, 5e8, 2e5), sigma=0.2)
             for i in range(4)]
    first = resample(rank(modes, features, k), k.weights).confidence()
    again = resample(rank(list(reversed(modes)), features, k), k.weights).confidence()
    assert first is not None and first == again
    assert sum(first.win_share.values()) == pytest.approx(1.0)


def test_modes_apart_beyond_their_noise_are_a_clear_win_and_close_ones_a_tie() -> None:
    w = Workload.preset("request-response")
    features, k = WorkloadFeatures.from_workload(w), constraints_for(w)
    base = (1.0, 60, 1, 700, 30e3, 40e3, 5e8, 2e5)
    close = (1.0, 60, 1, 700 * 1.01, 30e3, 40e3, 5e8 * 1.01, 2e5)
    far = (3.0, 600, 3, 7000, 3e5, 4e5, 5e9, 2e6)
    tied = resample(rank([_mode("a", base), _mode("b", close)], features, k), k.weights)
    confidence = tied.confidence()
    assert confidence is not None and set(confidence.tied) == {"synthetic:a", "synthetic:b"}
    assert not confidence.clear
    clear = resample(rank([_mode("a", base), _mode("b", far)], features, k), k.weights)
    confidence = clear.confidence()
    assert confidence is not None and confidence.clear and confidence.tied == ("synthetic:a",)
    assert confidence.beaten["synthetic:b"] >= CLEAR_WIN
    assert confidence.win_share["synthetic:a"] == pytest.approx(1.0)
    # the threshold a documented one: the share of draws more than MATERIAL apart
    assert 0 < MATERIAL < 0.1 and 0.5 < CLEAR_WIN < 1


def test_wider_measurements_make_a_wider_tie() -> None:
    w = Workload.preset("request-response")
    features, k = WorkloadFeatures.from_workload(w), constraints_for(w)
    a, b = (1.0, 60, 1, 700, 30e3, 40e3, 5e8, 2e5), (1.0, 60, 1, 1400, 30e3, 40e3, 5e8, 2e5)
    narrow = resample(rank([_mode("a", a, 0.01), _mode("b", b, 0.01)], features, k), k.weights)
    wide = resample(rank([_mode("a", a, 0.6), _mode("b", b, 0.6)], features, k), k.weights)
    assert narrow.confidence().clear  # type: ignore[union-attr]
    assert not wide.confidence().clear  # type: ignore[union-attr]


def test_crossovers_sweep_only_values_the_workload_can_take() -> None:
    from wasm_advisor.model._explain import find_crossovers

    a = _mode("a", (1.0, 60, 1, 700, 30e3, 40e3, 5e8, 2e5))
    b = _mode("b", (1.4, 60, 1, 150, 30e3, 40e3, 1e8, 2e5))
    per_request = Workload.preset("request-response")
    features, k = WorkloadFeatures.from_workload(per_request), constraints_for(per_request)
    fields = {x.field: x for x in find_crossovers([a, b], features, k, "per-request")}
    assert "requests_per_instance" not in fields  # a per-request instance serves one
    assert "its code bytes and largest function grow in proportion" in \
        fields["module_bytes"].sentence()
    pooled = {x.field: x for x in find_crossovers([a, b], features, k, "pooled")}
    assert pooled["requests_per_instance"].low == 2  # a pooled instance serves two or more
    for x in pooled.values():
        for found in (x.below, x.above):
            assert found is None or x.low <= found[0] <= x.high
