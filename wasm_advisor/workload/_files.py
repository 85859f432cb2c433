"""Load and save workloads as TOML, YAML or JSON, with errors that name file and line.

The format comes from the file's extension (``.toml``, ``.yaml``/``.yml``,
``.json``). A relative ``module.path`` is taken relative to the workload file.
Saving is atomic: the file is written beside its destination and renamed, so
an existing file is never left half-written.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
import yaml

from ..errors import Problem, WorkloadError, WorkloadFileError
from ..files import write_atomically
from ._model import Workload
from ._presets import preset_names

__all__ = ["FORMATS", "load_workload", "parse_workload", "save_workload", "workload_from"]

FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
MAX_FILE_BYTES = 1 << 20  # a workload is a page of text; 1 MiB is far beyond that


def _format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if path.suffix.lower() in (".wasm", ".wat"):
        raise WorkloadFileError(
            str(path),
            "is a WebAssembly module, not a workload file: run 'wasm-advisor inspect "
            f"{path}' to see what it tells a workload, or give it as module.path in a "
            "workload file (Workload.from_module in Python)",
        )
    if fmt is None:
        raise WorkloadFileError(
            str(path),
            f"unknown format {path.suffix or '(no extension)'!r}; "
            "use .toml, .yaml, .yml or .json",
        )
    return fmt


def workload_from(source: Workload | str | Path) -> Workload:
    """The workload ``source`` names, by the rules the command line follows: a
    :class:`Workload` as it is; a :class:`~pathlib.Path` is a workload file; a string is
    a file where one exists or it has an extension (``.toml``, ``.yaml``, ``.json``),
    else the name of a bundled preset (:func:`wasm_advisor.preset_names`)."""

    if isinstance(source, Workload):
        return source
    if isinstance(source, Path):
        return load_workload(source)
    if not isinstance(source, str):
        raise WorkloadError([Problem("workload", f"expected a Workload, a preset name or a "
                                     f"workload file's path, got {type(source).__name__}")])
    path = Path(source)
    if path.exists() or path.suffix:
        return load_workload(path)
    if source in preset_names():
        return Workload.preset(source)
    raise WorkloadFileError(source, f"no such file, and not a preset "
                                    f"({', '.join(preset_names())})")


def load_workload(path: str | Path) -> Workload:
    """Read and validate the workload file at ``path``."""
    p = Path(path)
    fmt = _format_of(p)
    try:
        if p.is_dir():
            raise WorkloadFileError(str(p), "is a directory, not a workload file")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise WorkloadFileError(str(p), "is larger than 1 MiB: not a workload file")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise WorkloadFileError(str(p), "no such file") from None
    except OSError as e:
        raise WorkloadFileError(str(p), f"cannot read: {e.strerror}") from e
    return parse_workload(raw, fmt, file=str(p), base_dir=p.parent)


def parse_workload(
    raw: bytes | str, fmt: str, *, file: str = "<text>", base_dir: Path | None = None
) -> Workload:
    """Validate workload text in format ``fmt`` ('toml', 'yaml' or 'json')."""
    if fmt not in ("toml", "yaml", "json"):
        raise WorkloadFileError(file, f"unknown format {fmt!r}; use toml, yaml or json")
    text = _decode(raw, file)
    data = _parse(text, fmt, file)
    if not isinstance(data, dict):
        raise WorkloadFileError(
            file, f"the top level must be a table of fields, not {type(data).__name__}"
        )
    data = _resolve_module_path(data, base_dir)
    try:
        return Workload.from_dict(data)
    except WorkloadError as e:
        raise WorkloadError(
            [
                Problem(p.field, p.message, file=file, line=_line_of(text, fmt, p.field))
                for p in e.problems
            ]
        ) from None


def _decode(raw: bytes | str, file: str) -> str:
    if isinstance(raw, str):
        text = raw
    else:
        if b"\0" in raw:
            raise WorkloadFileError(file, "is a binary file, not a workload (TOML, YAML or JSON)")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise WorkloadFileError(
                file, f"is not UTF-8 text (bad byte at offset {e.start}): not a workload file"
            ) from None
    if "\0" in text:
        raise WorkloadFileError(file, "is a binary file, not a workload (TOML, YAML or JSON)")
    if not text.strip():
        raise WorkloadFileError(file, "is empty: a workload needs at least module, instances "
                                "and work")
    return text


def _parse(text: str, fmt: str, file: str) -> Any:
    try:
        if fmt == "toml":
            return tomllib.loads(text)
        if fmt == "json":
            return json.loads(text, parse_constant=_reject_constant)
        _reject_yaml_aliases(text, file)
        return yaml.safe_load(text)
    except tomllib.TOMLDecodeError as e:
        match = re.search(r"\(at line (\d+), column \d+\)", str(e))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise WorkloadFileError(
            file, f"not valid TOML: {message}", int(match.group(1)) if match else None
        ) from None
    except json.JSONDecodeError as e:
        raise WorkloadFileError(file, f"not valid JSON: {e.msg}", e.lineno) from None
    except ValueError as e:  # a NaN or Infinity constant in JSON
        raise WorkloadFileError(file, f"not valid JSON: {e}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise WorkloadFileError(file, f"not valid YAML: {e.problem or e.context}", line) from None
    except (yaml.YAMLError, RecursionError) as e:
        raise WorkloadFileError(file, f"not valid YAML: {type(e).__name__}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a workload can use")


def _reject_yaml_aliases(text: str, file: str) -> None:
    # Aliases let a few lines expand into gigabytes ("billion laughs"); a
    # workload has no use for them.
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                line = token.start_mark.line + 1
                raise WorkloadFileError(file, "YAML aliases (*name) are not allowed", line)
    except yaml.YAMLError:
        return  # the parser reports the syntax error with its line


def _resolve_module_path(data: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    module = data.get("module")
    if base_dir is None or not isinstance(module, dict):
        return data
    path = module.get("path")
    if isinstance(path, str) and path and not Path(path).is_absolute():
        return {**data, "module": {**module, "path": str(base_dir / path)}}
    return data


# ----- finding the line of a field ------------------------------------------


def _line_of(text: str, fmt: str, field: str) -> int | None:
    parts = [p for p in re.sub(r"\[\d+\]", "", field).split(".") if p]
    if not parts:
        return None
    try:
        if fmt == "yaml":
            return _yaml_line(text, parts)
        return _scan_line(text, parts, fmt)
    except Exception:  # a best-effort hint; never let it hide the real problem
        return None


def _yaml_line(text: str, parts: list[str]) -> int | None:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    line = None
    for part in parts:
        if not isinstance(node, yaml.MappingNode):
            break
        for key, value in node.value:
            if key.value == part:
                line, node = key.start_mark.line + 1, value
                break
        else:
            break
    return line


def _scan_line(text: str, parts: list[str], fmt: str) -> int | None:
    """The line of the deepest part of ``parts`` found, searching each part after its parent."""
    lines = text.splitlines()
    start, found = 0, None
    for depth, part in enumerate(parts):
        if fmt == "toml" and depth == 0 and len(parts) > 1:
            pattern = re.compile(rf"^\s*\[\s*{re.escape(part)}\s*\]")
        elif fmt == "toml":
            pattern = re.compile(rf"^\s*\"?{re.escape(part)}\"?\s*=")
        else:
            pattern = re.compile(rf"\"{re.escape(part)}\"\s*:")
        for index in range(start, len(lines)):
            if pattern.search(lines[index]):
                found, start = index + 1, index + 1
                break
        else:
            break
    return found


# ----- saving ------------------------------------------------------------------


def dump_workload(workload: Workload, fmt: str) -> str:
    """The text of ``workload`` in format ``fmt``."""
    data = workload.to_dict()
    if fmt == "toml":
        return tomli_w.dumps(data)
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    raise WorkloadFileError("<output>", f"unknown format {fmt!r}; use toml, yaml or json")


def save_workload(workload: Workload, path: str | Path) -> Path:
    """Write ``workload`` to ``path`` atomically, in the format its extension names."""
    p = Path(path)
    text = dump_workload(workload, _format_of(p))
    try:
        write_atomically(p, text.encode("utf-8"))
    except OSError as e:
        raise WorkloadFileError(str(p), f"cannot write: {e.strerror or e}") from e
    return p
