"""One self-contained HTML page for a review: the answer, why, the charts, the claims, provenance.

:func:`render_report` builds the page from a :class:`~wasm_advisor.Recommendation`
and the profiles its figures came from (``advisor.profiles``): the decision,
the workload as declared, the ranking with exclusions, the score arithmetic and
crossovers, the charts (inlined as base64 PNG), the public claims checked
against the same figures, and where every figure came from (machine, runtime
versions, date, measured here or elsewhere, profile checksum).

The page has no external references at all (CSS inline, images inline, no
links out), so it can be mailed or attached to a review as one file. Every
piece of text that comes from the user or a file (workload names and
descriptions, paths, host names) is escaped. :func:`write_report` writes it
atomically.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AdvisorError
from ..files import PACKAGE_VERSION, write_atomically
from ..model import check_claims, human_ns
from ._charts import chart_figure, figure_bytes

if TYPE_CHECKING:
    from ..model import ClaimResult
    from ..profiles import Profile
    from ..recommendation import Recommendation

__all__ = ["REPORT_CHARTS", "render_report", "write_report"]

REPORT_CHARTS = ("breakdown", "crossovers", "memory", "features")
CAPTIONS = {
    "breakdown": "Where the time goes: named cost components per runtime/mode, for one request "
                 "with every cost shared out (left) and for a cold start (right).",
    "crossovers": "Where the answer would change: cost of the leading modes as request rate, "
                  "host calls and module size move; dashed lines mark where the ranking flips.",
    "memory": "Resident memory of the whole deployment (runtime footprint, modules' code, "
              "instances) for N concurrent instances, in total against the target's "
              "memory (left), and what the runtime itself adds per instance beyond its "
              "linear memory, its fixed cost shared out (right).",
    "features": "Which WebAssembly proposals each runtime/mode ran correctly in the "
                "calibration's probes.",
}
VERDICT_CLASS = {"supported": "yes", "not supported": "no", "not measurable here": "na"}

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d1d1f; margin: 0; background: #f5f6f8; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 2px solid #e3e5e8; padding-bottom: 4px; }
.sub { color: #5f6368; margin: 0 0 16px; }
.decision { background: #eef6ee; border-left: 5px solid #2ca02c; padding: 12px 16px;
            font-size: 16px; }
.decision.none { background: #fdf0ef; border-color: #d62728; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0; }
th, td { border-bottom: 1px solid #e3e5e8; padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.winner td { background: #f3faf3; font-weight: 600; }
tr.out td { color: #80868b; }
pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; font-size: 12.5px;
      white-space: pre-wrap; }
figure { margin: 16px 0 24px; }
figure img { max-width: 100%; border: 1px solid #e3e5e8; }
figcaption { color: #5f6368; font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px;
         white-space: nowrap; }
.badge.yes { background: #d9f0d9; color: #185c18; }
.badge.no { background: #f9dcdc; color: #8a1c1c; }
.badge.na { background: #e8eaed; color: #3c4043; }
.badge.here { background: #d9f0d9; color: #185c18; }
.badge.elsewhere { background: #fff1c2; color: #6b4e00; }
.groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
          gap: 4px 24px; }
.groups h3, section h3 { font-size: 15px; margin: 12px 0 2px; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 6px 0; }
dl.kv dt { color: #5f6368; }
dl.kv dd { margin: 0; }
.checksum { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px;
            word-break: break-all; }
.nowrap { white-space: nowrap; }
footer { color: #80868b; font-size: 12.5px; margin-top: 32px; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int] | None = None,
           row_classes: Sequence[str] | None = None) -> str:
    """A table; cells are already-escaped HTML."""
    numeric = numeric or set()
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        cls = row_classes[i] if row_classes and row_classes[i] else ""
        out.append(f'<tr class="{cls}">' if cls else "<tr>")
        out += [f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
                for j, c in enumerate(row)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in _flatten(f"{prefix}{k}.", v)]
    if isinstance(value, list):
        return [(prefix.rstrip("."), ", ".join(str(v) for v in value) or "none")]
    return [(prefix.rstrip("."), _plain(value))]


def _plain(value: object) -> str:
    """A field's value as people write it: 500,000 rather than 500000.0; yes/no for flags."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    if isinstance(value, int | float):
        return f"{value:,}"
    return str(value)


def _workload(rec: Recommendation) -> str:
    data = rec.workload.to_dict()
    description = data.pop("description", "") or ""
    data.pop("name", None)
    groups = []
    for group, fields in data.items():
        rows = [(f"<code>{_e(k)}</code>", _e(v)) for k, v in _flatten("", fields)] if \
            isinstance(fields, dict) else [("", _e(fields))]
        groups.append(f"<div><h3>{_e(group)}</h3>{_table(('field', 'value'), rows)}</div>")
    return ((f"<p>{_e(description)}</p>" if description else "")
            + f'<div class="groups">{"".join(groups)}</div>')


