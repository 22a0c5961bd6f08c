"""Declare an API operation once: its route, who may call it, its request and response models, its errors.

`@operation(...)` registers the Flask route, checks the bearer token's role, validates the query string
and the JSON body into their models (a 422 naming each bad field otherwise), calls the handler with the
typed values in one transaction (transactions.atomic: committed when it returns, rolled back when it
raises), and serialises the response model it returns. The same declaration is what api/openapi.py
turns into the OpenAPI document, so the route, the parser, the serialiser and the document cannot drift:
tests/integration/test_openapi.py fails for a route declared any other way.

Why a small decorator of our own rather than flask-openapi3 or spectree (DESIGN.md, "The API contract"):
both replace the blueprint or the error envelope with their own, and ours (`{"error": {"code", "message",
"details"}}`, messages clients depend on, `x-roles`) is the contract being kept.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from flask import request
from werkzeug.exceptions import Forbidden, Unauthorized

from massage_booking.api import bp
from massage_booking.api.support import bearer_user, json_object
from massage_booking.models import Role
from massage_booking.schemas.base import QueryModel, RequestModel, ResponseModel
from massage_booking.schemas.parse import parse_body, parse_query
from massage_booking.transactions import atomic

F = TypeVar("F", bound=Callable[..., Any])

ANY_ROLE = tuple(role.value for role in Role)


@dataclass(frozen=True)
class Reply:
    """A documented answer: with a model, a success body; without, an error in the envelope."""

    description: str
    model: type[ResponseModel] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # documented response headers


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the Flask rule under /api/v1, e.g. "/therapists/<int:therapist_id>"
    operation_id: str
    tag: str
    summary: str
    description: str
    responses: Mapping[int, Reply]
    roles: tuple[str, ...] | None  # None: public, no token
    body: type[RequestModel] | None
    query: type[QueryModel] | None
    path: Mapping[str, str]  # each path parameter's description
    example: Any
    body_description: str
    context: Callable[[], Mapping[str, Any]] | None  # what the models' validators need (schemas/parse.py)

    @property
    def openapi_path(self) -> str:
        return "/api/v1" + re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", self.rule)

    @property
    def success(self) -> tuple[int, Reply]:
        """The first success answer. An operation may declare more than one (200 paid, 202 the bank wants
        3-D Secure), each with a model of its own: the model the handler returns picks the status."""
        codes = [(code, reply) for code, reply in self.responses.items() if 200 <= code < 300]
        assert codes, f"{self.operation_id}: a success answer"
        models = [reply.model for _, reply in codes]
        assert len(codes) == 1 or len(set(models)) == len(models), f"{self.operation_id}: one model each"
        return codes[0]


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    responses: Mapping[int, Reply | str],
    roles: tuple[str, ...] | list[str] | None = None,
    body: type[RequestModel] | None = None,
    query: type[QueryModel] | None = None,
    path: Mapping[str, str] | None = None,
    example: Any = None,
    body_description: str = "",
    context: Callable[[], Mapping[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Register the handler below as this operation; a string reply is an error's description."""
    declared = Operation(
        method=method.upper(),
        rule=rule,
        operation_id=operation_id,
        tag=tag,
        summary=summary,
        description=description,
        responses={code: r if isinstance(r, Reply) else Reply(r) for code, r in responses.items()},
        roles=None if roles is None else tuple(roles),
        body=body,
        query=query,
        path=dict(path or {}),
        example=example,
        body_description=body_description,
        context=context,
    )
    assert declared.success  # its success answers are sound (one, or one model each)

    def decorator(view: F) -> F:
        accepts = set(inspect.signature(view).parameters)

        @wraps(view)
        def handle(**kwargs: Any) -> Any:
            if declared.roles is not None:
                user = bearer_user()
                if user is None:
                    raise Unauthorized("This endpoint needs an API token: POST /api/v1/auth/token.")
                if not user.has_role(*(Role(r) for r in declared.roles)):
                    raise Forbidden("Your account's role cannot use this endpoint.")
                if "user" in accepts:
                    kwargs["user"] = user
            context = declared.context() if declared.context is not None else None
            if declared.query is not None:
                kwargs["query"] = parse_query(declared.query, request.args, context)
            if declared.body is not None:
                kwargs["body"] = parse_body(declared.body, json_object(), context)
            with atomic():
                result = view(**kwargs)
            return _render(result, declared)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[declared.method])
        OPERATIONS.append(declared)
        return handle  # type: ignore[return-value]

    return decorator


def _render(result: Any, declared: Operation) -> Any:
    """The handler's model as JSON, with the status declared for that model (None for a declared 204);
    a tuple may add headers."""
    model, *rest = result if isinstance(result, tuple) else (result,)
    if model is None and 204 in declared.responses:  # "No Content": the handler returns None
        return ("", 204, *rest)
    answers = [(code, r.model) for code, r in declared.responses.items() if 200 <= code < 300 and r.model]
    for status, kind in sorted(answers, key=lambda answer: type(model) is not answer[1]):  # its own first
        if isinstance(model, kind):
            return (model.model_dump(mode="json"), status, *rest)
    raise TypeError(f"{declared.operation_id} returned {type(model).__name__}, declared {declared.success}")
