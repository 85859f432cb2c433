"""Calibration profiles: every measured figure, where and how it was measured.

A :class:`Profile` is a versioned JSON document (``format_version``) holding
each figure with its runtime, mode, binding, kernel, parameters, runs, median
and spread, the feature-support matrix, the failures with their reasons, and
the fingerprint of the machine it was measured on. A SHA-256 checksum over the
content is stored with it: a truncated, corrupted or hand-edited file is
refused with a clear message, never half-used.

:class:`ProfileStore` keeps profiles in the user's cache folder (or
``$WASM_ADVISOR_CACHE``), writes them atomically, and finds the latest one for
this machine. The format is described in ``docs/profiles.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ProfileError
from ..files import default_cache_dir, reference_profile_paths, write_atomically
from ._locks import calibration_lock, save_lock
from ._machine import ADDED_IN_FORMAT_3, Machine, Relation, relation, this_machine

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COUNT_PREFIX",
    "FORMAT_VERSION",
    "FeatureResult",
    "Figure",
    "MeasurementFailure",
    "ModeRecord",
    "Profile",
    "ProfileStore",
    "RuntimeRecord",
    "Steadiness",
    "SteadinessFigure",
    "calls_running",
    "default_cache_dir",
    "reference_profiles",
]

# The format version changes with every change to the fields below (even an
# added field with a default: the checksum covers every field). Version 2 added
# the raw samples of each figure; version 3 the calibration's steadiness verdict
# (``steadiness``) and the machine's type and host ids. A version-2 file still loads:
# its checksum is checked over the fields version 2 had, and its steadiness is
# "not checked" (``steadiness`` is None). Version 4 added the measurements the speed probe
# found in another phase of the machine (``slow_tasks``, ``slowest_phase`` of the
# steadiness); a version-3 file's checksum is checked over the fields it had. Version 5
# added whether those measurements, measured again, agreed with their first values
# (``rechecked``, ``probe_agreement``).
FORMAT_VERSION = 5
OLDEST_READABLE_VERSION = 2
MAX_PROFILE_BYTES = 64 << 20  # a full calibration's profile is about 1 MiB


ADDED_IN_FORMAT_4 = ("slow_tasks", "slowest_phase")  # fields of Steadiness
ADDED_IN_FORMAT_5 = ("rechecked", "probe_agreement")  # fields of Steadiness


def _steadiness_fields_after(version: int) -> tuple[str, ...]:
    """The fields of Steadiness that a format-``version`` file does not have."""
    return (ADDED_IN_FORMAT_4 if version < 4 else ()) + \
        (ADDED_IN_FORMAT_5 if version < 5 else ())


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# a guest kernel's figure params: ``count_<class>`` is how many instructions of each class
# (wasm_advisor.wasm.CLASSES) one iteration runs, as the counting copy counts a program's
COUNT_PREFIX = "count_"
# a figure's params: the mode it was measured on, where a quick calibration measured a mode
# that runs another's generated code only once (its samples are that mode's)
SHARED_FROM = "shared_from"


class Figure(_Record):
    """One measured figure of one runtime/mode."""

    runtime: str = Field(description="wasmtime, wasmer or wamr.")
    mode: str = Field(description="The mode, e.g. cranelift, pulley, fast-interp, aot.")
    binding: str = Field(description="What the figure went through: wasmtime-py, wasmer-sdk, "
                         "iwasm CLI, libiwasm (in-process).")
    metric: str = Field(description="What is measured, e.g. int_ns_per_iter, "
                        "compile_ns_per_code_byte (see docs/profiles.md).")
    kernel: str = Field(description="The kernel or module family measured.")
    unit: str = Field(description="Unit of value, e.g. ns, ns/iteration, bytes.")
    value: float = Field(description="Median, or fitted slope for per-unit figures.")
    spread: float = Field(description="Relative spread: interquartile range / value.")
    runs: int = Field(description="Samples behind the value.")
    intercept: float | None = Field(default=None, description="Fitted intercept (ns), "
                                    "the fixed cost the slope excludes.")
    params: dict[str, float | int | str] = Field(default_factory=dict,
                                                 description="Kernel parameters.")
    note: str = Field(default="", description="What a reader must know about this figure.")
    samples: list[tuple[float, float]] = Field(
        default_factory=list,
        description="The raw (size, value) samples behind the figure: size is iterations, "
        "code bytes, pages or data bytes for slopes, 0 for medians.")
    calls_in_a_row: int = Field(
        default=1, exclude=True,
        description="How many times in a row an iteration of the kernel calls each function "
        "it calls (the 'typical' kernel: 1 in profiles made before it repeated its calls). "
        "Not stored: read from the iteration's description when the figure is loaded.")

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        """Format migration: the calls in a row of an iteration, which every profile
        records only in words ("... each is called 16 times in a row"), as a number."""
        if isinstance(data, dict) and "calls_in_a_row" not in data:
            params = data.get("params")
            iteration = params.get("iteration", "") if isinstance(params, dict) else ""
            data = {**data, "calls_in_a_row": calls_running(str(iteration))}
        return data


def calls_running(iteration: str) -> int:
    """How many times an iteration calls each function in a row, from its description
    ("... each is called 16 times in a row"); 1 where it says nothing of it, as before the
    'typical' kernel repeated its calls."""
    found = re.search(r"called (\d+) times in a row", iteration)
    return int(found.group(1)) if found else 1


class FeatureResult(_Record):
    """Whether one runtime/mode ran one feature probe correctly."""

    runtime: str
    mode: str
    feature: str
    status: Literal["supported", "unsupported", "error"]
    detail: str = ""


class MeasurementFailure(_Record):
    """A measurement that failed, and why; the calibration went on without it."""

    runtime: str
    mode: str
    task: str
    reason: str


class ModeRecord(_Record):
    name: str
    label: str
    binding: str
    notes: str = ""
    jit: bool = False
    precompiled: bool = False


class RuntimeRecord(_Record):
    """A runtime as found on the machine: version and modes, or why it was not there."""

    name: str
    available: bool
    version: str = ""
    reason: str = ""
    modes: list[ModeRecord] = Field(default_factory=list)
    details: dict[str, str] = Field(default_factory=dict)


class SteadinessFigure(_Record):
    """One reading that moved beyond its limit while the profile was made."""

    what: str = Field(description="What was read, e.g. 'machine pace: compile', "
                      "'run queue', 'wasmtime:cranelift int_ns_per_iter spread'.")
    value: float = Field(description="The reading: a fraction (drift, spread, steal) or "
                         "other runnable processes per core (run queue).")
    limit: float = Field(description="The limit it went beyond, in the same unit.")


class Steadiness(_Record):
    """Whether the machine stayed steady while a calibration measured, and why not.

    ``steady`` is the verdict after any re-measurement; ``reasons`` say, one line each,
    what was still unsteady; ``moved`` holds the readings that went beyond their limits.
    """

    steady: bool = Field(description="True when no reading went beyond its limit.")
    reasons: list[str] = Field(default_factory=list, description="Why it is unsteady.")
    moved: list[SteadinessFigure] = Field(default_factory=list,
                                          description="The readings beyond their limits.")
    run_queue_per_core: float | None = Field(
        default=None, description="Median runnable processes per core besides the "
        "calibration's own, sampled from /proc/stat while it measured.")
    steal_fraction: float | None = Field(
        default=None, description="Share of CPU time the hypervisor stole while it measured.")
    pace_drift: float | None = Field(
        default=None, description="How far the machine's pace moved: (largest - smallest) "
        "/ median of the pace readings, the larger of compile and execution.")
    remeasured: list[str] = Field(default_factory=list,
                                  description="runtime:mode measured again after a disturbance.")
    system_samples: int = Field(default=0, description="/proc samples taken.")
    slow_tasks: int = Field(default=0, description="Tasks first measured in another phase of "
                            "the machine (its speed probe read it more than 1.4x slower or "
                            "faster than its usual speed over the calibration), and so "
                            "measured again.")
    slowest_phase: float | None = Field(
        default=None, description="Where tasks are still from another phase: the speed probe "
        "furthest from the usual one, as a factor (slower or faster).")
    rechecked: int = Field(default=0, description="Measurements the speed probe flagged "
                           "that were measured again at the machine's usual speed and "
                           "compared with their first values.")
    probe_agreement: float | None = Field(
        default=None, description="The median factor between those measurements' first and "
        "re-measured values (from 3 or more); within 1.25 the flags picked out nothing that "
        "moved (the probe's own jitter), and measurements still flagged did not make the "
        "profile unsteady.")

    @property
    def probe_jitter(self) -> bool:
        """Whether the speed probe's flags were shown to be its own jitter: measurements are
        still flagged (``slowest_phase``), yet the verdict is steady, which only agreeing
        re-measurements allow."""
        return self.steady and self.slowest_phase is not None \
            and self.probe_agreement is not None

    @property
    def summary(self) -> str:
        """One line: the verdict and, when unsteady, why."""
        if self.steady:
            again = (f" after measuring {', '.join(self.remeasured)} again"
                     if self.remeasured else "")
            slow = (f" ({self.slow_tasks} of its measurements first taken while the machine "
                    "ran at another speed)" if self.slow_tasks else "")
            if self.probe_jitter and self.probe_agreement is not None:
                slow = (f" ({self.slow_tasks} of its measurements first taken while the speed "
                        f"probe read another speed; measured again, they agreed within "
                        f"{self.probe_agreement - 1:.0%} (median), so the probe's flags were "
                        "its own jitter)")
            return f"steady{again}{slow}"
        return "unsteady: " + "; ".join(self.reasons)


class Profile(_Record):
    """Everything one calibration measured on one machine."""

    format_version: int = Field(default=FORMAT_VERSION, description="Profile format version.")
    created: datetime = Field(description="When the calibration finished (UTC).")
    kind: Literal["quick", "full", "reference"] = Field(description="Calibration budget.")
    machine: Machine
    duration_s: float = Field(ge=0, description="Wall time the calibration took.")
    runtimes: list[RuntimeRecord]
    figures: list[Figure]
    features: list[FeatureResult] = Field(default_factory=list)
    failures: list[MeasurementFailure] = Field(default_factory=list)
    description: str = Field(default="", description="Free text, e.g. how WAMR was built.")
    steadiness: Steadiness | None = Field(
        default=None, description="Whether the machine stayed steady while this was "
        "measured; None: not checked (profiles before format 3, reference profiles).")

    # ----- identity -----------------------------------------------------------

    @property
    def id(self) -> str:
        return f"{self.created.strftime('%Y%m%dT%H%M%S')}-{self.machine.id[:8]}"

    @property
    def where(self) -> Relation:
        """``"here"``, ``"same type"`` (another machine of this one's type) or
        ``"elsewhere"`` (see :func:`wasm_advisor.profiles._machine.relation`)."""
        return relation(self.machine)

    @property
    def measured_here(self) -> bool:
        """True when this profile was measured on the machine running this process."""
        return self.where == "here"

    @property
    def steady(self) -> bool | None:
        """True or False: the calibration's verdict; None: not checked."""
        return None if self.steadiness is None else self.steadiness.steady

    @property
    def verdict(self) -> str:
        """``steady``, ``unsteady: <why>`` or ``steadiness not checked``."""
        return ("steadiness not checked" if self.steadiness is None
                else self.steadiness.summary)

    @property
    def unsteady_notice(self) -> str | None:
        """One line for the top of any answer made from this profile, when it is unsteady."""
        if self.steadiness is None or self.steadiness.steady:
            return None
        return (f"UNSTEADY PROFILE {self.id}: the machine was disturbed while it was "
                f"calibrated ({'; '.join(self.steadiness.reasons)}); its figures are less "
                "sure: calibrate again when the machine is quieter")

    @property
    def provenance(self) -> str:
        m = self.machine
        where = {"here": "measured here",
                 "same type": (f"measured elsewhere (a machine of the same type: "
                               f"{m.cpu_model}, {m.cores} cores, host {m.hostname}, {m.os})"),
                 "elsewhere": (f"measured elsewhere ({m.cpu_model}, {m.cores} cores, "
                               f"host {m.hostname})")}[self.where]
        unsteady = ", UNSTEADY" if self.steady is False else ""
        return (f"{self.kind} profile {self.id}, {self.created:%Y-%m-%d %H:%M} UTC, "
                f"{where}{unsteady}")

    # ----- queries --------------------------------------------------------------

    def modes(self) -> list[tuple[str, str]]:
        """(runtime, mode) pairs with at least one figure, in measurement order."""
        seen: dict[tuple[str, str], None] = {}
        for f in self.figures:
            seen.setdefault((f.runtime, f.mode), None)
        return list(seen)

    def figure(self, runtime: str, mode: str, metric: str) -> Figure | None:
        for f in self.figures:
            if f.runtime == runtime and f.mode == mode and f.metric == metric:
                return f
        return None

    def feature_status(self, runtime: str, mode: str, feature: str) -> str | None:
        for r in self.features:
            if (r.runtime, r.mode, r.feature) == (runtime, mode, feature):
                return r.status
        return None

    def to_frame(self) -> pd.DataFrame:
        """Every figure as a row of a pandas DataFrame."""
        import pandas as pd

        rows = [f.model_dump(exclude={"params"}) | {"params": f.params} for f in self.figures]
        return pd.DataFrame(rows, columns=[name for name, f in Figure.model_fields.items()
                                           if not f.exclude])

    # ----- files ------------------------------------------------------------------

    def _content(self) -> dict[str, Any]:
        content = self.model_dump(mode="json")
        if self.format_version < 3:  # the fields a format-2 file had, and no others
            content.pop("steadiness", None)
            for name in ADDED_IN_FORMAT_3:
                content["machine"].pop(name, None)
        if content.get("steadiness"):
            for name in _steadiness_fields_after(self.format_version):
                content["steadiness"].pop(name, None)
        return content

    def content_checksum(self) -> str:
        canonical = json.dumps(self._content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_json(self) -> str:
        document = {"checksum": self.content_checksum(), **self._content()}
        return json.dumps(document, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "<profile>") -> Profile:
        document = _profile_document(text, where)
        _check_format(document, where)
        stored = document.pop("checksum", None)
        try:
            profile = cls.model_validate(document)
        except ValidationError as e:
            first = e.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ProfileError(f"{where}: not a valid profile: {loc}: {first['msg']}") from None
        if stored != profile.content_checksum():
            raise ProfileError(
                f"{where}: its figures do not match its checksum (edited or corrupted); "
                "refusing to use it: run 'wasm-advisor calibrate' again or import a good copy"
            )
        return profile

    def save(self, path: str | Path) -> Path:
        """Write this profile to ``path`` atomically."""
        p = Path(path)
        data = self.to_json().encode()
        try:
            write_atomically(p, data)
        except OSError as e:
            raise ProfileError(f"{p}: cannot write the profile: {e.strerror or e}; nothing "
                               "was changed there") from e
        return p

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        p = Path(path)
        try:
            if p.stat().st_size > MAX_PROFILE_BYTES:
                raise ProfileError(f"{p}: larger than {MAX_PROFILE_BYTES >> 20} MiB: "
                                   "not a profile")
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileError(f"{p}: no such profile") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ProfileError(f"{p}: cannot read the profile: {e}") from e
        return cls.from_json(text, str(p))


class ProfileStore:
    """The profiles saved on this machine, one JSON file each."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    @property
    def folder(self) -> Path:
        return self.root / "profiles"

    def save(self, profile: Profile) -> Path:
        """Write ``profile`` into the store, atomically, one writer at a time.

        Every other profile in the store is left as it was, whatever happens:
        a full disk or a read-only folder raises :class:`ProfileError` naming
        the file, and the previous file (if any) still loads.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ProfileError(f"{self.folder}: cannot create the profile folder: "
                               f"{e.strerror or e}") from e
        with save_lock(self.root):
            return profile.save(self.folder / f"profile-{profile.id}.json")

    def calibrating(self) -> AbstractContextManager[None]:
        """Hold this store's calibration lock; a :class:`ProfileError` at once if another
        calibration holds it (see :mod:`wasm_advisor.profiles._locks`)."""
        return calibration_lock(self.root)

    def paths(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("profile-*.json"))

    def entries(self) -> list[tuple[Path, Profile | ProfileError]]:
        """Every saved profile, or the reason it cannot be used, oldest first."""
        out: list[tuple[Path, Profile | ProfileError]] = []
        for path in self.paths():
            try:
                out.append((path, Profile.load(path)))
            except ProfileError as e:
                out.append((path, e))
        return out

    def latest(self, machine_id: str | None = None, *, here: bool = False,
               steady: bool = False) -> Profile | None:
        """The newest good profile; bad files are skipped. ``machine_id``: of that machine
        id only; ``here``: of this machine only (:attr:`Profile.measured_here`, which
        also knows this machine's profiles from before format 3); ``steady``: none the
        calibration marked unsteady (one not checked is kept)."""
        good = [p for _, p in self.entries() if isinstance(p, Profile)]
        if machine_id is not None:
            good = [p for p in good if p.machine.id == machine_id]
        if here:
            good = [p for p in good if p.measured_here]
        if steady:
            good = [p for p in good if p.steady is not False]
        return max(good, key=lambda p: p.created) if good else None

    def find(self, ref: str) -> Profile:
        """A saved profile by id (or a unique prefix of it), or a path to a profile file."""
        if Path(ref).is_file():
            return Profile.load(ref)
        matches = [p for p in self.paths() if p.stem.removeprefix("profile-").startswith(ref)]
        if len(matches) != 1:
            known = ", ".join(p.stem.removeprefix("profile-") for p in self.paths()) or "none"
            what = "no" if not matches else "more than one"
            raise ProfileError(f"{what} saved profile matches {ref!r} (saved: {known})")
        return Profile.load(matches[0])

    def import_file(self, path: str | Path) -> Path:
        """Check the profile at ``path`` and copy it into the store."""
        return self.save(Profile.load(path))


def reference_profiles() -> list[Profile]:
    """The reference profiles shipped with the package (measured elsewhere, labelled)."""

    return [Profile.load(path) for path in reference_profile_paths()]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def make_profile(**fields: Any) -> Profile:
    """A new profile for this machine, created now."""
    return Profile(created=now_utc(), machine=this_machine(), **fields)


def _profile_document(text: str, where: str) -> dict[str, Any]:
    """The JSON object a profile file holds, or a :class:`ProfileError` saying why not."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProfileError(
            f"{where}: truncated or not a profile (invalid JSON at line {e.lineno}); "
            "run 'wasm-advisor calibrate' again or import a good copy"
        ) from None
    except RecursionError:
        raise ProfileError(f"{where}: not a profile (nested too deeply)") from None
    if not isinstance(document, dict):
        raise ProfileError(f"{where}: not a profile (the top level is not an object)")
    return document


def _check_format(document: dict[str, Any], where: str) -> None:
    """A :class:`ProfileError` unless this wasm-advisor reads the document's format, and
    the document holds no field its format does not have."""
    version = document.get("format_version")
    if not isinstance(version, int):
        raise ProfileError(f"{where}: not a profile (no format_version)")
    if version > FORMAT_VERSION:
        raise ProfileError(
            f"{where}: profile format {version} is newer than this wasm-advisor reads "
            f"({FORMAT_VERSION}); upgrade wasm-advisor"
        )
    if version < OLDEST_READABLE_VERSION:
        raise ProfileError(
            f"{where}: profile format {version} is too old (this wasm-advisor reads "
            f"{OLDEST_READABLE_VERSION} to {FORMAT_VERSION}); run 'wasm-advisor "
            "calibrate' again"
        )
    added = _fields_added_since(document, version)
    if added:
        raise ProfileError(f"{where}: not a valid profile: {added[0]}: a format "
                           f"{version} profile has no such field")


def _fields_added_since(document: dict[str, Any], version: int) -> list[str]:
    """The fields of a later format that a file of format ``version`` carries."""
    machine, steadiness = document.get("machine"), document.get("steadiness")
    added = ["steadiness"] if version < 3 and "steadiness" in document else []
    if version < 3 and isinstance(machine, dict):
        added += [f"machine.{n}" for n in ADDED_IN_FORMAT_3 if n in machine]
    if isinstance(steadiness, dict):
        added += [f"steadiness.{n}" for n in _steadiness_fields_after(version)
                  if n in steadiness]
    return added
