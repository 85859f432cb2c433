"""Wasmer through ``wasmer-sdk`` (binding: ``wasmer-sdk``), in the worker's process.

``wasmer-sdk`` runs the current Wasmer engine (Cranelift) inside a WASIX
sandbox, offline, from module bytes. The old ``wasmer`` package is not used:
it has no build for Python 3.11 or newer.

Every figure that goes through this binding includes the sandbox's per-run
overhead (creating the sandbox, its in-memory file system and process); the
empty module's time to first instruction measures that overhead on its own, so
the engine's own share can be shown beside it.

A run compiles the module unless the request asks for a precompiled module:
then the compiled artifact in the SDK's on-disk cache (from an earlier run of
the same bytes) is loaded instead. The SDK mounts no host folders: the files of
a run's directory are packaged with the module at the guest's root, where the
guest resolves relative paths (up to 256 MiB). The sandbox's network is
disabled: a guest's sockets reach nothing.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
import weakref
from collections.abc import Sequence
from functools import cache
from importlib import metadata, util
from pathlib import Path
from typing import Any

from .base import Availability, Mode, RunRequest, RunResult, RuntimeAdapter
from .resident_growth import (
    growth_record,
    library_record,
    module_record,
    release_free_memory,
    resident_bytes,
)
from .run_outcome import time_limit_trap

CACHE_PREFIX = "wasm-advisor-wasmer-"
MAX_LIVE_SANDBOXES = 128  # for the memory figure: see WasmerAdapter.instance_memory

__all__ = ["WasmerAdapter"]

BINDING = "wasmer-sdk"
MAX_WORKDIR_BYTES = 256 << 20
_MODE = Mode(
    "wasmer", "cranelift", BINDING, "Wasmer · Cranelift (WASIX sandbox)",
    notes="wasmer-sdk runs every module in a WASIX sandbox", jit=True,
)


@cache
def _engine_versions() -> dict[str, str]:
    """Versions of the engine crates built into the SDK's native library."""
    import wasmer_sdk

    library = Path(wasmer_sdk.__file__).with_name("libwasmer_sdk_uniffi.so")
    found: dict[str, str] = {}
    try:
        data = library.read_bytes()
    except OSError:
        return found
    for name in (b"wasmer-wasix", b"cranelift-codegen"):
        match = re.search(re.escape(name) + rb"-(\d+\.\d+\.\d+)", data)
        if match:
            found[name.decode()] = match.group(1).decode()
    return found


