"""Finishing a sign-in: the provider's answer checked, the person found or made."""

import logging
from datetime import UTC, datetime

import requests
from authlib.common.errors import AuthlibBaseError
from flask import current_app
from joserfc.errors import JoseError

from app.accounts.errors import SignInRefused
from app.accounts.identities import ProviderIdentity, SignedIn, person_signed_in
from app.accounts.models import UserStatus
from app.accounts.notices import tell_operators_first_admin
from app.errors import ServiceUnavailable
from app.notifications.approval import announce_pending_person
from app.unit_of_work import after_commit, commit

log = logging.getLogger(__name__)


def finish_sign_in(client) -> tuple[SignedIn, float]:
    """The sign-in action: the person the provider's redirect speaks for, stored;
    the operators hear of a first admin and the approvers of a new pending person
    once the account is committed. The page then starts the session."""
    signed_in, auth_time = person_from_callback(client)
    person, created, first_admin = signed_in
    if first_admin:
        after_commit(tell_operators_first_admin, person)
    elif created and person.status == UserStatus.PENDING:
        after_commit(announce_pending_person, person)
    commit()
    return signed_in, auth_time


def person_from_callback(client) -> tuple[SignedIn, float]:
    """The person the provider's redirect speaks for (whether their account is new or
    the first admin's), and when the provider authenticated them (epoch seconds; now
    when it does not say).

    Refuses (SignInRefused) a wrong or missing `state`, an error from the
    provider, an id_token that fails its checks, or claims without subject or
    e-mail. The caller commits.
    """
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError) as error:
        # The error names the check that failed; the token itself is never logged.
        log.info("sign-in refused: %s", getattr(error, "error", type(error).__name__))
        raise SignInRefused(_refusal_text(error)) from None
    except requests.RequestException as error:
        log.warning("identity provider unreachable: %s", type(error).__name__)
        raise ServiceUnavailable("The identity provider cannot be reached; try again") from None
    claims = token.get("userinfo")
    if not claims:
        raise SignInRefused("The identity provider sent no id_token")
    claims = dict(claims)
    # From the signed id_token, before userinfo claims are merged in.
    auth_time = _auth_time(claims.get("auth_time"))
    if "email" not in claims:
        claims |= _userinfo_claims(client, token, claims["sub"])
    identity = ProviderIdentity.from_claims(claims)
    settings = current_app.extensions["settings"]
    return person_signed_in(identity, settings.initial_admin_email), auth_time


def _auth_time(claimed) -> float:
    """The id_token's `auth_time`, never later than now; now when it is missing.

    authlib has checked it is a number when present.
    """
    now = datetime.now(UTC).timestamp()
    if isinstance(claimed, bool) or not isinstance(claimed, int | float):
        return now
    return min(float(claimed), now)


def _userinfo_claims(client, token, subject: str) -> dict:
    """Claims some providers only give at the userinfo endpoint (never iss or sub)."""
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return {}
    try:
        extra = dict(client.userinfo(token=token))
    except (AuthlibBaseError, requests.RequestException):
        return {}
    if extra.get("sub") != subject:  # OpenID Connect Core 5.3.2
        return {}
    return {k: v for k, v in extra.items() if k not in ("iss", "sub", "aud")}


def _refusal_text(error: Exception) -> str:
    code = getattr(error, "error", "")
    if code == "mismatching_state":
        return (
            "This sign-in link was not started in this browser or was already used. "
            "Start again from the sign-in button."
        )
    if code == "access_denied":
        return "Sign-in was cancelled at the identity provider."
    return "The identity provider's answer could not be verified. Start again."
