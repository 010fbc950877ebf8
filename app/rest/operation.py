"""`@operation`: one place that declares and enforces an endpoint's contract.

It validates path parameters, query string and JSON body against pydantic
models and hands the results to the view as keyword arguments; the same models
feed the OpenAPI document. Put it innermost, below any authentication
decorator, so that credentials are checked before the body is read.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import request
from pydantic import BaseModel, RootModel, ValidationError

from app.errors import RequestValidationFailed
from app.rest.storable_text import may_hold_unstorable_text, unstorable_text_errors


@dataclass(frozen=True)
class OperationSpec:
    summary: str
    tags: tuple[str, ...]
    description: str | None = None
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    response_headers: dict[int, dict[str, str]] = field(default_factory=dict)
    #: The shape of this endpoint's error answers, when not the service's `ErrorBody`
    #: (GA4GH DRS routes answer `{msg, status_code}`, ADR 28).
    error_body: type[BaseModel] | None = None


def operation(
    summary: str,
    *,
    tags: list[str],
    responses: dict[int, type[BaseModel] | None],
    description: str | None = None,
    path: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response_headers: dict[int, dict[str, str]] | None = None,
    enforce: bool = True,
    error_body: type[BaseModel] | None = None,
) -> Callable:
    """Declare an endpoint's contract; enforce it too unless `enforce=False`.

    `enforce=False` is for a view that validates its own arguments with the same
    models (the work order token routes do, in the order their protocol needs).
    """
    spec = OperationSpec(
        summary=summary,
        tags=tuple(tags),
        description=description,
        path=path,
        query=query,
        body=body,
        responses=responses,
        response_headers=response_headers or {},
        error_body=error_body,
    )

    def decorator(view: Callable) -> Callable:
        if not enforce:
            view.openapi = spec
            return view

        @wraps(view)
        def wrapper(**view_args):
            _refuse_unstorable(request.view_args, "path")
            arguments = parse_path(path, view_args) if path else view_args
            if query is not None:
                arguments["query"] = parse_query(query)
            if body is not None:
                arguments["body"] = parse_body(body)
            return view(**arguments)

        wrapper.openapi = spec
        return wrapper

    return decorator


def parse_path(model: type[BaseModel], view_args: dict) -> dict:
    """`view_args` with the path parameters replaced by their validated values.

    Arguments added by outer decorators (the caller, a loaded resource) pass through.
    """
    path_values = {name: view_args[name] for name in model.model_fields if name in view_args}
    try:
        parsed = model.model_validate(path_values)
    except ValidationError as error:
        raise RequestValidationFailed.from_pydantic(error, "path") from None
    return view_args | dict(parsed)


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as `model`; an empty value (`?status=`) counts as absent."""
    values = {name: value for name, value in request.args.items() if value != ""}
    _refuse_unstorable(values, "query")
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise RequestValidationFailed.from_pydantic(error, "query") from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body as `model`; the Content-Type header is not insisted on."""
    return validate_body(model, request.get_data(cache=True))


def validate_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    """A raw JSON body as `model`, or the 422 that `parse_body` raises.

    An empty body stands for `{}` when the model is an object: a body whose fields
    all have defaults may be left out, and otherwise the 422 names each missing field.
    """
    if not raw.strip():
        if not _is_object(model):
            raise RequestValidationFailed(
                [{"loc": ["body"], "msg": "A JSON body is required", "type": "missing"}]
            )
        raw = b"{}"
    if may_hold_unstorable_text(raw):
        _refuse_unstorable(_json_or_none(raw), "body")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise RequestValidationFailed.from_pydantic(error, "body") from None


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw)
    # Not JSON, or nested deeper than Python's recursion allows: the model's own
    # parsing (which has a depth limit of its own) says what is wrong.
    except (ValueError, RecursionError):
        return None


def _refuse_unstorable(values, location: str) -> None:
    errors = unstorable_text_errors(values, [location])
    if errors:
        raise RequestValidationFailed(errors)


def body_is_optional(model: type[BaseModel]) -> bool:
    """Whether every field of an object body has a default, so the body may be omitted."""
    return _is_object(model) and not any(f.is_required() for f in model.model_fields.values())


def _is_object(model: type[BaseModel]) -> bool:
    # A root model (a list, a string, ...) has no fields that `{}` could stand for.
    return not issubclass(model, RootModel)
