"""Granting, listing and revoking access (grants kept by this service)."""

from uuid import UUID

from sqlalchemy import select

from app.access.models import AccessGrant
from app.access.schemas import GrantKind, GrantQuery, GrantRequest
from app.catalog import services as catalog
from app.database import fetch_page, utc_now
from app.errors import NotFound, RequestValidationFailed
from app.extensions import db
from app.ivas import services as ivas


class GrantNotFound(NotFound):
    """Access grant not found."""

    code = "grant_not_found"


def create_grant(request: GrantRequest, granted_by: str) -> AccessGrant:
    """A new grant for a dataset or upload box that the catalog knows."""
    if request.kind is GrantKind.DOWNLOAD:
        catalog.get_dataset(request.dataset_id)
        if request.iva_id is not None:
            ivas.bindable(request.iva_id, request.user_id)
    else:
        catalog.get_upload_box(request.research_data_upload_box_id)
    grant = AccessGrant(
        kind=request.kind.value,
        user_id=request.user_id,
        dataset_accession=request.dataset_id,
        upload_box_id=request.research_data_upload_box_id,
        valid_from=request.valid_from or utc_now(),
        valid_until=request.valid_until,
        granted_by=granted_by,
        iva_id=request.iva_id,
    )
    if grant.valid_until <= grant.valid_from:
        raise RequestValidationFailed(
            [
                {
                    "loc": ["body", "valid_until"],
                    "msg": "must be in the future",
                    "type": "value_error",
                }
            ]
        )
    db.session.add(grant)
    db.session.flush()
    return grant


def list_grants(query: GrantQuery) -> tuple[list[AccessGrant], int]:
    statement = select(AccessGrant)
    if query.user_id is not None:
        statement = statement.where(AccessGrant.user_id == query.user_id)
    if query.dataset_id is not None:
        statement = statement.where(AccessGrant.dataset_accession == query.dataset_id)
    if query.box_id is not None:
        statement = statement.where(AccessGrant.upload_box_id == query.box_id)
    if not query.include_inactive:
        # Grants that start in the future are listed: they are still to come.
        statement = statement.where(
            AccessGrant.revoked_at.is_(None), AccessGrant.valid_until > utc_now()
        )
    ordered = statement.order_by(AccessGrant.created_at, AccessGrant.id)
    return fetch_page(db.session, ordered, query.skip, query.limit)


def revoke_grant(grant_id: UUID) -> AccessGrant:
    """Revoke the grant; revoking twice keeps the first revocation time."""
    grant = db.session.get(AccessGrant, grant_id, with_for_update=True)
    if grant is None:
        raise GrantNotFound(f"Access grant {grant_id} not found")
    if grant.revoked_at is None:
        grant.revoked_at = utc_now()
    db.session.flush()
    return grant
