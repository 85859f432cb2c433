"""``Advisor``: a profile, its fitted cost model, and ``recommend()`` for workloads.

Which measurements an advisor uses, in order:

1. the profile you give (an object, a saved profile's id, or a file);
2. this machine's newest saved profile that its calibration did not mark unsteady
   (a newer unsteady one is passed over, and ``notice`` says so); this machine's newest
   unsteady one where there is no other;
3. a quick calibration, when you ask for one (``calibrate=True``);
4. the reference profile shipped with the package, shown as *measured elsewhere*.

``Advisor.notice`` is one line (or None) saying which profile is used and why, when that
matters: it is unsteady, or a newer unsteady one was passed over. Every recommendation
carries it (``Recommendation.notice``), and the command line prints it first.

A mode whose runtime is not installed here (WAMR's modes from the reference profile, with
no ``iwasm`` found) is labelled so, whatever the profile's machine fingerprint says.

With ``with_reference=True``, runtimes that this machine's profile could not
measure (most often WAMR, when no ``iwasm`` is installed) or did not try (a
calibration limited to some runtimes) are added from the reference profile,
each flagged as measured elsewhere. Without it, they are
listed as not ranked, with the reason.

Fitting the cost model uses scikit-learn; the fitted coefficients are cached
beside the profiles, keyed by the profile's checksum, so a later advisor for
the same profile loads them in milliseconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .calibration import COMPILE_METRIC, EXECUTE_METRIC, PACE_MODE, PACE_RUNTIME, profile_pace
from .calibration import calibrate as run_calibration
from .errors import ProfileError
from .files import write_atomically
from .model import (
    Constraints,
    ModeCoefficients,
    ModeEvidence,
    WorkloadFeatures,
    pace_ratio,
    rank,
    with_transfer,
)
from .profiles import Profile, ProfileStore, reference_profiles
from .recommendation import Recommendation
from .runtimes.installed import installed_here
from .verification import run_verification
from .workload import Workload, workload_from

if TYPE_CHECKING:
    import pandas as pd

    from .calibration import CalibrationProgress
    from .verification import VerifyReport

__all__ = ["MODEL_VERSION", "Advisor"]

MODEL_VERSION = 11  # bump when the fitted coefficients change meaning
# the sources a fit is computed by: a change to any of them makes every cached fit stale
_FIT_SOURCES = ("model/estimator.py", "model/_coefficients.py", "model/_instruction_costs.py",
                "harness/_statistics.py")


@functools.cache
def _fit_fingerprint() -> str:
    """A digest of the code that fits a profile, so a fit cached by other code is not reused.

    Which figures the model reads, and how it fits them, live in these files; a cache
    keyed on ``MODEL_VERSION`` alone handed a changed model the old model's fits until
    someone remembered to bump it. Where a source cannot be read (a package without
    its ``.py`` files), ``MODEL_VERSION`` alone keys the cache.
    """
    digest = hashlib.sha256()
    for name in _FIT_SOURCES:
        try:
            digest.update((Path(__file__).parent / name).read_bytes())
        except OSError:
            return "0"
    return digest.hexdigest()[:12]


def _fitted(profile: Profile, store: ProfileStore) -> list[ModeCoefficients]:
    """The profile's fitted coefficients, from the fit cache when it holds a good copy.

    The cache file carries a checksum of its fits: a damaged or hand-edited
    cache is never used, the profile is fitted again instead. Its name carries the
    fitting code's fingerprint (:func:`_fit_fingerprint`): a fit made by other code is
    not read.
    """
    cache = store.root / "fits" / (f"{profile.content_checksum()[:24]}-v{MODEL_VERSION}"
                                   f"-{_fit_fingerprint()}.json")
    try:
        document = json.loads(cache.read_text())
        fits = document["fits"]
        if document["checksum"] != _fits_checksum(fits):
            raise ValueError("the fit cache does not match its checksum")
        return [ModeCoefficients.from_dict(d) for d in fits]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        pass  # no cache yet, or a damaged one: fit again
    from .model.estimator import fit_profile  # imports scikit-learn: only when fitting

    fitted = fit_profile(profile)
    fits = [m.to_dict() for m in fitted]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache, json.dumps({"checksum": _fits_checksum(fits),
                                            "fits": fits}).encode())
    except OSError:
        pass  # a read-only cache folder: fit again next time
    return fitted


def _fits_checksum(fits: Any) -> str:
    canonical = json.dumps(fits, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


PACE_FIGURES = {(PACE_RUNTIME, PACE_MODE, m) for m in (COMPILE_METRIC, EXECUTE_METRIC)}


def _pace_sigma(profile: Profile) -> float:
    """Half the range of the profile's pace readings over their median (the larger of
    compile and execution): a range of three or four readings spans about two standard
    deviations of what the machine's pace did while the profile was made."""
    drifts = [f.spread for f in profile.figures
              if (f.runtime, f.mode, f.metric) in PACE_FIGURES and f.runs > 1]
    return max(drifts) / 2 if drifts else 0.0


