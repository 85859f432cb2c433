"""The fingerprint of the machine measurements come from.

Every profile carries one. A fingerprint says two things apart:

- the machine's **type** (``type_id``): CPU model, CPU flags, the CPU's nominal
  frequency, cores, memory (whole GiB) and architecture. Two VMs of one instance type
  share it, and so would run the same code at about the same speed;
- the **host** (``host_id``): what tells this machine from another of the same type.
  ``/etc/machine-id`` alone does not: a VM image carries it, so every VM made from the
  image has the same one (the shipped reference profile's VM and this one share it, and
  their host names). The host digest is over the machine-id, the host name, the boot
  disk's serial number (``/sys/block/<disk>/serial``, which the hypervisor gives each
  VM's disk) and the kernel release (a kernel upgrade changes what is measured, so a
  profile made under another kernel is not this machine's as it is now). The boot id is
  left out on purpose: it changes at every boot, and a desktop's profile should survive
  a reboot.

``id`` is a digest of both: two fingerprints with the same ``id`` are this machine.
:func:`relation` tells ``"here"``, ``"same type"`` or ``"elsewhere"``. Fingerprints
saved before ``type_id``/``host_id`` existed (profile format 2) are compared by the
fields they have: their ``id`` (the old digest), host name and kernel must all match
this machine's for them to be "here".
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from functools import cache
from pathlib import Path
from typing import Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Machine", "Relation", "relation", "this_machine"]

Relation = Literal["here", "same type", "elsewhere"]


class Machine(BaseModel):
    """CPU, cores, memory, OS and Python of a machine, and ids derived from them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id of this machine: a digest of type_id and host_id "
                    "(in profiles before format 3, of the machine-id, CPU, cores, memory, arch).")
    hostname: str = Field(description="Host name when measured.")
    cpu_model: str = Field(description="CPU model name.")
    cores: int = Field(description="Logical CPU cores.")
    memory_bytes: int = Field(description="Physical memory in bytes.")
    arch: str = Field(description="Machine architecture, e.g. x86_64.")
    os: str = Field(description="Operating system and kernel release.")
    python: str = Field(description="Python version of the harness.")
    last_level_cache_bytes: int | None = Field(
        default=None, description="Size of the largest CPU cache, when the OS tells."
    )
    type_id: str | None = Field(
        default=None, description="Digest of the machine's type: CPU model, CPU flags, "
        "nominal MHz, cores, memory (GiB), arch. None in profiles before format 3.")
    host_id: str | None = Field(
        default=None, description="Digest of what tells this host from another of its type: "
        "machine-id, host name, boot disk serial, kernel release. None before format 3.")
    cpu_mhz: float | None = Field(default=None, description="The CPU's nominal frequency "
                                  "(MHz, rounded to 100), when the OS tells.")
    cpu_flags_digest: str | None = Field(default=None, description="Digest of the CPU's "
                                         "feature flags, when the OS tells.")


# fields that profile format 3 added (a format-2 profile's checksum does not cover them)
ADDED_IN_FORMAT_3 = ("type_id", "host_id", "cpu_mhz", "cpu_flags_digest")


def _cpuinfo(key: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == key:
                return value.strip()
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def _cpu_mhz() -> float | None:
    # the nominal (maximum) frequency where cpufreq tells it; else cpuinfo's, which on a VM
    # is the host's constant TSC rate; rounded so that jitter does not change the type
    try:
        khz = float(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text())
        return round(khz / 1000 / 100) * 100.0
    except (OSError, ValueError):
        pass
    text = _cpuinfo("cpu mhz")
    try:
        return round(float(text) / 100) * 100.0 if text else None
    except ValueError:
        return None


def _cpu_flags_digest() -> str | None:
    flags = _cpuinfo("flags") or _cpuinfo("features")  # x86 / arm
    if not flags:
        return None
    return hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest()[:16]


def _last_level_cache() -> int | None:
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text().strip().upper()
        except OSError:
            continue
        factor = {"K": 1024, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * factor)
    return max(sizes) if sizes else None


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return socket.gethostname()


def _boot_disk_serial() -> str:
    """The serial number of the disk ``/`` is mounted from, where the OS exposes one."""
    try:
        source = next(line.split(" - ", 1)[1].split()[1]
                      for line in Path("/proc/self/mountinfo").read_text().splitlines()
                      if line.split()[4] == "/")
    except (OSError, StopIteration, IndexError):
        return ""
    block = Path("/sys/class/block") / Path(source).name
    try:
        if (block / "partition").exists():  # a partition: its disk holds the serial
            block = block.resolve().parent
    except OSError:
        return ""
    for name in ("serial", "device/serial", "wwid", "device/wwid"):
        try:
            value = (block / name).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return ""


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@cache
def legacy_id() -> str:
    """This machine's id as profiles before format 3 computed it."""
    memory = psutil.virtual_memory().total
    return _digest([_machine_id(), _cpu_model(), str(os.cpu_count() or 1),
                    str(round(memory / 2**30)), platform.machine()])


@cache
def this_machine() -> Machine:
    """The fingerprint of the machine this process runs on."""
    cpu, cores = _cpu_model(), os.cpu_count() or 1
    memory = psutil.virtual_memory().total
    arch = platform.machine()
    mhz, flags = _cpu_mhz(), _cpu_flags_digest()
    type_id = _digest([cpu, flags or "", str(mhz or ""), str(cores),
                       str(round(memory / 2**30)), arch])
    host_id = _digest([_machine_id(), socket.gethostname(), _boot_disk_serial(),
                       platform.release()])
    return Machine(
        id=_digest([type_id, host_id]),
        hostname=socket.gethostname(),
        cpu_model=cpu,
        cores=cores,
        memory_bytes=memory,
        arch=arch,
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        last_level_cache_bytes=_last_level_cache(),
        type_id=type_id,
        host_id=host_id,
        cpu_mhz=mhz,
        cpu_flags_digest=flags,
    )


def relation(machine: Machine, here: Machine | None = None) -> Relation:
    """Whether ``machine`` is this one (``here``), one of the same type, or another.

    A fingerprint from before format 3 (no ``type_id``) is "here" only where its old
    digest, host name and kernel all match this machine's, and "same type" where its CPU
    model, cores, memory (GiB) and architecture do.
    """
    here = here or this_machine()
    if machine.type_id is not None and here.type_id is not None:
        if machine.id == here.id:
            return "here"
        return "same type" if machine.type_id == here.type_id else "elsewhere"
    if here is this_machine() and machine.id == legacy_id() and (
            machine.hostname, machine.os) == (here.hostname, here.os):
        return "here"
    if machine.id == here.id:  # a copy of a fingerprint (tests build them so)
        return "here"
    same = ((machine.cpu_model, machine.cores, machine.arch,
             round(machine.memory_bytes / 2**30))
            == (here.cpu_model, here.cores, here.arch, round(here.memory_bytes / 2**30)))
    return "same type" if same else "elsewhere"
