"""Application keys: making one (shown once) and revoking one, whatever the channel."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app import audit_log
from app.applications import services
from app.authz import Actor, Permission
from app.extensions import db
from app.unit_of_work import commit
from roles import ApplicationNameTaken, IssuedKey


def create_application_key(
    actor: Actor, name: str, permission_names: list[str], expires_at: datetime | None = None
) -> IssuedKey:
    """A new key (in the result only; stored hashed). ValueError for a nameless key or
    an unknown permission, ApplicationNameTaken while the name has a live key."""
    actor.require(Permission.ADMIN)
    try:
        issued = services.create_application_key(name, permission_names, expires_at)
    except IntegrityError:
        # Another request made a live key of that name between the check and the insert.
        db.session.rollback()
        raise ApplicationNameTaken(f"application {name.strip()!r} already has a live key") from None
    application = issued.application
    held = ",".join(application.permission_names)
    # The prefix tells keys apart in the listings; the key itself is never written down.
    detail = f"{application.name} ({application.key_prefix}…) {held}"
    audit_log.record(actor, "application_key_created", detail)
    commit()
    return issued


def revoke_application_key(actor: Actor, name: str) -> int:
    """Revoke every live key of `name`; how many there were (0: nothing changed)."""
    actor.require(Permission.ADMIN)
    count = services.revoke_application_key(name)
    if count:
        audit_log.record(actor, "application_key_revoked", f"{name} ({count} key(s))")
    commit()
    return count
