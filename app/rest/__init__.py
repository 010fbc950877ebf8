"""HTTP plumbing shared by every domain: request parsing and the OpenAPI document."""

from app.rest.operation import operation
from app.rest.responses import json_response
from app.rest.schemas import ErrorBody, FieldError, Page, PageQuery, StrictModel

__all__ = [
    "ErrorBody",
    "FieldError",
    "Page",
    "PageQuery",
    "StrictModel",
    "json_response",
    "operation",
]
