"""``CostModel``: a scikit-learn estimator that learns each runtime/mode's cost coefficients.

``fit(X)`` takes the raw samples of a profile (:func:`samples_frame`: one row per
sample with ``runtime, mode, metric, x, y``) and fits, per runtime/mode and
metric, a robust linear model ``y = intercept + slope * x`` by Theil–Sen
(:func:`~wasm_advisor.harness._statistics.fit_slope`: the median of the slopes
between every pair of samples, and the median intercept under it); metrics
measured at a single size (``x == 0``) get their median. The fit is exact
arithmetic on medians, so the same profile gives the same coefficients with any
version of numpy or scikit-learn (whose ``TheilSenRegressor`` takes an iterated
spatial median that stops at a tolerance, and moved figures in the third digit
from one release to the next).
The uncertainty of each coefficient is the spread of the samples around the
fit (interquartile range / 1.349, relative to the value).

``fit`` takes a :class:`~wasm_advisor.profiles._profile.Profile` (as the advisor does) or
a frame of its raw samples. ``predict(X)`` takes a list of
:class:`~wasm_advisor.workload._model.Workload` and returns one row per workload and
runtime/mode with the predicted figures, by the same fitted coefficients and
arithmetic as :meth:`~wasm_advisor.Advisor.recommend` (one fit, one predict). It
follows scikit-learn's conventions: ``__init__`` stores arguments only,
learned state ends in ``_``, and ``predict`` checks the model was fitted.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..calibration import mix_kernel_names
from ..harness import fit_slope
from ..profiles import COUNT_PREFIX, SHARED_FROM, Figure, ModeRecord, Profile
from ..runtimes import WAMR_CLI_BINDING, ModeTraits, load_traits, traits_for
from ._coefficients import COEFFICIENT_METRICS, Coefficient, ModeCoefficients
from ._costs import KERNELS_BY_KIND, WorkloadFeatures, block_scan_ns_per_op, predict_costs
from ._instruction_costs import MIN_KERNELS, InstructionCostModel, mix_vector
from ._startup_transfer import with_transfer

if TYPE_CHECKING:
    import pandas as pd

    from ..workload import Workload

__all__ = ["CostModel", "fit_profile", "samples_frame", "with_common_error"]

IQR_TO_SIGMA = 1.349


def samples_frame(profile: Profile) -> pd.DataFrame:
    """The raw samples of ``profile``, one row each: runtime, mode, metric, x, y, source."""
    import pandas as pd

    rows = [
        {"runtime": f.runtime, "mode": f.mode, "metric": f.metric, "x": x, "y": y,
         "source": str(f.params.get("source", "guest" if f.metric.endswith("_iter") else "")),
         "instructions_per_iter": float(f.params.get("instructions_per_iter", 0) or 0),
         "shared_from": str(f.params.get(SHARED_FROM, ""))}
        for f in profile.figures for x, y in f.samples
    ]
    return pd.DataFrame(rows, columns=["runtime", "mode", "metric", "x", "y", "source",
                                       "instructions_per_iter", "shared_from"])


# figures of what a mode's generated code and its compiler do, which a configuration that
# runs the same code (``same_code_as``: an allocator setting) cannot change: the compute
# kernels, the host-call and memory-access kernels (the same machine code calling the same
# host function and reading the same kind of anonymous mapping), compiling the module and
# loading its compiled artifact. Instantiation, time to first instruction, the binding and
# resident memory are where such a configuration differs, and stay apart.
SAME_CODE_METRICS = frozenset({
    *(f"{k}_ns_per_iter" for k in ("int", "float", "call", "mixed", "typical", "simd",
                                   "block_exit_short", "block_exit_long", "hostcall",
                                   "mem_seq", "mem_rand", *mix_kernel_names())),
    "compile_ns_per_code_byte", "compile_local_ns_per_code_byte",
    "compile_ns_per_escaping_function", "load_ns_per_code_byte",
    "artifact_bytes_per_code_byte"})
# the figure of compiling the module, which a mode whose modules the same compiler compiles
# (``same_compiler_as``: WAMR's AOT modes, one wamrc) shares, where both time it alike
SAME_COMPILER_METRICS = frozenset({"compile_ns_per_code_byte"})


def pooled_same_code(samples: pd.DataFrame) -> pd.DataFrame:
    """``samples`` with the :data:`SAME_CODE_METRICS` samples of modes that run the same
    generated code (``same_code_as`` in the traits table) given to each of them, so the two
    are fitted on the union: one figure from twice the measurements. Fitted apart, one
    full calibration here read the same code's ``mixed`` kernel 0.054 and 0.044 ns per
    instruction in the two modes, enough to order them against a third the wrong way, and a
    quick one on a busy machine had the pooling allocator compile 2.2 times slower than the
    same compiler without it; the explanation then named "memory traffic" as what set two
    modes apart that run the same memory-access code."""
    import pandas as pd

    samples = _without_shared_copies(samples)
    keys = samples["runtime"] + ":" + samples["mode"]
    present = set(keys)
    extra = []
    for key, traits in load_traits().items():
        for other, metrics in ((traits.same_code_as, SAME_CODE_METRICS),
                               (traits.same_compiler_as, SAME_COMPILER_METRICS)):
            if other is None or key not in present or other not in present:
                continue
            alike = _timed_alike(samples, keys, key, other, metrics)
            for source, target in ((key, other), (other, key)):
                rows = samples[(keys == source) & samples["metric"].isin(metrics)
                               & samples["source"].isin(alike)].copy()
                rows["runtime"], rows["mode"] = target.split(":")
                extra.append(rows)
    return pd.concat([samples, *extra], ignore_index=True) if extra else samples


def _without_shared_copies(samples: pd.DataFrame) -> pd.DataFrame:
    """``samples`` without the copies a quick calibration labelled as another mode's
    (``shared_from``), where that mode's own samples are there: pooling gives them back
    once, where keeping them would count each sample twice."""
    if "shared_from" not in samples.columns:
        return samples
    keys = set(samples["runtime"] + ":" + samples["mode"])
    copied = (samples["shared_from"] != "") & samples["shared_from"].isin(keys)
    return samples[~copied]


def _timed_alike(samples: pd.DataFrame, keys: pd.Series, a: str, b: str,
                 metrics: frozenset[str]) -> set[str]:
    """The timing sources both modes' samples of ``metrics`` share: only samples timed the
    same way are pooled (a compile timed as its own process against one timed in-process
    measures more than the compiler). Where one mode has no such samples at all (a quick
    calibration measured the code once), the other's."""
    chosen = samples["metric"].isin(metrics)
    mine = set(samples[chosen & (keys == a)]["source"])
    theirs = set(samples[chosen & (keys == b)]["source"])
    return (mine & theirs) if mine and theirs else (mine | theirs)


