"""A small checker of JSON values against a Google discovery document's `schemas`.

It knows what the sandbox must get right: types, `$ref`, properties (a field the schema does
not name is an error), array items, `additionalProperties` maps, enums, and the formats that
trip clients up: int64/uint64 travel as decimal strings, int32 must fit, date-time is RFC 3339
and date is YYYY-MM-DD.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check(value: Any, schema_id: str, document: dict[str, Any]) -> list[str]:
    """Every way `value` breaks schema `schema_id` of `document`; empty when it conforms."""
    problems: list[str] = []
    _check(value, {"$ref": schema_id}, document["schemas"], "$", problems)
    return problems


def _check(
    value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str, problems: list[str]
) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                _check(item, properties[name], schemas, f"{path}.{name}", problems)
            elif extra is not None:
                _check(item, extra, schemas, f"{path}[{name!r}]", problems)
            else:
                problems.append(f"{path}: field {name!r} is not in the schema")
    elif kind == "array":
        if not isinstance(value, list):
            problems.append(f"{path}: expected an array, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            _check(item, schema["items"], schemas, f"{path}[{index}]", problems)
    elif kind == "string":
        _string(value, schema, path, problems)
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer, got {value!r}")
        elif schema.get("format") == "int32" and not -(2**31) <= value < 2**31:
            problems.append(f"{path}: {value} does not fit int32")
        elif schema.get("format") == "uint32" and not 0 <= value < 2**32:
            problems.append(f"{path}: {value} does not fit uint32")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {value!r}")
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{path}: expected a number, got {value!r}")
    elif kind not in (None, "any"):
        problems.append(f"{path}: unknown schema type {kind!r}")


def _string(value: Any, schema: dict[str, Any], path: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: expected a string, got {value!r}")
        return
    fmt = schema.get("format")
    if fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
        problems.append(f"{path}: {fmt} must be a decimal string, got {value!r}")
    elif fmt == "date-time":
        if not _RFC3339.match(value):
            problems.append(f"{path}: not RFC 3339: {value!r}")
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif fmt == "date" and not _DATE.match(value):
        problems.append(f"{path}: not a date: {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not one of {schema['enum']}")