def _evidence(profile: Profile, store: ProfileStore, runtimes: set[str] | None = None
              ) -> list[ModeEvidence]:
    out = []
    pace_sigma = _pace_sigma(profile)
    for coefficients in _fitted(profile, store):
        if runtimes is not None and coefficients.runtime not in runtimes:
            continue
        status: dict[str, str] = {r.feature: r.status for r in profile.features
                  if (r.runtime, r.mode) == (coefficients.runtime, coefficients.mode)}
        detail = {r.feature: r.detail for r in profile.features
                  if (r.runtime, r.mode) == (coefficients.runtime, coefficients.mode)}
        # a runtime not installed here is not "measured here", whatever the fingerprint says
        installed = installed_here(coefficients.runtime)
        provenance = profile.provenance + ("" if installed else
                                           f"; {coefficients.runtime} is not installed here")
        out.append(ModeEvidence(with_transfer(coefficients, profile.id), status, detail, provenance,
                                profile.measured_here and installed, profile_id=profile.id,
                                pace_sigma=pace_sigma, profile_here=profile.measured_here))
    return out


def _rescaled(added: list[ModeEvidence], here: list[ModeEvidence],
              there: list[ModeCoefficients], unavailable: dict[str, str]) -> list[ModeEvidence]:
    """``added`` (from another profile) at this profile's pace, each labelled with how it
    was scaled and why its runtime was not measured here (:mod:`.model.rescale`)."""
    ratio = pace_ratio([e.coefficients for e in here], there)
    out = []
    for e in added:
        why = unavailable.get(e.coefficients.runtime, "not measured in this profile")
        label = f"{e.provenance}; {e.coefficients.runtime} not measured here: {why}"
        if ratio is None:
            out.append(replace(e, provenance=label + "; not scaled to this machine's pace: "
                               "no mode was measured in both profiles", measured_here=False))
            continue
        out.append(replace(e, coefficients=ratio.apply(e.coefficients),
                           provenance=f"{label}; {ratio.describe()}", measured_here=False,
                           scale_sigma=ratio.sigma))
    return out


def _notice(profile: Profile, passed_over: Profile | None, profiles: list[Profile]
            ) -> str | None:
    """One line on the profile in use, where it matters: unsteady, or chosen over a newer
    unsteady one."""
    if passed_over is not None and passed_over.steadiness is not None:
        return (f"using {profile.id} ({profile.created:%Y-%m-%d %H:%M} UTC, "
                f"{profile.verdict}), this machine's newest steady profile: the newer "
                f"{passed_over.id} is {passed_over.verdict}")
    notices = [n for p in profiles if (n := p.unsteady_notice)]
    return " ".join(notices) or None


def constraints_for(workload: Workload) -> Constraints:
    lim, tgt = workload.limits, workload.target
    return Constraints(
        weights=workload.priorities.normalized(),
        required_features=tuple(sorted(f.value for f in workload.module.required_features)),
        arch=tgt.arch.value,
        device_class=tgt.device_class.value,
        target_memory_bytes=float(tgt.memory_bytes),
        max_memory_per_instance_bytes=(float(lim.max_memory_per_instance_bytes)
                                       if lim.max_memory_per_instance_bytes is not None
                                       else None),
        max_latency_ms=lim.max_latency_ms,
        max_cold_start_ms=lim.max_cold_start_ms,
    )


def _saved_profile(profile: Profile | str | Path | None, store: ProfileStore
                   ) -> tuple[Profile | None, Profile | None]:
    """The profile given (an object, or a saved profile's id or file), else this machine's
    newest steady one, else its newest; and the newer unsteady one passed over, if any."""
    if isinstance(profile, str | Path):
        return store.find(str(profile)), None
    if profile is not None:
        return profile, None
    newest = store.latest(here=True)
    profile = store.latest(here=True, steady=True) or newest
    return profile, newest if newest is not None and newest != profile else None


def _or_reference(profile: Profile | None, with_reference: bool
                  ) -> tuple[Profile, list[Profile]]:
    """``profile``, or the reference profile shipped with the package where there is none;
    and the reference profiles, where one is used or ``with_reference`` adds from them."""
    references = [] if profile is not None and not with_reference else reference_profiles()
    if profile is None:
        if not references:
            raise ProfileError("no calibration profile: run 'wasm-advisor calibrate' first")
        profile = references[0]
    return profile, references


