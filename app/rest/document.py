"""The OpenAPI 3 document, generated from the registered routes and their models."""

import re
from http import HTTPStatus

from flask import Flask
from pydantic import BaseModel

from app.authz.permissions import ROLE_PERMISSIONS, Permission
from app.rest.guide import API_GUIDE
from app.rest.openapi30 import to_openapi30
from app.rest.operation import OperationSpec, body_is_optional
from app.rest.schemas import ErrorBody

OPENAPI_VERSION = "3.0.3"
REF_TEMPLATE = "#/components/schemas/{model}"
_RULE_ARGUMENT = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")

SECURITY_SCHEMES = {
    "WorkflowApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Workflow-API-Key",
        "description": "An application key made with `invoke create-application-key`.",
    },
    "InternalToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A user's internal access token (ES256 JWT).",
    },
    "PassportAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "GA4GH Passports (JWTs) sent in the POST body's `passports` list (DRS).",
    },
    "WorkPackageAccessToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The decrypted 24-character work package access token.",
    },
    "WorkOrderToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A decrypted work order token (ES256 JWT, 30 s).",
    },
}


class _Components:
    """Collects JSON schemas of models under unique component names."""

    def __init__(self):
        self.schemas: dict[str, dict] = {}

    def ref(self, model: type[BaseModel], mode: str = "serialization") -> dict:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        name = schema.get("title", model.__name__)
        self.schemas.setdefault(name, schema)
        return {"$ref": REF_TEMPLATE.format(model=name)}

    def inline(self, model: type[BaseModel], mode: str = "validation") -> dict:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        return schema


def build_openapi(app: Flask, title: str, version: str, root_path: str = "") -> dict:
    components = _Components()
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        spec: OperationSpec | None = getattr(view, "openapi", None)
        if spec is None:
            continue
        path = _RULE_ARGUMENT.sub(r"{\1}", rule.rule)
        # OPTIONS counts where a route answers it itself (DRS authorizations).
        automatic = {"OPTIONS"} if rule.provide_automatic_options else set()
        for method in sorted(rule.methods - {"HEAD"} - automatic):
            paths.setdefault(path, {})[method.lower()] = _operation(spec, view, rule, components)
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": API_GUIDE},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    if root_path:
        document["servers"] = [{"url": root_path}]
    return to_openapi30(document)


def _operation(spec: OperationSpec, view, rule, components: _Components) -> dict:
    result: dict = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": spec.summary,
        "tags": list(spec.tags),
    }
    description = _description(spec, view)
    if description:
        result["description"] = description
    parameters = _path_parameters(spec, rule, components) + _query_parameters(spec, components)
    if parameters:
        result["parameters"] = parameters
    if spec.body is not None:
        result["requestBody"] = {
            "required": not body_is_optional(spec.body),
            "content": {"application/json": {"schema": components.ref(spec.body, "validation")}},
        }
    schemes = _security(view)
    if schemes:
        result["security"] = [{scheme: []} for scheme in schemes]
    result["responses"] = _responses(spec, bool(schemes), components)
    return result


def _description(spec: OperationSpec, view) -> str | None:
    parts = [spec.description] if spec.description else []
    permissions = getattr(view, "required_permissions", None)
    if permissions:
        parts.append("Requires an API key with any of: " + ", ".join(permissions) + ".")
        if getattr(view, "admits_people", False):
            parts.append(
                f"A person's access token is accepted when their role grants it ({_roles()})."
            )
    return "\n\n".join(parts) or None


def _roles() -> str:
    """What each role grants, from the one table (app/authz/permissions.py)."""
    return "; ".join(
        f"{role}: "
        + ("everything" if Permission.ADMIN in held else ", ".join(p.name for p in held))
        for role, held in ROLE_PERMISSIONS.items()
        if held
    )


def _security(view) -> list[str]:
    """The schemes any one of which admits a request (OpenAPI alternatives)."""
    if getattr(view, "security_schemes", None):
        return list(view.security_schemes)
    if getattr(view, "api_key_header", None):
        if getattr(view, "admits_people", False):
            return ["WorkflowApiKey", "InternalToken"]
        return ["WorkflowApiKey"]
    scheme = getattr(view, "bearer_scheme", None)
    return [scheme] if scheme else []


def _path_parameters(spec, rule, components) -> list[dict]:
    schemas = {}
    if spec.path is not None:
        schemas = components.inline(spec.path).get("properties", {})
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schemas.get(name, {"type": "string"}),
        }
        for name in _RULE_ARGUMENT.findall(rule.rule)
    ]


def _query_parameters(spec, components) -> list[dict]:
    if spec.query is None:
        return []
    schema = components.inline(spec.query)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k != "description"},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _responses(spec: OperationSpec, security: bool, components) -> dict:
    responses: dict[str, dict] = {}
    for status, model in sorted(spec.responses.items()):
        entry: dict = {"description": HTTPStatus(status).phrase}
        if model is not None:
            entry["content"] = {"application/json": {"schema": components.ref(model)}}
        headers = spec.response_headers.get(status)
        if headers:
            entry["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in headers.items()
            }
        responses[str(status)] = entry
    shape = spec.error_body or ErrorBody
    error = {"content": {"application/json": {"schema": components.ref(shape)}}}
    if security:
        responses.setdefault("401", {"description": "Missing or invalid credential", **error})
        responses.setdefault("403", {"description": "Credential lacks the right", **error})
    if spec.body or spec.query or spec.path:
        responses.setdefault("422", {"description": "Invalid request", **error})
    responses.setdefault("4XX", {"description": "Client error", **error})
    responses.setdefault("5XX", {"description": "Server error or dependency down", **error})
    return responses