def _relative_sigma(residuals: list[float], scale: float) -> float:
    if len(residuals) < 2 or scale == 0:
        return 0.0
    q = statistics.quantiles(residuals, n=4, method="inclusive")
    return abs((q[2] - q[0]) / IQR_TO_SIGMA / scale)


class CostModel(BaseEstimator):  # type: ignore[misc]
    """Learns per-runtime/mode cost coefficients from calibration samples."""

    def __init__(self) -> None:
        pass  # no parameters: the fit is exact medians, with nothing random to seed

    def fit(self, X: Profile | pd.DataFrame, y: None = None) -> CostModel:
        """Fit every runtime/mode's coefficients: from a :class:`Profile` (its samples, its
        modes' records and its figures stored without samples), or from a frame of raw
        samples (:func:`samples_frame`), which knows nothing of the modes beyond them."""
        profile = X if isinstance(X, Profile) else None
        self.profile_id_ = profile.id if profile is not None else ""
        samples = X if profile is None else pooled_same_code(samples_frame(profile))
        assert not isinstance(samples, Profile)
        fitted = _fit_samples(samples)
        self.coefficients_ = fitted[0]
        self.instructions_ = fitted[1]
        if profile is not None:
            self.modes_ = with_common_error(_profile_modes(profile, self.coefficients_))
        else:
            self.modes_ = [_mode_coefficients(runtime, mode, metrics, None,
                                              self.instructions_.get((runtime, mode), {}))
                           for (runtime, mode), metrics in self.coefficients_.items()]
        return self

    def predict(self, X: list[Workload]) -> pd.DataFrame:
        """One row per workload and runtime/mode: the predicted figures, by the same
        arithmetic as :meth:`wasm_advisor.Advisor.recommend`."""
        import pandas as pd

        check_is_fitted(self, "modes_")

        # with the start-up transfer measured on real programs for the fitted profile's
        # figures (model._startup_transfer), as the advisor predicts; the fit itself (what
        # the advisor caches) never holds it
        modes = [with_transfer(m, self.profile_id_) for m in self.modes_]
        rows = []
        for workload in X:
            features = WorkloadFeatures.from_workload(workload)
            for coefficients in modes:
                prediction = predict_costs(coefficients, features)
                rows.append({"workload": workload.name, "runtime": coefficients.runtime,
                             "mode": coefficients.mode, **prediction.totals()})
        return pd.DataFrame(rows)


