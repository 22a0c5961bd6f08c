"""The building blocks of the OpenAPI document: schema shorthands, parameters, bodies, answers and the
operation object with its security and standard errors. Used by api/openapi.py for what is still written
by hand and by api/openapi_models.py for what the declarations of api/contract.py generate."""

from __future__ import annotations

from typing import Any

from massage_booking.api.contract import ANY_ROLE
from massage_booking.schemas.base import MAX_ID

Schema = dict[str, Any]

JSON = "application/json"
FHIR_JSON = "application/fhir+json"
BEARER = [{"bearerAuth": []}]
PUBLIC: list[dict[str, list[str]]] = []


# --- schema helpers ----------------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def string(description: str | None = None, **extra: Any) -> Schema:
    return _described({"type": "string", **extra}, description)


def integer(description: str | None = None, **extra: Any) -> Schema:
    return _described({"type": "integer", **extra}, description)


def array(items: Schema, description: str | None = None, **extra: Any) -> Schema:
    return _described({"type": "array", "items": items, **extra}, description)


def an_id(description: str | None = None) -> Schema:
    return integer(description, minimum=1, maximum=MAX_ID)


def obj(
    properties: dict[str, Schema],
    required: list[str] | None = None,
    *,
    description: str | None = None,
    closed: bool = False,
    **extra: Any,
) -> Schema:
    """An object; every property is required unless `required` says otherwise (responses name them all).
    `closed`: no other properties (only where the parser refuses unknown keys)."""
    schema: Schema = {"type": "object", "properties": properties}
    names = list(properties) if required is None else required
    if names:
        schema["required"] = names
    if closed:
        schema["additionalProperties"] = False
    schema.update(extra)
    return _described(schema, description)


def _described(schema: Schema, description: str | None) -> Schema:
    if description:
        schema["description"] = description
    return schema


# --- parameters, bodies and responses ------------------------------------------------------------------


def path_id(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": an_id()}


def body(schema: Schema, description: str, example: Any = None) -> Schema:
    content: Schema = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"required": True, "description": description, "content": {JSON: content}}


def ok(schema: Schema, description: str, media: str = JSON) -> Schema:
    return {"description": description, "content": {media: {"schema": schema}}}


def error(description: str) -> Schema:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def unauthorized() -> Schema:
    response = error("No bearer token, or one that is invalid, expired or revoked.")
    response["headers"] = {
        "WWW-Authenticate": {
            "description": 'Always `Bearer realm="api"`.',
            "required": True,
            "schema": {"type": "string"},
        }
    }
    return response


def json_errors() -> dict[str, Schema]:
    """What `json_object()` refuses before any handler logic runs."""
    return {
        "400": error("The body is not valid JSON, or not a JSON object."),
        "413": error("The body is larger than 1 MiB."),
        "415": error("The body was not sent with `Content-Type: application/json`."),
    }


def token_errors(roles: list[str]) -> dict[str, Schema]:
    responses = {"401": unauthorized()}
    if set(roles) != set(ANY_ROLE):
        responses["403"] = error(f"The token's account is not a {' or '.join(roles)}.")
    return responses


def operation(
    tag: str,
    operation_id: str,
    summary: str,
    description: str,
    responses: dict[str, Schema],
    *,
    roles: list[str] | None = None,
    parameters: list[Schema] | None = None,
    request: Schema | None = None,
) -> Schema:
    """One operation; with `roles` it needs a bearer token of those roles (401 and 403 are added)."""
    op: Schema = {"tags": [tag], "operationId": operation_id, "summary": summary, "description": description}
    if parameters:
        op["parameters"] = parameters
    if request is not None:
        op["requestBody"] = request
        responses = {**json_errors(), **responses}
    if roles is None:
        op["security"] = PUBLIC
    else:
        op["security"] = BEARER
        op["x-roles"] = roles
        responses = {**token_errors(roles), **responses}
    op["responses"] = dict(sorted(responses.items()))
    return op
