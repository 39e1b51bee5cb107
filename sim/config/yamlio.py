"""The one YAML reader: every YAML file the simulator reads (scenarios, policies, other
sources, optimiser menus, warning standards, atmosphere parameters and the packaged data)
goes through :func:`read_yaml` or :func:`parse_yaml`.

``yaml.safe_load`` exactly (libyaml's CSafeLoader when installed), plus: a key given twice in
one mapping is an error (YAML would keep the last one silently), an impossible date is an
error at its place, and nesting deeper than :data:`MAX_DEPTH` is an error (deeper data would
end in a RecursionError in whatever walks it). Every failure is one InputError.

This module imports nothing else of the simulator, so any module can use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError

#: Deepest nesting of mappings and lists accepted. No input format of the simulator goes
#: beyond about 8 levels (scenario > atmosphere > cities > X > parameters > k_nox_per_h >
#: rh_pct > list); 50 leaves room for any hand-written file while keeping recursive
#: validators (pydantic, warning-rule combinations) far from Python's recursion limit.
MAX_DEPTH = 50


class _DuplicateKey(yaml.constructor.ConstructorError):
    def __init__(self, key: object, first_line: int, mark: yaml.Mark):
        super().__init__(None, None, f"the key '{key}' appears twice", mark)
        self.key, self.first_line = key, first_line


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when installed: ten times faster
    """``yaml.safe_load`` that refuses a key given twice in one mapping (YAML would silently
    keep the last one); merge keys (``<<: *anchor``) may still be overridden."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            if key in seen:
                raise _DuplicateKey(key, seen[key], key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        except TypeError:  # an unhashable key: construct_mapping reports it
            pass
    return loader.construct_mapping(node, deep=deep)


def _timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> object:
    """YAML dates, with an impossible one (2024-02-30) as a YAML error at its place, not a
    bare ValueError."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(None, None, f"'{node.value}' is not a valid date ({exc})", node.start_mark) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _children(node: dict | list) -> list:
    return [*node.keys(), *node.values()] if isinstance(node, dict) else node


def _depth(data: Any) -> int:
    """Nesting depth of mappings and lists (a scalar is 0), without recursion. Aliases may
    share a container (counted at its deepest use, once) or point back at one of its
    ancestors (a cycle: not deep, only repeated; not followed)."""
    memo: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, finished = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        key = id(node)
        if finished:
            on_path.discard(key)
            memo[key] = 1 + max((memo.get(id(c), 0) for c in _children(node) if isinstance(c, (dict, list))), default=0)
        elif key not in memo and key not in on_path:
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return memo.get(id(data), 0)


def parse_yaml(text: str, file: str | Path | None) -> Any:
    """Parse YAML ``text`` (read from ``file``, for messages) strictly; any value."""
    try:
        # a SafeLoader subclass: exactly yaml.safe_load, plus the duplicate-key and date checks
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except _DuplicateKey as exc:
        raise InputError(file, f"line {exc.problem_mark.line + 1}", f"the key '{exc.key}' appears twice (first on line {exc.first_line}); YAML would keep only the last one.",
                         "keep one of them, with the contents of both.") from None
    except RecursionError:  # the pure-Python loader (no libyaml) recurses per level
        raise InputError(file, None, f"the YAML is nested more than {MAX_DEPTH} levels deep.", "check the brackets and the indentation.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
            raise InputError(file, where, f"the YAML is nested more than {MAX_DEPTH} levels deep.", "check the brackets and the indentation.") from None
        line = text.splitlines()[mark.line] if mark is not None and mark.line < len(text.splitlines()) else ""
        tab = "\t" in line[: mark.column + 1] if mark is not None else False
        if tab and "tab" not in problem:
            problem += ": a tab"
        fix = ("indent with spaces, not tabs." if tab else "write a date that exists, e.g. 2024-02-29." if "not a valid date" in problem
               else "check indentation, colons and brackets near that place.")
        raise InputError(file, where, f"this is not valid YAML ({problem}).", fix) from None
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise InputError(file, None, f"the YAML is nested {depth} levels deep; no input of the simulator needs more than {MAX_DEPTH}.", "check the brackets and the indentation.")
    return data


def read_yaml(path: Path, what: str, key: str | None = None) -> dict:
    """Read a YAML file that must hold a mapping of keys (see :func:`parse_yaml`), turning
    every failure into an InputError. ``key``: the scenario key that names the file."""
    path = Path(path)
    where = f"key {key}" if key else None
    if not path.exists():
        raise InputError(path, where, f"the {what} file does not exist.", "check the path (relative paths start at the scenario file's folder).")
    if path.is_dir():
        raise InputError(path, where, f"the {what} path is a folder, not a file.", "name the YAML file itself.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"the file is not UTF-8 text (byte {exc.start}).", "save it as UTF-8.") from None
    data = parse_yaml(text, path)
    if data is None:
        raise InputError(path, None, f"the {what} file is empty.", "write its keys, starting with 'name: ...' (see `run_scenario.py --schema`).")
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a single text", int: "a number", float: "a number"}.get(type(data), type(data).__name__)
        raise InputError(path, None, f"the {what} file must hold a mapping of keys, not {kind}.", "start the file with 'name: ...' and the other keys, without a leading '- '.")
    return data
