"""Qualitative traits of each runtime and mode, read from ``models/runtime-traits.toml``.

Each trait (maturity, security, wasi, small_devices) is a 1-5 score with a
reason and a source. The maturity objective of the score is their mean, scaled
to 0..1. Where a mode can run (architectures and device classes) is a hard
limit applied before scoring.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import AdvisorError
from ..files import data_folder

__all__ = ["TRAITS", "ModeTraits", "load_traits"]

TRAITS = ("maturity", "security", "wasi", "small_devices")


@dataclass(frozen=True)
class ModeTraits:
    key: str
    scores: dict[str, int]  # trait -> 1..5
    reasons: dict[str, str]
    sources: dict[str, str]
    architectures: tuple[str, ...] | None  # None: not listed, no limit applied
    device_classes: tuple[str, ...] | None
    where_reason: str
    where_source: str
    variant_of: str | None = None  # the mode this one is a configuration of
    # the mode whose generated code this one runs unchanged (an allocator setting): their
    # compute kernels measure the same code, and are fitted as one
    same_code_as: str | None = None
    # the mode whose compiler compiles this one's modules, run and timed the same way (WAMR's
    # AOT modes: the same wamrc, timed as its own process): their compile figure is one
    same_compiler_as: str | None = None
    # compiles a module's functions on a pool of one thread per core at once
    parallel_compile: bool = False
    # scans the bytecode for a block's end when it branches out of a block whose end it
    # has not cached (WAMR's classic interpreter): the only engines that pay for scans
    scans_block_ends: bool = False

    @property
    def maturity(self) -> float:
        """The maturity objective: the mean trait score scaled to 0..1."""
        return sum(self.scores.values()) / (5 * len(self.scores)) if self.scores else 0.5

    def cannot_run_on(self, arch: str, device_class: str) -> str | None:
        """Why this mode cannot run on the target, or None."""
        if self.architectures is not None and arch not in self.architectures:
            return f"does not run on {arch} ({self.where_reason} [{self.where_source}])"
        if self.device_classes is not None and device_class not in self.device_classes:
            return (f"is not suited to {device_class} devices ({self.where_reason} "
                    f"[{self.where_source}])")
        return None


@cache
def load_traits() -> dict[str, ModeTraits]:
    """Traits by runtime:mode key, and by runtime name for modes not listed."""
    path = data_folder("models") / "runtime-traits.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise AdvisorError(f"{path}: cannot read the runtime traits: {e}") from e
    out = {name: _runtime_traits(name, entry) for name, entry in data.get("runtime", {}).items()}
    for key, entry in data.get("mode", {}).items():
        out[key] = _mode_traits(key, entry, out.get(key.split(":")[0]))
    return out


def _runtime_traits(name: str, entry: dict[str, Any]) -> ModeTraits:
    """A runtime's own traits: a score, its reason and its source per trait."""
    listed = [t for t in TRAITS if t in entry]
    return ModeTraits(
        key=name,
        scores={t: int(entry[t]["score"]) for t in listed},
        reasons={t: str(entry[t]["reason"]) for t in listed},
        sources={t: str(entry[t]["source"]) for t in listed},
        architectures=None, device_classes=None, where_reason="", where_source="",
        parallel_compile=bool(entry.get("parallel_compile", False)),
    )


def _mode_traits(key: str, entry: dict[str, Any], base: ModeTraits | None) -> ModeTraits:
    """A mode's traits: its runtime's (``base``), with the scores and settings the mode
    gives of its own."""
    scores = dict(base.scores) if base else {}
    scores.update({t: int(entry[t]) for t in TRAITS if t in entry})
    return ModeTraits(
        key=key, scores=scores,
        reasons=dict(base.reasons) if base else {},
        sources=dict(base.sources) if base else {},
        architectures=tuple(entry.get("architectures", ())) or None,
        device_classes=tuple(entry.get("device_classes", ())) or None,
        where_reason=str(entry.get("reason", "")),
        where_source=str(entry.get("source", "")),
        variant_of=_optional(entry, "variant_of"),
        same_code_as=_optional(entry, "same_code_as"),
        same_compiler_as=_optional(entry, "same_compiler_as"),
        parallel_compile=bool(entry.get("parallel_compile",
                                        base.parallel_compile if base else False)),
        scans_block_ends=bool(entry.get("scans_block_ends", False)),
    )


def _optional(entry: dict[str, Any], name: str) -> str | None:
    return str(entry[name]) if name in entry else None


def traits_for(key: str) -> ModeTraits | None:
    traits = load_traits()
    return traits.get(key) or traits.get(key.split(":")[0])
