"""Who hears of each IVA step (after the commit): the person by e-mail, stewards by webhook."""

from flask import current_app

from app.accounts.models import User
from app.extensions import db
from app.ivas.models import Iva
from app.notifications.dispatch import email_user, notify_operators
from app.notifications.throttle import first_notice

LABELS = {
    "phone": "phone number",
    "fax": "fax number",
    "postal_address": "postal address",
    "in_person": "in-person meeting",
}


def label(iva: Iva) -> str:
    return LABELS.get(iva.type, iva.type)


def _email(iva: Iva, subject: str, text: str) -> None:
    person = db.session.get(User, iva.user_id)
    if person is not None:
        email_user(person.email, subject, f"Dear {person.name},\n\n{text}\n")


def code_requested(iva: Iva) -> None:
    """Once per address per REPEAT_NOTICE_MINUTES: clicking again pings no one (ADR 22)."""
    minutes = current_app.extensions["settings"].repeat_notice_minutes
    if first_notice(minutes, "iva_code_requested", str(iva.id)):
        notify_operators(
            f"Verification requested for {label(iva)} {iva.id} of user {iva.user_id}: "
            "create a code and send it through that channel."
        )


def code_transmitted(iva: Iva) -> None:
    _email(
        iva,
        "Your verification code is on its way",
        f"a data steward has sent a verification code to your {label(iva)}. "
        "Enter it on the verification addresses page of the portal.",
    )


def verified(iva: Iva) -> None:
    _email(iva, "Address verified", f"your {label(iva)} is verified now.")
    notify_operators(f"{label(iva).capitalize()} {iva.id} of user {iva.user_id} is verified.")


def reset_after_attempts(iva: Iva) -> None:
    wrong = current_app.extensions["settings"].max_iva_verification_attempts
    _email(
        iva,
        "Verification failed",
        f"{wrong} wrong codes were entered for your {label(iva)}; it is unverified again. "
        "Request a new code when you are ready.",
    )
    notify_operators(
        f"{label(iva).capitalize()} {iva.id} of user {iva.user_id} was reset after {wrong} "
        "wrong codes."
    )


def unverified(iva: Iva) -> None:
    _email(
        iva,
        "Address no longer verified",
        f"a data steward marked your {label(iva)} as unverified. Downloads bound to it "
        "are paused until it is verified again.",
    )
