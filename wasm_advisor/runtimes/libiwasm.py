"""A small ctypes layer over WAMR's embedding API (``wasm_export.h``) in a ``libiwasm.so``.

Only the documented API, as an embedder uses it: ``wasm_runtime_full_init`` with
the runtime's own (system) allocator, ``wasm_runtime_load`` of wasm or AOT bytes,
WASI arguments and preopens, ``wasm_runtime_instantiate_ex`` with explicit stack,
heap and memory limits, ``wasm_runtime_set_running_mode`` where a build has
several modes, ``wasm_runtime_call_wasm`` through an exec env, then
deinstantiate and unload. The traps this layer handles (WAMR 2.4.5):

- ``wasm_runtime_load`` writes into the buffer it is given and keeps pointers
  into it: each load gets a fresh ``ctypes.create_string_buffer`` copy, kept
  alive by :class:`LoadedModule` until it is unloaded;
- ``wasm_runtime_set_wasi_args_ex`` keeps the argv, directory and environment
  pointers: they live on the :class:`LoadedModule` too;
- every ``restype`` is set (ctypes' default ``int`` truncates a handle);
- a guest that calls ``proc_exit`` makes ``wasm_runtime_call_wasm`` fail with
  the exception ``wasi proc exit``: a normal end, whose status is
  ``wasm_runtime_get_wasi_exit_code``;
- WAMR installs SIGSEGV/SIGBUS handlers at init: ``faulthandler`` is enabled
  before that, never after (a trap would then abort the process);
- only the thread that initialised the runtime calls into it here (others would
  need ``wasm_runtime_init_thread_env``); ``wasm_runtime_terminate`` alone is
  called from a timer thread, as the header describes.

One process initialises one library at most: two WAMR runtimes would fight over
the signal handlers. Libraries can be opened and inspected without initialising.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from ..errors import RuntimeUnavailableError

__all__ = ["MODE_INTERP", "MODE_LLVM_JIT", "LibIwasm", "LoadedModule"]

MODE_INTERP, MODE_FAST_JIT, MODE_LLVM_JIT = 1, 2, 3  # RunningMode
_ALLOC_WITH_SYSTEM_ALLOCATOR = 2  # mem_alloc_type_t
ERROR_BUF_BYTES = 256
PROC_EXIT = "wasi proc exit"
TERMINATED = "terminated by user"

_p, _u32, _i64, _bool = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int64, ctypes.c_bool
_strings = ctypes.POINTER(ctypes.c_char_p)


class _AllocatorOption(ctypes.Structure):
    _fields_ = [("malloc_func", _p), ("realloc_func", _p), ("free_func", _p),
                ("user_data", _p)]


class _PoolOption(ctypes.Structure):
    _fields_ = [("heap_buf", _p), ("heap_size", _u32)]


class _MemAllocOption(ctypes.Union):
    _fields_ = [("pool", _PoolOption), ("allocator", _AllocatorOption)]


class RuntimeInitArgs(ctypes.Structure):
    """``RuntimeInitArgs`` of ``wasm_export.h`` (WAMR 2.x)."""

    _fields_ = [
        ("mem_alloc_type", ctypes.c_int),
        ("mem_alloc_option", _MemAllocOption),
        ("native_module_name", ctypes.c_char_p),
        ("native_symbols", _p),
        ("n_native_symbols", _u32),
        ("max_thread_num", _u32),
        ("ip_addr", ctypes.c_char * 128),
        ("unused", ctypes.c_int),
        ("instance_port", ctypes.c_int),
        ("fast_jit_code_cache_size", _u32),
        ("gc_heap_size", _u32),
        ("running_mode", ctypes.c_int),
        ("llvm_jit_opt_level", _u32),
        ("llvm_jit_size_level", _u32),
        ("segue_flags", _u32),
        ("enable_linux_perf", _bool),
    ]


class InstantiationArgs(ctypes.Structure):
    """``InstantiationArgs``: stack, host-managed heap and the largest linear memory."""

    _fields_ = [("default_stack_size", _u32), ("host_managed_heap_size", _u32),
                ("max_memory_pages", _u32)]


# name: (restype, argtypes); restype None is void
_API: dict[str, tuple[object, list[object]]] = {
    "wasm_runtime_full_init": (_bool, [ctypes.POINTER(RuntimeInitArgs)]),
    "wasm_runtime_destroy": (None, []),
    "wasm_runtime_get_version": (None, [ctypes.POINTER(_u32)] * 3),
    "wasm_runtime_is_running_mode_supported": (_bool, [ctypes.c_int]),
    "wasm_runtime_load": (_p, [_p, _u32, ctypes.c_char_p, _u32]),
    "wasm_runtime_unload": (None, [_p]),
    "wasm_runtime_set_wasi_args_ex": (None, [_p, _strings, _u32, _strings, _u32, _strings,
                                             _u32, _strings, ctypes.c_int, _i64, _i64, _i64]),
    "wasm_runtime_instantiate_ex": (_p, [_p, ctypes.POINTER(InstantiationArgs),
                                         ctypes.c_char_p, _u32]),
    "wasm_runtime_set_running_mode": (_bool, [_p, ctypes.c_int]),
    "wasm_runtime_deinstantiate": (None, [_p]),
    "wasm_runtime_lookup_function": (_p, [_p, ctypes.c_char_p]),
    "wasm_runtime_create_exec_env": (_p, [_p, _u32]),
    "wasm_runtime_destroy_exec_env": (None, [_p]),
    "wasm_runtime_call_wasm": (_bool, [_p, _p, _u32, ctypes.POINTER(_u32)]),
    "wasm_runtime_get_exception": (ctypes.c_char_p, [_p]),
    "wasm_runtime_clear_exception": (None, [_p]),
    "wasm_runtime_get_wasi_exit_code": (_u32, [_p]),
    "wasm_runtime_terminate": (None, [_p]),
    "wasm_runtime_get_default_memory": (_p, [_p]),
    "wasm_memory_get_cur_page_count": (ctypes.c_uint64, [_p]),
}

_initialised: dict[str, LibIwasm] = {}  # the one library this process initialised


def _array(items: Sequence[bytes]) -> ctypes.Array[ctypes.c_char_p]:
    return (ctypes.c_char_p * max(1, len(items)))(*items)


class LibIwasm:
    """One ``libiwasm.so``: opened and checked at construction, initialised on demand.

    Raises :class:`~wasm_advisor.errors.RuntimeUnavailableError` naming the path
    when the file cannot be opened or lacks a symbol of the API (a library that
    is not WAMR's, or a build without WASI).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # a bare name is left to the dynamic loader's search, as dlopen does
        self.path = str(Path(path).resolve()) if os.sep in str(path) else str(path)
        try:
            self._lib = ctypes.CDLL(self.path)
        except OSError as e:
            raise RuntimeUnavailableError(f"{path} could not be opened as a shared "
                                          f"library: {e}") from e
        missing = [name for name in _API if not hasattr(self._lib, name)]
        if "wasm_runtime_full_init" in missing:
            raise RuntimeUnavailableError(f"{path} is not WAMR's libiwasm (it has no "
                                          "wasm_runtime_full_init)")
        if missing:
            raise RuntimeUnavailableError(f"{path} lacks {', '.join(missing)} of WAMR's "
                                          "embedding API (a build without libc-wasi?)")
        for name, (restype, argtypes) in _API.items():
            function = getattr(self._lib, name)
            function.restype = restype
            function.argtypes = argtypes
        self.api = self._lib

    @cached_property
    def version(self) -> str:
        parts = [_u32() for _ in range(3)]
        self.api.wasm_runtime_get_version(*(ctypes.byref(p) for p in parts))
        return ".".join(str(p.value) for p in parts)

    def supports(self, running_mode: int) -> bool:
        """Whether the build has ``running_mode`` (a compile-time check, no init needed)."""
        return bool(self.api.wasm_runtime_is_running_mode_supported(running_mode))

    @cached_property
    def interpreter(self) -> str | None:
        """'classic' or 'fast': which interpreter the build has (from its source markers,
        since the API does not say), None without one."""
        if not self.supports(MODE_INTERP):
            return None
        try:
            data = Path(self.path).read_bytes()
        except OSError:
            return None
        return "classic" if b"wasm_interp_classic.c" in data else "fast"

    @cached_property
    def runs_aot(self) -> bool:
        """Whether the build has the AOT runtime (its AOT loader is linked in)."""
        return hasattr(self._lib, "aot_load_from_aot_file")

    @property
    def several_modes(self) -> bool:
        return sum(self.supports(m) for m in (MODE_INTERP, MODE_FAST_JIT, MODE_LLVM_JIT)) > 1

    def init(self) -> None:
        """Initialise the runtime in this process and thread, once."""
        if _initialised.get(self.path) is self:
            return
        if _initialised:
            other = next(iter(_initialised))
            raise RuntimeUnavailableError(f"this process already runs WAMR from {other}; "
                                          f"{self.path} needs a process of its own")
        if not faulthandler.is_enabled():  # before WAMR's signal handlers, never after
            faulthandler.enable()
        args = RuntimeInitArgs()
        args.mem_alloc_type = _ALLOC_WITH_SYSTEM_ALLOCATOR
        if not self.api.wasm_runtime_full_init(ctypes.byref(args)):
            raise RuntimeUnavailableError(f"wasm_runtime_full_init failed in {self.path}")
        _initialised[self.path] = self


class LoadedModule:
    """A module loaded into an initialised :class:`LibIwasm`, and what must outlive it:
    the bytes' buffer and the WASI arguments. Unload with :meth:`unload` (or ``with``)."""

    def __init__(self, lib: LibIwasm, data: bytes) -> None:
        self.lib, self.api = lib, lib.api
        # WAMR writes into the buffer and keeps pointers into it until unload
        self._buffer = ctypes.create_string_buffer(data, len(data))
        self._wasi: list[object] = []
        error = ctypes.create_string_buffer(ERROR_BUF_BYTES)
        self.handle = self.api.wasm_runtime_load(self._buffer, len(data), error,
                                                 ERROR_BUF_BYTES)
        if not self.handle:
            raise LoadError(error.value.decode(errors="replace") or "wasm_runtime_load failed")

    def set_wasi(self, argv: Sequence[str], *, workdir: Path | None = None,
                 env: Sequence[tuple[str, str]] = (), stdout_fd: int = -1,
                 stderr_fd: int = -1, stdin_fd: int = -1) -> None:
        """WASI arguments for the instances made after this; ``workdir`` is the guest's
        ``.``; the guest's stdio goes to the descriptors given (-1: this process's)."""
        args = _array([a.encode() for a in argv])
        maps = _array([f".::{workdir}".encode()] if workdir is not None else [])
        envs = _array([f"{k}={v}".encode() for k, v in env])
        self._wasi = [args, maps, envs]  # WAMR keeps these pointers
        self.api.wasm_runtime_set_wasi_args_ex(
            self.handle, None, 0, maps, 1 if workdir is not None else 0, envs, len(env),
            args, len(argv), stdin_fd, stdout_fd, stderr_fd)

    def instantiate(self, stack_bytes: int, heap_bytes: int, max_pages: int = 0) -> int:
        """A new instance (a handle); ``max_pages`` 0 leaves the module's own maximum."""
        args = InstantiationArgs(stack_bytes, heap_bytes, max_pages)
        error = ctypes.create_string_buffer(ERROR_BUF_BYTES)
        instance = self.api.wasm_runtime_instantiate_ex(self.handle, ctypes.byref(args),
                                                        error, ERROR_BUF_BYTES)
        if not instance:
            raise LoadError(error.value.decode(errors="replace")
                            or "wasm_runtime_instantiate_ex failed")
        return int(instance)

    def exec_env(self, instance: int, stack_bytes: int) -> int:
        """An execution environment for ``instance`` with an operand stack of ``stack_bytes``
        (free it with :meth:`destroy_exec_env`)."""
        exec_env = self.api.wasm_runtime_create_exec_env(instance, stack_bytes)
        if not exec_env:
            raise LoadError("wasm_runtime_create_exec_env failed")
        return int(exec_env)

    def destroy_exec_env(self, exec_env: int) -> None:
        self.api.wasm_runtime_destroy_exec_env(exec_env)

    def call_start(self, instance: int, exec_env: int, running_mode: int | None = None
                   ) -> tuple[int, str | None]:
        """Run ``_start``: (exit status, the trap's message or None). ``proc_exit`` is a
        normal end with its status."""
        if running_mode is not None and not self.api.wasm_runtime_set_running_mode(
                instance, running_mode):
            return 134, f"running mode {running_mode} not supported by {self.lib.path}"
        function = self.api.wasm_runtime_lookup_function(instance, b"_start")
        if not function:
            return 134, "the module exports no _start"
        sys.stdout.flush()  # the guest may write to this process's descriptors
        sys.stderr.flush()
        ok = self.api.wasm_runtime_call_wasm(exec_env, function, 0, None)
        return self.outcome(instance, ok)

    def outcome(self, instance: int, ok: bool) -> tuple[int, str | None]:
        exception = self.api.wasm_runtime_get_exception(instance)
        message = exception.decode(errors="replace") if exception else None
        if ok or message is None or PROC_EXIT in message:
            return int(self.api.wasm_runtime_get_wasi_exit_code(instance)), None
        return 134, message.removeprefix("Exception: ")

    def memory_pages(self, instance: int) -> int:
        """The instance's default linear memory, in 64 KiB pages (0 without one)."""
        memory = self.api.wasm_runtime_get_default_memory(instance)
        return int(self.api.wasm_memory_get_cur_page_count(memory)) if memory else 0

    def deinstantiate(self, instance: int) -> None:
        self.api.wasm_runtime_deinstantiate(instance)

    def unload(self) -> None:
        if self.handle:
            self.api.wasm_runtime_unload(self.handle)
            self.handle = None
        self._wasi = []

    def __enter__(self) -> LoadedModule:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unload()


class LoadError(RuntimeUnavailableError):
    """WAMR refused to load or instantiate a module (its error buffer's message)."""
