"""The HTML report: every section, self-contained, escaped, written atomically, in a browser."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from wasm_advisor import Advisor, AdvisorError, Workload
from wasm_advisor.cli import main
from wasm_advisor.present._report import render_report, write_report

from .helpers.synthetic import synthetic_profile

MODES = {"wasmtime:cranelift": {}, "wasmtime:pulley": {"int_ns_per_iter": 80.0},
         "wamr:fast-interp": {"int_ns_per_iter": 40.0, "ttfi_ns": 6e6}}
SECTIONS = ("decision", "workload", "ranking", "explanation", "charts", "claims", "provenance")
HOSTILE = '<script>alert(1)</script> & "quoted" <img src=x onerror=alert(2)>'


@pytest.fixture
def advisor(tmp_path: Path) -> Advisor:
    return Advisor(str(synthetic_profile(MODES).save(tmp_path / "profile.json")))


@pytest.fixture
def page(advisor: Advisor) -> str:
    return render_report(advisor.recommend(Workload.preset("request-response")),
                         advisor.profiles)


def test_report_has_every_section(page: str, advisor: Advisor) -> None:
    for section in SECTIONS:
        assert f'<section id="{section}">' in page, section
    recommendation = advisor.recommend(Workload.preset("request-response"))
    assert f"Recommended: {recommendation.winner}" in page
    assert html.escape(recommendation.headline) in page  # how sure: the win share or the tie
    assert "<th>wins</th>" in page
    for chart in ("breakdown", "crossovers", "memory", "features"):
        assert f'<figure id="chart-{chart}"><img alt=' in page
    assert page.count('<span class="badge') >= 7  # a verdict per claim, at least
    profile = advisor.profile
    for fact in (profile.content_checksum(), profile.machine.cpu_model, profile.machine.id,
                 "measured here", f"{profile.created:%Y-%m-%d %H:%M} UTC", "wasmtime-py"):
        assert fact in page, fact
    assert "test" in re.findall(r"<td>([^<]*)</td>", page)  # the runtimes' version column


def test_report_writes_numbers_as_people_do(page: str) -> None:
    values = dict(re.findall(r"<td><code>([a-z_]+)</code></td><td[^>]*>([^<]*)</td>", page))
    assert values["compute_instructions_per_request"] == "2,000,000"
    assert values["precompiled"] == "no"
    text = re.sub(r'src="data:[^"]*"', "", page)  # the words, not the charts' bytes
    assert not re.search(r"\d\.0</td>|\de\+\d", text)  # no "400.0", no "1.5e+06"


def test_report_is_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def test_report_escapes_what_users_wrote(advisor: Advisor) -> None:
    workload = Workload.preset("plugin-host").replace(name=HOSTILE, description=HOSTILE)
    page = render_report(advisor.recommend(workload), advisor.profiles, charts=())
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;" in page


def test_report_says_measured_elsewhere(tmp_path: Path) -> None:
    elsewhere = synthetic_profile(MODES, machine_id="f" * 16)
    advisor = Advisor(elsewhere)
    page = render_report(advisor.recommend(Workload.preset("edge-iot")), advisor.profiles,
                         charts=())
    assert "measured elsewhere</span> (host elsewhere)" in page


def test_write_report_is_atomic_and_names_an_unwritable_path(advisor: Advisor,
                                                             tmp_path: Path) -> None:
    recommendation = advisor.recommend(Workload.preset("request-response"))
    target = tmp_path / "r.html"
    target.write_text("old")
    write_report(recommendation, advisor.profiles, target, charts=())
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.html")] == []
    with pytest.raises(AdvisorError, match=r"no/r\.html: cannot write the report"):
        write_report(recommendation, advisor.profiles, tmp_path / "no" / "r.html", charts=())


def test_cli_report(advisor: Advisor, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "review.html"
    profile = str(tmp_path / "profile.json")
    status = main(["report", "plugin-host", "-o", str(out), "--profile", profile,
                   "--charts", "features", "--no-claims"])
    assert status == 0
    assert capsys.readouterr().out.startswith(f"report written: {out} (recommended: ")
    page = out.read_text()
    assert '<figure id="chart-features">' in page and 'id="chart-memory"' not in page
    assert "Reproduce: <code>wasm-advisor report plugin-host -o" in page
    status = main(["report", "plugin-host", "-o", str(tmp_path / "missing" / "r.html"),
                   "--profile", profile, "--charts", ""])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot write the report" in err
    status = main(["report", "plugin-host", "-o", str(out), "--charts", "pie"])
    assert status == 2 and "unknown chart 'pie'" in capsys.readouterr().err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which(
    "google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (apt-get install chromium): "
                    "the report is checked in a real browser only where one is installed")
def test_report_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    report = tmp_path / "report.html"
    report.write_text(page)
    shot = tmp_path / "report.png"
    flags = [CHROMIUM, "--headless", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    dom = subprocess.run([*flags, "--dump-dom", report.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in SECTIONS:
        assert f'id="{section}"' in dom.stdout
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,3000",
                    report.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
