"""The JSON API's reference (the /docs page) drawn from the app's own OpenAPI schema: routes by
group, parameters with types and defaults, and the fields of each shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GROUP_TITLES = {"api": "Search and read", "collections": "Collections and inset days",
                "accounts": "Accounts", "contribution": "Contributing and moderation"}
METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    default: str = ""
    description: str = ""
    where: str = ""  # for parameters: path or query


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    details: str
    parameters: list[Field]
    body: str  # schema name of the JSON body ('' for none)
    status: str  # the success status code
    returns: str  # schema name of the success answer ('' for no body)
    anchor: str


@dataclass
class Group:
    title: str
    endpoints: list[Endpoint] = field(default_factory=list)


def type_name(schema: dict[str, Any]) -> str:
    """A reader's name for a JSON schema: 'text', 'list of Term', 'whole number or null'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(dict.fromkeys(type_name(s) for s in schema["anyOf"]))
    kind = schema.get("type", "")
    if kind == "array":
        return "list of " + type_name(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "mapping to " + type_name(schema["additionalProperties"])
    names = {"string": "text", "integer": "whole number", "number": "number",
             "boolean": "true or false", "null": "null", "object": "object"}
    text = names.get(kind, kind or "any")
    if schema.get("format") in ("date", "date-time"):
        text = schema["format"]
    if "enum" in schema:
        text += " (" + ", ".join(str(v) for v in schema["enum"]) + ")"
    return text


def _schema_of(content: dict[str, Any] | None) -> str:
    schema = ((content or {}).get("application/json") or {}).get("schema") or {}
    return type_name(schema) if schema else ""


def _first_line(text: str) -> tuple[str, str]:
    lines = [line.strip() for line in (text or "").strip().splitlines()]
    return (lines[0] if lines else ""), " ".join(line for line in lines[1:] if line)


def endpoints(schema: dict[str, Any]) -> list[Group]:
    """The operations of an OpenAPI schema grouped by tag, in the schema's path order."""
    groups: dict[str, Group] = {}
    for path, operations in schema.get("paths", {}).items():
        for method in METHOD_ORDER:
            op = operations.get(method)
            if op is None:
                continue
            tag = (op.get("tags") or ["other"])[0]
            group = groups.setdefault(tag, Group(GROUP_TITLES.get(tag, tag.capitalize())))
            summary, details = _first_line(op.get("description") or op.get("summary", ""))
            # An optional parameter is simply left out: "or null" would only confuse.
            params = [Field(p["name"], type_name(p.get("schema", {})).removesuffix(" or null"),
                            bool(p.get("required")),
                            _default(p.get("schema", {})), p.get("description", ""), p["in"])
                      for p in op.get("parameters", [])]
            status, success = next(((code, r) for code, r in sorted(op.get("responses", {})
                                                                      .items())
                                     if code.startswith("2")), ("200", {}))
            anchor = f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")
            group.endpoints.append(Endpoint(
                method.upper(), path, summary, details, params,
                _schema_of((op.get("requestBody") or {}).get("content")), status,
                _schema_of(success.get("content")), anchor.strip("-")))
    return list(groups.values())


def _default(schema: dict[str, Any]) -> str:
    value = schema.get("default")
    return "" if value in (None, "") else str(value)


def models(schema: dict[str, Any]) -> dict[str, list[Field]]:
    """Each named schema's fields, by schema name (FastAPI's own error shapes left out)."""
    out: dict[str, list[Field]] = {}
    for name, model in sorted(schema.get("components", {}).get("schemas", {}).items()):
        if name in ("HTTPValidationError", "ValidationError"):
            continue
        required = set(model.get("required", []))
        out[name] = [Field(key, type_name(prop), key in required, _default(prop),
                           prop.get("description", ""))
                     for key, prop in model.get("properties", {}).items()]
    return out
