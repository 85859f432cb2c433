"""WAMR through its own executables, ``iwasm`` and ``wamrc`` (binding: ``iwasm CLI``).

No package registry ships WAMR, so this adapter drives the binaries you have:
given as arguments, named in ``$WASM_ADVISOR_IWASM`` (several, separated by
``:``) and ``$WASM_ADVISOR_WAMRC``, or found on ``PATH`` as ``iwasm`` and
``wamrc``. Several ``iwasm`` builds may be given, one per mode.

Modes are found by trying each binary, never from its file name:

- ``llvm-jit``: the binary runs a module with ``--llvm-jit``;
- ``fast-interp`` / ``classic-interp``: the binary runs a module with
  ``--interp``; which interpreter it is comes from the build itself (a
  classic-interpreter build carries the ``wasm_interp_classic.c`` marker,
  since WAMR has no flag that reports it);
- ``aot``: ``wamrc`` compiles a module and a binary runs the artifact.

The same adapter offers WAMR embedded in-process through ``libiwasm.so``
(modes ``*-embedded``, binding ``libiwasm (in-process)``): see
:mod:`wasm_advisor.runtimes.wamr_embedded`, to which those modes are handed.

Every run of a CLI mode is one ``iwasm`` process, so figures include starting it; its peak
resident memory is sampled from ``/proc`` while it runs (a lower bound, within
a fraction of a millisecond of the end). The interpreter's stack and the WASI
heap are passed explicitly (``--stack-size``, ``--heap-size``): WAMR's 64 KiB
default stack is too small for real programs.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import RuntimeUnavailableError
from .base import Availability, Mode, RunRequest, RunResult, RuntimeAdapter
from .run_outcome import memory_limit_trap, time_limit_trap
from .wamr_embedded import EmbeddedWamr, libiwasm_candidates, linked_libiwasm
from .wamrc_artifacts import ArtifactCache

__all__ = ["WamrAdapter"]

BINDING = "iwasm CLI"
STACK_SIZE = 1 << 20  # interpreter operand/frame stack, bytes (8 MiB adds ~4 ms per start)
HEAP_SIZE = 0  # WASI programs allocate inside linear memory
PROBE_TIMEOUT_S = 20.0
DRAIN_S = 2.0  # longest wait for the last output once the process has ended
SAMPLE_S = 0.002  # how often iwasm's resident memory is read while it runs
POLL_S = 0.0002  # how often the exit is polled for where no pidfd tells of it
IWASM_OWN_BYTES = 32 << 20  # iwasm's own resident memory, allowed above a run's memory limit
_EMPTY = (  # (module (memory (export "memory") 1) (func (export "_start")))
    b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x05\x03\x01\0\x01"
    b"\x07\x13\x02\x06memory\x02\0\x06_start\0\0\x0a\x04\x01\x02\0\x0b"
)
_VERSION = re.compile(rb"iwasm\s+(\d+\.\d+\.\d+)")
ADDR_NO_RANDOMIZE = 0x0040000  # personality(2) flag: processes started now keep one layout


@dataclass(frozen=True)
class _Binary:
    path: str
    version: str
    flags: tuple[str, ...]  # what selects the mode on this binary


def candidates(given: list[str] | None, env: str, name: str) -> list[str]:
    """Executables to try: those ``given``, else the ``env`` variable's (several, separated
    by ``:``), else ``name`` on ``PATH``."""
    if given:
        return list(given)
    from_env = [p for p in os.environ.get(env, "").split(os.pathsep) if p]
    if from_env:
        return from_env
    found = shutil.which(name)
    return [found] if found else []


def _run_quietly(cmd: list[str], timeout: float | None = None,
                 cwd: str | None = None) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(cmd, capture_output=True, cwd=cwd,
                              timeout=PROBE_TIMEOUT_S if timeout is None else timeout,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None


class WamrAdapter(RuntimeAdapter):
    name = "wamr"

    def __init__(self, iwasm: list[str] | str | None = None, wamrc: str | None = None,
                 libiwasm: list[str] | str | None = None, keep_artifacts: bool = False) -> None:
        """``keep_artifacts``: reuse and keep on disk the AOT artifacts of modules whose
        compile is not timed (:mod:`.wamrc_artifacts`; the calibration's own modules)."""
        self._iwasm = candidates([iwasm] if isinstance(iwasm, str) else iwasm,
                                  "WASM_ADVISOR_IWASM", "iwasm")
        wamrc_list = candidates([wamrc] if wamrc else None, "WASM_ADVISOR_WAMRC", "wamrc")
        self._wamrc = wamrc_list[0] if wamrc_list else None
        self._embedded = EmbeddedWamr(
            libiwasm_candidates([libiwasm] if isinstance(libiwasm, str) else libiwasm,
                                self._iwasm),
            self._compile_aot if self._wamrc else None)
        self._workdir = Path(tempfile.mkdtemp(prefix="wasm-advisor-wamr-"))
        # artifacts and run folders go with the adapter (or at exit)
        weakref.finalize(self, shutil.rmtree, self._workdir, ignore_errors=True)
        self._artifacts: dict[str, Path] = {}
        self._kept = ArtifactCache(self._wamrc) if keep_artifacts and self._wamrc else None

    # ----- discovery -------------------------------------------------------------

    def _version(self, path: str) -> str | None:
        done = _run_quietly([path, "--version"], timeout=PROBE_TIMEOUT_S)
        if done is None:
            return None
        match = _VERSION.search(done.stdout + done.stderr)
        return match.group(1).decode() if match else None

    def _runs(self, cmd: list[str], module: Path) -> bool:
        # tried twice: a start that fails once (here, an iwasm rebuilt and replaced while a
        # calibration ran) would otherwise lose the mode, and the figures of the task that
        # was running, for the whole calibration
        for _ in range(2):
            done = _run_quietly([*cmd, str(module)])
            if done is not None and done.returncode == 0:
                return True
        return False

    def _empty(self, suffix: str = ".wasm") -> Path:
        path = self._workdir / f"empty{suffix}"
        if not path.exists():
            path.write_bytes(_EMPTY)
        return path

    @cached_property
    def _found(self) -> tuple[dict[str, _Binary], list[str]]:
        """Modes by name, with the binary and flags that run them; and why others were not."""
        modes: dict[str, _Binary] = {}
        problems: list[str] = []
        empty = self._empty()
        aot_artifact = None
        if self._wamrc:
            artifact = self._workdir / "empty.aot"
            done = _run_quietly([self._wamrc, "-o", str(artifact), str(empty)])
            if done is not None and done.returncode == 0 and artifact.exists():
                aot_artifact = artifact
            else:
                problems.append(f"{self._wamrc} is not a working wamrc")
        for path in self._iwasm:
            version = self._version(path)
            if version is None:
                problems.append(f"{path} is not WAMR's iwasm (no 'iwasm X.Y.Z' from --version)")
                continue
            if self._runs([path, "--llvm-jit"], empty):
                modes.setdefault("llvm-jit", _Binary(path, version, ("--llvm-jit",)))
            if self._runs([path, "--interp"], empty):
                kind = "classic-interp" if self._is_classic(path) else "fast-interp"
                modes.setdefault(kind, _Binary(path, version, ("--interp",)))
            if aot_artifact is not None and self._runs([path], aot_artifact):
                modes.setdefault("aot", _Binary(path, version, ()))
        return modes, problems

    @staticmethod
    def _is_classic(path: str) -> bool:
        """Whether the build has the classic interpreter: its marker is in the executable,
        or, for an iwasm built with ``-DBUILD_SHARED_LIBS=ON``, in the libiwasm it links."""
        for file in [path, *linked_libiwasm(path)]:
            try:
                if b"wasm_interp_classic.c" in Path(file).read_bytes():
                    return True
            except OSError:
                pass
        return False

    def samples_peak_memory(self, mode: Mode) -> bool:
        """Whether ``mode``'s memory is read by sampling a process (an iwasm per instance)
        rather than as in-process growth (see :meth:`instance_memory`)."""
        return not self._embedded.owns(mode)

    def availability(self) -> Availability:
        embedded = self._embedded.modes()
        if not self._iwasm and not self._embedded.libraries:
            return Availability(
                False,
                reason="no iwasm found, nor a libiwasm: put WAMR's iwasm on PATH, set "
                "WASM_ADVISOR_IWASM or WASM_ADVISOR_LIBIWASM, or pass --iwasm PATH or "
                "--libiwasm PATH (see docs/runtimes.md)",
            )
        modes, problems = self._found if self._iwasm else ({}, [])
        details = {m: b.path for m, b in modes.items()} | self._embedded.availability_details()
        if not modes and not embedded:
            return Availability(False, reason="; ".join(
                problems + [v for k, v in details.items() if k == "libiwasm problems"])
                or "iwasm ran no module")
        versions = sorted({b.version for b in modes.values()} | self._embedded.versions)
        if self._wamrc:
            details["wamrc"] = self._wamrc
        if problems:
            details["problems"] = "; ".join(problems)
        return Availability(True, version=", ".join(versions), details=details)

    def modes(self) -> list[Mode]:
        found, _ = self._found if self._iwasm else ({}, [])
        order = ["fast-interp", "classic-interp", "aot", "llvm-jit"]
        labels = {
            "fast-interp": ("WAMR · fast interpreter", False, False),
            "classic-interp": ("WAMR · classic interpreter", False, False),
            "aot": ("WAMR · AOT (wamrc)", False, True),
            "llvm-jit": ("WAMR · LLVM JIT", True, False),
        }
        out = []
        for name in order:
            if name in found:
                label, jit, pre = labels[name]
                out.append(Mode("wamr", name, BINDING, label, notes=f"{found[name].path}",
                                jit=jit, precompiled=pre, slow_compile=jit or pre,
                                fast_load=not (jit or pre), lazy_compile=jit))
        return out + self._embedded.modes()

    # ----- running -----------------------------------------------------------------

    def _module_file(self, module: bytes) -> tuple[Path, str]:
        digest = hashlib.sha256(module).hexdigest()[:24]
        path = self._workdir / f"{digest}.wasm"
        if not path.exists():
            path.write_bytes(module)
        return path, digest

    def _compile_aot(self, module: bytes, fresh: bool, timeout: float) -> tuple[Path, int | None]:
        """The AOT artifact for ``module`` and the wamrc time, when it compiled now."""
        wasm, digest = self._module_file(module)
        artifact = self._workdir / f"{digest}.aot"
        if not fresh:
            if digest in self._artifacts:
                return self._artifacts[digest], None
            kept = self._kept.get(digest) if self._kept else None
            if kept is not None:
                artifact.write_bytes(kept)
                self._artifacts[digest] = artifact
                return artifact, None
        if self._wamrc is None:
            raise RuntimeUnavailableError("the aot mode needs wamrc")
        start = time.perf_counter_ns()
        done = _run_quietly([self._wamrc, "-o", str(artifact), str(wasm)], timeout=timeout)
        elapsed = time.perf_counter_ns() - start
        if done is None or done.returncode != 0 or not artifact.exists():
            message = (done.stdout + done.stderr).decode(errors="replace") if done else ""
            reason = _wamr_error(message) or _last_line(message) or "timed out"
            raise RuntimeUnavailableError(f"wamrc failed: {reason}")
        self._artifacts[digest] = artifact
        if self._kept:
            self._kept.put(digest, artifact)
        return artifact, elapsed

    def instance_memory(self, mode: Mode, module_bytes: bytes, count: int,
                        baseline: bytes | None = None, code_modules: Sequence[bytes] = (),
                        code_bytes: int = 0) -> dict[str, object]:
        """Memory of the first instance and of each extra one.

        In-process modes: the worker's own growth (``EmbeddedWamr.instance_memory``), and
        with ``code_modules``, the memory each loaded module holds.
        CLI modes: peak memory of an iwasm process running the module, and the instance's own share.

        Through the CLI every instance is a process. The first figure is that
        process (the runtime's fixed memory included); the per-extra-instance
        figure is its increase over a process running the empty module, which
        is what one more instance costs where one runtime hosts many.

        A process's peak is read by sampling it while it runs
        (:meth:`samples_peak_memory`), so the module given should stay alive a
        moment after instantiating, and so should ``baseline``, the empty module
        it is compared with (the calibration's ``kernels.resident_module`` builds
        both). The two are run in alternation, ``max(5,
        count)`` pairs, the increase being the median of the pairs' differences:
        a quiet moment or a busy one then counts on both sides alike. With
        ``code_modules``, the first (a module of ``code_bytes`` of code that stays alive
        as long) is run against the empty module the same way: the increase, per code
        byte, is what a module's code adds to each process.
        """
        if self._embedded.owns(mode):
            return self._embedded.instance_memory(mode, module_bytes, count, code_modules,
                                                  code_bytes)
        if baseline is None:
            raise ValueError("a CLI mode's memory per instance is read against a baseline "
                             "module's process: none was given")
        empty = baseline

        def peak(module: bytes) -> int:
            result = self.run(mode, RunRequest(module, precompiled=True))
            if not result.peak_rss_bytes or result.exit_code != 0 or result.trap:
                # a run that crashed or failed says nothing about an instance's memory
                raise RuntimeUnavailableError("no memory sample from iwasm"
                                              + (f": {result.trap}" if result.trap else ""))
            return result.peak_rss_bytes

        # Address-space randomisation moves a process's peak by ±100 KiB from run to run,
        # as much as an instance's own share; without it the peak repeats to the page.
        with _fixed_address_layout() as fixed:
            pairs = [(peak(module_bytes), peak(empty)) for _ in range(max(5, count))]
            coded = [(peak(code_modules[0]), peak(empty)) for _ in range(max(5, count))] \
                if code_modules else []
        module = {} if not coded else {
            "module_bytes_per_code_byte": statistics.median_high(
                w - e for w, e in coded) / code_bytes,
            "module_code_bytes": code_bytes, "modules": len(coded),
            "module_method": f"peak RSS of an iwasm process running a module of "
                             f"{code_bytes:,} code bytes over one running the empty module, "
                             f"the median of {len(coded)} alternating pairs, per code byte"}
        return module | {
            "first_instance_bytes": statistics.median_high(w for w, _ in pairs),
            "per_extra_instance_bytes": max(0, statistics.median_high(w - e for w, e in pairs)),
            "instances": len(pairs),
            "method": "peak RSS of an iwasm process (the first figure), and its increase over "
                      "an iwasm process running the empty module (per extra instance), "
                      "the median of alternating pairs"
                      + ("" if fixed else "; address randomisation could not be turned off, "
                         "so each figure varies by about 100 KiB"),
        }

    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        if self._embedded.owns(mode):
            return self._embedded.run(mode, request)
        found, _ = self._found
        if mode.name not in found:
            raise RuntimeUnavailableError(f"WAMR mode {mode.name!r} is not available here")
        binary = found[mode.name]
        phases: dict[str, int] = {}
        if mode.name == "aot":
            try:
                target, compile_ns = self._compile_aot(
                    request.module, fresh=not request.precompiled, timeout=request.timeout_s)
            except RuntimeUnavailableError as e:
                realtime, _ = RunResult.clock()
                return RunResult(exit_code=255, stdout="", stderr=str(e),
                                 host_start_realtime_ns=realtime, wall_ns=0, trap=str(e))
            if compile_ns is not None:
                phases["compile"] = compile_ns
        else:
            target, _ = self._module_file(request.module)
        cmd = [binary.path, *binary.flags, f"--stack-size={STACK_SIZE}",
               f"--heap-size={HEAP_SIZE}"]
        cwd = None
        if request.workdir is not None:
            cmd.append("--dir=.")
            cwd = str(request.workdir)
        cmd += [f"--env={k}={v}" for k, v in request.env]
        cmd += [str(target), *request.argv]
        memory_limit = request.memory_limit_bytes if request.enforce_limits else None
        result = _spawn_timed(cmd, cwd, request.timeout_s, phases, memory_limit)
        if mode.name == "aot":
            result.artifact_bytes = target.stat().st_size
        return result


@contextlib.contextmanager
def _fixed_address_layout() -> Iterator[bool]:
    """Processes started inside run without address-space randomisation, where allowed.

    Sets this process's ``ADDR_NO_RANDOMIZE`` persona, which children inherit
    (what ``setarch -R`` does), and restores the old one on exit. Yields whether
    it took effect: outside Linux, or under a seccomp policy that forbids it, it
    does not.
    """
    try:
        personality = ctypes.CDLL(None, use_errno=True).personality
    except (OSError, AttributeError):
        yield False
        return
    personality.argtypes, personality.restype = [ctypes.c_ulong], ctypes.c_int
    old = personality(0xFFFFFFFF)  # only reads the current persona
    if old < 0 or personality(old | ADDR_NO_RANDOMIZE) < 0 or \
            not personality(0xFFFFFFFF) & ADDR_NO_RANDOMIZE:
        yield False
        return
    try:
        yield True
    finally:
        personality(old)


def _spawn_timed(cmd: list[str], cwd: str | None, timeout: float,
                 phases: dict[str, int], memory_limit: int | None = None) -> RunResult:
    """Run ``cmd``: its output, exit code, wall time and peak resident memory.

    With ``memory_limit``, the process is killed once its resident memory passes
    the limit plus :data:`IWASM_OWN_BYTES` (iwasm has no flag that caps a
    module's linear memory, so the process is capped instead).

    The process is started by ``subprocess.Popen``, which on Linux uses ``vfork``
    and changes into ``cwd`` itself. A plain ``fork`` would start the child as a
    copy of this (large) Python process, slowing the start and showing up in the
    child's peak resident memory; a shell to change directory (``posix_spawn``
    cannot) would add its own start, about half a millisecond, to every run with a
    working directory and not to runs without one.

    This process sleeps while iwasm runs: it wakes for output, for the exit (a
    pidfd says when, on Linux 5.3 and later) and every :data:`SAMPLE_S` to read
    iwasm's resident memory. Waking more often to poll for the exit slowed a
    5 ms run by up to 1.5 ms, more when both shared a core.
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    executable = shutil.which(cmd[0]) or cmd[0]
    realtime, start = RunResult.clock()
    try:
        # its own session: a timeout kills iwasm and anything it started, together
        process = subprocess.Popen([executable, *cmd[1:]], cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=out_w, stderr=err_w, start_new_session=True)
    finally:
        os.close(out_w)
        os.close(err_w)
    watch = _Watch(process.pid, out_r, err_r)
    cap = memory_limit + IWASM_OWN_BYTES if memory_limit is not None else None
    status, limit_hit = watch.until_exit(timeout, cap)
    wall = time.perf_counter_ns() - start
    process.returncode = code = os.waitstatus_to_exitcode(status)  # negative: a signal
    stdout, stderr = watch.output()
    if limit_hit == "memory":
        trap: str | None = memory_limit_trap(memory_limit or 0)
    elif limit_hit == "time":
        trap = time_limit_trap(timeout)
    else:
        trap = _exit_trap(code, stdout, stderr)
    return RunResult(exit_code=128 - code if code < 0 else code, stdout=stdout, stderr=stderr,
                     host_start_realtime_ns=realtime, wall_ns=wall, phases_ns=phases,
                     peak_rss_bytes=watch.peak or None, trap=trap, limit_hit=limit_hit)


class _Watch:
    """An iwasm process, watched by this one thread: both its pipes drained, its resident
    memory sampled, its exit awaited. (Reader threads would hand the GIL back only every
    switch interval, ~5 ms, and a short run would end before the first memory sample.)"""

    def __init__(self, pid: int, out_r: int, err_r: int) -> None:
        self.pid = pid
        self.out_r, self.err_r = out_r, err_r
        self.chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
        self.selector = selectors.DefaultSelector()
        for fd in self.chunks:
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ)
        self.exited = _exit_fd(pid)
        if self.exited is not None:
            self.selector.register(self.exited, selectors.EVENT_READ)
        self.peak = 0  # the resident memory's high-water mark, as last sampled

    def until_exit(self, timeout: float, cap: int | None) -> tuple[int, str | None]:
        """Wait for the process to exit, or kill it once it passes ``cap`` bytes or
        ``timeout`` seconds: its wait status, and the limit it hit ('memory', 'time')."""
        deadline = time.monotonic() + timeout
        status_file = f"/proc/{self.pid}/status"
        interval = SAMPLE_S if self.exited is not None else POLL_S
        while True:
            self.peak = max(self.peak, _high_water_mark(status_file))
            wait = max(0.0, min(interval, deadline - time.monotonic()))
            for key, _ in self.selector.select(timeout=wait):
                if key.fd != self.exited:
                    _drain(key.fd, self.chunks[key.fd], self.selector)
            waited, status, _ = os.wait4(self.pid, os.WNOHANG)
            if waited == self.pid:
                return status, None
            over_memory = cap is not None and self.peak > cap
            if over_memory or time.monotonic() > deadline:
                _kill_group(self.pid)
                _, status, _ = os.wait4(self.pid, 0)
                return status, "memory" if over_memory else "time"

    def output(self) -> tuple[str, str]:
        """Once the process has exited: kill what it started, and read the last of what it
        wrote (for up to :data:`DRAIN_S`); its stdout and stderr."""
        if self.exited is not None:
            self.selector.unregister(self.exited)
            os.close(self.exited)
        _kill_group(self.pid)  # nothing it started outlives it, or holds its pipes open
        drain_until = time.monotonic() + DRAIN_S
        while self.selector.get_map() and time.monotonic() < drain_until:  # what it wrote last
            for key, _ in self.selector.select(timeout=0.1):
                _drain(key.fd, self.chunks[key.fd], self.selector)
        for key in list(self.selector.get_map().values()):  # a pipe still open: give up on it
            self.selector.unregister(key.fd)
            os.close(key.fd)
        self.selector.close()
        return (b"".join(self.chunks[self.out_r]).decode(errors="replace"),
                b"".join(self.chunks[self.err_r]).decode(errors="replace"))


def _exit_trap(code: int, stdout: str, stderr: str) -> str | None:
    """The trap of an iwasm that exited by itself with ``code`` (negative: a signal)."""
    if code < 0:
        return f"iwasm was killed by signal {-code}"
    if code != 0:
        return _wamr_error(stdout) or _last_line(stderr)
    return None


# iwasm prints its own errors on stdout, among whatever the guest printed there.
_WAMR_ERROR = re.compile(
    r"^(Exception: .*|WASM module load failed: .*|AOT module load failed: .*|"
    r"Read file to buffer failed: .*|Error: .*)$", re.M)


def _wamr_error(stdout: str) -> str | None:
    found = _WAMR_ERROR.findall(stdout)
    return found[-1].strip() if found else None


def _last_line(text: str) -> str | None:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def _kill_group(pid: int) -> None:
    """Kill the process group ``pid`` leads (its session, started with ``setsid``)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _drain(fd: int, into: list[bytes], selector: selectors.BaseSelector) -> None:
    try:
        block = os.read(fd, 1 << 16)
    except BlockingIOError:
        return
    if block:
        into.append(block)
    else:
        selector.unregister(fd)
        os.close(fd)


def _exit_fd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (a pidfd), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        return None


def _high_water_mark(status_file: str) -> int:
    """The process's peak resident memory so far (VmHWM), 0 when it cannot be read.

    Sampled while the process runs, because its ``ru_maxrss`` can include this
    Python process: a spawned child shares the parent's memory until ``exec`` (in a
    CI run it once read 947 MB for ``sh -c 'pwd; sleep 0.05'``).
    """
    try:
        with open(status_file, "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
