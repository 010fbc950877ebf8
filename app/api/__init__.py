"""HTTP plumbing shared by every domain: request parsing and the OpenAPI document."""

from app.api.operation import operation
from app.api.responses import json_response
from app.api.schemas import ErrorBody, FieldError, Page, PageQuery, StrictModel

__all__ = [
    "ErrorBody",
    "FieldError",
    "Page",
    "PageQuery",
    "StrictModel",
    "json_response",
    "operation",
]