def _fit_samples(X: pd.DataFrame) -> tuple[dict[tuple[str, str], dict[str, Coefficient]],
                                            dict[tuple[str, str], dict[str, float]]]:
    """Per runtime/mode and metric: a Theil-Sen line (or the median of a single size)."""
    fitted: dict[tuple[str, str], dict[str, Coefficient]] = {}
    instructions: dict[tuple[str, str], dict[str, float]] = {}
    for (runtime, mode, metric), group in X.groupby(["runtime", "mode", "metric"], sort=True):
        xs = group["x"].to_numpy(dtype=float)
        ys = group["y"].to_numpy(dtype=float)
        source = str(group["source"].iloc[0])
        per_iter = float(group["instructions_per_iter"].iloc[0])
        if per_iter:
            kernel = str(metric).removesuffix("_ns_per_iter")
            instructions.setdefault((str(runtime), str(mode)), {})[kernel] = per_iter
        if np.unique(xs).size >= 2:
            fit = fit_slope(list(zip(xs.tolist(), ys.tolist(), strict=True)))
            slope, intercept = fit.slope, fit.intercept
            implied = [(yv - intercept) / xv for xv, yv in zip(xs, ys, strict=True) if xv]
            sigma = _relative_sigma(implied, slope)
            value = slope
        else:
            value = float(np.median(ys))
            intercept = 0.0
            sigma = _relative_sigma(list(ys), value)
        fitted.setdefault((str(runtime), str(mode)), {})[str(metric)] = Coefficient(
            value=value, intercept=intercept, rel_sigma=sigma, source=source, runs=len(ys))
    return fitted, instructions


# what a figure's parameters count per iteration of its kernel: the instructions it runs,
# those WAMR's classic interpreter scans for block ends, and its SIMD instructions; each
# the name of the ModeCoefficients field that holds them by kernel
KERNEL_COUNTS = ("instructions_per_iter", "scan_ops_per_iter", "simd_ops_per_iter")


