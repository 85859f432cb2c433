"""An unsteady profile: kept with its verdict, passed over for a steady one, said first.
Profiles of format 2 still load, as "not checked"; the machine fingerprint tells this
machine from one of the same type."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from wasm_advisor import Advisor, ProfileStore, Workload
from wasm_advisor.cli import main
from wasm_advisor.errors import ProfileError
from wasm_advisor.files._data import reference_profile_paths
from wasm_advisor.profiles._machine import legacy_id, relation, this_machine
from wasm_advisor.profiles._profile import Profile, Steadiness, SteadinessFigure

from .helpers.synthetic import synthetic_profile

MODES = {"wasmtime:cranelift": {}, "wasmtime:pulley": {}}
UNSTEADY = Steadiness(
    steady=False, reasons=["2.0 other runnable processes per core while it measured"],
    moved=[SteadinessFigure(what="run queue", value=2.0, limit=0.5)],
    run_queue_per_core=2.0, steal_fraction=0.0, pace_drift=0.3,
    remeasured=["wasmtime:cranelift"], system_samples=40)
STEADY = Steadiness(steady=True, run_queue_per_core=0.0, steal_fraction=0.0,
                    pace_drift=0.02, system_samples=40)


def _profile(steadiness: Steadiness | None, days: int = 0) -> Profile:
    p = synthetic_profile(MODES)
    return p.model_copy(update={"steadiness": steadiness,
                                "created": p.created + timedelta(days=days)})


def test_the_verdict_survives_the_round_trip(tmp_path: Path) -> None:
    for steadiness in (UNSTEADY, STEADY, None):
        profile = _profile(steadiness)
        again = Profile.load(profile.save(tmp_path / "p.json"))
        assert again == profile and again.steadiness == steadiness
    unsteady = Profile.load(_profile(UNSTEADY).save(tmp_path / "u.json"))
    assert unsteady.steady is False and unsteady.verdict.startswith("unsteady: 2.0 other")
    assert "UNSTEADY" in unsteady.provenance
    assert Profile.load(_profile(STEADY).save(tmp_path / "s.json")).verdict == "steady"


def _as_format_2(profile: Profile) -> dict[str, Any]:
    """``profile`` as wasm-advisor wrote it before format 3: no steadiness, no type or
    host id in the machine, its checksum over those fields."""
    old = profile.model_copy(update={"format_version": 2, "steadiness": None,
                                     "machine": profile.machine.model_copy(update={
                                         "type_id": None, "host_id": None, "cpu_mhz": None,
                                         "cpu_flags_digest": None})})
    document: dict[str, Any] = json.loads(old.to_json())
    assert "steadiness" not in document and "type_id" not in document["machine"]
    return document


def test_a_format_2_profile_loads_as_not_checked(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_as_format_2(_profile(None))))
    old = Profile.load(path)
    assert old.format_version == 2 and old.steadiness is None and old.steady is None
    assert old.verdict == "steadiness not checked" and old.unsteady_notice is None
    # saved again, it stays a format-2 file that loads
    assert Profile.load(old.save(tmp_path / "again.json")) == old
    # the shipped reference profile, remade with format 3, says whether it was steady
    for reference in reference_profile_paths():
        assert Profile.load(reference).steady is not None


def test_a_format_2_file_with_a_format_3_field_is_refused(tmp_path: Path) -> None:
    document = _as_format_2(_profile(None))
    document["steadiness"] = UNSTEADY.model_dump(mode="json")
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match="steadiness: a format 2 profile has no such field"):
        Profile.load(path)


def test_a_format_3_profile_loads_and_one_with_a_format_4_field_is_refused(
        tmp_path: Path) -> None:
    # the shipped reference profile is a format-3 file: it loads, checksum and all
    (reference,) = reference_profile_paths()
    old = Profile.load(reference)
    assert old.format_version == 3 and old.steadiness is not None
    assert old.steadiness.slow_tasks == 0 and old.steadiness.slowest_phase is None
    document = json.loads(reference.read_text())
    document["steadiness"]["slow_tasks"] = 3
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ProfileError,
                       match=r"steadiness\.slow_tasks: a format 3 profile has no such field"):
        Profile.load(path)


def test_a_format_4_profile_loads_and_one_with_a_format_5_field_is_refused(
        tmp_path: Path) -> None:
    four = _profile(STEADY.model_copy(update={"slow_tasks": 2, "slowest_phase": 1.6}))
    four = four.model_copy(update={"format_version": 4})
    path = tmp_path / "four.json"
    path.write_text(four.to_json())
    document = json.loads(path.read_text())
    assert "rechecked" not in document["steadiness"]
    loaded = Profile.load(path)  # its checksum covers the fields format 4 had
    assert loaded.format_version == 4 and loaded.steadiness is not None
    assert loaded.steadiness.slow_tasks == 2 and loaded.steadiness.probe_agreement is None
    document["steadiness"]["probe_agreement"] = 1.1
    path.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match=r"steadiness\.probe_agreement: a format 4 "
                       "profile has no such field"):
        Profile.load(path)


def test_the_fingerprint_tells_this_machine_from_one_of_its_type() -> None:
    here = this_machine()
    assert relation(here) == "here"
    sibling = here.model_copy(update={"id": "0" * 16, "host_id": "1" * 16, "hostname": "vm2"})
    assert relation(sibling) == "same type"
    other = sibling.model_copy(update={"type_id": "2" * 16, "cpu_model": "Other CPU"})
    assert relation(other) == "elsewhere"
    # a format-2 fingerprint: its old digest, host name and kernel must all be this one's
    old = here.model_copy(update={"id": legacy_id(), "type_id": None, "host_id": None})
    assert relation(old) == "here"
    cloned_vm = old.model_copy(update={"os": "Linux 0.0.0-another-kernel"})
    assert relation(cloned_vm) == "same type"
    profile = synthetic_profile(MODES).model_copy(update={"machine": cloned_vm})
    assert not profile.measured_here
    assert "measured elsewhere (a machine of the same type" in profile.provenance


def test_a_mode_whose_runtime_is_not_installed_is_labelled_so(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import wasm_advisor.advisor as advisor_module

    monkeypatch.setattr(advisor_module, "installed_here", lambda runtime: runtime != "wamr")
    profile = synthetic_profile({"wasmtime:cranelift": {}, "wamr:aot": {}})  # "here"
    advisor = Advisor(profile, store=ProfileStore(tmp_path))
    by_key = {e.coefficients.key: e for e in advisor.evidence}
    assert by_key["wasmtime:cranelift"].measured_here
    assert not by_key["wamr:aot"].measured_here
    assert by_key["wamr:aot"].provenance.endswith("wamr is not installed here")
    # verify runs it all the same where WAMR's binaries are given by hand, as this
    # machine's own profile measured them
    from wasm_advisor.verification._report import VerifyReport
    from wasm_advisor.verification._verify import _modes_to_run

    def keys(given: frozenset[str]) -> list[str]:
        report = VerifyReport(workload=Workload.preset("request-response"), instructions=None,
                              modes=[], provenance=[])
        return [e.coefficients.key for e in _modes_to_run(report, advisor.evidence, None, {},
                                                          given)]

    assert keys(frozenset()) == ["wasmtime:cranelift"]
    assert keys(frozenset({"wamr"})) == ["wasmtime:cranelift", "wamr:aot"]


def test_advisor_prefers_the_newest_steady_profile_and_says_why(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    older_steady = _profile(STEADY)
    newer_unsteady = _profile(UNSTEADY, days=1)
    for p in (older_steady, newer_unsteady):
        store.save(p)
    advisor = Advisor(store=store)
    assert advisor.profile == older_steady
    assert advisor.notice is not None
    assert older_steady.id in advisor.notice and newer_unsteady.id in advisor.notice
    assert "newest steady profile" in advisor.notice and "unsteady" in advisor.notice
    rec = advisor.recommend(Workload.preset("request-response"))
    assert rec.notice == advisor.notice and rec.explain().splitlines()[0] == advisor.notice
    assert rec.to_dict()["notice"] == advisor.notice
    # a profile not checked (format 2) is not passed over
    store.save(_profile(None, days=2))
    assert Advisor(store=store).profile.steady is None


def test_advisor_uses_an_unsteady_profile_when_it_is_the_only_one_and_says_so(
        tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    only = _profile(UNSTEADY)
    store.save(only)
    advisor = Advisor(store=store)
    assert advisor.profile == only
    assert advisor.notice is not None and advisor.notice.startswith(f"UNSTEADY PROFILE {only.id}")
    # a steady newest profile: nothing to say
    store.save(_profile(STEADY, days=1))
    assert Advisor(store=store).notice is None


@pytest.mark.parametrize("command", [
    ["recommend", "request-response", "--no-crossovers"],
    ["check", "request-response", "--runtime", "wasmtime:cranelift"],
    ["claims"],
    ["compare", "request-response", "plugin-host"],
    ["report", "request-response", "--charts", "", "--no-claims", "-o", "{tmp}/r.html"],
])
def test_every_answer_says_first_that_its_profile_is_unsteady(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    ProfileStore(tmp_path).save(_profile(UNSTEADY))
    assert main([c.replace("{tmp}", str(tmp_path)) for c in command]) in (0, 1)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("UNSTEADY PROFILE"), first
    # and says nothing of the kind for a steady one
    ProfileStore(tmp_path).save(_profile(STEADY, days=1))
    assert main([c.replace("{tmp}", str(tmp_path)) for c in command]) in (0, 1)
    assert "UNSTEADY" not in capsys.readouterr().out.splitlines()[0]


def test_verify_says_first_that_its_profile_is_unsteady(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import wasmtime

    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    ProfileStore(tmp_path).save(_profile(UNSTEADY))
    module = tmp_path / "m.wasm"
    module.write_bytes(wasmtime.wat2wasm('(module (memory (export "memory") 1) '
                                         '(func (export "_start")))'))
    # the runs themselves are tested elsewhere (test_inspect_verify.py)
    from wasm_advisor.verification._report import VerifyReport

    monkeypatch.setattr(Advisor, "verify", lambda self, workload, **options: VerifyReport(
        workload, None, [], ["the profile the runs were judged against"]))
    assert main(["verify", str(module)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("UNSTEADY PROFILE")
    assert any("the profile the runs were judged against" in line for line in lines[1:])


def test_profiles_list_and_show_give_the_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    profile = _profile(UNSTEADY)
    ProfileStore(tmp_path).save(profile)
    assert main(["profiles"]) == 0
    assert "UNSTEADY" in capsys.readouterr().out
    assert main(["profiles", "show", profile.id]) == 0
    out = capsys.readouterr().out
    assert "steadiness: unsteady" in out and "run queue 2 (limit 0.5)" in out


def test_the_notebook_says_first_that_its_profile_is_unsteady() -> None:
    notebook = json.loads((Path(__file__).parent.parent / "docs" / "notebooks"
                           / "architecture-review.ipynb").read_text())
    measuring = next("".join(c["source"]) for c in notebook["cells"]
                     if "advisor.profile.provenance" in "".join(c["source"]))
    # the measurement cell's first output line is the advisor's notice, when it has one
    assert 0 <= measuring.index("print(advisor.notice)") < measuring.index(
        "advisor.profile.provenance")


def test_installed_here_finds_the_packages_the_adapters_import(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    from wasm_advisor.runtimes.installed import installed_here

    for runtime, package in (("wasmtime", "wasmtime"), ("wasmer", "wasmer_sdk")):
        assert installed_here(runtime) == (importlib.util.find_spec(package) is not None)
    monkeypatch.delenv("WASM_ADVISOR_LIBIWASM", raising=False)
    fake = tmp_path / "iwasm"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("WASM_ADVISOR_IWASM", str(fake))
    assert installed_here("wamr")
    monkeypatch.setenv("WASM_ADVISOR_IWASM", str(tmp_path / "missing"))
    assert not installed_here("wamr")
    # WAMR embedded in-process: a libiwasm.so named is WAMR installed, without any iwasm
    library = tmp_path / "libiwasm.so"
    library.write_bytes(b"")
    monkeypatch.setenv("WASM_ADVISOR_LIBIWASM", str(tmp_path / "none.so"))
    assert not installed_here("wamr")
    monkeypatch.setenv("WASM_ADVISOR_LIBIWASM", str(library))
    assert installed_here("wamr")


def test_recommend_json_gives_the_notice_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WASM_ADVISOR_CACHE", str(tmp_path))
    ProfileStore(tmp_path).save(_profile(UNSTEADY))
    assert main(["recommend", "request-response", "--json", "--no-crossovers"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert next(iter(data)) == "notice" and data["notice"].startswith("UNSTEADY PROFILE")
