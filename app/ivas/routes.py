"""The IVA API, shaped like GHGA's: `/users/{id}/ivas` and `/rpc/ivas/{id}/...`."""

from uuid import UUID

from flask import Blueprint

from app.api import json_response, operation
from app.errors import DomainError
from app.extensions import db
from app.ivas import notices, services
from app.ivas.actors import IvaActor, iva_actor_required
from app.ivas.errors import TooManyVerificationAttempts
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
from app.second_factor.audit import record

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
    return json_response(IvaList([IvaView.of(iva) for iva in services.list_for(user_id)]))


@bp.post("/users/<user_id>/ivas")
@iva_actor_required
@operation(
    "Add a verification address (unverified)",
    description="Only the person themself.",
    tags=TAGS,
    path=UserPath,
    body=IvaCreation,
    responses={201: IvaCreated},
)
def add_iva(actor: IvaActor, user_id: UUID, body: IvaCreation):
    actor.refuse_unless_self(user_id)
    iva = services.add(user_id, body.type, body.value)
    record(user_id, "iva_added", actor.label, "api", f"{iva.type} {iva.id}")
    db.session.commit()
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
    services.remove(iva_id, user_id)
    record(user_id, "iva_deleted", actor.label, "api", str(iva_id))
    db.session.commit()
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/request-code")
@iva_actor_required
@operation(
    "Ask a data steward to verify the address",
    description="The person themself; `unverified` -> `code_requested`. Limited per "
    "person (`IVA_CODE_REQUEST_LIMIT`, then 429); the stewards hear of an address once per "
    "`REPEAT_NOTICE_MINUTES`.",
    tags=TAGS,
    path=IvaPath,
    responses={204: None, 404: None, 409: None, 429: None},
)
def request_code(actor: IvaActor, iva_id: UUID):
    if actor.user is None:
        actor.refuse_unless_self(None)
    iva = services.request_code(iva_id, actor.user.id)
    record(iva.user_id, "iva_code_requested", actor.label, "api", str(iva.id))
    db.session.commit()
    notices.code_requested(iva)
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
    iva, code = services.create_code(iva_id, actor.label)
    record(iva.user_id, "iva_code_created", actor.label, "api", str(iva.id))
    db.session.commit()
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
    iva = services.code_transmitted(iva_id, actor.label)
    record(iva.user_id, "iva_code_transmitted", actor.label, "api", str(iva.id))
    db.session.commit()
    notices.code_transmitted(iva)
    return "", 204


@bp.post("/rpc/ivas/<iva_id>/verify-code")
@iva_actor_required
@operation(
    "Enter the code received through the address",
    description="The person themself; `code_transmitted` -> `verified`. A wrong code "
    "is 403; the third wrong code makes the address `unverified` again (429).",
    tags=TAGS,
    path=IvaPath,
    body=VerificationCode,
    responses={204: None, 403: None, 404: None, 409: None, 429: None},
)
def verify_code(actor: IvaActor, iva_id: UUID, body: VerificationCode):
    if actor.user is None:
        actor.refuse_unless_self(None)
    try:
        iva = services.verify_code(iva_id, actor.user.id, body.verification_code)
    except TooManyVerificationAttempts:
        iva = services.get(iva_id)
        record(iva.user_id, "iva_reset_after_wrong_codes", actor.label, "api", str(iva.id))
        db.session.commit()
        notices.reset_after_attempts(iva)
        raise
    except DomainError:
        db.session.commit()  # the wrong attempt is counted
        raise
    record(iva.user_id, "iva_verified", actor.label, "api", str(iva.id))
    db.session.commit()
    notices.verified(iva)
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
    iva = services.unverify(iva_id)
    record(iva.user_id, "iva_unverified", actor.label, "api", str(iva.id))
    db.session.commit()
    notices.unverified(iva)
    return "", 204