def _ranking(rec: Recommendation) -> str:
    rows, classes = [], []
    tied = set(rec.tied[1:])
    shares = rec.confidence.win_share if rec.confidence else {}
    for rank, c in enumerate(rec.candidates, start=1):
        p = c.prediction
        biggest = max(p.amortised(), key=lambda x: x.value)
        share = biggest.value / p.mean_cost_ns if p.mean_cost_ns else 0.0
        where = ('<span class="badge here">here</span>' if c.evidence.measured_here
                 else '<span class="badge elsewhere">elsewhere</span>')
        notes = "; ".join(c.excluded) if c.excluded else "; ".join(c.warnings)
        rows.append((
            _e("out" if c.excluded else "= (tied with 1)" if c.key in tied else rank),
            f"<b>{_e(c.key)}</b>",
            f'<span class="nowrap">{_e(c.evidence.coefficients.binding)}</span>',
            _e(f"{c.score:.0f}" if not c.excluded else "–"),
            _e(f"{shares.get(c.key, 0.0):.0%}" if not c.excluded else "–"),
            _e(human_ns(p.latency_ns)),
            _e(human_ns(p.mean_cost_ns)), _e(human_ns(p.ttfi_ns)),
            _e(f"{p.throughput_per_core:,.0f}"),
            _e(f"{p.memory_per_instance_bytes / 2**20:,.2f}"),
            _e(_mib(p.memory_total_bytes)),
            _e(f"{biggest.kind.short_name} {share:.0%}"), where, _e(notes)))
        classes.append("out" if c.excluded else ("winner" if rank == 1 else ""))
    table = _table(("#", "runtime:mode", "binding", "score", "wins", "latency",
                    "mean cost / request", "cold start", "req/s per core", "MiB / instance",
                    "MiB, whole deployment", "largest cost", "measured",
                    "exclusions and notes"), rows, {0, 3, 4, 5, 6, 7, 8, 9, 10}, classes)
    missing = "".join(f"<li><b>{_e(r)}</b> not ranked: {_e(why)}</li>"
                      for r, why in rec.unavailable.items())
    return table + (f"<ul>{missing}</ul>" if missing else "")


def _explanation(rec: Recommendation) -> str:
    weights = ", ".join(f"{k.replace('_', ' ')} {v:.2f}"
                        for k, v in rec.constraints.weights.items())
    lines = [f"{c.key}: score {c.score_arithmetic(rec.constraints.weights)}"
             for c in rec.ranked[:3]]
    flips = "".join(f"<li>{_e(x.sentence())}</li>" for x in rec.crossovers)
    return (f"<p><b>{_e(rec.headline)}</b></p>"
            f"<p>Priority weights (scaled to sum to 1): {_e(weights)}. Each objective is "
            "taken as a ratio to the best mode; the score is their weighted geometric mean, "
            "100 × Π ratio<sup>weight</sup>, so the order of two modes depends on their own "
            "figures alone:</p>"
            f"<pre>{_e(chr(10).join(lines))}</pre>"
            f"<h3>Where the ranking would flip</h3><ul>{flips}</ul>")


def _charts(rec: Recommendation, charts: Sequence[str]) -> str:

    out = []
    for name in charts:
        data = figure_bytes(chart_figure(rec, name), "png", dpi=100)
        encoded = base64.b64encode(data).decode("ascii")
        caption = CAPTIONS.get(name, name)
        out.append(f'<figure id="chart-{_e(name)}"><img alt="{_e(name)} chart: {_e(caption)}" '
                   f'src="data:image/png;base64,{encoded}"><figcaption>{_e(caption)}'
                   "</figcaption></figure>")
    return "".join(out)


def _claims(claims: Sequence[ClaimResult]) -> str:
    rows = [(_e(c.id), _e(c.claim),
             f'<span class="badge {VERDICT_CLASS.get(c.verdict, "na")}">{_e(c.verdict)}</span>',
             _e(c.figures)) for c in claims]
    return ("<p>Each claim from the public debate, turned into figures from the same profile "
            "through the same cost model. A stated figure counts as supported within 10 "
            "percentage points either side.</p>" + _table(("", "claim", "verdict", "figures"),
                                                          rows))


