"""The IVA API, shaped like GHGA's: `/users/{id}/ivas` and `/rpc/ivas/{id}/...`.

Parse, call the action (app/ivas/actions.py), answer: the actions check, record,
commit and notify.
"""

from uuid import UUID

from flask import Blueprint

from app.authz import Actor, Permission
from app.authz.api import person_or_key_required, require_self_or_steward, require_steward
from app.ivas import actions
from app.ivas.schemas import (
    CreatedCode,
    IvaCreated,
    IvaCreation,
    IvaList,
    IvaPath,
    IvaView,
    UserIvaPath,
    UserPath,
    VerificationCode,
)
from app.rest import json_response, operation

bp = Blueprint("ivas", __name__)
iva_door = person_or_key_required(Permission.DATA_STEWARD)
TAGS = ["verification addresses"]
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/users/<user_id>/ivas")
@iva_door
@operation(
    "A person's verification addresses",
    description="The person themself, or a data steward.",
    tags=TAGS,
    path=UserPath,
    responses={200: IvaList},
)
def list_ivas(actor: Actor, user_id: UUID):
    require_self_or_steward(actor, user_id)
    listed = actions.addresses_of(actor, user_id)
    return json_response(IvaList([IvaView.of(iva) for iva in listed]))


@bp.post("/users/<user_id>/ivas")
@iva_door
@operation(
    "Add a verification address (unverified)",
    description="Only the person themself. A phone number needs its country code and is "
    "stored in E.164 (422 `invalid_phone_number` otherwise); at most `MAX_IVAS_PER_PERSON` "
    "addresses (then 409 `iva_limit_reached`).",
    tags=TAGS,
    path=UserPath,
    body=IvaCreation,
    responses={201: IvaCreated, 409: None},
)
def add_iva(actor: Actor, user_id: UUID, body: IvaCreation):
    iva = actions.add_address(actor, user_id, body.type, body.value)
    return json_response(IvaCreated(id=iva.id), 201)


@bp.delete("/users/<user_id>/ivas/<iva_id>")
@iva_door
@operation(
    "Delete a verification address",
    description="Grants bound to it stop working. The person themself, or a data steward.",
    tags=TAGS,
    path=UserIvaPath,
    responses={204: None, 404: None},
)
def delete_iva(actor: Actor, user_id: UUID, iva_id: UUID):
    require_self_or_steward(actor, user_id)
    actions.delete_address(actor, user_id, iva_id)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/request-code")
@iva_door
@operation(
    "Ask a data steward to verify the address",
    description="The person themself; `unverified` -> `code_requested`. At most "
    "`IVA_CODE_REQUESTS_PER_DAY` per person in any 24 hours (then 429 with `Retry-After`); "
    "the stewards hear of an address once per `REPEAT_NOTICE_MINUTES`.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None, 409: None, 429: None},
)
def request_code(actor: Actor, iva_id: UUID):
    actions.request_code(actor, iva_id)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/create-code")
@iva_door
@operation(
    "Create a verification code (shown only in this answer)",
    description="Data stewards; `code_requested` -> `code_created`. Send the code "
    "through the address, then mark it transmitted.",
    tags=TAGS,
    path=IvaPath,
    responses={201: CreatedCode, 404: None, 409: None},
)
def create_code(actor: Actor, iva_id: UUID):
    require_steward(actor)
    _, code = actions.create_code(actor, iva_id)
    return json_response(CreatedCode(verification_code=code), 201, NO_STORE)


@bp.post("/rpc/ivas/<iva_id>/code-transmitted")
@iva_door
@operation(
    "Mark the code as sent through the address",
    description="Data stewards; `code_created` -> `code_transmitted`.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None, 409: None},
)
def code_transmitted(actor: Actor, iva_id: UUID):
    require_steward(actor)
    actions.mark_code_transmitted(actor, iva_id)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/verify-code")
@iva_door
@operation(
    "Enter the code received through the address",
    description="The person themself; `code_transmitted` -> `verified`. A wrong code "
    "is 403; the `MAX_IVA_VERIFICATION_ATTEMPTS`-th wrong code makes the address "
    "`unverified` again (429). A code older than `IVA_CODE_VALID_DAYS` is 410 "
    "`iva_code_expired` and makes the address `unverified` (request a new code).",
    tags=TAGS,
    path=IvaPath,
    body=VerificationCode,
    responses={204: None, 403: None, 404: None, 409: None, 410: None, 429: None},
)
def verify_code(actor: Actor, iva_id: UUID, body: VerificationCode):
    actions.verify(actor, iva_id, body.verification_code)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/unverify")
@iva_door
@operation(
    "Mark the address unverified (any state)",
    description="Data stewards. Downloads bound to the address stop at their next token.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None},
)
def unverify(actor: Actor, iva_id: UUID):
    require_steward(actor)
    actions.unverify(actor, iva_id)
    return "", 204
