"""Access requests: users ask, data stewards allow (creating the grant) or deny."""

from datetime import timedelta
from uuid import UUID

from flask import current_app
from sqlalchemy import select

from app.access.models import AccessRequest
from app.access.requests.schemas import AccessRequestCreation, AccessRequestQuery, Decision
from app.access.schemas import GrantKind, GrantRequest
from app.access.services import create_grant
from app.catalog import services as catalog
from app.credentials.internal_tokens import AuthUser
from app.database import fetch_page, utc_now
from app.errors import Conflict, NotFound, RequestValidationFailed
from app.extensions import db

DEFAULT_GRANT = timedelta(days=365)


class AccessRequestNotFound(NotFound):
    """Access request not found."""

    code = "access_request_not_found"


class AlreadyDecided(Conflict):
    """The access request was already decided."""

    code = "access_request_decided"


def create(user: AuthUser, creation: AccessRequestCreation) -> AccessRequest:
    """A pending request for a dataset or box the catalog knows (the action counts it
    against the person's limit and tells the stewards)."""
    if creation.dataset_id is not None:
        catalog.get_dataset(creation.dataset_id)
    else:
        catalog.get_upload_box(creation.research_data_upload_box_id)
    request = AccessRequest(
        kind=(GrantKind.DOWNLOAD if creation.dataset_id else GrantKind.UPLOAD).value,
        user_id=user.id,
        user_email=str(user.email),
        dataset_accession=creation.dataset_id,
        upload_box_id=creation.research_data_upload_box_id,
        note=creation.note,
        wished_from=creation.valid_from,
        wished_until=creation.valid_until,
        status="pending",
    )
    db.session.add(request)
    db.session.flush()
    return request


def listing(query: AccessRequestQuery) -> tuple[list[AccessRequest], int]:
    statement = select(AccessRequest)
    if query.status is not None:
        statement = statement.where(AccessRequest.status == query.status.value)
    if query.user_id is not None:
        statement = statement.where(AccessRequest.user_id == query.user_id)
    ordered = statement.order_by(AccessRequest.created_at, AccessRequest.id)
    return fetch_page(db.session, ordered, query.skip, query.limit)


def requester_of(request_id: UUID) -> UUID | None:
    request = db.session.get(AccessRequest, request_id)
    return request.user_id if request else None


def allow(request_id: UUID, decision: Decision, actor: str) -> AccessRequest:
    request = _pending(request_id)
    _check_iva(request, decision)
    valid_from = decision.valid_from or request.wished_from or utc_now()
    valid_until = decision.valid_until or request.wished_until or valid_from + DEFAULT_GRANT
    if valid_until <= valid_from:
        # Refused here, as a 422 naming the field: the grant's own model would raise
        # a bare ValidationError (a 500) for a period that ends before it starts.
        raise RequestValidationFailed(
            [
                {
                    "loc": ["body", "valid_until"],
                    "msg": f"must be after the start of access ({valid_from.date().isoformat()})",
                    "type": "value_error",
                }
            ]
        )
    grant = create_grant(
        GrantRequest(
            user_id=request.user_id,
            dataset_id=request.dataset_accession,
            research_data_upload_box_id=request.upload_box_id,
            valid_from=valid_from,
            valid_until=valid_until,
            iva_id=decision.iva_id,
        ),
        granted_by=actor,
    )
    request.grant_id = grant.id
    return _decide(request, "allowed", decision, actor)


def _check_iva(request: AccessRequest, decision: Decision) -> None:
    """Download grants made for people are bound to one of their verification addresses."""
    if request.kind != GrantKind.DOWNLOAD.value:
        if decision.iva_id is not None:
            raise _field_error("iva_id", "is for download access only")
        return
    if decision.iva_id is None and current_app.extensions["settings"].require_iva_for_download:
        raise _field_error(
            "iva_id", "choose one of the requester's verification addresses for download access"
        )


def _field_error(field: str, message: str) -> RequestValidationFailed:
    return RequestValidationFailed(
        [{"loc": ["body", field], "msg": message, "type": "value_error"}]
    )


def deny(request_id: UUID, decision: Decision, actor: str) -> AccessRequest:
    return _decide(_pending(request_id), "denied", decision, actor)


def ask_for_address(request_id: UUID) -> AccessRequest:
    """Mark a pending download request as waiting for the requester's verification address."""
    request = _pending(request_id)
    if request.kind != GrantKind.DOWNLOAD.value:
        raise _field_error("iva_id", "An upload request needs no verification address.")
    request.address_asked_at = utc_now()
    db.session.flush()
    return request


def _pending(request_id: UUID) -> AccessRequest:
    """The request, locked, while it is pending (who may decide it is the action's rule)."""
    request = db.session.get(AccessRequest, request_id, with_for_update=True)
    if request is None:
        raise AccessRequestNotFound(f"Access request {request_id} not found")
    if request.status != "pending":
        raise AlreadyDecided(f"Access request {request_id} is already {request.status}")
    return request


def _decide(request: AccessRequest, status: str, decision: Decision, actor: str):
    request.status = status
    request.decided_by = actor
    request.decided_at = utc_now()
    request.decision_note = decision.note
    db.session.flush()
    return request


def pending_datasets(user_id: UUID) -> set[str]:
    """Datasets the user has asked for and not yet heard back about."""
    return set(
        db.session.scalars(
            select(AccessRequest.dataset_accession).where(
                AccessRequest.user_id == user_id,
                AccessRequest.status == "pending",
                AccessRequest.dataset_accession.is_not(None),
            )
        )
    )
