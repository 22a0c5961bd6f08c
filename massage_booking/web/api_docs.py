"""GET /api/docs: the OpenAPI document (GET /api/v1/openapi.json) rendered as a page, on the server.

No script and no CDN (the site's Content-Security-Policy allows only its own scripts): the document is
turned here into plain rows for Jinja, operation by operation and grouped by tag, with each parameter,
request body field and response, and the shared schemas at the end with anchors that types link to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from markupsafe import Markup, escape

from massage_booking.api.openapi import document
from massage_booking.web import bp

Schema = dict[str, Any]
MAX_DEPTH = 2  # nested object fields shown in a table: settings.horizon_days, weekly_hours[].start


@dataclass(frozen=True)
class TypePart:
    """A piece of a type's label; `href` links a named schema to its section."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    type: list[TypePart]
    required: bool
    description: str


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str
    type: list[TypePart]
    required: bool
    description: str
    example: str | None


@dataclass(frozen=True)
class Variant:
    """One shape a body may take: the fields of an object, or (for `oneOf`/`anyOf`) one of several."""

    title: str
    fields: list[Field]


@dataclass(frozen=True)
class Body:
    media_types: list[str]
    description: str
    type: list[TypePart]
    variants: list[Variant]
    example: str | None


@dataclass(frozen=True)
class Reply:
    status: str
    description: str
    media_type: str | None
    type: list[TypePart]
    headers: list[str]
    fields: list[Field]  # of a body described in place (a named schema has its own section)


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    roles: list[str] | None  # None: public
    parameters: list[Parameter]
    body: Body | None
    replies: list[Reply]


@dataclass(frozen=True)
class Group:
    name: str
    anchor: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True)
class NamedSchema:
    name: str
    anchor: str
    description: str
    type: list[TypePart]
    variants: list[Variant]


