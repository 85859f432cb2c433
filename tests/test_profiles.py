"""Profiles: round trip, atomic saves, and refusing corrupt, tampered or foreign files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wasm_advisor import Profile, ProfileError, ProfileStore
from wasm_advisor.profiles._machine import this_machine
from wasm_advisor.profiles._profile import FORMAT_VERSION, FeatureResult, Figure, RuntimeRecord


def make(created: datetime | None = None, value: float = 1.5, machine_id: str | None = None
         ) -> Profile:
    machine = this_machine()
    if machine_id is not None:
        machine = machine.model_copy(update={"id": machine_id, "hostname": "elsewhere"})
    return Profile(
        created=created or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        kind="quick", machine=machine, duration_s=1.0,
        runtimes=[RuntimeRecord(name="wasmtime", available=True, version="50.0.1")],
        figures=[Figure(runtime="wasmtime", mode="cranelift", binding="wasmtime-py",
                        metric="int_ns_per_iter", kernel="int", unit="ns/iteration",
                        value=value, spread=0.02, runs=9, params={"instructions_per_iter": 18})],
        features=[FeatureResult(runtime="wasmtime", mode="cranelift", feature="simd",
                                status="supported")],
    )


def test_round_trip(tmp_path: Path) -> None:
    profile = make()
    path = profile.save(tmp_path / "p.json")
    again = Profile.load(path)
    assert again == profile
    assert again.measured_here
    assert again.figure("wasmtime", "cranelift", "int_ns_per_iter") is not None
    assert again.feature_status("wasmtime", "cranelift", "simd") == "supported"
    frame = again.to_frame()
    assert list(frame["metric"]) == ["int_ns_per_iter"]
    assert frame.loc[0, "value"] == 1.5


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = make().save(tmp_path / "p.json")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ProfileError, match="truncated or not a profile"):
        Profile.load(path)


def test_tampered_figures_are_refused(tmp_path: Path) -> None:
    path = make().save(tmp_path / "p.json")
    document = json.loads(path.read_text())
    document["figures"][0]["value"] = 0.001  # a hand edit to win the ranking
    path.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match="do not match its checksum"):
        Profile.load(path)


@pytest.mark.parametrize(("version", "message"), [
    (FORMAT_VERSION + 1, "newer than this wasm-advisor reads"),
    (0, "too old"),
    ("one", "no format_version"),
])
def test_format_versions(tmp_path: Path, version: object, message: str) -> None:
    path = make().save(tmp_path / "p.json")
    document = json.loads(path.read_text())
    document["format_version"] = version
    path.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match=message):
        Profile.load(path)


def test_not_a_profile(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1, 2]")
    with pytest.raises(ProfileError, match="not a profile"):
        Profile.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_text(f'{{"format_version": {FORMAT_VERSION}, "checksum": "x"}}')
    with pytest.raises(ProfileError, match="not a valid profile"):
        Profile.load(tmp_path / "b.json")
    with pytest.raises(ProfileError, match="no such profile"):
        Profile.load(tmp_path / "none.json")


def test_store_finds_the_latest_good_profile_and_skips_bad_ones(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    old = make(datetime(2026, 1, 1, tzinfo=UTC))
    new = make(datetime(2026, 1, 2, tzinfo=UTC), value=2.0)
    store.save(old)
    newest_path = store.save(new)
    assert store.latest() == new
    newest_path.write_text(newest_path.read_text()[:100])  # corrupted later
    assert store.latest() == old  # the previous good profile still loads
    statuses = [isinstance(entry, Profile) for _, entry in store.entries()]
    assert statuses == [True, False]


def test_store_separates_machines(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    elsewhere = make(machine_id="0123456789abcdef")
    store.save(elsewhere)
    assert not elsewhere.measured_here
    assert "measured elsewhere" in elsewhere.provenance
    assert store.latest(this_machine().id) is None
    assert store.latest() == elsewhere


def test_find_by_prefix_and_import_export(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "store")
    profile = make()
    store.save(profile)
    assert store.find(profile.id[:8]) == profile
    exported = profile.save(tmp_path / "shared.json")
    other = ProfileStore(tmp_path / "other")
    other.import_file(exported)
    assert other.latest() == profile
    with pytest.raises(ProfileError, match="no saved profile matches"):
        store.find("zzz")
    later = make(profile.created + timedelta(seconds=1))
    store.save(later)
    with pytest.raises(ProfileError, match="more than one"):
        store.find("2026")


def test_a_failed_save_keeps_the_previous_file(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    path = store.save(make())
    before = path.read_bytes()

    class Boom(Exception):
        pass

    bad = make()
    original = Profile.to_json

    def exploding(self: Profile) -> str:
        raise Boom

    Profile.to_json = exploding  # type: ignore[method-assign]
    try:
        with pytest.raises(Boom):
            store.save(bad)
    finally:
        Profile.to_json = original  # type: ignore[method-assign]
    assert path.read_bytes() == before
    assert [p.name for p in store.folder.iterdir()] == [path.name]


def test_unwritable_store_is_a_profile_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ProfileError, match="cannot create the profile folder"):
        ProfileStore(blocker).save(make())


def _newer_format(d: dict[str, object]) -> None:
    d["format_version"] = FORMAT_VERSION + 1


def _older_format(d: dict[str, object]) -> None:
    d["format_version"] = FORMAT_VERSION - 1


def _hand_edited(d: dict[str, object]) -> None:
    d["figures"][0]["value"] = 0.001  # type: ignore[index]


@pytest.mark.parametrize("spoil", [_newer_format, _older_format, _hand_edited])
def test_a_bad_newer_file_never_displaces_the_previous_good_profile(
        tmp_path: Path, spoil: object, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wasm_advisor import Advisor
    from wasm_advisor.cli import main

    from .helpers.synthetic import synthetic_profile

    store = ProfileStore(tmp_path)
    good = synthetic_profile({"wasmtime:cranelift": {}})
    good_path = store.save(good)
    later = good.model_copy(update={"created": good.created + timedelta(days=1)})
    document = json.loads(later.to_json())
    spoil(document)  # type: ignore[operator]
    bad_path = store.folder / f"profile-{later.id}.json"
    bad_path.write_text(json.dumps(document))
    assert store.latest() == good and Advisor(store=store).profile == good
    with pytest.raises(ProfileError):
        store.import_file(bad_path)  # importing it is refused, and adds nothing
    assert store.paths() == [good_path, bad_path]
    assert Profile.load(good_path) == good
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    main(["profiles"])  # the listing names the bad file and why, and goes on
    out = capsys.readouterr().out.replace("\n", " ")
    assert later.id in out and good.id in out


def test_a_newer_profile_from_another_machine_is_not_taken_for_this_ones(
        tmp_path: Path) -> None:
    from wasm_advisor import Advisor

    from .helpers.synthetic import synthetic_profile

    store = ProfileStore(tmp_path)
    here = synthetic_profile({"wasmtime:cranelift": {}})
    store.save(here)
    foreign = synthetic_profile({"wasmtime:cranelift": {}}, machine_id="0123456789abcdef")
    store.save(foreign.model_copy(update={"created": here.created + timedelta(days=1)}))
    advisor = Advisor(store=store)
    assert advisor.profile == here and "measured here" in advisor.profile.provenance


def test_hostile_profile_files_are_refused_cleanly(tmp_path: Path) -> None:
    from wasm_advisor.profiles._profile import MAX_PROFILE_BYTES

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ProfileError, match="nested too deeply"):
        Profile.load(deep)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(MAX_PROFILE_BYTES + 1)  # sparse: no disk used, and never read
    with pytest.raises(ProfileError, match="larger than 64 MiB"):
        Profile.load(huge)
    with pytest.raises(ProfileError, match="cannot read the profile"):
        Profile.load(tmp_path)  # a directory


@pytest.mark.parametrize("damage", [
    "{not json", "[1]", '{"a": 1}', '{"checksum": "x", "fits": []}', "[" * 50_000, "edit",
])
def test_a_damaged_fit_cache_is_never_used(tmp_path: Path, damage: str) -> None:
    from wasm_advisor import Advisor, Workload

    from .helpers.synthetic import synthetic_profile

    profile = synthetic_profile({"wasmtime:cranelift": {}, "wasmtime:pulley": {}})
    store = ProfileStore(tmp_path)
    workload = Workload.preset("request-response")
    expected = Advisor(profile, store=store).recommend(workload).to_json()
    (cache,) = (tmp_path / "fits").iterdir()
    if damage == "edit":  # a hand edit to the cached coefficients, checksum left as it was
        document = json.loads(cache.read_text())
        document["fits"][0]["coefficients"]["int_ns_per_iter"]["value"] = 1e-6
        cache.write_text(json.dumps(document))
    else:
        cache.write_text(damage)
    assert Advisor(profile, store=store).recommend(workload).to_json() == expected


def test_a_fit_cached_by_other_fitting_code_is_not_reused(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import wasm_advisor.advisor as advisor_module
    from wasm_advisor import Advisor

    from .helpers.synthetic import synthetic_profile

    profile = synthetic_profile({"wasmtime:cranelift": {}})
    store = ProfileStore(tmp_path)
    Advisor(profile, store=store)
    (cache,) = (tmp_path / "fits").iterdir()
    # the cached fit says something the fitting code does not: only that code reads it
    document = json.loads(cache.read_text())
    document["fits"][0]["coefficients"]["int_ns_per_iter"]["value"] = 1e-6
    document["checksum"] = advisor_module._fits_checksum(document["fits"])
    cache.write_text(json.dumps(document))

    def int_cost(a: Advisor) -> float:
        (m,) = [e.coefficients for e in a.evidence]
        return m.get("int_ns_per_iter").value

    assert int_cost(Advisor(profile, store=store)) == pytest.approx(1e-6)
    assert advisor_module._fit_fingerprint() in cache.name  # read from the fitting sources
    assert advisor_module._fit_fingerprint() != "0"
    monkeypatch.setattr(advisor_module, "_fit_fingerprint", lambda: "changed-code")
    assert int_cost(Advisor(profile, store=store)) == pytest.approx(10.0)
    assert len(list((tmp_path / "fits").iterdir())) == 2
