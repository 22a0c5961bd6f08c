"""The OpenAPI pieces derived from the declarations of api/contract.py: each operation's parameters,
body and answers, and the component schemas of every model they name.

pydantic writes JSON Schema 2020-12, which OpenAPI 3.1 takes as it is; the titles it adds to every
property are dropped (the property name says it), and nested models become named components.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from massage_booking.api import openapi_parts as parts
from massage_booking.api.contract import Operation

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"


class _Generator(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def generate(self, schema: Any, mode: JsonSchemaMode = "validation") -> Any:
        return _untitled(super().generate(schema, mode))

    def generate_definitions(self, inputs: Any) -> Any:
        keys, definitions = super().generate_definitions(inputs)
        return keys, _untitled(definitions)


def _untitled(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untitled(v) for k, v in value.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(value, list):
        return [_untitled(v) for v in value]
    return value


def components(operations: Iterable[Operation]) -> Schema:
    """Every request body and response model (and the models inside them), by class name."""
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for op in operations:
        if op.body is not None:
            pairs.append((op.body, "validation"))
        pairs.extend((r.model, "serialization") for r in op.responses.values() if r.model is not None)
    if not pairs:
        return {}
    _, top = models_json_schema(list(dict.fromkeys(pairs)), ref_template=REF, schema_generator=_Generator)
    return top.get("$defs", {})


def query_parameters(op: Operation) -> tuple[list[Schema], Schema]:
    """The query model's fields as OpenAPI parameters, and the components they refer to."""
    if op.query is None:
        return [], {}
    schema = op.query.model_json_schema(ref_template=REF, schema_generator=_Generator)
    definitions = schema.pop("$defs", {})
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", "")
        examples = prop.pop("examples", None)
        prop.pop("default", None)
        parameter: Schema = {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": description,
            "schema": prop,
        }
        if examples:
            parameter["example"] = examples[0]
        parameters.append(parameter)
    return parameters, definitions


def operation_object(op: Operation) -> Schema:
    """One operation in the document, through the same builder the hand-written ones use."""
    parameters = [
        parts.path_id(name, description) if f"<int:{name}>" in op.rule else _path_text(name, description)
        for name, description in op.path.items()
    ]
    parameters += query_parameters(op)[0]
    responses = {
        str(code): (
            parts.ok(parts.ref(reply.model.__name__), reply.description)
            if reply.model is not None
            else {"description": reply.description}  # 204: no content
            if code == 204
            else parts.error(reply.description)
        )
        for code, reply in op.responses.items()
    }
    for code, reply in op.responses.items():
        if reply.headers:
            responses[str(code)]["headers"] = {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in reply.headers.items()
            }
    request = None
    if op.body is not None:
        request = parts.body(parts.ref(op.body.__name__), op.body_description, op.example)
    return parts.operation(
        op.tag,
        op.operation_id,
        op.summary,
        op.description,
        responses,
        roles=None if op.roles is None else list(op.roles),
        parameters=parameters or None,
        request=request,
    )


def _path_text(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }
