"""Signing a person out everywhere: every browser session and every API token."""

from dataclasses import dataclass

from app.accounts.api_tokens import live_tokens
from app.accounts.audit import record_event
from app.accounts.credentials import revoke_user_tokens
from app.accounts.models import User
from app.web_sessions.services import end_sessions


@dataclass(frozen=True)
class SignedOut:
    sessions: int
    api_tokens: int


def sign_out_everywhere(person: User, actor: str, channel: str) -> SignedOut:
    """End all of the person's sessions (this one too) and revoke all their API tokens.

    Flushes; the caller commits. Access tokens already made live out their
    minutes (ADR 0010); no new one can be made from the revoked refresh tokens.
    """
    families = len(live_tokens(person.id))
    revoke_user_tokens(person.id, f"signed out everywhere by {actor}")
    ended = end_sessions(person.id)
    record_event(
        person.id,
        "signed_out_everywhere",
        actor,
        channel,
        f"{ended} browser sessions ended, {families} API tokens revoked",
    )
    return SignedOut(sessions=ended, api_tokens=families)
