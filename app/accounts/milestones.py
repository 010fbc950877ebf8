"""Things that happen once in the life of the service (see ServiceMilestone)."""

from sqlalchemy import select

from app.accounts.models import PersonRole, ServiceMilestone, User
from app.authz import person_label
from app.database import insert_ignoring_conflicts, utc_now
from app.extensions import db

FIRST_ADMIN = "first_admin"


def reach(name: str, detail: str) -> bool:
    """Record the milestone; True only for the one call that reached it first.

    Two transactions reaching it at once: the second waits for the first's commit
    and then gets False.
    """
    values = {"name": name, "reached_at": utc_now(), "detail": detail}
    return insert_ignoring_conflicts(db.session, ServiceMilestone, values, ["name"]) is not None


def claim_first_admin(user: User) -> bool:
    """Whether `user` may become the first admin: no account has ever been one.

    An admin row without the record (made before it existed, or by hand in the
    database) counts too, and the record is written for it.
    """
    if db.session.scalar(select(User.id).where(User.role == PersonRole.ADMIN.value).limit(1)):
        reach(FIRST_ADMIN, "an admin account existed")
        return False
    return reach(FIRST_ADMIN, f"{person_label(user.id)} through INITIAL_ADMIN_EMAIL")


def admin_made(user: User, actor: str) -> None:
    """Someone became admin: from now on INITIAL_ADMIN_EMAIL makes nobody admin."""
    reach(FIRST_ADMIN, f"{person_label(user.id)} by {actor}")