class Renderer:
    """Turns one OpenAPI document into the page's rows, resolving `$ref`s against its components."""

    def __init__(self, spec: Schema) -> None:
        self.spec = spec
        self.schemas: dict[str, Schema] = spec.get("components", {}).get("schemas", {})

    # --- types ---

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def type_of(self, schema: Schema) -> list[TypePart]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return [TypePart(name, f"#schema-{name}")]
        for key, joiner in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
            if key in schema:
                parts: list[TypePart] = []
                for n, option in enumerate(schema[key]):
                    if n:
                        parts.append(TypePart(joiner))
                    parts.extend(self.type_of(option))
                return parts
        if "const" in schema:
            return [TypePart(json.dumps(schema["const"]))]
        if "enum" in schema:
            return [TypePart("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))]
        kinds = schema.get("type", "any")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        parts = []
        for n, kind in enumerate(kinds):
            if n:
                parts.append(TypePart(" or "))
            parts.extend(self._kind(kind, schema))
        return parts

    def _kind(self, kind: str, schema: Schema) -> list[TypePart]:
        if kind == "array":
            limits = _range(schema.get("minItems"), schema.get("maxItems"), "items")
            return [TypePart("array of "), *self.type_of(schema.get("items", {})), *limits]
        if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            return [TypePart("object of "), *self.type_of(schema["additionalProperties"])]
        label = kind
        if fmt := schema.get("format"):
            label += f" ({fmt})"
        parts = [TypePart(label)]
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum"))
            parts += _range(low, schema.get("maximum"), "", exclusive=("exclusiveMinimum" in schema))
        elif kind == "string":
            parts += _range(schema.get("minLength"), schema.get("maxLength"), "characters")
            if pattern := schema.get("pattern"):
                parts.append(TypePart(f", matching {pattern}"))
        return parts

    # --- fields ---

    def variants(self, schema: Schema, *, depth: int = 0) -> list[Variant]:
        """The fields a value of `schema` has: one variant for an object (allOf merged), one per option
        for oneOf/anyOf of objects, none for anything else."""
        schema = self.resolve(schema)
        options = schema.get("oneOf") or schema.get("anyOf")
        if options and not schema.get("properties"):
            found = []
            for n, option in enumerate(options):
                resolved = self.resolve(option)
                title = resolved.get("description") or f"Option {n + 1}"
                found.append(Variant(title, self.fields(option, depth=depth)))
            return [v for v in found if v.fields]
        fields = self.fields(schema, depth=depth)
        return [Variant("", fields)] if fields else []

    def fields(self, schema: Schema, prefix: str = "", *, depth: int = 0) -> list[Field]:
        schema = self.resolve(schema)
        rows: list[Field] = []
        for part in schema.get("allOf", []):
            rows += self.fields(part, prefix, depth=depth)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            full = f"{prefix}{name}"
            rows.append(Field(full, self.type_of(prop), name in required, prop.get("description", "")))
            if depth < MAX_DEPTH and "$ref" not in prop:
                rows += self._nested(prop, full, depth)
        return rows

    def _nested(self, prop: Schema, name: str, depth: int) -> list[Field]:
        if prop.get("type") == "object" and prop.get("properties"):
            return self.fields(prop, f"{name}.", depth=depth + 1)
        items = prop.get("items")
        if prop.get("type") == "array" and isinstance(items, dict) and items.get("properties"):
            return self.fields(items, f"{name}[].", depth=depth + 1)
        return []

    # --- operations ---

    def operation(self, path: str, method: str, op: Schema) -> Operation:
        parameters = [
            Parameter(
                p["name"],
                p["in"],
                self.type_of(p.get("schema", {})),
                bool(p.get("required")),
                p.get("description", ""),
                None if "example" not in p else str(p["example"]),
            )
            for p in op.get("parameters", [])
        ]
        body = None
        if request := op.get("requestBody"):
            content = request.get("content", {})
            media = next(iter(content.values()), {})
            schema = media.get("schema", {})
            example = media.get("example")
            body = Body(
                list(content),
                request.get("description", ""),
                self.type_of(schema),
                self.variants(schema),
                None if example is None else json.dumps(example, indent=2),
            )
        replies = []
        for status, reply in op.get("responses", {}).items():
            content = reply.get("content", {})
            media_type = next(iter(content), None)
            schema = content[media_type].get("schema", {}) if media_type else {}
            replies.append(
                Reply(
                    status,
                    reply.get("description", ""),
                    media_type,
                    self.type_of(schema) if schema else [],
                    list(reply.get("headers", {})),
                    [] if not schema or "$ref" in schema else self.fields(schema, depth=MAX_DEPTH),
                )
            )
        public = op.get("security", self.spec.get("security")) == []
        return Operation(
            anchor=op.get("operationId", f"{method}-{path}"),
            method=method.upper(),
            path=path,
            summary=op.get("summary", ""),
            description=op.get("description", ""),
            roles=None if public else op.get("x-roles", []),
            parameters=parameters,
            body=body,
            replies=replies,
        )

    def groups(self) -> list[Group]:
        groups = {
            tag["name"]: Group(tag["name"], _anchor(tag["name"]), tag.get("description", ""))
            for tag in self.spec.get("tags", [])
        }
        for path, item in self.spec.get("paths", {}).items():
            for method, op in item.items():
                tag = (op.get("tags") or ["Other"])[0]
                group = groups.setdefault(tag, Group(tag, _anchor(tag), ""))
                group.operations.append(self.operation(path, method, op))
        return [g for g in groups.values() if g.operations]

    def named_schemas(self) -> list[NamedSchema]:
        return [
            NamedSchema(
                name,
                f"schema-{name}",
                schema.get("description", ""),
                self.type_of({k: v for k, v in schema.items() if k != "description"}),
                self.variants(schema),
            )
            for name, schema in self.schemas.items()
        ]


def _range(low: Any, high: Any, unit: str, *, exclusive: bool = False) -> list[TypePart]:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return [TypePart(f", {'more than ' if exclusive else ''}{low} to {high}{unit}")]
    if low is not None:
        return [TypePart(f", {'more than' if exclusive else 'at least'} {low}{unit}")]
    if high is not None:
        return [TypePart(f", at most {high}{unit}")]
    return []


_CODE_SPAN = re.compile(r"`([^`]+)`")
CODE = Markup("<code>{}</code>")


@bp.app_template_filter("api_text")
def api_text(text: str) -> Markup:
    """A description from the document, escaped, with its `code spans` set as code."""
    parts = _CODE_SPAN.split(text)  # odd items were inside backticks
    return Markup("").join(CODE.format(part) if n % 2 else escape(part) for n, part in enumerate(parts))


def _anchor(text: str) -> str:
    return "tag-" + "-".join(text.lower().split())


@bp.get("/api/docs")
def api_docs() -> str:
    spec = document()
    renderer = Renderer(spec)
    return render_template(
        "web/api_docs.html",
        info=spec["info"],
        openapi_version=spec["openapi"],
        security=spec["components"]["securitySchemes"],
        groups=renderer.groups(),
        schemas=renderer.named_schemas(),
    )
