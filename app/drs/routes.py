"""GA4GH DRS 1.5 routes at /ga4gh/drs/v1: parse, ask the door who it is, call, render.

Errors here leave in DRS's `{msg, status_code}` (ADR 28), not the service's shape.
"""

from uuid import UUID

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, Field

from app.authz.passports import drs_actor
from app.drs import actions, services
from app.drs.schemas import (
    OBJECT_ID_PATTERN,
    AccessUrl,
    Authorizations,
    BulkAccessRequest,
    BulkAccessUrls,
    BulkAuthorizations,
    BulkObjectIds,
    BulkObjects,
    BulkSummary,
    DrsError,
    DrsObject,
    DrsServiceFacts,
    Organization,
    PassportsBody,
    ServiceInfo,
    ServiceType,
    Unresolved,
)
from app.errors import DomainError, Forbidden, register_error_shape
from app.rest import json_response
from app.rest import operation as rest_operation

PREFIX = "/ga4gh/drs/v1"
TAG = "GA4GH DRS"
bp = Blueprint("drs", __name__, url_prefix=PREFIX)

PREPARING = {"Retry-After": "Seconds until the requester's stream is ready."}
ERRORS = {400: DrsError, 401: DrsError, 403: DrsError, 404: DrsError}


class RequestTooLarge(DomainError):
    """The bulk request names more objects than this service answers at once."""

    status, code = 413, "drs_bulk_too_large"


class ObjectPath(BaseModel):
    object_id: str = Field(pattern=OBJECT_ID_PATTERN)


class AccessPath(ObjectPath):
    access_id: str = Field(pattern=OBJECT_ID_PATTERN)


def operation(summary: str, **declared):
    """`@operation` whose error answers are documented in DRS's shape."""
    return rest_operation(summary, error_body=DrsError, **declared)


def init_drs(app) -> None:
    register_error_shape(app, PREFIX, _drs_error)
    app.register_blueprint(bp)


def _drs_error(status: int, detail, code: str) -> dict:
    if isinstance(detail, list):  # field errors: one line each
        detail = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in detail
        )
    return {"msg": str(detail), "status_code": status}


def _secured(view):
    view.security_schemes = ["InternalToken", "PassportAuth"]
    return view


def _options_answered_apart(view):
    """Flask must not answer OPTIONS for this path itself: its OPTIONS route does (DRS
    authorizations, or a CORS preflight)."""
    view.provide_automatic_options = False
    return view


@bp.get("/service-info")
@operation(
    "GA4GH service-info of this DRS",
    description="`drs.maxBulkRequestLength` bounds the bulk requests; `drs.objectCount` and "
    "`drs.totalObjectSize` count the files with stored content (and the datasets as bundles).",
    tags=[TAG],
    responses={200: ServiceInfo},
)
def service_info():
    from app import __version__

    settings = current_app.extensions["settings"]
    count, size = services.catalog_totals()
    base = str(settings.public_base_url).rstrip("/")
    host = settings.drs_host
    return json_response(
        ServiceInfo(
            id=".".join(reversed(host.split(":")[0].split("."))) + ".drs",
            name=f"{settings.drs_organization_name} DRS",
            type=ServiceType(),
            description="Controlled-access files as GA4GH DRS objects; each download is a "
            "Crypt4GH stream sealed to the requester's key.",
            organization=Organization(
                name=settings.drs_organization_name,
                url=str(settings.drs_organization_url or base),
            ),
            version=__version__,
            environment=settings.deployment,
            drs=DrsServiceFacts(
                maxBulkRequestLength=settings.drs_max_bulk_request_length,
                objectCount=count,
                totalObjectSize=size,
            ),
        )
    )


@bp.get("/objects/<object_id>")
@_options_answered_apart
@_secured
@operation(
    "A DRS object: a file (blob) or a dataset (bundle)",
    description="With a person's bearer token made after the second factor. `size` and the "
    "`sha-256` checksum are those of the requester's own stream; 202 with `Retry-After` "
    "while it is being prepared.",
    tags=[TAG],
    path=ObjectPath,
    responses={200: DrsObject, 202: DrsError, **ERRORS},
    response_headers={202: PREPARING},
)
def get_object(object_id: str):
    actor = drs_actor()
    return json_response(actions.describe(actor, object_id))


@bp.post("/objects/<object_id>")
@_options_answered_apart
@_secured
@operation(
    "A DRS object, for GA4GH Passports in the body",
    tags=[TAG],
    path=ObjectPath,
    body=PassportsBody,
    responses={200: DrsObject, 202: DrsError, **ERRORS},
    response_headers={202: PREPARING},
)
def post_object(object_id: str, body: PassportsBody):
    actor = drs_actor(body.passports)
    return json_response(actions.describe(actor, object_id))


