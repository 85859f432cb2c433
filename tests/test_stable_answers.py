"""Stable answers: the same profile and workload give the same recommendation, always.

Repeated, from a fresh fit or the fit cache, with the profile's lists in any
order, under any hash seed, and from 8 threads at once (10,000 calls).
"""

from __future__ import annotations

import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from wasm_advisor import Advisor, Profile, ProfileStore, Recommendation, Workload, preset_names
from wasm_advisor.model.estimator import CostModel, fit_profile

from .conftest import REPO
from .helpers.synthetic import synthetic_profile
from .test_recommend import MODES


def answer(r: Recommendation) -> tuple[Any, ...]:
    """What a recommendation says: winner, every candidate's score and exclusions, why."""
    return (r.winner, r.decision.sentence if r.decision else None,
            tuple((c.key, c.score, tuple(c.excluded), tuple(c.warnings)) for c in r.candidates))


@pytest.fixture(scope="module")
def profile() -> Profile:
    return synthetic_profile(MODES)


def test_the_same_recommendation_every_time(profile: Profile, tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    fresh = Advisor(profile, store=store)  # fits, and writes the fit cache
    cached = Advisor(profile, store=store)  # reads the fit cache
    assert fresh.evidence == cached.evidence
    for name in preset_names():
        w = Workload.preset(name)
        first = fresh.recommend(w).to_json()
        assert all(fresh.recommend(w).to_json() == first for _ in range(5))
        assert cached.recommend(w).to_json() == first


def test_fitting_is_deterministic(profile: Profile) -> None:
    assert CostModel().get_params() == {}  # nothing random to seed
    assert fit_profile(profile) == fit_profile(profile)


def shuffled(profile: Profile, seed: int) -> Profile:
    rng = random.Random(seed)
    figures = [f.model_copy(update={"samples": rng.sample(f.samples, len(f.samples))})
               for f in profile.figures]
    rng.shuffle(figures)
    features = rng.sample(profile.features, len(profile.features))
    runtimes = rng.sample(profile.runtimes, len(profile.runtimes))
    return profile.model_copy(update={"figures": figures, "features": features,
                                      "runtimes": runtimes})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_of_the_profile_does_not_matter(profile: Profile, tmp_path: Path,
                                                  seed: int) -> None:
    ordered = Advisor(profile, store=ProfileStore(tmp_path / "a"))
    other = Advisor(shuffled(profile, seed), store=ProfileStore(tmp_path / "b"))
    for name in preset_names():
        a, b = ordered.recommend(Workload.preset(name)), other.recommend(Workload.preset(name))
        assert [c.key for c in a.candidates] == [c.key for c in b.candidates]
        assert a.winner == b.winner
        for x, y in zip(a.candidates, b.candidates, strict=True):
            assert x.score == pytest.approx(y.score, rel=1e-9, abs=1e-9)
            assert x.excluded == y.excluded


ANSWERS = """
import sys
from wasm_advisor import Advisor, ProfileStore, Workload, preset_names
advisor = Advisor(sys.argv[1], store=ProfileStore(sys.argv[2]))
for name in preset_names():
    print(advisor.recommend(Workload.preset(name)).to_json())
"""


def test_the_hash_seed_does_not_matter(profile: Profile, tmp_path: Path) -> None:
    path = profile.save(tmp_path / "profile.json")
    outputs = []
    for seed in ("0", "4242"):
        done = subprocess.run([sys.executable, "-c", ANSWERS, str(path), str(tmp_path / seed)],
                              capture_output=True, text=True, cwd=REPO, timeout=120,
                              env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin",
                                   "WASM_ADVISOR_CACHE": str(tmp_path / seed)})
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count('"workload": {') == len(preset_names())


# ----- load -----------------------------------------------------------------------------

THREADS, CALLS = 8, 10_000


def test_recommend_from_8_threads_10000_times_gives_identical_results(
        profile: Profile, tmp_path: Path) -> None:
    advisor = Advisor(profile, store=ProfileStore(tmp_path))
    workloads = [Workload.preset(name) for name in preset_names()]
    expected = [answer(advisor.recommend(w)) for w in workloads]

    def batch(thread: int) -> int:
        wrong = 0
        for i in range(thread, CALLS, THREADS):
            k = i % len(workloads)
            wrong += answer(advisor.recommend(workloads[k])) != expected[k]
        return wrong

    with ThreadPoolExecutor(THREADS) as pool:
        assert list(pool.map(batch, range(THREADS))) == [0] * THREADS


def test_advisors_built_in_8_threads_at_once_share_the_fit_cache_safely(
        profile: Profile, tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    workload = Workload.preset("plugin-host")
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda _: answer(Advisor(profile, store=store)
                                                 .recommend(workload)), range(THREADS)))
    assert all(a == answers[0] for a in answers)
    fits = list((tmp_path / "fits").iterdir())
    assert len(fits) == 1 and fits[0].suffix == ".json"  # no temporary left behind