def _profile(profile: Profile) -> str:
    m = profile.machine
    where = ('<span class="badge here">measured here</span>' if profile.measured_here else
             f'<span class="badge elsewhere">measured elsewhere</span> (host {_e(m.hostname)})'
             + (" · a machine of the same type" if profile.where == "same type" else ""))
    facts = [
        ("profile", f"{_e(profile.id)} ({_e(profile.kind)} calibration, "
                    f"{profile.duration_s:,.0f} s)"),
        ("calibrated", _e(f"{profile.created:%Y-%m-%d %H:%M} UTC")),
        ("where", where),
        ("machine", f"<span class='checksum'>{_e(m.id)}</span> ({_e(m.hostname)})"),
        ("CPU", _e(f"{m.cpu_model}, {m.cores} logical cores, {m.arch}"
                   + (f", last-level cache {m.last_level_cache_bytes / 2**20:,.0f} MiB"
                      if m.last_level_cache_bytes else ""))),
        ("memory", _e(f"{m.memory_bytes / 2**30:,.1f} GiB")),
        ("system", _e(f"{m.os}; Python {m.python}")),
        ("checksum", f"<span class='checksum'>sha256 {_e(profile.content_checksum())}</span>"),
    ]
    if profile.description:
        facts.append(("description", _e(profile.description)))
    if profile.failures:
        facts.append(("failed measurements", _e("; ".join(
            f"{f.runtime}:{f.mode} {f.task}: {f.reason}" for f in profile.failures[:10]))))
    runtimes = [(f"<b>{_e(r.name)}</b>", _e(r.version or "–"),
                 _e(", ".join(f"{md.name} ({md.binding})" for md in r.modes)) if r.available
                 else _e(f"not available: {r.reason}")) for r in profile.runtimes]
    title = f"{profile.kind} profile {profile.id}"
    return (f'<h3>{_e(title)}</h3><dl class="kv">'
            + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
            + "</dl>" + _table(("runtime", "version", "modes (binding)"), runtimes))


def render_report(recommendation: Recommendation, profiles: Sequence[Profile], *,
                  claims: Sequence[ClaimResult] | None = None,
                  charts: Sequence[str] = REPORT_CHARTS, command: str | None = None) -> str:
    """The report as one HTML document (a string).

    ``profiles`` are the profiles the recommendation's figures came from
    (``advisor.profiles``); ``claims`` defaults to checking every claim against the
    recommendation's evidence; ``charts`` names the charts to include; ``command``,
    when given, is shown as the way to reproduce the page.
    """

    rec = recommendation
    if claims is None:
        claims = check_claims(rec.evidence)
    name = rec.workload.name
    if rec.best is None:
        verdict = "No runtime/mode can run this workload within its limits."
        decision = f'<div class="decision none">{_e(verdict)}</div>'
    else:
        sentence = (rec.decision.sentence if rec.decision else
                    f"{rec.best.label} is the only runtime/mode within the limits.")
        decision = (f'<div class="decision"><b>Recommended: {_e(rec.best.key)}</b><br>'
                    f"{_e(sentence)}</div>")
    now = datetime.now(UTC)
    sections = [
        ("decision", "Recommendation", decision),
        ("workload", f"Workload: {name}", _workload(rec)),
        ("ranking", "Ranking", _ranking(rec)),
        ("explanation", "Why: the score arithmetic and the crossovers", _explanation(rec)),
        ("charts", "Charts", _charts(rec, charts)),
        ("claims", "The public claims, checked against these figures", _claims(claims)),
        ("provenance", "Where the figures come from",
         "".join(_profile(p) for p in profiles)
         or f"<p>{_e('; '.join(rec.provenance))}</p>"),
    ]
    body = "".join(f'<section id="{sid}"><h2>{_e(title)}</h2>{content}</section>'
                   for sid, title, content in sections)
    reproduce = f" Reproduce: <code>{_e(command)}</code>." if command else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>wasm-advisor: {_e(name)}</title><style>{STYLE}</style></head><body><main>"
            f"<h1>Which WebAssembly runtime for {_e(name)}?</h1>"
            + (f'<p class="notice"><b>{_e(rec.notice)}</b></p>' if rec.notice else "") +
            f'<p class="sub">wasm-advisor {_e(PACKAGE_VERSION)} report, generated '
            f"{now:%Y-%m-%d %H:%M} UTC, from: {_e('; '.join(rec.provenance))}</p>"
            f"{body}<footer>Figures are the cost model's predictions from the calibration "
            f"profile(s) above; see docs/model.md and docs/methodology.md in the wasm-advisor "
            f"sources for how each is measured and combined.{reproduce}</footer>"
            "</main></body></html>\n")


def write_report(recommendation: Recommendation, profiles: Sequence[Profile],
                 path: str | Path, **options: Any) -> Path:
    """Render the report (options as :func:`render_report`) and write it to ``path``
    atomically; an unwritable path raises :class:`AdvisorError` naming it."""
    p = Path(path)
    document = render_report(recommendation, profiles, **options)
    try:
        write_atomically(p, document.encode("utf-8"))
    except OSError as e:
        raise AdvisorError(f"{p}: cannot write the report: {e.strerror or e}") from e
    return p


def _mib(value: float) -> str:
    """MiB as people write them: whole above 100, else three significant figures."""
    mib = value / 2**20
    return f"{mib:,.0f}" if mib >= 100 else f"{mib:.3g}"
