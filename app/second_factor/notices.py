"""Telling a person that a second factor was set up or replaced, and their "not you?" report.

The person hears by e-mail at once and sees a notice on their home page for
NOTICE_DAYS or until they dismiss it. Both carry a link to report that it was not
them; the report lands in the audit list and with the administrators. The
audit list (`account_event`) is the record the notice is read from: the newest
set-up or replacement, unless a dismissal or report came after it.
"""

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from app.accounts.models import AccountEvent, User
from app.database import utc_now
from app.extensions import db
from app.identity.provider import public_url
from app.notifications.dispatch import email_user, notify_operators

NOTICE_DAYS = 14
REPORT_PATH = "/second-factor/report"
CHANGED = ("second_factor_set_up", "second_factor_replaced")
DISMISSED = "second_factor_notice_dismissed"
REPORTED = "second_factor_reported"


def factor_changed(person: User, replaced: bool, at: datetime) -> None:
    """E-mail after the commit: what changed, when, and where to report it."""
    what = "replaced" if replaced else "set up"
    email_user(
        person.email,
        f"A second factor was {what} for your account",
        f"Dear {person.name},\n\na second factor (authenticator app) was {what} for your "
        f"account on {at:%Y-%m-%d at %H:%M} UTC.\n\nIf this was not you, report it at once: "
        f"{public_url(REPORT_PATH)}\nThe administrators will reset it and check your account.\n",
    )


def recent_change(user_id: UUID) -> AccountEvent | None:
    """The set-up or replacement to show on the home page, if any."""
    change = db.session.scalars(
        select(AccountEvent)
        .where(
            AccountEvent.user_id == user_id,
            AccountEvent.action.in_(CHANGED),
            AccountEvent.created_at >= utc_now() - timedelta(days=NOTICE_DAYS),
        )
        .order_by(AccountEvent.created_at.desc())
        .limit(1)
    ).first()
    if change is None:
        return None
    settled = db.session.scalar(
        select(AccountEvent.id)
        .where(
            AccountEvent.user_id == user_id,
            AccountEvent.action.in_((DISMISSED, REPORTED)),
            AccountEvent.created_at >= change.created_at,
        )
        .limit(1)
    )
    return None if settled else change


def tell_admins(person: User, change: AccountEvent | None, note: str) -> None:
    what = change.action.removeprefix("second_factor_").replace("_", " ") if change else "changed"
    when = f" on {change.created_at:%Y-%m-%d %H:%M} UTC" if change else ""
    said = f' They wrote: "{note}"' if note else ""
    notify_operators(
        f"{person.email} ({person.id}) reports that the second factor {what}{when} was "
        f"not them: reset it on the People page and check the account.{said}"
    )