def _mode_coefficients(runtime: str, mode: str, metrics: dict[str, Coefficient],
                       profile: Profile | None,
                       instructions: dict[str, float] | None = None) -> ModeCoefficients:
    """One runtime/mode's coefficients, with what its profile records of the mode (its
    binding, label, kind of engine) and of its kernels; with no profile, only the fits."""
    figures = [] if profile is None else [
        f for f in profile.figures if (f.runtime, f.mode) == (runtime, mode)]
    runtimes = [] if profile is None else profile.runtimes
    record = next((m for r in runtimes if r.name == runtime for m in r.modes if m.name == mode),
                  ModeRecord(name=mode, label=f"{runtime} {mode}", binding=""))
    traits = traits_for(f"{runtime}:{mode}")
    counts = _kernel_counts(figures, instructions or {})
    coefficients = ModeCoefficients(
        runtime=runtime, mode=mode, binding=record.binding, label=record.label,
        precompiled_mode=record.precompiled, jit=record.jit,
        instructions_per_iter=counts["instructions_per_iter"],
        scan_ops_per_iter=counts["scan_ops_per_iter"],
        simd_ops_per_iter=counts["simd_ops_per_iter"],
        coefficients={name: metrics[metric] for name, metric in COEFFICIENT_METRICS.items()
                      if metric in metrics},
        notes=record.notes,
        single_call_typical=_single_call_typical(figures),
        compile_threads=_compile_threads(traits, profile),
        # the traits table says which engine scans for block ends
        scans_block_ends=traits is not None and traits.scans_block_ends,
        process_per_instance=record.binding == WAMR_CLI_BINDING,
    )
    return _with_class_prices(coefficients, _class_counts(figures), metrics)


def _class_counts(figures: list[Figure]) -> dict[str, dict[str, float]]:
    """Each guest kernel's instructions per iteration by class, where its figure records
    them (``count_<class>`` params; the latest figure of a kernel wins)."""
    counts: dict[str, dict[str, float]] = {}
    for f in figures:
        found = {k.removeprefix(COUNT_PREFIX): float(v) for k, v in f.params.items()
                 if k.startswith(COUNT_PREFIX)}
        if found:
            counts[f.kernel] = found
    return counts


# the named kernels whose mixes cost a declared compute kind
_KIND_KERNELS = frozenset(k for kernels in KERNELS_BY_KIND.values() for k in kernels)
# the kernels the prices are fitted to: the instruction-mix family, and the named kernels
# shaped like compiled code ('typical', 'mixed'; 'simd', the one that runs SIMD). Not the
# 'int', 'float' and 'call' kernels: each is one chain of dependent instructions, every one
# waiting for the last, which measures a compiler's latency, not what mixed code costs (on
# Cranelift the prices of the others put them at a fifth to a seventh of their time)
_PRICE_KERNELS = frozenset({*mix_kernel_names(), "typical", "mixed", "simd"})


def _with_class_prices(m: ModeCoefficients, counts: dict[str, dict[str, float]],
                       metrics: dict[str, Coefficient]) -> ModeCoefficients:
    """``m`` with its prices per instruction class, fitted to the kernels of
    :data:`_PRICE_KERNELS` it has a time and class counts for
    (:class:`InstructionCostModel`). A kernel's own block-end scans, on an engine that
    makes them, are taken out of its time first (they are costed apart). Unchanged where
    the profile has fewer such kernels than a fit needs (a profile made before the
    family)."""
    scan = block_scan_ns_per_op(m)
    rows, times, names = [], [], []
    for kernel, mix in sorted(counts.items()):
        c = metrics.get(f"{kernel}_ns_per_iter")
        if c is None or kernel not in _PRICE_KERNELS:
            continue
        scanned = (scan.value if scan else 0.0) * m.scan_ops_per_iter.get(kernel, 0.0)
        if c.value - scanned <= 0:
            continue
        rows.append(mix_vector(mix))
        times.append(c.value - scanned)
        names.append(kernel)
    if len(rows) < MIN_KERNELS:
        return m
    model = InstructionCostModel().fit(rows, times)
    kernel_mix = {k: {c: v / m.instructions_per_iter[k] for c, v in counts[k].items()}
                  for k in sorted(_KIND_KERNELS) if k in counts and m.instructions_per_iter.get(k)}
    fitted = [k for k, kept in zip(names, model.kept_, strict=True) if kept]
    errors = {k: float(e) for k, e in zip(fitted, model.cv_log_errors_, strict=True)
              if not math.isnan(e)}
    return replace(m, class_ns=model.prices(), class_ns_log_sigma=model.cv_log_rms_,
                   class_cv_errors=errors, unpriced_classes=list(model.unfitted_),
                   kernel_mix=kernel_mix)