class Advisor:
    """Recommends a runtime/mode for workloads from one calibration profile."""

    def __init__(
        self,
        profile: Profile | str | Path | None = None,
        *,
        calibrate: bool = False,
        with_reference: bool = False,
        store: ProfileStore | None = None,
        progress: Callable[[CalibrationProgress], None] | None = None,
    ) -> None:
        self.store = store or ProfileStore()
        self.notice: str | None = None
        profile, passed_over = _saved_profile(profile, self.store)
        if profile is None and calibrate:
            profile = run_calibration("quick", store=self.store, progress=progress)
        profile, references = _or_reference(profile, with_reference)
        self.profile = profile
        self.profiles = [profile]
        self.evidence = _evidence(profile, self.store)
        measured = {e.coefficients.runtime for e in self.evidence}
        self.unavailable = {r.name: r.reason or "not measured" for r in profile.runtimes
                            if r.name not in measured}
        if with_reference and references and references[0] is not profile:
            self._add_reference(references[0], measured)
        if not self.evidence:
            raise ProfileError(f"profile {profile.id} has no measured runtime/mode")
        self.notice = _notice(profile, passed_over, self.profiles)

    def _add_reference(self, reference: Profile, measured: set[str]) -> None:
        """The runtimes ``reference`` has that this profile did not measure (unavailable
        here, or not tried: ``calibrate(runtimes=["wasmtime"])``), at this profile's pace."""
        missing = {r.name for r in reference.runtimes} - measured
        added = _rescaled(_evidence(reference, self.store, missing), self.evidence,
                          _fitted(reference, self.store), self.unavailable)
        if added:
            self.evidence += added
            self.profiles.append(reference)
            for e in added:
                self.unavailable.pop(e.coefficients.runtime, None)

    def __repr__(self) -> str:
        modes = ", ".join(e.coefficients.key for e in self.evidence)
        return f"<Advisor {self.profile.provenance}: {modes}>"

    def recommend(self, workload: Workload | str | Path) -> Recommendation:
        """Rank every runtime/mode for ``workload``, with exclusions, how sure the ranking is
        (its figures resampled within their measured spread) and the explanation.

        ``workload``: a :class:`Workload`, a bundled preset's name, or a workload file's
        path, as on the command line (:func:`wasm_advisor.workload._files.workload_from`).
        """
        workload = workload_from(workload)
        constraints = constraints_for(workload)
        features = WorkloadFeatures.from_workload(workload)
        candidates = rank(self.evidence, features, constraints)
        recommendation = Recommendation(
            workload=workload, candidates=candidates, constraints=constraints,
            features=features, evidence=self.evidence,
            provenance=[p.provenance for p in self.profiles],
            unavailable=dict(self.unavailable), notice=self.notice,
        )
        _ = recommendation.confidence, recommendation.decision  # resampled here, not later
        return recommendation

    def verify(self, workload: Workload, **options: Any) -> VerifyReport:
        """Run the workload's real module on every runtime/mode measured here, under limits,
        next to what this advisor predicts. Options: ``argv``, ``workdir``, ``env``,
        ``repeats``, ``warm_budget_s``, ``rounds``, ``timeout_s``, ``memory_limit_bytes``,
        ``modes``, ``iwasm``, ``wamrc``, ``libiwasm``, ``progress``, ``expect_exit`` (the
        exit status the program's correct result is; default 0), ``pace_profile`` (None: no pace
        readings; default: this advisor's profile measured here; see
        :func:`wasm_advisor.verification._verify.run_verification`)."""

        # the machine's pace is read beside the runs and compared with this profile's
        options.setdefault("pace_profile", next(
            (p for p in self.profiles if p.measured_here and profile_pace(p)), None))
        options.setdefault("unavailable", dict(self.unavailable))
        return run_verification(workload, self.evidence, [p.provenance for p in self.profiles],
                                **options)

    def compare(self, workloads: Iterable[Workload | str | Path]) -> pd.DataFrame:
        """One row per workload (each as :meth:`recommend` takes it): the winner,
        runner-up, scores and what decides."""
        import pandas as pd

        rows = []
        for workload in workloads:
            r = self.recommend(workload)
            second = r.ranked[1] if len(r.ranked) > 1 else None
            rows.append({
                "workload": r.workload.name,
                "winner": r.winner,
                "score": round(r.best.score, 1) if r.best else None,
                "runner_up": second.key if second else None,
                "runner_up_score": round(second.score, 1) if second else None,
                "deciding_objective": r.decision.objective if r.decision else None,
                "deciding_component": r.decision.component if r.decision else None,
                "excluded": len(r.excluded),
            })
        return pd.DataFrame(rows)
