"""The IVA API, shaped like GHGA's: `/users/{id}/ivas` and `/rpc/ivas/{id}/...`.

Parse, call the action (app/ivas/actions.py), answer: the actions check, record,
commit and notify.
"""

from uuid import UUID

from flask import Blueprint

from app.api import json_response, operation
from app.ivas import actions
from app.ivas.actors import IvaActor, iva_actor_required
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

bp = Blueprint("ivas", __name__)
TAGS = ["verification addresses"]
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/users/<user_id>/ivas")
@iva_actor_required
@operation(
    "A person's verification addresses",
    description="The person themself, or a data steward.",
    tags=TAGS,
    path=UserPath,
    responses={200: IvaList},
)
def list_ivas(actor: IvaActor, user_id: UUID):
    actor.refuse_unless_self_or_steward(user_id)
    listed = actions.addresses_of(actor.acting, user_id)
    return json_response(IvaList([IvaView.of(iva) for iva in listed]))


@bp.post("/users/<user_id>/ivas")
@iva_actor_required
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
def add_iva(actor: IvaActor, user_id: UUID, body: IvaCreation):
    iva = actions.add_address(actor.acting, user_id, body.type, body.value)
    return json_response(IvaCreated(id=iva.id), 201)


@bp.delete("/users/<user_id>/ivas/<iva_id>")
@iva_actor_required
@operation(
    "Delete a verification address",
    description="Grants bound to it stop working. The person themself, or a data steward.",
    tags=TAGS,
    path=UserIvaPath,
    responses={204: None, 404: None},
)
def delete_iva(actor: IvaActor, user_id: UUID, iva_id: UUID):
    actor.refuse_unless_self_or_steward(user_id)
    actions.delete_address(actor.acting, user_id, iva_id)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/request-code")
@iva_actor_required
@operation(
    "Ask a data steward to verify the address",
    description="The person themself; `unverified` -> `code_requested`. At most "
    "`IVA_CODE_REQUESTS_PER_DAY` per person in any 24 hours (then 429 with `Retry-After`); "
    "the stewards hear of an address once per `REPEAT_NOTICE_MINUTES`.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None, 409: None, 429: None},
)
def request_code(actor: IvaActor, iva_id: UUID):
    actions.request_code(actor.acting, iva_id)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/create-code")
@iva_actor_required
@operation(
    "Create a verification code (shown only in this answer)",
    description="Data stewards; `code_requested` -> `code_created`. Send the code "
    "through the address, then mark it transmitted.",
    tags=TAGS,
    path=IvaPath,
    responses={201: CreatedCode, 404: None, 409: None},
)
def create_code(actor: IvaActor, iva_id: UUID):
    actor.refuse_unless_steward()
    _, code = actions.create_code(actor.acting, iva_id)
    return json_response(CreatedCode(verification_code=code), 201, NO_STORE)


@bp.post("/rpc/ivas/<iva_id>/code-transmitted")
@iva_actor_required
@operation(
    "Mark the code as sent through the address",
    description="Data stewards; `code_created` -> `code_transmitted`.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None, 409: None},
)
def code_transmitted(actor: IvaActor, iva_id: UUID):
    actor.refuse_unless_steward()
    actions.mark_code_transmitted(actor.acting, iva_id)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/verify-code")
@iva_actor_required
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
def verify_code(actor: IvaActor, iva_id: UUID, body: VerificationCode):
    actions.verify(actor.acting, iva_id, body.verification_code)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/unverify")
@iva_actor_required
@operation(
    "Mark the address unverified (any state)",
    description="Data stewards. Downloads bound to the address stop at their next token.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None},
)
def unverify(actor: IvaActor, iva_id: UUID):
    actor.refuse_unless_steward()
    actions.unverify(actor.acting, iva_id)
    return "", 204