def with_common_error(modes: list[ModeCoefficients]) -> list[ModeCoefficients]:
    """``modes`` with the share of each one's price error that the others share.

    The prices' held-out errors on the kernels are not independent between modes: a kernel
    whose dependencies one compiler runs slower than its classes say, another compiler
    mostly does too (on the reference profile, Cranelift's and WAMR AOT's errors differ by
    0.47 in log, though each alone is 0.43 and 0.56). Drawn apart, two such modes would
    look more uncertain against each other than the kernels show. The shared part is a
    single factor: each kernel's mean error over every mode of the profile; a mode's
    loading on it (the covariance of its errors with that mean, over the standard
    deviation of the mean, at most its own error) is drawn from one stream common to every
    mode (:mod:`._confidence`), the rest from the mode's own. Computed over the profile's
    modes, never over the candidates of a question, so no mode's draws depend on which
    others are listed."""
    priced = [m for m in modes if m.class_cv_errors]
    kernels = sorted(set.intersection(*(set(m.class_cv_errors) for m in priced))) \
        if len(priced) >= 2 else []
    if len(kernels) < MIN_KERNELS:
        return modes
    errors = np.array([[m.class_cv_errors[k] for k in kernels] for m in priced])
    mean = errors.mean(axis=0)
    spread = float(mean.std())
    if spread <= 0:
        return modes
    loading = {m.key: min(m.class_ns_log_sigma, max(0.0, float(
        np.mean((row - row.mean()) * (mean - mean.mean()))) / spread))
        for m, row in zip(priced, errors, strict=True)}
    return [replace(m, class_ns_common_sigma=loading[m.key]) if m.key in loading else m
            for m in modes]


def _kernel_counts(figures: list[Figure], instructions: dict[str, float]
                   ) -> dict[str, dict[str, float]]:
    """Each of :data:`KERNEL_COUNTS` by kernel, as ``figures`` record them (the fitted
    samples' ``instructions`` first)."""
    counts: dict[str, dict[str, float]] = {name: {} for name in KERNEL_COUNTS}
    counts["instructions_per_iter"].update(instructions)
    for f in figures:
        for name in KERNEL_COUNTS:
            if name in f.params:
                counts[name][f.kernel] = float(f.params[name])
    return counts


def _single_call_typical(figures: list[Figure]) -> bool:
    """Whether the profile's 'typical' kernel called a new function every time."""
    typical = [f for f in figures if f.kernel == "typical"]
    return bool(typical) and typical[-1].calls_in_a_row == 1


def _compile_threads(traits: ModeTraits | None, profile: Profile | None) -> int:
    """Threads the engine compiles on: one per core of the machine the profile was
    measured on, for an engine that compiles a module's functions all at once."""
    if profile is None or traits is None or not traits.parallel_compile:
        return 1
    return max(1, profile.machine.cores)


def _profile_modes(profile: Profile, fitted: dict[tuple[str, str], dict[str, Coefficient]]
                   ) -> list[ModeCoefficients]:
    """Every runtime/mode of ``profile`` in its order, from ``fitted``; a figure stored
    without raw samples keeps its stored value, with its stored spread as the uncertainty."""
    out = []
    for runtime, mode in profile.modes():
        metrics = dict(fitted.get((runtime, mode), {}))
        for f in profile.figures:
            if (f.runtime, f.mode) == (runtime, mode) and f.metric not in metrics:
                metrics[f.metric] = Coefficient(
                    value=f.value, intercept=f.intercept or 0.0,
                    rel_sigma=f.spread / IQR_TO_SIGMA, source=str(f.params.get("source", "")),
                    runs=f.runs)
        out.append(_mode_coefficients(runtime, mode, metrics, profile))
    return out


def fit_profile(profile: Profile) -> list[ModeCoefficients]:
    """Fit ``profile`` and return every runtime/mode's coefficients, in profile order: the
    fitted state of :class:`CostModel`, which the advisor caches and predicts from."""
    modes: list[ModeCoefficients] = CostModel().fit(profile).modes_
    return modes