@bp.route("/objects/<object_id>", methods=["OPTIONS"])
@operation(
    "How requests for this object are authorized",
    description="`BearerAuth` (a person's token) and, when issuers are trusted, "
    "`PassportAuth` with the issuers whose Passports count. A CORS preflight (with "
    "`Access-Control-Request-Method`) is answered as one instead.",
    tags=[TAG],
    path=ObjectPath,
    responses={200: Authorizations, 204: None, 404: DrsError},
)
def object_authorizations(object_id: str):
    if "Access-Control-Request-Method" in request.headers:
        return Response(status=204)  # a preflight: the CORS layer adds its headers
    return json_response(actions.authorizations(object_id))


@bp.get("/objects/<object_id>/access/<access_id>")
@_secured
@operation(
    "A URL of the requester's Crypt4GH stream of the object",
    description="The URL is short-lived and needs no header; it serves the requester's "
    "Crypt4GH header followed by the file's encrypted data segments.",
    tags=[TAG],
    path=AccessPath,
    responses={200: AccessUrl, 202: DrsError, **ERRORS},
    response_headers={202: PREPARING},
)
def get_access_url(object_id: str, access_id: str):
    actor = drs_actor()
    return json_response(actions.access_url(actor, object_id, access_id))


@bp.post("/objects/<object_id>/access/<access_id>")
@_secured
@operation(
    "A URL of the requester's stream, for GA4GH Passports in the body",
    tags=[TAG],
    path=AccessPath,
    body=PassportsBody,
    responses={200: AccessUrl, 202: DrsError, **ERRORS},
    response_headers={202: PREPARING},
)
def post_access_url(object_id: str, access_id: str, body: PassportsBody):
    actor = drs_actor(body.passports)
    return json_response(actions.access_url(actor, object_id, access_id))


@bp.route("/objects", methods=["OPTIONS"])
@operation(
    "How requests for several objects are authorized",
    tags=[TAG],
    body=BulkObjectIds,
    responses={200: BulkAuthorizations, 413: DrsError},
)
def bulk_authorizations(body: BulkObjectIds):
    _refuse_over_limit(len(body.bulk_object_ids))
    resolved, missing = [], []
    for object_id in dict.fromkeys(body.bulk_object_ids):
        try:
            resolved.append(actions.authorizations(object_id))
        except DomainError:
            missing.append(object_id)
    return json_response(
        BulkAuthorizations(
            summary=BulkSummary(
                requested=len(body.bulk_object_ids),
                resolved=len(resolved),
                unresolved=len(missing),
            ),
            unresolved_drs_objects=[Unresolved(error_code=404, object_ids=missing)]
            if missing
            else [],
            resolved_drs_object=resolved,
        )
    )


@bp.post("/objects")
@_options_answered_apart
@_secured
@operation(
    "Several DRS objects at once",
    description="A bearer token, or `passports` in the body. Objects that cannot be "
    "answered are listed under `unresolved_drs_objects` by status (403, 404, 202 while "
    "preparing).",
    tags=[TAG],
    body=BulkObjectIds,
    responses={200: BulkObjects, **ERRORS, 413: DrsError},
)
def bulk_objects(body: BulkObjectIds):
    _refuse_over_limit(len(body.bulk_object_ids))
    actor = drs_actor(body.passports)
    return json_response(actions.describe_many(actor, body.bulk_object_ids))


@bp.post("/objects/access")
@_secured
@operation(
    "URLs of the requester's streams of several objects",
    tags=[TAG],
    body=BulkAccessRequest,
    responses={200: BulkAccessUrls, **ERRORS, 413: DrsError},
)
def bulk_access(body: BulkAccessRequest):
    _refuse_over_limit(len(body.bulk_object_access_ids))
    actor = drs_actor(body.passports)
    return json_response(actions.access_urls(actor, body.bulk_object_access_ids))


@bp.get("/streams/<uuid:envelope_id>")
@operation(
    "The requester's Crypt4GH stream (what an access URL points at)",
    description="Signed, short-lived URL: the person's Crypt4GH header, then the file's "
    "encrypted data segments. `crypt4gh decrypt` with their private key gives the file.",
    tags=[TAG],
    responses={200: None, 403: DrsError, 404: DrsError},
)
def stream(envelope_id: UUID):
    args = request.args
    if not services.stream_signature_holds(
        request.path, args.get("expires"), args.get("signature")
    ):
        raise Forbidden("The URL signature is invalid or has expired", code="invalid_signature")
    envelope, chunks = services.stream_of(envelope_id)
    return Response(
        chunks,
        headers={"Content-Length": str(envelope.size), "Cache-Control": "no-store"},
        mimetype="application/octet-stream",
    )


def _refuse_over_limit(count: int) -> None:
    limit = current_app.extensions["settings"].drs_max_bulk_request_length
    if count > limit:
        raise RequestTooLarge(f"At most {limit} objects per bulk request; this one names {count}")
