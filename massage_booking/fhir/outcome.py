"""FHIR R4 OperationOutcome: how every refusal under /fhir is answered, and the media type of every answer.

An `Issue` is one `OperationOutcome.issue` (severity `error` unless said otherwise; `code` from the FHIR
IssueType value set; `diagnostics` a sentence for a person; `expression` the FHIRPath of the element at
fault, when known). `FhirProblem` is the exception that carries issues and an HTTP status to the blueprint's
error handler. `pydantic_issues` turns the model's validation errors into issues with element paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Response
from pydantic import ValidationError

MEDIA_TYPE = "application/fhir+json"
ROOT = "CoverageEligibilityRequest"


@dataclass(frozen=True)
class Issue:
    code: str  # http://hl7.org/fhir/issue-type: invalid, structure, required, value, not-found, ...
    diagnostics: str
    expression: str | None = None
    severity: str = "error"


class FhirProblem(Exception):
    """A request answered with an OperationOutcome and `status` (400 unreadable, 422 against our profile)."""

    def __init__(self, status: int, issues: Sequence[Issue]) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = tuple(issues)


def outcome(issues: Iterable[Issue]) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {
            "issue": [
                {
                    "severity": i.severity,
                    "code": i.code,
                    "diagnostics": i.diagnostics,
                    **({"expression": [i.expression]} if i.expression else {}),
                }
                for i in issues
            ]
        }
    )


def fhir_response(resource: Any, status: int = 200) -> Response:
    """A fhir.resources model serialised by the model itself, as application/fhir+json."""
    return Response(resource.model_dump_json(), status=status, mimetype=MEDIA_TYPE)


def outcome_response(status: int, issues: Iterable[Issue]) -> Response:
    return fhir_response(outcome(issues), status)


def path(loc: Iterable[str | int], root: str = ROOT) -> str:
    """('item', 0, 'quantity', 'value') -> 'CoverageEligibilityRequest.item[0].quantity.value'."""
    text = root
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def sentence(text: str) -> str:
    text = text.strip().removeprefix("Value error, ").strip()
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def pydantic_issues(exc: ValidationError) -> list[Issue]:
    """One issue per validation error of the fhir.resources model, each naming its element."""
    issues = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        where = path(error["loc"])
        if kind in ("missing", "model_field_validation.missing"):
            issues.append(Issue("required", f"{where} is required and missing.", where))
        elif kind == "extra_forbidden":
            issues.append(Issue("structure", f"{where} is not an element FHIR R4 defines here.", where))
        elif kind in ("model_type", "dict_type", "list_type", "model_attributes_type"):
            issues.append(
                Issue("structure", f"{where} has the wrong JSON shape: {sentence(error['msg'])}", where)
            )
        elif kind == "json_invalid":
            issues.append(Issue("structure", f"The body is not valid JSON: {sentence(error['msg'])}"))
        else:
            message = sentence(error["msg"])
            issues.append(Issue("value", f"{where}: {message}" if error["loc"] else message, where))
    return issues


def json_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def primitive_type_issues(sent: Any, read: Any, loc: tuple[str | int, ...] = ()) -> list[Issue]:
    """Where the JSON sent a primitive as another JSON type than FHIR JSON requires.

    fhir.resources is lenient: it reads `"value": "4"` as the decimal 4 and `"focal": "true"` as true. FHIR
    JSON is not (numbers and booleans are JSON numbers and booleans, everything else a string), so we walk
    what was sent beside what the model read back (`model_dump(mode="json")`, which writes each primitive
    as FHIR JSON does) and name every primitive whose JSON type differs."""
    if isinstance(sent, dict) and isinstance(read, dict):
        return [
            issue
            for key, value in sent.items()
            if key in read
            for issue in primitive_type_issues(value, read[key], (*loc, key))
        ]
    if isinstance(sent, list) and isinstance(read, list):
        return [
            issue
            for index, (value, back) in enumerate(zip(sent, read, strict=False))
            for issue in primitive_type_issues(value, back, (*loc, index))
        ]
    wanted, got = json_kind(read), json_kind(sent)
    if wanted is None or got is None or wanted == got:
        return []
    where = path(loc)
    return [
        Issue(
            "value",
            f"{where} must be a JSON {wanted} in FHIR JSON, not the {got} {json.dumps(sent)}.",
            where,
        )
    ]
