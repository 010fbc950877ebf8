"""SQL for current grants, shared by the access policy and the work package hot path."""

from datetime import datetime

from sqlalchemy import func, select

from app.access.models import AccessGrant


def _current(kind: str, user_id, now: datetime):
    return (
        AccessGrant.kind == kind,
        AccessGrant.user_id == user_id,
        AccessGrant.revoked_at.is_(None),
        AccessGrant.valid_from <= now,
        AccessGrant.valid_until > now,
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
