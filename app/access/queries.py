"""SQL for current grants, shared by the access policy and the work package hot path."""

from datetime import datetime

from sqlalchemy import exists, func, or_, select

from app.access.models import AccessGrant
from app.ivas.models import Iva, IvaState


def _current(kind: str, user_id, now: datetime, iva_checked: bool = True):
    conditions = (
        AccessGrant.kind == kind,
        AccessGrant.user_id == user_id,
        AccessGrant.revoked_at.is_(None),
        AccessGrant.valid_from <= now,
        AccessGrant.valid_until > now,
    )
    if kind == "download" and iva_checked:
        conditions += (_iva_verified_or_unbound(),)
    return conditions


def _iva_verified_or_unbound():
    """A grant bound to a verification address counts only while it is verified.

    Part of every download check, so it rides in the token route's one statement:
    unverifying an address stops the next work order token.
    """
    return or_(
        AccessGrant.iva_id.is_(None),
        exists().where(
            Iva.id == AccessGrant.iva_id,
            Iva.user_id == AccessGrant.user_id,
            Iva.state == IvaState.VERIFIED.value,
        ),
    )


def download_access_until(user_id, dataset_accession, now: datetime):
    """Scalar subquery: until when `user_id` may download the dataset, or NULL.

    The arguments may be values or columns of an enclosing query, so the check
    can ride along in the query that loads a work package.
    """
    return (
        select(func.max(AccessGrant.valid_until))
        .where(*_current("download", user_id, now))
        .where(AccessGrant.dataset_accession == dataset_accession)
        .scalar_subquery()
    )


def upload_access_until(user_id, upload_box_id, now: datetime):
    return (
        select(func.max(AccessGrant.valid_until))
        .where(*_current("upload", user_id, now))
        .where(AccessGrant.upload_box_id == upload_box_id)
        .scalar_subquery()
    )


def accessible(kind: str, user_id, now: datetime):
    """(target, until) rows of every current grant of one kind."""
    target = AccessGrant.dataset_accession if kind == "download" else AccessGrant.upload_box_id
    return (
        select(target, func.max(AccessGrant.valid_until))
        .where(*_current(kind, user_id, now))
        .group_by(target)
    )


def download_waits_for_iva(user_id, dataset_accession, now: datetime):
    """Scalar subquery: a current download grant exists, but only with an unverified address.

    Asked only after access was refused, to say why.
    """
    return exists().where(
        *_current("download", user_id, now, iva_checked=False),
        AccessGrant.dataset_accession == dataset_accession,
        AccessGrant.iva_id.is_not(None),
    )


def current_download_grants(user_id, now: datetime):
    """The person's download grants that work now (their address verified, if bound)."""
    return (
        select(AccessGrant)
        .where(*_current("download", user_id, now))
        .order_by(AccessGrant.dataset_accession, AccessGrant.valid_from)
    )
