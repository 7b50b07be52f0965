"""Graph's resource schemas read from the documentation pages themselves (the property tables
of `resources/*.md` in ../shared/data/api/msgraph-docs-examples), and a checker of JSON values
against them: every property must be documented for its resource and have the documented type.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[3] / "shared" / "data" / "api" / "msgraph-docs-examples"
_ROW = re.compile(r"^\|\s*([A-Za-z@.]+)\s*\|\s*([^|]+?)\s*\|")
_LINK = re.compile(r"\[([^\]]+)\]\(([a-z]+)\.md\)")
_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$")
# Annotations Graph puts on items and entities, as the docs' example responses show them.
ANNOTATIONS = frozenset({"@odata.type", "@odata.etag", "@odata.context", "@removed"})


@cache
def properties(resource: str) -> dict[str, tuple[str, bool]]:
    """{property: (type, is a collection)} from `resources/<resource>.md`; empty when the
    page is not in the archive (such types are checked only for being objects)."""
    page = DOCS / "md" / f"api-reference__v1.0__resources__{resource}.md"
    if not page.is_file():
        return {}
    text = page.read_text()
    start = text.find("## Properties")
    table: dict[str, tuple[str, bool]] = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        row = _ROW.match(line.replace("\t", " "))
        if row is None or row.group(1) in ("Property", ":---------------"):
            continue
        kind = row.group(2)
        link = _LINK.search(kind)
        name = link.group(2) if link else kind.split()[0]
        table[row.group(1)] = (name, "collection" in kind.lower())
    return table


def check(value: Any, resource: str, path: str = "$") -> list[str]:
    """Problems of `value` as an instance of `resource` (empty: it conforms)."""
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {type(value).__name__}"]
    schema = properties(resource)
    if not schema:
        return []
    problems: list[str] = []
    for name, item in value.items():
        if name in ANNOTATIONS:
            continue
        if name not in schema:
            problems.append(f"{path}: '{name}' is not a property of {resource}")
            continue
        kind, many = schema[name]
        if item is None:
            continue
        if many:
            if not isinstance(item, list):
                problems.append(f"{path}.{name}: expected a collection")
                continue
            for index, element in enumerate(item):
                problems += _check_one(element, kind, f"{path}.{name}[{index}]")
        else:
            problems += _check_one(item, kind, f"{path}.{name}")
    return problems


def _check_one(value: Any, kind: str, path: str) -> list[str]:
    if kind == "String" or kind == "Edm.Binary":
        return [] if isinstance(value, str) else [f"{path}: expected a string"]
    if kind == "Boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    if kind == "Int32":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer"]
    if kind == "DateTimeOffset":
        ok = isinstance(value, str) and bool(_OFFSET.match(value))
        return [] if ok else [f"{path}: not a UTC DateTimeOffset: {value!r}"]
    if kind == "datetimetimezone":
        problems = check(value, kind, path)
        if isinstance(value, dict) and not _LOCAL.match(str(value.get("dateTime"))):
            problems.append(f"{path}.dateTime: not Graph's local date-time: {value!r}")
        return problems
    if (
        kind[:1].islower()
        and not (DOCS / "md" / f"api-reference__v1.0__resources__{kind}.md").is_file()
    ):
        # An enum (importance, sensitivity, ...) or a type whose page is not archived.
        return [] if isinstance(value, (str, dict)) else [f"{path}: unexpected {value!r}"]
    return check(value, kind, path)
