"""The fitted coefficients of one runtime/mode: plain numbers, cheap to load.

A :class:`Coefficient` is a value with its relative uncertainty (one standard
deviation, from the spread of the measurements) and where it came from.
:class:`ModeCoefficients` holds every coefficient the cost model uses for one
runtime/mode. They are produced by :class:`~wasm_advisor.model.estimator.CostModel`
(scikit-learn) once per profile and cached as JSON, so predicting needs neither
scikit-learn nor a refit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["COEFFICIENT_METRICS", "Coefficient", "ModeCoefficients"]

# Profile metrics the model reads, by coefficient name.
COEFFICIENT_METRICS = {
    "int_ns_per_iter": "int_ns_per_iter",
    "float_ns_per_iter": "float_ns_per_iter",
    "call_ns_per_iter": "call_ns_per_iter",
    "mixed_ns_per_iter": "mixed_ns_per_iter",
    "typical_ns_per_iter": "typical_ns_per_iter",
    "simd_ns_per_iter": "simd_ns_per_iter",
    "block_exit_short_ns_per_iter": "block_exit_short_ns_per_iter",
    "block_exit_long_ns_per_iter": "block_exit_long_ns_per_iter",
    "hostcall_ns": "hostcall_ns_per_iter",
    "mem_seq_ns": "mem_seq_ns_per_iter",
    "mem_rand_ns": "mem_rand_ns_per_iter",
    "compile_ns_per_code_byte": "compile_ns_per_code_byte",
    "compile_local_ns_per_code_byte": "compile_local_ns_per_code_byte",
    "compile_ns_per_escaping_function": "compile_ns_per_escaping_function",
    "load_ns_per_code_byte": "load_ns_per_code_byte",
    "run_compile_ns_per_code_byte": "run_compile_ns_per_code_byte",
    "instantiate_ns_per_page": "instantiate_ns_per_page",
    "instantiate_ns_per_data_byte": "instantiate_ns_per_data_byte",
    "instantiate_ns": "instantiate_ns",
    "instantiate_code_ns": "instantiate_code_ns",
    "first_instance_ns_per_code_byte": "first_instance_ns_per_code_byte",
    "first_instance_ns_per_data_byte": "first_instance_ns_per_data_byte",
    "ttfi_ns": "ttfi_ns",
    "binding_ns": "binding_ns",
    "rss_first_instance_bytes": "rss_first_instance_bytes",
    "rss_per_extra_instance_bytes": "rss_per_extra_instance_bytes",
    "rss_runtime_bytes": "rss_runtime_bytes",
    "rss_library_bytes": "rss_library_bytes",
    "rss_module_bytes_per_code_byte": "rss_module_bytes_per_code_byte",
    "artifact_bytes_per_code_byte": "artifact_bytes_per_code_byte",
}


@dataclass(frozen=True)
class Coefficient:
    """A fitted value, its intercept (for slopes), relative uncertainty and source."""

    value: float
    intercept: float = 0.0
    rel_sigma: float = 0.0  # one standard deviation, relative to value
    source: str = ""  # 'compile', 'load', 'instantiate' (a host-timed phase), 'ttfi', 'guest'
    runs: int = 0


@dataclass(frozen=True)
class ModeCoefficients:
    """Everything the cost model knows about one runtime/mode."""

    runtime: str
    mode: str
    binding: str
    label: str
    precompiled_mode: bool  # the mode always runs an artifact compiled ahead of time
    jit: bool  # compiles to machine code when a module is loaded
    instructions_per_iter: dict[str, float]  # per kernel, counted with fuel
    coefficients: dict[str, Coefficient] = field(default_factory=dict)
    # per kernel: instructions WAMR's classic interpreter would scan for block ends
    scan_ops_per_iter: dict[str, float] = field(default_factory=dict)
    simd_ops_per_iter: dict[str, float] = field(default_factory=dict)  # per kernel: v128 ones
    notes: str = ""
    # the profile's 'typical' kernel called a new function on every iteration, as it did
    # before it called each one several times running (its figure's description says)
    single_call_typical: bool = False
    # threads it compiles a module's functions on at once: the calibration machine's cores
    # for an engine that compiles them all at once (``parallel_compile`` in the traits
    # table), 1 for one that compiles them in turn
    compile_threads: int = 1
    # scans for the ends of blocks it has not cached (``scans_block_ends`` in the traits
    # table: WAMR's classic interpreter); only such an engine is costed for the scans
    # ``verify`` counts
    scans_block_ends: bool = False
    # every instance is a runtime process of its own (WAMR's iwasm CLI binding): its
    # first-instance memory is a whole process, paid again for each instance
    process_per_instance: bool = False
    # ns per instruction of each class (model._instruction_costs), fitted to the profile's
    # kernels; empty for a profile without the instruction-mix family (the old blend costs it)
    class_ns: dict[str, float] = field(default_factory=dict)
    # that fit's error out of sample (cross-validated over the kernels; log rms)
    class_ns_log_sigma: float = 0.0
    # each kernel's held-out log error, by kernel name (what the two figures around are
    # computed from)
    class_cv_errors: dict[str, float] = field(default_factory=dict)
    # the part of class_ns_log_sigma shared with the profile's other modes: the loading of
    # this mode's held-out errors on their mean over every mode (estimator.py); a program
    # that one compiler runs slower than its prices say, the others mostly do too
    class_ns_common_sigma: float = 0.0
    # classes no kernel ran, priced at the kernels' median ns per instruction
    unpriced_classes: list[str] = field(default_factory=list)
    # per named compute kernel: instructions of each class per instruction it runs (fuel),
    # the mix a declared compute kind is costed by
    kernel_mix: dict[str, dict[str, float]] = field(default_factory=dict)
    # per start-up phase (compile, load, instantiate): [log scale, log sigma] real programs
    # showed against the prediction (model._startup_transfer); set where the advisor loads
    # the coefficients, never by the fit
    startup_transfer: dict[str, list[float]] = field(default_factory=dict)
    # [total, common] log sigma of the compute figure as real programs showed it against the
    # prices (model._execution_spread); set where the advisor loads the coefficients, never
    # by the fit; empty: the prices' error on the kernels stands
    execution_spread: list[float] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.runtime}:{self.mode}"

    @property
    def compute_log_sigma(self) -> float:
        """The priced compute figure's relative spread: what real programs showed against
        the prices where measured, or this profile's prices' error on the kernels if that
        is larger (a calibration whose fit is poor says so in that error), else the
        latter alone."""
        if self.execution_spread:
            return max(self.execution_spread[0], self.class_ns_log_sigma)
        return self.class_ns_log_sigma

    @property
    def compute_common_sigma(self) -> float:
        """The part of :attr:`compute_log_sigma` every mode shares (drawn from one stream):
        real programs' where measured."""
        return self.execution_spread[1] if self.execution_spread else self.class_ns_common_sigma

    def get(self, name: str) -> Coefficient | None:
        return self.coefficients.get(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModeCoefficients:
        coefficients = {k: Coefficient(**v) for k, v in data.pop("coefficients").items()}
        return cls(coefficients=coefficients, **data)