def _workdir_files(workdir: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(workdir.rglob("*")):
        if path.is_file():
            total += path.stat().st_size
            if total > MAX_WORKDIR_BYTES:
                raise OSError(f"{workdir} holds more than {MAX_WORKDIR_BYTES >> 20} MiB")
            files[f"/{path.relative_to(workdir).as_posix()}"] = path.read_bytes()
    return files


def _result(output: Any, timeout_s: float, realtime: int, wall: int) -> RunResult:
    """The result of a sandbox's command that ran: its ``output`` (an SDK ``Output``)."""
    from wasmer_sdk import ExitReason

    trap = None
    limit_hit = None
    if output.reason is ExitReason.TIMEOUT:
        trap, limit_hit = time_limit_trap(timeout_s), "time"
    elif output.reason is not ExitReason.EXITED:
        trap = f"process {output.reason.value}"
    elif output.exit_code != 0:
        lines = output.stderr.text(errors="replace").strip().splitlines()
        trap = lines[-1] if lines else None
    return RunResult(
        exit_code=output.exit_code if output.reason is ExitReason.EXITED else 134,
        stdout=output.stdout.text(errors="replace"),
        stderr=output.stderr.text(errors="replace"),
        host_start_realtime_ns=realtime,
        wall_ns=wall,
        trap=trap,
        limit_hit=limit_hit,
    )


class WasmerAdapter(RuntimeAdapter):
    name = "wasmer"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cache = tempfile.mkdtemp(prefix=CACHE_PREFIX)
        # the shared cache goes with the adapter (or at exit): artifacts are megabytes each
        weakref.finalize(self, shutil.rmtree, self._cache, ignore_errors=True)
        self._client: Any = None

    def availability(self) -> Availability:
        try:
            import wasmer_sdk  # noqa: F401
        except Exception as e:
            return Availability(False, reason=f"wasmer-sdk cannot be imported here: {e}")
        versions = _engine_versions()
        engine = ", ".join(f"{k} {v}" for k, v in versions.items())
        return Availability(True, version=metadata.version("wasmer-sdk"),
                            details={"binding": BINDING, "engine": engine})

    def modes(self) -> list[Mode]:
        return [_MODE]

    def _run_async(self, coroutine: Any) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    async def _shared_client(self) -> Any:
        from wasmer_sdk import Wasmer

        if self._client is None:
            self._client = Wasmer(cache_root=self._cache)
        return self._client

    async def _run(self, request: RunRequest) -> RunResult:
        # compiling: a client with an empty cache of its own, removed after the timed run
        fresh_cache = None if request.precompiled else tempfile.mkdtemp(prefix=CACHE_PREFIX)
        try:
            return await self._timed_run(request, fresh_cache)
        finally:
            if fresh_cache is not None:
                shutil.rmtree(fresh_cache, ignore_errors=True)

    async def _timed_run(self, request: RunRequest, fresh_cache: str | None) -> RunResult:
        from wasmer_sdk import (
            NetworkPolicy,
            PackageCommandDefinition,
            PackageDefinition,
            Wasmer,
            WasmerError,
        )

        files = _workdir_files(request.workdir) if request.workdir is not None else {}
        realtime, start = RunResult.clock()
        # Compiling: a client with an empty cache; loading a precompiled module:
        # the shared client, whose cache holds the artifact of an earlier run.
        fresh = None if fresh_cache is None else Wasmer(cache_root=fresh_cache)
        client = fresh or await self._shared_client()
        try:
            if files:
                package = await client.packages.create(PackageDefinition(
                    modules={"module": request.module},
                    commands={"main": PackageCommandDefinition(module="module")},
                    files=files))
            else:
                package = await client.packages.load(request.module)
            # no host network, whatever the SDK's default becomes
            sandbox = await client.sandboxes.create(packages=[package], env=dict(request.env),
                                                    network=NetworkPolicy.DISABLED)
            try:
                output = await sandbox.command(package, list(request.argv)).run(
                    timeout=request.timeout_s, check=False)
            finally:
                await sandbox.close()
        except WasmerError as e:
            return RunResult(exit_code=255, stdout="", stderr=str(e),
                             host_start_realtime_ns=realtime,
                             wall_ns=time.perf_counter_ns() - start,
                             trap=f"{e.code}: {str(e).splitlines()[0] if str(e) else ''}"[:300])
        finally:
            if fresh is not None:
                await fresh.close()
        wall = time.perf_counter_ns() - start
        return _result(output, request.timeout_s, realtime, wall)

    def run(self, mode: Mode, request: RunRequest) -> RunResult:
        result: RunResult = self._run_async(self._run(request))
        return result

    def instance_memory(self, mode: Mode, module_bytes: bytes, instances: int,
                        code_modules: Sequence[bytes] = (), code_bytes: int = 0
                        ) -> dict[str, Any]:
        """Resident memory with one live sandbox that ran the module, and per extra one;
        with ``code_modules`` (distinct modules of ``code_bytes`` of code each), the memory
        each loaded package holds, read while the sandboxes stay live.

        At most :data:`MAX_LIVE_SANDBOXES`: each sandbox is heavier than an
        instance, the growth per sandbox falls as more are live (51 KiB each at
        64 here, 33 KiB at 256, 10 KiB at 512), and at 512 the SDK once aborted.
        """
        instances = min(instances, MAX_LIVE_SANDBOXES)
        baseline = resident_bytes()
        library = library_record(_library_path())
        figures: dict[str, Any] = {}

        async def measure() -> list[int]:
            client = await self._shared_client()
            figures["runtime_bytes"] = resident_bytes() - baseline
            package = await client.packages.load(module_bytes)
            live = []
            resident = []
            for _ in range(instances):
                sandbox = await client.sandboxes.create(packages=[package], network="disabled")
                await sandbox.command(package).run(check=False)
                live.append(sandbox)
                resident.append(resident_bytes())
            if code_modules:
                packages, after = [], []
                release_free_memory()  # what was freed before is not theirs
                for copy in code_modules:
                    packages.append(await client.packages.load(copy))
                    after.append(resident_bytes())
                figures.update(module_record(after, code_bytes))
            for sandbox in live:
                await sandbox.close()
            return resident

        record = growth_record(self._run_async(measure()), baseline,
                               "resident memory of the worker with live sandboxes, Python's "
                               "baseline subtracted; includes the WASIX sandbox")
        return {**record, **library, **figures}


@cache
def _library_path() -> str | None:
    """The native library of the ``wasmer_sdk`` package (engine, WASIX sandbox and the
    bindings' glue in one file), found without importing it."""
    spec = util.find_spec("wasmer_sdk")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.so"))
        if found:
            return str(found[0])
    return None
