"""GET /api/v1/openapi.json declares its answer like every other operation: the document, an object whose
shape is OpenAPI 3.1's own (https://spec.openapis.org/oas/v3.1.0), so only its top keys are named here."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, RootModel


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(
        json_schema_extra={
            "properties": {
                "openapi": {"type": "string"},
                "info": {"type": "object"},
                "paths": {"type": "object"},
            },
            "required": ["openapi", "info", "paths"],
        }
    )
